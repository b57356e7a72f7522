//! `manifest.json`: the sentence groups and TTS chunks prep derived from the subtitles, for a
//! person to review and for tools to read. A superset of the Python API's `sentences_groups.json`
//! (its lists of segment indices are `sentence_groups` here). Times are in seconds.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::segment::{Chunk, Segment, ms_to_secs};
use crate::stt::HeardLanguage;
use crate::text::{self, GroupOptions};

/// Current schema version; bumped on any incompatible change.
pub const MANIFEST_VERSION: u32 = 1;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    pub version: u32,
    /// The grouping settings the chunks were made with.
    pub options: ManifestOptions,
    /// Segment indices of each sentence, in order (the Python API's `sentences_groups.json`).
    pub sentence_groups: Vec<Vec<usize>>,
    /// What each TTS request speaks, with the windows it covers.
    pub chunks: Vec<Chunk>,
    /// The language prep heard the speech in, when it transcribed (synth copies it into
    /// `report.json`, with its warning when the detection was unsure). Boxed: most manifests
    /// have none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<Box<HeardLanguage>>,
}

/// [`GroupOptions`] in seconds, as written to the manifest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ManifestOptions {
    pub sentence_join_gap: f64,
    pub max_sentence_secs: f64,
    pub max_sentence_segments: usize,
    pub sentences_per_chunk: usize,
    pub max_chunk_secs: f64,
    pub max_chunk_segments: usize,
}

impl From<&GroupOptions> for ManifestOptions {
    fn from(o: &GroupOptions) -> Self {
        Self {
            sentence_join_gap: ms_to_secs(o.join_gap_ms),
            max_sentence_secs: ms_to_secs(o.max_sentence_ms),
            max_sentence_segments: o.max_sentence_segments,
            sentences_per_chunk: o.sentences_per_chunk,
            max_chunk_secs: ms_to_secs(o.max_chunk_ms),
            max_chunk_segments: o.max_chunk_segments,
        }
    }
}

impl Manifest {
    /// Group and pack `segments` with `opts`.
    pub fn build(segments: &[Segment], opts: &GroupOptions) -> Self {
        let sentences = text::group_sentences(segments, opts);
        let chunks = text::pack_chunks(segments, &sentences, opts);
        Self {
            version: MANIFEST_VERSION,
            options: opts.into(),
            sentence_groups: sentences.into_iter().map(|r| r.collect()).collect(),
            chunks,
            language: None,
        }
    }

    /// The `language` of the manifest at `path`; `None` when it has none or cannot be read (a
    /// manifest from before the key, or none at all).
    pub fn read_language(path: &Path) -> Option<HeardLanguage> {
        #[derive(Deserialize)]
        struct LanguageOnly {
            language: Option<HeardLanguage>,
        }
        let text = std::fs::read(path).ok()?;
        serde_json::from_slice::<LanguageOnly>(&text).ok()?.language
    }
}
