//! `dubber studio`: how long after saving an edit the page can play it. A 20-minute video with
//! 400 lines spoken by the local Piper voice; each edit is a PATCH over HTTP to the running
//! server, which answers once subs.srt is saved, the changed chunk synthesized, the plan made
//! again and `dub.wav` re-rendered, i.e. when `/media/dub` serves the new track. Prints the
//! time of the first open (synthesizing all 400 lines; cached in the bench's work directory
//! after the first run) and of each edit. The bar: under 2 s.
//!
//! Run: `cargo bench --bench studio` (needs the Piper voice and ONNX Runtime: scripts/setup.sh).

#[path = "../tests/common/mod.rs"]
mod common;

use std::path::Path;
use std::time::Instant;

use dubber::llm::OpenAiChat;
use dubber::local_tts::{PiperVoice, init_onnxruntime};
use dubber::models::DataDir;
use dubber::pipeline::Workdir;
use dubber::pipeline::synth::session::Session;
use dubber::pipeline::synth::{Background, SynthOptions};
use dubber::studio::{Studio, StudioOptions};
use dubber::timeline::Policy;
use dubber::tts::{AudioFormat, BatchOptions, PiperTts, SynthRequest};
use dubber::{Segment, subtitles, text::GroupOptions};

const MINUTES: u64 = 20;
const LINES: u64 = 400;
const EDITS: usize = 5;

const WORDS: &[&str] = &[
    "the", "river", "carries", "light", "across", "every", "quiet", "morning", "and", "our",
    "small", "boat", "follows", "it", "slowly", "home", "while", "birds", "sing", "above",
];

fn sentence(seed: u64, words: usize) -> String {
    let mut rng = fastrand::Rng::with_seed(seed);
    let mut s: Vec<&str> = (0..words)
        .map(|_| WORDS[rng.usize(..WORDS.len())])
        .collect();
    s[0] = "Then";
    format!("{}.", s.join(" "))
}

#[tokio::main]
async fn main() {
    // Kept between runs: the video and the cache of the 400 lines are made once.
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("studio-bench");
    std::fs::create_dir_all(&dir).expect("bench dir");
    let video = dir.join("talk.mp4");
    if !video.exists() {
        common::long_video(&video, MINUTES * 60);
    }
    let workdir = Workdir::new(dir.join("talk.dub"));
    workdir.create().expect("workdir");
    let slot = MINUTES * 60_000 / LINES;
    let segments: Vec<Segment> = (0..LINES)
        .map(|i| {
            Segment::new(
                i * slot + 200,
                i * slot + 2600,
                sentence(i, 6 + (i % 4) as usize),
            )
        })
        .collect();
    subtitles::write_file(&workdir.subs_srt(), &segments).expect("subs.srt");

    let data = DataDir::from_env().expect("data dir");
    init_onnxruntime(&data.onnxruntime_from_env(None).expect("onnxruntime")).expect("ort");
    let voice = data
        .piper_voice_from_env(None)
        .expect("Piper voice (scripts/setup.sh)");
    let engine = PiperTts::new(PiperVoice::load_shared(&voice).expect("voice"));
    let mut request = SynthRequest::new("", "default", "piper");
    request.format = AudioFormat::Pcm16 {
        sample_rate: 24_000,
    };
    let opts = SynthOptions {
        casting: Default::default(),
        grouping: GroupOptions::default(),
        policy: Policy::default(),
        request,
        batch: BatchOptions {
            max_concurrent: 2,
            ..BatchOptions::default()
        },
        allow_silence: false,
        background: Background::Duck,
        ducking: Default::default(),
        mux: Default::default(),
        output: Some(dir.join("talk.dubbed.mp4")),
    };

    let t = Instant::now();
    let session = Session::open(&video, &workdir, engine, opts)
        .await
        .expect("open");
    let opened = t.elapsed();
    let (chunks, made) = (session.chunks().len(), session.requests());
    let studio = Studio::bind::<_, OpenAiChat>(
        session,
        None,
        StudioOptions {
            port: 0,
            output: dir.join("talk.dubbed.mp4"),
        },
    )
    .await
    .expect("bind");
    let (base, bearer) = (
        format!("http://127.0.0.1:{}", studio.port()),
        format!("Bearer {}", studio.token()),
    );
    tokio::spawn(studio.serve());
    tracing_subscriber::fmt()
        .with_env_filter("dubber::studio=info")
        .init();
    println!(
        "studio: {MINUTES}-minute video, {LINES} lines in {chunks} chunks, Piper voice; \
         opened in {:.1} s ({made} lines synthesized, the rest from the cache)",
        opened.as_secs_f64()
    );

    let http = reqwest::Client::new();
    let stamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let mut times = Vec::new();
    for k in 0..EDITS {
        let id = 37 + k * 71;
        // A text never said before, so the engine really speaks it.
        let text = sentence(stamp * 16 + k as u64, 7);
        let t = Instant::now();
        let r = http
            .patch(format!("{base}/api/lines/{id}"))
            .header("Authorization", &bearer)
            .json(&serde_json::json!({ "text": text }))
            .send()
            .await
            .expect("PATCH");
        assert!(
            r.status().is_success(),
            "{}",
            r.text().await.unwrap_or_default()
        );
        let project: serde_json::Value = r.json().await.expect("project");
        let saved = t.elapsed();
        // The re-rendered track is what /media/dub now serves: its first bytes arrive.
        let head = http
            .get(format!("{base}/media/dub?v={}", project["version"]))
            .header("Authorization", &bearer)
            .header("Range", "bytes=0-65535")
            .send()
            .await
            .expect("GET /media/dub");
        assert_eq!(head.status().as_u16(), 206);
        let _ = head.bytes().await;
        let audible = t.elapsed();
        let line = &project["lines"][id - 1];
        println!(
            "edit line {id:3}: PATCH answered in {:.3} s, new track's first bytes at {:.3} s (speed {:.2}×)",
            saved.as_secs_f64(),
            audible.as_secs_f64(),
            line["speed"].as_f64().unwrap_or(0.0)
        );
        times.push(audible.as_secs_f64());
    }
    times.sort_by(f64::total_cmp);
    println!(
        "PATCH → re-rendered track: median {:.3} s, worst {:.3} s over {EDITS} edits (bar: 2 s)",
        times[EDITS / 2],
        times[EDITS - 1]
    );
}
