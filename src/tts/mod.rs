//! Speech synthesis: one trait for every engine, remote providers behind it, and the machinery
//! written once on top of it — a concurrent batch runner with retries and an adaptive limit, and a
//! content-addressed cache of clips.
//!
//! Why this shape: the tool we replace wired concurrency, retries and caching into one provider and
//! got all three wrong (fixed batches of five, a cache never read, a run lost to one failure). Here a
//! provider only turns one [`SynthRequest`] into one [`SynthAudio`]; everything about doing that many
//! times, fast and safely, lives in [`BatchRunner`] and [`Cache`], generic over [`Synthesizer`].
//! The provider is chosen once, at the CLI edge (an enum and a `match`), so no trait objects are
//! needed and the trait can use `impl Future` directly.
//!
//! Parts:
//! - [`openai`]: OpenAI-compatible `POST {base}/audio/speech` (any compatible server, local ones too).
//! - [`elevenlabs`]: ElevenLabs `POST {base}/v1/text-to-speech/{voice_id}`.
//! - [`batch`]: [`BatchRunner`], [`speak`] and [`synthesize_batch`].
//! - [`cache`]: [`Cache`], clips named by the SHA-256 of everything that changes the audio.

pub mod any;
pub mod batch;
pub mod cache;
pub mod elevenlabs;
pub(crate) mod http;
pub mod local;
pub mod openai;
pub mod shared;
mod split;

use std::fmt;
use std::future::Future;
use std::ops::RangeInclusive;
use std::time::Duration;

use crate::audio::Pcm;

pub use any::AnyEngine;
pub use batch::{
    BatchOptions, BatchReport, BatchRunner, FailedLine, Outcome, TtsError, speak, synthesize_batch,
};
pub use cache::{Cache, CacheKey, Clip};
pub use elevenlabs::ElevenLabsTts;
pub use local::{EspeakTts, PiperTts};
pub use openai::OpenAiTts;
pub use shared::SharedLimit;

/// How synthesized audio is encoded: a WAV file, or bare 16-bit little-endian mono PCM at a rate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AudioFormat {
    /// A RIFF/WAVE file (any PCM sample format `hound` reads; mono or more channels).
    Wav,
    /// Headerless signed 16-bit little-endian mono samples at `sample_rate` Hz.
    Pcm16 { sample_rate: u32 },
}

impl AudioFormat {
    /// Stable text for cache keys and messages: `wav` or `pcm16@24000`.
    pub fn tag(&self) -> String {
        match self {
            AudioFormat::Wav => "wav".to_string(),
            AudioFormat::Pcm16 { sample_rate } => format!("pcm16@{sample_rate}"),
        }
    }
}

impl fmt::Display for AudioFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.tag())
    }
}

/// One thing to say, and how to say it.
#[derive(Debug, Clone, PartialEq)]
pub struct SynthRequest {
    /// The text to speak (already free of markup).
    pub text: String,
    /// Voice name or id (`onyx` for OpenAI, a voice id for ElevenLabs, a model name for Piper).
    pub voice: String,
    /// Model name (`gpt-4o-mini-tts`, `eleven_multilingual_v2`, ...); engines with one model ignore it.
    pub model: String,
    /// Free-form speaking instructions (tone, accent); sent only when set.
    pub instructions: Option<String>,
    /// Speaking rate, 1.0 = the voice's natural rate; must lie in [`Limits::speed`].
    pub speed: f64,
    /// The encoding asked for. A provider may answer in another one (ElevenLabs always sends PCM);
    /// [`SynthAudio::format`] is what was actually returned.
    pub format: AudioFormat,
}

impl SynthRequest {
    /// A request with speed 1.0, WAV output and no instructions.
    pub fn new(
        text: impl Into<String>,
        voice: impl Into<String>,
        model: impl Into<String>,
    ) -> Self {
        Self {
            text: text.into(),
            voice: voice.into(),
            model: model.into(),
            instructions: None,
            speed: 1.0,
            format: AudioFormat::Wav,
        }
    }

    /// The same settings with another text: how a batch is built from one template.
    pub fn with_text(&self, text: impl Into<String>) -> Self {
        Self {
            text: text.into(),
            ..self.clone()
        }
    }
}

/// Encoded audio as an engine returned it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SynthAudio {
    pub bytes: Vec<u8>,
    pub format: AudioFormat,
}

impl SynthAudio {
    /// The samples, checked: an error says what is wrong (truncated, empty, not audio).
    pub(crate) fn decode(&self) -> Result<Pcm, String> {
        match self.format {
            AudioFormat::Wav => Pcm::from_wav(&self.bytes),
            AudioFormat::Pcm16 { sample_rate } => Pcm::from_pcm16(&self.bytes, sample_rate),
        }
    }
}

/// What an engine accepts; callers packing text into requests should stay within these.
#[derive(Debug, Clone, PartialEq)]
pub struct Limits {
    /// Longest text (in characters) one request to the service accepts. The remote providers here
    /// split longer text at sentence boundaries themselves and join the audio.
    pub max_input_chars: usize,
    /// Speeds the engine supports; the batch runner refuses others before making any request.
    pub speed: RangeInclusive<f64>,
}

