//! ECAPA's weights, read from SpeechBrain's `embedding_model.ckpt` (`torch_zip`) and folded for
//! inference.
//!
//! Every TDNN block is `Conv1d → ReLU → BatchNorm1d`: the batch norm comes *after* the ReLU, so
//! it cannot go into the convolution's weights; in eval mode it is a per-channel affine map,
//! kept as `scale`/`shift` and applied in the same pass that adds the bias and takes the ReLU.
//! The pooled statistics' batch norm (`asp_bn`) is followed directly by the final 1×1
//! convolution, so there it is folded into `fc`'s weights and bias.

use std::collections::HashMap;
use std::path::Path;

use crate::speakers::SpeakerError;
use crate::speakers::torch_legacy::Tensor;

/// `BatchNorm1d`'s epsilon (SpeechBrain's default).
const BN_EPS: f32 = 1e-5;

/// `Conv1d` (padding "same", reflect) → ReLU → `BatchNorm1d`, the batch norm as an affine map.
#[derive(Debug, Clone)]
pub struct Tdnn {
    pub cout: usize,
    pub cin: usize,
    pub kernel: usize,
    pub dilation: usize,
    /// `cout × (cin · kernel)`, row-major: column `ci · kernel + k` (torch's own layout).
    pub w: Vec<f32>,
    pub bias: Vec<f32>,
    pub scale: Vec<f32>,
    pub shift: Vec<f32>,
}

/// A plain 1×1 convolution (the SE block's, the attention's, the final layer).
#[derive(Debug, Clone)]
pub struct Dense {
    pub cout: usize,
    pub cin: usize,
    /// `cout × cin`, row-major.
    pub w: Vec<f32>,
    pub bias: Vec<f32>,
}

/// One SE-Res2Net block.
#[derive(Debug, Clone)]
pub struct SeRes2Net {
    pub tdnn1: Tdnn,
    /// The `scale − 1` convolutions of the Res2Net part (chunk 0 passes unchanged).
    pub res2net: Vec<Tdnn>,
    pub tdnn2: Tdnn,
    pub se1: Dense,
    pub se2: Dense,
}

/// The whole network, as `ECAPA_TDNN(input_size=80, channels=[1024,1024,1024,1024,3072],
/// kernel_sizes=[5,3,3,3,1], dilations=[1,2,3,4,1], attention_channels=128, lin_neurons=192)`.
#[derive(Debug, Clone)]
pub struct Weights {
    pub block0: Tdnn,
    pub blocks: Vec<SeRes2Net>,
    pub mfa: Tdnn,
    /// `asp.tdnn`: 128 × 9216 (frames, their mean, their std).
    pub asp_tdnn: Tdnn,
    /// `asp.conv`: 3072 × 128.
    pub asp_conv: Dense,
    /// `fc` with `asp_bn` folded in: 192 × 6144.
    pub fc: Dense,
}

/// Channels of the SE-Res2Net blocks.
pub const CHANNELS: usize = 1024;
/// Channels after the multi-layer feature aggregation.
pub const MFA_CHANNELS: usize = 3072;
/// Res2Net scale (chunks per block).
pub const SCALE: usize = 8;
/// Size of the embedding.
pub const EMBEDDING: usize = 192;
const KERNELS: [usize; 5] = [5, 3, 3, 3, 1];
const DILATIONS: [usize; 5] = [1, 2, 3, 4, 1];

struct Reader<'a> {
    tensors: HashMap<String, Tensor>,
    path: &'a Path,
}

