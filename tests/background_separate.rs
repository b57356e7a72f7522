//! `--background separate` and the source's channel layout, on videos the tests make from known
//! parts: an espeak-ng voice at known times, music beds that differ per channel, summed exactly
//! into lossless audio.

mod common_media;

use std::path::Path;

use common_media::*;
use dubber::background::{self, Method, MixJob, Mode};

/// Original lines: (start s, text). The voice is en-gb; the dubs speak other words in en-us.
const LINES: [(f64, &str); 3] = [
    (
        1.0,
        "The river was quiet that morning, and nobody came down to the water.",
    ),
    (
        6.5,
        "She counted the boats twice before she believed the number.",
    ),
    (
        12.0,
        "Then the bells began, one after another, all along the coast.",
    ),
];
const SECS: f64 = 17.0;

/// The original voice (48 kHz) and the windows (seconds) where each line sounds.
fn original_voice(dir: &Path) -> (Vec<f32>, Vec<(f64, f64)>) {
    let len = (SECS * f64::from(RATE)) as usize;
    let clips: Vec<(f64, Vec<f32>)> = LINES
        .iter()
        .map(|(start, text)| (*start, speak(dir, text, "en-gb")))
        .collect();
    let windows = clips
        .iter()
        .map(|(s, c)| (*s, s + c.len() as f64 / f64::from(RATE)))
        .collect();
    (place(len, &clips), windows)
}

fn samples(t: f64) -> usize {
    (t * f64::from(RATE)).round() as usize
}

/// A silent dub as long as the video, so the mix is the treated background alone.
fn silent_dub(path: &Path) {
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: RATE / 2,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(path, spec).unwrap();
    for _ in 0..(SECS * f64::from(RATE / 2)) as usize {
        w.write_sample(0i16).unwrap();
    }
    w.finalize().unwrap();
}

/// A stereo source: the original voice in the centre, a different music bed on each side.
struct Stereo {
    voice: Vec<f32>,
    windows: Vec<(f64, f64)>,
    music: [Vec<f32>; 2],
    left: Vec<f32>,
    right: Vec<f32>,
}

fn stereo_source(dir: &Path) -> Stereo {
    let (voice, windows) = original_voice(dir);
    let len = voice.len();
    let music = [music(len, 7, 0.03), music(len, 11, 0.03)];
    let side = |m: &[f32]| -> Vec<f32> { voice.iter().zip(m).map(|(v, m)| v + m).collect() };
    let (left, right) = (side(&music[0]), side(&music[1]));
    Stereo {
        voice,
        windows,
        music,
        left,
        right,
    }
}

