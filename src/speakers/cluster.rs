//! Groups voice embeddings into speakers: agglomerative clustering with average linkage on cosine
//! similarity, each item weighted by its speech duration.
//!
//! Why this method: it needs no number of speakers (it stops when the two most similar clusters
//! are less alike than a threshold), yet can be forced to any number; averaging over all pairs
//! keeps one odd window (a laugh, a word over loud music) from chaining two voices together as
//! single linkage would, and weighting by duration lets long, reliable windows dominate short,
//! noisy ones. The threshold is the encoder's ([`super::SpeakerEncoder::same_speaker_threshold`]):
//! it is a property of a model's score scale, calibrated once per model, not per recording.
//!
//! Spectral clustering with the count from the normalised maximum eigengap (NME-SC) was the
//! alternative. It needs an eigendecomposition of the full affinity matrix (cubic in the windows:
//! a 2-hour film's ~10,000 windows are out of reach on 2 cores), and a one-speaker recording has
//! no gap to find, while a one-voice talk must come out as one speaker. An encoder trained with
//! a margin loss (ECAPA's AAM-softmax) puts different speakers near cosine 0 and the same speaker
//! well above, on every recording alike, so one calibrated threshold holds.
//!
//! Clusters holding less than [`MIN_SPEAKER_WEIGHT`] of speech after the automatic stop are
//! folded into their nearest cluster: a lone two-second stretch whose embedding wandered is far
//! likelier than a speaker who says only that. Items under [`RELIABLE_WEIGHT`] are not clustered
//! but join the cluster they are most like afterwards: a short window is noisy and often pulled
//! the same way by the same kind of sound, and left to cluster freely, a speaker's exclamations
//! can form a speaker of their own.
//!
//! Cost: the similarity matrix is `n²` floats and each merge updates one row, with each item's
//! best partner cached, so it runs in about `n²` steps (the caller bounds `n`).

use super::Embedding;

/// Least speech (in the weights' unit, seconds) a cluster found automatically must hold to be
/// a speaker of its own.
pub const MIN_SPEAKER_WEIGHT: f32 = 3.0;

/// Items lighter than this (seconds of speech) do not found clusters: they join the cluster
/// they are most like. A short line's embedding is noisy and often pulled the same way by the
/// same kind of line ("No way!", "Yes."): left to cluster freely, a speaker's exclamations can
/// form a speaker of their own.
pub const RELIABLE_WEIGHT: f32 = 1.5;

/// How many clusters to make.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Stop {
    /// Merge while the best pair is at least this similar.
    Threshold(f32),
    /// Merge until this many clusters are left.
    Count(usize),
}

/// A cluster label (0, 1, …, numbered in order of first appearance) for each item.
///
/// `items` are embeddings with weights (> 0); `stop` says when merging ends. Items of at least
/// [`RELIABLE_WEIGHT`] are clustered; the lighter ones then join the cluster whose members they
/// are most like on (weighted) average. When too few items are reliable for `stop`, all are
/// clustered.
pub fn cluster(items: &[(Embedding, f32)], stop: Stop) -> Vec<usize> {
    let mut reliable: Vec<usize> = (0..items.len())
        .filter(|&i| items[i].1 >= RELIABLE_WEIGHT)
        .collect();
    let needed = match stop {
        Stop::Count(k) => k.max(1),
        Stop::Threshold(_) => 1,
    };
    if reliable.len() < needed {
        reliable = (0..items.len()).collect();
    }
    let core: Vec<(Embedding, f32)> = reliable.iter().map(|&i| items[i].clone()).collect();
    let core_labels = agglomerate(&core, stop);
    let mut labels = vec![0usize; items.len()];
    for (&i, &l) in reliable.iter().zip(&core_labels) {
        labels[i] = l;
    }
    let clusters = core_labels.iter().max().map_or(0, |m| m + 1);
    for i in 0..items.len() {
        if reliable.contains(&i) {
            continue;
        }
        let mut sum = vec![0f32; clusters];
        let mut weight = vec![0f32; clusters];
        for (&r, &l) in reliable.iter().zip(&core_labels) {
            sum[l] += items[r].1 * items[i].0.cosine(&items[r].0);
            weight[l] += items[r].1;
        }
        labels[i] = (0..clusters)
            .max_by(|&a, &b| (sum[a] / weight[a]).total_cmp(&(sum[b] / weight[b])))
            .unwrap_or(0);
    }
    label_in_order(&labels)
}

