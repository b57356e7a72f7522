//! JSON segments: `[{"start": secs, "end": secs, "text": "...", "speaker": "..."}]`, or an object
//! with such a `segments` array (what Whisper's `verbose_json` returns). `speaker` is optional (a
//! diarizing transcriber such as WhisperX writes it; a string or a number); other fields are
//! ignored. The writer writes `speaker` only for segments that have one.

use serde::Deserialize;

use super::{Cue, ParseError};
use crate::segment::{MAX_MEDIA_MS, Segment, ms_to_secs, secs_for_message, secs_to_ms, turns};

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
    #[serde(default)]
    speaker: Option<Speaker>,
}

/// A speaker id as transcribers write it: `"SPEAKER_00"`, or a number.
#[derive(Deserialize)]
#[serde(untagged)]
enum Speaker {
    Name(String),
    Number(serde_json::Number),
}

impl Speaker {
    fn name(self) -> Option<String> {
        match self {
            Speaker::Name(name) => turns::clean_name(&name),
            Speaker::Number(n) => Some(n.to_string()),
        }
    }
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
            segment: Segment::new(s.start.0, s.end.0, s.text)
                .with_speaker(s.speaker.and_then(Speaker::name)),
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
    fn reads_and_writes_speakers() {
        let cues = parse(
            r#"[{"start": 0, "end": 1, "text": "Hi", "speaker": "SPEAKER_00"},
                {"start": 1, "end": 2, "text": "Yo", "speaker": 3},
                {"start": 2, "end": 3, "text": "Eh", "speaker": null},
                {"start": 3, "end": 4, "text": "Oh"}]"#,
        )
        .unwrap();
        let speakers: Vec<Option<&str>> =
            cues.iter().map(|c| c.segment.speaker.as_deref()).collect();
        assert_eq!(speakers, vec![Some("SPEAKER_00"), Some("3"), None, None]);
        let segments: Vec<Segment> = cues.into_iter().map(|c| c.segment).collect();
        let written = write(&segments);
        assert_eq!(written.matches("\"speaker\"").count(), 2, "{written}");
        let back: Vec<Segment> = parse(&written)
            .unwrap()
            .into_iter()
            .map(|c| c.segment)
            .collect();
        assert_eq!(back, segments);
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
