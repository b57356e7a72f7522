//! Adding a TTS provider is one file and one registry entry: `flite_provider/mod.rs` describes
//! Flite and registers it, and with nothing else the synth stage dubs lines with it — the flags'
//! voice for a line without a speaker, and automatic casting from Flite's pool (written to
//! cast.toml as `engine = "flite"`, read back, routed to a second Flite voice) for speakers.
//! Real engines: flite and ffmpeg.

mod common;
mod flite_provider;

use std::path::{Path, PathBuf};
use std::process::Command;

use dubber::cast::{PoolSpec, read_cast};
use dubber::pipeline::synth::{Background, SynthOptions, synth};
use dubber::pipeline::{Casting, Workdir};
use dubber::progress::Progress;
use dubber::tts::{AudioFormat, BatchOptions, EngineKind, EngineSpec, Routed, SynthRequest};

const RATE: u32 = dubber::timeline::RATE;

/// Fails, saying so, when flite is not installed: this test cannot run without its engine.
fn require_flite() {
    let ok = Command::new("flite")
        .arg("-lv")
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        ok,
        "flite is not installed, so this test cannot run: run scripts/setup.sh"
    );
}

/// A 6-second video: black picture, a quiet tone.
fn video(dir: &Path) -> PathBuf {
    let path = dir.join("talk.mp4");
    common::long_video(&path, 6);
    path
}

fn options(flite: EngineKind) -> SynthOptions {
    let mut request = SynthRequest::new("", "kal", "flite");
    request.format = AudioFormat::Wav;
    SynthOptions {
        grouping: Default::default(),
        policy: Default::default(),
        request,
        casting: Casting {
            file: None,
            pool: PoolSpec {
                engine: flite,
                language: "en".into(),
                piper_voices: Vec::new(),
                register_cache: None,
            },
            default_models: vec![(flite, "flite".into())],
            default_voice: "flite:kal".into(),
        },
        batch: BatchOptions::default(),
        allow_silence: false,
        background: Background::None,
        ducking: Default::default(),
        mux: Default::default(),
        output: None,
    }
}

/// The engine as the CLI builds it: the provider's constructor, and a router whose loader builds
/// a cast's voices through the registry.
fn engine(flite: EngineKind) -> Routed {
    let build = flite.provider().build;
    let own = build(&EngineSpec::default()).expect("flite engine");
    let loader = |route: &str| {
        let voice = dubber::cast::Voice::from_id(route)
            .ok_or_else(|| dubber::tts::SynthError::Config(format!("{route}: no provider")))?;
        (voice.engine.provider().build)(&EngineSpec {
            voice: Some(&voice.voice),
            ..EngineSpec::default()
        })
    };
    Routed::new(own, loader).with_default_route("flite:kal")
}

fn rms(samples: &[i16]) -> f64 {
    let sum: f64 = samples.iter().map(|&s| f64::from(s) * f64::from(s)).sum();
    (sum / samples.len().max(1) as f64).sqrt()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_registered_provider_dubs_and_casts_lines() {
    require_flite();
    let flite = flite_provider::register();
    assert_eq!(EngineKind::parse("flite"), Some(flite));
    assert!(dubber::tts::registry::names().contains(&"flite"));
    // A local provider costs nothing: the price table knows it from the registry.
    let price = |name: &str| {
        dubber::cost::PriceTable::default().price(
            dubber::cost::EngineKind::Tts,
            &dubber::cost::Engine::new(name, "*"),
        )
    };
    assert_eq!(price("flite"), Some(dubber::cost::Price::default()));
    assert_eq!(price("no-such-provider"), None);

    let dir = tempfile::tempdir().unwrap();
    let video = video(dir.path());
    let workdir = Workdir::for_video(&video, Some(&dir.path().join("talk.dub")));
    std::fs::create_dir_all(workdir.root()).unwrap();
    let srt = "1\n00:00:00,500 --> 00:00:02,500\nGood morning to you.\n\n\
               2\n00:00:03,500 --> 00:00:05,500\nJOHN: The river is high.\n";
    std::fs::write(workdir.subs_srt(), srt).unwrap();

    let engine = engine(flite);
    let opts = options(flite);
    let outcome = synth(&video, &workdir, &engine, &opts, &Progress::hidden())
        .await
        .expect("synth with flite");
    assert_eq!(
        (outcome.chunks, outcome.requests, outcome.cache_hits),
        (2, 2, 0)
    );

    // JOHN was cast from Flite's pool: a voice other than the flags' own, written and read back.
    let cast = read_cast(&workdir.cast_toml()).unwrap();
    let john = cast.get("JOHN").expect("JOHN cast");
    assert_eq!(john.voice.engine, flite);
    assert!(john.auto);
    assert_ne!(john.voice.voice, "kal");
    let voices: Vec<String> = outcome
        .report
        .chunks
        .iter()
        .map(|c| c.voice.clone())
        .collect();
    assert_eq!(voices, ["flite:kal".to_string(), john.voice.id()]);

    // The track is the video's length, with speech in each line's window and silence before.
    let mut wav = hound::WavReader::open(workdir.dub_wav()).unwrap();
    assert_eq!(wav.spec().sample_rate, RATE);
    let samples: Vec<i16> = wav.samples::<i16>().map(Result::unwrap).collect();
    assert_eq!(samples.len(), 6 * RATE as usize);
    let at = |ms: u32| (ms * RATE / 1000) as usize;
    let before = rms(&samples[..at(450)]);
    let first = rms(&samples[at(600)..at(2400)]);
    let second = rms(&samples[at(3600)..at(5400)]);
    assert!(before < 1.0, "silence before the first line: {before}");
    assert!(first > 300.0 && second > 300.0, "speech: {first} {second}");

    // Again: every clip from the cache.
    let again = synth(&video, &workdir, &engine, &opts, &Progress::hidden())
        .await
        .unwrap();
    assert_eq!((again.requests, again.cache_hits), (0, 2));
}
