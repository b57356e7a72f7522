//! Chapters without a model, from the timing of the lines alone.
//!
//! Takes a video's timed lines and its length and returns chapters that satisfy YouTube's rules
//! by construction (property tested against [`validate_chapters`](super::validate_chapters)), or
//! [`Chapters::TooShort`] for a video too short for chapters. Boundaries are the longest pauses
//! that follow the end of a sentence, spread so that no chapter is shorter than its share of the
//! video; titles are the first sentence of the chapter. Separate because it is a heuristic with
//! its own tuning, while the rules it meets live in `chapters`.

use super::chapters::{Chapter, Chapters};
use super::{MIN_CHAPTER_SECS, MIN_CHAPTERS, MIN_VIDEO_MS, ends_sentence, youtube_safe};
use crate::Segment;

/// Length offline titles are cut to, well under [`MAX_TITLE_CHARS`](super::MAX_TITLE_CHARS) so
/// they stay readable.
const OFFLINE_TITLE_CHARS: usize = 60;
/// Most chapters the offline generator makes.
const MAX_OFFLINE_CHAPTERS: u64 = 20;
/// Video length per offline chapter aimed at, in seconds.
const SECS_PER_OFFLINE_CHAPTER: u64 = 120;

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::youtube::chapters::validate_chapters;

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
}
