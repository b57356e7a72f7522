//! Subtitle markup: what is shown stays in the file, what is spoken is plain words. This module
//! removes what is never spoken; [`super::turns`] builds the spoken text on it
//! ([`super::turns::spoken_text`]), which is the displayed line without
//! - markup: HTML-like tags (`<i>`, `<c.red>`, `<v Ann>`, `<00:01.000>`), ASS override blocks
//!   (`{\an8}`); common entities (`&amp;`) become their characters;
//! - sound descriptions: anything in square brackets or parentheses (`[MUSIC PLAYING]`,
//!   `(laughs)`), nested or across line breaks; an unclosed bracket is kept as written;
//! - lyrics: anything between two music notes (♪ or ♫); an unpaired note runs to the end of the
//!   line's text (`♪ la la`), or from its start when the note closes it (`la la ♪`);
//! - speaker-turn marks: a speaker label (`JOHN:`) and dialogue dashes (`- Yes.`), see
//!   [`super::turns`].
//!
//! A line left with no letter or digit once descriptions and lyrics are gone says nothing: its
//! spoken text is empty and it is dubbed as silence, while its window stays.

/// The displayed words: markup removed, lines joined, white space folded; descriptions, lyrics and
/// labels kept. Empty when the line shows nothing.
pub fn plain_text(display: &str) -> String {
    fold_whitespace(&strip_markup(display))
}

