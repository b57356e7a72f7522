//! `models fetch` against a local HTTP server on 127.0.0.1 serving files the way Hugging Face
//! does (content length, SHA-256 ETag): progress, checksum, atomic install.

use std::sync::{Arc, Mutex};

use dubber::models::DataDir;
use dubber::models::fetch::{FetchError, fetch, remote_model};
use sha2::{Digest, Sha256};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

/// Serves any path: the body is the path repeated `size` bytes long; the ETag is its SHA-256,
/// or a wrong one for paths containing "corrupt".
async fn serve(size: usize) -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let host = format!("http://{}", listener.local_addr().unwrap());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    tokio::spawn(async move {
        loop {
            let (stream, _) = listener.accept().await.unwrap();
            let log = log.clone();
            tokio::spawn(async move {
                let mut reader = BufReader::new(stream);
                let mut request_line = String::new();
                reader.read_line(&mut request_line).await.unwrap();
                loop {
                    let mut line = String::new();
                    reader.read_line(&mut line).await.unwrap();
                    if line == "\r\n" || line.is_empty() {
                        break;
                    }
                }
                let path = request_line.split_whitespace().nth(1).unwrap().to_string();
                log.lock().unwrap().push(path.clone());
                let body: Vec<u8> = path.bytes().cycle().take(size).collect();
                let mut sha = format!("{:x}", Sha256::digest(&body));
                if path.contains("corrupt") {
                    sha = "0".repeat(64);
                }
                if path.contains("sha1") {
                    // What Hugging Face sends for small (non-LFS) files: a git SHA-1.
                    sha = "a".repeat(40);
                }
                if path.contains("stall") {
                    // Headers, then silence.
                    let head = format!("HTTP/1.1 200 OK\r\ncontent-length: {}\r\n\r\n", body.len());
                    let mut stream = reader.into_inner();
                    stream.write_all(head.as_bytes()).await.unwrap();
                    tokio::time::sleep(std::time::Duration::from_secs(30)).await;
                    return;
                }
                let head = format!(
                    "HTTP/1.1 200 OK\r\ncontent-length: {}\r\netag: \"{sha}\"\r\n\
                     connection: close\r\n\r\n",
                    body.len()
                );
                let mut stream = reader.into_inner();
                stream.write_all(head.as_bytes()).await.unwrap();
                stream.write_all(&body).await.unwrap();
                stream.shutdown().await.unwrap();
            });
        }
    });
    (host, seen)
}

#[tokio::test]
async fn fetches_a_whisper_model_with_progress_and_checksums() {
    let (host, seen) = serve(200_000).await;
    let tmp = tempfile::tempdir().unwrap();
    let data = DataDir::at(tmp.path());
    let model = remote_model("tiny.en", &host).unwrap();
    let reports = Mutex::new(Vec::new());
    let fetched = fetch(&data, &model, &|file, done, total| {
        reports.lock().unwrap().push((file, done, total));
    })
    .await
    .unwrap();
    assert_eq!(fetched.unverified, Vec::<String>::new());
    let installed = fetched.path;
    assert_eq!(installed, data.whisper_models_dir().join("tiny.en"));
    // Now resolvable like a model installed by the setup script.
    assert_eq!(data.whisper_model(None, None).unwrap(), installed);
    let bytes = std::fs::read(installed.join("model.bin")).unwrap();
    assert_eq!(bytes.len(), 200_000);
    assert!(bytes.starts_with(b"/Systran/faster-whisper-tiny.en/resolve/main/model.bin"));
    // Progress: every file starts at 0 and ends at its full size.
    let reports = reports.into_inner().unwrap();
    for file in 0..4 {
        let mine: Vec<_> = reports.iter().filter(|r| r.0 == file).collect();
        assert_eq!((mine[0].1, mine[0].2), (0, Some(200_000)));
        assert_eq!(mine.last().unwrap().1, 200_000);
        assert!(mine.windows(2).all(|w| w[0].1 <= w[1].1));
    }
    assert_eq!(seen.lock().unwrap().len(), 4);
    // The SOURCE note names each URL and hash; `installed()` shows it.
    let note = std::fs::read_to_string(installed.join("SOURCE")).unwrap();
    assert_eq!(note.lines().count(), 4);
    let listed = data.installed().unwrap();
    assert_eq!(listed.len(), 1);
    assert!(listed[0].source.as_deref().unwrap().starts_with(&host));
    assert!(!installed.join("model.bin.part").exists());
}

#[tokio::test]
async fn a_corrupt_download_is_refused_and_not_installed() {
    let (host, _) = serve(50_000).await;
    let tmp = tempfile::tempdir().unwrap();
    let data = DataDir::at(tmp.path());
    // A voice whose name routes it to the server's corrupting path.
    let model = remote_model("en_US-corrupt-low", &host).unwrap();
    let err = fetch(&data, &model, &|_, _, _| {}).await.unwrap_err();
    match &err {
        FetchError::Checksum {
            expected, actual, ..
        } => {
            assert_eq!(expected, &"0".repeat(64));
            assert_eq!(actual.len(), 64);
        }
        other => panic!("expected a checksum error, got {other:?}"),
    }
    let voices = data.voices_dir();
    let left: Vec<_> = std::fs::read_dir(&voices).unwrap().flatten().collect();
    assert!(left.is_empty(), "{left:?}");
    assert!(data.piper_voice(Some("en_US-corrupt-low"), None).is_err());
}

#[tokio::test]
async fn a_file_without_a_known_sha256_is_reported_unverified() {
    let (host, _) = serve(5_000).await;
    let tmp = tempfile::tempdir().unwrap();
    let data = DataDir::at(tmp.path());
    let model = remote_model("en_US-sha1-low", &host).unwrap();
    let fetched = fetch(&data, &model, &|_, _, _| {}).await.unwrap();
    assert_eq!(fetched.unverified.len(), 2, "{fetched:?}");
    assert!(fetched.unverified[1].ends_with("en_US-sha1-low.onnx"));
}

#[tokio::test]
async fn a_stalled_download_fails_and_leaves_nothing() {
    let (host, _) = serve(5_000).await;
    let tmp = tempfile::tempdir().unwrap();
    let data = DataDir::at(tmp.path());
    let model = remote_model("en_US-stall-low", &host).unwrap();
    let started = std::time::Instant::now();
    let err = dubber::models::fetch::fetch_with_stall_timeout(
        &data,
        &model,
        &|_, _, _| {},
        std::time::Duration::from_millis(500),
    )
    .await
    .unwrap_err();
    assert!(err.to_string().contains("stalled"), "{err}");
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
    let left: Vec<_> = std::fs::read_dir(data.voices_dir())
        .map(|d| d.flatten().collect())
        .unwrap_or_default();
    assert!(left.is_empty(), "{left:?}");
}