impl Reader<'_> {
    fn take(&mut self, name: &str, shape: &[usize]) -> Result<Vec<f32>, SpeakerError> {
        match self.tensors.remove(name) {
            Some(Tensor { shape: s, data }) if s == shape => Ok(data),
            Some(t) => Err(SpeakerError::Model {
                path: self.path.to_path_buf(),
                reason: format!("tensor {name} is {:?}, expected {shape:?}", t.shape),
            }),
            None => Err(SpeakerError::Model {
                path: self.path.to_path_buf(),
                reason: format!("tensor {name} is missing (not an ECAPA-TDNN checkpoint?)"),
            }),
        }
    }

    /// `scale`, `shift` of the eval-mode batch norm `prefix` over `n` channels.
    fn batch_norm(&mut self, prefix: &str, n: usize) -> Result<(Vec<f32>, Vec<f32>), SpeakerError> {
        let w = self.take(&format!("{prefix}.weight"), &[n])?;
        let b = self.take(&format!("{prefix}.bias"), &[n])?;
        let mean = self.take(&format!("{prefix}.running_mean"), &[n])?;
        let var = self.take(&format!("{prefix}.running_var"), &[n])?;
        let scale: Vec<f32> = w
            .iter()
            .zip(&var)
            .map(|(w, v)| w / (v + BN_EPS).sqrt())
            .collect();
        let shift = b
            .iter()
            .zip(&mean)
            .zip(&scale)
            .map(|((b, m), s)| b - m * s)
            .collect();
        Ok((scale, shift))
    }

    fn tdnn(
        &mut self,
        prefix: &str,
        cin: usize,
        cout: usize,
        kernel: usize,
        dilation: usize,
    ) -> Result<Tdnn, SpeakerError> {
        let w = self.take(&format!("{prefix}.conv.conv.weight"), &[cout, cin, kernel])?;
        let bias = self.take(&format!("{prefix}.conv.conv.bias"), &[cout])?;
        let (scale, shift) = self.batch_norm(&format!("{prefix}.norm.norm"), cout)?;
        Ok(Tdnn {
            cout,
            cin,
            kernel,
            dilation,
            w,
            bias,
            scale,
            shift,
        })
    }

    fn dense(&mut self, prefix: &str, cin: usize, cout: usize) -> Result<Dense, SpeakerError> {
        Ok(Dense {
            cout,
            cin,
            w: self.take(&format!("{prefix}.weight"), &[cout, cin, 1])?,
            bias: self.take(&format!("{prefix}.bias"), &[cout])?,
        })
    }
}

impl Weights {
    /// Reads and folds the tensors of a `state_dict` read from `path`.
    pub fn from_tensors(
        tensors: HashMap<String, Tensor>,
        path: &Path,
    ) -> Result<Self, SpeakerError> {
        let mut r = Reader { tensors, path };
        let block0 = r.tdnn("blocks.0", super::fbank::N_MELS, CHANNELS, KERNELS[0], 1)?;
        let sub = CHANNELS / SCALE;
        let mut blocks = Vec::new();
        for b in 1..=3 {
            let p = format!("blocks.{b}");
            let res2net = (0..SCALE - 1)
                .map(|i| {
                    let name = format!("{p}.res2net_block.blocks.{i}");
                    r.tdnn(&name, sub, sub, KERNELS[b], DILATIONS[b])
                })
                .collect::<Result<_, _>>()?;
            blocks.push(SeRes2Net {
                tdnn1: r.tdnn(&format!("{p}.tdnn1"), CHANNELS, CHANNELS, 1, 1)?,
                res2net,
                tdnn2: r.tdnn(&format!("{p}.tdnn2"), CHANNELS, CHANNELS, 1, 1)?,
                se1: r.dense(&format!("{p}.se_block.conv1.conv"), CHANNELS, 128)?,
                se2: r.dense(&format!("{p}.se_block.conv2.conv"), 128, CHANNELS)?,
            });
        }
        let mfa = r.tdnn("mfa", MFA_CHANNELS, MFA_CHANNELS, 1, 1)?;
        let asp_tdnn = r.tdnn("asp.tdnn", 3 * MFA_CHANNELS, 128, 1, 1)?;
        let asp_conv = r.dense("asp.conv.conv", 128, MFA_CHANNELS)?;
        let (scale, shift) = r.batch_norm("asp_bn.norm", 2 * MFA_CHANNELS)?;
        let mut fc = r.dense("fc.conv", 2 * MFA_CHANNELS, EMBEDDING)?;
        // fc(scale ∘ x + shift) = (fc.w · diag(scale)) x + (fc.w · shift + fc.b).
        for (row, b) in fc.w.chunks_exact_mut(2 * MFA_CHANNELS).zip(&mut fc.bias) {
            *b += row.iter().zip(&shift).map(|(w, s)| w * s).sum::<f32>();
            row.iter_mut().zip(&scale).for_each(|(w, s)| *w *= s);
        }
        Ok(Self {
            block0,
            blocks,
            mfa,
            asp_tdnn,
            asp_conv,
            fc,
        })
    }
}
