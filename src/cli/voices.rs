//! Flags → TTS engines and the cast, once per run: the engine the flags name, the loader of every
//! voice a cast names (built when a video's speakers need it), and how automatic casting chooses
//! (the pool of the flags' engine, in the dub's language). Which engines exist, each one's
//! defaults and how each is built are the registry's ([`dubber::tts::registry`]); this module
//! only hands it the flags, the data dir and the server.

use anyhow::{Context, Result};
use dubber::cast::{EngineKind, PoolSpec, Voice};
use dubber::models::ModelKind;
use dubber::pipeline::Casting;
use dubber::tts::{AnyEngine, EngineSpec, Routed, SynthError};

use super::data::data_dir;
use super::flags::TtsArgs;

/// How speakers are cast: the pool of the flags' engine in the dub's language (`language`, an
/// ISO 639-1 code or name, else the flags' voice tells it), and the flags' voice for lines with
/// no speaker.
pub fn casting(
    engine: EngineKind,
    voice: Option<&str>,
    model: Option<&str>,
    file: Option<&std::path::Path>,
    language: Option<&str>,
) -> Casting {
    let data = data_dir();
    let provider = engine.provider();
    let voice = provider.voice_name(&EngineSpec {
        voice,
        base_url: None,
        data,
    });
    let from_voice = (provider.voice_language)(&voice);
    let language = language
        .and_then(dubber::stt::languages::code)
        .map(str::to_string)
        .or_else(|| from_voice.filter(|l| l.len() == 2).map(str::to_lowercase))
        .unwrap_or_else(|| "en".into());
    let piper_voices = data
        .and_then(|d| d.installed().ok())
        .unwrap_or_default()
        .into_iter()
        .filter(|m| m.kind == ModelKind::PiperVoice)
        .map(|m| m.path)
        .collect();
    let default_models = EngineKind::all()
        .into_iter()
        .map(|e| {
            let own = model.filter(|_| e == engine).map(str::to_string);
            (e, own.unwrap_or_else(|| e.provider().default_model.into()))
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

/// Builds the engine of a cast's voice (`engine:voice`) through its provider, with the flags'
/// `--base-url` when the provider is the flags' own.
fn voice_loader(tts: &TtsArgs) -> impl Fn(&str) -> Result<AnyEngine, SynthError> + use<> {
    let (engine, base_url) = (tts.provider, tts.base_url.clone());
    move |route| {
        let voice = Voice::from_id(route)
            .ok_or_else(|| SynthError::Config(format!("{route:?} names no known engine")))?;
        let spec = EngineSpec {
            voice: Some(&voice.voice),
            base_url: base_url.as_deref().filter(|_| voice.engine == engine),
            data: data_dir(),
        };
        (voice.engine.provider().build)(&spec)
    }
}

/// The voice the flags name, and the cast's voices, loaded when a video's speakers need them.
/// `own` is the flags' voice as the cast names it ([`Casting::default_voice`], made once by
/// [`casting`]).
pub fn tts_engine(tts: &TtsArgs, own: &str) -> Result<Routed> {
    let spec = EngineSpec {
        voice: tts.voice.as_deref(),
        base_url: tts.base_url.as_deref(),
        data: data_dir(),
    };
    let engine = (tts.provider.provider().build)(&spec)
        .with_context(|| format!("--tts {}", tts.provider))?;
    Ok(Routed::new(engine, voice_loader(tts)).with_default_route(own.to_string()))
}
