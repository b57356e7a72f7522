//! A request rate for one task's share of the batch budget: [`Paced`] wraps the voice so that
//! requests start at most `rate` a second, evenly spaced (a retry is a request like any other).
//!
//! Why a wrapper and not the batch runner: the runner already bounds requests in flight (the
//! concurrency share) and backs off on 429; pacing is the one thing a batch adds, and a wrapper over
//! [`Synthesizer`] adds it without the runner knowing about batches. The wait happens inside
//! `synthesize`, so it counts against the request timeout: with `k` requests in flight the longest
//! wait is `k / rate` seconds, far below the default 120 s timeout for any sensible rate.

use std::time::Duration;

use tokio::sync::Mutex;
use tokio::time::Instant;

use crate::tts::{Limits, SynthAudio, SynthError, SynthRequest, Synthesizer};

/// `inner`, with request starts spaced `1 / rate` seconds apart.
#[derive(Debug)]
pub struct Paced<S> {
    inner: S,
    interval: Duration,
    /// When the next request may start.
    next: Mutex<Option<Instant>>,
}

impl<S> Paced<S> {
    /// `inner` at most `rate` requests a second (`rate` > 0).
    pub fn new(inner: S, rate: f64) -> Self {
        let interval = Duration::try_from_secs_f64(1.0 / rate).unwrap_or(Duration::ZERO);
        Self {
            inner,
            interval,
            next: Mutex::new(None),
        }
    }

    /// Wait for this request's turn.
    async fn turn(&self) {
        let slot = {
            let mut next = self.next.lock().await;
            let now = Instant::now();
            let slot = next.map_or(now, |n| n.max(now));
            *next = Some(slot + self.interval);
            slot
        };
        tokio::time::sleep_until(slot).await;
    }
}

impl<S: Synthesizer> Synthesizer for Paced<S> {
    async fn synthesize(&self, req: &SynthRequest) -> Result<SynthAudio, SynthError> {
        self.turn().await;
        self.inner.synthesize(req).await
    }

    fn cache_signature(&self) -> String {
        self.inner.cache_signature()
    }

    fn limits(&self) -> Limits {
        self.inner.limits()
    }

    fn concurrency_hint(&self) -> Option<usize> {
        self.inner.concurrency_hint()
    }

    fn native_speed(&self) -> bool {
        self.inner.native_speed()
    }

    fn cache_signature_for(&self, req: &SynthRequest) -> String {
        self.inner.cache_signature_for(req)
    }

    fn limits_for(&self, req: &SynthRequest) -> Limits {
        self.inner.limits_for(req)
    }

    fn native_speed_for(&self, req: &SynthRequest) -> bool {
        self.inner.native_speed_for(req)
    }

    async fn prepare(&self, requests: &[SynthRequest]) -> Result<(), SynthError> {
        self.inner.prepare(requests).await
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex as StdMutex;

    use super::*;

    /// Records when each request started; answers with an error (the audio does not matter).
    struct Clock(StdMutex<Vec<Instant>>);

    impl Synthesizer for Clock {
        async fn synthesize(&self, _req: &SynthRequest) -> Result<SynthAudio, SynthError> {
            self.0.lock().unwrap().push(Instant::now());
            Err(SynthError::Engine("clock".into()))
        }
        fn cache_signature(&self) -> String {
            "clock".into()
        }
        fn limits(&self) -> Limits {
            Limits {
                max_input_chars: 11,
                speed: 0.5..=2.0,
            }
        }
    }

    #[tokio::test]
    async fn requests_started_at_once_go_out_one_interval_apart() {
        let paced = Paced::new(Clock(StdMutex::new(Vec::new())), 20.0);
        let req = SynthRequest::new("hi", "v", "m");
        let calls = (0..5).map(|_| paced.synthesize(&req));
        let _ = futures_util::future::join_all(calls).await;
        let starts = paced.inner.0.lock().unwrap().clone();
        assert_eq!(starts.len(), 5);
        // The first goes at once; the fifth four intervals (4 × 50 ms) later, not before.
        let spread = starts[4] - starts[0];
        assert!(spread >= Duration::from_millis(195), "{spread:?}");
        assert!(spread < Duration::from_millis(400), "{spread:?}");
        assert_eq!(paced.cache_signature(), "clock");
        assert_eq!(paced.limits().max_input_chars, 11);
    }
}
