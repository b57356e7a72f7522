//! One chat completion over HTTP: `POST {base}/chat/completions`.
//!
//! Rate limits and overloaded servers are normal with paid APIs and busy local servers, so
//! [`OpenAiChat`] limits how many requests are in flight (a semaphore) and retries 408/429/5xx,
//! timeouts and dropped connections with exponential backoff and jitter, waiting exactly as long
//! as the server asks when it sends `Retry-After` (or OpenAI's `retry-after-ms`). Other 4xx
//! answers fail at once: a bad key or an unknown model does not get better by waiting.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use reqwest::StatusCode;
use serde::{Deserialize, Serialize};
use tokio::sync::Semaphore;

use super::LlmError;
use crate::credentials::{self, ApiKey};

/// OpenAI's API, used when neither an option nor `OPENAI_BASE_URL` names another server.
pub const DEFAULT_BASE_URL: &str = crate::credentials::OPENAI_API;

/// Who says a message in a conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    System,
    User,
    Assistant,
}

/// One message of a chat conversation, as the wire format has it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatMessage {
    pub role: Role,
    pub content: String,
}

impl ChatMessage {
    /// Instructions for the model.
    pub fn system(content: impl Into<String>) -> Self {
        Self {
            role: Role::System,
            content: content.into(),
        }
    }

    /// A request from the user.
    pub fn user(content: impl Into<String>) -> Self {
        Self {
            role: Role::User,
            content: content.into(),
        }
    }

    /// An earlier answer of the model (sent back when asking it to correct that answer).
    pub fn assistant(content: impl Into<String>) -> Self {
        Self {
            role: Role::Assistant,
            content: content.into(),
        }
    }
}

/// A chat model: a conversation in, the text of the model's answer out.
///
/// Implementations handle transport concerns (limits, retries); validation of what the answer says
/// is the caller's job (see [`super::ask_validated`]).
pub trait ChatModel: Send + Sync {
    /// What distinguishes this model's answers from another's, for cache keys: server and model.
    fn identity(&self) -> String;

    /// The model's answer to `messages`.
    fn complete(
        &self,
        messages: &[ChatMessage],
    ) -> impl Future<Output = Result<String, LlmError>> + Send;
}

impl<M: ChatModel> ChatModel for &M {
    fn identity(&self) -> String {
        (**self).identity()
    }

    fn complete(
        &self,
        messages: &[ChatMessage],
    ) -> impl Future<Output = Result<String, LlmError>> + Send {
        (**self).complete(messages)
    }
}

impl<M: ChatModel> ChatModel for Arc<M> {
    fn identity(&self) -> String {
        (**self).identity()
    }

    fn complete(
        &self,
        messages: &[ChatMessage],
    ) -> impl Future<Output = Result<String, LlmError>> + Send {
        (**self).complete(messages)
    }
}

/// How to reach a chat-completions server and how hard to try.
#[derive(Debug, Clone)]
pub struct ChatConfig {
    /// Base URL up to and including the API version, e.g. `https://api.openai.com/v1` or
    /// `http://localhost:11434/v1` (Ollama); `/chat/completions` is appended.
    pub base_url: String,
    /// Model name as the server knows it (`gpt-4o-mini`, `llama3.1:8b`, …).
    pub model: String,
    /// Bearer token; local servers usually need none. Never printed.
    pub api_key: Option<ApiKey>,
    /// Sampling temperature; `None` leaves the server's default. Models that accept only their
    /// default (reasoning models answer HTTP 400 naming `temperature`) are asked again without it.
    pub temperature: Option<f32>,
    /// Ask for `response_format: {"type": "json_object"}`. Off by default because not every
    /// compatible server accepts it; replies are parsed robustly either way.
    pub json_mode: bool,
    /// Requests in flight at once.
    pub max_concurrent: usize,
    /// Retries after the first attempt for 408/429/5xx, timeouts and connection errors.
    pub max_retries: u32,
    /// Time limit of one HTTP request.
    pub request_timeout: Duration,
    /// First backoff delay; doubled on each retry, with jitter.
    pub backoff_base: Duration,
    /// Longest backoff delay (when the server sends no `Retry-After`).
    pub backoff_max: Duration,
    /// Longest wait a `Retry-After` header is obeyed for (a server never gets more than
    /// [`crate::retry::MAX_SERVER_WAIT`], whatever this says).
    pub retry_after_max: Duration,
}

impl ChatConfig {
    /// Defaults for `model` on OpenAI's API, without a key.
    pub fn new(model: impl Into<String>) -> Self {
        Self {
            base_url: DEFAULT_BASE_URL.to_string(),
            model: model.into(),
            api_key: None,
            temperature: Some(0.2),
            json_mode: false,
            max_concurrent: 4,
            max_retries: 5,
            request_timeout: Duration::from_secs(120),
            backoff_base: Duration::from_millis(500),
            backoff_max: Duration::from_secs(20),
            retry_after_max: Duration::from_secs(120),
        }
    }

