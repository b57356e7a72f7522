//! `--background separate` by the model (Spleeter on ONNX Runtime) on mono, stereo and 5.1
//! sources made of known parts: an espeak-ng voice at known times over a MIDI piece rendered by
//! FluidSynth (piano, strings, drums, and a finger bass centred as in real mixes).
//!
//! How it is measured: the masks are computed from the mix, but once computed the separation is
//! linear, so each part (the voice, the music, the bass alone) is sent through the very same
//! masks (`ModelSeparator::push_guided`). In the original lines' windows the voice's attenuation
//! is its energy against the energy left of it; the music's change is the energy left of the
//! music against its own. Outside the windows and their ramps the output is the input, sample for
//! sample. A missing model fails the test, naming `scripts/setup-models.sh`.

mod common_media;
mod common_music;

use std::path::Path;

use common_media::*;
use common_music::Part;
use dubber::models::DataDir;
use dubber::separation::{ModelSeparator, RAMP_MS, SpleeterModel};

/// Original lines: (start s, text).
const LINES: [(f64, &str); 3] = [
    (
        1.0,
        "The river was quiet that morning, and nobody came down to the water.",
    ),
    (
        6.5,
        "She counted the boats twice before she believed the number.",
    ),
    (
        12.0,
        "Then the bells began, one after another, all along the coast.",
    ),
];
const SECS: f64 = 17.0;

struct Source {
    voice: Vec<f32>,
    windows: Vec<(f64, f64)>,
    /// The music, stereo, and its bass alone.
    music: [Vec<f32>; 2],
    bass: [Vec<f32>; 2],
}

fn source(dir: &Path) -> Source {
    let len = (SECS * f64::from(RATE)) as usize;
    let clips: Vec<(f64, Vec<f32>)> = LINES
        .iter()
        .map(|(start, text)| (*start, speak(dir, text, "en-gb")))
        .collect();
    let windows = clips
        .iter()
        .map(|(s, c)| (*s, s + c.len() as f64 / f64::from(RATE)))
        .collect();
    let music = common_music::render(dir, SECS, Part::All, 1.0);
    let bass = common_music::render(dir, SECS, Part::Bass, 1.0);
    Source {
        voice: place(len, &clips),
        windows,
        music,
        bass,
    }
}

fn samples(t: f64) -> usize {
    (t * f64::from(RATE)).round() as usize
}

fn model() -> SpleeterModel {
    let data = DataDir::from_env().expect("data dir");
    let path = data.separation_model().unwrap_or_else(|e| {
        panic!("the separation model is missing, run scripts/setup-models.sh: {e}")
    });
    SpleeterModel::load(&path, 2).expect("load the separation model")
}

/// What the separator (masks from `mix`) leaves of `part`, both `[channel][sample]`.
fn through(
    mix: &[Vec<f32>],
    part: &[Vec<f32>],
    targets: Vec<usize>,
    windows: &[(f64, f64)],
) -> Vec<Vec<f32>> {
    let (n, len) = (mix.len(), mix[0].len());
    let lines = windows
        .iter()
        .map(|&(s, e)| (samples(s) as u64, samples(e) as u64))
        .collect();
    let ramp = RAMP_MS * u64::from(RATE) / 1000;
    let mut sep = ModelSeparator::new(model(), n, targets, lines, ramp, None);
    let interleave = |x: &[Vec<f32>]| -> Vec<f32> {
        (0..len).flat_map(|i| x.iter().map(move |c| c[i])).collect()
    };
    let (mix, part) = (interleave(mix), interleave(part));
    let mut out = Vec::new();
    let block = 8192 * n;
    for (m, p) in mix.chunks(block).zip(part.chunks(block)) {
        sep.push_guided(m, p, &mut out);
    }
    dubber::background::Separator::finish(&mut sep, &mut out);
    assert_eq!(out.len(), len * n, "the separator gives back every frame");
    (0..n)
        .map(|c| out.iter().skip(c).step_by(n).copied().collect())
        .collect()
}

/// Change in dB of `after` against `before` over the windows, summed over channels.
fn change(before: &[Vec<f32>], after: &[Vec<f32>], windows: &[(f64, f64)]) -> f64 {
    let (mut b, mut a) = (0.0, 0.0);
    for (x, y) in before.iter().zip(after) {
        for &(s, e) in windows {
            let r = samples(s)..samples(e).min(x.len());
            b += energy(&x[r.clone()]);
            a += energy(&y[r]);
        }
    }
    db(a / b)
}

/// Outside the windows and their ramps `after` is `before`, sample for sample.
fn untouched_outside(before: &[Vec<f32>], after: &[Vec<f32>], windows: &[(f64, f64)]) {
    let ramp = samples(RAMP_MS as f64 / 1000.0);
    let mut outside = 0;
    for i in 0..before[0].len() {
        let near = windows
            .iter()
            .any(|&(s, e)| i + ramp >= samples(s) && i < samples(e) + ramp + 2);
        if !near {
            outside += 1;
            for (c, (x, y)) in before.iter().zip(after).enumerate() {
                assert_eq!(x[i], y[i], "channel {c} at sample {i}");
            }
        }
    }
    assert!(outside > samples(2.0), "{outside} samples outside speech");
}

