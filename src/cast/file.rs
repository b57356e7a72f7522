//! `cast.toml`, read and written (the format is in the [module doc](super)).
//!
//! Reading checks everything and names the file and line of what is wrong: TOML syntax, a field
//! that is not `engine`/`voice`/`model`/`pitch_hz`/`auto`, an unknown engine, an empty voice.
//! Writing appends entries for new speakers to the file's text, atomically, and removes only the
//! blocks of automatic entries that are cast again ([`write_entries`]): what a person wrote,
//! comments and order included, is kept byte for byte.

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
# auto = true: chosen by dubber; it re-casts this speaker when you dub with another engine —
# delete this line to keep the voice.
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
    #[serde(default)]
    auto: bool,
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
            let known: Vec<&str> = EngineKind::all().iter().map(|e| e.name()).collect();
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
                auto: entry.auto,
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
    if entry.auto {
        out += "auto = true\n";
    }
    if let Some(hz) = voice_pitch_hz {
        out += &format!(
            "# cast automatically; the voice's own pitch is {} Hz\n",
            hz.round()
        );
    }
    out
}

/// The byte offset where 1-based line `line` of `text` starts.
fn line_start(text: &str, line: usize) -> usize {
    match line {
        0 | 1 => 0,
        n => text
            .match_indices('\n')
            .nth(n - 2)
            .map_or(text.len(), |(i, _)| i + 1),
    }
}

/// True for a line holding a table header (`[speakers.A]`, `[[x]]`).
fn is_header(line: &str) -> bool {
    line.trim_start().starts_with('[')
}

/// `text` (the cast file at `path`) without the block of `name`'s entry: from its
/// `[speakers.NAME]` header to the next table header, or to the end of the file together with
/// the blank line [`render_entry`] put before it. A name without an entry leaves the text as it
/// is. Fails, naming the line, when the entry is not a table of its own (an inline table, dotted
/// keys) or removing its block would change any other entry.
pub fn remove_entry(path: &Path, text: &str, name: &str) -> Result<String, CastError> {
    let cast = parse_cast(path, text)?;
    let Some(entry) = cast.get(name) else {
        return Ok(text.to_string());
    };
    let error = |why: &str| CastError::Parse {
        path: path.to_path_buf(),
        line: entry.line,
        message: format!(
            "speaker {name:?}: cannot cast this automatic entry again: {why}; delete its `auto` \
             line to keep the voice, or the entry to have it cast again"
        ),
    };
    let mut start = line_start(text, entry.line);
    let header_end = text[start..]
        .find('\n')
        .map_or(text.len(), |i| start + i + 1);
    if !is_header(&text[start..header_end]) {
        return Err(error("it is not a `[speakers.NAME]` table of its own"));
    }
    let mut end = header_end;
    while end < text.len() {
        let line_end = text[end..].find('\n').map_or(text.len(), |i| end + i + 1);
        if is_header(&text[end..line_end]) {
            break;
        }
        end = line_end;
    }
    if end == text.len() {
        let before = &text[..start];
        if before.ends_with("\r\n\r\n") {
            start -= 2;
        } else if before.ends_with("\n\n") {
            start -= 1;
        }
    }
    let rest = format!("{}{}", &text[..start], &text[end..]);
    let left = parse_cast(path, &rest).map_err(|_| error("the file would not read without it"))?;
    let same = |(n, e): &(String, CastEntry)| {
        left.get(n)
            .is_some_and(|l| (&l.voice, l.pitch_hz, l.auto) == (&e.voice, e.pitch_hz, e.auto))
    };
    let others: Vec<&(String, CastEntry)> =
        cast.speakers.iter().filter(|(n, _)| n != name).collect();
    if left.speakers.len() != others.len() || !others.into_iter().all(same) {
        return Err(error("its block holds more than the entry"));
    }
    Ok(rest)
}

/// Append `entries` (name, entry, the voice's own pitch) to the cast file at `path` (created with
/// [`HEADER`] when missing), atomically. The existing text is kept as it is.
pub fn append_entries(
    path: &Path,
    entries: &[(String, CastEntry, Option<f64>)],
) -> Result<(), CastError> {
    write_entries(path, &[], entries)
}

