//! The standard Whisper log-mel spectrogram (80 bins, n_fft 400, hop 160, 16 kHz).
//!
//! Whisper models only transcribe well when fed exactly the features they were trained on
//! (OpenAI's `log_mel_spectrogram`): a periodic Hann window, centred frames with reflect padding,
//! power spectrum, Slaney-normalised mel filters, log10 clamped to 8 below the maximum, then
//! `(x + 4) / 4`. ct2rs's own feature code differs and costs accuracy, hence this module.

use std::sync::Arc;

use realfft::{RealFftPlanner, RealToComplex};

/// Sample rate Whisper expects.
pub const SAMPLE_RATE: usize = 16_000;
/// FFT length (25 ms).
pub const N_FFT: usize = 400;
/// Hop between frames (10 ms).
pub const HOP: usize = 160;
/// Frames in one 30 s window.
pub const FRAMES_PER_WINDOW: usize = 3000;
/// Samples in one 30 s window.
pub const SAMPLES_PER_WINDOW: usize = FRAMES_PER_WINDOW * HOP;

/// A log-mel spectrogram, row-major `[n_mels][n_frames]`.
#[derive(Debug, Clone)]
pub struct LogMel {
    /// Number of mel bins (rows).
    pub n_mels: usize,
    /// Number of frames (columns).
    pub n_frames: usize,
    /// The values, `n_mels * n_frames`.
    pub data: Vec<f32>,
}

impl LogMel {
    /// Copies frames `start..start + len` into a `[n_mels][FRAMES_PER_WINDOW]` buffer, padding with
    /// zeros after `len` frames (as Whisper's `pad_or_trim` does).
    pub fn window(&self, start: usize, len: usize) -> Vec<f32> {
        let mut out = vec![0.0; self.n_mels * FRAMES_PER_WINDOW];
        let start = start.min(self.n_frames);
        let len = len.min(FRAMES_PER_WINDOW).min(self.n_frames - start);
        for (mel, row) in out.chunks_exact_mut(FRAMES_PER_WINDOW).enumerate() {
            let from = mel * self.n_frames + start;
            row[..len].copy_from_slice(&self.data[from..from + len]);
        }
        out
    }
}

/// One triangular mel filter: its first FFT bin and its weights from there.
#[derive(Debug, Clone)]
struct MelFilter {
    /// First FFT bin the filter covers.
    first_bin: usize,
    /// Weights of the bins from `first_bin` on.
    weights: Vec<f32>,
}

/// Mel energies of one 400-sample frame at a time: the periodic Hann window (as
/// `torch.hann_window(400)` and librosa give), the FFT plan and the Slaney filters. Shared by the
/// Whisper features here and the speaker encoder's ([`crate::speakers::mel`]), which differ only
/// in how frames are padded at the ends and what is done with the energies.
pub(crate) struct MelBank {
    window: Vec<f32>,
    filters: Vec<MelFilter>,
    fft: Arc<dyn RealToComplex<f32>>,
}

/// The buffers one thread reuses from frame to frame.
pub(crate) struct FrameBuffers {
    input: Vec<f32>,
    spectrum: Vec<realfft::num_complex::Complex<f32>>,
    scratch: Vec<realfft::num_complex::Complex<f32>>,
    power: Vec<f32>,
}

impl MelBank {
    pub(crate) fn new(n_mels: usize) -> Self {
        let window = (0..N_FFT)
            .map(|n| {
                let x = 2.0 * std::f64::consts::PI * n as f64 / N_FFT as f64;
                (0.5 - 0.5 * x.cos()) as f32
            })
            .collect();
        Self {
            window,
            filters: slaney_mel_filters(n_mels),
            fft: RealFftPlanner::<f32>::new().plan_fft_forward(N_FFT),
        }
    }

    pub(crate) fn n_mels(&self) -> usize {
        self.filters.len()
    }

    pub(crate) fn buffers(&self) -> FrameBuffers {
        FrameBuffers {
            input: self.fft.make_input_vec(),
            spectrum: self.fft.make_output_vec(),
            scratch: self.fft.make_scratch_vec(),
            power: vec![0f32; N_FFT / 2 + 1],
        }
    }

