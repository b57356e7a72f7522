//! Subtitle files in the encodings people save them in: each file is built here from a known
//! UTF-8 SRT, encoded with `encoding_rs`, and must read back as the same text.

use std::path::PathBuf;

use dubber::subtitles::{self, Detection, FixKind, ReadOptions, SubtitleError};
use encoding_rs::Encoding;

fn srt(lines: &[&str]) -> String {
    let mut out = String::new();
    for (i, line) in lines.iter().enumerate() {
        out.push_str(&format!(
            "{}\r\n00:00:{:02},000 --> 00:00:{:02},500\r\n{line}\r\n\r\n",
            i + 1,
            i * 2 + 1,
            i * 2 + 2
        ));
    }
    out
}

const FRENCH: &[&str] = &[
    "Ça va très bien, merci.",
    "Où est la gare ? À côté de l'église.",
    "Je préfère le thé… « déjà » vu.",
];
const RUSSIAN: &[&str] = &[
    "Привет, как дела?",
    "Всё хорошо, спасибо. Я иду домой.",
    "Где находится вокзал? Это очень далеко.",
];
const JAPANESE: &[&str] = &[
    "こんにちは、元気ですか？",
    "駅はどこですか。とても遠いです。",
    "ありがとうございます。また明日。",
];
const CHINESE: &[&str] = &[
    "你好，你最近怎么样？",
    "火车站在哪里？离这里很远。",
    "谢谢你，我们明天见。",
];

