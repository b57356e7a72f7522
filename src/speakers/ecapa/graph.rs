//! ECAPA-TDNN as an ONNX Runtime graph, built in memory from the folded [`Weights`].
//!
//! Why a graph and not our own loops: almost all of ECAPA's cost is its convolutions (~18 M
//! multiply-adds per 10 ms frame), and ONNX Runtime's MLAS kernels run them about three times
//! faster per core than `matrixmultiply` on the machines we measured (75–80 against ~23 GFLOPS
//! on a 1024→1024, kernel-3 convolution of 150 frames). ONNX Runtime is loaded anyway (Piper,
//! Silero), and the graph is built from the checkpoint at load time with its model-editor API,
//! so nothing is converted at install time and no ONNX file is written.
//!
//! The graph is SpeechBrain's `ECAPA_TDNN.forward` in eval mode over a batch of equally long
//! pieces: `feats [B, 80, T]` → `embedding [B, 192, 1]`. Each TDNN block is
//! `Pad(reflect) → Conv → Relu → Mul(scale) → Add(shift)` (the batch norm after the ReLU, as an
//! affine map); the attention's global context (each channel's mean and std over the frames) is
//! the same at every frame, so its share of `asp.tdnn` is a 1-frame convolution added to the
//! per-frame part. Reflect padding needs more frames than the widest pad, hence [`MIN_FRAMES`].

use ort::editor::{Graph, Model, Node, ONNX_DOMAIN, Opset};
use ort::memory::Allocator;
use ort::operator::Attribute;
use ort::session::Session;
use ort::session::builder::SessionBuilder;
use ort::value::{Outlet, Shape, SymbolicDimensions, Tensor, TensorElementType, ValueType};

use super::fbank::N_MELS;
use super::weights::{CHANNELS, Dense, EMBEDDING, MFA_CHANNELS, SCALE, SeRes2Net, Tdnn, Weights};

/// Fewest frames a piece may have: reflect padding needs more frames than its widest pad (4).
pub const MIN_FRAMES: usize = 5;
/// Name of the graph's input (`[batch, 80, frames]`, band-major normalised log-mel features).
pub const INPUT: &str = "feats";
/// Name of the graph's output (`[batch, 192, 1]`, the raw embeddings).
pub const OUTPUT: &str = "embedding";

/// `AttentiveStatisticsPooling`'s epsilon (variances are clamped to it before the root).
const STAT_EPS: f32 = 1e-12;
/// Opset 17: `ReduceMean` still takes its axes as an attribute, `Split` its sizes as an input.
const OPSET: u32 = 17;

type OrtResult<T> = ort::Result<T>;

/// Builds the graph for `w` and opens a session on it with the `builder`'s options.
pub fn session(w: &Weights, builder: &SessionBuilder) -> OrtResult<Session> {
    let mut b = Builder {
        graph: Graph::new()?,
        next: 0,
    };
    let x = b.tdnn(&w.block0, INPUT)?;
    let mut outs = Vec::with_capacity(w.blocks.len());
    let mut input = x;
    for block in &w.blocks {
        input = b.se_res2net(block, &input)?;
        outs.push(input.clone());
    }
    let cat = b.node("Concat", &outs, vec![Attribute::new("axis", 1i64)?])?;
    let mfa = b.tdnn(&w.mfa, &cat)?;
    let pooled = b.attentive_pooling(w, &mfa)?;
    b.conv_out(&w.fc, &pooled, OUTPUT)?;

    let mut graph = b.graph;
    graph.set_inputs([Outlet::new(
        INPUT,
        tensor_type(&[-1, N_MELS as i64, -1], &["batch", "", "frames"]),
    )])?;
    graph.set_outputs([Outlet::new(
        OUTPUT,
        tensor_type(&[-1, EMBEDDING as i64, 1], &["batch", "", ""]),
    )])?;
    let mut model = Model::new([Opset::new(ONNX_DOMAIN, OPSET)?])?;
    model.set_graph(graph)?;
    model.into_session(builder)
}

fn tensor_type(dims: &[i64], names: &[&str]) -> ValueType {
    ValueType::Tensor {
        ty: TensorElementType::Float32,
        shape: Shape::new(dims.iter().copied()),
        dimension_symbols: SymbolicDimensions::new(names.iter().map(|n| n.to_string())),
    }
}

/// The graph under construction, and a counter that keeps value names unique.
struct Builder {
    graph: Graph,
    next: usize,
}

impl Builder {
    fn fresh(&mut self, what: &str) -> String {
        self.next += 1;
        format!("{what}_{}", self.next)
    }

