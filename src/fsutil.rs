//! Writing files so that a crash or Ctrl-C never leaves one half written: write to a temporary
//! file in the same directory, flush, then rename over the target (atomic on one file system).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

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
    let tmp = TempFile::beside(path);
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(tmp.path())?;
    file.write_all(bytes)?;
    if sync {
        file.sync_data()?;
    }
    tmp.persist(path)
}

/// A temporary file beside its target, for a file written by a stream or another program and
/// renamed over the target when complete ([`TempFile::persist`]). Its name is
/// `.<stem>.part-<pid>-<n>.<ext>`: unique per process and call (two videos, or two processes,
/// never share one), the extension kept so that tools that pick a format by it (ffmpeg) still do.
/// Dropped without being persisted (an error, a panic), the file is removed; on Ctrl-C the binary
/// removes every one still live ([`remove_live_temp_files`]).
#[derive(Debug)]
pub struct TempFile {
    path: PathBuf,
}

/// The temporary files not yet persisted or dropped, for [`remove_live_temp_files`].
static LIVE: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

fn live() -> std::sync::MutexGuard<'static, Vec<PathBuf>> {
    LIVE.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl TempFile {
    pub fn beside(target: &Path) -> Self {
        use std::sync::atomic::{AtomicU64, Ordering};
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let stem = target
            .file_stem()
            .map_or_else(|| "file".into(), |s| s.to_string_lossy().into_owned());
        let pid = std::process::id();
        let name = match target.extension() {
            Some(ext) => format!(".{stem}.part-{pid}-{n}.{}", ext.to_string_lossy()),
            None => format!(".{stem}.part-{pid}-{n}"),
        };
        let path = target.with_file_name(name);
        live().push(path.clone());
        Self { path }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Rename the finished file over `target` (atomic on one file system).
    pub fn persist(self, target: &Path) -> std::io::Result<()> {
        std::fs::rename(&self.path, target)
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        // After `persist` the file is gone already; otherwise it is an unfinished one.
        let _ = std::fs::remove_file(&self.path);
        live().retain(|p| p != &self.path);
    }
}

/// Remove every temporary file of this process that is still being written: what the binary does
/// on Ctrl-C before it exits, since exiting runs no destructors.
pub fn remove_live_temp_files() {
    for path in live().drain(..) {
        let _ = std::fs::remove_file(path);
    }
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
    fn temp_files_differ_per_call_keep_the_extension_and_go_away() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("mix.wav");
        let (a, b) = (TempFile::beside(&target), TempFile::beside(&target));
        assert_ne!(a.path(), b.path());
        assert_eq!(a.path().extension().unwrap(), "wav");
        assert_eq!(a.path().parent().unwrap(), dir.path());
        std::fs::write(a.path(), b"a").unwrap();
        std::fs::write(b.path(), b"b").unwrap();
        a.persist(&target).unwrap();
        drop(b);
        assert_eq!(std::fs::read(&target).unwrap(), b"a");
        // `remove_live_temp_files` removes every live one of the process, so it cannot run beside
        // other tests: the Ctrl-C test of `dubber synth` covers it.
        let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(names.len(), 1, "only the target is left");
    }
}
