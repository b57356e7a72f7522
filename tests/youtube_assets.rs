//! YouTube chapters: YouTube's rules hold for any input of at least 30 s (property test), and the
//! `--ai` variant is validated against them, falling back to the offline chapters.

mod common_llm;

use std::time::Duration;

use common_llm::{ChatServer, Reply};
use dubber::Segment;
use dubber::llm::{ChatConfig, OpenAiChat};
use dubber::youtube::{
    AssetsSource, Chapters, MAX_TAGS_CHARS, MAX_TITLE_CHARS, ai_assets, offline_assets,
    offline_chapters, parse_timestamp, validate_chapters,
};
use proptest::prelude::*;

fn any_segments() -> impl Strategy<Value = Vec<Segment>> {
    prop::collection::vec(
        (
            0u64..8_000_000,
            0u64..60_000,
            "[a-zA-Zé<>{} .,!?\\n]{0,160}",
        ),
        0..120,
    )
    .prop_map(|v| {
        v.into_iter()
            .map(|(start, len, text)| Segment::new(start, start + len, text))
            .collect()
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn offline_chapters_always_follow_youtube_rules(
        segments in any_segments(),
        video_ms in prop_oneof![30_000u64..40_000, 30_000u64..600_000, 30_000u64..8_000_000],
    ) {
        let chapters = offline_chapters(&segments, video_ms);
        let list = chapters.list();
        prop_assert!(validate_chapters(list, video_ms).is_ok(), "{:?}", validate_chapters(list, video_ms));
        // The text form YouTube reads: "M:SS Title" lines, first 0:00, each title ≤ 100 chars.
        let text = chapters.to_text();
        let mut previous = None;
        for (i, line) in text.lines().enumerate() {
            let (stamp, title) = line.split_once(' ').unwrap();
            let secs = parse_timestamp(stamp).unwrap();
            prop_assert_eq!(secs >= 3600, stamp.matches(':').count() == 2);
            if i == 0 { prop_assert_eq!(stamp, "0:00"); }
            if let Some(p) = previous { prop_assert!(secs >= p + 10); }
            prop_assert!(!title.trim().is_empty() && title.chars().count() <= MAX_TITLE_CHARS);
            previous = Some(secs);
        }
        prop_assert!(text.lines().count() >= 3);
        prop_assert!(video_ms / 1000 >= previous.unwrap() + 10);
    }

    #[test]
    fn videos_under_30_s_have_no_chapters(segments in any_segments(), video_ms in 0u64..30_000) {
        prop_assert_eq!(offline_chapters(&segments, video_ms), Chapters::TooShort { video_ms });
    }

    #[test]
    fn offline_tags_stay_within_youtube_limits(segments in any_segments()) {
        let tags = offline_assets(&segments, 60_000, None).tags;
        let used: usize = tags.iter().map(|t| t.chars().count() + if t.contains(' ') { 2 } else { 0 }).sum::<usize>()
            + tags.len().saturating_sub(1);
        prop_assert!(used <= MAX_TAGS_CHARS);
        prop_assert!(tags.iter().all(|t| !t.contains([',', '<', '>'])));
    }
}

fn talk(video_ms: u64) -> Vec<Segment> {
    (0..video_ms / 5000)
        .map(|i| {
            Segment::new(
                i * 5000,
                i * 5000 + 4000,
                format!("Sentence {i} about cooking pasta."),
            )
        })
        .collect()
}

fn chat(server: &ChatServer) -> OpenAiChat {
    let mut config = ChatConfig::new("test-model");
    config.base_url = server.base_url();
    config.backoff_base = Duration::from_millis(5);
    OpenAiChat::new(config).unwrap()
}

#[tokio::test]
async fn model_chapters_that_follow_the_rules_are_used() {
    let reply = r#"Here you go:
```json
{"chapters": [{"start": "0:00", "title": "Intro"}, {"start": "1:30", "title": "Boiling water"},
              {"start": "3:05", "title": "Serving <hot>"}],
 "description": "How to cook pasta.\n\nStep by step.",
 "tags": ["pasta", "cooking", "Pasta", "italian food"]}
```"#;
    let server =
        ChatServer::start(move |_, _| Reply::content(reply.replace("Serving <hot>", "Serving")))
            .await;
    let assets = ai_assets(
        &chat(&server),
        None,
        &talk(240_000),
        240_000,
        Some("Pasta"),
        3,
    )
    .await;
    assert_eq!(assets.source, AssetsSource::Model);
    assert_eq!(
        assets.chapters_text(),
        "0:00 Intro\n1:30 Boiling water\n3:05 Serving\n"
    );
    assert_eq!(
        assets.description,
        "Pasta\n\nHow to cook pasta.\n\nStep by step.\n\nChapters:\n0:00 Intro\n1:30 Boiling water\n3:05 Serving\n"
    );
    assert_eq!(assets.tags_text(), "pasta, cooking, italian food\n");
    let request = &server.requests()[0];
    let user = request.messages()[1]["content"].as_str().unwrap();
    assert!(
        user.starts_with("Video length: 4:00\nTitle: Pasta\nTranscript:\n[0:00] Sentence 0"),
        "{user}"
    );
    assert!(request.system().contains("at least 10 seconds"));
}

#[tokio::test]
async fn model_chapters_that_break_the_rules_fall_back_to_offline_ones() {
    // The first chapter is never at 0:00 and the second is too short.
    let server = ChatServer::start(|_, _| {
        Reply::content(
            r#"{"chapters": [{"start": "0:05", "title": "A"}, {"start": "0:12", "title": "B"},
                {"start": "2:00", "title": "C"}], "description": "D", "tags": []}"#,
        )
    })
    .await;
    let segments = talk(240_000);
    let assets = ai_assets(&chat(&server), None, &segments, 240_000, None, 3).await;
    let AssetsSource::OfflineFallback { reason } = &assets.source else {
        panic!("{:?}", assets.source)
    };
    assert!(
        reason.contains("the first chapter starts at 0:05; it must start at 0:00"),
        "{reason}"
    );
    assert_eq!(server.count(), 3);
    let feedback = server.requests()[1].messages()[3]["content"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(feedback.contains("must start at 0:00"), "{feedback}");
    assert_eq!(assets.chapters, offline_chapters(&segments, 240_000));
    validate_chapters(assets.chapters.list(), 240_000).unwrap();
}

#[tokio::test]
async fn a_short_video_gets_a_description_but_no_chapters() {
    let server = ChatServer::start(|_, _| {
        Reply::content(r#"{"chapters": [], "description": "A quick hello.", "tags": ["hello"]}"#)
    })
    .await;
    let assets = ai_assets(&chat(&server), None, &talk(20_000), 20_000, None, 3).await;
    assert_eq!(assets.source, AssetsSource::Model);
    assert_eq!(assets.chapters, Chapters::TooShort { video_ms: 20_000 });
    assert_eq!(assets.description, "A quick hello.\n\n");
    assert!(assets.chapters_text().starts_with("Too short for chapters"));
    assert!(
        server.requests()[0]
            .system()
            .contains("too short for chapters")
    );
}

#[tokio::test]
async fn an_unreachable_model_falls_back_too() {
    let server = ChatServer::start(|_, _| Reply::error(401, "bad key")).await;
    let assets = ai_assets(&chat(&server), None, &talk(60_000), 60_000, None, 3).await;
    let AssetsSource::OfflineFallback { reason } = &assets.source else {
        panic!()
    };
    assert!(reason.contains("401"), "{reason}");
    assert_eq!(assets.chapters.list().len(), 3);
}
