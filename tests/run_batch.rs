//! `dubber run` over several videos: a folder with `--jobs 2` where one input is corrupt (two
//! dubbed, one clear error, exit 1), `--burn soft` adding a subtitle stream, and a resumed run
//! that redoes nothing.

mod common;

use std::path::Path;
use std::process::Command;

use common::{Faults, TestServer, dubber};

const SRT: &str = "1\n00:00:01,000 --> 00:00:04,000\nWelcome to this short demonstration.\n\n\
2\n00:00:07,000 --> 00:00:10,000\nEvery line starts where the original started.\n";

fn make_video(path: &Path) {
    let status = Command::new("bash")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/make-demo-video.sh"))
        .arg(path)
        .arg("12")
        .status()
        .unwrap();
    assert!(status.success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batch_with_one_corrupt_video_dubs_the_others_and_exits_1() {
    let server = TestServer::start(Faults::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let videos = dir.path().join("videos");
    std::fs::create_dir(&videos).unwrap();
    for name in ["a", "b"] {
        make_video(&videos.join(format!("{name}.mp4")));
        std::fs::write(videos.join(format!("{name}.srt")), SRT).unwrap();
    }
    std::fs::write(
        videos.join("c.mp4"),
        b"\x00\x00\x00\x18ftypmp42 this is not really a video",
    )
    .unwrap();
    std::fs::write(videos.join("c.srt"), SRT).unwrap();

    let args: Vec<String> = [
        "run",
        "videos",
        "--jobs",
        "2",
        "--tts",
        "openai",
        "--base-url",
        &server.openai_base(),
        "--burn",
        "soft",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let out = dubber(dir.path(), args.clone()).await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("1 of 3 videos failed"), "{stderr}");
    assert!(stderr.contains("c.mp4: not a media file"), "{stderr}");
    for name in ["a", "b"] {
        let dubbed = videos.join(format!("{name}.dubbed.mp4"));
        let info = dubber::media::probe(&dubbed).unwrap();
        let kinds: Vec<_> = info.streams.iter().map(|s| s.kind).collect();
        assert!(
            kinds.contains(&dubber::media::StreamKind::Subtitle),
            "{name}: {kinds:?}"
        );
        assert!(kinds.contains(&dubber::media::StreamKind::Audio));
        assert!(
            (info.duration_secs - 12.0).abs() < 0.1,
            "{}",
            info.duration_secs
        );
    }
    assert!(!videos.join("c.dubbed.mp4").exists());
    // Two chunks for each good video (its lines are 3 s apart); the corrupt one made no request.
    assert_eq!(server.stats.requests(), 4);

    // Started again, nothing is redone: no request, and prep keeps the workdirs as they are.
    let subs_a = dir.path().join("a.dub/subs.srt");
    let before = std::fs::metadata(&subs_a).unwrap().modified().unwrap();
    let out = dubber(dir.path(), args).await;
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(server.stats.requests(), 4);
    assert_eq!(
        std::fs::metadata(&subs_a).unwrap().modified().unwrap(),
        before
    );
}
