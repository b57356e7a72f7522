//! Several speakers, end to end on the offline defaults: `dubber run` on conversations with no
//! subtitles finds who speaks each line (diarization) and dubs each speaker with a different
//! voice; one voice stays one speaker.

mod local_common;

use std::collections::BTreeSet;
use std::path::Path;

use local_common::conversation::{
    Conversation, Turn, Voice, attribution, attribution_by_turn, script, shuffled,
};
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

/// Each line prep left in `work`'s segments.json: start ms, end ms, speaker.
fn prepared_lines(work: &Path) -> Vec<(u64, u64, Option<String>)> {
    json(&work.join("segments.json"))
        .as_array()
        .expect("segments.json is an array")
        .iter()
        .map(|s| {
            let speaker = s["speaker"].as_str().map(str::to_string);
            (secs_ms(&s["start"]), secs_ms(&s["end"]), speaker)
        })
        .collect()
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
    let lines = prepared_lines(&work);
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

/// A US man at low pitch and a British woman (espeak-ng `en-us -p 30`, `en-gb-x-rp+f3`), 24
/// turns (about 80 s): two speakers that differ in sex and accent.
#[test]
fn a_low_man_and_a_british_woman_are_two_speakers() {
    check_conversation(
        &[Voice::EspeakAt("en-us", 30), Voice::Espeak("en-gb-x-rp+f3")],
        24,
        17,
        0.95,
    );
}

/// Two men who differ in accent and pitch: Piper's joe (American, a natural voice) and
/// espeak-ng's Scottish voice raised to `-p 75`, 24 turns. (Two espeak-ng men are no such
/// pair: whatever the accent and pitch, ECAPA scores its variants of one sex 0.52–0.73 against
/// each other, as alike as one voice's own lines, 0.61–0.74; they share one synthetic vocal
/// tract. The real phone call below is the same-sex case on human voices.)
#[test]
fn two_men_of_different_accent_and_pitch_are_two_speakers() {
    check_conversation(
        &[Voice::Piper, Voice::EspeakAt("en-gb-scotland", 75)],
        24,
        19,
        0.90,
    );
}

/// Where scripts/setup-test-media.sh put the phone call (a WAV and its STM transcript), or a
/// failure naming that script.
fn phone_call() -> (std::path::PathBuf, std::path::PathBuf) {
    let root = std::env::var_os("DUBBER_TEST_MEDIA")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| {
            std::path::PathBuf::from(std::env::var_os("HOME").expect("HOME is set"))
                .join(".cache/dubber/test-media")
        })
        .join("phone-call");
    let (wav, stm) = (root.join("sample.wav"), root.join("sample.stm"));
    assert!(
        wav.is_file() && stm.is_file(),
        "the phone-call recording is missing, so this test cannot run: run \
         scripts/setup-test-media.sh (make test does)"
    );
    (wav, stm)
}

/// The lines of an STM transcript as turns (speakers numbered in order of appearance).
fn stm_turns(stm: &Path) -> Vec<Turn> {
    let text = std::fs::read_to_string(stm).unwrap();
    let mut names: Vec<String> = Vec::new();
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            let speaker = names.iter().position(|n| n == f[2]).unwrap_or_else(|| {
                names.push(f[2].to_string());
                names.len() - 1
            });
            let ms = |s: &str| (s.parse::<f64>().unwrap() * 1000.0).round() as u64;
            Turn {
                speaker,
                text: f[5..].join(" "),
                start_ms: ms(f[3]),
                end_ms: ms(f[4]),
            }
        })
        .collect()
}

