//! Time stretching for speech by WSOLA (waveform-similarity overlap-add), in the time domain.
//!
//! A phase vocoder (Signalsmith Stretch) costs a few milliseconds of CPU per second of audio,
//! which made stretching most of the cost of rendering a track. Speech between 0.8× and 1.5× is
//! the case WSOLA was made for (Sonic and SoundTouch use it): the output is built from 30 ms
//! Hann-windowed pieces of the input laid at a new spacing, each piece taken from wherever near
//! its ideal position its waveform best continues the previous one, so periods line up and pitch
//! is kept. The search for that position is what costs; it runs first on a 2 kHz copy of the
//! signal and is then refined at every lag around the best match, comparing every third
//! sample or so: about 0.4 ms of CPU per second of audio, a tenth of the phase vocoder.
//!
//! The output has exactly the requested length: output sample `t` is taken from near input
//! sample `t × speed`, and near the ends the search may only pick pieces that stay inside the
//! input, so neither end is faded or cut short.

/// Half a piece (the hop between pieces on the output), in milliseconds: pieces of 30 ms hold two
/// periods of even a low male voice, yet are short enough not to smear syllables.
const HOP_MS: f64 = 15.0;

/// How far (each way) from its ideal position a piece may be taken, in milliseconds: one period
/// of a 100 Hz voice, so a match in phase is always within reach.
const SEARCH_MS: f64 = 10.0;

/// Rate of the copy the coarse search runs on: enough for the pitch of speech (70–400 Hz).
const COARSE_RATE: f64 = 2000.0;

/// Rate at which the refining search compares samples (it tries every lag at full rate, but
/// reading every sample of each candidate would cost as much again as the rest together).
const FINE_RATE: f64 = 8000.0;

/// Stretches `samples` (mono, at `rate` Hz) to exactly `len` samples by WSOLA, keeping pitch.
///
/// Returns `None` when the input or output is too short for a piece (under about 30 ms), where
/// the caller falls back to something simpler.
pub(crate) fn wsola_to_len(samples: &[f32], rate: u32, len: usize) -> Option<Vec<f32>> {
    let n = samples.len();
    let hop = ((f64::from(rate) * HOP_MS / 1000.0).round() as usize).max(8);
    if n < 2 * hop || len < 2 * hop {
        return None;
    }
    let search = ((f64::from(rate) * SEARCH_MS / 1000.0).round() as usize).max(1);
    let decim = ((f64::from(rate) / COARSE_RATE).round() as usize).clamp(1, 32);
    let stride = ((f64::from(rate) / FINE_RATE).round() as usize).clamp(1, 8);
    let speed = n as f64 / len as f64;
    let window: Vec<f32> = (0..2 * hop)
        .map(|i| (0.5 - 0.5 * (std::f64::consts::PI * i as f64 / hop as f64).cos()) as f32)
        .collect();

    // The input with silence on both sides, so pieces that overhang an end read zeros; every
    // index below is into this padded copy.
    let margin = hop + search + decim;
    let mut x = vec![0.0f32; n + 2 * margin];
    x[margin..margin + n].copy_from_slice(samples);
    let coarse = Coarse::new(&x, decim);

    let mut out = vec![0.0f32; len];
    // Start (in `x`) of the previous piece; pieces are 2·hop long and centred on the output hop
    // grid, piece k covering output [k·hop − hop, k·hop + hop).
    let mut prev_start: Option<usize> = None;
    let frames = len.div_ceil(hop) + 1;
    for k in 0..frames {
        let centre_out = k * hop;
        let ideal = margin as f64 + centre_out as f64 * speed - hop as f64;
        let ideal = ideal.round() as i64;
        // Keep every output sample this piece writes inside the input: its first sample in the
        // track (output ≥ 0) must map at or after the input's start, its last (output < len)
        // at or before the input's end, so the edges are never faded by padding.
        let first_out = centre_out.saturating_sub(hop);
        let last_out = (centre_out + hop).min(len) - 1;
        let off_first = (first_out + hop - centre_out) as i64;
        let off_last = (last_out + hop - centre_out) as i64;
        let lo_in = margin as i64 - off_first;
        let hi_in = (margin + n - 1) as i64 - off_last;
        let lo = (ideal - search as i64).max(lo_in);
        let hi = (ideal + search as i64).min(hi_in);
        let start = match prev_start {
            // The first piece is taken where it belongs; later ones where they continue best.
            None => ideal.clamp(lo_in.min(hi_in), hi_in.max(lo_in)),
            Some(_) if lo > hi => ideal.clamp(lo_in.min(hi_in), hi_in.max(lo_in)),
            Some(prev) => best_match(&x, &coarse, stride, prev + hop, hop, lo, hi),
        };
        let start = start.clamp(0, (x.len() - 2 * hop) as i64) as usize;
        // Overlap-add the part of the piece that falls on the output.
        let skip = hop.saturating_sub(centre_out);
        let first = centre_out + skip - hop;
        let count = (2 * hop - skip).min(len - first);
        let piece = &x[start + skip..start + skip + count];
        for ((o, s), w) in out[first..first + count]
            .iter_mut()
            .zip(piece)
            .zip(&window[skip..])
        {
            *o += s * w;
        }
        prev_start = Some(start);
    }
    Some(out)
}

