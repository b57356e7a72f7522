//! Every error the server answers is `{"error": "..."}`: the API's own errors are made so, and
//! [`as_json`] rewrites the others (an unknown route, a method a route does not take, a body
//! over [`MAX_BODY`], the locks' refusals, a path that does not parse) into the same shape, so a
//! script reads one kind of error whatever went wrong.

use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;
use serde_json::json;

/// The largest request body the server reads: far more than an edit's JSON holds for the longest
/// line an edit accepts, so a line too long is answered by the edit's own limit, which names it.
pub const MAX_BODY: usize = 1 << 20;

/// The most of a plain-text error body read to make its message.
const MAX_ERROR_TEXT: usize = 16 << 10;

/// Answer every error as JSON, keeping its status and headers (`Allow`, `Content-Range`, ...).
pub async fn as_json(request: Request, next: Next) -> Response {
    let method = request.method().clone();
    let path = request.uri().path().to_string();
    let response = next.run(request).await;
    let status = response.status();
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    if !(status.is_client_error() || status.is_server_error()) || is_json {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let text = axum::body::to_bytes(body, MAX_ERROR_TEXT)
        .await
        .map(|b| String::from_utf8_lossy(&b).trim().to_string())
        .unwrap_or_default();
    let allowed = parts
        .headers
        .get(header::ALLOW)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let message = match status {
        StatusCode::NOT_FOUND if text.is_empty() => format!("no such address: {method} {path}"),
        StatusCode::METHOD_NOT_ALLOWED if allowed.is_empty() => {
            format!("{path} does not take {method}")
        }
        StatusCode::METHOD_NOT_ALLOWED => {
            format!("{path} does not take {method}; it takes {allowed}")
        }
        StatusCode::PAYLOAD_TOO_LARGE => {
            format!("the request body is over {MAX_BODY} bytes, the most this server reads")
        }
        StatusCode::RANGE_NOT_SATISFIABLE => {
            format!("the range asked for is not in {path}")
        }
        _ if text.is_empty() => status
            .canonical_reason()
            .unwrap_or("request failed")
            .to_string(),
        _ => text,
    };
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    Response::from_parts(parts, Body::from(json!({ "error": message }).to_string()))
}
