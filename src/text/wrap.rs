//! Wrapping a subtitle line for display: at most `width` characters a line, balanced over two
//! lines when it needs two (viewers read balanced lines faster than one full line and a stub).
//!
//! A line never starts with a dash that the unwrapped text had inside a line (`Wait - what?`):
//! a dash at the start of a line opens a speaker turn ([`crate::segment::turns`]), so the wrapped
//! text must read back as the same single turn. Such a dash stays at the end of the line before,
//! even past `width`.

/// Wrap `text` into lines of at most `width` characters, preferring `max_lines` balanced lines.
/// Words are never dropped or cut: text that does not fit in `max_lines` gets more lines, and a
/// word longer than `width` stands alone on its line.
pub fn wrap_line(text: &str, width: usize, max_lines: usize) -> Vec<String> {
    let words: Vec<&str> = text.split_whitespace().collect();
    if words.is_empty() {
        return Vec::new();
    }
    let len = |ws: &[&str]| ws.iter().map(|w| w.chars().count()).sum::<usize>() + ws.len() - 1;
    if len(&words) <= width || max_lines <= 1 && len(&words) <= width {
        return vec![words.join(" ")];
    }
    if max_lines >= 2 {
        // The most balanced two-line break that fits; a break after punctuation wins ties.
        let best = (1..words.len())
            .filter(|&k| len(&words[..k]) <= width && len(&words[k..]) <= width)
            .filter(|&k| !opens_turn(words[k]))
            .min_by_key(|&k| {
                let longest = len(&words[..k]).max(len(&words[k..]));
                let after_punct = words[k - 1].ends_with([',', '.', ';', ':', '!', '?']);
                (
                    longest.saturating_sub(if after_punct { 3 } else { 0 }),
                    longest,
                )
            });
        if let Some(k) = best {
            return vec![words[..k].join(" "), words[k..].join(" ")];
        }
    }
    greedy(&words, width)
}

fn greedy(words: &[&str], width: usize) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    let mut line = String::new();
    for word in words {
        let needed = line.chars().count() + usize::from(!line.is_empty()) + word.chars().count();
        if !line.is_empty() && needed > width && !opens_turn(word) {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

/// A word that would open a dialogue turn at the start of a line: a dash, alone or before a
/// word (`-`, `-Yes`), but not a negative number or a double dash.
fn opens_turn(word: &str) -> bool {
    let mut chars = word.chars();
    chars.next().is_some_and(|c| matches!(c, '-' | '–'))
        && chars
            .next()
            .is_none_or(|c| !c.is_ascii_digit() && !matches!(c, '-' | '–'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_text_stays_on_one_line() {
        assert_eq!(wrap_line("Hello  world", 42, 2), vec!["Hello world"]);
        assert!(wrap_line("   ", 42, 2).is_empty());
    }

    #[test]
    fn two_balanced_lines() {
        let text = "This is a fairly long subtitle line that needs two lines";
        let lines = wrap_line(text, 42, 2);
        assert_eq!(lines.len(), 2);
        assert!(lines.iter().all(|l| l.chars().count() <= 42));
        let (a, b) = (
            lines[0].chars().count() as i64,
            lines[1].chars().count() as i64,
        );
        assert!((a - b).abs() <= 8, "{lines:?}");
        assert_eq!(lines.join(" "), text);
    }

    #[test]
    fn never_drops_words() {
        let text = "word ".repeat(40);
        let lines = wrap_line(&text, 42, 2);
        assert!(lines.len() > 2);
        assert!(lines.iter().all(|l| l.chars().count() <= 42));
        assert_eq!(lines.join(" "), text.trim());
        let long = "a".repeat(60);
        assert_eq!(wrap_line(&long, 42, 2), vec![long.clone()]);
    }

    #[test]
    fn a_dash_never_starts_a_line() {
        let text = "We waited for the longest time at the station - and then the train came";
        for lines in [wrap_line(text, 42, 2), wrap_line(text, 20, 2)] {
            assert!(lines.iter().all(|l| !l.starts_with('-')), "{lines:?}");
            assert_eq!(lines.join(" "), text);
        }
    }
}
