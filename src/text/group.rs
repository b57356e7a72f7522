//! Segments → sentences → chunks.
//!
//! A *sentence* is a run of consecutive segments that together say one sentence (transcribers cut
//! lines mid-sentence). A *chunk* packs a few sentences into one TTS request, which a voice speaks
//! as one continuous utterance: that gives natural prosody across line breaks, and it is why a
//! chunk must never span a long pause: the utterance would run through a silence the original has.
//!
//! For the same reason a silent line (nothing to speak: `[MUSIC PLAYING]`) is a sentence and a
//! chunk of its own, with empty text, which the synth stage renders as silence; and a sentence or
//! chunk never spans a change of speaker ([`Segment::speaker`]): one voice speaks it.

use std::ops::Range;

use crate::segment::{Chunk, Segment};
use crate::text::{ends_sentence, spoken_text};

/// Limits for grouping and packing. The defaults are the CLI's defaults.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct GroupOptions {
    /// A pause at least this long always ends a sentence and a chunk (`--sentence-join-gap`).
    pub join_gap_ms: u64,
    /// A sentence longer than this is cut at a line end, unless the line ends on a continuation word.
    pub max_sentence_ms: u64,
    /// A sentence of more segments than this is cut likewise.
    pub max_sentence_segments: usize,
    /// Sentences per chunk (`--sentences-per-chunk`).
    pub sentences_per_chunk: usize,
    /// Hard limits of a chunk; also bound a sentence that runs on through continuation words.
    pub max_chunk_ms: u64,
    pub max_chunk_segments: usize,
}

impl Default for GroupOptions {
    fn default() -> Self {
        Self {
            join_gap_ms: 1200,
            max_sentence_ms: 12_000,
            max_sentence_segments: 6,
            sentences_per_chunk: 2,
            max_chunk_ms: 20_000,
            max_chunk_segments: 12,
        }
    }
}

/// Words after which a sentence goes on even across a line break and past the soft limits.
const CONTINUATION_WORDS: &[&str] = &[
    "a", "an", "the", "and", "or", "but", "nor", "so", "yet", "of", "to", "in", "on", "at", "by",
    "for", "with", "from", "into", "onto", "about", "as", "than", "that", "which", "who", "whom",
    "whose", "if", "because", "while", "when", "where", "although", "though", "unless", "until",
    "is", "are", "was", "were", "be", "been", "has", "have", "had", "will", "would", "can",
    "could", "should", "must", "may", "might", "my", "your", "our", "their", "his", "her", "its",
    "this", "these", "those", "we", "i", "you", "they", "he", "she", "we'll", "i'll", "you'll",
    "they'll", "we're", "i'm", "you're", "they're", "we've", "i've", "let's", "it's", "there's",
    "not", "very",
];

/// True when a line ends in a way that says the sentence goes on: a continuation word, or a
/// comma, colon, semicolon or dash.
pub fn ends_with_continuation(text: &str) -> bool {
    let t = text.trim_end();
    if t.ends_with([',', ';', ':', '-', '–', '—']) {
        return true;
    }
    let last = t.rsplit(char::is_whitespace).next().unwrap_or("");
    let word: String = last
        .trim_matches(|c: char| !c.is_alphanumeric() && c != '\'' && c != '’')
        .replace('’', "'")
        .to_lowercase();
    CONTINUATION_WORDS.contains(&word.as_str())
}

fn gap_ms(before: &Segment, after: &Segment) -> u64 {
    after.start_ms.saturating_sub(before.end_ms)
}

/// Must a sentence end between these two neighbours whatever their text says? Yes when either is
/// silent or the speaker changes.
fn turn_between(before: &Segment, after: &Segment) -> bool {
    before.speaker != after.speaker
        || spoken_text(&before.text).is_empty()
        || spoken_text(&after.text).is_empty()
}

/// Group consecutive segments into sentences. The result partitions `0..segments.len()` into
/// contiguous ranges, in order.
pub fn group_sentences(segments: &[Segment], opts: &GroupOptions) -> Vec<Range<usize>> {
    let mut groups = Vec::new();
    let mut start = 0;
    for i in 0..segments.len() {
        let Some(next) = segments.get(i + 1) else {
            groups.push(start..segments.len());
            break;
        };
        let first = &segments[start];
        let span_with_next = next.end_ms.saturating_sub(first.start_ms);
        let count_with_next = i + 2 - start;
        let spoken = spoken_text(&segments[i].text);
        let hard_cut = gap_ms(&segments[i], next) >= opts.join_gap_ms
            || turn_between(&segments[i], next)
            || span_with_next > opts.max_chunk_ms
            || count_with_next > opts.max_chunk_segments;
        let soft_cut = !ends_with_continuation(&spoken)
            && (span_with_next > opts.max_sentence_ms
                || count_with_next > opts.max_sentence_segments);
        if hard_cut || soft_cut || ends_sentence(&spoken) {
            groups.push(start..i + 1);
            start = i + 1;
        }
    }
    groups
}

