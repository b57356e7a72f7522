//! How utterances are fitted into their windows: the knobs of [`super::plan`], with the CLI's
//! defaults.

use serde::{Deserialize, Serialize};

/// How chunks are grouped before fitting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Mode {
    /// One clip per subtitle segment (the caller passes one chunk per segment), started at its
    /// window and fitted to it.
    Segment,
    /// A chunk is one continuous utterance: it starts at its first window and may use the chunk's
    /// whole span, never chopped at the gaps between its windows.
    #[default]
    Sentence,
    /// Chunks separated by less than [`Policy::block_pause_ms`] form a block spoken at one speed,
    /// lines following each other with [`Policy::breath_pad_ms`] between them; the speed may drop
    /// to [`Policy::min_speed`] to fill a block with room to spare.
    Block,
}

/// What to do with a clip that does not match its window (strict timing, and block mode).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum FitMode {
    /// Short clips are followed by silence; long ones are sped up.
    #[default]
    PadOrSpeedup,
    /// Also slow short clips down to fill their window, not below [`Policy::min_speed`].
    StretchBoth,
}

/// The fitting policy. [`Policy::default`] is the sentence mode with the CLI's defaults.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Policy {
    /// How chunks are grouped before fitting.
    pub mode: Mode,
    /// Fit each utterance within its own window (± tolerance) before borrowing the pause after it.
    pub strict_timing: bool,
    /// How far a start or an end may miss its mark without a warning.
    pub tolerance_ms: u64,
    /// What to do with clips shorter or longer than their window.
    pub fit_mode: FitMode,
    /// Slowest playback when slowing down (stretch-both, block mode); at most 1.
    pub min_speed: f64,
    /// Fastest playback, never exceeded: beyond it the next lines are pushed later instead.
    pub max_speed: f64,
    /// A line starting later than this after its window is reported as excessive drift. Lines are
    /// never cut, never overlap and never exceed `max_speed`, and the plan starts every line as
    /// early as those rules allow, so drift beyond this bound cannot be avoided, only reported.
    pub max_drift_ms: u64,
    /// Silence between consecutive lines of one block (block mode).
    pub breath_pad_ms: u64,
    /// Smallest silence kept between two lines when one borrows the pause before the next.
    pub min_gap_ms: u64,
    /// A pause at least this long between two chunks starts a new block (block mode).
    pub block_pause_ms: u64,
    /// Scene cuts of the video (ms, from `media::scene_cuts`): in block mode a block never spans
    /// one, so a new scene starts a new block.
    pub scene_cuts_ms: Vec<u64>,
    /// Fade at each clip's edges when rendering, against clicks.
    pub fade_ms: u32,
}

impl Default for Policy {
    fn default() -> Self {
        Self {
            mode: Mode::Sentence,
            strict_timing: false,
            tolerance_ms: 30,
            fit_mode: FitMode::PadOrSpeedup,
            min_speed: 0.9,
            max_speed: 1.25,
            max_drift_ms: 1000,
            breath_pad_ms: 200,
            min_gap_ms: 80,
            block_pause_ms: 1000,
            scene_cuts_ms: Vec::new(),
            fade_ms: 5,
        }
    }
}

impl Policy {
    /// The default policy in another mode.
    pub fn with_mode(mode: Mode) -> Self {
        Self {
            mode,
            ..Self::default()
        }
    }

    /// `speed` held to the cap: what any stage may ask of a voice or a stretcher at most.
    pub fn capped(&self, speed: f64) -> f64 {
        speed.min(self.max_speed)
    }

    /// True when `speed` (a voice speed times a stretch, say) goes past the cap, beyond rounding.
    pub fn exceeds_cap(&self, speed: f64) -> bool {
        speed > self.max_speed + 1e-6
    }

    /// Checks the speeds: `0 < min_speed <= 1 <= max_speed <= 4`, all finite.
    pub fn validate(&self) -> Result<(), String> {
        let (lo, hi) = (self.min_speed, self.max_speed);
        if !(lo.is_finite() && lo > 0.0 && lo <= 1.0) {
            return Err(format!("min_speed must be in (0, 1], got {lo}"));
        }
        if !(hi.is_finite() && (1.0..=4.0).contains(&hi)) {
            return Err(format!("max_speed must be in [1, 4], got {hi}"));
        }
        Ok(())
    }
}

/// A [`Policy`] whose speeds were checked ([`Policy::validate`]): made only by
/// [`ValidPolicy::new`], so whatever takes one need not check again.
#[derive(Debug, Clone, PartialEq)]
pub struct ValidPolicy(Policy);

impl ValidPolicy {
    /// `policy`, when its speeds are valid.
    pub fn new(policy: Policy) -> Result<Self, String> {
        policy.validate()?;
        Ok(Self(policy))
    }

    /// With the video's scene cuts (which any policy may hold).
    pub fn with_scene_cuts(mut self, cuts_ms: Vec<u64>) -> Self {
        self.0.scene_cuts_ms = cuts_ms;
        self
    }

    /// The policy itself.
    pub fn into_inner(self) -> Policy {
        self.0
    }
}

impl std::ops::Deref for ValidPolicy {
    type Target = Policy;

    fn deref(&self) -> &Policy {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_checked_policy_becomes_valid() {
        let bad = Policy {
            max_speed: 0.8,
            ..Policy::default()
        };
        assert_eq!(
            ValidPolicy::new(bad).unwrap_err(),
            "max_speed must be in [1, 4], got 0.8"
        );
        let valid = ValidPolicy::new(Policy::default()).unwrap();
        assert_eq!(valid.max_speed, Policy::default().max_speed);
        let cut = valid.with_scene_cuts(vec![1500, 9000]);
        assert_eq!(cut.scene_cuts_ms, [1500, 9000]);
        assert_eq!(cut.into_inner().min_speed, Policy::default().min_speed);
    }
}
