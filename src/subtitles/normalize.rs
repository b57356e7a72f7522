//! Normalisation: a cue list as read, made fit for timing, with every change reported as a
//! [`Fix`] (nothing is fixed silently). Also the notes a reader makes ([`FixKind::AssumedEncoding`],
//! [`FixKind::DroppedUntimed`]), which are reported the same way.

use std::fmt;

use super::{Cue, time};
use crate::segment::{Segment, turns};

/// One change [`normalize`] made, with the source line of the cue it concerns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fix {
    pub line: usize,
    pub kind: FixKind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FixKind {
    /// The cue showed no text and was dropped.
    DroppedEmpty,
    /// Cues were not in time order; this one was moved.
    Reordered,
    /// The cue ended at or before its start; it was given `new_end`.
    ZeroLength { new_end_ms: u64 },
    /// The cue ran into the next one by `overlap_ms`; its end was pulled back.
    TrimmedOverlap { overlap_ms: u64 },
    /// The cue started at the same time as the one before it; the two were merged.
    Merged,
    /// The cue held several speaker turns (`- Hi. - Hello.`); it became one segment per turn,
    /// sharing its time by characters.
    SplitTurns { turns: usize },
    /// Note from the reader: the file was not read as plain UTF-8 but in `encoding`.
    AssumedEncoding {
        encoding: &'static str,
        how: super::Detection,
    },
    /// Note from the reader: a block without a timing line was not spoken.
    DroppedUntimed,
}

impl fmt::Display for Fix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: ", self.line)?;
        match &self.kind {
            FixKind::DroppedEmpty => write!(f, "cue has no text; dropped"),
            FixKind::Reordered => write!(f, "cue out of time order; sorted by start time"),
            FixKind::ZeroLength { new_end_ms } => {
                write!(
                    f,
                    "cue ends at or before its start; end set to {}",
                    time::format_timestamp(*new_end_ms, ',')
                )
            }
            FixKind::TrimmedOverlap { overlap_ms } => {
                write!(
                    f,
                    "cue overlaps the next by {overlap_ms} ms; its end was pulled back"
                )
            }
            FixKind::Merged => write!(f, "cue starts with the previous one; the two were merged"),
            FixKind::SplitTurns { turns } => {
                write!(
                    f,
                    "cue holds {turns} speaker turns; split into one line per turn"
                )
            }
            FixKind::AssumedEncoding { encoding, how } => {
                write!(f, "read as {encoding} ({how})")?;
                if *how == super::Detection::Guessed {
                    write!(
                        f,
                        "; if the text looks wrong, name its encoding with --subtitles-encoding"
                    )?;
                }
                Ok(())
            }
            FixKind::DroppedUntimed => write!(f, "block has no timing line; not spoken"),
        }
    }
}

/// A zero-length cue gets this much time per character of speech (capped by the next cue), at
/// least [`MIN_CUE_MS`]: roughly a comfortable speaking rate.
const MS_PER_CHAR: u64 = 60;
const MIN_CUE_MS: u64 = 1000;

/// Make cues fit for timing, reporting each change:
/// 1. cues that show no text (nothing, or markup only) are dropped; silent ones are kept;
/// 2. cues are sorted by start time (stable: equal starts keep file order);
/// 3. cues starting together are merged into one (texts joined by a line break; a second
///    speaker the text does not show is kept as a voice span);
/// 4. a cue that overlaps the next ends where the next starts;
/// 5. a zero-length or inverted cue gets a duration from its text, up to the next cue's start;
/// 6. a cue holding several speaker turns becomes one segment per turn, sharing its time by
///    characters (kept whole when its window is too short to share);
/// 7. each segment's speaker is read from its text ([`turns::resolve`]): a label or voice span,
///    else the speaker the cue came with (a dialogue dash names nobody: the audio decides).
///
/// Normalising its own output changes nothing.
pub fn normalize(cues: Vec<Cue>) -> (Vec<Segment>, Vec<Fix>) {
    let mut fixes = Vec::new();
    let mut cues: Vec<Cue> = cues
        .into_iter()
        .filter(|c| {
            let keep = !crate::text::plain_text(&c.segment.text).is_empty();
            if !keep {
                fixes.push(Fix {
                    line: c.line,
                    kind: FixKind::DroppedEmpty,
                });
            }
            keep
        })
        .collect();
    if cues
        .windows(2)
        .any(|w| w[1].segment.start_ms < w[0].segment.start_ms)
    {
        let before: Vec<usize> = cues.iter().map(|c| c.line).collect();
        cues.sort_by_key(|c| c.segment.start_ms);
        for (cue, old_line) in cues.iter().zip(before) {
            if cue.line != old_line {
                fixes.push(Fix {
                    line: cue.line,
                    kind: FixKind::Reordered,
                });
            }
        }
    }
    let mut merged: Vec<Cue> = Vec::with_capacity(cues.len());
    for cue in cues {
        match merged.last_mut() {
            Some(prev) if prev.segment.start_ms == cue.segment.start_ms => {
                fixes.push(Fix {
                    line: cue.line,
                    kind: FixKind::Merged,
                });
                let text = match &cue.segment.speaker {
                    Some(speaker) if prev.segment.speaker.as_ref() != Some(speaker) => {
                        turns::with_voice(&cue.segment.text, speaker)
                    }
                    _ => cue.segment.text,
                };
                prev.segment.text = format!("{}\n{text}", prev.segment.text);
                prev.segment.end_ms = prev.segment.end_ms.max(cue.segment.end_ms);
            }
            _ => merged.push(cue),
        }
    }
    let next_starts: Vec<Option<u64>> = (0..merged.len())
        .map(|i| merged.get(i + 1).map(|c| c.segment.start_ms))
        .collect();
    let mut segments: Vec<(usize, Segment)> = Vec::with_capacity(merged.len());
    for (cue, next_start) in merged.into_iter().zip(next_starts) {
        let mut seg = cue.segment;
        if seg.end_ms <= seg.start_ms {
            let chars = seg.spoken_text().chars().count() as u64;
            let wanted = seg.start_ms + (chars * MS_PER_CHAR).max(MIN_CUE_MS);
            seg.end_ms = next_start.map_or(wanted, |n| wanted.min(n));
            fixes.push(Fix {
                line: cue.line,
                kind: FixKind::ZeroLength {
                    new_end_ms: seg.end_ms,
                },
            });
        } else if let Some(next) = next_start.filter(|&n| n < seg.end_ms) {
            fixes.push(Fix {
                line: cue.line,
                kind: FixKind::TrimmedOverlap {
                    overlap_ms: seg.end_ms - next,
                },
            });
            seg.end_ms = next;
        }
        segments.push((cue.line, seg));
    }
    (split_turns(segments, &mut fixes), fixes)
}

