//! Speaker turns in a displayed subtitle line, and who speaks each.
//!
//! A *turn* is what one person says. A new turn starts
//! - at the start of a line that opens with a WebVTT voice span (`<v Ann>Hello</v>`), a dialogue
//!   dash (`- Are you coming?`, also `–`, or `-Yes.` without a space; not `-5 degrees`) or a
//!   speaker label;
//! - at a dialogue dash after a sentence end inside a line (`Are you coming? - Yes.`): a dash
//!   follows `.`, `!`, `?`, `…`, a closing `"`, `)`, `]` or a music note, then white space.
//!
//! **Speaker labels.** A label is a name of one to three words followed by a colon, then white
//! space or the end of the line, at the start of a line (after markup and an optional dialogue
//! dash). Each word starts with a letter and holds letters, digits, `.`, `'`, `’`, `-` or `_`; a
//! last word may be a number (`GUARD 2:`). The name is a label when
//! - it is ALL CAPS (every letter upper case, one to three words): `JOHN:`, `MARY JANE:`,
//!   `DR. SMITH:`, `SPEAKER_00:`; or
//! - it has two or three words, each Capitalized: `Dr. Smith:`, `Mary Jane:`.
//!
//! A single Capitalized word is *not* a label: `Warning: hot`, `Note: this`, `Look: it works`
//! are said as written, and so is `John: hi` (subtitles for the hard of hearing write speaker
//! labels in capitals). The rule reads one line alone, so a line means the same wherever it is
//! (a file split in cues reads back as it was written). Times (`10:30`), sentences (`He said: go`)
//! and colons inside a line are never labels.
//!
//! Labels and dashes are shown but not spoken ([`spoken_text`]).
//!
//! **Speakers** ([`resolve`]): a voice span's name, else a label's name, else the speaker the
//! source gave (a JSON `speaker` field). A dialogue dash opens a turn but names nobody: who
//! speaks it is found from the audio like any unlabelled line (`dubber prep --speakers`), so
//! the first dash of every cue in a film is not one made-up speaker. [`voiced_texts`] writes a
//! speaker the text does not show as a voice span, so that reading a written file back finds
//! every speaker again.

use std::borrow::Cow;

use super::Segment;
use super::markup::{markup_len, strip_markup, without_descriptions};

/// What opens a turn.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TurnStart {
    /// The name of a `<v Name>` voice span the turn's line opens with.
    pub voice: Option<String>,
    /// The turn opens with a dialogue dash.
    pub dash: bool,
    /// The name of a speaker label (`JOHN:` → `JOHN`).
    pub label: Option<String>,
}

impl TurnStart {
    fn is_turn(&self) -> bool {
        self.voice.is_some() || self.dash || self.label.is_some()
    }
}

/// One turn: its displayed text (markup kept) and what opened it (nothing, for text before the
/// first mark).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Turn {
    pub text: String,
    pub start: TurnStart,
}

impl Turn {
    /// What the turn says: without markup, its dash and label, descriptions and lyrics.
    pub fn spoken(&self) -> String {
        let plain = strip_markup(&self.text);
        let mut rest = plain.trim_start();
        if self.start.dash {
            rest = after_dash(rest).unwrap_or(rest);
        }
        if self.start.label.is_some()
            && let Some((_, after)) = label(rest)
        {
            rest = after;
        }
        without_descriptions(rest)
    }
}

/// The text a voice should speak from a displayed subtitle line (see the module docs): markup,
/// sound descriptions, lyrics and speaker-turn marks removed, lines joined with spaces, white space
/// folded. Empty when the line has nothing to say.
pub fn spoken_text(display: &str) -> String {
    let spoken: Vec<String> = turns(display)
        .iter()
        .map(Turn::spoken)
        .filter(|t| !t.is_empty())
        .collect();
    spoken.join(" ")
}

