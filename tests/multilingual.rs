//! Speech in any language, offline, on the default `dubber prep`: German, Spanish, French and
//! Russian spoken by espeak-ng are transcribed with their language detected; German becomes
//! English with `--translate-to English` and no key; an English-only model refuses German;
//! music and silence give no lines; a phone call keeps every line once, at its time.
//! Needs the models `scripts/setup-models.sh` installs (multilingual Whisper base, tiny.en,
//! Silero VAD): a missing one fails the tests.

mod local_common;
use local_common as common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::{
    dubber_offline as dubber, espeak_voice, require_models, resample, wer, words, write_wav,
};

/// A language the tests speak: espeak-ng voice, speed, the text, and the word error rate the
/// default prep holds on it (measured values are in the README).
struct Spoken {
    code: &'static str,
    voice: &'static str,
    speed: u32,
    text: &'static str,
    max_wer: f64,
}

/// Conversational texts, slowly: espeak-ng's reading of them is what Whisper base recognises
/// best (its French and Russian readings of formal prose are heard as Latin and Polish, by
/// faster-whisper with the same model as by dubber).
const LANGUAGES: [Spoken; 4] = [
    Spoken {
        code: "de",
        voice: "de+m3",
        speed: 120,
        text: "Hallo, wie geht es dir? Ich habe heute keine Zeit. Wir treffen uns morgen am \
               Bahnhof in Berlin und trinken einen Kaffee.",
        max_wer: 0.2,
    },
    Spoken {
        code: "es",
        voice: "es",
        speed: 140,
        text: "Buenos días. Hoy hablamos del tiempo en Madrid. Llueve desde hace tres días, pero \
               mañana volverá a salir el sol.",
        max_wer: 0.35,
    },
    Spoken {
        code: "fr",
        voice: "fr",
        speed: 120,
        text: "Salut, comment ça va? Je n'ai pas le temps aujourd'hui. On se retrouve demain à la \
               gare de Paris pour boire un café.",
        max_wer: 0.35,
    },
    Spoken {
        code: "ru",
        voice: "ru",
        speed: 120,
        text: "Привет! Как дела? Спасибо, хорошо. Что ты делаешь сегодня вечером? Давай пойдём в \
               кино, там идёт новый русский фильм.",
        max_wer: 0.6,
    },
];

/// `text` spoken by `voice`, with 3 s of silence before and after, as a 16 kHz WAV.
fn speech_file(dir: &Path, name: &str, voice: &str, speed: u32, text: &str) -> PathBuf {
    let speech = resample(&espeak_voice(voice, speed, text), 22_050, 16_000);
    let mut audio = vec![0f32; 48_000];
    audio.extend(speech);
    audio.extend(vec![0f32; 48_000]);
    let path = dir.join(name);
    write_wav(&path, &audio, 16_000);
    path
}

/// The German test speech (`LANGUAGES[0]`) as `de.wav` in `dir`.
fn german_speech(dir: &Path) -> &'static Spoken {
    let german = &LANGUAGES[0];
    speech_file(dir, "de.wav", german.voice, german.speed, german.text);
    german
}

/// The work directory's subs.srt is English holding the German sentence's key words, and
/// subs.orig.srt keeps the German lines.
fn assert_english_with_german_kept(workdir: &Path, german: &Spoken) {
    let text_of = |file: &str| {
        let lines: Vec<String> = srt_lines(&workdir.join(file))
            .into_iter()
            .map(|l| l.2)
            .collect();
        lines.join(" ")
    };
    let english = words(&text_of("subs.srt"));
    for key in ["hello", "today", "tomorrow", "berlin", "coffee"] {
        assert!(
            english.iter().any(|w| w == key),
            "{key} missing: {english:?}"
        );
    }
    let original = text_of("subs.orig.srt");
    assert!(wer(german.text, &original) <= german.max_wer, "{original}");
}

/// The `prep_done` event of a `--json` run.
fn prep_done(out: &Output) -> serde_json::Value {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find(|e| e["event"] == "prep_done")
        .unwrap_or_else(|| {
            panic!(
                "no prep_done event; stderr: {}",
                String::from_utf8_lossy(&out.stderr)
            )
        })
}

