//! Local Whisper transcription on CTranslate2 (faster-whisper model folders), fully offline.
//!
//! Uses the low-level `ct2rs::sys::Whisper` (encode, generate, detect_language) rather than
//! ct2rs's high-level type, which needs a `preprocessor_config.json` the faster-whisper models lack,
//! always sends the multilingual prompt (garbage from `.en` models), computes non-standard
//! features and cuts audio every 30 s without seeking. Here, as in OpenAI's and faster-whisper's
//! decoders: standard log-mel ([`super::mel`]), the right prompt for `.en` vs multilingual models,
//! decoding with timestamp tokens, one segment per timestamp pair, then seeking to the last
//! timestamp so speech crossing a 30 s boundary is decoded whole in the next window.

use std::path::Path;
use std::sync::Arc;

use ct2rs::sys::{ComputeType, Config, Device, StorageView, Whisper, WhisperOptions};

use super::activity::Activity;
use super::mel::{FRAMES_PER_WINDOW, HOP, MelExtractor, SAMPLES_PER_WINDOW};
use super::{BoxFuture, SttError, TranscribeOptions, Transcriber};
use crate::Segment;

/// Milliseconds per timestamp token step (`<|0.02|>` − `<|0.00|>`).
const TIMESTAMP_STEP_MS: u64 = 20;
/// Milliseconds per mel frame.
const FRAME_MS: u64 = (HOP as u64 * 1000) / 16_000;
/// Mel frames per timestamp step.
const FRAMES_PER_TIMESTAMP: usize = (TIMESTAMP_STEP_MS / FRAME_MS) as usize;
/// Latest first timestamp the decoder may emit, in 20 ms steps (the whole 30 s window).
const MAX_INITIAL_TIMESTAMP_INDEX: usize = 1500;
/// How far a segment start may move back to the onset of its line.
const EARLY_START_MS: u64 = 300;
/// How far before the last timestamp the decoder may resume to catch a line's first word.
const MAX_SEEK_BACK_MS: u64 = 1_000;
/// Trailing audio shorter than this (frames) is not worth a decoder pass.
const MIN_WINDOW_FRAMES: usize = 10;

/// How to run the model.
#[derive(Debug, Clone, PartialEq)]
pub struct WhisperConfig {
    /// Beam width (1 = greedy; 5 is clearly better and the default).
    pub beam_size: usize,
    /// CPU threads for CTranslate2 (0 = one per available core, at most 4).
    pub threads: usize,
    /// Weight precision; INT8 is fastest on CPU at no visible accuracy cost.
    pub compute_type: ComputeType,
}

impl Default for WhisperConfig {
    fn default() -> Self {
        Self {
            beam_size: 5,
            threads: 0,
            compute_type: ComputeType::INT8,
        }
    }
}

/// The special tokens the decoder loop needs, looked up by their text in `vocabulary.txt`
/// (their ids differ between `.en` and multilingual vocabularies).
#[derive(Debug)]
struct SpecialTokens {
    end_of_text: usize,
    timestamp_begin: usize,
    /// All ids after end-of-text that are not timestamps (language, task, …).
    vocabulary: Vec<String>,
}

impl SpecialTokens {
    fn load(dir: &Path) -> Result<Self, SttError> {
        let path = dir.join("vocabulary.txt");
        let text = std::fs::read_to_string(&path).map_err(|e| SttError::Load {
            path: path.clone(),
            message: e.to_string(),
        })?;
        let vocabulary: Vec<String> = text.lines().map(str::to_string).collect();
        let find = |token: &str| {
            vocabulary
                .iter()
                .position(|t| t == token)
                .ok_or_else(|| SttError::Load {
                    path: path.clone(),
                    message: format!("token {token} missing from the vocabulary"),
                })
        };
        Ok(Self {
            end_of_text: find("<|endoftext|>")?,
            timestamp_begin: find("<|0.00|>")?,
            vocabulary,
        })
    }

    fn is_timestamp(&self, id: usize) -> bool {
        id >= self.timestamp_begin
    }

    fn is_text(&self, id: usize) -> bool {
        id < self.end_of_text
    }

    fn contains(&self, token: &str) -> bool {
        self.vocabulary.iter().any(|t| t == token)
    }
}

struct Engine {
    model: Whisper,
    tokens: SpecialTokens,
    mel: MelExtractor,
    options: WhisperOptions,
    name: String,
}

/// A Whisper model loaded once and shared; cheap to clone.
#[derive(Clone)]
pub struct LocalWhisper {
    engine: Arc<Engine>,
}