fn mono(x: &[Vec<f32>; 2]) -> Vec<f32> {
    x[0].iter().zip(&x[1]).map(|(l, r)| 0.5 * (l + r)).collect()
}

fn add(a: &[f32], b: &[f32]) -> Vec<f32> {
    a.iter().zip(b).map(|(x, y)| x + y).collect()
}

/// Mono: voice and music are one signal; the model takes the voice out and keeps the music.
#[test]
fn mono_model_takes_the_voice_out_and_keeps_the_music_and_its_bass() {
    let dir = tempfile::tempdir().unwrap();
    let s = source(dir.path());
    let (music, bass) = (vec![mono(&s.music)], vec![mono(&s.bass)]);
    let voice = vec![s.voice.clone()];
    let mix = vec![add(&s.voice, &music[0])];
    let ratio = change(&music, &voice, &s.windows);
    let voice_left = through(&mix, &voice, vec![0], &s.windows);
    let music_left = through(&mix, &music, vec![0], &s.windows);
    let bass_left = through(&mix, &bass, vec![0], &s.windows);
    let (v, m, b) = (
        change(&voice, &voice_left, &s.windows),
        change(&music, &music_left, &s.windows),
        change(&bass, &bass_left, &s.windows),
    );
    eprintln!(
        "mono: voice {ratio:.1} dB over the music; voice {v:.1} dB, music {m:+.2} dB, bass {b:+.2} dB"
    );
    assert!(v <= -12.0, "voice only {v:.1} dB down");
    assert!(m.abs() <= 3.0, "music moved {m:.2} dB");
    assert!(b.abs() <= 3.0, "bass moved {b:.2} dB");
    untouched_outside(&music, &music_left, &s.windows);
}

/// Stereo with the voice and the bass both in the centre: the layout cannot tell them apart,
/// the model can.
#[test]
fn stereo_model_takes_the_centred_voice_out_and_keeps_the_centred_bass() {
    let dir = tempfile::tempdir().unwrap();
    let s = source(dir.path());
    let voice = vec![s.voice.clone(), s.voice.clone()];
    let (music, bass) = (s.music.to_vec(), s.bass.to_vec());
    let mix: Vec<Vec<f32>> = music.iter().map(|m| add(&s.voice, m)).collect();
    let ratio = change(&music, &voice, &s.windows);
    let voice_left = through(&mix, &voice, vec![0, 1], &s.windows);
    let music_left = through(&mix, &music, vec![0, 1], &s.windows);
    let bass_left = through(&mix, &bass, vec![0, 1], &s.windows);
    let (v, m, b) = (
        change(&voice, &voice_left, &s.windows),
        change(&music, &music_left, &s.windows),
        change(&bass, &bass_left, &s.windows),
    );
    eprintln!(
        "stereo: voice {ratio:.1} dB over the music; voice {v:.1} dB, music {m:+.2} dB, bass {b:+.2} dB"
    );
    assert!(v <= -12.0, "voice only {v:.1} dB down");
    assert!(m.abs() <= 3.0, "music moved {m:.2} dB");
    assert!(b.abs() <= 3.0, "bass moved {b:.2} dB");
    untouched_outside(&music, &music_left, &s.windows);
}

/// 5.1(side) with music in the centre channel too: the centre keeps its music (within 3 dB in
/// the speech windows, exactly outside them) and loses the voice; the other channels are
/// untouched.
#[test]
fn five_one_model_keeps_the_centre_channels_music() {
    let dir = tempfile::tempdir().unwrap();
    let s = source(dir.path());
    let len = s.voice.len();
    let centre_music = mono(&s.music);
    let silent = vec![0f32; len];
    let beds = [
        s.music[0].clone(),
        s.music[1].clone(),
        centre_music.clone(),
        mono(&s.bass),
        s.music[1].iter().map(|x| 0.5 * x).collect(),
        s.music[0].iter().map(|x| 0.5 * x).collect(),
    ];
    let mut mix = beds.to_vec();
    mix[2] = add(&s.voice, &centre_music);
    let mut voice: Vec<Vec<f32>> = vec![silent; 6];
    voice[2] = s.voice.clone();
    let music_left = through(&mix, &beds, vec![2], &s.windows);
    let voice_left = through(&mix, &voice, vec![2], &s.windows);
    let m = change(&beds[2..3], &music_left[2..3], &s.windows);
    let v = change(&voice[2..3], &voice_left[2..3], &s.windows);
    eprintln!("5.1: centre's music {m:+.2} dB, voice {v:.1} dB");
    assert!(m.abs() <= 3.0, "centre's music moved {m:.2} dB");
    assert!(v <= -12.0, "voice only {v:.1} dB down");
    untouched_outside(&beds, &music_left, &s.windows);
    for c in [0, 1, 3, 4, 5] {
        assert_eq!(music_left[c], beds[c], "channel {c} changed");
    }
}
