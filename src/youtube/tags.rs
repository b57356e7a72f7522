//! Tags: picked from the transcript offline, and cleaned to what YouTube accepts.
//!
//! Takes timed lines (for [`offline_tags`]) or tags from anywhere (for [`sanitize_tags`]) and
//! returns tags that YouTube accepts: no commas or angle brackets, no duplicates, at most
//! 100 characters each and [`MAX_TAGS_CHARS`] together. Separate from chapters because it shares
//! nothing with them but the limits; the English stop-word list lives here, its only user.

use std::collections::HashMap;

use super::{MAX_TAGS_CHARS, MAX_TITLE_CHARS};
use crate::Segment;
use crate::text::fold_whitespace;

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

#[cfg(test)]
mod tests {
    use super::*;

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
