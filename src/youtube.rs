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

use std::collections::HashMap;
use std::fmt;

use serde::Serialize;
use serde_json::Value;

use crate::Segment;
use crate::llm::reply::extract_json;
use crate::llm::{ChatMessage, ChatModel, ReplyCache, ask_validated};
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
/// Length offline titles are cut to, well under [`MAX_TITLE_CHARS`] so they stay readable.
const OFFLINE_TITLE_CHARS: usize = 60;
/// Most chapters the offline generator makes.
const MAX_OFFLINE_CHAPTERS: u64 = 20;
/// Video length per offline chapter aimed at, in seconds.
const SECS_PER_OFFLINE_CHAPTER: u64 = 120;
/// Longest description summary accepted from the model: YouTube allows 5,000 characters and the
/// chapter list needs room too.
const MAX_SUMMARY_CHARS: usize = 4_000;
/// Most transcript characters sent to the model for `--ai`.
const MAX_TRANSCRIPT_CHARS: usize = 48_000;

/// One chapter: where it starts (whole seconds) and its title.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Chapter {
    pub start_secs: u64,
    pub title: String,
}

/// The chapters of a video, or why it has none.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Chapters {
    /// Chapters that satisfy YouTube's rules.
    List(Vec<Chapter>),
    /// The video is shorter than [`MIN_VIDEO_MS`].
    TooShort { video_ms: u64 },
}

impl Chapters {
    /// The chapters (empty for a video too short for them).
    pub fn list(&self) -> &[Chapter] {
        match self {
            Chapters::List(list) => list,
            Chapters::TooShort { .. } => &[],
        }
    }

    /// `chapters.txt`: one `M:SS Title` line per chapter, or a sentence saying why there are none.
    pub fn to_text(&self) -> String {
        match self {
            Chapters::List(list) => list
                .iter()
                .map(|c| format!("{} {}\n", format_timestamp(c.start_secs), c.title))
                .collect(),
            Chapters::TooShort { video_ms } => format!(
                "Too short for chapters: the video is {} long and YouTube needs at least {}.\n",
                format_timestamp(video_ms / 1000),
                format_timestamp(MIN_VIDEO_MS / 1000)
            ),
        }
    }
}

/// A broken chapter rule, phrased so that a model (or a person) can fix it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChapterError {
    #[error("the video is {} long; YouTube needs at least 0:30 for chapters", format_timestamp(.video_ms / 1000))]
    VideoTooShort { video_ms: u64 },
    #[error("there are {count} chapters; YouTube needs at least {MIN_CHAPTERS}")]
    TooFew { count: usize },
    #[error("the first chapter starts at {}; it must start at 0:00", format_timestamp(*.start_secs))]
    FirstNotAtZero { start_secs: u64 },
    #[error("chapter {number} starts at {}, not after the chapter before it", format_timestamp(*.start_secs))]
    NotAscending { number: usize, start_secs: u64 },
    #[error("chapter {number} (at {}) is {secs} s long; each chapter must last at least {MIN_CHAPTER_SECS} s", format_timestamp(*.start_secs))]
    TooShortChapter {
        number: usize,
        start_secs: u64,
        secs: u64,
    },
    #[error("chapter {number} starts at {}, at or after the end of the video ({})", format_timestamp(*.start_secs), format_timestamp(*.video_secs))]
    AfterEnd {
        number: usize,
        start_secs: u64,
        video_secs: u64,
    },
    #[error("the title of chapter {number} is empty")]
    EmptyTitle { number: usize },
    #[error(
        "the title of chapter {number} has {chars} characters; at most {MAX_TITLE_CHARS} are allowed"
    )]
    TitleTooLong { number: usize, chars: usize },
    #[error(
        "the title of chapter {number} contains a line break, '<' or '>', which YouTube does not allow"
    )]
    TitleForbiddenCharacter { number: usize },
}

