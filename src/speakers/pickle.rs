//! The minimal pickle machine the legacy `torch.save` reader (`torch_legacy`) runs: protocol 2,
//! the ~30 opcodes a checkpoint of float tensors uses (listed with Python's `pickletools.dis` on
//! Resemblyzer's `pretrained.pt` and SpeechBrain's ECAPA `embedding_model.ckpt`), and only four
//! globals (`collections.OrderedDict`, `torch._utils._rebuild_tensor_v2`, `torch.FloatStorage`,
//! `torch.LongStorage`). Nothing is ever called or imported:
//! a `REDUCE` of a known global builds a plain value, anything else is an error. Errors are
//! plain messages; the caller adds the file.

use std::collections::HashMap;
use std::io::Read;

/// The magic number of the legacy format (first pickle of the file).
pub const MAGIC: i128 = 0x1950a86a20f9469cfc6c;
/// The protocol version of the legacy format (second pickle).
pub const PROTOCOL_VERSION: i128 = 1001;

/// A value of the pickle machine.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    None,
    Bool(bool),
    Int(i128),
    Float(f64),
    Str(String),
    Tuple(Vec<Value>),
    List(Vec<Value>),
    /// A dict or an `OrderedDict`, items in insertion order.
    Dict(Vec<(Value, Value)>),
    /// A global the machine knows: `collections.OrderedDict`, `torch._utils._rebuild_tensor_v2`,
    /// `torch.FloatStorage` or `torch.LongStorage`.
    Global(&'static str),
    /// A storage named by a persistent id.
    Storage {
        key: String,
        numel: usize,
        /// `torch.FloatStorage` (f32); otherwise `torch.LongStorage` (i64, e.g. a batch
        /// norm's `num_batches_tracked`), which no encoder reads.
        float: bool,
    },
    /// A tensor view into a storage, not yet materialised.
    TensorRef {
        key: String,
        /// Whether the storage holds f32 (see [`Value::Storage`]).
        float: bool,
        offset: usize,
        shape: Vec<usize>,
        stride: Vec<usize>,
    },
}

/// The pickle machine: a stack, a mark stack and a memo.
pub struct Unpickler<'r, R: Read> {
    r: &'r mut R,
    stack: Vec<Value>,
    marks: Vec<usize>,
    memo: HashMap<u32, Value>,
}

impl<'r, R: Read> Unpickler<'r, R> {
    pub fn new(r: &'r mut R) -> Self {
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

    /// Runs up to STOP and returns the value on top of the stack.
    pub fn run(mut self) -> Result<Value, String> {
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
                        ("torch", "LongStorage") => "LongStorage",
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
        if !items.len().is_multiple_of(2) {
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

/// `('storage', torch.FloatStorage, key, location, numel)` (zip checkpoints) or the same with a
/// sixth item `view_metadata = None` (legacy checkpoints) → a storage; `torch.LongStorage` too.
fn persistent_storage(pid: Value) -> Result<Value, String> {
    let Value::Tuple(t) = pid else {
        return Err(format!("persistent id {pid:?} is not a tuple"));
    };
    let (kind, global, key, numel) = match t.as_slice() {
        [
            Value::Str(kind),
            Value::Global(g),
            Value::Str(key),
            Value::Str(_location),
            Value::Int(n),
        ]
        | [
            Value::Str(kind),
            Value::Global(g),
            Value::Str(key),
            Value::Str(_location),
            Value::Int(n),
            Value::None,
        ] => (kind, *g, key, n),
        _ => return Err(format!("unsupported persistent id {t:?}")),
    };
    let float = match global {
        "FloatStorage" => true,
        "LongStorage" => false,
        other => return Err(format!("unsupported storage type {other}")),
    };
    if kind != "storage" {
        return Err(format!("unsupported persistent id kind {kind:?}"));
    }
    Ok(Value::Storage {
        key: key.clone(),
        numel: usize::try_from(*numel).map_err(|_| "negative storage size")?,
        float,
    })
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
                Value::Storage { key, numel, float },
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
                float: *float,
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
}
