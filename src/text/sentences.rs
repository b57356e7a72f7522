//! Where sentences end, and splitting one segment that holds several sentences into several.
//!
//! A full stop is a sentence end only when it is not part of an abbreviation ("Mr.", "e.g."), an
//! initial ("J. R. R."), a number ("3.5" never has a space after its dot) or an ellipsis ("Wait...
//! what?"): splitting there would make a voice pause in mid-sentence.

use crate::segment::Segment;

/// Abbreviations after which a full stop never ends a sentence (lower case, without the dot).
const ABBREVIATIONS: &[&str] = &[
    "mr", "mrs", "ms", "dr", "prof", "st", "jr", "sr", "vs", "e.g", "i.e", "cf", "approx", "no",
    "nos", "vol", "fig", "inc", "ltd", "co", "corp", "dept", "mt", "ft", "gen", "gov", "sen",
    "rep", "rev", "capt", "lt", "col", "sgt", "u.s", "u.k", "a.m", "p.m", "ca", "al", "jan", "feb",
    "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec",
];

/// Closing quotes and brackets that may follow a sentence's final punctuation.
fn is_closer(c: char) -> bool {
    matches!(
        c,
        '"' | '\'' | '”' | '’' | '»' | ')' | ']' | '}' | '」' | '』'
    )
}

fn is_terminal(c: char) -> bool {
    matches!(c, '.' | '!' | '?' | '…' | '。' | '！' | '？')
}

/// True when `text` (already trimmed) ends a sentence: `.`, `!` or `?`, optionally followed by
/// closing quotes or brackets, and not an abbreviation, initial or trailing ellipsis.
pub fn ends_sentence(text: &str) -> bool {
    let core = text.trim_end().trim_end_matches(is_closer);
    let Some(last) = core.chars().last() else {
        return false;
    };
    match last {
        '!' | '?' | '！' | '？' | '。' => true,
        '.' => !core.ends_with("..") && !is_abbreviation_before_dot(core),
        _ => false,
    }
}

/// `core` ends with '.'; is the word before it an abbreviation or a single-letter initial?
fn is_abbreviation_before_dot(core: &str) -> bool {
    let before = &core[..core.len() - 1];
    let word: String = before
        .chars()
        .rev()
        .take_while(|c| !c.is_whitespace() && !matches!(c, '(' | '"' | '“' | '\'' | '‘'))
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    let lower = word.to_lowercase();
    if ABBREVIATIONS.contains(&lower.as_str()) {
        return true;
    }
    // Single initials ("J.", "R.") and dotted acronyms ("U.S.A.").
    let letters: Vec<char> = word.chars().filter(|c| *c != '.').collect();
    letters.len() == 1 && letters[0].is_alphabetic() && letters[0].is_uppercase()
}

/// Split `text` into sentences. Each piece keeps its punctuation; white space between pieces is
/// dropped. "etc." ends a sentence only when a capitalised word follows it.
pub fn split_sentences(text: &str) -> Vec<String> {
    let mut pieces = Vec::new();
    let mut start = 0;
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let mut i = 0;
    while i < chars.len() {
        let (_, c) = chars[i];
        if is_terminal(c) {
            // Take the whole run of terminal marks and closers: "?!", "...", ".\"".
            let mut j = i + 1;
            while j < chars.len() && (is_terminal(chars[j].1) || is_closer(chars[j].1)) {
                j += 1;
            }
            let end_byte = chars.get(j).map_or(text.len(), |(b, _)| *b);
            let followed_by_space = j < chars.len() && chars[j].1.is_whitespace();
            // CJK full stops end a sentence without a space after them.
            let cjk_stop = matches!(chars[j - 1].1, '。' | '！' | '？');
            if (followed_by_space || cjk_stop) && is_boundary(text, start, end_byte, &chars[j..]) {
                let piece = text[start..end_byte].trim();
                if !piece.is_empty() {
                    pieces.push(piece.to_string());
                }
                start = end_byte;
            }
            i = j;
        } else {
            i += 1;
        }
    }
    let tail = text[start..].trim();
    if !tail.is_empty() {
        pieces.push(tail.to_string());
    }
    pieces
}