/// The turns of a displayed text, in order. Text without any mark is one turn with an empty
/// [`TurnStart`]; blank lines are dropped. Every turn shows some text (unless the whole text shows
/// none): a mark on a line of markup alone opens no turn, and markup alone before the first mark
/// belongs to that mark's turn.
pub fn turns(display: &str) -> Vec<Turn> {
    let mut out: Vec<Turn> = Vec::new();
    for line in display.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let cuts = dash_cuts(line);
        let bounds: Vec<usize> = std::iter::once(0)
            .chain(cuts.iter().copied())
            .chain(std::iter::once(line.len()))
            .collect();
        for piece in bounds.windows(2).map(|w| line[w[0]..w[1]].trim()) {
            let start = line_start(piece);
            // A new turn must show something: a piece of markup alone stays with the turn before.
            let opens = start.is_turn() && !strip_markup(piece).trim().is_empty();
            match out.last_mut() {
                Some(turn) if !opens => {
                    turn.text.push('\n');
                    turn.text.push_str(piece);
                }
                // Markup before the first mark (`<i>` on a line of its own) joins that turn.
                Some(turn) if strip_markup(&turn.text).trim().is_empty() => {
                    turn.text.push('\n');
                    turn.text.push_str(piece);
                    let voice = start.voice.clone().or(turn.start.voice.take());
                    turn.start = TurnStart { voice, ..start };
                }
                _ => out.push(Turn {
                    text: piece.to_string(),
                    start,
                }),
            }
        }
    }
    out
}

/// What opens the first turn of `display`.
pub fn first_start(display: &str) -> TurnStart {
    turns(display)
        .into_iter()
        .next()
        .map(|t| t.start)
        .unwrap_or_default()
}

/// The speaker of a turn opened by `start`: voice span, label, else the source's `given`
/// speaker. A dialogue dash alone names nobody.
pub fn resolve(start: &TurnStart, given: Option<&str>) -> Option<String> {
    let named = start.voice.as_deref().or(start.label.as_deref()).or(given);
    named.map(str::to_string)
}

/// A speaker name as dubber keeps it: white space folded, no `<` or `>` (which would end a voice
/// span); `None` when nothing is left.
pub fn clean_name(name: &str) -> Option<String> {
    let cleaned: String = name.chars().filter(|c| !matches!(c, '<' | '>')).collect();
    let folded = super::markup::fold_whitespace(&cleaned);
    (!folded.is_empty()).then_some(folded)
}

/// `text` wrapped in a voice span naming `speaker`.
pub fn with_voice(text: &str, speaker: &str) -> String {
    let name = clean_name(speaker).unwrap_or_default();
    format!("<v {name}>{text}</v>")
}

/// The text to write for each segment so that reading the file back gives every segment its
/// speaker: the text itself when it shows the speaker (label or voice span), else the text in a
/// voice span naming the speaker.
pub fn voiced_texts(segments: &[Segment]) -> Vec<Cow<'_, str>> {
    segments
        .iter()
        .map(|s| {
            let shown = resolve(&first_start(&s.text), None);
            match &s.speaker {
                Some(speaker) if shown.as_deref() != Some(speaker.as_str()) => {
                    Cow::Owned(with_voice(&s.text, speaker))
                }
                _ => Cow::Borrowed(s.text.as_str()),
            }
        })
        .collect()
}

fn is_dash(c: char) -> bool {
    matches!(c, '-' | '–')
}

/// After a dialogue dash at the start of `s`: the rest, trimmed. `None` when `s` does not start
/// with one (a dash before a digit or another dash is not a turn).
fn after_dash(s: &str) -> Option<&str> {
    let c = s.chars().next().filter(|&c| is_dash(c))?;
    let rest = s[c.len_utf8()..].trim_start();
    let next = rest.chars().next()?;
    (!next.is_ascii_digit() && !is_dash(next)).then_some(rest)
}

/// What opens a line (or a piece of one cut at a dash): voice span, dash, label.
fn line_start(line: &str) -> TurnStart {
    let voice = line
        .strip_prefix("<v")
        .filter(|r| r.starts_with([' ', '.', '\t']))
        .and_then(|r| r.split_once('>'))
        .and_then(|(tag, _)| tag.split_once(char::is_whitespace))
        .and_then(|(_, name)| clean_name(name));
    let plain = strip_markup(line);
    let plain = plain.trim_start();
    let (dash, rest) = match after_dash(plain) {
        Some(rest) => (true, rest),
        None => (false, plain),
    };
    TurnStart {
        voice,
        dash,
        label: label(rest).map(|(name, _)| name),
    }
}

