//! A reader for PyTorch's zip checkpoint format (`torch.save` since 1.6), enough to load a
//! `state_dict` of float tensors such as SpeechBrain's ECAPA `embedding_model.ckpt`.
//!
//! Why read the checkpoint itself rather than convert it at install time: the file installed is
//! then exactly the one pinned by SHA-256 (nothing generated to go stale or be trusted), setup
//! needs no Python beyond pip, and the reader is small: torch writes its zip entries *stored*
//! (uncompressed, 64-byte aligned), so no inflate is needed, and the pickle is the same protocol
//! 2 the legacy reader runs (`pickle`). The layout:
//!
//! - `<name>/data.pkl`: the pickled `state_dict`; each tensor is
//!   `torch._utils._rebuild_tensor_v2(storage, offset, size, stride, requires_grad, hooks)` with
//!   `storage` a persistent id `('storage', torch.FloatStorage, key, location, numel)`;
//! - `<name>/data/<key>`: the raw little-endian elements of each storage;
//! - `<name>/version`, `<name>/byteorder` (absent in older files: little-endian).
//!
//! Only the zip's central directory is parsed (no zip64: checkpoints over 4 GB are refused), and
//! any compressed entry is refused. Long storages (`num_batches_tracked`) are skipped.

use std::collections::HashMap;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

use super::SpeakerError;
use super::pickle::{Unpickler, Value};
use super::torch_legacy::{Tensor, gather};

/// Where an entry's bytes are in the file.
#[derive(Debug, Clone, Copy)]
struct Entry {
    /// Offset of its local header.
    header: u64,
    /// Its size (stored: compressed = uncompressed).
    size: u64,
}

