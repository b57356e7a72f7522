//! Offline speech synthesis engines: Piper voices (ONNX Runtime) and espeak-ng.
//!
//! Kept apart from the `Synthesizer` trait (in `tts`) so the engines stay plain, synchronous and
//! testable: each turns text and a speed into mono `f32` samples and a sample rate; the trait
//! adapter encodes them ([`crate::audio::wav_bytes`]) and runs them on blocking threads.

pub mod espeak;
pub mod phonemes;
pub mod piper;

use std::path::PathBuf;

pub use espeak::EspeakVoice;
pub use piper::{PiperConfig, PiperInference, PiperVoice, init_onnxruntime};

/// Errors from the local voices.
#[derive(Debug, thiserror::Error)]
pub enum LocalTtsError {
    /// ONNX Runtime could not be found or loaded.
    #[error("{0}")]
    Runtime(String),
    /// The voice files are missing or invalid.
    #[error("Piper voice {}: {message}", path.display())]
    Voice {
        /// The `.onnx` or `.onnx.json` file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// The model failed on a sentence.
    #[error("Piper voice {} failed on sentence {sentence}: {message}", path.display())]
    Inference {
        /// The voice.
        path: PathBuf,
        /// Index of the sentence in the text.
        sentence: usize,
        /// Cause from ONNX Runtime.
        message: String,
    },
    /// espeak-ng is missing or failed.
    #[error("{0}")]
    Espeak(String),
    /// The synthesis was stopped ([`piper::Stop`]): nobody waits for it any more.
    #[error("stopped: the request was abandoned")]
    Stopped,
}

impl LocalTtsError {
    fn espeak_spawn(error: &std::io::Error) -> Self {
        if error.kind() == std::io::ErrorKind::NotFound {
            Self::Espeak(
                "espeak-ng is not installed: `apt-get install espeak-ng` (or brew install \
                 espeak-ng), or run scripts/setup-models.sh"
                    .to_string(),
            )
        } else {
            Self::Espeak(format!("cannot run espeak-ng: {error}"))
        }
    }
}
