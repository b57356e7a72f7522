//! Word times from Whisper's cross-attention (CTranslate2's `align`: dynamic time warping over
//! the alignment heads), as faster-whisper's `word_timestamps` does.
//!
//! Why: the timestamp tokens Whisper writes are coarse, and on hard audio (a phone line, two
//! people talking at once) the model falls back to whole seconds; a dub placed at those times
//! starts a line up to a second early or late. The attention says where each word is heard, so
//! a segment starts at its first word and ends at its last.

use ct2rs::sys::{StorageView, Whisper};

use super::activity::Activity;
use super::tokens::SpecialTokens;
use super::window::{FRAME_MS, WindowSegment};
use crate::Segment;

/// Milliseconds per encoder frame (the alignment's time step: 50 per second).
const STEP_MS: u64 = 20;
/// Width of the median filter over the attention weights (faster-whisper's).
const MEDIAN_FILTER_WIDTH: i64 = 7;
/// A pause this long after a sentence's last word splits a segment there.
const SPLIT_PAUSE_MS: u64 = 300;
/// A pause this long splits a segment anywhere.
const LONG_PAUSE_MS: u64 = 1_000;
/// How far from a boundary between two segments its pause is looked for.
const BOUNDARY_REACH_MS: u64 = 700;
/// A piece split off at a pause holds at least this much sound.
const MIN_PIECE_SOUND_MS: u64 = 150;

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

/// The window's segments, each from its first word to its last as the cross-attention
/// places them ; a segment keeps its timestamp-token times when alignment fails.
pub fn time_segments(
    model: &Whisper,
    vocabulary: &SpecialTokens,
    encoded: &StorageView<'_>,
    prompt: &[usize],
    segments: Vec<WindowSegment>,
    (seek, size): (usize, usize),
    activity: &Activity,
) -> Vec<Segment> {
    let offset_ms = seek as u64 * FRAME_MS;
    let window_end_ms = offset_ms + size as u64 * FRAME_MS;
    let text: Vec<usize> = segments.iter().flat_map(|s| s.tokens.clone()).collect();
    let words =
        word_times(model, vocabulary, encoded, prompt, &text, size).unwrap_or_else(|message| {
            tracing::debug!(offset_ms, %message, "no word times for this window");
            Vec::new()
        });
    tracing::trace!(offset_ms, ?words, "word times");
    let mut words = words.into_iter();
    let mut timed = Vec::with_capacity(segments.len());
    for WindowSegment { segment, tokens } in segments {
        let mut mine = Vec::new();
        let mut covered = 0;
        while covered < tokens.len() {
            let Some(word) = words.next() else { break };
            covered += word.tokens;
            mine.push(word);
        }
        if mine.is_empty() || covered != tokens.len() {
            timed.push(segment);
            continue;
        }
        // Split at pauses between words: the model joins lines across a short pause (two
        // people on a phone). The attention stretches words over the pause, so the pause is
        // looked for in the sound, between the middles of two neighbouring words; a split
        // that leaves a piece without sound means the word times are off, and is not made.
        let ends_sentence: Vec<bool> = {
            let mut at = 0;
            mine.iter()
                .map(|w| {
                    let word = vocabulary.decode(&tokens[at..at + w.tokens]);
                    at += w.tokens;
                    word.ends_with(['.', '?', '!', '。', '？', '！'])
                })
                .collect()
        };
        let pieces = split_at_pauses(&mine, &ends_sentence, offset_ms, activity);
        let mut at = 0;
        for (range, start, end) in pieces {
            let count: usize = mine[range].iter().map(|w| w.tokens).sum();
            let text = vocabulary.decode(&tokens[at..at + count]);
            let end = end.min(window_end_ms);
            if !text.is_empty() && end > start {
                timed.push(Segment::new(start, end, text));
            }
            at += count;
        }
    }
    settle_boundaries(&mut timed, activity);
    timed
}

/// Moves the boundary between two neighbouring segments into the pause between them, when the
/// sound shows one near it: timestamp tokens and word times both tend to run across it.
fn settle_boundaries(segments: &mut [Segment], activity: &Activity) {
    for i in 1..segments.len() {
        let (before, after) = segments.split_at_mut(i);
        let (a, b) = (&mut before[i - 1], &mut after[0]);
        let from = a.start_ms.max(a.end_ms.saturating_sub(BOUNDARY_REACH_MS));
        let to = b.end_ms.min(b.start_ms + BOUNDARY_REACH_MS);
        if to <= from {
            continue;
        }
        let Some((quiet_start, quiet_end)) = activity.longest_quiet(from, to, SPLIT_PAUSE_MS)
        else {
            continue;
        };
        let heard = |start, end| activity.sound_ms(start, end) >= MIN_PIECE_SOUND_MS;
        if heard(a.start_ms, quiet_start) && heard(quiet_end, b.end_ms) {
            a.end_ms = quiet_start;
            b.start_ms = quiet_end;
        }
    }
}

/// One segment's words cut at the pauses in the sound after its sentences (or at long ones): `(words, start, end)`
/// of each piece, in ms of the decoded audio.
fn split_at_pauses(
    words: &[WordTime],
    ends_sentence: &[bool],
    offset_ms: u64,
    activity: &Activity,
) -> Vec<(std::ops::Range<usize>, u64, u64)> {
    let mid = |w: &WordTime| offset_ms + (w.start_ms + w.end_ms) / 2;
    let mut pieces = Vec::new();
    let (mut first, mut start) = (0, offset_ms + words[0].start_ms);
    for i in 0..words.len() {
        // A sentence ends at a short pause; inside one, only a long pause splits (a comma's
        // breath is not a new line).
        let min_pause = match ends_sentence.get(i) {
            Some(true) => SPLIT_PAUSE_MS,
            _ => LONG_PAUSE_MS,
        };
        let pause = words
            .get(i + 1)
            .and_then(|next| activity.longest_quiet(mid(&words[i]), mid(next), min_pause));
        if let Some((quiet_start, quiet_end)) = pause {
            pieces.push((first..i + 1, start, quiet_start));
            (first, start) = (i + 1, quiet_end);
        }
    }
    pieces.push((
        first..words.len(),
        start,
        offset_ms + words[words.len() - 1].end_ms,
    ));
    // A piece without sound between two pauses (a word the attention stretched over the
    // silence) goes with the piece before it.
    let heard = |piece: &(std::ops::Range<usize>, u64, u64)| {
        activity.sound_ms(piece.1, piece.2) >= MIN_PIECE_SOUND_MS
    };
    let mut merged: Vec<(std::ops::Range<usize>, u64, u64)> = Vec::with_capacity(pieces.len());
    for piece in pieces {
        match merged.last_mut() {
            Some(last) if !heard(&piece) => last.0.end = piece.0.end,
            _ => merged.push(piece),
        }
    }
    tracing::trace!(?merged, "pieces");
    if merged.len() > 1 && !merged.iter().all(heard) {
        let end = merged[merged.len() - 1].2;
        return vec![(0..words.len(), offset_ms + words[0].start_ms, end)];
    }
    merged
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
