//! Local transcription as the pipeline uses it: speech found by Silero VAD, joined and shown to
//! Whisper, the language detected by a multilingual model, English speech optionally sent to a
//! faster English-only model, and an English-only model never given other languages.
//!
//! Why the pieces: Whisper shown silence or music invents text ("Thank you for watching"), and
//! drifts when a window starts long before its speech; the VAD keeps it on speech, and segment
//! times are mapped back into the spans it found ([`SpeechMap`]). An English-only model shown
//! German writes an invented English sentence, so the language is checked first and such a run
//! is an error that names the language, never a transcript.

use std::sync::Arc;

use super::heard::{HeardLanguage, LanguageGuess};
use super::languages;
use super::speech_map::SpeechMap;
use super::vad::{SileroVad, SpeechSpan, VadOptions};
use super::whisper::{DecodeCounts, DetectedLanguage, LocalWhisper};
use super::{BoxFuture, SttError, Task, TranscribeOptions, Transcriber};
use crate::Segment;

/// Speech another language was detected in is surely not English when the detector gives
/// English less than this: an English-only model is refused it. Above, it is only warned about.
const UNLIKELY_ENGLISH: f32 = 0.2;

/// What a transcription produced.
#[derive(Debug, Clone, PartialEq)]
pub struct Transcript {
    /// The lines, with times in the recording.
    pub segments: Vec<Segment>,
    /// How it went: language, model, what was dropped.
    pub report: SttReport,
}

/// What a transcription did, for the user and the prep report (`transcription.json`).
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SttReport {
    /// The engine and model that wrote the lines (`whisper:base`).
    pub engine: String,
    /// Transcribe or translate into English.
    pub task: Task,
    /// The language spoken (ISO 639-1), forced or detected; `None` when nothing could tell.
    pub language: Option<String>,
    /// Its English name.
    pub language_name: Option<String>,
    /// The detector's probability; `None` when the language was forced or not detected.
    pub language_probability: Option<f32>,
    /// The detector's probability that the speech is English (for the English-only check).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub english_probability: Option<f32>,
    /// The detector's second choice (named when the first is unsure).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language_runner_up: Option<LanguageGuess>,
    /// The model that detected the language (`whisper:base`).
    pub detected_by: Option<String>,
    /// Length of the recording.
    pub audio_ms: u64,
    /// Speech found by the voice-activity detector (the model saw only this).
    pub speech_ms: u64,
    /// Stretches of speech found.
    pub speech_spans: usize,
    /// Whether a voice-activity detector was used (else the model saw everything).
    pub vad: bool,
    /// What the decoder did and dropped (windows, fallbacks, silent windows, loops collapsed,
    /// repeats dropped), at the top level of the JSON.
    #[serde(flatten)]
    pub decoding: DecodeCounts,
}

impl SttReport {
    /// The language the lines are in and how it was chosen (with a warning when the detector was
    /// unsure); `None` when no language is known.
    pub fn heard_language(&self) -> Option<HeardLanguage> {
        let code = self.language.as_deref()?;
        Some(match self.language_probability {
            Some(p) => HeardLanguage::detected(
                LanguageGuess::new(code, p),
                self.language_runner_up.clone(),
            ),
            None => HeardLanguage::given(code),
        })
    }
}

/// Local Whisper with voice-activity detection and language handling; cheap to clone.
#[derive(Debug, Clone)]
pub struct LocalStt {
    /// The model that writes the lines (the one named, or the multilingual default).
    model: LocalWhisper,
    /// English speech is transcribed by this model instead (tiny.en: as accurate on English,
    /// several times faster than a multilingual base).
    english: Option<LocalWhisper>,
    /// Tells the language when `model` is English-only (so other languages can be refused).
    detector: Option<LocalWhisper>,
    vad: Option<Arc<SileroVad>>,
    vad_options: VadOptions,
}

impl LocalStt {
    /// One model, shown the whole recording.
    pub fn new(model: LocalWhisper) -> Self {
        Self {
            model,
            english: None,
            detector: None,
            vad: None,
            vad_options: VadOptions::default(),
        }
    }

    /// Shows the model only the speech `vad` finds.
    pub fn with_vad(mut self, vad: Arc<SileroVad>) -> Self {
        self.vad = Some(vad);
        self
    }

    /// Sends English speech to `english` (an English-only model) when transcribing.
    pub fn with_english_model(mut self, english: LocalWhisper) -> Self {
        self.english = Some(english);
        self
    }

    /// Detects the language with `detector` (multilingual) when the model is English-only.
    pub fn with_language_detector(mut self, detector: LocalWhisper) -> Self {
        self.detector = Some(detector);
        self
    }

    /// The model that writes the lines unless English speech goes to the English model.
    pub fn model(&self) -> &LocalWhisper {
        &self.model
    }

    /// The multilingual model that tells the language, if any.
    fn language_detector(&self) -> Option<&LocalWhisper> {
        match self.model.is_multilingual() {
            true => Some(&self.model),
            false => self.detector.as_ref().filter(|d| d.is_multilingual()),
        }
    }

