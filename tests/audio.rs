//! The audio module against real media: files made by ffmpeg and synthesized tones.

use dubber::audio::{self, Clip, Ducking, StretchQuality};
use std::f32::consts::PI;
use std::path::Path;
use std::process::Command;

fn tone(rate: u32, freq: f32, secs: f64, amp: f32) -> Clip {
    let n = (secs * f64::from(rate)).round() as usize;
    Clip::new(
        rate,
        (0..n)
            .map(|i| amp * (2.0 * PI * freq * i as f32 / rate as f32).sin())
            .collect(),
    )
}

/// Frequency of a tone from its rising zero crossings (first to last, so it is exact to a fraction
/// of a period).
fn frequency(samples: &[f32], rate: u32) -> f64 {
    let ups: Vec<f64> = samples
        .windows(2)
        .enumerate()
        .filter(|(_, w)| w[0] <= 0.0 && w[1] > 0.0)
        .map(|(i, w)| i as f64 + f64::from(-w[0] / (w[1] - w[0])))
        .collect();
    assert!(ups.len() > 10, "too few zero crossings");
    (ups.len() - 1) as f64 / ((ups[ups.len() - 1] - ups[0]) / f64::from(rate))
}

fn ffmpeg(dir: &Path, name: &str, args: &[&str]) -> Vec<u8> {
    let path = dir.join(name);
    let status = Command::new("ffmpeg")
        .args([
            "-v",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
            "sine=frequency=440:duration=1",
        ])
        .args(args)
        .arg(&path)
        .status()
        .expect("ffmpeg runs");
    assert!(status.success());
    std::fs::read(path).unwrap()
}

#[test]
fn decodes_wav_mp3_flac_ogg_made_by_ffmpeg() {
    let dir = tempfile::tempdir().unwrap();
    let cases: [(&str, &[&str], u32, usize); 4] = [
        ("a.wav", &["-ar", "22050"], 22050, 0),
        ("a.flac", &["-ar", "24000"], 24000, 0),
        // Lossy codecs add encoder delay and padding: allow 60 ms.
        ("a.mp3", &["-ar", "24000", "-ac", "2"], 24000, 1440),
        ("a.ogg", &["-ar", "24000", "-c:a", "libvorbis"], 24000, 1440),
    ];
    for (name, args, rate, slack) in cases {
        let bytes = ffmpeg(dir.path(), name, args);
        let ext = name.rsplit('.').next();
        let clip = audio::decode(&bytes, ext).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(clip.rate, rate, "{name}");
        let want = rate as usize;
        assert!(
            clip.len().abs_diff(want) <= slack,
            "{name}: {} samples, want {want}",
            clip.len()
        );
        let mid = &clip.samples[clip.len() / 4..clip.len() * 3 / 4];
        let f = frequency(mid, clip.rate);
        assert!((f - 440.0).abs() < 440.0 * 0.005, "{name}: {f} Hz");
        // Without a hint, the content decides.
        assert_eq!(
            audio::decode(&bytes, None).unwrap().len(),
            clip.len(),
            "{name}"
        );
    }
}

#[test]
fn stereo_is_downmixed_to_mono() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("st.wav");
    let spec = hound::WavSpec {
        channels: 2,
        sample_rate: 16000,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(&path, spec).unwrap();
    for _ in 0..1600 {
        w.write_sample(16384i16).unwrap(); // 0.5
        w.write_sample(-8192i16).unwrap(); // -0.25
    }
    w.finalize().unwrap();
    let clip = audio::read_wav(&path).unwrap();
    assert_eq!((clip.rate, clip.len()), (16000, 1600));
    assert!(
        clip.samples.iter().all(|&s| (s - 0.125).abs() < 1e-4),
        "{}",
        clip.samples[0]
    );
}

