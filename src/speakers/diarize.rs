//! Diarization of timed lines: who speaks each line of a recording.
//!
//! Lines are the units a dub gives voices to, because prep already has them with their times.
//! Each spoken line's audio is read from the speech WAV (by seeking, a batch of lines at a time,
//! so memory stays flat on a 2-hour film) and embedded window by window (the encoder's windows,
//! about 1.5 s).
//!
//! **The count comes from windows, not lines.** The speakers are found by clustering the full
//! windows of every line (`cluster`, average linkage, stopped by the encoder's calibrated
//! [`SpeakerEncoder::same_speaker_threshold`] or at `--speakers N`), so that every second of
//! speech has the same say: a film's many half-second lines ("Yes.", "No way!") give short,
//! noisy windows that may join a speaker but never found one, and a long monologue is not one
//! vote. At most [`MAX_COUNTED_WINDOWS`] windows are clustered (evenly spread when there are
//! more), which bounds the similarity matrix on a 2-hour input.
//!
//! **Lines are then given to the nearest speaker.** Each speaker's voice is the mean of its
//! windows; a line (its windows' mean) goes to the speaker it is most like. A long line (over
//! [`CHANGE_MIN_MS`]) is also scanned for a change of voice: its windows are split in two where
//! the two sides' mean voices differ most, and when they differ enough each side is given its
//! own speaker; if the two sides go to different speakers the line is split in two at its
//! nearest text boundary (`split`), otherwise it stays whole. Lines with no spoken text take no
//! speaker; lines with text but no sound take their nearest voiced neighbour's. Speakers are
//! named `SPEAKER_1`, `SPEAKER_2`, … in order of first appearance.

use std::path::Path;

use super::cluster::{Stop, cluster};
use super::split::split_at_fraction;
use super::wavspan::SpanReader;
use super::{Embedding, SpeakerEncoder, SpeakerError, WindowEmbedding};
use crate::segment::Segment;

/// Lines longer than this are scanned for a change of voice inside them.
pub const CHANGE_MIN_MS: u64 = 4_000;
/// Lines read and embedded together (bounds memory: ~64 lines of audio and their windows).
const LINES_PER_BATCH: usize = 64;
/// Each side of a change must hold at least this many windows (~2.4 s of speech).
const CHANGE_MIN_WINDOWS: usize = 2;
/// RMS under which a line's audio counts as silent (-70 dBFS).
const SILENCE_RMS: f32 = 3e-4;
/// Windows shorter than this (seconds of audio: the tail of a line, a short line) do not take
/// part in the count.
const COUNTED_WINDOW_SECS: f32 = 1.0;
/// Most windows clustered to find the speakers: the similarity matrix is this squared (36 MB of
/// floats), about 2.5 hours of speech at one window every 0.75 s before any is left out.
pub const MAX_COUNTED_WINDOWS: usize = 3_000;

/// How many speakers to find.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SpeakerCount {
    /// As many as the voices differ (the encoder's calibrated threshold decides).
    #[default]
    Auto,
    /// Exactly this many (at least 1).
    Exactly(usize),
    /// No diarization: the lines come back unchanged.
    Off,
}

/// `auto`, `off` or a number of speakers (at least 1), as `--speakers` takes it.
impl std::str::FromStr for SpeakerCount {
    type Err = SpeakerError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "auto" => Ok(Self::Auto),
            "off" => Ok(Self::Off),
            n => match n.parse::<usize>() {
                Ok(n) if n >= 1 => Ok(Self::Exactly(n)),
                _ => Err(SpeakerError::Options(format!(
                    "speakers must be auto, off or a number from 1, not '{s}'"
                ))),
            },
        }
    }
}

/// Options of [`diarize`].
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct DiarizeOptions {
    /// How many speakers.
    pub speakers: SpeakerCount,
    /// Average cosine similarity under which two groups of windows are different speakers;
    /// `None`: the encoder's own ([`SpeakerEncoder::same_speaker_threshold`]).
    pub threshold: Option<f32>,
    /// Cosine similarity of the two sides of a long line under which they are tried as two
    /// voices (confirmed only if they go to different speakers); `None`: the same as
    /// `threshold`.
    pub change_threshold: Option<f32>,
}

