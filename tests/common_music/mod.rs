//! Realistic music for the separation tests: a MIDI piece (piano, strings, finger bass, drums)
//! written here and rendered by FluidSynth with the General MIDI sound font (Debian `fluidsynth`
//! and `fluid-soundfont-gm`, installed by scripts/setup.sh). Sine chords are not enough: a model
//! trained on real songs may take a steady tone for a voice.
//!
//! The bass and the kick drum are centred as in real mixes, the piano a little left, the strings a
//! little right. The bass is rendered on its own as well, so a test can tell what a separation
//! did to it.
#![allow(dead_code)]

use std::path::Path;
use std::process::Command;

const SOUND_FONT: &str = "/usr/share/sounds/sf2/FluidR3_GM.sf2";
/// Ticks per beat; 120 beats a minute, so a beat is 0.5 s.
const TPB: u32 = 480;

/// Which instruments a render holds.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Part {
    /// Everything.
    All,
    /// The finger bass alone.
    Bass,
}

/// `seconds` of the piece at 48 kHz stereo: `[left, right]`, scaled by `gain`.
pub fn render(dir: &Path, seconds: f64, part: Part, gain: f32) -> [Vec<f32>; 2] {
    let name = match part {
        Part::All => "all",
        Part::Bass => "bass",
    };
    let mid = dir.join(format!("music-{name}.mid"));
    let wav = dir.join(format!("music-{name}.wav"));
    std::fs::write(&mid, midi(seconds, part)).expect("write MIDI");
    assert!(
        Path::new(SOUND_FONT).is_file(),
        "{SOUND_FONT} is missing: install fluid-soundfont-gm (scripts/setup.sh)"
    );
    let out = Command::new("fluidsynth")
        .args(["-ni", "-q", "-r", "48000", "-g", "0.5", "-F"])
        .arg(&wav)
        .arg(SOUND_FONT)
        .arg(&mid)
        .output()
        .expect("fluidsynth (install it with scripts/setup.sh)");
    assert!(
        out.status.success(),
        "fluidsynth: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut reader = hound::WavReader::open(&wav).expect("fluidsynth output");
    let spec = reader.spec();
    assert_eq!((spec.channels, spec.sample_rate), (2, 48_000));
    let samples: Vec<f32> = match spec.sample_format {
        hound::SampleFormat::Float => reader.samples::<f32>().map(|s| s.unwrap()).collect(),
        hound::SampleFormat::Int => reader
            .samples::<i32>()
            .map(|s| s.unwrap() as f32 / (1u32 << (spec.bits_per_sample - 1)) as f32)
            .collect(),
    };
    let len = (seconds * 48_000.0) as usize;
    let channel = |c: usize| -> Vec<f32> {
        let mut v: Vec<f32> = samples
            .iter()
            .skip(c)
            .step_by(2)
            .map(|s| s * gain)
            .collect();
        v.resize(len, 0.0);
        v
    };
    [channel(0), channel(1)]
}

/// The piece as a type-0 MIDI file, `seconds` long.
fn midi(seconds: f64, part: Part) -> Vec<u8> {
    let mut events: Vec<(u32, Vec<u8>)> = Vec::new();
    let setup = [
        (0u8, 0u8, 40u8), // piano, a little left
        (1, 48, 88),      // strings, a little right
        (2, 33, 64),      // finger bass, centred
    ];
    for (ch, program, pan) in setup {
        events.push((0, vec![0xC0 | ch, program]));
        events.push((0, vec![0xB0 | ch, 10, pan]));
        events.push((0, vec![0xB0 | ch, 7, 100]));
    }
    let mut note = |at: u32, len: u32, ch: u8, key: u8, vel: u8| {
        events.push((at, vec![0x90 | ch, key, vel]));
        events.push((at + len, vec![0x80 | ch, key, 0]));
    };
    // I–vi–IV–V in C, a bar (4 beats) each.
    let chords: [[u8; 3]; 4] = [[60, 64, 67], [57, 60, 64], [53, 57, 60], [55, 59, 62]];
    let bars = (seconds / 2.0).ceil() as u32;
    for bar in 0..bars {
        let chord = chords[(bar % 4) as usize];
        let start = bar * 4 * TPB;
        if part == Part::All {
            for beat in 0..4 {
                // Piano: the chord on every beat, the top voice moving.
                for (i, &key) in chord.iter().enumerate() {
                    let key = if i == 2 && beat % 2 == 1 {
                        key + 2
                    } else {
                        key
                    };
                    note(
                        start + beat * TPB,
                        TPB - 40,
                        0,
                        key,
                        62 + (beat as u8 % 2) * 8,
                    );
                }
                // Drums: kick on 1 and 3, snare on 2 and 4, closed hi-hat on eighths.
                let drum = if beat % 2 == 0 { 36 } else { 38 };
                note(start + beat * TPB, 120, 9, drum, 100);
                note(start + beat * TPB, 60, 9, 42, 70);
                note(start + beat * TPB + TPB / 2, 60, 9, 42, 55);
            }
            // Strings: the chord held through the bar, an octave down.
            for &key in &chord {
                note(start, 4 * TPB - 20, 1, key - 12, 58);
            }
        }
        // Bass: root on 1, fifth on the "and" of 2, root an octave up on 3, approach on 4.
        let root = chord[0] - 24;
        for (beat, offset, key) in [(0, 0, root), (1, TPB / 2, root + 7), (2, 0, root + 12)] {
            note(start + beat * TPB + offset, TPB - 60, 2, key, 100);
        }
        note(start + 3 * TPB, TPB - 60, 2, root + 2, 92);
    }
    events.sort_by_key(|(t, _)| *t);
    let mut track = vec![0x00, 0xFF, 0x51, 0x03, 0x07, 0xA1, 0x20]; // 500 000 µs a beat
    let mut last = 0;
    for (at, data) in events {
        write_var(&mut track, at - last);
        track.extend_from_slice(&data);
        last = at;
    }
    track.extend_from_slice(&[0x00, 0xFF, 0x2F, 0x00]);
    let mut file = b"MThd".to_vec();
    file.extend_from_slice(&6u32.to_be_bytes());
    file.extend_from_slice(&0u16.to_be_bytes());
    file.extend_from_slice(&1u16.to_be_bytes());
    file.extend_from_slice(&(TPB as u16).to_be_bytes());
    file.extend_from_slice(b"MTrk");
    file.extend_from_slice(&(track.len() as u32).to_be_bytes());
    file.extend_from_slice(&track);
    file
}

/// A MIDI variable-length quantity.
fn write_var(out: &mut Vec<u8>, mut value: u32) {
    let mut bytes = vec![(value & 0x7F) as u8];
    value >>= 7;
    while value > 0 {
        bytes.push(0x80 | (value & 0x7F) as u8);
        value >>= 7;
    }
    out.extend(bytes.iter().rev());
}
