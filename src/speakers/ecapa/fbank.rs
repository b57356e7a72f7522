//! The features ECAPA was trained on: SpeechBrain's `Fbank(n_mels=80)` followed by
//! `InputNormalization(norm_type="sentence", std_norm=False)`.
//!
//! An encoder only recognises voices from exactly the features it learned on, so SpeechBrain's
//! code (`speechbrain/processing/features.py`: `STFT`, `spectral_magnitude`, `Filterbank`) is
//! followed to the letter, including where it differs from librosa or Kaldi:
//!
//! - `torch.stft` with `n_fft = win_length = 400`, hop 160, a *periodic* Hamming window
//!   (`0.54 − 0.46·cos(2πn/400)`), `center=True` with zero padding (`pad_mode="constant"`):
//!   `1 + len / 160` frames, frame `t` centred on sample `160·t`;
//! - the power spectrum `re² + im²` (`spectral_magnitude(power=1)`);
//! - 80 triangular filters whose centres are evenly spaced on the HTK mel scale
//!   (`2595·log10(1 + f/700)`) between 0 and 8 kHz over the 201 bins at `linspace(0, 8000, 201)`;
//!   SpeechBrain's triangles are *symmetric*, both sides as wide as the distance from the
//!   previous centre (`band = hz[i+1] − hz[i]`), with a peak of 1 and no area normalisation;
//! - `10·log10(max(x, 1e-10))` (amin; `ref_value` 1 adds nothing), then everything more than
//!   80 dB (`top_db`) under the utterance's loudest value is raised to that floor;
//! - the mean of each band over the utterance is subtracted (sentence normalisation; the
//!   standard deviation is left alone).

use std::sync::Arc;

use realfft::num_complex::Complex;
use realfft::{RealFftPlanner, RealToComplex};

/// Mel bands: the model's input size.
pub const N_MELS: usize = 80;
/// FFT size and window length (25 ms).
pub const N_FFT: usize = 400;
/// Hop between frames (10 ms).
pub const HOP: usize = 160;
/// Frequency bins of the one-sided spectrum.
const N_BINS: usize = N_FFT / 2 + 1;
/// `amin` of `Filterbank`: power under this is clamped before the log.
const AMIN: f32 = 1e-10;
/// `top_db` of `Filterbank`.
const TOP_DB: f32 = 80.0;

/// One triangular filter: its weights for bins `first..first + weights.len()`.
#[derive(Debug, Clone)]
struct Filter {
    first: usize,
    weights: Vec<f32>,
}

/// Computes normalised log-mel features; build once, share across threads.
pub struct Fbank {
    window: Vec<f32>,
    filters: Vec<Filter>,
    fft: Arc<dyn RealToComplex<f32>>,
}

impl std::fmt::Debug for Fbank {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Fbank").finish_non_exhaustive()
    }
}

impl Default for Fbank {
    fn default() -> Self {
        Self::new()
    }
}

fn to_mel(hz: f64) -> f64 {
    2595.0 * (1.0 + hz / 700.0).log10()
}

fn to_hz(mel: f64) -> f64 {
    700.0 * (10f64.powf(mel / 2595.0) - 1.0)
}

impl Fbank {
    /// The extractor (Hamming window, 80 SpeechBrain filters from 0 to 8 kHz).
    pub fn new() -> Self {
        let window = (0..N_FFT)
            .map(|n| {
                let x = 2.0 * std::f64::consts::PI * n as f64 / N_FFT as f64;
                (0.54 - 0.46 * x.cos()) as f32
            })
            .collect();
        let (lo, hi) = (to_mel(0.0), to_mel(8000.0));
        let hz: Vec<f64> = (0..N_MELS + 2)
            .map(|i| to_hz(lo + (hi - lo) * i as f64 / (N_MELS + 1) as f64))
            .collect();
        let freqs: Vec<f64> = (0..N_BINS)
            .map(|k| 8000.0 * k as f64 / (N_BINS - 1) as f64)
            .collect();
        let filters = (0..N_MELS)
            .map(|m| {
                let (centre, band) = (hz[m + 1], hz[m + 1] - hz[m]);
                let all: Vec<f32> = freqs
                    .iter()
                    .map(|f| {
                        let slope = (f - centre) / band;
                        (1.0 - slope.abs()).max(0.0) as f32
                    })
                    .collect();
                let first = all.iter().position(|&w| w > 0.0).unwrap_or(0);
                let last = all.iter().rposition(|&w| w > 0.0).unwrap_or(0);
                Filter {
                    first,
                    weights: all[first..=last.max(first)].to_vec(),
                }
            })
            .collect();
        Self {
            window,
            filters,
            fft: RealFftPlanner::<f32>::new().plan_fft_forward(N_FFT),
        }
    }

