//! The video and the dub track for the page's players, with HTTP Range requests (206): a browser
//! seeks a 20-minute video by asking for the bytes it needs, and streams the rest in pieces.
//!
//! Files are streamed from disk, never read whole. A render replaces `dub.wav` by renaming a new
//! file over it, so a response already under way keeps reading the track it started with.

use std::path::Path;

use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use tokio::io::{AsyncReadExt, AsyncSeekExt};

/// The most an open-ended range (`bytes=N-`) gets in one response; the browser asks again.
const OPEN_RANGE_MAX: u64 = 8 << 20;
/// Bytes read from disk at a time.
const READ_BLOCK: usize = 64 << 10;

/// The MIME type of a video by its extension, as browsers know them.
pub fn video_type(path: &Path) -> &'static str {
    match path
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .as_deref()
    {
        Some("mp4" | "m4v") => "video/mp4",
        Some("webm") => "video/webm",
        Some("mkv") => "video/x-matroska",
        Some("mov") => "video/quicktime",
        Some("ogv") => "video/ogg",
        _ => "application/octet-stream",
    }
}

/// A `Range` header this server cannot satisfy (answered 416).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unsatisfiable;

/// A parsed `Range` header for a file of `len` bytes: the inclusive byte range, or
/// [`Unsatisfiable`]. Only single ranges are served (browsers ask for no other kind).
pub fn parse_range(value: &str, len: u64) -> Result<(u64, u64), Unsatisfiable> {
    parse(value, len).ok_or(Unsatisfiable)
}

fn parse(value: &str, len: u64) -> Option<(u64, u64)> {
    let spec = value.trim().strip_prefix("bytes=")?;
    if spec.contains(',') {
        return None;
    }
    let (first, last) = spec.split_once('-')?;
    let (first, last) = (first.trim(), last.trim());
    if first.is_empty() {
        // The last N bytes.
        let n: u64 = last.parse().ok()?;
        if n == 0 || len == 0 {
            return None;
        }
        return Some((len.saturating_sub(n), len - 1));
    }
    let start: u64 = first.parse().ok()?;
    if start >= len {
        return None;
    }
    let end = match last.is_empty() {
        true => (start + OPEN_RANGE_MAX - 1).min(len - 1),
        false => last.parse::<u64>().ok()?.min(len - 1),
    };
    if end < start {
        return None;
    }
    Some((start, end))
}

/// `path` as a response: whole (200) or the requested range (206), 416 for a range past the end.
pub async fn serve(path: &Path, headers: &HeaderMap, content_type: &'static str) -> Response {
    let not_found = |e: std::io::Error| {
        (StatusCode::NOT_FOUND, format!("{}: {e}", path.display())).into_response()
    };
    let mut file = match tokio::fs::File::open(path).await {
        Ok(f) => f,
        Err(e) => return not_found(e),
    };
    let len = match file.metadata().await {
        Ok(m) => m.len(),
        Err(e) => return not_found(e),
    };
    let range = headers
        .get(header::RANGE)
        .and_then(|v| v.to_str().ok())
        .map(|v| parse_range(v, len));
    let (status, start, count) = match range {
        None => (StatusCode::OK, 0, len),
        Some(Ok((start, end))) => (StatusCode::PARTIAL_CONTENT, start, end - start + 1),
        Some(Err(Unsatisfiable)) => {
            return (
                StatusCode::RANGE_NOT_SATISFIABLE,
                [(header::CONTENT_RANGE, format!("bytes */{len}"))],
            )
                .into_response();
        }
    };
    if let Err(e) = file.seek(std::io::SeekFrom::Start(start)).await {
        return not_found(e);
    }
    let stream = futures_util::stream::unfold((file, count), |(mut file, left)| async move {
        if left == 0 {
            return None;
        }
        let mut buf = vec![0u8; READ_BLOCK.min(usize::try_from(left).unwrap_or(READ_BLOCK))];
        match file.read(&mut buf).await {
            Ok(0) => None,
            Ok(n) => {
                buf.truncate(n);
                Some((
                    Ok::<_, std::io::Error>(Bytes::from(buf)),
                    (file, left - n as u64),
                ))
            }
            Err(e) => Some((Err(e), (file, 0))),
        }
    });
    let mut response = Response::new(Body::from_stream(stream));
    *response.status_mut() = status;
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static(content_type),
    );
    h.insert(
        header::ACCEPT_RANGES,
        header::HeaderValue::from_static("bytes"),
    );
    h.insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-store"),
    );
    h.insert(header::CONTENT_LENGTH, count.into());
    if status == StatusCode::PARTIAL_CONTENT
        && let Ok(v) = format!("bytes {start}-{}/{len}", start + count - 1).parse()
    {
        h.insert(header::CONTENT_RANGE, v);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_parse_as_browsers_send_them() {
        assert_eq!(parse_range("bytes=0-99", 1000), Ok((0, 99)));
        assert_eq!(parse_range("bytes=900-", 1000), Ok((900, 999)));
        assert_eq!(parse_range("bytes=-100", 1000), Ok((900, 999)));
        assert_eq!(parse_range("bytes=990-2000", 1000), Ok((990, 999)));
        assert_eq!(
            parse_range("bytes=0-", 100 << 20),
            Ok((0, OPEN_RANGE_MAX - 1))
        );
        assert_eq!(parse_range("bytes=1000-", 1000), Err(Unsatisfiable));
        assert_eq!(parse_range("bytes=5-1", 1000), Err(Unsatisfiable));
        assert_eq!(parse_range("bytes=0-1,5-6", 1000), Err(Unsatisfiable));
        assert_eq!(parse_range("items=0-1", 1000), Err(Unsatisfiable));
    }
}
