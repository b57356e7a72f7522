//! `dubber prep` + `dubber synth` end to end: a generated video, real ffmpeg, the OpenAI wire
//! format served locally. Checks the track length, where speech is, the background between lines,
//! the cache on re-runs, and that editing one line re-synthesizes exactly one chunk.

mod common;
mod local_common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{Faults, TestServer, dubber};

const DEMO_SRT: &str = "1\n00:00:01,000 --> 00:00:04,500\nWelcome to this short demonstration\n\n\
2\n00:00:04,600 --> 00:00:05,900\nof automatic dubbing.\n\n\
3\n00:00:07,000 --> 00:00:10,500\nEvery line starts exactly where the original line started.\n\n\
4\n00:00:13,000 --> 00:00:16,000\nSpeech is never cut off, and never rushed past the limit.\n\n\
5\n00:00:19,000 --> 00:00:22,500\nThe music underneath stays audible between the lines.\n\n\
6\n00:00:25,000 --> 00:00:27,000\nThank you for watching this demo.\n";

fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn make_demo(dir: &Path) -> PathBuf {
    let video = dir.join("demo.mp4");
    let status = Command::new("bash")
        .arg(manifest_dir().join("scripts/make-demo-video.sh"))
        .arg(&video)
        .status()
        .unwrap();
    assert!(status.success());
    std::fs::write(dir.join("demo.srt"), DEMO_SRT).unwrap();
    video
}

/// `dubber prep demo.mp4 --subtitles demo.srt` in `dir`, which must succeed.
async fn prep_demo(dir: &Path) {
    let args = ["prep", "demo.mp4", "--subtitles", "demo.srt"];
    let out = dubber(dir, args.iter().map(|a| a.to_string()).collect()).await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn read_wav(path: &Path) -> (u32, Vec<f32>) {
    let mut r = hound::WavReader::open(path).unwrap();
    let rate = r.spec().sample_rate;
    let s = r
        .samples::<i16>()
        .map(|s| f32::from(s.unwrap()) / 32768.0)
        .collect();
    (rate, s)
}

fn rms(s: &[f32]) -> f32 {
    (s.iter().map(|v| v * v).sum::<f32>() / s.len().max(1) as f32).sqrt()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn synth_dubs_caches_and_resynthesizes_only_edited_lines() {
    let server = TestServer::start(Faults::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let video = make_demo(dir.path());
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();

    prep_demo(dir.path()).await;

    let synth_args = s(&[
        "synth",
        "demo.mp4",
        "--tts",
        "openai",
        "--base-url",
        &server.openai_base(),
        "-q",
    ]);
    let out = dubber(dir.path(), synth_args.clone()).await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let work = dir.path().join("demo.dub");
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(work.join("report.json")).unwrap()).unwrap();
    let chunks = report["chunks"].as_array().unwrap();
    // Lines 1+2 are one sentence, packed with line 3 (1.1 s apart); 4, 5 and 6 stand alone
    // behind pauses of 1.2 s or more.
    assert_eq!(chunks.len(), 4);
    assert_eq!(chunks[0]["windows"].as_array().unwrap().len(), 3);
    assert_eq!(server.stats.requests(), 4);

    // The voice track is exactly as long as the video: 30 s at 24 kHz.
    let (rate, voice) = read_wav(&work.join("dub.wav"));
    assert_eq!(rate, 24_000);
    assert_eq!(voice.len(), 720_000);
    // Speech where the report says, silence elsewhere.
    for c in chunks {
        let start = (c["start"].as_f64().unwrap() * 24_000.0) as usize;
        let played = (c["played"].as_f64().unwrap() * 24_000.0) as usize;
        assert!(played > 0);
        assert!(
            rms(&voice[start + played / 4..start + 3 * played / 4]) > 0.1,
            "{c}"
        );
        assert!(
            (c["start"].as_f64().unwrap() - c["windows"][0]["start"].as_f64().unwrap()).abs()
                < 0.03
        );
    }
    assert!(
        rms(&voice[17 * 24_000..18 * 24_000]) < 0.001,
        "silence between lines"
    );
    // With the default --background duck, the music is still there between lines.
    // The mix is at 48 kHz, in the source's layout (the demo is mono).
    let (mix_rate, mix) = read_wav(&work.join("mix.wav"));
    assert_eq!(mix_rate, 48_000);
    assert_eq!(mix.len(), 2 * voice.len());
    assert_eq!(report["background"]["method"], "duck");
    assert_eq!(report["background"]["channels"], 1);
    assert!(
        rms(&mix[17 * 48_000..18 * 48_000]) > 0.03,
        "background between lines"
    );

    // The dubbed video's audio is as long as the video, within one AAC frame.
    let dubbed = dir.path().join("demo.dubbed.mp4");
    let probe = dubber::media::probe(&dubbed).unwrap();
    let audio = probe
        .streams
        .iter()
        .find(|s| s.kind == dubber::media::StreamKind::Audio)
        .unwrap();
    assert!(
        (audio.duration_secs.unwrap() - 30.0).abs() <= 1024.0 / 24_000.0,
        "{audio:?}"
    );
    assert!(
        (probe.target_duration_secs()
            - dubber::media::probe(&video).unwrap().target_duration_secs())
        .abs()
            < 1e-6
    );

    // A second run makes no request.
    let out = dubber(dir.path(), synth_args.clone()).await;
    assert!(out.status.success());
    assert_eq!(server.stats.requests(), 4);

    // Editing one line re-synthesizes exactly its chunk.
    let subs = work.join("subs.srt");
    let edited = std::fs::read_to_string(&subs)
        .unwrap()
        .replace("Thank you for watching", "Thanks for watching");
    std::fs::write(&subs, edited).unwrap();
    let out = dubber(dir.path(), synth_args).await;
    assert!(out.status.success());
    assert_eq!(server.stats.requests(), 5);
    assert_eq!(
        server.stats.inputs().last().unwrap(),
        "Thanks for watching this demo."
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn synth_without_prep_or_key_fails_clearly() {
    let dir = tempfile::tempdir().unwrap();
    make_demo(dir.path());
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    let out = dubber(dir.path(), s(&["synth", "demo.mp4", "--tts", "openai"])).await;
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1));
    assert!(err.contains("OPENAI_API_KEY"), "{err}");

    let out = dubber(
        dir.path(),
        s(&[
            "synth",
            "demo.mp4",
            "--tts",
            "openai",
            "--base-url",
            "http://127.0.0.1:9/v1",
        ]),
    )
    .await;
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("subs.srt: no subtitles to speak; run `dubber prep` first"),
        "{err}"
    );
}

/// Every file below `dir` whose name marks it as unfinished.
fn part_files(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            found.extend(part_files(&path));
        } else if path.to_string_lossy().contains(".part") {
            found.push(path);
        }
    }
    found
}

