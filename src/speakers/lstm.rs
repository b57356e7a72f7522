//! A stacked PyTorch `nn.LSTM` (batch_first) run forward over a batch of equal-length
//! sequences, with `matrixmultiply`'s sgemm doing all the arithmetic.
//!
//! Why batched: the GE2E encoder costs ~1.35 M multiply-adds per 10 ms frame, and one window is
//! 160 frames. Run as matrix-vector products, one window at a time, it would be memory-bound and
//! far over the diarization budget (≤ 0.05× the audio's duration on 2 cores). Instead, per layer,
//! the input projection `W_ih·x + b_ih + b_hh` of every frame of every window is one GEMM, and the
//! recurrence advances all `B` windows together: `gates_t += h_{t-1}·W_hhᵀ` is a `B×256 · 256×1024`
//! GEMM per time step. Gate order is PyTorch's (i, f, g, o): `c = f∘c + i∘g`, `h = o∘tanh(c)`.

/// One layer's weights, as PyTorch stores them.
#[derive(Debug, Clone)]
pub struct LstmLayer {
    /// Input size of the layer.
    pub input: usize,
    /// Hidden size.
    pub hidden: usize,
    /// `weight_ih`: `4·hidden × input`, row-major.
    pub w_ih: Vec<f32>,
    /// `weight_hh`: `4·hidden × hidden`, row-major.
    pub w_hh: Vec<f32>,
    /// `bias_ih + bias_hh`: `4·hidden`.
    pub bias: Vec<f32>,
}

/// `C (m×n) = A (m×k) · B (k×n) + beta·C`, each matrix given as a slice with its row and
/// column strides. Panics (a programming error, never input-dependent) when a slice is too short
/// for its shape and strides.
#[allow(clippy::too_many_arguments)]
fn gemm(
    (m, k, n): (usize, usize, usize),
    a: &[f32],
    (rsa, csa): (usize, usize),
    b: &[f32],
    (rsb, csb): (usize, usize),
    beta: f32,
    c: &mut [f32],
    rsc: usize,
) {
    let reach =
        |rows: usize, cols: usize, rs: usize, cs: usize| (rows - 1) * rs + (cols - 1) * cs + 1;
    if m == 0 || k == 0 || n == 0 {
        return;
    }
    assert!(a.len() >= reach(m, k, rsa, csa), "gemm: A too short");
    assert!(b.len() >= reach(k, n, rsb, csb), "gemm: B too short");
    assert!(c.len() >= reach(m, n, rsc, 1), "gemm: C too short");
    // SAFETY: the asserts above keep every element sgemm touches inside the three slices; `c`
    // is borrowed mutably, so it does not alias `a` or `b`.
    unsafe {
        matrixmultiply::sgemm(
            m,
            k,
            n,
            1.0,
            a.as_ptr(),
            rsa as isize,
            csa as isize,
            b.as_ptr(),
            rsb as isize,
            csb as isize,
            beta,
            c.as_mut_ptr(),
            rsc as isize,
            1,
        );
    }
}

fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + (-x).exp())
}

