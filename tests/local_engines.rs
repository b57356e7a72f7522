//! The offline engines, for real: Whisper tiny.en (CTranslate2) on espeak-ng speech with known
//! pauses, and a round trip Piper voice → Whisper. Fails, saying so, when the models are not
//! installed (`scripts/setup-models.sh`): a test that cannot run its engine does not pass.

mod local_common;
use local_common as common;

use std::sync::OnceLock;

use common::{SENTENCES, espeak_clip, piper_voice, resample, wer, whisper_model, words};
use dubber::audio::wav_bytes;
use dubber::local_tts::{EspeakVoice, PiperInference, PiperVoice, init_onnxruntime};
use dubber::stt::{LocalStt, LocalWhisper, TranscribeOptions, Transcriber, WhisperConfig};

/// The model is loaded once for all tests of this binary (as the program does). Shown the whole
/// recording (no VAD): these tests hold the decoder itself to its times.
fn whisper() -> Option<&'static LocalStt> {
    static MODEL: OnceLock<Option<LocalStt>> = OnceLock::new();
    MODEL
        .get_or_init(|| {
            let dir = whisper_model()?;
            let model = LocalWhisper::load(&dir, &WhisperConfig::default()).expect("tiny.en loads");
            Some(LocalStt::new(model))
        })
        .as_ref()
}