    /// The mel energies (power, not log) of the frame whose sample `i` is `sample(i)`, into
    /// `out` (one value per bin).
    pub(crate) fn energies(
        &self,
        buf: &mut FrameBuffers,
        sample: impl Fn(usize) -> f32,
        out: &mut [f32],
    ) {
        for (i, slot) in buf.input.iter_mut().enumerate() {
            *slot = sample(i) * self.window[i];
        }
        // Lengths are fixed by construction, so the transform cannot fail.
        if self
            .fft
            .process_with_scratch(&mut buf.input, &mut buf.spectrum, &mut buf.scratch)
            .is_err()
        {
            out.fill(0.0);
            return;
        }
        for (p, c) in buf.power.iter_mut().zip(&buf.spectrum) {
            *p = c.norm_sqr();
        }
        for (slot, filter) in out.iter_mut().zip(&self.filters) {
            let bins = &buf.power[filter.first_bin..filter.first_bin + filter.weights.len()];
            *slot = bins.iter().zip(&filter.weights).map(|(p, w)| p * w).sum();
        }
    }
}

/// Computes Whisper log-mel spectrograms; build once, reuse (holds the FFT plan and filters).
pub struct MelExtractor {
    bank: MelBank,
}

impl std::fmt::Debug for MelExtractor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MelExtractor")
            .field("n_mels", &self.n_mels())
            .finish_non_exhaustive()
    }
}

impl MelExtractor {
    /// An extractor for `n_mels` bins (80 for most Whisper models, 128 for large-v3).
    pub fn new(n_mels: usize) -> Self {
        Self {
            bank: MelBank::new(n_mels),
        }
    }

    /// Number of mel bins.
    pub fn n_mels(&self) -> usize {
        self.bank.n_mels()
    }

    /// The log-mel spectrogram of 16 kHz mono `audio`, followed by `pad_samples` of silence
    /// (Whisper pads 30 s so the last window has context). One frame per 160 samples.
    pub fn compute(&self, audio: &[f32], pad_samples: usize) -> LogMel {
        let n_mels = self.n_mels();
        let len = audio.len() + pad_samples;
        let n_frames = len / HOP;
        let sample = |i: usize| audio.get(i).copied().unwrap_or(0.0);
        // Centred frames: index j of the padded signal maps back by reflection at both ends.
        let reflect = |j: isize| -> usize {
            let n = len as isize;
            let k = if j < 0 {
                -j
            } else if j >= n {
                2 * n - 2 - j
            } else {
                j
            };
            k.clamp(0, n.max(1) - 1) as usize
        };
        let half = (N_FFT / 2) as isize;
        let mut buf = self.bank.buffers();
        let mut energies = vec![0f32; n_mels];
        let mut data = vec![0f32; n_mels * n_frames];
        for frame in 0..n_frames {
            let start = (frame * HOP) as isize - half;
            self.bank.energies(
                &mut buf,
                |i| sample(reflect(start + i as isize)),
                &mut energies,
            );
            for (mel, energy) in energies.iter().enumerate() {
                data[mel * n_frames + frame] = energy.max(1e-10).log10();
            }
        }
        let max = data.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        for v in &mut data {
            *v = ((*v).max(max - 8.0) + 4.0) / 4.0;
        }
        LogMel {
            n_mels,
            n_frames,
            data,
        }
    }
}

/// Slaney mel scale (librosa's default): linear below 1 kHz, logarithmic above.
fn hz_to_mel(hz: f64) -> f64 {
    let f_sp = 200.0 / 3.0;
    if hz < 1000.0 {
        hz / f_sp
    } else {
        1000.0 / f_sp + (hz / 1000.0).ln() / (6.4f64.ln() / 27.0)
    }
}

fn mel_to_hz(mel: f64) -> f64 {
    let f_sp = 200.0 / 3.0;
    let min_log_mel = 1000.0 / f_sp;
    if mel < min_log_mel {
        mel * f_sp
    } else {
        1000.0 * ((6.4f64.ln() / 27.0) * (mel - min_log_mel)).exp()
    }
}

