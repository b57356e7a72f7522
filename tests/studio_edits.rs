//! `dubber studio` edits over HTTP (issue 24): an edit answered 200 is exactly what subs.srt
//! holds, under the same line numbers; an edit whose client goes away still finishes; text never
//! becomes a cue; speakers change and clear; errors are JSON on every route; a busy port fails
//! before any synthesis.

mod common;
mod common_studio;

use std::time::Duration;

use common::Faults;
use common_studio::Running;
use dubber::subtitles::{self, Format};
use reqwest::StatusCode;
use reqwest::header::AUTHORIZATION;
use serde_json::{Value, json};
use tokio::io::AsyncWriteExt;

/// The API of one running studio.
struct Api {
    http: reqwest::Client,
    base: String,
    bearer: String,
}

impl Api {
    fn of(s: &Running) -> Api {
        Api {
            http: reqwest::Client::new(),
            base: s.base(),
            bearer: format!("Bearer {}", s.token),
        }
    }

    async fn send(&self, request: reqwest::RequestBuilder) -> (StatusCode, Value) {
        let r = request
            .header(AUTHORIZATION, &self.bearer)
            .send()
            .await
            .unwrap();
        let status = r.status();
        let is_json = r
            .headers()
            .get("content-type")
            .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
        let text = r.text().await.unwrap();
        assert!(is_json, "{status}: not JSON: {text:?}");
        (status, serde_json::from_str(&text).unwrap())
    }

    async fn patch(&self, id: &str, body: Value) -> (StatusCode, Value) {
        let url = format!("{}/api/lines/{id}", self.base);
        self.send(self.http.patch(url).json(&body)).await
    }

    async fn get(&self, path: &str) -> Value {
        let (status, value) = self
            .send(self.http.get(format!("{}{path}", self.base)))
            .await;
        assert_eq!(status, StatusCode::OK, "{value}");
        value
    }
}

/// subs.srt holds exactly the project's lines: cues numbered 1 to n in order, and read back as
/// dubber reads it (nothing to fix), the same times, speakers and texts under the same ids.
fn assert_disk_is_project(s: &Running, project: &Value) {
    let srt = s.subs();
    let lines = project["lines"].as_array().unwrap();
    let numbers: Vec<String> = srt
        .split("\n\n")
        .filter(|block| !block.trim().is_empty())
        .map(|block| block.lines().next().unwrap().to_string())
        .collect();
    let ids: Vec<String> = (1..=lines.len()).map(|i| i.to_string()).collect();
    assert_eq!(numbers, ids, "{srt}");
    let (segments, fixes) = subtitles::normalize(subtitles::parse(&srt, Format::Srt).unwrap());
    assert!(fixes.is_empty(), "{fixes:?}\n{srt}");
    assert_eq!(segments.len(), lines.len(), "{srt}");
    for (i, (segment, line)) in segments.iter().zip(lines).enumerate() {
        assert_eq!(line["id"], i + 1);
        assert_eq!(
            line["start"].as_f64(),
            Some(segment.start_ms as f64 / 1000.0)
        );
        assert_eq!(line["end"].as_f64(), Some(segment.end_ms as f64 / 1000.0));
        assert_eq!(
            line["speaker"].as_str(),
            segment.speaker.as_deref(),
            "{srt}"
        );
        let text = match &segment.speaker {
            Some(name) => segment
                .text
                .strip_prefix(&format!("<v {name}>"))
                .and_then(|t| t.strip_suffix("</v>"))
                .unwrap_or(&segment.text),
            None => &segment.text,
        };
        assert_eq!(line["text"].as_str(), Some(text), "{srt}");
    }
}

