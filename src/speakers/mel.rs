//! The features the GE2E speaker encoder was trained on: Resemblyzer's
//! `audio.wav_to_mel_spectrogram`, i.e. `librosa.feature.melspectrogram(y, sr=16000, n_fft=400,
//! hop_length=160, n_mels=40)`, and its `normalize_volume(wav, -30 dBFS, increase_only=True)`.
//!
//! An encoder only recognises voices from exactly the features it learned on, so every librosa
//! default is reproduced: periodic Hann window of 400, centred frames padded with zeros
//! (`pad_mode="constant"`, librosa ≥ 0.10), power spectrum (not log), Slaney mel filters with
//! Slaney area normalisation from 0 Hz to 8 kHz (the filters are Whisper's, [`crate::stt::mel`],
//! at 40 bins). One frame per 160 samples plus one: `1 + len / 160` frames.
//! Checked against librosa 0.10.2: within 1e-4 relative (the test below holds its values).

use crate::stt::mel::{HOP, MelBank, N_FFT};

/// Mel bins of the encoder's input.
pub const N_MELS: usize = 40;

/// Resemblyzer's target loudness (`audio_norm_target_dBFS`).
const TARGET_DBFS: f32 = -30.0;

/// Computes power mel spectrograms; build once, reuse (holds the FFT plan and the filters).
pub struct PowerMel {
    bank: MelBank,
}

impl std::fmt::Debug for PowerMel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PowerMel").finish_non_exhaustive()
    }
}

impl Default for PowerMel {
    fn default() -> Self {
        Self::new()
    }
}

impl PowerMel {
    /// The extractor (periodic Hann, 40 Slaney filters).
    pub fn new() -> Self {
        Self {
            bank: MelBank::new(N_MELS),
        }
    }

    /// Number of frames [`PowerMel::compute`] gives for `samples` samples.
    pub fn frames_for(samples: usize) -> usize {
        1 + samples / HOP
    }

    /// The power mel spectrogram of 16 kHz mono `audio`, frame-major: frame `t`, bin `m` at
    /// `t * 40 + m`.
    pub fn compute(&self, audio: &[f32]) -> Vec<f32> {
        let n_frames = Self::frames_for(audio.len());
        let half = N_FFT / 2;
        let mut buf = self.bank.buffers();
        let mut out = vec![0f32; n_frames * N_MELS];
        for (frame, row) in out.chunks_exact_mut(N_MELS).enumerate() {
            // Sample `i` of the frame is sample `frame * HOP + i - half` of the audio; outside
            // the audio it is zero.
            let start = frame * HOP;
            let sample = |i: usize| {
                (start + i)
                    .checked_sub(half)
                    .and_then(|j| audio.get(j))
                    .copied()
                    .unwrap_or(0.0)
            };
            self.bank.energies(&mut buf, sample, row);
        }
        out
    }
}

/// Raises `audio` to -30 dBFS RMS (in 16-bit full scale, as Resemblyzer measures), never lowers
/// it; silence is left as it is.
pub fn normalize_volume(audio: &mut [f32]) {
    if audio.is_empty() {
        return;
    }
    let mean_square = audio
        .iter()
        .map(|&s| f64::from(s) * f64::from(s))
        .sum::<f64>()
        / audio.len() as f64;
    // Resemblyzer scales to int16 and back: the ratio rms / 32767 is the float RMS.
    let rms = mean_square.sqrt();
    if rms <= 0.0 {
        return;
    }
    let change_db = f64::from(TARGET_DBFS) - 20.0 * rms.log10();
    if change_db <= 0.0 {
        return;
    }
    let gain = 10f64.powf(change_db / 20.0) as f32;
    for s in audio {
        *s *= gain;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frame_count_and_tone_bin_match_librosa() {
        let mel = PowerMel::new();
        // librosa: 1 + 16000 // 160 = 101 frames for one second.
        let tone: Vec<f32> = (0..16_000)
            .map(|i| 0.5 * (2.0 * std::f32::consts::PI * 1000.0 * i as f32 / 16_000.0).sin())
            .collect();
        let out = mel.compute(&tone);
        assert_eq!(out.len(), 101 * N_MELS);
        let frame = &out[50 * N_MELS..51 * N_MELS];
        let loudest = (0..N_MELS)
            .max_by(|&a, &b| frame[a].total_cmp(&frame[b]))
            .unwrap();
        // librosa puts a 1 kHz tone's energy in bin 13 (centres 956 and 1030 Hz around it).
        assert_eq!(loudest, 13, "{frame:?}");
        // Power, not log: an amplitude half as large gives a quarter of the energy.
        let quiet: Vec<f32> = tone.iter().map(|s| s * 0.5).collect();
        let q = mel.compute(&quiet);
        let ratio = q[50 * N_MELS + 13] / out[50 * N_MELS + 13];
        assert!((ratio - 0.25).abs() < 1e-4, "{ratio}");
    }

    #[test]
    fn matches_librosa_including_the_zero_padded_edges() {
        // librosa 0.10.2 melspectrogram(y, sr=16000, n_fft=400, hop_length=160, n_mels=40) of
        // this chirp plus a modulated 2.5 kHz tone, 8123 samples: (frame, bin, value).
        let y: Vec<f32> = (0..8123)
            .map(|i| {
                let t = i as f64;
                let pi2 = 2.0 * std::f64::consts::PI;
                (0.3 * (pi2 * (150.0 + 0.02 * t) * t / 16000.0).sin()
                    + 0.1 * (pi2 * 2500.0 * t / 16000.0).sin() * (t / 700.0).cos())
                    as f32
            })
            .collect();
        let reference: [(usize, usize, f64); 8] = [
            (0, 0, 2.282_784_9),
            (0, 5, 0.009_396_915),
            (1, 2, 3.781_713_2),
            (20, 3, 12.443_851),
            (37, 4, 12.036_65),
            (37, 25, 0.165_000_78),
            (50, 0, 0.004_764_856_3),
            (50, 10, 0.004_101_536),
        ];
        let out = PowerMel::new().compute(&y);
        assert_eq!(out.len(), 51 * N_MELS);
        for (t, m, want) in reference {
            let got = f64::from(out[t * N_MELS + m]);
            assert!(
                ((got - want) / want).abs() < 1e-4,
                "frame {t} bin {m}: {got} vs librosa {want}"
            );
        }
    }

    #[test]
    fn volume_is_raised_to_minus_30_dbfs_but_never_lowered() {
        let mut quiet = vec![0.001f32, -0.001, 0.001, -0.001];
        normalize_volume(&mut quiet);
        let rms_db = 20.0 * (quiet[0].abs() as f64).log10();
        assert!((rms_db + 30.0).abs() < 1e-3, "{rms_db}");
        let mut loud = vec![0.5f32, -0.5];
        normalize_volume(&mut loud);
        assert_eq!(loud, vec![0.5, -0.5]);
        let mut silent = vec![0.0f32; 3];
        normalize_volume(&mut silent);
        assert_eq!(silent, vec![0.0; 3]);
    }
}
