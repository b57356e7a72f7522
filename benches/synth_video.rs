//! `synth` on a 20-minute video with 400 cues against a local OpenAI-compatible server (200 ms
//! latency, 10 in flight): prints how long each part took, and checks that the dubbed video's audio
//! is exactly as long as the video and that report.json is written.
//!
//! Run: `cargo bench --bench synth_video`

#[path = "../tests/common/mod.rs"]
mod common;

use std::time::{Duration, Instant};

use common::{Faults, TestServer};
use dubber::media::MuxOptions;
use dubber::pipeline::Workdir;
use dubber::pipeline::synth::{Background, SynthOptions, synth};
use dubber::progress::Progress;
use dubber::subtitles;
use dubber::timeline::Policy;
use dubber::tts::{AudioFormat, BatchOptions, OpenAiTts, SynthRequest};
use dubber::{Segment, text::GroupOptions};

const MINUTES: u64 = 20;
const CUES: u64 = 400;

#[tokio::main]
async fn main() {
    let server = TestServer::start(Faults {
        latency: Duration::from_millis(200),
        ..Faults::default()
    })
    .await;
    let dir = tempfile::tempdir().expect("temp dir");
    let video = dir.path().join("talk.mp4");
    let secs = MINUTES * 60;
    let t = Instant::now();
    common::long_video(&video, secs);
    println!(
        "made a {MINUTES}-minute video in {:.1} s",
        t.elapsed().as_secs_f64()
    );

    // 400 cues of 2.2 s every 3 s; every third ends a sentence.
    let segments: Vec<Segment> = (0..CUES)
        .map(|i| {
            let start = i * 3000;
            let text = if i % 3 == 2 {
                format!("and this is where sentence {i} ends.")
            } else {
                format!("Line {i} of the talk goes on")
            };
            Segment::new(start, start + 2200, text)
        })
        .collect();
    let workdir = Workdir::new(dir.path().join("talk.dub"));
    workdir.create().expect("workdir");
    subtitles::write_file(&workdir.subs_srt(), &segments).expect("subs.srt");

    let tts = OpenAiTts::new(&server.openai_base(), None).expect("client");
    let mut request = SynthRequest::new("", "onyx", "gpt-4o-mini-tts");
    request.format = AudioFormat::Pcm16 {
        sample_rate: 24_000,
    };
    let out = dir.path().join("talk.dubbed.mp4");
    let opts = SynthOptions {
        casting: Default::default(),
        grouping: GroupOptions::default(),
        policy: Policy::default(),
        request,
        batch: BatchOptions {
            max_concurrent: 10,
            ..BatchOptions::default()
        },
        allow_silence: false,
        background: Background::Duck,
        ducking: Default::default(),
        mux: MuxOptions::default(),
        output: Some(out.clone()),
    };
    let t = Instant::now();
    let outcome = synth(&video, &workdir, &tts, &opts, &Progress::hidden())
        .await
        .expect("synth");
    let first = t.elapsed().as_secs_f64();
    let t = Instant::now();
    synth(&video, &workdir, &tts, &opts, &Progress::hidden())
        .await
        .expect("synth again");
    let second = t.elapsed().as_secs_f64();

    let video_secs = dubber::media::probe(&video)
        .expect("probe")
        .target_duration_secs();
    let wav = hound::WavReader::open(workdir.dub_wav()).expect("dub.wav");
    let expected = (video_secs * 24_000.0).round() as u32;
    let probe = dubber::media::probe(&out).expect("probe output");
    let audio = probe
        .streams
        .iter()
        .find(|s| s.kind == dubber::media::StreamKind::Audio)
        .and_then(|s| s.duration_secs)
        .unwrap_or(0.0);
    println!(
        "synth, {} chunks, {} requests: {first:.2} s (first run), {second:.2} s (re-run, {} requests)",
        outcome.chunks,
        outcome.requests,
        server.stats.requests() - outcome.requests
    );
    println!(
        "dub.wav: {} samples, expected {expected} (video {video_secs:.3} s); muxed audio {audio:.3} s",
        wav.duration()
    );
    println!("report.json written: {}", workdir.report_json().exists());
    println!("{}", outcome.report.human_summary());
    let ok = wav.duration() == expected
        && (audio - video_secs).abs() <= 1024.0 / 24_000.0
        && workdir.report_json().exists();
    println!("{}", if ok { "PASS" } else { "FAIL" });
    if !ok {
        std::process::exit(1);
    }
}
