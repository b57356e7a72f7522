//! Where speech is, from frame loudness: puts Whisper's coarse timestamps on the real edges of
//! speech.
//!
//! Whisper's timestamps are 20 ms tokens that often run late (a line "ends" well into the pause,
//! or even into the next line's first word). Dubbing fits new speech into these windows, so a
//! window that includes half a second of silence wastes room, and seeking the decoder to a late
//! timestamp cuts the next line's first word. Loudness only ever shrinks a segment or moves a seek
//! back to a speech onset. Under a steady background (music under a talk) the threshold rises
//! above the background's level, so speech is still told from music.

/// Analysis frame (10 ms at 16 kHz, one mel frame).
const FRAME: usize = 160;
/// Frame length in ms.
const FRAME_MS: u64 = 10;
/// Speech is louder than this, relative to the loud end of the clip (−35 dB).
const RELATIVE_THRESHOLD: f32 = 0.018;
/// Kept before the first loud frame of a segment (soft onsets).
const START_MARGIN_MS: u64 = 60;
/// Kept after the last loud frame of a segment (soft endings, reverb).
const END_MARGIN_MS: u64 = 120;
/// A segment end this soon after a sound's onset is taken to be the next line's first sound.
const LATE_END_MS: u64 = 400;
/// Speech is also louder than the clip's steady background (music, hum) by this factor (+8 dB):
/// the floor is a low percentile of frame loudness, where no one speaks.
const ABOVE_FLOOR: f32 = 2.5;
/// Quiet needed before an onset for it to count as a new line (not a gap inside a word).
const MIN_PAUSE_MS: u64 = 150;

/// Which 10 ms frames of 16 kHz audio hold sound above the speech threshold.
#[derive(Debug, Clone)]
pub struct Activity {
    active: Vec<bool>,
}

impl Activity {
    /// Measures `audio` (16 kHz mono).
    pub fn new(audio: &[f32]) -> Self {
        let rms: Vec<f32> = audio
            .chunks(FRAME)
            .map(|f| (f.iter().map(|s| s * s).sum::<f32>() / f.len() as f32).sqrt())
            .collect();
        // The loud end of the clip: a high percentile, so one click does not set the scale.
        let mut sorted = rms.clone();
        sorted.sort_by(f32::total_cmp);
        let loud = sorted
            .get(sorted.len().saturating_sub(1) * 995 / 1000)
            .copied()
            .unwrap_or(0.0);
        let floor = sorted.get(sorted.len() / 5).copied().unwrap_or(0.0);
        let threshold = (loud * RELATIVE_THRESHOLD)
            .max(floor * ABOVE_FLOOR)
            .max(1e-4);
        Self {
            active: rms.iter().map(|&r| r > threshold).collect(),
        }
    }

    fn frame(ms: u64) -> usize {
        (ms / FRAME_MS) as usize
    }

    /// How much of `from_ms..to_ms` holds sound above the speech threshold, in ms.
    pub fn sound_ms(&self, from_ms: u64, to_ms: u64) -> u64 {
        let (from, to) = (
            Self::frame(from_ms),
            Self::frame(to_ms).min(self.active.len()),
        );
        (from..to).filter(|&i| self.active[i]).count() as u64 * FRAME_MS
    }

    /// The longest quiet stretch between `from_ms` and `to_ms`, if it lasts `min_ms` or more:
    /// `(start, end)` of the quiet frames.
    pub fn longest_quiet(&self, from_ms: u64, to_ms: u64, min_ms: u64) -> Option<(u64, u64)> {
        let (from, to) = (
            Self::frame(from_ms),
            Self::frame(to_ms).min(self.active.len()),
        );
        let mut best: Option<(usize, usize)> = None;
        let mut run_start = None;
        for i in from..=to {
            let quiet = i < to && !self.active[i];
            match (quiet, run_start) {
                (true, None) => run_start = Some(i),
                (false, Some(start)) => {
                    if best.is_none_or(|(a, b)| i - start > b - a) {
                        best = Some((start, i));
                    }
                    run_start = None;
                }
                _ => {}
            }
        }
        best.map(|(a, b)| (a as u64 * FRAME_MS, b as u64 * FRAME_MS))
            .filter(|(a, b)| b - a >= min_ms)
    }

    /// Whether there is sound at `ms`.
    pub fn is_active(&self, ms: u64) -> bool {
        self.active.get(Self::frame(ms)).copied().unwrap_or(false)
    }