impl std::fmt::Debug for LocalWhisper {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalWhisper")
            .field("name", &self.engine.name)
            .field("multilingual", &self.is_multilingual())
            .finish()
    }
}

impl LocalWhisper {
    /// Loads a faster-whisper model folder (`model.bin`, `config.json`, `tokenizer.json`,
    /// `vocabulary.txt`). Takes about a second for tiny; do it once.
    pub fn load(dir: &Path, config: &WhisperConfig) -> Result<Self, SttError> {
        let load_error = |message: String| SttError::Load {
            path: dir.to_path_buf(),
            message,
        };
        let threads = match config.threads {
            0 => std::thread::available_parallelism().map_or(2, |n| n.get().min(4)),
            n => n,
        };
        let ct2_config = Config {
            device: Device::CPU,
            compute_type: config.compute_type,
            num_threads_per_replica: threads,
            ..Config::default()
        };
        let model = Whisper::new(dir, ct2_config).map_err(|e| load_error(format!("{e:#}")))?;
        let tokens = SpecialTokens::load(dir)?;
        let options = WhisperOptions {
            beam_size: config.beam_size.max(1),
            return_scores: true,
            return_no_speech_prob: true,
            // Whisper's default caps the first timestamp at 1 s, which pins a line that starts
            // later in the window to the window's start; dubbing needs the real start time.
            max_initial_timestamp_index: MAX_INITIAL_TIMESTAMP_INDEX,
            ..WhisperOptions::default()
        };
        let name = dir.file_name().map_or_else(
            || "whisper".to_string(),
            |n| n.to_string_lossy().into_owned(),
        );
        let mel = MelExtractor::new(model.n_mels());
        Ok(Self {
            engine: Arc::new(Engine {
                model,
                tokens,
                mel,
                options,
                name,
            }),
        })
    }

    /// Whether the model knows many languages (else it is an English-only `.en` model).
    pub fn is_multilingual(&self) -> bool {
        self.engine.model.is_multilingual()
    }

    /// Transcribes on the current thread (CPU-bound: call from a blocking thread).
    pub fn transcribe_blocking(
        &self,
        audio: &[f32],
        options: &TranscribeOptions,
    ) -> Result<Vec<Segment>, SttError> {
        self.engine.transcribe(audio, options)
    }
}

impl Transcriber for LocalWhisper {
    fn name(&self) -> String {
        format!("whisper:{}", self.engine.name)
    }

    fn transcribe<'a>(
        &'a self,
        audio: Vec<f32>,
        options: &'a TranscribeOptions,
    ) -> BoxFuture<'a, Result<Vec<Segment>, SttError>> {
        let this = self.clone();
        let options = options.clone();
        Box::pin(async move {
            tokio::task::spawn_blocking(move || this.transcribe_blocking(&audio, &options))
                .await
                .map_err(|e| SttError::Worker(e.to_string()))?
        })
    }
}

/// What one decoder pass over a window produced.
struct WindowResult {
    segments: Vec<Segment>,
    /// Frames to advance the window by.
    advance: usize,
}

