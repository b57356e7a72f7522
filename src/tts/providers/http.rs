//! What the HTTP providers share: turning a status, headers and an error body into a classified
//! [`SynthError`] that names the setting to fix (with the wait a 429 or 5xx asks for, read by
//! [`crate::retry`]), and mapping transport errors.
//!
//! Why separate: both HTTP providers classify the same way, so an error reads alike (and names
//! the setting to fix) whichever service answered.

use reqwest::header::HeaderMap;

use crate::retry::retry_after;
use crate::tts::error::SynthError;

/// The settings a provider's errors point the user to.
pub(crate) struct Settings {
    pub provider: &'static str,
    /// Environment variable holding the key, e.g. `OPENAI_API_KEY`.
    pub key_var: &'static str,
    /// Where the base URL is set, e.g. `--base-url / OPENAI_BASE_URL`.
    pub base_url: &'static str,
}

/// The human message in an error body: OpenAI's `{"error":{"message":..}}`, ElevenLabs'
/// `{"detail":{"message":..}}` or `{"detail":"..."}`, or the raw text (shortened).
pub(crate) fn error_message(body: &[u8]) -> String {
    if let Ok(json) = serde_json::from_slice::<serde_json::Value>(body) {
        let candidates = [
            json.pointer("/error/message"),
            json.pointer("/detail/message"),
            json.pointer("/detail/0/msg"),
            json.get("detail"),
            json.get("message"),
            json.get("error"),
        ];
        for c in candidates.into_iter().flatten() {
            if let Some(s) = c.as_str()
                && !s.trim().is_empty()
            {
                return s.trim().to_string();
            }
        }
        return shorten(&json.to_string());
    }
    let text = String::from_utf8_lossy(body);
    if text.trim().is_empty() {
        "(empty body)".to_string()
    } else {
        shorten(text.trim())
    }
}

fn shorten(s: &str) -> String {
    const MAX: usize = 300;
    match s.char_indices().nth(MAX) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_string(),
    }
}

/// Which setting an error body complains about, from its `param`/`code`/`status` fields and text.
fn setting_for(status: u16, body: &[u8], message: &str, settings: &Settings) -> String {
    let mut haystack = message.to_lowercase();
    if let Ok(json) = serde_json::from_slice::<serde_json::Value>(body) {
        for p in [
            "/error/param",
            "/error/code",
            "/detail/status",
            "/detail/0/loc",
        ] {
            if let Some(v) = json.pointer(p) {
                haystack.push(' ');
                haystack.push_str(&v.to_string().to_lowercase());
            }
        }
    }
    if haystack.contains("voice") {
        "the voice (--voice)".to_string()
    } else if haystack.contains("model") {
        "the model (--tts-model)".to_string()
    } else if haystack.contains("instruction") {
        "the instructions (--instructions)".to_string()
    } else if haystack.contains("speed") {
        "the speed".to_string()
    } else if haystack.contains("format") {
        "the output format".to_string()
    } else if haystack.contains("input") || haystack.contains("text") {
        "the text of this line".to_string()
    } else if status == 404 || status == 405 {
        format!("the base URL ({})", settings.base_url)
    } else {
        "the TTS settings (--tts, --tts-model, --voice, --instructions)".to_string()
    }
}

/// Classify a non-success response.
pub(crate) fn classify(
    status: u16,
    headers: &HeaderMap,
    body: &[u8],
    settings: &Settings,
) -> SynthError {
    let provider = settings.provider;
    let message = error_message(body);
    let code = serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .and_then(|j| {
            j.pointer("/error/code")
                .and_then(|c| c.as_str())
                .map(str::to_string)
        });
    match status {
        // OpenAI answers an exhausted quota with 429 too, but no wait will fix that.
        429 if code.as_deref() == Some("insufficient_quota") => SynthError::Rejected {
            provider,
            status,
            message,
            setting: format!(
                "the plan and billing of the account behind {}",
                settings.key_var
            ),
        },
        429 => SynthError::RateLimited {
            provider,
            message,
            retry_after: retry_after(status, headers),
        },
        401 | 403 => SynthError::Unauthorized {
            provider,
            status,
            message,
            setting: settings.key_var,
        },
        408 | 409 | 425 | 500..=599 => SynthError::Server {
            provider,
            status,
            message,
            retry_after: retry_after(status, headers),
        },
        _ => {
            let setting = setting_for(status, body, &message, settings);
            SynthError::Rejected {
                provider,
                status,
                message,
                setting,
            }
        }
    }
}

/// A transport failure (connect, send, or reading the body) as a retryable error.
pub(crate) fn transport(provider: &'static str, err: &reqwest::Error) -> SynthError {
    let mut message = err.to_string();
    let mut source = std::error::Error::source(err);
    while let Some(s) = source {
        message.push_str(": ");
        message.push_str(&s.to_string());
        source = s.source();
    }
    SynthError::Connection { provider, message }
}

/// The base URL without trailing slashes, so `…/v1/` and `…/v1` share cache entries.
pub(crate) fn normalise_base(base: &str) -> String {
    base.trim().trim_end_matches('/').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classification_names_the_setting() {
        let s = Settings {
            provider: "OpenAI",
            key_var: "OPENAI_API_KEY",
            base_url: "--base-url / OPENAI_BASE_URL",
        };
        let h = HeaderMap::new();
        let body = br#"{"error":{"message":"Incorrect API key provided","type":"invalid_request_error","code":"invalid_api_key"}}"#;
        let e = classify(401, &h, body, &s);
        assert!(e.is_fatal());
        assert!(e.to_string().contains("OPENAI_API_KEY"), "{e}");
        assert!(e.to_string().contains("Incorrect API key"), "{e}");
        let body = br#"{"error":{"message":"Invalid value: 'bogus'.","type":"invalid_request_error","param":"voice","code":"invalid_value"}}"#;
        let e = classify(400, &h, body, &s);
        assert!(e.is_fatal() && e.to_string().contains("--voice"), "{e}");
        let body = br#"{"detail":{"status":"voice_not_found","message":"A voice with the voice_id x was not found."}}"#;
        assert!(classify(404, &h, body, &s).to_string().contains("--voice"));
        let body = br#"{"error":{"message":"You exceeded your current quota","type":"insufficient_quota","param":null,"code":"insufficient_quota"}}"#;
        let e = classify(429, &h, body, &s);
        assert!(
            e.is_fatal() && e.to_string().contains("OPENAI_API_KEY"),
            "{e}"
        );
        assert!(classify(503, &h, b"oops", &s).is_retryable());
        assert!(classify(429, &h, b"{}", &s).is_retryable());
    }
}