/// Steps 6 and 7 of [`normalize`]: one segment per speaker turn, each with its speaker.
fn split_turns(segments: Vec<(usize, Segment)>, fixes: &mut Vec<Fix>) -> Vec<Segment> {
    let mut out: Vec<Segment> = Vec::with_capacity(segments.len());
    for (line, segment) in segments {
        let given = segment.speaker.clone();
        let texts: Vec<String> = turns::turns(&segment.text)
            .into_iter()
            .map(|t| t.text)
            .collect();
        let mut pieces = vec![segment.clone()];
        if texts.len() > 1 {
            let split = crate::text::share_window(&segment, texts);
            if split.iter().all(|s| s.end_ms > s.start_ms) {
                fixes.push(Fix {
                    line,
                    kind: FixKind::SplitTurns { turns: split.len() },
                });
                pieces = split;
            }
        }
        for mut piece in pieces {
            piece.speaker = turns::resolve(&turns::first_start(&piece.text), given.as_deref());
            out.push(piece);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::subtitles::{Format, parse, write};

    fn cue(line: usize, start: u64, end: u64, text: &str) -> Cue {
        Cue {
            line,
            segment: Segment::new(start, end, text),
        }
    }

    #[test]
    fn normalize_sorts_merges_trims_and_reports() {
        let cues = vec![
            cue(1, 5000, 6000, "late"),
            cue(5, 1000, 2500, "early, overlapping"),
            cue(9, 2000, 2000, "zero"),
            cue(13, 2000, 3000, "same start"),
            cue(17, 7000, 8000, "<i></i>"),
        ];
        let (segs, fixes) = normalize(cues);
        let spans: Vec<(u64, u64)> = segs.iter().map(|s| (s.start_ms, s.end_ms)).collect();
        assert_eq!(spans, vec![(1000, 2000), (2000, 3000), (5000, 6000)]);
        assert_eq!(segs[1].text, "zero\nsame start");
        let kinds: Vec<&FixKind> = fixes.iter().map(|f| &f.kind).collect();
        assert!(kinds.contains(&&FixKind::DroppedEmpty));
        assert!(kinds.contains(&&FixKind::Reordered));
        assert!(kinds.contains(&&FixKind::Merged));
        assert!(kinds.contains(&&FixKind::TrimmedOverlap { overlap_ms: 500 }));
        // Sorted, no overlaps, nothing zero-length.
        assert!(segs.windows(2).all(|w| w[0].end_ms <= w[1].start_ms));
        assert!(segs.iter().all(|s| s.end_ms > s.start_ms));
    }

    #[test]
    fn zero_length_cue_gets_time_from_its_text() {
        let (segs, fixes) = normalize(vec![cue(1, 1000, 1000, "Hello"), cue(5, 9000, 9500, "x")]);
        assert_eq!(segs[0].end_ms, 2000);
        assert_eq!(fixes[0].kind, FixKind::ZeroLength { new_end_ms: 2000 });
        let (segs, _) = normalize(vec![cue(1, 1000, 900, "Hello"), cue(5, 1400, 1500, "x")]);
        assert_eq!(segs[0].end_ms, 1400);
    }

    use crate::segment::Window;

    fn speakers(segments: &[Segment]) -> Vec<Option<&str>> {
        segments.iter().map(|s| s.speaker.as_deref()).collect()
    }

    #[test]
    fn silent_cues_are_kept_and_speakers_read() {
        let (segs, fixes) = normalize(vec![
            cue(1, 0, 1000, "[MUSIC PLAYING]"),
            cue(5, 1000, 2000, "JOHN: Hello."),
            cue(9, 2000, 3000, "<i>♪ la la ♪</i>"),
            cue(13, 3000, 4000, "Warning: hot"),
        ]);
        assert!(fixes.is_empty(), "{fixes:?}");
        let texts: Vec<String> = segs.iter().map(Segment::spoken_text).collect();
        assert_eq!(texts, vec!["", "Hello.", "", "Warning: hot"]);
        assert_eq!(speakers(&segs), vec![None, Some("JOHN"), None, None]);
        // Displayed text is untouched.
        assert_eq!(segs[1].text, "JOHN: Hello.");
    }

    #[test]
    fn dialogue_dashes_become_two_turns_sharing_the_window() {
        let (segs, fixes) = normalize(vec![
            cue(1, 1000, 4000, "- Are you coming? - Yes."),
            cue(5, 5000, 6000, "- Good."),
        ]);
        assert_eq!(fixes[0].kind, FixKind::SplitTurns { turns: 2 });
        assert_eq!(fixes[0].line, 1);
        let spans: Vec<(u64, u64, &str)> = segs
            .iter()
            .map(|s| (s.start_ms, s.end_ms, s.text.as_str()))
            .collect();
        // "Are you coming?" is 15 of 15 + 4 spoken characters: 3000 * 15 / 19 = 2368 ms.
        assert_eq!(
            spans,
            vec![
                (1000, 3368, "- Are you coming?"),
                (3368, 4000, "- Yes."),
                (5000, 6000, "- Good."),
            ]
        );
        assert_eq!(speakers(&segs), vec![None, None, None]);
        assert_eq!(segs[1].spoken_text(), "Yes.");
    }

    #[test]
    fn labels_voice_spans_and_given_speakers() {
        let given = |line, start, text: &str, speaker: &str| {
            let mut c = cue(line, start, start + 1000, text);
            c.segment.speaker = Some(speaker.into());
            c
        };
        let (segs, _) = normalize(vec![
            cue(1, 0, 2000, "JOHN: Hi.\nMARY: Hello."),
            cue(5, 3000, 4000, "<v Bob>Hi</v> &amp; welcome"),
            given(9, 5000, "Plain.", "SPEAKER_01"),
        ]);
        assert_eq!(
            speakers(&segs),
            vec![Some("JOHN"), Some("MARY"), Some("Bob"), Some("SPEAKER_01")]
        );
        // Two cues starting together with different given speakers keep both.
        let (segs, _) = normalize(vec![given(1, 0, "One.", "A"), given(2, 0, "Two.", "B")]);
        assert_eq!(speakers(&segs), vec![Some("A"), Some("B")]);
        assert_eq!(segs[1].text, "<v B>Two.</v>");
    }

    #[test]
    fn speakers_survive_a_written_file() {
        let (segs, _) = normalize(vec![
            cue(1, 0, 3000, "- Are you coming? - Yes."),
            cue(5, 3000, 4000, "DR. SMITH: Sit."),
            cue(9, 4000, 5000, "[door slams]"),
        ]);
        let mut segs = segs;
        // The dialogue's speakers, as diarization found them from the audio.
        segs[0].speaker = Some("SPEAKER_1".into());
        segs[1].speaker = Some("SPEAKER_2".into());
        // Translated or sentence-split lines lose their marks but keep their speaker.
        segs[0].text = "Tu viens ?".into();
        segs.push(Segment::new(6000, 7000, "Hello.").with_speaker(Some("SPEAKER_00".into())));
        let seen = |segs: &[Segment]| -> Vec<(Window, String, Option<String>)> {
            segs.iter()
                .map(|s| (s.window(), s.spoken_text(), s.speaker.clone()))
                .collect()
        };
        for format in [Format::Srt, Format::Vtt, Format::Json] {
            let written = write(&segs, format);
            let (back, fixes) = normalize(parse(&written, format).unwrap());
            assert_eq!(seen(&back), seen(&segs), "{format:?}\n{written}");
            assert!(fixes.is_empty(), "{fixes:?}");
            // And what was read back is written and read back exactly.
            let again = write(&back, format);
            assert_eq!(normalize(parse(&again, format).unwrap()).0, back);
        }
        let srt = write(&segs, Format::Srt);
        assert!(srt.contains("\n<v SPEAKER_1>Tu viens ?</v>\n"), "{srt}");
        assert!(srt.contains("\n<v SPEAKER_2>- Yes.</v>\n"), "{srt}");
    }
}
