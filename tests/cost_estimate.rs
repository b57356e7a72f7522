//! Cost estimates checked against hand computations on a 400-cue input.

use std::path::Path;

use dubber::Segment;
use dubber::cost::{Engine, EngineKind, PriceTable, RunPlan, Usage, estimate, spoken_chars};
use dubber::llm::EditOptions;

/// 400 cues of exactly 50 spoken characters: 20,000 characters; 30 minutes of audio.
fn cues() -> Vec<Segment> {
    (0..400u64)
        .map(|i| {
            Segment::new(
                i * 4000,
                i * 4000 + 3500,
                format!("Cue {i:03} is spoken here, in fifty characters exact."),
            )
        })
        .collect()
}

const AUDIO_MS: u64 = 30 * 60_000;

fn plan<'a>(
    segments: &'a [Segment],
    stt: Option<Engine>,
    chat: Option<Engine>,
    tts: Option<Engine>,
) -> RunPlan<'a> {
    RunPlan {
        segments: Some(segments),
        audio_ms: AUDIO_MS,
        stt,
        polish: chat.is_some(),
        translate_to: chat.as_ref().map(|_| "German".to_string()),
        chat,
        tts,
        edit_options: EditOptions::default(),
    }
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-9
}

#[test]
fn openai_run_costs_match_the_hand_computation() {
    let segments = cues();
    assert_eq!(spoken_chars(&segments), 20_000);
    let prices = PriceTable::default();
    let e = estimate(
        &plan(
            &segments,
            Some(Engine::new("openai", "whisper-1")),
            Some(Engine::new("openai", "gpt-4o-mini")),
            Some(Engine::new("openai", "tts-1")),
        ),
        &prices,
    );
    let stages: Vec<&str> = e.stages.iter().map(|s| s.stage.as_str()).collect();
    assert_eq!(stages, ["transcribe", "polish", "translate", "synthesize"]);
    // 30 min × $0.006 = $0.18; 20,000 chars × $15 / 1M = $0.30.
    assert!(close(e.stage_usd("transcribe").unwrap(), 0.18));
    assert!(close(e.stage_usd("synthesize").unwrap(), 0.30));
    // Chat: tokens × $0.15 / 1M in + $0.60 / 1M out.
    for stage in ["polish", "translate"] {
        let s = e.stages.iter().find(|s| s.stage == stage).unwrap();
        let Usage {
            input_tokens,
            output_tokens,
            ..
        } = s.usage;
        // The reply repeats every line with its JSON id: at least 20,000 chars / 4, at most
        // 400 × (50 + 30) chars / 4 plus per-batch overhead.
        assert!((5_000..=8_200).contains(&output_tokens), "{output_tokens}");
        // The request carries the prompt and context lines besides.
        assert!(input_tokens > output_tokens + 20 * 100, "{input_tokens}");
        let hand = input_tokens as f64 * 0.15 / 1e6 + output_tokens as f64 * 0.60 / 1e6;
        assert!(close(s.usd.unwrap(), hand));
        assert!(
            s.usd.unwrap() < 0.01,
            "gpt-4o-mini on 400 cues costs well under a cent"
        );
    }
    let total = 0.18 + 0.30 + e.stage_usd("polish").unwrap() + e.stage_usd("translate").unwrap();
    assert!(close(e.total_usd(), total));
}

#[test]
fn each_tts_and_stt_price_matches_its_unit() {
    let segments = cues();
    let prices = PriceTable::default();
    let tts = |provider: &str, model: &str| {
        estimate(
            &plan(&segments, None, None, Some(Engine::new(provider, model))),
            &prices,
        )
        .total_usd()
    };
    assert!(close(tts("openai", "tts-1-hd"), 0.60)); // 20,000 × $30 / 1M
    // gpt-4o-mini-tts: 5,000 text tokens × $0.60 / 1M + 20,000 / 900 min × $0.015.
    assert!(close(
        tts("openai", "gpt-4o-mini-tts"),
        0.003 + 20_000.0 / 900.0 * 0.015
    ));
    assert!(close(tts("elevenlabs", "eleven_multilingual_v2"), 2.00)); // 20 × $0.10 per 1k
    assert!(close(tts("elevenlabs", "eleven_flash_v2_5"), 1.00));
    assert!(close(tts("piper", "en_US-lessac-medium"), 0.0));
    assert!(close(tts("espeak-ng", "en"), 0.0));
    let stt = |model: &str| {
        estimate(
            &plan(&segments, Some(Engine::new("openai", model)), None, None),
            &prices,
        )
        .total_usd()
    };
    assert!(close(stt("gpt-4o-mini-transcribe"), 0.09));
    assert!(close(stt("gpt-4o-transcribe"), 0.18));
    let local_chat = Engine::new(
        Engine::chat_provider_for("http://localhost:11434/v1"),
        "llama3.1:8b",
    );
    assert!(close(
        estimate(&plan(&segments, None, Some(local_chat), None), &prices).total_usd(),
        0.0
    ));
}

