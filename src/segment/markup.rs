//! Subtitle markup: what is shown stays in the file, what is spoken is plain words.

/// The text a voice should speak from a displayed subtitle line: HTML-like tags (`<i>`, `<c.red>`,
/// `<00:01.000>`), ASS override blocks (`{\an8}`) and common entities removed, lines joined with
/// spaces, white space folded.
pub fn spoken_text(display: &str) -> String {
    let mut out = String::with_capacity(display.len());
    let mut rest = display;
    while let Some(c) = rest.chars().next() {
        if c == '<' {
            if let Some(end) = rest.find('>') {
                let inner = &rest[1..end];
                if looks_like_tag(inner) {
                    rest = &rest[end + 1..];
                    continue;
                }
            }
        } else if c == '{' && rest[1..].starts_with('\\') {
            if let Some(end) = rest.find('}') {
                rest = &rest[end + 1..];
                continue;
            }
        } else if c == '&'
            && let Some((entity, len)) = entity_at(rest)
        {
            out.push(entity);
            rest = &rest[len..];
            continue;
        }
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    fold_whitespace(&out)
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
}
