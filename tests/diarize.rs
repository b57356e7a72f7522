//! Speaker diarization with the installed GE2E encoder on generated speech: how alike the
//! encoder finds lines of one voice and of different voices (the figures the clustering
//! threshold was calibrated on), and whole conversations (two and three voices taking turns over
//! a quiet music bed, one voice talking alone) diarized end to end from a WAV file.
//!
//! Voices: the Piper voice en_US-joe-medium (male, the most natural), espeak-ng en-us (male),
//! en-us+f3 and en-us+f4 (female), en-gb+m3 (a third male). A missing model fails the test,
//! naming `scripts/setup-models.sh`.

mod local_common;

use std::path::Path;
use std::sync::OnceLock;

use dubber::Segment;
use dubber::local_tts::PiperVoice;
use dubber::models::DataDir;
use dubber::speakers::{
    DEFAULT_THRESHOLD, DiarizeOptions, Ge2eEncoder, SpeakerCount, SpeakerEncoder, diarize,
    load_state_dict,
};

/// Lines of 1 to 8 seconds, questions and exclamations among them.
const LINES: &[&str] = &[
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

/// A synthetic voice.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Voice {
    Joe,
    Espeak(&'static str),
}

fn piper() -> &'static PiperVoice {
    static VOICE: OnceLock<PiperVoice> = OnceLock::new();
    VOICE.get_or_init(|| {
        let (voice, runtime) = local_common::piper_voice().expect("piper voice");
        dubber::local_tts::init_onnxruntime(&runtime).expect("onnxruntime");
        PiperVoice::load(&voice).expect("load the Piper voice")
    })
}

fn encoder() -> &'static Ge2eEncoder {
    static ENCODER: OnceLock<Ge2eEncoder> = OnceLock::new();
    ENCODER.get_or_init(|| {
        let data = DataDir::from_env().expect("data dir");
        Ge2eEncoder::from_data_dir(&data).unwrap_or_else(|e| {
            panic!("the speaker model is missing, run scripts/setup-models.sh: {e}")
        })
    })
}

/// `text` spoken by `voice` at `speed` (1 is normal), 16 kHz mono, trimmed.
fn speak(voice: Voice, text: &str, speed: f32) -> Vec<f32> {
    match voice {
        Voice::Joe => {
            let (samples, rate) = piper().speak(text, speed).expect("piper speaks");
            local_common::trim_silence(&local_common::resample(&samples, rate, 16_000))
        }
        Voice::Espeak(v) => {
            let wpm = (160.0 * speed) as u32;
            let samples = local_common::espeak_voice(v, wpm, text);
            local_common::resample(&samples, 22_050, 16_000)
        }
    }
}

/// A quiet bed of sine chords (a new triad every 2 s), 20 dB under `level` RMS.
fn music(len: usize, level: f32) -> Vec<f32> {
    const CHORDS: [[f32; 3]; 4] = [
        [261.6, 329.6, 392.0],
        [220.0, 261.6, 329.6],
        [174.6, 220.0, 261.6],
        [196.0, 246.9, 293.7],
    ];
    // Three sines of amplitude a have an RMS of a·sqrt(3/2).
    let amp = level * 0.1 / 1.5f32.sqrt();
    (0..len)
        .map(|i| {
            let chord = CHORDS[(i / 32_000) % 4];
            let t = i as f32 / 16_000.0;
            chord
                .iter()
                .map(|f| amp * (2.0 * std::f32::consts::PI * f * t).sin())
                .sum()
        })
        .collect()
}

fn rms(a: &[f32]) -> f32 {
    (a.iter().map(|x| x * x).sum::<f32>() / a.len().max(1) as f32).sqrt()
}