/// The input decimated by averaging blocks of `decim` samples, with running sums of its squares
/// so the energy of any stretch is two lookups.
struct Coarse {
    decim: usize,
    samples: Vec<f32>,
    energy_prefix: Vec<f64>,
}

impl Coarse {
    fn new(x: &[f32], decim: usize) -> Self {
        let samples: Vec<f32> = x
            .chunks_exact(decim)
            .map(|c| c.iter().sum::<f32>() / decim as f32)
            .collect();
        let mut energy_prefix = Vec::with_capacity(samples.len() + 1);
        let mut acc = 0.0f64;
        energy_prefix.push(acc);
        for s in &samples {
            acc += f64::from(*s) * f64::from(*s);
            energy_prefix.push(acc);
        }
        Self {
            decim,
            samples,
            energy_prefix,
        }
    }
}

/// The start in `lo..=hi` whose first `hop` samples best match `x[target..target + hop]` (the
/// natural continuation of the previous piece), by normalised cross-correlation: coarsely on the
/// decimated copy, then sample by sample around the coarse winner.
fn best_match(
    x: &[f32],
    coarse: &Coarse,
    stride: usize,
    target: usize,
    hop: usize,
    lo: i64,
    hi: i64,
) -> i64 {
    let d = coarse.decim;
    let m = hop / d;
    let tc = target / d;
    let mut best = lo + (hi - lo) / 2;
    if m >= 4 && tc + m <= coarse.samples.len() {
        let tgt = &coarse.samples[tc..tc + m];
        let mut best_score = f64::NEG_INFINITY;
        let (clo, chi) = ((lo.max(0) as usize).div_ceil(d), hi.max(0) as usize / d);
        for c in clo..=chi {
            if c + m > coarse.samples.len() {
                break;
            }
            let dot = dot(tgt, &coarse.samples[c..c + m]);
            let energy = coarse.energy_prefix[c + m] - coarse.energy_prefix[c];
            let score = f64::from(dot) / (energy.sqrt() + 1e-9);
            if score > best_score {
                best_score = score;
                best = (c * d) as i64;
            }
        }
    }
    // The coarse copy compared block `target / d`, so its winner is off by the target's place in
    // its block; it also only knows positions to within `d` samples, and a few samples of
    // misalignment already cancel the upper harmonics where pieces overlap. Refine at every lag
    // around it, reading every `stride`-th sample.
    let best_coarse = best + (target % d) as i64;
    let reach = (d / 2 + 1) as i64;
    let (flo, fhi) = ((best_coarse - reach).max(lo), (best_coarse + reach).min(hi));
    if flo > fhi {
        return best.clamp(lo, hi);
    }
    let mut best_score = f64::NEG_INFINITY;
    for c in flo..=fhi {
        let c = c as usize;
        let (tgt, cand) = (&x[target..target + hop], &x[c..c + hop]);
        let (mut dot, mut energy) = ([0.0f32; 4], [0.0f32; 4]);
        let mut i = 0;
        while i + 3 * stride < hop {
            for lane in 0..4 {
                let k = i + lane * stride;
                dot[lane] += tgt[k] * cand[k];
                energy[lane] += cand[k] * cand[k];
            }
            i += 4 * stride;
        }
        let (dot, energy): (f32, f32) = (dot.iter().sum(), energy.iter().sum());
        let score = f64::from(dot) / (f64::from(energy).sqrt() + 1e-9);
        if score > best_score {
            best_score = score;
            best = c as i64;
        }
    }
    best
}

/// Dot product in eight independent lanes, so the compiler can vectorise it.
fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut lanes = [0.0f32; 8];
    let (ac, bc) = (a.chunks_exact(8), b.chunks_exact(8));
    let (ar, br) = (ac.remainder(), bc.remainder());
    for (x, y) in ac.zip(bc) {
        for i in 0..8 {
            lanes[i] += x[i] * y[i];
        }
    }
    let tail: f32 = ar.iter().zip(br).map(|(x, y)| x * y).sum();
    lanes.iter().sum::<f32>() + tail
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_length_and_unity_gain_on_a_tone() {
        let rate = 16000;
        let x: Vec<f32> = (0..rate)
            .map(|i| (2.0 * std::f32::consts::PI * 200.0 * i as f32 / rate as f32).sin() * 0.5)
            .collect();
        for len in [12800usize, 13333, 16001, 20000] {
            let y = wsola_to_len(&x, rate, len).unwrap();
            assert_eq!(y.len(), len);
            let peak = y[len / 4..len * 3 / 4]
                .iter()
                .fold(0f32, |m, s| m.max(s.abs()));
            assert!((peak - 0.5).abs() < 0.02, "len {len}: peak {peak}");
        }
        assert!(wsola_to_len(&x[..100], rate, 80).is_none());
    }
}
