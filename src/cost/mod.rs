//! What a run will cost before it spends anything: characters, audio minutes and tokens per
//! stage, priced from a table.
//!
//! Paid engines bill by different units (TTS by characters or audio, transcription by minutes,
//! chat by tokens), so a [`Price`] has one rate per unit and a stage's cost is the sum over the
//! units it uses. The built-in table ([`PriceTable::default`]) holds list prices in US dollars
//! (late 2025; plans and discounts differ, ElevenLabs' especially), and a user overrides or adds
//! entries from a TOML or JSON file ([`PriceTable::with_overrides`]):
//!
//! ```toml
//! # Keys are "provider/model"; "provider/*" covers every model of a provider.
//! # An entry replaces the built-in one of the same key entirely.
//! free_providers = ["my-gpu-box"]          # added to the built-in list of local engines
//!
//! [tts."openai/tts-1"]
//! per_million_chars = 15.0
//!
//! [tts."openai/gpt-4o-mini-tts"]
//! input_per_million_tokens = 0.60
//! per_minute = 0.015                       # audio out, about $12 per 1M audio tokens
//!
//! [stt."openai/whisper-1"]
//! per_minute = 0.006
//!
//! [chat."openai/gpt-4o-mini"]
//! input_per_million_tokens = 0.15
//! output_per_million_tokens = 0.60
//! ```
//!
//! The same tables may sit under a `[prices]` table (or `"prices"` key) of a larger config file.
//! Local engines cost $0. Quantities not yet known are estimated: speech at
//! [`SPEECH_CHARS_PER_MINUTE`] and [`crate::llm::edit::CHARS_PER_TOKEN`].
//!
//! This module holds the vocabulary the parts share (engines, usage, one stage's cost); the parts
//! depend on each other one way only:
//!
//! - `prices`: the price table, its built-in list prices and the user's price file;
//! - `estimate`: what a run consumes per stage, priced with `prices`;
//! - `format`: the estimate as a table for people (uses `estimate`).

mod estimate;
mod format;
mod prices;

pub use estimate::{Estimate, RunPlan, SPEECH_CHARS_PER_MINUTE, estimate, spoken_chars};
pub use format::format_usd;
pub use prices::{CostError, Price, PriceTable};

use std::fmt;

/// What a stage consumes, in every unit an engine may bill by.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Usage {
    pub chars: u64,
    pub minutes: f64,
    pub input_tokens: u64,
    pub output_tokens: u64,
}

/// The kind of engine a stage runs on; each has its own price list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum EngineKind {
    /// Speech to text, billed by audio minutes.
    Stt,
    /// Chat model, billed by tokens.
    Chat,
    /// Text to speech, billed by characters, tokens or audio minutes.
    Tts,
}

/// A provider and model, as `provider/model` in price keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Engine {
    pub provider: String,
    pub model: String,
}

impl Engine {
    pub fn new(provider: impl Into<String>, model: impl Into<String>) -> Self {
        Self {
            provider: provider.into(),
            model: model.into(),
        }
    }

    /// The provider name to price a chat server by: `openai` for api.openai.com, `local` for
    /// localhost addresses (Ollama, LM Studio, …), else the host name (which has no built-in price,
    /// so the estimate says the cost is unknown rather than guessing $0).
    pub fn chat_provider_for(base_url: &str) -> String {
        let host = base_url
            .split("://")
            .nth(1)
            .unwrap_or(base_url)
            .split(['/', '?'])
            .next()
            .unwrap_or_default();
        let host = if host.starts_with('[') {
            host.split(']')
                .next()
                .map(|h| format!("{h}]"))
                .unwrap_or_default()
        } else {
            host.split(':').next().unwrap_or_default().to_string()
        };
        match host.to_ascii_lowercase().as_str() {
            "api.openai.com" => "openai".into(),
            "localhost" | "127.0.0.1" | "[::1]" | "0.0.0.0" => "local".into(),
            other => other.to_string(),
        }
    }
}

impl fmt::Display for Engine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.provider, self.model)
    }
}

/// One row of an estimate.
#[derive(Debug, Clone, PartialEq)]
pub struct StageCost {
    /// "transcribe", "polish", "translate", "synthesize".
    pub stage: String,
    pub kind: EngineKind,
    /// `provider/model`.
    pub engine: String,
    pub usage: Usage,
    /// US dollars; `None` when the table has no price for the engine.
    pub usd: Option<f64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chat_provider_follows_the_base_url() {
        assert_eq!(
            Engine::chat_provider_for("https://api.openai.com/v1"),
            "openai"
        );
        assert_eq!(
            Engine::chat_provider_for("http://localhost:11434/v1"),
            "local"
        );
        assert_eq!(Engine::chat_provider_for("http://127.0.0.1:8080"), "local");
        assert_eq!(Engine::chat_provider_for("http://[::1]:8080/v1"), "local");
        assert_eq!(
            Engine::chat_provider_for("https://openrouter.ai/api/v1"),
            "openrouter.ai"
        );
    }
}
