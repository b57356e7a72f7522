//! Levels: gain, click-free edges, and EBU R128 loudness so every clip sounds equally loud.
//!
//! TTS engines differ by several dB from voice to voice and request to request; loudness
//! (LUFS, ITU BS.1770 as measured by `ebur128`) is what listeners hear, unlike peak or RMS.

use super::{AudioError, Clip};
use ebur128::{EbuR128, Mode};

/// Multiplies every sample by `db` decibels.
pub fn apply_gain_db(samples: &mut [f32], db: f32) {
    let factor = 10f32.powf(db / 20.0);
    for s in samples {
        *s *= factor;
    }
}

/// Raised-cosine fade-in over the first `fade_len` samples and fade-out over the last, so a clip
/// placed in silence does not click. Clips shorter than two fades fade over half their length.
pub fn fade_edges(samples: &mut [f32], fade_len: usize) {
    let n = fade_len.min(samples.len() / 2);
    if n == 0 {
        return;
    }
    let len = samples.len();
    for i in 0..n {
        let g = 0.5 - 0.5 * (std::f32::consts::PI * (i as f32 + 0.5) / n as f32).cos();
        samples[i] *= g;
        samples[len - 1 - i] *= g;
    }
}

/// Integrated loudness in LUFS, or `None` for silence or a clip under the 400 ms gating block.
pub fn loudness_lufs(clip: &Clip) -> Result<Option<f64>, AudioError> {
    let err = |e: ebur128::Error| AudioError::Loudness {
        reason: e.to_string(),
    };
    if clip.rate == 0 {
        return Err(AudioError::InvalidRate { rate: 0 });
    }
    let mut meter = EbuR128::new(1, clip.rate, Mode::I).map_err(err)?;
    meter.add_frames_f32(&clip.samples).map_err(err)?;
    let lufs = meter.loudness_global().map_err(err)?;
    Ok(lufs.is_finite().then_some(lufs))
}

/// Brings `clip` to `target_lufs` (e.g. -16 for speech), then lowers it if needed so no sample
/// exceeds full scale. Returns the gain applied in dB (0 for silence, which is left alone).
pub fn normalize_loudness(clip: &mut Clip, target_lufs: f64) -> Result<f32, AudioError> {
    let Some(lufs) = loudness_lufs(clip)? else {
        return Ok(0.0);
    };
    let mut gain = (target_lufs - lufs) as f32;
    let peak = clip.samples.iter().fold(0f32, |m, s| m.max(s.abs()));
    let peak_after = peak * 10f32.powf(gain / 20.0);
    if peak_after > 0.999 {
        gain -= 20.0 * (peak_after / 0.999).log10();
    }
    apply_gain_db(&mut clip.samples, gain);
    Ok(gain)
}

/// The clip without its leading and trailing silence (samples below `threshold_db` dBFS), keeping
/// `keep_ms` before the first and after the last sound so consonants keep their edges.
///
/// TTS engines pad clips with 50–500 ms of silence; left in, it delays the voice behind its
/// window start and counts as speech when fitting. An all-silent clip becomes empty.
pub fn trim_silence(clip: &Clip, threshold_db: f32, keep_ms: u32) -> Clip {
    let threshold = 10f32.powf(threshold_db / 20.0);
    let loud = |s: &f32| s.abs() > threshold;
    let Some(first) = clip.samples.iter().position(loud) else {
        return Clip {
            rate: clip.rate,
            samples: Vec::new(),
        };
    };
    let last = clip.samples.iter().rposition(loud).unwrap_or(first);
    let keep = (u64::from(keep_ms) * u64::from(clip.rate) / 1000) as usize;
    let start = first.saturating_sub(keep);
    let end = (last + 1 + keep).min(clip.samples.len());
    Clip {
        rate: clip.rate,
        samples: clip.samples[start..end].to_vec(),
    }
}
