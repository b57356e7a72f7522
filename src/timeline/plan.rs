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

use std::ops::Range;

use super::blocks::{self, Fitted, Line, Units};
use super::policy::{Policy, ValidPolicy};
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

/// Plans the track: one [`Placement`] per chunk.
///
/// `natural[i]` is the length of chunk `i`'s clip in samples at `rate` (ignored for empty chunks),
/// `track_len` the video's length in samples. Chunks may come in any order; lines are fitted in
/// order of their start. The policy is checked first; [`plan_valid`] takes one already checked.
pub fn plan(
    chunks: &[Chunk],
    natural: &[u64],
    track_len: u64,
    rate: u32,
    policy: &Policy,
) -> Result<Plan, PlanError> {
    check_inputs(chunks, natural, rate)?;
    let policy = ValidPolicy::new(policy.clone()).map_err(PlanError::InvalidPolicy)?;
    plan_valid(chunks, natural, track_len, rate, &policy)
}

/// [`plan`] with a policy already checked: the steps, in order.
pub fn plan_valid(
    chunks: &[Chunk],
    natural: &[u64],
    track_len: u64,
    rate: u32,
    policy: &ValidPolicy,
) -> Result<Plan, PlanError> {
    check_inputs(chunks, natural, rate)?;
    let units = Units::new(rate, policy);
    // 1. Every chunk placed on its window; those with speech become the lines, by start.
    let (mut placements, lines) = lines_to_place(chunks, natural, &units)?;
    // 2. Lines fitted together (block mode: between long pauses and scene cuts), each block at
    //    the speed that ends it in time.
    let blocks = blocks::group(&lines, policy, &units);
    let mut fitted = blocks::fit(&lines, &blocks, track_len, policy, &units);
    // 3. Nothing runs past the video's end: the last lines move into the silence before them.
    let sep = separations(&blocks, lines.len(), &units);
    pull_back_at_video_end(
        &mut fitted.starts,
        &fitted.played,
        &sep,
        track_len,
        &mut placements,
        &lines,
        rate,
    );
    // 4. The lines' placements, and what was not clean about them.
    for (i, line) in lines.iter().enumerate() {
        let next = lines.get(i + 1).map(|n| (n.anchor, sep[i + 1]));
        let p = &mut placements[line.index];
        record(p, line, &fitted, i, next, track_len, policy, &units);
    }
    Ok(Plan {
        rate,
        track_len,
        placements,
    })
}

fn check_inputs(chunks: &[Chunk], natural: &[u64], rate: u32) -> Result<(), PlanError> {
    if chunks.len() != natural.len() {
        return Err(PlanError::LengthMismatch {
            chunks: chunks.len(),
            clips: natural.len(),
        });
    }
    if rate == 0 {
        return Err(PlanError::InvalidRate(rate));
    }
    Ok(())
}

/// Every chunk's placement at its window start, and the chunks that speak (text and a non-empty
/// clip) as lines sorted by start; an empty chunk's clip and an empty clip are noted.
fn lines_to_place(
    chunks: &[Chunk],
    natural: &[u64],
    units: &Units,
) -> Result<(Vec<Placement>, Vec<Line>), PlanError> {
    let mut placements: Vec<Placement> = chunks
        .iter()
        .enumerate()
        .map(|(index, c)| Placement {
            index,
            id: c.id,
            start: units.samples(c.start_ms()),
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
                    seconds: units.secs(natural[index]),
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
        let anchor = units.samples(c.start_ms());
        let last_end = c.windows.iter().map(|w| w.end_ms).max().unwrap_or(0);
        lines.push(Line {
            index,
            anchor,
            span_end: units.samples(last_end).max(anchor),
            natural: natural[index],
        });
    }
    lines.sort_by_key(|l| l.anchor);
    Ok((placements, lines))
}

/// Separation before each line: the breath pad inside a block, the small gap between blocks.
fn separations(blocks: &[Range<usize>], lines: usize, units: &Units) -> Vec<u64> {
    let mut sep = vec![units.gap; lines];
    for b in blocks {
        for s in sep.iter_mut().take(b.end).skip(b.start + 1) {
            *s = units.pad;
        }
    }
    sep
}

/// Line `i`'s placement `p` as fitted, with its warnings; `next` is the next line's anchor and
/// separation.
#[allow(clippy::too_many_arguments)]
fn record(
    p: &mut Placement,
    line: &Line,
    fitted: &Fitted,
    i: usize,
    next: Option<(u64, u64)>,
    track_len: u64,
    policy: &Policy,
    units: &Units,
) {
    let (start, played, tol) = (fitted.starts[i], fitted.played[i], units.tol);
    p.start = start;
    p.played = played;
    p.speed = fitted.speeds[i];
    p.shift = start as i64 - line.anchor as i64;
    let end = start + played;
    let next_anchor = next.map_or(track_len, |(anchor, _)| anchor);
    p.borrowed = end
        .min(next_anchor)
        .saturating_sub(line.span_end.max(start));
    if end > track_len {
        p.cut = (end - track_len).min(played);
        p.warnings.push(Warning::CutAtVideoEnd {
            seconds: units.secs(p.cut),
        });
    }
    if let Some((anchor, sep)) = next {
        let into_next = (end + sep).saturating_sub(anchor);
        if fitted.at_cap[i] && into_next > tol {
            p.warnings.push(Warning::Overflow {
                seconds: units.secs(into_next),
            });
        }
    }
    if p.shift > tol as i64 {
        p.warnings.push(Warning::Shifted {
            seconds: units.secs(p.shift as u64),
        });
    }
    if p.shift > units.samples(policy.max_drift_ms) as i64 {
        p.warnings.push(Warning::DriftExceeded {
            seconds: units.secs(p.shift as u64),
            max_seconds: policy.max_drift_ms as f64 / 1000.0,
        });
    }
    if policy.strict_timing && end > line.span_end + tol {
        p.warnings.push(Warning::BeyondWindow {
            seconds: units.secs(end - line.span_end),
        });
    }
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