/// Checks `chapters` against YouTube's rules for a video of `video_ms`.
pub fn validate_chapters(chapters: &[Chapter], video_ms: u64) -> Result<(), ChapterError> {
    if video_ms < MIN_VIDEO_MS {
        return Err(ChapterError::VideoTooShort { video_ms });
    }
    if chapters.len() < MIN_CHAPTERS {
        return Err(ChapterError::TooFew {
            count: chapters.len(),
        });
    }
    if chapters[0].start_secs != 0 {
        return Err(ChapterError::FirstNotAtZero {
            start_secs: chapters[0].start_secs,
        });
    }
    let video_secs = video_ms / 1000;
    for (i, chapter) in chapters.iter().enumerate() {
        let number = i + 1;
        let title = chapter.title.trim();
        if title.is_empty() {
            return Err(ChapterError::EmptyTitle { number });
        }
        let chars = title.chars().count();
        if chars > MAX_TITLE_CHARS {
            return Err(ChapterError::TitleTooLong { number, chars });
        }
        if title.contains(['\n', '\r', '<', '>']) {
            return Err(ChapterError::TitleForbiddenCharacter { number });
        }
        if chapter.start_secs >= video_secs {
            return Err(ChapterError::AfterEnd {
                number,
                start_secs: chapter.start_secs,
                video_secs,
            });
        }
        let end = chapters
            .get(i + 1)
            .map_or(video_secs, |next| next.start_secs);
        if end <= chapter.start_secs {
            return Err(ChapterError::NotAscending {
                number: number + 1,
                start_secs: end,
            });
        }
        let secs = end - chapter.start_secs;
        if secs < MIN_CHAPTER_SECS {
            return Err(ChapterError::TooShortChapter {
                number,
                start_secs: chapter.start_secs,
                secs,
            });
        }
    }
    Ok(())
}

/// A time as YouTube shows it: `M:SS` below one hour, `H:MM:SS` from one hour on.
pub fn format_timestamp(secs: u64) -> String {
    let (h, m, s) = (secs / 3600, secs / 60 % 60, secs % 60);
    if h > 0 {
        format!("{h}:{m:02}:{s:02}")
    } else {
        format!("{m}:{s:02}")
    }
}

/// Reads `M:SS`, `MM:SS` or `H:MM:SS` (seconds and, with hours, minutes below 60).
pub fn parse_timestamp(text: &str) -> Option<u64> {
    let parts: Vec<&str> = text.trim().split(':').collect();
    let number = |p: &str| {
        (!p.is_empty() && p.chars().all(|c| c.is_ascii_digit()))
            .then(|| p.parse::<u64>().ok())
            .flatten()
    };
    match parts.as_slice() {
        [m, s] => {
            let (m, s) = (number(m)?, number(s)?);
            (s < 60).then_some(m * 60 + s)
        }
        [h, m, s] => {
            let (h, m, s) = (number(h)?, number(m)?, number(s)?);
            (m < 60 && s < 60).then_some(h * 3600 + m * 60 + s)
        }
        _ => None,
    }
}

fn ends_sentence(text: &str) -> bool {
    text.trim_end_matches(['"', '\'', '»', '”', ')', ' '])
        .ends_with(['.', '!', '?', '…', '。', '！', '？'])
}

/// Text fit for YouTube: one line, no angle brackets (YouTube rejects them in descriptions).
fn youtube_safe(text: &str) -> String {
    fold_whitespace(&text.replace(['<', '>'], " "))
}

