//! ECAPA-TDNN's forward pass (SpeechBrain's `ECAPA_TDNN.forward`, eval mode, one utterance).
//!
//! Tensors are channel-major (`C × T`, row `c` holds channel `c` over all frames), so every
//! convolution is one `sgemm`: `Y (cout × T) = W (cout × cin·k) · X_col (cin·k × T)`. A 1×1
//! convolution reads `X` itself; a wider one first copies its input into `X_col` (im2col,
//! row `ci·k + j` = channel `ci` shifted by `j·dilation − pad`), with SpeechBrain's "same"
//! padding: `pad = dilation·(k − 1)/2` frames each side, *reflected* (`F.pad(mode="reflect")`).
//! Channel-major also makes the Res2Net chunks and the concatenation of the three blocks for
//! the feature aggregation plain row ranges. All buffers live in [`Scratch`], reused from one
//! utterance to the next, so the hot loops allocate nothing.

use matrixmultiply::sgemm;

use super::weights::{CHANNELS, Dense, EMBEDDING, MFA_CHANNELS, SCALE, Tdnn, Weights};

/// `AttentiveStatisticsPooling`'s epsilon (variances are clamped to it before the root).
const STAT_EPS: f32 = 1e-12;

/// Working memory for one utterance at a time; grows to the longest utterance seen.
#[derive(Debug, Default)]
pub struct Scratch {
    /// The three SE-Res2Net blocks' outputs, stacked: the aggregation's input (3072 × T).
    cat: Vec<f32>,
    x0: Vec<f32>,
    a: Vec<f32>,
    r: Vec<f32>,
    tmp: Vec<f32>,
    col: Vec<f32>,
    mfa: Vec<f32>,
    att: Vec<f32>,
    energy: Vec<f32>,
}

fn ensure(buf: &mut Vec<f32>, n: usize) -> &mut [f32] {
    if buf.len() < n {
        buf.resize(n, 0.0);
    }
    &mut buf[..n]
}

/// `C = A · B` with `A` `m × k`, `B` `k × n`, `C` `m × n`, all row-major and dense.
fn gemm(m: usize, k: usize, n: usize, a: &[f32], b: &[f32], c: &mut [f32]) {
    debug_assert!(a.len() >= m * k && b.len() >= k * n && c.len() >= m * n);
    // SAFETY: the slices hold at least m·k, k·n and m·n elements with the strides given.
    unsafe {
        sgemm(
            m,
            k,
            n,
            1.0,
            a.as_ptr(),
            k as isize,
            1,
            b.as_ptr(),
            n as isize,
            1,
            0.0,
            c.as_mut_ptr(),
            n as isize,
            1,
        );
    }
}

/// Index `i` (possibly out of `0..len`) reflected into range, as `F.pad(mode="reflect")`.
fn reflect(i: isize, len: usize) -> usize {
    if len == 1 {
        return 0;
    }
    let period = 2 * (len as isize - 1);
    let i = i.rem_euclid(period);
    (if i >= len as isize { period - i } else { i }) as usize
}

/// Runs the TDNN block `l` on `x` (`l.cin × t`) into `y` (`l.cout × t`).
fn tdnn(l: &Tdnn, x: &[f32], t: usize, col: &mut Vec<f32>, y: &mut [f32]) {
    let depth = l.cin * l.kernel;
    if l.kernel == 1 {
        gemm(l.cout, depth, t, &l.w, x, y);
    } else {
        let col = ensure(col, depth * t);
        let pad = (l.dilation * (l.kernel - 1) / 2) as isize;
        for (ci, src) in x.chunks_exact(t).take(l.cin).enumerate() {
            for j in 0..l.kernel {
                let row = &mut col[(ci * l.kernel + j) * t..][..t];
                let shift = (j * l.dilation) as isize - pad;
                for (f, out) in row.iter_mut().enumerate() {
                    let at = f as isize + shift;
                    *out = if at >= 0 && (at as usize) < t {
                        src[at as usize]
                    } else {
                        src[reflect(at, t)]
                    };
                }
            }
        }
        gemm(l.cout, depth, t, &l.w, col, y);
    }
    for (c, row) in y.chunks_exact_mut(t).enumerate() {
        let (b, s, h) = (l.bias[c], l.scale[c], l.shift[c]);
        row.iter_mut().for_each(|v| *v = (*v + b).max(0.0) * s + h);
    }
}

/// `y = d · x + bias` for one vector.
fn dense(d: &Dense, x: &[f32], y: &mut [f32]) {
    for ((row, b), out) in d.w.chunks_exact(d.cin).zip(&d.bias).zip(y.iter_mut()) {
        *out = b + row.iter().zip(x).map(|(w, v)| w * v).sum::<f32>();
    }
}

fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + (-x).exp())
}

/// The 192 raw components of the embedding of `feats` (80 × `t`, band-major, normalised).
pub fn forward(w: &Weights, feats: &[f32], t: usize, s: &mut Scratch) -> Vec<f32> {
    let n = CHANNELS * t;
    let x0 = ensure(&mut s.x0, n);
    tdnn(&w.block0, feats, t, &mut s.col, x0);
    ensure(&mut s.cat, MFA_CHANNELS * t);
    for (b, block) in w.blocks.iter().enumerate() {
        let (done, rest) = s.cat.split_at_mut(b * n);
        let input: &[f32] = if b == 0 {
            &s.x0[..n]
        } else {
            &done[(b - 1) * n..]
        };
        let out = &mut rest[..n];
        se_res2net(
            block, input, t, &mut s.a, &mut s.r, &mut s.tmp, &mut s.col, out,
        );
    }
    let mfa = ensure(&mut s.mfa, MFA_CHANNELS * t);
    tdnn(&w.mfa, &s.cat[..MFA_CHANNELS * t], t, &mut s.col, mfa);
    let pooled = attentive_pooling(w, &s.mfa[..MFA_CHANNELS * t], t, &mut s.att, &mut s.energy);
    let mut out = vec![0f32; EMBEDDING];
    dense(&w.fc, &pooled, &mut out);
    out
}