/// A speaker label at the start of `s` (see the module docs): the name, and the text after the
/// colon.
fn label(s: &str) -> Option<(String, &str)> {
    let colon = s.find(':')?;
    let after = &s[colon + 1..];
    if !(after.is_empty() || after.starts_with(char::is_whitespace)) {
        return None;
    }
    let words: Vec<&str> = s[..colon].split_whitespace().collect();
    if words.is_empty() || words.len() > 3 {
        return None;
    }
    let is_number = |w: &str| w.chars().all(|c| c.is_ascii_digit());
    let (last, names) = match words.split_last() {
        Some((last, rest)) if !rest.is_empty() && is_number(last) => (Some(*last), rest),
        _ => (None, &words[..]),
    };
    let word_ok = |w: &&str| {
        w.chars().next().is_some_and(char::is_alphabetic)
            && w.chars()
                .all(|c| c.is_alphanumeric() || matches!(c, '.' | '\'' | '’' | '-' | '_'))
    };
    if !names.iter().all(word_ok) {
        return None;
    }
    let letters = || {
        names
            .iter()
            .flat_map(|w| w.chars())
            .filter(|c| c.is_alphabetic())
    };
    let all_caps = letters().all(char::is_uppercase);
    let capitalized = names
        .iter()
        .all(|w| w.chars().next().is_some_and(char::is_uppercase));
    if !(all_caps || (capitalized && words.len() >= 2)) {
        return None;
    }
    let name = names
        .iter()
        .copied()
        .chain(last)
        .collect::<Vec<_>>()
        .join(" ");
    Some((name, after))
}

