#pragma once
// Writers of the engine's input formats (safetensors, ONNX protobuf wire
// format, .npy) and random weights, for the engine_*_test.cpp files. Tests
// write their own files instead of shipping binary fixtures.
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "core/engine/compress.h"
#include "core/engine/tensor.h"

namespace amct::test {

// Per-tensor ARQ (not channel-wise) with `two_pass_max_bytes`: tensors up to
// that size are scanned whole first, larger ones chunk by chunk.
inline engine::CompressSpec per_tensor(int bits, unsigned threads, uint64_t two_pass_max_bytes) {
  engine::CompressSpec spec;
  spec.quant = engine::QuantSpec{bits, false};
  spec.threads = threads;
  spec.two_pass_max_bytes = two_pass_max_bytes;
  return spec;
}

inline std::string f32_bytes(const std::vector<float>& values) {
  std::string out(values.size() * 4, '\0');
  std::memcpy(out.data(), values.data(), out.size());
  return out;
}

inline std::string f16_bytes(const std::vector<float>& values) {
  std::string out;
  for (float v : values) {
    const uint16_t h = engine::float_to_half(v);
    out.append(reinterpret_cast<const char*>(&h), 2);
  }
  return out;
}

inline std::string bf16_bytes(const std::vector<float>& values) {
  std::string out;
  for (float v : values) {
    const uint16_t b = engine::float_to_bfloat16(v);
    out.append(reinterpret_cast<const char*>(&b), 2);
  }
  return out;
}

inline std::string shape_json(const std::vector<int64_t>& shape) {
  std::ostringstream text;  // not operator+: GCC 12 -Wrestrict false positive
  text << '[';
  for (size_t i = 0; i < shape.size(); ++i) text << (i ? "," : "") << shape[i];
  text << ']';
  return text.str();
}

struct SafetensorsEntry {
  std::string name;
  std::string dtype;  // "F32", "F16", "BF16", "I64", ...
  std::vector<int64_t> shape;
  std::string data;   // raw bytes
};

// 8-byte little-endian header length, then the header, then the data.
inline std::string safetensors_file(const std::string& header, const std::string& data) {
  std::string out(8, '\0');
  uint64_t length = header.size();
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>((length >> (8 * i)) & 0xFF);
  return out + header + data;
}

inline std::string safetensors_file(const std::vector<SafetensorsEntry>& entries) {
  std::ostringstream header;
  header << "{\"__metadata__\":{\"format\":\"pt\"}";
  std::string data;
  for (const SafetensorsEntry& e : entries) {
    header << ",\"" << e.name << "\":{\"dtype\":\"" << e.dtype << "\",\"shape\":" << shape_json(e.shape)
           << ",\"data_offsets\":[" << data.size() << "," << data.size() + e.data.size() << "]}";
    data += e.data;
  }
  header << "}";
  return safetensors_file(header.str(), data);
}

// Protobuf wire-format writer.
class ProtoWriter {
 public:
  ProtoWriter& varint(uint32_t field, uint64_t value) {
    key(field, 0);
    put_varint(value);
    return *this;
  }
  ProtoWriter& bytes(uint32_t field, const std::string& value) {
    key(field, 2);
    put_varint(value.size());
    out_ += value;
    return *this;
  }
  ProtoWriter& message(uint32_t field, const ProtoWriter& value) { return bytes(field, value.str()); }
  ProtoWriter& fixed32(uint32_t field, uint32_t value) {
    key(field, 5);
    out_.append(reinterpret_cast<const char*>(&value), 4);
    return *this;
  }
  ProtoWriter& packed_varints(uint32_t field, const std::vector<uint64_t>& values) {
    ProtoWriter inner;
    for (uint64_t v : values) inner.put_varint(v);
    return bytes(field, inner.out_);
  }
  const std::string& str() const { return out_; }