fn write(dir: &tempfile::TempDir, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.path().join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

fn encode(label: &str, text: &str) -> Vec<u8> {
    let encoding = Encoding::for_label(label.as_bytes()).unwrap();
    let (bytes, _, unmappable) = encoding.encode(text);
    assert!(!unmappable, "{label} cannot hold the test text");
    bytes.into_owned()
}

fn texts(file: &subtitles::SubtitleFile) -> Vec<String> {
    file.cues.iter().map(|c| c.segment.text.clone()).collect()
}

fn read(path: &std::path::Path, encoding: Option<&str>) -> subtitles::SubtitleFile {
    let options = ReadOptions {
        encoding: encoding.map(str::to_string),
    };
    subtitles::read_file_with(path, &options).unwrap()
}

#[test]
fn legacy_encodings_are_detected_and_reported() {
    let dir = tempfile::tempdir().unwrap();
    // KOI8-U is KOI8-R plus Ukrainian letters: Russian reads the same in both.
    let cases: [(&str, &[&str], &[&str]); 6] = [
        ("windows-1252", FRENCH, &["windows-1252"]),
        ("windows-1251", RUSSIAN, &["windows-1251"]),
        ("koi8-r", RUSSIAN, &["KOI8-R", "KOI8-U"]),
        ("shift_jis", JAPANESE, &["Shift_JIS"]),
        ("gbk", CHINESE, &["GBK", "gb18030"]),
        ("gb2312", CHINESE, &["GBK", "gb18030"]),
    ];
    for (label, lines, names) in cases {
        let path = write(&dir, &format!("{label}.srt"), &encode(label, &srt(lines)));
        let file = read(&path, None);
        assert_eq!(texts(&file), lines.to_vec(), "{label}");
        assert!(names.contains(&file.encoding), "{label}: {}", file.encoding);
        let name = file.encoding;
        assert_eq!(
            file.notes[0].kind,
            FixKind::AssumedEncoding {
                encoding: name,
                how: Detection::Guessed
            },
            "{label}"
        );
        let note = file.notes[0].to_string();
        assert!(
            note.contains(name) && note.contains("--subtitles-encoding"),
            "{note}"
        );
    }
}

#[test]
fn unicode_encodings_with_and_without_a_mark() {
    let dir = tempfile::tempdir().unwrap();
    let text = srt(RUSSIAN);
    let utf16 = |big: bool| -> Vec<u8> {
        text.encode_utf16()
            .flat_map(|u| match big {
                true => u.to_be_bytes(),
                false => u.to_le_bytes(),
            })
            .collect()
    };
    let mut utf8_bom = vec![0xEF, 0xBB, 0xBF];
    utf8_bom.extend(text.as_bytes());
    let mut utf16be_bom = vec![0xFE, 0xFF];
    utf16be_bom.extend(utf16(true));
    let mut utf16le_bom = vec![0xFF, 0xFE];
    utf16le_bom.extend(utf16(false));
    let mut utf32le_bom = vec![0xFF, 0xFE, 0, 0];
    utf32le_bom.extend(text.chars().flat_map(|c| (c as u32).to_le_bytes()));
    let cases = [
        ("utf8-bom", utf8_bom, "UTF-8", Detection::Bom),
        (
            "plain-utf8",
            text.as_bytes().to_vec(),
            "UTF-8",
            Detection::Utf8,
        ),
        ("utf16le", utf16(false), "UTF-16LE", Detection::ZeroBytes),
        ("utf16be", utf16(true), "UTF-16BE", Detection::ZeroBytes),
        ("utf16be-bom", utf16be_bom, "UTF-16BE", Detection::Bom),
        ("utf16le-bom", utf16le_bom, "UTF-16LE", Detection::Bom),
        ("utf32le-bom", utf32le_bom, "UTF-32LE", Detection::Bom),
    ];
    for (name, bytes, encoding, how) in cases {
        let path = write(&dir, &format!("{name}.srt"), &bytes);
        let file = read(&path, None);
        assert_eq!(texts(&file), RUSSIAN.to_vec(), "{name}");
        assert_eq!(file.encoding, encoding, "{name}");
        // UTF-8 is said nothing about; any other encoding is noted.
        let noted = file.notes.iter().any(|n| {
            n.kind
                == FixKind::AssumedEncoding {
                    encoding: file.encoding,
                    how,
                }
        });
        assert_eq!(noted, encoding != "UTF-8", "{name}: {:?}", file.notes);
    }
}

#[test]
fn an_override_reads_what_detection_would_not() {
    let dir = tempfile::tempdir().unwrap();
    // One short line: too little for any detector to tell KOI8-R from windows-1251.
    let text = "1\n00:00:01,000 --> 00:00:02,000\nДа\n";
    let path = write(&dir, "short.srt", &encode("koi8-r", text));
    let file = read(&path, Some("koi8-r"));
    assert_eq!(texts(&file), vec!["Да"]);
    assert_eq!(file.encoding, "KOI8-R");
    assert_eq!(
        file.notes[0].kind,
        FixKind::AssumedEncoding {
            encoding: "KOI8-R",
            how: Detection::Forced
        }
    );
    assert_eq!(
        file.notes[0].to_string(),
        "line 1: read as KOI8-R (as asked)"
    );
    // A label's aliases work, whatever their case.
    assert_eq!(read(&path, Some("KOI8")).encoding, "KOI8-R");
}

#[test]
fn an_unknown_label_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(&dir, "a.srt", srt(FRENCH).as_bytes());
    let options = ReadOptions {
        encoding: Some("latin-7-klingon".into()),
    };
    let err = subtitles::read_file_with(&path, &options).unwrap_err();
    assert!(
        matches!(err, SubtitleError::UnknownEncoding { .. }),
        "{err}"
    );
    let message = err.to_string();
    for wanted in ["latin-7-klingon", "windows-1251", "koi8-r", "shift_jis"] {
        assert!(message.contains(wanted), "{message}");
    }
}

#[test]
fn bytes_invalid_in_a_forced_encoding_name_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    // Windows-1252 bytes (é = 0xE9) read as UTF-8 and as Shift_JIS.
    let bytes = encode("windows-1252", &srt(FRENCH));
    let path = write(&dir, "french.srt", &bytes);
    let err = subtitles::read_file_with(
        &path,
        &ReadOptions {
            encoding: Some("utf-8".into()),
        },
    )
    .unwrap_err();
    let message = err.to_string();
    assert!(
        matches!(
            err,
            SubtitleError::Encoding {
                line: 3,
                encoding: "UTF-8",
                ..
            }
        ),
        "{message}"
    );
    assert!(message.contains("french.srt:3:"), "{message}");
    // A UTF-16 byte-order mark with an odd byte at the end: the last line is cut.
    let mut odd = vec![0xFF, 0xFE];
    odd.extend(
        "1\n00:00:01,000 --> 00:00:02,000\nx"
            .encode_utf16()
            .flat_map(u16::to_le_bytes),
    );
    odd.push(b'y');
    let path = write(&dir, "odd.srt", &odd);
    let err = subtitles::read_file(&path).unwrap_err();
    assert!(
        matches!(err, SubtitleError::Encoding { line: 3, .. }),
        "{err}"
    );
}
