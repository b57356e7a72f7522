//! A small HTTP/1.1 server on 127.0.0.1 speaking the real wire formats of OpenAI's
//! `POST /v1/audio/speech` and ElevenLabs' `POST /v1/text-to-speech/{voice_id}`, with fault
//! injection (latency, a concurrency cap answered by 429 + Retry-After, seeded random 500s, 401,
//! truncated bodies, broken connections, hangs) and counters the tests assert on.
//!
//! Audio: a tone whose length is `BASE_MS + MS_PER_CHAR × characters` of the input, so tests can
//! check that the clip they got belongs to the text they sent.
#![allow(dead_code)]

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

pub const BASE_MS: u64 = 50;
pub const MS_PER_CHAR: u64 = 2;

/// Expected clip length for `text` (before any splitting).
pub fn expected_ms(text: &str) -> u64 {
    BASE_MS + MS_PER_CHAR * text.chars().count() as u64
}

/// How a 429 tells the client to wait.
#[derive(Debug, Clone, Copy)]
pub enum RetryAfter {
    None,
    /// `Retry-After: <seconds>`
    Secs(u64),
    /// `retry-after-ms: <ms>` (and a rounded-up `Retry-After`)
    Ms(u64),
    /// `Retry-After: <HTTP date>` this many seconds ahead
    Date(u64),
    /// `Retry-After: <this text>`, as a server may send it (`1e20`, `-5`, `soon`)
    Raw(&'static str),
}

#[derive(Debug, Clone)]
pub struct Faults {
    /// Time to answer a successful request.
    pub latency: Duration,
    /// Answer 429 when this many requests are already being served.
    pub admit: Option<usize>,
    pub retry_after: RetryAfter,
    /// Probability of a 500 (seeded by `seed`).
    pub error_rate: f64,
    pub seed: u64,
    /// The key a request must carry (bearer for OpenAI, `xi-api-key` for ElevenLabs); `None` = any.
    pub api_key: Option<String>,
    /// The first N requests get a WAV whose header declares more data than is sent.
    pub truncate_first: usize,
    /// The first N requests get a full Content-Length but half the body, then the connection closes.
    pub cut_first: usize,
    /// The first N requests are never answered (until the client gives up).
    pub hang_first: usize,
    /// Requests whose input contains this always get a 500.
    pub fail_text: Option<String>,
    /// What ElevenLabs' `maximum-concurrent-requests` header says.
    pub elevenlabs_max: usize,
}

impl Default for Faults {
    fn default() -> Self {
        Self {
            latency: Duration::from_millis(5),
            admit: None,
            retry_after: RetryAfter::None,
            error_rate: 0.0,
            seed: 1,
            api_key: None,
            truncate_first: 0,
            cut_first: 0,
            hang_first: 0,
            fail_text: None,
            elevenlabs_max: 5,
        }
    }
}

#[derive(Default)]
pub struct Stats {
    /// Every request received, in order of arrival.
    pub requests: AtomicUsize,
    /// Requests being handled right now, rejected ones included.
    pub in_flight: AtomicUsize,
    pub max_in_flight: AtomicUsize,
    /// Requests admitted past the concurrency cap right now.
    pub admitted: AtomicUsize,
    pub max_admitted: AtomicUsize,
    pub statuses: Mutex<HashMap<u16, usize>>,
    /// The input text of every request, in order of arrival.
    pub inputs: Mutex<Vec<String>>,
    /// Request paths with query, and the JSON bodies, of every request.
    pub paths: Mutex<Vec<String>>,
    pub bodies: Mutex<Vec<serde_json::Value>>,
}

impl Stats {
    pub fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }
    pub fn max_in_flight(&self) -> usize {
        self.max_in_flight.load(Ordering::SeqCst)
    }
    pub fn max_admitted(&self) -> usize {
        self.max_admitted.load(Ordering::SeqCst)
    }
    pub fn status_count(&self, status: u16) -> usize {
        *self.statuses.lock().unwrap().get(&status).unwrap_or(&0)
    }
    pub fn inputs(&self) -> Vec<String> {
        self.inputs.lock().unwrap().clone()
    }
}

