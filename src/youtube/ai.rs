//! Chapters, a description and tags written by a chat model, checked before they are used.
//!
//! Takes a chat model, the timed lines and the video's length; sends the transcript as
//! `[M:SS] text` lines (thinned evenly when too long) with the rules spelled out, and checks the
//! JSON reply field by field against the same rules as the offline path ([`validate_chapters`],
//! [`sanitize_tags`]). A broken rule is sent back to the model; when it keeps breaking them, or
//! cannot be reached, [`ai_assets`] returns the offline assets and says why. Separate because it
//! is the only part that talks to a model: prompt and reply parsing change together.

use serde_json::Value;

use super::assets::{AssetsSource, YoutubeAssets, compose_description, offline_assets};
use super::chapters::{Chapter, Chapters, format_timestamp, parse_timestamp, validate_chapters};
use super::tags::{offline_tags, sanitize_tags};
use super::{MAX_TITLE_CHARS, MIN_CHAPTER_SECS, MIN_CHAPTERS, MIN_VIDEO_MS};
use crate::Segment;
use crate::llm::reply::extract_json;
use crate::llm::{ChatMessage, ChatModel, ReplyCache, ask_validated};
use crate::text::fold_whitespace;

/// Longest description summary accepted from the model: YouTube allows 5,000 characters and the
/// chapter list needs room too.
const MAX_SUMMARY_CHARS: usize = 4_000;
/// Most transcript characters sent to the model for `--ai`.
const MAX_TRANSCRIPT_CHARS: usize = 48_000;

/// The transcript as the model sees it: `[M:SS] text` lines, thinned evenly when too long.
fn timed_transcript(segments: &[Segment]) -> String {
    let lines: Vec<String> = segments
        .iter()
        .map(|s| (s.start_ms / 1000, s.spoken_text()))
        .filter(|(_, t)| !t.is_empty())
        .map(|(secs, t)| format!("[{}] {t}", format_timestamp(secs)))
        .collect();
    let total: usize = lines.iter().map(|l| l.len() + 1).sum();
    let keep_every = total.div_ceil(MAX_TRANSCRIPT_CHARS).max(1);
    lines
        .iter()
        .step_by(keep_every)
        .cloned()
        .collect::<Vec<_>>()
        .join("\n")
}

/// What the model answered, validated.
struct ModelAssets {
    chapters: Chapters,
    summary: String,
    tags: Vec<String>,
}

