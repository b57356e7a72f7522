//! SubRip (`.srt`): read what real files contain, write the canonical form.

use super::time::{looks_like_timing, parse_timing, push_cue};
use super::{Cue, ParseError};
use crate::segment::{Segment, turns};

fn is_cue_number(line: &str) -> bool {
    let t = line.trim();
    !t.is_empty() && t.len() <= 9 && t.bytes().all(|b| b.is_ascii_digit())
}

/// Parse SRT text. Tolerates a BOM, CRLF, missing or wrong cue numbers, `.` before milliseconds,
/// missing blank lines between cues and blank lines inside a cue's text.
pub fn parse(content: &str) -> Result<Vec<Cue>, ParseError> {
    let content = content.strip_prefix('\u{feff}').unwrap_or(content);
    let lines: Vec<&str> = content.lines().collect();
    // Inside a cue's text only a cue number followed by a timing line starts the next cue: a line
    // of text with an arrow (`2 -> 3 steps`, `a --> b`) is text.
    let numbered_cue = |i: usize| {
        is_cue_number(lines[i]) && lines.get(i + 1).is_some_and(|l| looks_like_timing(l))
    };
    let starts_cue = |i: usize| looks_like_timing(lines[i]) || numbered_cue(i);
    let mut cues: Vec<Cue> = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i].trim();
        if line.is_empty() {
            i += 1;
            continue;
        }
        let timing_at = if looks_like_timing(line) {
            i
        } else if starts_cue(i) {
            i + 1
        } else if is_cue_number(line) {
            return Err(ParseError::new(
                i + 2,
                format!(
                    "expected a timing line like `00:00:01,000 --> 00:00:04,000` after cue number {line}"
                ),
            ));
        } else if let Some(previous) = cues.last_mut() {
            // Text after a stray blank line still belongs to the cue before it.
            previous.segment.text.push('\n');
            previous.segment.text.push_str(line);
            i += 1;
            continue;
        } else {
            return Err(ParseError::new(
                i + 1,
                format!(
                    "expected a cue number or a timing line like `00:00:01,000 --> 00:00:04,000`, found `{}`",
                    truncate(line)
                ),
            ));
        };
        let (start, end) =
            parse_timing(lines[timing_at]).map_err(|m| ParseError::new(timing_at + 1, m))?;
        let mut text_lines = Vec::new();
        i = timing_at + 1;
        while i < lines.len() && !lines[i].trim().is_empty() && !numbered_cue(i) {
            text_lines.push(lines[i].trim());
            i += 1;
        }
        cues.push(Cue {
            line: timing_at + 1,
            segment: Segment::new(start, end, text_lines.join("\n")),
        });
    }
    Ok(cues)
}

fn truncate(s: &str) -> String {
    s.chars().take(40).collect()
}

/// Write segments as SRT: cues numbered from 1, `,` before milliseconds, blank lines inside a
/// text removed (they would end the cue), LF line ends; a speaker the text does not show is
/// written as a `<v Name>` voice span ([`turns::voiced_texts`]). A text can never form a cue of
/// its own: see [`cue_text`].
pub fn write(segments: &[Segment]) -> String {
    let mut out = String::new();
    let texts = turns::voiced_texts(segments);
    for (i, (s, text)) in segments.iter().zip(&texts).enumerate() {
        out.push_str(&format!("{}\n", i + 1));
        push_cue(&mut out, s.start_ms, s.end_ms, ',', &cue_text(text));
    }
    out
}

/// `text` as a cue's text that [`parse`] reads back as that one cue's text: lines trimmed, blank
/// lines dropped (they end a cue), and a line that looks like a timing line folded onto a cue
/// number before it (`7` then `00:00:01,000 --> …` would start a new cue; `7 00:00:01,000 --> …`
/// is text).
pub fn cue_text(text: &str) -> String {
    let mut lines: Vec<String> = Vec::new();
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let mut line = line.to_string();
        while looks_like_timing(&line)
            && let Some(number) = lines.pop_if(|previous| is_cue_number(previous))
        {
            line = format!("{number} {line}");
        }
        lines.push(line);
    }
    lines.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_messy_real_world_file() {
        let src = "\u{feff}1\r\n00:00:01,000 --> 00:00:02.5\r\n<i>Hello</i>\r\nthere\r\n\r\n\r\n7\r\n00:00:03,000 --> 00:00:04,000\r\nSecond\r\n\r\nstray line\r\n00:00:05,000 --> 00:00:06,000 X1:0 X2:0\r\nNo number\r\n";
        let cues = parse(src).unwrap();
        let texts: Vec<&str> = cues.iter().map(|c| c.segment.text.as_str()).collect();
        assert_eq!(
            texts,
            vec!["<i>Hello</i>\nthere", "Second\nstray line", "No number"]
        );
        assert_eq!(
            (cues[0].segment.start_ms, cues[0].segment.end_ms),
            (1000, 2500)
        );
        assert_eq!(cues[2].segment.start_ms, 5000);
        assert_eq!(cues[1].line, 8);
    }

    #[test]
    fn missing_blank_line_between_cues() {
        let src = "1\n00:00:01,000 --> 00:00:02,000\nOne\n2\n00:00:03,000 --> 00:00:04,000\nTwo\n";
        let cues = parse(src).unwrap();
        assert_eq!(cues.len(), 2);
        assert_eq!(cues[1].segment.text, "Two");
    }

    #[test]
    fn text_never_forms_a_cue_and_arrows_in_text_are_text() {
        let texts = [
            "check the\n7\n99:00:00,000 --> 99:00:05,000\nPAST END",
            "2 -> 3 steps",
            "a --> b",
            "first\n2 -> 3 steps",
            "00:00:01,000 --> 00:00:02,000",
            "7\n7\n00:00:01,000 --> 00:00:02,000",
            "One.\n\n\nTwo.",
        ];
        let segments: Vec<Segment> = texts
            .iter()
            .enumerate()
            .map(|(i, t)| Segment::new(i as u64 * 1000, i as u64 * 1000 + 500, *t))
            .collect();
        let cues = parse(&write(&segments)).unwrap();
        assert_eq!(cues.len(), texts.len());
        let read: Vec<&str> = cues.iter().map(|c| c.segment.text.as_str()).collect();
        assert_eq!(
            read,
            vec![
                "check the\n7 99:00:00,000 --> 99:00:05,000\nPAST END",
                "2 -> 3 steps",
                "a --> b",
                "first\n2 -> 3 steps",
                "00:00:01,000 --> 00:00:02,000",
                "7 7 00:00:01,000 --> 00:00:02,000",
                "One.\nTwo.",
            ]
        );
        let ends: Vec<u64> = cues.iter().map(|c| c.segment.end_ms).collect();
        assert_eq!(ends, vec![500, 1500, 2500, 3500, 4500, 5500, 6500]);
    }

    #[test]
    fn errors_name_the_line() {
        let err =
            parse("1\n00:00:01,000 --> 00:00:02,000\nok\n\n2\n00:00:03,000 -> 00:00:04,000\nx\n")
                .unwrap_err();
        assert_eq!(err.line, 6);
        let err = parse("1\nhello\n").unwrap_err();
        assert_eq!(err.line, 2);
        let err = parse("just text\n").unwrap_err();
        assert_eq!(err.line, 1);
        let err = parse("1\n00:00:01,000 --> 00:00:0x,000\n").unwrap_err();
        assert!(err.message.contains("00:00:0x,000"), "{}", err.message);
    }
}
