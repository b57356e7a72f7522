//! JSON segments: `[{"start": secs, "end": secs, "text": "..."}]`, or an object with such a
//! `segments` array (what Whisper's `verbose_json` returns). Other fields are ignored.

use serde::Deserialize;

use super::{Cue, ParseError};
use crate::segment::{MAX_MEDIA_MS, Segment, ms_to_secs, secs_for_message, secs_to_ms};

struct Millis(u64);

impl<'de> Deserialize<'de> for Millis {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let secs = f64::deserialize(d)?;
        secs_to_ms(secs).map(Millis).ok_or_else(|| {
            serde::de::Error::custom(format!(
                "invalid time {}: expected seconds from 0 to {} (100 hours)",
                secs_for_message(secs),
                ms_to_secs(MAX_MEDIA_MS)
            ))
        })
    }
}

#[derive(Deserialize)]
struct JsonSegment {
    start: Millis,
    end: Millis,
    text: String,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Document {
    List(Vec<JsonSegment>),
    Wrapped { segments: Vec<JsonSegment> },
}

pub fn parse(content: &str) -> Result<Vec<Cue>, ParseError> {
    let content = content.strip_prefix('\u{feff}').unwrap_or(content);
    // Try the bare list first so that its errors (with line numbers) are the ones reported.
    let list = serde_json::from_str::<Vec<JsonSegment>>(content);
    let segments = match list {
        Ok(list) => list,
        Err(list_err) => match serde_json::from_str::<Document>(content) {
            Ok(Document::Wrapped { segments }) | Ok(Document::List(segments)) => segments,
            Err(_) => {
                let line = list_err.line().max(1);
                let message = if content.trim_start().starts_with('{') {
                    "expected an object with a `segments` array of {start, end, text}".to_string()
                } else {
                    format!(
                        "expected [{{\"start\": seconds, \"end\": seconds, \"text\": \"...\"}}]: {list_err}"
                    )
                };
                return Err(ParseError::new(line, message));
            }
        },
    };
    Ok(segments
        .into_iter()
        .enumerate()
        .map(|(i, s)| Cue {
            line: i + 1,
            segment: Segment::new(s.start.0, s.end.0, s.text),
        })
        .collect())
}

/// Write segments as a JSON list in seconds.
pub fn write(segments: &[Segment]) -> String {
    // Serialising plain numbers and strings cannot fail.
    serde_json::to_string_pretty(segments).unwrap_or_else(|_| "[]".to_string()) + "\n"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_lists_and_verbose_json() {
        let cues = parse(r#"[{"start": 0.5, "end": 2, "text": "Hi", "id": 3}]"#).unwrap();
        assert_eq!(
            (cues[0].segment.start_ms, cues[0].segment.end_ms),
            (500, 2000)
        );
        let cues =
            parse(r#"{"text": "x", "segments": [{"start": 1.25, "end": 2.0, "text": " Yo"}]}"#)
                .unwrap();
        assert_eq!(cues[0].segment.start_ms, 1250);
    }

    #[test]
    fn errors_carry_a_line() {
        let err = parse("[\n{\"start\": 1, \"end\": 2, \"text\": \"a\"},\n{\"start\": -1, \"end\": 2, \"text\": \"b\"}\n]")
            .unwrap_err();
        assert_eq!(err.line, 3);
        assert!(err.message.contains("invalid time"), "{}", err.message);
    }

    #[test]
    fn absurd_times_are_errors_with_a_line() {
        for absurd in ["1e300", "9e11", "360000.5"] {
            let src = format!(
                "[\n{{\"start\": 1, \"end\": 2, \"text\": \"a\"}},\n{{\"start\": {absurd}, \"end\": 2, \"text\": \"b\"}}\n]"
            );
            let err = parse(&src).unwrap_err();
            assert_eq!(err.line, 3, "{absurd}");
            assert!(
                err.message.contains("from 0 to 360000"),
                "{absurd}: {}",
                err.message
            );
        }
    }
}