/// Stereo: voice in the centre (the same samples left and right), a different music bed on each
/// side. The video is made, its audio extracted as the pipeline does, and separated under the
/// original lines' windows with a silent dub, so the output is the treated background alone.
///
/// How it is measured: the mask is computed from the mix, but once computed it is a linear
/// operation, so the voice alone and the music alone are sent through the very same masks
/// (`StereoMask::push_guided`), and the test checks that the two parts add up to what the pipeline
/// wrote. The voice's attenuation is then the energy of the voice part left in the speech windows
/// against the voice's own there; the music's change is the energy of the music part left against
/// the music's own in the same windows (where it is damaged, if anywhere). Outside the windows and
/// their ramps the output must equal the extracted source sample for sample.
#[test]
fn stereo_separation_takes_the_centred_voice_out_and_keeps_the_wide_music() {
    let dir = tempfile::tempdir().unwrap();
    let Stereo {
        voice,
        windows,
        music: [ml, mr],
        left,
        right,
    } = stereo_source(dir.path());
    let len = voice.len();
    let video = make_video(
        dir.path(),
        &dir.path().join("stereo.mkv"),
        &[left, right],
        "stereo",
    );

    let bg = dir.path().join("background.wav");
    dubber::media::extract_background(&video, &bg, RATE).unwrap();
    let dub = dir.path().join("dub.wav");
    silent_dub(&dub);
    let lines: Vec<(u64, u64)> = windows
        .iter()
        .map(|&(s, e)| ((s * 24_000.0) as u64, (e * 24_000.0).ceil() as u64))
        .collect();
    let out = dir.path().join("mix.wav");
    let report = background::render(MixJob {
        dub: &dub,
        background: &bg,
        layout_name: Some("stereo"),
        mode: Mode::Separate,
        ducking: Default::default(),
        dub_speech: &[],
        original_lines: &lines,
        separator: None,
        out: &out,
    })
    .unwrap();
    assert_eq!(report.method, Method::StereoMask);
    assert_eq!((report.channels, report.layout.as_str()), (2, "stereo"));

    let (src, _) = read_channels(&bg);
    let (got, rate) = read_channels(&out);
    assert_eq!(rate, RATE);
    assert_eq!(got.len(), 2);
    assert_eq!(got[0].len(), len);

    // What the mask left of each part: the same separator, its masks computed from the extracted
    // source, applied to the voice alone and to the music alone (linear once the masks are set).
    let through = |target: &[&[f32]; 2]| -> [Vec<f32>; 2] {
        let ramp = (0.08 * f64::from(RATE)) as u64;
        let lines48: Vec<(u64, u64)> = lines.iter().map(|&(s, e)| (2 * s, 2 * e)).collect();
        let mut sep = background::StereoMask::new(background::Gate::new(lines48, ramp, ramp), RATE);
        let mix: Vec<f32> = (0..len).flat_map(|i| [src[0][i], src[1][i]]).collect();
        let part: Vec<f32> = (0..len)
            .flat_map(|i| [target[0][i], target[1][i]])
            .collect();
        let mut out = Vec::new();
        for (m, p) in mix.chunks(10_000).zip(part.chunks(10_000)) {
            sep.push_guided(m, p, &mut out);
        }
        background::Separator::finish(&mut sep, &mut out);
        [
            out.iter().step_by(2).copied().collect(),
            out.iter().skip(1).step_by(2).copied().collect(),
        ]
    };
    let voice_left = through(&[&voice, &voice]);
    let music_left = through(&[&ml, &mr]);
    // The parts add up to what the pipeline wrote (to the 16-bit rounding of source and output).
    for c in 0..2 {
        let worst = (0..len)
            .map(|i| (voice_left[c][i] + music_left[c][i] - got[c][i]).abs())
            .fold(0f32, f32::max);
        assert!(
            worst < 3e-4,
            "channel {c}: parts differ from the output by {worst}"
        );
    }

    let (mut voice_e, mut residue_e, mut music_e, mut kept_e) = (0.0, 0.0, 0.0, 0.0);
    for &(s, e) in &windows {
        let r = samples(s)..samples(e).min(len);
        for (c, m) in [(0, &ml), (1, &mr)] {
            voice_e += energy(&voice[r.clone()]);
            residue_e += energy(&voice_left[c][r.clone()]);
            music_e += energy(&m[r.clone()]);
            kept_e += energy(&music_left[c][r.clone()]);
        }
    }
    let attenuation = db(voice_e / residue_e);
    let music_change = db(kept_e / music_e);
    let source_ratio = db(voice_e / music_e);
    eprintln!(
        "stereo: voice {source_ratio:.1} dB over the music; voice down {attenuation:.1} dB; music {music_change:+.2} dB"
    );
    assert!(attenuation >= 20.0, "voice only {attenuation:.1} dB down");
    assert!(
        music_change.abs() <= 3.0,
        "music moved {music_change:.2} dB"
    );

    // Outside the windows and their 80 ms ramps, the output is the source, sample for sample.
    let ramp = samples(0.08);
    let mut outside = 0;
    for i in 0..len {
        let near = windows
            .iter()
            .any(|&(s, e)| i + ramp >= samples(s) && i < samples(e) + ramp + 2);
        if !near {
            outside += 1;
            assert_eq!(got[0][i], src[0][i], "left at {i}");
            assert_eq!(got[1][i], src[1][i], "right at {i}");
        }
    }
    assert!(outside > samples(2.0), "{outside} samples outside speech");
}

/// The subtitles the dub speaks: other words than the original voice says, in the same windows.
fn dub_srt(windows: &[(f64, f64)]) -> String {
    let texts = [
        "Good morning to everyone listening today.",
        "Please count the boats again, slowly.",
        "And now the bells are ringing on the coast.",
    ];
    let cues: Vec<(f64, f64, &str)> = windows
        .iter()
        .zip(texts)
        .map(|(&(s, e), t)| (s, e, t))
        .collect();
    srt(&cues)
}

