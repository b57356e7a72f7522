//! Conversations with known speakers, for the diarization tests (`tests/diarize.rs` calls the
//! library, `tests/speakers.rs` runs `dubber run` on a video) and the diarization benchmark: lines
//! spoken in turns by clearly different voices (the Piper voice, espeak-ng variants) at varied
//! speeds and levels, short gaps between them, a quiet music bed under them. Where each turn is
//! and who speaks it is the truth [`attribution`] scores against. One generator and one scorer,
//! so the figures of the three are comparable.

use std::path::Path;
use std::process::Command;
use std::sync::OnceLock;

use dubber::Segment;
use dubber::local_tts::{PiperVoice, init_onnxruntime};

use super::{espeak_voice_at, piper_voice, resample, trim_silence, write_wav};

/// The sample rate of everything here: what diarization reads.
const RATE: u32 = 16_000;

/// Lines of 1 to 8 seconds, questions and exclamations among them, without digits.
pub const LINES: &[&str] = &[
    "Hello there.",
    "Did you see the game last night?",
    "I could not believe how the second half went, honestly it was the best match of the season.",
    "No way!",
    "We should leave before the traffic gets bad.",
    "Tell me again what the doctor said about your knee.",
    "It was raining so hard that the whole street turned into a river within minutes.",
    "Really? That sounds terrible.",
    "Maybe we can meet on Thursday after work.",
    "The museum opens at nine, but the tickets sell out early, so we need to be there by eight.",
    "Absolutely.",
    "Why would anyone paint a kitchen bright orange?",
    "My grandmother kept every letter she ever received, in boxes under her bed.",
    "Let us not argue about it now.",
    "Three coffees and a piece of apple pie, please.",
    "When the train finally arrived, nobody wanted to get on because it was already full.",
    "Sure, I will call you tomorrow.",
    "That is exactly what I was afraid of.",
    "The report is due on Monday and I have not even started the second chapter.",
    "Wow, look at that sunset!",
    "He has been learning the violin for six years and still practices every single evening.",
    "Could you pass me the salt?",
    "I think the bridge was built sometime around the end of the nineteenth century.",
    "Fine.",
];

/// Speeds the turns cycle through (1 is normal): one voice must stay one speaker whether it
/// hurries or drawls.
const SPEEDS: [f32; 4] = [1.0, 0.85, 1.15, 0.95];

/// Each speaker's level relative to the first, as recordings differ: loudness must not be what
/// tells voices apart.
const LEVELS: [f32; 3] = [1.0, 0.7, 1.3];

/// Speech RMS before the per-speaker level; the music bed sits 20 dB under it.
const SPEECH_RMS: f32 = 0.1;

/// A synthetic voice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Voice {
    /// The installed Piper voice (en_US-joe-medium: a man, the most natural).
    Piper,
    /// An espeak-ng voice and variant (`en-us+f3`: a woman; `en-gb+m3`: another man).
    Espeak(&'static str),
    /// An espeak-ng voice at a pitch (`-p`, 0–99; 50 is the voice's own).
    EspeakAt(&'static str, u8),
}

impl Voice {
    /// `text` at `speed` (1 is normal), 16 kHz mono, trimmed to the speech.
    pub fn speak(self, text: &str, speed: f32) -> Vec<f32> {
        match self {
            Voice::Piper => {
                let (samples, rate) = piper().speak(text, speed).expect("Piper speaks");
                trim_silence(&resample(&samples, rate, RATE))
            }
            Voice::Espeak(voice) => Voice::EspeakAt(voice, 50).speak(text, speed),
            Voice::EspeakAt(voice, pitch) => {
                let wpm = (160.0 * speed) as u32;
                resample(&espeak_voice_at(voice, wpm, pitch, text), 22_050, RATE)
            }
        }
    }
}

fn piper() -> &'static PiperVoice {
    static VOICE: OnceLock<PiperVoice> = OnceLock::new();
    VOICE.get_or_init(|| {
        let (onnx, runtime) = piper_voice().expect("Piper voice installed");
        init_onnxruntime(&runtime).expect("ONNX Runtime loads");
        PiperVoice::load(&onnx).expect("voice loads")
    })
}

/// One line of a script: who says what, how fast.
#[derive(Debug, Clone, Copy)]
pub struct Line {
    pub speaker: usize,
    pub voice: Voice,
    pub text: &'static str,
    pub speed: f32,
}

