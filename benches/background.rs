//! Background benchmark: the cost of mixing the dub over a 20-minute stereo and a 20-minute 5.1
//! source in each mode (`separate` is the STFT centre mask on stereo, the centre-channel
//! replacement on 5.1), as a fraction of the video's length, and the peak memory of
//! `separate` and `duck` on a 2-hour 5.1 source (4.1 GB of PCM in, as much out). Sources are
//! generated in-process and streamed to disk (no video, no ffmpeg: extraction and encoding are
//! ffmpeg's cost, the same in every mode). Run with `cargo bench --bench background`.

mod measure;

use std::path::Path;
use std::time::Instant;

use dubber::background::{self, MIX_RATE, MixJob, Mode, PcmWriter};

/// A line every 6 s, speaking 4 s of it: `(start, end)` at the dub's 24 kHz.
fn lines(secs: u64) -> Vec<(u64, u64)> {
    (0..secs / 6)
        .map(|i| {
            (
                i * 6 * 24_000 + 12_000,
                i * 6 * 24_000 + 4 * 24_000 + 12_000,
            )
        })
        .collect()
}

/// A source of `secs` seconds and `channels` channels: a different noise bed in each channel,
/// and a 140 Hz harmonic voice in the lines, centred (stereo) or in channel 2 (5.1).
fn write_source(path: &Path, channels: u16, mask: u32, secs: u64) {
    let mut w = PcmWriter::create(path, channels, MIX_RATE, mask).unwrap();
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    let mut noise = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 40) as f32 / (1u64 << 24) as f32 - 0.5
    };
    let total = secs * u64::from(MIX_RATE);
    let mut block = Vec::new();
    let mut t = 0u64;
    while t < total {
        block.clear();
        for i in t..(t + 48_000).min(total) {
            let in_line = (i % (6 * 48_000)) >= 24_000 && (i % (6 * 48_000)) < 24_000 + 4 * 48_000;
            let phase = i as f32 * 2.0 * std::f32::consts::PI * 140.0 / MIX_RATE as f32;
            let v = if in_line {
                0.2 * phase.sin() + 0.1 * (2.0 * phase).sin() + 0.05 * (3.0 * phase).sin()
            } else {
                0.0
            };
            for c in 0..channels {
                let voice = match channels {
                    2 => v,
                    _ if c == 2 => v,
                    _ => 0.0,
                };
                block.push(voice + 0.05 * noise());
            }
        }
        w.write(&block).unwrap();
        t += 48_000;
    }
    w.finish().unwrap();
}

/// A dub at 24 kHz: a tone in every line.
fn write_dub(path: &Path, secs: u64) {
    let mut w = PcmWriter::create(path, 1, 24_000, 0x4).unwrap();
    let spans = lines(secs);
    let total = secs * 24_000;
    let mut block = Vec::new();
    let mut t = 0u64;
    while t < total {
        block.clear();
        block.extend((t..(t + 24_000).min(total)).map(|i| {
            if spans.iter().any(|&(s, e)| i >= s && i < e) {
                0.2 * (i as f32 * 0.05).sin()
            } else {
                0.0
            }
        }));
        w.write(&block).unwrap();
        t += 24_000;
    }
    w.finish().unwrap();
}

fn render(dir: &Path, bg: &Path, layout: &str, mode: Mode, secs: u64) -> f64 {
    let dub = dir.join(format!("dub-{secs}.wav"));
    if !dub.exists() {
        write_dub(&dub, secs);
    }
    let spans = lines(secs);
    let out = dir.join("mix.wav");
    let started = Instant::now();
    let report = background::render(MixJob {
        dub: &dub,
        background: bg,
        layout_name: Some(layout),
        mode,
        ducking: Default::default(),
        dub_speech: &spans,
        original_lines: &spans,
        separator: None,
        out: &out,
    })
    .unwrap();
    let took = started.elapsed().as_secs_f64();
    println!(
        "{:>5} min {:<9} {:<8} ({:<14}): {:6.2} s = {:.4} of the video's length",
        secs / 60,
        layout,
        format!("{mode:?}").to_lowercase(),
        format!("{:?}", report.method),
        took,
        took / secs as f64
    );
    std::fs::remove_file(&out).ok();
    took
}

fn main() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let secs = 20 * 60;
    let stereo = d.join("stereo.wav");
    write_source(&stereo, 2, 0x3, secs);
    for mode in [Mode::Separate, Mode::Duck] {
        render(d, &stereo, "stereo", mode, secs);
    }
    std::fs::remove_file(&stereo).ok();
    let surround = d.join("surround.wav");
    write_source(&surround, 6, 0x60F, secs);
    for mode in [Mode::Separate, Mode::Duck] {
        render(d, &surround, "5.1(side)", mode, secs);
    }
    std::fs::remove_file(&surround).ok();

    let secs = 2 * 3600;
    let film = d.join("film.wav");
    write_source(&film, 6, 0x60F, secs);
    for mode in [Mode::Separate, Mode::Duck] {
        measure::reset_peak();
        let before = measure::peak_mb();
        render(d, &film, "5.1(side)", mode, secs);
        println!(
            "  2-hour 5.1 {:?}: peak resident memory {:.1} MB (before: {:.1} MB)",
            mode,
            measure::peak_mb(),
            before
        );
    }
}
