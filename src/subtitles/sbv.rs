//! SubViewer as YouTube writes it (`.sbv`): a timing line `0:00:01.000,0:00:03.500`, the text
//! lines after it, a blank line between cues. Read only.

use super::time::parse_timestamp;
use super::{Cue, ParseError};
use crate::segment::Segment;

/// `start,end` as two timestamps, or `None` when the line is not shaped like an SBV timing line.
fn split_timing(line: &str) -> Option<(&str, &str)> {
    let t = line.trim();
    let (start, end) = t.split_once(',')?;
    let shaped = |s: &str| {
        s.starts_with(|c: char| c.is_ascii_digit())
            && s.contains(':')
            && s.bytes()
                .all(|b| b.is_ascii_digit() || b == b':' || b == b'.')
    };
    (shaped(start) && shaped(end.trim())).then_some((start, end.trim()))
}

/// Is this an SBV timing line (for detection by content)?
pub fn looks_like_timing(line: &str) -> bool {
    split_timing(line).is_some()
}

/// Parse SBV text. Tolerates a BOM, CRLF and several blank lines between cues.
pub fn parse(content: &str) -> Result<Vec<Cue>, ParseError> {
    let content = content.strip_prefix('\u{feff}').unwrap_or(content);
    let lines: Vec<&str> = content.lines().collect();
    let mut cues = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i].trim();
        if line.is_empty() {
            i += 1;
            continue;
        }
        let Some((start, end)) = split_timing(line) else {
            return Err(ParseError::new(
                i + 1,
                format!(
                    "expected an SBV timing line like `0:00:01.000,0:00:03.500`, found `{}`",
                    line.chars().take(40).collect::<String>()
                ),
            ));
        };
        let timing_line = i + 1;
        let at = |m: String| ParseError::new(timing_line, m);
        let (start, end) = (
            parse_timestamp(start).map_err(at)?,
            parse_timestamp(end).map_err(at)?,
        );
        let mut text = Vec::new();
        i += 1;
        while i < lines.len() && !lines[i].trim().is_empty() {
            text.push(lines[i].trim());
            i += 1;
        }
        cues.push(Cue {
            line: timing_line,
            segment: Segment::new(start, end, text.join("\n")),
        });
    }
    Ok(cues)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_youtube_sbv() {
        let src = "\u{feff}0:00:01.000,0:00:03.500\r\nHello there.\r\nSecond line\r\n\r\n\r\n0:01:02.250,0:01:04.000\r\n>> Bob: Next.\r\n";
        let cues = parse(src).unwrap();
        let got: Vec<(usize, u64, u64, &str)> = cues
            .iter()
            .map(|c| {
                let s = &c.segment;
                (c.line, s.start_ms, s.end_ms, s.text.as_str())
            })
            .collect();
        assert_eq!(
            got,
            vec![
                (1, 1000, 3500, "Hello there.\nSecond line"),
                (6, 62_250, 64_000, ">> Bob: Next.")
            ]
        );
    }

    #[test]
    fn errors_name_the_line() {
        let err = parse("0:00:01.000,0:00:02.000\nok\n\nstray\n").unwrap_err();
        assert_eq!(err.line, 4);
        let err = parse("0:00:01.000,0:00:02.000\nok\n\n0:00:03.000,0:00:61.000\nx\n").unwrap_err();
        assert_eq!(err.line, 4);
        assert!(err.message.contains("0:00:61.000"), "{}", err.message);
    }
}
