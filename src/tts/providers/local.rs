//! The offline voices ([`crate::local_tts`]) as [`Synthesizer`]s: inference runs on blocking
//! threads so the async runtime stays free, and the audio is returned as WAV like any service's.
//!
//! Why separate from `local_tts`: the engines there stay plain and synchronous; this adapter is
//! the only place they meet the async trait.

use std::sync::Arc;

use super::AnyEngine;
use super::local_voices::{espeak_pool, how_to_get_more, piper_pool};
use crate::local_tts::piper::Stop;
use crate::local_tts::{self, EspeakVoice, LocalTtsError, PiperVoice};
use crate::models::{DataDir, ModelError};
use crate::tts::engine::Synthesizer;
use crate::tts::error::SynthError;
use crate::tts::provider::{EngineSpec, Provider, VoicePool};
use crate::tts::request::{AudioFormat, Limits, SynthAudio, SynthRequest};

/// Local voices take any text length (they speak sentence by sentence).
const MAX_INPUT_CHARS: usize = 100_000;

/// A Piper voice on this machine (ONNX Runtime; the voice from the data dir).
pub static PIPER: Provider = Provider {
    name: "piper",
    about: "A Piper voice on this machine (ONNX Runtime; the voice from the data dir). Offline",
    default_model: "piper",
    default_voice: "default",
    key_var: None,
    base_url_var: None,
    env_settings: &["DUBBER_PIPER_VOICE"],
    local: true,
    speed: local_tts::piper::SPEED_RANGE,
    voices: VoicePool::Measured(piper_pool),
    pool_with: &["espeak"],
    voice_language: |voice| voice.split('_').next(),
    more_voices: Some(how_to_get_more),
    resolve_voice: |spec| {
        // The voice file's name: `default` (or DUBBER_PIPER_VOICE) resolves to one.
        let path = spec.data?.piper_voice_from_env(spec.voice).ok()?;
        path.file_stem().map(|s| s.to_string_lossy().into_owned())
    },
    price_key: "piper",
    build: build_piper,
};

/// espeak-ng on this machine: any language, no model files, robotic.
pub static ESPEAK: Provider = Provider {
    name: "espeak",
    about: "espeak-ng on this machine: any language, no model files, robotic. Offline",
    default_model: "espeak-ng",
    default_voice: "en-us",
    key_var: None,
    base_url_var: None,
    env_settings: &[],
    local: true,
    speed: local_tts::espeak::SPEED_RANGE,
    voices: VoicePool::Measured(espeak_pool),
    pool_with: &[],
    voice_language: |voice| voice.split(['-', '+']).next(),
    more_voices: Some(how_to_get_more),
    resolve_voice: crate::tts::provider::voice_as_given,
    price_key: "espeak",
    build: |spec| {
        let voice = spec.voice.unwrap_or(ESPEAK.default_voice);
        Ok(AnyEngine::new(EspeakTts::new(voice)?))
    },
};

/// The Piper voice `spec` names (else `DUBBER_PIPER_VOICE`, else the default), with the ONNX
/// Runtime loaded (once per process).
fn build_piper(spec: &EngineSpec<'_>) -> Result<AnyEngine, SynthError> {
    let config = |e: ModelError| SynthError::Config(e.to_string());
    let data: &DataDir = spec.data.ok_or(ModelError::NoDataDir).map_err(config)?;
    let path = data.piper_voice_from_env(spec.voice).map_err(config)?;
    let runtime = data.onnxruntime_from_env(None).map_err(config)?;
    local_tts::init_onnxruntime(&runtime).map_err(|e| SynthError::Config(e.to_string()))?;
    let voice = PiperVoice::load_shared(&path).map_err(|e| SynthError::Config(e.to_string()))?;
    Ok(AnyEngine::new(PiperTts::new(voice)))
}

