//! Speech to text: turn 16 kHz mono audio into timed [`Segment`](crate::Segment)s.
//!
//! One trait, [`Transcriber`], so the pipeline picks a provider once at the CLI edge: local
//! Whisper ([`local::LocalStt`], offline, the default: any language, speech found by Silero VAD
//! first) or any OpenAI-compatible `/audio/transcriptions` server ([`openai::OpenAiTranscriber`]).
//! The trait returns a boxed future so it can be used as `Box<dyn Transcriber>`; local inference
//! runs on blocking threads.

pub mod activity;
pub mod align;
pub mod heard;
pub mod languages;
pub mod local;
pub mod mel;
pub mod openai;
pub mod quality;
pub mod speech_map;
pub mod tokens;
pub mod vad;
pub mod whisper;
pub mod window;

use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;

pub use heard::{HeardLanguage, LanguageGuess, SURE_LANGUAGE};
pub use local::{LocalStt, SttReport, Transcript};
pub use openai::OpenAiTranscriber;
pub use vad::{SileroVad, VadOptions};
pub use whisper::{DetectedLanguage, LocalWhisper, WhisperConfig};

/// Sample rate every [`Transcriber`] takes.
pub const SAMPLE_RATE: u32 = 16_000;

/// A boxed, sendable future (keeps [`Transcriber`] usable as a trait object).
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// What a transcription may be told.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct TranscribeOptions {
    /// Spoken language as an ISO 639-1 code (`en`, `fr`); `None` detects it.
    pub language: Option<String>,
    /// Write down what is said, or translate it into English.
    pub task: Task,
}

/// What the model writes: the speech as said, or its English translation (Whisper's
/// `<|translate|>` task, any language into English, offline).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Task {
    #[default]
    Transcribe,
    Translate,
}

/// Errors from any transcriber.
#[derive(Debug, thiserror::Error)]
pub enum SttError {
    /// The model folder could not be loaded.
    #[error("cannot load Whisper model {}: {message}", path.display())]
    Load {
        /// Model folder.
        path: PathBuf,
        /// Cause, from CTranslate2 or the tokenizer.
        message: String,
    },
    /// Inference failed on one 30 s window.
    #[error("Whisper failed on the window at {at_ms} ms: {message}")]
    Inference {
        /// Start of the window in the audio.
        at_ms: u64,
        /// Cause.
        message: String,
    },
    /// The model does not know a language code.
    #[error("language '{language}' is not supported by this model")]
    UnknownLanguage {
        /// The code asked for.
        language: String,
    },
    /// An English-only model was given speech in another language: its transcript would be an
    /// invented English text.
    #[error(
        "the speech is {name} ({code}), but Whisper model '{model}' knows only English: use a \
         multilingual model (--stt-model base, the default when installed), or \
         --translate-to English to dub it into English"
    )]
    EnglishOnly {
        /// The model.
        model: String,
        /// The language heard (code).
        code: String,
        /// Its English name.
        name: String,
    },
    /// Translation needs a multilingual model.
    #[error(
        "Whisper model '{model}' knows only English and cannot translate: use a multilingual \
         model (--stt-model base)"
    )]
    CannotTranslate {
        /// The model.
        model: String,
    },
    /// Encoding audio for upload failed.
    #[error("cannot encode audio for upload: {0}")]
    Encode(String),
    /// The HTTP request failed (connection, timeout).
    #[error("transcription request to {url} failed: {source}")]
    Http {
        /// Endpoint.
        url: String,
        /// Cause.
        source: reqwest::Error,
    },
    /// The server answered with an error status.
    #[error("transcription server {url} answered {status}: {body}")]
    Status {
        /// Endpoint.
        url: String,
        /// HTTP status.
        status: u16,
        /// Start of the body (the provider's message).
        body: String,
    },
    /// The server's answer is not the expected `verbose_json`.
    #[error("unexpected transcription response from {url}: {message}")]
    Response {
        /// Endpoint.
        url: String,
        /// What was wrong.
        message: String,
    },
    /// The blocking worker thread panicked or was cancelled.
    #[error("transcription worker stopped: {0}")]
    Worker(String),
}

/// Transcribes 16 kHz mono audio into segments with times relative to the start of `audio`.
pub trait Transcriber: Send + Sync {
    /// Short name for logs and reports (`whisper:tiny.en`, `openai:whisper-1`).
    fn name(&self) -> String;

    /// Transcribes `audio` (16 kHz mono, samples in −1..1).
    fn transcribe<'a>(
        &'a self,
        audio: Vec<f32>,
        options: &'a TranscribeOptions,
    ) -> BoxFuture<'a, Result<Transcript, SttError>>;
}
