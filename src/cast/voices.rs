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
//! Why separate: which voices exist and how high they are is knowledge about engines; matching
//! them to speakers ([`super::assign`]) is arithmetic over these numbers.

use std::collections::BTreeMap;
use std::path::PathBuf;

use super::{CastError, EngineKind, Voice};
use crate::audio::pitch::median_f0;
use crate::local_tts::{EspeakVoice, PiperVoice};

/// What voices are measured speaking: long enough for a stable median, neutral in tone.
pub const REFERENCE_SENTENCE: &str =
    "Good morning. Today we will talk about the weather, the river and a long walk home.";

/// espeak-ng variants in the pool, male then female: clearly distinct from one another.
pub const ESPEAK_VARIANTS: &[&str] = &["m3", "m7", "m1", "f3", "f4", "f1"];

/// OpenAI's voices and their approximate registers (Hz).
pub const OPENAI_VOICES: &[(&str, f64)] = &[
    ("onyx", 95.0),
    ("ash", 110.0),
    ("echo", 120.0),
    ("ballad", 125.0),
    ("verse", 130.0),
    ("fable", 150.0),
    ("alloy", 175.0),
    ("sage", 195.0),
    ("shimmer", 200.0),
    ("coral", 210.0),
    ("nova", 220.0),
];

/// ElevenLabs premade voices (id, name, approximate register in Hz).
pub const ELEVENLABS_VOICES: &[(&str, &str, f64)] = &[
    ("VR6AewLTigWG4xSOukaG", "Arnold", 100.0),
    ("pNInz6obpgDQGcFmaJgB", "Adam", 105.0),
    ("TxGEqnHWrfWFTfGW9XjX", "Josh", 110.0),
    ("ErXwobaYiN019PkySvjV", "Antoni", 120.0),
    ("yoZ06aMxZJJ28mfd3POQ", "Sam", 125.0),
    ("21m00Tcm4TlvDq8ikWAM", "Rachel", 200.0),
    ("EXAVITQu4vr4xnSDxMaL", "Bella", 205.0),
    ("AZnzlk1XvdvUeBnXmlld", "Domi", 215.0),
    ("MF3mGyEYCl7XYWbV9V6O", "Elli", 225.0),
];

/// Piper voices `dubber models fetch` can install, per language: (name, register).
pub const PIPER_SUGGESTIONS: &[(&str, &str, &str)] = &[
    ("en", "en_US-lessac-medium", "female"),
    ("en", "en_US-ryan-medium", "male"),
    ("en", "en_US-amy-medium", "female"),
    ("en", "en_GB-alan-medium", "male"),
    ("de", "de_DE-thorsten-medium", "male"),
    ("de", "de_DE-kerstin-low", "female"),
    ("fr", "fr_FR-tom-medium", "male"),
    ("fr", "fr_FR-siwis-medium", "female"),
    ("es", "es_ES-davefx-medium", "male"),
    ("es", "es_MX-claude-high", "female"),
    ("it", "it_IT-riccardo-x_low", "male"),
    ("it", "it_IT-paola-medium", "female"),
];

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

/// The espeak-ng voice of an ISO 639-1 language (`en` → `en-us`).
pub fn espeak_language_voice(language: &str) -> String {
    match language {
        "en" | "" => "en-us".to_string(),
        other => other.to_string(),
    }
}

/// How to get more voices of `engine` in `language`, for warnings.
pub fn how_to_get_more(engine: EngineKind, language: &str) -> String {
    match engine {
        EngineKind::Piper | EngineKind::Espeak => {
            let names: Vec<String> = PIPER_SUGGESTIONS
                .iter()
                .filter(|(l, _, _)| *l == language)
                .map(|(_, n, r)| format!("{n} ({r})"))
                .collect();
            match names.is_empty() {
                true => "install more Piper voices with `dubber models fetch <voice>` (names at \
                         huggingface.co/rhasspy/piper-voices), or name voices in cast.toml"
                    .to_string(),
                false => format!(
                    "install more Piper voices with `dubber models fetch <voice>`, e.g. {}, or \
                     name voices in cast.toml",
                    names.join(", ")
                ),
            }
        }
        _ => "name voices in cast.toml".to_string(),
    }
}

fn measure(
    voice: &str,
    speak: impl FnOnce() -> Result<(Vec<f32>, u32), String>,
) -> Result<f64, CastError> {
    let err = |message: String| CastError::Measure {
        voice: voice.to_string(),
        message,
    };
    let (samples, rate) = speak().map_err(err)?;
    median_f0(&samples, rate)
        .ok_or_else(|| err("no voiced speech in the reference sentence".into()))
}

fn espeak_pool(language: &str) -> Result<Vec<Candidate>, CastError> {
    let base = espeak_language_voice(language);
    ESPEAK_VARIANTS
        .iter()
        .map(|variant| {
            let name = format!("{base}+{variant}");
            let voice = EspeakVoice::new(&name);
            let pitch_hz = measure(&name, || {
                voice
                    .speak(REFERENCE_SENTENCE, 1.0)
                    .map_err(|e| e.to_string())
            })?;
            Ok(Candidate {
                voice: Voice::new(EngineKind::Espeak, name),
                pitch_hz,
                penalty: 0.0,
            })
        })
        .collect()
}