#[test]
fn garbage_is_an_error_never_a_panic() {
    let json = br#"{"error": {"message": "Rate limit reached", "type": "requests"}}"#;
    let err = audio::decode(json, Some("mp3")).unwrap_err().to_string();
    assert!(
        err.contains("looks like text") && err.contains("Rate limit"),
        "{err}"
    );
    assert!(audio::decode(b"<html><body>502 Bad Gateway</body></html>", None).is_err());
    assert!(audio::decode(b"", Some("wav")).is_err());

    // A WAV cut inside its header, and one whose data stops early (that one keeps what it has).
    let wav = {
        let mut cur = std::io::Cursor::new(Vec::new());
        let spec = hound::WavSpec {
            channels: 1,
            sample_rate: 24000,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        let mut w = hound::WavWriter::new(&mut cur, spec).unwrap();
        for i in 0..24000 {
            w.write_sample(((i % 100) * 100) as i16).unwrap();
        }
        w.finalize().unwrap();
        cur.into_inner()
    };
    assert!(audio::decode(&wav[..30], Some("wav")).is_err());
    let partial = audio::decode(&wav[..wav.len() / 2], Some("wav")).unwrap();
    assert!(
        partial.len() > 10_000 && partial.len() < 12_001,
        "{}",
        partial.len()
    );

    // Random bytes, with and without hints, and random corruption of a real MP3: no panic, and
    // whatever decodes is finite.
    let dir = tempfile::tempdir().unwrap();
    let mp3 = ffmpeg(dir.path(), "g.mp3", &["-ar", "24000"]);
    let mut rng = fastrand::Rng::with_seed(42);
    for round in 0..200 {
        let bytes: Vec<u8> = if round % 2 == 0 {
            (0..rng.usize(0..4096)).map(|_| rng.u8(..)).collect()
        } else {
            let mut b = mp3.clone();
            for _ in 0..rng.usize(1..64) {
                let i = rng.usize(0..b.len());
                b[i] = rng.u8(..);
            }
            b.truncate(rng.usize(0..b.len()));
            b
        };
        let hint = [None, Some("wav"), Some("mp3"), Some("flac"), Some("ogg")][round % 5];
        if let Ok(clip) = audio::decode(&bytes, hint) {
            assert!(clip.rate > 0 && !clip.is_empty());
            assert!(clip.samples.iter().all(|s| s.is_finite()));
        }
    }
}

#[test]
fn raw_pcm16_little_endian() {
    let bytes = [0x00, 0x40, 0x00, 0xc0, 0xff, 0x7f, 0x00, 0x80];
    let clip = audio::decode_pcm16(&bytes, 24000).unwrap();
    assert_eq!(clip.rate, 24000);
    assert_eq!(clip.samples, vec![0.5, -0.5, 32767.0 / 32768.0, -1.0]);
    assert!(audio::decode_pcm16(&bytes[..3], 24000).is_err());
    assert!(audio::decode_pcm16(&bytes, 0).is_err());
}

#[test]
fn resampling_keeps_length_pitch_and_timing() {
    for (from, to) in [
        (22050, 24000),
        (44100, 24000),
        (16000, 24000),
        (24000, 48000),
    ] {
        // 1 s of silence, then 1.3 s of 440 Hz: the onset must stay at 1 s.
        let mut clip = tone(from, 440.0, 2.3, 0.5);
        clip.samples[..from as usize].fill(0.0);
        let out = audio::resample(&clip, to).unwrap();
        let want = (2.3 * f64::from(to)).round() as usize;
        assert_eq!(out.len(), want, "{from}->{to}");
        assert_eq!(out.len() as u64, clip.len_at_rate(to));
        let f = frequency(&out.samples[to as usize + 1000..out.len() - 1000], to);
        assert!((f - 440.0).abs() < 440.0 * 0.002, "{from}->{to}: {f}");
        let onset = out.samples.iter().position(|s| s.abs() > 0.05).unwrap();
        assert!(
            onset.abs_diff(to as usize) < (to / 1000) as usize,
            "{from}->{to}: onset {onset}"
        );
    }
    // A corrupt header's absurd rate is an error, not a gigabyte FFT.
    assert!(audio::resample(&Clip::new(1, vec![0.0; 10]), 24000).is_err());
    assert!(audio::resample(&tone(24000, 440.0, 0.1, 0.5), 0).is_err());
}

#[test]
fn stretch_keeps_duration_and_pitch_from_0_8_to_1_5() {
    let rate = 24000;
    let clip = tone(rate, 220.0, 2.0, 0.5);
    let qualities = [StretchQuality::Speech, StretchQuality::High];
    for (quality, speed) in qualities
        .into_iter()
        .flat_map(|q| [0.8, 0.9, 1.1, 1.2, 1.25, 1.3, 1.4, 1.5].map(|s| (q, s)))
    {
        let target = (clip.len() as f64 / speed).round() as usize;
        let out = audio::stretch_to_len_with(&clip.samples, rate, target, quality);
        assert_eq!(out.len(), target, "{quality:?} {speed}");
        let len_err = (out.len() as f64 - target as f64).abs() / target as f64;
        assert!(
            len_err <= 0.01,
            "speed {speed}: {} samples for {target}",
            out.len()
        );
        // Measure away from the edges, where the stretcher's window is still filling.
        let mid = &out[out.len() / 5..out.len() * 4 / 5];
        let f = frequency(mid, rate);
        assert!(
            (f - 220.0).abs() <= 220.0 * 0.01,
            "{quality:?} speed {speed}: {f} Hz"
        );
        let rms = (mid.iter().map(|s| s * s).sum::<f32>() / mid.len() as f32).sqrt();
        assert!(
            (rms - 0.5 / 2f32.sqrt()).abs() < 0.1,
            "{quality:?} speed {speed}: rms {rms}"
        );
        // Nothing is lost or boosted at the edges: every 10 ms of the output, first and last
        // included, peaks near the input's 0.5.
        for (i, frame) in out.chunks(240).enumerate() {
            let peak = frame.iter().fold(0f32, |m, s| m.max(s.abs()));
            assert!(
                (0.35..0.65).contains(&peak),
                "{quality:?} speed {speed}: frame {i} peaks at {peak}"
            );
        }
    }
    // Speed 1 is a copy; tiny outputs still get their exact length.
    assert_eq!(
        audio::stretch_to_len(&clip.samples, rate, clip.len()),
        clip.samples
    );
    assert_eq!(
        audio::stretch_to_len(&clip.samples[..100], rate, 80).len(),
        80
    );
    assert_eq!(audio::stretch_to_len(&[], rate, 5), vec![0.0; 5]);
}

/// Level of each 10 ms frame (RMS).
fn envelope(samples: &[f32], rate: u32) -> Vec<f64> {
    samples
        .chunks((rate / 100) as usize)
        .map(|f| (f.iter().map(|s| f64::from(*s).powi(2)).sum::<f64>() / f.len() as f64).sqrt())
        .collect()
}

/// Median fundamental of the voiced 40 ms frames, by autocorrelation over 70–400 Hz.
fn median_f0(samples: &[f32], rate: u32) -> f64 {
    let frame = (rate / 25) as usize;
    let (min_lag, max_lag) = ((rate / 400) as usize, (rate / 70) as usize);
    let loud = samples.iter().fold(0f32, |m, s| m.max(s.abs())) * 0.3;
    let mut f0s: Vec<f64> = samples
        .chunks_exact(frame + max_lag)
        .filter(|f| f[..frame].iter().fold(0f32, |m, s| m.max(s.abs())) > loud)
        .filter_map(|f| {
            let ac = |lag: usize| -> f64 {
                (0..frame)
                    .map(|i| f64::from(f[i]) * f64::from(f[i + lag]))
                    .sum()
            };
            let e = ac(0);
            let (lag, r) = (min_lag..=max_lag)
                .map(|l| (l, ac(l)))
                .fold((0, f64::MIN), |b, c| if c.1 > b.1 { c } else { b });
            // A parabola through the peak and its neighbours places it between samples.
            let (a, b) = (ac(lag - 1), ac(lag + 1));
            let shift = 0.5 * (a - b) / (a - 2.0 * r + b).min(-1e-12);
            (r > 0.5 * e).then(|| f64::from(rate) / (lag as f64 + shift))
        })
        .collect();
    assert!(f0s.len() >= 10, "too few voiced frames: {}", f0s.len());
    f0s.sort_by(f64::total_cmp);
    f0s[f0s.len() / 2]
}

#[test]
fn speech_stretch_keeps_the_energy_envelope_and_pitch_of_a_real_voice() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("voice.wav");
    let status = Command::new("espeak-ng")
        .args(["-v", "en", "-s", "160", "-w"])
        .arg(&path)
        .arg("The quick brown fox jumps over the lazy dog, then rests by the river until dawn.")
        .status()
        .expect("espeak-ng runs");
    assert!(status.success());
    let voice = audio::decode(&std::fs::read(&path).unwrap(), Some("wav")).unwrap();
    let rate = voice.rate;
    let env_in = envelope(&voice.samples, rate);
    let power = |s: &[f32]| s.iter().map(|x| f64::from(*x).powi(2)).sum::<f64>() / s.len() as f64;
    let f0_in = median_f0(&voice.samples, rate);
    let qualities = [StretchQuality::Speech, StretchQuality::High];
    for (quality, speed) in qualities
        .into_iter()
        .flat_map(|q| [0.8, 1.15, 1.3, 1.5].map(|s| (q, s)))
    {
        let target = (voice.len() as f64 / speed).round() as usize;
        let out = audio::stretch_to_len_with(&voice.samples, rate, target, quality);
        assert_eq!(out.len(), target);
        // The output's envelope, read back on the input's time scale, follows the input's:
        // syllables stay where they were (scaled), none is dropped or smeared into a pause.
        let env_out = envelope(&out, rate);
        let mapped: Vec<f64> = (0..env_in.len())
            .map(|i| env_out[((i as f64 / speed).round() as usize).min(env_out.len() - 1)])
            .collect();
        let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
        let (ma, mb) = (mean(&env_in), mean(&mapped));
        let cov: f64 = env_in
            .iter()
            .zip(&mapped)
            .map(|(a, b)| (a - ma) * (b - mb))
            .sum();
        let va: f64 = env_in.iter().map(|a| (a - ma).powi(2)).sum();
        let vb: f64 = mapped.iter().map(|b| (b - mb).powi(2)).sum();
        let corr = cov / (va * vb).sqrt();
        assert!(
            corr > 0.9,
            "{quality:?} speed {speed}: envelope correlation {corr:.3}"
        );
        let ratio = power(&out) / power(&voice.samples);
        assert!(
            (0.85..1.15).contains(&ratio),
            "{quality:?} speed {speed}: power ratio {ratio:.3}"
        );
        let f0_out = median_f0(&out, rate);
        // The median over voiced frames moves a little as stretching changes which frames are
        // loud (by up to 2 % with either stretcher); changing pitch with speed would move it
        // by 15–50 %.
        assert!(
            (f0_out - f0_in).abs() <= f0_in * 0.03,
            "{quality:?} speed {speed}: f0 {f0_out:.1} Hz vs {f0_in:.1} Hz"
        );
    }
}