    /// Transcribes on the current thread (CPU-bound: call from a blocking thread).
    pub fn transcribe_blocking(
        &self,
        audio: &[f32],
        options: &TranscribeOptions,
    ) -> Result<Transcript, SttError> {
        let mut report = SttReport {
            task: options.task,
            audio_ms: audio.len() as u64 / 16,
            vad: self.vad.is_some(),
            ..SttReport::default()
        };
        let spans = match &self.vad {
            Some(vad) => vad.speech(audio, &self.vad_options)?,
            None => vec![SpeechSpan {
                start: 0,
                end: audio.len(),
            }],
        };
        let map = SpeechMap::new(spans);
        report.speech_spans = map.spans().len();
        report.speech_ms = map.joined_len() as u64 / 16;
        tracing::debug!(
            "speech: {:.1} s in {} stretch(es) of {:.1} s of audio",
            report.speech_ms as f64 / 1000.0,
            report.speech_spans,
            report.audio_ms as f64 / 1000.0
        );
        if map.spans().is_empty() {
            report.engine = format!("whisper:{}", self.model.name());
            return Ok(Transcript {
                segments: Vec::new(),
                report,
            });
        }
        let speech = map.join(audio);
        let language = self.language(&speech, options, &mut report)?;
        let model = self.choose_model(language.as_deref(), options.task, &report)?;
        report.engine = format!("whisper:{}", model.name());
        // English into English is a transcription.
        let task = match (options.task, language.as_deref()) {
            (Task::Translate, Some("en")) => Task::Transcribe,
            (task, _) => task,
        };
        let language = language.filter(|_| model.is_multilingual());
        let (segments, counts) = model.decode_blocking(&speech, language.as_deref(), task)?;
        report.decoding = counts;
        let segments = segments
            .into_iter()
            .map(|mut segment| {
                (segment.start_ms, segment.end_ms) =
                    map.original_range(segment.start_ms, segment.end_ms);
                segment
            })
            .filter(|s| s.end_ms > s.start_ms)
            .collect();
        Ok(Transcript { segments, report })
    }

    /// The spoken language: forced by the options, else detected on the first 30 s of speech.
    fn language(
        &self,
        speech: &[f32],
        options: &TranscribeOptions,
        report: &mut SttReport,
    ) -> Result<Option<String>, SttError> {
        let language = match &options.language {
            Some(given) => Some(
                languages::code(given)
                    .ok_or_else(|| SttError::UnknownLanguage {
                        language: given.clone(),
                    })?
                    .to_string(),
            ),
            None => match self.language_detector() {
                Some(detector) => {
                    let detected = detector.detect_language(speech)?;
                    if let Some(DetectedLanguage {
                        code,
                        probability,
                        english_probability,
                        runner_up,
                    }) = &detected
                    {
                        report.language_probability = Some(*probability);
                        report.english_probability = Some(*english_probability);
                        report.language_runner_up.clone_from(runner_up);
                        report.detected_by = Some(format!("whisper:{}", detector.name()));
                        tracing::debug!(
                            "language heard: {} ({code}, p = {probability:.2})",
                            languages::name(code)
                        );
                    }
                    detected.map(|d| d.code)
                }
                None => None,
            },
        };
        report.language_name = language.as_deref().map(|c| languages::name(c).to_string());
        report.language = language.clone();
        Ok(language)
    }

    /// The model for `language` and `task`; an English-only model given other speech is an error.
    fn choose_model(
        &self,
        language: Option<&str>,
        task: Task,
        report: &SttReport,
    ) -> Result<&LocalWhisper, SttError> {
        let english_speech = language == Some("en");
        let model = match (&self.english, task) {
            (Some(english), Task::Transcribe) if english_speech => english,
            _ => &self.model,
        };
        if model.is_multilingual() {
            return Ok(model);
        }
        if task == Task::Translate && !english_speech {
            return Err(SttError::CannotTranslate {
                model: model.name().to_string(),
            });
        }
        match language {
            Some("en") | None => Ok(model),
            Some(code) => {
                let sure = report
                    .english_probability
                    .is_none_or(|p| p < UNLIKELY_ENGLISH);
                if !sure {
                    tracing::warn!(
                        "the speech may be {} ({code}); Whisper model '{}' knows only English",
                        languages::name(code),
                        model.name()
                    );
                    return Ok(model);
                }
                Err(SttError::EnglishOnly {
                    model: model.name().to_string(),
                    code: code.to_string(),
                    name: languages::name(code).to_string(),
                })
            }
        }
    }
}

impl Transcriber for LocalStt {
    fn name(&self) -> String {
        let mut name = format!("whisper:{}", self.model.name());
        if let Some(english) = &self.english {
            name.push_str(&format!("+{}", english.name()));
        }
        if self.vad.is_some() {
            name.push_str("+vad");
        }
        name
    }

    fn transcribe<'a>(
        &'a self,
        audio: Vec<f32>,
        options: &'a TranscribeOptions,
    ) -> BoxFuture<'a, Result<Transcript, SttError>> {
        let this = self.clone();
        let options = options.clone();
        Box::pin(async move {
            tokio::task::spawn_blocking(move || this.transcribe_blocking(&audio, &options))
                .await
                .map_err(|e| SttError::Worker(e.to_string()))?
        })
    }
}
