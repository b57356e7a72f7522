//! Property tests of the subtitle readers/writers and of grouping: round trips are exact, readers
//! never panic on any input, and grouping always partitions the segments within its limits.

use dubber::Segment;
use dubber::subtitles::{self, Format};

const ALL_FORMATS: [Format; 6] = [
    Format::Srt,
    Format::Vtt,
    Format::Json,
    Format::Sbv,
    Format::Ass,
    Format::Ttml,
];
use dubber::text::{self, GroupOptions};
use proptest::prelude::*;

/// Words that cannot be mistaken for cue numbers or timing lines.
fn text_strategy() -> impl Strategy<Value = String> {
    let word = "[A-Za-zÀ-ÿ,'!?.]{1,10}";
    let line = prop::collection::vec(word, 1..8).prop_map(|w| w.join(" "));
    prop::collection::vec(line, 1..3).prop_map(|lines| lines.join("\n"))
}

/// Sorted, non-overlapping segments with gaps of 0..3 s and lengths of 1 ms..8 s.
fn segments_strategy() -> impl Strategy<Value = Vec<Segment>> {
    prop::collection::vec((0u64..3000, 1u64..8000, text_strategy()), 1..60).prop_map(|items| {
        let mut t = 0;
        items
            .into_iter()
            .map(|(gap, len, text)| {
                let start = t + gap;
                t = start + len;
                Segment::new(start, t, text)
            })
            .collect()
    })
}

/// Lines as subtitles for the hard of hearing write them: labels, dashes, descriptions, lyrics.
fn sdh_text_strategy() -> impl Strategy<Value = String> {
    let piece = prop::sample::select(vec![
        "JOHN:",
        "Dr. Smith:",
        "MARY JANE:",
        "Warning:",
        "-",
        "- Yes.",
        "-No!",
        "[MUSIC]",
        "(laughs)",
        "♪",
        "la",
        "Hello.",
        "at 10:30.",
        "Are you coming?",
        "<i>",
        "</i>",
        "well",
        "<v Ann>",
        "Wait",
        "–",
        "-5",
        "\n",
    ]);
    prop::collection::vec(piece, 1..10).prop_map(|p| {
        let text = p.join(" ");
        let lines: Vec<&str> = text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect();
        if lines.is_empty() {
            "Hello.".to_string()
        } else {
            lines.join("\n")
        }
    })
}

/// Windows, spoken text and speakers: what the dub is made of.
fn dubbed(segments: &[Segment]) -> Vec<(u64, u64, String, Option<String>)> {
    segments
        .iter()
        .map(|s| (s.start_ms, s.end_ms, s.spoken_text(), s.speaker.clone()))
        .collect()
}