/// A title from the first sentence of `text`, cut at a word boundary; `Part {number}` when there
/// is no text.
fn title_from(text: &str, number: usize) -> String {
    let text = youtube_safe(text);
    let first_sentence = text
        .char_indices()
        .find(|&(i, c)| {
            matches!(c, '.' | '!' | '?' | '…' | '。' | '！' | '？')
                && i >= 3
                && text[i + c.len_utf8()..]
                    .chars()
                    .next()
                    .is_none_or(char::is_whitespace)
        })
        .map_or(text.as_str(), |(i, _)| &text[..i]);
    let mut title = if first_sentence.chars().count() <= OFFLINE_TITLE_CHARS {
        first_sentence.to_string()
    } else {
        let cut: String = first_sentence.chars().take(OFFLINE_TITLE_CHARS).collect();
        let at_word = match cut.rfind(' ') {
            Some(space) if space > OFFLINE_TITLE_CHARS / 2 => &cut[..space],
            _ => cut.as_str(),
        };
        format!("{}…", at_word.trim_end())
    };
    title = title
        .trim_end_matches([',', ';', ':', '-', '–', ' ', '.'])
        .to_string();
    let mut chars = title.chars();
    match chars.next() {
        None => format!("Part {number}"),
        Some(first) => first.to_uppercase().chain(chars).collect(),
    }
}

/// Chapters for a video of `video_ms` from its timed lines, without any model.
///
/// Boundaries are segment starts scored by the pause before them (plus a bonus when the line
/// before ends a sentence), picked greedily from the best down while every chapter keeps at least
/// `max(10 s, video / (2 × target))`; when fewer than three come out (a video that is one long
/// sentence) the video is split in three equal parts.
pub fn offline_chapters(segments: &[Segment], video_ms: u64) -> Chapters {
    if video_ms < MIN_VIDEO_MS {
        return Chapters::TooShort { video_ms };
    }
    let video_secs = video_ms / 1000;
    let max_chapters = (video_secs / MIN_CHAPTER_SECS).min(MAX_OFFLINE_CHAPTERS);
    let target = ((video_secs + SECS_PER_OFFLINE_CHAPTER / 2) / SECS_PER_OFFLINE_CHAPTER)
        .clamp(MIN_CHAPTERS as u64, max_chapters.max(MIN_CHAPTERS as u64));
    let min_gap = (video_secs / (2 * target)).max(MIN_CHAPTER_SECS);

    let mut lines: Vec<&Segment> = segments.iter().filter(|s| s.start_ms < video_ms).collect();
    lines.sort_by_key(|s| (s.start_ms, s.end_ms));

    // (score, second) for every line start that follows a pause.
    let mut candidates: Vec<(u64, u64)> = Vec::new();
    let mut spoken_until = 0u64;
    let mut previous_ends_sentence = true;
    for (i, line) in lines.iter().enumerate() {
        let secs = line.start_ms / 1000;
        if i > 0 && secs >= min_gap && secs + min_gap <= video_secs {
            let pause = line.start_ms.saturating_sub(spoken_until);
            let score = pause + if previous_ends_sentence { 1500 } else { 0 };
            candidates.push((score, secs));
        }
        spoken_until = spoken_until.max(line.end_ms);
        let text = line.spoken_text();
        if !text.is_empty() {
            previous_ends_sentence = ends_sentence(&text);
        }
    }
    candidates.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));

    let mut starts: Vec<u64> = vec![0];
    for &(_, secs) in &candidates {
        if starts.len() as u64 >= target {
            break;
        }
        if starts.iter().all(|&s| s.abs_diff(secs) >= min_gap) {
            starts.push(secs);
        }
    }
    if starts.len() < MIN_CHAPTERS {
        starts = (0..MIN_CHAPTERS as u64)
            .map(|k| k * video_secs / MIN_CHAPTERS as u64)
            .collect();
    }
    starts.sort_unstable();

    let chapters = starts
        .iter()
        .enumerate()
        .map(|(i, &start)| {
            let end = starts.get(i + 1).copied().unwrap_or(video_secs);
            let inside: Vec<String> = lines
                .iter()
                .filter(|l| (start..end).contains(&(l.start_ms / 1000)))
                .map(|l| l.spoken_text())
                .filter(|t| !t.is_empty())
                .take(8)
                .collect();
            let text = if inside.is_empty() {
                // A chapter starting inside a long line: name it after that line.
                lines
                    .iter()
                    .find(|l| l.start_ms / 1000 <= start && l.end_ms / 1000 > start)
                    .map(|l| l.spoken_text())
                    .unwrap_or_default()
            } else {
                inside.join(" ")
            };
            Chapter {
                start_secs: start,
                title: title_from(&text, i + 1),
            }
        })
        .collect();
    Chapters::List(chapters)
}