/// Agglomerative clustering of all `items`: a root id per item.
fn agglomerate(items: &[(Embedding, f32)], stop: Stop) -> Vec<usize> {
    let n = items.len();
    if n == 0 {
        return Vec::new();
    }
    let mut sim = vec![0f32; n * n];
    for i in 0..n {
        for j in i + 1..n {
            let s = items[i].0.cosine(&items[j].0);
            sim[i * n + j] = s;
            sim[j * n + i] = s;
        }
    }
    let mut weight: Vec<f32> = items.iter().map(|(_, w)| w.max(1e-6)).collect();
    let mut active = vec![true; n];
    let mut parent: Vec<usize> = (0..n).collect();
    let best_of = |i: usize, sim: &[f32], active: &[bool]| -> (usize, f32) {
        (0..n)
            .filter(|&j| j != i && active[j])
            .map(|j| (j, sim[i * n + j]))
            .fold((usize::MAX, f32::NEG_INFINITY), |a, b| {
                if b.1 > a.1 { b } else { a }
            })
    };
    let mut best: Vec<(usize, f32)> = (0..n).map(|i| best_of(i, &sim, &active)).collect();
    let mut clusters = n;
    loop {
        let target = match stop {
            Stop::Count(k) => k.max(1),
            Stop::Threshold(_) => 1,
        };
        if clusters <= target {
            break;
        }
        let Some(i) = (0..n)
            .filter(|&i| active[i])
            .max_by(|&a, &b| best[a].1.total_cmp(&best[b].1))
        else {
            break;
        };
        let (j, s) = best[i];
        if let Stop::Threshold(t) = stop
            && s < t
        {
            break;
        }
        merge(&mut sim, n, &mut weight, &active, i, j);
        active[j] = false;
        parent[j] = i;
        clusters -= 1;
        for c in 0..n {
            if !active[c] {
                continue;
            }
            if c == i || best[c].0 == i || best[c].0 == j {
                best[c] = best_of(c, &sim, &active);
            }
        }
    }
    if let Stop::Threshold(_) = stop {
        fold_small(&mut sim, n, &mut weight, &mut active, &mut parent);
    }
    let roots: Vec<usize> = (0..n)
        .map(|mut i| {
            while parent[i] != i {
                i = parent[i];
            }
            i
        })
        .collect();
    label_in_order(&roots)
}

/// Merges cluster `j` into `i` (Lance–Williams update for weighted average linkage).
fn merge(sim: &mut [f32], n: usize, weight: &mut [f32], active: &[bool], i: usize, j: usize) {
    let (wi, wj) = (weight[i], weight[j]);
    for c in 0..n {
        if c == i || c == j || !active[c] {
            continue;
        }
        let s = (wi * sim[i * n + c] + wj * sim[j * n + c]) / (wi + wj);
        sim[i * n + c] = s;
        sim[c * n + i] = s;
    }
    weight[i] = wi + wj;
}