/// The lines of an SRT file: (start ms, end ms, text on one line).
fn srt_lines(path: &Path) -> Vec<(u64, u64, String)> {
    let text = std::fs::read_to_string(path).unwrap();
    let ms = |t: &str| {
        let t = t.trim().replace(',', ":");
        let p: Vec<u64> = t.split(':').map(|x| x.parse().unwrap()).collect();
        ((p[0] * 60 + p[1]) * 60 + p[2]) * 1000 + p[3]
    };
    text.split("\n\n")
        .filter_map(|block| {
            let mut lines = block.lines().filter(|l| !l.trim().is_empty());
            lines.next()?;
            let (start, end) = lines.next()?.split_once("-->")?;
            let text: Vec<&str> = lines.collect();
            Some((ms(start), ms(end), text.join(" ")))
        })
        .collect()
}

/// No line says what another line says, and no line loops.
fn assert_no_repeats(lines: &[(u64, u64, String)]) {
    for (i, a) in lines.iter().enumerate() {
        let wa = words(&a.2);
        for b in &lines[i + 1..] {
            assert_ne!(wa, words(&b.2), "repeated line: {lines:?}");
        }
        // A phrase of one to four words said three times in a row is a loop.
        for n in 1..=4 {
            for w in wa.windows(3 * n) {
                assert!(
                    !(w[..n] == w[n..2 * n] && w[n..2 * n] == w[2 * n..]),
                    "looping line {:?}",
                    a.2
                );
            }
        }
    }
}

#[test]
fn each_language_is_heard_and_transcribed_by_the_default_prep() {
    require_models();
    let dir = tempfile::tempdir().unwrap();
    let mut measured = Vec::new();
    for spoken in &LANGUAGES {
        let file = format!("{}.wav", spoken.code);
        speech_file(dir.path(), &file, spoken.voice, spoken.speed, spoken.text);
        let workdir = format!("{}.dub", spoken.code);
        let out = dubber(
            dir.path(),
            &["prep", &file, "--workdir", &workdir, "--json"],
        );
        assert!(
            out.status.success(),
            "{}: {}",
            spoken.code,
            String::from_utf8_lossy(&out.stderr)
        );
        let done = prep_done(&out);
        assert_eq!(done["language"], spoken.code, "{done}");
        assert_eq!(done["transcription"]["task"], "transcribe");
        // The recording has 6 s of silence: the model saw the speech only (and 0.4 s of
        // margin on each side, as faster-whisper's VAD keeps).
        let report = &done["transcription"];
        assert!(report["vad"].as_bool().unwrap());
        assert!(
            report["speech_ms"].as_u64().unwrap() + 4_000 < report["audio_ms"].as_u64().unwrap(),
            "{report}"
        );
        let lines = srt_lines(&dir.path().join(&workdir).join("subs.srt"));
        assert_no_repeats(&lines);
        let heard: Vec<&str> = lines.iter().map(|l| l.2.as_str()).collect();
        let heard = heard.join(" ");
        let error = wer(spoken.text, &heard);
        measured.push(format!(
            "{} WER {:.0} %: {heard}",
            spoken.code,
            error * 100.0
        ));
        // Lines lie inside the speech (3 s of silence before it).
        assert!(lines.iter().all(|l| l.0 >= 2_500), "{lines:?}");
        assert!(
            error <= spoken.max_wer,
            "{}: WER {error:.2} over {}: {heard}",
            spoken.code,
            spoken.max_wer
        );
    }
    eprintln!("{}", measured.join("\n"));
}

