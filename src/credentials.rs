//! API keys and the servers they go to: read from the environment here and nowhere else in the
//! library, never shown, and never sent where the user did not point them.
//!
//! - [`ApiKey`] prints as `ApiKey(***)`: a `{:?}` of any client or config cannot leak a key.
//! - [`client_builder`] follows a redirect only within the same origin (scheme, host and port):
//!   a key is never carried to another server, nor from `https` down to `http`. reqwest drops
//!   `Authorization` on a cross-host redirect but keeps it from https to http on the same host,
//!   and keeps custom headers such as ElevenLabs' `xi-api-key` everywhere.
//! - [`warn_if_exposed`] says once when a key would travel in plain text to another machine.
//!
//! Why one module: the speech, transcription and chat clients all carry keys to OpenAI-compatible
//! servers; each used to read `OPENAI_BASE_URL` and `OPENAI_API_KEY` itself.

use std::collections::HashSet;
use std::sync::Mutex;

/// OpenAI's API, when neither a setting nor `OPENAI_BASE_URL` names another server.
pub const OPENAI_API: &str = "https://api.openai.com/v1";

/// An API key. Never printed: `Debug` shows `ApiKey(***)`.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKey(String);

impl ApiKey {
    /// The key, unless it is blank (an empty `OPENAI_API_KEY=` means none).
    pub fn new(key: impl Into<String>) -> Option<Self> {
        let key = key.into();
        let key = key.trim();
        (!key.is_empty()).then(|| Self(key.to_string()))
    }

    /// The key itself, for the one header that carries it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ApiKey(***)")
    }
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

/// `OPENAI_BASE_URL`, when set and not blank.
pub fn openai_base_url() -> Option<String> {
    env("OPENAI_BASE_URL").map(|v| v.trim().to_string())
}

/// The server an OpenAI-compatible client talks to: `explicit` (a flag), else `OPENAI_BASE_URL`,
/// else [`OPENAI_API`].
pub fn openai_server(explicit: Option<&str>) -> String {
    server_from(explicit, openai_base_url)
}

fn server_from(explicit: Option<&str>, env: impl FnOnce() -> Option<String>) -> String {
    explicit
        .map(str::to_string)
        .filter(|b| !b.trim().is_empty())
        .or_else(env)
        .unwrap_or_else(|| OPENAI_API.to_string())
}

/// `OPENAI_API_KEY`, when set and not blank.
pub fn openai_api_key() -> Option<ApiKey> {
    env("OPENAI_API_KEY").and_then(ApiKey::new)
}

/// `ELEVENLABS_API_KEY`, when set and not blank.
pub fn elevenlabs_api_key() -> Option<ApiKey> {
    env("ELEVENLABS_API_KEY").and_then(ApiKey::new)
}

/// An HTTP client builder for requests that carry a key: redirects are followed (up to 5) only
/// within the same origin.
pub fn client_builder() -> reqwest::ClientBuilder {
    let policy = reqwest::redirect::Policy::custom(|attempt| {
        let same_origin = attempt
            .previous()
            .last()
            .is_some_and(|from| from.origin() == attempt.url().origin());
        if attempt.previous().len() > 5 {
            attempt.error("too many redirects")
        } else if same_origin {
            attempt.follow()
        } else {
            // The response is the redirect itself: the caller reports its status.
            attempt.stop()
        }
    });
    reqwest::Client::builder().redirect(policy)
}

/// True when `base_url` is plain `http` to a host that is not this machine: a key sent there
/// crosses the network readable by anyone on the way.
pub fn is_exposed(base_url: &str) -> bool {
    let Ok(url) = reqwest::Url::parse(base_url) else {
        return false;
    };
    let local = match url.host_str() {
        None => true,
        Some(host) => {
            let host = host.trim_start_matches('[').trim_end_matches(']');
            host.eq_ignore_ascii_case("localhost")
                || host
                    .parse::<std::net::IpAddr>()
                    .is_ok_and(|ip| ip.is_loopback())
        }
    };
    url.scheme() == "http" && !local
}

/// Warn once per server when a key would go to it in plain text ([`is_exposed`]).
pub fn warn_if_exposed(base_url: &str) {
    static WARNED: Mutex<Option<HashSet<String>>> = Mutex::new(None);
    if !is_exposed(base_url) {
        return;
    }
    let mut warned = WARNED.lock().unwrap_or_else(|p| p.into_inner());
    if warned
        .get_or_insert_with(HashSet::new)
        .insert(base_url.to_string())
    {
        tracing::warn!(
            "{base_url}: the API key goes to this server unencrypted (plain http to another \
             machine); use https, or a server on this machine"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_never_print() {
        let key = ApiKey::new(" sk-secret ").unwrap();
        assert_eq!(key.expose(), "sk-secret");
        assert_eq!(format!("{key:?}"), "ApiKey(***)");
        assert_eq!(format!("{:?}", Some(key)), "Some(ApiKey(***))");
        assert_eq!(ApiKey::new("  "), None);
    }

    #[test]
    fn plain_http_to_another_machine_is_exposed() {
        assert!(is_exposed("http://example.com/v1"));
        assert!(is_exposed("http://10.1.2.3:8000/v1"));
        assert!(!is_exposed("https://example.com/v1"));
        assert!(!is_exposed("http://127.0.0.1:8000/v1"));
        assert!(!is_exposed("http://localhost:11434/v1"));
        assert!(!is_exposed("http://[::1]:8000/v1"));
    }

    #[test]
    fn the_server_is_the_flag_then_the_environment_then_openai() {
        let env = || Some("http://env/v1".to_string());
        assert_eq!(server_from(Some("http://x/v1"), env), "http://x/v1");
        assert_eq!(server_from(Some("  "), env), "http://env/v1");
        assert_eq!(server_from(None, env), "http://env/v1");
        assert_eq!(server_from(None, || None), OPENAI_API);
    }
}
