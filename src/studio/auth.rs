//! The locks on a server that runs on the user's machine, where any web page the user opens can
//! send it requests: every request must carry the session token (from the URL once, then a
//! cookie, or `Authorization: Bearer`), else 401; a `Host` other than this server's own is
//! refused (DNS rebinding: a foreign name resolving to 127.0.0.1); and a request that changes
//! something must carry the token in a header, which another site's form or image cannot set
//! (CSRF), so a cookie alone does not do.

use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// Characters of a token: URL-safe, with no encoding needed anywhere.
const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// A new random token of 32 URL-safe characters (192 bits from the operating system).
pub fn new_token() -> Result<String, getrandom::Error> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)?;
    // 256 is a multiple of 64: every character is equally likely.
    Ok(bytes
        .iter()
        .map(|b| char::from(ALPHABET[usize::from(b & 63)]))
        .collect())
}

/// What the checks compare against.
#[derive(Debug, Clone)]
pub struct Guard {
    pub token: String,
    pub port: u16,
}

impl Guard {
    /// The cookie's name: per port, since browsers share cookies between ports of one host.
    pub fn cookie_name(&self) -> String {
        format!("dubber_studio_{}", self.port)
    }

    fn is_token(&self, candidate: &str) -> bool {
        constant_time_eq(candidate.as_bytes(), self.token.as_bytes())
    }

    fn host_allowed(&self, headers: &HeaderMap) -> bool {
        let Some(host) = headers.get(header::HOST).and_then(|h| h.to_str().ok()) else {
            return false;
        };
        host == format!("127.0.0.1:{}", self.port) || host == format!("localhost:{}", self.port)
    }

    fn in_header(&self, headers: &HeaderMap) -> bool {
        headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .is_some_and(|t| self.is_token(t.trim()))
    }

    fn in_cookie_header(&self, headers: &HeaderMap) -> bool {
        let name = self.cookie_name();
        headers
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(';'))
            .filter_map(|pair| pair.trim().split_once('='))
            .any(|(k, v)| k == name && self.is_token(v))
    }

    fn in_query_string(&self, query: Option<&str>) -> bool {
        query
            .unwrap_or("")
            .split('&')
            .filter_map(|pair| pair.split_once('='))
            .any(|(k, v)| k == "token" && self.is_token(v))
    }
}

/// Equal bytes, compared in a time that does not depend on where they differ.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn refuse(status: StatusCode, message: &str) -> Response {
    (status, axum::Json(serde_json::json!({ "error": message }))).into_response()
}

/// The middleware in front of every route.
pub async fn check(
    State(guard): State<std::sync::Arc<Guard>>,
    req: Request,
    next: Next,
) -> Response {
    let headers = req.headers();
    if !guard.host_allowed(headers) {
        return refuse(
            StatusCode::FORBIDDEN,
            &format!(
                "refused: this server answers to Host 127.0.0.1:{0} or localhost:{0} only",
                guard.port
            ),
        );
    }
    let in_query = guard.in_query_string(req.uri().query());
    let in_header = guard.in_header(headers);
    let in_cookie = guard.in_cookie_header(headers);
    let safe = matches!(*req.method(), Method::GET | Method::HEAD);
    if !safe && !in_header {
        return match in_query || in_cookie {
            true => refuse(
                StatusCode::FORBIDDEN,
                "a request that changes something needs the token in the Authorization header",
            ),
            false => refuse(
                StatusCode::UNAUTHORIZED,
                "the session token is missing or wrong",
            ),
        };
    }
    if !(in_query || in_header || in_cookie) {
        return refuse(
            StatusCode::UNAUTHORIZED,
            "the session token is missing or wrong: open the URL dubber studio printed",
        );
    }
    let mut response = next.run(req).await;
    if in_query {
        let cookie = format!(
            "{}={}; Path=/; HttpOnly; SameSite=Strict",
            guard.cookie_name(),
            guard.token
        );
        if let Ok(value) = HeaderValue::from_str(&cookie) {
            response.headers_mut().append(header::SET_COOKIE, value);
        }
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_32_url_safe_characters_and_differ() {
        let (a, b) = (new_token().unwrap(), new_token().unwrap());
        assert_eq!(a.len(), 32);
        assert!(a.bytes().all(|c| ALPHABET.contains(&c)), "{a}");
        assert_ne!(a, b);
    }

    #[test]
    fn the_token_is_found_in_query_header_and_cookie_only_when_exact() {
        let g = Guard {
            token: "abc".into(),
            port: 5,
        };
        assert!(g.in_query_string(Some("v=1&token=abc")));
        assert!(!g.in_query_string(Some("token=abcd")));
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            HeaderValue::from_static("x=1; dubber_studio_5=abc"),
        );
        h.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Bearer abc"),
        );
        h.insert(header::HOST, HeaderValue::from_static("localhost:5"));
        assert!(g.in_cookie_header(&h) && g.in_header(&h) && g.host_allowed(&h));
        h.insert(
            header::COOKIE,
            HeaderValue::from_static("dubber_studio_6=abc"),
        );
        h.insert(header::HOST, HeaderValue::from_static("evil.example:5"));
        assert!(!g.in_cookie_header(&h) && !g.host_allowed(&h));
    }
}
