#pragma once
// A typed, shaped view of tensor bytes inside a mapped weights file (or any
// buffer the caller keeps alive). F16 and BF16 are widened to float on the
// fly by the kernels; nothing copies a whole tensor.
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace amct::engine {

enum class DType { F32, F16, BF16 };
const char* dtype_name(DType dtype);  // "F32", "F16", "BF16"
size_t dtype_size(DType dtype);       // 4, 2, 2
// "F32"/"F16"/"BF16" (safetensors names); nullopt for anything else.
std::optional<DType> parse_dtype(std::string_view name);

// Product of the dimensions, or nullopt when it overflows `limit` (or a
// dimension is negative).
std::optional<uint64_t> element_count(const std::vector<int64_t>& shape,
                                      uint64_t limit = UINT64_MAX);

struct TensorView {
  std::string name;
  DType dtype = DType::F32;
  std::vector<int64_t> shape;
  const unsigned char* data = nullptr;  // little-endian elements, unaligned allowed
  uint64_t elements = 0;

  uint64_t byte_size() const { return elements * dtype_size(dtype); }
};

std::string shape_text(const std::vector<int64_t>& shape);  // "[64, 3, 7, 7]"

inline float half_to_float(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  const uint32_t exponent = (h >> 10) & 0x1Fu;
  uint32_t mantissa = h & 0x3FFu;
  uint32_t bits;
  if (exponent == 0x1F) {
    bits = sign | 0x7F800000u | (mantissa << 13);  // Inf / NaN
  } else if (exponent != 0) {
    bits = sign | ((exponent + 112) << 23) | (mantissa << 13);
  } else if (mantissa == 0) {
    bits = sign;
  } else {  // subnormal: value = mantissa * 2^-24, exact in float
    float value = static_cast<float>(mantissa) * 5.9604644775390625e-8f;
    std::memcpy(&bits, &value, 4);
    bits |= sign;
  }
  float out;
  std::memcpy(&out, &bits, 4);
  return out;
}

inline float bfloat16_to_float(uint16_t b) {
  const uint32_t bits = static_cast<uint32_t>(b) << 16;
  float out;
  std::memcpy(&out, &bits, 4);
  return out;
}

// Round-to-nearest-even float -> half / bfloat16 (for tests and writers).
uint16_t float_to_half(float value);
uint16_t float_to_bfloat16(float value);

// Element `index` of the view, widened to float.
inline float element_at(const TensorView& view, uint64_t index) {
  switch (view.dtype) {
    case DType::F32: {
      float value;
      std::memcpy(&value, view.data + index * 4, 4);
      return value;
    }
    case DType::F16: {
      uint16_t h;
      std::memcpy(&h, view.data + index * 2, 2);
      return half_to_float(h);
    }
    case DType::BF16: {
      uint16_t b;
      std::memcpy(&b, view.data + index * 2, 2);
      return bfloat16_to_float(b);
    }
  }
  return 0;
}

// Converts `count` elements starting at element `first` into `out`.
void widen_to_float(const TensorView& view, uint64_t first, uint64_t count, float* out);

}  // namespace amct::engine
