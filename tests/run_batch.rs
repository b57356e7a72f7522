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

/// Two videos named alike in two folders, dubbed at once into one output folder: each gets its own
/// work directory, its own lines and its own output.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn same_named_videos_in_two_folders_get_their_own_workdirs_and_outputs() {
    let server = TestServer::start(Faults::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let lines = [
        ("s1", "The first folder speaks about rivers."),
        ("s2", "The second folder speaks about mountains."),
    ];
    for (folder, line) in lines {
        let folder = dir.path().join(folder);
        std::fs::create_dir(&folder).unwrap();
        make_video(&folder.join("ep.mp4"));
        std::fs::write(
            folder.join("ep.srt"),
            format!("1\n00:00:01,000 --> 00:00:04,000\n{line}\n"),
        )
        .unwrap();
    }
    let args: Vec<String> = [
        "run",
        "s1/ep.mp4",
        "s2/ep.mp4",
        "--jobs",
        "2",
        "-o",
        "out",
        "--tts",
        "openai",
        "--base-url",
        &server.openai_base(),
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let out = dubber(dir.path(), args).await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    for (folder, line) in lines {
        let report = dir.path().join(format!("{folder}-ep.dub/report.json"));
        let report: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
        assert_eq!(report["chunks"][0]["text"], line, "{report}");
        let dubbed = dir.path().join(format!("out/{folder}-ep.dubbed.mp4"));
        let info = dubber::media::probe(&dubbed).unwrap();
        assert!((info.duration_secs - 12.0).abs() < 0.1, "{dubbed:?}");
    }
    assert!(!dir.path().join("ep.dub").exists());
    assert_eq!(server.stats.requests(), 2);
}

/// A colon in a file name is a file name, not an ffmpeg protocol: inputs, work directory, temp
/// files and output alike.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_video_named_with_a_colon_dubs() {
    let server = TestServer::start(Faults::default()).await;
    let dir = tempfile::tempdir().unwrap();
    make_video(&dir.path().join("take:2.mp4"));
    std::fs::write(dir.path().join("take:2.srt"), SRT).unwrap();
    let args: Vec<String> = [
        "run",
        "take:2.mp4",
        "--burn",
        "hard",
        "--tts",
        "openai",
        "--base-url",
        &server.openai_base(),
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let out = dubber(dir.path(), args).await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let info = dubber::media::probe(&dir.path().join("take:2.dubbed.mp4")).unwrap();
    assert!((info.duration_secs - 12.0).abs() < 0.1);
    assert!(dir.path().join("take:2.dub/report.json").exists());
}
