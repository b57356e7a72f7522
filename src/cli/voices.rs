//! Flags → TTS engines and the cast, once per run: the engine the flags name, the loader of every
//! voice a cast names (built when a video's speakers need it), and how automatic casting chooses
//! (the pool of the flags' engine, in the dub's language). Apart from `config` because voices are
//! their own concern: which engines exist, each one's default model and voice, how each is loaded,
//! and which voices casting may pick.

use anyhow::{Context, Result};
use dubber::cast::{EngineKind, PoolSpec, Voice};
use dubber::local_tts::PiperVoice;
use dubber::models::{DataDir, ModelKind};
use dubber::pipeline::Casting;
use dubber::tts::{AnyEngine, ElevenLabsTts, EspeakTts, OpenAiTts, PiperTts, Routed, SynthError};

use super::flags::{Provider, TtsArgs};

/// The defaults table: each TTS engine's model and voice when the flags name none. Local voices
/// have no model name; Piper's voice is resolved in the data dir (`default`).
pub fn tts_defaults(provider: Provider) -> (&'static str, &'static str) {
    match provider {
        Provider::Piper => ("piper", "default"),
        Provider::Espeak => ("espeak-ng", "en-us"),
        Provider::Openai => ("gpt-4o-mini-tts", "onyx"),
        Provider::Elevenlabs => (
            dubber::tts::elevenlabs::DEFAULT_MODEL,
            "21m00Tcm4TlvDq8ikWAM",
        ),
    }
}

/// The cast's engine for a provider.
fn engine_kind(provider: Provider) -> EngineKind {
    match provider {
        Provider::Piper => EngineKind::Piper,
        Provider::Espeak => EngineKind::Espeak,
        Provider::Openai => EngineKind::OpenAi,
        Provider::Elevenlabs => EngineKind::ElevenLabs,
    }
}

/// How speakers are cast: the pool of the flags' engine in the dub's language (`language`, an
/// ISO 639-1 code or name, else the flags' voice tells it), and the flags' voice for lines with
/// no speaker.
pub fn casting(
    provider: Provider,
    voice: Option<&str>,
    model: Option<&str>,
    file: Option<&std::path::Path>,
    language: Option<&str>,
) -> Casting {
    let data = DataDir::from_env().ok();
    let named = voice.unwrap_or(tts_defaults(provider).1).to_string();
    let voice = match provider {
        // The voice file's name: `default` resolves to one.
        Provider::Piper => data
            .as_ref()
            .and_then(|d| d.piper_voice_from_env(voice).ok())
            .and_then(|p| p.file_stem().map(|s| s.to_string_lossy().into_owned()))
            .unwrap_or(named),
        _ => named,
    };
    let engine = engine_kind(provider);
    let from_voice = match engine {
        EngineKind::Piper => voice.split('_').next(),
        EngineKind::Espeak => voice.split(['-', '+']).next(),
        _ => None,
    };
    let language = language
        .and_then(dubber::stt::languages::code)
        .map(str::to_string)
        .or_else(|| from_voice.filter(|l| l.len() == 2).map(str::to_lowercase))
        .unwrap_or_else(|| "en".into());
    let piper_voices = data
        .as_ref()
        .and_then(|d| d.installed().ok())
        .unwrap_or_default()
        .into_iter()
        .filter(|m| m.kind == ModelKind::PiperVoice)
        .map(|m| m.path)
        .collect();
    let default_models = [
        Provider::Piper,
        Provider::Espeak,
        Provider::Openai,
        Provider::Elevenlabs,
    ]
    .into_iter()
    .map(|p| {
        let own = model.filter(|_| p == provider).map(str::to_string);
        (
            engine_kind(p),
            own.unwrap_or_else(|| tts_defaults(p).0.into()),
        )
    })
    .collect();
    Casting {
        file: file.map(std::path::Path::to_path_buf),
        pool: PoolSpec {
            engine,
            language,
            piper_voices,
            register_cache: data.map(|d| d.voices_dir().join("registers.json")),
        },
        default_models,
        default_voice: format!("{engine}:{voice}"),
    }
}

/// Builds the engine of a cast's voice (`engine:voice`): Piper voices by name from the data dir,
/// espeak-ng voices by name, the services with the keys from the environment (and the flags'
/// `--base-url` when the service is the flags' own).
fn voice_loader(tts: &TtsArgs) -> impl Fn(&str) -> Result<AnyEngine, SynthError> + use<> {
    let (provider, base_url) = (tts.provider, tts.base_url.clone());
    move |route| {
        let config = |e: &dyn std::fmt::Display| SynthError::Config(e.to_string());
        let voice = Voice::from_id(route)
            .ok_or_else(|| SynthError::Config(format!("{route:?} names no known engine")))?;
        let base = |p: Provider| base_url.as_deref().filter(|_| provider == p);
        Ok(match voice.engine {
            EngineKind::Piper => {
                let data = DataDir::from_env().map_err(|e| config(&e))?;
                let path = data
                    .piper_voice(Some(&voice.voice), None)
                    .map_err(|e| config(&e))?;
                // Loaded once per process; needed here when the flags' engine is not Piper.
                let runtime = data.onnxruntime_from_env(None).map_err(|e| config(&e))?;
                dubber::local_tts::init_onnxruntime(&runtime).map_err(|e| config(&e))?;
                AnyEngine::Piper(PiperTts::new(
                    PiperVoice::load_shared(&path).map_err(|e| config(&e))?,
                ))
            }
            EngineKind::Espeak => AnyEngine::Espeak(EspeakTts::new(&voice.voice)?),
            EngineKind::OpenAi => AnyEngine::OpenAi(OpenAiTts::from_env(base(Provider::Openai))?),
            EngineKind::ElevenLabs => {
                AnyEngine::ElevenLabs(ElevenLabsTts::from_env(base(Provider::Elevenlabs))?)
            }
        })
    }
}

/// The voice the flags name, and the cast's voices, loaded when a video's speakers need them.
pub fn tts_engine(tts: &TtsArgs) -> Result<Routed> {
    let own = casting(tts.provider, tts.voice.as_deref(), None, None, None).default_voice;
    Ok(Routed::new(flags_engine(tts)?, voice_loader(tts)).with_default_route(own))
}

/// The voice the flags name.
fn flags_engine(tts: &TtsArgs) -> Result<AnyEngine> {
    Ok(match tts.provider {
        Provider::Piper => {
            let data = DataDir::from_env()?;
            let voice = data.piper_voice_from_env(tts.voice.as_deref())?;
            let runtime = data.onnxruntime_from_env(None)?;
            dubber::local_tts::init_onnxruntime(&runtime)?;
            AnyEngine::Piper(PiperTts::new(PiperVoice::load_shared(&voice)?))
        }
        Provider::Espeak => {
            let voice = tts
                .voice
                .as_deref()
                .unwrap_or(tts_defaults(Provider::Espeak).1);
            AnyEngine::Espeak(EspeakTts::new(voice).context("--tts espeak")?)
        }
        Provider::Openai => {
            AnyEngine::OpenAi(OpenAiTts::from_env(tts.base_url.as_deref()).context("--tts openai")?)
        }
        Provider::Elevenlabs => AnyEngine::ElevenLabs(
            ElevenLabsTts::from_env(tts.base_url.as_deref()).context("--tts elevenlabs")?,
        ),
    })
}
