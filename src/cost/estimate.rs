//! The estimate: what each stage of a run consumes, priced.
//!
//! Takes a [`RunPlan`] (the lines if known, the audio length, the engines and options) and a
//! price table, and returns one [`StageCost`] per stage the run will do:
//! transcription by audio minutes, polish and translation by the tokens of the very requests the
//! editor would send, synthesis by spoken characters (with the audio minutes and input tokens
//! some TTS models bill by). Without lines, text is assumed from the audio length. Spends
//! nothing and calls no engine. Separate from the prices, which it only looks up.

use super::prices::PriceTable;
use super::{Engine, EngineKind, StageCost, Usage};
use crate::Segment;
use crate::llm::edit::CHARS_PER_TOKEN;
use crate::llm::{EditOptions, Glossary, Translation, estimate_tokens};

/// Characters of text spoken per minute (about 150 words of English), to turn text into audio
/// minutes before any audio exists.
pub const SPEECH_CHARS_PER_MINUTE: f64 = 900.0;

/// Cost per stage and in total.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Estimate {
    pub stages: Vec<StageCost>,
}

impl Estimate {
    /// Sum of the stages with a known price, in US dollars.
    pub fn total_usd(&self) -> f64 {
        self.stages.iter().filter_map(|s| s.usd).sum()
    }

    /// Stages whose engine has no known price (the total leaves them out).
    pub fn unpriced(&self) -> impl Iterator<Item = &StageCost> {
        self.stages.iter().filter(|s| s.usd.is_none())
    }

    /// The cost of the stage named `stage`, if it is in the estimate and priced.
    pub fn stage_usd(&self, stage: &str) -> Option<f64> {
        self.stages
            .iter()
            .find(|s| s.stage == stage)
            .and_then(|s| s.usd)
    }
}

/// What a run will do, for [`estimate`].
#[derive(Debug, Clone)]
pub struct RunPlan<'a> {
    /// The lines, when subtitles exist; without them text is estimated from the audio length.
    pub segments: Option<&'a [Segment]>,
    /// Length of the video's audio.
    pub audio_ms: u64,
    /// Transcription engine, when the run transcribes.
    pub stt: Option<Engine>,
    /// Chat engine for polish and translation.
    pub chat: Option<Engine>,
    pub polish: bool,
    /// Target language, when the run translates.
    pub translate_to: Option<String>,
    /// Voice engine, when the run synthesizes.
    pub tts: Option<Engine>,
    /// Batching of chat requests (changes the context sent, so the input tokens).
    pub edit_options: EditOptions,
}

/// Spoken characters of `segments`.
pub fn spoken_chars(segments: &[Segment]) -> u64 {
    segments
        .iter()
        .map(|s| s.spoken_text().chars().count() as u64)
        .sum()
}

/// Stand-in lines for a transcript not made yet: `audio_ms` of speech at
/// [`SPEECH_CHARS_PER_MINUTE`], in lines of 60 characters (four-letter words).
fn assumed_segments(audio_ms: u64) -> Vec<Segment> {
    const LINE_CHARS: usize = 60;
    let words = |n: usize| -> String {
        (0..n)
            .map(|k| if k % 5 == 4 && k + 1 != n { ' ' } else { 'w' })
            .collect()
    };
    let mut chars = (audio_ms as f64 / 60_000.0 * SPEECH_CHARS_PER_MINUTE).round() as usize;
    let mut segments = Vec::new();
    let mut start = 0u64;
    while chars > 0 {
        let n = chars.min(LINE_CHARS);
        segments.push(Segment::new(start, start + 4000, words(n)));
        chars -= n;
        start += 4000;
    }
    segments
}

/// The cost per stage of `plan` at `prices`: transcribe (audio minutes), polish and translate
/// (tokens of the very requests the editor would send), synthesize (spoken characters, with the
/// audio minutes and input tokens some TTS models bill by).
pub fn estimate(plan: &RunPlan<'_>, prices: &PriceTable) -> Estimate {
    let assumed;
    let segments = match plan.segments {
        Some(s) => s,
        None => {
            assumed = assumed_segments(plan.audio_ms);
            &assumed
        }
    };
    let mut stages = Vec::new();
    if let Some(stt) = &plan.stt {
        let usage = Usage {
            minutes: plan.audio_ms as f64 / 60_000.0,
            ..Usage::default()
        };
        stages.push(prices.stage("transcribe", EngineKind::Stt, stt, usage));
    }
    if let Some(chat) = &plan.chat {
        let mut chat_stage = |name: &str, translation: Option<&Translation>| {
            let tokens = estimate_tokens(segments, &plan.edit_options, translation);
            let usage = Usage {
                input_tokens: tokens.input,
                output_tokens: tokens.output,
                ..Usage::default()
            };
            stages.push(prices.stage(name, EngineKind::Chat, chat, usage));
        };
        if plan.polish {
            chat_stage("polish", None);
        }
        if let Some(target) = &plan.translate_to {
            let translation = Translation {
                target_language: target.clone(),
                source_language: None,
                glossary: Glossary::default(),
            };
            chat_stage("translate", Some(&translation));
        }
    }
    if let Some(tts) = &plan.tts {
        let chars = spoken_chars(segments);
        let usage = Usage {
            chars,
            minutes: chars as f64 / SPEECH_CHARS_PER_MINUTE,
            input_tokens: chars.div_ceil(CHARS_PER_TOKEN),
            output_tokens: 0,
        };
        stages.push(prices.stage("synthesize", EngineKind::Tts, tts, usage));
    }
    Estimate { stages }
}
