//! How high a voice is: the median fundamental frequency (F0) of its voiced frames, by YIN.
//!
//! Casting gives a low speaker a low voice, so it needs one number per voice: its register. YIN
//! (de Cheveigné & Kawahara, 2002) on 40 ms frames finds each frame's period as the first dip of
//! the cumulative-mean-normalised difference function below a threshold, refined by parabolic
//! interpolation; frames that are quiet or have no clear dip are unvoiced and left out. The
//! median over the voiced frames is robust to the octave errors a few frames make.
//!
//! [`speaker_pitch`] reads a speaker's lines from a WAV file by seeking to each one (hound), a
//! frame block at a time, so memory stays flat however long the recording: a 2-hour video's
//! `speech.wav` is never loaded whole.
//!
//! Why here: it is plain DSP on sample buffers, like the rest of [`crate::audio`]; the casting
//! logic that uses it lives in [`crate::cast`].

use std::path::Path;

/// Lowest and highest F0 looked for, Hz: below a bass's speaking voice, above a child's.
pub const F0_RANGE: (f64, f64) = (60.0, 400.0);
/// Frame length, seconds: two periods of the lowest F0 and a little more.
const FRAME_SECS: f64 = 0.04;
/// Hop between frames, seconds.
const HOP_SECS: f64 = 0.02;
/// YIN's threshold on the normalised difference: a dip below it is a period.
const THRESHOLD: f32 = 0.15;
/// Frames quieter than this (RMS, full scale 1) are silence, not voice.
const MIN_RMS: f32 = 0.01;
/// At most this much of one speaker's speech is analysed: a minute says all there is to say
/// about a register, and bounds the time on long videos.
const MAX_SECS_PER_SPEAKER: f64 = 60.0;

/// The F0 of one frame in Hz, or `None` when it is unvoiced (quiet, or no clear period).
pub fn frame_f0(frame: &[f32], rate: u32) -> Option<f64> {
    let rate_f = f64::from(rate);
    let min_lag = (rate_f / F0_RANGE.1).floor() as usize;
    let max_lag = (rate_f / F0_RANGE.0).ceil() as usize;
    if min_lag < 2 || frame.len() < 2 * max_lag {
        return None;
    }
    let rms = (frame.iter().map(|s| s * s).sum::<f32>() / frame.len() as f32).sqrt();
    if rms < MIN_RMS {
        return None;
    }
    let window = frame.len() - max_lag;
    // d(τ) and its cumulative-mean-normalised form d'(τ).
    let mut cmnd = vec![1.0f32; max_lag + 1];
    let mut running = 0.0f32;
    for lag in 1..=max_lag {
        let d: f32 = (0..window)
            .map(|i| {
                let x = frame[i] - frame[i + lag];
                x * x
            })
            .sum();
        running += d;
        cmnd[lag] = if running > 0.0 {
            d * lag as f32 / running
        } else {
            1.0
        };
    }
    let mut lag = min_lag;
    while lag < max_lag {
        if cmnd[lag] < THRESHOLD {
            // Walk down to the bottom of this dip.
            while lag + 1 < max_lag && cmnd[lag + 1] < cmnd[lag] {
                lag += 1;
            }
            let (a, b, c) = (cmnd[lag - 1], cmnd[lag], cmnd[lag + 1]);
            let denom = a - 2.0 * b + c;
            let shift = if denom.abs() > f32::EPSILON {
                (0.5 * (a - c) / denom).clamp(-1.0, 1.0)
            } else {
                0.0
            };
            let period = lag as f64 + f64::from(shift);
            let f0 = rate_f / period;
            return (F0_RANGE.0..=F0_RANGE.1).contains(&f0).then_some(f0);
        }
        lag += 1;
    }
    None
}

/// The F0 of every voiced frame of `samples`, in order.
pub fn voiced_f0s(samples: &[f32], rate: u32) -> Vec<f64> {
    let frame = (FRAME_SECS * f64::from(rate)).round() as usize;
    let hop = (HOP_SECS * f64::from(rate)).round().max(1.0) as usize;
    if samples.len() < frame || frame == 0 {
        return Vec::new();
    }
    (0..=samples.len() - frame)
        .step_by(hop)
        .filter_map(|start| frame_f0(&samples[start..start + frame], rate))
        .collect()
}

/// The median of `values`, `None` when empty.
pub fn median(mut values: Vec<f64>) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    Some(match values.len() % 2 {
        1 => values[mid],
        _ => (values[mid - 1] + values[mid]) / 2.0,
    })
}

/// The median F0 of `samples` (Hz), `None` when nothing in it is voiced.
pub fn median_f0(samples: &[f32], rate: u32) -> Option<f64> {
    median(voiced_f0s(samples, rate))
}

/// Reading a WAV file for [`speaker_pitch`] failed.
#[derive(Debug, thiserror::Error)]
#[error("{}: {source}", path.display())]
pub struct PitchError {
    pub path: std::path::PathBuf,
    pub source: hound::Error,
}

