//! `dubber run` on the offline defaults (local Whisper, local Piper voice), on a generated 30 s
//! video: the video stream is copied bit-exact, the dubbed audio is as long as the video, speech is
//! where the report says, the music survives between lines, and subtitles go in soft or hard.
//! Needs the models that `scripts/setup-models.sh` installs.

mod local_common;

use std::path::{Path, PathBuf};
use std::process::Command;

use local_common::{dubber_offline as dubber, require_models};

/// Size and MD5 of every packet of the first video stream.
fn video_packets(path: &Path) -> Vec<String> {
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

/// The bottom third of the frame at `secs`, as 8-bit gray.
fn bottom_gray(path: &Path, secs: f64) -> Vec<u8> {
    let out = Command::new("ffmpeg")
        .args([
            "-hide_banner",
            "-loglevel",
            "error",
            "-ss",
            &format!("{secs}"),
            "-i",
        ])
        .arg(path)
        .args([
            "-frames:v",
            "1",
            "-vf",
            "crop=iw:ih/3:0:2*ih/3",
            "-f",
            "rawvideo",
            "-pix_fmt",
            "gray",
            "-",
        ])
        .output()
        .unwrap();
    out.stdout
}

fn mean_abs_diff(a: &[u8], b: &[u8]) -> f64 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(x, y)| f64::from(x.abs_diff(*y)))
        .sum::<f64>()
        / a.len().max(1) as f64
}

fn wav(path: &Path) -> (u32, Vec<f32>) {
    let mut r = hound::WavReader::open(path).unwrap();
    let rate = r.spec().sample_rate;
    (
        rate,
        r.samples::<i16>()
            .map(|s| f32::from(s.unwrap()) / 32768.0)
            .collect(),
    )
}

fn rms(s: &[f32]) -> f32 {
    (s.iter().map(|v| v * v).sum::<f32>() / s.len().max(1) as f32).sqrt()
}