/// `display` without tags and ASS override blocks, entities decoded; line breaks are kept.
pub fn strip_markup(display: &str) -> String {
    let mut out = String::with_capacity(display.len());
    let mut rest = display;
    while let Some(c) = rest.chars().next() {
        if let Some(len) = markup_len(rest) {
            rest = &rest[len..];
            continue;
        }
        if c == '&'
            && let Some((entity, len)) = entity_at(rest)
        {
            out.push(entity);
            rest = &rest[len..];
            continue;
        }
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    out
}

/// The length in bytes of the tag or ASS override block `s` starts with, if it starts with one.
pub(crate) fn markup_len(s: &str) -> Option<usize> {
    if s.starts_with('<') {
        let end = s.find('>')?;
        looks_like_tag(&s[1..end]).then_some(end + 1)
    } else if s.starts_with("{\\") {
        s.find('}').map(|end| end + 1)
    } else {
        None
    }
}

/// Plain text (markup already removed) without sound descriptions and lyrics, white space folded.
/// Empty when something was removed and no letter or digit is left (`[laughs].`).
pub fn without_descriptions(plain: &str) -> String {
    let kept = without_lyrics(&without_brackets(plain));
    let folded = fold_whitespace(&kept);
    if folded.len() == fold_whitespace(plain).len() {
        return folded;
    }
    if !folded.chars().any(char::is_alphanumeric) {
        return String::new();
    }
    // "Okay (laughs)." → "Okay.", not "Okay ."
    let mut out = String::with_capacity(folded.len());
    for c in folded.chars() {
        if matches!(c, ',' | '.' | '!' | '?' | ';' | ':' | '…') && out.ends_with(' ') {
            out.pop();
        }
        out.push(c);
    }
    out
}

/// Remove `[...]` and `(...)` spans, nested ones included; an unclosed bracket is kept.
fn without_brackets(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(c) = rest.chars().next() {
        if matches!(c, '[' | '(')
            && let Some(len) = bracket_len(rest)
        {
            out.push(' ');
            rest = &rest[len..];
            continue;
        }
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    out
}

/// Length of the balanced bracket span `s` starts with.
fn bracket_len(s: &str) -> Option<usize> {
    let mut stack = Vec::new();
    for (i, c) in s.char_indices() {
        match c {
            '[' => stack.push(']'),
            '(' => stack.push(')'),
            ']' | ')' => {
                if stack.pop() != Some(c) {
                    return None;
                }
                if stack.is_empty() {
                    return Some(i + 1);
                }
            }
            _ => {}
        }
    }
    None
}

fn is_note(c: char) -> bool {
    matches!(c, '♪' | '♫')
}

/// Remove lyrics: text between paired music notes, and the span of an unpaired note (to the end,
/// or from the start when nothing follows it).
fn without_lyrics(s: &str) -> String {
    let notes: Vec<(usize, usize)> = s
        .char_indices()
        .filter(|(_, c)| is_note(*c))
        .map(|(i, c)| (i, i + c.len_utf8()))
        .collect();
    let mut paired = &notes[..];
    // Byte ranges to remove.
    let mut spans: Vec<(usize, usize)> = Vec::new();
    if let (Some(&first), Some(&last)) = (notes.first(), notes.last())
        && notes.len() % 2 == 1
    {
        if s[last.1..].trim().is_empty() && !s[..first.0].trim().is_empty() {
            // "la la ♪": the note closes lyrics that began before this line.
            spans.push((0, first.1));
            paired = &notes[1..];
        } else {
            // "♪ la la": the note opens lyrics that go on after this line.
            spans.push((last.0, s.len()));
            paired = &notes[..notes.len() - 1];
        }
    }
    spans.extend(paired.chunks(2).map(|p| (p[0].0, p[1].1)));
    spans.sort_unstable();
    let mut out = String::with_capacity(s.len());
    let mut at = 0;
    for (from, to) in spans {
        out.push_str(&s[at..from]);
        out.push(' ');
        at = to;
    }
    out.push_str(&s[at..]);
    out
}

/// Collapse every run of white space (line breaks included) into one space and trim the ends.
pub fn fold_whitespace(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for word in s.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

/// `text` without the `<v Name>` voice spans it opens with (nested ones too) and the `</v>` that
/// close them at its end: the words of a line whose speaker is kept apart from its text.
pub fn without_voice_spans(text: &str) -> &str {
    let mut rest = text.trim();
    while let Some(after) = rest
        .strip_prefix("<v")
        .filter(|r| r.starts_with([' ', '.', '\t']))
        && let Some(end) = after.find('>')
    {
        rest = after[end + 1..].trim_start();
        rest = rest.strip_suffix("</v>").unwrap_or(rest).trim_end();
    }
    rest
}

/// `<i>`, `</b>`, `<font color="red">`, `<c.yellow>`, `<v Speaker>`, `<00:00:01.000>`: a tag
/// starts with a letter, `/` or a digit (VTT timestamps) and holds no further `<`.
fn looks_like_tag(inner: &str) -> bool {
    match inner.chars().next() {
        Some(c) => {
            (c.is_ascii_alphabetic() || c == '/' || c.is_ascii_digit()) && !inner.contains('<')
        }
        None => false,
    }
}

fn entity_at(s: &str) -> Option<(char, usize)> {
    const ENTITIES: [(&str, char); 7] = [
        ("&amp;", '&'),
        ("&lt;", '<'),
        ("&gt;", '>'),
        ("&nbsp;", ' '),
        ("&quot;", '"'),
        ("&lrm;", ' '),
        ("&rlm;", ' '),
    ];
    ENTITIES
        .iter()
        .find(|(name, _)| s.starts_with(name))
        .map(|(name, c)| (*c, name.len()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What this module leaves to speak of a line without turn marks (the whole path, turns
    /// included, is `turns::spoken_text`, tested there: `turns` builds on this module, never the
    /// other way round).
    fn spoken_text(display: &str) -> String {
        without_descriptions(&strip_markup(display))
    }

    #[test]
    fn removes_markup_keeps_words() {
        assert_eq!(spoken_text("<i>Hello</i>,\nworld"), "Hello, world");
        assert_eq!(spoken_text("{\\an8}Top line"), "Top line");
        assert_eq!(
            spoken_text("<c.yellow>Tom</c> &amp; <v Ann>Jerry"),
            "Tom & Jerry"
        );
        assert_eq!(spoken_text("a <00:00:01.500>b"), "a b");
        assert_eq!(spoken_text("x < y and y > z"), "x < y and y > z");
        assert_eq!(spoken_text("  \n "), "");
        assert_eq!(spoken_text("{not markup}"), "{not markup}");
    }

    #[test]
    fn voice_spans_come_off_nested_or_not() {
        assert_eq!(
            without_voice_spans("<v CAT><v BOB><v ANN>Hi.</v></v></v>"),
            "Hi."
        );
        assert_eq!(without_voice_spans("<v.loud Ann Lee>Hello</v>"), "Hello");
        assert_eq!(without_voice_spans("<i>Hi.</i>"), "<i>Hi.</i>");
        assert_eq!(without_voice_spans("<vote>"), "<vote>");
    }

    #[test]
    fn sound_descriptions_and_lyrics_are_not_spoken() {
        assert_eq!(spoken_text("[MUSIC PLAYING]"), "");
        assert_eq!(spoken_text("(laughs) Okay."), "Okay.");
        assert_eq!(spoken_text("Okay (laughs)."), "Okay.");
        assert_eq!(
            spoken_text("<i>[door\nslams]</i>\nWho's there?"),
            "Who's there?"
        );
        assert_eq!(spoken_text("(sighs [quietly]) Fine."), "Fine.");
        assert_eq!(spoken_text("[laughs]."), "");
        assert_eq!(spoken_text("♪ la la ♪"), "");
        assert_eq!(spoken_text("♫ la la"), "");
        assert_eq!(spoken_text("la la ♪"), "");
        assert_eq!(spoken_text("Listen. ♪ la la ♪ Nice."), "Listen. Nice.");
        assert_eq!(spoken_text("♪♪"), "");
        // An unclosed bracket is text.
        assert_eq!(spoken_text("a (b"), "a (b");
        assert_eq!(spoken_text("x ] y"), "x ] y");
        // What is shown keeps all of it.
        assert_eq!(plain_text("<i>[MUSIC]</i>\n♪ la ♪"), "[MUSIC] ♪ la ♪");
    }
}
