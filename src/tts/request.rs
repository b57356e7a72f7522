//! What one synthesis is about: the request ([`SynthRequest`]), the encoded audio an engine
//! answers with ([`SynthAudio`], [`AudioFormat`]) and what an engine accepts ([`Limits`]).
//!
//! Contract: plain data, no I/O. `SynthAudio::decode` is the single check of an engine's bytes
//! (through [`crate::audio`]'s strict PCM reader), used by the runner, the cache and the split
//! helper alike.
//!
//! Why separate: every other part of `tts` (engines, providers, cache, runner) speaks these
//! types, so they sit in a leaf module that imports no sibling.

use std::fmt;
use std::ops::RangeInclusive;

use crate::audio::Pcm;

/// How synthesized audio is encoded: a WAV file, or bare 16-bit little-endian mono PCM at a rate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AudioFormat {
    /// A RIFF/WAVE file (any PCM sample format `hound` reads; mono or more channels).
    Wav,
    /// Headerless signed 16-bit little-endian mono samples at `sample_rate` Hz.
    Pcm16 { sample_rate: u32 },
}

impl AudioFormat {
    /// Stable text for cache keys and messages: `wav` or `pcm16@24000`.
    pub fn tag(&self) -> String {
        match self {
            AudioFormat::Wav => "wav".to_string(),
            AudioFormat::Pcm16 { sample_rate } => format!("pcm16@{sample_rate}"),
        }
    }
}

impl fmt::Display for AudioFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.tag())
    }
}

/// One thing to say, and how to say it.
#[derive(Debug, Clone, PartialEq)]
pub struct SynthRequest {
    /// The text to speak (already free of markup).
    pub text: String,
    /// Voice name or id (`onyx` for OpenAI, a voice id for ElevenLabs, a model name for Piper).
    pub voice: String,
    /// Model name (`gpt-4o-mini-tts`, `eleven_multilingual_v2`, ...); engines with one model ignore it.
    pub model: String,
    /// Free-form speaking instructions (tone, accent); sent only when set.
    pub instructions: Option<String>,
    /// Speaking rate, 1.0 = the voice's natural rate; must lie in [`Limits::speed`].
    pub speed: f64,
    /// The encoding asked for. A provider may answer in another one (ElevenLabs always sends PCM);
    /// [`SynthAudio::format`] is what was actually returned.
    pub format: AudioFormat,
    /// Which of a routing engine's voices speaks this request (a cast's `engine:voice`, e.g.
    /// `espeak:en-us+f3`); `None` is the engine's own default voice. Plain engines ignore it.
    /// Not a cache key field: the engine's [`cache_signature_for`] covers it, so requests with
    /// no route keep the keys they always had.
    ///
    /// [`cache_signature_for`]: super::Synthesizer::cache_signature_for
    pub route: Option<String>,
}

impl SynthRequest {
    /// A request with speed 1.0, WAV output and no instructions.
    pub fn new(
        text: impl Into<String>,
        voice: impl Into<String>,
        model: impl Into<String>,
    ) -> Self {
        Self {
            text: text.into(),
            voice: voice.into(),
            model: model.into(),
            instructions: None,
            speed: 1.0,
            format: AudioFormat::Wav,
            route: None,
        }
    }

    /// The same settings with another text: how a batch is built from one template.
    pub fn with_text(&self, text: impl Into<String>) -> Self {
        Self {
            text: text.into(),
            ..self.clone()
        }
    }
}

/// Encoded audio as an engine returned it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SynthAudio {
    pub bytes: Vec<u8>,
    pub format: AudioFormat,
}

impl SynthAudio {
    /// The samples, checked: an error says what is wrong (truncated, empty, not audio).
    pub(crate) fn decode(&self) -> Result<Pcm, String> {
        match self.format {
            AudioFormat::Wav => Pcm::from_wav(&self.bytes),
            AudioFormat::Pcm16 { sample_rate } => Pcm::from_pcm16(&self.bytes, sample_rate),
        }
    }
}

/// What an engine accepts; callers packing text into requests should stay within these.
#[derive(Debug, Clone, PartialEq)]
pub struct Limits {
    /// Longest text (in characters) one request to the service accepts. The remote providers here
    /// split longer text at sentence boundaries themselves and join the audio.
    pub max_input_chars: usize,
    /// Speeds the engine supports; the batch runner refuses others before making any request.
    pub speed: RangeInclusive<f64>,
}
