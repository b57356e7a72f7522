//! The ECAPA-TDNN port against SpeechBrain's own implementation, on the installed checkpoint.
//!
//! `tests/fixtures/ecapa/` holds three espeak-ng clips (16 kHz mono 16-bit, 3.1–3.8 s, voices
//! en-us, en-gb+m3 and en-us+f3) and `reference.json`, the raw 192-d embeddings SpeechBrain 1.1.2
//! (torch 2.15, CPU) gives them with the `spkrec-ecapa-voxceleb` hyperparameters: made by
//! `scripts/dev/ecapa_reference.py` (dev only; how to run it is in its docstring). The clips were
//! made with espeak-ng 1.51 and resampled by ffmpeg:
//!
//! ```text
//! espeak-ng -v en-us    -w a.wav "The quick brown fox jumps over the lazy dog near the river bank."
//! espeak-ng -v en-gb+m3 -w b.wav "She sells sea shells by the sea shore every summer morning."
//! espeak-ng -v en-us+f3 -w c.wav "Please call Stella and ask her to bring these things with her."
//! ffmpeg -i a.wav -ar 16000 -ac 1 -c:a pcm_s16le en-us.wav   # and so on
//! ```
//!
//! A missing model fails the test, naming `scripts/setup-models.sh`.

mod local_common;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use dubber::models::DataDir;
use dubber::speakers::{EcapaEncoder, Embedding, SpeakerEncoder, load_zip_state_dict};

use local_common::conversation::{LINES, Voice};

const CLIPS: [&str; 3] = ["en-us.wav", "en-gb-m3.wav", "en-us-f3.wav"];

fn encoder() -> &'static EcapaEncoder {
    static ENCODER: OnceLock<EcapaEncoder> = OnceLock::new();
    ENCODER.get_or_init(|| {
        let data = DataDir::from_env().expect("data dir");
        EcapaEncoder::from_data_dir(&data).unwrap_or_else(|e| {
            panic!("the ECAPA speaker model is missing, run scripts/setup-models.sh: {e}")
        })
    })
}

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/ecapa")
}

fn read_clip(name: &str) -> Vec<f32> {
    let mut r = hound::WavReader::open(fixtures().join(name)).expect("fixture clip");
    let spec = r.spec();
    assert_eq!(
        (spec.sample_rate, spec.channels, spec.bits_per_sample),
        (16_000, 1, 16)
    );
    r.samples::<i16>()
        .map(|s| f32::from(s.expect("sample")) / 32_768.0)
        .collect()
}

fn reference(name: &str) -> Vec<f32> {
    let text = std::fs::read_to_string(fixtures().join("reference.json")).expect("reference");
    let json: serde_json::Value = serde_json::from_str(&text).expect("reference JSON");
    json["clips"][name]
        .as_array()
        .expect("clip in reference.json")
        .iter()
        .map(|v| v.as_f64().expect("number") as f32)
        .collect()
}

fn cosine(a: &[f32], b: &[f32]) -> f32 {
    Embedding::normalized(a.to_vec()).cosine(&Embedding::normalized(b.to_vec()))
}

#[test]
fn the_checkpoint_reads_as_torch_saved_it() {
    let path = DataDir::from_env().unwrap().ecapa_model().unwrap();
    let tensors = load_zip_state_dict(&path).expect("read the checkpoint");
    // 231 entries, of which 31 are batch norms' num_batches_tracked (int64, left out).
    assert_eq!(tensors.len(), 200);
    // Values as Python's pickle and struct read them from the same file.
    let at = |name: &str, shape: &[usize], index: usize| {
        let t = &tensors[name];
        assert_eq!(t.shape, shape, "{name}");
        t.data[index]
    };
    assert_eq!(
        at("blocks.0.conv.conv.weight", &[1024, 80, 5], 0),
        0.066_975_17
    );
    assert_eq!(
        at("blocks.0.conv.conv.weight", &[1024, 80, 5], 409_599),
        -0.120_366_52
    );
    assert_eq!(
        at("mfa.conv.conv.weight", &[3072, 3072, 1], 9_437_183),
        -0.066_804_39
    );
    assert_eq!(at("fc.conv.bias", &[192], 191), -0.015_513_029);
    assert_eq!(
        at(
            "blocks.2.res2net_block.blocks.6.norm.norm.running_var",
            &[128],
            100
        ),
        25.398_23
    );
}

