//! The providers dubber knows: the built-in ones ([`super::providers::BUILTIN`]) and any a program
//! adds at run time ([`register`]). The one list of providers: `--tts`, cast files, automatic
//! casting, the cost estimate and the `.env` settings all read it.
//!
//! # Adding a provider
//!
//! 1. **One file**, `src/tts/providers/NAME.rs` (or anywhere, for a program using the library):
//!    a type implementing [`Synthesizer`](super::Synthesizer) (one attempt per call, failures
//!    classified as [`SynthError`](super::SynthError); a service splits long texts with
//!    `split::Remote`), and a `pub static PROVIDER: Provider` saying its name, default model and
//!    voice, key variable, speeds, voice pool with registers, price key and constructor
//!    (`build`, which turns an [`EngineSpec`] into [`AnyEngine::new`]`(engine)`).
//! 2. **One entry**: `mod NAME;` and `&NAME::PROVIDER` in [`super::providers::BUILTIN`] — or, from
//!    outside the crate, [`register`]`(&PROVIDER)` before building engines.
//! 3. A price, for a service: `NAME/MODEL` lines in [`crate::cost::PriceTable`]'s list (a local
//!    provider, `local: true`, is free without any).
//!
//! Nothing else names providers: `dubber synth --tts NAME`, `engine = "NAME"` in cast.toml,
//! automatic casting from its pool, its key in `.env` and its price all follow from the entry.
//! `tests/provider_registry.rs` proves it with a provider in `tests/flite_provider/mod.rs`.
//!
//! Why a registry and not an enum: an enum is one more list every provider must join, in a
//! different module from its file; a table of values keeps a provider in one place.

use std::sync::RwLock;

use super::provider::{EngineKind, Provider};

/// Providers added at run time, after the built-in ones.
static ADDED: RwLock<Vec<&'static Provider>> = RwLock::new(Vec::new());

/// Every provider: the built-in ones in their order, then those [`register`]ed.
pub fn all() -> Vec<&'static Provider> {
    let added = ADDED.read().unwrap_or_else(|p| p.into_inner());
    super::providers::BUILTIN
        .iter()
        .copied()
        .chain(added.iter().copied())
        .collect()
}

/// The provider called `name`.
pub fn find(name: &str) -> Option<&'static Provider> {
    all().into_iter().find(|p| p.name == name)
}

/// Add `provider` to the registry; registering the same provider again is a no-op.
pub fn register(provider: &'static Provider) -> Result<EngineKind, RegistryError> {
    let mut added = ADDED.write().unwrap_or_else(|p| p.into_inner());
    let known = super::providers::BUILTIN
        .iter()
        .chain(added.iter())
        .find(|p| p.name == provider.name)
        .copied();
    match known {
        Some(p) if std::ptr::eq(p, provider) => Ok(EngineKind::of(p)),
        Some(_) => Err(RegistryError::Taken(provider.name)),
        None => {
            added.push(provider);
            Ok(EngineKind::of(provider))
        }
    }
}

/// The names of every provider, as `--tts` takes them.
pub fn names() -> Vec<&'static str> {
    all().into_iter().map(|p| p.name).collect()
}

/// The settings a `.env` file may hold for the providers: their keys and servers.
pub fn env_settings() -> Vec<&'static str> {
    let mut names: Vec<&'static str> = Vec::new();
    for p in all() {
        for name in p
            .key_var
            .iter()
            .chain(&p.base_url_var)
            .chain(p.env_settings)
        {
            if !names.contains(name) {
                names.push(name);
            }
        }
    }
    names
}

impl EngineKind {
    /// The provider called `name` (as [`EngineKind::name`] spells it).
    pub fn parse(name: &str) -> Option<Self> {
        find(name).map(EngineKind::of)
    }

    /// Every provider, in the registry's order.
    pub fn all() -> Vec<Self> {
        all().into_iter().map(EngineKind::of).collect()
    }
}

/// A provider that cannot join the registry.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    #[error("a different TTS provider is already called {0:?}")]
    Taken(&'static str),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_parse_back() {
        let names = names();
        for (i, name) in names.iter().enumerate() {
            assert!(!names[..i].contains(name), "{name} twice");
            assert_eq!(EngineKind::parse(name).map(EngineKind::name), Some(*name));
        }
        assert_eq!(names[..4], ["piper", "espeak", "openai", "elevenlabs"]);
        assert!(EngineKind::parse("nope").is_none());
    }

    #[test]
    fn env_settings_hold_every_key() {
        let settings = env_settings();
        for key in ["OPENAI_API_KEY", "OPENAI_BASE_URL", "ELEVENLABS_API_KEY"] {
            assert!(settings.contains(&key), "{key}");
        }
    }
}