/// The median F0 (Hz) of the spans `spans_ms` (start, end in milliseconds) of the mono 16-bit
/// WAV at `path` (the workdir's `speech.wav`); `None` when nothing in them is voiced. Each span is
/// read by seeking to it, and at most [`MAX_SECS_PER_SPEAKER`] of speech is read in all.
pub fn speaker_pitch(path: &Path, spans_ms: &[(u64, u64)]) -> Result<Option<f64>, PitchError> {
    let err = |source| PitchError {
        path: path.to_path_buf(),
        source,
    };
    let mut reader = hound::WavReader::open(path).map_err(err)?;
    let spec = reader.spec();
    let rate = spec.sample_rate;
    let channels = u32::from(spec.channels.max(1));
    let total = reader.duration();
    let budget = (MAX_SECS_PER_SPEAKER * f64::from(rate)) as u64;
    let mut read = 0u64;
    let mut f0s = Vec::new();
    for &(start_ms, end_ms) in spans_ms {
        if read >= budget {
            break;
        }
        let first = (start_ms * u64::from(rate) / 1000).min(u64::from(total));
        let last = (end_ms * u64::from(rate) / 1000).min(u64::from(total));
        let len = last.saturating_sub(first).min(budget - read);
        if len == 0 {
            continue;
        }
        reader
            .seek(first as u32)
            .map_err(|e| err(hound::Error::IoError(e)))?;
        let wanted = (len * u64::from(channels)) as usize;
        let samples: Vec<f32> = match spec.sample_format {
            hound::SampleFormat::Int => reader
                .samples::<i32>()
                .take(wanted)
                .map(|s| s.map(|v| v as f32 / (1u32 << (spec.bits_per_sample - 1)) as f32))
                .collect::<Result<_, _>>(),
            hound::SampleFormat::Float => reader.samples::<f32>().take(wanted).collect(),
        }
        .map_err(err)?;
        // The first channel is enough for a register (speech.wav is mono anyway).
        let mono: Vec<f32> = samples.iter().step_by(channels as usize).copied().collect();
        f0s.extend(voiced_f0s(&mono, rate));
        read += len;
    }
    Ok(median(f0s))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tone(f0: f64, rate: u32, secs: f64) -> Vec<f32> {
        // A tone with harmonics, like a voice: the fundamental must win over them.
        (0..(secs * f64::from(rate)) as usize)
            .map(|i| {
                let t = i as f64 / f64::from(rate);
                let w = 2.0 * std::f64::consts::PI * f0 * t;
                (0.4 * w.sin() + 0.25 * (2.0 * w).sin() + 0.15 * (3.0 * w).sin()) as f32
            })
            .collect()
    }

    #[test]
    fn tones_are_measured_within_one_percent() {
        for f0 in [70.0, 110.0, 180.0, 220.0, 350.0] {
            let got = median_f0(&tone(f0, 16_000, 0.5), 16_000).unwrap();
            assert!((got - f0).abs() / f0 < 0.01, "{f0} Hz measured as {got}");
        }
    }

    #[test]
    fn silence_and_noise_are_unvoiced() {
        assert_eq!(median_f0(&vec![0.0; 16_000], 16_000), None);
        // White noise (a fixed LCG) has no period.
        let mut x = 12345u32;
        let noise: Vec<f32> = (0..16_000)
            .map(|_| {
                x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
                (x >> 8) as f32 / (1u32 << 24) as f32 - 0.5
            })
            .collect();
        let voiced = voiced_f0s(&noise, 16_000).len();
        let frames = (16_000 - 640) / 320 + 1;
        assert!(
            voiced * 10 < frames,
            "{voiced} of {frames} noise frames voiced"
        );
    }

    fn espeak(voice: &str) -> Vec<f32> {
        let dir = tempfile::tempdir().unwrap();
        let wav = dir.path().join("s.wav");
        let ok = std::process::Command::new("espeak-ng")
            .args(["-v", voice, "-w"])
            .arg(&wav)
            .arg("The quick brown fox jumps over the lazy dog, and then it runs away home.")
            .status()
            .expect("espeak-ng must be installed for this test");
        assert!(ok.success());
        let clip = crate::audio::read_wav(&wav).unwrap();
        crate::audio::resample(&clip, 16_000).unwrap().samples
    }

    #[test]
    fn espeak_female_voice_is_higher_than_male() {
        let male = median_f0(&espeak("en-us+m3"), 16_000).unwrap();
        let female = median_f0(&espeak("en-us+f3"), 16_000).unwrap();
        assert!((70.0..170.0).contains(&male), "male {male} Hz");
        assert!((150.0..350.0).contains(&female), "female {female} Hz");
        assert!(female > male * 1.4, "female {female} Hz vs male {male} Hz");
    }

    #[test]
    fn a_speakers_spans_are_read_by_seeking() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("speech.wav");
        // 1 s at 100 Hz, 1 s silence, 1 s at 250 Hz.
        let mut samples = tone(100.0, 16_000, 1.0);
        samples.extend(vec![0.0; 16_000]);
        samples.extend(tone(250.0, 16_000, 1.0));
        crate::audio::write_wav(&path, &crate::audio::Clip::new(16_000, samples)).unwrap();
        let low = speaker_pitch(&path, &[(0, 1000)]).unwrap().unwrap();
        let high = speaker_pitch(&path, &[(2000, 3000), (1000, 2000)])
            .unwrap()
            .unwrap();
        assert!((low - 100.0).abs() < 2.0, "{low}");
        assert!((high - 250.0).abs() < 3.0, "{high}");
        assert_eq!(speaker_pitch(&path, &[(1000, 2000)]).unwrap(), None);
        // Spans past the end are cut at it.
        assert!(speaker_pitch(&path, &[(2500, 99_000)]).unwrap().is_some());
    }
}