fn parse_model_assets(reply: &str, video_ms: u64) -> Result<ModelAssets, String> {
    let value = extract_json(reply)?;
    let summary = value
        .get("description")
        .and_then(Value::as_str)
        .map(|d| d.replace(['<', '>'], " ").trim().to_string())
        .filter(|d| !d.is_empty())
        .ok_or(r#"the JSON object has no non-empty string "description""#)?;
    let chars = summary.chars().count();
    if chars > MAX_SUMMARY_CHARS {
        return Err(format!(
            "the description has {chars} characters; at most {MAX_SUMMARY_CHARS} are allowed"
        ));
    }
    let tags = match value.get("tags") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => {
            sanitize_tags(items.iter().filter_map(Value::as_str).map(str::to_string))
        }
        Some(_) => return Err(r#""tags" must be an array of strings"#.into()),
    };
    if video_ms < MIN_VIDEO_MS {
        return Ok(ModelAssets {
            chapters: Chapters::TooShort { video_ms },
            summary,
            tags,
        });
    }
    let items = value
        .get("chapters")
        .and_then(Value::as_array)
        .ok_or(r#"the JSON object has no "chapters" array"#)?;
    let mut chapters = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let start_secs = match item.get("start") {
            Some(Value::String(s)) => parse_timestamp(s),
            Some(Value::Number(n)) => n.as_u64(),
            _ => None,
        }
        .ok_or_else(|| {
            format!(
                r#"chapter {} has no "start" time as "M:SS" or "H:MM:SS""#,
                i + 1
            )
        })?;
        let title = item
            .get("title")
            .and_then(Value::as_str)
            .ok_or_else(|| format!(r#"chapter {} has no string "title""#, i + 1))?;
        chapters.push(Chapter {
            start_secs,
            title: fold_whitespace(title),
        });
    }
    validate_chapters(&chapters, video_ms).map_err(|e| e.to_string())?;
    Ok(ModelAssets {
        chapters: Chapters::List(chapters),
        summary,
        tags,
    })
}

/// Topic chapters, a description and tags written by `model` from the transcript, validated
/// against YouTube's rules (the broken rule is sent back, up to `max_tries` replies). When the
/// model keeps breaking them, or cannot be reached, the offline assets are returned with the
/// reason in [`AssetsSource::OfflineFallback`].
pub async fn ai_assets<M: ChatModel + ?Sized>(
    model: &M,
    cache: Option<&ReplyCache>,
    segments: &[Segment],
    video_ms: u64,
    title: Option<&str>,
    max_tries: usize,
) -> YoutubeAssets {
    let video_secs = video_ms / 1000;
    let chapter_rules = if video_ms < MIN_VIDEO_MS {
        "The video is too short for chapters: give \"chapters\": [].".to_string()
    } else {
        format!(
            "Chapter rules: the first chapter starts at 0:00; at least {MIN_CHAPTERS} chapters; \
             start times ascending, written as M:SS (or H:MM:SS from one hour on); every chapter \
             lasts at least {MIN_CHAPTER_SECS} seconds, the last one until the end of the video at \
             {}; titles name the topic in at most {MAX_TITLE_CHARS} characters, without '<' or '>'.",
            format_timestamp(video_secs)
        )
    };
    let system = format!(
        "You prepare YouTube metadata from a video's timed transcript. Answer with only a JSON \
         object of the form {{\"chapters\": [{{\"start\": \"0:00\", \"title\": \"...\"}}], \
         \"description\": \"...\", \"tags\": [\"...\"]}}. {chapter_rules} The description is two to \
         four short paragraphs summarising the video, in the transcript's language, without the \
         chapter list and without '<' or '>'. Tags are 5 to 15 short search keywords."
    );
    let mut user = format!("Video length: {}\n", format_timestamp(video_secs));
    if let Some(title) = title {
        user.push_str(&format!("Title: {title}\n"));
    }
    user.push_str("Transcript:\n");
    user.push_str(&timed_transcript(segments));
    let messages = vec![ChatMessage::system(system), ChatMessage::user(user)];
    let answer = ask_validated(
        model,
        cache,
        "YouTube chapters and description",
        messages,
        max_tries,
        |reply| parse_model_assets(reply, video_ms),
    )
    .await;
    match answer {
        Ok(assets) => {
            let tags = if assets.tags.is_empty() {
                offline_tags(segments)
            } else {
                assets.tags
            };
            YoutubeAssets {
                description: compose_description(title, &assets.summary, &assets.chapters),
                chapters: assets.chapters,
                tags,
                source: AssetsSource::Model,
            }
        }
        Err(e) => {
            tracing::warn!("using offline YouTube assets: {e}");
            YoutubeAssets {
                source: AssetsSource::OfflineFallback {
                    reason: e.to_string(),
                },
                ..offline_assets(segments, video_ms, title)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn model_answers_are_checked_field_by_field() {
        let chapters = r#"[{"start": "0:00", "title": "A"}, {"start": 20, "title": "B"}, {"start": "0:40", "title": "C"}]"#;
        let answer = |description: &str| {
            format!(r#"{{"chapters": {chapters}, "description": "{description}", "tags": ["x"]}}"#)
        };
        let ok = parse_model_assets(&answer("Fine."), 60_000).unwrap();
        assert_eq!(
            ok.chapters
                .list()
                .iter()
                .map(|c| c.start_secs)
                .collect::<Vec<_>>(),
            vec![0, 20, 40]
        );
        let long = parse_model_assets(&answer(&"d".repeat(4001)), 60_000)
            .err()
            .unwrap();
        assert_eq!(
            long,
            "the description has 4001 characters; at most 4000 are allowed"
        );
        let empty = parse_model_assets(&answer(" "), 60_000).err().unwrap();
        assert!(
            empty.contains("non-empty string \"description\""),
            "{empty}"
        );
        let bad_time = parse_model_assets(
            r#"{"chapters": [{"start": "soon", "title": "A"}], "description": "d"}"#,
            60_000,
        );
        assert!(
            bad_time
                .err()
                .unwrap()
                .contains("chapter 1 has no \"start\" time")
        );
        let bad_tags = parse_model_assets(
            r#"{"chapters": [], "description": "d", "tags": "a, b"}"#,
            60_000,
        );
        assert!(bad_tags.err().unwrap().contains("array of strings"));
    }
}
