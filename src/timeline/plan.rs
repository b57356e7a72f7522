//! The plan: where each clip starts on the track and how fast it plays. A pure function of the
//! windows, the clips' natural lengths, the video length and the policy, so tests drive it with
//! numbers alone and the report is the plan written out.
//!
//! All positions are whole samples at the plan's rate: no float time accumulates, and the render
//! places clips exactly where the plan says.
//!
//! The rules, in order, for every utterance: start at its window start, or as soon as the previous
//! line (plus a small gap) has finished; play at natural speed if it ends before the next
//! utterance; otherwise borrow the pause after its window, then speed up (never beyond
//! `max_speed`); what still overflows pushes the next lines later, and the pauses that follow
//! absorb that drift. Nothing is cut, nothing overlaps; empty chunks are silence and move nothing.
//! Each line is placed as early as these rules allow, so no other placement has less drift.

use super::policy::{FitMode, Mode, Policy};
use crate::segment::Chunk;
use serde::{Deserialize, Serialize};

/// A note on a line whose fitting was not clean. Times are seconds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Warning {
    /// Even at the maximum speed the line runs this far into the next line's time, pushing it.
    Overflow { seconds: f64 },
    /// The line starts this late because earlier lines overflowed.
    Shifted { seconds: f64 },
    /// The line starts later after its window than `max_drift_ms` allows.
    DriftExceeded { seconds: f64, max_seconds: f64 },
    /// Strict timing: the line ends this far after its window end (beyond the tolerance).
    BeyondWindow { seconds: f64 },
    /// The line was moved this much earlier than its window so that it ends by the video's end.
    PulledEarly { seconds: f64 },
    /// The video ends this long before the line does, even packed: this much is not heard.
    CutAtVideoEnd { seconds: f64 },
    /// The chunk has text but its clip has no samples.
    EmptyClip,
    /// The chunk has no text (silence), so its clip of this length was not placed.
    ClipIgnored { seconds: f64 },
    /// Synthesis of the line failed after every retry; it was rendered as silence
    /// (`--allow-silence`).
    SynthesisFailed { error: String },
}

/// Where one chunk's clip goes on the track and how it was fitted. Positions are samples at
/// [`Plan::rate`].
#[derive(Debug, Clone, PartialEq)]
pub struct Placement {
    /// Index of the chunk in the slice given to [`plan`].
    pub index: usize,
    /// The chunk's id.
    pub id: usize,
    /// First sample of the clip on the track.
    pub start: u64,
    /// The clip's own length.
    pub natural: u64,
    /// Its length on the track after stretching (`natural / speed`).
    pub played: u64,
    /// `natural / played`: above 1 is faster.
    pub speed: f64,
    /// How far the start lies after the window start (negative: before it).
    pub shift: i64,
    /// Length of the pause after the window that the line uses.
    pub borrowed: u64,
    /// Samples lost at the video's end (0 unless all speech cannot fit in the video).
    pub cut: u64,
    /// What was not clean about this line's fitting.
    pub warnings: Vec<Warning>,
}

impl Placement {
    /// One past the last sample the clip occupies on the track.
    pub fn end(&self) -> u64 {
        self.start + self.played - self.cut
    }
}

/// One placement per chunk, in the order of the chunks given.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    /// Samples per second of every position in the plan.
    pub rate: u32,
    /// Length of the track: the video's length in samples.
    pub track_len: u64,
    /// One per chunk, in the order of the chunks given to [`plan`].
    pub placements: Vec<Placement>,
}

impl Plan {
    /// The `[start, end)` sample ranges where speech plays, in order: what
    /// [`crate::audio::duck_mix`] lowers a background under.
    pub fn speech_intervals(&self) -> Vec<(u64, u64)> {
        let mut v: Vec<(u64, u64)> = self
            .placements
            .iter()
            .filter(|p| p.end() > p.start)
            .map(|p| (p.start, p.end()))
            .collect();
        v.sort_unstable();
        v
    }
}

/// Why a plan cannot be made.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum PlanError {
    #[error("{chunks} chunks but {clips} clip lengths")]
    LengthMismatch { chunks: usize, clips: usize },
    #[error("chunk {id} (index {index}) has text but no window")]
    NoWindows { index: usize, id: usize },
    #[error("invalid policy: {0}")]
    InvalidPolicy(String),
    #[error("invalid rate {0}")]
    InvalidRate(u32),
}

/// A line to place: a chunk with text and a non-empty clip.
struct Line {
    index: usize,
    anchor: u64,
    span_end: u64,
    natural: u64,
}