fn voice() -> Option<&'static PiperVoice> {
    static VOICE: OnceLock<Option<PiperVoice>> = OnceLock::new();
    VOICE
        .get_or_init(|| {
            let (onnx, runtime) = piper_voice()?;
            init_onnxruntime(&runtime).expect("ONNX Runtime loads");
            Some(PiperVoice::load(&onnx).expect("voice loads"))
        })
        .as_ref()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn whisper_transcribes_a_long_clip_with_segments_at_real_pauses() {
    let Some(model) = whisper() else { return };
    // 24 sentences, ~75 s, a sentence spoken across the 30 s and 60 s window edges.
    let started = std::time::Instant::now();
    let clip = espeak_clip(&SENTENCES, &[30_000, 60_000]);
    eprintln!("clip generated in {:?}", started.elapsed());
    assert!(clip.duration_ms() >= 62_000, "{}", clip.duration_ms());
    let started = std::time::Instant::now();
    let segments = model
        .transcribe(clip.audio.clone(), &TranscribeOptions::default())
        .await
        .unwrap()
        .segments;
    let hypothesis: Vec<&str> = segments.iter().map(|s| s.text.as_str()).collect();
    let hypothesis = hypothesis.join(" ");
    eprintln!("transcribed in {:?}", started.elapsed());
    let reference = SENTENCES.join(" ");
    let error = wer(&reference, &hypothesis);
    eprintln!(
        "tiny.en WER on {} ms of espeak-ng: {:.1} %",
        clip.duration_ms(),
        error * 100.0
    );
    for (text, start, end) in &clip.spoken {
        eprintln!("  spoken {start:>6} {end:>6}  {text}");
    }
    for s in &segments {
        eprintln!("  heard  {:>6} {:>6}  {}", s.start_ms, s.end_ms, s.text);
    }
    assert!(error <= 0.10, "WER {error:.3}\n{hypothesis}");

    // Every boundary falls within 300 ms of a real pause.
    let pauses = clip.pauses();
    let near_pause = |t: u64| pauses.iter().any(|&(a, b)| a <= t + 300 && t <= b + 300);
    for s in &segments {
        assert!(s.start_ms < s.end_ms, "{s:?}");
        assert!(
            near_pause(s.start_ms),
            "start of {s:?} not at a pause {pauses:?}"
        );
        assert!(
            near_pause(s.end_ms),
            "end of {s:?} not at a pause {pauses:?}"
        );
    }
    // Segments are in order and inside the clip.
    for pair in segments.windows(2) {
        assert!(pair[0].start_ms <= pair[1].start_ms, "{pair:?}");
    }
    assert!(segments.last().unwrap().end_ms <= clip.duration_ms());

    // Nothing lost at the window edges: every sentence's words are found in the segments that
    // overlap it, in particular the ones spoken across 30 s and 60 s.
    for (sentence, start, end) in &clip.spoken {
        let heard: Vec<String> = segments
            .iter()
            .filter(|s| s.start_ms < *end && *start < s.end_ms)
            .flat_map(|s| words(&s.text))
            .collect();
        let expected = words(sentence);
        let found = expected.iter().filter(|w| heard.contains(w)).count();
        let straddles = (*start < 30_000 && 30_000 < *end) || (*start < 60_000 && 60_000 < *end);
        let allowed_missing = if straddles { 1 } else { expected.len() / 3 };
        assert!(
            found + allowed_missing >= expected.len(),
            "'{sentence}' at {start}-{end} ms: heard only {heard:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn whisper_returns_nothing_for_silence_and_keeps_times_relative() {
    let Some(model) = whisper() else { return };
    let silence = vec![0f32; 16_000 * 5];
    let segments = model
        .transcribe(silence, &TranscribeOptions::default())
        .await
        .unwrap()
        .segments;
    assert!(segments.is_empty(), "{segments:?}");

    // Speech that starts 4 s into the audio gets a start time near 4 s.
    let mut audio = vec![0f32; 16_000 * 4];
    audio.extend(resample(
        &common::espeak("Good morning everyone."),
        22_050,
        16_000,
    ));
    audio.extend(vec![0f32; 16_000]);
    let segments = model
        .transcribe(audio, &TranscribeOptions::default())
        .await
        .unwrap()
        .segments;
    assert_eq!(segments.len(), 1, "{segments:?}");
    assert!(
        (3_700..=4_300).contains(&segments[0].start_ms),
        "{segments:?}"
    );
    assert!(
        wer("Good morning everyone.", &segments[0].text) <= 0.34,
        "{segments:?}"
    );
}

#[test]
fn piper_round_trip_through_whisper() {
    let Some(voice) = voice() else { return };
    let Some(model) = whisper() else { return };
    let text = "The museum opens at nine in the morning. Tickets are sold at the front desk, \
                and children enter for free. Please keep your bags in the lockers. \
                Photography is allowed in most rooms, but not in the gallery upstairs.";
    let (samples, rate) = voice.speak(text, 1.0).unwrap();
    assert_eq!(rate, 22_050);
    let seconds = samples.len() as f32 / rate as f32;
    assert!((8.0..20.0).contains(&seconds), "{seconds} s");
    let audio = resample(&samples, rate, 16_000);
    let segments = model
        .transcribe_blocking(&audio, &TranscribeOptions::default())
        .unwrap()
        .segments;
    let heard: Vec<&str> = segments.iter().map(|s| s.text.as_str()).collect();
    let heard = heard.join(" ");
    let error = wer(text, &heard);
    eprintln!("Piper → tiny.en WER {:.1} %: {heard}", error * 100.0);
    assert!(error <= 0.15, "WER {error:.3}: {heard}");
}

#[test]
fn piper_is_deterministic_without_noise_and_speaks_faster_on_request() {
    let Some(voice) = voice() else { return };
    let calm = PiperInference {
        noise_scale: 0.0,
        length_scale: 1.0,
        noise_w: 0.0,
    };
    let text = "A quiet voice, speaking slowly. Then a second sentence!";
    let (a, rate) = voice.speak_with(text, calm).unwrap();
    let (b, _) = voice.speak_with(text, calm).unwrap();
    assert_eq!(a, b);
    let peak = a.iter().fold(0f32, |m, s| m.max(s.abs()));
    assert!(peak > 0.1 && peak <= 1.0, "peak {peak}");
    // Two sentences: Piper's 0.2 s of silence sits between them.
    let silent_run = a
        .split(|s| s.abs() > 1e-4)
        .map(<[f32]>::len)
        .max()
        .unwrap_or(0);
    assert!(silent_run >= (0.19 * rate as f32) as usize, "{silent_run}");

    let fast = PiperInference {
        length_scale: 1.0 / 1.5,
        ..calm
    };
    let (quick, _) = voice.speak_with(text, fast).unwrap();
    let ratio = quick.len() as f32 / a.len() as f32;
    // Phonemes and the pause between sentences are 1.5× shorter.
    assert!((0.60..0.73).contains(&ratio), "ratio {ratio}");
    // `speak` applies the same speed-up through length_scale.
    let (normal, _) = voice.speak(text, 1.0).unwrap();
    let (faster, _) = voice.speak(text, 1.5).unwrap();
    let ratio = faster.len() as f32 / normal.len() as f32;
    assert!((0.55..0.82).contains(&ratio), "ratio {ratio}");
    // Takes are reproducible in length: no duration noise, so a take planned is the take played.
    for _ in 0..3 {
        assert_eq!(voice.speak(text, 1.0).unwrap().0.len(), normal.len());
        assert_eq!(voice.speak(text, 1.5).unwrap().0.len(), faster.len());
    }

    // Shared loading gives the same voice back; the signature is the model's and config's content.
    let (onnx, _) = common::piper_voice().unwrap();
    let shared = PiperVoice::load_shared(&onnx).unwrap();
    assert!(std::sync::Arc::ptr_eq(
        &shared,
        &PiperVoice::load_shared(&onnx).unwrap()
    ));
    let model_sha = {
        use sha2::{Digest, Sha256};
        let digest = Sha256::digest(std::fs::read(&onnx).unwrap());
        digest
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    };
    assert!(
        shared
            .cache_signature()
            .starts_with(&format!("piper:{model_sha}:")),
        "{}",
        shared.cache_signature()
    );

    let wav = wav_bytes(&a, rate).unwrap();
    assert_eq!(wav.len(), 44 + 2 * a.len());
    assert!(voice.speak("", 1.0).unwrap().0.is_empty());
}

#[test]
fn espeak_voice_speaks_and_follows_speed() {
    let voice = EspeakVoice::new("en-us");
    let text = "This sentence is spoken by espeak at two different speeds.";
    let (normal, rate) = voice.speak(text, 1.0).unwrap();
    let (fast, fast_rate) = voice.speak(text, 2.0).unwrap();
    assert_eq!((rate, fast_rate), (22_050, 22_050));
    let seconds = normal.len() as f32 / rate as f32;
    assert!((2.0..6.0).contains(&seconds), "{seconds} s");
    let ratio = fast.len() as f32 / normal.len() as f32;
    assert!((0.4..0.65).contains(&ratio), "ratio {ratio}");
    assert!(
        voice.cache_signature().starts_with("espeak-ng:1."),
        "{}",
        voice.cache_signature()
    );
    let err = EspeakVoice::new("no-such-voice-xx")
        .speak("hi", 1.0)
        .unwrap_err();
    assert!(err.to_string().contains("no-such-voice-xx"), "{err}");
}

/// A synthesis nobody waits for any more is stopped: it ends with `Stopped` instead of finishing
/// its text (the way a timed-out request stops burning a core).
#[test]
fn a_stopped_piper_synthesis_ends_early() {
    let Some(voice) = voice() else { return };
    let stop = dubber::local_tts::piper::Stop::new().unwrap();
    let long: String = (0..40)
        .map(|i| format!("This is sentence number {i} of a rather long text. "))
        .collect();
    let stopper = stop.clone();
    let timer = std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_millis(200));
        stopper.stop();
    });
    let result = voice.speak_until(&long, 1.0, Some(&stop));
    timer.join().unwrap();
    assert!(
        matches!(result, Err(dubber::local_tts::LocalTtsError::Stopped)),
        "{:?}",
        result.map(|(s, _)| s.len())
    );
}