    /// `[start_ms, end_ms]` shrunk to the sound inside it, with small margins; unchanged when
    /// nothing inside is loud.
    /// An end that falls just after the onset of a new sound (the next line's first word) is
    /// first moved back to that onset.
    pub fn tighten(&self, start_ms: u64, end_ms: u64) -> (u64, u64) {
        let end_ms = match self.onset_before(end_ms, LATE_END_MS) {
            onset if onset < end_ms && onset > start_ms => onset,
            _ => end_ms,
        };
        let (from, to) = (
            Self::frame(start_ms),
            Self::frame(end_ms).min(self.active.len()),
        );
        if from >= to {
            return (start_ms, end_ms);
        }
        let frames = &self.active[from..to];
        let (Some(first), Some(last)) = (
            frames.iter().position(|&a| a),
            frames.iter().rposition(|&a| a),
        ) else {
            return (start_ms, end_ms);
        };
        let first_ms = (from + first) as u64 * FRAME_MS;
        let last_ms = (from + last + 1) as u64 * FRAME_MS;
        let start = first_ms.saturating_sub(START_MARGIN_MS).max(start_ms);
        let end = (last_ms + END_MARGIN_MS).min(end_ms);
        (start, end.max(start + FRAME_MS).min(end_ms))
    }

    /// If sound is going on at `ms` and began at most `max_back_ms` earlier after a pause of at
    /// least 150 ms, where it began (less the start margin); otherwise `ms`.
    pub fn onset_before(&self, ms: u64, max_back_ms: u64) -> u64 {
        if !self.is_active(ms) {
            return ms;
        }
        let limit = Self::frame(ms.saturating_sub(max_back_ms));
        let min_pause = (MIN_PAUSE_MS / FRAME_MS) as usize;
        // Walk back over sound and short gaps (inside words) until a real pause.
        let mut frame = Self::frame(ms);
        while frame > 0 {
            if self.active[frame - 1] {
                frame -= 1;
                if frame < limit {
                    return ms; // Sound all the way back: no onset nearby.
                }
                continue;
            }
            let quiet = self.active[..frame]
                .iter()
                .rev()
                .take_while(|&&a| !a)
                .count();
            if quiet >= min_pause || quiet == frame {
                break;
            }
            frame -= quiet;
        }
        (frame as u64 * FRAME_MS).saturating_sub(START_MARGIN_MS)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 16 kHz audio: silence, with a 440 Hz tone over the given ms spans.
    fn tones(total_ms: u64, spans: &[(u64, u64)]) -> Vec<f32> {
        let mut audio = vec![0f32; (total_ms * 16) as usize];
        for &(a, b) in spans {
            let span = (a * 16) as usize..(b * 16) as usize;
            for (i, sample) in audio[span.clone()].iter_mut().enumerate() {
                let n = (span.start + i) as f32;
                *sample = (n * 2.0 * std::f32::consts::PI * 440.0 / 16_000.0).sin() * 0.3;
            }
        }
        audio
    }

    #[test]
    fn tighten_shrinks_to_the_sound_with_margins() {
        let activity = Activity::new(&tones(5_000, &[(1_000, 2_000), (3_000, 3_500)]));
        assert_eq!(activity.tighten(500, 2_800), (940, 2_120));
        // Already tight, or nothing loud inside: unchanged.
        assert_eq!(activity.tighten(1_100, 1_900), (1_100, 1_900));
        assert_eq!(activity.tighten(2_100, 2_900), (2_100, 2_900));
        // Covering both tones keeps both.
        assert_eq!(activity.tighten(0, 5_000), (940, 3_620));
        // An end just after the next sound's onset is pulled back before it.
        assert_eq!(activity.tighten(500, 3_200), (940, 2_120));
        // ... but not an end deep inside a sound.
        assert_eq!(activity.tighten(2_500, 3_450), (2_940, 3_450));
    }

    #[test]
    fn onset_before_finds_where_ongoing_sound_began() {
        let activity = Activity::new(&tones(5_000, &[(1_000, 2_000), (3_000, 3_500)]));
        assert_eq!(activity.onset_before(3_200, 1_000), 2_940);
        assert_eq!(activity.onset_before(2_500, 1_000), 2_500); // silence: stays
        assert_eq!(activity.onset_before(1_900, 500), 1_900); // began too long ago
        // A 50 ms gap is inside a word, not a pause.
        let activity = Activity::new(&tones(3_000, &[(1_000, 1_500), (1_550, 2_000)]));
        assert_eq!(activity.onset_before(1_700, 1_000), 940);
    }

    #[test]
    fn steady_noise_changes_nothing() {
        let noise: Vec<f32> = (0..80_000).map(|_| fastrand::f32() * 0.2 - 0.1).collect();
        let activity = Activity::new(&noise);
        assert_eq!(activity.tighten(700, 3_300), (700, 3_300));
        assert_eq!(activity.onset_before(2_000, 1_000), 2_000);
    }
}