/// Pack sentences into chunks: up to `sentences_per_chunk` sentences, within the chunk limits,
/// never across a pause of `join_gap_ms` or more. Chunk ids count from 0.
pub fn pack_chunks(
    segments: &[Segment],
    sentences: &[Range<usize>],
    opts: &GroupOptions,
) -> Vec<Chunk> {
    let mut packed: Vec<Range<usize>> = Vec::new();
    let mut current: Option<(Range<usize>, usize)> = None;
    for sentence in sentences.iter().filter(|r| !r.is_empty()) {
        if let Some((range, count)) = &mut current {
            let fits = *count < opts.sentences_per_chunk
                && segments[sentence.end - 1]
                    .end_ms
                    .saturating_sub(segments[range.start].start_ms)
                    <= opts.max_chunk_ms
                && sentence.end - range.start <= opts.max_chunk_segments
                && gap_ms(&segments[range.end - 1], &segments[sentence.start]) < opts.join_gap_ms
                && !turn_between(&segments[range.end - 1], &segments[sentence.start]);
            if fits {
                range.end = sentence.end;
                *count += 1;
                continue;
            }
            packed.push(range.clone());
        }
        current = Some((sentence.clone(), 1));
    }
    packed.extend(current.map(|(range, _)| range));
    packed
        .into_iter()
        .enumerate()
        .map(|(id, range)| chunk_of(id, segments, range))
        .collect()
}

/// Group and pack in one step: what `prep` and `synth` do in sentence mode.
pub fn chunks_for(segments: &[Segment], opts: &GroupOptions) -> Vec<Chunk> {
    pack_chunks(segments, &group_sentences(segments, opts), opts)
}

/// One chunk per segment: the `segment` timeline mode.
pub fn chunk_per_segment(segments: &[Segment]) -> Vec<Chunk> {
    (0..segments.len())
        .map(|i| chunk_of(i, segments, i..i + 1))
        .collect()
}

fn chunk_of(id: usize, segments: &[Segment], range: Range<usize>) -> Chunk {
    let covered = &segments[range.clone()];
    let text = covered
        .iter()
        .map(|s| spoken_text(&s.text))
        .filter(|t| !t.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    Chunk {
        id,
        text,
        windows: covered.iter().map(Segment::window).collect(),
        segments: range.collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seg(start: u64, end: u64, text: &str) -> Segment {
        Segment::new(start, end, text)
    }

    #[test]
    fn joins_lines_of_one_sentence() {
        let segs = vec![
            seg(0, 1000, "This sentence runs"),
            seg(1100, 2000, "over two lines."),
            seg(2100, 3000, "Short one."),
        ];
        assert_eq!(
            group_sentences(&segs, &GroupOptions::default()),
            vec![0..2, 2..3]
        );
    }

    #[test]
    fn long_pause_cuts_even_mid_sentence() {
        let segs = vec![seg(0, 1000, "We went to"), seg(2200, 3000, "the shop.")];
        assert_eq!(
            group_sentences(&segs, &GroupOptions::default()),
            vec![0..1, 1..2]
        );
        let segs = vec![seg(0, 1000, "We went to"), seg(2199, 3000, "the shop.")];
        assert_eq!(group_sentences(&segs, &GroupOptions::default()), vec![0..2]);
    }

    #[test]
    fn soft_limits_yield_to_continuation_words() {
        // Seven unpunctuated lines: cut after the sixth...
        let plain: Vec<Segment> = (0..7)
            .map(|i| seg(i * 1000, i * 1000 + 900, "words words"))
            .collect();
        assert_eq!(
            group_sentences(&plain, &GroupOptions::default()),
            vec![0..6, 6..7]
        );
        // ...but not when the sixth ends with "and".
        let mut cont = plain.clone();
        cont[5].text = "words and".into();
        assert_eq!(group_sentences(&cont, &GroupOptions::default()), vec![0..7]);
    }

    #[test]
    fn packs_two_sentences_per_chunk_with_windows() {
        let segs = vec![
            seg(0, 1000, "One."),
            seg(1100, 2000, "<i>Two</i>."),
            seg(2100, 3000, "Three."),
        ];
        let chunks = chunks_for(&segs, &GroupOptions::default());
        assert_eq!(chunks.len(), 2);
        assert_eq!(chunks[0].text, "One. Two.");
        assert_eq!(chunks[0].windows.len(), 2);
        assert_eq!(chunks[0].segments, vec![0, 1]);
        assert_eq!(chunks[1].id, 1);
        assert_eq!(chunks[1].text, "Three.");
    }

    #[test]
    fn silent_lines_and_speaker_changes_stand_apart() {
        let segs = vec![
            seg(0, 1000, "We went"),
            seg(1100, 2000, "[MUSIC PLAYING]"),
            seg(2100, 3000, "to the shop and"),
            seg(3100, 4000, "JOHN: then home."),
        ];
        let mut segs = segs;
        segs[3].speaker = Some("JOHN".into());
        assert_eq!(
            group_sentences(&segs, &GroupOptions::default()),
            vec![0..1, 1..2, 2..3, 3..4]
        );
        let opts = GroupOptions {
            sentences_per_chunk: 4,
            ..GroupOptions::default()
        };
        let chunks = chunks_for(&segs, &opts);
        let texts: Vec<&str> = chunks.iter().map(|c| c.text.as_str()).collect();
        assert_eq!(texts, vec!["We went", "", "to the shop and", "then home."]);
        assert!(chunks[1].is_empty());
        assert_eq!(chunks[1].windows, vec![segs[1].window()]);
        // One chunk per segment: the silent one is empty.
        let per = chunk_per_segment(&segs);
        assert!(per[1].is_empty() && !per[0].is_empty());
    }

    #[test]
    fn continuation_detection() {
        assert!(ends_with_continuation("and we'll"));
        assert!(ends_with_continuation("the end of"));
        assert!(ends_with_continuation("first,"));
        assert!(!ends_with_continuation("the end"));
    }
}
