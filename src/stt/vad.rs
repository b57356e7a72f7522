//! Where people speak: Silero VAD (v6, the ONNX file faster-whisper ships) over 16 kHz audio.
//!
//! Whisper invents text when it is shown music or silence, and drifts when a window starts long
//! before the speech in it. As faster-whisper's `vad_filter` does, the model is only ever shown
//! the spans found here; segment times are kept inside them. The span rules
//! ([`spans_from_probabilities`]) are faster-whisper's `get_speech_timestamps`, so the same
//! settings give the same spans.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use ort::session::Session;
use ort::value::Tensor;

use super::SttError;

/// Samples per VAD frame (32 ms at 16 kHz).
pub const FRAME: usize = 512;
/// Samples of the previous frame the model sees before each frame.
const CONTEXT: usize = 64;
/// Frames per model call (faster-whisper's batch; ~5 min of audio, ~23 MB of input).
const FRAMES_PER_CALL: usize = 10_000;
/// Size of the model's recurrent state.
const STATE: usize = 128;
/// Samples per millisecond at 16 kHz.
const PER_MS: usize = 16;

/// How speech probabilities become spans (faster-whisper's `VadOptions` and its defaults).
#[derive(Debug, Clone, PartialEq)]
pub struct VadOptions {
    /// A frame at or above this probability is speech.
    pub threshold: f32,
    /// Below this a frame is silence for sure (default: `threshold − 0.15`).
    pub neg_threshold: Option<f32>,
    /// Spans shorter than this are dropped.
    pub min_speech_ms: usize,
    /// Longer spans are split, at a silence when there is one.
    pub max_speech_ms: Option<usize>,
    /// Silence shorter than this does not end a span.
    pub min_silence_ms: usize,
    /// Kept on each side of a span (soft onsets and endings).
    pub speech_pad_ms: usize,
}

impl Default for VadOptions {
    fn default() -> Self {
        Self {
            threshold: 0.5,
            neg_threshold: None,
            min_speech_ms: 0,
            max_speech_ms: None,
            min_silence_ms: 2_000,
            speech_pad_ms: 400,
        }
    }
}

/// A stretch of speech, in samples of the 16 kHz audio (end exclusive).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SpeechSpan {
    pub start: usize,
    pub end: usize,
}

impl SpeechSpan {
    /// Start in milliseconds.
    pub fn start_ms(&self) -> u64 {
        (self.start / PER_MS) as u64
    }

    /// End in milliseconds.
    pub fn end_ms(&self) -> u64 {
        self.end.div_ceil(PER_MS) as u64
    }

    /// Length in samples.
    pub fn len(&self) -> usize {
        self.end - self.start
    }

    /// True when the span holds no sample.
    pub fn is_empty(&self) -> bool {
        self.end <= self.start
    }
}

/// The Silero voice-activity model, loaded once (about 20 ms) and used from one thread at a time.
pub struct SileroVad {
    session: Mutex<Session>,
    path: PathBuf,
}

impl std::fmt::Debug for SileroVad {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SileroVad")
            .field("path", &self.path)
            .finish()
    }
}

impl SileroVad {
    /// Loads `silero_vad_v6.onnx` (ONNX Runtime from the data dir, as for Piper voices).
    pub fn load(path: &Path) -> Result<Self, SttError> {
        let load_error = |message: String| SttError::Load {
            path: path.to_path_buf(),
            message,
        };
        let environment = crate::onnx::runtime(None).map_err(load_error)?;
        // One thread: the model is tiny and runs beside Whisper, which takes the cores.
        let session = Session::builder(environment)
            .map_err(|e| load_error(e.to_string()))?
            .with_intra_threads(1)
            .map_err(|e| load_error(e.to_string()))?
            .with_inter_threads(1)
            .map_err(|e| load_error(e.to_string()))?
            .commit_from_file(path)
            .map_err(|e| load_error(e.to_string()))?;
        Ok(Self {
            session: Mutex::new(session),
            path: path.to_path_buf(),
        })
    }

    /// The model file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The speech spans of `audio` (16 kHz mono).
    pub fn speech(&self, audio: &[f32], options: &VadOptions) -> Result<Vec<SpeechSpan>, SttError> {
        let probabilities = self.probabilities(audio)?;
        Ok(spans_from_probabilities(
            &probabilities,
            audio.len(),
            options,
        ))
    }

