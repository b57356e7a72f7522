//! Several speakers, end to end on the offline defaults: `dubber run` on conversations with no
//! subtitles finds who speaks each line (diarization) and dubs each speaker with a different
//! voice; one voice stays one speaker.

mod local_common;

use std::collections::BTreeSet;
use std::path::Path;

use local_common::conversation::{Conversation, Voice, attribution, script, shuffled};
use local_common::{chunk_voices, dubber_offline, require_models};

/// What a finished run left: each line (start ms, end ms, speaker) from segments.json, and each
/// chunk's (speaker, voice) from report.json.
struct Dubbed {
    lines: Vec<(u64, u64, Option<String>)>,
    voices: Vec<(String, String)>,
    /// The `cast` of the run's `video_done` event: (speaker, voice).
    cast: Vec<(String, String)>,
    stderr: String,
}

fn json(path: &Path) -> serde_json::Value {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_slice(&bytes).unwrap()
}

fn secs_ms(v: &serde_json::Value) -> u64 {
    (v.as_f64().expect("a time in seconds") * 1000.0).round() as u64
}

/// `dubber run NAME.mp4` (plus `extra` flags) in `dir` on the conversation.
fn dub(dir: &Path, name: &str, conv: &Conversation, extra: &[&str]) -> Dubbed {
    let video = dir.join(format!("{name}.mp4"));
    conv.write_video(&video);
    let mut args = vec!["run", "--json", video.to_str().unwrap()];
    args.extend_from_slice(extra);
    let out = dubber_offline(dir, &args);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "dubber run failed:\n{stderr}");
    let work = dir.join(format!("{name}.dub"));
    let segments = json(&work.join("segments.json"));
    let lines = segments
        .as_array()
        .expect("segments.json is an array")
        .iter()
        .map(|s| {
            (
                secs_ms(&s["start"]),
                secs_ms(&s["end"]),
                s["speaker"].as_str().map(str::to_string),
            )
        })
        .collect();
    let voices = chunk_voices(&work);
    let events = String::from_utf8_lossy(&out.stdout).into_owned();
    let done: serde_json::Value = events
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find(|e| e["event"] == "video_done")
        .unwrap_or_else(|| panic!("no video_done event in:\n{events}"));
    let cast = done["cast"]
        .as_array()
        .expect("video_done has a cast")
        .iter()
        .map(|c| {
            let field = |k: &str| c[k].as_str().unwrap().to_string();
            (field("speaker"), field("voice"))
        })
        .collect();
    Dubbed {
        lines,
        voices,
        cast,
        stderr,
    }
}

fn speakers(d: &Dubbed) -> BTreeSet<Option<String>> {
    d.lines.iter().map(|l| l.2.clone()).collect()
}

fn distinct_voices(d: &Dubbed) -> BTreeSet<String> {
    d.voices.iter().map(|v| v.1.clone()).collect()
}

/// A conversation of `turns` turns among `voices`, in an order fixed by `seed` (which also
/// fixes the gaps).
fn conversation(voices: &[Voice], turns: usize, seed: u64) -> Conversation {
    Conversation::perform(&script(voices, &shuffled(voices.len(), turns, seed)), seed)
}

/// Speakers found, share attributed right, for a conversation among `voices`.
fn check_conversation(voices: &[Voice], turns: usize, seed: u64, bar: f64) {
    require_models();
    let dir = tempfile::tempdir().unwrap();
    let conv = conversation(voices, turns, seed);
    let dubbed = dub(dir.path(), "talk", &conv, &[]);
    let found = speakers(&dubbed);
    let right = attribution(&conv.turns, &dubbed.lines);
    eprintln!(
        "{} voices, {} turns, {:.0} s: speakers found {found:?}, {} lines, {}/{} turns right",
        voices.len(),
        turns,
        conv.duration_ms() as f64 / 1000.0,
        dubbed.lines.len(),
        right.right,
        right.of,
    );
    assert_eq!(
        found.len(),
        voices.len(),
        "speakers found: {found:?}\n{}",
        dubbed.stderr
    );
    assert!(
        found.iter().all(Option::is_some),
        "every line has a speaker"
    );
    assert!(
        right.share() >= bar,
        "{:.1} % of turns attributed right, the bar is {:.0} %\n{:?}\n{:?}",
        right.share() * 100.0,
        bar * 100.0,
        conv.turns,
        dubbed.lines
    );
    // Each speaker is dubbed with one voice, and no two speakers share one.
    let cast: BTreeSet<(String, String)> = dubbed.voices.iter().cloned().collect();
    assert_eq!(cast.len(), voices.len(), "cast: {cast:?}");
    assert_eq!(
        distinct_voices(&dubbed).len(),
        voices.len(),
        "cast: {cast:?}"
    );
    // The end-of-run event names the same cast.
    let announced: BTreeSet<(String, String)> = dubbed.cast.iter().cloned().collect();
    assert_eq!(announced, cast);
}

#[test]
fn two_speakers_are_found_and_dubbed_with_two_voices() {
    check_conversation(&[Voice::Piper, Voice::Espeak("en-us+f3")], 16, 7, 0.95);
}

#[test]
fn three_speakers_are_found_and_dubbed_with_three_voices() {
    check_conversation(
        &[
            Voice::Piper,
            Voice::Espeak("en-us+f3"),
            Voice::Espeak("en-gb+m3"),
        ],
        20,
        11,
        0.90,
    );
}

#[test]
fn one_voice_is_one_speaker() {
    require_models();
    let dir = tempfile::tempdir().unwrap();
    // A talk: one voice, turns of varied length and speed with pauses between them.
    let conv = conversation(&[Voice::Piper], 14, 3);
    let dubbed = dub(dir.path(), "talk", &conv, &[]);
    assert_eq!(
        speakers(&dubbed),
        BTreeSet::from([None]),
        "one voice comes out as one speaker (no speaker names)\n{}",
        dubbed.stderr
    );
    assert_eq!(distinct_voices(&dubbed).len(), 1);
    assert!(dubbed.cast.is_empty(), "{:?}", dubbed.cast);
}

#[test]
fn speakers_off_keeps_one_voice() {
    require_models();
    let dir = tempfile::tempdir().unwrap();
    let conv = conversation(&[Voice::Piper, Voice::Espeak("en-us+f3")], 6, 5);
    let dubbed = dub(dir.path(), "talk", &conv, &["--speakers", "off"]);
    assert_eq!(speakers(&dubbed), BTreeSet::from([None]));
    assert_eq!(distinct_voices(&dubbed).len(), 1);
}