    /// `model` at `base_url` if given, else `OPENAI_BASE_URL`, else OpenAI; the key from
    /// `OPENAI_API_KEY` when it is set and not empty.
    pub fn from_env(model: impl Into<String>, base_url: Option<String>) -> Self {
        let mut config = Self::new(model);
        config.base_url = credentials::openai_server(base_url.as_deref());
        config.api_key = credentials::openai_api_key();
        config
    }

    /// The full endpoint URL.
    pub fn endpoint(&self) -> String {
        format!("{}/chat/completions", self.base_url.trim_end_matches('/'))
    }
}

/// A [`ChatModel`] over any OpenAI-compatible chat-completions server.
#[derive(Debug, Clone)]
pub struct OpenAiChat {
    config: ChatConfig,
    endpoint: String,
    http: reqwest::Client,
    in_flight: Arc<Semaphore>,
    /// Set once the server refused our temperature; later requests leave it out.
    omit_temperature: Arc<AtomicBool>,
}

/// Why one attempt failed, and whether another could succeed.
enum AttemptError {
    Transient {
        message: String,
        retry_after: Option<Duration>,
    },
    Fatal(LlmError),
}

impl OpenAiChat {
    /// A client for `config`; fails on an empty model name, a base URL that is not http(s) or a
    /// zero concurrency limit.
    pub fn new(config: ChatConfig) -> Result<Self, LlmError> {
        if config.model.trim().is_empty() {
            return Err(LlmError::Config("no model name given".into()));
        }
        if !(config.base_url.starts_with("http://") || config.base_url.starts_with("https://")) {
            return Err(LlmError::Config(format!(
                "base URL {:?} must start with http:// or https://",
                config.base_url
            )));
        }
        if config.max_concurrent == 0 {
            return Err(LlmError::Config(
                "the concurrency limit must be at least 1".into(),
            ));
        }
        if config.api_key.is_some() {
            credentials::warn_if_exposed(&config.base_url);
        }
        let http = credentials::client_builder()
            .timeout(config.request_timeout)
            .build()
            .map_err(|e| LlmError::Config(format!("HTTP client: {e}")))?;
        Ok(Self {
            endpoint: config.endpoint(),
            in_flight: Arc::new(Semaphore::new(config.max_concurrent)),
            omit_temperature: Arc::new(AtomicBool::new(false)),
            http,
            config,
        })
    }

    /// The configuration this client was built from.
    pub fn config(&self) -> &ChatConfig {
        &self.config
    }

    fn request_body(&self, messages: &[ChatMessage]) -> serde_json::Value {
        let mut body = serde_json::json!({ "model": self.config.model, "messages": messages });
        if let Some(t) = self
            .config
            .temperature
            .filter(|_| !self.omit_temperature.load(Ordering::Relaxed))
        {
            body["temperature"] = serde_json::json!(t);
        }
        if self.config.json_mode {
            body["response_format"] = serde_json::json!({ "type": "json_object" });
        }
        body
    }

    async fn attempt(&self, body: &serde_json::Value) -> Result<String, AttemptError> {
        let _permit = self.in_flight.acquire().await.map_err(|_| {
            AttemptError::Fatal(LlmError::Config("the request limiter was closed".into()))
        })?;
        let mut request = self.http.post(&self.endpoint).json(body);
        if let Some(key) = &self.config.api_key {
            request = request.bearer_auth(key.expose());
        }
        let response = request.send().await.map_err(|e| AttemptError::Transient {
            message: describe_reqwest_error(&e),
            retry_after: None,
        })?;
        let status = response.status();
        let retry_after = crate::retry::retry_after(status.as_u16(), response.headers());
        let text = response.text().await.map_err(|e| AttemptError::Transient {
            message: format!("reading the response: {}", describe_reqwest_error(&e)),
            retry_after: None,
        })?;
        if status.is_success() {
            return parse_completion(&text).map_err(|message| {
                AttemptError::Fatal(LlmError::BadResponse {
                    url: self.endpoint.clone(),
                    message,
                    body: super::quote_reply(&text),
                })
            });
        }
        if is_transient(status) {
            return Err(AttemptError::Transient {
                message: format!(
                    "HTTP {}: {}",
                    status.as_u16(),
                    super::quote_reply(text.trim())
                ),
                retry_after,
            });
        }
        Err(AttemptError::Fatal(LlmError::Refused {
            url: self.endpoint.clone(),
            status: status.as_u16(),
            body: super::quote_reply(text.trim()),
        }))
    }

    /// Exponential backoff with jitter: between half and all of `base * 2^retry`, capped.
    fn backoff(&self, retry: u32) -> Duration {
        crate::retry::Backoff {
            base: self.config.backoff_base,
            max: self.config.backoff_max,
        }
        .equal_jitter(retry.saturating_add(1))
    }
}

