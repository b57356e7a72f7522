//! The short-time Fourier transform Spleeter was trained on, and its inverse.
//!
//! Spleeter takes the magnitude of a periodic-Hann-windowed STFT of 44.1 kHz audio, frame 4096
//! and hop 1024 (75 % overlap), unnormalised. The mix runs at 48 kHz; instead of resampling twice,
//! the frame is scaled to the same duration: 4460 samples, hop 1115 (92.9 ms and 23.2 ms, bins
//! 10.76 Hz apart against Spleeter's 10.77 Hz), so the model's 1024 bins cover the same 0–11 kHz.
//! A Hann window at a hop of a quarter frame sums in square to 1.5 everywhere, so the same window
//! divided by 1.5 as the synthesis window rebuilds the input exactly (a mask of 1 gives the input
//! back sample for sample).

use std::sync::Arc;

use realfft::num_complex::Complex;
use realfft::{ComplexToReal, RealFftPlanner, RealToComplex};

/// Spleeter's own frame and hop at 44.1 kHz.
pub const SPLEETER_FRAME: usize = 4096;
pub const SPLEETER_HOP: usize = 1024;

/// Frame and hop at 48 kHz: Spleeter's, scaled by 48/44.1 (hop exactly a quarter frame).
pub const FRAME_48K: usize = 4460;
pub const HOP_48K: usize = FRAME_48K / 4;

/// A forward and inverse real FFT of one frame length, with Spleeter's window.
pub struct Stft {
    fft: Arc<dyn RealToComplex<f32>>,
    ifft: Arc<dyn ComplexToReal<f32>>,
    window: Vec<f32>,
    synthesis: Vec<f32>,
    frame: Vec<f32>,
    scratch: Vec<Complex<f32>>,
}

impl Stft {
    /// An STFT of frames of `n` samples (hop `n / 4`).
    pub fn new(n: usize) -> Self {
        let mut planner = RealFftPlanner::<f32>::new();
        let fft = planner.plan_fft_forward(n);
        let ifft = planner.plan_fft_inverse(n);
        // Periodic Hann, as tf.signal.hann_window(periodic=True).
        let window: Vec<f32> = (0..n)
            .map(|i| {
                let phase = 2.0 * std::f64::consts::PI * i as f64 / n as f64;
                (0.5 - 0.5 * phase.cos()) as f32
            })
            .collect();
        // Inverse FFT is unnormalised (× n); Σ w² over the four overlapping frames is 1.5.
        let synthesis = window.iter().map(|w| w / (1.5 * n as f32)).collect();
        let scratch = fft.make_scratch_vec();
        Self {
            frame: vec![0.0; n],
            scratch,
            fft,
            ifft,
            window,
            synthesis,
        }
    }

    /// Frame length.
    pub fn len(&self) -> usize {
        self.window.len()
    }

    /// Always false: a frame has samples.
    pub fn is_empty(&self) -> bool {
        self.window.is_empty()
    }

    /// Bins of a spectrum (`n / 2 + 1`).
    pub fn bins(&self) -> usize {
        self.window.len() / 2 + 1
    }

    /// The spectrum of `samples` (one frame, `n` samples) windowed, into `out` (`n / 2 + 1`).
    pub fn forward(&mut self, samples: impl Iterator<Item = f32>, out: &mut [Complex<f32>]) {
        for ((f, s), w) in self.frame.iter_mut().zip(samples).zip(&self.window) {
            *f = s * w;
        }
        // Lengths are the plan's own, so this cannot fail.
        let _ = self
            .fft
            .process_with_scratch(&mut self.frame, out, &mut self.scratch);
    }

    /// Adds the windowed inverse of `spectrum` to `out` (`n` samples); `spectrum` is used as
    /// scratch.
    pub fn inverse_add(&mut self, spectrum: &mut [Complex<f32>], out: &mut [f32]) {
        // The DC and Nyquist bins of a real signal's spectrum are real.
        spectrum[0].im = 0.0;
        if let Some(last) = spectrum.last_mut() {
            last.im = 0.0;
        }
        let _ = self
            .ifft
            .process_with_scratch(spectrum, &mut self.frame, &mut self.scratch);
        for ((o, f), w) in out.iter_mut().zip(&self.frame).zip(&self.synthesis) {
            *o += f * w;
        }
    }
}

/// Spleeter's model input for a stretch of 44.1 kHz stereo (interleaved): `[2][frames][1024]`
/// magnitudes of frames starting at `t × 1024` (the first at sample 0, none past the end), as
/// `tf.signal.stft` frames a signal. Used to check the port against the original model.
pub fn spleeter_magnitudes(stereo: &[f32], frames: usize) -> Vec<f32> {
    let mut stft = Stft::new(SPLEETER_FRAME);
    let bins = super::MODEL_BINS;
    let mut out = vec![0f32; 2 * frames * bins];
    let mut spectrum = vec![Complex::default(); stft.bins()];
    let total = stereo.len() / 2;
    for t in 0..frames {
        let start = t * SPLEETER_HOP;
        if start + SPLEETER_FRAME > total {
            break;
        }
        for c in 0..2 {
            let samples = (start..start + SPLEETER_FRAME).map(|i| stereo[2 * i + c]);
            stft.forward(samples, &mut spectrum);
            let row = &mut out[(c * frames + t) * bins..][..bins];
            for (m, s) in row.iter_mut().zip(&spectrum) {
                *m = s.norm();
            }
        }
    }
    out
}
