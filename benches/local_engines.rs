//! Real-time factors of the offline engines on this machine (processing time / audio length):
//! Whisper tiny.en (INT8, beam 5) on ~75 s of espeak-ng speech, and the Piper voice on a
//! paragraph. Targets: STT ≤ 0.2, TTS ≤ 0.15. Run: `cargo bench --bench local_engines`.

#[path = "../tests/local_common/mod.rs"]
mod common;

use std::time::Instant;

use dubber::local_tts::{PiperVoice, init_onnxruntime};
use dubber::stt::{LocalStt, LocalWhisper, TranscribeOptions, WhisperConfig};

fn main() {
    // RUST_LOG=dubber=debug shows per-window timings.
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .init();
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!("local engines, {threads} cores available");
    bench_whisper();
    bench_piper();
}

fn bench_whisper() {
    let Some(dir) = common::whisper_model() else {
        return;
    };
    let clip = common::espeak_clip(&common::SENTENCES, &[30_000, 60_000]);
    let audio_secs = clip.audio.len() as f64 / 16_000.0;
    for (beam_size, threads) in [(5, 0), (5, 1), (1, 0)] {
        let start = Instant::now();
        let config = WhisperConfig {
            beam_size,
            threads,
            ..WhisperConfig::default()
        };
        let model = LocalStt::new(LocalWhisper::load(&dir, &config).expect("model loads"));
        let load = start.elapsed().as_secs_f64();
        let mut best = f64::MAX;
        let mut segments = Vec::new();
        for _ in 0..2 {
            let start = Instant::now();
            segments = model
                .transcribe_blocking(&clip.audio, &TranscribeOptions::default())
                .expect("transcribes")
                .segments;
            best = best.min(start.elapsed().as_secs_f64());
        }
        let text: Vec<&str> = segments.iter().map(|s| s.text.as_str()).collect();
        let error = common::wer(&common::SENTENCES.join(" "), &text.join(" "));
        println!(
            "stt whisper {} INT8 beam {beam_size} threads {threads} (0 = cores): load {load:.2} s, {audio_secs:.1} s audio in \
             {best:.2} s, RTF {:.3}, WER {:.1} %, {} segments",
            dir.file_name().unwrap_or_default().to_string_lossy(),
            best / audio_secs,
            error * 100.0,
            segments.len()
        );
    }
}

fn bench_piper() {
    let Some((onnx, runtime)) = common::piper_voice() else {
        return;
    };
    init_onnxruntime(&runtime).expect("ONNX Runtime loads");
    let start = Instant::now();
    let voice = PiperVoice::load(&onnx).expect("voice loads");
    let load = start.elapsed().as_secs_f64();
    let paragraph = common::SENTENCES[..8].join(" ");
    let _warm_up = voice.speak("Warming up.", 1.0).expect("speaks");
    for (label, text) in [
        ("one sentence", common::SENTENCES[0].to_string()),
        ("paragraph", paragraph),
    ] {
        let mut best = f64::MAX;
        let mut audio_secs = 0.0;
        for _ in 0..3 {
            let start = Instant::now();
            let (samples, rate) = voice.speak(&text, 1.0).expect("speaks");
            best = best.min(start.elapsed().as_secs_f64());
            audio_secs = samples.len() as f64 / f64::from(rate);
        }
        println!(
            "tts piper {} ({label}): load {load:.2} s, {audio_secs:.1} s audio in {best:.3} s, RTF {:.3}",
            onnx.file_stem().unwrap_or_default().to_string_lossy(),
            best / audio_secs
        );
    }
}
