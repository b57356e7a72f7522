//! Where something happens on the track, as a 0..1 amount per sample with raised-cosine ramps:
//! where the background is ducked (under every line, original and dub) and where the original
//! voice is taken out (the original lines' windows). Known in advance from the subtitles and the
//! plan, so the ramps lead into a window instead of chasing it.

/// Sorted `[start, end)` sample ranges, with ramps of `attack` samples before each and `release`
/// after.
#[derive(Debug, Clone, Default)]
pub struct Gate {
    intervals: Vec<(u64, u64)>,
    attack: u64,
    release: u64,
}

impl Gate {
    /// The gate over `intervals` (any order; empty ones dropped, overlapping ones merged, which
    /// changes nothing of the amount and keeps ends sorted too).
    pub fn new(mut intervals: Vec<(u64, u64)>, attack: u64, release: u64) -> Self {
        intervals.retain(|(s, e)| e > s);
        intervals.sort_unstable();
        let mut merged: Vec<(u64, u64)> = Vec::with_capacity(intervals.len());
        for (s, e) in intervals {
            match merged.last_mut() {
                Some(last) if s <= last.1 => last.1 = last.1.max(e),
                _ => merged.push((s, e)),
            }
        }
        Self {
            intervals: merged,
            attack,
            release,
        }
    }

    /// True when the gate is 0 everywhere.
    pub fn is_empty(&self) -> bool {
        self.intervals.is_empty()
    }

    /// The intervals, sorted and disjoint.
    pub fn intervals(&self) -> &[(u64, u64)] {
        &self.intervals
    }

    /// Fills `out[i]` with the amount at sample `offset + i`: 1 inside an interval, 0 beyond the
    /// ramps, raised-cosine between; the largest where ramps of neighbours overlap.
    pub fn fill(&self, offset: u64, out: &mut [f32]) {
        // First interval whose release still reaches `offset`.
        let mut j = self
            .intervals
            .partition_point(|&(_, e)| e + self.release <= offset);
        for (i, o) in out.iter_mut().enumerate() {
            let t = offset + i as u64;
            while j < self.intervals.len() && self.intervals[j].1 + self.release <= t {
                j += 1;
            }
            let mut amount = 0f32;
            for &(s, e) in &self.intervals[j..] {
                if s >= t + self.attack {
                    break;
                }
                amount = amount.max(self.amount(t, s, e));
            }
            *o = amount;
        }
    }

    fn amount(&self, t: u64, start: u64, end: u64) -> f32 {
        let ramp = |x: f32| 0.5 - 0.5 * (std::f32::consts::PI * x.clamp(0.0, 1.0)).cos();
        if t >= start && t < end {
            1.0
        } else if t < start {
            ramp(1.0 - (start - t) as f32 / self.attack.max(1) as f32)
        } else {
            ramp(1.0 - (t + 1 - end) as f32 / self.release.max(1) as f32)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ones_inside_ramps_outside_zero_beyond_in_any_blocks() {
        let g = Gate::new(vec![(100, 200), (150, 260), (400, 401), (0, 0)], 20, 40);
        assert_eq!(g.intervals(), &[(100, 260), (400, 401)]);
        let mut whole = vec![0f32; 600];
        g.fill(0, &mut whole);
        assert_eq!(whole[79], 0.0);
        assert!(whole[81] > 0.0 && whole[90] < 1.0);
        assert!(whole[100..260].iter().all(|&a| a == 1.0));
        assert!(whole[261] > 0.9 && whole[290] > 0.0 && whole[290] < 0.6);
        assert_eq!(whole[299], 0.0);
        assert_eq!(whole[400], 1.0);
        assert_eq!(whole[500], 0.0);
        // Ramps rise and fall monotonically.
        assert!(whole[80..100].windows(2).all(|w| w[0] <= w[1]));
        assert!(whole[260..300].windows(2).all(|w| w[0] >= w[1]));
        let mut blocks = vec![0f32; 600];
        for (k, b) in blocks.chunks_mut(37).enumerate() {
            g.fill(k as u64 * 37, b);
        }
        assert_eq!(whole, blocks);
        assert!(Gate::new(vec![], 1, 1).is_empty());
    }
}
