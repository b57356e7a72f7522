//! `dubber synth --shorten`: a line whose clip cannot fit its window even at --max-speed is
//! rewritten shorter by the chat model, synthesized again and re-planned; report.json shows both
//! texts. TTS and chat are local servers speaking OpenAI's wire formats (tone length = 50 ms +
//! 2 ms a character).

mod common;
mod common_llm;

use std::process::{Command, Output};

use common::{Faults, TestServer, dubber, expected_ms};
use common_llm::{ChatServer, Reply};
use serde_json::Value;

fn ok(out: &Output) {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

const SHORT: &str = "Too long, so said in short.";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_line_too_long_for_its_window_is_shortened_and_both_texts_reported() {
    let tts = TestServer::start(Faults::default()).await;
    let chat = ChatServer::start(|_, _| Reply::content(format!(r#"{{"text": "{SHORT}"}}"#))).await;
    let dir = tempfile::tempdir().unwrap();
    let status = Command::new("ffmpeg")
        .args([
            "-v",
            "error",
            "-f",
            "lavfi",
            "-i",
            "testsrc=size=160x120:rate=10",
        ])
        .args(["-f", "lavfi", "-i", "sine=frequency=300:sample_rate=48000"])
        .args([
            "-t",
            "6",
            "-c:v",
            "libx264",
            "-c:a",
            "aac",
            "-shortest",
            "-y",
        ])
        .arg(dir.path().join("talk.mp4"))
        .status()
        .unwrap();
    assert!(status.success());
    // 604 characters: a 1,258 ms clip, at least 1,006 ms at 1.25×, for a 500 ms window that the
    // next line follows at once.
    let long = "This line is far too long to be said in half a second. ".repeat(11);
    let long = long.trim().to_string();
    assert_eq!(long.chars().count(), 604);
    let srt = format!(
        "1\n00:00:01,000 --> 00:00:01,500\n{long}\n\n2\n00:00:01,500 --> 00:00:03,000\nA short one.\n"
    );
    std::fs::write(dir.path().join("talk.srt"), srt).unwrap();
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    ok(&dubber(
        dir.path(),
        s(&["prep", "talk.mp4", "--subtitles", "talk.srt"]),
    )
    .await);
    let synth = s(&[
        "synth",
        "talk.mp4",
        "--tts",
        "openai",
        "--base-url",
        &tts.openai_base(),
        "--timing",
        "segment",
        "--max-speed",
        "1.25",
        "--shorten",
        "--llm-base-url",
        &chat.base_url(),
        "-q",
    ]);
    ok(&dubber(dir.path(), synth.clone()).await);

    // One shortening request, with the budget the voice's pace gives: 604 chars in 1.258 s of
    // clip = 480 chars/s; 0.5 s × 480 × 1.25 = 300 characters.
    assert_eq!(chat.count(), 1);
    let asked = chat.requests()[0].clone();
    assert!(asked.first_user().contains("far too long"));
    assert!(
        asked.system().contains("at most 300 characters"),
        "{}",
        asked.system()
    );
    // The shortened line was synthesized; nothing else was asked twice.
    let inputs = tts.stats.inputs();
    assert_eq!(inputs.len(), 3, "{inputs:?}");
    assert!(inputs.iter().any(|t| t == SHORT), "{inputs:?}");

    let report: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("talk.dub/report.json")).unwrap(),
    )
    .unwrap();
    let first = &report["chunks"][0];
    assert_eq!(first["text"], SHORT);
    assert_eq!(first["original_text"], long.as_str());
    let natural = first["natural"].as_f64().unwrap();
    assert!(
        (natural - expected_ms(SHORT) as f64 / 1000.0).abs() < 0.005,
        "{natural}"
    );
    assert!(
        first["warnings"]
            .as_array()
            .unwrap()
            .iter()
            .all(|w| w["kind"] != "overflow"),
        "{first}"
    );
    assert!(report["chunks"][1].get("original_text").is_none());

    // Run again: the shortened text comes from the reply cache, the clips from the TTS cache.
    ok(&dubber(dir.path(), synth).await);
    assert_eq!(chat.count(), 1);
    assert_eq!(tts.stats.inputs().len(), 3);
}