/// One SE-Res2Net block: `tdnn1 → Res2Net → tdnn2 → SE`, plus the input (the residual).
#[allow(clippy::too_many_arguments)]
fn se_res2net(
    block: &super::weights::SeRes2Net,
    x: &[f32],
    t: usize,
    a: &mut Vec<f32>,
    r: &mut Vec<f32>,
    tmp: &mut Vec<f32>,
    col: &mut Vec<f32>,
    out: &mut [f32],
) {
    let n = CHANNELS * t;
    let a = ensure(a, n);
    tdnn(&block.tdnn1, x, t, col, a);
    // Res2Net: chunk 0 passes, chunk 1 goes through its conv, chunk i ≥ 2 through its conv
    // after adding the previous chunk's output.
    let r = ensure(r, n);
    let chunk = (CHANNELS / SCALE) * t;
    r[..chunk].copy_from_slice(&a[..chunk]);
    let tmp = ensure(tmp, chunk);
    for i in 1..SCALE {
        let (prev, cur) = r.split_at_mut(i * chunk);
        let cur = &mut cur[..chunk];
        let a_i = &a[i * chunk..(i + 1) * chunk];
        if i == 1 {
            tdnn(&block.res2net[0], a_i, t, col, cur);
        } else {
            let y_prev = &prev[(i - 1) * chunk..];
            tmp.iter_mut()
                .zip(a_i.iter().zip(y_prev))
                .for_each(|(o, (p, q))| *o = p + q);
            tdnn(&block.res2net[i - 1], tmp, t, col, cur);
        }
    }
    tdnn(&block.tdnn2, r, t, col, out);
    // Squeeze-and-excitation: a gate per channel from the channels' means over time.
    let means: Vec<f32> = out
        .chunks_exact(t)
        .map(|row| row.iter().sum::<f32>() / t as f32)
        .collect();
    let mut squeezed = vec![0f32; block.se1.cout];
    dense(&block.se1, &means, &mut squeezed);
    squeezed.iter_mut().for_each(|v| *v = v.max(0.0));
    let mut gate = vec![0f32; CHANNELS];
    dense(&block.se2, &squeezed, &mut gate);
    for ((row, g), res) in out.chunks_exact_mut(t).zip(&gate).zip(x.chunks_exact(t)) {
        let g = sigmoid(*g);
        row.iter_mut().zip(res).for_each(|(v, r)| *v = *v * g + r);
    }
}

/// Weighted mean and standard deviation of `row` (weights summing to 1).
fn stats(row: &[f32], weights: impl Iterator<Item = f32> + Clone) -> (f32, f32) {
    let mean: f32 = row.iter().zip(weights.clone()).map(|(x, w)| w * x).sum();
    let var: f32 = row
        .iter()
        .zip(weights)
        .map(|(x, w)| w * (x - mean) * (x - mean))
        .sum();
    (mean, var.max(STAT_EPS).sqrt())
}

/// Attentive statistics pooling with global context: 6144 values (weighted means, then stds).
fn attentive_pooling(
    w: &Weights,
    x: &[f32],
    t: usize,
    att: &mut Vec<f32>,
    energy: &mut Vec<f32>,
) -> Vec<f32> {
    let c = MFA_CHANNELS;
    let uniform = std::iter::repeat_n(1.0 / t as f32, t);
    let global: Vec<(f32, f32)> = x
        .chunks_exact(t)
        .map(|row| stats(row, uniform.clone()))
        .collect();
    // asp.tdnn over [x; mean; std]: the mean and std columns are the same at every frame, so
    // their part of the product is one vector added to the bias.
    let l = &w.asp_tdnn;
    let att = ensure(att, l.cout * t);
    let depth = 3 * c;
    // SAFETY: l.w is cout × 3c; the first c columns times x (c × t) into att (cout × t).
    unsafe {
        sgemm(
            l.cout,
            c,
            t,
            1.0,
            l.w.as_ptr(),
            depth as isize,
            1,
            x.as_ptr(),
            t as isize,
            1,
            0.0,
            att.as_mut_ptr(),
            t as isize,
            1,
        );
    }
    for (o, row) in att.chunks_exact_mut(t).enumerate() {
        let wr = &l.w[o * depth..(o + 1) * depth];
        let context: f32 = global
            .iter()
            .enumerate()
            .map(|(ci, (m, sd))| wr[c + ci] * m + wr[2 * c + ci] * sd)
            .sum();
        let (b, s, h) = (l.bias[o] + context, l.scale[o], l.shift[o]);
        row.iter_mut()
            .for_each(|v| *v = ((*v + b).max(0.0) * s + h).tanh());
    }
    let conv = &w.asp_conv;
    let energy = ensure(energy, c * t);
    gemm(conv.cout, conv.cin, t, &conv.w, att, energy);
    let mut pooled = vec![0f32; 2 * c];
    for (ci, (e, row)) in energy
        .chunks_exact_mut(t)
        .zip(x.chunks_exact(t))
        .enumerate()
    {
        let b = conv.bias[ci];
        let max = e.iter().fold(f32::NEG_INFINITY, |m, v| m.max(v + b));
        let mut sum = 0.0;
        e.iter_mut().for_each(|v| {
            *v = (*v + b - max).exp();
            sum += *v;
        });
        e.iter_mut().for_each(|v| *v /= sum);
        let (mean, sd) = stats(row, e.iter().copied());
        pooled[ci] = mean;
        pooled[c + ci] = sd;
    }
    pooled
}