#[test]
fn fades_gain_and_loudness() {
    let mut clip = tone(24000, 1000.0, 1.0, 0.5);
    audio::fade_edges(&mut clip.samples, 120);
    assert!(clip.samples[0].abs() < 0.001 && clip.samples[23_999].abs() < 0.001);
    assert!(clip.samples[..120].iter().all(|s| s.abs() <= 0.5));

    let mut quiet = tone(24000, 1000.0, 3.0, 0.05);
    let before = audio::loudness_lufs(&quiet).unwrap().unwrap();
    let gain = audio::normalize_loudness(&mut quiet, -16.0).unwrap();
    let after = audio::loudness_lufs(&quiet).unwrap().unwrap();
    assert!((after - -16.0).abs() < 0.1, "{before} -> {after}");
    assert!((f64::from(gain) - (-16.0 - before)).abs() < 0.1);

    // A loud target would clip: the gain stops at full scale.
    let mut loud = tone(24000, 1000.0, 3.0, 0.5);
    audio::normalize_loudness(&mut loud, 0.0).unwrap();
    let peak = loud.samples.iter().fold(0f32, |m, s| m.max(s.abs()));
    assert!(peak <= 0.999 && peak > 0.99, "{peak}");

    let mut silence = Clip::new(24000, vec![0.0; 24000]);
    assert_eq!(audio::loudness_lufs(&silence).unwrap(), None);
    assert_eq!(audio::normalize_loudness(&mut silence, -16.0).unwrap(), 0.0);

    let mut s = vec![0.5f32; 4];
    audio::apply_gain_db(&mut s, -6.0206);
    assert!((s[0] - 0.25).abs() < 1e-4);
}

