//! `dubber prep --subtitles` with the formats and encodings people have, run as a user runs it.

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

fn subs_srt(dir: &Path) -> String {
    std::fs::read_to_string(dir.join("x.dub").join("subs.srt")).unwrap()
}

#[test]
fn subtitles_encoding_names_the_encoding_and_detection_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let text = "1\n00:00:01,000 --> 00:00:02,000\nДа, конечно.\n";
    let (koi8, _, _) = encoding_rs::KOI8_R.encode(text);
    std::fs::write(dir.path().join("ru.srt"), &koi8).unwrap();
    let args = ["prep", "x.mp4", "--subtitles", "ru.srt"];
    let out = dubber(
        dir.path(),
        &[&args[..], &["--subtitles-encoding", "koi8-r"]].concat(),
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(subs_srt(dir.path()).contains("Да, конечно."));
    assert!(stderr.contains("ru.srt:line 1: read as KOI8-R"), "{stderr}");

    // Without the flag, a longer windows-1251 file is detected, and the user is told.
    let lines: String = (0..4)
        .map(|i| {
            format!(
                "{}\n00:00:0{i},000 --> 00:00:0{i},900\nПривет, как дела? Всё хорошо.\n\n",
                i + 1
            )
        })
        .collect();
    let (cp1251, _, _) = encoding_rs::WINDOWS_1251.encode(&lines);
    std::fs::write(dir.path().join("ru.srt"), &cp1251).unwrap();
    let out = dubber(dir.path(), &[&args[..], &["--force"]].concat());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(subs_srt(dir.path()).contains("Привет, как дела?"));
    assert!(stderr.contains("read as windows-1251"), "{stderr}");

    // An unknown label is a usage error naming labels that exist.
    let out = dubber(
        dir.path(),
        &[&args[..], &["--subtitles-encoding", "cp9999x"]].concat(),
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("cp9999x") && stderr.contains("windows-1251"),
        "{stderr}"
    );
}

#[test]
fn prep_imports_ass() {
    let dir = tempfile::tempdir().unwrap();
    let ass = "\u{feff}[Script Info]\r\nScriptType: v4.00+\r\n\r\n[Events]\r\nFormat: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text\r\nDialogue: 0,0:00:01.00,0:00:02.50,Default,Ann,0,0,0,,{\\b1}Hello{\\b0}, there.\r\nComment: 0,0:00:03.00,0:00:04.00,Default,,0,0,0,,not this\r\nDialogue: 0,0:00:05.00,0:00:06.00,Default,,0,0,0,,Second\\Nline.\r\n";
    std::fs::write(dir.path().join("x.ass"), ass).unwrap();
    let out = dubber(dir.path(), &["prep", "x.mp4", "--subtitles", "x.ass"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let srt = subs_srt(dir.path());
    assert!(
        srt.contains("00:00:01,000 --> 00:00:02,500\n<v Ann>Hello, there.</v>\n"),
        "{srt}"
    );
    assert!(srt.contains("Second\nline."), "{srt}");
    assert!(!srt.contains("not this"), "{srt}");

    // A broken line names file and line.
    std::fs::write(
        dir.path().join("bad.ass"),
        "[Events]\nFormat: Start, End, Text\nDialogue: 0:00:01.00\n",
    )
    .unwrap();
    let out = dubber(dir.path(), &["prep", "y.mp4", "--subtitles", "bad.ass"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("bad.ass:3: expected 3 comma-separated fields"),
        "{stderr}"
    );
}

#[test]
fn run_takes_the_encoding_flag_too() {
    let dir = tempfile::tempdir().unwrap();
    let out = dubber(
        dir.path(),
        &["run", "x.mp4", "--subtitles-encoding", "nope-42"],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("unknown encoding `nope-42`"), "{stderr}");
    let out = dubber(dir.path(), &["run", "--help"]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("--subtitles-encoding"));
}

#[test]
fn estimate_reads_with_the_named_encoding() {
    let dir = tempfile::tempdir().unwrap();
    let text = "1\n00:00:01,000 --> 00:00:02,000\nДа.\n\n2\n00:00:03,000 --> 00:00:04,000\nНет.\n";
    let (koi8, _, _) = encoding_rs::KOI8_R.encode(text);
    std::fs::write(dir.path().join("ru.srt"), &koi8).unwrap();
    let args = [
        "estimate",
        "absent.mp4",
        "--subtitles",
        "ru.srt",
        "--tts",
        "openai",
    ];
    let out = dubber(
        dir.path(),
        &[&args[..], &["--subtitles-encoding", "koi8-r"]].concat(),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Forced to UTF-8, the KOI8-R bytes fail at their line.
    let out = dubber(
        dir.path(),
        &[&args[..], &["--subtitles-encoding", "utf-8"]].concat(),
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("ru.srt:3: bytes that are not valid UTF-8"),
        "{stderr}"
    );
}

/// `burn` takes what `prep` takes: an ASS file and a windows-1251 SRT go into the video as
/// subtitle streams holding their text.
#[test]
fn burn_takes_the_formats_and_encodings_prep_takes() {
    let dir = tempfile::tempdir().unwrap();
    let made = Command::new("bash")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/make-demo-video.sh"))
        .arg(dir.path().join("v.mp4"))
        .arg("6")
        .status()
        .unwrap();
    assert!(made.success());
    std::fs::write(
        dir.path().join("en.ass"),
        "[Script Info]\nScriptType: v4.00+\n\n[Events]\n\
         Format: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text\n\
         Dialogue: 0,0:00:01.00,0:00:02.50,Default,,0,0,0,,{\\i1}Hello{\\i0}, world\n",
    )
    .unwrap();
    let (cp1251, _, _) = encoding_rs::WINDOWS_1251
        .encode("1\n00:00:03,000 --> 00:00:04,500\nПривет, как дела? Всё хорошо.\n");
    std::fs::write(dir.path().join("ru.srt"), &cp1251).unwrap();
    let out = dubber(
        dir.path(),
        &[
            "burn",
            "v.mp4",
            "--subtitles",
            "en.ass",
            "--subtitles",
            "ru.srt",
            "--subtitles-encoding",
            "windows-1251",
            "-o",
            "out.mp4",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stream = |n: usize| {
        let out = Command::new("ffmpeg")
            .args(["-v", "error", "-i"])
            .arg(dir.path().join("out.mp4"))
            .args(["-map", &format!("0:s:{n}"), "-f", "srt", "-"])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    assert!(stream(0).contains("Hello, world"), "{}", stream(0));
    assert!(stream(1).contains("Привет, как дела?"), "{}", stream(1));
}