/// What one speaker says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpeakerStats {
    /// `SPEAKER_1`, `SPEAKER_2`, …
    pub name: String,
    /// Lines given to the speaker.
    pub lines: usize,
    /// Total duration of those lines, in milliseconds.
    pub speech_ms: u64,
}

/// The lines with their speakers, and the speakers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diarization {
    /// The input lines with [`Segment::speaker`] set; a line two speakers share is two lines.
    pub segments: Vec<Segment>,
    /// The speakers in order of first appearance.
    pub speakers: Vec<SpeakerStats>,
}

/// One unit given a speaker: a whole line or one side of a line with a change of voice.
struct Unit {
    line: usize,
    embedding: Embedding,
}

/// Where a long line's voice may change: as a fraction of its duration.
struct Change {
    fraction: f64,
}

/// Finds who speaks each of `segments` (times in ms) in `wav`, a mono WAV at the encoder's rate.
pub fn diarize(
    encoder: &dyn SpeakerEncoder,
    wav: &Path,
    segments: &[Segment],
    options: &DiarizeOptions,
) -> Result<Diarization, SpeakerError> {
    let threshold = options
        .threshold
        .unwrap_or_else(|| encoder.same_speaker_threshold());
    let change_threshold = options.change_threshold.unwrap_or(threshold);
    let stop = match options.speakers {
        SpeakerCount::Off => {
            return Ok(Diarization {
                segments: segments.to_vec(),
                speakers: Vec::new(),
            });
        }
        SpeakerCount::Exactly(0) => {
            return Err(SpeakerError::Options(
                "the number of speakers must be at least 1".into(),
            ));
        }
        SpeakerCount::Exactly(n) => Stop::Count(n),
        SpeakerCount::Auto => Stop::Threshold(threshold),
    };
    let mut reader = SpanReader::open(wav, encoder.sample_rate())?;
    let rate = encoder.sample_rate() as f32;
    let mut units: Vec<Unit> = Vec::new();
    // Every window with its length in seconds; those of at least COUNTED_WINDOW_SECS are counted.
    let mut windows: Vec<(Embedding, f32)> = Vec::new();
    let mut changes: Vec<Option<Change>> = (0..segments.len()).map(|_| None).collect();
    let mut voiced = vec![false; segments.len()];
    let spoken: Vec<usize> = (0..segments.len())
        .filter(|&i| !segments[i].spoken_text().is_empty() && segments[i].duration_ms() > 0)
        .collect();
    for batch in spoken.chunks(LINES_PER_BATCH) {
        let mut audio = Vec::with_capacity(batch.len());
        let mut lines = Vec::with_capacity(batch.len());
        for &i in batch {
            let a = reader.read(segments[i].start_ms, segments[i].end_ms)?;
            if rms(&a) >= SILENCE_RMS {
                audio.push(a);
                lines.push(i);
            }
        }
        let refs: Vec<&[f32]> = audio.iter().map(Vec::as_slice).collect();
        let embedded = encoder.embed_windows(&refs)?;
        for ((&i, a), ws) in lines.iter().zip(&audio).zip(embedded) {
            voiced[i] = true;
            let change = (segments[i].duration_ms() > CHANGE_MIN_MS)
                .then(|| find_change(&ws, change_threshold))
                .flatten();
            match change {
                Some((k, left, right)) => {
                    let at = (ws[k - 1].end.min(a.len()) + ws[k].start) as f64 / 2.0;
                    changes[i] = Some(Change {
                        fraction: (at / a.len() as f64).clamp(0.0, 1.0),
                    });
                    units.push(Unit {
                        line: i,
                        embedding: left,
                    });
                    units.push(Unit {
                        line: i,
                        embedding: right,
                    });
                }
                None => {
                    let embedding = Embedding::mean(ws.iter().map(|w| (&w.embedding, 1.0)))
                        .ok_or_else(|| SpeakerError::Model {
                            path: wav.to_path_buf(),
                            reason: format!("{} gave no embedding for line {i}", encoder.name()),
                        })?;
                    units.push(Unit { line: i, embedding });
                }
            }
            for w in ws {
                let secs = (w.end.min(a.len()).saturating_sub(w.start)) as f32 / rate;
                windows.push((w.embedding, secs));
            }
        }
    }
    let voices = speaker_voices(&windows, stop);
    let labels: Vec<usize> = units
        .iter()
        .map(|u| nearest(&voices, &u.embedding))
        .collect();
    Ok(assemble(segments, &units, &labels, &changes, &voiced))
}

