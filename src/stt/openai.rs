//! Transcription through any OpenAI-compatible `POST {base}/audio/transcriptions` endpoint.
//!
//! The audio is uploaded as 16-bit WAV (multipart), asking for `verbose_json` with segment
//! timestamps. Uploads are capped (25 MB at OpenAI), so long audio is sent in pieces of at most
//! [`OpenAiTranscriber::piece_secs`] and the returned times are shifted back into place.

use std::time::Duration;

use serde::Deserialize;

use super::{BoxFuture, SAMPLE_RATE, SttError, TranscribeOptions, Transcriber};
use crate::Segment;
use crate::local_tts::wav_bytes;

/// OpenAI's public API.
pub const OPENAI_BASE_URL: &str = "https://api.openai.com/v1";

/// A client for one OpenAI-compatible transcription server.
#[derive(Debug, Clone)]
pub struct OpenAiTranscriber {
    client: reqwest::Client,
    base_url: String,
    api_key: Option<String>,
    model: String,
    piece_secs: u32,
}

#[derive(Debug, Deserialize)]
struct VerboseJson {
    #[serde(default)]
    text: String,
    #[serde(default)]
    segments: Option<Vec<ApiSegment>>,
    #[serde(default)]
    duration: Option<f64>,
}

#[derive(Debug, Deserialize)]
struct ApiSegment {
    start: f64,
    end: f64,
    text: String,
}

impl OpenAiTranscriber {
    /// A transcriber for `base_url` (e.g. `https://api.openai.com/v1`, or a local server's
    /// `http://127.0.0.1:8000/v1`) with `model` (`whisper-1`) and an optional bearer key.
    pub fn new(base_url: &str, api_key: Option<String>, model: &str) -> Self {
        Self {
            client: reqwest::Client::builder()
                .timeout(Duration::from_secs(600))
                .build()
                .unwrap_or_default(),
            base_url: base_url.trim_end_matches('/').to_string(),
            api_key: api_key.filter(|k| !k.is_empty()),
            model: model.to_string(),
            piece_secs: 600,
        }
    }

    /// Longest piece of audio sent in one request, in seconds (default 600: 19 MB of WAV).
    pub fn piece_secs(mut self, secs: u32) -> Self {
        self.piece_secs = secs.max(1);
        self
    }

    fn url(&self) -> String {
        format!("{}/audio/transcriptions", self.base_url)
    }

    async fn transcribe_piece(
        &self,
        samples: &[f32],
        offset_ms: u64,
        options: &TranscribeOptions,
    ) -> Result<Vec<Segment>, SttError> {
        let url = self.url();
        let wav = wav_bytes(samples, SAMPLE_RATE).map_err(|e| SttError::Encode(e.to_string()))?;
        let file = reqwest::multipart::Part::bytes(wav)
            .file_name("audio.wav")
            .mime_str("audio/wav")
            .map_err(|e| SttError::Encode(e.to_string()))?;
        let mut form = reqwest::multipart::Form::new()
            .part("file", file)
            .text("model", self.model.clone())
            .text("response_format", "verbose_json")
            .text("timestamp_granularities[]", "segment");
        if let Some(language) = &options.language {
            form = form.text("language", language.clone());
        }
        let mut request = self.client.post(&url).multipart(form);
        if let Some(key) = &self.api_key {
            request = request.bearer_auth(key);
        }
        let http = |source| SttError::Http {
            url: url.clone(),
            source,
        };
        let response = request.send().await.map_err(http)?;
        let status = response.status();
        let body = response.text().await.map_err(http)?;
        if !status.is_success() {
            return Err(SttError::Status {
                url,
                status: status.as_u16(),
                body: body.chars().take(500).collect(),
            });
        }
        let parsed: VerboseJson = serde_json::from_str(&body).map_err(|e| SttError::Response {
            url: url.clone(),
            message: format!("not verbose_json: {e}"),
        })?;
        let piece_ms = samples.len() as u64 * 1000 / u64::from(SAMPLE_RATE);
        let to_ms = |secs: f64| offset_ms + (secs.max(0.0) * 1000.0).round() as u64;
        let segments = match parsed.segments {
            Some(segments) => segments
                .into_iter()
                .map(|s| Segment::new(to_ms(s.start), to_ms(s.end.max(s.start)), s.text.trim()))
                .filter(|s| !s.text.is_empty())
                .collect(),
            // A server without segments: one segment for the whole piece.
            None if !parsed.text.trim().is_empty() => {
                let end = parsed.duration.map_or(offset_ms + piece_ms, to_ms);
                vec![Segment::new(offset_ms, end, parsed.text.trim())]
            }
            None => Vec::new(),
        };
        Ok(segments)
    }
}

impl Transcriber for OpenAiTranscriber {
    fn name(&self) -> String {
        format!("openai:{}", self.model)
    }

    fn transcribe<'a>(
        &'a self,
        audio: Vec<f32>,
        options: &'a TranscribeOptions,
    ) -> BoxFuture<'a, Result<Vec<Segment>, SttError>> {
        Box::pin(async move {
            let piece = self.piece_secs as usize * SAMPLE_RATE as usize;
            let mut segments = Vec::new();
            for (index, samples) in audio.chunks(piece.max(1)).enumerate() {
                let offset_ms = (index * piece) as u64 * 1000 / u64::from(SAMPLE_RATE);
                segments.extend(self.transcribe_piece(samples, offset_ms, options).await?);
            }
            Ok(segments)
        })
    }
}
