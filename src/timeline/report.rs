//! `report.json`: the plan written out for people and scripts, with a summary of how well the
//! speech fitted.
//!
//! Schema (times in seconds, speeds as factors, above 1 is faster):
//!
//! ```text
//! {"summary": {"lines", "lines_fitted", "max_speed", "mean_speed", "lines_above_1_15",
//!              "lines_at_cap", "total_drift", "max_drift", "overflows",
//!              "start_error_p50", "start_error_p99", "track_seconds", "rate",
//!              "speakers": [{"speaker"?, "voice", "chunks", "seconds"}]},
//!  "chunks": [{"id", "text", "windows": [{"start", "end"}], "start", "natural", "played",
//!              "speed", "shift", "borrowed", "voice_speed", "speaker"?, "voice",
//!              "warnings": [{"kind", ...}]}],
//!  "background": {"mode", "method", "reason"?, "channels", "layout", "rate",
//!                 "dialogue_lufs"?, "dub_lufs"?, "dub_gain_db"},
//!  "language"?: {"code", "name", "detected", "probability"?,
//!                "runner_up"?: {"code", "name", "probability"}, "warning"?}}
//! ```
//!
//! `language` ([`crate::stt::HeardLanguage`]) is the language prep heard the speech in, when it
//! transcribed: `detected` with the detector's `probability` and second choice, or named
//! (`--stt-language`); `warning` says that the detection was unsure, naming both languages and
//! `--stt-language`.
//!
//! `background` ([`crate::background::BackgroundReport`]) says how the original audio was
//! treated: `mode` as asked (`duck`, `mix`, `none`, `separate`), `method` as done (`duck`, `mix`,
//! `none`, `centre-channel`, `stereo-mask`, `duck-fallback` with its `reason`).
//!
//! `natural` is the clip's own length, `played` its length on the track, `speed` =
//! natural / played, `shift` how far it starts after its window (negative: before), `borrowed` the
//! pause after the window that it uses. `speaker` is who speaks the chunk (absent when unknown),
//! `voice` the voice that spoke it as `engine:voice` (`piper:en_US-joe-medium`); the summary's
//! `speakers` gives each (speaker, voice) its chunks and the seconds they play. Warning kinds are those of [`super::Warning`] in snake
//! case (`overflow`, `shifted`, `drift_exceeded`, `beyond_window`, `pulled_early`,
//! `cut_at_video_end`, `empty_clip`, `clip_ignored`, `synthesis_failed`).

use super::plan::{Plan, Warning};
use super::policy::Policy;
use crate::segment::{Chunk, Window};
use crate::stt::HeardLanguage;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// The whole report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// How well the speech fitted, over all lines.
    pub summary: Summary,
    /// One entry per chunk, in the chunks' order.
    pub chunks: Vec<ChunkReport>,
    /// How the original audio was treated under the dub (written once it is mixed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub background: Option<crate::background::BackgroundReport>,
    /// The language prep heard the speech in (from `manifest.json`; absent when prep imported
    /// subtitles), with a `warning` when the detection was unsure.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<HeardLanguage>,
}

/// How well the speech fitted, over the lines with speech (chunks with text and audio).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// Lines with speech.
    pub lines: usize,
    /// Lines placed without overflow, excessive drift, a strict-timing miss or a cut.
    pub lines_fitted: usize,
    /// Fastest line.
    pub max_speed: f64,
    /// Mean speed over lines with speech.
    pub mean_speed: f64,
    /// Lines played faster than 1.15× (where speed-up starts to be heard).
    pub lines_above_1_15: usize,
    /// Lines played at the policy's maximum speed.
    pub lines_at_cap: usize,
    /// Sum of the lines' late starts (positive shifts), seconds.
    pub total_drift: f64,
    /// The latest start of any line after its window, seconds.
    pub max_drift: f64,
    /// Lines that pushed the next line later even at the maximum speed.
    pub overflows: usize,
    /// Median of |start − window start|, seconds.
    pub start_error_p50: f64,
    /// 99th percentile of |start − window start|, seconds.
    pub start_error_p99: f64,
    /// Length of the track (the video), seconds.
    pub track_seconds: f64,
    /// Sample rate of the track.
    pub rate: u32,
    /// Each voice's share: one line per (speaker, voice), in the order they first speak.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub speakers: Vec<SpeakerLine>,
}