/// A real recording, not made by a synthesiser: a telephone call between two women
/// (pyannote.audio's sample, 13 lines), through `dubber prep` with the defaults (Whisper finds
/// the lines, diarization their speakers).
#[test]
fn a_real_phone_call_between_two_women_is_two_speakers() {
    require_models();
    let (wav, stm) = phone_call();
    let dir = tempfile::tempdir().unwrap();
    let video = dir.path().join("call.mp4");
    let status = std::process::Command::new("ffmpeg")
        .args(["-hide_banner", "-loglevel", "error", "-y", "-i"])
        .arg(&wav)
        .args([
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=160x120:rate=10:duration=30",
        ])
        .args([
            "-map",
            "1:v",
            "-map",
            "0:a",
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
        ])
        .args(["-c:a", "aac", "-ar", "48000", "-shortest"])
        .arg(&video)
        .status()
        .expect("ffmpeg runs");
    assert!(status.success());
    let out = dubber_offline(dir.path(), &["prep", video.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "dubber prep failed:\n{stderr}");
    let lines = prepared_lines(&dir.path().join("call.dub"));
    let found: BTreeSet<Option<String>> = lines.iter().map(|l| l.2.clone()).collect();
    let truth = stm_turns(&stm);
    let right = attribution_by_turn(&truth, &lines);
    eprintln!(
        "phone call: speakers found {found:?}, {} lines, {}/{} of the transcript's lines right",
        lines.len(),
        right.right,
        right.of
    );
    assert_eq!(truth.len(), 13);
    assert_eq!(found.len(), 2, "{lines:?}\n{stderr}");
    assert!(stderr.contains("2 speakers found"), "{stderr}");
    assert!(right.right >= 11, "{lines:?}\n{truth:?}");
}

/// A cue of dialogue dashes is two turns: split in two lines whose speakers are found from the
/// audio like any other line's, and no speaker is ever named after a dash.
#[test]
fn a_cue_of_dialogue_dashes_is_two_turns_whose_speakers_come_from_the_audio() {
    require_models();
    let dir = tempfile::tempdir().unwrap();
    let conv = conversation(&[Voice::Piper, Voice::Espeak("en-us+f3")], 10, 23);
    // Turns 4 and 5 (two speakers) are one cue of two dashes, as a film's subtitles write them.
    let (a, b) = (&conv.turns[4], &conv.turns[5]);
    assert_ne!(a.speaker, b.speaker);
    let mut cues: Vec<dubber::Segment> = Vec::new();
    for (k, t) in conv.turns.iter().enumerate() {
        match k {
            4 => cues.push(dubber::Segment::new(
                a.start_ms,
                b.end_ms,
                format!("- {}\n- {}", a.text, b.text),
            )),
            5 => {}
            _ => cues.push(dubber::Segment::new(t.start_ms, t.end_ms, &t.text)),
        }
    }
    let srt = dir.path().join("talk.srt");
    std::fs::write(
        &srt,
        dubber::subtitles::write(&cues, dubber::subtitles::Format::Srt),
    )
    .unwrap();
    let video = dir.path().join("talk.mp4");
    conv.write_video(&video);
    let args = [
        "prep",
        video.to_str().unwrap(),
        "--subtitles",
        srt.to_str().unwrap(),
    ];
    let out = dubber_offline(dir.path(), &args);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "dubber prep failed:\n{stderr}");
    let work = dir.path().join("talk.dub");
    let lines = prepared_lines(&work);
    // The cue is two lines, each with a speaker of the audio, the two not the same.
    assert_eq!(lines.len(), conv.turns.len(), "{lines:?}");
    let (first, second) = (&lines[4], &lines[5]);
    assert!(first.2.is_some() && second.2.is_some(), "{lines:?}");
    assert_ne!(first.2, second.2, "{lines:?}");
    let right = attribution(&conv.turns, &lines);
    assert_eq!(right.right, right.of, "{lines:?}\n{:?}", conv.turns);
    // No speaker named after a dash anywhere.
    for (file, shown) in [
        ("segments.json", "\"speaker\": \"-"),
        ("subs.srt", "<v -"),
        ("cast.toml", "[speakers.-"),
        ("cast.toml", "[speakers.\"-"),
    ] {
        let text = std::fs::read_to_string(work.join(file)).unwrap();
        assert!(!text.contains(shown), "{file}:\n{text}");
    }
    for l in &lines {
        assert!(!l.2.as_deref().unwrap_or("").starts_with('-'), "{lines:?}");
    }
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