/// Folds clusters lighter than [`MIN_SPEAKER_WEIGHT`] into their most similar cluster, lightest
/// first, while a heavy enough cluster exists.
fn fold_small(
    sim: &mut [f32],
    n: usize,
    weight: &mut [f32],
    active: &mut [bool],
    parent: &mut [usize],
) {
    loop {
        let live: Vec<usize> = (0..n).filter(|&i| active[i]).collect();
        if live.len() < 2 || !live.iter().any(|&i| weight[i] >= MIN_SPEAKER_WEIGHT) {
            return;
        }
        let Some(&light) = live
            .iter()
            .filter(|&&i| weight[i] < MIN_SPEAKER_WEIGHT)
            .min_by(|&&a, &&b| weight[a].total_cmp(&weight[b]))
        else {
            return;
        };
        let Some(&into) = live
            .iter()
            .filter(|&&c| c != light)
            .max_by(|&&a, &&b| sim[light * n + a].total_cmp(&sim[light * n + b]))
        else {
            return;
        };
        merge(sim, n, weight, active, into, light);
        active[light] = false;
        parent[light] = into;
    }
}

/// Labels renumbered 0, 1, … in order of first appearance.
fn label_in_order(labels: &[usize]) -> Vec<usize> {
    let mut names: Vec<usize> = Vec::new();
    labels
        .iter()
        .map(|&r| match names.iter().position(|&x| x == r) {
            Some(k) => k,
            None => {
                names.push(r);
                names.len() - 1
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A unit vector near axis `axis` of 4, tilted by `tilt` towards the next axis.
    fn near(axis: usize, tilt: f32, weight: f32) -> (Embedding, f32) {
        let mut v = vec![0.0; 4];
        v[axis] = 1.0;
        v[(axis + 1) % 4] = tilt;
        (Embedding::normalized(v), weight)
    }

    #[test]
    fn threshold_separates_voices_and_keeps_one_voice_whole() {
        let items = vec![
            near(1, 0.1, 4.0),
            near(0, 0.2, 5.0),
            near(1, 0.3, 4.0),
            near(0, 0.0, 6.0),
            near(2, 0.1, 5.0),
        ];
        assert_eq!(cluster(&items, Stop::Threshold(0.75)), vec![0, 1, 0, 1, 2]);
        let one: Vec<_> = (0..6).map(|k| near(0, 0.05 * k as f32, 2.0)).collect();
        assert_eq!(cluster(&one, Stop::Threshold(0.75)), vec![0; 6]);
        assert!(cluster(&[], Stop::Threshold(0.75)).is_empty());
    }

    #[test]
    fn a_count_forces_the_number_of_clusters() {
        let items = vec![
            near(0, 0.0, 4.0),
            near(1, 0.0, 4.0),
            near(2, 0.0, 4.0),
            near(0, 0.1, 4.0),
        ];
        assert_eq!(cluster(&items, Stop::Count(3)), vec![0, 1, 2, 0]);
        let labels = cluster(&items, Stop::Count(1));
        assert_eq!(labels, vec![0; 4]);
        // More clusters asked than items: each item its own.
        assert_eq!(cluster(&items[..2], Stop::Count(5)), vec![0, 1]);
    }

    #[test]
    fn short_lines_join_a_speaker_but_never_found_one() {
        // Three short lines alike among themselves but unlike both speakers: without the rule
        // they would be a third speaker.
        let short = |t: f32| (Embedding::normalized(vec![0.3, 0.5, 1.0, t]), 0.2);
        let items = vec![
            near(0, 0.0, 4.0),
            short(0.0),
            near(1, 0.0, 4.0),
            short(0.1),
            short(0.05),
            near(0, 0.1, 4.0),
        ];
        assert_eq!(
            cluster(&items, Stop::Threshold(0.75)),
            vec![0, 1, 1, 1, 1, 0]
        );
    }

    #[test]
    fn a_light_stray_cluster_is_folded_into_its_nearest() {
        // A 2-second line pointing elsewhere joins the closer of the two real speakers.
        let items = vec![
            near(0, 0.0, 10.0),
            near(1, 0.0, 10.0),
            (Embedding::normalized(vec![0.3, 0.5, 0.0, 1.0]), 2.0),
        ];
        assert_eq!(cluster(&items, Stop::Threshold(0.75)), vec![0, 1, 1]);
    }
}
