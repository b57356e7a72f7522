//! The media stage against real ffmpeg: probe, extract, mux (video copied bit-exact), soft and
//! hard subtitles (with a file name that needs escaping), scene cuts, and clear errors.

use std::path::{Path, PathBuf};
use std::process::Command;

use dubber::media::{self, HardSubtitleStyle, MediaError, MuxOptions, SubtitleTrack};

fn ffmpeg(args: &[&str]) {
    let out = Command::new("ffmpeg")
        .args(["-hide_banner", "-loglevel", "error", "-y"])
        .args(args)
        .output()
        .expect("ffmpeg runs");
    assert!(
        out.status.success(),
        "ffmpeg {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A black 4 s 320x240 video at 25 fps with a 440 Hz tone; colour switches to white at 2 s.
fn make_video(dir: &Path, name: &str) -> PathBuf {
    let path = dir.join(name);
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "color=c=black:s=320x240:r=25:d=2",
        "-f",
        "lavfi",
        "-i",
        "color=c=white:s=320x240:r=25:d=2",
        "-f",
        "lavfi",
        "-i",
        "sine=frequency=440:sample_rate=48000:duration=4",
        "-filter_complex",
        "[0:v][1:v]concat=n=2:v=1:a=0[v]",
        "-map",
        "[v]",
        "-map",
        "2:a",
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
        "-g",
        "25",
        "-c:a",
        "aac",
        "-shortest",
        path.to_str().unwrap(),
    ]);
    path
}

/// Size and MD5 of every video packet (timestamps differ between containers' time bases).
fn video_packet_hashes(path: &Path) -> Vec<String> {
    let out = Command::new("ffmpeg")
        .args(["-hide_banner", "-loglevel", "error", "-i"])
        .arg(path)
        .args(["-map", "0:v:0", "-c", "copy", "-f", "framemd5", "-"])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| {
            l.split(',')
                .skip(4)
                .map(str::trim)
                .collect::<Vec<_>>()
                .join(",")
        })
        .collect()
}

/// The brightest luma value of the frame at `secs`.
fn max_luma_at(path: &Path, secs: f64) -> u8 {
    let out = Command::new("ffmpeg")
        .args([
            "-hide_banner",
            "-loglevel",
            "error",
            "-ss",
            &secs.to_string(),
            "-i",
        ])
        .arg(path)
        .args(["-frames:v", "1", "-f", "rawvideo", "-pix_fmt", "gray", "-"])
        .output()
        .unwrap();
    out.stdout.iter().copied().max().unwrap_or(0)
}

#[test]
fn probe_extract_and_mux_copy_the_video_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let video = make_video(dir.path(), "in.mp4");
    let info = media::probe(&video).unwrap();
    assert!(info.has_video() && info.has_audio());
    assert!((info.target_duration_secs() - 4.0).abs() < 0.05, "{info:?}");
    assert_eq!(info.video().unwrap().frame_rate, Some(25.0));

    let speech = dir.path().join("w/speech.wav");
    let background = dir.path().join("w/background.wav");
    media::extract_audio(&video, &speech, Some(&background)).unwrap();
    let s = media::probe(&speech).unwrap();
    assert_eq!(s.streams[0].sample_rate, Some(16000));
    assert_eq!(s.streams[0].channels, Some(1));
    assert_eq!(
        media::probe(&background).unwrap().streams[0].channels,
        Some(2)
    );

    let dub = dir.path().join("dub.wav");
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "sine=frequency=220:sample_rate=24000:duration=4",
        dub.to_str().unwrap(),
    ]);
    for (name, codec) in [("out.mp4", "aac"), ("out.mkv", "opus")] {
        let out = dir.path().join(name);
        let opts = MuxOptions {
            language: Some("deu".into()),
            keep_original_track: true,
            original_language: Some("eng".into()),
            channel_layout: None,
        };
        media::mux(&video, &dub, &out, &opts).unwrap();
        assert_eq!(
            video_packet_hashes(&out),
            video_packet_hashes(&video),
            "{name}"
        );
        let o = media::probe(&out).unwrap();
        let audio: Vec<_> = o
            .streams
            .iter()
            .filter(|s| s.kind == media::StreamKind::Audio)
            .collect();
        assert_eq!(audio.len(), 2, "{name}");
        assert_eq!(audio[0].codec, codec);
        assert_eq!(audio[0].language.as_deref(), Some("deu"));
        assert_eq!(audio[1].language.as_deref(), Some("eng"));
        assert!(
            (o.duration_secs - 4.0).abs() < 0.1,
            "{name}: {}",
            o.duration_secs
        );
    }
    // No temporary files left behind.
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().contains(".part-"))
        .collect();
    assert!(leftovers.is_empty());
}

