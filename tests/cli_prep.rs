//! `dubber prep VIDEO --subtitles FILE`, run as a user runs it.

use std::path::Path;
use std::process::{Command, Output};

fn dubber(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_dubber"))
        .args(args)
        .current_dir(dir)
        .env_remove("RUST_LOG")
        .output()
        .expect("run dubber")
}

fn srt_of(n: usize) -> String {
    let segments: Vec<dubber::Segment> = (0..n)
        .map(|i| {
            let start = i as u64 * 3000;
            let text = if i % 3 == 2 {
                "and this line ends here."
            } else {
                "A line that goes on"
            };
            dubber::Segment::new(start, start + 2500, text)
        })
        .collect();
    dubber::subtitles::write(&segments, dubber::subtitles::Format::Srt)
}

#[test]
fn broken_srt_names_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("broken.srt"),
        "1\n00:00:01,000 --> 00:00:02,000\nfine\n\n2\n00:00:03,000 --> 00:00:0x,500\nbroken\n",
    )
    .unwrap();
    let out = dubber(dir.path(), &["prep", "x.mp4", "--subtitles", "broken.srt"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("broken.srt:6: invalid timestamp `00:00:0x,500`"),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
    // Nothing half written.
    assert!(!dir.path().join("x.dub").join("subs.srt").exists());
}

#[test]
fn absurd_times_name_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        (
            "far.srt",
            "1\n00:00:01,000 --> 00:00:02,000\nfine\n\n2\n99999:00:00,000 --> 99999:00:01,000\nfar\n",
            "far.srt:6: invalid timestamp `99999:00:00,000`: past 100:00:00,000",
        ),
        (
            "far.json",
            "[\n{\"start\": 1, \"end\": 2, \"text\": \"fine\"},\n{\"start\": 1e300, \"end\": 2, \"text\": \"far\"}\n]\n",
            "invalid time 1e300: expected seconds from 0 to 360000",
        ),
    ];
    for (name, content, expected) in cases {
        std::fs::write(dir.path().join(name), content).unwrap();
        let out = dubber(dir.path(), &["prep", "x.mp4", "--subtitles", name]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{stderr}");
        assert!(stderr.contains(expected), "{stderr}");
        let line = if name.ends_with("srt") { 6 } else { 3 };
        assert!(stderr.contains(&format!("{name}:{line}: ")), "{stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
}

#[test]
fn prep_writes_subs_segments_and_manifest() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("talk.srt"), srt_of(400)).unwrap();
    let out = dubber(dir.path(), &["prep", "talk.mp4", "--subtitles", "talk.srt"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let work = dir.path().join("talk.dub");
    let subs = std::fs::read_to_string(work.join("subs.srt")).unwrap();
    assert_eq!(subs.matches(" --> ").count(), 400);
    assert!(subs.starts_with("1\n00:00:00,000 --> 00:00:02,500\nA line that goes on\n"));

    let segments: serde_json::Value =
        serde_json::from_slice(&std::fs::read(work.join("segments.json")).unwrap()).unwrap();
    assert_eq!(segments.as_array().unwrap().len(), 400);
    assert_eq!(segments[1]["start"], 3.0);

    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(work.join("manifest.json")).unwrap()).unwrap();
    let chunks = manifest["chunks"].as_array().unwrap();
    // Three lines make one sentence; two sentences make a chunk: 400 lines → 134 sentences → 67 chunks.
    assert_eq!(manifest["sentence_groups"].as_array().unwrap().len(), 134);
    assert_eq!(chunks.len(), 67);
    assert_eq!(chunks[0]["id"], 0);
    assert_eq!(chunks[0]["windows"].as_array().unwrap().len(), 6);
    assert_eq!(chunks[0]["windows"][5]["end"], 17.5);
    assert_eq!(
        chunks[0]["text"],
        "A line that goes on A line that goes on and this line ends here. \
         A line that goes on A line that goes on and this line ends here."
    );
}

#[test]
fn prep_keeps_a_persons_edits_unless_forced() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("in.vtt"),
        "WEBVTT\n\n00:01.000 --> 00:02.000\nHello.\n",
    )
    .unwrap();
    let args = ["prep", "v.mkv", "--subtitles", "in.vtt", "--workdir", "w"];
    assert!(dubber(dir.path(), &args).status.success());
    // Re-running over its own output is fine.
    assert!(dubber(dir.path(), &args).status.success());
    let subs = dir.path().join("w/subs.srt");
    std::fs::write(&subs, "1\n00:00:01,000 --> 00:00:02,000\nHello, edited.\n").unwrap();
    let out = dubber(dir.path(), &args);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("subs.srt: edited since prep wrote it"));
    assert!(std::fs::read_to_string(&subs).unwrap().contains("edited"));
    let forced = [&args[..], &["--force"]].concat();
    assert!(dubber(dir.path(), &forced).status.success());
    assert!(!std::fs::read_to_string(&subs).unwrap().contains("edited"));
}

