//! Transcription through any OpenAI-compatible `POST {base}/audio/transcriptions` endpoint
//! (`/audio/translations` for [`Task::Translate`]).
//!
//! The audio is uploaded as 16-bit WAV (multipart), asking for `verbose_json` with segment
//! timestamps. Uploads are capped (25 MB at OpenAI), so long audio is sent in pieces of at most
//! [`OpenAiTranscriber::piece_secs`], cut at quiet moments so no word is split, and the returned
//! times are shifted back into place.
//!
//! Times in the answer are checked: a negative, non-finite or absurd time (past
//! [`crate::segment::MAX_MEDIA_MS`] once shifted) is an error naming the server and the segment,
//! never a panic or a wrapped-around number.

use std::time::Duration;

use serde::Deserialize;

use super::languages;
use super::{
    BoxFuture, SAMPLE_RATE, SttError, SttReport, Task, TranscribeOptions, Transcriber, Transcript,
};
use crate::Segment;
use crate::audio::wav_bytes;
use crate::credentials::{self, ApiKey};
use crate::segment::{MAX_MEDIA_MS, secs_for_message, secs_to_ms};

/// OpenAI's public API.
pub const OPENAI_BASE_URL: &str = credentials::OPENAI_API;

/// A client for one OpenAI-compatible transcription server.
#[derive(Debug, Clone)]
pub struct OpenAiTranscriber {
    client: reqwest::Client,
    base_url: String,
    api_key: Option<ApiKey>,
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
    /// The language heard, as OpenAI names it (`german`) or as a code.
    #[serde(default)]
    language: Option<String>,
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
        let api_key = api_key.and_then(ApiKey::new);
        let base_url = base_url.trim_end_matches('/').to_string();
        if api_key.is_some() {
            credentials::warn_if_exposed(&base_url);
        }
        Self {
            client: credentials::client_builder()
                .timeout(Duration::from_secs(600))
                .build()
                .unwrap_or_default(),
            base_url,
            api_key,
            model: model.to_string(),
            piece_secs: 600,
        }
    }

    /// Longest piece of audio sent in one request, in seconds (default 600: 19 MB of WAV).
    pub fn piece_secs(mut self, secs: u32) -> Self {
        self.piece_secs = secs.max(1);
        self
    }

    fn url(&self, task: Task) -> String {
        match task {
            Task::Transcribe => format!("{}/audio/transcriptions", self.base_url),
            Task::Translate => format!("{}/audio/translations", self.base_url),
        }
    }

    async fn transcribe_piece(
        &self,
        samples: &[f32],
        offset_ms: u64,
        options: &TranscribeOptions,
    ) -> Result<(Vec<Segment>, Option<String>), SttError> {
        let url = self.url(options.task);
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
        if let (Some(language), Task::Transcribe) = (&options.language, options.task) {
            form = form.text("language", language.clone());
        }
        let mut request = self.client.post(&url).multipart(form);
        if let Some(key) = &self.api_key {
            request = request.bearer_auth(key.expose());
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
        let to_ms = |secs: f64, what: &str| {
            secs_to_ms(secs)
                .and_then(|ms| offset_ms.checked_add(ms))
                .filter(|&ms| ms <= MAX_MEDIA_MS)
                .ok_or_else(|| SttError::Response {
                    url: url.clone(),
                    message: format!(
                        "{what} has an impossible time {} s (expected 0 to {} s)",
                        secs_for_message(secs),
                        MAX_MEDIA_MS / 1000
                    ),
                })
        };
        let segments = match parsed.segments {
            Some(segments) => {
                let mut out = Vec::with_capacity(segments.len());
                for (i, s) in segments.into_iter().enumerate() {
                    let what = format!("segment {i} ({:?})", s.text.trim());
                    let start = to_ms(s.start, &what)?;
                    let end = to_ms(s.end, &what)?.max(start);
                    let text = s.text.trim();
                    if !text.is_empty() {
                        out.push(Segment::new(start, end, text));
                    }
                }
                out
            }
            // A server without segments: one segment for the whole piece.
            None if !parsed.text.trim().is_empty() => {
                let end = match parsed.duration {
                    Some(duration) => to_ms(duration, "the duration")?,
                    None => offset_ms + piece_ms,
                };
                vec![Segment::new(offset_ms, end, parsed.text.trim())]
            }
            None => Vec::new(),
        };
        let language = parsed
            .language
            .as_deref()
            .and_then(languages::code)
            .map(str::to_string);
        Ok((segments, language))
    }
}