/// Write `entries` (name, entry, the voice's own pitch) to the cast file at `path` (created with
/// [`HEADER`] when missing), atomically: first the blocks of the speakers in `replacing` are
/// removed ([`remove_entry`]; automatic entries cast again), then the entries are appended.
/// All other text is kept byte for byte.
pub fn write_entries(
    path: &Path,
    replacing: &[String],
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
    for name in replacing {
        text = remove_entry(path, &text, name)?;
    }
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
            voice: Voice::new(EngineKind::parse("piper").unwrap(), "en_US-joe-medium"),
            pitch_hz: Some(117.6),
            auto: false,
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

    /// An automatic entry as dubber renders it.
    fn auto(engine: EngineKind, voice: &str, pitch: f64) -> CastEntry {
        CastEntry {
            voice: Voice::new(engine, voice),
            pitch_hz: Some(pitch),
            auto: true,
            line: 0,
        }
    }

    #[test]
    fn the_auto_mark_is_written_and_read() {
        let entry = auto(EngineKind::parse("espeak").unwrap(), "en-us+m3", 101.0);
        let text = format!("{HEADER}{}", render_entry("A", &entry, Some(98.0)));
        assert!(text.contains("\nauto = true\n"), "{text}");
        let cast = parse(&text).unwrap();
        assert!(cast.get("A").unwrap().auto);
        let mine = parse("[speakers.A]\nengine = \"espeak\"\nvoice = \"x\"\n").unwrap();
        assert!(!mine.get("A").unwrap().auto);
        let err = parse("[speakers.A]\nengine = \"espeak\"\nvoice = \"x\"\nauto = \"yes\"\n")
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("cast.toml:4: "), "{err}");
    }

    #[test]
    fn replacing_an_automatic_entry_keeps_all_other_text() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cast.toml");
        let head = format!(
            "{HEADER}# my notes\n[speakers.Ann]   # the host\n\
             engine = \"espeak\"\nvoice = \"en-us+f3\"\n{}",
            render_entry(
                "Bob",
                &auto(
                    EngineKind::parse("piper").unwrap(),
                    "en_US-joe-medium",
                    110.0
                ),
                Some(120.0)
            ),
        );
        let who = render_entry(
            "Dr. Who",
            &auto(EngineKind::parse("espeak").unwrap(), "en-us+m7", 131.0),
            Some(125.0),
        );
        let tail = "\n[speakers.Cy]\nengine = \"openai\"\nvoice = \"ash\"   # keep\n";
        std::fs::write(&path, format!("{head}{who}{tail}")).unwrap();

        // The entry in the middle: its block goes, the new one is appended.
        let new_who = auto(EngineKind::parse("openai").unwrap(), "echo", 131.0);
        write_entries(
            &path,
            &["Dr. Who".into()],
            &[("Dr. Who".into(), new_who.clone(), Some(120.0))],
        )
        .unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        let appended = render_entry("Dr. Who", &new_who, Some(120.0));
        assert!(who.contains("[speakers.\"Dr. Who\"]"), "{who}");
        assert_eq!(text, format!("{head}{tail}{appended}"));
        let cast = read_cast(&path).unwrap();
        let names: Vec<&str> = cast.speakers.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["Ann", "Bob", "Cy", "Dr. Who"]);
        assert_eq!(cast.get("Dr. Who").unwrap().voice.id(), "openai:echo");

        // The last entry: no blank line doubles up.
        let newer = auto(EngineKind::parse("openai").unwrap(), "onyx", 131.0);
        write_entries(
            &path,
            &["Dr. Who".into()],
            &[("Dr. Who".into(), newer.clone(), None)],
        )
        .unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(
            text,
            format!("{head}{tail}{}", render_entry("Dr. Who", &newer, None))
        );
        // A speaker the file lacks: nothing to remove.
        assert_eq!(remove_entry(&path, &text, "Zoe").unwrap(), text);
    }

    #[test]
    fn an_entry_that_is_no_table_of_its_own_is_not_removed() {
        let text = "# x\n[speakers]\nA = { engine = \"piper\", voice = \"v\", auto = true }\n\
                    B = { engine = \"piper\", voice = \"w\" }\n";
        let err = remove_entry(Path::new("cast.toml"), text, "A")
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("cast.toml:3: "), "{err}");
        assert!(err.contains("not a `[speakers.NAME]` table"), "{err}");
    }
}
