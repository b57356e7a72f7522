//! A reader for PyTorch's legacy (pre-1.6, non-zip) `torch.save` format, enough to load a
//! `state_dict` of float tensors such as Resemblyzer's `pretrained.pt`.
//!
//! Why a reader of our own: candle and serde-pickle read neither this container nor torch's
//! persistent storage ids, and a deep-learning framework is far more than the ~40 opcodes one
//! checkpoint needs. The layout, as `torch.serialization._legacy_save` writes it:
//!
//! 1. pickle: the magic number `0x1950a86a20f9469cfc6c`;
//! 2. pickle: the protocol version, `1001`;
//! 3. pickle: a `sys_info` dict (`little_endian` must be true);
//! 4. pickle: the saved object; each tensor is `torch._utils._rebuild_tensor_v2(storage, offset,
//!    size, stride, requires_grad, backward_hooks)` where `storage` is a persistent id
//!    `('storage', torch.FloatStorage, key, location, numel, view_metadata)`;
//! 5. pickle: the list of storage keys, in the order their data follows;
//! 6. for each key: the element count as 8 bytes little-endian, then the raw little-endian data.
//!
//! The pickle machine (`pickle`) covers the opcodes of protocol 2 that such a file uses and
//! refuses everything else (any other global, any other opcode); the error names the file, so a
//! file that is not a plain checkpoint is never half-read. Only `FloatStorage` is accepted.
//! Tensors are returned as dense row-major `f32` arrays: offset and strides are honoured (LSTM
//! weights saved from cuDNN are views at offsets into one flat storage).

use std::collections::HashMap;
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::path::Path;

use super::SpeakerError;
use super::pickle::{MAGIC, PROTOCOL_VERSION, Unpickler, Value};

/// A dense tensor: its shape and its elements in row-major order.
#[derive(Debug, Clone, PartialEq)]
pub struct Tensor {
    /// Size of each dimension.
    pub shape: Vec<usize>,
    /// `shape.iter().product()` elements, row-major.
    pub data: Vec<f32>,
}

/// Reads every tensor of the `state_dict` stored under `entry` (e.g. `"model_state"`) of the
/// legacy checkpoint at `path`, by name.
pub fn load_state_dict(path: &Path, entry: &str) -> Result<HashMap<String, Tensor>, SpeakerError> {
    let bad = |reason: String| SpeakerError::Model {
        path: path.to_path_buf(),
        reason,
    };
    let io = |source: std::io::Error| SpeakerError::Io {
        path: path.to_path_buf(),
        source,
    };
    let file = std::fs::File::open(path).map_err(io)?;
    let mut r = BufReader::new(file);
    let mut pickle = |what: &str| {
        Unpickler::new(&mut r)
            .run()
            .map_err(|e| bad(format!("{what}: {e}")))
    };
    if pickle("magic number")? != Value::Int(MAGIC) {
        return Err(bad(
            "not a legacy torch.save file (magic number differs; zip checkpoints are not read)"
                .into(),
        ));
    }
    if pickle("protocol version")? != Value::Int(PROTOCOL_VERSION) {
        return Err(bad("unknown legacy protocol version".into()));
    }
    let sys_info = pickle("sys_info")?;
    if dict_get(&sys_info, "little_endian") != Some(&Value::Bool(true)) {
        return Err(bad("only little-endian checkpoints are read".into()));
    }
    let object = pickle("saved object")?;
    let Value::List(keys) = pickle("storage keys")? else {
        return Err(bad("the storage key list is not a list".into()));
    };
    let Some(Value::Dict(items)) = dict_get(&object, entry) else {
        return Err(bad(format!("no '{entry}' dict in the checkpoint")));
    };

    // Which storages the entry's tensors use, and how many elements each has.
    let mut wanted: HashMap<String, Option<Vec<f32>>> = HashMap::new();
    for (_, v) in items {
        if let Value::TensorRef { key, .. } = v {
            wanted.insert(key.clone(), None);
        }
    }
    for (index, key) in keys.iter().enumerate() {
        let Value::Str(key) = key else {
            return Err(bad(format!("storage key #{index} is not a string")));
        };
        let mut count = [0u8; 8];
        r.read_exact(&mut count).map_err(io)?;
        let count = u64::from_le_bytes(count);
        let bytes = count
            .checked_mul(4)
            .filter(|b| *b < 1 << 40)
            .ok_or_else(|| bad(format!("storage {key}: absurd size {count}")))?;
        match wanted.get_mut(key) {
            Some(slot) => {
                let mut raw = vec![0u8; bytes as usize];
                r.read_exact(&mut raw)
                    .map_err(|e| bad(format!("storage {key} (#{index}) is truncated: {e}")))?;
                let data = raw
                    .chunks_exact(4)
                    .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                    .collect();
                *slot = Some(data);
            }
            None => {
                r.seek(SeekFrom::Current(bytes as i64)).map_err(io)?;
            }
        }
    }

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
            return Err(bad(format!(
                "'{entry}' holds something other than named tensors"
            )));
        };
        if !float {
            return Err(bad(format!("tensor {name} is not float32")));
        }
        let Some(Some(storage)) = wanted.get(key) else {
            return Err(bad(format!(
                "tensor {name}: storage {key} is not in the file"
            )));
        };
        let data = gather(storage, *offset, shape, stride)
            .ok_or_else(|| bad(format!("tensor {name}: view runs past its storage {key}")))?;
        tensors.insert(
            name.clone(),
            Tensor {
                shape: shape.clone(),
                data,
            },
        );
    }
    Ok(tensors)
}

