//! How long to wait before another attempt at an HTTP request: exponential backoff with jitter,
//! and the wait a server asks for in `Retry-After` / `retry-after-ms`.
//!
//! Contract: every wait returned here is finite and bounded. Backoff never exceeds its own
//! `max`; a server-supplied wait never exceeds [`MAX_SERVER_WAIT`], whatever the header says
//! (`Retry-After: 1e20` is 120 s, not a panic), and is only read from responses where it means
//! "come back later" ([`asks_to_wait`]), never from a success.
//!
//! Why a module of its own: the speech providers ([`crate::tts`]) and the chat client
//! ([`crate::llm`]) both retry HTTP requests. The arithmetic and the header parsing are written
//! once here; each caller keeps its own budgets (attempts, base, cap) and decides how a server's
//! wait combines with its backoff.

use std::time::{Duration, SystemTime};

use reqwest::header::HeaderMap;

/// The longest wait a server can impose through `Retry-After` / `retry-after-ms`.
pub const MAX_SERVER_WAIT: Duration = Duration::from_secs(120);

/// Exponential backoff: the ceiling after the `n`th failure is `base × 2^(n-1)`, at most `max`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// The ceiling after the first failure.
    pub base: Duration,
    /// The largest ceiling.
    pub max: Duration,
}

impl Backoff {
    /// `min(max, base × 2^(failures-1))`; `failures` 0 counts as 1.
    pub fn ceiling(&self, failures: u32) -> Duration {
        let doublings = failures.saturating_sub(1);
        self.base
            .saturating_mul(2u32.saturating_pow(doublings))
            .min(self.max)
    }

    /// Full jitter: uniform in `[0, ceiling]`. Clients that fail together spread out instead of
    /// retrying in lockstep.
    pub fn full_jitter(&self, failures: u32) -> Duration {
        scale(self.ceiling(failures), fastrand::f64())
    }

    /// Equal jitter: uniform in `[ceiling / 2, ceiling]`, for callers that want a floor.
    pub fn equal_jitter(&self, failures: u32) -> Duration {
        scale(self.ceiling(failures), 0.5 + 0.5 * fastrand::f64())
    }

    /// Full jitter, but never shorter than what the server asked for.
    pub fn wait(&self, failures: u32, asked: Option<Duration>) -> Duration {
        let jitter = self.full_jitter(failures);
        match asked {
            Some(asked) => asked.max(jitter),
            None => jitter,
        }
    }
}

/// `d × factor` for a factor in `[0, 1]`, as `Duration::mul_f64` computes it, but without its
/// panic when `d` is so large that the product rounds past `Duration::MAX`.
fn scale(d: Duration, factor: f64) -> Duration {
    Duration::try_from_secs_f64(d.as_secs_f64() * factor).map_or(d, |scaled| scaled.min(d))
}

/// Statuses whose `Retry-After` means something: the request may succeed later (408, 409, 425,
/// 429, 5xx). On a success or a permanent refusal the header is ignored.
pub fn asks_to_wait(status: u16) -> bool {
    matches!(status, 408 | 409 | 425 | 429 | 500..=599)
}

/// The wait a response with `status` asks for, at most [`MAX_SERVER_WAIT`]: `retry-after-ms`
/// (OpenAI's precise form) first, then `Retry-After` as seconds (fractions accepted) or as an
/// HTTP date (a date in the past is no wait). `None` when the status carries no wait
/// ([`asks_to_wait`]) or the headers hold none that parses.
pub fn retry_after(status: u16, headers: &HeaderMap) -> Option<Duration> {
    if !asks_to_wait(status) {
        return None;
    }
    let text = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
    };
    if let Some(wait) = text("retry-after-ms")
        .and_then(|v| v.parse::<f64>().ok())
        .and_then(|ms| seconds(ms / 1000.0))
    {
        return Some(wait);
    }
    let value = text("retry-after")?;
    if let Ok(secs) = value.parse::<f64>() {
        return seconds(secs);
    }
    let when = httpdate::parse_http_date(value).ok()?;
    let wait = when
        .duration_since(SystemTime::now())
        .unwrap_or(Duration::ZERO);
    Some(wait.min(MAX_SERVER_WAIT))
}