/// Run a local voice on a blocking thread and wrap its samples as WAV.
async fn speak_blocking(
    speak: impl FnOnce() -> Result<(Vec<f32>, u32), LocalTtsError> + Send + 'static,
) -> Result<SynthAudio, SynthError> {
    let (samples, rate) = tokio::task::spawn_blocking(speak)
        .await
        .map_err(|e| SynthError::Engine(format!("synthesis thread failed: {e}")))?
        .map_err(|e| match e {
            // A missing runtime or espeak-ng fails every line the same way: stop the run.
            LocalTtsError::Runtime(m) | LocalTtsError::Espeak(m) => SynthError::Config(m),
            other => SynthError::Engine(other.to_string()),
        })?;
    let bytes = crate::audio::wav_bytes(&samples, rate)
        .map_err(|e| SynthError::Engine(format!("cannot encode the clip: {e}")))?;
    Ok(SynthAudio {
        bytes,
        format: AudioFormat::Wav,
    })
}

/// A Piper voice (ONNX Runtime). Speed is native: it scales the voice's `length_scale`, which
/// sounds better than stretching audio afterwards.
#[derive(Debug, Clone)]
pub struct PiperTts {
    voice: Arc<PiperVoice>,
}

impl PiperTts {
    pub fn new(voice: Arc<PiperVoice>) -> Self {
        Self { voice }
    }
}

/// Stops the inference when dropped: a request that timed out (or a run that was dropped) does
/// not leave its line running on a core, holding the voice's session.
struct StopOnDrop(Option<Stop>);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        if let Some(stop) = self.0.take() {
            stop.stop();
        }
    }
}

impl Synthesizer for PiperTts {
    async fn synthesize(&self, req: &SynthRequest) -> Result<SynthAudio, SynthError> {
        let voice = Arc::clone(&self.voice);
        let text = req.text.clone();
        let speed = req.speed as f32;
        let stop = Stop::new().map_err(|e| SynthError::Config(e.to_string()))?;
        let mut guard = StopOnDrop(Some(stop.clone()));
        let audio = speak_blocking(move || voice.speak_until(&text, speed, Some(&stop))).await;
        // Finished: nothing is left to stop.
        guard.0 = None;
        audio
    }

    fn cache_signature(&self) -> String {
        self.voice.cache_signature().to_string()
    }

    fn limits(&self) -> Limits {
        Limits {
            max_input_chars: MAX_INPUT_CHARS,
            speed: PIPER.speed.clone(),
        }
    }

    /// One model session serves one request at a time; a second one in flight keeps the next
    /// sentence's phonemes (espeak-ng) ready.
    fn concurrency_hint(&self) -> Option<usize> {
        Some(2)
    }

    fn native_speed(&self) -> bool {
        true
    }
}

/// espeak-ng itself: robotic, but any language and no model files.
#[derive(Debug, Clone)]
pub struct EspeakTts {
    voice: Arc<EspeakVoice>,
}

impl EspeakTts {
    /// A voice by espeak-ng name (`en-us`, `de`, `fr`, ...); fails if espeak-ng lacks it.
    pub fn new(voice: &str) -> Result<Self, SynthError> {
        let voice = EspeakVoice::new(voice);
        voice
            .check()
            .map_err(|e| SynthError::Config(format!("{e} (--voice)")))?;
        Ok(Self {
            voice: Arc::new(voice),
        })
    }
}

impl Synthesizer for EspeakTts {
    async fn synthesize(&self, req: &SynthRequest) -> Result<SynthAudio, SynthError> {
        let voice = Arc::clone(&self.voice);
        let text = req.text.clone();
        let speed = req.speed as f32;
        speak_blocking(move || voice.speak(&text, speed)).await
    }

    fn cache_signature(&self) -> String {
        self.voice.cache_signature()
    }

    fn limits(&self) -> Limits {
        Limits {
            max_input_chars: MAX_INPUT_CHARS,
            speed: ESPEAK.speed.clone(),
        }
    }

    fn concurrency_hint(&self) -> Option<usize> {
        std::thread::available_parallelism().ok().map(|n| n.get())
    }
}