/// Ctrl-C during synth stops at once and leaves no unfinished file; the re-run asks only for the
/// lines that had no clip yet.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_during_synth_leaves_no_part_file_and_the_rerun_resumes() {
    let server = TestServer::start(Faults {
        latency: std::time::Duration::from_millis(400),
        ..Faults::default()
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    make_demo(dir.path());
    let lines: String = (0..14)
        .map(|i| {
            let (start, end) = (i * 2000, i * 2000 + 1500);
            format!(
                "{}\n00:00:{:02},{:03} --> 00:00:{:02},{:03}\nLine number {i} of the test.\n\n",
                i + 1,
                start / 1000,
                start % 1000,
                end / 1000,
                end % 1000
            )
        })
        .collect();
    std::fs::write(dir.path().join("demo.srt"), lines).unwrap();
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    prep_demo(dir.path()).await;
    let base = server.openai_base();
    let synth_args = [
        "synth",
        "demo.mp4",
        "--timing",
        "segment",
        "--tts",
        "openai",
        "--base-url",
        &base,
        "--max-concurrent",
        "2",
    ];
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_dubber"))
        .args(synth_args)
        .current_dir(dir.path())
        .env_remove("OPENAI_API_KEY")
        .env_remove("OPENAI_BASE_URL")
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Interrupt once a few clips are cached, while others are in flight.
    let cache = dir.path().join("demo.dub/cache/tts");
    let cached = || {
        std::fs::read_dir(&cache).map_or(0, |d| {
            d.flatten()
                .filter(|e| {
                    let name = e.file_name().to_string_lossy().into_owned();
                    name.ends_with(".wav") && !name.starts_with('.')
                })
                .count()
        })
    };
    let started = std::time::Instant::now();
    while cached() < 4 {
        assert!(started.elapsed().as_secs() < 30, "no clip cached in 30 s");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let kill = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let out = tokio::task::spawn_blocking(move || child.wait_with_output().unwrap())
        .await
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{err}");
    assert!(err.contains("interrupted"), "{err}");
    assert_eq!(part_files(dir.path()), Vec::<PathBuf>::new());
    let done = cached();
    assert!(done < 14, "interrupted before the end: {done} clips");
    let before = server.stats.requests();

    let out = dubber(dir.path(), s(&synth_args)).await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(server.stats.requests() - before, 14 - done);
    assert_eq!(part_files(dir.path()), Vec::<PathBuf>::new());
}

const SDH_SRT: &str = "1\n00:00:01,000 --> 00:00:04,000\n[MUSIC PLAYING]\n\n\
2\n00:00:06,000 --> 00:00:08,000\nJOHN: Hello there.\n\n\
3\n00:00:10,000 --> 00:00:13,000\n- Are you coming? - Yes.\n\n\
4\n00:00:16,000 --> 00:00:18,000\n(laughs) Okay.\n\n\
5\n00:00:20,000 --> 00:00:23,000\n<i>♪ la la la ♪</i>\n";

/// [`SDH_SRT`] with the dialogue's two turns labelled: three named speakers.
fn labelled_srt() -> String {
    SDH_SRT.replace(
        "- Are you coming? - Yes.",
        "- ANN: Are you coming? - BOB: Yes.",
    )
}

/// Subtitles for the hard of hearing: descriptions, lyrics, labels and dashes are shown but not
/// spoken; silent lines are silence; prep and synth agree on the lines and their speakers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sdh_markup_is_shown_but_not_spoken() {
    let server = TestServer::start(Faults::default()).await;
    let dir = tempfile::tempdir().unwrap();
    make_demo(dir.path());
    std::fs::write(dir.path().join("demo.srt"), SDH_SRT).unwrap();
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    prep_demo(dir.path()).await;
    let work = dir.path().join("demo.dub");
    let subs = std::fs::read_to_string(work.join("subs.srt")).unwrap();
    for shown in [
        "[MUSIC PLAYING]",
        "JOHN: Hello there.",
        "- Yes.",
        "(laughs) Okay.",
    ] {
        assert!(subs.contains(shown), "{subs}");
    }
    let segments: serde_json::Value =
        serde_json::from_slice(&std::fs::read(work.join("segments.json")).unwrap()).unwrap();
    let speakers: Vec<Option<&str>> = segments
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["speaker"].as_str())
        .collect();
    assert_eq!(
        speakers,
        // A dialogue dash names nobody (the audio would decide, but JOHN's label means the
        // subtitles name their speakers, so diarization does not run).
        vec![None, Some("JOHN"), None, None, None, None]
    );

    let out = dubber(
        dir.path(),
        s(&[
            "synth",
            "demo.mp4",
            "--tts",
            "openai",
            "--base-url",
            &server.openai_base(),
            "-q",
        ]),
    )
    .await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut inputs = server.stats.inputs();
    inputs.sort();
    // The two dash lines name nobody, so one voice speaks them as one request.
    assert_eq!(
        inputs,
        vec!["Are you coming? Yes.", "Hello there.", "Okay."]
    );
    // What synth read back from subs.srt is what prep wrote to segments.json.
    let reviewed =
        dubber::pipeline::synth::read_reviewed_subtitles(&dubber::pipeline::Workdir::new(&work))
            .unwrap();
    let read_back: Vec<Option<&str>> = reviewed.iter().map(|s| s.speaker.as_deref()).collect();
    assert_eq!(read_back, speakers);
    // The music and the song are silence in the voice track.
    let (rate, voice) = read_wav(&work.join("dub.wav"));
    let secs =
        |a: f64, b: f64| &voice[(a * f64::from(rate)) as usize..(b * f64::from(rate)) as usize];
    assert!(rms(secs(1.0, 4.0)) < 0.001, "music line is silent");
    assert!(rms(secs(20.0, 23.0)) < 0.001, "song line is silent");
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(work.join("report.json")).unwrap()).unwrap();
    let chunks = report["chunks"].as_array().unwrap();
    assert_eq!(chunks.len(), 5, "{report}");
    let john = &chunks[1];
    let (start, played) = (
        john["start"].as_f64().unwrap(),
        john["played"].as_f64().unwrap(),
    );
    assert!((start - 6.0).abs() < 0.03, "{john}");
    assert!(
        rms(secs(start + played / 4.0, start + played * 3.0 / 4.0)) > 0.1,
        "{john}"
    );
}