/// The speakers' voices (one mean embedding each) found by clustering the counted windows (all
/// windows when too few are long enough), in order of first appearance.
fn speaker_voices(windows: &[(Embedding, f32)], stop: Stop) -> Vec<Embedding> {
    let mut counted: Vec<&(Embedding, f32)> = windows
        .iter()
        .filter(|(_, secs)| *secs >= COUNTED_WINDOW_SECS)
        .collect();
    let needed = match stop {
        Stop::Count(k) => k.max(1),
        Stop::Threshold(_) => 1,
    };
    if counted.len() < needed {
        counted = windows.iter().collect();
    }
    if counted.len() > MAX_COUNTED_WINDOWS {
        // Evenly spread over the recording, so every part of it is heard.
        let step = counted.len() as f64 / MAX_COUNTED_WINDOWS as f64;
        counted = (0..MAX_COUNTED_WINDOWS)
            .map(|k| counted[(k as f64 * step) as usize])
            .collect();
    }
    let items: Vec<(Embedding, f32)> = counted.into_iter().cloned().collect();
    let labels = cluster(&items, stop);
    let speakers = labels.iter().max().map_or(0, |m| m + 1);
    (0..speakers)
        .filter_map(|s| {
            Embedding::mean(
                items
                    .iter()
                    .zip(&labels)
                    .filter(|(_, l)| **l == s)
                    .map(|((e, w), _)| (e, *w)),
            )
        })
        .collect()
}

/// The index of the voice in `voices` most like `embedding` (0 when there is none).
fn nearest(voices: &[Embedding], embedding: &Embedding) -> usize {
    (0..voices.len())
        .max_by(|&a, &b| {
            voices[a]
                .cosine(embedding)
                .total_cmp(&voices[b].cosine(embedding))
        })
        .unwrap_or(0)
}

/// The split point `k` (windows `..k` and `k..`) where the two sides' mean voices are least
/// alike, with both means, when they are less alike than `threshold`.
fn find_change(ws: &[WindowEmbedding], threshold: f32) -> Option<(usize, Embedding, Embedding)> {
    if ws.len() < 2 * CHANGE_MIN_WINDOWS {
        return None;
    }
    let side = |r: &[WindowEmbedding]| Embedding::mean(r.iter().map(|w| (&w.embedding, 1.0)));
    (CHANGE_MIN_WINDOWS..=ws.len() - CHANGE_MIN_WINDOWS)
        .filter_map(|k| Some((k, side(&ws[..k])?, side(&ws[k..])?)))
        .min_by(|a, b| a.1.cosine(&a.2).total_cmp(&b.1.cosine(&b.2)))
        .filter(|(_, l, r)| l.cosine(r) < threshold)
}

/// The output lines and speaker table from the units' cluster labels.
fn assemble(
    segments: &[Segment],
    units: &[Unit],
    labels: &[usize],
    changes: &[Option<Change>],
    voiced: &[bool],
) -> Diarization {
    // Each line's label(s): one, or two for a line whose sides clustered apart.
    let mut line_labels: Vec<Vec<usize>> = vec![Vec::new(); segments.len()];
    for (u, &label) in units.iter().zip(labels) {
        line_labels[u.line].push(label);
    }
    // Lines with text but no sound: the nearest voiced line's first speaker.
    let voiced_lines: Vec<usize> = (0..segments.len()).filter(|&i| voiced[i]).collect();
    let neighbour = |i: usize| -> Option<usize> {
        let s = &segments[i];
        voiced_lines
            .iter()
            .min_by_key(|&&j| {
                let o = &segments[j];
                o.start_ms.saturating_sub(s.end_ms) + s.start_ms.saturating_sub(o.end_ms)
            })
            .map(|&j| line_labels[j][0])
    };
    // Segments with their cluster label, then labels renumbered in order of first appearance
    // (a silent line borrowing a later neighbour's label may come first).
    let mut labelled: Vec<(Segment, Option<usize>)> = Vec::with_capacity(segments.len());
    for (i, seg) in segments.iter().enumerate() {
        match (line_labels[i].as_slice(), &changes[i]) {
            ([a, b], Some(change)) if a != b => match split_at_fraction(seg, change.fraction) {
                Some((left, right)) => {
                    labelled.push((left, Some(*a)));
                    labelled.push((right, Some(*b)));
                }
                None => {
                    let main = if change.fraction >= 0.5 { *a } else { *b };
                    labelled.push((seg.clone(), Some(main)));
                }
            },
            ([a, ..], _) => labelled.push((seg.clone(), Some(*a))),
            ([], _) => {
                let borrowed = match seg.spoken_text().is_empty() {
                    true => None,
                    false => neighbour(i),
                };
                labelled.push((seg.clone(), borrowed));
            }
        }
    }
    let mut order: Vec<usize> = Vec::new();
    let mut speakers: Vec<SpeakerStats> = Vec::new();
    let mut out = Vec::with_capacity(labelled.len());
    for (seg, label) in labelled {
        let speaker = label.map(|l| {
            let k = order.iter().position(|&o| o == l).unwrap_or_else(|| {
                order.push(l);
                speakers.push(SpeakerStats {
                    name: format!("SPEAKER_{}", order.len()),
                    lines: 0,
                    speech_ms: 0,
                });
                order.len() - 1
            });
            speakers[k].lines += 1;
            speakers[k].speech_ms += seg.duration_ms();
            speakers[k].name.clone()
        });
        out.push(seg.with_speaker(speaker));
    }
    Diarization {
        segments: out,
        speakers,
    }
}