/// The script of a conversation in which `voices[order[k]]` says turn `k`: [`LINES`] in order
/// (cycling), at the speeds of [`SPEEDS`] in turn.
pub fn script(voices: &[Voice], order: &[usize]) -> Vec<Line> {
    order
        .iter()
        .enumerate()
        .map(|(k, &speaker)| Line {
            speaker,
            voice: voices[speaker],
            text: LINES[k % LINES.len()],
            speed: SPEEDS[k % SPEEDS.len()],
        })
        .collect()
}

/// `turns` turns among `speakers` in an order fixed by `seed`, never the same speaker twice in
/// a row (unless there is only one).
pub fn shuffled(speakers: usize, turns: usize, seed: u64) -> Vec<usize> {
    let mut rng = fastrand::Rng::with_seed(seed);
    let mut order: Vec<usize> = Vec::with_capacity(turns);
    for _ in 0..turns {
        let speaker = loop {
            let s = rng.usize(..speakers);
            if speakers == 1 || order.last() != Some(&s) {
                break s;
            }
        };
        order.push(speaker);
    }
    order
}

/// One turn: who, what, and where it is spoken (ms).
#[derive(Debug, Clone)]
pub struct Turn {
    pub speaker: usize,
    pub text: String,
    pub start_ms: u64,
    pub end_ms: u64,
}

/// Lays turns out one after another — a gap of 0.2–0.8 s before each (fixed by a seed), each
/// line at its speaker's level — handing every sample to `out`, so a conversation can be kept
/// in memory or streamed to disk alike.
struct Layout<F: FnMut(f32)> {
    out: F,
    at: usize,
    rng: fastrand::Rng,
    turns: Vec<Turn>,
}

impl<F: FnMut(f32)> Layout<F> {
    fn new(out: F, seed: u64) -> Self {
        let mut layout = Layout {
            out,
            at: 0,
            rng: fastrand::Rng::with_seed(seed),
            turns: Vec::new(),
        };
        layout.silence(RATE as usize / 2);
        layout
    }

    fn silence(&mut self, samples: usize) {
        for _ in 0..samples {
            (self.out)(0.0);
        }
        self.at += samples;
    }

    fn turn(&mut self, speaker: usize, text: &str, speech: &[f32]) {
        let gap = self.rng.usize(RATE as usize / 5..RATE as usize * 4 / 5);
        self.silence(gap);
        let gain = SPEECH_RMS / rms(speech).max(1e-6) * LEVELS[speaker % LEVELS.len()];
        let start_ms = ms(self.at);
        for s in speech {
            (self.out)(s * gain);
        }
        self.at += speech.len();
        self.turns.push(Turn {
            speaker,
            text: text.to_string(),
            start_ms,
            end_ms: ms(self.at),
        });
    }

    /// Half a second of silence after the last turn; the turns.
    fn finish(mut self) -> Vec<Turn> {
        self.silence(RATE as usize / 2);
        self.turns
    }
}

fn ms(samples: usize) -> u64 {
    samples as u64 * 1000 / u64::from(RATE)
}

fn rms(a: &[f32]) -> f32 {
    (a.iter().map(|x| x * x).sum::<f32>() / a.len().max(1) as f32).sqrt()
}

/// The music bed at sample `i`: sine triads, a new one every 2 s, 20 dB under the speech (the
/// first speaker's level) — steady sound under everything, as a film's score is.
fn music(i: usize) -> f32 {
    const CHORDS: [[f32; 3]; 4] = [
        [261.6, 329.6, 392.0],
        [220.0, 261.6, 329.6],
        [174.6, 220.0, 261.6],
        [196.0, 246.9, 293.7],
    ];
    // Three sines of amplitude a have an RMS of a·sqrt(3/2).
    let amp = SPEECH_RMS * 0.1 / 1.5f32.sqrt();
    let t = i as f32 / RATE as f32;
    CHORDS[(i / (2 * RATE as usize)) % CHORDS.len()]
        .iter()
        .map(|f| amp * (2.0 * std::f32::consts::PI * f * t).sin())
        .sum()
}

/// A conversation: its speech (16 kHz mono, no music yet) and its turns.
pub struct Conversation {
    pub audio: Vec<f32>,
    pub turns: Vec<Turn>,
}

