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

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::Segment;
use crate::llm::edit::CHARS_PER_TOKEN;
use crate::llm::{EditOptions, Glossary, Translation, estimate_tokens};

/// Characters of text spoken per minute (about 150 words of English), to turn text into audio
/// minutes before any audio exists.
pub const SPEECH_CHARS_PER_MINUTE: f64 = 900.0;

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
            free_providers: [
                "local",
                "espeak",
                "espeak-ng",
                "piper",
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

impl StageCost {
    fn quantity(&self) -> String {
        let u = &self.usage;
        match self.kind {
            EngineKind::Stt => format!("{:.1} min of audio", u.minutes),
            EngineKind::Chat => format!(
                "{} in + {} out tokens",
                thousands(u.input_tokens),
                thousands(u.output_tokens)
            ),
            EngineKind::Tts => format!("{} chars (~{:.1} min)", thousands(u.chars), u.minutes),
        }
    }
}

/// Cost per stage and in total.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Estimate {
    pub stages: Vec<StageCost>,
}

impl Estimate {
    /// Sum of the stages with a known price, in US dollars.
    pub fn total_usd(&self) -> f64 {
        self.stages.iter().filter_map(|s| s.usd).sum()
    }

    /// Stages whose engine has no known price (the total leaves them out).
    pub fn unpriced(&self) -> impl Iterator<Item = &StageCost> {
        self.stages.iter().filter(|s| s.usd.is_none())
    }

    /// The cost of the stage named `stage`, if it is in the estimate and priced.
    pub fn stage_usd(&self, stage: &str) -> Option<f64> {
        self.stages
            .iter()
            .find(|s| s.stage == stage)
            .and_then(|s| s.usd)
    }
}

/// A dollar amount: four decimals below $10 (single requests cost fractions of a cent), two above.
pub fn format_usd(usd: f64) -> String {
    if usd.abs() >= 10.0 {
        format!("${usd:.2}")
    } else {
        format!("${usd:.4}")
    }
}

fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A table with one row per stage and the total, costs in `$`.
impl fmt::Display for Estimate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let rows: Vec<[String; 4]> = self
            .stages
            .iter()
            .map(|s| {
                let cost = s.usd.map_or_else(|| "unknown".to_string(), format_usd);
                [s.stage.clone(), s.engine.clone(), s.quantity(), cost]
            })
            .collect();
        let header = ["stage", "engine", "quantity", "cost"].map(String::from);
        let total_label = if self.unpriced().next().is_some() {
            "total (priced stages)"
        } else {
            "total"
        };
        let total = [
            total_label.to_string(),
            String::new(),
            String::new(),
            format_usd(self.total_usd()),
        ];
        let all: Vec<&[String; 4]> = std::iter::once(&header)
            .chain(&rows)
            .chain(std::iter::once(&total))
            .collect();
        let width = |c: usize| all.iter().map(|r| r[c].chars().count()).max().unwrap_or(0);
        let widths = [width(0), width(1), width(2), width(3)];
        let line = |f: &mut fmt::Formatter<'_>, r: &[String; 4]| {
            writeln!(
                f,
                "{:<w0$}  {:<w1$}  {:<w2$}  {:>w3$}",
                r[0],
                r[1],
                r[2],
                r[3],
                w0 = widths[0],
                w1 = widths[1],
                w2 = widths[2],
                w3 = widths[3]
            )
        };
        line(f, &header)?;
        for row in &rows {
            line(f, row)?;
        }
        writeln!(f, "{}", "-".repeat(widths.iter().sum::<usize>() + 6))?;
        line(f, &total)?;
        for s in self.unpriced() {
            writeln!(
                f,
                "no price known for {} ({}); add [{}.\"{}\"] to a price file",
                s.engine,
                s.stage,
                match s.kind {
                    EngineKind::Stt => "stt",
                    EngineKind::Chat => "chat",
                    EngineKind::Tts => "tts",
                },
                s.engine
            )?;
        }
        Ok(())
    }
}

