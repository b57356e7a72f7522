//! The data that flows through the pipeline: timed lines ([`Segment`]), the windows they occupy
//! ([`Window`]), and what one TTS request speaks ([`Chunk`]).
//!
//! Times are whole milliseconds (`u64`), never accumulated floats (summed `f64` seconds turn 2.0 s
//! into `00:00:01,999`). Conversions to and from seconds happen
//! only at the edges (JSON files, reports), through [`ms_to_secs`] and [`secs_to_ms`].

pub mod markup;
pub mod turns;

use serde::{Deserialize, Serialize};

/// Milliseconds as seconds, for JSON output. Exact for every value below 2^53 ms.
pub fn ms_to_secs(ms: u64) -> f64 {
    ms as f64 / 1000.0
}

/// The latest time dubber accepts anywhere (subtitle files, transcription servers, flags): 100
/// hours, longer than any real video. Bounding times here keeps every later computation in range:
/// a time in samples (`ms * 48_000 / 1000`) or summed over a whole timeline fits a `u64` easily.
pub const MAX_MEDIA_MS: u64 = 100 * 3_600_000;

/// Seconds (from JSON input) to the nearest millisecond; negative, non-finite and absurd values
/// (past [`MAX_MEDIA_MS`]) give `None`.
pub fn secs_to_ms(secs: f64) -> Option<u64> {
    if !secs.is_finite() || secs < 0.0 {
        return None;
    }
    let ms = (secs * 1000.0).round();
    (ms <= MAX_MEDIA_MS as f64).then_some(ms as u64)
}

/// Seconds as an error message shows them: plainly, or in exponent form (`1e300`) when huge.
pub(crate) fn secs_for_message(secs: f64) -> String {
    if secs.is_finite() && secs.abs() < 1e15 {
        format!("{secs}")
    } else {
        format!("{secs:e}")
    }
}

/// A span of the video's time in which one line is shown and should be spoken.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Window {
    pub start_ms: u64,
    pub end_ms: u64,
}

impl Window {
    pub fn new(start_ms: u64, end_ms: u64) -> Self {
        Self { start_ms, end_ms }
    }

    /// Length in milliseconds (zero for an empty or inverted window).
    pub fn duration_ms(&self) -> u64 {
        self.end_ms.saturating_sub(self.start_ms)
    }
}

/// `{"start": seconds, "end": seconds}`, the form every JSON file of dubber uses for a window.
impl Serialize for Window {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("Window", 2)?;
        st.serialize_field("start", &ms_to_secs(self.start_ms))?;
        st.serialize_field("end", &ms_to_secs(self.end_ms))?;
        st.end()
    }
}

impl<'de> Deserialize<'de> for Window {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        struct Secs {
            start: f64,
            end: f64,
        }
        let s = Secs::deserialize(d)?;
        let conv = |v: f64| {
            secs_to_ms(v).ok_or_else(|| serde::de::Error::custom(format!("invalid time {v}")))
        };
        Ok(Window::new(conv(s.start)?, conv(s.end)?))
    }
}

/// One timed subtitle line.
///
/// `text` is the line as displayed, markup included (`<i>`, `{\an8}`, line breaks), and sound
/// descriptions, lyrics and speaker labels too; what a voice speaks is [`Segment::spoken_text`],
/// which may be empty: a line with nothing to say (`[MUSIC PLAYING]`) is dubbed as silence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Segment {
    pub start_ms: u64,
    pub end_ms: u64,
    pub text: String,
    /// Who speaks the line, when known; one speaker per segment (a subtitle holding several
    /// turns is split into one segment per turn by [`crate::subtitles::normalize`]).
    ///
    /// - A name, as written: from a speaker label (`JOHN: Hello.` → `JOHN`), a WebVTT voice span
    ///   (`<v Ann>` → `Ann`) or a JSON `speaker` field (`SPEAKER_00`, as WhisperX writes it).
    /// - `-1` or `-2`: an unnamed speaker of a dialogue marked with dashes (`- Are you coming?` /
    ///   `- Yes.`). A dash always changes speaker: a dash turn is `-2` right after a `-1` line,
    ///   `-1` otherwise. A voice per name plus two for `-1`/`-2` voices any dialogue.
    /// - `None`: unknown (most lines); the default voice.
    ///
    /// The rules that read labels and dashes are in [`turns`]. Files written by dubber keep the
    /// speaker: JSON as a `speaker` field (absent when unknown), SRT and WebVTT in the text, as a
    /// `<v Name>` voice span when the text does not already show it.
    pub speaker: Option<String>,
}