/// The elements of the strided view `(offset, shape, stride)` of `storage`, row-major; `None`
/// when the view reaches past the storage.
pub(super) fn gather(
    storage: &[f32],
    offset: usize,
    shape: &[usize],
    stride: &[usize],
) -> Option<Vec<f32>> {
    let numel: usize = shape.iter().product();
    if numel == 0 {
        return Some(Vec::new());
    }
    let last = shape.iter().zip(stride).try_fold(offset, |acc, (&n, &s)| {
        acc.checked_add((n - 1).checked_mul(s)?)
    })?;
    if last >= storage.len() {
        return None;
    }
    let mut out = Vec::with_capacity(numel);
    let mut index = vec![0usize; shape.len()];
    for _ in 0..numel {
        let at: usize = offset + index.iter().zip(stride).map(|(i, s)| i * s).sum::<usize>();
        out.push(storage[at]);
        for d in (0..shape.len()).rev() {
            index[d] += 1;
            if index[d] < shape[d] {
                break;
            }
            index[d] = 0;
        }
    }
    Some(out)
}

fn dict_get<'a>(dict: &'a Value, key: &str) -> Option<&'a Value> {
    match dict {
        Value::Dict(items) => items
            .iter()
            .find(|(k, _)| matches!(k, Value::Str(s) if s == key))
            .map(|(_, v)| v),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gather_honours_offset_and_stride() {
        let storage: Vec<f32> = (0..10).map(|i| i as f32).collect();
        // A 2×3 view at offset 2, row-major.
        assert_eq!(
            gather(&storage, 2, &[2, 3], &[3, 1]).unwrap(),
            vec![2., 3., 4., 5., 6., 7.]
        );
        // Its transpose (3×2, strides swapped).
        assert_eq!(
            gather(&storage, 2, &[3, 2], &[1, 3]).unwrap(),
            vec![2., 5., 3., 6., 4., 7.]
        );
        assert!(gather(&storage, 5, &[2, 3], &[3, 1]).is_none());
    }

    #[test]
    fn a_file_that_is_not_a_checkpoint_is_refused_naming_it() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("weights.pt");
        std::fs::write(&path, b"PK\x03\x04 a zip checkpoint").unwrap();
        let err = load_state_dict(&path, "model_state")
            .unwrap_err()
            .to_string();
        assert!(err.contains("weights.pt"), "{err}");
    }
}