impl Conversation {
    /// `script` spoken, its turns laid out with gaps fixed by `seed`.
    pub fn perform(script: &[Line], seed: u64) -> Conversation {
        let mut audio = Vec::new();
        let mut layout = Layout::new(|s| audio.push(s), seed);
        for line in script {
            layout.turn(
                line.speaker,
                line.text,
                &line.voice.speak(line.text, line.speed),
            );
        }
        let turns = layout.finish();
        Conversation { audio, turns }
    }

    /// Length in ms.
    pub fn duration_ms(&self) -> u64 {
        ms(self.audio.len())
    }

    /// The turns as subtitle lines with no speaker: what diarization is given.
    pub fn lines(&self) -> Vec<Segment> {
        unattributed(&self.turns)
    }

    /// The speech with the music bed under it.
    fn mixed(&self) -> Vec<f32> {
        self.audio
            .iter()
            .enumerate()
            .map(|(i, s)| s + music(i))
            .collect()
    }

    /// Writes the conversation over music as a 16 kHz WAV.
    pub fn write_wav(&self, path: &Path) {
        write_wav(path, &self.mixed(), RATE);
    }

    /// Writes a video: a test pattern, and the conversation over music.
    pub fn write_video(&self, path: &Path) {
        let dir = tempfile::tempdir().unwrap();
        let sound = dir.path().join("sound.wav");
        self.write_wav(&sound);
        let secs = format!("{:.3}", self.audio.len() as f64 / f64::from(RATE));
        let status = Command::new("ffmpeg")
            .args(["-hide_banner", "-loglevel", "error", "-y", "-i"])
            .arg(&sound)
            .args(["-f", "lavfi", "-i"])
            .arg(format!("testsrc2=size=160x120:rate=10:duration={secs}"))
            .args(["-map", "1:v", "-map", "0:a", "-c:v", "libx264"])
            .args(["-preset", "ultrafast", "-c:a", "aac", "-ar", "48000"])
            .arg("-shortest")
            .arg(path)
            .status()
            .expect("ffmpeg runs");
        assert!(status.success(), "ffmpeg made the conversation video");
    }
}

/// `turns` as subtitle lines with no speaker.
pub fn unattributed(turns: &[Turn]) -> Vec<Segment> {
    turns
        .iter()
        .map(|t| Segment::new(t.start_ms, t.end_ms, &t.text))
        .collect()
}

/// Each line of [`LINES`] spoken once by each voice, for conversations too long to speak line by
/// line.
pub struct Pool {
    speech: Vec<Vec<Vec<f32>>>,
}

impl Pool {
    pub fn new(voices: &[Voice]) -> Pool {
        let speech = voices
            .iter()
            .map(|v| LINES.iter().map(|t| v.speak(t, 1.0)).collect())
            .collect();
        Pool { speech }
    }

