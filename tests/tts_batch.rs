//! The batch runner, cache and providers against a local server speaking the real OpenAI and
//! ElevenLabs wire formats, with injected faults.

mod common;

use std::collections::BTreeSet;
use std::path::Path;
use std::time::Duration;

use common::{Faults, RetryAfter, TestServer, expected_ms, texts};
use dubber::progress::{Progress, Stage};
use dubber::tts::{
    AudioFormat, BatchOptions, BatchReport, BatchRunner, Cache, CacheKey, ElevenLabsTts, OpenAiTts,
    Outcome, SynthError, SynthRequest, Synthesizer, TtsError, speak, synthesize_batch,
};

fn options(max_concurrent: usize) -> BatchOptions {
    BatchOptions {
        max_concurrent,
        timeout: Duration::from_secs(5),
        backoff_base: Duration::from_millis(5),
        backoff_max: Duration::from_millis(100),
        ..BatchOptions::default()
    }
}

fn requests(texts: &[String]) -> Vec<SynthRequest> {
    let template = SynthRequest::new("", "onyx", "gpt-4o-mini-tts");
    texts
        .iter()
        .map(|t| template.with_text(t.as_str()))
        .collect()
}

/// Every outcome is a clip whose length matches its own text.
fn assert_all_clips(report: &BatchReport, reqs: &[SynthRequest]) {
    assert_eq!(report.outcomes.len(), reqs.len());
    for (i, (o, r)) in report.outcomes.iter().zip(reqs).enumerate() {
        let Outcome::Clip(clip) = o else {
            panic!("line {i}: {o:?}");
        };
        let got = clip.duration.as_secs_f64() * 1000.0;
        let want = expected_ms(&r.text) as f64;
        assert!(
            (got - want).abs() < 0.1,
            "line {i}: {got} ms, want {want} ms"
        );
        let bytes = std::fs::read(&clip.path).unwrap();
        let reader = hound::WavReader::new(bytes.as_slice()).unwrap();
        assert_eq!(reader.duration() as u64, 24 * expected_ms(&r.text));
    }
}

fn openai(server: &TestServer) -> OpenAiTts {
    OpenAiTts::new(&server.openai_base(), Some("sk-test".into())).unwrap()
}

