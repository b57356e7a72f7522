//! One video's cast: which voice speaks each speaker of its lines, as prep writes it and synth
//! (and the studio) speak by it.
//!
//! [`cast_speakers`] reads the cast (`--cast FILE`, else the work directory's `cast.toml`; the
//! work directory's entries also answer for speakers a shared file lacks), casts every speaker
//! still without a voice automatically — measuring their pitch in `speech.wav`, extracted from
//! the video when missing — and appends those entries to the work directory's `cast.toml`, saying
//! so in the log. The entries it writes are marked `auto = true`: prep writes the cast with the
//! pool of its own `--tts` (Piper by default), so when a later synth dubs with another engine, an
//! automatic entry of the work directory's `cast.toml` whose engine that pool does not choose from
//! is cast again with the current pool and its block in the file replaced, with a note in the log;
//! otherwise a dub with a service would silently speak with the local voices prep chose. Entries
//! without the mark (a person's) and those of `--cast FILE` are never changed. Lines without a
//! speaker need no cast: a video without speakers gets no `cast.toml` and its requests are
//! exactly those it had before casts existed.
//!
//! Why in the pipeline: this is where the work directory, the video and the lines meet; the
//! decisions themselves (file, pools, matching) are [`crate::cast`]'s.

use std::path::{Path, PathBuf};

use crate::audio::pitch::speaker_pitch;
use crate::cast::{
    self, Cast, CastEntry, CastError, EngineKind, PoolSpec, Speaker, Voice, read_cast,
};
use crate::media;
use crate::pipeline::workdir::Workdir;
use crate::segment::{Chunk, Segment};
use crate::tts::{SynthRequest, Synthesizer};

/// How a video's speakers are cast; the flags' part of it, made once by the CLI.
#[derive(Debug, Clone)]
pub struct Casting {
    /// A cast file read instead of the work directory's (`--cast FILE`, e.g. one per series).
    /// Speakers it lacks are still cast automatically into the work directory's `cast.toml`.
    pub file: Option<PathBuf>,
    /// The voices automatic casting chooses from.
    pub pool: PoolSpec,
    /// The model of an engine whose cast entry names none.
    pub default_models: Vec<(EngineKind, String)>,
    /// The flags' voice as reports name it (`piper:en_US-joe-medium`), for lines with no speaker.
    pub default_voice: String,
}

impl Default for Casting {
    fn default() -> Self {
        Self {
            file: None,
            pool: PoolSpec {
                engine: EngineKind::of(&crate::tts::local::ESPEAK),
                language: "en".into(),
                piper_voices: Vec::new(),
                register_cache: None,
            },
            default_models: Vec::new(),
            default_voice: "default".into(),
        }
    }
}

/// The voice of each speaker of one video, with where it was cast (for messages).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SpeakerVoices {
    /// (speaker, voice, origin: `FILE:LINE`), in the order speakers first speak.
    pub speakers: Vec<(String, Voice, String)>,
}

impl SpeakerVoices {
    pub fn voice_of(&self, speaker: &str) -> Option<&Voice> {
        self.speakers
            .iter()
            .find(|(s, _, _)| s == speaker)
            .map(|(_, v, _)| v)
    }

    /// (speaker, `engine:voice`) for every speaker: what summaries show.
    pub fn ids(&self) -> Vec<(String, String)> {
        self.speakers
            .iter()
            .map(|(s, v, _)| (s.clone(), v.id()))
            .collect()
    }
}

/// The speakers of `segments`, in the order they first speak.
pub fn speakers_of(segments: &[Segment]) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for s in segments {
        if let Some(name) = &s.speaker
            && !names.contains(name)
        {
            names.push(name.clone());
        }
    }
    names
}

/// The speaker of each chunk (its first line's; a chunk never spans two speakers).
pub fn chunk_speakers(segments: &[Segment], chunks: &[Chunk]) -> Vec<Option<String>> {
    chunks
        .iter()
        .map(|c| {
            c.segments
                .first()
                .and_then(|&i| segments.get(i))
                .and_then(|s| s.speaker.clone())
        })
        .collect()
}