impl Engine {
    fn transcribe(
        &self,
        audio: &[f32],
        options: &TranscribeOptions,
    ) -> Result<Vec<Segment>, SttError> {
        // 30 s of padding so the last window has frames to read, as Whisper does.
        let mel = self.mel.compute(audio, SAMPLES_PER_WINDOW);
        let content_frames = audio.len() / HOP;
        let audio_end_ms = audio.len() as u64 * 1000 / 16_000;
        let activity = Activity::new(audio);
        let mut language: Option<String> = options.language.clone();
        let mut segments = Vec::new();
        let mut seek = 0usize;
        while seek + MIN_WINDOW_FRAMES <= content_frames {
            let size = (content_frames - seek).min(FRAMES_PER_WINDOW);
            let at_ms = seek as u64 * FRAME_MS;
            let inference = |message: String| SttError::Inference { at_ms, message };
            let window_started = std::time::Instant::now();
            let mut features = mel.window(seek, size);
            let shape = [1, mel.n_mels, FRAMES_PER_WINDOW];
            let view = StorageView::new(&shape, &mut features, Device::CPU)
                .map_err(|e| inference(format!("{e:#}")))?;
            let encoded = self
                .model
                .encode(&view, false)
                .map_err(|e| inference(format!("{e:#}")))?;
            let encoded_after = window_started.elapsed();
            let prompt = self.prompt(&encoded, &mut language, at_ms)?;
            let results = self
                .model
                .generate(&encoded, &[prompt], &self.options)
                .map_err(|e| inference(format!("{e:#}")))?;
            let Some(result) = results.into_iter().next() else {
                return Err(inference("no result".to_string()));
            };
            let avg_logprob = result.scores.first().copied().unwrap_or(0.0);
            tracing::debug!(
                at_ms,
                frames = size,
                tokens = result.sequences_ids.first().map_or(0, Vec::len),
                encode_ms = encoded_after.as_millis() as u64,
                total_ms = window_started.elapsed().as_millis() as u64,
                no_speech = result.no_speech_prob,
                avg_logprob,
                "whisper window"
            );
            // Silence: Whisper's own rule (no-speech probability high and decoding unsure).
            if result.no_speech_prob > 0.6 && avg_logprob < -1.0 {
                seek += size;
                continue;
            }
            let ids = result.sequences_ids.into_iter().next().unwrap_or_default();
            let window = self.split_at_timestamps(&ids, seek, size, audio_end_ms);
            for mut segment in window.segments {
                // Starts tend to be a little late: move to the line's onset when it is near,
                // never into the previous segment.
                let previous_end = segments.last().map_or(0, |s: &Segment| s.end_ms);
                let onset = activity.onset_before(segment.start_ms, EARLY_START_MS);
                let start = onset.max(previous_end).min(segment.start_ms);
                (segment.start_ms, segment.end_ms) = activity.tighten(start, segment.end_ms);
                segments.push(segment);
            }
            let mut next = seek + window.advance.max(1);
            if window.advance < size {
                // The last timestamp may already be inside the next line: resume where that
                // line's sound begins, or its first word is cut off.
                let next_ms = next as u64 * FRAME_MS;
                let onset = activity.onset_before(next_ms, MAX_SEEK_BACK_MS);
                next = (onset / FRAME_MS) as usize;
                next = next.max(seek + 1);
            }
            seek = next;
        }
        Ok(segments)
    }

    /// The decoder prompt: `<|startoftranscript|>` alone for `.en` models; with the language
    /// (detected on the first window when not given) and `<|transcribe|>` for multilingual ones.
    /// No `<|notimestamps|>`: timestamps are what the segments are cut at.
    fn prompt(
        &self,
        encoded: &StorageView<'_>,
        language: &mut Option<String>,
        at_ms: u64,
    ) -> Result<Vec<String>, SttError> {
        let mut prompt = vec!["<|startoftranscript|>".to_string()];
        if !self.model.is_multilingual() {
            return Ok(prompt);
        }
        let token = match language {
            Some(code) => format!("<|{code}|>"),
            None => {
                let detected =
                    self.model
                        .detect_language(encoded)
                        .map_err(|e| SttError::Inference {
                            at_ms,
                            message: format!("{e:#}"),
                        })?;
                let best = detected
                    .first()
                    .and_then(|langs| langs.first())
                    .map(|d| d.language.clone())
                    .unwrap_or_else(|| "<|en|>".to_string());
                *language = Some(
                    best.trim_start_matches("<|")
                        .trim_end_matches("|>")
                        .to_string(),
                );
                best
            }
        };
        if !self.tokens.contains(&token) {
            return Err(SttError::UnknownLanguage {
                language: token
                    .trim_start_matches("<|")
                    .trim_end_matches("|>")
                    .to_string(),
            });
        }
        prompt.push(token);
        prompt.push("<|transcribe|>".to_string());
        Ok(prompt)
    }

