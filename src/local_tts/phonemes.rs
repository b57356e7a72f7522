//! Text → espeak-ng IPA phonemes, clause by clause, keeping clause punctuation (Piper's rules).
//!
//! Piper voices were trained on espeak-ng phonemes in which a clause keeps its punctuation
//! (`. ? !` end a sentence, `, : ;` mark a pause); dropping it makes the voice rush and run
//! sentences together. The `espeak-ng` program is run (never linked: libespeak-ng is GPL-3.0, and
//! this crate stays MIT OR Apache-2.0). Clauses are split here, sent one per line in a single
//! process call (espeak-ng ends a clause at each line), and the punctuation is put back.

use std::io::Write;
use std::process::{Command, Stdio};

use unicode_normalization::UnicodeNormalization;

use super::LocalTtsError;

/// Punctuation that ends a clause.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClauseEnd {
    /// `.`, ends a sentence.
    Period,
    /// `?`, ends a sentence.
    Question,
    /// `!`, ends a sentence.
    Exclamation,
    /// `,`, a short pause.
    Comma,
    /// `:`, a pause.
    Colon,
    /// `;`, a pause.
    Semicolon,
    /// End of text without punctuation (ends the sentence, adds nothing).
    None,
}

impl ClauseEnd {
    fn from_char(c: char) -> Option<Self> {
        Some(match c {
            '.' | '…' | '。' => Self::Period,
            '?' | '？' => Self::Question,
            '!' | '！' => Self::Exclamation,
            ',' | '，' | '、' => Self::Comma,
            ':' | '：' => Self::Colon,
            ';' | '；' => Self::Semicolon,
            _ => return None,
        })
    }

    /// The punctuation Piper puts after the clause's phonemes.
    pub fn symbol(self) -> &'static str {
        match self {
            Self::Period => ".",
            Self::Question => "?",
            Self::Exclamation => "!",
            Self::Comma => ",",
            Self::Colon => ":",
            Self::Semicolon => ";",
            Self::None => "",
        }
    }

    /// Whether the clause ends its sentence.
    pub fn ends_sentence(self) -> bool {
        matches!(
            self,
            Self::Period | Self::Question | Self::Exclamation | Self::None
        )
    }

    /// Strength, to pick one end from a run like `?!` or `.,`.
    fn rank(self) -> u8 {
        match self {
            Self::None => 0,
            Self::Comma => 1,
            Self::Colon | Self::Semicolon => 2,
            Self::Period => 3,
            Self::Exclamation => 4,
            Self::Question => 5,
        }
    }
}

/// A clause of text and the punctuation that ended it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Clause {
    /// The words, without the ending punctuation.
    pub text: String,
    /// How it ended.
    pub end: ClauseEnd,
}

/// Abbreviations whose dot does not end a sentence.
const ABBREVIATIONS: [&str; 13] = [
    "mr", "mrs", "ms", "dr", "prof", "st", "vs", "etc", "jr", "sr", "mt", "e.g", "i.e",
];

/// Splits text into clauses at `. ? ! , : ;` followed by a space or the end (so `3.5`, `a,b`
/// and `e.g.` stay whole).
pub fn split_clauses(text: &str) -> Vec<Clause> {
    let chars: Vec<char> = text.chars().collect();
    let mut clauses = Vec::new();
    let mut current = String::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let Some(mut end) = ClauseEnd::from_char(c) else {
            current.push(if c.is_whitespace() { ' ' } else { c });
            i += 1;
            continue;
        };
        // Take the whole run of punctuation (`?!`, `...`), plus closing quotes and brackets.
        let mut j = i;
        while j < chars.len() {
            if let Some(e) = ClauseEnd::from_char(chars[j]) {
                if e.rank() > end.rank() {
                    end = e;
                }
            } else if !matches!(chars[j], '"' | '\'' | ')' | ']' | '”' | '’' | '»') {
                break;
            }
            j += 1;
        }
        let at_break = j >= chars.len() || chars[j].is_whitespace();
        let last_word = current.rsplit(' ').next().unwrap_or("").to_lowercase();
        let abbreviation = c == '.' && j == i + 1 && ABBREVIATIONS.contains(&last_word.as_str());
        if !at_break || abbreviation {
            current.extend(&chars[i..j]);
            i = j;
            continue;
        }
        let words = current.split_whitespace().collect::<Vec<_>>().join(" ");
        if !words.is_empty() {
            clauses.push(Clause { text: words, end });
        } else if let Some(last) = clauses.last_mut() {
            // Punctuation alone (" , !") strengthens the previous clause's end.
            if end.rank() > last.end.rank() {
                last.end = end;
            }
        }
        current.clear();
        i = j;
    }
    let words = current.split_whitespace().collect::<Vec<_>>().join(" ");
    if !words.is_empty() {
        clauses.push(Clause {
            text: words,
            end: ClauseEnd::None,
        });
    }
    clauses
}

