//! The voice cast: which voice speaks for whom, when the lines have speakers
//! ([`crate::Segment::speaker`], however they were found).
//!
//! A cast is a small TOML file, `cast.toml` in the work directory (or one file shared by a whole
//! series, `--cast FILE`), mapping each speaker's name to an engine and a voice:
//!
//! ```toml
//! # dubber cast: which voice speaks for whom. Edit freely; `dubber synth` reads it.
//! [speakers.SPEAKER_1]
//! engine = "piper"            # piper | espeak | openai | elevenlabs
//! voice = "en_US-joe-medium"  # the engine's voice name (a voice id for elevenlabs)
//! pitch_hz = 118              # the speaker's median pitch (measured; informational)
//! auto = true                 # chosen by dubber (see below)
//!
//! [speakers."Dr. Who"]
//! engine = "openai"
//! voice = "nova"
//! model = "gpt-4o-mini-tts"   # optional: the engine's model
//! ```
//!
//! One video may mix engines: each speaker names its own. A line with no speaker is spoken by the
//! voice the flags name, exactly as without a cast. Speakers the cast lacks are cast
//! automatically ([`assign`]): every speaker a different voice from those the engine has
//! ([`voices`]), matched to the speaker's register (the median pitch of their speech), and the
//! new entries are appended to the work directory's `cast.toml`; what a person wrote there is
//! kept byte for byte ([`file`]).
//!
//! An entry dubber chose is marked `auto = true`: chosen by dubber; it re-casts this speaker when
//! you dub with another engine — delete this line to keep the voice. The cast is written at prep
//! time with the pool of prep's `--tts` (Piper by default), so without the mark a later `dubber
//! synth --tts openai` would silently go on speaking with local voices. An automatic entry of the
//! work directory's `cast.toml` whose engine the current pool does not choose from
//! ([`voices::pool_engines`]) is cast again and its block in the file replaced; an entry without
//! the mark (a person's) and the entries of a `--cast FILE` are never changed.
//!
//! Why a module of its own: the cast is read by prep (which writes it), synth (which speaks by
//! it) and the studio, and its parts — the file, the voice pools and their registers, the
//! matching — are decisions about voices, not about any one stage.

pub mod assign;
pub mod file;
pub mod voices;

use std::path::PathBuf;

pub use assign::{Speaker, assign};
pub use file::{append_entries, read_cast, write_entries};
pub use voices::{Candidate, PoolSpec, pool_engines, voice_pool};

/// An engine a cast entry may name: a provider of the registry ([`crate::tts::registry`]).
pub use crate::tts::EngineKind;

/// A voice of an engine, as a cast names it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Voice {
    pub engine: EngineKind,
    /// The engine's voice name or id (`en_US-joe-medium`, `en-us+f3`, `nova`, a voice id).
    pub voice: String,
    /// The engine's model; `None` is the engine's default.
    pub model: Option<String>,
}

impl Voice {
    pub fn new(engine: EngineKind, voice: impl Into<String>) -> Self {
        Self {
            engine,
            voice: voice.into(),
            model: None,
        }
    }

    /// `engine:voice` (`piper:en_US-joe-medium`): how reports and requests name the voice.
    pub fn id(&self) -> String {
        format!("{}:{}", self.engine, self.voice)
    }

    /// The voice an id ([`Voice::id`]) names, `None` when the engine is unknown.
    pub fn from_id(id: &str) -> Option<Self> {
        let (engine, voice) = id.split_once(':')?;
        Some(Self::new(EngineKind::parse(engine)?, voice))
    }
}

/// One speaker's entry.
#[derive(Debug, Clone, PartialEq)]
pub struct CastEntry {
    pub voice: Voice,
    /// The speaker's median pitch, Hz, when it was measured (informational).
    pub pitch_hz: Option<f64>,
    /// Chosen by dubber (`auto = true`): cast again when the dub's engine changes.
    pub auto: bool,
    /// The line of the entry's table header in the file it was read from (0: not from a file).
    pub line: usize,
}

impl CastEntry {
    /// True when automatic casting with the pool of `engine` (`--tts`) casts this speaker again:
    /// dubber chose the entry (`auto`) and its engine is not one that pool chooses from.
    pub fn is_recast_by(&self, engine: EngineKind) -> bool {
        self.auto && !pool_engines(engine).contains(&self.voice.engine)
    }
}

/// Speakers and their voices, in the order of the file.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Cast {
    /// The file it was read from, when it was.
    pub path: Option<PathBuf>,
    pub speakers: Vec<(String, CastEntry)>,
}

impl Cast {
    /// The entry of `speaker`.
    pub fn get(&self, speaker: &str) -> Option<&CastEntry> {
        self.speakers
            .iter()
            .find(|(name, _)| name == speaker)
            .map(|(_, e)| e)
    }

    /// Add `speaker` unless it already has an entry.
    pub fn insert(&mut self, speaker: String, entry: CastEntry) {
        if self.get(&speaker).is_none() {
            self.speakers.push((speaker, entry));
        }
    }

    /// Where an entry comes from, for messages: `FILE:LINE`, or `the automatic cast`.
    pub fn origin(&self, speaker: &str) -> String {
        match (&self.path, self.get(speaker)) {
            (Some(path), Some(e)) if e.line > 0 => format!("{}:{}", path.display(), e.line),
            (Some(path), _) => path.display().to_string(),
            _ => "the automatic cast".to_string(),
        }
    }
}

impl From<crate::tts::MeasureError> for CastError {
    fn from(e: crate::tts::MeasureError) -> Self {
        CastError::Measure {
            voice: e.voice,
            message: e.message,
        }
    }
}

/// What can go wrong reading, writing or making a cast.
#[derive(Debug, thiserror::Error)]
pub enum CastError {
    #[error("{}:{line}: {message}", path.display())]
    Parse {
        path: PathBuf,
        line: usize,
        message: String,
    },
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    Pitch(#[from] crate::audio::pitch::PitchError),
    #[error("cannot measure the register of voice {voice}: {message}")]
    Measure { voice: String, message: String },
    #[error("{origin}: speaker {speaker:?}: {message}")]
    Voice {
        origin: String,
        speaker: String,
        message: String,
    },
    #[error("no voices to cast speakers with for engine {engine}: {hint}")]
    NoVoices { engine: EngineKind, hint: String },
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(name: &str) -> EngineKind {
        EngineKind::parse(name).unwrap()
    }

    fn entry(engine: EngineKind, auto: bool) -> CastEntry {
        CastEntry {
            voice: Voice::new(engine, "v"),
            pitch_hz: None,
            auto,
            line: 0,
        }
    }

    #[test]
    fn only_automatic_entries_of_another_pool_are_recast() {
        let (piper, espeak) = (kind("piper"), kind("espeak"));
        let (openai, elevenlabs) = (kind("openai"), kind("elevenlabs"));
        // (entry's engine, dub's engine, re-cast?)
        let cases = [
            (piper, piper, false),
            (espeak, piper, false), // the Piper pool goes on with espeak-ng voices
            (piper, espeak, true),
            (espeak, espeak, false),
            (piper, openai, true),
            (espeak, openai, true),
            (openai, openai, false),
            (elevenlabs, openai, true),
            (openai, elevenlabs, true),
            (elevenlabs, elevenlabs, false),
            (openai, piper, true),
        ];
        for (from, to, recast) in cases {
            assert_eq!(
                entry(from, true).is_recast_by(to),
                recast,
                "auto {from} entry, dubbing with {to}"
            );
            // A person's entry is never re-cast.
            assert!(!entry(from, false).is_recast_by(to), "{from} → {to}");
        }
    }
}