/// One speaker's share of the dub.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SpeakerLine {
    /// The speaker; absent for the lines nobody is named for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub speaker: Option<String>,
    /// `engine:voice`.
    pub voice: String,
    /// Chunks spoken.
    pub chunks: usize,
    /// Seconds they play on the track.
    pub seconds: f64,
}

/// One chunk as placed; fields as in the module's schema.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChunkReport {
    pub id: usize,
    pub text: String,
    pub windows: Vec<Window>,
    pub start: f64,
    pub natural: f64,
    pub played: f64,
    pub speed: f64,
    pub shift: f64,
    pub borrowed: f64,
    /// The speed the voice itself was asked to speak at (a local voice's second take), before
    /// any stretching; 1 otherwise. `voice_speed × speed` never exceeds the policy's cap.
    #[serde(default = "unit_speed")]
    pub voice_speed: f64,
    /// Who speaks the chunk, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub speaker: Option<String>,
    /// The voice that spoke it, `engine:voice`.
    #[serde(default)]
    pub voice: String,
    pub warnings: Vec<Warning>,
    /// The text before `synth --shorten` rewrote it to fit (absent when it was not shortened).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub original_text: Option<String>,
}

fn unit_speed() -> f64 {
    1.0
}

/// Writes the plan out as a report. `chunks` are those the plan was made from.
pub fn report(plan: &Plan, chunks: &[Chunk], policy: &Policy) -> Report {
    let secs = |s: u64| s as f64 / f64::from(plan.rate);
    let chunk_reports: Vec<ChunkReport> = plan
        .placements
        .iter()
        .map(|p| {
            let chunk = chunks.get(p.index);
            ChunkReport {
                id: p.id,
                text: chunk.map(|c| c.text.clone()).unwrap_or_default(),
                windows: chunk.map(|c| c.windows.clone()).unwrap_or_default(),
                start: secs(p.start),
                natural: secs(p.natural),
                played: secs(p.played),
                speed: p.speed,
                shift: p.shift as f64 / f64::from(plan.rate),
                borrowed: secs(p.borrowed),
                voice_speed: 1.0,
                speaker: None,
                voice: String::new(),
                warnings: p.warnings.clone(),
                original_text: None,
            }
        })
        .collect();

    let spoken: Vec<_> = plan.placements.iter().filter(|p| p.played > 0).collect();
    let n = spoken.len();
    let speeds: Vec<f64> = spoken.iter().map(|p| p.speed).collect();
    let mut errors: Vec<u64> = spoken.iter().map(|p| p.shift.unsigned_abs()).collect();
    errors.sort_unstable();
    let percentile = |q: f64| -> f64 {
        if errors.is_empty() {
            return 0.0;
        }
        let rank = ((q * errors.len() as f64).ceil() as usize).clamp(1, errors.len());
        errors[rank - 1] as f64 / f64::from(plan.rate)
    };
    let failed = |w: &Warning| {
        matches!(
            w,
            Warning::Overflow { .. }
                | Warning::DriftExceeded { .. }
                | Warning::BeyondWindow { .. }
                | Warning::CutAtVideoEnd { .. }
        )
    };
    let summary = Summary {
        lines: n,
        lines_fitted: spoken
            .iter()
            .filter(|p| !p.warnings.iter().any(failed))
            .count(),
        max_speed: speeds
            .iter()
            .copied()
            .fold(if n > 0 { 0.0 } else { 1.0 }, f64::max),
        mean_speed: if n > 0 {
            speeds.iter().sum::<f64>() / n as f64
        } else {
            1.0
        },
        lines_above_1_15: speeds.iter().filter(|&&s| s > 1.15 + 1e-9).count(),
        // A capped line plays at `max_speed` up to the rounding of its length to whole samples.
        lines_at_cap: speeds
            .iter()
            .filter(|&&s| s >= policy.max_speed * (1.0 - 1e-3))
            .count(),
        total_drift: spoken.iter().map(|p| p.shift.max(0) as f64).sum::<f64>()
            / f64::from(plan.rate),
        max_drift: spoken.iter().map(|p| p.shift.max(0)).max().unwrap_or(0) as f64
            / f64::from(plan.rate),
        overflows: spoken
            .iter()
            .filter(|p| {
                p.warnings
                    .iter()
                    .any(|w| matches!(w, Warning::Overflow { .. }))
            })
            .count(),
        start_error_p50: percentile(0.5),
        start_error_p99: percentile(0.99),
        track_seconds: secs(plan.track_len),
        rate: plan.rate,
        speakers: Vec::new(),
    };
    Report {
        summary,
        chunks: chunk_reports,
        background: None,
        language: None,
    }
}

