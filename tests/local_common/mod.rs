//! Shared by the local-engine tests and benches: find the installed models (or fail, saying so),
//! generate speech with known text and known pauses, resample, and score word error rate.

#![allow(dead_code)] // Each test binary uses a different part.

pub mod conversation;

use std::path::PathBuf;
use std::process::Command;

use dubber::models::DataDir;
use rubato::{FftFixedIn, Resampler};

/// The installed Whisper model folder (a missing one fails the test).
pub fn whisper_model() -> Option<PathBuf> {
    let found = DataDir::from_env().and_then(|d| d.whisper_model_from_env(None));
    skip_if_missing(found.map_err(|e| e.to_string()))
}

/// The installed Piper voice and ONNX Runtime (a missing one fails the test).
pub fn piper_voice() -> Option<(PathBuf, PathBuf)> {
    let found = DataDir::from_env().and_then(|d| {
        let voice = d.piper_voice_from_env(None)?;
        let runtime = d.onnxruntime_from_env(None)?;
        Ok((voice, runtime))
    });
    skip_if_missing(found.map_err(|e| e.to_string()))
}

/// A missing model fails the test, saying which and how to install it: a test that cannot run
/// its engine must not pass.
fn skip_if_missing<T>(found: Result<T, String>) -> Option<T> {
    match found {
        Ok(found) => Some(found),
        Err(message) => panic!(
            "a local model is missing, so this test cannot run: {message}\n\
             Run scripts/setup-models.sh (make test does) to install it."
        ),
    }
}

/// Runs the `dubber` binary in `dir` on the offline defaults: no OpenAI key or server and no
/// Whisper model named by the caller's environment.
pub fn dubber_offline(dir: &std::path::Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_dubber"))
        .args(args)
        .current_dir(dir)
        .env_remove("OPENAI_API_KEY")
        .env_remove("OPENAI_BASE_URL")
        .env_remove("DUBBER_WHISPER_MODEL")
        .output()
        .expect("run dubber")
}

