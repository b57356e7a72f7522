//! One decoded window of Whisper tokens cut into timed segments, and how far the decoder seeks
//! next (as OpenAI's and faster-whisper's decoders do).

use super::mel::HOP;
use super::tokens::SpecialTokens;
use crate::Segment;

/// Milliseconds per timestamp token step (`<|0.02|>` − `<|0.00|>`).
const TIMESTAMP_STEP_MS: u64 = 20;
/// Milliseconds per mel frame.
pub const FRAME_MS: u64 = (HOP as u64 * 1000) / 16_000;
/// Mel frames per timestamp step.
const FRAMES_PER_TIMESTAMP: usize = (TIMESTAMP_STEP_MS / FRAME_MS) as usize;

/// One segment of a window, with the text tokens it was decoded from (for word alignment).
pub struct WindowSegment {
    pub segment: Segment,
    pub tokens: Vec<usize>,
}

/// What one decoder pass over a window produced.
pub struct WindowResult {
    pub segments: Vec<WindowSegment>,
    /// Frames to advance the window by.
    pub advance: usize,
}

/// Cuts one window's tokens into segments at timestamp pairs and says how far to seek.
pub fn split_at_timestamps(
    t: &SpecialTokens,
    ids: &[usize],
    seek: usize,
    size: usize,
    audio_end_ms: u64,
) -> WindowResult {
    // Keep text and timestamps only (drop any prompt or task tokens echoed back).
    let ids: Vec<usize> = ids
        .iter()
        .copied()
        .filter(|&id| t.is_text(id) || t.is_timestamp(id))
        .collect();
    let offset_ms = seek as u64 * FRAME_MS;
    let window_end_ms = (offset_ms + size as u64 * FRAME_MS).min(audio_end_ms);
    let time_of = |id: usize| offset_ms + (id - t.timestamp_begin) as u64 * TIMESTAMP_STEP_MS;
    let mut segments = Vec::new();
    let mut push = |start_ms: u64, end_ms: u64, tokens: &[usize]| {
        let text = t.decode(tokens);
        let start_ms = start_ms.min(window_end_ms);
        let end_ms = end_ms.clamp(start_ms, window_end_ms);
        if !text.is_empty() && end_ms > start_ms {
            segments.push(WindowSegment {
                segment: Segment::new(start_ms, end_ms, text),
                tokens: tokens.to_vec(),
            });
        }
    };

    let n = ids.len();
    let ends_with_single_timestamp =
        n >= 2 && t.is_timestamp(ids[n - 1]) && !t.is_timestamp(ids[n - 2]);
    // A pair of consecutive timestamps closes one segment and opens the next.
    let mut cuts: Vec<usize> = (1..n)
        .filter(|&i| t.is_timestamp(ids[i]) && t.is_timestamp(ids[i - 1]))
        .collect();
    if cuts.is_empty() {
        // One segment for the window, ending at the last timestamp if any.
        let end_ms = ids
            .iter()
            .rev()
            .find(|&&id| t.is_timestamp(id) && id > t.timestamp_begin)
            .map_or(window_end_ms, |&id| time_of(id));
        let start_ms = ids
            .first()
            .filter(|&&id| t.is_timestamp(id))
            .map_or(offset_ms, |&id| time_of(id));
        let text: Vec<usize> = ids.iter().copied().filter(|&id| t.is_text(id)).collect();
        push(start_ms, end_ms, &text);
        return WindowResult {
            segments,
            advance: size,
        };
    }
    if ends_with_single_timestamp {
        cuts.push(n);
    }
    let mut last = 0;
    for &cut in &cuts {
        let slice = &ids[last..cut];
        last = cut;
        let (Some(&first), Some(&final_id)) = (slice.first(), slice.last()) else {
            continue;
        };
        if !t.is_timestamp(first) || !t.is_timestamp(final_id) {
            continue;
        }
        let text: Vec<usize> = slice.iter().copied().filter(|&id| t.is_text(id)).collect();
        push(time_of(first), time_of(final_id), &text);
    }
    let advance = if ends_with_single_timestamp {
        // The model saw the end of speech in this window: nothing is cut off.
        size
    } else {
        // Resume at the last complete segment's end; what follows is decoded again whole.
        let last_timestamp = ids[last - 1] - t.timestamp_begin;
        match last_timestamp * FRAMES_PER_TIMESTAMP {
            0 => size,
            frames => frames.min(size),
        }
    };
    WindowResult { segments, advance }
}
