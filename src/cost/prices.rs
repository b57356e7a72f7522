//! Prices: a table of rates per engine, with built-in list prices and a user's price file.
//!
//! Takes an engine kind and a `provider/model` and returns its [`Price`] (exact key, then
//! `provider/*`, then $0 for a local provider), or `None` when nothing is known, so that an
//! estimate says "unknown" rather than guessing. The built-in table ([`PriceTable::default`])
//! holds list prices in US dollars, and a user overrides or adds entries from a TOML or JSON file
//! ([`PriceTable::with_overrides`], format in the [module overview](super)), whose rates are
//! checked to be finite and not negative.
//!
//! Separate because prices change on their own schedule and come from files, while what a run
//! consumes is computed in `estimate`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::{Engine, EngineKind, StageCost, Usage};

/// Errors reading a price file.
#[derive(Debug, thiserror::Error)]
pub enum CostError {
    #[error("price file {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("price file {path}: {message}")]
    Parse { path: PathBuf, message: String },
}

/// Rates of one engine in US dollars; units it does not bill by are 0.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Price {
    #[serde(default)]
    pub per_million_chars: f64,
    #[serde(default)]
    pub per_minute: f64,
    #[serde(default)]
    pub input_per_million_tokens: f64,
    #[serde(default)]
    pub output_per_million_tokens: f64,
}

impl Price {
    const fn chars(per_million: f64) -> Self {
        Self {
            per_million_chars: per_million,
            per_minute: 0.0,
            input_per_million_tokens: 0.0,
            output_per_million_tokens: 0.0,
        }
    }

    const fn minutes(per_minute: f64) -> Self {
        Self {
            per_million_chars: 0.0,
            per_minute,
            input_per_million_tokens: 0.0,
            output_per_million_tokens: 0.0,
        }
    }

    const fn tokens(input: f64, output: f64) -> Self {
        Self {
            per_million_chars: 0.0,
            per_minute: 0.0,
            input_per_million_tokens: input,
            output_per_million_tokens: output,
        }
    }

    /// The cost of `usage` at these rates.
    pub fn cost(&self, usage: &Usage) -> f64 {
        usage.chars as f64 * self.per_million_chars / 1e6
            + usage.minutes * self.per_minute
            + usage.input_tokens as f64 * self.input_per_million_tokens / 1e6
            + usage.output_tokens as f64 * self.output_per_million_tokens / 1e6
    }
}

/// Prices per engine kind, keyed `provider/model` or `provider/*`, and the providers that run
/// locally for free.
#[derive(Debug, Clone, PartialEq)]
pub struct PriceTable {
    pub stt: BTreeMap<String, Price>,
    pub chat: BTreeMap<String, Price>,
    pub tts: BTreeMap<String, Price>,
    pub free_providers: BTreeSet<String>,
}

/// The part of a price file that changes the table.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct PriceOverrides {
    #[serde(default)]
    stt: BTreeMap<String, Price>,
    #[serde(default)]
    chat: BTreeMap<String, Price>,
    #[serde(default)]
    tts: BTreeMap<String, Price>,
    #[serde(default)]
    free_providers: Vec<String>,
}

impl Default for PriceTable {
    /// List prices in US dollars, late 2025.
    fn default() -> Self {
        let entries = |list: &[(&str, Price)]| -> BTreeMap<String, Price> {
            list.iter().map(|(k, p)| (k.to_string(), *p)).collect()
        };
        Self {
            stt: entries(&[
                ("openai/whisper-1", Price::minutes(0.006)),
                ("openai/gpt-4o-transcribe", Price::minutes(0.006)),
                ("openai/gpt-4o-mini-transcribe", Price::minutes(0.003)),
            ]),
            chat: entries(&[
                ("openai/gpt-4o-mini", Price::tokens(0.15, 0.60)),
                ("openai/gpt-4o", Price::tokens(2.50, 10.00)),
                ("openai/gpt-4.1", Price::tokens(2.00, 8.00)),
                ("openai/gpt-4.1-mini", Price::tokens(0.40, 1.60)),
                ("openai/gpt-4.1-nano", Price::tokens(0.10, 0.40)),
            ]),
            tts: entries(&[
                ("openai/tts-1", Price::chars(15.0)),
                ("openai/tts-1-hd", Price::chars(30.0)),
                // $0.60 per 1M text tokens in, $12 per 1M audio tokens out ≈ $0.015 per minute.
                (
                    "openai/gpt-4o-mini-tts",
                    Price {
                        per_minute: 0.015,
                        input_per_million_tokens: 0.60,
                        ..Price::default()
                    },
                ),
                // API list prices per 1k characters: $0.10 multilingual, $0.05 flash/turbo.
                ("elevenlabs/*", Price::chars(100.0)),
                ("elevenlabs/eleven_multilingual_v2", Price::chars(100.0)),
                ("elevenlabs/eleven_v3", Price::chars(100.0)),
                ("elevenlabs/eleven_flash_v2_5", Price::chars(50.0)),
                ("elevenlabs/eleven_turbo_v2_5", Price::chars(50.0)),
            ]),
            // Engines on this machine, and the registry's local TTS providers (Piper, espeak-ng,
            // any registered one).
            free_providers: [
                "local",
                "espeak-ng",
                "kokoro",
                "whisper-local",
                "whisper.cpp",
                "ct2",
                "ollama",
                "lmstudio",
                "vllm",
                "localai",
                "llama.cpp",
                "none",
            ]
            .into_iter()
            .chain(
                crate::tts::registry::all()
                    .into_iter()
                    .filter(|p| p.local)
                    .map(|p| p.price_key),
            )
            .map(String::from)
            .collect(),
        }
    }
}

