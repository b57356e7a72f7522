//! The middle steps of the plan: lines grouped into blocks (runs fitted at one speed; only block
//! mode groups lines), and each block's speed and its lines' starts found. Pure arithmetic on
//! whole samples, as the plan.
//!
//! Why separate from `plan`: these are the search (how fast must a block play to end in time, how
//! slow may it play to fill its window); `plan` is the order of the steps and what they record.

use std::ops::Range;

use super::policy::{FitMode, Mode, Policy};

/// Sample arithmetic of one plan: the rate and the policy's spacings in samples.
pub(super) struct Units {
    pub rate: u32,
    /// Allowed deviation from a window.
    pub tol: u64,
    /// The gap between blocks (and between lines outside block mode).
    pub gap: u64,
    /// The separation of lines inside a block: the breath pad in block mode, else the gap.
    pub pad: u64,
}

impl Units {
    pub fn new(rate: u32, policy: &Policy) -> Self {
        let samples = |ms: u64| super::ms_to_samples(ms, rate);
        let gap = samples(policy.min_gap_ms);
        Self {
            rate,
            tol: samples(policy.tolerance_ms),
            gap,
            pad: match policy.mode {
                Mode::Block => samples(policy.breath_pad_ms),
                _ => gap,
            },
        }
    }

    /// `ms` milliseconds in samples.
    pub fn samples(&self, ms: u64) -> u64 {
        super::ms_to_samples(ms, self.rate)
    }

    /// `samples` in seconds.
    pub fn secs(&self, samples: u64) -> f64 {
        samples as f64 / f64::from(self.rate)
    }
}

/// A line to place: a chunk with text and a non-empty clip.
pub(super) struct Line {
    pub index: usize,
    pub anchor: u64,
    pub span_end: u64,
    pub natural: u64,
}

/// Where each line (in start order) plays, and how fast.
pub(super) struct Fitted {
    pub starts: Vec<u64>,
    pub played: Vec<u64>,
    pub speeds: Vec<f64>,
    /// The line's block is at the maximum speed and still does not end in time.
    pub at_cap: Vec<bool>,
}

/// Runs of `lines` (sorted by start) fitted together: in block mode a line joins the previous
/// one's block unless a long pause or a scene cut lies between them; otherwise each line alone.
pub(super) fn group(lines: &[Line], policy: &Policy, units: &Units) -> Vec<Range<usize>> {
    let mut blocks: Vec<Range<usize>> = Vec::new();
    let block_pause = units.samples(policy.block_pause_ms);
    for i in 0..lines.len() {
        let joins = policy.mode == Mode::Block
            && i > 0
            && lines[i].anchor < lines[i - 1].span_end.saturating_add(block_pause)
            && !policy.scene_cuts_ms.iter().any(|&cut| {
                (lines[i - 1].anchor + 1..=lines[i].anchor).contains(&units.samples(cut))
            });
        match blocks.last_mut() {
            Some(b) if joins => b.end = i + 1,
            _ => blocks.push(i..i + 1),
        }
    }
    blocks
}

