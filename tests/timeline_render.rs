//! Rendering a plan and listening to the result: tone bursts of known lengths, onsets found by
//! energy in the written WAV.

use dubber::audio::Clip;
use dubber::timeline::{self, ClipFiles, Policy, RATE, Report, Warning};
use dubber::{Chunk, Window};
use std::f32::consts::PI;

fn chunk(id: usize, text: &str, windows: &[(u64, u64)]) -> Chunk {
    Chunk {
        id,
        text: text.into(),
        windows: windows.iter().map(|&(s, e)| Window::new(s, e)).collect(),
        segments: vec![id],
    }
}

fn burst(rate: u32, secs: f64, freq: f32) -> Clip {
    let n = (secs * f64::from(rate)).round() as usize;
    Clip::new(
        rate,
        (0..n)
            .map(|i| 0.3 * (2.0 * PI * freq * i as f32 / rate as f32).sin())
            .collect(),
    )
}

/// (start, end) in seconds of each stretch of sound, from the peak level of 1 ms frames.
fn voiced_runs(samples: &[i16], rate: u32) -> Vec<(f64, f64)> {
    let frame = (rate / 1000) as usize;
    let mut runs = Vec::new();
    let mut open: Option<usize> = None;
    for (i, f) in samples.chunks(frame).enumerate() {
        let loud = f.iter().any(|s| s.unsigned_abs() > 300); // about -40 dBFS
        match (loud, open) {
            (true, None) => open = Some(i),
            (false, Some(s)) => {
                runs.push((s as f64 / 1000.0, i as f64 / 1000.0));
                open = None;
            }
            _ => {}
        }
    }
    if let Some(s) = open {
        runs.push((
            s as f64 / 1000.0,
            samples.len().div_ceil(frame) as f64 / 1000.0,
        ));
    }
    runs
}

/// Five lines around an empty chunk: one fits, one borrows the pause, one with two windows is
/// sped up a little, one overflows at 1.25× and pushes the last, which arrives at 22.05 kHz.
fn scene() -> (Vec<Chunk>, Vec<Clip>) {
    let chunks = vec![
        chunk(0, "one", &[(500, 1500)]),
        chunk(1, "", &[(1600, 2500)]),
        chunk(2, "two", &[(2600, 3400)]),
        chunk(3, "three four", &[(4000, 5000), (5200, 6000)]),
        chunk(4, "five", &[(6500, 7000)]),
        chunk(5, "six", &[(7600, 8500)]),
    ];
    let clips = vec![
        burst(RATE, 1.0, 440.0),
        Clip::default(),
        burst(RATE, 1.2, 330.0),
        burst(RATE, 2.5, 440.0),
        burst(RATE, 1.5, 330.0),
        burst(22_050, 1.0, 440.0),
    ];
    (chunks, clips)
}

fn check_track(path: &std::path::Path, report: &Report, video_secs: f64) {
    let reader = hound::WavReader::open(path).unwrap();
    assert_eq!(reader.spec().sample_rate, RATE);
    let samples: Vec<i16> = reader.into_samples().map(Result::unwrap).collect();
    // Exact to the sample: round(10.0123456 × 24000) = 240296.
    assert_eq!(
        samples.len() as u64,
        (video_secs * f64::from(RATE)).round() as u64
    );

    let spoken: Vec<_> = report.chunks.iter().filter(|c| c.played > 0.0).collect();
    let runs = voiced_runs(&samples, RATE);
    assert_eq!(runs.len(), spoken.len(), "runs {runs:?}");
    for (run, c) in runs.iter().zip(&spoken) {
        assert!(
            (run.0 - c.start).abs() <= 0.010,
            "chunk {} heard at {:.3} s, planned {:.3} s",
            c.id,
            run.0,
            c.start
        );
        assert!(
            (run.1 - (c.start + c.played)).abs() <= 0.010,
            "chunk {} ends at {:.3} s",
            c.id,
            run.1
        );
    }
    for w in runs.windows(2) {
        assert!(w[0].1 < w[1].0, "overlap {w:?}");
    }
    let voiced: f64 = runs.iter().map(|r| r.1 - r.0).sum();
    let played: f64 = spoken.iter().map(|c| c.played).sum();
    assert!(
        (voiced - played).abs() <= 0.01 * played,
        "voiced {voiced} s, played {played} s"
    );
}

#[test]
fn rendered_lines_start_where_planned_and_the_track_is_exact() {
    let (chunks, mut clips) = scene();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("track.wav");
    let video_secs = 10.012_345_6;
    let report = timeline::build_track(
        &chunks,
        &mut clips[..],
        video_secs,
        &Policy::default(),
        &out,
    )
    .unwrap();
    let c = &report.chunks;

    assert_eq!((c[0].start, c[0].speed), (0.5, 1.0));
    // The chunk after the empty chunk lands on its window, and borrows the pause after it.
    assert_eq!((c[2].start, c[2].shift, c[2].speed), (2.6, 0.0, 1.0));
    assert!((c[2].borrowed - 0.4).abs() < 1e-9);
    assert_eq!((c[1].played, c[1].natural), (0.0, 0.0));
    // Two windows, 2.5 s of speech before 6.42 s: 1.033×, never cut at the gap between windows.
    assert!((c[3].played - 2.42).abs() < 1e-4 && (c[3].speed - 2.5 / 2.42).abs() < 1e-4);
    // 1.5 s in 1.02 s would need 1.47×: capped at 1.25×, pushing "six" 0.18 s later.
    assert!((c[4].speed - 1.25).abs() < 1e-4 && (c[4].played - 1.2).abs() < 1e-4);
    assert!(
        c[4].warnings
            .iter()
            .any(|w| matches!(w, Warning::Overflow { .. }))
    );
    assert!((c[5].start - 7.78).abs() < 1e-4 && (c[5].shift - 0.18).abs() < 1e-4);
    assert!(
        (c[5].natural - 1.0).abs() < 1e-4,
        "22.05 kHz clip resampled to 1 s at 24 kHz"
    );

    check_track(&out, &report, video_secs);

    let s = &report.summary;
    assert_eq!(
        (s.lines, s.lines_fitted, s.overflows, s.lines_at_cap),
        (5, 4, 1, 1)
    );
    assert!((s.max_speed - 1.25).abs() < 1e-4 && (s.total_drift - 0.18).abs() < 1e-4);
    assert!(report.human_summary().contains("4 of 5 lines fitted"));
}