pub struct TestServer {
    pub addr: SocketAddr,
    pub stats: Arc<Stats>,
    faults: Arc<Mutex<Faults>>,
    rng: Arc<Mutex<fastrand::Rng>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl TestServer {
    pub async fn start(faults: Faults) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let stats = Arc::new(Stats::default());
        let rng = Arc::new(Mutex::new(fastrand::Rng::with_seed(faults.seed)));
        let faults = Arc::new(Mutex::new(faults));
        let shared = Shared {
            stats: stats.clone(),
            faults: faults.clone(),
            rng: rng.clone(),
        };
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let shared = shared.clone();
                tokio::spawn(async move {
                    let _ = serve_connection(stream, shared).await;
                });
            }
        });
        Self {
            addr,
            stats,
            faults,
            rng,
            task,
        }
    }

    /// Base URL for `OpenAiTts` (`http://127.0.0.1:port/v1`).
    pub fn openai_base(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    /// Base URL for `ElevenLabsTts`.
    pub fn elevenlabs_base(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Change the faults (the request counters for "first N" keep counting).
    pub fn set_faults(&self, faults: Faults) {
        *self.rng.lock().unwrap() = fastrand::Rng::with_seed(faults.seed);
        *self.faults.lock().unwrap() = faults;
    }
}

#[derive(Clone)]
struct Shared {
    stats: Arc<Stats>,
    faults: Arc<Mutex<Faults>>,
    rng: Arc<Mutex<fastrand::Rng>>,
}

struct Request {
    method: String,
    path: String,
    headers: HashMap<String, String>,
    body: Vec<u8>,
}

/// Read one request from `buf` + `stream`; `None` at a clean end of the connection.
async fn read_request(
    stream: &mut TcpStream,
    buf: &mut Vec<u8>,
) -> std::io::Result<Option<Request>> {
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i;
        }
        let mut chunk = [0u8; 8192];
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Ok(None);
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
    let mut lines = head.split("\r\n");
    let request_line = lines.next().unwrap_or_default();
    let mut parts = request_line.split_whitespace();
    let method = parts.next().unwrap_or_default().to_string();
    let path = parts.next().unwrap_or_default().to_string();
    let headers: HashMap<String, String> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let len: usize = headers
        .get("content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    buf.drain(..head_end + 4);
    while buf.len() < len {
        let mut chunk = [0u8; 8192];
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Ok(None);
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    let body = buf.drain(..len).collect();
    Ok(Some(Request {
        method,
        path,
        headers,
        body,
    }))
}

/// Decrements a gauge when dropped, so a request abandoned by the client is counted out too.
struct Gauge<'a>(&'a AtomicUsize);
impl<'a> Gauge<'a> {
    fn enter(counter: &'a AtomicUsize, max: &AtomicUsize) -> Self {
        let now = counter.fetch_add(1, Ordering::SeqCst) + 1;
        max.fetch_max(now, Ordering::SeqCst);
        Gauge(counter)
    }
}
impl Drop for Gauge<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

struct Response {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    /// Send only this many body bytes, then close.
    cut_at: Option<usize>,
}

impl Response {
    fn json(status: u16, body: serde_json::Value) -> Self {
        Self {
            status,
            headers: vec![("content-type".into(), "application/json".into())],
            body: body.to_string().into_bytes(),
            cut_at: None,
        }
    }
}

fn openai_error(
    status: u16,
    message: &str,
    kind: &str,
    param: Option<&str>,
    code: Option<&str>,
) -> Response {
    Response::json(
        status,
        serde_json::json!({"error": {"message": message, "type": kind, "param": param, "code": code}}),
    )
}

async fn serve_connection(mut stream: TcpStream, shared: Shared) -> std::io::Result<()> {
    stream.set_nodelay(true)?;
    let mut buf = Vec::new();
    while let Some(req) = read_request(&mut stream, &mut buf).await? {
        let stats = &shared.stats;
        let seq = stats.requests.fetch_add(1, Ordering::SeqCst);
        let _in_flight = Gauge::enter(&stats.in_flight, &stats.max_in_flight);
        let faults = shared.faults.lock().unwrap().clone();
        let Some(response) = handle(&req, seq, &faults, &shared, &mut stream).await else {
            // The client went away while we were "working".
            return Ok(());
        };
        *stats
            .statuses
            .lock()
            .unwrap()
            .entry(response.status)
            .or_default() += 1;
        let reason = match response.status {
            200 => "OK",
            400 => "Bad Request",
            401 => "Unauthorized",
            404 => "Not Found",
            429 => "Too Many Requests",
            500 => "Internal Server Error",
            _ => "Status",
        };
        let mut head = format!(
            "HTTP/1.1 {} {reason}\r\ncontent-length: {}\r\n",
            response.status,
            response.body.len()
        );
        for (k, v) in &response.headers {
            head.push_str(&format!("{k}: {v}\r\n"));
        }
        head.push_str("\r\n");
        // One write per response: a separate small write for the body would wait for the
        // client's delayed ACK (Nagle), adding ~40 ms to every request.
        let mut out = head.into_bytes();
        let body_len = response.cut_at.unwrap_or(response.body.len());
        out.extend_from_slice(&response.body[..body_len]);
        stream.write_all(&out).await?;
        stream.flush().await?;
        if response.cut_at.is_some() {
            return Ok(());
        }
    }
    Ok(())
}

/// Wait `d`, or return false early if the client closes the connection.
async fn work(stream: &mut TcpStream, d: Duration) -> bool {
    let mut probe = [0u8; 1];
    tokio::select! {
        () = tokio::time::sleep(d) => true,
        r = stream.peek(&mut probe) => matches!(r, Ok(n) if n > 0),
    }
}

async fn handle(
    req: &Request,
    seq: usize,
    faults: &Faults,
    shared: &Shared,
    stream: &mut TcpStream,
) -> Option<Response> {
    let stats = &shared.stats;
    let body: serde_json::Value =
        serde_json::from_slice(&req.body).unwrap_or(serde_json::Value::Null);
    stats.paths.lock().unwrap().push(req.path.clone());
    stats.bodies.lock().unwrap().push(body.clone());
    let openai = req.method == "POST" && req.path == "/v1/audio/speech";
    let eleven = req.method == "POST" && req.path.starts_with("/v1/text-to-speech/");
    if !openai && !eleven {
        return Some(openai_error(
            404,
            "Not found",
            "invalid_request_error",
            None,
            None,
        ));
    }
    let input = if openai {
        &body["input"]
    } else {
        &body["text"]
    };
    let input = input.as_str().unwrap_or_default().to_string();
    stats.inputs.lock().unwrap().push(input.clone());

    // Authentication.
    if let Some(key) = &faults.api_key {
        let ok = if openai {
            req.headers.get("authorization") == Some(&format!("Bearer {key}"))
        } else {
            req.headers.get("xi-api-key") == Some(key)
        };
        if !ok {
            return Some(if openai {
                openai_error(
                    401,
                    "Incorrect API key provided: sk-wr***ng. You can find your API key at https://platform.openai.com/account/api-keys.",
                    "invalid_request_error",
                    None,
                    Some("invalid_api_key"),
                )
            } else {
                Response::json(
                    401,
                    serde_json::json!({"detail": {"status": "invalid_api_key", "message": "Invalid API key"}}),
                )
            });
        }
    }

    // Request validation, as the real services do.
    let voice = if openai {
        body["voice"].as_str().unwrap_or_default().to_string()
    } else {
        req.path
            .trim_start_matches("/v1/text-to-speech/")
            .split('?')
            .next()
            .unwrap_or_default()
            .to_string()
    };
    if voice.starts_with("unknown") {
        return Some(if openai {
            openai_error(
                400,
                &format!(
                    "Invalid value: '{voice}'. Supported values are: 'alloy', 'ash', 'coral', 'echo', 'onyx', 'nova', 'sage' and 'shimmer'."
                ),
                "invalid_request_error",
                Some("voice"),
                Some("invalid_value"),
            )
        } else {
            Response::json(
                404,
                serde_json::json!({"detail": {"status": "voice_not_found", "message": format!("A voice with the voice_id {voice} was not found.")}}),
            )
        });
    }
    if openai && input.chars().count() > 4096 {
        return Some(openai_error(
            400,
            "[{'type': 'string_too_long', 'loc': ('body', 'input'), 'msg': 'String should have at most 4096 characters'}]",
            "invalid_request_error",
            None,
            None,
        ));
    }

    // Concurrency cap.
    let admitted = stats.admitted.fetch_add(1, Ordering::SeqCst);
    let _admitted = Gauge(&stats.admitted);
    if let Some(cap) = faults.admit
        && admitted >= cap
    {
        let mut r = openai_error(
            429,
            "Rate limit reached for requests: too many concurrent requests",
            "requests",
            None,
            Some("rate_limit_exceeded"),
        );
        match faults.retry_after {
            RetryAfter::None => {}
            RetryAfter::Raw(text) => r.headers.push(("retry-after".into(), text.to_string())),
            RetryAfter::Secs(s) => r.headers.push(("retry-after".into(), s.to_string())),
            RetryAfter::Ms(ms) => {
                r.headers.push(("retry-after-ms".into(), ms.to_string()));
                r.headers
                    .push(("retry-after".into(), ms.div_ceil(1000).to_string()));
            }
            RetryAfter::Date(s) => r.headers.push((
                "retry-after".into(),
                httpdate::fmt_http_date(std::time::SystemTime::now() + Duration::from_secs(s)),
            )),
        }
        return Some(r);
    }
    stats.max_admitted.fetch_max(admitted + 1, Ordering::SeqCst);

    if seq < faults.hang_first {
        work(stream, Duration::from_secs(60)).await;
        return None;
    }
    if !work(stream, faults.latency).await {
        return None;
    }

    let random_500 =
        faults.error_rate > 0.0 && shared.rng.lock().unwrap().f64() < faults.error_rate;
    let forced_500 = faults
        .fail_text
        .as_ref()
        .is_some_and(|t| input.contains(t.as_str()));
    if random_500 || forced_500 {
        return Some(openai_error(
            500,
            "The server had an error while processing your request. Sorry about that!",
            "server_error",
            None,
            None,
        ));
    }

    // The audio.
    let (rate, pcm_out) = if openai {
        let fmt = body["response_format"].as_str().unwrap_or("mp3");
        match fmt {
            "wav" => (24_000, false),
            "pcm" => (24_000, true),
            other => {
                return Some(openai_error(
                    400,
                    &format!("this test server does not encode {other}"),
                    "invalid_request_error",
                    Some("response_format"),
                    None,
                ));
            }
        }
    } else {
        let rate = req
            .path
            .split("output_format=pcm_")
            .nth(1)
            .and_then(|r| r.split('&').next())
            .and_then(|r| r.parse::<u32>().ok());
        match rate {
            Some(r) => (r, true),
            None => {
                return Some(Response::json(
                    422,
                    serde_json::json!({"detail": {"status": "invalid_output_format", "message": "output_format must be pcm_*"}}),
                ));
            }
        }
    };
    let samples = tone(rate, expected_ms(&input));
    let mut response = if pcm_out {
        Response {
            status: 200,
            headers: vec![("content-type".into(), "audio/pcm".into())],
            body: samples.iter().flat_map(|s| s.to_le_bytes()).collect(),
            cut_at: None,
        }
    } else {
        Response {
            status: 200,
            headers: vec![("content-type".into(), "audio/wav".into())],
            body: wav(rate, &samples),
            cut_at: None,
        }
    };
    if eleven {
        let current = stats.in_flight.load(Ordering::SeqCst);
        response
            .headers
            .push(("current-concurrent-requests".into(), current.to_string()));
        response.headers.push((
            "maximum-concurrent-requests".into(),
            faults.elevenlabs_max.to_string(),
        ));
    }
    if seq < faults.truncate_first {
        // A valid HTTP response whose WAV (or PCM) stops early.
        let keep = response.body.len() / 2 + 1;
        response.body.truncate(keep);
    } else if seq < faults.truncate_first + faults.cut_first {
        response.cut_at = Some(response.body.len() / 2);
    }
    Some(response)
}

pub fn tone(rate: u32, ms: u64) -> Vec<i16> {
    let n = (u64::from(rate) * ms / 1000) as usize;
    (0..n)
        .map(|i| {
            ((i as f64 * 440.0 * std::f64::consts::TAU / f64::from(rate)).sin() * 8000.0) as i16
        })
        .collect()
}

pub fn wav(rate: u32, samples: &[i16]) -> Vec<u8> {
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: rate,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut out = std::io::Cursor::new(Vec::new());
    let mut w = hound::WavWriter::new(&mut out, spec).unwrap();
    for &s in samples {
        w.write_sample(s).unwrap();
    }
    w.finalize().unwrap();
    out.into_inner()
}

/// Distinct texts of varied lengths.
pub fn texts(n: usize) -> Vec<String> {
    (0..n)
        .map(|i| {
            format!("Line number {i}. {}", "la ".repeat(i % 7))
                .trim()
                .to_string()
        })
        .collect()
}

/// Run the `dubber` binary in `dir` on a blocking thread (the test server keeps serving on the
/// runtime meanwhile), without the caller's OpenAI settings or log level.
pub async fn dubber(dir: &std::path::Path, args: Vec<String>) -> std::process::Output {
    let dir = dir.to_path_buf();
    tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_dubber"))
            .args(&args)
            .current_dir(&dir)
            .env_remove("RUST_LOG")
            .env_remove("OPENAI_API_KEY")
            .env_remove("OPENAI_BASE_URL")
            .output()
            .expect("run dubber")
    })
    .await
    .expect("dubber thread")
}

/// A long test video for benchmarks: a black 160×120 picture at 10 fps and a 220 Hz tone,
/// `secs` long (ffmpeg lavfi, x264 ultrafast, AAC).
pub fn long_video(path: &std::path::Path, secs: u64) {
    let status = std::process::Command::new("ffmpeg")
        .args([
            "-hide_banner",
            "-loglevel",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
        ])
        .arg(format!("color=c=black:s=160x120:r=10:d={secs}"))
        .args(["-f", "lavfi", "-i"])
        .arg(format!(
            "sine=frequency=220:sample_rate=48000:duration={secs}"
        ))
        .args([
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-c:a",
            "aac",
            "-shortest",
        ])
        .arg(path)
        .status()
        .expect("ffmpeg");
    assert!(status.success());
}