impl Report {
    /// Name each chunk's speaker and voice (`speakers` and `voices` in the chunks' order) and sum
    /// up each (speaker, voice)'s chunks and seconds in the summary.
    pub fn set_voices(&mut self, speakers: &[Option<String>], voices: &[String]) {
        let mut lines: Vec<SpeakerLine> = Vec::new();
        for ((chunk, speaker), voice) in self.chunks.iter_mut().zip(speakers).zip(voices) {
            chunk.speaker.clone_from(speaker);
            chunk.voice.clone_from(voice);
            if chunk.played <= 0.0 {
                continue;
            }
            match lines
                .iter_mut()
                .find(|l| l.speaker == *speaker && l.voice == *voice)
            {
                Some(line) => {
                    line.chunks += 1;
                    line.seconds += chunk.played;
                }
                None => lines.push(SpeakerLine {
                    speaker: speaker.clone(),
                    voice: voice.clone(),
                    chunks: 1,
                    seconds: chunk.played,
                }),
            }
        }
        self.summary.speakers = lines;
    }

    /// A few lines for people, printed at the end of `synth`.
    pub fn human_summary(&self) -> String {
        let s = &self.summary;
        let background = self.background.as_ref().map_or_else(String::new, |b| {
            let method = serde_json::to_value(b.method)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default();
            format!("; background: {method}, {} ({} ch)", b.layout, b.channels)
        });
        let named = s.speakers.iter().any(|l| l.speaker.is_some());
        let speakers: String = match named {
            false => String::new(),
            true => s
                .speakers
                .iter()
                .map(|l| {
                    format!(
                        "\n  {} ({}): {} chunk(s), {:.1} s",
                        l.speaker.as_deref().unwrap_or("no speaker"),
                        l.voice,
                        l.chunks,
                        l.seconds
                    )
                })
                .collect(),
        };
        let warning = self
            .language
            .as_ref()
            .and_then(|l| l.warning.as_deref())
            .map_or_else(String::new, |w| format!("\nwarning: {w}"));
        format!(
            "{} of {} lines fitted; speed max {:.2}×, mean {:.2}×; {} above 1.15×, {} at the cap; \
             {} overflow(s), drift total {:.2} s, max {:.2} s; start error p50 {:.0} ms, p99 {:.0} ms; \
             track {:.3} s{}{}{}",
            s.lines_fitted,
            s.lines,
            s.max_speed,
            s.mean_speed,
            s.lines_above_1_15,
            s.lines_at_cap,
            s.overflows,
            s.total_drift,
            s.max_drift,
            s.start_error_p50 * 1000.0,
            s.start_error_p99 * 1000.0,
            s.track_seconds,
            background,
            speakers,
            warning,
        )
    }

    /// Writes the report as pretty JSON, atomically (a reader never sees half a report).
    pub fn write_json(&self, path: &Path) -> Result<(), super::TimelineError> {
        let json =
            serde_json::to_string_pretty(self).map_err(|e| super::TimelineError::Report {
                path: path.to_path_buf(),
                reason: e.to_string(),
            })?;
        crate::fsutil::write_atomic(path, json.as_bytes()).map_err(|e| {
            super::TimelineError::Report {
                path: path.to_path_buf(),
                reason: e.to_string(),
            }
        })
    }
}
