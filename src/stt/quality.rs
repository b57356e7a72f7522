//! Telling a transcript from a hallucination, with the measures OpenAI's `transcribe.py` and
//! faster-whisper use: a window whose text compresses too well (a loop) or whose tokens the
//! model was unsure of is decoded again at a higher temperature; a window the model thinks holds
//! no speech is silence. What still slips through (a phrase said over and over, a line repeated
//! from the window before) is dropped here and counted.

use miniz_oxide::deflate::compress_to_vec_zlib;

/// Above this gzip compression ratio a window's text is a loop (Whisper's threshold).
pub const COMPRESSION_RATIO_THRESHOLD: f32 = 2.4;
/// Below this average token log-probability the decoding is unsure (Whisper's threshold).
pub const LOG_PROB_THRESHOLD: f32 = -1.0;
/// Above this no-speech probability (with an unsure decoding) a window is silence.
pub const NO_SPEECH_THRESHOLD: f32 = 0.6;
/// The temperatures tried in turn (Whisper's 0.0, 0.2, … 1.0).
pub const TEMPERATURES: [f32; 6] = [0.0, 0.2, 0.4, 0.6, 0.8, 1.0];
/// A phrase said this many times in a row is a loop, not speech.
const MIN_LOOP_REPEATS: usize = 3;

/// How well `text` compresses: its length over its zlib-compressed length, as Whisper measures.
pub fn compression_ratio(text: &str) -> f32 {
    if text.is_empty() {
        return 0.0;
    }
    let compressed = compress_to_vec_zlib(text.as_bytes(), 6);
    text.len() as f32 / compressed.len().max(1) as f32
}

/// What one decoding of a window scored.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Scores {
    pub avg_logprob: f32,
    pub no_speech_prob: f32,
    pub compression_ratio: f32,
}

impl Scores {
    /// The model heard no speech: silence, whatever text it produced.
    pub fn is_silence(&self) -> bool {
        self.no_speech_prob > NO_SPEECH_THRESHOLD && self.avg_logprob < LOG_PROB_THRESHOLD
    }

    /// The decoding is a loop or unsure: try a higher temperature.
    pub fn needs_fallback(&self) -> bool {
        !self.is_silence()
            && (self.compression_ratio > COMPRESSION_RATIO_THRESHOLD
                || self.avg_logprob < LOG_PROB_THRESHOLD)
    }
}

/// Words of `text`, lower-case, without punctuation, for comparing lines.
fn normalized_words(text: &str) -> Vec<String> {
    text.split_whitespace()
        .map(|w| {
            w.chars()
                .filter(|c| c.is_alphanumeric())
                .flat_map(char::to_lowercase)
                .collect::<String>()
        })
        .filter(|w| !w.is_empty())
        .collect()
}

/// Text with a phrase that loops (said [`MIN_LOOP_REPEATS`] or more times in a row) said once;
/// `None` when nothing loops. Works on words, and on characters for text without spaces.
pub fn collapse_loops(text: &str) -> Option<String> {
    let words: Vec<&str> = text.split_whitespace().collect();
    if words.len() >= MIN_LOOP_REPEATS {
        let keys: Vec<String> = words.iter().map(|w| normalized_words(w).concat()).collect();
        if let Some(kept) = collapse(&keys) {
            return Some(
                kept.into_iter()
                    .map(|i| words[i])
                    .collect::<Vec<_>>()
                    .join(" "),
            );
        }
        return None;
    }
    // One "word": a language written without spaces, or a run of one syllable.
    let chars: Vec<char> = text.chars().collect();
    let keys: Vec<String> = chars.iter().map(|c| c.to_lowercase().collect()).collect();
    collapse(&keys).map(|kept| kept.into_iter().map(|i| chars[i]).collect())
}

/// Indices of `items` to keep so that no run of one phrase repeated [`MIN_LOOP_REPEATS`] or more
/// times in a row remains (the first saying of it is kept); `None` when there is no such run.
fn collapse(items: &[String]) -> Option<Vec<usize>> {
    let n = items.len();
    let mut keep = Vec::with_capacity(n);
    let mut i = 0;
    let mut changed = false;
    while i < n {
        let mut skipped = false;
        for len in 1..=(n - i) / MIN_LOOP_REPEATS {
            let phrase = &items[i..i + len];
            let mut repeats = 1;
            while i + (repeats + 1) * len <= n
                && items[i + repeats * len..i + (repeats + 1) * len] == *phrase
            {
                repeats += 1;
            }
            if repeats >= MIN_LOOP_REPEATS {
                keep.extend(i..i + len);
                i += repeats * len;
                skipped = true;
                changed = true;
                break;
            }
        }
        if !skipped {
            keep.push(i);
            i += 1;
        }
    }
    changed.then_some(keep)
}

/// True when `line` says what `previous` said (same words, or all its words within it): a line
/// the decoder repeated, within a window or across a window's edge.
pub fn repeats(previous: &str, line: &str) -> bool {
    let (a, b) = (normalized_words(previous), normalized_words(line));
    if b.is_empty() {
        return false;
    }
    if a == b {
        return true;
    }
    // A line that is wholly contained in the line before it, and is not a one-word answer.
    b.len() >= 3 && a.windows(b.len()).any(|w| w == b.as_slice())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_loop_compresses_far_better_than_speech() {
        let speech = "Guten Morgen. Heute sprechen wir über das Wetter in Berlin.";
        let looped = "Thank you very much for watching. ".repeat(28);
        assert!(compression_ratio(speech) < COMPRESSION_RATIO_THRESHOLD);
        assert!(compression_ratio(&looped) > 10.0);
        assert_eq!(compression_ratio(""), 0.0);
    }

    #[test]
    fn loops_are_said_once() {
        let looped = "Thank you very much for watching. ".repeat(28);
        assert_eq!(
            collapse_loops(&looped).as_deref(),
            Some("Thank you very much for watching.")
        );
        assert_eq!(
            collapse_loops("So we went home, home, home, home and slept.").as_deref(),
            Some("So we went home, and slept.")
        );
        // Twice is speech ("very, very"), not a loop.
        assert_eq!(collapse_loops("It was very, very good."), None);
        assert_eq!(
            collapse_loops("ありがとうありがとうありがとう").as_deref(),
            Some("ありがとう")
        );
        assert_eq!(collapse_loops("Hello there."), None);
    }

    #[test]
    fn repeated_lines_are_recognised() {
        assert!(repeats("Thank you for watching!", "thank you for watching"));
        assert!(repeats(
            "It rains in Berlin today and tomorrow.",
            "in Berlin today"
        ));
        assert!(!repeats("Yes.", "No."));
        // A short answer said again is not a repeat of a longer line.
        assert!(!repeats("Yes, I think so.", "Yes."));
    }

    #[test]
    fn silence_and_fallback_follow_whispers_rules() {
        let scores = |avg_logprob, no_speech_prob, compression_ratio| Scores {
            avg_logprob,
            no_speech_prob,
            compression_ratio,
        };
        assert!(scores(-1.2, 0.8, 1.0).is_silence());
        assert!(!scores(-0.3, 0.8, 1.0).is_silence());
        assert!(scores(-0.3, 0.1, 3.0).needs_fallback());
        assert!(scores(-1.3, 0.1, 1.2).needs_fallback());
        assert!(!scores(-0.3, 0.1, 1.2).needs_fallback());
        // Silence is not decoded again.
        assert!(!scores(-1.3, 0.9, 3.0).needs_fallback());
    }
}