    /// The speech probability of each 512-sample frame of `audio` (the last one zero-padded).
    pub fn probabilities(&self, audio: &[f32]) -> Result<Vec<f32>, SttError> {
        let inference = |message: String| SttError::Inference { at_ms: 0, message };
        let frames = audio.len().div_ceil(FRAME);
        let mut session = self
            .session
            .lock()
            .map_err(|_| inference("VAD session poisoned by an earlier panic".to_string()))?;
        let mut h = vec![0f32; STATE];
        let mut c = vec![0f32; STATE];
        let mut probabilities = Vec::with_capacity(frames);
        let frame_at = |i: usize| {
            let mut frame = [0f32; FRAME];
            let from = (i * FRAME).min(audio.len());
            let to = ((i + 1) * FRAME).min(audio.len());
            frame[..to - from].copy_from_slice(&audio[from..to]);
            frame
        };
        let mut first = 0;
        while first < frames {
            let n = (frames - first).min(FRAMES_PER_CALL);
            // Each row: the last 64 samples of the previous frame (zeros before the first), then
            // the frame, as faster-whisper feeds the model.
            let mut input = Vec::with_capacity(n * (CONTEXT + FRAME));
            for i in first..first + n {
                match i {
                    0 => input.extend_from_slice(&[0f32; CONTEXT]),
                    _ => input.extend_from_slice(&frame_at(i - 1)[FRAME - CONTEXT..]),
                }
                input.extend_from_slice(&frame_at(i));
            }
            let tensor = |shape: Vec<usize>, data: Vec<f32>| {
                Tensor::from_array((shape, data)).map_err(|e| inference(e.to_string()))
            };
            let inputs = ort::inputs![
                "input" => tensor(vec![n, CONTEXT + FRAME], input)?,
                "h" => tensor(vec![1, 1, STATE], h)?,
                "c" => tensor(vec![1, 1, STATE], c)?,
            ];
            let outputs = session.run(inputs).map_err(|e| inference(e.to_string()))?;
            let extract = |index: usize| -> Result<Vec<f32>, SttError> {
                let (_, values) = outputs[index]
                    .try_extract_tensor::<f32>()
                    .map_err(|e| inference(e.to_string()))?;
                Ok(values.to_vec())
            };
            let out = extract(0)?;
            if out.len() != n {
                return Err(inference(format!(
                    "VAD returned {} probabilities for {n} frames",
                    out.len()
                )));
            }
            probabilities.extend(out);
            h = extract(1)?;
            c = extract(2)?;
            first += n;
        }
        Ok(probabilities)
    }
}

/// faster-whisper's `get_speech_timestamps`: speech starts at a frame above `threshold` and ends
/// after `min_silence_ms` below `neg_threshold`; spans are padded by `speech_pad_ms`, or by half
/// the gap when two spans are closer than twice that.
pub fn spans_from_probabilities(
    probabilities: &[f32],
    audio_len: usize,
    options: &VadOptions,
) -> Vec<SpeechSpan> {
    let threshold = options.threshold;
    let neg_threshold = options
        .neg_threshold
        .unwrap_or((threshold - 0.15).max(0.01));
    let min_speech = options.min_speech_ms * PER_MS;
    let pad = options.speech_pad_ms * PER_MS;
    let max_speech = options.max_speech_ms.map_or(usize::MAX, |ms| {
        (ms * PER_MS).saturating_sub(FRAME + 2 * pad)
    });
    let min_silence = options.min_silence_ms * PER_MS;
    let min_silence_at_max_speech = 98 * PER_MS;

    let mut spans: Vec<SpeechSpan> = Vec::new();
    let mut current: Option<usize> = None;
    let (mut temp_end, mut prev_end, mut next_start) = (0usize, 0usize, 0usize);
    for (i, &p) in probabilities.iter().enumerate() {
        let at = FRAME * i;
        if p >= threshold && temp_end != 0 {
            temp_end = 0;
            if next_start < prev_end {
                next_start = at;
            }
        }
        let Some(start) = current else {
            if p >= threshold {
                current = Some(at);
            }
            continue;
        };
        if at - start > max_speech {
            if prev_end != 0 {
                spans.push(SpeechSpan {
                    start,
                    end: prev_end,
                });
                // Still in silence after the split point: wait for the next onset.
                current = (next_start >= prev_end).then_some(next_start);
            } else {
                spans.push(SpeechSpan { start, end: at });
                current = None;
            }
            (prev_end, next_start, temp_end) = (0, 0, 0);
            if current.is_none() {
                continue;
            }
        }
        if p < neg_threshold {
            let Some(start) = current else { continue };
            if temp_end == 0 {
                temp_end = at;
            }
            if at - temp_end > min_silence_at_max_speech {
                prev_end = temp_end;
            }
            if at - temp_end < min_silence {
                continue;
            }
            if temp_end - start > min_speech {
                spans.push(SpeechSpan {
                    start,
                    end: temp_end,
                });
            }
            current = None;
            (prev_end, next_start, temp_end) = (0, 0, 0);
        }
    }
    if let Some(start) = current
        && audio_len.saturating_sub(start) > min_speech
    {
        spans.push(SpeechSpan {
            start,
            end: audio_len,
        });
    }
    pad_spans(&mut spans, pad, audio_len);
    spans
}