/// Fails the test, saying so, when `scripts/setup-models.sh --check` finds a local model
/// missing: a test that cannot run its engine must not pass.
pub fn require_models() {
    let ok = Command::new("bash")
        .arg(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/setup-models.sh"))
        .arg("--check")
        .status()
        .is_ok_and(|s| s.success());
    assert!(
        ok,
        "the local models are missing, so this test cannot run: run scripts/setup-models.sh (make test does)"
    );
}

/// Speaks one sentence with espeak-ng (22050 Hz mono), trimmed to the speech itself.
pub fn espeak(text: &str) -> Vec<f32> {
    espeak_voice("en-us", 160, text)
}

/// Speaks `text` with an espeak-ng voice (`de`, `fr+m3`) at `speed` words a minute (22050 Hz
/// mono), trimmed to the speech itself.
pub fn espeak_voice(voice: &str, speed: u32, text: &str) -> Vec<f32> {
    espeak_voice_at(voice, speed, 50, text)
}

/// [`espeak_voice`] at `pitch` (espeak-ng's `-p`, 0–99; 50 is the voice's own).
pub fn espeak_voice_at(voice: &str, speed: u32, pitch: u8, text: &str) -> Vec<f32> {
    let dir = tempfile::tempdir().unwrap();
    let wav = dir.path().join("s.wav");
    let status = Command::new("espeak-ng")
        .args([
            "-v",
            voice,
            "-s",
            &speed.to_string(),
            "-p",
            &pitch.to_string(),
        ])
        .arg("-w")
        .arg(&wav)
        .arg(text)
        .status()
        .expect("espeak-ng runs");
    assert!(status.success());
    let reader = hound::WavReader::open(&wav).unwrap();
    assert_eq!(reader.spec().sample_rate, 22_050);
    let samples: Vec<f32> = reader
        .into_samples::<i16>()
        .map(|s| f32::from(s.unwrap()) / 32768.0)
        .collect();
    trim_silence(&samples)
}

/// Cuts leading and trailing near-silence (|x| < 0.01), so pauses placed around it are exact.
pub fn trim_silence(samples: &[f32]) -> Vec<f32> {
    let loud = |s: &&f32| s.abs() >= 0.01;
    let first = samples.iter().position(|s| loud(&s)).unwrap_or(0);
    let last = samples
        .iter()
        .rposition(|s| loud(&s))
        .map_or(first, |i| i + 1);
    samples[first..last].to_vec()
}

/// Resamples mono audio (rubato, FFT based) and compensates its delay.
pub fn resample(samples: &[f32], from: u32, to: u32) -> Vec<f32> {
    if from == to {
        return samples.to_vec();
    }
    let chunk = 1024;
    let mut resampler = FftFixedIn::<f32>::new(from as usize, to as usize, chunk, 2, 1).unwrap();
    let delay = resampler.output_delay();
    let mut out = Vec::new();
    for piece in samples.chunks(chunk) {
        let produced = if piece.len() == chunk {
            resampler.process(&[piece], None).unwrap()
        } else {
            resampler.process_partial(Some(&[piece]), None).unwrap()
        };
        out.extend_from_slice(&produced[0]);
    }
    let tail = resampler.process_partial::<Vec<f32>>(None, None).unwrap();
    out.extend_from_slice(&tail[0]);
    let expected = (samples.len() as u64 * u64::from(to) / u64::from(from)) as usize;
    out.into_iter().skip(delay).take(expected).collect()
}

/// A clip of sentences separated by known silences, with where each sentence is spoken.
pub struct Clip {
    /// 16 kHz mono.
    pub audio: Vec<f32>,
    /// Each sentence and its speech span in ms.
    pub spoken: Vec<(String, u64, u64)>,
}

impl Clip {
    /// Length in ms.
    pub fn duration_ms(&self) -> u64 {
        self.audio.len() as u64 * 1000 / 16_000
    }

    /// For each sentence, how far (ms) the nearest of `segments` starts from where it is spoken
    /// (`u64::MAX` when there is no segment).
    pub fn start_errors(&self, segments: &[dubber::Segment]) -> Vec<u64> {
        self.spoken
            .iter()
            .map(|(_, start, _)| {
                segments
                    .iter()
                    .map(|s| s.start_ms.abs_diff(*start))
                    .min()
                    .unwrap_or(u64::MAX)
            })
            .collect()
    }

    /// The silent gaps in ms, including before the first and after the last sentence.
    pub fn pauses(&self) -> Vec<(u64, u64)> {
        let mut pauses = Vec::new();
        let mut previous_end = 0;
        for (_, start, end) in &self.spoken {
            pauses.push((previous_end, *start));
            previous_end = *end;
        }
        pauses.push((previous_end, self.duration_ms()));
        pauses
    }
}

/// Sentences for the long clip: plain, varied English without digits (so WER is about hearing,
/// not number formatting).
pub const SENTENCES: [&str; 24] = [
    "The weather was cold and the wind blew from the north.",
    "She opened the window to let the fresh air in.",
    "We walked along the river until the sun went down.",
    "My brother bought a new car last week.",
    "The children played in the garden after school.",
    "Please close the door when you leave the room.",
    "He reads the newspaper every morning with his coffee.",
    "The train to the city leaves in ten minutes.",
    "They built a small house near the forest.",
    "I forgot my umbrella and got wet in the rain.",
    "The teacher asked the students to write a short story.",
    "Our neighbors have a big black dog.",
    "The market sells fresh fruit and vegetables.",
    "She likes to paint pictures of the sea.",
    "We are going to visit our grandmother on Sunday.",
    "The doctor told him to get more sleep.",
    "The library is open until eight in the evening.",
    "He plays the guitar in a band with his friends.",
    "The cat is sleeping on the warm blanket.",
    "Turn left at the bank and walk two blocks.",
    "The water in the lake was clear and calm.",
    "They watched a movie and ate popcorn.",
    "The old bridge was closed for repairs.",
    "Thank you for helping me carry these boxes.",
];

/// Speaks `sentences` with espeak-ng separated by silences of 0.6–1.2 s, shifting sentences so
/// that one is being spoken across each 30 s mark in `straddle_ms` (the decoder's window edges).
pub fn espeak_clip(sentences: &[&str], straddle_ms: &[u64]) -> Clip {
    let rate = 22_050u64;
    let spoken: Vec<Vec<f32>> = sentences.iter().map(|s| espeak(s)).collect();
    let mut gaps: Vec<u64> = (0..sentences.len())
        .map(|i| 600 + (i as u64 * 137) % 600)
        .collect();
    gaps[0] = 500;
    // Lay out; whenever a mark falls in a pause, lengthen the pause before the sentence just
    // before it so that sentence's middle sits on the mark.
    let layout = |gaps: &[u64]| {
        let mut t = 0;
        let mut spans = Vec::new();
        for (gap, audio) in gaps.iter().zip(&spoken) {
            t += gap;
            let len = audio.len() as u64 * 1000 / rate;
            spans.push((t, t + len));
            t += len;
        }
        spans
    };
    for &mark in straddle_ms {
        let spans = layout(&gaps);
        if spans.iter().any(|&(s, e)| s + 300 < mark && mark + 300 < e) {
            continue;
        }
        let before = spans
            .iter()
            .rposition(|&(s, _)| s < mark)
            .expect("a sentence before the mark");
        let middle = (spans[before].0 + spans[before].1) / 2;
        gaps[before] += mark - middle.min(mark);
    }
    let spans = layout(&gaps);
    let total_ms = spans.last().map_or(0, |s| s.1) + 800;
    let mut audio = vec![0f32; (total_ms * rate / 1000) as usize];
    for ((start, _), samples) in spans.iter().zip(&spoken) {
        let at = (start * rate / 1000) as usize;
        audio[at..at + samples.len()].copy_from_slice(samples);
    }
    Clip {
        audio: resample(&audio, 22_050, 16_000),
        spoken: sentences
            .iter()
            .zip(spans)
            .map(|(s, (a, b))| (s.to_string(), a, b))
            .collect(),
    }
}

/// Writes 16-bit mono samples (−1..1) as a WAV file.
pub fn write_wav(path: &std::path::Path, samples: &[f32], rate: u32) {
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: rate,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut writer = hound::WavWriter::create(path, spec).unwrap();
    for s in samples {
        writer
            .write_sample((s.clamp(-1.0, 1.0) * 32767.0) as i16)
            .unwrap();
    }
    writer.finalize().unwrap();
}

/// Lowercase words without punctuation (apostrophes kept), for scoring.
pub fn words(text: &str) -> Vec<String> {
    text.to_lowercase()
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || c == '\'' {
                c
            } else {
                ' '
            }
        })
        .collect::<String>()
        .split_whitespace()
        .map(str::to_string)
        .collect()
}

/// Word error rate: word-level edit distance / reference length.
pub fn wer(reference: &str, hypothesis: &str) -> f64 {
    let r = words(reference);
    let h = words(hypothesis);
    let mut row: Vec<usize> = (0..=h.len()).collect();
    for (i, rw) in r.iter().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, hw) in h.iter().enumerate() {
            let substitution = diagonal + usize::from(rw != hw);
            diagonal = row[j + 1];
            row[j + 1] = substitution.min(row[j] + 1).min(row[j + 1] + 1);
        }
    }
    row[h.len()] as f64 / r.len().max(1) as f64
}

/// Each chunk's (speaker, voice) in the work directory's report.json; the speaker is empty for a
/// chunk with none, and every chunk must name its voice.
pub fn chunk_voices(work: &std::path::Path) -> Vec<(String, String)> {
    let path = work.join("report.json");
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let report: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    report["chunks"]
        .as_array()
        .expect("report.json has chunks")
        .iter()
        .map(|c| {
            (
                c["speaker"].as_str().unwrap_or("").to_string(),
                c["voice"]
                    .as_str()
                    .expect("every chunk names its voice")
                    .to_string(),
            )
        })
        .collect()
}