/// `librosa.filters.mel(sr=16000, n_fft=400, n_mels, norm="slaney")`, stored sparsely (also the
/// speaker encoder's, through [`MelBank`]).
fn slaney_mel_filters(n_mels: usize) -> Vec<MelFilter> {
    let n_bins = N_FFT / 2 + 1;
    let fft_hz: Vec<f64> = (0..n_bins)
        .map(|k| k as f64 * SAMPLE_RATE as f64 / N_FFT as f64)
        .collect();
    let (mel_min, mel_max) = (hz_to_mel(0.0), hz_to_mel(SAMPLE_RATE as f64 / 2.0));
    let points: Vec<f64> = (0..n_mels + 2)
        .map(|i| mel_to_hz(mel_min + (mel_max - mel_min) * i as f64 / (n_mels + 1) as f64))
        .collect();
    (0..n_mels)
        .map(|m| {
            let (lo, centre, hi) = (points[m], points[m + 1], points[m + 2]);
            let norm = 2.0 / (hi - lo);
            let dense: Vec<f32> = fft_hz
                .iter()
                .map(|&f| {
                    let rising = (f - lo) / (centre - lo);
                    let falling = (hi - f) / (hi - centre);
                    (rising.min(falling).max(0.0) * norm) as f32
                })
                .collect();
            let first = dense.iter().position(|&w| w > 0.0).unwrap_or(0);
            let last = dense.iter().rposition(|&w| w > 0.0).unwrap_or(first);
            MelFilter {
                first_bin: first,
                weights: dense[first..=last].to_vec(),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_match_librosa_slaney() {
        let filters = slaney_mel_filters(80);
        assert_eq!(filters.len(), 80);
        // Whisper's mel_filters.npz (librosa, sr 16000, n_fft 400, 80 mels): the first filter
        // spans 0–74.5 Hz, so only bin 1 (40 Hz) is non-zero, with weight 0.02486.
        assert_eq!(filters[0].first_bin, 1);
        assert_eq!(filters[0].weights.len(), 1);
        assert!(
            (filters[0].weights[0] - 0.024_86).abs() < 0.000_1,
            "{:?}",
            filters[0]
        );
        // The last filter ends at the top bin (8 kHz) or just below it.
        let last = &filters[79];
        assert!(last.first_bin + last.weights.len() <= 201);
        assert!(last.first_bin + last.weights.len() >= 195);
    }

    #[test]
    fn tone_energy_lands_in_the_right_mel_bin() {
        let extractor = MelExtractor::new(80);
        let tone: Vec<f32> = (0..SAMPLE_RATE)
            .map(|i| (2.0 * std::f32::consts::PI * 1000.0 * i as f32 / 16000.0).sin() * 0.5)
            .collect();
        let mel = extractor.compute(&tone, 0);
        assert_eq!(mel.n_frames, 100);
        // In a middle frame, the loudest bin is the one whose filter holds 1 kHz (bin 25).
        let frame = 50;
        let column: Vec<f32> = (0..80).map(|m| mel.data[m * 100 + frame]).collect();
        let loudest = (0..80)
            .max_by(|&a, &b| column[a].total_cmp(&column[b]))
            .unwrap();
        let f = &extractor.bank.filters[loudest];
        assert!(
            f.first_bin <= 25 && 25 < f.first_bin + f.weights.len(),
            "{loudest}"
        );
        // Normalisation: max maps to (max + 4) / 4 and nothing is below it minus 2.
        let top = mel.data.iter().copied().fold(f32::MIN, f32::max);
        let bottom = mel.data.iter().copied().fold(f32::MAX, f32::min);
        assert!((top - bottom - 2.0).abs() < 1e-4, "{top} {bottom}");
    }

    #[test]
    fn window_pads_with_zeros() {
        let mel = LogMel {
            n_mels: 2,
            n_frames: 5,
            data: vec![1., 2., 3., 4., 5., 6., 7., 8., 9., 10.],
        };
        let w = mel.window(3, 3000);
        assert_eq!(w.len(), 6000);
        assert_eq!(&w[..3], &[4., 5., 0.]);
        assert_eq!(&w[3000..3003], &[9., 10., 0.]);
    }
}