/// Byte offsets in `line` where a dialogue dash after a sentence end opens a new turn (at the
/// first markup or character after the white space before the dash).
fn dash_cuts(line: &str) -> Vec<usize> {
    let mut cuts = Vec::new();
    let mut previous: Option<char> = None;
    let mut spaced = false;
    let mut gap_start: Option<usize> = None;
    let mut i = 0;
    while i < line.len() {
        let rest = &line[i..];
        if let Some(len) = markup_len(rest) {
            if spaced && gap_start.is_none() {
                gap_start = Some(i);
            }
            i += len;
            continue;
        }
        let Some(c) = rest.chars().next() else { break };
        if c.is_whitespace() {
            spaced = true;
            gap_start = None;
        } else {
            let ends_sentence = previous.is_some_and(|p| {
                matches!(
                    p,
                    '.' | '!' | '?' | '…' | '"' | '”' | '»' | ')' | ']' | '♪' | '♫'
                )
            });
            if spaced && ends_sentence && after_dash(&strip_markup(rest)).is_some() {
                cuts.push(gap_start.unwrap_or(i));
            }
            spaced = false;
            gap_start = None;
            previous = Some(c);
        }
        i += c.len_utf8();
    }
    cuts
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(s: &str) -> Option<String> {
        label(s).map(|(name, _)| name)
    }

    #[test]
    fn label_rule() {
        assert_eq!(labels("JOHN: Hello."), Some("JOHN".into()));
        assert_eq!(labels("MARY JANE: Hi"), Some("MARY JANE".into()));
        assert_eq!(labels("Dr. Smith: Sit down."), Some("Dr. Smith".into()));
        assert_eq!(labels("DR. McCOY: Hm."), Some("DR. McCOY".into()));
        assert_eq!(labels("GUARD 2: Halt!"), Some("GUARD 2".into()));
        assert_eq!(labels("SPEAKER_00: yes"), Some("SPEAKER_00".into()));
        assert_eq!(labels("JOHN:"), Some("JOHN".into()));
        // One Capitalized word is not a name: headings and figures of speech.
        assert_eq!(labels("Warning: hot"), None);
        assert_eq!(labels("Note: this"), None);
        assert_eq!(labels("John: hi"), None);
        // Times, sentences, URLs, long names.
        assert_eq!(labels("Meet at 10:30."), None);
        assert_eq!(labels("10:30 is fine"), None);
        assert_eq!(labels("He said: go"), None);
        assert_eq!(labels("HTTP://X.ORG"), None);
        assert_eq!(labels("THE MAN IN BLACK: no"), None);
        assert_eq!(labels("Hello there"), None);
    }

    fn summary(display: &str) -> Vec<(String, TurnStart)> {
        turns(display)
            .into_iter()
            .map(|t| (t.text, t.start))
            .collect()
    }

    fn dash() -> TurnStart {
        TurnStart {
            dash: true,
            ..TurnStart::default()
        }
    }

    fn named(label: &str) -> TurnStart {
        TurnStart {
            label: Some(label.into()),
            ..TurnStart::default()
        }
    }

    #[test]
    fn dashes_and_labels_open_turns() {
        assert_eq!(
            summary("- Are you coming? - Yes."),
            vec![
                ("- Are you coming?".into(), dash()),
                ("- Yes.".into(), dash())
            ]
        );
        assert_eq!(
            summary("-Are you coming?\n-Yes."),
            vec![
                ("-Are you coming?".into(), dash()),
                ("-Yes.".into(), dash())
            ]
        );
        assert_eq!(
            summary("JOHN: I went\nto the shop.\nMARY: And?"),
            vec![
                ("JOHN: I went\nto the shop.".into(), named("JOHN")),
                ("MARY: And?".into(), named("MARY"))
            ]
        );
        assert_eq!(
            summary("<i>- Coming?</i> <i>- MARY: No.</i>"),
            vec![
                ("<i>- Coming?</i>".into(), dash()),
                (
                    "<i>- MARY: No.</i>".into(),
                    TurnStart {
                        dash: true,
                        label: Some("MARY".into()),
                        voice: None
                    }
                )
            ]
        );
        let voiced = summary("<v Bob>Hi</v>\n<v.loud Ann Lee>Hello</v>");
        assert_eq!(voiced[1].1.voice.as_deref(), Some("Ann Lee"));
        // Not turns: a dash inside a sentence, before a number, or a hyphen.
        for one in [
            "Wait - what?",
            "It's -5 degrees. -10 tomorrow.",
            "A well-known fact.",
            "Meet at 10:30.",
            "Stop! -- Go.",
        ] {
            assert_eq!(turns(one).len(), 1, "{one}");
            assert!(!turns(one)[0].start.is_turn(), "{one}");
        }
    }

    #[test]
    fn spoken_text_drops_marks() {
        let spoken = |s: &str| super::spoken_text(s);
        assert_eq!(spoken("JOHN: Hello."), "Hello.");
        assert_eq!(spoken("- Are you coming? - Yes."), "Are you coming? Yes.");
        assert_eq!(spoken("<i>- MARY: No.</i>"), "No.");
        assert_eq!(spoken("JOHN: [laughs]"), "");
        assert_eq!(spoken("Warning: hot"), "Warning: hot");
        assert_eq!(spoken("Meet at 10:30."), "Meet at 10:30.");
        assert_eq!(spoken("It's -5 degrees."), "It's -5 degrees.");
        // Markup, descriptions and lyrics go on the way (markup's own tests hold the details).
        assert_eq!(spoken("<i>[door\nslams]</i>\nWho's there?"), "Who's there?");
        assert_eq!(spoken("- Listen. ♪ la la ♪ Nice."), "Listen. Nice.");
    }

    #[test]
    fn speakers_resolve_and_dashes_name_nobody() {
        assert_eq!(resolve(&named("JOHN"), Some("S1")), Some("JOHN".into()));
        assert_eq!(resolve(&dash(), Some("S1")), Some("S1".into()));
        // A dash opens a turn; who speaks it comes from the audio, not a made-up name.
        assert_eq!(resolve(&dash(), None), None);
        assert_eq!(resolve(&TurnStart::default(), None), None);
    }

    #[test]
    fn voiced_texts_show_what_the_text_does_not() {
        let seg = |text: &str, speaker: Option<&str>| {
            let mut s = Segment::new(0, 1000, text);
            s.speaker = speaker.map(String::from);
            s
        };
        let segments = vec![
            seg("JOHN: Hi.", Some("JOHN")),
            seg("- Yes.", Some("SPEAKER_1")),
            seg("- No.", None),
            seg("Bonjour.", Some("SPEAKER_2")),
            seg("Hello.", Some("SPEAKER_00")),
            seg("Plain.", None),
        ];
        let texts: Vec<String> = voiced_texts(&segments)
            .into_iter()
            .map(|t| t.into_owned())
            .collect();
        assert_eq!(
            texts,
            vec![
                "JOHN: Hi.",
                "<v SPEAKER_1>- Yes.</v>",
                "- No.",
                "<v SPEAKER_2>Bonjour.</v>",
                "<v SPEAKER_00>Hello.</v>",
                "Plain."
            ]
        );
    }
}
