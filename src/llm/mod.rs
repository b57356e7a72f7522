//! Rewriting subtitle lines with a chat model: polish, translate and shorten.
//!
//! Any server that speaks OpenAI's `POST {base}/chat/completions` works (OpenAI, Ollama, vLLM,
//! LM Studio, LocalAI). Models answer in free text, so every reply is treated as untrusted: the JSON
//! in it is located (bare, inside prose, or in a ```` ```json ```` fence), parsed strictly and
//! validated (same number of lines, same ids, budgets kept). An invalid reply is sent back with the
//! validation error for a bounded number of tries, and only replies that passed validation are
//! cached, so a bad answer can never be replayed from the cache.
//!
//! - [`client`]: the [`ChatModel`] trait and [`OpenAiChat`], its HTTP implementation with a
//!   concurrency limit and retries on 429/5xx/timeouts.
//! - [`reply`]: finding and validating JSON in replies.
//! - [`ask`]: the ask → validate → re-ask loop and the reply cache.
//! - [`edit`]: the operations on segments: [`LineEditor::polish`], [`LineEditor::translate`],
//!   [`LineEditor::shorten`].
//! - [`glossary`]: terms a translation must keep as given.

pub mod ask;
pub mod client;
pub mod edit;
pub mod glossary;
pub mod reply;

pub use ask::{ReplyCache, ask_validated};
pub use client::{ChatConfig, ChatMessage, ChatModel, OpenAiChat, Role};
pub use edit::{EditOptions, LineEditor, TokenEstimate, Translation, char_budget, estimate_tokens};
pub use glossary::Glossary;

use std::path::PathBuf;

/// Longest part of a model reply quoted in an error message.
const MAX_QUOTED_REPLY_CHARS: usize = 4000;

/// What can go wrong when talking to a chat model.
#[derive(Debug, thiserror::Error)]
pub enum LlmError {
    /// The client could not be set up (bad URL, missing model name, zero budget).
    #[error("chat model configuration: {0}")]
    Config(String),
    /// The request kept failing with errors that usually pass (429, 5xx, timeouts).
    #[error("chat request to {url} failed after {attempts} attempts: {message}")]
    Unavailable {
        url: String,
        attempts: u32,
        message: String,
    },
    /// The server refused the request (4xx other than 408/429): retrying would not help.
    #[error("chat request to {url} was refused with HTTP {status}: {body}")]
    Refused {
        url: String,
        status: u16,
        body: String,
    },
    /// The server answered 200 but not in the chat-completions format.
    #[error("chat response from {url} is not a chat completion: {message}; body: {body}")]
    BadResponse {
        url: String,
        message: String,
        body: String,
    },
    /// The model's reply failed validation on every try.
    #[error(
        "the model's reply for {task} was invalid after {attempts} tries: {error}\n--- last reply ---\n{reply}\n--- end of reply ---"
    )]
    InvalidReply {
        task: String,
        attempts: usize,
        error: String,
        reply: String,
    },
    /// Reading or writing the reply cache failed.
    #[error("reply cache {path}: {source}")]
    Cache {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The glossary file could not be read or has a malformed line.
    #[error("glossary {path}{}: {message}", line.map(|l| format!(":{l}")).unwrap_or_default())]
    Glossary {
        path: PathBuf,
        line: Option<usize>,
        message: String,
    },
}

/// A reply cut to a length that fits in an error message.
pub(crate) fn quote_reply(reply: &str) -> String {
    if reply.chars().count() <= MAX_QUOTED_REPLY_CHARS {
        reply.to_string()
    } else {
        let cut: String = reply.chars().take(MAX_QUOTED_REPLY_CHARS).collect();
        format!(
            "{cut}… [{} more characters]",
            reply.chars().count() - MAX_QUOTED_REPLY_CHARS
        )
    }
}