fn is_boundary(text: &str, start: usize, end: usize, after: &[(usize, char)]) -> bool {
    let candidate = text[start..end].trim();
    let next_word_capitalised = after
        .iter()
        .map(|(_, c)| *c)
        .find(|c| !c.is_whitespace())
        .is_some_and(|c| c.is_uppercase() || !c.is_alphabetic());
    let core = candidate.trim_end_matches(is_closer);
    if core.to_lowercase().ends_with(" etc.") || core.eq_ignore_ascii_case("etc.") {
        return next_word_capitalised;
    }
    ends_sentence(candidate)
}

/// Split a segment holding several sentences into one segment per sentence, sharing its time in
/// proportion to each sentence's number of characters ([`share_window`]). A segment with one
/// sentence comes back unchanged.
pub fn split_segment(segment: &Segment) -> Vec<Segment> {
    let pieces = split_sentences(&segment.text);
    if pieces.len() <= 1 {
        return vec![segment.clone()];
    }
    share_window(segment, pieces)
}

/// One segment per piece of `segment`'s text, sharing its window in proportion to each piece's
/// spoken characters (at least one each). Times stay whole milliseconds; the pieces tile the
/// original window exactly; each keeps the segment's speaker.
pub fn share_window(segment: &Segment, pieces: Vec<String>) -> Vec<Segment> {
    let weights: Vec<u64> = pieces
        .iter()
        .map(|p| crate::text::spoken_text(p).chars().count().max(1) as u64)
        .collect();
    let total: u64 = weights.iter().sum::<u64>().max(1);
    let duration = segment.duration_ms();
    let mut out = Vec::with_capacity(pieces.len());
    let mut acc = 0u64;
    let mut cursor = segment.start_ms;
    for (piece, weight) in pieces.into_iter().zip(&weights) {
        acc += weight;
        // Integer rounding of the cumulative share: the last piece ends exactly at the end.
        let end = segment.start_ms + (duration * acc + total / 2) / total;
        out.push(Segment::new(cursor, end, piece).with_speaker(segment.speaker.clone()));
        cursor = end;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_plain_sentences() {
        assert_eq!(
            split_sentences("Hello there. How are you? Fine!"),
            vec!["Hello there.", "How are you?", "Fine!"]
        );
        assert_eq!(
            split_sentences("He said \"stop.\" Then he left."),
            vec!["He said \"stop.\"", "Then he left."]
        );
    }

    #[test]
    fn keeps_abbreviations_decimals_and_ellipses() {
        let one = |s: &str| assert_eq!(split_sentences(s), vec![s.to_string()], "{s}");
        one("Mr. Smith met Dr. Jones.");
        one("It costs 3.5 dollars, e.g. a coffee.");
        one("Wait... what happened?");
        one("J. R. R. Tolkien wrote it.");
        one("Apples, pears, etc. are fruit.");
        assert_eq!(
            split_sentences("We had apples, pears, etc. Then we left."),
            vec!["We had apples, pears, etc.", "Then we left."]
        );
    }

    #[test]
    fn cjk_full_stops_split_without_spaces() {
        assert_eq!(
            split_sentences("你好。再见！好吗？"),
            vec!["你好。", "再见！", "好吗？"]
        );
    }

    #[test]
    fn sentence_ends() {
        assert!(ends_sentence("Done."));
        assert!(ends_sentence("Really?\""));
        assert!(ends_sentence("(Yes!)"));
        assert!(!ends_sentence("Talk to Mr."));
        assert!(!ends_sentence("and then..."));
        assert!(!ends_sentence("and then"));
        assert!(!ends_sentence(""));
    }

    #[test]
    fn split_segment_shares_time_by_characters() {
        let seg = Segment::new(1000, 4000, "One two. Three four five six seven.");
        let parts = split_segment(&seg);
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[0].start_ms, 1000);
        assert_eq!(parts[0].end_ms, parts[1].start_ms);
        assert_eq!(parts[1].end_ms, 4000);
        // "One two." is 8 of 8 + 26 = 34 characters: 3000 * 8 / 34 = 706 ms.
        assert_eq!(parts[0].end_ms, 1706);
        assert_eq!(parts[0].text, "One two.");
    }

    #[test]
    fn pieces_keep_the_speaker() {
        let seg = Segment::new(0, 1000, "One. Two.").with_speaker(Some("ANN".into()));
        let parts = split_segment(&seg);
        assert_eq!(parts.len(), 2);
        assert!(parts.iter().all(|p| p.speaker.as_deref() == Some("ANN")));
    }
}