/// `dubber prep` then `dubber synth` with the local espeak-ng voice and `--background MODE`, in
/// `dir` on `video` (a file name there). Returns the report, the mix's channels and synth's stderr.
fn dub(
    dir: &Path,
    video: &str,
    srt: &str,
    mode: &str,
) -> (serde_json::Value, Vec<Vec<f32>>, String) {
    std::fs::write(dir.join("v.srt"), srt).unwrap();
    let run = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_dubber"))
            .args(args)
            .current_dir(dir)
            .env_remove("RUST_LOG")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    let work = format!("{mode}.dub");
    let out = format!("{mode}.dubbed.mkv");
    run(&[
        "prep",
        video,
        "--subtitles",
        "v.srt",
        "--workdir",
        &work,
        "-q",
    ]);
    let stderr = run(&[
        "synth",
        video,
        "--workdir",
        &work,
        "--tts",
        "espeak",
        "--voice",
        "en-us",
        "--background",
        mode,
        // The layout methods; the model has its own tests (background_model, separation_cli).
        "--separation",
        "layout",
        "-o",
        &out,
    ]);
    let work = dir.join(work);
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(work.join("report.json")).unwrap()).unwrap();
    let (mix, rate) = read_channels(&work.join("mix.wav"));
    assert_eq!(rate, RATE);
    (report, mix, stderr)
}

/// Channels and layout ffprobe reads from the dubbed video's first audio stream.
fn probe_audio(path: &Path) -> (u64, String) {
    let out = std::process::Command::new("ffprobe")
        .args(["-v", "error", "-select_streams", "a:0", "-show_entries"])
        .args(["stream=channels,channel_layout", "-of", "json"])
        .arg(path)
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let s = &v["streams"][0];
    (
        s["channels"].as_u64().unwrap(),
        s["channel_layout"].as_str().unwrap_or("").to_string(),
    )
}

/// R128 integrated loudness of `s` (48 kHz mono) over `windows` (seconds).
fn lufs(s: &[f32], windows: &[(f64, f64)]) -> f64 {
    let mut m = ebur128::EbuR128::new(1, RATE, ebur128::Mode::I).unwrap();
    for &(a, b) in windows {
        m.add_frames_f32(&s[samples(a)..samples(b).min(s.len())])
            .unwrap();
    }
    m.loudness_global().unwrap()
}

/// 5.1(side): the voice only in the centre, a different music bed in each of the five others.
/// `separate` gives a 5.1 track whose centre is the dub (nothing of the original voice: their
/// correlation over the speech windows is under 0.05, the dub as loud there as the voice was,
/// within 1.5 LU) and whose other five channels are the source's (within 0.5 dB; in fact equal).
/// `duck` keeps the six channels too.
#[test]
fn five_one_separate_replaces_the_centre_and_keeps_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let (voice, windows) = original_voice(dir.path());
    let len = voice.len();
    let mut channels: Vec<Vec<f32>> = (0..6).map(|c| music(len, 20 + c, 0.03)).collect();
    channels[2] = voice.clone();
    make_video(
        dir.path(),
        &dir.path().join("film.mkv"),
        &channels,
        "5.1(side)",
    );
    let srt = dub_srt(&windows);

    let (report, mix, _) = dub(dir.path(), "film.mkv", &srt, "separate");
    let bg = &report["background"];
    assert_eq!(bg["method"], "centre-channel", "{bg}");
    assert_eq!(
        (bg["channels"].as_u64(), bg["layout"].as_str()),
        (Some(6), Some("5.1(side)"))
    );
    assert_eq!(mix.len(), 6);
    assert_eq!(mix[0].len(), len);
    let (n, layout) = probe_audio(&dir.path().join("separate.dubbed.mkv"));
    // Opus carries 5.1(side) as 5.1: the same six speakers.
    assert_eq!((n, layout.as_str()), (6, "5.1"));

    let speech: Vec<f32> = windows
        .iter()
        .flat_map(|&(s, e)| mix[2][samples(s)..samples(e)].to_vec())
        .collect();
    let original: Vec<f32> = windows
        .iter()
        .flat_map(|&(s, e)| voice[samples(s)..samples(e)].to_vec())
        .collect();
    let corr = correlation(&speech, &original);
    let (dub_lufs, voice_lufs) = (lufs(&mix[2], &windows), lufs(&voice, &windows));
    eprintln!(
        "5.1: centre/original voice correlation {corr:.4}; centre {dub_lufs:.1} LUFS vs voice {voice_lufs:.1}"
    );
    assert!(corr.abs() < 0.05, "{corr}");
    assert!(rms(&speech) > 0.01, "the dub is in the centre");
    assert!(
        (dub_lufs - voice_lufs).abs() < 1.5,
        "{dub_lufs} vs {voice_lufs}"
    );
    for c in [0, 1, 3, 4, 5] {
        let change = db(energy(&mix[c]) / energy(&channels[c]));
        let worst = mix[c]
            .iter()
            .zip(&channels[c])
            .map(|(a, b)| (a - b).abs())
            .fold(0f32, f32::max);
        eprintln!("5.1: channel {c}: {change:+.3} dB, largest difference {worst:.6}");
        assert!(change.abs() < 0.5, "channel {c}: {change} dB");
    }

    assert_duck_keeps_channels(dir.path(), "film.mkv", &srt, 6);
}