/// Prep with the defaults casts the speakers with local voices; a dub with OpenAI casts the
/// automatic entries again with OpenAI voices (and says so), while an entry a person kept (its
/// `auto` line deleted) keeps its voice and its text.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dub_with_a_service_recasts_the_voices_prep_chose() {
    use dubber::cast::{EngineKind, read_cast};

    let server = TestServer::start(Faults::default()).await;
    let dir = tempfile::tempdir().unwrap();
    make_demo(dir.path());
    std::fs::write(dir.path().join("demo.srt"), labelled_srt()).unwrap();
    prep_demo(dir.path()).await;
    let work = dir.path().join("demo.dub");
    let cast_path = work.join("cast.toml");
    let prepped = read_cast(&cast_path).unwrap();
    let names: Vec<&str> = prepped.speakers.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["JOHN", "ANN", "BOB"]);
    for (name, entry) in &prepped.speakers {
        assert!(
            entry.auto && entry.voice.engine.is_local(),
            "{name}: {entry:?}"
        );
    }

    // A person keeps JOHN's voice by deleting his entry's `auto` line.
    let text = std::fs::read_to_string(&cast_path).unwrap();
    let john_at = text.find("[speakers.JOHN]").unwrap();
    let next_at = john_at + text[john_at..].find("\n[").unwrap() + 1;
    let john_block = &text[john_at..next_at];
    assert!(john_block.contains("\nauto = true\n"), "{john_block}");
    let kept = format!(
        "{}{}",
        &text[..john_at],
        john_block.replace("auto = true\n", "")
    );
    std::fs::write(&cast_path, format!("{kept}{}", &text[next_at..])).unwrap();
    let john = prepped.get("JOHN").unwrap().voice.id();

    let synth = vec![
        "synth".to_string(),
        "demo.mp4".into(),
        "--tts".into(),
        "openai".into(),
        "--base-url".into(),
        server.openai_base(),
    ];
    let out = dubber(dir.path(), synth.clone()).await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("re-cast for openai"), "{stderr}");

    // The re-cast speakers and the line with no speaker went to the service; JOHN did not.
    let mut inputs = server.stats.inputs();
    inputs.sort();
    assert_eq!(inputs, vec!["Are you coming?", "Okay.", "Yes."]);
    let spoken: Vec<(String, String)> = local_common::chunk_voices(&work)
        .into_iter()
        .filter(|(s, _)| !s.is_empty())
        .collect();
    assert_eq!(spoken.len(), 3, "{spoken:?}");
    assert_eq!(spoken[0], ("JOHN".to_string(), john.clone()));
    assert!(spoken[1].1.starts_with("openai:"), "{spoken:?}");
    assert!(spoken[2].1.starts_with("openai:"), "{spoken:?}");
    assert_ne!(spoken[1].1, spoken[2].1, "two speakers, two voices");

    // cast.toml names the OpenAI voices, still automatic; the person's text is as they left it.
    let after = std::fs::read_to_string(&cast_path).unwrap();
    assert!(after.starts_with(&kept), "{after}");
    let recast = read_cast(&cast_path).unwrap();
    let john_entry = recast.get("JOHN").unwrap();
    assert!(!john_entry.auto);
    assert_eq!(john_entry.voice.id(), john);
    for (name, (_, voice)) in ["ANN", "BOB"].into_iter().zip(&spoken[1..]) {
        let entry = recast.get(name).unwrap();
        assert!(entry.auto, "{name}");
        assert_eq!(
            entry.voice.engine,
            EngineKind::parse("openai").unwrap(),
            "{name}"
        );
        assert_eq!(&entry.voice.id(), voice, "{name}");
    }
    assert_eq!(recast.speakers.len(), 3, "{after}");

    // Dubbing again with the same engine changes nothing and asks for nothing.
    let before = server.stats.requests();
    let out = dubber(dir.path(), synth).await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(!stderr.contains("re-cast"), "{stderr}");
    assert_eq!(server.stats.requests(), before);
    assert_eq!(std::fs::read_to_string(&cast_path).unwrap(), after);
}