impl ChatModel for OpenAiChat {
    fn identity(&self) -> String {
        format!("{} {}", self.endpoint, self.config.model)
    }

    async fn complete(&self, messages: &[ChatMessage]) -> Result<String, LlmError> {
        let mut body = self.request_body(messages);
        let mut retry = 0u32;
        loop {
            match self.attempt(&body).await {
                Ok(content) => return Ok(content),
                Err(AttemptError::Fatal(LlmError::Refused {
                    status: 400,
                    body: answer,
                    ..
                })) if body.get("temperature").is_some() && answer.contains("temperature") => {
                    tracing::info!("the model accepts no temperature setting; asking without it");
                    self.omit_temperature.store(true, Ordering::Relaxed);
                    body = self.request_body(messages);
                }
                Err(AttemptError::Fatal(e)) => return Err(e),
                Err(AttemptError::Transient {
                    message,
                    retry_after,
                }) => {
                    if retry >= self.config.max_retries {
                        return Err(LlmError::Unavailable {
                            url: self.endpoint.clone(),
                            attempts: retry + 1,
                            message,
                        });
                    }
                    let delay = match retry_after {
                        Some(d) => d.min(self.config.retry_after_max),
                        None => self.backoff(retry),
                    };
                    tracing::warn!(
                        "chat request failed ({message}); retry {} of {} in {:.1} s",
                        retry + 1,
                        self.config.max_retries,
                        delay.as_secs_f64()
                    );
                    tokio::time::sleep(delay).await;
                    retry += 1;
                }
            }
        }
    }
}

fn is_transient(status: StatusCode) -> bool {
    status == StatusCode::TOO_MANY_REQUESTS
        || status == StatusCode::REQUEST_TIMEOUT
        || status.is_server_error()
}

fn describe_reqwest_error(e: &reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "could not connect"
    } else {
        "transport error"
    };
    // The source chain says why (connection refused, DNS, …); reqwest's Display alone often
    // says only "error sending request".
    let mut message = format!("{kind}: {e}");
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        message.push_str(&format!(": {s}"));
        source = s.source();
    }
    message
}

/// The text of the first choice of a chat completion.
fn parse_completion(body: &str) -> Result<String, String> {
    #[derive(Deserialize)]
    struct Completion {
        choices: Vec<Choice>,
    }
    #[derive(Deserialize)]
    struct Choice {
        message: Message,
    }
    #[derive(Deserialize)]
    struct Message {
        content: Option<String>,
        #[serde(default)]
        refusal: Option<String>,
    }
    let completion: Completion =
        serde_json::from_str(body).map_err(|e| format!("invalid JSON ({e})"))?;
    let choice = completion
        .choices
        .into_iter()
        .next()
        .ok_or("no choices in the response")?;
    match (choice.message.content, choice.message.refusal) {
        (Some(content), _) => Ok(content),
        (None, Some(refusal)) => Err(format!("the model refused: {refusal}")),
        (None, None) => Err("the first choice has no message content".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn completion_content_is_extracted() {
        let body = r#"{"id":"x","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"hi"},"finish_reason":"stop"}]}"#;
        assert_eq!(parse_completion(body).unwrap(), "hi");
        assert!(
            parse_completion(r#"{"choices":[]}"#)
                .unwrap_err()
                .contains("no choices")
        );
        let refused = r#"{"choices":[{"message":{"content":null,"refusal":"no"}}]}"#;
        assert!(parse_completion(refused).unwrap_err().contains("refused"));
    }

    #[test]
    fn config_is_checked_and_endpoint_built() {
        let mut c = ChatConfig::new("m");
        c.base_url = "http://localhost:11434/v1/".into();
        assert_eq!(c.endpoint(), "http://localhost:11434/v1/chat/completions");
        assert!(OpenAiChat::new(c.clone()).is_ok());
        c.base_url = "localhost:1234".into();
        assert!(matches!(OpenAiChat::new(c), Err(LlmError::Config(_))));
        assert!(matches!(
            OpenAiChat::new(ChatConfig::new(" ")),
            Err(LlmError::Config(_))
        ));
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        let mut c = ChatConfig::new("m");
        c.backoff_base = Duration::from_millis(100);
        c.backoff_max = Duration::from_millis(1000);
        let chat = OpenAiChat::new(c).unwrap();
        for _ in 0..50 {
            let d0 = chat.backoff(0);
            assert!(d0 >= Duration::from_millis(50) && d0 <= Duration::from_millis(100));
            let d3 = chat.backoff(3);
            assert!(d3 >= Duration::from_millis(400) && d3 <= Duration::from_millis(800));
            assert!(chat.backoff(30) <= Duration::from_millis(1000));
        }
    }
}
