#!/usr/bin/python3
"""Writes the seed corpus of fuzz_weights (fuzz/corpus/weights/): small valid
safetensors, ONNX, manifest and .npy files, each behind the selector byte that
sends it to its loader (see fuzz/fuzz_weights.cpp). Deterministic; run from
anywhere: fuzz/make_weights_seeds.py"""
import json
import math
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "corpus", "weights")
SAFETENSORS, ONNX, BY_CONTENT, MANIFEST, NPY = range(5)


def values(count, seed):
    return [math.sin(seed * 7.1 + i * 0.37) * 0.2 for i in range(count)]


def product(shape):
    out = 1
    for d in shape:
        out *= d
    return out


def f32(vals):
    return struct.pack("<%df" % len(vals), *vals)


def f16(vals):
    return struct.pack("<%de" % len(vals), *vals)


def bf16(vals):
    return b"".join(struct.pack("<I", struct.unpack("<I", struct.pack("<f", v))[0])[2:] for v in vals)


PACK = {"F32": f32, "F16": f16, "BF16": bf16}


def safetensors(entries, metadata=True):
    header = {"__metadata__": {"format": "pt"}} if metadata else {}
    data = b""
    for name, dtype, shape in entries:
        raw = PACK[dtype](values(product(shape), len(data))) if dtype in PACK else bytes(product(shape) * 8)
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [len(data), len(data) + len(raw)]}
        data += raw
    text = json.dumps(header, separators=(",", ":")).encode()
    return struct.pack("<Q", len(text)) + text + data


def varint(n):
    out = b""
    while n >= 0x80:
        out += bytes([(n & 0x7F) | 0x80])
        n >>= 7
    return out + bytes([n])


def key(field, wire):
    return varint(field << 3 | wire)


def v(field, n):
    return key(field, 0) + varint(n)


def b(field, data):
    if isinstance(data, str):
        data = data.encode()
    return key(field, 2) + varint(len(data)) + data


def tensor_raw(name, dims, data_type=1):
    count = product(dims)
    raw = {1: f32, 10: f16, 16: bf16}[data_type](values(count, len(name)))
    return b"".join(v(1, d) for d in dims) + v(2, data_type) + b(8, name) + b(9, raw)


def tensor_floats(name, dims):
    packed_dims = b"".join(varint(d) for d in dims)
    return b(1, packed_dims) + v(2, 1) + b(4, f32(values(product(dims), 3))) + b(8, name)


def node(name, op, inputs, ints=()):
    out = b"".join(b(1, i) for i in inputs) + b(2, name + "_out") + b(3, name) + b(4, op)
    for attribute, value in ints:
        out += b(5, b(1, attribute) + v(3, value) + v(20, 2))
    return out


def onnx(nodes, initializers):
    graph = b"".join(b(1, n) for n in nodes) + b(2, "g") + b"".join(b(5, t) for t in initializers)
    return v(1, 8) + b(2, "seed") + b(7, graph)


def npy(shape, descr="<f4"):
    dims = "".join("%d," % d for d in shape)
    header = "{'descr': '%s', 'fortran_order': False, 'shape': (%s), }" % (descr, dims)
    while (10 + len(header) + 1) % 64:
        header += " "
    header += "\n"
    pack = f32 if descr == "<f4" else f16
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode() + pack(values(product(shape), 1))


SEEDS = {
    "safetensors_resnetish": (SAFETENSORS, safetensors([
        ("conv1.weight", "F32", [4, 3, 3, 3]), ("conv1.bias", "F32", [4]),
        ("layer1.0.conv2.weight", "F32", [16, 8, 1, 1]), ("bn1.weight", "F32", [4]),
        ("fc.weight", "F32", [3, 16])])),
    "safetensors_f16_bf16": (SAFETENSORS, safetensors([
        ("a.weight", "F16", [2, 5]), ("b.weight", "BF16", [3, 2, 2]), ("c.weight", "F16", [2, 2, 1, 1, 2])])),
    "safetensors_other_dtypes": (SAFETENSORS, safetensors([
        ("steps", "I64", [1]), ("x.weight", "F32", [2, 2])], metadata=False)),
    "safetensors_rank6_and_empty": (SAFETENSORS, safetensors([
        ("big.weight", "F32", [1, 1, 1, 1, 1, 2]), ("zero.weight", "F32", [0, 3])])),
    "by_content_safetensors": (BY_CONTENT, safetensors([("net.0.weight", "F32", [8, 4])])),
    "onnx_conv_gemm": (ONNX, onnx(
        [node("conv1", "Conv", ["x", "conv1.weight"], [("group", 1)]),
         node("dw", "Conv", ["conv1_out", "dw.weight"], [("group", 4)]),
         node("fc", "Gemm", ["dw_out", "fc.weight"], [("transB", 1)])],
        [tensor_raw("conv1.weight", [4, 3, 3, 3]), tensor_raw("dw.weight", [4, 1, 3, 3], 10),
         tensor_raw("fc.weight", [2, 36], 16)])),
    "onnx_matmul_convtranspose_float_data": (ONNX, onnx(
        [node("mm", "MatMul", ["x", "mm.weight"]), node("up", "ConvTranspose", ["mm_out", "up.weight"]),
         node("g", "Gemm", ["up_out", "g.weight"], [("transB", 0)])],
        [tensor_floats("mm.weight", [6, 4]), tensor_raw("up.weight", [4, 2, 2, 2]), tensor_floats("g.weight", [4, 2])])),
    "by_content_onnx": (BY_CONTENT, onnx([node("c", "Conv", ["x", "w"])], [tensor_raw("w", [2, 2, 1, 1])])),
    "manifest_builtin": (MANIFEST, json.dumps({"layers": [
        {"name": "conv1", "type": "Conv2d", "weight_shape": [4, 3, 3, 3], "groups": 1},
        {"name": "layer1.0.conv2", "type": "Conv2d", "weight_shape": [4, 1, 3, 3], "groups": 4},
        {"name": "fc", "type": "Linear", "weight_shape": [2, 4]}]}, indent=1).encode()),
    "manifest_mismatch": (MANIFEST, json.dumps({"layers": [
        {"name": "conv1", "type": "ConvTranspose2d", "weight_shape": [3, 4, 3, 3]},
        {"name": "missing.layer", "type": "Linear", "groups": None},
        {"name": "fc", "type": "Embedding"}]}).encode()),
    "npy_f32": (NPY, npy([2, 3, 4])),
    "npy_f16": (NPY, npy([5], "<f2")),
}


def main():
    os.makedirs(OUT, exist_ok=True)
    for name, (selector, data) in SEEDS.items():
        with open(os.path.join(OUT, name), "wb") as f:
            f.write(bytes([selector]) + data)


if __name__ == "__main__":
    main()
