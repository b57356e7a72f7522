//! `dubber studio` over HTTP: the locks (token, Host, CSRF), Range requests on the dub track,
//! PATCH validation and edits (one TTS request each, serialized, kept across a restart).

mod common;
mod common_studio;

use reqwest::StatusCode;
use reqwest::header::{AUTHORIZATION, CONTENT_RANGE, COOKIE, RANGE};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A raw HTTP/1.1 request (to send a Host header no client library would): the status code.
async fn raw_status(port: u16, request: String) -> u16 {
    let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .unwrap();
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut head = vec![0u8; 64];
    let n = stream.read(&mut head).await.unwrap();
    let line = String::from_utf8_lossy(&head[..n]).to_string();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_request_needs_the_token_and_this_servers_host() {
    let s = common_studio::start().await;
    let http = reqwest::Client::new();
    let bearer = format!("Bearer {}", s.token);
    assert!(
        s.url
            .starts_with(&format!("http://127.0.0.1:{}/?token=", s.port))
    );
    assert_eq!(s.token.len(), 32);
    assert!(
        s.token
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_')
    );

    // No token, or a wrong one: 401 on the page, the API and the media.
    for path in ["/", "/api/project", "/media/dub", "/media/video", "/app.js"] {
        let r = http
            .get(format!("{}{path}", s.base()))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "{path}");
    }
    let r = http
        .get(format!("{}/api/project", s.base()))
        .header(AUTHORIZATION, "Bearer not-the-token")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);

    // The URL's token opens the page and sets a cookie that then suffices for reading.
    let r = http.get(&s.url).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let cookie = r.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
    let pair = cookie.split(';').next().unwrap().to_string();
    let r = http
        .get(format!("{}/api/project", s.base()))
        .header(COOKIE, &pair)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);

    // A foreign Host (DNS rebinding) is refused even with the token; both local names pass.
    let get = |host: &str| {
        format!(
            "GET /api/project HTTP/1.1\r\nHost: {host}\r\nAuthorization: {bearer}\r\nConnection: close\r\n\r\n"
        )
    };
    assert_eq!(
        raw_status(s.port, get(&format!("evil.example:{}", s.port))).await,
        403
    );
    assert_eq!(raw_status(s.port, get("127.0.0.1:1")).await, 403);
    assert_eq!(
        raw_status(s.port, get(&format!("127.0.0.1:{}", s.port))).await,
        200
    );
    assert_eq!(
        raw_status(s.port, get(&format!("localhost:{}", s.port))).await,
        200
    );

    // A state-changing request with the cookie alone (what another site could make the
    // browser send) is refused, and changes nothing.
    let before = s.subs();
    let r = http
        .patch(format!("{}/api/lines/1", s.base()))
        .header(COOKIE, &pair)
        .json(&json!({"text": "Forged."}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = http
        .patch(format!("{}/api/lines/1?token={}", s.base(), s.token))
        .json(&json!({"text": "Forged."}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(s.subs(), before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dub_track_is_served_with_range_requests() {
    let s = common_studio::start().await;
    let http = reqwest::Client::new();
    let bearer = format!("Bearer {}", s.token);
    let track = std::fs::read(s.workdir.dub_wav()).unwrap();
    // 20 s at 24 kHz, 16-bit mono, and a 44-byte header.
    assert_eq!(track.len(), 44 + 20 * 24_000 * 2);

    let r = http
        .get(format!("{}/media/dub", s.base()))
        .header(AUTHORIZATION, &bearer)
        .header(RANGE, "bytes=1000-4999")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(
        r.headers()[CONTENT_RANGE],
        format!("bytes 1000-4999/{}", track.len()).as_str()
    );
    assert_eq!(r.bytes().await.unwrap().as_ref(), &track[1000..5000]);

    // The last 100 bytes; a range past the end is 416; no range is the whole file.
    let r = http
        .get(format!("{}/media/dub", s.base()))
        .header(AUTHORIZATION, &bearer)
        .header(RANGE, "bytes=-100")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(
        r.bytes().await.unwrap().as_ref(),
        &track[track.len() - 100..]
    );
    let r = http
        .get(format!("{}/media/dub", s.base()))
        .header(AUTHORIZATION, &bearer)
        .header(RANGE, format!("bytes={}-", track.len()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::RANGE_NOT_SATISFIABLE);
    let r = http
        .get(format!("{}/media/dub", s.base()))
        .header(AUTHORIZATION, &bearer)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.bytes().await.unwrap().len(), track.len());

    let video = std::fs::read(&s.video).unwrap();
    let r = http
        .get(format!("{}/media/video", s.base()))
        .header(AUTHORIZATION, &bearer)
        .header(RANGE, "bytes=0-99")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(r.headers()["content-type"], "video/mp4");
    assert_eq!(r.bytes().await.unwrap().as_ref(), &video[..100]);
}

async fn project(http: &reqwest::Client, base: &str, bearer: &str) -> Value {
    http.get(format!("{base}/api/project"))
        .header(AUTHORIZATION, bearer)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn edits_are_validated_serialized_and_kept_across_a_restart() {
    let s = common_studio::start().await;
    let http = reqwest::Client::new();
    let bearer = format!("Bearer {}", s.token);
    let first = project(&http, &s.base(), &bearer).await;
    assert_eq!(first["lines"].as_array().unwrap().len(), 8);
    assert_eq!(first["duration"], 20.0);
    assert_eq!(s.tts.stats.requests(), 7);
    let line = &first["lines"][6];
    assert_eq!(line["id"], 7);
    assert_eq!(
        (line["start"].as_f64(), line["end"].as_f64()),
        (Some(15.0), Some(15.2))
    );
    assert_eq!(line["speed"], 1.0);

    // End before start: 400 with a message; subs.srt, the project and the engine untouched.
    let (subs, report) = (s.subs(), s.report());
    for (body, says) in [
        (json!({"start": 15.3}), "must be after start"),
        (
            json!({"end": 14.0, "text": "Changed."}),
            "must be after start",
        ),
        (json!({"end": -1}), "end must be a time in seconds"),
        (json!({"txt": "typo"}), "unknown field"),
        (json!({"text": "  "}), "text is empty"),
        (json!({"end": 25.0}), "past the video's end"),
    ] {
        let r = http
            .patch(format!("{}/api/lines/7", s.base()))
            .header(AUTHORIZATION, &bearer)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{body}");
        let error: Value = r.json().await.unwrap();
        assert!(error["error"].as_str().unwrap().contains(says), "{error}");
    }
    let r = http
        .patch(format!("{}/api/lines/9", s.base()))
        .header(AUTHORIZATION, &bearer)
        .json(&json!({"text": "No such line."}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert_eq!((s.subs(), s.report()), (subs, report));
    assert_eq!(project(&http, &s.base(), &bearer).await, first);
    assert_eq!(s.tts.stats.requests(), 7);

    // A longer text for line 7: one request, the line now at the cap, answered in the project.
    // (Lines 2 and 4 say the same: the cache made 7 requests of 8 lines.)
    let longer = format!("{} Once more.", common_studio::LONG);
    let r = http
        .patch(format!("{}/api/lines/7", s.base()))
        .header(AUTHORIZATION, &bearer)
        .json(&json!({ "text": longer }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let edited: Value = r.json().await.unwrap();
    assert_eq!(s.tts.stats.requests(), 8);
    assert_eq!(edited["lines"][6]["text"], longer.as_str());
    let speed = edited["lines"][6]["speed"].as_f64().unwrap();
    assert!((speed - 1.25).abs() < 0.01, "{speed}");
    assert_eq!(edited["lines"][6]["attention"], true);
    assert_eq!(s.report()["chunks"][6]["speed"].as_f64(), Some(speed));
    assert!(s.subs().contains(&longer));

    // Two tabs at once: both edits land, one after the other, in a well-formed subs.srt.
    let patch = |id: usize, body: Value| {
        let (http, url, bearer) = (
            http.clone(),
            format!("{}/api/lines/{id}", s.base()),
            bearer.clone(),
        );
        async move {
            http.patch(url)
                .header(AUTHORIZATION, bearer)
                .json(&body)
                .send()
                .await
                .unwrap()
                .status()
        }
    };
    let (a, b) = tokio::join!(
        patch(1, json!({"text": "First tab.", "speaker": "ANN"})),
        patch(6, json!({"start": 9.5, "end": 12.5}))
    );
    assert_eq!((a, b), (StatusCode::OK, StatusCode::OK));
    assert_eq!(s.tts.stats.requests(), 9);
    let subs = s.subs();
    assert!(subs.contains("First tab."), "{subs}");
    assert!(subs.contains("00:00:09,500 --> 00:00:12,500"), "{subs}");
    assert_eq!(subs.matches(" --> ").count(), 8, "{subs}");
    let now = project(&http, &s.base(), &bearer).await;
    assert_eq!(now["lines"][0]["speaker"], "ANN");
    assert_eq!(now["lines"][5]["start"], 9.5);

    // A restart (a new session over the same directory) has every edit, from the cache.
    // The server and its connections end (they hold the session, and with it the work
    // directory's lock).
    s.server.abort();
    drop(http);
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let http = reqwest::Client::new();
    let (_, token, port, _server) =
        common_studio::serve(&s.tts, s.dir.path(), &s.video, &s.workdir).await;
    let again = project(
        &http,
        &format!("http://127.0.0.1:{port}"),
        &format!("Bearer {token}"),
    )
    .await;
    assert_eq!(s.tts.stats.requests(), 9);
    assert_eq!(again["lines"], now["lines"]);
}

/// Export muxes the dubbed video as synth does: the picture and the dub, as long as the video,
/// with no new TTS request.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn export_muxes_the_dubbed_video() {
    let s = common_studio::start().await;
    let http = reqwest::Client::new();
    let requests = s.tts.stats.requests();
    let r = http
        .post(format!("{}/api/export", s.base()))
        .header(AUTHORIZATION, format!("Bearer {}", s.token))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let answer: Value = r.json().await.unwrap();
    let path = std::path::PathBuf::from(answer["path"].as_str().unwrap());
    assert!(path.is_file(), "{answer}");
    let probe = dubber::media::probe(&path).unwrap();
    assert!(probe.has_video());
    let audio = probe
        .streams
        .iter()
        .find(|st| st.kind == dubber::media::StreamKind::Audio)
        .expect("an audio stream");
    assert!(
        (audio.duration_secs.unwrap() - 20.0).abs() < 0.1,
        "{audio:?}"
    );
    assert_eq!(s.tts.stats.requests(), requests);
}