#[test]
fn soft_and_hard_subtitles() {
    let dir = tempfile::tempdir().unwrap();
    let video = make_video(dir.path(), "in.mp4");
    let subs = dir.path().join("it's: a, test [1].srt");
    std::fs::write(&subs, "1\n00:00:00,200 --> 00:00:01,800\nWHITE TEXT HERE\n").unwrap();

    let soft = dir.path().join("soft.mp4");
    let tracks = [
        SubtitleTrack {
            path: subs.clone(),
            language: Some("eng".into()),
            title: None,
        },
        SubtitleTrack {
            path: subs.clone(),
            language: Some("deu".into()),
            title: Some("Deutsch".into()),
        },
    ];
    media::burn_soft(&video, &tracks, &soft).unwrap();
    let info = media::probe(&soft).unwrap();
    let subtitle_streams: Vec<_> = info
        .streams
        .iter()
        .filter(|s| s.kind == media::StreamKind::Subtitle)
        .collect();
    assert_eq!(subtitle_streams.len(), 2);
    assert_eq!(subtitle_streams[0].codec, "mov_text");
    assert_eq!(subtitle_streams[1].language.as_deref(), Some("deu"));

    let hard = dir.path().join("hard.mp4");
    let style = HardSubtitleStyle {
        preset: "ultrafast".into(),
        ..HardSubtitleStyle::default()
    };
    media::burn_hard(&video, &subs, &hard, &style).unwrap();
    // The frame at 1 s is black but for the burned text; at 1.9 s no subtitle shows.
    assert!(max_luma_at(&hard, 1.0) > 150, "subtitle drawn");
    assert!(max_luma_at(&hard, 1.9) < 40, "nothing drawn after the cue");
    assert!(max_luma_at(&video, 1.0) < 40, "the source frame is black");
}

#[test]
fn scene_cuts_find_the_colour_change() {
    let dir = tempfile::tempdir().unwrap();
    let video = make_video(dir.path(), "in.mp4");
    let cuts = media::scene_cuts(&video, 0.4).unwrap();
    assert_eq!(cuts, vec![2000]);
}

#[test]
fn bad_inputs_give_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let fake = dir.path().join("notes.mp4");
    std::fs::write(&fake, b"this is not a video").unwrap();
    let err = media::probe(&fake).unwrap_err();
    assert!(matches!(err, MediaError::NotMedia { .. }));
    assert!(
        err.to_string()
            .starts_with(&format!("{}: not a media file", fake.display()))
    );

    let missing = dir.path().join("missing.mp4");
    assert!(
        media::probe(&missing)
            .unwrap_err()
            .to_string()
            .contains("missing.mp4: no such file")
    );

    let silent = dir.path().join("silent.mp4");
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "color=c=black:s=64x64:r=10:d=1",
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
        silent.to_str().unwrap(),
    ]);
    let err = media::extract_audio(&silent, &dir.path().join("s.wav"), None).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!("{}: has no audio stream", silent.display())
    );
}

#[test]
fn filter_escaping_covers_both_levels() {
    assert_eq!(media::filter_escape("a:b"), "a\\\\:b");
    assert_eq!(media::filter_escape("it's"), "it\\\\\\'s");
    assert_eq!(media::filter_escape("x,y"), "x\\,y");
}