    /// Number of frames [`Fbank::compute`] gives for `samples` samples.
    pub fn frames_for(samples: usize) -> usize {
        1 + samples / HOP
    }

    /// The normalised features of 16 kHz mono `audio`, band-major (what the network reads):
    /// band `m` of frame `t` at `m * frames + t`, with `frames = 1 + len / 160`.
    pub fn compute(&self, audio: &[f32]) -> Vec<f32> {
        let frames = Self::frames_for(audio.len());
        let mut input = self.fft.make_input_vec();
        let mut spectrum = self.fft.make_output_vec();
        let mut scratch = self.fft.make_scratch_vec();
        let mut power = vec![0f32; N_BINS];
        let mut out = vec![0f32; N_MELS * frames];
        let half = N_FFT / 2;
        let mut loudest = f32::NEG_INFINITY;
        for t in 0..frames {
            // Sample `i` of the frame is sample `t * HOP + i - half` of the audio (zero outside).
            let start = (t * HOP) as isize - half as isize;
            for (i, (x, w)) in input.iter_mut().zip(&self.window).enumerate() {
                let at = start + i as isize;
                *x = match usize::try_from(at).ok().and_then(|a| audio.get(a)) {
                    Some(s) => s * w,
                    None => 0.0,
                };
            }
            // The sizes come from the plan itself, so this cannot fail.
            if self
                .fft
                .process_with_scratch(&mut input, &mut spectrum, &mut scratch)
                .is_err()
            {
                spectrum.fill(Complex::new(0.0, 0.0));
            }
            for (p, c) in power.iter_mut().zip(&spectrum) {
                *p = c.re * c.re + c.im * c.im;
            }
            for (m, filter) in self.filters.iter().enumerate() {
                let energy: f32 = filter
                    .weights
                    .iter()
                    .zip(&power[filter.first..])
                    .map(|(w, p)| w * p)
                    .sum();
                let db = 10.0 * energy.max(AMIN).log10();
                loudest = loudest.max(db);
                out[m * frames + t] = db;
            }
        }
        let floor = loudest - TOP_DB;
        for band in out.chunks_exact_mut(frames) {
            band.iter_mut().for_each(|x| *x = x.max(floor));
            let mean = band.iter().map(|&x| f64::from(x)).sum::<f64>() / frames as f64;
            band.iter_mut().for_each(|x| *x -= mean as f32);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_are_speechbrains_symmetric_triangles() {
        let fb = Fbank::new();
        assert_eq!(fb.filters.len(), N_MELS);
        // The first centre is to_hz(to_mel(8000) / 81) = 22.12 Hz, its band the same: of the
        // bins (every 40 Hz) only bin 1 is inside, at 1 − (40 − 22.12) / 22.12.
        let f0 = &fb.filters[0];
        assert_eq!((f0.first, f0.weights.len()), (1, 1), "{f0:?}");
        assert!((f0.weights[0] - 0.1917).abs() < 1e-3, "{f0:?}");
        // Every filter peaks at most at 1 and is symmetric around its centre.
        for f in &fb.filters {
            assert!(f.weights.iter().all(|&w| w > 0.0 && w <= 1.0));
        }
        // The last filter ends before 8 kHz: centre hz[80], band hz[80] − hz[79].
        let last = &fb.filters[N_MELS - 1];
        assert!(last.first + last.weights.len() < N_BINS);
    }

    #[test]
    fn features_are_mean_free_per_band_and_floored_80_db_under_the_peak() {
        let fb = Fbank::new();
        let tone: Vec<f32> = (0..16_000)
            .map(|i| (2.0 * std::f32::consts::PI * 440.0 * i as f32 / 16_000.0).sin() * 0.5)
            .chain(std::iter::repeat_n(0.0, 8_000))
            .collect();
        let frames = Fbank::frames_for(tone.len());
        assert_eq!(frames, 151);
        let feats = fb.compute(&tone);
        assert_eq!(feats.len(), N_MELS * frames);
        for band in feats.chunks_exact(frames) {
            let mean: f32 = band.iter().sum::<f32>() / frames as f32;
            assert!(mean.abs() < 1e-3, "{mean}");
            let (lo, hi) = band
                .iter()
                .fold((f32::MAX, f32::MIN), |(a, b), &x| (a.min(x), b.max(x)));
            assert!(hi - lo <= TOP_DB + 1e-3, "{lo} {hi}");
        }
    }
}
