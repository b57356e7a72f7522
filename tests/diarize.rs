//! Speaker diarization with the installed default encoder (ECAPA-TDNN) on generated speech: how alike the
//! encoder finds lines of one voice and of different voices (the figures the clustering
//! threshold was calibrated on), and whole conversations (two and three voices taking turns over
//! a quiet music bed, one voice talking alone) diarized end to end from a WAV file.
//!
//! Voices: the Piper voice en_US-joe-medium (male, the most natural), espeak-ng en-us (male),
//! en-us+f3 and en-us+f4 (female), en-gb+m3 (a third male). A missing model fails the test,
//! naming `scripts/setup-models.sh`.

mod local_common;

use std::sync::OnceLock;

use dubber::Segment;
use dubber::models::DataDir;
use dubber::speakers::{
    DiarizeOptions, EcapaEncoder, SpeakerCount, SpeakerEncoder, diarize, load_state_dict,
};
use local_common::conversation::{
    Attribution, Conversation, LINES, Line, Voice, attribution_of, script,
};

/// Fixes the gaps between turns, so a failure can be replayed.
const SEED: u64 = 0x2545_F491_4F6C_DD1D;

/// The default speaker encoder (ECAPA-TDNN).
fn encoder() -> &'static EcapaEncoder {
    static ENCODER: OnceLock<EcapaEncoder> = OnceLock::new();
    ENCODER.get_or_init(|| {
        let data = DataDir::from_env().expect("data dir");
        EcapaEncoder::from_data_dir(&data).unwrap_or_else(|e| {
            panic!("the speaker model is missing, run scripts/setup-models.sh: {e}")
        })
    })
}

/// Diarizes `script` spoken over music, read from a WAV file: how many turns came out right,
/// the speakers found, the lines.
fn run(script: &[Line], speakers: SpeakerCount) -> (Attribution, usize, Vec<Segment>) {
    let tmp = tempfile::tempdir().unwrap();
    let wav = tmp.path().join("speech.wav");
    let conv = Conversation::perform(script, SEED);
    conv.write_wav(&wav);
    let options = DiarizeOptions {
        speakers,
        ..DiarizeOptions::default()
    };
    let out = diarize(encoder(), &wav, &conv.lines(), &options).expect("diarize");
    (
        attribution_of(&conv.turns, &out.segments),
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
        ("joe", Voice::Piper),
        ("en-us", Voice::Espeak("en-us")),
        ("en-us+f3", Voice::Espeak("en-us+f3")),
        ("en-us+f4", Voice::Espeak("en-us+f4")),
        ("en-gb+m3", Voice::Espeak("en-gb+m3")),
    ];
    let embeddings: Vec<Vec<_>> = voices
        .iter()
        .map(|(_, v)| {
            let audio: Vec<Vec<f32>> = (0..6)
                .map(|k| v.speak(LINES[k * 3 + 1], [1.0, 0.85, 1.15][k % 3]))
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
    let threshold = encoder().same_speaker_threshold();
    assert!(
        worst_same > threshold + 0.05 && best_different < threshold - 0.05,
        "one voice's lines average ≥ {worst_same:.3}, two voices' ≤ {best_different:.3}, \
         threshold {threshold}"
    );
}

#[test]
fn two_voices_taking_turns_over_music_are_told_apart() {
    let voices = [Voice::Piper, Voice::Espeak("en-us+f3")];
    let order = [0, 1, 0, 1, 1, 0, 1, 0, 0, 1, 0, 1, 1, 0, 1, 0, 1, 0, 0, 1];
    let (right, speakers, _) = run(&script(&voices, &order), SpeakerCount::Auto);
    eprintln!(
        "two voices: {speakers} speakers, {}/{} lines right",
        right.right, right.of
    );
    assert_eq!(speakers, 2);
    assert!(right.share() >= 0.95, "{right:?}");
}

#[test]
fn three_voices_taking_turns_over_music_are_told_apart() {
    let voices = [
        Voice::Piper,
        Voice::Espeak("en-us+f3"),
        Voice::Espeak("en-gb+m3"),
    ];
    let order = [
        0, 1, 2, 0, 2, 1, 1, 0, 2, 2, 1, 0, 1, 2, 0, 0, 2, 1, 0, 1, 2, 1, 0, 2,
    ];
    let (right, speakers, _) = run(&script(&voices, &order), SpeakerCount::Auto);
    eprintln!(
        "three voices: {speakers} speakers, {}/{} lines right",
        right.right, right.of
    );
    assert_eq!(speakers, 3);
    assert!(right.share() >= 0.90, "{right:?}");
    // Forced to two, it gives two.
    let (_, forced, _) = run(&script(&voices, &order), SpeakerCount::Exactly(2));
    assert_eq!(forced, 2);
}

#[test]
fn one_voice_talking_over_music_stays_one_speaker() {
    // Every line of the pool, at four speeds: questions, exclamations, long and short lines.
    let order = vec![0; LINES.len()];
    let (right, speakers, segments) = run(&script(&[Voice::Piper], &order), SpeakerCount::Auto);
    assert_eq!(speakers, 1, "{segments:#?}");
    assert_eq!(right.right, right.of, "{segments:#?}");
}

#[test]
fn a_line_two_voices_share_is_split_where_the_voice_changes() {
    let tmp = tempfile::tempdir().unwrap();
    let wav = tmp.path().join("speech.wav");
    let voices = [Voice::Piper, Voice::Espeak("en-us+f3")];
    let mut lines = script(&voices, &[0, 1, 0, 1, 0, 1]);
    // Two long turns, the usual short gap apart, then subtitled as one line.
    for (speaker, text) in [(0, LINES[2]), (1, LINES[6])] {
        lines.push(Line {
            speaker,
            voice: voices[speaker],
            text,
            speed: 1.0,
        });
    }
    let conv = Conversation::perform(&lines, SEED);
    conv.write_wav(&wav);
    let n = conv.turns.len();
    let mut input = conv.lines();
    let (a, b) = (&conv.turns[n - 2], &conv.turns[n - 1]);
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
    let voices = [Voice::Piper, Voice::Espeak("en-us+f3")];
    let conv = Conversation::perform(&script(&voices, &[0, 1, 0, 1, 1, 0, 0, 1]), SEED);
    conv.write_wav(&wav);
    let total_ms = conv.duration_ms();
    let mut input = conv.lines();
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
