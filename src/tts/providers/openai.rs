//! OpenAI-compatible speech: `POST {base}/audio/speech`. Works with OpenAI itself and with every
//! server speaking the same API (local ones included), chosen by the base URL.
//!
//! We ask for `wav` or `pcm` (24 kHz 16-bit mono) so no MP3 decoder is involved. Texts longer than
//! the service's 4096-character limit are split at sentence boundaries and the audio joined.

use crate::credentials::{self, ApiKey};
use std::future::Future;
use std::time::Duration;

use serde_json::json;

use super::AnyEngine;
use super::http::{self, Settings};
use super::split;
use crate::tts::engine::Synthesizer;
use crate::tts::error::SynthError;
use crate::tts::provider::{Provider, VoicePool, no_language, voice_as_given};
use crate::tts::request::{AudioFormat, Limits, SynthAudio, SynthRequest};

/// Where requests go when neither an explicit base URL nor `OPENAI_BASE_URL` is set.
pub const DEFAULT_BASE_URL: &str = credentials::OPENAI_API;
/// The longest `input` the endpoint accepts, in characters.
pub const MAX_INPUT_CHARS: usize = 4096;
/// The only rate of OpenAI's `pcm` response format.
pub const PCM_SAMPLE_RATE: u32 = 24_000;
/// A sensible default model (supports `instructions`).
pub const DEFAULT_MODEL: &str = "gpt-4o-mini-tts";
/// A sensible default voice.
pub const DEFAULT_VOICE: &str = "onyx";

/// OpenAI's speech, and every server speaking its API (`--base-url` / `OPENAI_BASE_URL`).
pub static PROVIDER: Provider = Provider {
    name: "openai",
    about: "OpenAI's /audio/speech, or any OpenAI-compatible server (--base-url / OPENAI_BASE_URL)",
    default_model: DEFAULT_MODEL,
    default_voice: DEFAULT_VOICE,
    key_var: Some("OPENAI_API_KEY"),
    base_url_var: Some("OPENAI_BASE_URL"),
    env_settings: &[],
    local: false,
    speed: 0.25..=4.0,
    voices: VoicePool::Table(VOICES),
    pool_with: &[],
    voice_language: no_language,
    more_voices: None,
    resolve_voice: voice_as_given,
    price_key: "openai",
    build: |spec| Ok(AnyEngine::new(OpenAiTts::from_env(spec.base_url)?)),
};

/// OpenAI's voices and their approximate registers (Hz; by ear and from the descriptions).
pub const VOICES: &[(&str, f64)] = &[
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

const SETTINGS: Settings = Settings {
    provider: "OpenAI",
    key_var: "OPENAI_API_KEY",
    base_url: "--base-url / OPENAI_BASE_URL",
};

/// A client for an OpenAI-compatible `/audio/speech` endpoint.
#[derive(Debug, Clone)]
pub struct OpenAiTts {
    client: reqwest::Client,
    base_url: String,
    api_key: Option<ApiKey>,
}

impl OpenAiTts {
    /// A client for `base_url` (e.g. `https://api.openai.com/v1` or `http://127.0.0.1:8000/v1`),
    /// sending `api_key` as a bearer token when given. Local servers often need no key.
    pub fn new(base_url: &str, api_key: Option<String>) -> Result<Self, SynthError> {
        let client = credentials::client_builder()
            .connect_timeout(Duration::from_secs(10))
            .build()
            .map_err(|e| SynthError::Config(format!("cannot build the HTTP client: {e}")))?;
        let api_key = api_key.and_then(ApiKey::new);
        let base_url = http::normalise_base(base_url);
        if api_key.is_some() {
            credentials::warn_if_exposed(&base_url);
        }
        Ok(Self {
            client,
            base_url,
            api_key,
        })
    }

    /// Configure from the environment: the base URL is `base_url` if given, else `OPENAI_BASE_URL`,
    /// else [`DEFAULT_BASE_URL`]; the key is `OPENAI_API_KEY`, required for the default base URL.
    pub fn from_env(base_url: Option<&str>) -> Result<Self, SynthError> {
        let base = credentials::openai_server(base_url);
        let key = credentials::openai_api_key();
        if key.is_none() && http::normalise_base(&base) == DEFAULT_BASE_URL {
            return Err(SynthError::Config(
                "OPENAI_API_KEY is not set: put your key in it (or in .env), or point \
                 --base-url / OPENAI_BASE_URL at a server that needs none"
                    .to_string(),
            ));
        }
        Self::new(&base, key.map(|k| k.expose().to_string()))
    }

    /// The base URL requests go to (without a trailing slash).
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// One HTTP request for one piece of text.
    async fn request(&self, req: &SynthRequest, input: &str) -> Result<SynthAudio, SynthError> {
        let response_format = match req.format {
            AudioFormat::Wav => "wav",
            AudioFormat::Pcm16 {
                sample_rate: PCM_SAMPLE_RATE,
            } => "pcm",
            AudioFormat::Pcm16 { sample_rate } => {
                return Err(SynthError::Config(format!(
                    "OpenAI sends PCM at {PCM_SAMPLE_RATE} Hz only, not {sample_rate} Hz; ask for \
                     WAV or pcm16@{PCM_SAMPLE_RATE}"
                )));
            }
        };
        let mut body = json!({
            "model": req.model,
            "voice": req.voice,
            "input": input,
            "response_format": response_format,
            "speed": req.speed,
        });
        if let Some(instructions) = req.instructions.as_deref().filter(|i| !i.is_empty()) {
            body["instructions"] = json!(instructions);
        }
        let mut builder = self
            .client
            .post(format!("{}/audio/speech", self.base_url))
            .json(&body);
        if let Some(key) = self.api_key.as_ref().map(ApiKey::expose) {
            builder = builder.bearer_auth(key);
        }
        let response = builder
            .send()
            .await
            .map_err(|e| http::transport(SETTINGS.provider, &e))?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let bytes = response
            .bytes()
            .await
            .map_err(|e| http::transport(SETTINGS.provider, &e))?;
        if !(200..300).contains(&status) {
            return Err(http::classify(status, &headers, &bytes, &SETTINGS));
        }
        Ok(SynthAudio {
            bytes: bytes.to_vec(),
            format: req.format,
        })
    }
}

impl split::Remote for OpenAiTts {
    const NAME: &'static str = SETTINGS.provider;
    const MAX_INPUT_CHARS: usize = MAX_INPUT_CHARS;

    fn request(
        &self,
        req: &SynthRequest,
        piece: &str,
    ) -> impl Future<Output = Result<SynthAudio, SynthError>> + Send {
        OpenAiTts::request(self, req, piece)
    }
}

impl Synthesizer for OpenAiTts {
    fn synthesize(
        &self,
        req: &SynthRequest,
    ) -> impl Future<Output = Result<SynthAudio, SynthError>> + Send {
        split::speak(self, req)
    }

    fn cache_signature(&self) -> String {
        format!("openai|{}", self.base_url)
    }

    fn limits(&self) -> Limits {
        Limits {
            max_input_chars: MAX_INPUT_CHARS,
            speed: PROVIDER.speed.clone(),
        }
    }
}