/// Runs the stacked layers over `batch` sequences of `steps` frames and returns the last layer's
/// final hidden state, `batch × hidden` row-major.
///
/// `input` is time-major: frame `t` of sequence `b` is row `t * batch + b`, `layers[0].input`
/// values wide.
pub fn final_hidden(layers: &[LstmLayer], input: &[f32], steps: usize, batch: usize) -> Vec<f32> {
    let rows = steps * batch;
    let mut x = input.to_vec();
    let mut h = Vec::new();
    for (l, layer) in layers.iter().enumerate() {
        let (width, hidden) = (layer.input, layer.hidden);
        let gates_width = 4 * hidden;
        debug_assert_eq!(x.len(), rows * width);
        // Input projection of every frame at once, biases first.
        let mut gates = Vec::with_capacity(rows * gates_width);
        for _ in 0..rows {
            gates.extend_from_slice(&layer.bias);
        }
        gemm(
            (rows, width, gates_width),
            &x,
            (width, 1),
            &layer.w_ih,
            (1, width),
            1.0,
            &mut gates,
            gates_width,
        );
        let last = l + 1 == layers.len();
        let mut out = if last {
            Vec::new()
        } else {
            vec![0f32; rows * hidden]
        };
        h = vec![0f32; batch * hidden];
        let mut c = vec![0f32; batch * hidden];
        for t in 0..steps {
            let g = &mut gates[t * batch * gates_width..(t + 1) * batch * gates_width];
            if t > 0 {
                gemm(
                    (batch, hidden, gates_width),
                    &h,
                    (hidden, 1),
                    &layer.w_hh,
                    (1, hidden),
                    1.0,
                    g,
                    gates_width,
                );
            }
            for b in 0..batch {
                let gb = &g[b * gates_width..(b + 1) * gates_width];
                let (hb, cb) = (
                    &mut h[b * hidden..(b + 1) * hidden],
                    &mut c[b * hidden..(b + 1) * hidden],
                );
                for j in 0..hidden {
                    let i_gate = sigmoid(gb[j]);
                    let f_gate = sigmoid(gb[hidden + j]);
                    let g_gate = gb[2 * hidden + j].tanh();
                    let o_gate = sigmoid(gb[3 * hidden + j]);
                    cb[j] = f_gate * cb[j] + i_gate * g_gate;
                    hb[j] = o_gate * cb[j].tanh();
                }
            }
            if !last {
                out[t * batch * hidden..(t + 1) * batch * hidden].copy_from_slice(&h);
            }
        }
        x = out;
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The textbook LSTM, one sequence and one matrix-vector product at a time.
    fn reference(layers: &[LstmLayer], seq: &[Vec<f32>]) -> Vec<f32> {
        let mut xs: Vec<Vec<f32>> = seq.to_vec();
        let mut h = Vec::new();
        for layer in layers {
            let n = layer.hidden;
            h = vec![0f32; n];
            let mut c = vec![0f32; n];
            let mut outs = Vec::new();
            for x in &xs {
                let gate = |row: usize| {
                    let wi = &layer.w_ih[row * layer.input..(row + 1) * layer.input];
                    let wh = &layer.w_hh[row * n..(row + 1) * n];
                    layer.bias[row]
                        + wi.iter().zip(x).map(|(w, v)| w * v).sum::<f32>()
                        + wh.iter().zip(&h).map(|(w, v)| w * v).sum::<f32>()
                };
                let pre: Vec<f32> = (0..4 * n).map(gate).collect();
                for j in 0..n {
                    c[j] = sigmoid(pre[n + j]) * c[j] + sigmoid(pre[j]) * pre[2 * n + j].tanh();
                    h[j] = sigmoid(pre[3 * n + j]) * c[j].tanh();
                }
                outs.push(h.clone());
            }
            xs = outs;
        }
        h
    }

    #[test]
    fn batched_run_matches_the_textbook_recurrence() {
        let mut seed = 7u64;
        let mut rnd = move || {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((seed >> 40) as f32 / (1u64 << 24) as f32 - 0.5) * 0.8
        };
        let layer = |input: usize, hidden: usize, rnd: &mut dyn FnMut() -> f32| LstmLayer {
            input,
            hidden,
            w_ih: (0..4 * hidden * input).map(|_| rnd()).collect(),
            w_hh: (0..4 * hidden * hidden).map(|_| rnd()).collect(),
            bias: (0..4 * hidden).map(|_| rnd()).collect(),
        };
        let layers = vec![layer(3, 5, &mut rnd), layer(5, 5, &mut rnd)];
        let (steps, batch) = (6, 3);
        let seqs: Vec<Vec<Vec<f32>>> = (0..batch)
            .map(|_| {
                (0..steps)
                    .map(|_| (0..3).map(|_| rnd()).collect())
                    .collect()
            })
            .collect();
        let mut input = Vec::new();
        for t in 0..steps {
            for seq in &seqs {
                input.extend_from_slice(&seq[t]);
            }
        }
        let got = final_hidden(&layers, &input, steps, batch);
        for (b, seq) in seqs.iter().enumerate() {
            let want = reference(&layers, seq);
            for (g, w) in got[b * 5..(b + 1) * 5].iter().zip(&want) {
                assert!((g - w).abs() < 1e-5, "sequence {b}: {g} vs {w}");
            }
        }
    }
}
