//! The OpenAI-compatible transcriber against a local HTTP server on 127.0.0.1 that speaks the
//! real wire format (multipart upload in, `verbose_json` out).

use std::sync::{Arc, Mutex};

use dubber::stt::{OpenAiTranscriber, SttError, TranscribeOptions, Transcriber};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

/// One request as the server saw it.
#[derive(Debug, Clone)]
struct Request {
    head: String,
    body: Vec<u8>,
}

impl Request {
    /// The value of a multipart text field.
    fn field(&self, name: &str) -> Option<String> {
        let body = String::from_utf8_lossy(&self.body);
        let marker = format!("name=\"{name}\"\r\n\r\n");
        let at = body.find(&marker)? + marker.len();
        let end = body[at..].find("\r\n")?;
        Some(body[at..at + end].to_string())
    }

    /// The uploaded file's bytes.
    fn file(&self) -> Vec<u8> {
        let start = find(&self.body, b"RIFF").expect("a WAV file is uploaded");
        let len = u32::from_le_bytes(self.body[start + 4..start + 8].try_into().unwrap());
        self.body[start..start + 8 + len as usize].to_vec()
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Serves `responses` in order (status, body), recording each request.
async fn serve(responses: Vec<(u16, String)>) -> (String, Arc<Mutex<Vec<Request>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}/v1", listener.local_addr().unwrap());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    tokio::spawn(async move {
        for (status, body) in responses {
            let (stream, _) = listener.accept().await.unwrap();
            let mut reader = BufReader::new(stream);
            let mut head = String::new();
            loop {
                let mut line = String::new();
                reader.read_line(&mut line).await.unwrap();
                if line == "\r\n" || line.is_empty() {
                    break;
                }
                head.push_str(&line);
            }
            let lower = head.to_lowercase();
            let mut request_body = Vec::new();
            if let Some(at) = lower.find("content-length:") {
                let len: usize = lower[at + 15..]
                    .lines()
                    .next()
                    .unwrap()
                    .trim()
                    .parse()
                    .unwrap();
                request_body.resize(len, 0);
                reader.read_exact(&mut request_body).await.unwrap();
            } else if lower.contains("transfer-encoding: chunked") {
                loop {
                    let mut size = String::new();
                    reader.read_line(&mut size).await.unwrap();
                    let size = usize::from_str_radix(size.trim(), 16).unwrap();
                    let mut chunk = vec![0; size + 2];
                    reader.read_exact(&mut chunk).await.unwrap();
                    if size == 0 {
                        break;
                    }
                    request_body.extend_from_slice(&chunk[..size]);
                }
            }
            log.lock().unwrap().push(Request {
                head,
                body: request_body,
            });
            let reply = format!(
                "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\
                 connection: close\r\n\r\n{body}",
                body.len()
            );
            let mut stream = reader.into_inner();
            stream.write_all(reply.as_bytes()).await.unwrap();
            stream.shutdown().await.unwrap();
        }
    });
    (base, seen)
}

fn verbose_json(segments: &[(f64, f64, &str)]) -> String {
    let segments: Vec<_> = segments
        .iter()
        .enumerate()
        .map(|(id, (start, end, text))| {
            serde_json::json!({"id": id, "seek": 0, "start": start, "end": end, "text": text,
                "tokens": [1, 2], "temperature": 0.0, "avg_logprob": -0.2,
                "compression_ratio": 1.2, "no_speech_prob": 0.01})
        })
        .collect();
    serde_json::json!({"task": "transcribe", "language": "english", "duration": 2.0,
        "text": "ignored", "segments": segments})
    .to_string()
}