/// A conversation: each `(voice, line)` spoken in turn after a gap of 0.2–0.8 s, over music;
/// written to `path`. Returns the lines (true speaker index in `speaker`) and the audio length.
fn conversation(path: &Path, turns: &[(usize, Voice, &str, f32)]) -> (Vec<Segment>, u64) {
    let mut audio = vec![0f32; 8_000];
    let mut lines = Vec::new();
    let mut rng = 0x2545_F491_4F6C_DD1Du64;
    for &(who, voice, text, speed) in turns {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        let gap = 3_200 + (rng % 9_600) as usize;
        audio.resize(audio.len() + gap, 0.0);
        let speech = speak(voice, text, speed);
        let start = audio.len();
        // Each voice at its own level, as recordings are.
        let gain = 0.1 / rms(&speech).max(1e-6) * [1.0, 0.7, 1.3][who % 3];
        audio.extend(speech.iter().map(|s| s * gain));
        let ms = |samples: usize| samples as u64 * 1000 / 16_000;
        lines.push(
            Segment::new(ms(start), ms(audio.len()), text).with_speaker(Some(who.to_string())),
        );
    }
    audio.resize(audio.len() + 8_000, 0.0);
    let bed = music(audio.len(), 0.1);
    let mixed: Vec<f32> = audio.iter().zip(&bed).map(|(s, m)| s + m).collect();
    local_common::write_wav(path, &mixed, 16_000);
    (lines, mixed.len() as u64 * 1000 / 16_000)
}

/// Share of `truth` lines whose output pieces all carry the speaker mapped to the true one, under
/// the best one-to-one mapping of names (so naming does not matter).
fn accuracy(truth: &[Segment], out: &[Segment]) -> f64 {
    let predicted: Vec<Vec<String>> = truth
        .iter()
        .map(|t| {
            out.iter()
                .filter(|o| o.start_ms < t.end_ms && o.end_ms > t.start_ms)
                .filter_map(|o| o.speaker.clone())
                .collect()
        })
        .collect();
    let mut names: Vec<String> = predicted.iter().flatten().cloned().collect();
    names.sort();
    names.dedup();
    let mut trues: Vec<String> = truth.iter().filter_map(|t| t.speaker.clone()).collect();
    trues.sort();
    trues.dedup();
    // Best mapping predicted name -> true name, by brute force over assignments (≤ 4 names).
    let mut best = 0;
    let n = names.len();
    let choices = trues.len().max(1).pow(n as u32);
    for code in 0..choices {
        let map: Vec<&String> = (0..n)
            .map(|k| &trues[(code / trues.len().pow(k as u32)) % trues.len()])
            .collect();
        let right = truth
            .iter()
            .zip(&predicted)
            .filter(|(t, p)| {
                !p.is_empty()
                    && p.iter().all(|name| {
                        let k = names.iter().position(|x| x == name).unwrap();
                        Some(map[k]) == t.speaker.as_ref()
                    })
            })
            .count();
        best = best.max(right);
    }
    best as f64 / truth.len() as f64
}

fn turns_of(voices: &[Voice], order: &[usize]) -> Vec<(usize, Voice, &'static str, f32)> {
    order
        .iter()
        .enumerate()
        .map(|(k, &who)| {
            let speed = [1.0, 0.85, 1.15, 0.95][k % 4];
            (who, voices[who], LINES[k % LINES.len()], speed)
        })
        .collect()
}

fn run(turns: &[(usize, Voice, &str, f32)], speakers: SpeakerCount) -> (f64, usize, Vec<Segment>) {
    let tmp = tempfile::tempdir().unwrap();
    let wav = tmp.path().join("speech.wav");
    let (truth, _) = conversation(&wav, turns);
    let input: Vec<Segment> = truth.iter().map(|s| s.clone().with_speaker(None)).collect();
    let options = DiarizeOptions {
        speakers,
        ..DiarizeOptions::default()
    };
    let out = diarize(encoder(), &wav, &input, &options).expect("diarize");
    (
        accuracy(&truth, &out.segments),
        out.speakers.len(),
        out.segments,
    )
}

#[test]
fn the_installed_model_reads_as_torch_saved_it() {
    let path = DataDir::from_env().unwrap().speaker_model().unwrap();
    let tensors = load_state_dict(&path, "model_state").expect("read the checkpoint");
    assert_eq!(tensors.len(), 16);
    // Values as torch.load gives them (Python's pickle over the same file); weight_hh_l0 is a
    // view at offset 40960 into the storage it shares with weight_ih_l0 (cuDNN's flat weights).
    let at = |name: &str, shape: &[usize], index: usize| {
        let t = &tensors[name];
        assert_eq!(t.shape, shape, "{name}");
        t.data[index]
    };
    assert_eq!(at("lstm.weight_hh_l0", &[1024, 256], 0), -0.323_269_7);
    assert_eq!(
        at("lstm.weight_hh_l0", &[1024, 256], 1024 * 256 - 1),
        -0.773_720_5
    );
    assert_eq!(
        at("lstm.weight_ih_l0", &[1024, 40], 5 * 40 + 7),
        -0.225_647_64
    );
    assert_eq!(at("linear.bias", &[256], 3), 0.012_225_506);
    assert_eq!(at("lstm.bias_hh_l2", &[1024], 1000), -0.009_150_72);
}