/// What a run will do, for [`estimate`].
#[derive(Debug, Clone)]
pub struct RunPlan<'a> {
    /// The lines, when subtitles exist; without them text is estimated from the audio length.
    pub segments: Option<&'a [Segment]>,
    /// Length of the video's audio.
    pub audio_ms: u64,
    /// Transcription engine, when the run transcribes.
    pub stt: Option<Engine>,
    /// Chat engine for polish and translation.
    pub chat: Option<Engine>,
    pub polish: bool,
    /// Target language, when the run translates.
    pub translate_to: Option<String>,
    /// Voice engine, when the run synthesizes.
    pub tts: Option<Engine>,
    /// Batching of chat requests (changes the context sent, so the input tokens).
    pub edit_options: EditOptions,
}

/// Spoken characters of `segments`.
pub fn spoken_chars(segments: &[Segment]) -> u64 {
    segments
        .iter()
        .map(|s| s.spoken_text().chars().count() as u64)
        .sum()
}

/// Stand-in lines for a transcript not made yet: `audio_ms` of speech at
/// [`SPEECH_CHARS_PER_MINUTE`], in lines of 60 characters (four-letter words).
fn assumed_segments(audio_ms: u64) -> Vec<Segment> {
    const LINE_CHARS: usize = 60;
    let words = |n: usize| -> String {
        (0..n)
            .map(|k| if k % 5 == 4 && k + 1 != n { ' ' } else { 'w' })
            .collect()
    };
    let mut chars = (audio_ms as f64 / 60_000.0 * SPEECH_CHARS_PER_MINUTE).round() as usize;
    let mut segments = Vec::new();
    let mut start = 0u64;
    while chars > 0 {
        let n = chars.min(LINE_CHARS);
        segments.push(Segment::new(start, start + 4000, words(n)));
        chars -= n;
        start += 4000;
    }
    segments
}

/// The cost per stage of `plan` at `prices`: transcribe (audio minutes), polish and translate
/// (tokens of the very requests the editor would send), synthesize (spoken characters, with the
/// audio minutes and input tokens some TTS models bill by).
pub fn estimate(plan: &RunPlan<'_>, prices: &PriceTable) -> Estimate {
    let assumed;
    let segments = match plan.segments {
        Some(s) => s,
        None => {
            assumed = assumed_segments(plan.audio_ms);
            &assumed
        }
    };
    let mut stages = Vec::new();
    if let Some(stt) = &plan.stt {
        let usage = Usage {
            minutes: plan.audio_ms as f64 / 60_000.0,
            ..Usage::default()
        };
        stages.push(prices.stage("transcribe", EngineKind::Stt, stt, usage));
    }
    if let Some(chat) = &plan.chat {
        let mut chat_stage = |name: &str, translation: Option<&Translation>| {
            let tokens = estimate_tokens(segments, &plan.edit_options, translation);
            let usage = Usage {
                input_tokens: tokens.input,
                output_tokens: tokens.output,
                ..Usage::default()
            };
            stages.push(prices.stage(name, EngineKind::Chat, chat, usage));
        };
        if plan.polish {
            chat_stage("polish", None);
        }
        if let Some(target) = &plan.translate_to {
            let translation = Translation {
                target_language: target.clone(),
                source_language: None,
                glossary: Glossary::default(),
            };
            chat_stage("translate", Some(&translation));
        }
    }
    if let Some(tts) = &plan.tts {
        let chars = spoken_chars(segments);
        let usage = Usage {
            chars,
            minutes: chars as f64 / SPEECH_CHARS_PER_MINUTE,
            input_tokens: chars.div_ceil(CHARS_PER_TOKEN),
            output_tokens: 0,
        };
        stages.push(prices.stage("synthesize", EngineKind::Tts, tts, usage));
    }
    Estimate { stages }
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

    #[test]
    fn money_and_counts_are_formatted() {
        assert_eq!(format_usd(0.3), "$0.3000");
        assert_eq!(format_usd(0.000_16), "$0.0002");
        assert_eq!(format_usd(12.345), "$12.35");
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(1_234_567), "1,234,567");
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
