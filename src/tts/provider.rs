//! What a TTS provider is, as one value: [`Provider`] says its name on the command line and in
//! cast files, its default model and voice, the key variable it reads, the speeds it accepts, the
//! voices automatic casting may give (with their registers), the key its price is listed under,
//! and how to build it ([`EngineSpec`] in, [`AnyEngine`] out). [`EngineKind`] names one.
//!
//! Contract: plain data and function pointers, no I/O of its own; the registry
//! ([`super::registry`]) lists the providers, and the CLI, the cast, the cost estimate and `.env`
//! handling read them from there.
//!
//! Why separate from the registry: the providers' files describe themselves with these types,
//! and the registry lists those files; neither needs the other back.

use std::fmt;
use std::ops::RangeInclusive;
use std::path::{Path, PathBuf};

use super::error::SynthError;
use super::providers::AnyEngine;
use crate::models::DataDir;

/// What voices are measured speaking: long enough for a stable median, neutral in tone.
pub const REFERENCE_SENTENCE: &str =
    "Good morning. Today we will talk about the weather, the river and a long walk home.";

/// One TTS provider: everything the rest of dubber knows about it. See the module doc, and
/// [`super::registry`] for how to add one.
pub struct Provider {
    /// Its name in `--tts`, cast files (`engine = "..."`), voice ids (`name:voice`) and reports.
    pub name: &'static str,
    /// One line for `--help`.
    pub about: &'static str,
    /// The model when the flags and the cast name none (local voices: the engine's name).
    pub default_model: &'static str,
    /// The voice when the flags name none.
    pub default_voice: &'static str,
    /// The environment variable holding its API key, when it needs one.
    pub key_var: Option<&'static str>,
    /// The environment variable naming its server, when it reads one (a server on this machine
    /// costs nothing).
    pub base_url_var: Option<&'static str>,
    /// Other settings it reads from the environment that a `.env` file may hold (servers, voice
    /// choices); never a path code is loaded from.
    pub env_settings: &'static [&'static str],
    /// True when it runs on this machine (costs nothing, needs no network).
    pub local: bool,
    /// The speeds it speaks at (1.0 = the voice's natural rate).
    pub speed: RangeInclusive<f64>,
    /// The voices automatic casting chooses from.
    pub voices: VoicePool,
    /// Providers whose voices continue this one's pool when it runs short (Piper's goes on with
    /// espeak-ng's), chosen only when much closer to a speaker.
    pub pool_with: &'static [&'static str],
    /// The language a voice name tells (`en_US-joe-medium` → `en`), when it tells one.
    pub voice_language: fn(&str) -> Option<&str>,
    /// How to get more voices for a language, for warnings; `None`: name voices in cast.toml.
    pub more_voices: Option<fn(&str) -> String>,
    /// The voice as a cast names it, when that differs from the name given (Piper's `default`
    /// is a file in the data dir); `None`: the name given.
    pub resolve_voice: fn(&EngineSpec<'_>) -> Option<String>,
    /// The provider part of its price keys (`openai` in `openai/tts-1`).
    pub price_key: &'static str,
    /// Builds the engine.
    pub build: fn(&EngineSpec<'_>) -> Result<AnyEngine, SynthError>,
}

impl Provider {
    /// The voice `spec` names, as a cast and reports name it.
    pub fn voice_name(&self, spec: &EngineSpec<'_>) -> String {
        (self.resolve_voice)(spec)
            .unwrap_or_else(|| spec.voice.unwrap_or(self.default_voice).to_string())
    }

    /// How to get more voices of this provider in `language`.
    pub fn how_to_get_more(&self, language: &str) -> String {
        match self.more_voices {
            Some(hint) => hint(language),
            None => "name voices in cast.toml".to_string(),
        }
    }
}

impl fmt::Debug for Provider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Provider")
            .field("name", &self.name)
            .finish()
    }
}

/// A voice name that tells no language.
pub fn no_language(_voice: &str) -> Option<&str> {
    None
}

/// A voice that is its own name in casts.
pub fn voice_as_given(_spec: &EngineSpec<'_>) -> Option<String> {
    None
}

/// What building an engine needs besides the provider.
#[derive(Debug, Clone, Copy, Default)]
pub struct EngineSpec<'a> {
    /// The voice; `None` is the provider's default (which may come from the environment).
    pub voice: Option<&'a str>,
    /// The server, when the flags name one for this provider (`--base-url`).
    pub base_url: Option<&'a str>,
    /// Where models live, for local voices; `None` when the environment names no data dir.
    pub data: Option<&'a DataDir>,
}

/// The voices of a provider automatic casting may give, and their registers (median pitch, Hz).
#[derive(Debug, Clone, Copy)]
pub enum VoicePool {
    /// A fixed table of (voice, approximate register): services, where measuring costs money.
    Table(&'static [(&'static str, f64)]),
    /// Voices listed and measured on this machine (speaking [`REFERENCE_SENTENCE`]).
    Measured(ListVoices),
}

/// Lists and measures a provider's voices: (voice, register in Hz).
pub type ListVoices = fn(&PoolQuery<'_>) -> Result<Vec<(String, f64)>, MeasureError>;

/// What listing a provider's voices for casting may need.
#[derive(Debug, Clone, Copy)]
pub struct PoolQuery<'a> {
    /// The dub's language, ISO 639-1 (`en`).
    pub language: &'a str,
    /// The installed Piper voices (`.onnx` files).
    pub piper_voices: &'a [PathBuf],
    /// Where measured registers are kept (a JSON object: signature → Hz).
    pub register_cache: Option<&'a Path>,
}

/// A voice whose register could not be measured.
#[derive(Debug, Clone, thiserror::Error)]
#[error("cannot measure the register of voice {voice}: {message}")]
pub struct MeasureError {
    pub voice: String,
    pub message: String,
}

/// A provider, by name: what cast entries, voice ids and the flags hold. Two are equal when they
/// name the same provider.
#[derive(Clone, Copy)]
pub struct EngineKind(&'static Provider);

impl EngineKind {
    /// The kind of `provider`.
    pub const fn of(provider: &'static Provider) -> Self {
        Self(provider)
    }

    /// The name cast files, flags and reports use.
    pub fn name(self) -> &'static str {
        self.0.name
    }

    /// What the provider is.
    pub fn provider(self) -> &'static Provider {
        self.0
    }

    /// True for the engines that run on this machine.
    pub fn is_local(self) -> bool {
        self.0.local
    }
}

impl PartialEq for EngineKind {
    fn eq(&self, other: &Self) -> bool {
        self.name() == other.name()
    }
}

impl Eq for EngineKind {}

impl std::hash::Hash for EngineKind {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.name().hash(state);
    }
}

impl PartialOrd for EngineKind {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for EngineKind {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.name().cmp(other.name())
    }
}

impl fmt::Debug for EngineKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "EngineKind({})", self.name())
    }
}

impl fmt::Display for EngineKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
