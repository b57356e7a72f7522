//! Separation benchmark: `--background separate` by the model (Spleeter on ONNX Runtime) on a
//! 20-minute stereo source, as a fraction of its length, with the peak resident memory; then a
//! 2-hour stereo source, to show memory stays flat (the separator holds one 512-frame chunk,
//! 11.9 s, whatever the length). The lines cover every chunk (4 s of speech every 6 s), so the
//! model runs on all of the audio: the worst case. Sources are generated in-process and streamed
//! to disk. Threads: as many as the machine has (`taskset -c 0,1` for 2 cores). Run with
//! `cargo bench --bench separation`.

mod measure;

use std::path::Path;
use std::time::Instant;

use dubber::background::{self, MIX_RATE, MixJob, Mode, PcmWriter};
use dubber::models::DataDir;

/// A line every 6 s, speaking 4 s of it: `(start, end)` at the dub's 24 kHz.
fn lines(secs: u64) -> Vec<(u64, u64)> {
    (0..secs / 6)
        .map(|i| (i * 6 * 24_000 + 12_000, i * 6 * 24_000 + 5 * 24_000))
        .collect()
}

/// Stereo noise beds with a centred 140 Hz harmonic voice in the lines.
fn write_source(path: &Path, secs: u64) {
    let mut w = PcmWriter::create(path, 2, MIX_RATE, 0x3).unwrap();
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    let mut noise = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 40) as f32 / (1u64 << 24) as f32 - 0.5
    };
    let total = secs * u64::from(MIX_RATE);
    let (mut block, mut t) = (Vec::new(), 0u64);
    while t < total {
        block.clear();
        for i in t..(t + 48_000).min(total) {
            let at = i % (6 * 48_000);
            let phase = i as f32 * 2.0 * std::f32::consts::PI * 140.0 / MIX_RATE as f32;
            let v = if (24_000..24_000 + 4 * 48_000).contains(&at) {
                0.2 * phase.sin() + 0.1 * (2.0 * phase).sin()
            } else {
                0.0
            };
            block.extend([v + 0.05 * noise(), v + 0.05 * noise()]);
        }
        w.write(&block).unwrap();
        t += 48_000;
    }
    w.finish().unwrap();
}

fn write_silent_dub(path: &Path, secs: u64) {
    let mut w = PcmWriter::create(path, 1, 24_000, 0x4).unwrap();
    let block = vec![0f32; 24_000];
    for _ in 0..secs {
        w.write(&block).unwrap();
    }
    w.finish().unwrap();
}

fn run(dir: &Path, model: &Path, secs: u64) {
    let bg = dir.join("source.wav");
    let dub = dir.join("dub.wav");
    write_source(&bg, secs);
    write_silent_dub(&dub, secs);
    let spans = lines(secs);
    let lines48 = spans.iter().map(|&(s, e)| (2 * s, 2 * e)).collect();
    measure::reset_peak();
    let before = measure::peak_mb();
    let (started, cpu) = (Instant::now(), measure::cpu_secs());
    let separator = dubber::separation::for_background(
        model,
        &bg,
        Some("stereo"),
        lines48,
        Some(&dir.join("voice.wav")),
    )
    .unwrap()
    .unwrap();
    let report = background::render(MixJob {
        dub: &dub,
        background: &bg,
        layout_name: Some("stereo"),
        mode: Mode::Separate,
        ducking: Default::default(),
        dub_speech: &[],
        original_lines: &spans,
        separator: Some(Box::new(separator)),
        out: &dir.join("mix.wav"),
    })
    .unwrap();
    let took = started.elapsed().as_secs_f64();
    println!(
        "{:>4} min stereo, {:?}: {took:7.1} s = {:.4} of the audio's length ({:.0} s of CPU); \
         peak resident memory {:.0} MB (before: {:.0} MB)",
        secs / 60,
        report.method,
        took / secs as f64,
        measure::cpu_secs() - cpu,
        measure::peak_mb(),
        before
    );
    for f in ["source.wav", "dub.wav", "mix.wav", "voice.wav"] {
        std::fs::remove_file(dir.join(f)).ok();
    }
}

fn main() {
    let model = DataDir::from_env()
        .and_then(|d| d.separation_model())
        .expect("the separation model (scripts/setup-models.sh)");
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!("separation benchmark on {threads} cores");
    let dir = tempfile::tempdir().unwrap();
    run(dir.path(), &model, 20 * 60);
    run(dir.path(), &model, 2 * 3600);
}