/// Runs `espeak-ng` to get IPA phonemes for each clause (one entry per clause, NFD-normalised).
pub fn phonemize_clauses(clauses: &[Clause], voice: &str) -> Result<Vec<String>, LocalTtsError> {
    if clauses.is_empty() {
        return Ok(Vec::new());
    }
    let lines: Vec<&str> = clauses.iter().map(|c| c.text.as_str()).collect();
    let output = run_espeak_ipa(&lines.join("\n"), voice)?;
    let out_lines: Vec<&str> = output.lines().collect();
    if out_lines.len() == clauses.len() {
        return Ok(out_lines.iter().map(|l| normalize(l)).collect());
    }
    // espeak-ng split a clause further on its own (rare): phonemize clause by clause instead.
    clauses
        .iter()
        .map(|c| {
            let out = run_espeak_ipa(&c.text, voice)?;
            Ok(normalize(&out.lines().collect::<Vec<_>>().join(" ")))
        })
        .collect()
}

/// NFD-normalised phonemes without espeak-ng's language-switch marks (`(en)`, `(fr)`), which
/// are not phonemes and would be spoken as brackets.
fn normalize(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut rest = line.trim();
    while let Some(open) = rest.find('(') {
        let after = &rest[open + 1..];
        match after.find(')') {
            Some(close)
                if close > 0
                    && after[..close]
                        .chars()
                        .all(|c| c.is_ascii_lowercase() || c == '-') =>
            {
                out.push_str(&rest[..open]);
                rest = &after[close + 1..];
            }
            _ => {
                out.push_str(&rest[..=open]);
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out.nfd().collect()
}

/// A sentence as Piper speaks it: phonemes with clause punctuation, one model call each.
pub fn phonemize_sentences(text: &str, voice: &str) -> Result<Vec<String>, LocalTtsError> {
    let clauses = split_clauses(text);
    let phonemes = phonemize_clauses(&clauses, voice)?;
    let mut sentences = Vec::new();
    let mut sentence = String::new();
    for (clause, ipa) in clauses.iter().zip(phonemes) {
        if !sentence.is_empty() && !sentence.ends_with(' ') {
            sentence.push(' ');
        }
        sentence.push_str(&ipa);
        sentence.push_str(clause.end.symbol());
        if clause.end.ends_sentence() {
            if !sentence.trim().is_empty() {
                sentences.push(sentence.trim().to_string());
            }
            sentence.clear();
        }
    }
    if !sentence.trim().is_empty() {
        sentences.push(sentence.trim().to_string());
    }
    Ok(sentences)
}

/// `espeak-ng -q --ipa` on `text` from stdin, one output line per input line.
fn run_espeak_ipa(text: &str, voice: &str) -> Result<String, LocalTtsError> {
    let mut child = Command::new("espeak-ng")
        .args(["-q", "-b", "1", "--ipa", "-v", voice])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| LocalTtsError::espeak_spawn(&e))?;
    if let Some(mut stdin) = child.stdin.take() {
        // A line per clause; a final newline so the last clause is flushed.
        stdin
            .write_all(format!("{text}\n").as_bytes())
            .map_err(|e| LocalTtsError::Espeak(format!("writing to espeak-ng: {e}")))?;
    }
    let output = child
        .wait_with_output()
        .map_err(|e| LocalTtsError::Espeak(format!("waiting for espeak-ng: {e}")))?;
    if !output.status.success() {
        return Err(LocalTtsError::Espeak(format!(
            "espeak-ng -v {voice} failed ({}): {}",
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        )));
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ends(text: &str) -> Vec<(String, ClauseEnd)> {
        split_clauses(text)
            .into_iter()
            .map(|c| (c.text, c.end))
            .collect()
    }

    #[test]
    fn clauses_keep_their_punctuation() {
        use ClauseEnd::*;
        assert_eq!(
            ends("Hello, world. How are you?! Fine; thanks: really"),
            vec![
                ("Hello".into(), Comma),
                ("world".into(), Period),
                ("How are you".into(), Question),
                ("Fine".into(), Semicolon),
                ("thanks".into(), Colon),
                ("really".into(), None),
            ]
        );
    }

    #[test]
    fn numbers_abbreviations_and_quotes_do_not_split() {
        use ClauseEnd::*;
        assert_eq!(
            ends("Dr. Smith paid 3.5 dollars, e.g. cash.\n\"Yes.\" he said"),
            vec![
                ("Dr. Smith paid 3.5 dollars".into(), Comma),
                ("e.g. cash".into(), Period),
                ("\"Yes".into(), Period),
                ("he said".into(), None),
            ]
        );
        assert!(split_clauses("  ...  ").is_empty());
    }

    #[test]
    fn language_switch_marks_are_removed() {
        assert_eq!(
            normalize(" ʒə pˈaʁl (en)ˈɪŋɡlɪʃ(fr) ybˈe "),
            "ʒə pˈaʁl ˈɪŋɡlɪʃ ybˈe"
        );
        assert_eq!(normalize("a (b c) (x)"), "a (b c) ");
    }

    #[test]
    fn espeak_phonemes_with_punctuation_per_sentence() {
        let sentences = phonemize_sentences("Hello, world. How are you?", "en-us").unwrap();
        assert_eq!(sentences.len(), 2, "{sentences:?}");
        // NFD keeps IPA letters as they are; the stress mark and the punctuation stay.
        assert_eq!(sentences[0], "həlˈoʊ, wˈɜːld.");
        assert_eq!(sentences[1], "hˈaʊ ɑːɹ juː?");
    }
}
