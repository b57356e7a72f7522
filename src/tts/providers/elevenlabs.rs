//! ElevenLabs speech: `POST {base}/v1/text-to-speech/{voice_id}?output_format=pcm_{rate}` with the
//! `xi-api-key` header.
//!
//! We always ask for raw PCM (no MP3 decoding). Every response carries
//! `current-concurrent-requests` and `maximum-concurrent-requests`; the maximum is the account's
//! real limit, so it is kept and offered to the batch runner as a [`Synthesizer::concurrency_hint`].

use crate::credentials::{self, ApiKey};
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use serde_json::json;

use super::AnyEngine;
use super::http::{self, Settings};
use super::split;
use crate::tts::engine::Synthesizer;
use crate::tts::error::SynthError;
use crate::tts::provider::{Provider, VoicePool, no_language, voice_as_given};
use crate::tts::request::{AudioFormat, Limits, SynthAudio, SynthRequest};

/// Where requests go unless another base URL is given.
pub const DEFAULT_BASE_URL: &str = "https://api.elevenlabs.io";
/// A conservative per-request text limit (the smallest among current models).
pub const MAX_INPUT_CHARS: usize = 5000;
/// A sensible default model.
pub const DEFAULT_MODEL: &str = "eleven_multilingual_v2";
/// PCM rates the service offers (`pcm_{rate}`).
pub const PCM_RATES: [u32; 6] = [8000, 16_000, 22_050, 24_000, 44_100, 48_000];

/// ElevenLabs (`ELEVENLABS_API_KEY`).
pub static PROVIDER: Provider = Provider {
    name: "elevenlabs",
    about: "ElevenLabs (ELEVENLABS_API_KEY)",
    default_model: DEFAULT_MODEL,
    default_voice: "21m00Tcm4TlvDq8ikWAM",
    key_var: Some("ELEVENLABS_API_KEY"),
    base_url_var: None,
    env_settings: &[],
    local: false,
    speed: 0.7..=1.2,
    voices: VoicePool::Table(VOICES),
    pool_with: &[],
    voice_language: no_language,
    more_voices: None,
    resolve_voice: voice_as_given,
    price_key: "elevenlabs",
    build: |spec| Ok(AnyEngine::new(ElevenLabsTts::from_env(spec.base_url)?)),
};

/// ElevenLabs premade voices (id, approximate register in Hz), by name in the comments.
pub const VOICES: &[(&str, f64)] = &[
    ("VR6AewLTigWG4xSOukaG", 100.0), // Arnold
    ("pNInz6obpgDQGcFmaJgB", 105.0), // Adam
    ("TxGEqnHWrfWFTfGW9XjX", 110.0), // Josh
    ("ErXwobaYiN019PkySvjV", 120.0), // Antoni
    ("yoZ06aMxZJJ28mfd3POQ", 125.0), // Sam
    ("21m00Tcm4TlvDq8ikWAM", 200.0), // Rachel
    ("EXAVITQu4vr4xnSDxMaL", 205.0), // Bella
    ("AZnzlk1XvdvUeBnXmlld", 215.0), // Domi
    ("MF3mGyEYCl7XYWbV9V6O", 225.0), // Elli
];

const SETTINGS: Settings = Settings {
    provider: "ElevenLabs",
    key_var: "ELEVENLABS_API_KEY",
    base_url: "--base-url",
};

/// A client for the ElevenLabs text-to-speech endpoint.
#[derive(Debug, Clone)]
pub struct ElevenLabsTts {
    client: reqwest::Client,
    base_url: String,
    api_key: ApiKey,
    /// `maximum-concurrent-requests` from the last response; 0 until one arrived.
    max_concurrent: Arc<AtomicUsize>,
}

impl ElevenLabsTts {
    /// A client for `base_url` (normally [`DEFAULT_BASE_URL`]) with `api_key`.
    pub fn new(base_url: &str, api_key: impl Into<String>) -> Result<Self, SynthError> {
        let client = credentials::client_builder()
            .connect_timeout(Duration::from_secs(10))
            .build()
            .map_err(|e| SynthError::Config(format!("cannot build the HTTP client: {e}")))?;
        let api_key = ApiKey::new(api_key)
            .ok_or_else(|| SynthError::Config("the ElevenLabs API key is blank".to_string()))?;
        let base_url = http::normalise_base(base_url);
        credentials::warn_if_exposed(&base_url);
        Ok(Self {
            client,
            base_url,
            api_key,
            max_concurrent: Arc::new(AtomicUsize::new(0)),
        })
    }

