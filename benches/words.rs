//! Figures for the words stage: offline chapters on a long video, reply parsing, the cost
//! estimate, and polishing 400 cues through the HTTP client against a local chat server
//! (client overhead, batching and concurrency; the server answers at once).
//!
//! Run: `cargo bench --bench words`.

#[path = "../tests/common_llm/mod.rs"]
mod common_llm;

use std::hint::black_box;
use std::time::{Duration, Instant};

use common_llm::{ChatServer, Reply, lines_json};
use dubber::Segment;
use dubber::cost::{Engine, PriceTable, RunPlan, estimate};
use dubber::llm::reply::parse_lines;
use dubber::llm::{ChatConfig, EditOptions, LineEditor, OpenAiChat};
use dubber::youtube::offline_chapters;

fn time<T>(label: &str, runs: u32, mut f: impl FnMut() -> T) {
    let start = Instant::now();
    for _ in 0..runs {
        black_box(f());
    }
    let per = start.elapsed() / runs;
    println!("{label:<52} {:>10.1} µs per run", per.as_secs_f64() * 1e6);
}

fn cues(n: u64) -> Vec<Segment> {
    (0..n)
        .map(|i| {
            let pause = if i % 37 == 0 { 2500 } else { 300 };
            Segment::new(
                i * 3000 + pause,
                i * 3000 + 2900,
                format!("Line {i} of the talk, and then it ends."),
            )
        })
        .collect()
}

fn main() {
    let long = cues(3600);
    time("offline chapters, 3 h video, 3,600 lines", 20, || {
        offline_chapters(&long, 3 * 3_600_000)
    });

    let lines: Vec<(u64, String)> = (1..=20)
        .map(|i| (i, format!("Polished line number {i}.")))
        .collect();
    let reply = format!("Here you go:\n```json\n{}\n```", lines_json(&lines));
    let ids: Vec<usize> = (1..=20).collect();
    time("parse + validate a fenced 20-line reply", 2000, || {
        parse_lines(&reply, &ids).map(|v| v.len())
    });

    let segments = cues(400);
    let plan = RunPlan {
        segments: Some(&segments),
        audio_ms: 20 * 60_000,
        stt: Some(Engine::new("openai", "whisper-1")),
        chat: Some(Engine::new("openai", "gpt-4o-mini")),
        polish: true,
        translate_to: Some("German".into()),
        tts: Some(Engine::new("openai", "tts-1")),
        edit_options: EditOptions::default(),
    };
    let prices = PriceTable::default();
    time(
        "cost estimate, 400 cues, polish + translate + tts",
        200,
        || estimate(&plan, &prices).total_usd(),
    );
    println!("\n{}", estimate(&plan, &prices));

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        for (latency_ms, concurrent) in [(0u64, 4usize), (50, 1), (50, 4)] {
            let server = ChatServer::start(move |_, req| {
                Reply::content(lines_json(&req.lines())).after(Duration::from_millis(latency_ms))
            })
            .await;
            let mut config = ChatConfig::new("bench");
            config.base_url = server.base_url();
            config.max_concurrent = concurrent;
            let editor = LineEditor::new(OpenAiChat::new(config).unwrap());
            let start = Instant::now();
            let out = editor.polish(&segments).await.unwrap();
            let elapsed = start.elapsed();
            assert_eq!(out.len(), 400);
            println!(
                "polish 400 cues ({} requests), server latency {latency_ms} ms, {concurrent} in flight: {:>7.1} ms",
                server.count(),
                elapsed.as_secs_f64() * 1e3
            );
        }
    });
}
