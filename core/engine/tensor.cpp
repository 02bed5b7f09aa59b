#include "core/engine/tensor.h"

#include <cmath>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace amct::engine {

const char* dtype_name(DType dtype) {
  switch (dtype) {
    case DType::F32: return "F32";
    case DType::F16: return "F16";
    case DType::BF16: return "BF16";
  }
  return "?";
}

size_t dtype_size(DType dtype) { return dtype == DType::F32 ? 4 : 2; }

std::optional<DType> parse_dtype(std::string_view name) {
  if (name == "F32") return DType::F32;
  if (name == "F16") return DType::F16;
  if (name == "BF16") return DType::BF16;
  return std::nullopt;
}

std::optional<uint64_t> element_count(const std::vector<int64_t>& shape, uint64_t limit) {
  uint64_t count = 1;
  for (int64_t dimension : shape) {
    if (dimension < 0) return std::nullopt;
    const uint64_t d = static_cast<uint64_t>(dimension);
    if (d != 0 && count > limit / d) return std::nullopt;
    count *= d;
  }
  return count;
}

std::string shape_text(const std::vector<int64_t>& shape) {
  std::string text = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i) text += ", ";
    text += std::to_string(shape[i]);
  }
  return text + "]";
}

uint16_t float_to_bfloat16(float value) {
  uint32_t bits;
  std::memcpy(&bits, &value, 4);
  if (std::isnan(value)) return static_cast<uint16_t>((bits >> 16) | 0x40);
  const uint32_t rounding = 0x7FFFu + ((bits >> 16) & 1u);
  return static_cast<uint16_t>((bits + rounding) >> 16);
}

uint16_t float_to_half(float value) {
  uint32_t bits;
  std::memcpy(&bits, &value, 4);
  const uint16_t sign = static_cast<uint16_t>((bits >> 16) & 0x8000u);
  const float magnitude = std::fabs(value);
  if (std::isnan(value)) return sign | 0x7E00u;
  if (magnitude >= 65520.0f) return sign | 0x7C00u;  // rounds to Inf
  if (magnitude < 6.103515625e-05f) {                 // subnormal half
    const float scaled = magnitude * 16777216.0f;     // units of 2^-24
    return sign | static_cast<uint16_t>(std::nearbyint(scaled));
  }
  uint32_t m;
  std::memcpy(&m, &magnitude, 4);
  const uint32_t rounding = 0xFFFu + ((m >> 13) & 1u);
  m += rounding;
  const uint32_t exponent = (m >> 23) - 112;
  return sign | static_cast<uint16_t>((exponent << 10) | ((m >> 13) & 0x3FFu));
}

namespace {

void widen_halves(const unsigned char* p, uint64_t count, float* out) {
  for (uint64_t i = 0; i < count; ++i) {
    uint16_t h;
    std::memcpy(&h, p + i * 2, 2);
    out[i] = half_to_float(h);
  }
}

void widen_bfloat16(const unsigned char* p, uint64_t count, float* out) {
  for (uint64_t i = 0; i < count; ++i) {
    uint16_t b;
    std::memcpy(&b, p + i * 2, 2);
    out[i] = bfloat16_to_float(b);
  }
}

#if defined(__x86_64__)
// vcvtph2ps: 8 halves per instruction, exact like half_to_float.
__attribute__((target("avx,f16c"))) void widen_halves_f16c(const unsigned char* p, uint64_t count, float* out) {
  uint64_t i = 0;
  for (; i + 8 <= count; i += 8)
    _mm256_storeu_ps(out + i, _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p + i * 2))));
  widen_halves(p + i * 2, count - i, out + i);
}

// A bfloat16 is the top half of a float: zero-extend and shift, 8 per step.
__attribute__((target("avx2"))) void widen_bfloat16_avx2(const unsigned char* p, uint64_t count, float* out) {
  uint64_t i = 0;
  for (; i + 8 <= count; i += 8) {
    const __m256i wide = _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p + i * 2)));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + i), _mm256_slli_epi32(wide, 16));
  }
  widen_bfloat16(p + i * 2, count - i, out + i);
}

// Every CPU with AVX2 has F16C; clang's __builtin_cpu_supports knows no "f16c".
bool has_avx2_f16c() {
  static const bool supported = __builtin_cpu_supports("avx2");
  return supported;
}
#endif

}  // namespace

void widen_to_float(const TensorView& view, uint64_t first, uint64_t count, float* out) {
  switch (view.dtype) {
    case DType::F32:
      std::memcpy(out, view.data + first * 4, count * 4);
      return;
    case DType::F16: {
      const unsigned char* p = view.data + first * 2;
#if defined(__x86_64__)
      if (has_avx2_f16c()) return widen_halves_f16c(p, count, out);
#endif
      widen_halves(p, count, out);
      return;
    }
    case DType::BF16: {
      const unsigned char* p = view.data + first * 2;
#if defined(__x86_64__)
      if (has_avx2_f16c()) return widen_bfloat16_avx2(p, count, out);
#endif
      widen_bfloat16(p, count, out);
      return;
    }
  }
}

}  // namespace amct::engine
