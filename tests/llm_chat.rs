//! The chat-model operations against a local server speaking the chat-completions wire format.

mod common_llm;

use std::time::Duration;

use common_llm::{ChatServer, Reply, Request, lines_json};
use dubber::Segment;
use dubber::llm::{
    ChatConfig, EditOptions, Glossary, LineEditor, LlmError, OpenAiChat, ReplyCache, Translation,
};

fn chat(server: &ChatServer) -> OpenAiChat {
    let mut config = ChatConfig::new("test-model");
    config.base_url = server.base_url();
    config.api_key = dubber::credentials::ApiKey::new("sk-test");
    config.backoff_base = Duration::from_millis(5);
    config.backoff_max = Duration::from_millis(20);
    config.request_timeout = Duration::from_secs(10);
    OpenAiChat::new(config).unwrap()
}

fn segments(n: u64) -> Vec<Segment> {
    (0..n)
        .map(|i| {
            Segment::new(
                i * 2000,
                i * 2000 + 1500 + i * 7,
                format!("line number {i} goes here"),
            )
        })
        .collect()
}

fn upper(request: &Request) -> String {
    lines_json(
        &request
            .lines()
            .into_iter()
            .map(|(id, t)| (id, t.to_uppercase()))
            .collect::<Vec<_>>(),
    )
}

fn cache_files(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect()
}