fn u16_at(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([b[at], b[at + 1]])
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

/// The entries of the zip's central directory, by name.
fn directory(file: &mut File) -> Result<HashMap<String, Entry>, String> {
    let len = file.seek(SeekFrom::End(0)).map_err(|e| e.to_string())?;
    // The end-of-central-directory record is 22 bytes plus a comment of up to 64 KiB.
    let tail_len = len.min(22 + 65_535);
    let mut tail = vec![0u8; tail_len as usize];
    file.seek(SeekFrom::Start(len - tail_len))
        .map_err(|e| e.to_string())?;
    file.read_exact(&mut tail).map_err(|e| e.to_string())?;
    let eocd = (0..tail.len().saturating_sub(21))
        .rev()
        .find(|&i| u32_at(&tail, i) == 0x0605_4b50)
        .ok_or("not a zip file (no end of central directory)")?;
    let count = usize::from(u16_at(&tail, eocd + 10));
    let dir_size = u32_at(&tail, eocd + 12);
    let dir_offset = u32_at(&tail, eocd + 16);
    if dir_offset == u32::MAX || u64::from(dir_offset) + u64::from(dir_size) > len {
        return Err("zip64 or damaged central directory".into());
    }
    let mut dir = vec![0u8; dir_size as usize];
    file.seek(SeekFrom::Start(dir_offset.into()))
        .map_err(|e| e.to_string())?;
    file.read_exact(&mut dir).map_err(|e| e.to_string())?;
    let mut entries = HashMap::with_capacity(count);
    let mut at = 0;
    for _ in 0..count {
        if at + 46 > dir.len() || u32_at(&dir, at) != 0x0201_4b50 {
            return Err("damaged zip central directory".into());
        }
        let method = u16_at(&dir, at + 10);
        let size = u32_at(&dir, at + 24);
        let name_len = usize::from(u16_at(&dir, at + 28));
        let extra_len = usize::from(u16_at(&dir, at + 30));
        let comment_len = usize::from(u16_at(&dir, at + 32));
        let header = u32_at(&dir, at + 42);
        let name = dir
            .get(at + 46..at + 46 + name_len)
            .ok_or("damaged zip central directory")?;
        let name = String::from_utf8_lossy(name).into_owned();
        if method != 0 {
            return Err(format!(
                "zip entry {name} is compressed (torch stores them)"
            ));
        }
        entries.insert(
            name,
            Entry {
                header: header.into(),
                size: size.into(),
            },
        );
        at += 46 + name_len + extra_len + comment_len;
    }
    Ok(entries)
}

/// The bytes of one stored entry.
fn read_entry(file: &mut File, entry: Entry) -> Result<Vec<u8>, String> {
    let mut local = [0u8; 30];
    file.seek(SeekFrom::Start(entry.header))
        .map_err(|e| e.to_string())?;
    file.read_exact(&mut local).map_err(|e| e.to_string())?;
    if u32_at(&local, 0) != 0x0403_4b50 {
        return Err("damaged zip local header".into());
    }
    let skip = i64::from(u16_at(&local, 26)) + i64::from(u16_at(&local, 28));
    file.seek(SeekFrom::Current(skip))
        .map_err(|e| e.to_string())?;
    let mut data = vec![0u8; entry.size as usize];
    file.read_exact(&mut data)
        .map_err(|e| format!("truncated entry: {e}"))?;
    Ok(data)
}

/// Reads every float tensor of the `state_dict` saved (as the top-level object) in the zip
/// checkpoint at `path`, by name. Non-float tensors are left out.
pub fn load_zip_state_dict(path: &Path) -> Result<HashMap<String, Tensor>, SpeakerError> {
    let bad = |reason: String| SpeakerError::Model {
        path: path.to_path_buf(),
        reason,
    };
    let mut file = File::open(path).map_err(|source| SpeakerError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let entries = directory(&mut file).map_err(bad)?;
    let (pkl_name, pkl) = entries
        .iter()
        .find(|(name, _)| name.ends_with("/data.pkl"))
        .ok_or_else(|| bad("no data.pkl: not a torch zip checkpoint".into()))?;
    let prefix = pkl_name.trim_end_matches("data.pkl").to_string();
    if let Some(order) = entries.get(&format!("{prefix}byteorder")) {
        let order = read_entry(&mut file, *order).map_err(bad)?;
        if order != b"little" {
            return Err(bad("only little-endian checkpoints are read".into()));
        }
    }
    let pickle = read_entry(&mut file, *pkl).map_err(|e| bad(format!("data.pkl: {e}")))?;
    let object = Unpickler::new(&mut pickle.as_slice())
        .run()
        .map_err(|e| bad(format!("data.pkl: {e}")))?;
    let Value::Dict(items) = object else {
        return Err(bad("the checkpoint is not a state_dict".into()));
    };

    let mut storages: HashMap<String, Vec<f32>> = HashMap::new();
    let mut tensors = HashMap::new();
    for (name, v) in items {
        let (
            Value::Str(name),
            Value::TensorRef {
                key,
                float,
                offset,
                shape,
                stride,
            },
        ) = (name, v)
        else {
            return Err(bad(
                "the state_dict holds something other than tensors".into()
            ));
        };
        if !float {
            continue;
        }
        if !storages.contains_key(&key) {
            let entry = entries
                .get(&format!("{prefix}data/{key}"))
                .ok_or_else(|| bad(format!("tensor {name}: storage {key} is not in the file")))?;
            let raw =
                read_entry(&mut file, *entry).map_err(|e| bad(format!("storage {key}: {e}")))?;
            let data = raw
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .collect();
            storages.insert(key.clone(), data);
        }
        let data = gather(&storages[&key], offset, &shape, &stride)
            .ok_or_else(|| bad(format!("tensor {name}: view runs past its storage {key}")))?;
        tensors.insert(name, Tensor { shape, data });
    }
    Ok(tensors)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_that_is_not_a_zip_is_refused_naming_it() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("model.ckpt");
        std::fs::write(&path, b"\x80\x02 a legacy checkpoint, not a zip").unwrap();
        let err = load_zip_state_dict(&path).unwrap_err().to_string();
        assert!(
            err.contains("model.ckpt") && err.contains("not a zip"),
            "{err}"
        );
    }
}