const STOP_WORDS: &[&str] = &[
    "about",
    "above",
    "after",
    "again",
    "against",
    "also",
    "been",
    "before",
    "being",
    "below",
    "between",
    "both",
    "but",
    "can't",
    "cannot",
    "could",
    "couldn't",
    "didn't",
    "does",
    "doesn't",
    "doing",
    "don't",
    "down",
    "during",
    "each",
    "even",
    "every",
    "from",
    "further",
    "going",
    "gonna",
    "have",
    "haven't",
    "having",
    "here",
    "here's",
    "into",
    "it's",
    "just",
    "know",
    "like",
    "little",
    "look",
    "make",
    "many",
    "maybe",
    "more",
    "most",
    "much",
    "need",
    "only",
    "other",
    "ought",
    "over",
    "really",
    "right",
    "same",
    "should",
    "shouldn't",
    "some",
    "something",
    "such",
    "take",
    "than",
    "that",
    "that's",
    "their",
    "theirs",
    "them",
    "then",
    "there",
    "there's",
    "these",
    "they",
    "they're",
    "thing",
    "things",
    "think",
    "this",
    "those",
    "through",
    "under",
    "until",
    "very",
    "want",
    "wasn't",
    "we're",
    "well",
    "were",
    "what",
    "what's",
    "when",
    "where",
    "which",
    "while",
    "will",
    "with",
    "won't",
    "would",
    "wouldn't",
    "yeah",
    "your",
    "yours",
    "you're",
    "okay",
    "actually",
    "because",
    "today",
    "thank",
    "thanks",
    "going",
    "said",
    "says",
];

/// Tags from the most frequent content words of the transcript (words of four letters or more,
/// English stop words left out), most frequent first, within [`MAX_TAGS_CHARS`].
pub fn offline_tags(segments: &[Segment]) -> Vec<String> {
    let mut counts: HashMap<String, (usize, usize)> = HashMap::new();
    let mut order = 0usize;
    for segment in segments {
        let text = segment.spoken_text().to_lowercase();
        for word in text.split(|c: char| !(c.is_alphanumeric() || c == '\'' || c == '’')) {
            let word = word.trim_matches(['\'', '’']);
            let word = word.strip_suffix("'s").unwrap_or(word);
            if word.chars().count() < 4
                || word.chars().all(|c| c.is_ascii_digit())
                || STOP_WORDS.contains(&word)
            {
                continue;
            }
            order += 1;
            counts.entry(word.to_string()).or_insert((0, order)).0 += 1;
        }
    }
    let mut words: Vec<(String, (usize, usize))> = counts.into_iter().collect();
    words.sort_by(|a, b| b.1.0.cmp(&a.1.0).then(a.1.1.cmp(&b.1.1)));
    sanitize_tags(words.into_iter().take(15).map(|(w, _)| w))
}

/// Tags YouTube accepts: trimmed, no commas or angle brackets, no duplicates (ignoring case), at
/// most 100 characters each and [`MAX_TAGS_CHARS`] together.
pub fn sanitize_tags(tags: impl IntoIterator<Item = String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut used = 0usize;
    for tag in tags {
        let tag = fold_whitespace(&tag.replace([',', '<', '>', '#'], " "));
        let chars = tag.chars().count();
        if chars == 0 || chars > MAX_TITLE_CHARS || out.iter().any(|t| t.eq_ignore_ascii_case(&tag))
        {
            continue;
        }
        // YouTube counts the comma between tags and quotes around tags with spaces.
        let cost = chars + usize::from(!out.is_empty()) + if tag.contains(' ') { 2 } else { 0 };
        if used + cost > MAX_TAGS_CHARS {
            break;
        }
        used += cost;
        out.push(tag);
    }
    out
}