#[test]
fn same_voice_lines_are_alike_and_different_voices_are_not() {
    let voices = [
        ("joe", Voice::Joe),
        ("en-us", Voice::Espeak("en-us")),
        ("en-us+f3", Voice::Espeak("en-us+f3")),
        ("en-us+f4", Voice::Espeak("en-us+f4")),
        ("en-gb+m3", Voice::Espeak("en-gb+m3")),
    ];
    let embeddings: Vec<Vec<_>> = voices
        .iter()
        .map(|(_, v)| {
            let audio: Vec<Vec<f32>> = (0..6)
                .map(|k| speak(*v, LINES[k * 3 + 1], [1.0, 0.85, 1.15][k % 3]))
                .collect();
            let refs: Vec<&[f32]> = audio.iter().map(Vec::as_slice).collect();
            encoder().embed(&refs).unwrap()
        })
        .collect();
    // Voices the encoder cannot tell apart: espeak-ng variants of one synthesiser and one sex.
    let look_alike =
        |a: &str, b: &str| matches!((a, b), ("en-us", "en-gb+m3") | ("en-us+f3", "en-us+f4"));
    let mut worst_same = 1f32;
    let mut best_different = -1f32;
    for (a, ea) in embeddings.iter().enumerate() {
        for (b, eb) in embeddings.iter().enumerate().skip(a) {
            let sims: Vec<f32> = ea
                .iter()
                .enumerate()
                .flat_map(|(i, x)| eb.iter().enumerate().map(move |(j, y)| (i, j, x, y)))
                .filter(|(i, j, _, _)| a != b || i < j)
                .map(|(_, _, x, y)| x.cosine(y))
                .collect();
            let min = sims.iter().copied().fold(f32::MAX, f32::min);
            let max = sims.iter().copied().fold(f32::MIN, f32::max);
            let mean = sims.iter().sum::<f32>() / sims.len() as f32;
            let (na, nb) = (voices[a].0, voices[b].0);
            eprintln!("{na:>9} vs {nb:<9} cosine min {min:.3} mean {mean:.3} max {max:.3}");
            if a == b {
                worst_same = worst_same.min(mean);
            } else if !look_alike(na, nb) {
                best_different = best_different.max(mean);
            }
        }
    }
    // Clustering compares averages over groups of lines: the mean similarity of one voice's
    // lines must clear the threshold, that of two voices stay under it, each with a margin.
    assert!(
        worst_same > DEFAULT_THRESHOLD + 0.05 && best_different < DEFAULT_THRESHOLD - 0.05,
        "one voice's lines average ≥ {worst_same:.3}, two voices' ≤ {best_different:.3}, \
         threshold {DEFAULT_THRESHOLD}"
    );
}

#[test]
fn two_voices_taking_turns_over_music_are_told_apart() {
    let voices = [Voice::Joe, Voice::Espeak("en-us+f3")];
    let order = [0, 1, 0, 1, 1, 0, 1, 0, 0, 1, 0, 1, 1, 0, 1, 0, 1, 0, 0, 1];
    let (accuracy, speakers, _) = run(&turns_of(&voices, &order), SpeakerCount::Auto);
    eprintln!(
        "two voices: {speakers} speakers, {:.1} % of lines right",
        accuracy * 100.0
    );
    assert_eq!(speakers, 2);
    assert!(accuracy >= 0.95, "{accuracy}");
}

#[test]
fn three_voices_taking_turns_over_music_are_told_apart() {
    let voices = [
        Voice::Joe,
        Voice::Espeak("en-us+f3"),
        Voice::Espeak("en-gb+m3"),
    ];
    let order = [
        0, 1, 2, 0, 2, 1, 1, 0, 2, 2, 1, 0, 1, 2, 0, 0, 2, 1, 0, 1, 2, 1, 0, 2,
    ];
    let (accuracy, speakers, _) = run(&turns_of(&voices, &order), SpeakerCount::Auto);
    eprintln!(
        "three voices: {speakers} speakers, {:.1} % of lines right",
        accuracy * 100.0
    );
    assert_eq!(speakers, 3);
    assert!(accuracy >= 0.90, "{accuracy}");
    // Forced to two, it gives two.
    let (_, forced, _) = run(&turns_of(&voices, &order), SpeakerCount::Exactly(2));
    assert_eq!(forced, 2);
}