    /// Configure from `ELEVENLABS_API_KEY`, with `base_url` or [`DEFAULT_BASE_URL`].
    pub fn from_env(base_url: Option<&str>) -> Result<Self, SynthError> {
        let key = credentials::elevenlabs_api_key().ok_or_else(|| {
            SynthError::Config(
                "ELEVENLABS_API_KEY is not set: put your key in it (or in .env)".to_string(),
            )
        })?;
        Self::new(base_url.unwrap_or(DEFAULT_BASE_URL), key.expose())
    }

    fn url(&self, voice_id: &str, rate: u32) -> Result<reqwest::Url, SynthError> {
        let mut url = reqwest::Url::parse(&format!("{}/v1/text-to-speech/", self.base_url))
            .map_err(|e| {
                SynthError::Config(format!("bad ElevenLabs base URL {:?}: {e}", self.base_url))
            })?;
        url.path_segments_mut()
            .map_err(|()| {
                SynthError::Config(format!("bad ElevenLabs base URL {:?}", self.base_url))
            })?
            .pop_if_empty()
            .push(voice_id);
        url.query_pairs_mut()
            .append_pair("output_format", &format!("pcm_{rate}"));
        Ok(url)
    }

    async fn request(&self, req: &SynthRequest, text: &str) -> Result<SynthAudio, SynthError> {
        if req.instructions.as_deref().is_some_and(|i| !i.is_empty()) {
            return Err(SynthError::Config(
                "ElevenLabs takes no instructions; remove --instructions".to_string(),
            ));
        }
        let rate = match req.format {
            AudioFormat::Wav => 24_000,
            AudioFormat::Pcm16 { sample_rate } if PCM_RATES.contains(&sample_rate) => sample_rate,
            AudioFormat::Pcm16 { sample_rate } => {
                return Err(SynthError::Config(format!(
                    "ElevenLabs offers PCM at {PCM_RATES:?} Hz, not {sample_rate} Hz"
                )));
            }
        };
        let mut body = json!({ "text": text, "model_id": req.model });
        if (req.speed - 1.0).abs() > f64::EPSILON {
            body["voice_settings"] = json!({ "speed": req.speed });
        }
        let response = self
            .client
            .post(self.url(&req.voice, rate)?)
            .header("xi-api-key", self.api_key.expose())
            .json(&body)
            .send()
            .await
            .map_err(|e| http::transport(SETTINGS.provider, &e))?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        self.learn_limit(&headers);
        let bytes = response
            .bytes()
            .await
            .map_err(|e| http::transport(SETTINGS.provider, &e))?;
        if !(200..300).contains(&status) {
            return Err(http::classify(status, &headers, &bytes, &SETTINGS));
        }
        Ok(SynthAudio {
            bytes: bytes.to_vec(),
            format: AudioFormat::Pcm16 { sample_rate: rate },
        })
    }

    fn learn_limit(&self, headers: &reqwest::header::HeaderMap) {
        let number = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<usize>().ok())
        };
        if let Some(max) = number("maximum-concurrent-requests").filter(|&m| m > 0) {
            self.max_concurrent.store(max, Ordering::Relaxed);
        }
        if let Some(current) = number("current-concurrent-requests") {
            tracing::debug!(current, "ElevenLabs concurrent requests");
        }
    }
}

impl split::Remote for ElevenLabsTts {
    const NAME: &'static str = SETTINGS.provider;
    const MAX_INPUT_CHARS: usize = MAX_INPUT_CHARS;

    fn request(
        &self,
        req: &SynthRequest,
        piece: &str,
    ) -> impl Future<Output = Result<SynthAudio, SynthError>> + Send {
        ElevenLabsTts::request(self, req, piece)
    }
}

impl Synthesizer for ElevenLabsTts {
    fn synthesize(
        &self,
        req: &SynthRequest,
    ) -> impl Future<Output = Result<SynthAudio, SynthError>> + Send {
        split::speak(self, req)
    }

    fn cache_signature(&self) -> String {
        format!("elevenlabs|{}", self.base_url)
    }

    fn limits(&self) -> Limits {
        Limits {
            max_input_chars: MAX_INPUT_CHARS,
            speed: PROVIDER.speed.clone(),
        }
    }

    fn concurrency_hint(&self) -> Option<usize> {
        match self.max_concurrent.load(Ordering::Relaxed) {
            0 => None,
            n => Some(n),
        }
    }
}