#[test]
fn clips_from_files_render_the_same_and_the_report_has_its_schema() {
    let (chunks, clips) = scene();
    let dir = tempfile::tempdir().unwrap();
    let mut files = ClipFiles::default();
    for (i, clip) in clips.iter().enumerate() {
        if clip.is_empty() {
            files.paths.push(None);
        } else {
            let path = dir.path().join(format!("{i}.wav"));
            dubber::audio::write_wav(&path, clip).unwrap();
            files.paths.push(Some(path));
        }
    }
    let out = dir.path().join("track.wav");
    let report =
        timeline::build_track(&chunks, &mut files, 10.012_345_6, &Policy::default(), &out).unwrap();
    check_track(&out, &report, 10.012_345_6);

    let json_path = dir.path().join("report.json");
    report.write_json(&json_path).unwrap();
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json_path).unwrap()).unwrap();
    for key in [
        "lines",
        "lines_fitted",
        "max_speed",
        "mean_speed",
        "lines_above_1_15",
        "lines_at_cap",
        "total_drift",
        "overflows",
        "start_error_p50",
        "start_error_p99",
    ] {
        assert!(json["summary"].get(key).is_some(), "summary.{key}");
    }
    let c4 = &json["chunks"][4];
    for key in [
        "id", "text", "windows", "start", "natural", "played", "speed", "shift", "borrowed",
        "warnings",
    ] {
        assert!(c4.get(key).is_some(), "chunks[].{key}");
    }
    assert_eq!(c4["windows"][0]["start"], 6.5);
    assert_eq!(c4["warnings"][0]["kind"], "overflow");
    let back: Report = serde_json::from_value(json).unwrap();
    assert_eq!(back.chunks.len(), 6);
}

#[test]
fn a_missing_clip_is_an_error_naming_the_chunk() {
    let (chunks, mut clips) = scene();
    clips.truncate(3);
    let dir = tempfile::tempdir().unwrap();
    let err = timeline::build_track(
        &chunks,
        &mut clips[..],
        10.0,
        &Policy::default(),
        &dir.path().join("t.wav"),
    )
    .unwrap_err();
    assert!(err.to_string().contains("chunk 3"), "{err}");
    assert!(
        timeline::build_track(
            &chunks,
            &mut clips[..],
            f64::NAN,
            &Policy::default(),
            &dir.path().join("t.wav")
        )
        .is_err()
    );
}

#[test]
fn padding_silence_of_tts_clips_can_be_trimmed_so_the_voice_starts_on_the_window() {
    // 300 ms of silence, 1 s of tone, 400 ms of silence: the voice should start at 2.000 s.
    let mut samples = vec![0.0f32; 7200];
    samples.extend(burst(RATE, 1.0, 440.0).samples);
    samples.extend(vec![0.0f32; 9600]);
    let mut clips = [Clip::new(RATE, samples)];
    let chunks = vec![chunk(0, "hi", &[(2000, 3000)])];
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("t.wav");
    let mut trimmed = timeline::TrimSilence::new(&mut clips[..]);
    let report =
        timeline::build_track(&chunks, &mut trimmed, 5.0, &Policy::default(), &out).unwrap();
    // 20 ms kept on each side: 1.04 s long, starting 20 ms before the voice.
    assert!(
        (report.chunks[0].natural - 1.04).abs() < 1e-4,
        "{}",
        report.chunks[0].natural
    );
    let samples: Vec<i16> = hound::WavReader::open(&out)
        .unwrap()
        .into_samples()
        .map(Result::unwrap)
        .collect();
    let runs = voiced_runs(&samples, RATE);
    assert_eq!(runs.len(), 1);
    assert!((runs[0].0 - 2.02).abs() <= 0.002, "voice at {}", runs[0].0);

    let silent = Clip::new(RATE, vec![0.0; 1000]);
    assert!(dubber::audio::trim_silence(&silent, -50.0, 20).is_empty());
}

/// Trimmed lengths of clip files are remembered by content (path, size, modification time): a
/// file replaced by another clip is measured again, never given the old length.
#[test]
fn a_replaced_clip_file_is_measured_again() {
    use dubber::timeline::ClipSource;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("clip.wav");
    dubber::audio::write_wav(&path, &burst(RATE, 1.0, 440.0)).unwrap();
    let mut clips = timeline::TrimSilence::new(ClipFiles {
        paths: vec![Some(path.clone())],
    });
    let first = clips.natural_len(0, RATE).unwrap().unwrap();
    assert_eq!(clips.natural_len(0, RATE).unwrap(), Some(first));
    std::thread::sleep(std::time::Duration::from_millis(20));
    dubber::audio::write_wav(&path, &burst(RATE, 2.0, 440.0)).unwrap();
    let second = clips.natural_len(0, RATE).unwrap().unwrap();
    assert!(second > first + RATE as u64 / 2, "{first} then {second}");
}
