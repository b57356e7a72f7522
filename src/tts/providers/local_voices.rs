//! The voices automatic casting may give from the local engines, each measured by speaking
//! [`REFERENCE_SENTENCE`]: the installed Piper voices of the dub's language (measured once, the
//! result kept in the data dir keyed by the voice's cache signature, so a replaced model is
//! measured again), and the language's espeak-ng voice in a handful of clearly distinct variants
//! of both registers (espeak-ng is fast; not kept).
//!
//! Why separate from `local`: listing and measuring voices is casting's need, not synthesis'.

use std::collections::BTreeMap;
use std::path::Path;

use crate::audio::pitch::median_f0;
use crate::local_tts::{EspeakVoice, PiperVoice};
use crate::tts::provider::{MeasureError, PoolQuery, REFERENCE_SENTENCE};

/// espeak-ng variants in the pool, male then female: clearly distinct from one another.
pub const ESPEAK_VARIANTS: &[&str] = &["m3", "m7", "m1", "f3", "f4", "f1"];

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

/// The espeak-ng voice of an ISO 639-1 language (`en` → `en-us`).
pub fn espeak_language_voice(language: &str) -> String {
    match language {
        "en" | "" => "en-us".to_string(),
        other => other.to_string(),
    }
}

/// How to get more local voices in `language`, for warnings.
pub fn how_to_get_more(language: &str) -> String {
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
            "install more Piper voices with `dubber models fetch <voice>`, e.g. {}, or name \
             voices in cast.toml",
            names.join(", ")
        ),
    }
}

fn measure(
    voice: &str,
    speak: impl FnOnce() -> Result<(Vec<f32>, u32), String>,
) -> Result<f64, MeasureError> {
    let err = |message: String| MeasureError {
        voice: voice.to_string(),
        message,
    };
    let (samples, rate) = speak().map_err(err)?;
    median_f0(&samples, rate)
        .ok_or_else(|| err("no voiced speech in the reference sentence".into()))
}

/// The language's espeak-ng voice in [`ESPEAK_VARIANTS`], measured.
pub fn espeak_pool(query: &PoolQuery<'_>) -> Result<Vec<(String, f64)>, MeasureError> {
    let base = espeak_language_voice(query.language);
    ESPEAK_VARIANTS
        .iter()
        .map(|variant| {
            let name = format!("{base}+{variant}");
            let voice = EspeakVoice::new(&name);
            let hz = measure(&name, || {
                voice
                    .speak(REFERENCE_SENTENCE, 1.0)
                    .map_err(|e| e.to_string())
            })?;
            Ok((name, hz))
        })
        .collect()
}

/// The measured registers cached in `path`.
fn read_registers(path: Option<&Path>) -> BTreeMap<String, f64> {
    path.and_then(|p| std::fs::read(p).ok())
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .unwrap_or_default()
}

/// The installed Piper voices of the language, measured once each.
pub fn piper_pool(query: &PoolQuery<'_>) -> Result<Vec<(String, f64)>, MeasureError> {
    let prefix = format!("{}_", query.language);
    let mut registers = read_registers(query.register_cache);
    let mut measured = false;
    let mut pool = Vec::new();
    for path in query.piper_voices {
        let Some(name) = path.file_stem().map(|s| s.to_string_lossy().into_owned()) else {
            continue;
        };
        if !name.starts_with(&prefix) {
            continue;
        }
        let voice = PiperVoice::load_shared(path).map_err(|e| MeasureError {
            voice: name.clone(),
            message: e.to_string(),
        })?;
        let signature = voice.cache_signature().to_string();
        let hz = match registers.get(&signature) {
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
        pool.push((name, hz));
    }
    if let (true, Some(cache)) = (measured, query.register_cache) {
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