proptest! {
    #[test]
    fn written_subtitles_read_back_to_the_same_dub(
        items in prop::collection::vec(
            (0u64..2000, 1u64..6000, sdh_text_strategy(),
             prop::option::of(prop::sample::select(vec!["A", "SPEAKER_00", "-1", "Dr. X"]))),
            1..30,
        )
    ) {
        let mut t = 0;
        let cues: Vec<subtitles::Cue> = items
            .into_iter()
            .enumerate()
            .map(|(i, (gap, len, text, speaker))| {
                let start = t + gap;
                t = start + len;
                subtitles::Cue {
                    line: i + 1,
                    segment: Segment::new(start, t, text).with_speaker(speaker.map(String::from)),
                }
            })
            .collect();
        let (segments, _) = subtitles::normalize(cues);
        // Normalising is idempotent.
        let again: Vec<subtitles::Cue> = segments
            .iter()
            .enumerate()
            .map(|(i, s)| subtitles::Cue { line: i + 1, segment: s.clone() })
            .collect();
        prop_assert_eq!(&subtitles::normalize(again).0, &segments);
        for format in [Format::Srt, Format::Vtt, Format::Json] {
            let written = subtitles::write(&segments, format);
            let (back, fixes) = subtitles::normalize(subtitles::parse(&written, format).unwrap());
            prop_assert_eq!(dubbed(&back), dubbed(&segments), "{:?}\n{}", format, written);
            prop_assert!(fixes.is_empty(), "{:?}", fixes);
        }
    }

    #[test]
    fn srt_round_trip_is_exact(segments in segments_strategy()) {
        let written = subtitles::write(&segments, Format::Srt);
        let read: Vec<Segment> = subtitles::parse(&written, Format::Srt)
            .unwrap()
            .into_iter()
            .map(|c| c.segment)
            .collect();
        prop_assert_eq!(read, segments);
    }

    #[test]
    fn vtt_and_json_round_trips_are_exact(segments in segments_strategy()) {
        for format in [Format::Vtt, Format::Json] {
            let written = subtitles::write(&segments, format);
            let read: Vec<Segment> = subtitles::parse(&written, format)
                .unwrap()
                .into_iter()
                .map(|c| c.segment)
                .collect();
            prop_assert_eq!(&read, &segments);
        }
    }

    #[test]
    fn readers_never_panic_on_random_bytes(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
        let text = String::from_utf8_lossy(&bytes);
        for format in ALL_FORMATS {
            let _ = subtitles::parse(&text, format);
        }
        let _ = subtitles::detect::sniff(&text);
        // Any bytes either decode or fail with a line inside the text.
        if let Err(e) = subtitles::encoding::decode(&bytes, None) {
            prop_assert!(e.line >= 1 && e.line <= bytes.len() + 1);
        }
    }

    #[test]
    fn readers_never_panic_on_subtitle_like_noise(
        pieces in prop::collection::vec(
            prop::sample::select(vec![
                "1", "\n", "\r\n", " --> ", "-->", "00:00:01,000", "00:01.5", "99:99:99,9999",
                ",", ".", ":", "WEBVTT", "NOTE", "STYLE", "<i>", "{\\an8}", "\u{feff}", "text",
                "-> ", "[", "]", "{", "}", "\"start\":", "1.5", "-1", "\"text\":\"a\"",
                "- ", "JOHN:", "(", ")", "♪", "<v A>", "99999:00:00,000", "\"speaker\":\"x\"",
                "[Events]\n", "Format: Start, End, Text\n", "Dialogue: ", "{\\p1}", "\\N",
                "0:00:01.000,0:00:02.000\n", "<tt>", "</tt>", "<body>", "<p begin=\"1s\" end=\"90f\">",
                "</p>", "<br/>", "<div begin=\"00:00:01:12\">", "</div>", "20000t", "&amp;",
            ]),
            0..80,
        )
    ) {
        let text: String = pieces.concat();
        for format in ALL_FORMATS {
            if let Ok(cues) = subtitles::parse(&text, format) {
                let (segments, _) = subtitles::normalize(cues);
                prop_assert!(segments.windows(2).all(|w| w[0].end_ms <= w[1].start_ms));
            }
        }
    }

    #[test]
    fn grouping_partitions_within_limits(
        segments in segments_strategy(),
        join_gap_ms in 200u64..3000,
        per_chunk in 1usize..5,
    ) {
        let opts = GroupOptions { join_gap_ms, sentences_per_chunk: per_chunk, ..GroupOptions::default() };
        let sentences = text::group_sentences(&segments, &opts);
        // A partition of 0..n, in order, with no empty part.
        let flat: Vec<usize> = sentences.iter().flat_map(|r| r.clone()).collect();
        prop_assert_eq!(flat, (0..segments.len()).collect::<Vec<_>>());
        prop_assert!(sentences.iter().all(|r| !r.is_empty()));

        let chunks = text::pack_chunks(&segments, &sentences, &opts);
        let covered: Vec<usize> = chunks.iter().flat_map(|c| c.segments.clone()).collect();
        prop_assert_eq!(covered, (0..segments.len()).collect::<Vec<_>>());
        for (i, chunk) in chunks.iter().enumerate() {
            prop_assert_eq!(chunk.id, i);
            prop_assert_eq!(chunk.windows.len(), chunk.segments.len());
            let multi = chunk.segments.len() > 1;
            // Limits hold for every chunk of more than one segment (one long line can't be cut).
            prop_assert!(!multi || chunk.span().duration_ms() <= opts.max_chunk_ms);
            prop_assert!(chunk.segments.len() <= opts.max_chunk_segments);
            // No chunk spans a long pause.
            for w in chunk.windows.windows(2) {
                prop_assert!(w[1].start_ms.saturating_sub(w[0].end_ms) < opts.join_gap_ms);
            }
        }
        // Sentences per chunk never exceeded.
        for chunk in &chunks {
            let n = sentences.iter().filter(|r| chunk.segments.contains(&r.start)).count();
            prop_assert!(n <= per_chunk);
        }
    }
}
