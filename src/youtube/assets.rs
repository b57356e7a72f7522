//! The description and the assets put together.
//!
//! Takes chapters, a summary and tags and composes `description.md` (title line, summary, the
//! chapter list YouTube reads), with nothing YouTube rejects in it; [`offline_assets`] makes all
//! three from the timed lines alone, the summary being the opening of the transcript.
//! [`YoutubeAssets`] is what `dubber youtube` writes, whoever made it. Separate so that the offline
//! path and the model path (`ai`) share one composition and one result type.

use super::chapters::Chapters;
use super::offline::offline_chapters;
use super::tags::{offline_tags, tags_text};
use super::{ends_sentence, youtube_safe};
use crate::Segment;

/// The opening of the transcript, whole sentences up to about 300 characters.
fn opening_summary(segments: &[Segment]) -> String {
    let mut summary = String::new();
    for segment in segments {
        let text = youtube_safe(&segment.spoken_text());
        if text.is_empty() {
            continue;
        }
        if !summary.is_empty() {
            summary.push(' ');
        }
        summary.push_str(&text);
        if summary.chars().count() >= 300
            || (summary.chars().count() >= 120 && ends_sentence(&summary))
        {
            break;
        }
    }
    if summary.chars().count() > 320 {
        let cut: String = summary.chars().take(300).collect();
        summary = format!(
            "{}…",
            cut.rsplit_once(' ').map_or(cut.as_str(), |(head, _)| head)
        );
    }
    summary
}

/// `description.md`: optional title line, the summary, then the chapter list YouTube reads.
pub fn compose_description(title: Option<&str>, summary: &str, chapters: &Chapters) -> String {
    let mut out = String::new();
    if let Some(title) = title.map(youtube_safe).filter(|t| !t.is_empty()) {
        out.push_str(&title);
        out.push_str("\n\n");
    }
    let summary = summary.replace(['<', '>'], " ");
    if !summary.trim().is_empty() {
        out.push_str(summary.trim());
        out.push_str("\n\n");
    }
    if let Chapters::List(_) = chapters {
        out.push_str("Chapters:\n");
        out.push_str(&chapters.to_text());
    }
    if out.is_empty() {
        out.push('\n');
    }
    out
}

/// Where a set of assets came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AssetsSource {
    /// Generated without a model.
    Offline,
    /// Written by the chat model and validated.
    Model,
    /// The model was asked but its answer was unusable; these are the offline assets.
    OfflineFallback { reason: String },
}

/// Everything `dubber youtube` writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct YoutubeAssets {
    pub chapters: Chapters,
    /// `description.md`, chapter list included.
    pub description: String,
    pub tags: Vec<String>,
    pub source: AssetsSource,
}

impl YoutubeAssets {
    /// `chapters.txt`.
    pub fn chapters_text(&self) -> String {
        self.chapters.to_text()
    }

    /// `tags.txt`.
    pub fn tags_text(&self) -> String {
        tags_text(&self.tags)
    }
}

/// Chapters, description and tags for a video of `video_ms` made from its timed lines alone.
pub fn offline_assets(segments: &[Segment], video_ms: u64, title: Option<&str>) -> YoutubeAssets {
    let chapters = offline_chapters(segments, video_ms);
    YoutubeAssets {
        description: compose_description(title, &opening_summary(segments), &chapters),
        tags: offline_tags(segments),
        chapters,
        source: AssetsSource::Offline,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_videos_say_so() {
        let chapters = offline_chapters(&[Segment::new(0, 1000, "Hi.")], 25_400);
        assert_eq!(chapters, Chapters::TooShort { video_ms: 25_400 });
        assert_eq!(
            chapters.to_text(),
            "Too short for chapters: the video is 0:25 long and YouTube needs at least 0:30.\n"
        );
        let assets = offline_assets(&[Segment::new(0, 1000, "Hi there.")], 25_400, None);
        assert_eq!(assets.description, "Hi there.\n\n");
    }
}