#[test]
fn german_speech_becomes_english_lines_offline() {
    require_models();
    let dir = tempfile::tempdir().unwrap();
    let german = german_speech(dir.path());
    let out = dubber(
        dir.path(),
        &[
            "prep",
            "de.wav",
            "--workdir",
            "w",
            "--translate-to",
            "English",
            "--json",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let done = prep_done(&out);
    assert_eq!(done["transcription"]["task"], "translate", "{done}");
    assert_eq!(done["language"], "de");
    assert_english_with_german_kept(&dir.path().join("w"), german);
}

#[test]
fn an_english_only_model_refuses_german_speech() {
    require_models();
    let dir = tempfile::tempdir().unwrap();
    german_speech(dir.path());
    let out = dubber(
        dir.path(),
        &["prep", "de.wav", "--workdir", "w", "--stt-model", "tiny.en"],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(stderr.contains("German"), "{stderr}");
    assert!(stderr.contains("--stt-model"), "{stderr}");
    assert!(!dir.path().join("w/subs.srt").exists());
}

#[test]
fn music_and_silence_give_no_lines() {
    require_models();
    let dir = tempfile::tempdir().unwrap();
    // 20 s: a chord with a slow tremolo over a drum-like noise pulse, then 10 s of silence.
    let status = Command::new("ffmpeg")
        .args(["-hide_banner", "-loglevel", "error", "-f", "lavfi", "-i"])
        .arg(
            "aevalsrc='0.2*(sin(2*PI*220*t)+sin(2*PI*277.2*t)+sin(2*PI*329.6*t))*(0.6+0.4*sin(2*PI*0.5*t))\
             +0.3*random(0)*exp(-12*mod(t,0.5))':s=16000:d=20",
        )
        .args(["-af", "apad=pad_dur=10", "-ac", "1", "music.wav"])
        .current_dir(dir.path())
        .status()
        .unwrap();
    assert!(status.success());
    let out = dubber(dir.path(), &["prep", "music.wav", "--workdir", "w"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "lines were invented: {stderr}");
    assert!(stderr.contains("no speech found"), "{stderr}");
    assert!(!dir.path().join("w/subs.srt").exists());
}

/// A phone call: two voices taking turns, three times talking over each other for 0.15 s,
/// band-limited to 300–3400 Hz at 8 kHz. Every line is kept once; a line said after a pause
/// starts, and a line followed by a pause ends, within 0.3 s of the truth. (Where two people
/// speak at once, the overlapped words go to the line already under way: the model hears one
/// voice at a time.)
#[test]
fn a_phone_call_keeps_every_line_once_at_its_time() {
    require_models();
    let dir = tempfile::tempdir().unwrap();
    // (voice, speed, text, gap to the previous line's end in ms; negative: they overlap)
    let lines: [(&str, u32, &str, i64); 8] = [
        ("en-us+m3", 150, "Hello, this is Mark from the garage.", 800),
        ("en-gb+f2", 160, "Oh, hi Mark. Is my car ready?", -150),
        (
            "en-us+m3",
            150,
            "Yes, we replaced the brakes and the front tires.",
            500,
        ),
        ("en-gb+f2", 160, "Great. How much do I owe you?", -150),
        (
            "en-us+m3",
            150,
            "It comes to three hundred and forty dollars.",
            700,
        ),
        ("en-gb+f2", 160, "Can I pick it up this afternoon?", 300),
        (
            "en-us+m3",
            150,
            "Sure, we are open until six o'clock.",
            -150,
        ),
        ("en-gb+f2", 160, "Perfect, see you later then.", 600),
    ];
    let rate = 22_050u64;
    let mut truth: Vec<(u64, u64)> = Vec::new();
    let mut clips = Vec::new();
    for (voice, speed, text, gap) in lines {
        let clip = espeak_voice(voice, speed, text);
        let start = match truth.last() {
            Some(&(_, end)) => (end as i64 + gap) as u64,
            None => gap as u64,
        };
        truth.push((start, start + clip.len() as u64 * 1000 / rate));
        clips.push(clip);
    }
    let total = ((truth.last().unwrap().1 + 2_000) * rate / 1000) as usize;
    let mut mix = vec![0f32; total];
    for (&(start, _), clip) in truth.iter().zip(&clips) {
        let at = (start * rate / 1000) as usize;
        for (i, s) in clip.iter().enumerate() {
            mix[at + i] += s * 0.6;
        }
    }
    write_wav(&dir.path().join("wide.wav"), &mix, rate as u32);
    let status = Command::new("ffmpeg")
        .args([
            "-hide_banner",
            "-loglevel",
            "error",
            "-i",
            "wide.wav",
            "-af",
        ])
        .arg("highpass=f=300,highpass=f=300,lowpass=f=3400,lowpass=f=3400")
        .args(["-ar", "8000", "call.wav"])
        .current_dir(dir.path())
        .status()
        .unwrap();
    assert!(status.success());
    let out = dubber(
        dir.path(),
        &["prep", "call.wav", "--workdir", "w", "--json"],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(prep_done(&out)["language"], "en");
    let got = srt_lines(&dir.path().join("w/subs.srt"));
    eprintln!("{got:#?}");
    assert_no_repeats(&got);
    let reference: Vec<&str> = lines.iter().map(|l| l.2).collect();
    let reference = reference.join(" ");
    let heard: Vec<&str> = got.iter().map(|l| l.2.as_str()).collect();
    let heard = heard.join(" ");
    // Once: nothing transcribed twice (at most a few words more than were said).
    assert!(
        words(&heard).len() <= words(&reference).len() * 23 / 20,
        "{heard}"
    );
    let error = wer(&reference, &heard);
    eprintln!("phone call WER {:.0} %", error * 100.0);
    assert!(error <= 0.35, "WER {error:.2}: {heard}");
    let near = |a: u64, b: u64| a.abs_diff(b) <= 300;
    for (i, &(start, end)) in truth.iter().enumerate() {
        let after_pause = i == 0 || lines[i].3 > 0;
        if after_pause {
            assert!(
                got.iter().any(|l| near(l.0, start)),
                "line {i} starts at {start} ms: {got:?}"
            );
        }
        let before_pause = lines.get(i + 1).is_none_or(|next| next.3 > 0);
        if before_pause {
            assert!(
                got.iter().any(|l| near(l.1, end)),
                "line {i} ends at {end} ms: {got:?}"
            );
        }
    }
}

/// English speech, the same recording through three configurations: tiny.en shown everything
/// (dubber before voice-activity detection: the baseline), tiny.en behind Silero VAD, and the
/// default (the multilingual base behind the VAD). The default is no less accurate than the
/// baseline, and behind the VAD every sentence starts a line within 0.3 s of its start whichever
/// the model.
#[test]
fn english_is_as_good_with_every_model_on_the_same_recording() {
    use dubber::models::DataDir;
    use dubber::stt::{LocalStt, LocalWhisper, SileroVad, TranscribeOptions, WhisperConfig};
    use std::sync::Arc;

    require_models();
    let data = DataDir::from_env().unwrap();
    let load = |name: &str| {
        let dir = data.installed_whisper_model(name).unwrap();
        LocalWhisper::load(&dir, &WhisperConfig::default()).unwrap()
    };
    let vad = Arc::new(SileroVad::load(&data.vad_model().unwrap()).unwrap());
    // 12 sentences, ~40 s, one spoken across the 30 s window edge.
    let clip = common::espeak_clip(&common::SENTENCES[..12], &[30_000]);
    let reference: Vec<&str> = clip.spoken.iter().map(|s| s.0.as_str()).collect();
    let reference = reference.join(" ");
    let configs = [
        ("tiny.en, no VAD", LocalStt::new(load("tiny.en"))),
        (
            "tiny.en",
            LocalStt::new(load("tiny.en")).with_vad(vad.clone()),
        ),
        ("default (base)", LocalStt::new(load("base")).with_vad(vad)),
    ];
    let mut errors = Vec::new();
    for (name, stt) in &configs {
        let transcript = stt
            .transcribe_blocking(&clip.audio, &TranscribeOptions::default())
            .unwrap();
        let heard: Vec<&str> = transcript
            .segments
            .iter()
            .map(|s| s.text.as_str())
            .collect();
        let error = wer(&reference, &heard.join(" "));
        // Every sentence (each follows a pause) starts a line within 0.3 s of its start.
        let late = clip.start_errors(&transcript.segments);
        eprintln!(
            "{name}: WER {:.1} %, start errors {late:?} ms, {} lines",
            error * 100.0,
            transcript.segments.len()
        );
        if name != &"tiny.en, no VAD" {
            assert!(late.iter().all(|&ms| ms <= 300), "{name}: {late:?}");
        }
        let lines: Vec<(u64, u64, String)> = transcript
            .segments
            .iter()
            .map(|s| (s.start_ms, s.end_ms, s.text.clone()))
            .collect();
        assert_no_repeats(&lines);
        errors.push(error);
    }
    assert!(errors[2] <= errors[0], "default vs before: {errors:?}");
    assert!(errors.iter().all(|&e| e <= 0.12), "{errors:?}");
}

/// `dubber run --translate-to English` on a German video: an English dub, offline, in one
/// command; the German lines kept in subs.orig.srt.
#[test]
fn run_dubs_german_speech_into_english_offline() {
    require_models();
    let dir = tempfile::tempdir().unwrap();
    let german = german_speech(dir.path());
    let status = Command::new("ffmpeg")
        .args(["-hide_banner", "-loglevel", "error", "-f", "lavfi", "-i"])
        .arg("color=c=black:s=160x120:r=10")
        .args(["-i", "de.wav", "-shortest", "-c:v", "libx264", "-preset"])
        .args(["ultrafast", "-c:a", "aac", "de.mp4"])
        .current_dir(dir.path())
        .status()
        .unwrap();
    assert!(status.success());
    let out = dubber(
        dir.path(),
        &[
            "run",
            "de.mp4",
            "--translate-to",
            "English",
            "--workdir",
            "w",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(dir.path().join("de.dubbed.mp4").is_file());
    assert_english_with_german_kept(&dir.path().join("w"), german);
    // Another target needs a chat model: run says what to do instead.
    let out = dubber(dir.path(), &["run", "de.mp4", "--translate-to", "French"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("prep"));
}