impl Segment {
    /// A segment with no known speaker.
    pub fn new(start_ms: u64, end_ms: u64, text: impl Into<String>) -> Self {
        Self {
            start_ms,
            end_ms,
            text: text.into(),
            speaker: None,
        }
    }

    /// The same segment spoken by `speaker`.
    pub fn with_speaker(mut self, speaker: Option<String>) -> Self {
        self.speaker = speaker;
        self
    }

    pub fn window(&self) -> Window {
        Window::new(self.start_ms, self.end_ms)
    }

    pub fn duration_ms(&self) -> u64 {
        self.end_ms.saturating_sub(self.start_ms)
    }

    /// The text a voice should speak: markup, sound descriptions, lyrics and speaker labels
    /// removed, lines joined, white space folded (see [`markup`]). Empty for a silent line.
    pub fn spoken_text(&self) -> String {
        turns::spoken_text(&self.text)
    }
}

/// `{"start": seconds, "end": seconds, "text": "...", "speaker": "..."}`: the JSON segment form,
/// read and written; `speaker` only when known.
impl Serialize for Segment {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let fields = 3 + usize::from(self.speaker.is_some());
        let mut st = s.serialize_struct("Segment", fields)?;
        st.serialize_field("start", &ms_to_secs(self.start_ms))?;
        st.serialize_field("end", &ms_to_secs(self.end_ms))?;
        st.serialize_field("text", &self.text)?;
        if let Some(speaker) = &self.speaker {
            st.serialize_field("speaker", speaker)?;
        }
        st.end()
    }
}

/// What one TTS request speaks: one or more whole sentences, spoken as one continuous utterance.
///
/// `windows` are the windows of the segments it covers, in order; `segments` their indices in the
/// segment list it was built from. A chunk never spans a long pause (see [`crate::text::pack_chunks`]),
/// so the utterance may use its whole span, from the first window's start to the last one's end.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Chunk {
    pub id: usize,
    pub text: String,
    pub windows: Vec<Window>,
    /// Indices of the covered segments, ascending and contiguous.
    #[serde(default)]
    pub segments: Vec<usize>,
}

impl Chunk {
    /// Start of the first window (0 for a chunk without windows).
    pub fn start_ms(&self) -> u64 {
        self.windows.first().map_or(0, |w| w.start_ms)
    }

    /// End of the last window.
    pub fn end_ms(&self) -> u64 {
        self.windows.last().map_or(0, |w| w.end_ms)
    }

    /// The whole span, first start to last end: the time the utterance may fill.
    pub fn span(&self) -> Window {
        Window::new(self.start_ms(), self.end_ms())
    }

    /// A chunk with nothing to say is silence; it occupies no time and shifts nothing.
    pub fn is_empty(&self) -> bool {
        self.text.trim().is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seconds_round_trip_exactly() {
        for ms in [0u64, 1, 999, 1999, 2000, 3_599_999, 86_400_000] {
            assert_eq!(secs_to_ms(ms_to_secs(ms)), Some(ms));
        }
        assert_eq!(secs_to_ms(2.0), Some(2000));
        assert_eq!(secs_to_ms(1.9995), Some(2000));
        assert_eq!(secs_to_ms(-1.0), None);
        assert_eq!(secs_to_ms(f64::NAN), None);
        assert_eq!(secs_to_ms(-0.0), Some(0));
    }

    #[test]
    fn absurd_seconds_are_refused() {
        assert_eq!(secs_to_ms(360_000.0), Some(MAX_MEDIA_MS));
        assert_eq!(secs_to_ms(360_000.001), None);
        // Accepted before the bound, yet `ms * 24_000` overflows a u64.
        assert_eq!(secs_to_ms(9.0e11), None);
        assert_eq!(secs_to_ms(1e300), None);
        assert_eq!(secs_to_ms(f64::INFINITY), None);
    }

    #[test]
    fn segment_json_has_a_speaker_only_when_known() {
        let seg = Segment::new(0, 1500, "Hi.");
        assert_eq!(
            serde_json::to_string(&seg).unwrap(),
            r#"{"start":0.0,"end":1.5,"text":"Hi."}"#
        );
        let seg = seg.with_speaker(Some("JOHN".into()));
        assert_eq!(
            serde_json::to_string(&seg).unwrap(),
            r#"{"start":0.0,"end":1.5,"text":"Hi.","speaker":"JOHN"}"#
        );
    }

    #[test]
    fn window_json_is_in_seconds() {
        let w = Window::new(1500, 2000);
        assert_eq!(
            serde_json::to_string(&w).unwrap(),
            r#"{"start":1.5,"end":2.0}"#
        );
        let back: Window = serde_json::from_str(r#"{"start":1.5,"end":2}"#).unwrap();
        assert_eq!(back, w);
    }
}
