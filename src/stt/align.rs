//! Word times from Whisper's cross-attention (CTranslate2's `align`: dynamic time warping over
//! the alignment heads), as faster-whisper's `word_timestamps` does.
//!
//! Why: the timestamp tokens Whisper writes are coarse, and on hard audio (a phone line, two
//! people talking at once) the model falls back to whole seconds; a dub placed at those times
//! starts a line up to a second early or late. The attention says where each word is heard, so
//! a segment starts at its first word and ends at its last.

use ct2rs::sys::{StorageView, Whisper};

use super::tokens::SpecialTokens;

/// Milliseconds per encoder frame (the alignment's time step: 50 per second).
const STEP_MS: u64 = 20;
/// Width of the median filter over the attention weights (faster-whisper's).
const MEDIAN_FILTER_WIDTH: i64 = 7;

/// One word: how many text tokens it spans, and when it is heard (ms from the window start).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WordTime {
    pub tokens: usize,
    pub start_ms: u64,
    pub end_ms: u64,
}

/// The words of `text` (a window's text tokens, in order) and their times. `prompt` is the
/// window's start sequence (ids), `frames` its mel frames with content.
pub fn word_times(
    model: &Whisper,
    vocabulary: &SpecialTokens,
    encoded: &StorageView<'_>,
    prompt: &[usize],
    text: &[usize],
    frames: usize,
) -> Result<Vec<WordTime>, String> {
    if text.is_empty() {
        return Ok(Vec::new());
    }
    let results = model
        .align(
            encoded,
            prompt,
            &[text.to_vec()],
            &[frames],
            MEDIAN_FILTER_WIDTH,
        )
        .map_err(|e| format!("{e:#}"))?;
    let Some(result) = results.into_iter().next() else {
        return Ok(Vec::new());
    };
    // The time at which each token (text, then end-of-text) starts: where the path first moves
    // to it.
    let mut jump_times = Vec::with_capacity(text.len() + 1);
    let mut previous = None;
    for pair in &result.alignments {
        if previous != Some(pair.token_x) {
            jump_times.push(pair.frame_x.max(0) as u64 * STEP_MS);
            previous = Some(pair.token_x);
        }
    }
    let mut words = Vec::new();
    let mut at = 0;
    for tokens in word_lengths(vocabulary, text) {
        let (Some(&start_ms), Some(&end_ms)) = (jump_times.get(at), jump_times.get(at + tokens))
        else {
            break;
        };
        words.push(WordTime {
            tokens,
            start_ms,
            end_ms: end_ms.max(start_ms),
        });
        at += tokens;
    }
    Ok(words)
}

/// How many tokens each word of `text` spans: a word starts at a token that begins with a space
/// (`Ġ`); punctuation stays with the word before it. Text without spaces (Chinese, Japanese, …)
/// gets one word per token, which is as fine as the times can be.
fn word_lengths(vocabulary: &SpecialTokens, text: &[usize]) -> Vec<usize> {
    let spaced = text_has_spaces(vocabulary, text);
    let mut lengths: Vec<usize> = Vec::new();
    for &id in text {
        let token = vocabulary.text(id);
        let starts_word = token.starts_with('Ġ');
        let is_punctuation = !token.is_empty() && token.chars().all(|c| c.is_ascii_punctuation());
        match lengths.last_mut() {
            Some(last) if !starts_word && (is_punctuation || spaced) => *last += 1,
            _ => lengths.push(1),
        }
    }
    lengths
}

/// True when the text separates words with spaces (most languages).
fn text_has_spaces(vocabulary: &SpecialTokens, text: &[usize]) -> bool {
    text.iter()
        .skip(1)
        .any(|&id| vocabulary.text(id).starts_with('Ġ'))
}