#[tokio::test]
async fn uploads_wav_pieces_and_shifts_segment_times() {
    let (base, seen) = serve(vec![
        (
            200,
            verbose_json(&[(0.0, 0.9, " Hello there."), (1.1, 1.8, " Second line.")]),
        ),
        (200, verbose_json(&[(0.25, 0.75, " After the cut.")])),
    ])
    .await;
    let transcriber =
        OpenAiTranscriber::new(&base, Some("sk-test".into()), "whisper-1").piece_secs(2);
    assert_eq!(transcriber.name(), "openai:whisper-1");
    // 3 s of tone, silent from 1.7 s to 2.0 s: the 2 s limit cuts inside the silence, at the
    // middle of its first quiet 100 ms (1.75 s).
    let mut audio: Vec<f32> = (0..48_000)
        .map(|i| ((i as f32) * 0.05).sin() * 0.3)
        .collect();
    audio[27_200..32_000].fill(0.0);
    let options = TranscribeOptions {
        language: Some("en".into()),
        ..TranscribeOptions::default()
    };
    let transcript = transcriber.transcribe(audio, &options).await.unwrap();
    assert_eq!(transcript.report.language.as_deref(), Some("en"));
    let segments = transcript.segments;
    let got: Vec<(u64, u64, &str)> = segments
        .iter()
        .map(|s| (s.start_ms, s.end_ms, s.text.as_str()))
        .collect();
    assert_eq!(
        got,
        vec![
            (0, 900, "Hello there."),
            (1100, 1800, "Second line."),
            (2000, 2500, "After the cut."),
        ]
    );

    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 2);
    let first = &seen[0];
    assert!(
        first
            .head
            .starts_with("POST /v1/audio/transcriptions HTTP/1.1"),
        "{}",
        first.head
    );
    assert!(
        first
            .head
            .to_lowercase()
            .contains("authorization: bearer sk-test")
    );
    assert!(
        first
            .head
            .to_lowercase()
            .contains("multipart/form-data; boundary=")
    );
    assert_eq!(first.field("model").as_deref(), Some("whisper-1"));
    assert_eq!(
        first.field("response_format").as_deref(),
        Some("verbose_json")
    );
    assert_eq!(
        first.field("timestamp_granularities[]").as_deref(),
        Some("segment")
    );
    assert_eq!(first.field("language").as_deref(), Some("en"));
    // First piece: 1.75 s of 16 kHz 16-bit mono; second piece: the remaining 1.25 s.
    let wav = hound::WavReader::new(std::io::Cursor::new(first.file())).unwrap();
    assert_eq!(wav.spec().sample_rate, 16_000);
    assert_eq!(wav.spec().channels, 1);
    assert_eq!(wav.len(), 28_000);
    let wav = hound::WavReader::new(std::io::Cursor::new(seen[1].file())).unwrap();
    assert_eq!(wav.len(), 20_000);
}

#[tokio::test]
async fn server_errors_carry_status_and_message() {
    let body =
        r#"{"error":{"message":"Incorrect API key provided","type":"invalid_request_error"}}"#;
    let (base, _) = serve(vec![(401, body.to_string()), (200, "not json".into())]).await;
    let transcriber = OpenAiTranscriber::new(&base, None, "whisper-1");
    let options = TranscribeOptions::default();
    let err = transcriber
        .transcribe(vec![0.0; 1600], &options)
        .await
        .unwrap_err();
    match &err {
        SttError::Status { status, body, .. } => {
            assert_eq!(*status, 401);
            assert!(body.contains("Incorrect API key"));
        }
        other => panic!("expected a status error, got {other:?}"),
    }
    let err = transcriber
        .transcribe(vec![0.0; 1600], &options)
        .await
        .unwrap_err();
    assert!(matches!(err, SttError::Response { .. }), "{err:?}");
    assert!(err.to_string().contains("/audio/transcriptions"), "{err}");
}

#[tokio::test]
async fn absurd_or_negative_times_are_errors_not_panics() {
    let no_segments = serde_json::json!({"text": "Hello.", "duration": 1e20}).to_string();
    let (base, _) = serve(vec![
        (
            200,
            verbose_json(&[(0.0, 0.9, " Fine."), (1e20, 1e20, " Far.")]),
        ),
        (200, verbose_json(&[(-1.0, 0.5, " Before.")])),
        (200, no_segments),
    ])
    .await;
    let transcriber = OpenAiTranscriber::new(&base, None, "whisper-1");
    let options = TranscribeOptions::default();
    for (what, time) in [
        ("segment 1 (\"Far.\")", "1e20"),
        ("segment 0 (\"Before.\")", "-1"),
        ("the duration", "1e20"),
    ] {
        let err = transcriber
            .transcribe(vec![0.0; 1600], &options)
            .await
            .unwrap_err();
        assert!(matches!(err, SttError::Response { .. }), "{err:?}");
        let message = err.to_string();
        assert!(message.contains("/audio/transcriptions"), "{message}");
        assert!(
            message.contains(&format!("{what} has an impossible time {time} s")),
            "{message}"
        );
    }
}