/// A voice with native speed whose faster takes come out *longer* (the worst a voice's take
/// variance can do): the second takes must not leave the dub fitting worse than the first take
/// stretched. Every line fits, within the cap, on its first take.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn second_takes_never_fit_worse_than_the_first_take_stretched() {
    use dubber::pipeline::synth::{SynthOptions, synth};
    use dubber::pipeline::{PrepOptions, PrepSource, Workdir, prepare};
    use dubber::tts::{AudioFormat, Limits, SynthAudio, SynthError, SynthRequest, Synthesizer};

    struct Perverse;
    impl Synthesizer for Perverse {
        async fn synthesize(&self, req: &SynthRequest) -> Result<SynthAudio, SynthError> {
            // 2.3 s for the long line, 1 s otherwise; a faster take is longer, not shorter.
            let ms = if req.text.contains("long") {
                2300.0
            } else {
                1000.0
            };
            let samples = common::tone(24_000, (ms * req.speed) as u64);
            Ok(SynthAudio {
                bytes: samples.iter().flat_map(|s| s.to_le_bytes()).collect(),
                format: AudioFormat::Pcm16 {
                    sample_rate: 24_000,
                },
            })
        }
        fn cache_signature(&self) -> String {
            "perverse".into()
        }
        fn limits(&self) -> Limits {
            Limits {
                max_input_chars: 10_000,
                speed: 0.5..=2.0,
            }
        }
        fn native_speed(&self) -> bool {
            true
        }
    }

    let dir = tempfile::tempdir().unwrap();
    let video = make_demo(dir.path());
    let srt = dir.path().join("tight.srt");
    std::fs::write(
        &srt,
        "1\n00:00:01,000 --> 00:00:03,000\nThis is the long line.\n\n\
         2\n00:00:03,100 --> 00:00:05,000\nNext.\n",
    )
    .unwrap();
    let workdir = Workdir::new(dir.path().join("tight.dub"));
    prepare::<dubber::llm::OpenAiChat>(
        &workdir,
        PrepSource::Subtitles(&srt),
        &PrepOptions::default(),
        None,
    )
    .await
    .unwrap();
    let mut opts = SynthOptions {
        casting: Default::default(),
        grouping: Default::default(),
        policy: dubber::timeline::Policy::with_mode(dubber::timeline::Mode::Segment),
        request: SynthRequest::new("", "v", "m"),
        batch: Default::default(),
        allow_silence: false,
        background: dubber::pipeline::synth::Background::None,
        ducking: Default::default(),
        mux: Default::default(),
        output: None,
    };
    opts.request.format = AudioFormat::Pcm16 {
        sample_rate: 24_000,
    };
    let outcome = synth(
        &video,
        &workdir,
        &Perverse,
        &opts,
        &dubber::progress::Progress::hidden(),
    )
    .await
    .unwrap();
    let long = &outcome.report.chunks[0];
    assert_eq!(long.voice_speed, 1.0, "the longer second take was dropped");
    assert!(
        long.speed > 1.1 && long.speed <= 1.25,
        "stretched within the cap: {}",
        long.speed
    );
    assert!(
        outcome.report.chunks.iter().all(|c| c.warnings.is_empty()),
        "every line fits: {:?}",
        outcome.report.chunks
    );
}

