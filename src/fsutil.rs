//! Writing files so that a crash or Ctrl-C never leaves one half written: write to a temporary
//! file in the same directory, flush, then rename over the target (atomic on one file system).

use std::io::Write;
use std::path::Path;

/// Write `bytes` to `path` atomically, creating the parent directory if needed, and flush it to
/// disk before the rename: for files a person or a later stage relies on.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    write_via_temp(path, bytes, true)
}

/// Like [`write_atomic`] but without the flush to disk: for cache files, which are validated on
/// every read (a file torn by a power loss is detected and made again), where a sync inside every
/// request would cost throughput. The rename still makes Ctrl-C and crashes safe.
pub fn write_atomic_unsynced(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    write_via_temp(path, bytes, false)
}

fn write_via_temp(path: &Path, bytes: &[u8], sync: bool) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    std::fs::create_dir_all(dir)?;
    // Created like any other output (mode 0666 less the umask): subs.srt and the manifests are
    // files people edit and share.
    let tmp = temp_sibling(path);
    let written = (|| {
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)?;
        file.write_all(bytes)?;
        if sync {
            file.sync_data()?;
        }
        std::fs::rename(&tmp, path)
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written
}

/// A temporary name beside `path` for a file written by a stream or another program and renamed
/// over `path` when complete: `.<stem>.part-<pid>-<n>.<ext>`, unique per process and call (two
/// videos, or two processes, never share one), the extension kept so that tools that pick a format
/// by it (ffmpeg) still do.
pub fn temp_sibling(path: &Path) -> std::path::PathBuf {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let stem = path
        .file_stem()
        .map_or_else(|| "file".into(), |s| s.to_string_lossy().into_owned());
    let name = match path.extension() {
        Some(ext) => format!(
            ".{stem}.part-{}-{n}.{}",
            std::process::id(),
            ext.to_string_lossy()
        ),
        None => format!(".{stem}.part-{}-{n}", std::process::id()),
    };
    path.with_file_name(name)
}

/// Serialise `value` as pretty JSON and write it atomically.
pub fn write_json_atomic<T: serde::Serialize>(path: &Path, value: &T) -> std::io::Result<()> {
    let mut text = serde_json::to_string_pretty(value).map_err(std::io::Error::other)?;
    text.push('\n');
    write_atomic(path, text.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    #[test]
    fn written_files_follow_the_umask_like_any_created_file() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let plain = dir.path().join("plain.txt");
        std::fs::File::create(&plain).unwrap();
        let ours = dir.path().join("subs.srt");
        write_atomic(&ours, b"1\n").unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&ours), mode(&plain));
        assert_ne!(mode(&ours), 0o600);
        let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(names.len(), 2, "no temporary file is left");
    }

    #[test]
    fn temp_names_differ_per_call_and_keep_the_extension() {
        let a = temp_sibling(Path::new("w/mix.wav"));
        let b = temp_sibling(Path::new("w/mix.wav"));
        assert_ne!(a, b);
        assert_eq!(a.extension().unwrap(), "wav");
        assert_eq!(a.parent().unwrap(), Path::new("w"));
    }
}
