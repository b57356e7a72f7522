//! What `GET /api/project` answers: the session's lines joined with how their chunks were
//! fitted, in the units of `report.json` (seconds, speeds as factors), and which lines need a
//! person's attention. Built once per render and shared, so reading it never waits for an edit.

use serde::Serialize;

use crate::pipeline::synth::session::Session;
use crate::segment::ms_to_secs;
use crate::timeline::{Summary, Warning};

/// Speeds above this are heard as rushed (the report's `lines_above_1_15`).
pub const RUSHED: f64 = 1.15;

/// The project as the page and scripts see it.
#[derive(Debug, Clone, Serialize)]
pub struct Project {
    /// The video's file name.
    pub video: String,
    /// The video's length, seconds.
    pub duration: f64,
    pub summary: Summary,
    /// The speed cap lines are never played above.
    pub max_speed: f64,
    /// Counts renders: the dub track at `/media/dub?v=<version>` is this render's.
    pub version: u64,
    /// TTS requests the server made since it started.
    pub requests: usize,
    pub lines: Vec<Line>,
}

/// One subtitle line. Speed, `played` and warnings are those of the chunk that speaks it (a
/// chunk may speak several lines as one utterance).
#[derive(Debug, Clone, Serialize)]
pub struct Line {
    /// 1-based, as subs.srt numbers the lines.
    pub id: usize,
    pub start: f64,
    pub end: f64,
    pub text: String,
    pub speaker: Option<String>,
    pub voice: String,
    pub speed: f64,
    /// Seconds the line's chunk plays on the track.
    pub played: f64,
    /// Where the line's chunk starts playing, seconds.
    pub played_start: f64,
    /// Seconds of the pause after the chunk's window that it borrowed.
    pub borrowed: f64,
    /// The id of the chunk that speaks the line.
    pub chunk: usize,
    pub warnings: Vec<Warning>,
    /// Over 1.15×, at the cap, or with a warning (shifted, overflowing, …).
    pub attention: bool,
}

impl Project {
    pub fn of<S>(session: &Session<S>, version: u64) -> Project
    where
        S: crate::tts::Synthesizer,
    {
        let cap = session.policy().max_speed;
        let voice = session.voice().to_string();
        let lines = session
            .segments()
            .iter()
            .enumerate()
            .map(|(index, s)| {
                let fitted = session.chunk_of(index).map(|(_, r)| r);
                let speed = fitted.map_or(1.0, |r| r.speed);
                let warnings = fitted.map(|r| r.warnings.clone()).unwrap_or_default();
                let at_cap = speed >= cap * (1.0 - 1e-3);
                Line {
                    id: index + 1,
                    start: ms_to_secs(s.start_ms),
                    end: ms_to_secs(s.end_ms),
                    text: shown_text(&s.text, s.speaker.as_deref()),
                    speaker: s.speaker.clone(),
                    voice: voice.clone(),
                    speed,
                    played: fitted.map_or(0.0, |r| r.played),
                    played_start: fitted.map_or(ms_to_secs(s.start_ms), |r| r.start),
                    borrowed: fitted.map_or(0.0, |r| r.borrowed),
                    chunk: fitted.map_or(0, |r| r.id),
                    attention: speed > RUSHED + 1e-9 || at_cap || !warnings.is_empty(),
                    warnings,
                }
            })
            .collect();
        Project {
            video: session
                .video()
                .file_name()
                .map_or_else(String::new, |n| n.to_string_lossy().into_owned()),
            duration: session.video_secs(),
            summary: session.report().summary.clone(),
            max_speed: cap,
            version,
            requests: session.requests(),
            lines,
        }
    }
}

/// A line's text without the `<v Name>` span subs.srt wraps it in to keep its speaker (the
/// speaker has its own field, and an edit's text gets the span back when saved).
fn shown_text(text: &str, speaker: Option<&str>) -> String {
    let Some(name) = speaker else {
        return text.to_string();
    };
    text.strip_prefix(&format!("<v {name}>"))
        .map(|rest| rest.strip_suffix("</v>").unwrap_or(rest))
        .map_or_else(|| text.to_string(), str::to_string)
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_voice_span_of_the_speaker_is_not_shown() {
        assert_eq!(super::shown_text("<v ANN>Hi.</v>", Some("ANN")), "Hi.");
        assert_eq!(
            super::shown_text("<v BOB>Hi.</v>", Some("ANN")),
            "<v BOB>Hi.</v>"
        );
        assert_eq!(super::shown_text("JOHN: Hi.", Some("JOHN")), "JOHN: Hi.");
    }
}
