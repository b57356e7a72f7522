//! Advanced SubStation Alpha and SubStation Alpha (`.ass`, `.ssa`). Read only.
//!
//! Contract: the `[Events]` section is read by its `Format:` line (fields in any order, the text
//! last and free to hold commas; without one, the standard ASS order). Each `Dialogue:` line is a
//! cue; `Comment:` lines and every other section (script info, styles, fonts, graphics) are
//! skipped. In the text, override blocks (`{\i1}`, `{\pos(1,2)}`, `{comments}`) are removed, `\N`
//! and `\n` become line breaks and `\h` a space; drawings (`{\p1}m 0 0 l 10 0{\p0}`) are not speech
//! and are dropped. The `Name` (SSA: `Actor`) field, where set, is the cue's speaker. Times are
//! `h:mm:ss.cc`.

use super::time::parse_timestamp;
use super::{Cue, ParseError};
use crate::segment::{Segment, turns};

const DEFAULT_FORMAT: &str =
    "Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text";

/// Where the fields of a `Dialogue:` line are, from the `Format:` line.
struct Fields {
    count: usize,
    start: usize,
    end: usize,
    name: Option<usize>,
}

impl Fields {
    fn from_format(format: &str, line: usize) -> Result<Fields, ParseError> {
        let names: Vec<String> = format
            .split(',')
            .map(|f| f.trim().to_ascii_lowercase())
            .collect();
        let find = |wanted: &str| names.iter().position(|n| n == wanted);
        let missing = |field: &str| {
            ParseError::new(
                line,
                format!("the `Format:` line of [Events] has no `{field}` field"),
            )
        };
        if names.last().map(String::as_str) != Some("text") {
            return Err(ParseError::new(
                line,
                "expected `Text` as the last field of the `Format:` line of [Events]",
            ));
        }
        Ok(Fields {
            count: names.len(),
            start: find("start").ok_or_else(|| missing("Start"))?,
            end: find("end").ok_or_else(|| missing("End"))?,
            name: find("name").or_else(|| find("actor")),
        })
    }
}

/// The first `[Events]`-like line or section header: ASS content starts with `[Script Info]`.
pub fn looks_like_ass(content: &str) -> bool {
    let first = content
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with(';'));
    first.is_some_and(|l| {
        l.eq_ignore_ascii_case("[script info]") || l.eq_ignore_ascii_case("[events]")
    })
}

/// Parse ASS or SSA text.
pub fn parse(content: &str) -> Result<Vec<Cue>, ParseError> {
    let content = content.strip_prefix('\u{feff}').unwrap_or(content);
    let mut in_events = false;
    let mut seen_events = false;
    let mut fields: Option<Fields> = None;
    let mut cues = Vec::new();
    for (i, raw) in content.lines().enumerate() {
        let line = raw.trim();
        if line.starts_with('[') && line.ends_with(']') {
            in_events = line.eq_ignore_ascii_case("[events]");
            seen_events |= in_events;
            continue;
        }
        if !in_events {
            continue;
        }
        let Some((key, value)) = line.split_once(':') else {
            continue;
        };
        match key.trim().to_ascii_lowercase().as_str() {
            "format" => fields = Some(Fields::from_format(value, i + 1)?),
            "dialogue" => {
                let fields = match &fields {
                    Some(f) => f,
                    None => fields.insert(Fields::from_format(DEFAULT_FORMAT, i + 1)?),
                };
                cues.push(dialogue(value, fields, i + 1)?);
            }
            _ => {} // Comment:, Picture:, Sound:, Movie:, Command: are not speech.
        }
    }
    if !seen_events {
        return Err(ParseError::new(
            1,
            "expected an `[Events]` section with `Dialogue:` lines (ASS/SSA)",
        ));
    }
    Ok(cues)
}

fn dialogue(value: &str, fields: &Fields, line: usize) -> Result<Cue, ParseError> {
    let parts: Vec<&str> = value.trim_start().splitn(fields.count, ',').collect();
    if parts.len() < fields.count {
        return Err(ParseError::new(
            line,
            format!(
                "expected {} comma-separated fields in this `Dialogue:` line, as the `Format:` line says; found {}",
                fields.count,
                parts.len()
            ),
        ));
    }
    let at = |m: String| ParseError::new(line, m);
    let start = parse_timestamp(parts[fields.start]).map_err(at)?;
    let end = parse_timestamp(parts[fields.end]).map_err(at)?;
    let text = clean_text(parts[fields.count - 1]);
    let speaker = fields.name.and_then(|n| turns::clean_name(parts[n]));
    Ok(Cue {
        line,
        segment: Segment::new(start, end, text).with_speaker(speaker),
    })
}

/// The text a `Dialogue:` line shows: override blocks removed, drawings dropped, `\N`/`\n` as line
/// breaks, `\h` as a space, each line trimmed.
fn clean_text(raw: &str) -> String {
    let mut out = String::new();
    let mut drawing = false;
    let mut rest = raw;
    while let Some(c) = rest.chars().next() {
        if c == '{'
            && let Some(close) = rest.find('}')
        {
            if let Some(scale) = drawing_scale(&rest[1..close]) {
                drawing = scale > 0;
            }
            rest = &rest[close + 1..];
            continue;
        }
        if c == '\\' {
            let escape = match rest[1..].chars().next() {
                Some('N') | Some('n') => Some('\n'),
                Some('h') => Some(' '),
                _ => None,
            };
            if let Some(escaped) = escape {
                if !drawing {
                    out.push(escaped);
                }
                rest = &rest[2..];
                continue;
            }
        }
        if !drawing {
            out.push(c);
        }
        rest = &rest[c.len_utf8()..];
    }
    let lines: Vec<&str> = out
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    lines.join("\n")
}

/// The last `\pN` in an override block: N > 0 starts a drawing, 0 ends it.
fn drawing_scale(block: &str) -> Option<u32> {
    block
        .split('\\')
        .skip(1)
        .filter_map(|tag| {
            let digits = tag.trim().strip_prefix('p')?;
            digits.parse::<u32>().ok()
        })
        .last()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cleans_override_blocks_escapes_and_drawings() {
        assert_eq!(
            clean_text(r"{\i1}Hello{\i0},\Nworld\hagain"),
            "Hello,\nworld again"
        );
        assert_eq!(
            clean_text(r"{\pos(10,20)\p1}m 0 0 l 100 0 100 100{\p0}Said after"),
            "Said after"
        );
        assert_eq!(clean_text(r"{a comment} Plain \n text "), "Plain\ntext");
        // An unclosed brace is text.
        assert_eq!(clean_text("a { b"), "a { b");
        assert_eq!(drawing_scale(r"\pbo2\p1"), Some(1));
        assert_eq!(drawing_scale(r"\pos(1,2)"), None);
    }

    #[test]
    fn errors_name_the_line() {
        let src = "[Events]\nFormat: Start, End, Text\nDialogue: 0:00:01.00\n";
        assert_eq!(parse(src).unwrap_err().line, 3);
        let src = "[Events]\nFormat: Start, End, Text\nDialogue: 0:00:01.00,0:00:0x.00,Hi\n";
        let err = parse(src).unwrap_err();
        assert_eq!(err.line, 3);
        assert!(err.message.contains("0:00:0x.00"), "{}", err.message);
        let src = "[Events]\nFormat: Start, Text, End\n";
        assert_eq!(parse(src).unwrap_err().line, 2);
        assert_eq!(parse("hello\n").unwrap_err().line, 1);
    }
}
