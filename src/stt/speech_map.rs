//! The speech spans of a recording joined into one clip for the decoder, and the way back from a
//! time in that clip to a time in the recording (faster-whisper's `collect_chunks` and
//! `SpeechTimestampsMap`).
//!
//! Joining packs the speech of a sparse recording into few 30 s windows (one encoder pass each)
//! instead of one pass per span, and the model never sees the silence or music between spans.

use super::vad::SpeechSpan;

/// Samples per millisecond at 16 kHz.
const PER_MS: u64 = 16;

/// Speech spans, joined end to end.
#[derive(Debug, Clone)]
pub struct SpeechMap {
    spans: Vec<SpeechSpan>,
    /// Where each span starts in the joined clip (samples).
    joined_starts: Vec<usize>,
}

impl SpeechMap {
    /// The map of `spans` (sorted, not overlapping).
    pub fn new(spans: Vec<SpeechSpan>) -> Self {
        let mut joined_starts = Vec::with_capacity(spans.len());
        let mut at = 0;
        for span in &spans {
            joined_starts.push(at);
            at += span.len();
        }
        Self {
            spans,
            joined_starts,
        }
    }

    /// The spans.
    pub fn spans(&self) -> &[SpeechSpan] {
        &self.spans
    }

    /// Samples of speech in all.
    pub fn joined_len(&self) -> usize {
        self.spans.iter().map(SpeechSpan::len).sum()
    }

    /// The speech of `audio`, joined.
    pub fn join(&self, audio: &[f32]) -> Vec<f32> {
        let mut joined = Vec::with_capacity(self.joined_len());
        for span in &self.spans {
            let end = span.end.min(audio.len());
            joined.extend_from_slice(&audio[span.start.min(end)..end]);
        }
        joined
    }

    /// The span a joined-clip time falls in. An end exactly at a span's joined end belongs to
    /// that span, not to the next (so a segment ending where its span ends stays in it).
    fn span_index(&self, joined_ms: u64, is_end: bool) -> usize {
        let sample = (joined_ms * PER_MS) as usize;
        let after = self.joined_starts.partition_point(|&start| match is_end {
            true => start < sample,
            false => start <= sample,
        });
        after.saturating_sub(1)
    }

    /// A time of the joined clip as a time of the recording, clamped into its span.
    pub fn original_ms(&self, joined_ms: u64, is_end: bool) -> u64 {
        if self.spans.is_empty() {
            return joined_ms;
        }
        let i = self.span_index(joined_ms, is_end);
        let span = self.spans[i];
        let offset = ((joined_ms * PER_MS) as usize).saturating_sub(self.joined_starts[i]);
        let sample = (span.start + offset).min(span.end);
        sample as u64 / PER_MS
    }

    /// A segment of the joined clip as `(start, end)` in the recording: each end in its own span.
    pub fn original_range(&self, start_ms: u64, end_ms: u64) -> (u64, u64) {
        let start = self.original_ms(start_ms, false);
        let end = self.original_ms(end_ms, true).max(start);
        (start, end)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn span(start_ms: usize, end_ms: usize) -> SpeechSpan {
        SpeechSpan {
            start: start_ms * 16,
            end: end_ms * 16,
        }
    }

    #[test]
    fn times_map_back_into_their_span() {
        // Speech at 1–3 s and 10–12 s: joined, 0–2 s and 2–4 s.
        let map = SpeechMap::new(vec![span(1_000, 3_000), span(10_000, 12_000)]);
        assert_eq!(map.joined_len(), 4_000 * 16);
        assert_eq!(map.original_ms(0, false), 1_000);
        assert_eq!(map.original_ms(1_500, false), 2_500);
        // 2 s is the end of the first span as an end, the start of the second as a start.
        assert_eq!(map.original_ms(2_000, true), 3_000);
        assert_eq!(map.original_ms(2_000, false), 10_000);
        assert_eq!(map.original_ms(3_000, true), 11_000);
        // Past the end: clamped to the last span's end.
        assert_eq!(map.original_ms(9_000, true), 12_000);
        assert_eq!(map.original_range(500, 2_000), (1_500, 3_000));
    }

    #[test]
    fn joining_keeps_only_the_speech() {
        let audio: Vec<f32> = (0..16 * 5_000).map(|i| i as f32).collect();
        let map = SpeechMap::new(vec![span(1_000, 2_000), span(3_000, 3_500)]);
        let joined = map.join(&audio);
        assert_eq!(joined.len(), 1_500 * 16);
        assert_eq!(joined[0], (1_000 * 16) as f32);
        assert_eq!(joined[1_000 * 16], (3_000 * 16) as f32);
    }
}