impl PriceTable {
    /// The built-in table with the entries of the price file at `path` (TOML, or JSON when the
    /// name ends in `.json`) replacing or adding to it.
    pub fn with_overrides(path: &Path) -> Result<Self, CostError> {
        let text = std::fs::read_to_string(path).map_err(|source| CostError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let mut table = Self::default();
        table.apply(&text, path)?;
        Ok(table)
    }

    /// Applies price-file text; `path` tells the format (`.json` or TOML) and labels errors.
    pub fn apply(&mut self, text: &str, path: &Path) -> Result<(), CostError> {
        let parse_error = |message: String| CostError::Parse {
            path: path.to_path_buf(),
            message,
        };
        let is_json = path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("json"));
        let overrides: PriceOverrides = if is_json {
            let mut value: serde_json::Value =
                serde_json::from_str(text).map_err(|e| parse_error(e.to_string()))?;
            if let Some(prices) = value.get_mut("prices") {
                value = prices.take();
            }
            serde_json::from_value(value).map_err(|e| parse_error(e.to_string()))?
        } else {
            let mut table: toml::Table =
                toml::from_str(text).map_err(|e| parse_error(e.to_string()))?;
            let value = match table.remove("prices") {
                Some(prices) => prices,
                None => toml::Value::Table(table),
            };
            value
                .try_into()
                .map_err(|e: toml::de::Error| parse_error(e.to_string()))?
        };
        for (kind, entries) in [
            (&mut self.stt, overrides.stt),
            (&mut self.chat, overrides.chat),
            (&mut self.tts, overrides.tts),
        ] {
            for (key, price) in entries {
                for (unit, rate) in [
                    ("per_million_chars", price.per_million_chars),
                    ("per_minute", price.per_minute),
                    ("input_per_million_tokens", price.input_per_million_tokens),
                    ("output_per_million_tokens", price.output_per_million_tokens),
                ] {
                    if !rate.is_finite() || rate < 0.0 {
                        return Err(parse_error(format!(
                            "{key}: {unit} must be a price of 0 or more, not {rate}"
                        )));
                    }
                }
                kind.insert(key.to_ascii_lowercase(), price);
            }
        }
        self.free_providers.extend(
            overrides
                .free_providers
                .into_iter()
                .map(|p| p.to_ascii_lowercase()),
        );
        Ok(())
    }

    /// The price of `engine` for `kind`: exact key, then `provider/*`, then $0 for a local
    /// provider; `None` when nothing is known.
    pub fn price(&self, kind: EngineKind, engine: &Engine) -> Option<Price> {
        let list = match kind {
            EngineKind::Stt => &self.stt,
            EngineKind::Chat => &self.chat,
            EngineKind::Tts => &self.tts,
        };
        let provider = engine.provider.to_ascii_lowercase();
        let model = engine.model.to_ascii_lowercase();
        list.get(&format!("{provider}/{model}"))
            .or_else(|| list.get(&format!("{provider}/*")))
            .copied()
            .or_else(|| self.free_providers.contains(&provider).then(Price::default))
    }

    /// The cost line of one stage.
    pub fn stage(&self, stage: &str, kind: EngineKind, engine: &Engine, usage: Usage) -> StageCost {
        let usd = self.price(kind, engine).map(|p| p.cost(&usage));
        StageCost {
            stage: stage.to_string(),
            kind,
            engine: engine.to_string(),
            usage,
            usd,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookup_prefers_exact_then_wildcard_then_free() {
        let t = PriceTable::default();
        let p = |kind, provider: &str, model: &str| t.price(kind, &Engine::new(provider, model));
        assert_eq!(
            p(EngineKind::Tts, "openai", "tts-1"),
            Some(Price::chars(15.0))
        );
        assert_eq!(
            p(EngineKind::Tts, "OpenAI", "TTS-1-HD"),
            Some(Price::chars(30.0))
        );
        assert_eq!(
            p(EngineKind::Tts, "elevenlabs", "eleven_flash_v2_5"),
            Some(Price::chars(50.0))
        );
        assert_eq!(
            p(EngineKind::Tts, "elevenlabs", "some_new_model"),
            Some(Price::chars(100.0))
        );
        assert_eq!(
            p(EngineKind::Tts, "piper", "en_US-lessac"),
            Some(Price::default())
        );
        assert_eq!(p(EngineKind::Tts, "openai", "tts-9"), None);
        assert_eq!(p(EngineKind::Stt, "openai", "tts-1"), None);
    }

    #[test]
    fn bad_price_files_are_reported_with_the_path() {
        let mut t = PriceTable::default();
        let e = t
            .apply(
                "[tts.\"openai/tts-1\"]\nper_milion_chars = 1\n",
                Path::new("p.toml"),
            )
            .unwrap_err();
        assert!(e.to_string().starts_with("price file p.toml:"), "{e}");
        assert!(e.to_string().contains("per_milion_chars"), "{e}");
        let e = t
            .apply(
                r#"{"tts": {"x/y": {"per_minute": -1}}}"#,
                Path::new("p.json"),
            )
            .unwrap_err();
        assert!(
            e.to_string().contains("must be a price of 0 or more"),
            "{e}"
        );
    }
}
