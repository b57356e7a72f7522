//! The adaptive concurrency limit (AIMD: additive increase, multiplicative decrease) the batch
//! runner keeps its window of requests in flight under.
//!
//! Contract: a 429 halves the limit once per round of requests (a 429 from a request sent before
//! the last cut is already accounted for), each success grows it by `1/limit` (about one slot
//! per round), and it stays within `1..=ceiling`; the ceiling can be lowered at any time (a
//! service reporting its real limit).
//!
//! Why separate: it is pure arithmetic with its own invariants and test, independent of
//! futures, caches and engines.

/// Additive increase, multiplicative decrease of the number of requests in flight.
pub(crate) struct Aimd {
    limit: f64,
    ceiling: usize,
    /// Bumped on every cut; a 429 from a request sent before the last cut is already accounted for.
    epoch: u64,
}

impl Aimd {
    /// Starts at `max` (at least 1), which is also the ceiling.
    pub(crate) fn new(max: usize) -> Self {
        let max = max.max(1);
        Self {
            limit: max as f64,
            ceiling: max,
            epoch: 0,
        }
    }

    /// How many requests may be in flight now.
    pub(crate) fn current(&self) -> usize {
        (self.limit.floor() as usize).clamp(1, self.ceiling.max(1))
    }

    /// The round a request sent now belongs to; pass it back to [`Aimd::rate_limited`].
    pub(crate) fn epoch(&self) -> u64 {
        self.epoch
    }

    pub(crate) fn success(&mut self) {
        self.limit = (self.limit + 1.0 / self.limit.max(1.0)).min(self.ceiling as f64);
    }

    /// A 429 to a request sent in round `sent_in_epoch` with `in_flight_when_sent` in flight.
    pub(crate) fn rate_limited(&mut self, sent_in_epoch: u64, in_flight_when_sent: usize) {
        if sent_in_epoch == self.epoch {
            let base = self.limit.min(in_flight_when_sent.max(1) as f64);
            self.limit = (base / 2.0).max(1.0);
            self.epoch += 1;
        }
    }

    pub(crate) fn set_ceiling(&mut self, ceiling: usize) {
        self.ceiling = ceiling.max(1);
        self.limit = self.limit.min(self.ceiling as f64);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aimd_cuts_once_per_round_and_grows_back_slowly() {
        let mut a = Aimd::new(10);
        // Seven 429s from the same round: one cut.
        for _ in 0..7 {
            a.rate_limited(0, 10);
        }
        assert_eq!(a.current(), 5);
        // A 429 from a request sent after the cut cuts again.
        a.rate_limited(1, 5);
        assert_eq!(a.current(), 2);
        // Growth is about one slot per window of successes.
        let mut successes = 0;
        while a.current() < 10 {
            a.success();
            successes += 1;
        }
        assert!((30..=60).contains(&successes), "{successes}");
        a.set_ceiling(3);
        assert_eq!(a.current(), 3);
        for _ in 0..100 {
            a.rate_limited(a.epoch, 1);
        }
        assert_eq!(a.current(), 1);
    }
}