/// `--background duck` on `video` keeps its `channels` channels, in the mix and the muxed file.
fn assert_duck_keeps_channels(dir: &Path, video: &str, srt: &str, channels: usize) {
    let (report, mix, _) = dub(dir, video, srt, "duck");
    assert_eq!(report["background"]["method"], "duck");
    assert_eq!(mix.len(), channels);
    assert_eq!(probe_audio(&dir.join("duck.dubbed.mkv")).0, channels as u64);
}

/// Stereo through the CLI: the mix stays stereo, the report says `stereo-mask`, the audio outside
/// the lines (and away from the dub) is the source's, sample for sample; `duck` keeps two
/// channels too.
#[test]
fn stereo_separate_through_synth_keeps_two_channels_and_the_audio_outside_speech() {
    let dir = tempfile::tempdir().unwrap();
    let Stereo {
        windows,
        left,
        right,
        ..
    } = stereo_source(dir.path());
    let len = left.len();
    make_video(
        dir.path(),
        &dir.path().join("song.mkv"),
        &[left, right],
        "stereo",
    );
    let srt = dub_srt(&windows);

    let (report, mix, _) = dub(dir.path(), "song.mkv", &srt, "separate");
    assert_eq!(report["background"]["method"], "stereo-mask");
    assert_eq!(report["background"]["layout"], "stereo");
    assert_eq!(mix.len(), 2);
    assert_eq!(probe_audio(&dir.path().join("separate.dubbed.mkv")).0, 2);
    let (src, _) = read_channels(&dir.path().join("separate.dub/background.wav"));
    let (voice_track, _) = read_channels(&dir.path().join("separate.dub/dub.wav"));
    let ramp = samples(0.1);
    let mut same = 0;
    for i in 0..len {
        let near_line = windows
            .iter()
            .any(|&(s, e)| i + ramp >= samples(s) && i < samples(e) + ramp);
        // The dub (at 24 kHz) is silent around here.
        let quiet = (i / 2).saturating_sub(48)..(i / 2 + 48).min(voice_track[0].len());
        if !near_line && voice_track[0][quiet].iter().all(|&d| d == 0.0) {
            assert_eq!((mix[0][i], mix[1][i]), (src[0][i], src[1][i]), "at {i}");
            same += 1;
        }
    }
    assert!(same > samples(2.0), "{same}");

    assert_duck_keeps_channels(dir.path(), "song.mkv", &srt, 2);
}

/// Mono: nothing to separate by layout. `separate` warns, naming why, and its track is
/// `duck`'s, byte for byte.
#[test]
fn mono_separate_warns_and_equals_duck() {
    let dir = tempfile::tempdir().unwrap();
    let (voice, windows) = original_voice(dir.path());
    let bed = music(voice.len(), 3, 0.03);
    let mono: Vec<f32> = voice.iter().zip(&bed).map(|(v, m)| v + m).collect();
    make_video(dir.path(), &dir.path().join("talk.mkv"), &[mono], "mono");
    let srt = dub_srt(&windows);

    let (report, _, stderr) = dub(dir.path(), "talk.mkv", &srt, "separate");
    assert_eq!(report["background"]["method"], "duck-fallback");
    assert!(
        stderr.contains("the source is mono: there is nothing to separate by channel layout"),
        "{stderr}"
    );
    dub(dir.path(), "talk.mkv", &srt, "duck");
    let bytes = |mode: &str| std::fs::read(dir.path().join(format!("{mode}.dub/mix.wav"))).unwrap();
    assert_eq!(bytes("separate"), bytes("duck"));
}
