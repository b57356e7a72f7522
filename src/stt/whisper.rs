//! One Whisper model on CTranslate2 (a faster-whisper model folder), fully offline.
//!
//! Uses the low-level `ct2rs::sys::Whisper` (encode, generate, detect_language) rather than
//! ct2rs's high-level type, which needs a `preprocessor_config.json` the faster-whisper models lack,
//! always sends the multilingual prompt (garbage from `.en` models), computes non-standard
//! features and cuts audio every 30 s without seeking. Here, as in OpenAI's and faster-whisper's
//! decoders: standard log-mel ([`super::mel`]), the right prompt for `.en` vs multilingual models
//! and for the task, decoding with timestamp tokens, temperature fallback when a window's text
//! loops or the model is unsure ([`super::quality`]), one segment per timestamp pair, then
//! seeking to the last timestamp so speech crossing a 30 s boundary is decoded whole in the next
//! window. Which audio the model sees (speech only) is [`super::local`]'s job.

use std::path::Path;
use std::sync::Arc;

use ct2rs::sys::{ComputeType, Config, Device, StorageView, Whisper, WhisperOptions};

use super::activity::Activity;
use super::align;
use super::heard::LanguageGuess;
use super::mel::{FRAMES_PER_WINDOW, HOP, MelExtractor, SAMPLES_PER_WINDOW};
use super::quality::{self, Scores, TEMPERATURES};
use super::tokens::SpecialTokens;
use super::window::{FRAME_MS, split_at_timestamps};
use super::{SttError, Task};
use crate::Segment;

/// Latest first timestamp the decoder may emit, in 20 ms steps (the whole 30 s window).
const MAX_INITIAL_TIMESTAMP_INDEX: usize = 1500;
/// How far a segment start may move back to the onset of its line.
const EARLY_START_MS: u64 = 300;
/// How far before the last timestamp the decoder may resume to catch a line's first word.
const MAX_SEEK_BACK_MS: u64 = 1_000;
/// Trailing audio shorter than this (frames) is not worth a decoder pass.
const MIN_WINDOW_FRAMES: usize = 10;
/// Candidates sampled per window at a temperature above zero (Whisper's `best_of`).
const BEST_OF: usize = 5;

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

/// A language the model heard, with its probability.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct DetectedLanguage {
    /// ISO 639-1 code, as in Whisper's tokens (`de`).
    pub code: String,
    /// The model's probability for it (0–1).
    pub probability: f32,
    /// The model's probability that the speech is English (0–1), to tell "surely not English"
    /// from "unsure".
    pub english_probability: f32,
    /// The model's second choice, to name when the first is unsure.
    #[serde(default)]
    pub runner_up: Option<LanguageGuess>,
}

/// What decoding dropped or repeated, for the report.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct DecodeCounts {
    /// Decoder windows (30 s or less each).
    pub windows: usize,
    /// Windows decoded again at a higher temperature (their text looped or was unsure).
    pub fallbacks: usize,
    /// Windows the model judged to hold no speech.
    pub silent_windows: usize,
    /// Lines whose phrase looped, said once instead.
    pub loops_collapsed: usize,
    /// Lines dropped because they repeated the line before.
    pub repeats_dropped: usize,
}

struct Engine {
    model: Whisper,
    tokens: SpecialTokens,
    mel: MelExtractor,
    beam_size: usize,
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
                beam_size: config.beam_size.max(1),
                name,
            }),
        })
    }

    /// The model folder's name (`tiny.en`, `base`).
    pub fn name(&self) -> &str {
        &self.engine.name
    }

    /// Whether the model knows many languages (else it is an English-only `.en` model).
    pub fn is_multilingual(&self) -> bool {
        self.engine.model.is_multilingual()
    }

    /// The language spoken in the first 30 s of `audio` (16 kHz mono; give it speech only).
    /// `None` for an English-only model, which cannot tell.
    pub fn detect_language(&self, audio: &[f32]) -> Result<Option<DetectedLanguage>, SttError> {
        if !self.is_multilingual() {
            return Ok(None);
        }
        let e = &self.engine;
        let head = &audio[..audio.len().min(SAMPLES_PER_WINDOW)];
        let mel = e.mel.compute(head, SAMPLES_PER_WINDOW);
        let encoded = e.encode(&mel, 0, FRAMES_PER_WINDOW)?;
        e.detect(&encoded, 0).map(Some)
    }

    /// Transcribes (or, with [`Task::Translate`], translates into English) on the current thread
    /// (CPU-bound: call from a blocking thread). `language` is the spoken language's code; for a
    /// multilingual model `None` detects it on the first window.
    pub fn decode_blocking(
        &self,
        audio: &[f32],
        language: Option<&str>,
        task: Task,
    ) -> Result<(Vec<Segment>, DecodeCounts), SttError> {
        self.engine.decode(audio, language, task)
    }
}