/// A non-negative, finite number of seconds as a wait, capped; `None` for anything else.
fn seconds(secs: f64) -> Option<Duration> {
    if !secs.is_finite() || secs < 0.0 {
        return None;
    }
    let capped = secs.min(MAX_SERVER_WAIT.as_secs_f64());
    Some(Duration::try_from_secs_f64(capped).unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (name, value) in pairs {
            h.insert(*name, HeaderValue::from_str(value).unwrap());
        }
        h
    }

    #[test]
    fn retry_after_forms() {
        assert_eq!(retry_after(429, &HeaderMap::new()), None);
        let h = headers(&[("retry-after", "2")]);
        assert_eq!(retry_after(429, &h), Some(Duration::from_secs(2)));
        let h = headers(&[("retry-after", "2"), ("retry-after-ms", "150")]);
        assert_eq!(retry_after(429, &h), Some(Duration::from_millis(150)));
        assert_eq!(
            retry_after(503, &headers(&[("retry-after", "0.25")])),
            Some(Duration::from_millis(250))
        );
        let later = SystemTime::now() + Duration::from_secs(30);
        let h = headers(&[("retry-after", &httpdate::fmt_http_date(later))]);
        let wait = retry_after(429, &h).unwrap();
        assert!(
            wait > Duration::from_secs(27) && wait <= Duration::from_secs(30),
            "{wait:?}"
        );
        let h = headers(&[("retry-after", "Wed, 21 Oct 2015 07:28:00 GMT")]);
        assert_eq!(retry_after(429, &h), Some(Duration::ZERO));
        assert_eq!(retry_after(429, &headers(&[("retry-after", "soon")])), None);
    }

    #[test]
    fn absurd_waits_are_capped_never_a_panic() {
        for value in ["1e20", "1e300", "99999999999999999999999999", "180"] {
            let h = headers(&[("retry-after", value)]);
            assert_eq!(retry_after(429, &h), Some(MAX_SERVER_WAIT), "{value}");
        }
        let h = headers(&[("retry-after-ms", "1e30")]);
        assert_eq!(retry_after(503, &h), Some(MAX_SERVER_WAIT));
        let far = SystemTime::now() + Duration::from_secs(100 * 365 * 86_400);
        let h = headers(&[("retry-after", &httpdate::fmt_http_date(far))]);
        assert_eq!(retry_after(429, &h), Some(MAX_SERVER_WAIT));
        for value in ["inf", "NaN", "-5", "-1e20"] {
            let h = headers(&[("retry-after", value), ("retry-after-ms", value)]);
            assert_eq!(retry_after(429, &h), None, "{value}");
        }
        let h = headers(&[("retry-after", "-0")]);
        assert_eq!(retry_after(429, &h), Some(Duration::ZERO));
        // An unusable `retry-after-ms` falls back to `Retry-After`.
        let h = headers(&[("retry-after-ms", "NaN"), ("retry-after", "3")]);
        assert_eq!(retry_after(429, &h), Some(Duration::from_secs(3)));
    }

    #[test]
    fn retry_after_is_read_only_where_it_means_something() {
        let h = headers(&[("retry-after", "5"), ("retry-after-ms", "5000")]);
        for status in [200, 201, 204, 301, 400, 401, 403, 404, 422] {
            assert_eq!(retry_after(status, &h), None, "{status}");
        }
        for status in [408, 409, 425, 429, 500, 502, 503, 504] {
            assert_eq!(
                retry_after(status, &h),
                Some(Duration::from_secs(5)),
                "{status}"
            );
        }
    }

    #[test]
    fn backoff_is_jittered_capped_and_honours_retry_after() {
        let b = Backoff {
            base: Duration::from_millis(100),
            max: Duration::from_millis(1000),
        };
        for failures in 1..40 {
            let cap = Duration::from_millis((100u64 << (failures - 1).min(10)).min(1000));
            assert_eq!(b.ceiling(failures), cap);
            let w = b.wait(failures, None);
            assert!(w <= cap, "{failures}: {w:?} > {cap:?}");
            let asked = Duration::from_millis(1500);
            assert!(b.wait(failures, Some(asked)) >= asked);
            let e = b.equal_jitter(failures);
            assert!(e >= cap / 2 && e <= cap, "{failures}: {e:?}");
        }
        assert_eq!(b.ceiling(0), b.ceiling(1));
        let spread: Vec<Duration> = (0..50).map(|_| b.wait(4, None)).collect();
        assert!(spread.iter().any(|w| *w < Duration::from_millis(400)));
        assert!(spread.iter().any(|w| *w > Duration::from_millis(400)));
        let huge = Backoff {
            base: Duration::from_secs(u64::MAX / 2),
            max: Duration::MAX,
        };
        assert_eq!(huge.ceiling(100), Duration::MAX);
        assert!(huge.wait(100, None) <= Duration::MAX);
        assert!(huge.equal_jitter(100) <= Duration::MAX);
    }
}
