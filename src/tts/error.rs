//! Why synthesis failed: [`SynthError`] for one attempt at one request, classified so the runner
//! knows whether to retry, stop or give up on the line; [`TtsError`] for what ends a batch or a
//! single call; [`FailedLine`] for a line that failed after all retries.
//!
//! Contract: every error names what to fix when a person can fix it (the setting, the file, the
//! lines). `SynthError::is_retryable`, `is_fatal` and `retry_after` are the whole policy the
//! runner applies; providers only classify.
//!
//! Why separate: the providers, the cache and the runner all return these, so they sit in a leaf
//! module that imports no sibling (the cache and the runner used to import each other only to
//! reach `TtsError`).

use std::path::PathBuf;
use std::time::Duration;

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

/// Errors that end a batch (or a single [`speak`](super::speak)).
#[derive(Debug, thiserror::Error)]
pub enum TtsError {
    /// The service kept answering 429 for one line through its whole budget: the run stops, since
    /// the others are waiting in the same queue.
    #[error(
        "{provider} kept rate limiting (HTTP 429) line {} through {tries} tries; it admits about \
         {admitted} requests at once. Lower --max-concurrent (now {max_concurrent}), raise the \
         account's limit, or run again later: finished lines are cached",
        .index + 1
    )]
    RateLimitedOut {
        provider: &'static str,
        /// 0-based index of the request.
        index: usize,
        tries: u32,
        /// The adaptive limit when the run stopped: what the service let through.
        admitted: usize,
        max_concurrent: usize,
    },
    /// A request failed in a way retrying cannot fix; the run stopped at once.
    #[error("synthesis stopped at line {} ({text:?}): {source}", .index + 1)]
    Fatal {
        /// 0-based index of the request.
        index: usize,
        /// The start of its text.
        text: String,
        source: SynthError,
    },
    /// Cache-only mode (`--no-tts`) and some lines have no clip yet.
    #[error(
        "--no-tts uses cached clips only, but {} of {total} lines are not in the cache {}: {}. \
         Run without --no-tts to synthesize them.",
        .missing.len(), .dir.display(), list_lines(.missing)
    )]
    MissingFromCache {
        dir: PathBuf,
        total: usize,
        /// (0-based index, text) of every missing line.
        missing: Vec<(usize, String)>,
    },
    /// Some lines still failed after all retries (the others were synthesized and cached).
    #[error("{} lines failed after retries: {}", .0.len(), list_failed(.0))]
    Failed(Vec<FailedLine>),
    /// Reading or writing a cache file failed.
    #[error("cache file {}: {source}", .path.display())]
    Cache {
        path: PathBuf,
        source: std::io::Error,
    },
    /// Writing an output file failed.
    #[error("cannot write {}: {source}", .path.display())]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    /// Audio could not be decoded or encoded for `path`.
    #[error("invalid audio for {}: {message}", .path.display())]
    InvalidAudio { path: PathBuf, message: String },
    /// A single request ([`speak`](super::speak)) failed.
    #[error(transparent)]
    Synth(#[from] SynthError),
    /// The arguments do not fit together.
    #[error("{0}")]
    Usage(String),
}

/// The start of `text` for messages: at most 60 characters, trimmed.
pub(crate) fn excerpt(text: &str) -> String {
    const MAX: usize = 60;
    let text = text.trim();
    match text.char_indices().nth(MAX) {
        Some((i, _)) => format!("{}…", &text[..i]),
        None => text.to_string(),
    }
}

fn list_lines(lines: &[(usize, String)]) -> String {
    const SHOWN: usize = 10;
    let mut out: Vec<String> = lines
        .iter()
        .take(SHOWN)
        .map(|(i, t)| format!("line {} {:?}", i + 1, excerpt(t)))
        .collect();
    if lines.len() > SHOWN {
        out.push(format!("and {} more", lines.len() - SHOWN));
    }
    out.join(", ")
}

fn list_failed(lines: &[FailedLine]) -> String {
    lines
        .iter()
        .map(|l| {
            format!(
                "line {} {:?} ({} attempts): {}",
                l.index + 1,
                excerpt(&l.text),
                l.attempts,
                l.error
            )
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// A line that failed after all retries.
#[derive(Debug, Clone)]
pub struct FailedLine {
    /// 0-based index of the request.
    pub index: usize,
    pub text: String,
    pub error: SynthError,
    pub attempts: u32,
}