/// Two processes on one work directory: the second stops at once with a clear error, and the
/// first finishes unharmed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_dubber_on_the_same_workdir_is_refused() {
    let server = TestServer::start(Faults {
        latency: std::time::Duration::from_millis(300),
        ..Faults::default()
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    make_demo(dir.path());
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    prep_demo(dir.path()).await;
    let base = server.openai_base();
    let args = [
        "synth",
        "demo.mp4",
        "--tts",
        "openai",
        "--base-url",
        &base,
        "--max-concurrent",
        "1",
    ];
    let first = std::process::Command::new(env!("CARGO_BIN_EXE_dubber"))
        .args(args)
        .current_dir(dir.path())
        .env_remove("OPENAI_API_KEY")
        .env_remove("OPENAI_BASE_URL")
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Once the first one is synthesizing, a second one comes along.
    let started = std::time::Instant::now();
    while server.stats.requests() == 0 {
        assert!(
            started.elapsed().as_secs() < 30,
            "the first synth never started"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let second = dubber(dir.path(), s(&args)).await;
    let err = String::from_utf8_lossy(&second.stderr);
    assert_eq!(second.status.code(), Some(1), "{err}");
    assert!(
        err.contains("demo.dub") && err.contains("another dubber is working"),
        "{err}"
    );
    let first = tokio::task::spawn_blocking(move || first.wait_with_output().unwrap())
        .await
        .unwrap();
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    assert!(dir.path().join("demo.dubbed.mp4").exists());
}