/// Read, complete and save the cast of `segments`' speakers (see the module doc). `video` is
/// where `speech.wav` comes from when it is missing; without it, new speakers are cast without
/// their pitch.
pub fn cast_speakers(
    workdir: &Workdir,
    video: Option<&Path>,
    casting: &Casting,
    segments: &[Segment],
) -> Result<SpeakerVoices, CastError> {
    let names = speakers_of(segments);
    if names.is_empty() {
        return Ok(SpeakerVoices::default());
    }
    let path = workdir.cast_toml();
    let own = read_cast(&path)?;
    let series = match &casting.file {
        Some(file) if !file.is_file() => {
            return Err(CastError::Io {
                path: file.clone(),
                source: std::io::Error::new(std::io::ErrorKind::NotFound, "no such cast file"),
            });
        }
        Some(file) => Some(read_cast(file)?),
        None => None,
    };
    let plan = plan(&names, series.as_ref(), &own, casting.pool.engine);
    let mut added: Vec<(String, CastEntry, Option<f64>)> = Vec::new();
    if !plan.cast.is_empty() {
        let missing: Vec<&String> = plan.cast.iter().collect();
        let speakers = measure_speakers(workdir, video, segments, &missing);
        let pool = cast::voice_pool(&casting.pool)?;
        // The voices of the entries being replaced are free again.
        let taken: Vec<Voice> = series
            .iter()
            .flat_map(|s| &s.speakers)
            .chain(
                own.speakers
                    .iter()
                    .filter(|(n, _)| !plan.recast.contains(n)),
            )
            .map(|(_, e)| e.voice.clone())
            .collect();
        for a in cast::assign(&speakers, &pool, &taken) {
            let voice = &a.candidate.voice;
            if a.reused {
                tracing::warn!(
                    "{} speakers and only {} voices: {} shares {} with another speaker; {}",
                    names.len(),
                    pool.len(),
                    a.speaker,
                    voice.id(),
                    cast::voices::how_to_get_more(casting.pool.engine, &casting.pool.language)
                );
            } else if voice.engine != casting.pool.engine {
                // A voice of the engine that continues the pool (Piper's goes on with espeak-ng).
                tracing::warn!(
                    "speaker {} gets the {} voice {} (not enough {} voices installed); {}",
                    a.speaker,
                    voice.engine,
                    voice.voice,
                    casting.pool.engine,
                    cast::voices::how_to_get_more(casting.pool.engine, &casting.pool.language)
                );
            }
            let pitch = speakers
                .iter()
                .find(|s| s.name == a.speaker)
                .and_then(|s| s.pitch_hz);
            added.push((
                a.speaker.clone(),
                CastEntry {
                    voice: voice.clone(),
                    pitch_hz: pitch,
                    auto: true,
                    line: 0,
                },
                Some(a.candidate.pitch_hz),
            ));
        }
        cast::write_entries(&path, &plan.recast, &added)?;
        let (recast, new): (Vec<_>, Vec<_>) =
            added.iter().partition(|(s, _, _)| plan.recast.contains(s));
        if !new.is_empty() {
            let list: Vec<String> = new
                .iter()
                .map(|(s, e, _)| format!("{s} → {}", e.voice.id()))
                .collect();
            tracing::info!(
                "{}: cast automatically: {}",
                path.display(),
                list.join(", ")
            );
        }
        if !recast.is_empty() {
            let list: Vec<String> = recast
                .iter()
                .map(|(s, e, _)| {
                    let old = own.get(s).map_or_else(String::new, |o| o.voice.id());
                    format!("{s} {old} → {}", e.voice.id())
                })
                .collect();
            tracing::info!(
                "{}: re-cast for {} (dubber had chosen voices of another engine; delete an \
                 entry's `auto` line to keep its voice): {}",
                path.display(),
                casting.pool.engine,
                list.join(", ")
            );
        }
    }
    let own = read_cast(&path)?;
    let speakers = names
        .iter()
        .filter_map(|name| {
            let (cast, entry) = series
                .as_ref()
                .and_then(|s| s.get(name).map(|e| (s, e)))
                .or_else(|| own.get(name).map(|e| (&own, e)))?;
            Some((name.clone(), entry.voice.clone(), cast.origin(name)))
        })
        .collect();
    Ok(SpeakerVoices { speakers })
}

/// Which speakers automatic casting casts, and which of those it casts again.
#[derive(Debug, Default, PartialEq)]
struct Plan {
    /// In the order they first speak: the speakers no cast names, and those cast again.
    cast: Vec<String>,
    /// The speakers whose automatic entry in the work directory's `cast.toml` names an engine the
    /// pool of the dub's engine does not choose from ([`CastEntry::is_recast_by`]).
    recast: Vec<String>,
}

/// The plan for `names` with the `--cast` file `series` (never changed) and the work directory's
/// cast `own`, dubbing with `engine`.
fn plan(names: &[String], series: Option<&Cast>, own: &Cast, engine: EngineKind) -> Plan {
    let mut plan = Plan::default();
    for name in names {
        if series.is_some_and(|s| s.get(name).is_some()) {
            continue;
        }
        match own.get(name) {
            None => plan.cast.push(name.clone()),
            Some(entry) if entry.is_recast_by(engine) => {
                plan.cast.push(name.clone());
                plan.recast.push(name.clone());
            }
            Some(_) => {}
        }
    }
    plan
}

