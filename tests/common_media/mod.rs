//! Test media with known parts: a voice spoken by espeak-ng at known times, music beds that differ
//! per channel, and videos whose audio is their exact sum (lossless FLAC in Matroska), so a test
//! can tell what a processed track kept of each part.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

pub const RATE: u32 = 48_000;

/// `text` spoken by espeak-ng's `voice`, at 48 kHz mono.
pub fn speak(dir: &Path, text: &str, voice: &str) -> Vec<f32> {
    let raw = dir.join("espeak.wav");
    let wav = dir.join("espeak48.wav");
    let ok = Command::new("espeak-ng")
        .args(["-v", voice, "-s", "160", "-w"])
        .arg(&raw)
        .arg(text)
        .status()
        .expect("espeak-ng")
        .success();
    assert!(ok);
    ffmpeg(&[
        "-i".as_ref(),
        raw.as_os_str(),
        "-ar".as_ref(),
        "48000".as_ref(),
        "-ac".as_ref(),
        "1".as_ref(),
        "-c:a".as_ref(),
        "pcm_s16le".as_ref(),
        wav.as_os_str(),
    ]);
    read_channels(&wav).0.remove(0)
}

/// Run ffmpeg quietly; it must succeed.
pub fn ffmpeg(args: &[&std::ffi::OsStr]) {
    let out = Command::new("ffmpeg")
        .args(["-hide_banner", "-loglevel", "error", "-y"])
        .args(args)
        .output()
        .expect("ffmpeg");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A voice track of `len` samples with each clip placed at its start (seconds).
pub fn place(len: usize, clips: &[(f64, Vec<f32>)]) -> Vec<f32> {
    let mut out = vec![0f32; len];
    for (start, clip) in clips {
        let at = (start * f64::from(RATE)) as usize;
        for (o, s) in out[at..].iter_mut().zip(clip) {
            *o += s;
        }
    }
    out
}

/// A music bed: chords of slowly swelling tones over band-limited noise, different for every
/// `seed`, so two channels made with two seeds are uncorrelated ("wide").
pub fn music(len: usize, seed: u64, level: f32) -> Vec<f32> {
    let mut rng = fastrand::Rng::with_seed(seed);
    let tones: Vec<(f32, f32, f32)> = (0..6)
        .map(|_| {
            (
                110.0 * 2f32.powf(rng.f32() * 5.0),
                0.2 + 0.6 * rng.f32(),
                rng.f32() * std::f32::consts::TAU,
            )
        })
        .collect();
    let (mut lp, mut lp2) = (0f32, 0f32);
    let mut out = Vec::with_capacity(len);
    for i in 0..len {
        let t = i as f32 / RATE as f32;
        let mut v = 0f32;
        for &(f, swell, ph) in &tones {
            let env = 0.6 + 0.4 * (2.0 * std::f32::consts::PI * swell * t + ph).sin();
            v += env * (2.0 * std::f32::consts::PI * f * t + ph).sin();
        }
        // Noise, low-passed twice (a soft, broad hiss under the chords).
        lp += 0.3 * (rng.f32() * 2.0 - 1.0 - lp);
        lp2 += 0.3 * (lp - lp2);
        out.push(v / 6.0 + 2.0 * lp2);
    }
    let r = rms(&out);
    out.iter_mut().for_each(|s| *s *= level / r);
    out
}

pub fn rms(s: &[f32]) -> f32 {
    (s.iter().map(|v| v * v).sum::<f32>() / s.len().max(1) as f32).sqrt()
}

pub fn db(ratio: f64) -> f64 {
    10.0 * ratio.log10()
}

pub fn energy(s: &[f32]) -> f64 {
    s.iter().map(|&v| f64::from(v) * f64::from(v)).sum()
}

/// Normalised correlation of `a` and `b`.
pub fn correlation(a: &[f32], b: &[f32]) -> f64 {
    let dot: f64 = a
        .iter()
        .zip(b)
        .map(|(&x, &y)| f64::from(x) * f64::from(y))
        .sum();
    dot / (energy(a) * energy(b)).sqrt().max(1e-12)
}

/// Writes `channels` (equal lengths) as a 16-bit WAV at 48 kHz.
pub fn write_wav(path: &Path, channels: &[Vec<f32>]) {
    let spec = hound::WavSpec {
        channels: channels.len() as u16,
        sample_rate: RATE,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(path, spec).unwrap();
    for i in 0..channels[0].len() {
        for c in channels {
            w.write_sample((c[i].clamp(-1.0, 1.0) * 32767.0).round() as i16)
                .unwrap();
        }
    }
    w.finalize().unwrap();
}

/// The channels of a 16-bit WAV (any layout), as written (full scale 32767), and its rate.
pub fn read_channels(path: &Path) -> (Vec<Vec<f32>>, u32) {
    let r = hound::WavReader::open(path).unwrap();
    let spec = r.spec();
    let n = usize::from(spec.channels);
    let mut out = vec![Vec::new(); n];
    for (i, s) in r.into_samples::<i16>().enumerate() {
        out[i % n].push(f32::from(s.unwrap()) / 32767.0);
    }
    (out, spec.sample_rate)
}

/// A video (`path`, Matroska) of `secs` seconds whose audio is exactly `channels` (lossless FLAC),
/// tagged with `layout`.
pub fn make_video(dir: &Path, path: &Path, channels: &[Vec<f32>], layout: &str) -> PathBuf {
    let wav = dir.join("source-audio.wav");
    write_wav(&wav, channels);
    let secs = channels[0].len() as f64 / f64::from(RATE);
    let video = format!("testsrc2=size=160x120:rate=25:duration={secs}");
    let relabel = format!("channelmap=channel_layout={layout}");
    ffmpeg(&[
        "-f".as_ref(),
        "lavfi".as_ref(),
        "-i".as_ref(),
        video.as_ref(),
        "-i".as_ref(),
        wav.as_os_str(),
        "-map".as_ref(),
        "0:v".as_ref(),
        "-map".as_ref(),
        "1:a".as_ref(),
        "-af".as_ref(),
        relabel.as_ref(),
        "-c:v".as_ref(),
        "libx264".as_ref(),
        "-preset".as_ref(),
        "ultrafast".as_ref(),
        "-pix_fmt".as_ref(),
        "yuv420p".as_ref(),
        "-c:a".as_ref(),
        "flac".as_ref(),
        path.as_os_str(),
    ]);
    path.to_path_buf()
}

/// SRT text with one cue per `(start, end, text)` (seconds), as dubber writes SRT.
pub fn srt(cues: &[(f64, f64, &str)]) -> String {
    let ms = |t: f64| (t * 1000.0).round() as u64;
    let segments: Vec<dubber::Segment> = cues
        .iter()
        .map(|&(s, e, t)| dubber::Segment::new(ms(s), ms(e), t))
        .collect();
    dubber::subtitles::write(&segments, dubber::subtitles::Format::Srt)
}