/// A window's chosen decoding.
struct Decoded {
    ids: Vec<usize>,
    scores: Scores,
}

impl Engine {
    fn encode(
        &self,
        mel: &super::mel::LogMel,
        seek: usize,
        size: usize,
    ) -> Result<StorageView<'static>, SttError> {
        let at_ms = seek as u64 * FRAME_MS;
        let inference = |message: String| SttError::Inference { at_ms, message };
        let mut features = mel.window(seek, size);
        let shape = [1, mel.n_mels, FRAMES_PER_WINDOW];
        let view = StorageView::new(&shape, &mut features, Device::CPU)
            .map_err(|e| inference(format!("{e:#}")))?;
        self.model
            .encode(&view, false)
            .map_err(|e| inference(format!("{e:#}")))
    }

    fn detect(&self, encoded: &StorageView<'_>, at_ms: u64) -> Result<DetectedLanguage, SttError> {
        let detected = self
            .model
            .detect_language(encoded)
            .map_err(|e| SttError::Inference {
                at_ms,
                message: format!("{e:#}"),
            })?;
        let all = detected.first().map_or(&[][..], Vec::as_slice);
        let best = all.first();
        let english = all.iter().find(|d| d.language == "<|en|>");
        let code = |token: &str| {
            token
                .trim_start_matches("<|")
                .trim_end_matches("|>")
                .to_string()
        };
        Ok(DetectedLanguage {
            code: code(best.map_or("en", |d| d.language.as_str())),
            probability: best.map_or(0.0, |d| d.probability),
            english_probability: english.map_or(0.0, |d| d.probability),
            // ct2rs orders the choices from best to worst.
            runner_up: all
                .get(1)
                .map(|d| LanguageGuess::new(&code(&d.language), d.probability)),
        })
    }

    fn decode(
        &self,
        audio: &[f32],
        language: Option<&str>,
        task: Task,
    ) -> Result<(Vec<Segment>, DecodeCounts), SttError> {
        // 30 s of padding so the last window has frames to read, as Whisper does.
        let mel = self.mel.compute(audio, SAMPLES_PER_WINDOW);
        let content_frames = audio.len() / HOP;
        let audio_end_ms = audio.len() as u64 * 1000 / 16_000;
        let activity = Activity::new(audio);
        let mut language = language.map(str::to_string);
        let mut counts = DecodeCounts::default();
        let mut segments: Vec<Segment> = Vec::new();
        let mut seek = 0usize;
        while seek + MIN_WINDOW_FRAMES <= content_frames {
            let size = (content_frames - seek).min(FRAMES_PER_WINDOW);
            let at_ms = seek as u64 * FRAME_MS;
            let window_started = std::time::Instant::now();
            let encoded = self.encode(&mel, seek, size)?;
            let prompt = self.prompt(&encoded, &mut language, task, at_ms)?;
            let (decoded, fallbacks) = self.decode_window(&encoded, &prompt, at_ms)?;
            counts.windows += 1;
            counts.fallbacks += usize::from(fallbacks > 0);
            tracing::debug!(
                at_ms,
                frames = size,
                tokens = decoded.ids.len(),
                fallbacks,
                total_ms = window_started.elapsed().as_millis() as u64,
                no_speech = decoded.scores.no_speech_prob,
                avg_logprob = decoded.scores.avg_logprob,
                compression_ratio = decoded.scores.compression_ratio,
                "whisper window"
            );
            if decoded.scores.is_silence() {
                counts.silent_windows += 1;
                seek += size;
                continue;
            }
            let window = split_at_timestamps(&self.tokens, &decoded.ids, seek, size, audio_end_ms);
            let prompt_ids: Vec<usize> = prompt.iter().filter_map(|t| self.tokens.id(t)).collect();
            let timed = align::time_segments(
                &self.model,
                &self.tokens,
                &encoded,
                &prompt_ids,
                window.segments,
                (seek, size),
                &activity,
            );
            for mut segment in timed {
                if let Some(once) = quality::collapse_loops(&segment.text) {
                    tracing::debug!(at_ms, text = %segment.text, "a looping phrase said once");
                    segment.text = once;
                    counts.loops_collapsed += 1;
                }
                if segments
                    .last()
                    .is_some_and(|previous| quality::repeats(&previous.text, &segment.text))
                {
                    tracing::debug!(at_ms, text = %segment.text, "a repeated line dropped");
                    counts.repeats_dropped += 1;
                    continue;
                }
                // Starts tend to be a little late: move to the line's onset when it is near,
                // never into the previous segment.
                let previous_end = segments.last().map_or(0, |s| s.end_ms);
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
        Ok((segments, counts))
    }

    /// Decodes one window at temperature 0 (beam search), and again at 0.2, 0.4, … (sampling
    /// [`BEST_OF`] candidates) while the text loops or the model is unsure, as Whisper does.
    /// Returns the decoding kept and how many fallbacks it took.
    fn decode_window(
        &self,
        encoded: &StorageView<'_>,
        prompt: &[String],
        at_ms: u64,
    ) -> Result<(Decoded, usize), SttError> {
        let inference = |message: String| SttError::Inference { at_ms, message };
        let mut kept: Option<Decoded> = None;
        for (attempt, &temperature) in TEMPERATURES.iter().enumerate() {
            let options = self.options(temperature);
            let results = self
                .model
                .generate(encoded, &[prompt.to_vec()], &options)
                .map_err(|e| inference(format!("{e:#}")))?;
            let Some(result) = results.into_iter().next() else {
                return Err(inference("no result".to_string()));
            };
            let no_speech_prob = result.no_speech_prob;
            // The best of the candidates by average log-probability.
            let Some(decoded) = result
                .sequences_ids
                .into_iter()
                .zip(result.scores)
                .map(|(ids, score)| self.scored(ids, score, no_speech_prob))
                .max_by(|a, b| a.scores.avg_logprob.total_cmp(&b.scores.avg_logprob))
            else {
                return Err(inference("no sequence".to_string()));
            };
            if !decoded.scores.needs_fallback() {
                return Ok((decoded, attempt));
            }
            // None was good enough: keep the surest one that does not loop, else the surest.
            let better = |new: &Decoded, old: &Decoded| {
                let loops =
                    |d: &Decoded| d.scores.compression_ratio > quality::COMPRESSION_RATIO_THRESHOLD;
                match (loops(new), loops(old)) {
                    (false, true) => true,
                    (true, false) => false,
                    _ => new.scores.avg_logprob > old.scores.avg_logprob,
                }
            };
            if kept.as_ref().is_none_or(|old| better(&decoded, old)) {
                kept = Some(decoded);
            }
        }
        kept.map(|d| (d, TEMPERATURES.len() - 1))
            .ok_or_else(|| inference("no decoding".to_string()))
    }

    fn options(&self, temperature: f32) -> WhisperOptions {
        let common = WhisperOptions {
            return_scores: true,
            return_no_speech_prob: true,
            // Whisper's default caps the first timestamp at 1 s, which pins a line that starts
            // later in the window to the window's start; dubbing needs the real start time.
            max_initial_timestamp_index: MAX_INITIAL_TIMESTAMP_INDEX,
            ..WhisperOptions::default()
        };
        if temperature == 0.0 {
            WhisperOptions {
                beam_size: self.beam_size,
                ..common
            }
        } else {
            WhisperOptions {
                beam_size: 1,
                num_hypotheses: BEST_OF,
                sampling_temperature: temperature,
                sampling_topk: 0,
                ..common
            }
        }
    }

    /// The scores of one candidate: CTranslate2's score is the log-probability divided by the
    /// length; Whisper averages over the length plus one (faster-whisper does the same).
    fn scored(&self, ids: Vec<usize>, score: f32, no_speech_prob: f32) -> Decoded {
        let len = ids.len() as f32;
        let avg_logprob = score * len / (len + 1.0);
        let text: Vec<usize> = ids
            .iter()
            .copied()
            .filter(|&id| self.tokens.is_text(id))
            .collect();
        let compression_ratio = quality::compression_ratio(&self.tokens.decode(&text));
        Decoded {
            ids,
            scores: Scores {
                avg_logprob,
                no_speech_prob,
                compression_ratio,
            },
        }
    }

    /// The decoder prompt: `<|startoftranscript|>` alone for `.en` models; with the language
    /// (detected on this window when not known) and the task for multilingual ones.
    /// No `<|notimestamps|>`: timestamps are what the segments are cut at.
    fn prompt(
        &self,
        encoded: &StorageView<'_>,
        language: &mut Option<String>,
        task: Task,
        at_ms: u64,
    ) -> Result<Vec<String>, SttError> {
        let mut prompt = vec!["<|startoftranscript|>".to_string()];
        if !self.model.is_multilingual() {
            return match task {
                Task::Transcribe => Ok(prompt),
                Task::Translate => Err(SttError::CannotTranslate {
                    model: self.name.clone(),
                }),
            };
        }
        let code = match language {
            Some(code) => code.clone(),
            None => {
                let detected = self.detect(encoded, at_ms)?;
                *language = Some(detected.code.clone());
                detected.code
            }
        };
        let token = format!("<|{code}|>");
        if !self.tokens.contains(&token) {
            return Err(SttError::UnknownLanguage { language: code });
        }
        prompt.push(token);
        prompt.push(
            match task {
                Task::Transcribe => "<|transcribe|>",
                Task::Translate => "<|translate|>",
            }
            .to_string(),
        );
        Ok(prompt)
    }
}