#[test]
fn embeddings_agree_with_speechbrain() {
    let audio: Vec<Vec<f32>> = CLIPS.iter().map(|c| read_clip(c)).collect();
    let refs: Vec<&[f32]> = audio.iter().map(Vec::as_slice).collect();
    let unit = encoder().embed(&refs).expect("embed");
    for ((name, a), e) in CLIPS.iter().zip(&audio).zip(&unit) {
        let want = reference(name);
        let raw = encoder().embed_raw(a).expect("embed");
        let cos = cosine(&raw, &want);
        let norm = |v: &[f32]| v.iter().map(|x| x * x).sum::<f32>().sqrt();
        let worst = raw
            .iter()
            .zip(&want)
            .map(|(x, y)| (x - y).abs())
            .fold(0f32, f32::max);
        eprintln!(
            "{name}: cosine {cos:.7}, norm {:.3} vs {:.3}, largest difference {worst:.5}",
            norm(&raw),
            norm(&want)
        );
        assert!(cos >= 0.999, "{name}: cosine {cos}");
        assert!((norm(&raw) / norm(&want) - 1.0).abs() < 0.01, "{name}");
        // The trait's embedding is the same direction, unit length.
        assert!((e.cosine(&Embedding::normalized(raw.clone())) - 1.0).abs() < 1e-5);
    }
    // The three voices are told apart: no two clips alike as one voice's would be.
    for i in 0..3 {
        for j in i + 1..3 {
            let c = unit[i].cosine(&unit[j]);
            eprintln!("{} vs {}: {c:.3}", CLIPS[i], CLIPS[j]);
            assert!(c < 0.85, "{c}");
        }
    }
}

#[test]
fn windows_of_an_utterance_are_embedded_separately() {
    let a = read_clip("en-us.wav");
    let windows = encoder().embed_windows(&[&a]).expect("embed windows");
    let ws = &windows[0];
    // 3.78 s: four 1.5 s windows, 0.76 s apart, the last one ending with the clip.
    assert_eq!(ws.len(), 4);
    assert_eq!(ws[0].start, 0);
    assert_eq!(ws.last().map(|w| w.end), Some(a.len()));
    // Each window is the embedding of its own audio.
    let second = &a[ws[1].start..ws[1].end];
    let alone = Embedding::normalized(encoder().embed_raw(second).expect("embed"));
    assert!((ws[1].embedding.cosine(&alone) - 1.0).abs() < 1e-5);
    // Windows of one voice are alike.
    assert!(ws[0].embedding.cosine(&ws[2].embedding) > 0.5);
}

#[test]
fn same_voice_lines_are_alike_and_different_voices_are_not() {
    let voices = [
        ("joe", Voice::Piper),
        ("en-us", Voice::Espeak("en-us")),
        ("en-us+f3", Voice::Espeak("en-us+f3")),
        ("en-gb+m3", Voice::Espeak("en-gb+m3")),
    ];
    let embeddings: Vec<Vec<Embedding>> = voices
        .iter()
        .map(|(_, v)| {
            let audio: Vec<Vec<f32>> = (0..6)
                .map(|k| v.speak(LINES[k * 3 + 1], [1.0, 0.85, 1.15][k % 3]))
                .collect();
            let refs: Vec<&[f32]> = audio.iter().map(Vec::as_slice).collect();
            encoder().embed(&refs).unwrap()
        })
        .collect();
    // Two variants of one synthesiser and one sex, which ECAPA hears as one voice (0.73, as
    // alike as one voice's own lines).
    let look_alike = |a: &str, b: &str| (a, b) == ("en-us", "en-gb+m3");
    let mut worst_same = 1f32;
    let mut best_different = -1f32;
    for (a, ea) in embeddings.iter().enumerate() {
        for (b, eb) in embeddings.iter().enumerate().skip(a) {
            let mut sims = Vec::new();
            for (i, x) in ea.iter().enumerate() {
                for (j, y) in eb.iter().enumerate() {
                    if a != b || i < j {
                        sims.push(x.cosine(y));
                    }
                }
            }
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
    eprintln!("one voice's lines average ≥ {worst_same:.3}, two voices' ≤ {best_different:.3}");
    // Measured: one voice ≥ 0.55 (Piper's joe at three speeds), two voices ≤ 0.23.
    assert!(
        worst_same > 0.45 && best_different < 0.35,
        "one voice's lines average ≥ {worst_same:.3}, two voices' ≤ {best_different:.3}"
    );
}