 private:
  void key(uint32_t field, int wire) { put_varint((static_cast<uint64_t>(field) << 3) | static_cast<uint64_t>(wire)); }
  void put_varint(uint64_t value) {
    while (value >= 0x80) {
      out_ += static_cast<char>((value & 0x7F) | 0x80);
      value >>= 7;
    }
    out_ += static_cast<char>(value);
  }
  std::string out_;
};

// ONNX TensorProto with raw_data (data_type 1 FLOAT, 10 FLOAT16, 16 BFLOAT16).
inline ProtoWriter onnx_tensor_raw(const std::string& name, const std::vector<int64_t>& dims,
                                   int data_type, const std::string& raw) {
  ProtoWriter t;
  for (int64_t d : dims) t.varint(1, static_cast<uint64_t>(d));
  t.varint(2, static_cast<uint64_t>(data_type)).bytes(8, name).bytes(9, raw);
  return t;
}

// ONNX TensorProto with packed float_data.
inline ProtoWriter onnx_tensor_floats(const std::string& name, const std::vector<int64_t>& dims,
                                      const std::vector<float>& values) {
  ProtoWriter t;
  std::vector<uint64_t> d(dims.begin(), dims.end());
  t.packed_varints(1, d).varint(2, 1).bytes(4, f32_bytes(values)).bytes(8, name);
  return t;
}

inline ProtoWriter onnx_node(const std::string& name, const std::string& op_type,
                             const std::vector<std::string>& inputs,
                             const std::vector<std::pair<std::string, int64_t>>& int_attributes = {}) {
  ProtoWriter n;
  for (const std::string& input : inputs) n.bytes(1, input);
  n.bytes(2, name + "_out").bytes(3, name).bytes(4, op_type);
  for (const auto& [attribute, value] : int_attributes) {
    ProtoWriter a;
    a.bytes(1, attribute).varint(3, static_cast<uint64_t>(value)).varint(20, 2);
    n.message(5, a);
  }
  return n;
}

inline std::string onnx_model(const std::vector<ProtoWriter>& nodes, const std::vector<ProtoWriter>& initializers) {
  ProtoWriter graph;
  for (const ProtoWriter& n : nodes) graph.message(1, n);
  graph.bytes(2, "g");
  for (const ProtoWriter& t : initializers) graph.message(5, t);
  ProtoWriter model;
  model.varint(1, 8).bytes(2, "test").message(7, graph);
  return model.str();
}

inline std::string npy_file(const std::vector<int64_t>& shape, const std::vector<float>& values) {
  std::string dims;
  for (int64_t d : shape) dims += std::to_string(d) + ",";
  std::string header = "{'descr': '<f4', 'fortran_order': False, 'shape': (" + dims + "), }";
  while ((10 + header.size() + 1) % 64 != 0) header += ' ';
  header += '\n';
  std::string out = "\x93NUMPY";
  out += '\x01';
  out += '\x00';
  out += static_cast<char>(header.size() & 0xFF);
  out += static_cast<char>(header.size() >> 8);
  return out + header + f32_bytes(values);
}

// Kaiming-like Gaussian weights with per-channel scale, deterministic.
inline std::vector<float> random_weights(size_t count, uint32_t seed, float scale = 0.05f) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, scale);
  std::vector<float> out(count);
  for (float& v : out) v = normal(rng);
  return out;
}

// A safetensors file of 32 layers of 1024x1024 floats (128 MB, over the
// progress bar's 10M parameters): enough work that a test can stop the
// process in the middle of an estimate.
inline std::string large_safetensors_model(uint32_t seed) {
  const std::string layer = f32_bytes(random_weights(1024 * 1024, seed));
  std::vector<SafetensorsEntry> entries;
  for (int i = 0; i < 32; ++i) entries.push_back({"layer" + std::to_string(i) + ".weight", "F32", {1024, 1024}, layer});
  return safetensors_file(entries);
}

inline engine::TensorView view_of(const std::vector<float>& values, std::vector<int64_t> shape) {
  engine::TensorView view;
  view.dtype = engine::DType::F32;
  view.shape = std::move(shape);
  view.data = reinterpret_cast<const unsigned char*>(values.data());
  view.elements = values.size();
  return view;
}

inline engine::TensorView view_of_bytes(const std::string& bytes, engine::DType dtype, std::vector<int64_t> shape) {
  engine::TensorView view;
  view.dtype = dtype;
  view.shape = std::move(shape);
  view.data = reinterpret_cast<const unsigned char*>(bytes.data());
  view.elements = bytes.size() / engine::dtype_size(dtype);
  return view;
}

// Two runs' error sums are equal bit for bit (the fast paths promise it).
inline void require_same_sums(const engine::ErrorSums& a, const engine::ErrorSums& b) {
  CHECK(a.sumsq_ref == b.sumsq_ref);
  CHECK(a.sumsq_err == b.sumsq_err);
  CHECK(a.dot == b.dot);
  CHECK(a.sumsq_approx == b.sumsq_approx);
  CHECK(a.max_abs == b.max_abs);
}

// Whether this run's kernels read F16/BF16 weights in place (AVX2 or AVX-512;
// with AMCT_VECTOR_KERNELS=portable, or on a CPU without AVX2, 16-bit rows
// are widened first). Only then are 16-bit figures those of the same values
// given as F32 bit for bit (the same spans, summed in the same order), and
// only then does per-tensor ARQ of 16-bit weights return its scan.
inline bool reads_16bit_in_place() {
  return std::min(engine::default_vector_kernels_cap(), engine::widest_vector_kernels()) !=
         engine::VectorKernels::Portable;
}

// 16-bit weights against the same values as F32: bit for bit when read in
// place, else the same codes (max |w - ŵ| exact) and sums to float rounding.
inline void require_16bit_sums_match(const engine::ErrorSums& half, const engine::ErrorSums& full) {
  if (reads_16bit_in_place()) return require_same_sums(half, full);
  CHECK(half.sumsq_ref == Approx(full.sumsq_ref).epsilon(1e-6));
  CHECK(half.sumsq_err == Approx(full.sumsq_err).epsilon(1e-6));
  CHECK(half.dot == Approx(full.dot).epsilon(1e-6));
  CHECK(half.sumsq_approx == Approx(full.sumsq_approx).epsilon(1e-6));
  CHECK(half.max_abs == full.max_abs);
}

}  // namespace amct::test