/// Poll `/api/status` until nothing is under way (at most a minute: a status stuck at busy fails).
async fn idle_status(api: &Api) -> Value {
    for _ in 0..600 {
        let status = api.get("/api/status").await;
        if status["busy"].is_null() {
            return status;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!(
        "the status still says busy: {}",
        api.get("/api/status").await
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_edit_whose_client_goes_away_is_finished_and_reported() {
    let s = common_studio::start().await;
    let api = Api::of(&s);
    let before = s.tts.stats.requests();
    s.tts.set_faults(Faults {
        latency: Duration::from_secs(2),
        ..Faults::default()
    });
    let body = json!({"text": "ABANDONED EDIT"}).to_string();
    let mut client = tokio::net::TcpStream::connect(("127.0.0.1", s.port))
        .await
        .unwrap();
    let request = format!(
        "PATCH /api/lines/4 HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nAuthorization: Bearer {}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        s.port,
        s.token,
        body.len()
    );
    client.write_all(request.as_bytes()).await.unwrap();
    // The engine has the edit's request: the edit is under way. The client goes.
    while s.tts.stats.requests() == before {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    drop(client);

    let status = idle_status(&api).await;
    let last = status["last"].as_str().unwrap();
    assert!(
        last.starts_with("line 4: edited (1 TTS request(s))"),
        "{last}"
    );
    let project = api.get("/api/project").await;
    assert_eq!(project["lines"][3]["text"], "ABANDONED EDIT");
    assert_eq!(s.report()["chunks"][3]["text"], "ABANDONED EDIT");
    assert_disk_is_project(&s, &project);

    // The next edit, of another line, keeps it.
    s.tts.set_faults(Faults::default());
    let (code, project) = api.patch("6", json!({"text": "Another line."})).await;
    assert_eq!(code, StatusCode::OK, "{project}");
    assert_eq!(project["lines"][3]["text"], "ABANDONED EDIT");
    assert_eq!(s.tts.stats.requests(), before + 2);
    assert_disk_is_project(&s, &project);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn text_never_becomes_a_cue_and_arrows_are_spoken() {
    let s = common_studio::start().await;
    let api = Api::of(&s);
    let injected = "check the\n7\n99:00:00,000 --> 99:00:05,000\nPAST END";
    let (code, project) = api.patch("3", json!({ "text": injected })).await;
    assert_eq!(code, StatusCode::OK, "{project}");
    let lines = project["lines"].as_array().unwrap();
    assert_eq!(lines.len(), 8);
    assert!(lines.iter().all(|l| l["end"].as_f64().unwrap() <= 20.0));
    // The number and the would-be timing line are one line of text.
    assert_eq!(
        lines[2]["text"],
        "check the\n7 99:00:00,000 --> 99:00:05,000\nPAST END"
    );
    assert_disk_is_project(&s, &project);

    for text in ["2 -> 3 steps", "a --> b", "Step one\n2 -> 3 steps"] {
        let (code, project) = api.patch("3", json!({ "text": text })).await;
        assert_eq!(code, StatusCode::OK, "{text}: {project}");
        assert_eq!(project["lines"][2]["text"], text);
        assert_eq!(project["lines"].as_array().unwrap().len(), 8);
        assert_disk_is_project(&s, &project);
    }
    let spoken = s.tts.stats.inputs();
    assert!(spoken.contains(&"2 -> 3 steps".to_string()), "{spoken:?}");
    assert!(spoken.contains(&"a --> b".to_string()), "{spoken:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn speakers_change_and_clear_without_nesting() {
    let s = common_studio::start().await;
    let api = Api::of(&s);
    for name in ["ANN", "BOB", "CAT"] {
        let (code, project) = api.patch("1", json!({ "speaker": name })).await;
        assert_eq!(code, StatusCode::OK, "{project}");
        assert_eq!(project["lines"][0]["speaker"], name);
        assert_eq!(project["lines"][0]["text"], "Alpha one.");
        assert!(
            s.subs().contains(&format!("\n<v {name}>Alpha one.</v>\n")),
            "{}",
            s.subs()
        );
        assert_disk_is_project(&s, &project);
    }
    // What the page sends to clear a speaker: null, or an empty name.
    for clear in [json!(null), json!("")] {
        let (code, project) = api.patch("1", json!({ "speaker": "DAN" })).await;
        assert_eq!(code, StatusCode::OK, "{project}");
        let (code, project) = api.patch("1", json!({ "speaker": clear })).await;
        assert_eq!(code, StatusCode::OK, "{project}");
        assert_eq!(project["lines"][0]["speaker"], Value::Null);
        assert_eq!(project["lines"][0]["text"], "Alpha one.");
        assert!(s.subs().contains("\nAlpha one.\n"), "{}", s.subs());
        assert!(!s.subs().contains("<v "), "{}", s.subs());
        assert_disk_is_project(&s, &project);
    }
    // A speaker the text names (a label) cannot be cleared without changing the text.
    let (code, _) = api.patch("1", json!({ "text": "JOHN: Alpha one." })).await;
    assert_eq!(code, StatusCode::OK);
    let (subs, project) = (s.subs(), api.get("/api/project").await);
    assert_eq!(project["lines"][0]["speaker"], "JOHN");
    let (code, error) = api.patch("1", json!({ "speaker": null })).await;
    assert_eq!(code, StatusCode::BAD_REQUEST);
    assert!(
        error["error"]
            .as_str()
            .unwrap()
            .contains("names the speaker JOHN"),
        "{error}"
    );
    assert_eq!((s.subs(), api.get("/api/project").await), (subs, project));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn line_ids_stay_the_numbers_of_subs_srt() {
    let s = common_studio::start().await;
    let api = Api::of(&s);
    let (subs, project) = (s.subs(), api.get("/api/project").await);
    let requests = s.tts.stats.requests();
    // Line 3 runs 1.5–3.0 s, between line 2 (1.3–1.5) and line 4 (5.0–5.1).
    for (body, says) in [
        (json!({"start": 1.0}), "before line 2 ends (1.5 s)"),
        (json!({"end": 5.05}), "after line 4 starts (5 s)"),
        (
            json!({"start": 7.0, "end": 8.0}),
            "after line 4 starts (5 s)",
        ),
        (
            json!({"start": 5.0, "end": 5.1}),
            "after line 4 starts (5 s)",
        ),
        (json!({"text": "<i> </i>"}), "shows nothing"),
        (
            json!({"text": "JOHN: Hello.\nMARY: Hi."}),
            "2 speaker turns",
        ),
    ] {
        let (code, error) = api.patch("3", body.clone()).await;
        assert_eq!(code, StatusCode::BAD_REQUEST, "{body}: {error}");
        let message = error["error"].as_str().unwrap();
        assert!(message.contains(says), "{body}: {message}");
    }
    assert_eq!((s.subs(), api.get("/api/project").await), (subs, project));
    assert_eq!(s.tts.stats.requests(), requests);

    // Up to the neighbours exactly: applied as sent, and shown as subs.srt holds it.
    let (code, project) = api.patch("3", json!({"start": 1.5, "end": 5.0})).await;
    assert_eq!(code, StatusCode::OK, "{project}");
    assert_eq!(project["lines"][2]["start"], 1.5);
    assert_eq!(project["lines"][2]["end"], 5.0);
    assert_eq!(project["lines"].as_array().unwrap().len(), 8);
    assert_disk_is_project(&s, &project);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_line_has_a_limit_and_errors_are_json_everywhere() {
    let s = common_studio::start().await;
    let api = Api::of(&s);
    let (subs, requests) = (s.subs(), s.tts.stats.requests());

    let (code, error) = api.patch("3", json!({ "text": "a".repeat(1001) })).await;
    assert_eq!(code, StatusCode::BAD_REQUEST);
    let message = error["error"].as_str().unwrap();
    assert!(
        message.contains("1001 characters long: a line holds at most 1000"),
        "{message}"
    );
    let (code, error) = api.patch("3", json!({ "text": "a".repeat(100_000) })).await;
    assert_eq!(code, StatusCode::BAD_REQUEST);
    let message = error["error"].as_str().unwrap();
    assert!(
        message.contains("100000 characters long: a line holds at most 1000"),
        "{message}"
    );
    let (code, error) = api.patch("3", json!({ "text": "a".repeat(2 << 20) })).await;
    assert_eq!(code, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(
        error["error"].as_str().unwrap().contains("1048576 bytes"),
        "{error}"
    );
    assert_eq!((s.subs(), s.tts.stats.requests()), (subs, requests));

    // A bad id, no such route, a method a route does not take: JSON, with the right status.
    let (code, error) = api.patch("abc", json!({"text": "x"})).await;
    assert_eq!(code, StatusCode::NOT_FOUND);
    assert!(
        error["error"].as_str().unwrap().contains("no line \"abc\""),
        "{error}"
    );
    let (code, error) = api.patch("0", json!({"text": "x"})).await;
    assert_eq!(code, StatusCode::NOT_FOUND);
    assert!(
        error["error"].as_str().unwrap().contains("numbered 1 to 8"),
        "{error}"
    );
    let (code, error) = api
        .send(api.http.get(format!("{}/nowhere", api.base)))
        .await;
    assert_eq!(code, StatusCode::NOT_FOUND);
    assert!(
        error["error"].as_str().unwrap().contains("GET /nowhere"),
        "{error}"
    );
    let (code, error) = api
        .send(api.http.delete(format!("{}/api/lines/1", api.base)))
        .await;
    assert_eq!(code, StatusCode::METHOD_NOT_ALLOWED);
    let message = error["error"].as_str().unwrap();
    assert!(
        message.contains("/api/lines/1 does not take DELETE"),
        "{message}"
    );
    let (code, error) = api
        .send(
            api.http
                .get(format!("{}/media/dub", api.base))
                .header("range", "bytes=999999999-"),
        )
        .await;
    assert_eq!(code, StatusCode::RANGE_NOT_SATISFIABLE);
    assert!(error["error"].is_string(), "{error}");
    let r = reqwest::Client::new()
        .get(format!("{}/api/project", api.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let error: Value = r.json().await.unwrap();
    assert!(
        error["error"].as_str().unwrap().contains("token"),
        "{error}"
    );
}

/// Synthesis fails on line 3, spoken in one clip with the lines before it (the clip is chunk 1 of
/// report.json): the error names those lines, not the chunk, and no command-line flag; the edit
/// is undone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_synthesis_names_the_lines_and_is_undone() {
    let s = common_studio::start_in(dubber::timeline::Policy::default().mode).await;
    let api = Api::of(&s);
    // Line 1 no longer ends its sentence: it is spoken together with the lines after it.
    let (code, project) = api.patch("1", json!({"text": "Alpha, and then"})).await;
    assert_eq!(code, StatusCode::OK, "{project}");
    let lines = project["lines"].as_array().unwrap();
    let together: Vec<String> = lines
        .iter()
        .filter(|l| l["chunk"] == lines[2]["chunk"])
        .map(|l| l["id"].to_string())
        .collect();
    assert_eq!(together, ["1", "2", "3"]);
    let subs = s.subs();
    s.tts.set_faults(Faults {
        fail_text: Some("FAILS HERE".into()),
        ..Faults::default()
    });
    let (code, error) = api.patch("3", json!({"text": "It FAILS HERE."})).await;
    assert_eq!(code, StatusCode::BAD_GATEWAY);
    let message = error["error"].as_str().unwrap();
    assert!(
        message.starts_with("lines 1, 2, 3 (one clip) could not be synthesized"),
        "{message}"
    );
    assert!(message.ends_with("the edit was undone"), "{message}");
    assert!(!message.contains("--allow-silence"), "{message}");
    assert_eq!(s.subs(), subs);
    let last = idle_status(&api).await["last"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        last.starts_with("line 3: not changed: lines 1, 2, 3 (one clip)"),
        "{last}"
    );
    assert_eq!(api.get("/api/project").await["lines"], project["lines"]);
}

/// `dubber studio` on a busy port fails before it synthesizes anything.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_busy_port_fails_before_any_synthesis() {
    let tts = common::TestServer::start(Faults::default()).await;
    let dir = tempfile::tempdir().unwrap();
    common_studio::make_video(dir.path());
    let workdir = dir.path().join("talk.dub");
    std::fs::create_dir_all(&workdir).unwrap();
    std::fs::write(workdir.join("subs.srt"), common_studio::srt()).unwrap();
    let busy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = busy.local_addr().unwrap().port().to_string();
    let base = tts.openai_base();
    let args = [
        "studio",
        "talk.mp4",
        "--port",
        &port,
        "--no-open",
        "--tts",
        "openai",
        "--base-url",
        &base,
    ];
    let out = common::dubber(dir.path(), args.iter().map(|a| a.to_string()).collect()).await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(
        stderr.contains(&format!("listening on 127.0.0.1:{port}")),
        "{stderr}"
    );
    assert_eq!(tts.stats.requests(), 0, "{stderr}");
    assert!(!workdir.join("dub.wav").exists());
}