#[test]
fn usage_errors_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let out = dubber(dir.path(), &["prep"]);
    assert_eq!(out.status.code(), Some(2));
}

/// `.env` is read from the current folder only, and may not name a folder code is loaded from.
#[test]
fn dotenv_is_read_here_only_and_never_names_a_library_folder() {
    let dir = tempfile::tempdir().unwrap();
    let here = dir.path().join("project");
    std::fs::create_dir(&here).unwrap();
    let models_list = || {
        Command::new(env!("CARGO_BIN_EXE_dubber"))
            .args(["models", "list"])
            .current_dir(&here)
            .env_remove("DUBBER_HOME")
            .env_remove("RUST_LOG")
            .output()
            .expect("run dubber")
    };
    std::fs::write(dir.path().join(".env"), "DUBBER_HOME=/nonexistent-parent\n").unwrap();
    let out = models_list();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!String::from_utf8_lossy(&out.stdout).contains("nonexistent"));

    std::fs::write(
        here.join(".env"),
        "DUBBER_HOME=/nonexistent-here\nOPENAI_API_KEY=sk-test\n",
    )
    .unwrap();
    let out = models_list();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(!String::from_utf8_lossy(&out.stdout).contains("nonexistent"));
    assert!(stderr.contains(".env: ignored DUBBER_HOME"), "{stderr}");
}

#[test]
fn hard_of_hearing_subtitles_keep_their_text_but_speak_only_dialogue() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("sdh.srt"),
        "1\n00:00:01,000 --> 00:00:03,000\n[MUSIC PLAYING]\n\n\
         2\n00:00:04,000 --> 00:00:06,000\nJOHN: Hello.\n\n\
         3\n00:00:08,000 --> 00:00:11,000\n- Are you coming?\n- Yes.\n\n\
         4\n00:00:13,000 --> 00:00:15,000\nWarning: hot. Meet at 10:30.\n",
    )
    .unwrap();
    let out = dubber(dir.path(), &["prep", "x.mp4", "--subtitles", "sdh.srt"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The split is reported.
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("2 speaker turns"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let work = dir.path().join("x.dub");
    let subs = std::fs::read_to_string(work.join("subs.srt")).unwrap();
    assert!(subs.contains("\n[MUSIC PLAYING]\n"), "{subs}");
    assert!(subs.contains("\nJOHN: Hello.\n"), "{subs}");
    assert!(subs.contains("\n- Are you coming?\n\n"), "{subs}");

    let segments: serde_json::Value =
        serde_json::from_slice(&std::fs::read(work.join("segments.json")).unwrap()).unwrap();
    let segments = segments.as_array().unwrap();
    assert_eq!(segments.len(), 5, "{segments:?}");
    assert_eq!(segments[0]["text"], "[MUSIC PLAYING]");
    assert!(segments[0].get("speaker").is_none(), "{:?}", segments[0]);
    assert_eq!(segments[1]["speaker"], "JOHN");
    assert_eq!(segments[1]["text"], "JOHN: Hello.");
    // A dialogue dash names nobody: no speaker like `-1` is made up.
    assert!(segments[2].get("speaker").is_none(), "{:?}", segments[2]);
    assert!(segments[3].get("speaker").is_none(), "{:?}", segments[3]);
    // The two turns share the cue's window.
    assert_eq!(segments[2]["start"], 8.0);
    assert_eq!(segments[2]["end"], segments[3]["start"]);
    assert_eq!(segments[3]["end"], 11.0);
    assert!(segments[4].get("speaker").is_none(), "{:?}", segments[4]);

    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(work.join("manifest.json")).unwrap()).unwrap();
    let texts: Vec<&str> = manifest["chunks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["text"].as_str().unwrap())
        .collect();
    // The music is a silent chunk of its own; labels and dashes are not spoken. The dash lines
    // name nobody (and JOHN's label means no diarization), so one voice speaks them together.
    assert_eq!(
        texts,
        vec![
            "",
            "Hello.",
            "Are you coming? Yes.",
            "Warning: hot. Meet at 10:30."
        ]
    );
    assert_eq!(manifest["chunks"][0]["windows"][0]["start"], 1.0);
}