fn rms(a: &[f32]) -> f32 {
    if a.is_empty() {
        return 0.0;
    }
    (a.iter().map(|x| x * x).sum::<f32>() / a.len() as f32).sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn speaker_count_reads_auto_off_and_numbers() {
        assert_eq!("auto".parse::<SpeakerCount>().unwrap(), SpeakerCount::Auto);
        assert_eq!(" OFF ".parse::<SpeakerCount>().unwrap(), SpeakerCount::Off);
        assert_eq!(
            "3".parse::<SpeakerCount>().unwrap(),
            SpeakerCount::Exactly(3)
        );
        for bad in ["0", "-1", "two", ""] {
            let err = bad.parse::<SpeakerCount>().unwrap_err().to_string();
            assert!(err.contains("auto, off or a number"), "{bad}: {err}");
        }
    }

    #[test]
    fn a_change_is_found_where_the_sides_differ_most() {
        let window = |k: usize, v: [f32; 2]| WindowEmbedding {
            start: k * 12_320,
            end: k * 12_320 + 25_600,
            embedding: Embedding::normalized(v.to_vec()),
        };
        let mut ws: Vec<_> = (0..6).map(|k| window(k, [1.0, 0.1])).collect();
        ws.extend((6..10).map(|k| window(k, [0.1, 1.0])));
        let (k, left, right) = find_change(&ws, 0.65).unwrap();
        assert_eq!(k, 6);
        assert!(left.0[0] > 0.99 && right.0[1] > 0.99);
        // One voice throughout, or too few windows on a side: no change.
        let same: Vec<_> = (0..10).map(|k| window(k, [1.0, 0.1 * k as f32])).collect();
        assert!(find_change(&same, 0.65).is_none());
        assert!(find_change(&ws[4..7], 0.65).is_none());
    }

    #[test]
    fn no_speakers_is_refused_before_reading_anything() {
        struct Never;
        impl SpeakerEncoder for Never {
            fn name(&self) -> &str {
                "never"
            }
            fn sample_rate(&self) -> u32 {
                16_000
            }
            fn same_speaker_threshold(&self) -> f32 {
                0.5
            }
            fn embed(&self, _: &[&[f32]]) -> Result<Vec<Embedding>, SpeakerError> {
                panic!("not called")
            }
        }
        let options = DiarizeOptions {
            speakers: SpeakerCount::Exactly(0),
            ..DiarizeOptions::default()
        };
        let lines = [Segment::new(0, 1000, "Hi.")];
        let err = diarize(&Never, Path::new("/missing.wav"), &lines, &options).unwrap_err();
        assert!(matches!(err, SpeakerError::Options(_)), "{err}");
        // A missing WAV is named.
        let err = diarize(
            &Never,
            Path::new("/missing.wav"),
            &lines,
            &DiarizeOptions::default(),
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("/missing.wav"), "{err}");
    }
}