#[test]
fn run_offline_dubs_a_demo_video() {
    require_models();
    let dir = tempfile::tempdir().unwrap();
    let video: PathBuf = dir.path().join("demo.mp4");
    let made = Command::new("bash")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/make-demo-video.sh"))
        .arg(&video)
        .status()
        .unwrap();
    assert!(made.success());

    let out = dubber(dir.path(), &["run", "demo.mp4", "--burn", "soft"]);
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{log}");
    assert!(log.contains("1 speaker found"), "diarization ran:\n{log}");
    let dubbed = dir.path().join("demo.dubbed.mp4");
    assert_eq!(
        video_packets(&dubbed),
        video_packets(&video),
        "video stream copied bit-exact"
    );

    let info = dubber::media::probe(&dubbed).unwrap();
    let audio = info
        .streams
        .iter()
        .find(|s| s.kind == dubber::media::StreamKind::Audio)
        .unwrap();
    let video_secs = dubber::media::probe(&video).unwrap().target_duration_secs();
    // One AAC frame is 1024 samples at the track's 24 kHz.
    assert!(
        (audio.duration_secs.unwrap() - video_secs).abs() <= 1024.0 / 24_000.0,
        "{audio:?}"
    );
    assert!(
        info.streams
            .iter()
            .any(|s| s.kind == dubber::media::StreamKind::Subtitle)
    );

    // The transcript found the five spoken lines at their times (±0.3 s).
    let work = dir.path().join("demo.dub");
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(work.join("report.json")).unwrap()).unwrap();
    let starts: Vec<f64> = report["chunks"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|c| {
            c["windows"]
                .as_array()
                .unwrap()
                .iter()
                .map(|w| w["start"].as_f64().unwrap())
        })
        .collect();
    for (want, got) in [1.0, 7.0, 13.0, 19.0, 25.0].iter().zip(&starts) {
        assert!(
            (want - got).abs() < 0.3,
            "line at {want} s found at {got} s: {starts:?}"
        );
    }
    assert_eq!(starts.len(), 5, "{starts:?}");
    // One voice is one speaker: diarization ran (the model is installed) and named nobody, so
    // every line keeps the one default voice and no cast is written.
    let segments: serde_json::Value =
        serde_json::from_slice(&std::fs::read(work.join("segments.json")).unwrap()).unwrap();
    assert!(
        segments
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s.get("speaker").is_none()),
        "{segments}"
    );
    assert!(!work.join("cast.toml").exists());
    for c in report["chunks"].as_array().unwrap() {
        assert_eq!(c["voice"], "piper:en_US-joe-medium", "{c}");
    }

    // Speech where the report says; silence between lines in the voice track.
    let (rate, voice) = wav(&work.join("dub.wav"));
    assert_eq!(voice.len() as f64, (video_secs * f64::from(rate)).round());
    let secs = |t: f64| (t * f64::from(rate)) as usize;
    for c in report["chunks"].as_array().unwrap() {
        let (start, played) = (c["start"].as_f64().unwrap(), c["played"].as_f64().unwrap());
        assert!(
            rms(&voice[secs(start)..secs(start + played)]) > 0.02,
            "speech in {c}"
        );
        assert!(c["speed"].as_f64().unwrap() <= 1.25);
    }
    let (mix_rate, mix) = wav(&work.join("mix.wav"));
    let gap = secs(29.0)..secs(29.8);
    assert!(
        rms(&voice[gap.clone()]) < 0.001,
        "no voice after the last line"
    );
    let mix_secs = |t: f64| (t * f64::from(mix_rate)) as usize;
    assert!(
        rms(&mix[mix_secs(29.0)..mix_secs(29.8)]) > 0.03,
        "the music bed is still there with --background duck"
    );

    // Hard subtitles: a resumed run (nothing re-synthesized) that changes the pixels where a
    // subtitle shows, and barely elsewhere.
    let out = dubber(dir.path(), &["run", "demo.mp4", "--burn", "hard"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let during = mean_abs_diff(&bottom_gray(&video, 2.5), &bottom_gray(&dubbed, 2.5));
    let after = mean_abs_diff(&bottom_gray(&video, 29.5), &bottom_gray(&dubbed, 29.5));
    assert!(
        during > 3.0 * after.max(0.5),
        "subtitle drawn: {during:.2} vs {after:.2}"
    );
}

#[test]
fn a_local_voice_speaks_a_tight_line_faster_instead_of_being_stretched() {
    tight_line_gets_a_second_take(&[
        &["prep", "v.mp4", "--subtitles", "v.srt"],
        &["synth", "v.mp4", "--timing", "segment"],
    ]);
}

/// `run` shares the provider limit between videos through a wrapper engine: the wrapper must not
/// hide the voice's native speed, or `run` would stretch where `synth` makes second takes.
#[test]
fn run_makes_second_takes_as_synth_does() {
    tight_line_gets_a_second_take(&[&["run", "v.mp4", "--timing", "segment"]]);
}

/// A 12 s video whose first line is too long for its window, dubbed by `commands` (run in turn):
/// the local voice speaks that line faster (a second take), and the cap holds on the combined speed.
fn tight_line_gets_a_second_take(commands: &[&[&str]]) {
    require_models();
    let dir = tempfile::tempdir().unwrap();
    let video = dir.path().join("v.mp4");
    let made = Command::new("bash")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/make-demo-video.sh"))
        .arg(&video)
        .arg("12")
        .status()
        .unwrap();
    assert!(made.success());
    // The first line gets 2.8 s before the next starts: too little for the voice at its own pace.
    std::fs::write(
        dir.path().join("v.srt"),
        "1\n00:00:01,000 --> 00:00:03,400\nThis sentence is a little too long for the short window it has.\n\n\
         2\n00:00:03,800 --> 00:00:06,000\nThe next line follows at once.\n",
    )
    .unwrap();
    for args in commands {
        let out = dubber(dir.path(), args);
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("v.dub/report.json")).unwrap())
            .unwrap();
    let first = &report["chunks"][0];
    let (voice, speed) = (
        first["voice_speed"].as_f64().unwrap(),
        first["speed"].as_f64().unwrap(),
    );
    assert!(
        voice > 1.0,
        "a second take at a faster voice speed: {first}"
    );
    assert!(
        voice * speed <= 1.25 + 1e-9,
        "the cap holds on the combined speed: {first}"
    );
    for c in report["chunks"].as_array().unwrap() {
        assert!(
            c["voice_speed"].as_f64().unwrap() * c["speed"].as_f64().unwrap() <= 1.25 + 1e-9,
            "{c}"
        );
    }
}