    /// A float constant of `shape` holding `data`.
    fn constant(&mut self, data: &[f32], shape: &[usize]) -> OrtResult<String> {
        let dims: Vec<i64> = shape.iter().map(|&d| d as i64).collect();
        let mut t = Tensor::<f32>::new(&Allocator::default(), dims)?;
        t.extract_tensor_mut().1.copy_from_slice(data);
        let name = self.fresh("w");
        self.graph.add_initializer(&name, t, false)?;
        Ok(name)
    }

    /// An int64 constant (pads, split sizes, axes).
    fn constant_i64(&mut self, data: &[i64]) -> OrtResult<String> {
        let mut t = Tensor::<i64>::new(&Allocator::default(), [data.len() as i64])?;
        t.extract_tensor_mut().1.copy_from_slice(data);
        let name = self.fresh("k");
        self.graph.add_initializer(&name, t, false)?;
        Ok(name)
    }

    /// Adds one node with one output and returns the output's name.
    fn node<S: AsRef<str>>(
        &mut self,
        op: &str,
        inputs: &[S],
        attributes: Vec<Attribute>,
    ) -> OrtResult<String> {
        let out = self.fresh(op);
        self.node_to(op, inputs, std::slice::from_ref(&out), attributes)?;
        Ok(out)
    }

    fn node_to<S: AsRef<str>>(
        &mut self,
        op: &str,
        inputs: &[S],
        outputs: &[String],
        attributes: Vec<Attribute>,
    ) -> OrtResult<()> {
        let inputs: Vec<&str> = inputs.iter().map(AsRef::as_ref).collect();
        let name = self.fresh(&format!("{op}_node"));
        let node = Node::new(op, ONNX_DOMAIN, name, inputs, outputs, attributes)?;
        self.graph.add_node(node)
    }

    /// A 1-d convolution with `weights` (`cout × cin · kernel`) and an optional bias.
    fn conv(
        &mut self,
        x: &str,
        weights: &[f32],
        shape: [usize; 3],
        dilation: usize,
        bias: Option<&[f32]>,
    ) -> OrtResult<String> {
        let w = self.constant(weights, &shape)?;
        let mut inputs = vec![x.to_string(), w];
        if let Some(bias) = bias {
            inputs.push(self.constant(bias, &[shape[0]])?);
        }
        let attributes = vec![
            Attribute::new("kernel_shape", vec![shape[2] as i64])?,
            Attribute::new("dilations", vec![dilation as i64])?,
        ];
        self.node("Conv", &inputs, attributes)
    }

    /// `Conv(pad "same", reflect) → ReLU → BatchNorm` (the norm as `scale`, `shift`).
    fn tdnn(&mut self, l: &Tdnn, x: &str) -> OrtResult<String> {
        let pad = l.dilation * (l.kernel - 1) / 2;
        let padded = if pad == 0 {
            x.to_string()
        } else {
            let pads = self.constant_i64(&[0, 0, pad as i64, 0, 0, pad as i64])?;
            let mode = vec![Attribute::new("mode", "reflect".to_string())?];
            self.node("Pad", &[x.to_string(), pads], mode)?
        };
        let shape = [l.cout, l.cin, l.kernel];
        let y = self.conv(&padded, &l.w, shape, l.dilation, Some(&l.bias))?;
        self.affine_after_relu(&y, &l.scale, &l.shift)
    }

    fn affine_after_relu(&mut self, y: &str, scale: &[f32], shift: &[f32]) -> OrtResult<String> {
        let relu = self.node("Relu", &[y], vec![])?;
        let scale = self.constant(scale, &[scale.len(), 1])?;
        let scaled = self.node("Mul", &[relu, scale], vec![])?;
        let shift = self.constant(shift, &[shift.len(), 1])?;
        self.node("Add", &[scaled, shift], vec![])
    }

    /// A 1×1 convolution with bias, writing to `out`.
    fn conv_out(&mut self, d: &Dense, x: &str, out: &str) -> OrtResult<()> {
        let w = self.constant(&d.w, &[d.cout, d.cin, 1])?;
        let bias = self.constant(&d.bias, &[d.cout])?;
        let attributes = vec![Attribute::new("kernel_shape", vec![1i64])?];
        self.node_to(
            "Conv",
            &[x.to_string(), w, bias],
            &[out.to_string()],
            attributes,
        )
    }

    fn dense(&mut self, d: &Dense, x: &str) -> OrtResult<String> {
        self.conv(x, &d.w, [d.cout, d.cin, 1], 1, Some(&d.bias))
    }

    fn mean_over_time(&mut self, x: &str) -> OrtResult<String> {
        let attributes = vec![
            Attribute::new("axes", vec![2i64])?,
            Attribute::new("keepdims", 1i64)?,
        ];
        self.node("ReduceMean", &[x], attributes)
    }