#[tokio::test]
async fn in_flight_never_exceeds_the_limit_and_reaches_it() {
    let server = TestServer::start(Faults {
        latency: Duration::from_millis(30),
        ..Faults::default()
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let reqs = requests(&texts(40));
    let runner = BatchRunner::new(Cache::open(dir.path()).unwrap(), options(6));
    let report = runner.run(&openai(&server), &reqs).await.unwrap();
    assert_all_clips(&report, &reqs);
    assert_eq!(server.stats.max_in_flight(), 6);
    assert_eq!(server.stats.requests(), 40);
    assert_eq!(report.requests, 40);
    assert_eq!(report.cache_hits, 0);
    // Input order: the server saw every text exactly once.
    let seen: BTreeSet<String> = server.stats.inputs().into_iter().collect();
    assert_eq!(seen.len(), 40);
}

#[tokio::test]
async fn server_admitting_three_with_limit_ten_completes_without_failures() {
    let server = TestServer::start(Faults {
        latency: Duration::from_millis(20),
        admit: Some(3),
        retry_after: RetryAfter::Ms(15),
        ..Faults::default()
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let reqs = requests(&texts(60));
    let runner = BatchRunner::new(Cache::open(dir.path()).unwrap(), options(10));
    let report = runner.run(&openai(&server), &reqs).await.unwrap();
    assert_all_clips(&report, &reqs);
    assert!(server.stats.status_count(429) > 0);
    assert_eq!(server.stats.status_count(200), 60);
    assert_eq!(report.rate_limited, server.stats.status_count(429));
    assert!(server.stats.max_admitted() <= 3);
    // The limit adapted down instead of hammering: far fewer 429s than successes.
    assert!(report.rate_limited < 60, "{} 429s", report.rate_limited);
    assert!(
        report.final_limit < 10,
        "final limit {}",
        report.final_limit
    );
}

#[tokio::test]
async fn retry_after_in_seconds_and_as_a_date_are_honoured() {
    for retry_after in [RetryAfter::Secs(0), RetryAfter::Date(0)] {
        let server = TestServer::start(Faults {
            latency: Duration::from_millis(10),
            admit: Some(2),
            retry_after,
            ..Faults::default()
        })
        .await;
        let dir = tempfile::tempdir().unwrap();
        let reqs = requests(&texts(12));
        let runner = BatchRunner::new(Cache::open(dir.path()).unwrap(), options(6));
        let report = runner.run(&openai(&server), &reqs).await.unwrap();
        assert_all_clips(&report, &reqs);
        assert!(report.rate_limited > 0);
    }
}

#[tokio::test]
async fn ten_percent_random_500s_complete_every_line() {
    let server = TestServer::start(Faults {
        latency: Duration::from_millis(2),
        error_rate: 0.1,
        seed: 7,
        ..Faults::default()
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let reqs = requests(&texts(120));
    let runner = BatchRunner::new(Cache::open(dir.path()).unwrap(), options(8));
    let report = runner.run(&openai(&server), &reqs).await.unwrap();
    assert_all_clips(&report, &reqs);
    let errors = server.stats.status_count(500);
    assert!(errors >= 5, "only {errors} injected 500s");
    assert_eq!(report.requests, 120 + errors);
}

#[tokio::test]
async fn unauthorized_stops_at_once_naming_the_key() {
    let server = TestServer::start(Faults {
        latency: Duration::from_millis(5),
        api_key: Some("sk-right".into()),
        ..Faults::default()
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let reqs = requests(&texts(50));
    let tts = OpenAiTts::new(&server.openai_base(), Some("sk-wrong".into())).unwrap();
    let runner = BatchRunner::new(Cache::open(dir.path()).unwrap(), options(4));
    let err = runner.run(&tts, &reqs).await.unwrap_err();
    let message = err.to_string();
    assert!(message.contains("OPENAI_API_KEY"), "{message}");
    assert!(message.contains("HTTP 401"), "{message}");
    assert!(matches!(
        err,
        TtsError::Fatal {
            source: SynthError::Unauthorized { .. },
            ..
        }
    ));
    // Only the first window went out; nothing was retried.
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(
        server.stats.requests() <= 4,
        "{} requests",
        server.stats.requests()
    );
}

#[tokio::test]
async fn unknown_voice_stops_naming_the_voice_setting() {
    let server = TestServer::start(Faults::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let mut reqs = requests(&texts(3));
    for r in &mut reqs {
        r.voice = "unknown-voice".into();
    }
    let runner = BatchRunner::new(Cache::open(dir.path()).unwrap(), options(1));
    let err = runner.run(&openai(&server), &reqs).await.unwrap_err();
    assert!(err.to_string().contains("--voice"), "{err}");
    assert!(err.to_string().contains("Invalid value"), "{err}");
    assert_eq!(server.stats.requests(), 1);
}

#[tokio::test]
async fn truncated_bodies_and_broken_connections_are_retried() {
    let server = TestServer::start(Faults {
        truncate_first: 3,
        cut_first: 2,
        ..Faults::default()
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let reqs = requests(&texts(10));
    let runner = BatchRunner::new(Cache::open(dir.path()).unwrap(), options(5));
    let report = runner.run(&openai(&server), &reqs).await.unwrap();
    assert_all_clips(&report, &reqs);
    assert_eq!(report.requests, 15);
    assert_eq!(server.stats.requests(), 15);
}

#[tokio::test]
async fn truncated_pcm_is_retried() {
    // Half a 16-bit PCM body plus one byte: odd length, cut mid-sample.
    let server = TestServer::start(Faults {
        truncate_first: 2,
        ..Faults::default()
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let mut reqs = requests(&["Hi.".to_string(), "Hello there.".to_string()]);
    for r in &mut reqs {
        r.format = AudioFormat::Pcm16 {
            sample_rate: 24_000,
        };
    }
    let runner = BatchRunner::new(Cache::open(dir.path()).unwrap(), options(2));
    let report = runner.run(&openai(&server), &reqs).await.unwrap();
    assert_all_clips(&report, &reqs);
    assert_eq!(server.stats.requests(), 4);
    let bodies = server.stats.bodies.lock().unwrap().clone();
    assert!(bodies.iter().all(|b| b["response_format"] == "pcm"));
}

#[tokio::test]
async fn hung_requests_time_out_and_are_retried() {
    let server = TestServer::start(Faults {
        hang_first: 2,
        ..Faults::default()
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let reqs = requests(&texts(6));
    let runner = BatchRunner::new(
        Cache::open(dir.path()).unwrap(),
        BatchOptions {
            timeout: Duration::from_millis(200),
            ..options(3)
        },
    );
    let report = runner.run(&openai(&server), &reqs).await.unwrap();
    assert_all_clips(&report, &reqs);
    assert_eq!(report.requests, 8);
}

#[tokio::test]
async fn second_run_makes_zero_requests() {
    let server = TestServer::start(Faults::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let reqs = requests(&texts(25));
    let runner = BatchRunner::new(Cache::open(dir.path()).unwrap(), options(5));
    let first = runner.run(&openai(&server), &reqs).await.unwrap();
    assert_eq!(server.stats.requests(), 25);
    let second = runner.run(&openai(&server), &reqs).await.unwrap();
    assert_eq!(server.stats.requests(), 25, "the second run made requests");
    assert_eq!(second.requests, 0);
    assert_eq!(second.cache_hits, 25);
    assert_all_clips(&second, &reqs);
    for (a, b) in first.outcomes.iter().zip(&second.outcomes) {
        let (a, b) = (a.clip().unwrap(), b.clip().unwrap());
        assert_eq!(a.path, b.path);
        assert!(!a.from_cache && b.from_cache);
    }
    // Editing one line re-synthesizes that line alone.
    let mut edited = reqs.clone();
    edited[7].text.push_str(" Edited.");
    let third = runner.run(&openai(&server), &edited).await.unwrap();
    assert_eq!(third.requests, 1);
    assert_eq!(server.stats.inputs().last().unwrap(), &edited[7].text);
}

#[tokio::test]
async fn identical_lines_are_synthesized_once() {
    let server = TestServer::start(Faults::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let reqs = requests(&["Yes.".into(), "No.".into(), "Yes.".into(), "  ".into()]);
    let runner = BatchRunner::new(Cache::open(dir.path()).unwrap(), options(4));
    let report = runner.run(&openai(&server), &reqs).await.unwrap();
    assert_eq!(server.stats.requests(), 2);
    assert!(matches!(report.outcomes[3], Outcome::Blank));
    assert_eq!(
        report.outcomes[0].clip().unwrap().path,
        report.outcomes[2].clip().unwrap().path
    );
}

#[tokio::test]
async fn a_run_stopped_midway_resumes_with_only_the_missing_lines() {
    let server = TestServer::start(Faults {
        latency: Duration::from_millis(40),
        ..Faults::default()
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let cache = Cache::open(dir.path()).unwrap();
    let reqs = requests(&texts(20));
    let tts = openai(&server);
    let runner = BatchRunner::new(cache.clone(), options(2));
    // Stop the run the way Ctrl-C does in the CLI: the future is dropped mid-flight.
    let stopped = tokio::time::timeout(Duration::from_millis(170), runner.run(&tts, &reqs)).await;
    assert!(stopped.is_err(), "the run should have been cut short");
    // Let writes already handed to blocking threads land (they are atomic either way).
    tokio::time::sleep(Duration::from_millis(50)).await;
    let cached: Vec<bool> = reqs
        .iter()
        .map(|r| {
            cache
                .get(&CacheKey::new(&tts.cache_signature(), r))
                .unwrap()
                .is_some()
        })
        .collect();
    let done = cached.iter().filter(|&&c| c).count();
    assert!(done > 0 && done < 20, "{done} clips cached");
    let missing: BTreeSet<String> = reqs
        .iter()
        .zip(&cached)
        .filter(|(_, c)| !**c)
        .map(|(r, _)| r.text.clone())
        .collect();

    let before = server.stats.requests();
    let report = runner.run(&tts, &reqs).await.unwrap();
    assert_all_clips(&report, &reqs);
    let asked: Vec<String> = server.stats.inputs()[before..].to_vec();
    assert_eq!(asked.len(), missing.len());
    assert_eq!(asked.into_iter().collect::<BTreeSet<_>>(), missing);
    assert_eq!(report.cache_hits, done);
    // No temporary files are left behind.
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .filter(|n| !n.ends_with(".wav") || n.starts_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[tokio::test]
async fn corrupt_cache_files_are_replaced() {
    let server = TestServer::start(Faults::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let reqs = requests(&texts(8));
    let runner = BatchRunner::new(Cache::open(dir.path()).unwrap(), options(4));
    let first = runner.run(&openai(&server), &reqs).await.unwrap();
    let truncated = first.outcomes[2].clip().unwrap().path.clone();
    let garbage = first.outcomes[5].clip().unwrap().path.clone();
    let bytes = std::fs::read(&truncated).unwrap();
    std::fs::write(&truncated, &bytes[..bytes.len() / 3]).unwrap();
    std::fs::write(&garbage, b"<html>502 Bad Gateway</html>").unwrap();
    let header_only = first.outcomes[6].clip().unwrap().path.clone();
    std::fs::write(&header_only, common::wav(24_000, &[])).unwrap();

    let before = server.stats.requests();
    let second = runner.run(&openai(&server), &reqs).await.unwrap();
    assert_eq!(server.stats.requests() - before, 3);
    assert_eq!(second.cache_hits, 5);
    assert_all_clips(&second, &reqs);
    assert!(!second.outcomes[2].clip().unwrap().from_cache);
}

#[tokio::test]
async fn a_line_that_keeps_failing_does_not_stop_the_others_and_no_tts_lists_it() {
    let server = TestServer::start(Faults {
        fail_text: Some("BROKEN".into()),
        ..Faults::default()
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let mut lines = texts(10);
    lines[4] = "This line is BROKEN on the server.".into();
    let reqs = requests(&lines);
    let runner = BatchRunner::new(
        Cache::open(dir.path()).unwrap(),
        BatchOptions {
            max_attempts: 3,
            ..options(3)
        },
    );
    let report = runner.run(&openai(&server), &reqs).await.unwrap();
    let failed = report.failed.clone();
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].index, 4);
    assert_eq!(failed[0].attempts, 3);
    assert!(matches!(
        failed[0].error,
        SynthError::Server { status: 500, .. }
    ));
    assert_eq!(
        report
            .outcomes
            .iter()
            .filter(|o| o.clip().is_some())
            .count(),
        9
    );
    assert_eq!(server.stats.requests(), 9 + 3);

    // Cache only: the nine are there, the failed one is named.
    let cache_only = BatchRunner::new(
        Cache::open(dir.path()).unwrap(),
        BatchOptions {
            cache_only: true,
            ..options(3)
        },
    );
    let err = cache_only.run(&openai(&server), &reqs).await.unwrap_err();
    let TtsError::MissingFromCache { ref missing, .. } = err else {
        panic!("{err}");
    };
    assert_eq!(missing, &vec![(4, lines[4].clone())]);
    let message = err.to_string();
    assert!(
        message.contains("line 5") && message.contains("BROKEN"),
        "{message}"
    );
    assert_eq!(server.stats.requests(), 12, "cache-only mode made requests");
}

#[tokio::test]
async fn long_input_is_split_at_sentences_and_joined() {
    let server = TestServer::start(Faults::default()).await;
    let sentence = "This is one sentence of a very long monologue that goes on. ";
    let text = sentence.repeat(150); // ~9000 characters
    let text = text.trim().to_string();
    let req = SynthRequest::new(text.clone(), "onyx", "gpt-4o-mini-tts");
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("long.wav");
    let clip = speak(&openai(&server), &req, &out).await.unwrap();
    let inputs = server.stats.inputs();
    assert_eq!(inputs.len(), 3);
    assert!(
        inputs
            .iter()
            .all(|i| i.chars().count() <= 4096 && i.ends_with('.'))
    );
    let want: u64 = inputs.iter().map(|i| expected_ms(i)).sum();
    assert_eq!(clip.duration.as_millis() as u64, want);
    let reader = hound::WavReader::open(&out).unwrap();
    assert_eq!(reader.duration() as u64, 24 * want);
}

#[tokio::test]
async fn openai_request_body_has_the_documented_fields() {
    let server = TestServer::start(Faults::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let mut with = SynthRequest::new("Calm.", "coral", "gpt-4o-mini-tts");
    with.instructions = Some("Speak calmly.".into());
    with.speed = 1.25;
    let without = SynthRequest::new("Plain.", "onyx", "tts-1");
    let tts = openai(&server);
    speak(&tts, &with, &dir.path().join("a.wav")).await.unwrap();
    speak(&tts, &without, &dir.path().join("b.wav"))
        .await
        .unwrap();
    let bodies = server.stats.bodies.lock().unwrap().clone();
    assert_eq!(
        bodies[0],
        serde_json::json!({"model": "gpt-4o-mini-tts", "voice": "coral", "input": "Calm.",
            "response_format": "wav", "speed": 1.25, "instructions": "Speak calmly."})
    );
    assert!(bodies[1].get("instructions").is_none());
    assert_eq!(bodies[1]["model"], "tts-1");
}

#[tokio::test]
async fn speed_outside_the_engine_range_is_refused_before_any_request() {
    let server = TestServer::start(Faults::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let mut reqs = requests(&texts(2));
    reqs[1].speed = 9.0;
    let runner = BatchRunner::new(Cache::open(dir.path()).unwrap(), options(2));
    let err = runner.run(&openai(&server), &reqs).await.unwrap_err();
    assert!(err.to_string().contains("speed 9"), "{err}");
    assert_eq!(server.stats.requests(), 0);
}

#[tokio::test]
async fn elevenlabs_wire_format_and_reported_concurrency() {
    let server = TestServer::start(Faults {
        latency: Duration::from_millis(20),
        api_key: Some("xi-secret".into()),
        elevenlabs_max: 2,
        ..Faults::default()
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let tts = ElevenLabsTts::new(&server.elevenlabs_base(), "xi-secret").unwrap();
    assert_eq!(tts.concurrency_hint(), None);
    let template = SynthRequest::new("", "JBFqnCBsd6RMkjVDRZzb", "eleven_multilingual_v2");
    let reqs: Vec<SynthRequest> = texts(16)
        .iter()
        .map(|t| template.with_text(t.as_str()))
        .collect();
    let runner = BatchRunner::new(Cache::open(dir.path()).unwrap(), options(8));
    let report = runner.run(&tts, &reqs).await.unwrap();
    assert_all_clips(&report, &reqs);
    assert_eq!(tts.concurrency_hint(), Some(2));
    assert_eq!(report.final_limit, 2);
    let paths = server.stats.paths.lock().unwrap().clone();
    assert!(
        paths
            .iter()
            .all(|p| p == "/v1/text-to-speech/JBFqnCBsd6RMkjVDRZzb?output_format=pcm_24000")
    );
    let bodies = server.stats.bodies.lock().unwrap().clone();
    assert_eq!(bodies[0]["model_id"], "eleven_multilingual_v2");
    assert!(bodies[0].get("voice_settings").is_none());

    // A wrong key stops the run and names ELEVENLABS_API_KEY.
    let bad = ElevenLabsTts::new(&server.elevenlabs_base(), "nope").unwrap();
    let err = BatchRunner::new(Cache::open(dir.path().join("b")).unwrap(), options(2))
        .run(&bad, &reqs)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("ELEVENLABS_API_KEY"), "{err}");
}

#[tokio::test]
async fn synthesize_batch_writes_every_output() {
    let server = TestServer::start(Faults::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let cache = Cache::open(dir.path().join("cache")).unwrap();
    let lines = ["Hello", "World", "Async TTS"];
    let outs: Vec<_> = ["hello.wav", "world.wav", "async.wav"]
        .iter()
        .map(|n| dir.path().join(n))
        .collect();
    let template = SynthRequest::new("", "onyx", "gpt-4o-mini-tts");
    let written = synthesize_batch(&openai(&server), &cache, &template, &lines, &outs, 3)
        .await
        .unwrap();
    assert_eq!(written, outs);
    for (line, out) in lines.iter().zip(&outs) {
        let reader = hound::WavReader::open(Path::new(out)).unwrap();
        assert_eq!(reader.duration() as u64, 24 * expected_ms(line));
    }
}

#[tokio::test]
async fn progress_stage_counts_every_line_once() {
    let server = TestServer::start(Faults {
        error_rate: 0.2,
        seed: 3,
        ..Faults::default()
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let reqs = requests(&texts(30));
    let cache = Cache::open(dir.path()).unwrap();
    let runner = |stage: &Stage| {
        BatchRunner::new(
            cache.clone(),
            BatchOptions {
                progress: Some(stage.clone()),
                ..options(4)
            },
        )
    };
    let done = Progress::hidden().stage("test", "synthesize", 10);
    runner(&done)
        .run(&openai(&server), &reqs[..10])
        .await
        .unwrap();
    assert_eq!(done.done(), 10);
    let done = Progress::hidden().stage("test", "synthesize", 30);
    // 10 cache hits reported at once, then 20 lines as they finish (retries not double-counted).
    runner(&done).run(&openai(&server), &reqs).await.unwrap();
    assert_eq!(done.done(), 30);
}

/// A server asking for an absurd wait (`Retry-After: 1e20`) neither panics the client nor makes it
/// sleep for years: the wait is capped, and every line completes.
#[tokio::test]
async fn an_absurd_retry_after_neither_panics_nor_hangs() {
    let server = TestServer::start(Faults {
        latency: Duration::from_millis(10),
        admit: Some(1),
        retry_after: RetryAfter::Raw("1e20"),
        ..Faults::default()
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let reqs = requests(&texts(6));
    let runner = BatchRunner::new(
        Cache::open(dir.path()).unwrap(),
        BatchOptions {
            max_server_wait: Duration::from_millis(20),
            ..options(4)
        },
    );
    let started = std::time::Instant::now();
    let report = runner.run(&openai(&server), &reqs).await.unwrap();
    assert_all_clips(&report, &reqs);
    assert!(server.stats.status_count(429) > 0);
    assert!(started.elapsed() < Duration::from_secs(10));
}

/// A server that answers 429 to everything stops the run with an error that names the setting to
/// change, instead of looking like a hang.
#[tokio::test]
async fn endless_rate_limiting_stops_naming_max_concurrent() {
    let server = TestServer::start(Faults {
        admit: Some(0),
        ..Faults::default()
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let reqs = requests(&texts(4));
    let runner = BatchRunner::new(
        Cache::open(dir.path()).unwrap(),
        BatchOptions {
            max_rate_limited: 3,
            ..options(4)
        },
    );
    let err = runner.run(&openai(&server), &reqs).await.unwrap_err();
    assert!(
        matches!(err, TtsError::RateLimitedOut { tries: 3, .. }),
        "{err:?}"
    );
    let message = err.to_string();
    assert!(
        message.contains("--max-concurrent (now 4)") && message.contains("admits about 1"),
        "{message}"
    );
}

/// Waiting for a limit shared with other videos is queueing, not the request: with one permit and
/// a 0.5 s timeout, six 0.2 s requests all succeed at the first attempt.
#[tokio::test]
async fn the_wait_for_a_shared_limit_is_not_part_of_the_timeout() {
    let server = TestServer::start(Faults {
        latency: Duration::from_millis(200),
        ..Faults::default()
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let reqs = requests(&texts(6));
    let runner = BatchRunner::new(
        Cache::open(dir.path()).unwrap(),
        BatchOptions {
            timeout: Duration::from_millis(500),
            shared_limit: Some(std::sync::Arc::new(tokio::sync::Semaphore::new(1))),
            ..options(6)
        },
    );
    let report = runner.run(&openai(&server), &reqs).await.unwrap();
    assert_all_clips(&report, &reqs);
    assert_eq!(report.requests, 6, "no attempt timed out and was retried");
    assert_eq!(server.stats.max_in_flight(), 1);
}

/// A server that redirects elsewhere (another port is another origin) never gets the key
/// carried along: the redirect is not followed, and the other server sees no request.
#[tokio::test]
async fn a_key_never_follows_a_redirect_to_another_origin() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let elsewhere = TestServer::start(Faults::default()).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let redirector = format!("http://{}/v1", listener.local_addr().unwrap());
    let target = format!("{}/audio/speech", elsewhere.openai_base());
    tokio::spawn(async move {
        loop {
            let (mut stream, _) = listener.accept().await.unwrap();
            let target = target.clone();
            tokio::spawn(async move {
                let mut buf = vec![0u8; 65536];
                let _ = stream.read(&mut buf).await;
                let head = format!(
                    "HTTP/1.1 307 Temporary Redirect\r\nlocation: {target}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
                );
                let _ = stream.write_all(head.as_bytes()).await;
            });
        }
    });
    let tts = OpenAiTts::new(&redirector, Some("sk-secret".into())).unwrap();
    let result = tts
        .synthesize(&SynthRequest::new("Hello.", "onyx", "gpt-4o-mini-tts"))
        .await;
    assert!(result.is_err(), "a redirect is not audio");
    assert_eq!(
        elsewhere.stats.requests(),
        0,
        "the key went to another server"
    );
    // And a client never prints its key.
    assert!(!format!("{tts:?}").contains("sk-secret"));
}