#[tokio::test]
async fn wrong_line_count_is_retried_then_rejected_and_nothing_is_cached() {
    // Always one line short, with a marker to find the reply in the error.
    let server = ChatServer::start(|_, req| {
        let mut lines = req.lines();
        lines.pop();
        Reply::content(format!("MARKER {}", lines_json(&lines)))
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let editor = LineEditor::new(chat(&server)).with_cache(ReplyCache::new(dir.path()).unwrap());
    let err = editor.polish(&segments(3)).await.unwrap_err();
    let LlmError::InvalidReply {
        attempts,
        error,
        reply,
        ..
    } = &err
    else {
        panic!("{err}")
    };
    assert_eq!(*attempts, 3);
    assert!(
        error.contains("expected 3 lines (ids 1, 2, 3), got 2 lines (ids 1, 2)"),
        "{error}"
    );
    assert!(reply.starts_with("MARKER"), "{reply}");
    let message = err.to_string();
    assert!(
        message.contains("polish of lines 1-3") && message.contains("MARKER"),
        "{message}"
    );

    let requests = server.requests();
    assert_eq!(requests.len(), 3);
    // Each retry carries the rejected reply and the validation error.
    assert_eq!(requests[0].messages().len(), 2);
    assert_eq!(requests[2].messages().len(), 6);
    let feedback = requests[1].messages()[3]["content"].as_str().unwrap();
    assert!(feedback.contains("expected 3 lines"), "{feedback}");
    assert_eq!(requests[1].messages()[2]["role"], "assistant");
    assert_eq!(requests[0].headers["authorization"], "Bearer sk-test");
    assert_eq!(requests[0].body["model"], "test-model");
    assert!(
        cache_files(dir.path()).is_empty(),
        "an invalid reply was cached"
    );
}

#[tokio::test]
async fn a_corrected_reply_is_used_cached_and_replayed_without_asking() {
    let server = ChatServer::start(|n, req| {
        if n == 0 {
            Reply::content(r#"{"lines": []}"#)
        } else {
            Reply::content(upper(req))
        }
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let editor = LineEditor::new(chat(&server)).with_cache(ReplyCache::new(dir.path()).unwrap());
    let input = segments(4);
    let polished = editor.polish(&input).await.unwrap();
    assert_eq!(polished[2].text, "LINE NUMBER 2 GOES HERE");
    assert_eq!(server.count(), 2);
    let files = cache_files(dir.path());
    assert_eq!(files.len(), 1);
    let entry = std::fs::read_to_string(&files[0]).unwrap();
    assert!(
        entry.contains("LINE NUMBER 3") && !entry.contains(r#"{\"lines\": []}"#),
        "{entry}"
    );
    // Same request again: answered from the cache.
    let again = editor.polish(&input).await.unwrap();
    assert_eq!(again, polished);
    assert_eq!(server.count(), 2);
}

#[tokio::test]
async fn replies_in_prose_and_code_fences_are_parsed() {
    let server = ChatServer::start(|n, req| {
        let json = upper(req);
        Reply::content(match n % 3 {
            0 => format!("Here are the polished lines:\n{json}\nI fixed {{some}} grammar."),
            1 => format!("```json\n{json}\n```"),
            _ => format!("Sure.\n\n```\n{json}\n```\n\nAnything else?"),
        })
    })
    .await;
    let editor = LineEditor::new(chat(&server)).with_options(EditOptions {
        batch_lines: 2,
        context_lines: 1,
        max_tries: 1,
    });
    let polished = editor.polish(&segments(6)).await.unwrap();
    assert_eq!(server.count(), 3, "one request per batch, none repeated");
    for (i, s) in polished.iter().enumerate() {
        assert_eq!(s.text, format!("LINE NUMBER {i} GOES HERE"));
    }
}

#[tokio::test]
async fn a_translation_keeps_every_window_and_the_glossary() {
    let server = ChatServer::start(|_, req| {
        let lines = req
            .lines()
            .into_iter()
            .map(|(id, t)| {
                (
                    id,
                    format!("FR {}", t.replace("pull request", "demande de fusion")),
                )
            })
            .collect::<Vec<_>>();
        Reply::content(lines_json(&lines))
    })
    .await;
    let mut input = segments(45);
    input[7].text = "<i>Open a pull request</i>\nnow".into();
    input[20].text = "  ".into(); // nothing to say: not sent, kept
    let translation = Translation {
        target_language: "French".into(),
        source_language: Some("English".into()),
        glossary: Glossary::from_pairs([("pull request", "demande de fusion")]),
    };
    let editor = LineEditor::new(chat(&server));
    let out = editor.translate(&input, &translation).await.unwrap();
    assert_eq!(out.len(), input.len());
    for (a, b) in input.iter().zip(&out) {
        assert_eq!((a.start_ms, a.end_ms), (b.start_ms, b.end_ms));
    }
    assert_eq!(out[7].text, "FR Open a demande de fusion now");
    assert_eq!(out[20].text, "  ");
    assert_eq!(out[44].text, "FR line number 44 goes here");
    // 44 spoken lines in batches of 20.
    let requests = server.requests();
    assert_eq!(requests.len(), 3);
    let first = requests.iter().find(|r| r.lines()[0].0 == 1).unwrap();
    assert!(
        first.system().contains("from English into French"),
        "{}",
        first.system()
    );
    assert!(
        first
            .system()
            .contains("\"pull request\" → \"demande de fusion\"")
    );
    let second = requests.iter().find(|r| r.lines()[0].0 == 22).unwrap();
    assert!(
        !second.system().contains("Glossary"),
        "terms not in the batch are not sent"
    );
    let user: serde_json::Value = serde_json::from_str(&second.first_user()).unwrap();
    assert_eq!(user["context_before"].as_array().unwrap().len(), 3);
    assert_eq!(user["context_after"].as_array().unwrap().len(), 3);
}

#[tokio::test]
async fn a_broken_glossary_term_is_sent_back() {
    let server = ChatServer::start(|n, req| {
        let fix = n > 0;
        let lines = req
            .lines()
            .into_iter()
            .map(|(id, t)| {
                (
                    id,
                    if fix {
                        t.replace("pull request", "demande de fusion")
                    } else {
                        t
                    },
                )
            })
            .collect::<Vec<_>>();
        Reply::content(lines_json(&lines))
    })
    .await;
    let translation = Translation {
        target_language: "French".into(),
        glossary: Glossary::from_pairs([("pull request", "demande de fusion")]),
        ..Translation::default()
    };
    let input = vec![Segment::new(0, 1000, "A pull request.")];
    let out = LineEditor::new(chat(&server))
        .translate(&input, &translation)
        .await
        .unwrap();
    assert_eq!(out[0].text, "A demande de fusion.");
    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    let feedback = requests[1].messages()[3]["content"].as_str().unwrap();
    assert!(
        feedback.contains(r#"glossary term "pull request" exactly as "demande de fusion""#),
        "{feedback}"
    );
}

#[tokio::test]
async fn rate_limits_server_errors_and_timeouts_are_retried() {
    let server = ChatServer::start(|n, req| match n {
        0 => Reply::error(429, "slow down").with_header("retry-after-ms", "20"),
        1 => Reply::error(503, "overloaded").with_header("Retry-After", "0"),
        2 => Reply::content(upper(req)).after(Duration::from_secs(3)),
        _ => Reply::content(upper(req)),
    })
    .await;
    let mut config = chat(&server).config().clone();
    config.request_timeout = Duration::from_millis(500);
    let editor = LineEditor::new(OpenAiChat::new(config).unwrap());
    let out = editor.polish(&segments(2)).await.unwrap();
    assert_eq!(out[1].text, "LINE NUMBER 1 GOES HERE");
    assert_eq!(server.count(), 4);
}

#[tokio::test]
async fn exhausted_retries_and_refusals_fail_with_the_cause() {
    let server = ChatServer::start(|_, _| Reply::error(500, "boom")).await;
    let mut config = chat(&server).config().clone();
    config.max_retries = 2;
    let err = LineEditor::new(OpenAiChat::new(config).unwrap())
        .polish(&segments(1))
        .await
        .unwrap_err();
    assert!(
        matches!(err, LlmError::Unavailable { attempts: 3, .. }),
        "{err}"
    );
    assert!(
        err.to_string().contains("HTTP 500") && err.to_string().contains("boom"),
        "{err}"
    );
    assert_eq!(server.count(), 3);

    let server = ChatServer::start(|_, _| Reply::error(401, "Incorrect API key provided")).await;
    let err = LineEditor::new(chat(&server))
        .polish(&segments(1))
        .await
        .unwrap_err();
    assert!(
        matches!(err, LlmError::Refused { status: 401, .. }),
        "{err}"
    );
    assert!(err.to_string().contains("Incorrect API key"), "{err}");
    assert_eq!(server.count(), 1, "a refused request is not retried");
}

#[tokio::test]
async fn requests_in_flight_stay_within_the_limit() {
    let server =
        ChatServer::start(|_, req| Reply::content(upper(req)).after(Duration::from_millis(40)))
            .await;
    let mut config = chat(&server).config().clone();
    config.max_concurrent = 2;
    let editor = LineEditor::new(OpenAiChat::new(config).unwrap()).with_options(EditOptions {
        batch_lines: 1,
        context_lines: 0,
        max_tries: 1,
    });
    let out = editor.polish(&segments(8)).await.unwrap();
    assert_eq!(out.len(), 8);
    assert_eq!(server.count(), 8);
    assert_eq!(server.max_in_flight(), 2);
}

#[tokio::test]
async fn shortening_keeps_to_the_budget() {
    let server = ChatServer::start(|n, _| {
        Reply::content(if n == 0 {
            r#"{"text": "This is still a rather long line, sorry."}"#
        } else {
            r#"Shorter: {"text": "Short line now."}"#
        })
    })
    .await;
    let editor = LineEditor::new(chat(&server));
    let line = "This line is much too long to fit in the window it was given by the timeline.";
    assert_eq!(editor.shorten(line, 20).await.unwrap(), "Short line now.");
    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    assert!(requests[0].system().contains("at most 20 characters"));
    let feedback = requests[1].messages()[3]["content"].as_str().unwrap();
    assert!(
        feedback.contains("has 40 characters but must have at most 20"),
        "{feedback}"
    );
    // A line that fits is not sent.
    assert_eq!(editor.shorten("Fits.", 20).await.unwrap(), "Fits.");
    assert_eq!(server.count(), 2);
    assert!(matches!(
        editor.shorten(line, 0).await,
        Err(LlmError::Config(_))
    ));

    let results = editor
        .shorten_all(&[(line.to_string(), 20), ("Ok.".into(), 5)])
        .await;
    assert_eq!(results.len(), 2);
    assert_eq!(results[1].as_deref().unwrap(), "Ok.");
}

#[tokio::test]
async fn a_model_without_temperature_is_asked_again_without_it() {
    let server = ChatServer::start(|_, req| {
        if req.body.get("temperature").is_some() {
            Reply::error(
                400,
                "Unsupported value: 'temperature' does not support 0.2 with this model.",
            )
        } else {
            Reply::content(upper(req))
        }
    })
    .await;
    let editor = LineEditor::new(chat(&server));
    assert_eq!(
        editor.polish(&segments(1)).await.unwrap()[0].text,
        "LINE NUMBER 0 GOES HERE"
    );
    assert_eq!(
        editor.polish(&segments(2)).await.unwrap()[1].text,
        "LINE NUMBER 1 GOES HERE"
    );
    // One refused request, then none: the client remembers.
    assert_eq!(server.count(), 3);
}
