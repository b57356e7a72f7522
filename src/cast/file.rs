//! `cast.toml`, read and written (the format is in the [module doc](super)).
//!
//! Reading checks everything and names the file and line of what is wrong: TOML syntax, a field
//! that is not `engine`/`voice`/`model`/`pitch_hz`, an unknown engine, an empty voice. Writing
//! only ever appends entries for new speakers to the file's text, atomically: what a person
//! wrote, comments and order included, is kept byte for byte.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;
use toml::Spanned;

use super::{Cast, CastEntry, CastError, EngineKind, Voice};

/// The comment a new cast file starts with.
pub const HEADER: &str = "\
# dubber cast: which voice speaks for whom. Edit freely; `dubber synth` reads it.
# engine: piper | espeak | openai | elevenlabs; voice: the engine's voice name (a voice id for
# elevenlabs); model (optional): the engine's model; pitch_hz: the speaker's median pitch
# (measured; informational). Lines with no speaker keep the voice the flags name.
";

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileDoc {
    #[serde(default)]
    speakers: BTreeMap<Spanned<String>, Spanned<EntryDoc>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EntryDoc {
    engine: Spanned<String>,
    voice: Spanned<String>,
    #[serde(default)]
    model: Option<String>,
    #[serde(default)]
    pitch_hz: Option<f64>,
}

/// The 1-based line of byte `offset` in `text`.
fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

/// Parse the text of a cast file read from `path` (named in errors).
pub fn parse_cast(path: &Path, text: &str) -> Result<Cast, CastError> {
    let error = |offset: usize, message: String| CastError::Parse {
        path: path.to_path_buf(),
        line: line_of(text, offset),
        message,
    };
    let doc: FileDoc = toml::from_str(text).map_err(|e| {
        let offset = e.span().map_or(0, |s| s.start);
        error(offset, e.message().trim().to_string())
    })?;
    let mut speakers = Vec::new();
    for (name, entry) in doc.speakers {
        let at = name.span().start;
        let name = name.into_inner();
        let entry = entry.into_inner();
        if name.trim().is_empty() {
            return Err(error(at, "a speaker's name is empty".into()));
        }
        let engine_at = entry.engine.span().start;
        let engine_name = entry.engine.into_inner();
        let engine = EngineKind::parse(engine_name.trim()).ok_or_else(|| {
            let known: Vec<&str> = EngineKind::ALL.iter().map(|e| e.name()).collect();
            error(
                engine_at,
                format!(
                    "speaker {name:?}: unknown engine {engine_name:?} (one of: {})",
                    known.join(", ")
                ),
            )
        })?;
        let voice_at = entry.voice.span().start;
        let voice = entry.voice.into_inner().trim().to_string();
        if voice.is_empty() {
            return Err(error(
                voice_at,
                format!("speaker {name:?}: the voice is empty"),
            ));
        }
        speakers.push((
            line_of(text, at),
            name,
            CastEntry {
                voice: Voice {
                    engine,
                    voice,
                    model: entry.model.filter(|m| !m.trim().is_empty()),
                },
                pitch_hz: entry.pitch_hz,
                line: line_of(text, at),
            },
        ));
    }
    // The file's order, not the map's.
    speakers.sort_by_key(|(line, _, _)| *line);
    Ok(Cast {
        path: Some(path.to_path_buf()),
        speakers: speakers.into_iter().map(|(_, n, e)| (n, e)).collect(),
    })
}

/// Read the cast file at `path`; a missing file is an empty cast (with that path).
pub fn read_cast(path: &Path) -> Result<Cast, CastError> {
    match std::fs::read_to_string(path) {
        Ok(text) => parse_cast(path, &text),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Cast {
            path: Some(path.to_path_buf()),
            speakers: Vec::new(),
        }),
        Err(source) => Err(CastError::Io {
            path: path.to_path_buf(),
            source,
        }),
    }
}

/// `name` as a TOML key: bare when it can be, quoted otherwise.
fn key(name: &str) -> String {
    let bare = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    match bare {
        true => name.to_string(),
        false => toml::Value::String(name.to_string()).to_string(),
    }
}

fn string(value: &str) -> String {
    toml::Value::String(value.to_string()).to_string()
}

/// One entry as the file holds it; `voice_pitch_hz` (the voice's own register) goes into a
/// comment when known.
pub fn render_entry(name: &str, entry: &CastEntry, voice_pitch_hz: Option<f64>) -> String {
    let mut out = format!("\n[speakers.{}]\n", key(name));
    out += &format!("engine = {}\n", string(entry.voice.engine.name()));
    out += &format!("voice = {}\n", string(&entry.voice.voice));
    if let Some(model) = &entry.voice.model {
        out += &format!("model = {}\n", string(model));
    }
    if let Some(hz) = entry.pitch_hz {
        out += &format!("pitch_hz = {}\n", hz.round());
    }
    if let Some(hz) = voice_pitch_hz {
        out += &format!(
            "# cast automatically; the voice's own pitch is {} Hz\n",
            hz.round()
        );
    }
    out
}

