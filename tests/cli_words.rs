//! `dubber youtube` and `dubber estimate`, run as a user runs them.

use std::path::Path;
use std::process::Command;

use dubber::Segment;
use dubber::subtitles::{self, Format};

fn dubber(dir: &Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_dubber"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run dubber")
}

/// 400 cues of 2.5 s every 3 s; every third ends a sentence.
fn cues_400() -> Vec<Segment> {
    (0..400u64)
        .map(|i| {
            let text = if i % 3 == 2 {
                format!("and line {i} ends here.")
            } else {
                format!("Line {i} goes on")
            };
            Segment::new(i * 3000, i * 3000 + 2500, text)
        })
        .collect()
}

#[test]
fn estimate_prices_400_cues_as_computed_by_hand() {
    let dir = tempfile::tempdir().unwrap();
    let segments = cues_400();
    std::fs::write(
        dir.path().join("talk.srt"),
        subtitles::write(&segments, Format::Srt),
    )
    .unwrap();
    let out = dubber(
        dir.path(),
        &[
            "estimate",
            "talk.mp4",
            "--subtitles",
            "talk.srt",
            "--tts",
            "openai",
            "--tts-model",
            "tts-1",
        ],
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // tts-1 costs $15 per million characters of input.
    let chars: u64 = segments
        .iter()
        .map(|s| s.spoken_text().chars().count() as u64)
        .sum();
    let usd = chars as f64 * 15.0 / 1e6;
    assert!(
        stdout.contains("synthesize") && stdout.contains("openai/tts-1"),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!("${usd:.4}")),
        "expected ${usd:.4} for {chars} chars:\n{stdout}"
    );
    assert!(
        stdout.lines().last().unwrap().starts_with("total"),
        "{stdout}"
    );

    // The local voice costs nothing.
    let out = dubber(
        dir.path(),
        &["estimate", "talk.mp4", "--subtitles", "talk.srt"],
    );
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("$0.0000"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

#[test]
fn youtube_writes_assets_that_follow_youtubes_rules() {
    let dir = tempfile::tempdir().unwrap();
    let video = dir.path().join("talk.mp4");
    let made = Command::new("bash")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/make-demo-video.sh"))
        .arg(&video)
        .arg("60")
        .status()
        .unwrap();
    assert!(made.success());
    let segments: Vec<Segment> = (0..12u64)
        .map(|i| {
            Segment::new(
                i * 5000,
                i * 5000 + 3000,
                format!("Topic {i} is explained in this sentence."),
            )
        })
        .collect();
    std::fs::write(
        dir.path().join("talk.srt"),
        subtitles::write(&segments, Format::Srt),
    )
    .unwrap();
    assert!(
        dubber(dir.path(), &["prep", "talk.mp4", "--subtitles", "talk.srt"])
            .status
            .success()
    );
    let out = dubber(dir.path(), &["youtube", "talk.mp4", "--title", "A talk"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let yt = dir.path().join("talk.dub/youtube");
    let chapters_text = std::fs::read_to_string(yt.join("chapters.txt")).unwrap();
    let chapters: Vec<dubber::youtube::Chapter> = chapters_text
        .lines()
        .map(|l| {
            let (time, title) = l.split_once(' ').unwrap();
            dubber::youtube::Chapter {
                start_secs: dubber::youtube::parse_timestamp(time).unwrap(),
                title: title.to_string(),
            }
        })
        .collect();
    assert!(chapters.len() >= 3, "{chapters_text}");
    dubber::youtube::validate_chapters(&chapters, 60_000).unwrap();
    let description = std::fs::read_to_string(yt.join("description.md")).unwrap();
    assert!(description.starts_with("A talk"), "{description}");
    assert!(description.contains(chapters_text.lines().next().unwrap()));
    assert!(
        !std::fs::read_to_string(yt.join("tags.txt"))
            .unwrap()
            .trim()
            .is_empty()
    );
}
