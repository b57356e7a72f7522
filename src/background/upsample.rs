//! The dub (rendered at the timeline's 24 kHz) raised to the mix's 48 kHz, streaming.
//!
//! The ratio is exactly two, so a half-band interpolator does it: every input sample is kept and
//! one sample is interpolated between each pair by a windowed sinc. That is exact in length (two
//! out for one in, no resampler delay to trim), needs no state but a few dozen samples, and keeps
//! the dub's band (to ~10.5 kHz) flat.

use std::f64::consts::PI;

/// Input samples on each side of an interpolated one.
const HALF: usize = 24;

/// A streaming 2× interpolator.
pub struct Upsample2 {
    taps: [f32; HALF],
    /// Input not yet fully used: `HALF` samples of history, then what is waiting for lookahead.
    buf: Vec<f32>,
}

impl Default for Upsample2 {
    fn default() -> Self {
        Self::new()
    }
}

impl Upsample2 {
    pub fn new() -> Self {
        let mut taps = [0f32; HALF];
        let mut sum = 0.0;
        for (k, tap) in taps.iter_mut().enumerate() {
            let t = k as f64 + 0.5;
            let sinc = (PI * t).sin() / (PI * t);
            // Blackman window over (−HALF, HALF).
            let x = (t + HALF as f64) / (2.0 * HALF as f64);
            let w = 0.42 - 0.5 * (2.0 * PI * x).cos() + 0.08 * (4.0 * PI * x).cos();
            *tap = (sinc * w) as f32;
            sum += 2.0 * sinc * w;
        }
        // Unity gain at DC.
        for tap in &mut taps {
            *tap = (f64::from(*tap) / sum) as f32;
        }
        Self {
            taps,
            buf: vec![0.0; HALF],
        }
    }

    /// Appends to `out` two samples for every input sample whose lookahead has arrived.
    pub fn push(&mut self, input: &[f32], out: &mut Vec<f32>) {
        self.buf.extend_from_slice(input);
        // buf[HALF + i] is the i-th pending input; it needs HALF samples after it.
        let ready = self.buf.len().saturating_sub(2 * HALF);
        for i in 0..ready {
            let n = HALF + i;
            out.push(self.buf[n]);
            let mut v = 0f32;
            for (k, &h) in self.taps.iter().enumerate() {
                v += h * (self.buf[n - k] + self.buf[n + 1 + k]);
            }
            out.push(v);
        }
        self.buf.drain(..ready);
    }

    /// Appends the samples still held back (the input after them taken as silence).
    pub fn finish(&mut self, out: &mut Vec<f32>) {
        let pending = self.buf.len() - HALF;
        let start = out.len();
        self.push(&[0.0; HALF], out);
        out.truncate(start + 2 * pending);
        self.buf.truncate(HALF);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn up(input: &[f32], block: usize) -> Vec<f32> {
        let mut u = Upsample2::new();
        let mut out = Vec::new();
        for b in input.chunks(block) {
            u.push(b, &mut out);
        }
        u.finish(&mut out);
        out
    }

    #[test]
    fn twice_the_length_in_any_blocks_and_a_tone_stays_a_tone() {
        let rate = 24_000.0;
        let tone: Vec<f32> = (0..4801)
            .map(|i| (2.0 * std::f32::consts::PI * 1000.0 * i as f32 / rate).sin() * 0.5)
            .collect();
        let a = up(&tone, 4801);
        assert_eq!(a.len(), 9602);
        assert_eq!(a, up(&tone, 7));
        // Away from the edges, the odd samples are the tone between the input samples.
        let mut worst = 0f32;
        for (j, &got) in a.iter().enumerate().take(9400).skip(200) {
            let want = (2.0 * std::f32::consts::PI * 1000.0 * j as f32 / (2.0 * rate)).sin() * 0.5;
            worst = worst.max((got - want).abs());
        }
        assert!(worst < 1e-3, "{worst}");
        assert!(up(&[], 5).is_empty());
    }
}