    /// A conversation of at least `secs` seconds over music, written to `path` (16 kHz WAV) as it
    /// is laid out, so a long one takes no memory: the speakers mostly alternate, sometimes one
    /// goes on, each turn a line of the pool chosen by `seed`. Returns the turns.
    pub fn stream(&self, path: &Path, secs: u64, seed: u64) -> Vec<Turn> {
        let spec = hound::WavSpec {
            channels: 1,
            sample_rate: RATE,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        let mut wav = hound::WavWriter::create(path, spec).unwrap();
        let mut i = 0;
        let write = |s: f32| {
            let sample = ((s + music(i)).clamp(-1.0, 1.0) * 32767.0) as i16;
            wav.write_sample(sample).unwrap();
            i += 1;
        };
        let mut layout = Layout::new(write, seed);
        let mut rng = fastrand::Rng::with_seed(seed ^ 0x9E37_79B9_7F4A_7C15);
        let mut speaker = 0;
        while layout.at < secs as usize * RATE as usize {
            if self.speech.len() > 1 && rng.u8(..4) != 0 {
                speaker = (speaker + 1) % self.speech.len();
            }
            let line = rng.usize(..LINES.len());
            layout.turn(speaker, LINES[line], &self.speech[speaker][line]);
        }
        let turns = layout.finish();
        wav.finalize().unwrap();
        turns
    }
}

/// How many turns were attributed right, of how many.
#[derive(Debug, Clone, Copy)]
pub struct Attribution {
    pub right: usize,
    pub of: usize,
}

impl Attribution {
    pub fn share(self) -> f64 {
        self.right as f64 / self.of.max(1) as f64
    }
}

/// Scores `lines` (start ms, end ms, speaker name) found for a conversation of `turns`, up to
/// naming. Each line belongs to the turn it overlaps most. A turn is right when it has lines and
/// all of them carry the one name mapped to its speaker — the names mapped one to one to true
/// speakers, the mapping that gets the most turns right. A line with no name is never right,
/// and a line over no turn at all counts as one more wrong: every line counts, so neither a
/// merged speaker nor a dropped or invented line can hide.
pub fn attribution(turns: &[Turn], lines: &[(u64, u64, Option<String>)]) -> Attribution {
    let overlap = |t: &Turn, (start, end): (u64, u64)| {
        end.min(t.end_ms).saturating_sub(start.max(t.start_ms))
    };
    // Each turn's lines' names: None when it has none, or they differ or one has no name.
    let mut named: Vec<Option<Option<&str>>> = vec![None; turns.len()];
    let mut stray = 0;
    for (start, end, name) in lines {
        let best = (0..turns.len())
            .map(|k| (overlap(&turns[k], (*start, *end)), k))
            .max()
            .filter(|&(o, _)| o > 0);
        let Some((_, k)) = best else {
            stray += 1;
            continue;
        };
        named[k] = match named[k] {
            None => Some(name.as_deref()),
            Some(seen) if seen == name.as_deref() => Some(seen),
            Some(_) => Some(None),
        };
    }
    let uniform: Vec<Option<&str>> = named.into_iter().map(Option::flatten).collect();
    Attribution {
        right: best_mapping(turns, &uniform),
        of: turns.len() + stray,
    }
}

/// Scores `lines` against `turns` the other way round, as a listener checks a real recording
/// whose lines were cut differently: each turn is given the name of the line that overlaps it
/// most, and a turn is right when that name is the one mapped to its speaker (names mapped one
/// to one, the mapping that gets the most turns right). A turn no line overlaps is wrong.
pub fn attribution_by_turn(turns: &[Turn], lines: &[(u64, u64, Option<String>)]) -> Attribution {
    let named: Vec<Option<&str>> = turns
        .iter()
        .map(|t| {
            lines
                .iter()
                .map(|(start, end, name)| {
                    (
                        end.min(&t.end_ms).saturating_sub(*start.max(&t.start_ms)),
                        name,
                    )
                })
                .filter(|(o, _)| *o > 0)
                .max_by_key(|(o, _)| *o)
                .and_then(|(_, name)| name.as_deref())
        })
        .collect();
    Attribution {
        right: best_mapping(turns, &named),
        of: turns.len(),
    }
}

/// How many of `turns` are right when each carries the name in `uniform` (`None`: wrong), with
/// names mapped one to one to true speakers, the mapping that gets the most right.
fn best_mapping(turns: &[Turn], uniform: &[Option<&str>]) -> usize {
    let mut names: Vec<&str> = uniform.iter().flatten().copied().collect();
    names.sort_unstable();
    names.dedup();
    let speakers = turns.iter().map(|t| t.speaker + 1).max().unwrap_or(0);
    // right[n][s]: turns of speaker s whose lines are all named names[n].
    let mut right = vec![vec![0; speakers]; names.len()];
    for (turn, name) in turns.iter().zip(uniform) {
        if let Some(name) = name {
            let n = names.binary_search(name).unwrap();
            right[n][turn.speaker] += 1;
        }
    }
    // Every one-to-one mapping, as each true speaker's choice of a distinct name or none (there
    // are few speakers; names may be many).
    let options = names.len() + 1;
    let mut best = 0;
    for code in 0..options.pow(speakers as u32) {
        let choice: Vec<usize> = (0..speakers)
            .map(|s| code / options.pow(s as u32) % options)
            .collect();
        let chosen: Vec<usize> = choice.iter().copied().filter(|&c| c > 0).collect();
        let mut distinct = chosen.clone();
        distinct.sort_unstable();
        distinct.dedup();
        if distinct.len() != chosen.len() {
            continue;
        }
        let score = (0..speakers)
            .filter(|&s| choice[s] > 0)
            .map(|s| right[choice[s] - 1][s])
            .sum();
        best = best.max(score);
    }
    best
}

/// [`attribution`] of diarized segments.
pub fn attribution_of(turns: &[Turn], segments: &[Segment]) -> Attribution {
    let lines: Vec<(u64, u64, Option<String>)> = segments
        .iter()
        .map(|s| (s.start_ms, s.end_ms, s.speaker.clone()))
        .collect();
    attribution(turns, &lines)
}