#[test]
fn one_voice_talking_over_music_stays_one_speaker() {
    // Every line of the pool, at four speeds: questions, exclamations, long and short lines.
    let order = vec![0; LINES.len()];
    let (accuracy, speakers, segments) = run(&turns_of(&[Voice::Joe], &order), SpeakerCount::Auto);
    assert_eq!(speakers, 1, "{segments:#?}");
    assert_eq!(accuracy, 1.0);
}

#[test]
fn a_line_two_voices_share_is_split_where_the_voice_changes() {
    let tmp = tempfile::tempdir().unwrap();
    let wav = tmp.path().join("speech.wav");
    let voices = [Voice::Joe, Voice::Espeak("en-us+f3")];
    let order = [0, 1, 0, 1, 0, 1];
    let mut turns = turns_of(&voices, &order);
    // Two long turns with no gap in between, then subtitled as one line.
    turns.push((0, Voice::Joe, LINES[2], 1.0));
    turns.push((1, Voice::Espeak("en-us+f3"), LINES[6], 1.0));
    let (truth, _) = conversation(&wav, &turns);
    let n = truth.len();
    let mut input: Vec<Segment> = truth.iter().map(|s| s.clone().with_speaker(None)).collect();
    let (a, b) = (&truth[n - 2], &truth[n - 1]);
    input.truncate(n - 2);
    input.push(Segment::new(
        a.start_ms,
        b.end_ms,
        format!("{} {}", a.text, b.text),
    ));
    let out = diarize(encoder(), &wav, &input, &DiarizeOptions::default()).expect("diarize");
    assert_eq!(out.segments.len(), n, "{:#?}", out.segments);
    let (left, right) = (&out.segments[n - 2], &out.segments[n - 1]);
    assert_eq!(
        (left.text.as_str(), right.text.as_str()),
        (a.text.as_str(), b.text.as_str())
    );
    // Each half carries the voice of the lines its speaker says elsewhere.
    assert_eq!(left.speaker, out.segments[0].speaker);
    assert_eq!(right.speaker, out.segments[1].speaker);
    assert_ne!(left.speaker, right.speaker);
    assert_eq!(out.speakers.iter().map(|s| s.lines).sum::<usize>(), n);
}

#[test]
fn off_returns_the_lines_unchanged_and_silent_lines_take_no_part() {
    let tmp = tempfile::tempdir().unwrap();
    let wav = tmp.path().join("speech.wav");
    let voices = [Voice::Joe, Voice::Espeak("en-us+f3")];
    let (truth, total_ms) = conversation(&wav, &turns_of(&voices, &[0, 1, 0, 1, 1, 0, 0, 1]));
    let mut input: Vec<Segment> = truth.iter().map(|s| s.clone().with_speaker(None)).collect();
    let off = DiarizeOptions {
        speakers: SpeakerCount::Off,
        ..DiarizeOptions::default()
    };
    let out = diarize(encoder(), &wav, &input, &off).unwrap();
    assert_eq!(out.segments, input);
    assert!(out.speakers.is_empty());
    // A sound description gets no speaker; a line past the audio's end (no sound) borrows its
    // neighbour's.
    input.push(Segment::new(total_ms + 100, total_ms + 900, "[MUSIC]"));
    input.push(Segment::new(total_ms + 1000, total_ms + 2000, "Goodbye."));
    let out = diarize(encoder(), &wav, &input, &DiarizeOptions::default()).unwrap();
    let n = out.segments.len();
    assert_eq!(out.segments[n - 2].speaker, None);
    assert_eq!(out.segments[n - 1].speaker, out.segments[7].speaker);
    let names: Vec<&str> = out.speakers.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, vec!["SPEAKER_1", "SPEAKER_2"]);
    assert_eq!(out.segments[0].speaker.as_deref(), Some("SPEAKER_1"));
}