#[test]
fn background_is_ducked_18_db_under_speech_with_smooth_ramps() {
    let rate = 24000;
    let speech = vec![0.0f32; 4 * rate as usize];
    let background = vec![0.5f32; 4 * rate as usize];
    // Speech from 1 s to 2 s.
    let intervals = [(24_000u64, 48_000u64)];
    let d = Ducking::default();
    let out = audio::duck_mix(&speech, &background, &intervals, rate, &d);
    assert_eq!(out.len(), speech.len());
    let ducked = 0.5 * 10f32.powf(-18.0 / 20.0);
    assert!((out[36_000] - ducked).abs() < 1e-4, "{}", out[36_000]);
    assert!(
        (out[24_000] - ducked).abs() < 1e-4,
        "fully down at the first word"
    );
    assert!((out[12_000] - 0.5).abs() < 1e-6 && (out[84_000] - 0.5).abs() < 1e-6);
    // Attack over 80 ms before the line, release over 300 ms after it, monotone, no steps.
    let attack = &out[24_000 - 1920..24_000];
    assert!(attack.windows(2).all(|w| w[1] <= w[0]));
    let release = &out[48_000..48_000 + 7200];
    assert!(release.windows(2).all(|w| w[1] >= w[0]));
    assert!(
        out.windows(2).all(|w| (w[1] - w[0]).abs() < 0.01),
        "a step in the gain"
    );
    assert!((out[48_000 + 7200] - 0.5).abs() < 1e-6);

    // Block by block gives the same result as all at once.
    let mut blocks = speech.clone();
    for (i, block) in blocks.chunks_mut(1000).enumerate() {
        let off = i * 1000;
        audio::duck_mix_into(
            block,
            off as u64,
            &background[off..off + block.len()],
            &intervals,
            rate,
            &d,
        );
    }
    assert_eq!(blocks, out);
}