    fn sum_over_time(&mut self, x: &str) -> OrtResult<String> {
        let axes = self.constant_i64(&[2])?;
        let attributes = vec![Attribute::new("keepdims", 1i64)?];
        self.node("ReduceSum", &[x.to_string(), axes], attributes)
    }

    /// `sqrt(max(var, eps))`.
    fn std_of(&mut self, var: &str) -> OrtResult<String> {
        let eps = self.constant(&[STAT_EPS], &[1])?;
        let clamped = self.node("Max", &[var.to_string(), eps], vec![])?;
        self.node("Sqrt", &[clamped], vec![])
    }

    /// `tdnn1 → Res2Net → tdnn2 → SE`, plus the input.
    fn se_res2net(&mut self, block: &SeRes2Net, x: &str) -> OrtResult<String> {
        let a = self.tdnn(&block.tdnn1, x)?;
        let sizes = self.constant_i64(&[(CHANNELS / SCALE) as i64; SCALE])?;
        let chunks: Vec<String> = (0..SCALE).map(|_| self.fresh("chunk")).collect();
        let axis = vec![Attribute::new("axis", 1i64)?];
        self.node_to("Split", &[a, sizes], &chunks, axis)?;
        // Chunk 0 passes, chunk 1 goes through its conv, chunk i ≥ 2 through its conv after
        // adding the previous chunk's output.
        let mut ys = vec![chunks[0].clone()];
        for (i, conv) in block.res2net.iter().enumerate() {
            let input = if i == 0 {
                chunks[1].clone()
            } else {
                let prev = ys[i].clone();
                self.node("Add", &[chunks[i + 1].clone(), prev], vec![])?
            };
            ys.push(self.tdnn(conv, &input)?);
        }
        let r = self.node("Concat", &ys, vec![Attribute::new("axis", 1i64)?])?;
        let out = self.tdnn(&block.tdnn2, &r)?;
        // Squeeze-and-excitation: a gate per channel from the channels' means over time.
        let means = self.mean_over_time(&out)?;
        let squeezed = self.dense(&block.se1, &means)?;
        let squeezed = self.node("Relu", &[squeezed], vec![])?;
        let gate = self.dense(&block.se2, &squeezed)?;
        let gate = self.node("Sigmoid", &[gate], vec![])?;
        let gated = self.node("Mul", &[out, gate], vec![])?;
        self.node("Add", &[gated, x.to_string()], vec![])
    }

    /// Attentive statistics pooling with global context: `[B, 6144, 1]` (means, then stds).
    fn attentive_pooling(&mut self, w: &Weights, x: &str) -> OrtResult<String> {
        let c = MFA_CHANNELS;
        let mean = self.mean_over_time(x)?;
        let centred = self.node("Sub", &[x.to_string(), mean.clone()], vec![])?;
        let squares = self.node("Mul", &[centred.clone(), centred], vec![])?;
        let var = self.mean_over_time(&squares)?;
        let std = self.std_of(&var)?;
        let context = self.node("Concat", &[mean, std], vec![Attribute::new("axis", 1i64)?])?;

        // asp.tdnn's weights are `128 × [x | mean | std]`: split them by columns.
        let l = &w.asp_tdnn;
        let depth = 3 * c;
        let rows = || l.w.chunks_exact(depth);
        let w_frames: Vec<f32> = rows().flat_map(|r| r[..c].iter().copied()).collect();
        let w_context: Vec<f32> = rows().flat_map(|r| r[c..].iter().copied()).collect();
        let per_frame = self.conv(x, &w_frames, [l.cout, c, 1], 1, Some(&l.bias))?;
        let global = self.conv(&context, &w_context, [l.cout, 2 * c, 1], 1, None)?;
        let att = self.node("Add", &[per_frame, global], vec![])?;
        let att = self.affine_after_relu(&att, &l.scale, &l.shift)?;
        let att = self.node("Tanh", &[att], vec![])?;
        let energy = self.dense(&w.asp_conv, &att)?;
        let weights = self.node("Softmax", &[energy], vec![Attribute::new("axis", 2i64)?])?;

        let weighted = self.node("Mul", &[weights.clone(), x.to_string()], vec![])?;
        let wmean = self.sum_over_time(&weighted)?;
        let centred = self.node("Sub", &[x.to_string(), wmean.clone()], vec![])?;
        let squares = self.node("Mul", &[centred.clone(), centred], vec![])?;
        let weighted = self.node("Mul", &[weights, squares], vec![])?;
        let wvar = self.sum_over_time(&weighted)?;
        let wstd = self.std_of(&wvar)?;
        self.node(
            "Concat",
            &[wmean, wstd],
            vec![Attribute::new("axis", 1i64)?],
        )
    }
}
