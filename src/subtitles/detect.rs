//! Which format a subtitle file is in, from its content as well as its name.
//!
//! Contract: content that is clearly one format ([`sniff`]: a `WEBVTT` header, an XML document with
//! a `<tt>` root, an `[Script Info]`/`[Events]` section, a JSON array or object, an SBV or SRT
//! timing line first) is read as that format whatever the file's extension (a `.txt` holding SRT,
//! an `.xml` holding TTML, an `.ass` saved as `.ssa`). Content that is clearly none is read by the
//! extension, else as SRT; a failure to read such content names every format dubber reads.

use std::path::Path;

use super::Format;
use super::{ass, sbv, time, ttml};

/// The formats dubber reads, for messages.
pub const READABLE: &str = "SRT, WebVTT, SBV, ASS/SSA, TTML/DFXP (incl. IMSC, iTT) or JSON";

/// The format of a file: its content when that is clear (the flag is true), else its extension,
/// else SRT.
pub fn detect(path: &Path, content: &str) -> (Format, bool) {
    match sniff(content) {
        Some(format) => (format, true),
        None => (Format::from_path(path).unwrap_or(Format::Srt), false),
    }
}

/// The format the content clearly is, if any.
pub fn sniff(content: &str) -> Option<Format> {
    let t = content.trim_start_matches('\u{feff}').trim_start();
    let first = t.lines().next().unwrap_or("").trim();
    if first.starts_with("WEBVTT") {
        Some(Format::Vtt)
    } else if ass::looks_like_ass(t) {
        Some(Format::Ass)
    } else if t.starts_with('<') {
        looks_like_ttml(t).then_some(Format::Ttml)
    } else if t.starts_with('[') || t.starts_with('{') {
        Some(Format::Json)
    } else if sbv::looks_like_timing(first) {
        Some(Format::Sbv)
    } else if time::looks_like_timing(first) || looks_like_srt_start(t) {
        Some(Format::Srt)
    } else {
        None
    }
}

/// A cue number, then a timing line.
fn looks_like_srt_start(t: &str) -> bool {
    let mut lines = t.lines().map(str::trim);
    let number = lines.next().unwrap_or("");
    !number.is_empty()
        && number.bytes().all(|b| b.is_ascii_digit())
        && lines.next().is_some_and(time::looks_like_timing)
}

/// An XML document whose root element is `tt` (any prefix), by a real parse of its start.
fn looks_like_ttml(t: &str) -> bool {
    match ttml::parse_xml(t) {
        Ok(doc) => doc.root_element().tag_name().name() == "tt",
        // Broken XML that names a `tt` root is still meant as TTML (the reader reports where).
        Err(_) => t.contains("<tt") || t.contains(":tt"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_decides_over_the_name() {
        let srt = "1\n00:00:01,000 --> 00:00:02,000\nHi\n";
        assert_eq!(detect(Path::new("a.txt"), srt), (Format::Srt, true));
        assert_eq!(
            detect(Path::new("a.vtt"), "WEBVTT\n\n"),
            (Format::Vtt, true)
        );
        let ttml = r#"<?xml version="1.0"?><tt xmlns="http://www.w3.org/ns/ttml"/>"#;
        assert_eq!(detect(Path::new("a.xml"), ttml), (Format::Ttml, true));
        assert_eq!(
            detect(Path::new("a.ssa"), "[Script Info]\n"),
            (Format::Ass, true)
        );
        assert_eq!(sniff("[{\"start\": 1}]"), Some(Format::Json));
        assert_eq!(sniff("0:00:01.000,0:00:02.000\nx"), Some(Format::Sbv));
        // Unclear content: the extension, else SRT.
        assert_eq!(detect(Path::new("a.vtt"), "hello"), (Format::Vtt, false));
        assert_eq!(detect(Path::new("a.txt"), "hello"), (Format::Srt, false));
        assert_eq!(sniff("<html></html>"), None);
    }
}