/// Each block at the speed that ends it in time (never beyond `max_speed`), or slower to fill its
/// window where the policy allows, its lines laid out one after another from where the previous
/// block ended.
pub(super) fn fit(
    lines: &[Line],
    blocks: &[Range<usize>],
    track_len: u64,
    policy: &Policy,
    units: &Units,
) -> Fitted {
    let (gap, pad, tol) = (units.gap, units.pad, units.tol);
    let mut fitted = Fitted {
        starts: vec![0u64; lines.len()],
        played: vec![0u64; lines.len()],
        speeds: vec![1.0f64; lines.len()],
        at_cap: vec![false; lines.len()],
    };
    let mut earliest = 0u64; // where the next line may start: previous end + gap
    for (k, block) in blocks.iter().enumerate() {
        let members = &lines[block.clone()];
        let span_end = members.iter().map(|l| l.span_end).max().unwrap_or(0);
        // The block may run until the next utterance (keeping a gap) or the video's end.
        let limit = match blocks.get(k + 1) {
            Some(next) => lines[next.start].anchor.saturating_sub(gap).min(track_len),
            None => track_len,
        };
        let end_at = |speed: f64| layout(members, earliest, pad, speed, policy, None);
        let natural_end = end_at(1.0);
        let slow_ok = policy.fit_mode == FitMode::StretchBoth || policy.mode == Mode::Block;
        let room = if policy.strict_timing {
            span_end.saturating_sub(tol)
        } else {
            span_end
        };
        let (speed, capped) = if policy.strict_timing && natural_end > span_end + tol {
            fastest_needed(&end_at, span_end.min(limit), policy.max_speed)
        } else if natural_end > limit {
            fastest_needed(&end_at, limit, policy.max_speed)
        } else if slow_ok && natural_end < room && policy.min_speed < 1.0 {
            (slowest_fitting(&end_at, span_end, policy.min_speed), false)
        } else {
            (1.0, false)
        };
        let mut out = Vec::with_capacity(members.len());
        earliest = layout(members, earliest, pad, speed, policy, Some(&mut out)) + gap;
        for (j, (s, p)) in out.into_iter().enumerate() {
            let i = block.start + j;
            fitted.starts[i] = s;
            fitted.played[i] = p;
            fitted.speeds[i] = lines[i].natural as f64 / p as f64;
            fitted.at_cap[i] = capped;
        }
    }
    fitted
}

/// Lays a block out at `speed`: each line starts at its anchor or after the previous one (plus
/// `pad`), whichever is later. Returns the end of the last line; `out` receives (start, played).
fn layout(
    members: &[Line],
    earliest: u64,
    pad: u64,
    speed: f64,
    policy: &Policy,
    mut out: Option<&mut Vec<(u64, u64)>>,
) -> u64 {
    let mut cursor = earliest;
    let mut end = earliest;
    for line in members {
        let start = line.anchor.max(cursor);
        let played = played_len(line.natural, speed, policy);
        end = start + played;
        cursor = end + pad;
        if let Some(out) = out.as_deref_mut() {
            out.push((start, played));
        }
    }
    end
}

/// Length on the track of `natural` samples at `speed`, rounded so that the real speed
/// (`natural / played`) stays within `[min_speed, max_speed]`.
fn played_len(natural: u64, speed: f64, policy: &Policy) -> u64 {
    if speed == 1.0 {
        return natural;
    }
    let mut played = ((natural as f64 / speed).ceil() as u64).max(1);
    while natural as f64 / played as f64 > policy.max_speed {
        played += 1;
    }
    while played > 1 && (natural as f64 / played as f64) < policy.min_speed {
        played -= 1;
    }
    played
}

/// The smallest speed in `[1, max]` at which the block ends by `target`; `max` (and `true`) when
/// even that is not enough.
fn fastest_needed(end_at: &dyn Fn(f64) -> u64, target: u64, max: f64) -> (f64, bool) {
    if end_at(max) > target {
        return (max, true);
    }
    let (mut lo, mut hi) = (1.0, max);
    for _ in 0..48 {
        let mid = 0.5 * (lo + hi);
        if end_at(mid) <= target {
            hi = mid
        } else {
            lo = mid
        }
    }
    (hi, false)
}

/// The smallest speed in `[min, 1]` at which the block still ends by `target` (slowest fill).
fn slowest_fitting(end_at: &dyn Fn(f64) -> u64, target: u64, min: f64) -> f64 {
    if end_at(min) <= target {
        return min;
    }
    let (mut lo, mut hi) = (min, 1.0);
    for _ in 0..48 {
        let mid = 0.5 * (lo + hi);
        if end_at(mid) <= target {
            hi = mid
        } else {
            lo = mid
        }
    }
    hi
}