/// A text-to-speech engine: one request in, encoded audio out.
///
/// Implementations do one attempt and classify failures precisely ([`SynthError`]); retries,
/// timeouts, concurrency and caching are the [`BatchRunner`]'s job, so they are written once.
///
/// **Local CPU-bound engines** (Piper, espeak-ng) implement `synthesize` by moving owned copies of
/// what they need into [`tokio::task::spawn_blocking`] and awaiting it, so inference never blocks
/// the async runtime:
///
/// ```ignore
/// fn synthesize(&self, req: &SynthRequest) -> impl Future<Output = Result<SynthAudio, SynthError>> + Send {
///     let engine = Arc::clone(&self.engine); // Arc<...> so the closure is 'static
///     let req = req.clone();
///     async move {
///         tokio::task::spawn_blocking(move || engine.speak(&req))
///             .await
///             .map_err(|e| SynthError::Engine(format!("synthesis thread failed: {e}")))?
///     }
/// }
/// ```
///
/// With such engines pick `max_concurrent` near the number of cores.
pub trait Synthesizer: Send + Sync {
    /// Synthesize one request (one attempt).
    fn synthesize(
        &self,
        req: &SynthRequest,
    ) -> impl Future<Output = Result<SynthAudio, SynthError>> + Send;

    /// Identifies the engine beyond the request fields, for cache keys: provider name and base URL
    /// for a service, engine and model file (path and size or hash) for a local voice. Two engines
    /// that could return different audio for the same request must return different signatures.
    fn cache_signature(&self) -> String;

    /// What this engine accepts.
    fn limits(&self) -> Limits;

    /// How many requests the service says this account may have in flight, once it has told us
    /// (ElevenLabs reports it in response headers). The batch runner never exceeds it.
    fn concurrency_hint(&self) -> Option<usize> {
        None
    }

    /// True when asking for `speed` makes the voice itself speak faster (a local voice's
    /// `length_scale`), rather than a service's post-processing; the synth stage then asks for a
    /// second take at the speed a line needs instead of stretching the first one.
    fn native_speed(&self) -> bool {
        false
    }
}

/// Why one synthesis attempt failed, classified for the batch runner: retry, stop, or give up.
#[derive(Debug, Clone, thiserror::Error)]
pub enum SynthError {
    /// HTTP 429: too many requests or too many in flight. Retried; also lowers the adaptive limit.
    #[error("{provider} is rate limiting (HTTP 429){}: {message}", fmt_after(.retry_after))]
    RateLimited {
        provider: &'static str,
        message: String,
        retry_after: Option<Duration>,
    },
    /// HTTP 5xx (and 408): the service failed this time. Retried.
    #[error("{provider} failed (HTTP {status}){}: {message}", fmt_after(.retry_after))]
    Server {
        provider: &'static str,
        status: u16,
        message: String,
        retry_after: Option<Duration>,
    },
    /// No answer within the per-request timeout. Retried.
    #[error("no answer within {0:?}")]
    Timeout(Duration),
    /// Could not connect, or the connection broke while sending or receiving. Retried.
    #[error("connection to {provider} failed: {message}")]
    Connection {
        provider: &'static str,
        message: String,
    },
    /// The body was not valid audio (truncated, empty, not a WAV). Retried.
    #[error("invalid audio: {message}")]
    InvalidAudio { message: String },
    /// HTTP 401/403: the key is missing, wrong or lacks permission. Stops the run.
    #[error("{provider} refused the credentials (HTTP {status}): {message}. Check {setting}.")]
    Unauthorized {
        provider: &'static str,
        status: u16,
        message: String,
        /// The setting to fix, e.g. `OPENAI_API_KEY`.
        setting: &'static str,
    },
    /// HTTP 400/404/422: the service rejected the request itself (unknown voice or model, bad
    /// parameter). Retrying cannot help. Stops the run.
    #[error("{provider} rejected the request (HTTP {status}): {message}. Check {setting}.")]
    Rejected {
        provider: &'static str,
        status: u16,
        message: String,
        /// The setting to fix, e.g. `the voice (--voice)`.
        setting: String,
    },
    /// The engine is misconfigured or the request asks for something it cannot do (a missing API
    /// key, an unsupported speed or format). Stops the run.
    #[error("{0}")]
    Config(String),
    /// A local engine failed on this input. Not retried; the line fails, the run goes on.
    #[error("{0}")]
    Engine(String),
}

fn fmt_after(after: &Option<Duration>) -> String {
    match after {
        Some(d) => format!(", retry after {:.1} s", d.as_secs_f64()),
        None => String::new(),
    }
}

impl SynthError {
    /// Worth another attempt: rate limits, server errors, timeouts, broken connections, bad bodies.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            SynthError::RateLimited { .. }
                | SynthError::Server { .. }
                | SynthError::Timeout(_)
                | SynthError::Connection { .. }
                | SynthError::InvalidAudio { .. }
        )
    }

    /// No request of the run can succeed until a setting is fixed: the run stops at once.
    pub fn is_fatal(&self) -> bool {
        matches!(
            self,
            SynthError::Unauthorized { .. } | SynthError::Rejected { .. } | SynthError::Config(_)
        )
    }

    /// How long the service asked us to wait (`Retry-After`, `retry-after-ms`).
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            SynthError::RateLimited { retry_after, .. }
            | SynthError::Server { retry_after, .. } => *retry_after,
            _ => None,
        }
    }
}
