//! Chapters and YouTube's rules for them.
//!
//! Takes chapters from anywhere (the offline generator, a chat model's reply) and checks them
//! with [`validate_chapters`], which states the rules once and returns the first broken rule
//! phrased so that a model or a person can fix it. Also writes and reads times the way YouTube
//! shows them (`M:SS`, `H:MM:SS` from one hour on), whole seconds because YouTube's timestamps
//! are. Separate from the generators so that every source of chapters is held to the same rules.

use std::fmt;

use serde::Serialize;

use super::{MAX_TITLE_CHARS, MIN_CHAPTER_SECS, MIN_CHAPTERS, MIN_VIDEO_MS};

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
}
