//! Batch synthesis throughput against a local OpenAI-compatible server answering every request
//! after 800 ms: 112 requests at `max_concurrent` 10 and 5 must finish within
//! 1.05 × ⌈112/N⌉ × 0.8 s, what a sliding window allows (fixed batches that wait for their
//! slowest request take far longer).
//! Also times a re-run, which must be answered from the cache with zero requests.
//!
//! Run: `cargo bench --bench synth_batch`

#[path = "../tests/common/mod.rs"]
mod common;

use std::time::{Duration, Instant};

use common::{Faults, TestServer};
use dubber::tts::{BatchOptions, BatchRunner, Cache, OpenAiTts, SynthRequest};

const REQUESTS: usize = 112;
const LATENCY: Duration = Duration::from_millis(800);

#[tokio::main]
async fn main() {
    let server = TestServer::start(Faults {
        latency: LATENCY,
        ..Faults::default()
    })
    .await;
    let tts = OpenAiTts::new(&server.openai_base(), None).expect("client");
    let template = SynthRequest::new("", "onyx", "gpt-4o-mini-tts");
    let requests: Vec<SynthRequest> = common::texts(REQUESTS)
        .iter()
        .map(|t| template.with_text(t.as_str()))
        .collect();

    println!("synth_batch: {REQUESTS} requests, server latency {LATENCY:?}");
    let mut ok = true;
    for max_concurrent in [10usize, 5] {
        let dir = tempfile::tempdir().expect("temp dir");
        let runner = BatchRunner::new(
            Cache::open(dir.path()).expect("cache"),
            BatchOptions {
                max_concurrent,
                ..BatchOptions::default()
            },
        );
        server
            .stats
            .max_in_flight
            .store(0, std::sync::atomic::Ordering::SeqCst);
        let before = server.stats.requests();
        let start = Instant::now();
        let report = runner.run(&tts, &requests).await.expect("batch");
        let elapsed = start.elapsed().as_secs_f64();
        let rounds = REQUESTS.div_ceil(max_concurrent) as f64;
        let ideal = rounds * LATENCY.as_secs_f64();
        let bound = 1.05 * ideal;
        let made = server.stats.requests() - before;
        let pass = elapsed <= bound && made == REQUESTS;
        ok &= pass;
        println!(
            "max_concurrent {max_concurrent:>2}: {elapsed:6.2} s (ideal {ideal:5.2} s, bound {bound:5.2} s, \
             {:.1}% over ideal), {made} requests, peak in flight {}, {:.1} req/s  {}",
            (elapsed / ideal - 1.0) * 100.0,
            server.stats.max_in_flight(),
            REQUESTS as f64 / elapsed,
            if pass { "PASS" } else { "FAIL" }
        );

        let before = server.stats.requests();
        let start = Instant::now();
        let again = runner.run(&tts, &requests).await.expect("re-run");
        let rerun = start.elapsed().as_secs_f64();
        let made = server.stats.requests() - before;
        let pass = made == 0 && again.cache_hits == REQUESTS;
        ok &= pass;
        println!(
            "  re-run from cache: {:6.3} s, {made} requests, {} cache hits  {}",
            rerun,
            again.cache_hits,
            if pass { "PASS" } else { "FAIL" }
        );
        drop(report);
    }

    // A service that admits only 3 in flight (429 + retry-after-ms) while we ask for 10: the
    // adaptive limit must drain the queue with zero failures, near the service's own pace.
    let admit = 3;
    let latency = Duration::from_millis(200);
    let capped = TestServer::start(Faults {
        latency,
        admit: Some(admit),
        retry_after: common::RetryAfter::Ms(100),
        ..Faults::default()
    })
    .await;
    let tts = OpenAiTts::new(&capped.openai_base(), None).expect("client");
    let dir = tempfile::tempdir().expect("temp dir");
    let runner = BatchRunner::new(
        Cache::open(dir.path()).expect("cache"),
        BatchOptions {
            max_concurrent: 10,
            ..BatchOptions::default()
        },
    );
    let start = Instant::now();
    let report = runner.run(&tts, &requests).await.expect("batch");
    let elapsed = start.elapsed().as_secs_f64();
    let ideal = REQUESTS.div_ceil(admit) as f64 * latency.as_secs_f64();
    let failed = report.failed.len();
    let pass = failed == 0;
    ok &= pass;
    println!(
        "server admits {admit}, max_concurrent 10, latency {latency:?}: {elapsed:.2} s (the \
         server's own pace {ideal:.2} s, {:.0}% of it), {} requests, {} answered 429, {failed} \
         failed, final limit {}  {}",
        ideal / elapsed * 100.0,
        report.requests,
        report.rate_limited,
        report.final_limit,
        if pass { "PASS" } else { "FAIL" }
    );

    if !ok {
        std::process::exit(1);
    }
}
