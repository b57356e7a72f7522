//! What an edit of one line may do, checked before anything is written: the line keeps its place
//! (no overlap with its neighbours, so no reordering or merging), its text is text (never a cue
//! of its own, never longer than [`MAX_LINE_CHARS`]), and subs.srt read back holds exactly the
//! lines the session will show, under the same numbers ([`as_saved`]).

use crate::segment::markup::without_voice_spans;
use crate::segment::{MAX_MEDIA_MS, Segment, ms_to_secs};
use crate::subtitles::{self, FixKind, Format};
use crate::tts::FailedLine;

use super::SynthStageError;
use crate::llm::LlmError;

/// The most characters a line's text may hold: several times any subtitle line, far below what
/// would make one line's clip a problem (a whole video's speech in one window).
pub const MAX_LINE_CHARS: usize = 1000;

/// A change to one line; fields left `None` keep their value.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LineEdit {
    pub text: Option<String>,
    pub start_ms: Option<u64>,
    pub end_ms: Option<u64>,
    /// `Some(None)` (or an empty name) clears the speaker.
    pub speaker: Option<Option<String>>,
}

/// Why an edit was refused or failed. Refused edits change nothing; failed ones are undone.
#[derive(Debug, thiserror::Error)]
pub enum EditError {
    #[error("there is no line {id}: lines are numbered 1 to {lines}")]
    NoLine { id: usize, lines: usize },
    #[error("{0}")]
    Invalid(String),
    /// The engine failed on the edited lines; the edit was undone.
    #[error("{}; the edit was undone", describe_failed(.failed))]
    NotSynthesized {
        failed: Vec<(Vec<usize>, FailedLine)>,
    },
    #[error(transparent)]
    Stage(#[from] SynthStageError),
    #[error(transparent)]
    Llm(#[from] LlmError),
}

fn describe_failed(failed: &[(Vec<usize>, FailedLine)]) -> String {
    failed
        .iter()
        .map(|(ids, f)| {
            let ids: Vec<String> = ids.iter().map(usize::to_string).collect();
            let which = match ids.len() {
                1 => format!("line {}", ids[0]),
                _ => format!("lines {} (one clip)", ids.join(", ")),
            };
            format!(
                "{which} could not be synthesized (after {} attempt(s)): {}",
                f.attempts, f.error
            )
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// Apply `edit` to line `index` of `segments`, or say why it cannot be applied.
pub fn apply(
    segments: &mut [Segment],
    index: usize,
    edit: &LineEdit,
    video_secs: f64,
) -> Result<(), EditError> {
    let id = index + 1;
    let invalid = |m: String| Err(EditError::Invalid(m));
    let secs = ms_to_secs;
    let (before, rest) = segments.split_at_mut(index);
    let Some((segment, after)) = rest.split_first_mut() else {
        return Err(EditError::NoLine {
            id,
            lines: before.len(),
        });
    };
    if let Some(text) = &edit.text {
        let text = clean_text(text);
        if text.is_empty() {
            return invalid("text is empty: a line needs something to say".into());
        }
        let chars = text.chars().count();
        if chars > MAX_LINE_CHARS {
            return invalid(format!(
                "text is {chars} characters long: a line holds at most {MAX_LINE_CHARS}"
            ));
        }
        if crate::text::plain_text(&text).is_empty() {
            return invalid(format!(
                "text {text:?} shows nothing once its markup is gone: a line needs something to say"
            ));
        }
        segment.text = text;
    }
    let start = edit.start_ms.unwrap_or(segment.start_ms);
    let end = edit.end_ms.unwrap_or(segment.end_ms);
    if end <= start {
        return invalid(format!(
            "end ({} s) must be after start ({} s)",
            secs(end),
            secs(start)
        ));
    }
    let video_ms = (video_secs * 1000.0).round().min(MAX_MEDIA_MS as f64) as u64;
    if end > video_ms {
        return invalid(format!(
            "end ({} s) is past the video's end ({} s)",
            secs(end),
            secs(video_ms)
        ));
    }
    // Lines keep their order and never overlap: a line moved past a neighbour would take its
    // number (subs.srt numbers lines in time order), and an overlap would be cut on reading.
    if let Some(previous) = before.last()
        && start < previous.end_ms
    {
        return invalid(format!(
            "start ({} s) is before line {} ends ({} s): lines keep their order and may not \
             overlap; move line {} first",
            secs(start),
            id - 1,
            secs(previous.end_ms),
            id - 1
        ));
    }
    if let Some(next) = after.first()
        && end > next.start_ms
    {
        return invalid(format!(
            "end ({} s) is after line {} starts ({} s): lines keep their order and may not \
             overlap; move line {} first",
            secs(end),
            id + 1,
            secs(next.start_ms),
            id + 1
        ));
    }
    (segment.start_ms, segment.end_ms) = (start, end);
    if let Some(speaker) = &edit.speaker {
        // The speaker has its own field: the voice span that named the old one goes, or a new
        // speaker would nest a span around it.
        segment.text = without_voice_spans(&segment.text).to_string();
        segment.speaker = speaker
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string);
    }
    Ok(())
}

/// A line's text as typed, made fit for a cue: no carriage returns, no blank lines, no white
/// space at the ends of its lines.
pub fn clean_text(text: &str) -> String {
    text.replace('\r', "\n")
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("\n")
}

/// subs.srt for `edited` (line `id` just edited), and the lines it holds as the session will
/// read them back: the same number of lines with the same times and speakers, or a refusal that
/// says what subs.srt would have made of the edit. Line `id` may take the speaker its new text
/// names (a label, a dialogue dash) unless the edit gave it one (`speaker_given`).
pub fn as_saved(
    edited: &[Segment],
    id: usize,
    speaker_given: bool,
) -> Result<(String, Vec<Segment>), EditError> {
    let srt = subtitles::write(edited, Format::Srt);
    let cues = subtitles::parse(&srt, Format::Srt).map_err(|e| {
        EditError::Invalid(format!(
            "line {id} cannot be saved: subs.srt would not read back ({}: {})",
            e.line, e.message
        ))
    })?;
    let (read, fixes) = subtitles::normalize(cues);
    if let Some(fix) = fixes.first() {
        let why = match &fix.kind {
            FixKind::SplitTurns { turns } => format!(
                "its text holds {turns} speaker turns (dialogue dashes or speaker labels), which \
                 subs.srt reads as {turns} lines: give each turn a line of its own"
            ),
            FixKind::DroppedEmpty => "its text shows nothing".to_string(),
            _ => format!("subs.srt would change it ({fix})"),
        };
        return Err(EditError::Invalid(format!(
            "line {id} cannot be saved: {why}"
        )));
    }
    if read.len() != edited.len() {
        return Err(EditError::Invalid(format!(
            "line {id} cannot be saved: subs.srt would hold {} lines instead of {}",
            read.len(),
            edited.len()
        )));
    }
    for (n, (want, got)) in edited.iter().zip(&read).enumerate() {
        if (want.start_ms, want.end_ms) != (got.start_ms, got.end_ms) {
            return Err(EditError::Invalid(format!(
                "line {id} cannot be saved: subs.srt would read line {} at other times",
                n + 1
            )));
        }
        if want.speaker != got.speaker && (n + 1 != id || speaker_given) {
            let shown = got.speaker.as_deref().unwrap_or("none");
            return Err(EditError::Invalid(format!(
                "line {} cannot have the speaker {:?}: its text names the speaker {shown} (a \
                 speaker label, voice span or dialogue dash); change the text to change it",
                n + 1,
                want.speaker.as_deref().unwrap_or(""),
            )));
        }
    }
    Ok((srt, read))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn three() -> Vec<Segment> {
        vec![
            Segment::new(1000, 2000, "One."),
            Segment::new(3000, 4000, "Two.").with_speaker(Some("ANN".into())),
            Segment::new(5000, 6000, "Three."),
        ]
    }

    fn refused(edit: LineEdit, index: usize) -> String {
        let mut segments = three();
        let err = apply(&mut segments, index, &edit, 10.0).unwrap_err();
        assert_eq!(segments, three(), "a refused edit changes nothing");
        err.to_string()
    }

    #[test]
    fn an_edit_that_would_reorder_or_overlap_is_refused() {
        let start = |ms| LineEdit {
            start_ms: Some(ms),
            ..LineEdit::default()
        };
        let end = |ms| LineEdit {
            end_ms: Some(ms),
            ..LineEdit::default()
        };
        assert!(refused(start(1500), 1).contains("before line 1 ends (2 s)"));
        assert!(refused(end(5001), 1).contains("after line 3 starts (5 s)"));
        assert!(refused(end(500), 1).contains("must be after start"));
        let mut segments = three();
        apply(&mut segments, 1, &start(2000), 10.0).unwrap();
        apply(&mut segments, 1, &end(5000), 10.0).unwrap();
        assert_eq!((segments[1].start_ms, segments[1].end_ms), (2000, 5000));
    }

    #[test]
    fn text_must_show_something_and_stay_short() {
        let text = |t: &str| LineEdit {
            text: Some(t.into()),
            ..LineEdit::default()
        };
        assert!(refused(text("<i> </i>"), 0).contains("shows nothing"));
        assert!(refused(text(" \r\n "), 0).contains("text is empty"));
        let long = "a".repeat(MAX_LINE_CHARS + 1);
        assert!(
            refused(text(&long), 0).contains("1001 characters long: a line holds at most 1000")
        );
        let mut segments = three();
        apply(&mut segments, 0, &text(" One.\r\n\r\n Two. "), 10.0).unwrap();
        assert_eq!(segments[0].text, "One.\nTwo.");
    }

    #[test]
    fn a_new_speaker_replaces_the_voice_span_of_the_old() {
        let mut segments = three();
        let speaker = |s: Option<&str>| LineEdit {
            speaker: Some(s.map(str::to_string)),
            ..LineEdit::default()
        };
        for name in ["BOB", "CAT"] {
            apply(&mut segments, 1, &speaker(Some(name)), 10.0).unwrap();
            let (srt, read) = as_saved(&segments, 2, true).unwrap();
            assert!(srt.contains(&format!("\n<v {name}>Two.</v>\n")), "{srt}");
            segments = read;
        }
        apply(&mut segments, 1, &speaker(Some(" ")), 10.0).unwrap();
        let (srt, read) = as_saved(&segments, 2, true).unwrap();
        assert!(srt.contains("\nTwo.\n"), "{srt}");
        assert_eq!(read[1].speaker, None);
    }

    #[test]
    fn saving_refuses_what_subs_srt_would_change() {
        let mut segments = three();
        segments[0].text = "JOHN: Hi.\nMARY: Hello.".into();
        let err = as_saved(&segments, 1, false).unwrap_err().to_string();
        assert!(err.contains("2 speaker turns"), "{err}");
        let mut segments = three();
        segments[2].text = "JOHN: Hi.".into();
        let err = as_saved(&segments, 3, true).unwrap_err().to_string();
        assert!(err.contains("names the speaker JOHN"), "{err}");
    }
}