/// The measured registers cached in `path`.
fn read_registers(path: Option<&PathBuf>) -> BTreeMap<String, f64> {
    path.and_then(|p| std::fs::read(p).ok())
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .unwrap_or_default()
}

fn piper_pool(spec: &PoolSpec) -> Result<Vec<Candidate>, CastError> {
    let prefix = format!("{}_", spec.language);
    let mut registers = read_registers(spec.register_cache.as_ref());
    let mut measured = false;
    let mut pool = Vec::new();
    for path in &spec.piper_voices {
        let Some(name) = path.file_stem().map(|s| s.to_string_lossy().into_owned()) else {
            continue;
        };
        if !name.starts_with(&prefix) {
            continue;
        }
        let voice = PiperVoice::load_shared(path).map_err(|e| CastError::Measure {
            voice: name.clone(),
            message: e.to_string(),
        })?;
        let signature = voice.cache_signature().to_string();
        let pitch_hz = match registers.get(&signature) {
            Some(hz) => *hz,
            None => {
                let hz = measure(&name, || {
                    voice
                        .speak(REFERENCE_SENTENCE, 1.0)
                        .map_err(|e| e.to_string())
                })?;
                tracing::info!("Piper voice {name}: median pitch {hz:.0} Hz (measured once)");
                registers.insert(signature, hz);
                measured = true;
                hz
            }
        };
        pool.push(Candidate {
            voice: Voice::new(EngineKind::Piper, name),
            pitch_hz,
            penalty: 0.0,
        });
    }
    if let (true, Some(cache)) = (measured, &spec.register_cache) {
        // Only a cache: a data dir that cannot be written measures again next time.
        let written = serde_json::to_vec_pretty(&registers)
            .map_err(std::io::Error::other)
            .and_then(|bytes| crate::fsutil::write_atomic(cache, &bytes));
        if let Err(e) = written {
            tracing::debug!(
                "{}: cannot keep the voices' registers: {e}",
                cache.display()
            );
        }
    }
    Ok(pool)
}

/// The engines whose voices the pool of `engine` holds: Piper's goes on with espeak-ng's.
pub fn pool_engines(engine: EngineKind) -> &'static [EngineKind] {
    match engine {
        EngineKind::Piper => &[EngineKind::Piper, EngineKind::Espeak],
        EngineKind::Espeak => &[EngineKind::Espeak],
        EngineKind::OpenAi => &[EngineKind::OpenAi],
        EngineKind::ElevenLabs => &[EngineKind::ElevenLabs],
    }
}

/// The voices automatic casting chooses from for `spec` (see the module doc), in preference
/// order: Piper voices before the espeak-ng variants that continue a Piper pool.
pub fn voice_pool(spec: &PoolSpec) -> Result<Vec<Candidate>, CastError> {
    let pool = match spec.engine {
        EngineKind::Piper => {
            let mut pool = piper_pool(spec)?;
            pool.extend(espeak_pool(&spec.language)?.into_iter().map(|c| Candidate {
                penalty: FALLBACK_PENALTY,
                ..c
            }));
            pool
        }
        EngineKind::Espeak => espeak_pool(&spec.language)?,
        EngineKind::OpenAi => OPENAI_VOICES
            .iter()
            .map(|(v, hz)| Candidate {
                voice: Voice::new(EngineKind::OpenAi, *v),
                pitch_hz: *hz,
                penalty: 0.0,
            })
            .collect(),
        EngineKind::ElevenLabs => ELEVENLABS_VOICES
            .iter()
            .map(|(id, _, hz)| Candidate {
                voice: Voice::new(EngineKind::ElevenLabs, *id),
                pitch_hz: *hz,
                penalty: 0.0,
            })
            .collect(),
    };
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

    #[test]
    fn espeak_pool_has_both_registers_measured() {
        let pool = espeak_pool("en").unwrap();
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
        for engine in [EngineKind::OpenAi, EngineKind::ElevenLabs] {
            let spec = PoolSpec {
                engine,
                language: "en".into(),
                piper_voices: Vec::new(),
                register_cache: None,
            };
            let pool = voice_pool(&spec).unwrap();
            assert!(pool.iter().all(|c| c.voice.engine == engine));
            assert_eq!(pool_engines(engine), [engine]);
            assert!(pool.iter().any(|c| c.pitch_hz < 130.0));
            assert!(pool.iter().any(|c| c.pitch_hz > 190.0));
        }
        assert!(how_to_get_more(EngineKind::Piper, "de").contains("de_DE-thorsten-medium"));
    }

    #[test]
    fn a_piper_pool_holds_only_the_engines_it_names() {
        // No Piper voices installed: the pool is espeak-ng's variants, which it names.
        let spec = PoolSpec {
            engine: EngineKind::Piper,
            language: "en".into(),
            piper_voices: Vec::new(),
            register_cache: None,
        };
        let pool = voice_pool(&spec).unwrap();
        assert!(!pool.is_empty());
        for c in &pool {
            assert!(
                pool_engines(EngineKind::Piper).contains(&c.voice.engine),
                "{}",
                c.voice.id()
            );
        }
        assert!(!pool_engines(EngineKind::Espeak).contains(&EngineKind::Piper));
    }
}
