//! Transcription time, peak memory and word error rate per local model on a 3-minute talk
//! (espeak-ng, known text, pauses between sentences): tiny.en on the whole recording (dubber
//! before voice-activity detection), tiny.en behind Silero VAD, the default (the multilingual
//! base behind the VAD), and base detecting the language with English sent to tiny.en. Each
//! configuration runs in its own process so that its peak memory is its own.
//! Run: `cargo bench --bench transcribe`.

#[path = "../tests/local_common/mod.rs"]
mod common;
mod measure;

use std::process::Command;
use std::sync::Arc;
use std::time::Instant;

use dubber::models::{DEFAULT_WHISPER_MODEL, DataDir, MULTILINGUAL_WHISPER_MODEL};
use dubber::stt::{LocalStt, LocalWhisper, SileroVad, TranscribeOptions, WhisperConfig};

const CONFIGS: [&str; 4] = [
    "tiny.en (no VAD)",
    "tiny.en",
    "base (default)",
    "base, en to tiny.en",
];

fn main() {
    let mut args = std::env::args().skip(1);
    if args.next().as_deref() == Some("--one") {
        let config: usize = args
            .next()
            .and_then(|a| a.parse().ok())
            .expect("config index");
        run_one(config);
        return;
    }
    println!(
        "transcription of a 3-minute talk, {} cores",
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    for (i, name) in CONFIGS.iter().enumerate() {
        let out = Command::new(std::env::current_exe().expect("own path"))
            .args(["--one", &i.to_string()])
            .output()
            .expect("runs itself");
        let figures = String::from_utf8_lossy(&out.stdout);
        println!("{name:<20} {}", figures.trim());
        if !out.status.success() {
            eprintln!("{}", String::from_utf8_lossy(&out.stderr));
        }
    }
}

/// The talk: the test sentences, said ~2.5 times over, with pauses between them.
fn talk() -> common::Clip {
    let sentences: Vec<&str> = common::SENTENCES
        .iter()
        .cycle()
        .take(common::SENTENCES.len() * 5 / 2)
        .copied()
        .collect();
    common::espeak_clip(&sentences, &[30_000, 60_000, 90_000, 120_000, 150_000])
}

fn run_one(config: usize) {
    let clip = talk();
    let data = DataDir::from_env().expect("data dir");
    let load = |name: &str| {
        let dir = data.installed_whisper_model(name).unwrap_or_else(|| {
            panic!("Whisper {name} is not installed: run scripts/setup-models.sh")
        });
        LocalWhisper::load(&dir, &WhisperConfig::default()).expect("model loads")
    };
    let vad = || Arc::new(SileroVad::load(&data.vad_model().expect("VAD installed")).expect("VAD"));
    let started = Instant::now();
    let stt = match config {
        0 => LocalStt::new(load(DEFAULT_WHISPER_MODEL)),
        1 => LocalStt::new(load(DEFAULT_WHISPER_MODEL)).with_vad(vad()),
        2 => LocalStt::new(load(MULTILINGUAL_WHISPER_MODEL)).with_vad(vad()),
        _ => LocalStt::new(load(MULTILINGUAL_WHISPER_MODEL))
            .with_english_model(load(DEFAULT_WHISPER_MODEL))
            .with_vad(vad()),
    };
    let loaded = started.elapsed().as_secs_f64();
    let started = Instant::now();
    let transcript = stt
        .transcribe_blocking(&clip.audio, &TranscribeOptions::default())
        .expect("transcribes");
    let secs = started.elapsed().as_secs_f64();
    let text: Vec<&str> = transcript
        .segments
        .iter()
        .map(|s| s.text.as_str())
        .collect();
    let reference: Vec<&str> = clip.spoken.iter().map(|s| s.0.as_str()).collect();
    let error = common::wer(&reference.join(" "), &text.join(" "));
    // Mean distance of each sentence's start to the nearest segment start.
    let errors = clip.start_errors(&transcript.segments);
    let start_error = errors.iter().map(|&e| e as f64).sum::<f64>() / errors.len() as f64;
    let audio = clip.audio.len() as f64 / 16_000.0;
    println!(
        "load {loaded:5.2} s, {audio:.0} s audio in {secs:6.2} s (RTF {:.3}), peak {:5.0} MB, \
         WER {:4.1} %, mean start error {start_error:4.0} ms, {} segments, language {}",
        secs / audio,
        measure::peak_mb(),
        error * 100.0,
        transcript.segments.len(),
        transcript.report.language.as_deref().unwrap_or("-"),
    );
}