/// Pads each span by `pad` samples, or by half the gap when the next span is closer than `2 × pad`.
fn pad_spans(spans: &mut [SpeechSpan], pad: usize, audio_len: usize) {
    let n = spans.len();
    for i in 0..n {
        if i == 0 {
            spans[i].start = spans[i].start.saturating_sub(pad);
        }
        if i + 1 < n {
            let gap = spans[i + 1].start.saturating_sub(spans[i].end);
            if gap < 2 * pad {
                spans[i].end += gap / 2;
                spans[i + 1].start = spans[i + 1].start.saturating_sub(gap / 2);
            } else {
                spans[i].end = (spans[i].end + pad).min(audio_len);
                spans[i + 1].start = spans[i + 1].start.saturating_sub(pad);
            }
        } else {
            spans[i].end = (spans[i].end + pad).min(audio_len);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Probabilities for `(value, frames)` runs.
    fn runs(runs: &[(f32, usize)]) -> Vec<f32> {
        runs.iter()
            .flat_map(|&(p, n)| std::iter::repeat_n(p, n))
            .collect()
    }

    fn ms(frames: usize) -> usize {
        frames * FRAME
    }

    #[test]
    fn a_short_pause_does_not_end_speech_but_a_long_one_does() {
        // 1.6 s speech, 0.96 s pause (< 2 s), 1.6 s speech, 3.2 s pause, 1.6 s speech.
        let p = runs(&[
            (0.0, 20),
            (0.9, 50),
            (0.0, 30),
            (0.9, 50),
            (0.0, 100),
            (0.9, 50),
            (0.0, 20),
        ]);
        let len = p.len() * FRAME;
        let spans = spans_from_probabilities(&p, len, &VadOptions::default());
        assert_eq!(spans.len(), 2, "{spans:?}");
        let pad = 400 * PER_MS;
        assert_eq!(spans[0].start, ms(20) - pad);
        assert_eq!(spans[0].end, ms(150) + pad);
        assert_eq!(spans[1].start, ms(250) - pad);
        // The trailing 0.64 s of silence is shorter than the 2 s that end speech: the last span
        // runs to the end of the audio.
        assert_eq!(spans[1].end, len);
    }

    #[test]
    fn close_spans_share_the_gap_and_never_overlap() {
        let options = VadOptions {
            min_silence_ms: 100,
            ..VadOptions::default()
        };
        // Two words 0.32 s apart: closer than twice the pad, so each gets half the gap.
        let p = runs(&[(0.9, 20), (0.0, 10), (0.9, 20)]);
        let spans = spans_from_probabilities(&p, p.len() * FRAME, &options);
        assert_eq!(spans.len(), 2, "{spans:?}");
        assert_eq!(spans[0].end, spans[1].start);
        assert_eq!(spans[0].start, 0);
    }

    #[test]
    fn hysteresis_keeps_speech_between_the_two_thresholds() {
        // 0.4 is under the 0.5 threshold but over 0.35: speech that started goes on.
        let p = runs(&[(0.0, 10), (0.9, 10), (0.4, 100), (0.0, 100)]);
        let spans = spans_from_probabilities(&p, p.len() * FRAME, &VadOptions::default());
        assert_eq!(spans.len(), 1);
        assert_eq!(spans[0].end, ms(120) + 400 * PER_MS);
        // Never starts on 0.4 alone.
        let p = runs(&[(0.4, 200)]);
        assert!(spans_from_probabilities(&p, p.len() * FRAME, &VadOptions::default()).is_empty());
    }

    #[test]
    fn long_speech_is_split_at_a_silence() {
        let options = VadOptions {
            max_speech_ms: Some(5_000),
            speech_pad_ms: 0,
            ..VadOptions::default()
        };
        // 4.8 s speech, 0.32 s pause, 4.8 s speech: over 5 s, split at the pause.
        let p = runs(&[(0.9, 150), (0.0, 10), (0.9, 150)]);
        let spans = spans_from_probabilities(&p, p.len() * FRAME, &options);
        assert_eq!(spans.len(), 2, "{spans:?}");
        assert_eq!(spans[0].end, ms(150));
        assert_eq!(spans[1].start, ms(160));
    }
}
