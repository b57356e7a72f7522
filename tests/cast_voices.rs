//! Several speakers, several voices: `dubber prep` casts the speakers of a WebVTT file into
//! cast.toml, `dubber synth` speaks each with their voice (real Piper and espeak-ng, offline),
//! `--cast FILE` is honoured, a renamed speaker costs one request, and a video without speakers
//! is dubbed exactly as before casts existed.

mod local_common;

use std::path::Path;
use std::process::Command;

use dubber::audio::pitch::speaker_pitch;
use dubber::local_tts::PiperVoice;
use dubber::tts::{AudioFormat, CacheKey, SynthRequest};
use local_common::{chunk_voices, dubber_offline, espeak_voice, piper_voice, resample, write_wav};
use serde_json::Value;

/// Lines far enough apart (more than the 1.2 s sentence gap) that each is its own chunk.
const SPANS_MS: [(u64, u64); 3] = [(500, 2500), (4000, 6000), (7500, 9500)];

/// A 10-second video whose audio holds the lines spoken in the speakers' registers: Alice (high,
/// espeak-ng f4) at lines 1 and 3, Bob (low, m3) at line 2.
fn make_video(dir: &Path) {
    let rate = 16_000u32;
    let mut audio = vec![0.0f32; 10 * rate as usize];
    for (i, &(start, _)) in SPANS_MS.iter().enumerate() {
        let voice = if i == 1 { "en-us+m3" } else { "en-us+f4" };
        let speech = resample(
            &espeak_voice(voice, 190, "This is how I sound when I talk."),
            22_050,
            rate,
        );
        let at = (start * u64::from(rate) / 1000) as usize;
        let end = (at + speech.len()).min(audio.len());
        audio[at..end].copy_from_slice(&speech[..end - at]);
    }
    write_wav(&dir.join("voices.wav"), &audio, rate);
    let ok = Command::new("ffmpeg")
        .args(["-y", "-loglevel", "error", "-f", "lavfi", "-i"])
        .arg("color=c=black:s=160x120:d=10:r=10")
        .args([
            "-i",
            "voices.wav",
            "-shortest",
            "-c:v",
            "libx264",
            "-c:a",
            "aac",
            "x.mp4",
        ])
        .current_dir(dir)
        .status()
        .expect("ffmpeg runs");
    assert!(ok.success());
    std::fs::write(
        dir.join("x.vtt"),
        "WEBVTT\n\n00:00:00.500 --> 00:00:02.500\n<v Alice>Hello Bob, how are you today?\n\n\
         00:00:04.000 --> 00:00:06.000\n<v Bob>I am fine, thank you, Alice.\n\n\
         00:00:07.500 --> 00:00:09.500\n<v Alice>Shall we go for a walk?\n",
    )
    .unwrap();
}

fn run_ok(dir: &Path, args: &[&str]) -> String {
    let out = dubber_offline(dir, args);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "dubber {args:?} failed:\n{stderr}");
    stderr
}

/// The `synth_done` event of `dubber --json synth ...`.
fn synth_json(dir: &Path, extra: &[&str]) -> Value {
    let args = [
        &["--json", "synth", "x.mp4", "--background", "none"][..],
        extra,
    ]
    .concat();
    let out = dubber_offline(dir, &args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .find(|v| v["event"] == "synth_done")
        .expect("a synth_done event")
}

fn report(dir: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(dir.join("x.dub/report.json")).unwrap()).unwrap()
}

/// Each chunk's (speaker, voice) in report.json.
fn voices(dir: &Path) -> Vec<(String, String)> {
    chunk_voices(&dir.join("x.dub"))
}

/// The median pitch of chunk `i` as played in dub.wav.
fn chunk_pitch(dir: &Path, i: usize) -> f64 {
    let chunk = &report(dir)["chunks"][i];
    let start = (chunk["start"].as_f64().unwrap() * 1000.0) as u64;
    let end = start + (chunk["played"].as_f64().unwrap() * 1000.0) as u64;
    speaker_pitch(&dir.join("x.dub/dub.wav"), &[(start, end)])
        .unwrap()
        .expect("voiced speech in the chunk")
}

