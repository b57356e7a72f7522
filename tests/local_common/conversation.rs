//! Conversations with known speakers, for the diarization tests and benchmark: turns of 1–8 s
//! spoken by clearly different voices (the Piper voice, espeak-ng variants), short gaps, and a
//! video with a quiet music bed under them. Where each turn is and who speaks it is the truth the
//! tests score against.

use std::path::Path;
use std::process::Command;
use std::sync::OnceLock;

use dubber::local_tts::{PiperVoice, init_onnxruntime};

use super::{espeak_voice, piper_voice, resample, write_wav};

/// Who speaks a turn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Voice {
    /// The installed Piper voice (en_US-joe-medium: a man).
    Piper,
    /// An espeak-ng voice and variant (`en-us+f3`: a woman).
    Espeak(&'static str),
}

impl Voice {
    /// Mono samples at 22050 Hz, trimmed to the speech.
    fn speak(self, text: &str) -> Vec<f32> {
        match self {
            Voice::Piper => {
                let (samples, rate) = piper().speak(text, 1.0).expect("Piper speaks");
                assert_eq!(rate, 22_050);
                super::trim_silence(&samples)
            }
            Voice::Espeak(voice) => espeak_voice(voice, 165, text),
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

/// One turn: who, what, and where it is spoken (ms).
#[derive(Debug, Clone)]
pub struct Turn {
    pub speaker: usize,
    pub text: String,
    pub start_ms: u64,
    pub end_ms: u64,
}

/// A conversation: its audio (22050 Hz mono) and its turns.
pub struct Conversation {
    pub audio: Vec<f32>,
    pub turns: Vec<Turn>,
}

/// Sentences of everyday talk, long and short, without digits.
const LINES: [&str; 40] = [
    "Good morning, how was your trip?",
    "It was long, but the train was on time and I slept most of the way.",
    "Did you bring the documents we talked about last week?",
    "Yes, they are in my bag.",
    "Great, then we can start right away.",
    "I would like to begin with the budget, because it affects everything else we plan.",
    "That makes sense to me.",
    "How much did we spend on travel this spring?",
    "Less than we feared, thanks to the cheaper flights and a few cancelled meetings.",
    "Really?",
    "I thought the prices had gone up again.",
    "They did, but we booked early, and that saved us a lot of money.",
    "Let us talk about the new office next.",
    "Is it true that the windows face the park?",
    "They do, and the light in the afternoon is wonderful.",
    "I cannot wait to see it.",
    "We should also decide who moves first, the design team or the sales people.",
    "The design team, I think.",
    "They have the most equipment and they need the most time to set it up.",
    "Fair enough.",
    "What about the parking situation around the building?",
    "There are twenty spaces underground, which should be plenty for now.",
    "And for visitors?",
    "They can use the public garage across the street.",
    "I will write that down.",
    "Could you send me the floor plan this evening?",
    "Of course, I will send it as soon as I get home.",
    "Thank you, that helps a lot.",
    "One more question before we finish.",
    "Who is going to organise the opening party?",
    "My sister runs a small catering company, and she would love to help.",
    "Wonderful, please ask her for a price.",
    "I will call her tomorrow morning.",
    "Then I think we are done for today.",
    "Yes, and thank you for coming all this way.",
    "It was my pleasure, see you next week.",
    "Take care, and say hello to your family.",
    "I will, goodbye.",
    "Wait, did you remember to book the meeting room for Friday?",
    "I did, it is the big one on the second floor.",
];

/// A conversation of `turns` turns among `voices`, 1–2 sentences a turn (1–8 s), gaps of
/// 0.25–0.8 s, the speaker order shuffled (never the same speaker twice in a row) but fixed by
/// `seed`.
pub fn conversation(voices: &[Voice], turns: usize, seed: u64) -> Conversation {
    let rate = 22_050u64;
    let mut rng = fastrand::Rng::with_seed(seed);
    let mut audio: Vec<f32> = vec![0.0; (rate * 6 / 10) as usize];
    let mut out = Vec::new();
    let mut line = 0usize;
    let mut previous: Option<usize> = None;
    for _ in 0..turns {
        let speaker = loop {
            let s = rng.usize(..voices.len());
            if Some(s) != previous {
                break s;
            }
        };
        previous = Some(speaker);
        let sentences = 1 + usize::from(rng.bool());
        let mut samples = Vec::new();
        let mut text = Vec::new();
        for k in 0..sentences {
            let sentence = LINES[line % LINES.len()];
            line += 1;
            if k > 0 {
                samples.extend(std::iter::repeat_n(0.0, (rate / 4) as usize));
            }
            samples.extend(voices[speaker].speak(sentence));
            text.push(sentence);
        }
        // Keep turns within 1–8 s.
        samples.truncate((rate * 8) as usize);
        let start_ms = audio.len() as u64 * 1000 / rate;
        audio.extend(&samples);
        let end_ms = audio.len() as u64 * 1000 / rate;
        out.push(Turn {
            speaker,
            text: text.join(" "),
            start_ms,
            end_ms,
        });
        let gap_ms = 250 + rng.u64(..550);
        audio.extend(std::iter::repeat_n(0.0, (gap_ms * rate / 1000) as usize));
    }
    audio.extend(std::iter::repeat_n(0.0, rate as usize));
    Conversation { audio, turns: out }
}

impl Conversation {
    /// Length in seconds.
    pub fn secs(&self) -> f64 {
        self.audio.len() as f64 / 22_050.0
    }

    /// The speech at 16 kHz (what diarization reads).
    pub fn audio_16k(&self) -> Vec<f32> {
        resample(&self.audio, 22_050, 16_000)
    }

    /// Writes a video: a test pattern, the conversation, and a quiet two-tone music bed under it
    /// (about 20 dB below the speech).
    pub fn write_video(&self, path: &Path) {
        let dir = tempfile::tempdir().unwrap();
        let speech = dir.path().join("speech.wav");
        write_wav(&speech, &self.audio, 22_050);
        let secs = format!("{:.3}", self.secs());
        let status = Command::new("ffmpeg")
            .args(["-hide_banner", "-loglevel", "error", "-y", "-i"])
            .arg(&speech)
            .args(["-f", "lavfi", "-i"])
            .arg(format!("testsrc2=size=160x120:rate=10:duration={secs}"))
            .args(["-filter_complex"])
            .arg(format!(
                "sine=frequency=196:sample_rate=48000:duration={secs}[m1];\
                 sine=frequency=247:sample_rate=48000:duration={secs}[m2];\
                 [m1][m2]amix=inputs=2:normalize=0,volume=0.05[music];\
                 [0:a]aresample=48000[s];[s][music]amix=inputs=2:normalize=0:duration=first[a]"
            ))
            .args([
                "-map",
                "1:v",
                "-map",
                "[a]",
                "-c:v",
                "libx264",
                "-preset",
                "ultrafast",
            ])
            .args(["-c:a", "aac", "-shortest"])
            .arg(path)
            .status()
            .expect("ffmpeg runs");
        assert!(status.success(), "ffmpeg made the conversation video");
    }
}

/// The share of `lines` (start ms, end ms, speaker name) attributed to the right speaker, up to
/// naming: each line's true speaker is the one whose turns overlap it most; each found name is
/// mapped to the true speaker it most often is, and no two names to the same speaker (the best
/// such mapping, tried exhaustively — there are few speakers).
pub fn attribution(turns: &[Turn], lines: &[(u64, u64, Option<String>)]) -> f64 {
    let truth: Vec<usize> = lines
        .iter()
        .map(|&(start, end, _)| {
            let mut overlap: Vec<(u64, usize)> = Vec::new();
            for t in turns {
                let o = end.min(t.end_ms).saturating_sub(start.max(t.start_ms));
                match overlap.iter_mut().find(|(_, s)| *s == t.speaker) {
                    Some(entry) => entry.0 += o,
                    None => overlap.push((o, t.speaker)),
                }
            }
            overlap.iter().max().map_or(0, |&(_, s)| s)
        })
        .collect();
    let mut names: Vec<Option<String>> = lines.iter().map(|l| l.2.clone()).collect();
    names.sort();
    names.dedup();
    let speakers = turns.iter().map(|t| t.speaker).max().map_or(0, |m| m + 1);
    let mut best = 0;
    // Every assignment of found names to true speakers (or to none).
    let options = speakers + 1;
    let total = options.pow(names.len() as u32);
    for code in 0..total {
        let mut c = code;
        let mut map = Vec::new();
        for _ in &names {
            map.push(c % options);
            c /= options;
        }
        let used: Vec<usize> = map.iter().copied().filter(|&m| m < speakers).collect();
        let mut unique = used.clone();
        unique.sort_unstable();
        unique.dedup();
        if unique.len() != used.len() {
            continue;
        }
        let right = lines
            .iter()
            .zip(&truth)
            .filter(|((_, _, name), truth)| {
                let i = names.iter().position(|n| n == name).unwrap();
                map[i] == **truth
            })
            .count();
        best = best.max(right);
    }
    best as f64 / lines.len().max(1) as f64
}
