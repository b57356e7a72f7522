//! Transcribe a 16 kHz mono WAV file with a local Whisper model (speech found by Silero VAD when
//! installed) and print the language heard and the segments.
//!
//! ```text
//! ffmpeg -i input.mp4 -ar 16000 -ac 1 speech.wav
//! cargo run --release --example transcribe -- speech.wav [MODEL_DIR_OR_NAME] [LANGUAGE]
//! ```

use dubber::models::DataDir;
use std::sync::Arc;

use dubber::stt::{LocalStt, LocalWhisper, SileroVad, TranscribeOptions, WhisperConfig};

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let Some(wav) = args.next() else {
        anyhow::bail!("usage: transcribe SPEECH.wav [MODEL] [LANGUAGE]");
    };
    let model = args.next();
    let language = args.next();
    let reader = hound::WavReader::open(&wav)?;
    let spec = reader.spec();
    if spec.sample_rate != 16_000 || spec.channels != 1 {
        anyhow::bail!(
            "{wav} is {} Hz, {} channels: convert with `ffmpeg -i IN -ar 16000 -ac 1 OUT.wav`",
            spec.sample_rate,
            spec.channels
        );
    }
    let audio: Vec<f32> = match spec.sample_format {
        hound::SampleFormat::Int => reader
            .into_samples::<i32>()
            .map(|s| s.map(|v| v as f32 / (1u32 << (spec.bits_per_sample - 1)) as f32))
            .collect::<Result<_, _>>()?,
        hound::SampleFormat::Float => reader.into_samples::<f32>().collect::<Result<_, _>>()?,
    };
    let data = DataDir::from_env()?;
    let dir = data.whisper_model_from_env(model.as_deref())?;
    let started = std::time::Instant::now();
    let whisper = LocalWhisper::load(&dir, &WhisperConfig::default())?;
    eprintln!(
        "loaded {} in {:.2?} (multilingual: {})",
        dir.display(),
        started.elapsed(),
        whisper.is_multilingual()
    );
    let started = std::time::Instant::now();
    let mut stt = LocalStt::new(whisper);
    if let Ok(vad) = data.vad_model() {
        stt = stt.with_vad(Arc::new(SileroVad::load(&vad)?));
    }
    let options = TranscribeOptions {
        language,
        ..TranscribeOptions::default()
    };
    let transcript = stt.transcribe_blocking(&audio, &options)?;
    let secs = audio.len() as f64 / 16_000.0;
    eprintln!(
        "{secs:.1} s transcribed in {:.2?}; language {:?}",
        started.elapsed(),
        transcript.report.language
    );
    for s in transcript.segments {
        println!(
            "{:>8.2} {:>8.2}  {}",
            s.start_ms as f64 / 1000.0,
            s.end_ms as f64 / 1000.0,
            s.text
        );
    }
    Ok(())
}
