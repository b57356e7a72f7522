//! The voices automatic casting chooses from, per engine, each with its register (median pitch).
//!
//! - **piper**: the installed Piper voices of the dub's language, each measured once by speaking
//!   a reference sentence (the measurement is cached in the data dir, keyed by the voice's cache
//!   signature, so a replaced model is measured again). Usually only one is installed, so the
//!   pool goes on with espeak-ng variants; casting warns when a speaker gets one.
//! - **espeak**: the language's espeak-ng voice with a handful of clearly distinct variants of
//!   both registers, measured the same way (espeak-ng is fast; not cached).
//! - **openai**, **elevenlabs**: tables of the services' voices with approximate registers (by
//!   ear and from the services' descriptions; a table, since measuring would cost money).
//!
//! Each provider says which (its [`crate::tts::Provider::voices`]); this module only gathers
//! them into candidates. Why separate: which voices exist and how high they are is knowledge
//! about engines; matching them to speakers ([`super::assign`]) is arithmetic over these numbers.

use std::path::PathBuf;

use super::{CastError, EngineKind, Voice};
use crate::tts::{PoolQuery, VoicePool};

pub use crate::tts::local_voices::{ESPEAK_VARIANTS, PIPER_SUGGESTIONS, espeak_language_voice};
pub use crate::tts::provider::REFERENCE_SENTENCE;

/// A voice automatic casting may give, and how high it is.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    pub voice: Voice,
    /// The voice's median pitch, Hz.
    pub pitch_hz: f64,
    /// Added to the distance when matching (octaves): an espeak-ng variant continuing a Piper
    /// pool is taken over a Piper voice only when it is much closer ([`FALLBACK_PENALTY`]).
    pub penalty: f64,
}

/// How much closer (octaves; a quarter is three semitones) an espeak-ng fallback voice must be
/// to a speaker than a Piper voice to be chosen over it.
pub const FALLBACK_PENALTY: f64 = 0.25;

/// Which pool to build.
#[derive(Debug, Clone)]
pub struct PoolSpec {
    /// The engine of the flags (`--tts`): the pool is its voices.
    pub engine: EngineKind,
    /// The dub's language, ISO 639-1 (`en`).
    pub language: String,
    /// The installed Piper voices (`.onnx` files); those of `language` are used.
    pub piper_voices: Vec<PathBuf>,
    /// Where measured Piper registers are kept (a JSON object: signature → Hz).
    pub register_cache: Option<PathBuf>,
}

/// How to get more voices of `engine` in `language`, for warnings.
pub fn how_to_get_more(engine: EngineKind, language: &str) -> String {
    engine.provider().how_to_get_more(language)
}

/// The engines whose voices the pool of `engine` holds: its own, then those its provider goes
/// on with (Piper's goes on with espeak-ng's).
pub fn pool_engines(engine: EngineKind) -> Vec<EngineKind> {
    std::iter::once(engine)
        .chain(
            engine
                .provider()
                .pool_with
                .iter()
                .filter_map(|name| EngineKind::parse(name)),
        )
        .collect()
}

/// The voices of `engine` alone, with their registers.
fn own_pool(engine: EngineKind, spec: &PoolSpec) -> Result<Vec<Candidate>, CastError> {
    let query = PoolQuery {
        language: &spec.language,
        piper_voices: &spec.piper_voices,
        register_cache: spec.register_cache.as_deref(),
    };
    let voices = match engine.provider().voices {
        VoicePool::Table(table) => table.iter().map(|(v, hz)| (v.to_string(), *hz)).collect(),
        VoicePool::Measured(list) => list(&query)?,
    };
    Ok(voices
        .into_iter()
        .map(|(voice, pitch_hz)| Candidate {
            voice: Voice::new(engine, voice),
            pitch_hz,
            penalty: 0.0,
        })
        .collect())
}

/// The voices automatic casting chooses from for `spec` (see the module doc), in preference
/// order: the engine's own voices before those of the engines that continue its pool.
pub fn voice_pool(spec: &PoolSpec) -> Result<Vec<Candidate>, CastError> {
    let mut pool = Vec::new();
    for (i, engine) in pool_engines(spec.engine).into_iter().enumerate() {
        let penalty = if i == 0 { 0.0 } else { FALLBACK_PENALTY };
        pool.extend(
            own_pool(engine, spec)?
                .into_iter()
                .map(|c| Candidate { penalty, ..c }),
        );
    }
    if pool.is_empty() {
        return Err(CastError::NoVoices {
            engine: spec.engine,
            hint: how_to_get_more(spec.engine, &spec.language),
        });
    }
    Ok(pool)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(name: &str) -> EngineKind {
        EngineKind::parse(name).unwrap()
    }

    fn espeak() -> EngineKind {
        kind("espeak")
    }

    fn spec(engine: EngineKind) -> PoolSpec {
        PoolSpec {
            engine,
            language: "en".into(),
            piper_voices: Vec::new(),
            register_cache: None,
        }
    }

    #[test]
    fn espeak_pool_has_both_registers_measured() {
        let pool = own_pool(espeak(), &spec(espeak())).unwrap();
        assert_eq!(pool.len(), ESPEAK_VARIANTS.len());
        for c in &pool {
            let female = c.voice.voice.contains("+f");
            assert!(
                (female && c.pitch_hz > 150.0) || (!female && c.pitch_hz < 160.0),
                "{} measured {} Hz",
                c.voice.id(),
                c.pitch_hz
            );
        }
    }

    #[test]
    fn service_tables_span_both_registers() {
        for engine in [kind("openai"), kind("elevenlabs")] {
            let pool = voice_pool(&spec(engine)).unwrap();
            assert!(pool.iter().all(|c| c.voice.engine == engine));
            assert_eq!(pool_engines(engine), [engine]);
            assert!(pool.iter().any(|c| c.pitch_hz < 130.0));
            assert!(pool.iter().any(|c| c.pitch_hz > 190.0));
        }
        assert!(how_to_get_more(kind("piper"), "de").contains("de_DE-thorsten-medium"));
    }

    #[test]
    fn a_piper_pool_holds_only_the_engines_it_names() {
        // No Piper voices installed: the pool is espeak-ng's variants, which it names.
        let pool = voice_pool(&spec(kind("piper"))).unwrap();
        assert!(!pool.is_empty());
        for c in &pool {
            assert!(
                pool_engines(kind("piper")).contains(&c.voice.engine),
                "{}",
                c.voice.id()
            );
        }
        assert!(!pool_engines(espeak()).contains(&kind("piper")));
    }
}