#[test]
fn overrides_from_toml_and_json_replace_defaults() {
    let dir = tempfile::tempdir().unwrap();
    let toml_path = dir.path().join("prices.toml");
    std::fs::write(
        &toml_path,
        "free_providers = [\"my-box\"]\n[tts.\"openai/tts-1\"]\nper_million_chars = 20.0\n\
         [stt.\"acme/ears\"]\nper_minute = 0.01\n",
    )
    .unwrap();
    let prices = PriceTable::with_overrides(&toml_path).unwrap();
    let segments = cues();
    let e = estimate(
        &plan(
            &segments,
            Some(Engine::new("acme", "ears")),
            None,
            Some(Engine::new("openai", "tts-1")),
        ),
        &prices,
    );
    assert!(close(e.stage_usd("synthesize").unwrap(), 0.40)); // 20,000 × $20 / 1M
    assert!(close(e.stage_usd("transcribe").unwrap(), 0.30)); // 30 × $0.01
    assert_eq!(
        prices
            .price(EngineKind::Chat, &Engine::new("my-box", "x"))
            .unwrap()
            .cost(&Usage {
                input_tokens: 1_000_000,
                ..Usage::default()
            }),
        0.0
    );
    // Untouched defaults stay.
    assert!(
        prices
            .price(EngineKind::Tts, &Engine::new("openai", "tts-1-hd"))
            .is_some()
    );

    let json_path = dir.path().join("dubber.json");
    std::fs::write(&json_path, r#"{"prices": {"chat": {"openai/gpt-4o-mini": {"input_per_million_tokens": 1.0, "output_per_million_tokens": 2.0}}}}"#).unwrap();
    let prices = PriceTable::with_overrides(&json_path).unwrap();
    let p = prices
        .price(EngineKind::Chat, &Engine::new("openai", "gpt-4o-mini"))
        .unwrap();
    let usage = Usage {
        input_tokens: 300_000,
        output_tokens: 100_000,
        ..Usage::default()
    };
    assert!(close(p.cost(&usage), 0.5)); // 0.3 × $1 + 0.1 × $2

    let missing = PriceTable::with_overrides(Path::new("/nonexistent/prices.toml")).unwrap_err();
    assert!(
        missing.to_string().contains("/nonexistent/prices.toml"),
        "{missing}"
    );
}

#[test]
fn the_table_prints_dollars_and_flags_unknown_prices() {
    let segments = cues();
    let e = estimate(
        &plan(
            &segments,
            Some(Engine::new("openai", "whisper-1")),
            None,
            Some(Engine::new("openai", "tts-1")),
        ),
        &PriceTable::default(),
    );
    let table = e.to_string();
    println!("{table}");
    let lines: Vec<&str> = table.lines().collect();
    assert!(
        lines[0].starts_with("stage") && lines[0].ends_with("cost"),
        "{table}"
    );
    assert!(
        lines[1].starts_with("transcribe  openai/whisper-1")
            && lines[1].contains("30.0 min of audio")
    );
    assert!(lines[1].ends_with("$0.1800"), "{table}");
    assert!(
        lines[2].contains("20,000 chars (~22.2 min)") && lines[2].ends_with("$0.3000"),
        "{table}"
    );
    assert!(
        lines[4].starts_with("total") && lines[4].ends_with("$0.4800"),
        "{table}"
    );

    let e = estimate(
        &plan(&segments, None, None, Some(Engine::new("newco", "voice-9"))),
        &PriceTable::default(),
    );
    assert_eq!(e.unpriced().count(), 1);
    let table = e.to_string();
    assert!(
        table.contains("unknown") && table.contains("total (priced stages)"),
        "{table}"
    );
    assert!(
        table
            .contains("no price known for newco/voice-9 (synthesize); add [tts.\"newco/voice-9\"]"),
        "{table}"
    );
}

#[test]
fn without_subtitles_text_is_estimated_from_the_audio_length() {
    // 10 minutes at 900 characters per minute: 9,000 characters × $15 / 1M.
    let e = estimate(
        &RunPlan {
            segments: None,
            audio_ms: 10 * 60_000,
            stt: None,
            chat: None,
            polish: false,
            translate_to: None,
            tts: Some(Engine::new("openai", "tts-1")),
            edit_options: EditOptions::default(),
        },
        &PriceTable::default(),
    );
    assert_eq!(e.stages[0].usage.chars, 9_000);
    assert!(close(e.total_usd(), 0.135));
}