/// Append `entries` (name, entry, the voice's own pitch) to the cast file at `path` (created with
/// [`HEADER`] when missing), atomically. The existing text is kept as it is.
pub fn append_entries(
    path: &Path,
    entries: &[(String, CastEntry, Option<f64>)],
) -> Result<(), CastError> {
    let io = |source| CastError::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => HEADER.to_string(),
        Err(e) => return Err(io(e)),
    };
    if !text.is_empty() && !text.ends_with('\n') {
        text.push('\n');
    }
    for (name, entry, voice_pitch) in entries {
        text += &render_entry(name, entry, *voice_pitch);
    }
    // What is written must read back: a name TOML cannot hold would fail here, not at synth.
    parse_cast(path, &text)?;
    crate::fsutil::write_atomic(path, text.as_bytes()).map_err(io)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Cast, CastError> {
        parse_cast(Path::new("cast.toml"), text)
    }

    #[test]
    fn entries_read_in_file_order_with_their_lines() {
        let cast = parse(
            "# c\n[speakers.Zed]\nengine = \"piper\"\nvoice = \"en_US-joe-medium\"\npitch_hz = 118\n\
             \n[speakers.\"Dr. Who\"]\nengine = \"openai\"\nvoice = \"nova\"\nmodel = \"tts-1\"\n",
        )
        .unwrap();
        assert_eq!(cast.speakers.len(), 2);
        let (name, zed) = &cast.speakers[0];
        assert_eq!((name.as_str(), zed.line), ("Zed", 2));
        assert_eq!(zed.voice.id(), "piper:en_US-joe-medium");
        assert_eq!(zed.pitch_hz, Some(118.0));
        let who = cast.get("Dr. Who").unwrap();
        assert_eq!(who.voice.model.as_deref(), Some("tts-1"));
        assert_eq!(who.line, 7);
        assert_eq!(cast.origin("Dr. Who"), "cast.toml:7");
        assert!(parse("").unwrap().speakers.is_empty());
    }

    #[test]
    fn errors_name_the_line() {
        let err = parse("[speakers.A]\nengine = \"piper\"\nvoice = \"x\"\n\n[speakers.B]\nengine = \"festival\"\nvoice = \"y\"\n")
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("cast.toml:6: "), "{err}");
        assert!(err.contains("unknown engine \"festival\""), "{err}");
        assert!(err.contains("piper, espeak, openai, elevenlabs"), "{err}");

        let err = parse("[speakers.A]\nengine = \"piper\"\nvoice = \"x\"\ncolour = 1\n")
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("cast.toml:4: "), "{err}");
        assert!(err.contains("colour"), "{err}");

        let err = parse("[speakers.A]\nengine = \"piper\"\n\nvoice = \n")
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("cast.toml:4: "), "{err}");

        let err = parse("[speakers.A]\nengine = \"espeak\"\nvoice = \"  \"\n")
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("cast.toml:3: "), "{err}");
        assert!(err.contains("voice is empty"), "{err}");

        let err = parse("[speakers.A]\nvoice = \"x\"\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("engine"), "{err}");
    }

    #[test]
    fn appending_keeps_what_a_person_wrote() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cast.toml");
        let mine =
            "# my series\n[speakers.Ann]   # the host\nengine = \"espeak\"\nvoice = \"en-us+f3\"";
        std::fs::write(&path, mine).unwrap();
        let entry = CastEntry {
            voice: Voice::new(EngineKind::Piper, "en_US-joe-medium"),
            pitch_hz: Some(117.6),
            line: 0,
        };
        append_entries(&path, &[("Mr. \"B\"".into(), entry, Some(110.2))]).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.starts_with(mine), "{text}");
        assert!(text.contains("pitch_hz = 118\n"), "{text}");
        assert!(text.contains("own pitch is 110 Hz"), "{text}");
        let cast = read_cast(&path).unwrap();
        assert_eq!(cast.speakers.len(), 2);
        assert_eq!(
            cast.get("Mr. \"B\"").unwrap().voice.id(),
            "piper:en_US-joe-medium"
        );
        // A new file starts with the header.
        let fresh = dir.path().join("new.toml");
        append_entries(&fresh, &[]).unwrap();
        assert_eq!(std::fs::read_to_string(&fresh).unwrap(), HEADER);
        assert!(
            read_cast(&dir.path().join("none.toml"))
                .unwrap()
                .speakers
                .is_empty()
        );
    }
}
