//! A TTS provider that is not built in: Flite (`flite`, CMU's small offline synthesizer), added the
//! way the registry's doc says — this one file, and one [`registry::register`] call as its entry.
//! Nothing else in dubber names it: the cast, the voice pool, the router and the synth stage find
//! it through the registry.

use std::process::Command;

use dubber::tts::registry;
use dubber::tts::{
    AnyEngine, AudioFormat, EngineKind, EngineSpec, Limits, Provider, SynthAudio, SynthError,
    SynthRequest, Synthesizer, VoicePool,
};

/// Flite's voices and their registers (median pitch of the reference sentence, Hz).
const VOICES: &[(&str, f64)] = &[
    ("kal", 90.0),
    ("rms", 103.0),
    ("awb", 125.0),
    ("slt", 165.0),
];

/// The provider: what dubber knows about Flite.
pub static PROVIDER: Provider = Provider {
    name: "flite",
    about: "Flite on this machine (CMU): small, robotic, English. Offline",
    default_model: "flite",
    default_voice: "kal",
    key_var: None,
    base_url_var: None,
    env_settings: &[],
    local: true,
    speed: 0.5..=2.0,
    voices: VoicePool::Table(VOICES),
    pool_with: &[],
    voice_language: |_| Some("en"),
    more_voices: None,
    resolve_voice: |_| None,
    price_key: "flite",
    build: |spec: &EngineSpec<'_>| {
        Ok(AnyEngine::new(FliteTts::new(
            spec.voice.unwrap_or(PROVIDER.default_voice),
        )?))
    },
};

/// The registry entry: Flite joins the providers (a no-op the second time).
pub fn register() -> EngineKind {
    registry::register(&PROVIDER).expect("no other provider is called flite")
}

/// One Flite voice, run as a process per request on a blocking thread.
#[derive(Debug, Clone)]
pub struct FliteTts {
    voice: String,
}

impl FliteTts {
    /// The voice called `voice`; fails when flite is missing or lacks it.
    pub fn new(voice: &str) -> Result<Self, SynthError> {
        let listed = Command::new("flite")
            .arg("-lv")
            .output()
            .map_err(|e| SynthError::Config(format!("cannot run flite: {e}")))?;
        let list = String::from_utf8_lossy(&listed.stdout);
        if !list.split_whitespace().any(|v| v == voice) {
            return Err(SynthError::Config(format!(
                "flite has no voice {voice:?}: {list}"
            )));
        }
        Ok(Self {
            voice: voice.to_string(),
        })
    }
}

impl Synthesizer for FliteTts {
    async fn synthesize(&self, req: &SynthRequest) -> Result<SynthAudio, SynthError> {
        let (voice, text, speed) = (self.voice.clone(), req.text.clone(), req.speed);
        let bytes = tokio::task::spawn_blocking(move || {
            let file = tempfile::Builder::new()
                .suffix(".wav")
                .tempfile()
                .map_err(|e| SynthError::Engine(e.to_string()))?;
            let status = Command::new("flite")
                .args(["-voice", &voice, "--setf"])
                .arg(format!("duration_stretch={}", 1.0 / speed))
                .arg("-t")
                .arg(&text)
                .arg("-o")
                .arg(file.path())
                .status()
                .map_err(|e| SynthError::Engine(format!("cannot run flite: {e}")))?;
            if !status.success() {
                return Err(SynthError::Engine(format!("flite failed: {status}")));
            }
            std::fs::read(file.path()).map_err(|e| SynthError::Engine(e.to_string()))
        })
        .await
        .map_err(|e| SynthError::Engine(e.to_string()))??;
        Ok(SynthAudio {
            bytes,
            format: AudioFormat::Wav,
        })
    }

    fn cache_signature(&self) -> String {
        format!("flite|{}", self.voice)
    }

    fn limits(&self) -> Limits {
        Limits {
            max_input_chars: 10_000,
            speed: PROVIDER.speed.clone(),
        }
    }
}
