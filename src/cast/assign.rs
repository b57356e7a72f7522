//! Automatic casting: every speaker a different voice, a low speaker a low voice.
//!
//! Speakers whose pitch is known and the free voices are both sorted by pitch; the assignment
//! that keeps that order and minimises the summed distance in log-pitch (semitones, as the ear
//! hears it) is found by dynamic programming — with distinct voices, keeping the order is always
//! optimal for a convex distance, so this is the best matching. Speakers with no measured pitch
//! take the voices left, alternately from the low and the high end, so two of them sound
//! different. A candidate's penalty (an espeak-ng voice continuing a Piper pool) is added to its
//! distance, so such a voice is chosen only when it is much closer. With more speakers than voices, the speakers that come first get distinct voices
//! and the others the closest voice of the whole pool (reused); the caller warns.
//!
//! Why separate: this is pure arithmetic over names and numbers, tested without any engine.

use super::{Candidate, Voice};

/// A speaker to cast.
#[derive(Debug, Clone, PartialEq)]
pub struct Speaker {
    pub name: String,
    /// The median pitch of their speech, Hz, when it could be measured.
    pub pitch_hz: Option<f64>,
}

/// A speaker's voice, as cast.
#[derive(Debug, Clone, PartialEq)]
pub struct Assigned {
    pub speaker: String,
    pub candidate: Candidate,
    /// True when the voice is also another speaker's (too few voices).
    pub reused: bool,
}

/// Distance between two pitches, in octaves.
fn distance(a: f64, b: f64) -> f64 {
    (a.max(1.0) / b.max(1.0)).log2().abs()
}

/// Indices into `free` (sorted by pitch) for `pitches` (sorted), distinct and in order, with the
/// least summed distance. `pitches.len() <= free.len()`.
fn ordered_matching(pitches: &[f64], free: &[(f64, f64)]) -> Vec<usize> {
    let (k, m) = (pitches.len(), free.len());
    // best[i][j]: least cost of matching the first i speakers within the first j voices.
    let mut best = vec![vec![f64::INFINITY; m + 1]; k + 1];
    best[0].fill(0.0);
    for i in 1..=k {
        for j in i..=m {
            let (pitch, penalty) = free[j - 1];
            let take = best[i - 1][j - 1] + distance(pitches[i - 1], pitch) + penalty;
            best[i][j] = take.min(best[i][j - 1]);
        }
    }
    let mut chosen = vec![0; k];
    let (mut i, mut j) = (k, m);
    while i > 0 {
        if j > i && best[i][j - 1] <= best[i][j] {
            j -= 1;
        } else {
            chosen[i - 1] = j - 1;
            i -= 1;
            j -= 1;
        }
    }
    chosen
}

