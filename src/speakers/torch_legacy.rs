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
//! The pickle machine below covers the opcodes of protocol 2 that such a file uses and refuses
//! everything else (any other global, any other opcode) with an error naming the file, so a
//! file that is not a plain checkpoint is never half-read. Only `FloatStorage` is accepted.
//! Tensors are returned as dense row-major `f32` arrays: offset and strides are honoured (LSTM
//! weights saved from cuDNN are views at offsets into one flat storage).

use std::collections::HashMap;
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::path::Path;

use super::SpeakerError;

/// The magic number of the legacy format (first pickle of the file).
const MAGIC: i128 = 0x1950a86a20f9469cfc6c;
/// The protocol version of the legacy format (second pickle).
const PROTOCOL_VERSION: i128 = 1001;

/// A dense tensor: its shape and its elements in row-major order.
#[derive(Debug, Clone, PartialEq)]
pub struct Tensor {
    /// Size of each dimension.
    pub shape: Vec<usize>,
    /// `shape.iter().product()` elements, row-major.
    pub data: Vec<f32>,
}

/// A value of the pickle machine.
#[derive(Debug, Clone, PartialEq)]
enum Value {
    None,
    Bool(bool),
    Int(i128),
    Float(f64),
    Str(String),
    Tuple(Vec<Value>),
    List(Vec<Value>),
    /// A dict or an `OrderedDict`, items in insertion order.
    Dict(Vec<(Value, Value)>),
    /// A global the machine knows: `collections.OrderedDict`, `torch._utils._rebuild_tensor_v2`
    /// or `torch.FloatStorage`.
    Global(&'static str),
    /// A storage named by a persistent id.
    Storage {
        key: String,
        numel: usize,
    },
    /// A tensor view into a storage, not yet materialised.
    TensorRef {
        key: String,
        offset: usize,
        shape: Vec<usize>,
        stride: Vec<usize>,
    },
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
fn gather(storage: &[f32], offset: usize, shape: &[usize], stride: &[usize]) -> Option<Vec<f32>> {
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

/// The pickle machine: a stack, a mark stack and a memo.
struct Unpickler<'r, R: Read> {
    r: &'r mut R,
    stack: Vec<Value>,
    marks: Vec<usize>,
    memo: HashMap<u32, Value>,
}

impl<'r, R: Read> Unpickler<'r, R> {
    fn new(r: &'r mut R) -> Self {
        Self {
            r,
            stack: Vec::new(),
            marks: Vec::new(),
            memo: HashMap::new(),
        }
    }

    fn bytes<const N: usize>(&mut self) -> Result<[u8; N], String> {
        let mut b = [0u8; N];
        self.r
            .read_exact(&mut b)
            .map_err(|e| format!("truncated pickle: {e}"))?;
        Ok(b)
    }

    fn pop(&mut self) -> Result<Value, String> {
        self.stack
            .pop()
            .ok_or_else(|| "pickle stack underflow".to_string())
    }

    /// Everything pushed since the last MARK, which is removed.
    fn pop_mark(&mut self) -> Result<Vec<Value>, String> {
        let at = self.marks.pop().ok_or("pickle MARK missing")?;
        if at > self.stack.len() {
            return Err("pickle MARK past the stack".into());
        }
        Ok(self.stack.split_off(at))
    }

    fn top(&mut self) -> Result<&mut Value, String> {
        self.stack
            .last_mut()
            .ok_or_else(|| "pickle stack underflow".to_string())
    }

    fn run(mut self) -> Result<Value, String> {
        loop {
            let [op] = self.bytes::<1>()?;
            match op {
                0x80 => {
                    let [proto] = self.bytes::<1>()?;
                    if proto > 2 {
                        return Err(format!("pickle protocol {proto} (only 2 is read)"));
                    }
                }
                b'.' => return self.pop(),
                b'}' => self.stack.push(Value::Dict(Vec::new())),
                b']' => self.stack.push(Value::List(Vec::new())),
                b')' => self.stack.push(Value::Tuple(Vec::new())),
                b'(' => self.marks.push(self.stack.len()),
                b'N' => self.stack.push(Value::None),
                0x88 => self.stack.push(Value::Bool(true)),
                0x89 => self.stack.push(Value::Bool(false)),
                b'K' => {
                    let [b] = self.bytes::<1>()?;
                    self.stack.push(Value::Int(b.into()));
                }
                b'M' => {
                    let b = self.bytes::<2>()?;
                    self.stack.push(Value::Int(u16::from_le_bytes(b).into()));
                }
                b'J' => {
                    let b = self.bytes::<4>()?;
                    self.stack.push(Value::Int(i32::from_le_bytes(b).into()));
                }
                0x8a => {
                    let [n] = self.bytes::<1>()?;
                    let v = self.long(n.into())?;
                    self.stack.push(Value::Int(v));
                }
                b'G' => {
                    let b = self.bytes::<8>()?;
                    self.stack.push(Value::Float(f64::from_be_bytes(b)));
                }
                b'X' => {
                    let n = u32::from_le_bytes(self.bytes::<4>()?) as usize;
                    if n > 1 << 20 {
                        return Err(format!("string of {n} bytes"));
                    }
                    let mut s = vec![0u8; n];
                    self.r
                        .read_exact(&mut s)
                        .map_err(|e| format!("truncated pickle: {e}"))?;
                    let s = String::from_utf8(s).map_err(|_| "string is not UTF-8")?;
                    self.stack.push(Value::Str(s));
                }
                b'q' => {
                    let [i] = self.bytes::<1>()?;
                    let v = self.top()?.clone();
                    self.memo.insert(i.into(), v);
                }
                b'r' => {
                    let i = u32::from_le_bytes(self.bytes::<4>()?);
                    let v = self.top()?.clone();
                    self.memo.insert(i, v);
                }
                b'h' | b'j' => {
                    let i = match op {
                        b'h' => u32::from(self.bytes::<1>()?[0]),
                        _ => u32::from_le_bytes(self.bytes::<4>()?),
                    };
                    let v = self.memo.get(&i).ok_or(format!("memo {i} unset"))?.clone();
                    self.stack.push(v);
                }
                b't' => {
                    let items = self.pop_mark()?;
                    self.stack.push(Value::Tuple(items));
                }
                0x85..=0x87 => {
                    let n = usize::from(op - 0x84);
                    if self.stack.len() < n {
                        return Err("pickle stack underflow".into());
                    }
                    let items = self.stack.split_off(self.stack.len() - n);
                    self.stack.push(Value::Tuple(items));
                }
                b's' => {
                    let v = self.pop()?;
                    let k = self.pop()?;
                    self.set_items(vec![k, v])?;
                }
                b'u' => {
                    let items = self.pop_mark()?;
                    self.set_items(items)?;
                }
                b'a' => {
                    let v = self.pop()?;
                    self.append(vec![v])?;
                }
                b'e' => {
                    let items = self.pop_mark()?;
                    self.append(items)?;
                }
                b'c' => {
                    let module = self.line()?;
                    let name = self.line()?;
                    let global = match (module.as_str(), name.as_str()) {
                        ("collections", "OrderedDict") => "OrderedDict",
                        ("torch._utils", "_rebuild_tensor_v2") => "_rebuild_tensor_v2",
                        ("torch", "FloatStorage") => "FloatStorage",
                        _ => return Err(format!("refusing global {module}.{name}")),
                    };
                    self.stack.push(Value::Global(global));
                }
                b'Q' => {
                    let pid = self.pop()?;
                    self.stack.push(persistent_storage(pid)?);
                }
                b'R' => {
                    let args = self.pop()?;
                    let callable = self.pop()?;
                    self.stack.push(reduce(callable, args)?);
                }
                b'b' => {
                    // State set on an object: only the `_metadata` attribute torch puts on a
                    // state_dict's OrderedDict, which carries nothing the weights need.
                    let state = self.pop()?;
                    if !matches!((self.top()?, state), (Value::Dict(_), Value::Dict(_))) {
                        return Err("BUILD on something other than a dict".into());
                    }
                }
                _ => return Err(format!("unsupported pickle opcode 0x{op:02x}")),
            }
        }
    }

    /// A little-endian two's-complement integer of `n` bytes (LONG1).
    fn long(&mut self, n: usize) -> Result<i128, String> {
        if n > 16 {
            return Err(format!("integer of {n} bytes"));
        }
        let mut b = [0u8; 16];
        self.r
            .read_exact(&mut b[..n])
            .map_err(|e| format!("truncated pickle: {e}"))?;
        if n > 0 && n < 16 && b[n - 1] & 0x80 != 0 {
            b[n..].fill(0xff);
        }
        Ok(i128::from_le_bytes(b))
    }

    /// A newline-terminated ASCII line (GLOBAL's operands).
    fn line(&mut self) -> Result<String, String> {
        let mut s = Vec::new();
        loop {
            let [b] = self.bytes::<1>()?;
            if b == b'\n' {
                break;
            }
            if s.len() > 256 {
                return Err("GLOBAL name too long".into());
            }
            s.push(b);
        }
        String::from_utf8(s).map_err(|_| "GLOBAL name is not UTF-8".to_string())
    }

    fn set_items(&mut self, items: Vec<Value>) -> Result<(), String> {
        if items.len() % 2 != 0 {
            return Err("SETITEMS with an odd number of items".into());
        }
        let Value::Dict(dict) = self.top()? else {
            return Err("SETITEM on something other than a dict".into());
        };
        let mut it = items.into_iter();
        while let (Some(k), Some(v)) = (it.next(), it.next()) {
            match dict.iter_mut().find(|(old, _)| *old == k) {
                Some(slot) => slot.1 = v,
                None => dict.push((k, v)),
            }
        }
        Ok(())
    }

    fn append(&mut self, items: Vec<Value>) -> Result<(), String> {
        let Value::List(list) = self.top()? else {
            return Err("APPEND on something other than a list".into());
        };
        list.extend(items);
        Ok(())
    }
}

/// `('storage', torch.FloatStorage, key, location, numel, view_metadata)` → a storage.
fn persistent_storage(pid: Value) -> Result<Value, String> {
    match pid {
        Value::Tuple(t) => match t.as_slice() {
            [
                Value::Str(kind),
                Value::Global("FloatStorage"),
                Value::Str(key),
                Value::Str(_location),
                Value::Int(numel),
                Value::None,
            ] if kind == "storage" => Ok(Value::Storage {
                key: key.clone(),
                numel: usize::try_from(*numel).map_err(|_| "negative storage size")?,
            }),
            _ => Err(format!(
                "unsupported persistent id {t:?} (only FloatStorage is read)"
            )),
        },
        other => Err(format!("persistent id {other:?} is not a tuple")),
    }
}

/// Calls one of the known globals.
fn reduce(callable: Value, args: Value) -> Result<Value, String> {
    let Value::Tuple(args) = args else {
        return Err("REDUCE arguments are not a tuple".into());
    };
    match (callable, args.as_slice()) {
        (Value::Global("OrderedDict"), []) => Ok(Value::Dict(Vec::new())),
        (
            Value::Global("_rebuild_tensor_v2"),
            [
                Value::Storage { key, numel },
                Value::Int(offset),
                Value::Tuple(size),
                Value::Tuple(stride),
                Value::Bool(_requires_grad),
                _backward_hooks,
            ],
        ) => {
            let dims = |t: &[Value]| -> Result<Vec<usize>, String> {
                t.iter()
                    .map(|v| match v {
                        Value::Int(i) => usize::try_from(*i).map_err(|_| "negative size".into()),
                        _ => Err("tensor size is not an integer".to_string()),
                    })
                    .collect()
            };
            let (shape, stride) = (dims(size)?, dims(stride)?);
            if shape.len() != stride.len() {
                return Err(format!("tensor of storage {key}: size and stride differ"));
            }
            let offset = usize::try_from(*offset).map_err(|_| "negative offset")?;
            if offset > *numel {
                return Err(format!("tensor offset {offset} past storage {key}"));
            }
            Ok(Value::TensorRef {
                key: key.clone(),
                offset,
                shape,
                stride,
            })
        }
        (callable, args) => Err(format!("refusing to call {callable:?} with {args:?}")),
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
    fn long1_reads_the_magic_and_negative_numbers() {
        let mut magic: &[u8] = b"\x80\x02\x8a\x0a\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19.";
        assert_eq!(Unpickler::new(&mut magic).run(), Ok(Value::Int(MAGIC)));
        let mut minus_two: &[u8] = b"\x80\x02\x8a\x01\xfe.";
        assert_eq!(Unpickler::new(&mut minus_two).run(), Ok(Value::Int(-2)));
    }

    #[test]
    fn refuses_unknown_globals_and_opcodes() {
        let mut os_system: &[u8] = b"\x80\x02cos\nsystem\nq\x00.";
        let err = Unpickler::new(&mut os_system).run().unwrap_err();
        assert!(err.contains("refusing global os.system"), "{err}");
        let mut protocol4: &[u8] = b"\x80\x04N.";
        assert!(Unpickler::new(&mut protocol4).run().is_err());
        let mut frame: &[u8] = b"\x80\x02\x95N.";
        let err = Unpickler::new(&mut frame).run().unwrap_err();
        assert!(err.contains("0x95"), "{err}");
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