/// Plans the track: one [`Placement`] per chunk.
///
/// `natural[i]` is the length of chunk `i`'s clip in samples at `rate` (ignored for empty chunks),
/// `track_len` the video's length in samples. Chunks may come in any order; lines are fitted in
/// order of their start.
pub fn plan(
    chunks: &[Chunk],
    natural: &[u64],
    track_len: u64,
    rate: u32,
    policy: &Policy,
) -> Result<Plan, PlanError> {
    if chunks.len() != natural.len() {
        return Err(PlanError::LengthMismatch {
            chunks: chunks.len(),
            clips: natural.len(),
        });
    }
    if rate == 0 {
        return Err(PlanError::InvalidRate(rate));
    }
    policy.validate().map_err(PlanError::InvalidPolicy)?;
    let samples = |ms: u64| super::ms_to_samples(ms, rate);
    let secs = |s: u64| s as f64 / f64::from(rate);
    let tol = samples(policy.tolerance_ms);
    let gap = samples(policy.min_gap_ms);
    let pad = if policy.mode == Mode::Block {
        samples(policy.breath_pad_ms)
    } else {
        gap
    };

    let mut placements: Vec<Placement> = chunks
        .iter()
        .enumerate()
        .map(|(index, c)| Placement {
            index,
            id: c.id,
            start: samples(c.start_ms()),
            natural: 0,
            played: 0,
            speed: 1.0,
            shift: 0,
            borrowed: 0,
            cut: 0,
            warnings: Vec::new(),
        })
        .collect();

    let mut lines = Vec::new();
    for (index, c) in chunks.iter().enumerate() {
        let p = &mut placements[index];
        if c.is_empty() {
            if natural[index] > 0 {
                p.warnings.push(Warning::ClipIgnored {
                    seconds: secs(natural[index]),
                });
            }
            continue;
        }
        if c.windows.is_empty() {
            return Err(PlanError::NoWindows { index, id: c.id });
        }
        p.natural = natural[index];
        if natural[index] == 0 {
            p.warnings.push(Warning::EmptyClip);
            continue;
        }
        let anchor = samples(c.start_ms());
        let last_end = c.windows.iter().map(|w| w.end_ms).max().unwrap_or(0);
        lines.push(Line {
            index,
            anchor,
            span_end: samples(last_end).max(anchor),
            natural: natural[index],
        });
    }
    lines.sort_by_key(|l| l.anchor);

    // Blocks: runs of lines fitted together at one speed. Only block mode groups lines.
    let mut blocks: Vec<std::ops::Range<usize>> = Vec::new();
    let block_pause = samples(policy.block_pause_ms);
    for i in 0..lines.len() {
        let joins = policy.mode == Mode::Block
            && i > 0
            && lines[i].anchor < lines[i - 1].span_end.saturating_add(block_pause)
            && !policy
                .scene_cuts_ms
                .iter()
                .any(|&cut| (lines[i - 1].anchor + 1..=lines[i].anchor).contains(&samples(cut)));
        match blocks.last_mut() {
            Some(b) if joins => b.end = i + 1,
            _ => blocks.push(i..i + 1),
        }
    }

    let mut starts = vec![0u64; lines.len()];
    let mut played = vec![0u64; lines.len()];
    let mut speeds = vec![1.0f64; lines.len()];
    let mut at_cap = vec![false; lines.len()];
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
            starts[i] = s;
            played[i] = p;
            speeds[i] = lines[i].natural as f64 / p as f64;
            at_cap[i] = capped;
        }
    }

    // Separation before each line: the breath pad inside a block, the small gap between blocks.
    let mut sep = vec![gap; lines.len()];
    for b in &blocks {
        for s in sep.iter_mut().take(b.end).skip(b.start + 1) {
            *s = pad;
        }
    }
    pull_back_at_video_end(
        &mut starts,
        &played,
        &sep,
        track_len,
        &mut placements,
        &lines,
        rate,
    );

    for (i, line) in lines.iter().enumerate() {
        let p = &mut placements[line.index];
        p.start = starts[i];
        p.played = played[i];
        p.speed = speeds[i];
        p.shift = starts[i] as i64 - line.anchor as i64;
        let end = starts[i] + played[i];
        let next_anchor = lines.get(i + 1).map_or(track_len, |n| n.anchor);
        p.borrowed = end
            .min(next_anchor)
            .saturating_sub(line.span_end.max(starts[i]));
        if end > track_len {
            p.cut = (end - track_len).min(played[i]);
            p.warnings.push(Warning::CutAtVideoEnd {
                seconds: secs(p.cut),
            });
        }
        if let Some(next) = lines.get(i + 1) {
            let into_next = (end + sep[i + 1]).saturating_sub(next.anchor);
            if at_cap[i] && into_next > tol {
                p.warnings.push(Warning::Overflow {
                    seconds: secs(into_next),
                });
            }
        }
        if p.shift > tol as i64 {
            p.warnings.push(Warning::Shifted {
                seconds: secs(p.shift as u64),
            });
        }
        if p.shift > samples(policy.max_drift_ms) as i64 {
            p.warnings.push(Warning::DriftExceeded {
                seconds: secs(p.shift as u64),
                max_seconds: policy.max_drift_ms as f64 / 1000.0,
            });
        }
        if policy.strict_timing && end > line.span_end + tol {
            p.warnings.push(Warning::BeyondWindow {
                seconds: secs(end - line.span_end),
            });
        }
    }
    Ok(Plan {
        rate,
        track_len,
        placements,
    })
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

/// Lines running past the video's end are moved earlier into the silence before them (the track
/// cannot grow), last line first, each keeping its separation `sep[i]` from the one before. Only
/// when the speech cannot fit at all does the end get cut (recorded by the caller as `cut`).
fn pull_back_at_video_end(
    starts: &mut [u64],
    played: &[u64],
    sep: &[u64],
    track_len: u64,
    placements: &mut [Placement],
    lines: &[Line],
    rate: u32,
) {
    let n = starts.len();
    if n == 0 || starts[n - 1] + played[n - 1] <= track_len {
        return;
    }
    // Latest start of each line such that it and all after it end by the video's end.
    let mut latest = vec![0i128; n];
    let mut limit = i128::from(track_len);
    for i in (0..n).rev() {
        latest[i] = i128::from(starts[i]).min(limit - i128::from(played[i]));
        limit = latest[i] - i128::from(sep[i]);
    }
    // Forward again so that no line starts before the previous one has finished.
    let mut cursor = 0u64;
    for i in 0..n {
        let wanted = latest[i].max(0) as u64;
        let start = if i == 0 {
            wanted
        } else {
            wanted.max(cursor + sep[i])
        };
        if start < starts[i] {
            let moved = (starts[i] - start) as f64 / f64::from(rate);
            placements[lines[i].index]
                .warnings
                .push(Warning::PulledEarly { seconds: moved });
            starts[i] = start;
        }
        cursor = starts[i] + played[i];
    }
}
