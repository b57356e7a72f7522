//! WebVTT (`.vtt`): cues with optional identifiers and settings; NOTE, STYLE and REGION blocks
//! skipped; hours may be omitted. A block without a timing line is not spoken: it is dropped and
//! its first line reported ([`FixKind::DroppedUntimed`]).

use super::time::{looks_like_timing, parse_timing, push_cue};
use super::{Cue, Fix, FixKind, ParseError};
use crate::segment::{Segment, turns};

fn is_block_keyword(line: &str, keyword: &str) -> bool {
    line.strip_prefix(keyword)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with([' ', '\t']))
}

/// Parse WebVTT text: the cues, and a note for each block dropped for want of a timing line.
pub fn parse(content: &str) -> Result<(Vec<Cue>, Vec<Fix>), ParseError> {
    let content = content.strip_prefix('\u{feff}').unwrap_or(content);
    let lines: Vec<&str> = content.lines().collect();
    let header = lines.first().map(|l| l.trim_end()).unwrap_or("");
    if !is_block_keyword(header, "WEBVTT") {
        return Err(ParseError::new(
            1,
            "expected the `WEBVTT` header on the first line",
        ));
    }
    let skip_block = |mut i: usize| {
        while i < lines.len() && !lines[i].trim().is_empty() {
            i += 1;
        }
        i
    };
    let mut cues: Vec<Cue> = Vec::new();
    let mut dropped = Vec::new();
    let mut i = skip_block(0);
    while i < lines.len() {
        let line = lines[i].trim();
        if line.is_empty() {
            i += 1;
            continue;
        }
        if ["NOTE", "STYLE", "REGION"]
            .iter()
            .any(|k| is_block_keyword(line, k))
        {
            i = skip_block(i);
            continue;
        }
        let timing_at = if looks_like_timing(line) {
            i
        } else if lines.get(i + 1).is_some_and(|l| looks_like_timing(l)) {
            i + 1 // a cue identifier, then its timing
        } else {
            dropped.push(Fix {
                line: i + 1,
                kind: FixKind::DroppedUntimed,
            });
            i = skip_block(i);
            continue;
        };
        let (start, end) =
            parse_timing(lines[timing_at]).map_err(|m| ParseError::new(timing_at + 1, m))?;
        let mut text_lines = Vec::new();
        i = timing_at + 1;
        while i < lines.len() && !lines[i].trim().is_empty() && !looks_like_timing(lines[i]) {
            text_lines.push(lines[i].trim());
            i += 1;
        }
        cues.push(Cue {
            line: timing_at + 1,
            segment: Segment::new(start, end, text_lines.join("\n")),
        });
    }
    Ok((cues, dropped))
}

/// Write segments as WebVTT (`.` before milliseconds, hours always written); a speaker the text
/// does not show is written as a `<v Name>` voice span ([`turns::voiced_texts`]).
pub fn write(segments: &[Segment]) -> String {
    let mut out = String::from("WEBVTT\n\n");
    for (s, text) in segments.iter().zip(turns::voiced_texts(segments)) {
        push_cue(&mut out, s.start_ms, s.end_ms, '.', &text);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_notes_styles_identifiers_and_settings() {
        let src = "WEBVTT - a title\nKind: captions\n\nNOTE this is\na comment\n\nSTYLE\n::cue { color: red }\n\nintro\n00:01.000 --> 00:02.500 align:start position:10%\n<v Bob>Hi</v> &amp; welcome\n\n00:00:03.000 --> 00:00:04.000\nTwo\nlines\n";
        let (cues, dropped) = parse(src).unwrap();
        assert!(dropped.is_empty());
        assert_eq!(cues.len(), 2);
        assert_eq!(
            (cues[0].segment.start_ms, cues[0].segment.end_ms),
            (1000, 2500)
        );
        assert_eq!(cues[0].segment.spoken_text(), "Hi & welcome");
        assert_eq!(cues[1].segment.text, "Two\nlines");
        assert_eq!(cues[0].line, 11);
    }

    #[test]
    fn header_and_timing_errors_name_the_line() {
        assert_eq!(parse("00:01.000 --> 00:02.000\nx\n").unwrap_err().line, 1);
        let err = parse("WEBVTT\n\n00:01.000 --> 00:0z.000\nx\n").unwrap_err();
        assert_eq!(err.line, 3);
    }

    #[test]
    fn blocks_without_timing_are_dropped_and_named() {
        let src = "WEBVTT\n\nstray words\nmore\n\n00:01.000 --> 00:02.000\nOne\n\nnot timed\n\nid\n00:03.000 --> 00:04.000\nTwo\n";
        let (cues, dropped) = parse(src).unwrap();
        let texts: Vec<&str> = cues.iter().map(|c| c.segment.text.as_str()).collect();
        assert_eq!(texts, vec!["One", "Two"]);
        let lines: Vec<usize> = dropped.iter().map(|f| f.line).collect();
        assert_eq!(lines, vec![3, 9]);
        assert_eq!(dropped[0].kind, FixKind::DroppedUntimed);
    }
}