/// Ends of the pieces to upload, each at most `piece` samples long: each cut is at the quietest
/// 100 ms in the last fifth of the allowed length, so words are not split between requests.
fn quiet_cuts(audio: &[f32], piece: usize) -> Vec<usize> {
    const STEP: usize = SAMPLE_RATE as usize / 10;
    let mut cuts = Vec::new();
    let mut start = 0;
    while audio.len() - start > piece {
        let limit = start + piece;
        let search_from = limit - piece / 5;
        let energy = |at: usize| {
            audio[at..(at + STEP).min(limit)]
                .iter()
                .map(|s| s * s)
                .sum::<f32>()
        };
        let quietest = (search_from..limit.saturating_sub(STEP).max(search_from + 1))
            .step_by(STEP.max(1))
            .min_by(|&a, &b| energy(a).total_cmp(&energy(b)))
            .unwrap_or(limit);
        // Cut in the middle of the quiet stretch.
        let cut = (quietest + STEP / 2).clamp(start + 1, limit);
        cuts.push(cut);
        start = cut;
    }
    cuts.push(audio.len());
    cuts
}

impl Transcriber for OpenAiTranscriber {
    fn name(&self) -> String {
        format!("openai:{}", self.model)
    }

    fn transcribe<'a>(
        &'a self,
        audio: Vec<f32>,
        options: &'a TranscribeOptions,
    ) -> BoxFuture<'a, Result<Transcript, SttError>> {
        Box::pin(async move {
            let piece = (self.piece_secs as usize * SAMPLE_RATE as usize).max(1);
            let mut segments = Vec::new();
            let mut heard = None;
            let mut start = 0;
            for end in quiet_cuts(&audio, piece) {
                let offset_ms = start as u64 * 1000 / u64::from(SAMPLE_RATE);
                let samples = &audio[start..end];
                let (piece, language) = self.transcribe_piece(samples, offset_ms, options).await?;
                segments.extend(piece);
                heard = heard.or(language);
                start = end;
            }
            let language = options.language.clone().or(heard);
            let report = SttReport {
                engine: self.name(),
                task: options.task,
                language_name: language.as_deref().map(|c| languages::name(c).to_string()),
                language,
                audio_ms: audio.len() as u64 * 1000 / u64::from(SAMPLE_RATE),
                ..SttReport::default()
            };
            Ok(Transcript { segments, report })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pieces_are_cut_in_quiet_stretches_within_the_limit() {
        // 25 s of tone with a silent 300 ms at 8.0 s and at 17.5 s; pieces of at most 10 s.
        let rate = SAMPLE_RATE as usize;
        let mut audio: Vec<f32> = (0..25 * rate)
            .map(|i| (i as f32 * 0.07).sin() * 0.5)
            .collect();
        for silence in [8 * rate, 17 * rate + rate / 2] {
            audio[silence..silence + 3 * rate / 10].fill(0.0);
        }
        let cuts = quiet_cuts(&audio, 10 * rate);
        assert_eq!(cuts.len(), 3, "{cuts:?}");
        assert!(
            (8 * rate..8 * rate + 3 * rate / 10).contains(&cuts[0]),
            "{cuts:?}"
        );
        let second = 17 * rate + rate / 2;
        assert!(
            (second..second + 3 * rate / 10).contains(&cuts[1]),
            "{cuts:?}"
        );
        assert_eq!(cuts[2], audio.len());
        // Short audio is one piece; no piece is ever longer than the limit.
        assert_eq!(quiet_cuts(&audio[..rate], 10 * rate), vec![rate]);
        let noise: Vec<f32> = (0..35 * rate)
            .map(|i| ((i * 7919) % 13) as f32 / 13.0)
            .collect();
        let cuts = quiet_cuts(&noise, 10 * rate);
        let mut start = 0;
        for &cut in &cuts {
            assert!(cut > start && cut - start <= 10 * rate, "{cuts:?}");
            start = cut;
        }
    }
}
