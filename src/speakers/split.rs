//! Splits a line that two speakers share into two lines at a text boundary.
//!
//! The voice change is found in the audio, as a fraction of the line's duration; the text is cut
//! at the boundary nearest that fraction of its spoken characters: between sentences when it has
//! several, else between clauses (`,` `;` `:`), else between words, never inside a word. The two
//! pieces share the line's window in proportion to their characters
//! ([`crate::text::share_window`]), as every other split of a line does, so the
//! timing follows the text that is spoken.

use crate::segment::Segment;
use crate::text::{share_window, split_sentences};

/// `segment` cut in two near `fraction` (0–1) of its text; `None` when it holds a single word.
pub fn split_at_fraction(segment: &Segment, fraction: f64) -> Option<(Segment, Segment)> {
    let pieces = candidate_pieces(&segment.text);
    if pieces.len() < 2 {
        return None;
    }
    let chars: Vec<usize> = pieces
        .iter()
        .map(|p| crate::text::spoken_text(p).chars().count().max(1))
        .collect();
    let total: usize = chars.iter().sum();
    let mut best = (1, f64::INFINITY);
    let mut acc = 0;
    for (k, c) in chars.iter().enumerate().take(pieces.len() - 1) {
        acc += c;
        let distance = (acc as f64 / total as f64 - fraction).abs();
        if distance < best.1 {
            best = (k + 1, distance);
        }
    }
    let (left, right) = pieces.split_at(best.0);
    let mut halves = share_window(segment, vec![left.join(" "), right.join(" ")]).into_iter();
    Some((halves.next()?, halves.next()?))
}

/// The text's sentences; or, for one sentence, its clauses; or, for one clause, its words.
fn candidate_pieces(text: &str) -> Vec<String> {
    let sentences = split_sentences(text);
    if sentences.len() > 1 {
        return sentences;
    }
    let clauses = split_after(text, |w| w.ends_with([',', ';', ':']));
    if clauses.len() > 1 {
        return clauses;
    }
    split_after(text, |_| true)
}

/// Words of `text` grouped into pieces, a piece ending after each word `ends` accepts.
fn split_after(text: &str, ends: impl Fn(&str) -> bool) -> Vec<String> {
    let mut pieces = Vec::new();
    let mut current: Vec<&str> = Vec::new();
    for word in text.split_whitespace() {
        current.push(word);
        if ends(word) {
            pieces.push(current.join(" "));
            current.clear();
        }
    }
    if !current.is_empty() {
        pieces.push(current.join(" "));
    }
    pieces
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(s: &Segment, fraction: f64) -> (String, String, u64) {
        let (a, b) = split_at_fraction(s, fraction).unwrap();
        assert_eq!(
            (a.start_ms, b.end_ms, a.end_ms),
            (s.start_ms, s.end_ms, b.start_ms)
        );
        (a.text, b.text, a.end_ms)
    }

    #[test]
    fn cuts_between_sentences_nearest_the_change() {
        let s = Segment::new(
            0,
            10_000,
            "I went home. Did you? Yes, I did and it was late.",
        );
        assert_eq!(
            texts(&s, 0.4),
            (
                "I went home. Did you?".into(),
                "Yes, I did and it was late.".into(),
                4_375
            )
        );
        assert_eq!(texts(&s, 0.1).0, "I went home.");
    }

    #[test]
    fn falls_back_to_clauses_then_words() {
        let s = Segment::new(1000, 5000, "Well, if you say so, then fine");
        assert_eq!(texts(&s, 0.7).1, "then fine");
        let w = Segment::new(0, 4000, "one two three four");
        assert_eq!(
            texts(&w, 0.5),
            ("one two".into(), "three four".into(), 1647)
        );
        assert!(split_at_fraction(&Segment::new(0, 900, "Hello"), 0.5).is_none());
    }
}
