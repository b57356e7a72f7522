//! `dubber prep --polish / --translate-to`, `dubber youtube` and `dubber estimate`, run as a user
//! runs them, against a local server speaking the chat-completions wire format.

mod common_llm;

use std::path::{Path, PathBuf};
use std::process::Output;

use common_llm::{ChatServer, Reply, lines_json};
use dubber::Segment;
use serde_json::Value;

/// Runs the real binary off the async runtime's threads (the test server lives on them).
async fn dubber(dir: &Path, args: &[&str]) -> Output {
    let dir = dir.to_path_buf();
    let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_dubber"))
            .args(&args)
            .current_dir(dir)
            .env_remove("RUST_LOG")
            .env_remove("OPENAI_BASE_URL")
            .env_remove("OPENAI_API_KEY")
            .output()
            .expect("run dubber")
    })
    .await
    .unwrap()
}

fn srt(lines: &[(u64, u64, String)]) -> String {
    let segments: Vec<Segment> = lines
        .iter()
        .map(|(s, e, t)| Segment::new(*s, *e, t.as_str()))
        .collect();
    dubber::subtitles::write(&segments, dubber::subtitles::Format::Srt)
}

fn read_srt(path: &Path) -> Vec<Segment> {
    dubber::subtitles::read_file(path)
        .unwrap()
        .into_iter()
        .map(|c| c.segment)
        .collect()
}

/// 30 lines of distinct sentences, 3 s apart, 2.4 s long.
fn talk() -> Vec<(u64, u64, String)> {
    (0..30u64)
        .map(|i| {
            (
                i * 3000 + 500,
                i * 3000 + 2900,
                format!("this is sentence number {i} of the talk."),
            )
        })
        .collect()
}