/// `tags.txt`: the tags comma-separated on one line, ready to paste into YouTube Studio.
pub fn tags_text(tags: &[String]) -> String {
    format!("{}\n", tags.join(", "))
}

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

impl fmt::Display for Chapter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", format_timestamp(self.start_secs), self.title)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ch(start_secs: u64, title: &str) -> Chapter {
        Chapter {
            start_secs,
            title: title.into(),
        }
    }

    #[test]
    fn timestamps_look_like_youtube_s() {
        assert_eq!(format_timestamp(0), "0:00");
        assert_eq!(format_timestamp(65), "1:05");
        assert_eq!(format_timestamp(3599), "59:59");
        assert_eq!(format_timestamp(3600), "1:00:00");
        assert_eq!(format_timestamp(3 * 3600 + 62), "3:01:02");
        for secs in [0, 9, 65, 599, 3599, 3600, 7322] {
            assert_eq!(parse_timestamp(&format_timestamp(secs)), Some(secs));
        }
        assert_eq!(parse_timestamp("00:10"), Some(10));
        assert_eq!(parse_timestamp("1:60"), None);
        assert_eq!(parse_timestamp("1:5"), Some(65));
        assert_eq!(parse_timestamp("abc"), None);
        assert_eq!(parse_timestamp("1:00:00:00"), None);
    }

    #[test]
    fn each_rule_is_enforced() {
        let ok = vec![ch(0, "Intro"), ch(10, "Middle"), ch(20, "End")];
        assert_eq!(validate_chapters(&ok, 30_000), Ok(()));
        assert_eq!(
            validate_chapters(&ok, 29_999),
            Err(ChapterError::VideoTooShort { video_ms: 29_999 })
        );
        assert!(matches!(validate_chapters(&ok, 29_000 + 1000), Ok(())));
        // Last chapter 20..29 is 9 s long.
        let short_video = validate_chapters(&ok, 39_000 - 9_999);
        assert!(matches!(
            short_video,
            Err(ChapterError::VideoTooShort { .. })
        ));
        assert!(matches!(
            validate_chapters(&ok[..2], 60_000),
            Err(ChapterError::TooFew { count: 2 })
        ));
        let late = vec![ch(1, "a"), ch(20, "b"), ch(40, "c")];
        assert!(matches!(
            validate_chapters(&late, 60_000),
            Err(ChapterError::FirstNotAtZero { start_secs: 1 })
        ));
        let short = vec![ch(0, "a"), ch(9, "b"), ch(40, "c")];
        assert_eq!(
            validate_chapters(&short, 60_000),
            Err(ChapterError::TooShortChapter {
                number: 1,
                start_secs: 0,
                secs: 9
            })
        );
        let unordered = vec![ch(0, "a"), ch(40, "b"), ch(20, "c")];
        assert!(matches!(
            validate_chapters(&unordered, 60_000),
            Err(ChapterError::NotAscending { number: 3, .. })
        ));
        let last_short = vec![ch(0, "a"), ch(20, "b"), ch(55, "c")];
        assert!(matches!(
            validate_chapters(&last_short, 60_000),
            Err(ChapterError::TooShortChapter { number: 3, .. })
        ));
        let beyond = vec![ch(0, "a"), ch(20, "b"), ch(70, "c")];
        assert!(matches!(
            validate_chapters(&beyond, 60_000),
            Err(ChapterError::AfterEnd { number: 3, .. })
        ));
        let long_title = vec![ch(0, &"x".repeat(101)), ch(20, "b"), ch(40, "c")];
        assert!(matches!(
            validate_chapters(&long_title, 60_000),
            Err(ChapterError::TitleTooLong { chars: 101, .. })
        ));
        let bracket = vec![ch(0, "a <b>"), ch(20, "b"), ch(40, "c")];
        assert!(matches!(
            validate_chapters(&bracket, 60_000),
            Err(ChapterError::TitleForbiddenCharacter { number: 1 })
        ));
        let empty = vec![ch(0, "a"), ch(20, " "), ch(40, "c")];
        assert!(matches!(
            validate_chapters(&empty, 60_000),
            Err(ChapterError::EmptyTitle { number: 2 })
        ));
    }

    #[test]
    fn offline_chapters_start_at_long_pauses_after_sentences() {
        // Ten minutes of lines every 5 s, with long pauses after sentences at 2:00, 4:30 and 7:00.
        let mut segments = Vec::new();
        let mut t = 0u64;
        while t < 600_000 {
            let pause_follows = [115_000, 265_000, 415_000].contains(&t);
            let text = if pause_follows {
                format!("End of part at {t}.")
            } else {
                format!("Words at {t}")
            };
            segments.push(Segment::new(
                t,
                t + if pause_follows { 1_000 } else { 4_500 },
                text,
            ));
            t += 5_000;
        }
        let chapters = offline_chapters(&segments, 600_000);
        validate_chapters(chapters.list(), 600_000).unwrap();
        let starts: Vec<u64> = chapters.list().iter().map(|c| c.start_secs).collect();
        for pause_end in [120, 270, 420] {
            assert!(starts.contains(&pause_end), "{starts:?}");
        }
        // Five chapters for ten minutes; the other two at the earliest spots 60 s apart.
        assert_eq!(starts, vec![0, 60, 120, 270, 420]);
        assert!(
            chapters
                .to_text()
                .contains("\n2:00 Words at 120000 Words at 125000"),
            "{}",
            chapters.to_text()
        );
    }

    #[test]
    fn one_long_line_still_gets_three_chapters() {
        let segments = vec![Segment::new(0, 95_000, "A single sentence that never ends")];
        let chapters = offline_chapters(&segments, 95_500);
        let starts: Vec<u64> = chapters.list().iter().map(|c| c.start_secs).collect();
        assert_eq!(starts, vec![0, 31, 63]);
        assert_eq!(
            chapters.list()[1].title,
            "A single sentence that never ends"
        );
        assert!(
            offline_chapters(&[], 45_000)
                .list()
                .iter()
                .all(|c| c.title.starts_with("Part "))
        );
    }

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

    #[test]
    fn titles_are_first_sentences_cut_at_words() {
        assert_eq!(
            title_from("welcome back. Today we cook.", 1),
            "Welcome back"
        );
        let long =
            "this sentence goes on and on without any stop for far longer than a title should";
        let t = title_from(long, 1);
        assert!(
            t.chars().count() <= OFFLINE_TITLE_CHARS + 1 && t.ends_with('…'),
            "{t}"
        );
        assert!(t.starts_with("This sentence goes on"));
        assert_eq!(title_from("  ", 4), "Part 4");
        assert_eq!(title_from("a > b", 1), "A b");
    }

    #[test]
    fn tags_are_frequent_words_within_limits() {
        let segments = vec![
            Segment::new(0, 1000, "Rust makes the compiler your friend."),
            Segment::new(
                1000,
                2000,
                "The compiler checks borrowing; Rust's borrowing rules.",
            ),
            Segment::new(2000, 3000, "Compiler, compiler, and that is about it."),
        ];
        let tags = offline_tags(&segments);
        // "Rust" and "borrowing" both come twice; the first seen ranks first.
        assert_eq!(&tags[..3], &["compiler", "rust", "borrowing"]);
        assert!(!tags.contains(&"that".to_string()) && !tags.contains(&"about".to_string()));
        let many = sanitize_tags((0..200).map(|i| format!("tag number {i}")));
        let used: usize = many.iter().map(|t| t.len() + 2).sum::<usize>() + many.len() - 1;
        assert!(
            used <= MAX_TAGS_CHARS && many.len() > 20,
            "{used} {}",
            many.len()
        );
        assert_eq!(
            sanitize_tags(["A,b".to_string(), "a b".into(), "<x>".into()]),
            vec!["A b", "x"]
        );
        assert_eq!(tags_text(&["a".into(), "b c".into()]), "a, b c\n");
    }
}
