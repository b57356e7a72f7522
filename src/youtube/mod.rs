//! YouTube assets for a dubbed video: chapters, a description and tags.
//!
//! YouTube only turns a description's timestamps into chapters when they follow its rules: the
//! first at 0:00, at least three, in ascending order, each at least 10 seconds long; it shows
//! times as `M:SS` (or `H:MM:SS` from one hour on) and cuts titles at 100 characters. A video
//! shorter than 30 seconds cannot have chapters at all. [`validate_chapters`] states those rules
//! once; the offline generator ([`offline_chapters`]) satisfies them by construction (property
//! tested), and a chat model's chapters ([`ai_assets`]) are checked against them, sent back when
//! they break them, and replaced by the offline ones if they keep breaking them.
//!
//! Offline, chapter boundaries are the longest pauses that follow the end of a sentence, spread so
//! that no chapter is shorter than its share of the video; titles are the first sentence of the
//! chapter. Times are whole seconds because YouTube's timestamps are.
//!
//! This module holds YouTube's limits and two text helpers shared by the parts; the parts depend
//! on each other one way only:
//!
//! - `chapters`: the chapter types, the rules, timestamps;
//! - `offline`: chapters from pauses and sentence ends, without a model (uses `chapters`);
//! - `tags`: tags from frequent words, and the rules for tags;
//! - `assets`: the description and the assets put together offline (uses the three above);
//! - `ai`: the chat model's prompt and the checking of its reply (uses `chapters`, `tags` and
//!   `assets`).

mod ai;
mod assets;
mod chapters;
mod offline;
mod tags;

pub use ai::ai_assets;
pub use assets::{AssetsSource, YoutubeAssets, compose_description, offline_assets};
pub use chapters::{
    Chapter, ChapterError, Chapters, format_timestamp, parse_timestamp, validate_chapters,
};
pub use offline::offline_chapters;
pub use tags::{offline_tags, sanitize_tags, tags_text};

use crate::text::fold_whitespace;

/// Shortest video YouTube gives chapters to.
pub const MIN_VIDEO_MS: u64 = 30_000;
/// Fewest chapters YouTube accepts.
pub const MIN_CHAPTERS: usize = 3;
/// Shortest chapter YouTube accepts, in seconds.
pub const MIN_CHAPTER_SECS: u64 = 10;
/// Longest chapter title YouTube shows, in characters.
pub const MAX_TITLE_CHARS: usize = 100;
/// YouTube's limit on all tags together, in characters (commas included, quotes around tags with
/// spaces counted).
pub const MAX_TAGS_CHARS: usize = 500;

/// Whether `text` ends with a sentence's final punctuation (closing quotes and brackets aside).
fn ends_sentence(text: &str) -> bool {
    text.trim_end_matches(['"', '\'', '»', '”', ')', ' '])
        .ends_with(['.', '!', '?', '…', '。', '！', '？'])
}

/// Text fit for YouTube: one line, no angle brackets (YouTube rejects them in descriptions).
fn youtube_safe(text: &str) -> String {
    fold_whitespace(&text.replace(['<', '>'], " "))
}
