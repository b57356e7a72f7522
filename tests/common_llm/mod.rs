//! A small HTTP/1.1 server on 127.0.0.1 speaking OpenAI's chat-completions wire format
//! (`POST /v1/chat/completions`), answering with whatever a test's handler decides: a completion
//! with given content, or an error status with headers, optionally after a delay. It records every
//! request (headers and JSON body) and the most requests it served at once.
#![allow(dead_code)]

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// What the server sends back for one request.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
    pub delay: Duration,
}

impl Reply {
    /// A chat completion whose first choice says `content`.
    pub fn content(content: impl Into<String>) -> Self {
        let body = json!({
            "id": "chatcmpl-test",
            "object": "chat.completion",
            "created": 1_700_000_000,
            "model": "test-model",
            "choices": [{
                "index": 0,
                "message": {"role": "assistant", "content": content.into()},
                "finish_reason": "stop"
            }],
            "usage": {"prompt_tokens": 10, "completion_tokens": 10, "total_tokens": 20}
        });
        Self {
            status: 200,
            headers: Vec::new(),
            body: body.to_string(),
            delay: Duration::ZERO,
        }
    }

    /// An error in OpenAI's error format.
    pub fn error(status: u16, message: &str) -> Self {
        let body = json!({"error": {"message": message, "type": "test", "code": null}});
        Self {
            status,
            headers: Vec::new(),
            body: body.to_string(),
            delay: Duration::ZERO,
        }
    }

    pub fn with_header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    pub fn after(mut self, delay: Duration) -> Self {
        self.delay = delay;
        self
    }
}

/// One request as received.
#[derive(Debug, Clone)]
pub struct Request {
    pub path: String,
    /// Header names lower-cased.
    pub headers: HashMap<String, String>,
    pub body: Value,
}

impl Request {
    pub fn messages(&self) -> &Vec<Value> {
        self.body["messages"].as_array().expect("messages array")
    }

    pub fn system(&self) -> String {
        self.messages()[0]["content"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    /// The first user message: the request itself (later ones are corrections).
    pub fn first_user(&self) -> String {
        self.messages()[1]["content"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    /// `(id, text)` of the lines in the first user message.
    pub fn lines(&self) -> Vec<(u64, String)> {
        let v: Value = serde_json::from_str(&self.first_user()).expect("user message is JSON");
        v["lines"]
            .as_array()
            .expect("lines")
            .iter()
            .map(|l| {
                (
                    l["id"].as_u64().unwrap(),
                    l["text"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    }
}

/// `{"lines": [...]}` for the given ids and texts, as a model should answer.
pub fn lines_json(lines: &[(u64, String)]) -> String {
    let items: Vec<Value> = lines
        .iter()
        .map(|(id, text)| json!({"id": id, "text": text}))
        .collect();
    json!({ "lines": items }).to_string()
}

type Handler = dyn Fn(usize, &Request) -> Reply + Send + Sync;

pub struct ChatServer {
    pub addr: SocketAddr,
    requests: Arc<Mutex<Vec<Request>>>,
    max_in_flight: Arc<AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for ChatServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl ChatServer {
    /// Serves every request with `handler(request number from 0, request)`.
    pub async fn start(handler: impl Fn(usize, &Request) -> Reply + Send + Sync + 'static) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let max_in_flight = Arc::new(AtomicUsize::new(0));
        let in_flight = Arc::new(AtomicUsize::new(0));
        let handler: Arc<Handler> = Arc::new(handler);
        let (reqs, max) = (requests.clone(), max_in_flight.clone());
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let (reqs, max, in_flight, handler) = (
                    reqs.clone(),
                    max.clone(),
                    in_flight.clone(),
                    handler.clone(),
                );
                tokio::spawn(async move {
                    let now = in_flight.fetch_add(1, Ordering::SeqCst) + 1;
                    max.fetch_max(now, Ordering::SeqCst);
                    let _ = serve(stream, reqs, handler).await;
                    in_flight.fetch_sub(1, Ordering::SeqCst);
                });
            }
        });
        Self {
            addr,
            requests,
            max_in_flight,
            task,
        }
    }

    /// The base URL to give the client (`…/v1`).
    pub fn base_url(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    pub fn requests(&self) -> Vec<Request> {
        self.requests.lock().unwrap().clone()
    }

    pub fn count(&self) -> usize {
        self.requests.lock().unwrap().len()
    }

    pub fn max_in_flight(&self) -> usize {
        self.max_in_flight.load(Ordering::SeqCst)
    }
}

async fn serve(
    mut stream: TcpStream,
    requests: Arc<Mutex<Vec<Request>>>,
    handler: Arc<Handler>,
) -> std::io::Result<()> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    let header_end = loop {
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Ok(());
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(pos) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break pos + 4;
        }
    };
    let head = String::from_utf8_lossy(&buf[..header_end]).to_string();
    let mut lines = head.split("\r\n");
    let request_line = lines.next().unwrap_or_default();
    let path = request_line
        .split(' ')
        .nth(1)
        .unwrap_or_default()
        .to_string();
    let headers: HashMap<String, String> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let length: usize = headers
        .get("content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    while buf.len() < header_end + length {
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            break;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    let body: Value = serde_json::from_slice(&buf[header_end..]).unwrap_or(Value::Null);
    let request = Request {
        path: path.clone(),
        headers,
        body,
    };
    let number = {
        let mut all = requests.lock().unwrap();
        all.push(request.clone());
        all.len() - 1
    };
    let reply = if path == "/v1/chat/completions" && request_line.starts_with("POST ") {
        handler(number, &request)
    } else {
        Reply::error(404, "unknown endpoint")
    };
    tokio::time::sleep(reply.delay).await;
    let mut response = format!(
        "HTTP/1.1 {} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n",
        reply.status,
        reply.body.len()
    );
    for (name, value) in &reply.headers {
        response.push_str(&format!("{name}: {value}\r\n"));
    }
    response.push_str("\r\n");
    response.push_str(&reply.body);
    stream.write_all(response.as_bytes()).await?;
    stream.shutdown().await
}