fn ok(out: &Output) -> String {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "exit {:?}: {stderr}", out.status);
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn translate_keeps_every_window_and_the_original() {
    let server = ChatServer::start(|_, req| {
        assert!(req.system().contains("German"), "{}", req.system());
        let lines: Vec<(u64, String)> = req
            .lines()
            .into_iter()
            .map(|(id, t)| (id, format!("DE {t}")))
            .collect();
        Reply::content(format!(
            "Here you go:\n```json\n{}\n```",
            lines_json(&lines)
        ))
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let input = talk();
    std::fs::write(dir.path().join("talk.srt"), srt(&input)).unwrap();
    let base = server.base_url();
    let args = [
        "prep",
        "talk.mp4",
        "--subtitles",
        "talk.srt",
        "--translate-to",
        "German",
        "--source-lang",
        "English",
        "--llm-model",
        "test-model",
        "--llm-base-url",
        base.as_str(),
    ];
    ok(&dubber(dir.path(), &args).await);
    let wd = dir.path().join("talk.dub");
    let translated = read_srt(&wd.join("subs.srt"));
    let original = read_srt(&wd.join("subs.orig.srt"));
    assert_eq!(translated.len(), 30);
    assert_eq!(original.len(), 30);
    for ((s, e, text), (t, o)) in input.iter().zip(translated.iter().zip(&original)) {
        assert_eq!((t.start_ms, t.end_ms), (*s, *e));
        assert_eq!((o.start_ms, o.end_ms), (*s, *e));
        assert_eq!(&o.text, text);
        assert_eq!(t.text, format!("DE {text}"));
    }
    let requests = server.count();
    assert!(requests >= 1);
    // The model's replies are cached in the work directory: a second run asks nothing.
    assert!(
        std::fs::read_dir(wd.join("cache").join("llm"))
            .unwrap()
            .count()
            >= 1
    );
    ok(&dubber(dir.path(), &args).await);
    assert_eq!(server.count(), requests);
    assert_eq!(read_srt(&wd.join("subs.srt")), translated);
    // Prep without translation drops the original that no longer matches subs.srt.
    ok(&dubber(dir.path(), &["prep", "talk.mp4", "--subtitles", "talk.srt"]).await);
    assert!(!wd.join("subs.orig.srt").exists());
    assert_eq!(read_srt(&wd.join("subs.srt"))[3].text, input[3].2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn polish_keeps_the_line_count() {
    let server = ChatServer::start(|_, req| {
        let lines: Vec<(u64, String)> = req
            .lines()
            .into_iter()
            .map(|(id, t)| (id, t.replace("sentence", "Sentence")))
            .collect();
        Reply::content(lines_json(&lines))
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("talk.srt"), srt(&talk())).unwrap();
    let base = server.base_url();
    ok(&dubber(
        dir.path(),
        &[
            "prep",
            "talk.mp4",
            "--subtitles",
            "talk.srt",
            "--polish",
            "--llm-base-url",
            &base,
        ],
    )
    .await);
    let wd = dir.path().join("talk.dub");
    let polished = read_srt(&wd.join("subs.srt"));
    assert_eq!(polished.len(), 30);
    for (i, seg) in polished.iter().enumerate() {
        assert_eq!(
            seg.text,
            format!("this is Sentence number {i} of the talk.")
        );
        assert_eq!(seg.start_ms, i as u64 * 3000 + 500);
    }
    assert!(!wd.join("subs.orig.srt").exists());
    // The request named the model the default flag gives.
    assert_eq!(server.requests()[0].body["model"], "gpt-4o-mini");
}

fn demo_video(dir: &Path, secs: u32) -> PathBuf {
    let out = dir.join("talk.mp4");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/make-demo-video.sh");
    let status = std::process::Command::new("bash")
        .arg(script)
        .arg(&out)
        .arg(secs.to_string())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
    out
}

/// `(seconds, title)` of chapters.txt, checked against YouTube's rules for a `video_secs` video.
fn check_chapters(text: &str, video_secs: u64) -> Vec<(u64, String)> {
    let chapters: Vec<(u64, String)> = text
        .lines()
        .map(|l| {
            let (time, title) = l.split_once(' ').unwrap();
            (
                dubber::youtube::parse_timestamp(time).unwrap(),
                title.to_string(),
            )
        })
        .collect();
    assert!(chapters.len() >= 3, "{text}");
    assert_eq!(chapters[0].0, 0, "{text}");
    let mut ends: Vec<u64> = chapters.iter().skip(1).map(|c| c.0).collect();
    ends.push(video_secs);
    for ((start, title), end) in chapters.iter().zip(ends) {
        assert!(end >= start + 10, "{text}");
        assert!(!title.is_empty() && title.chars().count() <= 100, "{text}");
    }
    chapters
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn youtube_writes_three_files_obeying_the_chapter_rules() {
    let dir = tempfile::tempdir().unwrap();
    demo_video(dir.path(), 60);
    // 20 lines over the minute, with long pauses at 20 s and 40 s.
    let lines: Vec<(u64, u64, String)> = (0..18u64)
        .map(|i| {
            let start = i * 3000 + 500 + (i / 6) * 3000;
            let topic = ["cooking pasta", "boiling water", "serving dinner"][(i / 6) as usize];
            (
                start,
                start + 2400,
                format!("Now we talk about {topic}, part {i}."),
            )
        })
        .collect();
    std::fs::write(dir.path().join("talk.srt"), srt(&lines)).unwrap();
    ok(&dubber(dir.path(), &["prep", "talk.mp4", "--subtitles", "talk.srt"]).await);
    let out = ok(&dubber(
        dir.path(),
        &["youtube", "talk.mp4", "--title", "Pasta night"],
    )
    .await);
    let yt = dir.path().join("talk.dub").join("youtube");
    let chapters = std::fs::read_to_string(yt.join("chapters.txt")).unwrap();
    check_chapters(&chapters, 60);
    assert!(out.starts_with(&chapters), "{out}");
    let description = std::fs::read_to_string(yt.join("description.md")).unwrap();
    assert!(description.contains("Pasta night"), "{description}");
    assert!(description.contains(chapters.trim()), "{description}");
    let tags = std::fs::read_to_string(yt.join("tags.txt")).unwrap();
    assert!(!tags.trim().is_empty());
    assert!(tags.trim().len() <= 500, "{tags}");

    // --ai: the model's topic chapters, when they follow the rules.
    let server = ChatServer::start(|_, _| {
        Reply::content(
            r#"{"chapters": [{"start": "0:00", "title": "Pasta"}, {"start": "0:21", "title": "Water"},
                {"start": "0:42", "title": "Dinner"}], "description": "We cook pasta.",
                "tags": ["pasta", "cooking"]}"#,
        )
    })
    .await;
    let base = server.base_url();
    ok(&dubber(
        dir.path(),
        &["youtube", "talk.mp4", "--ai", "--llm-base-url", &base],
    )
    .await);
    let chapters = std::fs::read_to_string(yt.join("chapters.txt")).unwrap();
    let got = check_chapters(&chapters, 60);
    assert_eq!(
        got.iter().map(|c| c.0).collect::<Vec<_>>(),
        [0, 21, 42],
        "{chapters}"
    );
    assert!(
        std::fs::read_to_string(yt.join("description.md"))
            .unwrap()
            .contains("We cook pasta.")
    );
    assert_eq!(
        std::fs::read_to_string(yt.join("tags.txt")).unwrap().trim(),
        "pasta, cooking"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn estimate_on_400_cues_matches_the_hand_computation() {
    let dir = tempfile::tempdir().unwrap();
    // 400 cues of exactly 50 spoken characters: 20,000 characters; the last ends at 1,599.5 s.
    let cues: Vec<(u64, u64, String)> = (0..400u64)
        .map(|i| {
            (
                i * 4000,
                i * 4000 + 3500,
                format!("Cue {i:03} is spoken here, in fifty characters exact."),
            )
        })
        .collect();
    assert!(cues.iter().all(|c| c.2.chars().count() == 50));
    std::fs::write(dir.path().join("cues.srt"), srt(&cues)).unwrap();
    let args = [
        "estimate",
        "absent.mp4",
        "--subtitles",
        "cues.srt",
        "--tts",
        "openai",
        "--tts-model",
        "tts-1",
        "--stt",
        "openai",
        "--polish",
    ];
    let text = ok(&dubber(dir.path(), &args).await);
    for stage in ["transcribe", "polish", "synthesize", "total"] {
        assert!(text.contains(stage), "{text}");
    }
    // 20,000 chars × $15 / 1M.
    assert!(text.contains("$0.3000"), "{text}");
    // 1,599.5 s = 26.658 min × $0.006 = $0.15995.
    assert!(text.contains("$0.1600"), "{text}");

    let mut json_args = vec!["--json"];
    json_args.extend(args);
    let json: Value =
        serde_json::from_str(ok(&dubber(dir.path(), &json_args).await).trim()).unwrap();
    let stage = |name: &str| {
        json["stages"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["stage"] == name)
            .unwrap()
            .clone()
    };
    let close = |a: f64, b: f64| (a - b).abs() < 1e-9;
    let minutes = 1_599.5 / 60.0;
    assert!(close(
        stage("transcribe")["usd"].as_f64().unwrap(),
        minutes * 0.006
    ));
    assert_eq!(stage("synthesize")["chars"], 20_000);
    assert!(close(stage("synthesize")["usd"].as_f64().unwrap(), 0.30));
    let polish = stage("polish");
    let (input, output) = (
        polish["input_tokens"].as_f64().unwrap(),
        polish["output_tokens"].as_f64().unwrap(),
    );
    // The reply repeats each of the 20,000 characters (4 a token) with its JSON framing.
    assert!((5_000.0..=8_200.0).contains(&output), "{output}");
    assert!(input > output, "{input}");
    let hand = input * 0.15 / 1e6 + output * 0.60 / 1e6;
    assert!(close(polish["usd"].as_f64().unwrap(), hand));
    let total = minutes * 0.006 + 0.30 + hand;
    assert!(close(json["total_usd"].as_f64().unwrap(), total));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn synth_prints_the_estimate_before_the_first_paid_request() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("talk.srt"), srt(&talk())).unwrap();
    ok(&dubber(dir.path(), &["prep", "talk.mp4", "--subtitles", "talk.srt"]).await);
    let path = dir.path().to_path_buf();
    // No key: the engine cannot start, but the estimate comes first.
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_dubber"))
            .args(["synth", "talk.mp4", "--tts", "elevenlabs"])
            .current_dir(path)
            .env_remove("ELEVENLABS_API_KEY")
            .env_remove("RUST_LOG")
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    // 30 lines: 30 × 37 characters + 50 digits = 1,160 characters × $100 / 1M.
    let at = stderr.find("Estimated cost").expect(&stderr);
    let table = &stderr[at..];
    assert!(
        table.contains("elevenlabs/eleven_multilingual_v2"),
        "{stderr}"
    );
    assert!(table.contains("1,160 chars"), "{stderr}");
    assert!(table.contains("$0.1160"), "{stderr}");
}