/// The pitch of each of `names` in `speech.wav` (extracted from `video` when missing); a speaker
/// whose pitch cannot be measured is cast without it, with a note in the log.
fn measure_speakers(
    workdir: &Workdir,
    video: Option<&Path>,
    segments: &[Segment],
    names: &[&String],
) -> Vec<Speaker> {
    let speech = workdir.speech_wav();
    if !speech.is_file()
        && let Some(video) = video
        && let Err(e) = media::extract_audio(video, &speech, None)
    {
        tracing::info!("casting without the speakers' pitch: {e}");
    }
    names
        .iter()
        .map(|name| {
            let spans: Vec<(u64, u64)> = segments
                .iter()
                .filter(|s| s.speaker.as_deref() == Some(name.as_str()))
                .map(|s| (s.start_ms, s.end_ms))
                .collect();
            let pitch_hz = match speech.is_file() {
                true => speaker_pitch(&speech, &spans).unwrap_or_else(|e| {
                    tracing::info!("{name}: pitch not measured: {e}");
                    None
                }),
                false => None,
            };
            Speaker {
                name: name.to_string(),
                pitch_hz,
            }
        })
        .collect()
}

/// The request speaking `text` for `speaker`: the template as it is for a line with no speaker
/// (or one the cast does not name), else with the speaker's voice, model and route.
pub fn request_for(
    template: &SynthRequest,
    casting: &Casting,
    voices: &SpeakerVoices,
    speaker: Option<&str>,
    text: &str,
) -> SynthRequest {
    let mut req = template.with_text(text);
    if let Some(voice) = speaker.and_then(|s| voices.voice_of(s)) {
        req.voice = voice.voice.clone();
        req.model = voice.model.clone().unwrap_or_else(|| {
            casting
                .default_models
                .iter()
                .find(|(e, _)| *e == voice.engine)
                .map_or_else(|| voice.engine.name().to_string(), |(_, m)| m.clone())
        });
        req.route = Some(voice.id());
    }
    req
}

/// Load every voice of the cast in `engine` before synthesis, so that a voice that cannot be
/// used (a paid engine without its key, a Piper voice not installed) fails naming the cast file,
/// the line and the speaker.
pub async fn load_voices<S: Synthesizer>(
    engine: &S,
    template: &SynthRequest,
    casting: &Casting,
    voices: &SpeakerVoices,
) -> Result<(), CastError> {
    for (speaker, _, origin) in &voices.speakers {
        let req = request_for(template, casting, voices, Some(speaker), "");
        engine
            .prepare(std::slice::from_ref(&req))
            .await
            .map_err(|e| CastError::Voice {
                origin: origin.clone(),
                speaker: speaker.clone(),
                message: e.to_string(),
            })?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cast(entries: &[(&str, EngineKind, bool)]) -> Cast {
        Cast {
            path: None,
            speakers: entries
                .iter()
                .map(|&(name, engine, auto)| {
                    let entry = CastEntry {
                        voice: Voice::new(engine, "v"),
                        pitch_hz: None,
                        auto,
                        line: 0,
                    };
                    (name.to_string(), entry)
                })
                .collect(),
        }
    }

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn automatic_entries_of_another_engine_are_cast_again() {
        let kind = |name| EngineKind::parse(name).unwrap();
        let (piper, espeak, openai) = (kind("piper"), kind("espeak"), kind("openai"));
        let own = cast(&[
            ("A", piper, true),
            ("B", espeak, true),
            ("C", piper, false),
            ("D", openai, true),
            ("E", espeak, true),
        ]);
        let speakers = names(&["A", "B", "C", "D", "E", "F"]);
        // Prep's piper pool still chooses from piper and espeak-ng: only the new speaker.
        let p = plan(&speakers, None, &own, piper);
        assert_eq!((p.cast, p.recast), (names(&["D", "F"]), names(&["D"])));
        // Dubbing with OpenAI: every automatic local voice; never the person's entry (C).
        let p = plan(&speakers, None, &own, openai);
        assert_eq!(p.cast, names(&["A", "B", "E", "F"]));
        assert_eq!(p.recast, names(&["A", "B", "E"]));
        // espeak: the automatic piper voice and the OpenAI one.
        let p = plan(&speakers, None, &own, espeak);
        assert_eq!(p.recast, names(&["A", "D"]));
        // A speaker the series file names is never cast, whatever the work directory holds; the
        // series' own entries are never re-cast, even marked automatic.
        let series = cast(&[("A", piper, false), ("B", piper, true)]);
        let p = plan(&speakers, Some(&series), &own, openai);
        assert_eq!(p.cast, names(&["E", "F"]));
        assert_eq!(p.recast, names(&["E"]));
        // Speakers not in this video are left alone.
        let p = plan(&names(&["F"]), None, &own, openai);
        assert_eq!((p.cast, p.recast), (names(&["F"]), names(&[])));
    }
}