    /// Cuts one window's tokens into segments at timestamp pairs and says how far to seek.
    fn split_at_timestamps(
        &self,
        ids: &[usize],
        seek: usize,
        size: usize,
        audio_end_ms: u64,
    ) -> WindowResult {
        let t = &self.tokens;
        // Keep text and timestamps only (drop any prompt or task tokens echoed back).
        let ids: Vec<usize> = ids
            .iter()
            .copied()
            .filter(|&id| t.is_text(id) || t.is_timestamp(id))
            .collect();
        let offset_ms = seek as u64 * FRAME_MS;
        let window_end_ms = (offset_ms + size as u64 * FRAME_MS).min(audio_end_ms);
        let time_of = |id: usize| offset_ms + (id - t.timestamp_begin) as u64 * TIMESTAMP_STEP_MS;
        let mut segments = Vec::new();
        let mut push = |start_ms: u64, end_ms: u64, tokens: &[usize]| {
            let text = self.decode(tokens);
            let start_ms = start_ms.min(window_end_ms);
            let end_ms = end_ms.clamp(start_ms, window_end_ms);
            if !text.is_empty() && end_ms > start_ms {
                segments.push(Segment::new(start_ms, end_ms, text));
            }
        };

        let n = ids.len();
        let ends_with_single_timestamp =
            n >= 2 && t.is_timestamp(ids[n - 1]) && !t.is_timestamp(ids[n - 2]);
        // A pair of consecutive timestamps closes one segment and opens the next.
        let mut cuts: Vec<usize> = (1..n)
            .filter(|&i| t.is_timestamp(ids[i]) && t.is_timestamp(ids[i - 1]))
            .collect();
        if cuts.is_empty() {
            // One segment for the window, ending at the last timestamp if any.
            let end_ms = ids
                .iter()
                .rev()
                .find(|&&id| t.is_timestamp(id) && id > t.timestamp_begin)
                .map_or(window_end_ms, |&id| time_of(id));
            let start_ms = ids
                .first()
                .filter(|&&id| t.is_timestamp(id))
                .map_or(offset_ms, |&id| time_of(id));
            let text: Vec<usize> = ids.iter().copied().filter(|&id| t.is_text(id)).collect();
            push(start_ms, end_ms, &text);
            return WindowResult {
                segments,
                advance: size,
            };
        }
        if ends_with_single_timestamp {
            cuts.push(n);
        }
        let mut last = 0;
        for &cut in &cuts {
            let slice = &ids[last..cut];
            last = cut;
            let (Some(&first), Some(&final_id)) = (slice.first(), slice.last()) else {
                continue;
            };
            if !t.is_timestamp(first) || !t.is_timestamp(final_id) {
                continue;
            }
            let text: Vec<usize> = slice.iter().copied().filter(|&id| t.is_text(id)).collect();
            push(time_of(first), time_of(final_id), &text);
        }
        let advance = if ends_with_single_timestamp {
            // The model saw the end of speech in this window: nothing is cut off.
            size
        } else {
            // Resume at the last complete segment's end; what follows is decoded again whole.
            let last_timestamp = ids[last - 1] - t.timestamp_begin;
            match last_timestamp * FRAMES_PER_TIMESTAMP {
                0 => size,
                frames => frames.min(size),
            }
        };
        WindowResult { segments, advance }
    }

    /// Token ids → text. Whisper's vocabulary is byte-level BPE (GPT-2): each token is a string
    /// of stand-in characters, one per byte; map them back to bytes and read UTF-8.
    fn decode(&self, ids: &[usize]) -> String {
        let mut bytes = Vec::new();
        for token in ids.iter().filter_map(|&id| self.tokens.vocabulary.get(id)) {
            bytes.extend(token.chars().filter_map(byte_of_bpe_char));
        }
        String::from_utf8_lossy(&bytes).trim().to_string()
    }
}

/// Inverse of GPT-2's `bytes_to_unicode`: printable Latin-1 bytes stand for themselves, the other
/// 68 bytes (controls, space, …) were shifted to U+0100.. in byte order.
fn byte_of_bpe_char(c: char) -> Option<u8> {
    let is_printable = |b: u32| {
        (0x21..=0x7E).contains(&b) || (0xA1..=0xAC).contains(&b) || (0xAE..=0xFF).contains(&b)
    };
    let code = u32::from(c);
    if code < 0x100 {
        return is_printable(code).then_some(code as u8);
    }
    let index = code - 0x100;
    (0u32..=0xFF)
        .filter(|&b| !is_printable(b))
        .nth(index as usize)
        .map(|b| b as u8)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bpe_chars_map_back_to_bytes() {
        // 'Ġ' (U+0120) stands for a space, 'Ċ' (U+010A) for a newline.
        assert_eq!(byte_of_bpe_char('Ġ'), Some(b' '));
        assert_eq!(byte_of_bpe_char('Ċ'), Some(b'\n'));
        assert_eq!(byte_of_bpe_char('a'), Some(b'a'));
        assert_eq!(byte_of_bpe_char('\u{0100}'), Some(0));
        // "é" is two UTF-8 bytes, 0xC3 0xA9, both printable Latin-1 stand-ins.
        let bytes: Vec<u8> = "Ã©".chars().filter_map(byte_of_bpe_char).collect();
        assert_eq!(String::from_utf8(bytes).unwrap(), "é");
        // Every byte has exactly one stand-in.
        let all: std::collections::HashSet<u8> = (0u32..0x200)
            .filter_map(char::from_u32)
            .filter_map(byte_of_bpe_char)
            .collect();
        assert_eq!(all.len(), 256);
    }
}