#[test]
fn speakers_get_their_own_voices_by_register_and_by_cast_file() {
    local_common::require_models();
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    make_video(dir);
    let out = dubber_offline(dir, &["--json", "prep", "x.mp4", "--subtitles", "x.vtt"]);
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{log}");
    assert!(log.contains("diarization not run"), "{log}");
    let done: Value = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .find(|e| e["event"] == "prep_done")
        .expect("a prep_done event");
    assert_eq!(done["speakers"], serde_json::json!(["Alice", "Bob"]));
    let cast = std::fs::read_to_string(dir.join("x.dub/cast.toml")).unwrap();
    assert!(
        cast.contains("[speakers.Alice]") && cast.contains("[speakers.Bob]"),
        "{cast}"
    );

    // Automatic cast: different voices, and Alice (the higher speaker) the higher one.
    let done = synth_json(dir, &[]);
    let cast_event: Vec<(String, String)> = done["cast"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["speaker"].as_str().unwrap().into(),
                c["voice"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert_eq!(cast_event.len(), 2, "{done}");
    let auto = voices(dir);
    assert_eq!(auto[0].0, "Alice");
    assert_eq!(auto[1].0, "Bob");
    assert_eq!(auto[0].1, auto[2].1);
    assert_ne!(auto[0].1, auto[1].1, "{auto:?}");
    assert_eq!(cast_event[0], auto[0]);
    let (alice, bob) = (chunk_pitch(dir, 0), chunk_pitch(dir, 1));
    assert!(alice > bob * 1.2, "Alice {alice:.0} Hz, Bob {bob:.0} Hz");
    let speakers = done["summary"]["speakers"].as_array().unwrap();
    assert_eq!(speakers.len(), 2, "{done}");
    assert_eq!(speakers[0]["chunks"], 2);

    // A series' cast file is honoured.
    std::fs::write(
        dir.join("series.toml"),
        "[speakers.Alice]\nengine = \"espeak\"\nvoice = \"en-us+f3\"\n\n\
         [speakers.Bob]\nengine = \"piper\"\nvoice = \"en_US-joe-medium\"\n",
    )
    .unwrap();
    synth_json(dir, &["--cast", "series.toml"]);
    let series = voices(dir);
    assert_eq!(series[0].1, "espeak:en-us+f3");
    assert_eq!(series[1].1, "piper:en_US-joe-medium");
    assert_eq!(series[2].1, "espeak:en-us+f3");

    // A paid engine without its key: the error names the file, the line and the speaker.
    std::fs::write(
        dir.join("paid.toml"),
        "# paid\n[speakers.Bob]\nengine = \"openai\"\nvoice = \"onyx\"\n",
    )
    .unwrap();
    let out = dubber_offline(dir, &["synth", "x.mp4", "--cast", "paid.toml"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains("paid.toml:2")
            && stderr.contains("\"Bob\"")
            && stderr.contains("OPENAI_API_KEY"),
        "{stderr}"
    );

    // Renaming the speaker of one line in subs.srt: one request, only that line's voice changes.
    let subs_path = dir.join("x.dub/subs.srt");
    let subs = std::fs::read_to_string(&subs_path).unwrap();
    let last = subs
        .rfind("<v Alice>")
        .expect("the speaker shown in subs.srt");
    let edited = format!(
        "{}<v Bob>{}",
        &subs[..last],
        &subs[last + "<v Alice>".len()..]
    );
    std::fs::write(&subs_path, edited).unwrap();
    let done = synth_json(dir, &[]);
    assert_eq!(done["requests"], 1, "{done}");
    let after = voices(dir);
    assert_eq!(after[0], auto[0]);
    assert_eq!(after[1], auto[1]);
    assert_eq!(after[2], ("Bob".to_string(), auto[1].1.clone()));
}

#[test]
fn lines_without_speakers_are_dubbed_as_before() {
    let (voice_path, _) = piper_voice().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    make_video(dir);
    std::fs::write(
        dir.join("x.srt"),
        "1\n00:00:00,500 --> 00:00:02,500\nHello there.\n\n\
         2\n00:00:04,000 --> 00:00:06,000\nGood to see you.\n",
    )
    .unwrap();
    // The audio holds two voices: without `--speakers off` diarization would (rightly) find them.
    run_ok(
        dir,
        &["prep", "x.mp4", "--subtitles", "x.srt", "--speakers", "off"],
    );
    assert!(!dir.join("x.dub/cast.toml").exists());
    let done = synth_json(dir, &[]);
    assert_eq!(done["cast"].as_array().unwrap().len(), 0);
    assert!(!dir.join("x.dub/cast.toml").exists());
    let chunks = voices(dir);
    assert!(
        chunks
            .iter()
            .all(|(s, v)| s.is_empty() && v == "piper:en_US-joe-medium"),
        "{chunks:?}"
    );
    // The clips are where the request dubber always made puts them: the cache keys of a video
    // without speakers did not change.
    let signature = PiperVoice::load(&voice_path)
        .unwrap()
        .cache_signature()
        .to_string();
    for text in ["Hello there.", "Good to see you."] {
        let mut req = SynthRequest::new(text, "default", "piper");
        req.format = AudioFormat::Pcm16 {
            sample_rate: dubber::timeline::RATE,
        };
        let key = CacheKey::new(&signature, &req);
        let clip = dir.join(format!("x.dub/cache/tts/{}.wav", key.as_str()));
        assert!(clip.is_file(), "{} missing", clip.display());
    }
    assert_eq!(synth_json(dir, &[])["requests"], 0);
}