/// Cast `speakers` from `pool`, avoiding the voices in `taken` (already another speaker's) while
/// any other is free. One [`Assigned`] per speaker, in the speakers' order.
pub fn assign(speakers: &[Speaker], pool: &[Candidate], taken: &[Voice]) -> Vec<Assigned> {
    if pool.is_empty() {
        return Vec::new();
    }
    let taken_ids: Vec<String> = taken.iter().map(Voice::id).collect();
    let mut free: Vec<&Candidate> = pool
        .iter()
        .filter(|c| !taken_ids.contains(&c.voice.id()))
        .collect();
    free.sort_by(|a, b| a.pitch_hz.total_cmp(&b.pitch_hz));
    let fitting = speakers.len().min(free.len());
    let mut out: Vec<Option<Assigned>> = vec![None; speakers.len()];

    let mut known: Vec<(usize, f64)> = speakers[..fitting]
        .iter()
        .enumerate()
        .filter_map(|(i, s)| s.pitch_hz.map(|p| (i, p)))
        .collect();
    known.sort_by(|a, b| a.1.total_cmp(&b.1));
    let unknown = fitting - known.len();
    // Leave the voices the unknown speakers need: match the known ones to all free voices, then
    // the unknown ones take what is left.
    let pitches: Vec<f64> = known.iter().map(|(_, p)| *p).collect();
    let free_pitches: Vec<(f64, f64)> = free.iter().map(|c| (c.pitch_hz, c.penalty)).collect();
    let chosen = ordered_matching(&pitches, &free_pitches);
    let mut used = vec![false; free.len()];
    for (&(speaker, _), &voice) in known.iter().zip(&chosen) {
        used[voice] = true;
        out[speaker] = Some(Assigned {
            speaker: speakers[speaker].name.clone(),
            candidate: free[voice].clone(),
            reused: false,
        });
    }
    // Alternately from the low and the high end of what is left.
    let left: Vec<usize> = (0..free.len()).filter(|&j| !used[j]).collect();
    let mut alternating = Vec::with_capacity(left.len());
    let (mut lo, mut hi) = (0usize, left.len());
    while lo < hi {
        alternating.push(left[lo]);
        lo += 1;
        if lo < hi {
            hi -= 1;
            alternating.push(left[hi]);
        }
    }
    let mut next = alternating.into_iter();
    for (i, speaker) in speakers[..fitting].iter().enumerate() {
        if out[i].is_none()
            && let Some(j) = next.next()
        {
            out[i] = Some(Assigned {
                speaker: speaker.name.clone(),
                candidate: free[j].clone(),
                reused: false,
            });
        }
    }
    debug_assert!(unknown <= free.len());
    // Too few voices: the closest of the whole pool.
    for (i, speaker) in speakers.iter().enumerate().skip(fitting) {
        let closest = match speaker.pitch_hz {
            Some(p) => pool.iter().min_by(|a, b| {
                (distance(p, a.pitch_hz) + a.penalty)
                    .total_cmp(&(distance(p, b.pitch_hz) + b.penalty))
            }),
            None => pool.first(),
        };
        out[i] = closest.map(|c| Assigned {
            speaker: speaker.name.clone(),
            candidate: c.clone(),
            reused: true,
        });
    }
    out.into_iter().flatten().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cast::EngineKind;

    fn pool(voices: &[(&str, f64)]) -> Vec<Candidate> {
        voices
            .iter()
            .map(|(v, hz)| Candidate {
                voice: Voice::new(EngineKind::parse("espeak").unwrap(), *v),
                pitch_hz: *hz,
                penalty: 0.0,
            })
            .collect()
    }

    fn speaker(name: &str, hz: Option<f64>) -> Speaker {
        Speaker {
            name: name.into(),
            pitch_hz: hz,
        }
    }

    fn voices(a: &[Assigned]) -> Vec<&str> {
        a.iter().map(|a| a.candidate.voice.voice.as_str()).collect()
    }

    #[test]
    fn a_low_speaker_gets_a_low_voice() {
        let p = pool(&[("high", 220.0), ("low", 100.0), ("mid", 150.0)]);
        let got = assign(
            &[speaker("Ann", Some(210.0)), speaker("Bob", Some(95.0))],
            &p,
            &[],
        );
        assert_eq!(voices(&got), ["high", "low"]);
        assert!(got.iter().all(|a| !a.reused));
        // Two low speakers: the lower gets the lowest voice, the other the next one up.
        let got = assign(
            &[speaker("A", Some(120.0)), speaker("B", Some(105.0))],
            &p,
            &[],
        );
        assert_eq!(voices(&got), ["mid", "low"]);
    }

    #[test]
    fn a_penalised_fallback_voice_needs_to_be_much_closer() {
        let mut p = pool(&[
            ("piper-low", 93.0),
            ("espeak-m3", 107.0),
            ("espeak-f4", 181.0),
        ]);
        p[1].penalty = 0.25;
        p[2].penalty = 0.25;
        let got = assign(
            &[speaker("Bob", Some(102.0)), speaker("Ann", Some(175.0))],
            &p,
            &[],
        );
        assert_eq!(voices(&got), ["piper-low", "espeak-f4"]);
    }

    #[test]
    fn voices_already_cast_are_left_to_their_speakers() {
        let p = pool(&[("low", 100.0), ("low2", 110.0), ("high", 220.0)]);
        let taken = [Voice::new(EngineKind::parse("espeak").unwrap(), "low")];
        let got = assign(&[speaker("C", Some(100.0))], &p, &taken);
        assert_eq!(voices(&got), ["low2"]);
    }

    #[test]
    fn unknown_pitches_get_contrasting_voices() {
        let p = pool(&[("a", 100.0), ("b", 120.0), ("c", 200.0), ("d", 220.0)]);
        let got = assign(&[speaker("X", None), speaker("Y", None)], &p, &[]);
        assert_eq!(voices(&got), ["a", "d"]);
    }

    #[test]
    fn too_few_voices_reuse_the_closest() {
        let p = pool(&[("low", 100.0), ("high", 220.0)]);
        let got = assign(
            &[
                speaker("A", Some(105.0)),
                speaker("B", Some(230.0)),
                speaker("C", Some(210.0)),
                speaker("D", None),
            ],
            &p,
            &[],
        );
        assert_eq!(voices(&got), ["low", "high", "high", "low"]);
        assert_eq!(
            got.iter().map(|a| a.reused).collect::<Vec<_>>(),
            [false, false, true, true]
        );
        assert!(assign(&[speaker("A", None)], &[], &[]).is_empty());
    }
}
