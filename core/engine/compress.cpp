#include "core/engine/compress.h"


#include <algorithm>
#include <atomic>
#include <cctype>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <numeric>
#include <thread>
#include <fstream>
#include <string>
#include <vector>

#if defined(__x86_64__)
// GCC 12 warns of the undefined pass-through operand inside its own
// AVX-512 intrinsics (_mm512_undefined_ps, by design) wherever they inline.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <immintrin.h>
#endif

namespace amct::engine {

void ErrorSums::add(const ErrorSums& other) {
  sumsq_ref += other.sumsq_ref;
  sumsq_err += other.sumsq_err;
  dot += other.dot;
  sumsq_approx += other.sumsq_approx;
  max_abs = std::max(max_abs, other.max_abs);
}

float round_half_even(float value) {
  // 1.5 * 2^23: adding and subtracting it rounds to an integer in the default
  // (nearest, ties to even) mode for |value| < 2^22; larger floats are integers.
  if (!(std::fabs(value) < 4194304.0f)) return value;
  volatile float shifted = value + 12582912.0f;
  return shifted - 12582912.0f;
}

float arq_scale(float max_value, float min_value, int bits) {
  const float abs_max = std::fabs(max_value), abs_min = std::fabs(min_value);
  const float d = abs_min > abs_max ? static_cast<float>(1 << (bits - 1))
                                    : static_cast<float>((1 << (bits - 1)) - 1);
  const float scale = std::max(abs_max, abs_min) / d;
  return scale < kFltEpsilon ? 1.0f : scale;
}

int64_t filter_kept_count(int64_t channels, double ratio, bool ascend_optimized) {
  const double r = static_cast<double>(static_cast<float>(ratio));  // proto float
  int64_t kept = channels - static_cast<int64_t>(std::nearbyint(static_cast<double>(channels) * r));
  if (ascend_optimized) {
    kept = (kept + 15) / 16 * 16;
    if (kept <= 0) kept = 16;
  } else if (kept <= 0) {
    kept = 1;  // AMCT's cal_prune_num keeps one channel
  }
  return std::min(kept, channels);
}

namespace {

// ---- vector kernels (GCC vector extensions: SSE2 by default, AVX2 and AVX-512 clones)

typedef float v8f __attribute__((vector_size(32)));
typedef int32_t v8i __attribute__((vector_size(32)));
typedef float v4f __attribute__((vector_size(16)));
typedef float v16f __attribute__((vector_size(64)));
typedef int32_t v16i __attribute__((vector_size(64)));
typedef int32_t v4i __attribute__((vector_size(16)));

// Unaligned views for loads and stores; helpers take vectors by reference
// (no vector values cross a function boundary, so no ABI questions).
typedef float v8f_unaligned __attribute__((vector_size(32), aligned(4)));
typedef float v4f_unaligned __attribute__((vector_size(16), aligned(4)));
typedef float v16f_unaligned __attribute__((vector_size(64), aligned(4)));
#define load8(p) v8f(*reinterpret_cast<const v8f_unaligned*>(p))
#define store8(p, v) (*reinterpret_cast<v8f_unaligned*>(p) = (v))
#define load4(p) v4f(*reinterpret_cast<const v4f_unaligned*>(p))
#define load16(p) v16f(*reinterpret_cast<const v16f_unaligned*>(p))
#define store16(p, v) (*reinterpret_cast<v16f_unaligned*>(p) = (v))
#define splat8(x) (v8f{} + static_cast<float>(x))
#define vabs(v) reinterpret_cast<v8f>(reinterpret_cast<v8i>(v) & 0x7FFFFFFF)
#define vmin(a, b) ((a) < (b) ? (a) : (b))
#define vmax(a, b) ((a) > (b) ? (a) : (b))
inline double lanes_sum(const v8f& v) {
  double s = 0;
  for (int i = 0; i < 8; ++i) s += v[i];
  return s;
}
// The greatest (kGreatest) or least of n stored lanes, folded left to right
// as std::max / std::min do (a NaN lane is kept only when first).
template <bool kGreatest>
inline float fold_lanes(const float* lanes, int n) {
  float m = lanes[0];
  for (int k = 1; k < n; ++k) m = kGreatest ? std::max(m, lanes[k]) : std::min(m, lanes[k]);
  return m;
}
inline float lanes_max(const v8f& v) { return fold_lanes<true>(reinterpret_cast<const float*>(&v), 8); }

// v where `keep` is set, else 0.
#define lanes_where(keep, v) reinterpret_cast<v8f>(reinterpret_cast<v8i>(v) & (keep))
constexpr v8i kAllLanes = {-1, -1, -1, -1, -1, -1, -1, -1};
// Set in lanes first..7 (first <= 8): a window moved back over columns
// already counted.
inline void lanes_from(uint64_t first, v8i& keep) {
  const v8i index = {0, 1, 2, 3, 4, 5, 6, 7};
  keep = index >= static_cast<int32_t>(first);
}

// The 16 lanes of v added down to 4 (by reference: no vector crosses a call).
#define fold_to_4(v)                                                                            \
  ([](const v16f& w) {                                                                          \
    const v8f h = __builtin_shufflevector(w, w, 0, 1, 2, 3, 4, 5, 6, 7) +                       \
                  __builtin_shufflevector(w, w, 8, 9, 10, 11, 12, 13, 14, 15);                  \
    return v4f(__builtin_shufflevector(h, h, 0, 1, 2, 3) + __builtin_shufflevector(h, h, 4, 5, 6, 7)); \
  }(v))

// Partial sums are kept in float lanes for at most this many elements, then
// moved to double.
constexpr uint64_t kFloatRun = 1024;

#define AMCT_KERNEL __attribute__((target_clones("avx512f", "avx2", "default")))

// Min, max and sum of squares of a row (without AVX2 and FMA).
// The elements [i, n) the vector loop left, then the row's figures added to
// the caller's (both row scans end here).
inline void finish_scan(const float* x, uint64_t i, uint64_t n, float mn, float mx, double total, float& out_min,
                        float& out_max, double& sumsq) {
  for (; i < n; ++i) {
    mn = x[i] < mn ? x[i] : mn;
    mx = x[i] > mx ? x[i] : mx;
    total += static_cast<double>(x[i]) * x[i];
  }
  out_min = std::min(out_min, mn);
  out_max = std::max(out_max, mx);
  sumsq += total;
}

AMCT_KERNEL void row_scan_generic(const float* x, uint64_t n, float& out_min, float& out_max, double& sumsq) {
  v8f lo = splat8(std::numeric_limits<float>::infinity());
  v8f hi = -lo;
  double total = 0;
  uint64_t i = 0;
  while (i + 16 <= n) {
    v8f acc0 = splat8(0), acc1 = acc0;  // two chains: add latency
    const uint64_t end = std::min(n, i + kFloatRun) & ~uint64_t{15};
    for (; i < end; i += 16) {
      const v8f v0 = load8(x + i), v1 = load8(x + i + 8);
      lo = vmin(lo, vmin(v0, v1));
      hi = vmax(hi, vmax(v0, v1));
      acc0 += v0 * v0;
      acc1 += v1 * v1;
    }
    total += lanes_sum(acc0 + acc1);
  }
  float mn = lo[0], mx = hi[0];
  for (int k = 1; k < 8; ++k) {
    mn = std::min(mn, lo[k]);
    mx = std::max(mx, hi[k]);
  }
  finish_scan(x, i, n, mn, mx, total, out_min, out_max, sumsq);
}

// Sum of squares and max |x| of a row.
AMCT_KERNEL void row_energy(const float* x, uint64_t n, double& sumsq, float& max_abs) {
  v8f peak = splat8(0);
  double total = 0;
  uint64_t i = 0;
  while (i + 8 <= n) {
    v8f acc = splat8(0);
    const uint64_t end = std::min(n, i + kFloatRun) & ~uint64_t{7};
    for (; i < end; i += 8) {
      const v8f v = load8(x + i);
      acc += v * v;
      peak = vmax(peak, vabs(v));
    }
    total += lanes_sum(acc);
  }
  float m = lanes_max(peak);
  for (; i < n; ++i) {
    total += static_cast<double>(x[i]) * x[i];
    m = std::max(m, std::fabs(x[i]));
  }
  sumsq += total;
  max_abs = std::max(max_abs, m);
}

// A region fetched into cache while a kernel works through its elements,
// spread evenly over them, so that memory stays busy at the pace of the
// computing (a kernel that fetched it all at its start would wait for it).
struct Prefetch {
  const char* from = nullptr;
  uint64_t bytes = 0;
};

// Issues the fetches of a Prefetch as a kernel advances through n elements.
class PrefetchStream {
 public:
  PrefetchStream(const Prefetch& region, uint64_t n)
      : from_(region.from), rate_(region.from && n > 0 ? (region.bytes << 16) / n : 0) {}
  // The lines due once `done` of the n elements are computed.
  void advance_to(uint64_t done) {
    const uint64_t due = done * rate_ >> 16;
    for (; fetched_ < due; fetched_ += 64) __builtin_prefetch(from_ + fetched_, 0, 3);
  }

 private:
  const char* from_;
  uint64_t rate_;  // bytes per element, 16.16 fixed point
  uint64_t fetched_ = 0;
};

// Packed (F16/BF16) elements widened at a time outside the vector loops.
constexpr uint64_t kPackedRun = 64;

// One row of ARQ's second pass: ŵ = clamp(round(src / scale)) * scale,
// compared with `ref` (src is the pruned row, or ref itself).
struct QuantRow {
  const float* ref = nullptr;
  const float* src = nullptr;
  uint64_t n = 0;
  float scale = 1, qmin = -128, qmax = 127;
  float* out = nullptr;             // receives ŵ when set
  std::optional<double> ref_sumsq;  // ||ref||² when the first pass had it (src == ref)
  // Fetched while this row computes: the next row, the part of the next
  // chunk a scan did not fetch, or the caller's next tensor.
  Prefetch prefetch;
  // An upper bound of src (the extremes that gave the scale): codes above
  // qmax need the clamp only when it reaches qmax + 1/2 (+inf: unknown).
  float src_max = std::numeric_limits<float>::infinity();
  // F16/BF16 weights read where they are (unpruned, no ŵ, AVX2 or AVX-512): n elements
  // of `packed_type`, widened in registers; ref and src are unused.
  const unsigned char* packed = nullptr;
  DType packed_type = DType::F32;
  VectorKernels kernels = VectorKernels::Portable;  // compress_weight's choice
};

// The rule itself, with the division (as AMCT and the tests' reference).
inline float exact_quantized(float x, const QuantRow& row) {
  return std::clamp(std::nearbyint(x / row.scale), row.qmin, row.qmax) * row.scale;
}

// Sums of one row, in double: ||w||², ||w - ŵ||², w·ŵ and ||ŵ||², each summed
// on its own. (||ŵ||² as ||w - ŵ||² + 2 w·ŵ - ||w||² cancels to rounding
// noise, possibly negative, where ŵ is about 0: weights under the scale's
// floor, codes all 0.)
struct RowSums {
  double rr = 0, ee = 0, wq = 0, qq = 0;
  float peak = 0;
};

// `count` elements by the exact rule: ref, src and out (when set) point at the first.
void quantize_exactly(const QuantRow& row, const float* ref, const float* src, uint64_t count, float* out,
                      RowSums& sums) {
  for (uint64_t i = 0; i < count; ++i) {
    const float w = ref[i], q = exact_quantized(src[i], row);
    const float e = w - q;
    if (out) out[i] = q;
    sums.rr += static_cast<double>(w) * w;
    sums.ee += static_cast<double>(e) * e;
    sums.wq += static_cast<double>(w) * q;
    sums.qq += static_cast<double>(q) * q;
    sums.peak = std::max(sums.peak, std::fabs(e));
  }
}

// Elements [begin, end) of the row by the exact rule.
void quantize_exactly(const QuantRow& row, uint64_t begin, uint64_t end, RowSums& sums) {
  if (row.packed) {
    float ref[kPackedRun];
    TensorView view;
    view.dtype = row.packed_type;
    view.data = row.packed;
    for (uint64_t i = begin; i < end; i += kPackedRun) {
      const uint64_t count = std::min(kPackedRun, end - i);
      widen_to_float(view, i, count, ref);
      quantize_exactly(row, ref, ref, count, nullptr, sums);
    }
    return;
  }
  quantize_exactly(row, row.ref + begin, row.src + begin, end - begin, row.out ? row.out + begin : nullptr, sums);
}

constexpr uint64_t kTieBlock = 64;  // elements per check for flagged elements

#if defined(__x86_64__)
// GCC would fuse the intrinsics' multiply and subtract (q = y * s, e = w - q)
// into an FMA, making e differ from w - ŵ; the sums use explicit FMAs.
#if defined(__clang__)
#define AMCT_AVX2_FMA __attribute__((target("avx2,fma,f16c")))
#else
#define AMCT_AVX2_FMA __attribute__((target("avx2,fma,f16c"), optimize("fp-contract=off")))
#endif

// Eight elements from i on of F32, F16 or BF16 data, as floats (exactly the
// values widen_to_float gives).
template <DType kType>
AMCT_AVX2_FMA inline __m256 load8_as_float(const void* data, uint64_t i) {
  if constexpr (kType == DType::F32) {
    return _mm256_loadu_ps(static_cast<const float*>(data) + i);
  } else {
    const __m128i halves = _mm_loadu_si128(reinterpret_cast<const __m128i*>(static_cast<const uint16_t*>(data) + i));
    if constexpr (kType == DType::F16) return _mm256_cvtph_ps(halves);
    return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(halves), 16));
  }
}

// Where a row's weights w and values to quantize x (the pruned row, or w)
// are read, in kType: kept in locals by the kernels, so that the compiler
// need not load them again after each store.
template <DType kType>
inline const void* weights_of(const QuantRow& row) {
  if constexpr (kType == DType::F32) return row.ref;
  return row.packed;
}
template <DType kType, bool kPruned>
inline const void* sources_of(const QuantRow& row) {
  if constexpr (kType == DType::F32 && kPruned) return row.src;
  return weights_of<kType>(row);
}

AMCT_AVX2_FMA inline double hsum(__m256 v) {
  const __m256d wide = _mm256_add_pd(_mm256_cvtps_pd(_mm256_castps256_ps128(v)),
                                     _mm256_cvtps_pd(_mm256_extractf128_ps(v, 1)));
  alignas(32) double lanes[4];
  _mm256_store_pd(lanes, wide);
  return (lanes[0] + lanes[1]) + (lanes[2] + lanes[3]);
}

AMCT_AVX2_FMA inline float hmax(__m256 v) {
  alignas(32) float lanes[8];
  _mm256_store_ps(lanes, v);
  return fold_lanes<true>(lanes, 8);
}

// AVX2 + FMA vector operations, 8 floats (the `V` of arq_simd_kernels.inc).
struct Avx2Vec {
  using F = __m256;
  static constexpr uint64_t kLanes = 8;
  template <DType kType>
  AMCT_AVX2_FMA static F load(const void* data, uint64_t i) {
    return load8_as_float<kType>(data, i);
  }
  AMCT_AVX2_FMA static F set1(float x) { return _mm256_set1_ps(x); }
  AMCT_AVX2_FMA static F zero() { return _mm256_setzero_ps(); }
  AMCT_AVX2_FMA static F add(F a, F b) { return _mm256_add_ps(a, b); }
  AMCT_AVX2_FMA static F sub(F a, F b) { return _mm256_sub_ps(a, b); }
  AMCT_AVX2_FMA static F mul(F a, F b) { return _mm256_mul_ps(a, b); }
  AMCT_AVX2_FMA static F fmadd(F a, F b, F c) { return _mm256_fmadd_ps(a, b, c); }
  AMCT_AVX2_FMA static F min(F a, F b) { return _mm256_min_ps(a, b); }
  AMCT_AVX2_FMA static F max(F a, F b) { return _mm256_max_ps(a, b); }
  AMCT_AVX2_FMA static F abs(F a) { return _mm256_and_ps(a, _mm256_castsi256_ps(_mm256_set1_epi32(0x7FFFFFFF))); }
  AMCT_AVX2_FMA static F round(F a) { return _mm256_round_ps(a, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
  AMCT_AVX2_FMA static void store(float* p, F v) { _mm256_storeu_ps(p, v); }
  AMCT_AVX2_FMA static bool any_above(F a, F limit) {
    return _mm256_movemask_ps(_mm256_cmp_ps(a, limit, _CMP_GT_OQ)) != 0;
  }
  AMCT_AVX2_FMA static bool any_above_either(F a, F a_limit, F b, F b_limit) {
    return _mm256_movemask_ps(_mm256_or_ps(_mm256_cmp_ps(a, a_limit, _CMP_GT_OQ), _mm256_cmp_ps(b, b_limit, _CMP_GT_OQ))) != 0;
  }
  AMCT_AVX2_FMA static double sum(F v) { return hsum(v); }
  AMCT_AVX2_FMA static float max_lane(F v) { return hmax(v); }
  AMCT_AVX2_FMA static float min_lane(F v) {
    alignas(32) float lanes[8];
    _mm256_store_ps(lanes, v);
    return fold_lanes<false>(lanes, 8);
  }
};

// The fast rule (quantize_row in arq_simd_kernels.inc) works in code units:
// t = x * (1/s), y = round_half_even(min(t, qmax)), d = t - y (exact), so
// that w - ŵ ≈ d * s (see peak_threshold): 8 vector instructions per vector
// of weights (t, y, d, d², w·y, y², |d|, max). y rounds like x / s except within
// |y| * 2^-23 <= 2^-16 of a half-integer (INT8): there |d| > 0.5 - 2^-14, as
// for a clamped code. max |w - ŵ| must be exact: it is computed exactly only
// in blocks that may hold a new peak. A block with a possible tie, or a
// |d| * s within the slack of the peak so far, goes to fix_block: its lanes
// are computed again with the same instructions, the peak exactly, flagged
// elements get the exact rule, and where their code differs, the sums the
// fast path added are corrected.

// |d| above which a code may differ from the division's (code units).
inline float tie_limit(const QuantRow& row) { return 0.5f - std::max(1.0f / 16384, (row.qmax + 1) / (1 << 21)); }

// Below this |d| an element cannot raise the exact peak `peak` (of |w - ŵ|;
// pruned weights can lie far above a half step):
// |d * s - (w - ŵ)| <= s * (qmax + 1) * 2^-22 + |w - ŵ| * 2^-23.
inline float peak_threshold(float peak, const QuantRow& row) {
  const float floor = peak * (1.0f - 1.0f / (1 << 20)) - row.scale * (row.qmax + 4) * (1.0f / (1 << 21));
  return floor / row.scale * (1.0f - 1.0f / (1 << 20));
}

// ee_code = Σ d², wy = Σ w · y, yy = Σ y² (code units); ee_value: corrections
// (value units). Σ y² is exact in float lanes over a run (|y| <= 128 for
// INT8: at most 2^20 per lane).
struct FastSums {
  double ee_code = 0, ee_value = 0, wy = 0, yy = 0;
  float peak = 0;
};

// A row's fast sums in value units, added to its figures.
inline void add_fast_sums(const FastSums& fast, float scale, RowSums& sums) {
  const double s = scale;
  sums.ee += fast.ee_code * s * s + fast.ee_value;
  sums.wq += fast.wy * s;
  sums.qq += fast.yy * s * s;
  sums.peak = std::max(sums.peak, fast.peak);
}

template <DType kType, bool kPruned>
AMCT_AVX2_FMA __attribute__((noinline)) void fix_block(const QuantRow& row, uint64_t begin, FastSums& sums) {
  const __m256 s = _mm256_set1_ps(row.scale), inv = _mm256_set1_ps(1.0f / row.scale);
  const __m256 limit = _mm256_set1_ps(tie_limit(row));
  const __m256 qmin = _mm256_set1_ps(row.qmin), qmax = _mm256_set1_ps(row.qmax);
  const __m256 abs_mask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7FFFFFFF));
  const void* weights = weights_of<kType>(row);
  const void* sources = sources_of<kType, kPruned>(row);
  __m256 peak = _mm256_setzero_ps();
  for (uint64_t k = begin; k < begin + kTieBlock; k += 8) {
    const __m256 w = load8_as_float<kType>(weights, k), x = load8_as_float<kType>(sources, k);
    const __m256 t = _mm256_mul_ps(x, inv), tw = _mm256_mul_ps(w, inv);
    // min() changes nothing where no clamp is needed
    const __m256 y = _mm256_round_ps(_mm256_min_ps(t, qmax), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    const __m256 q = _mm256_mul_ps(y, s);
    const __m256 abs_e = _mm256_and_ps(_mm256_sub_ps(w, q), abs_mask);
    const __m256 flagged = _mm256_cmp_ps(_mm256_and_ps(_mm256_sub_ps(t, y), abs_mask), limit, _CMP_GT_OQ);
    peak = _mm256_max_ps(peak, _mm256_andnot_ps(flagged, abs_e));
    if (_mm256_movemask_ps(flagged) == 0) continue;
    // Flagged lanes by the exact rule, all 8 at once (BF16 weights, whose
    // values repeat, flag blocks ~5x as often as F32): clamp(round(x / s))
    // (NaN stays NaN, as std::clamp leaves it).
    const __m256 exact_y =
        _mm256_min_ps(qmax, _mm256_max_ps(qmin, _mm256_round_ps(_mm256_div_ps(x, s), _MM_FROUND_TO_NEAREST_INT |
                                                                                          _MM_FROUND_NO_EXC)));
    const __m256 exact_e = _mm256_sub_ps(w, _mm256_mul_ps(exact_y, s));
    // max(|e|, peak): a NaN |e| leaves the peak, as std::max does.
    peak = _mm256_max_ps(_mm256_and_ps(flagged, _mm256_and_ps(exact_e, abs_mask)), peak);
    // Where the exact code differs from the fast one, the sums the fast path
    // added are corrected (rare: a code rounded the other way at a tie).
    const int lanes = _mm256_movemask_ps(_mm256_and_ps(flagged, _mm256_cmp_ps(exact_y, y, _CMP_NEQ_UQ)));
    if (lanes == 0) continue;
    alignas(32) float lane_weights[8], fast_y[8], fast_d[8], exact_codes[8], exact_errors[8];
    _mm256_store_ps(lane_weights, w);
    _mm256_store_ps(fast_y, y);
    _mm256_store_ps(fast_d, _mm256_sub_ps(tw, y));
    _mm256_store_ps(exact_codes, exact_y);
    _mm256_store_ps(exact_errors, exact_e);
    for (int lane = 0; lane < 8; ++lane) {
      if (!(lanes >> lane & 1)) continue;
      const uint64_t i = k + static_cast<uint64_t>(lane);
      const float w1 = lane_weights[lane], y1 = exact_codes[lane], e = exact_errors[lane];
      sums.ee_value += static_cast<double>(e) * e;
      sums.ee_code -= static_cast<double>(fast_d[lane]) * fast_d[lane];
      sums.wy += static_cast<double>(w1) * (y1 - fast_y[lane]);
      sums.yy += static_cast<double>(y1) * y1 - static_cast<double>(fast_y[lane]) * fast_y[lane];
      if (row.out) row.out[i] = y1 * row.scale;
    }
  }
  sums.peak = std::max(sums.peak, hmax(peak));
}

namespace avx2 {
using V = Avx2Vec;
#define AMCT_SIMD AMCT_AVX2_FMA
#include "core/engine/arq_simd_kernels.inc"
#undef AMCT_SIMD
}  // namespace avx2

// AVX-512 (F, BW, DQ, VL): 16 floats. Where 512-bit operations run at the
// rate of 256-bit ones (Zen 4 and 5, recent Intel server cores), the same
// instructions do twice the work.
#if defined(__clang__)
#define AMCT_AVX512 __attribute__((target("avx512f,avx512bw,avx512dq,avx512vl,avx2,fma,f16c")))
#else
#define AMCT_AVX512 \
  __attribute__((target("avx512f,avx512bw,avx512dq,avx512vl,avx2,fma,f16c"), optimize("fp-contract=off")))
#endif

struct Avx512Vec {
  using F = __m512;
  static constexpr uint64_t kLanes = 16;
  template <DType kType>
  AMCT_AVX512 static F load(const void* data, uint64_t i) {
    if constexpr (kType == DType::F32) {
      // Two 32-byte loads: weights are seldom 64-byte aligned (a safetensors
      // tensor starts anywhere), and a 64-byte load across two cache lines
      // made per-tensor ARQ from memory ~15 % slower than AVX2 on Zen 5.
      const float* p = static_cast<const float*>(data) + i;
      return _mm512_insertf32x8(_mm512_castps256_ps512(_mm256_loadu_ps(p)), _mm256_loadu_ps(p + 8), 1);
    } else {
      const __m256i halves =
          _mm256_loadu_si256(reinterpret_cast<const __m256i*>(static_cast<const uint16_t*>(data) + i));
      if constexpr (kType == DType::F16) return _mm512_cvtph_ps(halves);
      return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(halves), 16));
    }
  }
  AMCT_AVX512 static F set1(float x) { return _mm512_set1_ps(x); }
  AMCT_AVX512 static F zero() { return _mm512_setzero_ps(); }
  AMCT_AVX512 static F add(F a, F b) { return _mm512_add_ps(a, b); }
  AMCT_AVX512 static F sub(F a, F b) { return _mm512_sub_ps(a, b); }
  AMCT_AVX512 static F mul(F a, F b) { return _mm512_mul_ps(a, b); }
  AMCT_AVX512 static F fmadd(F a, F b, F c) { return _mm512_fmadd_ps(a, b, c); }
  AMCT_AVX512 static F min(F a, F b) { return _mm512_min_ps(a, b); }
  AMCT_AVX512 static F max(F a, F b) { return _mm512_max_ps(a, b); }
  AMCT_AVX512 static F abs(F a) { return _mm512_abs_ps(a); }
  AMCT_AVX512 static F round(F a) { return _mm512_roundscale_ps(a, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
  AMCT_AVX512 static void store(float* p, F v) { _mm512_storeu_ps(p, v); }
  AMCT_AVX512 static bool any_above(F a, F limit) { return _mm512_cmp_ps_mask(a, limit, _CMP_GT_OQ) != 0; }
  AMCT_AVX512 static bool any_above_either(F a, F a_limit, F b, F b_limit) {
    return (_mm512_cmp_ps_mask(a, a_limit, _CMP_GT_OQ) | _mm512_cmp_ps_mask(b, b_limit, _CMP_GT_OQ)) != 0;
  }
  // The two halves' lanes as doubles, added pairwise (as hsum does).
  AMCT_AVX512 static double sum(F v) {
    const __m512d wide = _mm512_add_pd(_mm512_cvtps_pd(_mm512_castps512_ps256(v)),
                                       _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1))));
    alignas(64) double lanes[8];
    _mm512_store_pd(lanes, wide);
    return ((lanes[0] + lanes[1]) + (lanes[2] + lanes[3])) + ((lanes[4] + lanes[5]) + (lanes[6] + lanes[7]));
  }
  AMCT_AVX512 static float max_lane(F v) {
    alignas(64) float lanes[16];
    _mm512_store_ps(lanes, v);
    return fold_lanes<true>(lanes, 16);
  }
  AMCT_AVX512 static float min_lane(F v) {
    alignas(64) float lanes[16];
    _mm512_store_ps(lanes, v);
    return fold_lanes<false>(lanes, 16);
  }
};

namespace avx512 {
using V = Avx512Vec;
#define AMCT_SIMD AMCT_AVX512
#include "core/engine/arq_simd_kernels.inc"
#undef AMCT_SIMD
}  // namespace avx512
#endif

}  // namespace

VectorKernels widest_vector_kernels() {
#if defined(__x86_64__)
  static const VectorKernels widest = [] {
    __builtin_cpu_init();
    if (!(__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))) return VectorKernels::Portable;
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
        __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl")) {
      return VectorKernels::Avx512;
    }
    return VectorKernels::Avx2;
  }();
  return widest;
#else
  return VectorKernels::Portable;
#endif
}

const char* vector_kernels_name(VectorKernels kernels) {
  switch (kernels) {
    case VectorKernels::Portable: return "portable";
    case VectorKernels::Avx2: return "AVX2";
    case VectorKernels::Avx512: return "AVX-512";
  }
  return "?";
}

std::optional<VectorKernels> parse_vector_kernels(std::string_view name) {
  // Case and dashes aside: "avx512", "AVX-512", "Portable".
  auto key = [](std::string_view text) {
    std::string out;
    for (char c : text) {
      if (c != '-') out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    return out;
  };
  for (VectorKernels k : {VectorKernels::Portable, VectorKernels::Avx2, VectorKernels::Avx512}) {
    if (key(name) == key(vector_kernels_name(k))) return k;
  }
  return std::nullopt;
}

VectorKernels default_vector_kernels_cap() {
  static const VectorKernels cap = [] {
    const char* name = std::getenv("AMCT_VECTOR_KERNELS");
    return name ? parse_vector_kernels(name).value_or(VectorKernels::Avx512) : VectorKernels::Avx512;
  }();
  return cap;
}

namespace {

// Min, max and sum of squares of a row: ARQ's first pass, the one that
// reads the row from memory (the second finds it in L1/L2). It fetches
// `prefetch` meanwhile (portable kernels: nothing).
void row_scan(VectorKernels kernels, const float* x, uint64_t n, float& out_min, float& out_max, double& sumsq,
              [[maybe_unused]] const Prefetch& prefetch = {}) {
#if defined(__x86_64__)
  if (kernels == VectorKernels::Avx512) return avx512::row_scan<DType::F32>(x, n, out_min, out_max, sumsq, prefetch);
  if (kernels == VectorKernels::Avx2) return avx2::row_scan<DType::F32>(x, n, out_min, out_max, sumsq, prefetch);
#endif
  row_scan_generic(x, n, out_min, out_max, sumsq);
}

// Unpruned ARQ of F16/BF16 weights reads them where they are, widening in
// registers, rather than widening each row or chunk into a buffer first
// (with AVX2 or AVX-512 only).
bool packed_kernels(DType type, VectorKernels kernels) {
  return kernels != VectorKernels::Portable && (type == DType::F16 || type == DType::BF16);
}

// row_scan of F16/BF16 elements read where they are (see packed_kernels()).
void row_scan_packed([[maybe_unused]] VectorKernels kernels, [[maybe_unused]] const unsigned char* x,
                     [[maybe_unused]] DType type, [[maybe_unused]] uint64_t n, [[maybe_unused]] float& out_min,
                     [[maybe_unused]] float& out_max, [[maybe_unused]] double& sumsq,
                     [[maybe_unused]] const Prefetch& prefetch = {}) {
#if defined(__x86_64__)
  const bool f16 = type == DType::F16;
  if (kernels == VectorKernels::Avx512) {
    return f16 ? avx512::row_scan<DType::F16>(x, n, out_min, out_max, sumsq, prefetch)
               : avx512::row_scan<DType::BF16>(x, n, out_min, out_max, sumsq, prefetch);
  }
  f16 ? avx2::row_scan<DType::F16>(x, n, out_min, out_max, sumsq, prefetch)
      : avx2::row_scan<DType::BF16>(x, n, out_min, out_max, sumsq, prefetch);
#endif
}

#if defined(__x86_64__)
// One instruction set's quantize_row instances: [pruned][stores ŵ][clamps]
// for F32 rows, [BF16][clamps] for 16-bit ones read in place.
using QuantKernel = void (*)(const QuantRow&, RowSums&);
using ScanQuantKernel = void (*)(const QuantRow&, RowSums&, float&, float&, double&);
struct QuantKernels {
  QuantKernel f32[2][2][2];
  QuantKernel packed[2][2];
  ScanQuantKernel scan_quantize[3][2];  // [F32, F16, BF16][clamps]
};
#define AMCT_QUANT_KERNELS(ns)                                                                                \
  QuantKernels {                                                                                              \
    {{{ns::quantize_row<false, false, false>, ns::quantize_row<false, false, true>},                          \
      {ns::quantize_row<false, true, false>, ns::quantize_row<false, true, true>}},                           \
     {{ns::quantize_row<true, false, false>, ns::quantize_row<true, false, true>},                            \
      {ns::quantize_row<true, true, false>, ns::quantize_row<true, true, true>}}},                            \
    {                                                                                                         \
      {ns::quantize_row<false, false, false, DType::F16>, ns::quantize_row<false, false, true, DType::F16>},  \
      {ns::quantize_row<false, false, false, DType::BF16>, ns::quantize_row<false, false, true, DType::BF16>} \
    },                                                                                                        \
    {                                                                                                         \
      {ns::scan_quantize<false, DType::F32>, ns::scan_quantize<true, DType::F32>},                            \
      {ns::scan_quantize<false, DType::F16>, ns::scan_quantize<true, DType::F16>},                            \
      {ns::scan_quantize<false, DType::BF16>, ns::scan_quantize<true, DType::BF16>},                          \
    }                                                                                                         \
  }
constexpr QuantKernels kAvx2QuantKernels = AMCT_QUANT_KERNELS(avx2);
constexpr QuantKernels kAvx512QuantKernels = AMCT_QUANT_KERNELS(avx512);
#undef AMCT_QUANT_KERNELS
#endif

// A row's sums added to its chunk's figures.
void add_row_sums(const RowSums& r, ErrorSums& sums) {
  sums.sumsq_ref += r.rr;
  sums.sumsq_err += r.ee;
  sums.dot += r.wq;
  sums.sumsq_approx += r.qq;
  sums.max_abs = std::max(sums.max_abs, static_cast<double>(r.peak));
}

#if defined(__x86_64__)
const QuantKernels& quant_kernels(VectorKernels kernels) {
  return kernels == VectorKernels::Avx512 ? kAvx512QuantKernels : kAvx2QuantKernels;
}

// Without the clamp when no code can exceed qmax: x <= src_max gives
// x * (1/s) <= src_max * (1/s) <= qmax + 1/4 (rounding is monotonic),
// which rounds to at most qmax (and so does x / s, within 2 ulp of it).
// The flagged-block path clamps anyway: min() changes nothing there.
bool needs_clamp(const QuantRow& row) { return !(row.src_max * (1.0f / row.scale) <= row.qmax + 0.25f); }
#endif

// Without pruning the first pass summed ||w||² already; with pruning the
// row's own energy is summed here.
void quantize_row(const QuantRow& row, ErrorSums& sums) {
  RowSums r;
  r.peak = static_cast<float>(sums.max_abs);  // the kernel checks its peak exactly only near this one
  const bool pruned = !(row.ref_sumsq && row.src == row.ref);
#if defined(__x86_64__)
  if (row.kernels != VectorKernels::Portable) {
    const bool clamp = needs_clamp(row);
    const QuantKernels& kernels = quant_kernels(row.kernels);
    if (row.packed) {
      kernels.packed[row.packed_type == DType::BF16][clamp](row, r);
    } else {
      kernels.f32[pruned][row.out != nullptr][clamp](row, r);
    }
  } else {
    quantize_exactly(row, 0, row.n, r);
  }
#else
  quantize_exactly(row, 0, row.n, r);
#endif
  if (!pruned) r.rr = *row.ref_sumsq;  // replaces the tail's part sum
  add_row_sums(r, sums);
}

// Per-tensor ARQ of an unpruned span with its scan (row_scan's min, max and
// ||w||², added to out_min, out_max, sumsq) in one sweep: the figures are
// quantize_row's with the row's scale, those of row_scan then quantize_row
// bit for bit. The vector kernels only (the caller checks).
void scan_and_quantize([[maybe_unused]] const QuantRow& row, [[maybe_unused]] ErrorSums& sums,
                       [[maybe_unused]] float& out_min, [[maybe_unused]] float& out_max,
                       [[maybe_unused]] double& sumsq) {
#if defined(__x86_64__)
  RowSums r;
  r.peak = static_cast<float>(sums.max_abs);
  const int type = !row.packed ? 0 : row.packed_type == DType::F16 ? 1 : 2;
  double own_sumsq = 0;
  quant_kernels(row.kernels).scan_quantize[type][needs_clamp(row)](row, r, out_min, out_max, own_sumsq);
  sumsq += own_sumsq;
  r.rr = own_sumsq;
  add_row_sums(r, sums);
#endif
}

// 4:2 figures of one group from the squares of its 4 weights: the energy
// removed is the sum of the two smallest squares; the largest removed square
// is the second smallest.
inline void group_removed(float s0, float s1, float s2, float s3, float& removed, float& peak) {
  const float a = std::min(s0, s1), b = std::max(s0, s1), c = std::min(s2, s3), d = std::max(s2, s3);
  const float second = std::min(std::max(a, c), std::min(b, d));
  removed = std::min(a, c) + second;
  peak = second;
}

// group_removed on vectors of squares s_c (weight c of a group per lane),
// added to the lanes of a_t (energy), a_r (removed) and a_p (removed peak).
#define AMCT_4OF2_REMOVED(s0, s1, s2, s3, a_t, a_r, a_p)                      \
  {                                                                           \
    const auto a = vmin(s0, s1), b = vmax(s0, s1), c = vmin(s2, s3), d = vmax(s2, s3); \
    const auto second = vmin(vmax(a, c), vmin(b, d));                         \
    a_r += vmin(a, c) + second;                                               \
    a_p = vmax(a_p, second);                                                  \
    a_t += (s0 + s1) + (s2 + s3);                                             \
  }

// A 4:2 group's columns (inner > 1) in vectors of 8: columns(at, keep) for
// each, the last 8 taken again when inner is not a multiple of 8 with only
// the new ones kept (tail_keep); then the float sums a_t, a_r move to t, r
// every kFloatRun weights, not every group (a 3x3 conv's group is 36
// weights). False when inner < 8: the caller takes the columns one by one.
template <class Columns>
inline bool group_columns(uint64_t inner, const v8i& tail_keep, Columns&& columns, v8f& a_t, v8f& a_r,
                          uint64_t& pending, double& t, double& r) {
  if (inner < 8) return false;
  uint64_t j = 0;
  for (; j + 8 <= inner; j += 8) columns(j, kAllLanes);
  if (j < inner) columns(inner - 8, tail_keep);
  if ((pending += 4 * inner) >= kFloatRun) {
    t += lanes_sum(a_t);
    r += lanes_sum(a_r);
    a_t = a_r = splat8(0);
    pending = 0;
  }
  return true;
}

// Four vectors of 16 floats transposed within each 128-bit lane: lane k of
// y_c is lane c of x_k in each quarter (4 groups of 4 weights become weight
// c of 4 groups). Its own inverse.
#define AMCT_LO_PS 0, 16, 1, 17, 4, 20, 5, 21, 8, 24, 9, 25, 12, 28, 13, 29
#define AMCT_HI_PS 2, 18, 3, 19, 6, 22, 7, 23, 10, 26, 11, 27, 14, 30, 15, 31
#define AMCT_LO_PD 0, 1, 16, 17, 4, 5, 20, 21, 8, 9, 24, 25, 12, 13, 28, 29
#define AMCT_HI_PD 2, 3, 18, 19, 6, 7, 22, 23, 10, 11, 26, 27, 14, 15, 30, 31
#define AMCT_TRANSPOSE_LANES(x0, x1, x2, x3, y0, y1, y2, y3)                                           \
  {                                                                                                   \
    const v16f u0_ = __builtin_shufflevector(x0, x1, AMCT_LO_PS), u1_ = __builtin_shufflevector(x0, x1, AMCT_HI_PS); \
    const v16f u2_ = __builtin_shufflevector(x2, x3, AMCT_LO_PS), u3_ = __builtin_shufflevector(x2, x3, AMCT_HI_PS); \
    y0 = __builtin_shufflevector(u0_, u2_, AMCT_LO_PD);                                               \
    y1 = __builtin_shufflevector(u0_, u2_, AMCT_HI_PD);                                               \
    y2 = __builtin_shufflevector(u1_, u3_, AMCT_LO_PD);                                               \
    y3 = __builtin_shufflevector(u1_, u3_, AMCT_HI_PD);                                               \
  }

// Energy of a row [cin, inner] and what 4:2 removes from it (cin > 2).
AMCT_KERNEL void row_4of2_energy(const float* x, uint64_t cin, uint64_t inner, double& total,
                                 double& removed, float& removed_peak_square) {
  const uint64_t full_groups = cin / 4;
  double t = 0, r = 0;
  float peak = 0;
  if (inner == 1) {
    uint64_t g = 0;
    // 16 groups at a time: 4 vectors of 16 floats (4 groups each), squared
    // and transposed within each 128-bit lane, so that s_c holds weight c of
    // the 16 groups (their order is free: only sums and a max are taken).
    while (g + 16 <= full_groups) {
      v16f a_t = v16f{}, a_r = a_t, a_p = a_t;
      const uint64_t end = std::min(full_groups, g + kFloatRun / 4) & ~uint64_t{15};
      for (; g < end; g += 16) {
        const float* p = x + g * 4;
        v16f x0 = load16(p), x1 = load16(p + 16), x2 = load16(p + 32), x3 = load16(p + 48);
        x0 *= x0;
        x1 *= x1;
        x2 *= x2;
        x3 *= x3;
        v16f s0, s1, s2, s3;
        AMCT_TRANSPOSE_LANES(x0, x1, x2, x3, s0, s1, s2, s3);
        AMCT_4OF2_REMOVED(s0, s1, s2, s3, a_t, a_r, a_p);
      }
      // Halved twice in vectors (a short row's fixed cost), then 4 lanes.
      const v4f q_t = fold_to_4(a_t), q_r = fold_to_4(a_r);
      const v8f p8 = vmax(__builtin_shufflevector(a_p, a_p, 0, 1, 2, 3, 4, 5, 6, 7),
                          __builtin_shufflevector(a_p, a_p, 8, 9, 10, 11, 12, 13, 14, 15));
      const v4f p4 = vmax(__builtin_shufflevector(p8, p8, 0, 1, 2, 3), __builtin_shufflevector(p8, p8, 4, 5, 6, 7));
      for (int k = 0; k < 4; ++k) {
        t += q_t[k];
        r += q_r[k];
        peak = std::max(peak, p4[k]);
      }
    }
    while (g + 4 <= full_groups) {
      v4f a_t = v4f{0, 0, 0, 0}, a_r = a_t, a_p = a_t;
      const uint64_t end = std::min(full_groups, g + kFloatRun / 4) & ~uint64_t{3};
      for (; g < end; g += 4) {
        const float* p = x + g * 4;
        v4f x0 = load4(p), x1 = load4(p + 4), x2 = load4(p + 8), x3 = load4(p + 12);
        x0 *= x0;
        x1 *= x1;
        x2 *= x2;
        x3 *= x3;
        // Put the 4 weights of each group in the same lane of 4 vectors.
        const v4f u0 = __builtin_shufflevector(x0, x1, 0, 4, 1, 5);
        const v4f u1 = __builtin_shufflevector(x0, x1, 2, 6, 3, 7);
        const v4f u2 = __builtin_shufflevector(x2, x3, 0, 4, 1, 5);
        const v4f u3 = __builtin_shufflevector(x2, x3, 2, 6, 3, 7);
        const v4f s0 = __builtin_shufflevector(u0, u2, 0, 1, 4, 5);
        const v4f s1 = __builtin_shufflevector(u0, u2, 2, 3, 6, 7);
        const v4f s2 = __builtin_shufflevector(u1, u3, 0, 1, 4, 5);
        const v4f s3 = __builtin_shufflevector(u1, u3, 2, 3, 6, 7);
        AMCT_4OF2_REMOVED(s0, s1, s2, s3, a_t, a_r, a_p);
      }
      for (int k = 0; k < 4; ++k) {
        t += a_t[k];
        r += a_r[k];
        peak = std::max(peak, a_p[k]);
      }
    }
    for (; g < full_groups; ++g) {
      const float* p = x + g * 4;
      float rem, pk;
      group_removed(p[0] * p[0], p[1] * p[1], p[2] * p[2], p[3] * p[3], rem, pk);
      t += static_cast<double>(p[0] * p[0]) + p[1] * p[1] + p[2] * p[2] + p[3] * p[3];
      r += rem;
      peak = std::max(peak, pk);
    }
  } else {
    // Vectors of 8 columns of a group's 4 rows (group_columns).
    v8i tail_keep;
    lanes_from(8 - inner % 8, tail_keep);
    v8f a_t = splat8(0), a_r = a_t, a_p = a_t;
    uint64_t pending = 0;
    for (uint64_t g = 0; g < full_groups; ++g) {
      const float* p0 = x + (4 * g) * inner;
      const float* p1 = p0 + inner;
      const float* p2 = p1 + inner;
      const float* p3 = p2 + inner;
      auto columns = [&](uint64_t at, const v8i& keep) {
        v8f s0 = load8(p0 + at), s1 = load8(p1 + at), s2 = load8(p2 + at), s3 = load8(p3 + at);
        s0 *= s0;
        s1 *= s1;
        s2 *= s2;
        s3 *= s3;
        const v8f a = vmin(s0, s1), b = vmax(s0, s1), c = vmin(s2, s3), d = vmax(s2, s3);
        const v8f second = vmin(vmax(a, c), vmin(b, d));
        a_r += lanes_where(keep, vmin(a, c) + second);
        a_p = vmax(a_p, lanes_where(keep, second));
        a_t += lanes_where(keep, (s0 + s1) + (s2 + s3));
      };
      if (group_columns(inner, tail_keep, columns, a_t, a_r, pending, t, r)) continue;
      for (uint64_t j = 0; j < inner; ++j) {
        const float s0 = p0[j] * p0[j], s1 = p1[j] * p1[j], s2 = p2[j] * p2[j], s3 = p3[j] * p3[j];
        float rem, pk;
        group_removed(s0, s1, s2, s3, rem, pk);
        t += static_cast<double>(s0) + s1 + s2 + s3;
        r += rem;
        peak = std::max(peak, pk);
      }
    }
    t += lanes_sum(a_t);
    r += lanes_sum(a_r);
    peak = std::max(peak, lanes_max(a_p));
  }
  // The last, zero-padded group: pads are zeros competing like any zero.
  if (const uint64_t real = cin % 4; real != 0) {
    const float* base = x + full_groups * 4 * inner;
    for (uint64_t j = 0; j < inner; ++j) {
      float s[4] = {0, 0, 0, 0};
      for (uint64_t c = 0; c < real; ++c) s[c] = base[c * inner + j] * base[c * inner + j];
      float rem, pk;
      group_removed(s[0], s[1], s[2], s[3], rem, pk);
      t += static_cast<double>(s[0]) + s[1] + s[2] + s[3];
      r += rem;
      peak = std::max(peak, pk);
    }
  }
  total += t;
  removed += r;
  removed_peak_square = std::max(removed_peak_square, peak);
}

// 4:2 keep masks of 4 vectors holding one weight of a group per lane: a
// weight is kept when fewer than 2 others beat it (larger |w|, or equal |w|
// and a lower index).
#define AMCT_4OF2_MASKS(V, I, x0, x1, x2, x3, k0, k1, k2, k3)                                   \
  {                                                                                             \
    const V a0 = vabs_any(V, I, x0), a1 = vabs_any(V, I, x1), a2 = vabs_any(V, I, x2),          \
            a3 = vabs_any(V, I, x3);                                                            \
    /* comparisons give -1 for true: counts are negative */                                     \
    const I b01 = a0 >= a1, b02 = a0 >= a2, b03 = a0 >= a3, b12 = a1 >= a2, b13 = a1 >= a3,    \
            b23 = a2 >= a3;                                                                     \
    /* i < j: a_i >= a_j means i beats j, else j beats i */                                     \
    const I beaten0 = ~b01 + ~b02 + ~b03;                                                       \
    const I beaten1 = b01 + ~b12 + ~b13;                                                        \
    const I beaten2 = b02 + b12 + ~b23;                                                         \
    const I beaten3 = b03 + b13 + b23;                                                          \
    /* ~b = -1 - b is -1 exactly when b is false: every term is minus a count */               \
    k0 = beaten0 > -2;                                                                          \
    k1 = beaten1 > -2;                                                                          \
    k2 = beaten2 > -2;                                                                          \
    k3 = beaten3 > -2;                                                                          \
  }
#define vabs_any(V, I, v) reinterpret_cast<V>(reinterpret_cast<I>(v) & 0x7FFFFFFF)

// The weights o_c that 4:2 keeps of groups s_c (weight c of a group per
// lane), the others 0, adding the energy to a_t and what is removed to a_r.
// The removed weights (s - o is s or 0, exactly) are squared: never
// negative, even where a compiler fuses s * s - o * o into an FMA (clang
// does, in the AVX-512 clone), leaving a rounding residue.
#define AMCT_4OF2_KEEP(V, I, s0, s1, s2, s3, o0, o1, o2, o3, a_t, a_r)   \
  {                                                                      \
    I k0_, k1_, k2_, k3_;                                                \
    AMCT_4OF2_MASKS(V, I, s0, s1, s2, s3, k0_, k1_, k2_, k3_);           \
    o0 = reinterpret_cast<V>(reinterpret_cast<I>(s0) & k0_);             \
    o1 = reinterpret_cast<V>(reinterpret_cast<I>(s1) & k1_);             \
    o2 = reinterpret_cast<V>(reinterpret_cast<I>(s2) & k2_);             \
    o3 = reinterpret_cast<V>(reinterpret_cast<I>(s3) & k3_);             \
    a_t += (s0 * s0 + s1 * s1) + (s2 * s2 + s3 * s3);                    \
    const V d0_ = s0 - o0, d1_ = s1 - o1, d2_ = s2 - o2, d3_ = s3 - o3;  \
    a_r += (d0_ * d0_ + d1_ * d1_) + (d2_ * d2_ + d3_ * d3_);            \
  }

// Writes the 4:2-pruned row (cin > 2) to `out`; adds energy figures.
AMCT_KERNEL void row_4of2_prune(const float* x, uint64_t cin, uint64_t inner, float* out, double& total,
                                double& removed) {
  const uint64_t full_groups = cin / 4;
  double t = 0, r = 0;
  if (inner == 1) {
    uint64_t g = 0;
    // 16 groups at a time (as row_4of2_energy), transposed back to store.
    while (g + 16 <= full_groups) {
      v16f a_t = v16f{}, a_r = a_t;
      const uint64_t end = std::min(full_groups, g + kFloatRun / 4) & ~uint64_t{15};
      for (; g < end; g += 16) {
        const float* p = x + g * 4;
        const v16f x0 = load16(p), x1 = load16(p + 16), x2 = load16(p + 32), x3 = load16(p + 48);
        v16f s0, s1, s2, s3;
        AMCT_TRANSPOSE_LANES(x0, x1, x2, x3, s0, s1, s2, s3);
        v16f o0, o1, o2, o3;
        AMCT_4OF2_KEEP(v16f, v16i, s0, s1, s2, s3, o0, o1, o2, o3, a_t, a_r);
        v16f y0, y1, y2, y3;
        AMCT_TRANSPOSE_LANES(o0, o1, o2, o3, y0, y1, y2, y3);
        float* q = out + g * 4;
        store16(q, y0);
        store16(q + 16, y1);
        store16(q + 32, y2);
        store16(q + 48, y3);
      }
      const v4f q_t = fold_to_4(a_t), q_r = fold_to_4(a_r);
      for (int k = 0; k < 4; ++k) t += q_t[k], r += q_r[k];
    }
    v4f a_t = v4f{0, 0, 0, 0}, a_r = a_t;
    for (; g + 4 <= full_groups; g += 4) {
      const float* p = x + g * 4;
      const v4f x0 = load4(p), x1 = load4(p + 4), x2 = load4(p + 8), x3 = load4(p + 12);
      const v4f u0 = __builtin_shufflevector(x0, x1, 0, 4, 1, 5), u1 = __builtin_shufflevector(x0, x1, 2, 6, 3, 7);
      const v4f u2 = __builtin_shufflevector(x2, x3, 0, 4, 1, 5), u3 = __builtin_shufflevector(x2, x3, 2, 6, 3, 7);
      const v4f s0 = __builtin_shufflevector(u0, u2, 0, 1, 4, 5), s1 = __builtin_shufflevector(u0, u2, 2, 3, 6, 7);
      const v4f s2 = __builtin_shufflevector(u1, u3, 0, 1, 4, 5), s3 = __builtin_shufflevector(u1, u3, 2, 3, 6, 7);
      v4f o0, o1, o2, o3;
      AMCT_4OF2_KEEP(v4f, v4i, s0, s1, s2, s3, o0, o1, o2, o3, a_t, a_r);
      // Transpose back (the 4x4 transpose is its own inverse).
      const v4f w0 = __builtin_shufflevector(o0, o1, 0, 4, 1, 5), w1 = __builtin_shufflevector(o0, o1, 2, 6, 3, 7);
      const v4f w2 = __builtin_shufflevector(o2, o3, 0, 4, 1, 5), w3 = __builtin_shufflevector(o2, o3, 2, 6, 3, 7);
      const v4f y0 = __builtin_shufflevector(w0, w2, 0, 1, 4, 5), y1 = __builtin_shufflevector(w0, w2, 2, 3, 6, 7);
      const v4f y2 = __builtin_shufflevector(w1, w3, 0, 1, 4, 5), y3 = __builtin_shufflevector(w1, w3, 2, 3, 6, 7);
      float* q = out + g * 4;
      *reinterpret_cast<v4f_unaligned*>(q) = y0;
      *reinterpret_cast<v4f_unaligned*>(q + 4) = y1;
      *reinterpret_cast<v4f_unaligned*>(q + 8) = y2;
      *reinterpret_cast<v4f_unaligned*>(q + 12) = y3;
      if ((g & 255) == 252) {  // keep float partial sums short
        for (int k = 0; k < 4; ++k) t += a_t[k], r += a_r[k];
        a_t = v4f{0, 0, 0, 0};
        a_r = a_t;
      }
    }
    for (int k = 0; k < 4; ++k) t += a_t[k], r += a_r[k];
    for (; g < full_groups; ++g) {  // scalar: the same masks one group at a time
      const float* p = x + g * 4;
      for (uint64_t c = 0; c < 4; ++c) {
        int beaten = 0;
        for (uint64_t k = 0; k < 4; ++k) {
          if (k < c) beaten += std::fabs(p[k]) >= std::fabs(p[c]);
          if (k > c) beaten += std::fabs(p[k]) > std::fabs(p[c]);
        }
        const float s = p[c] * p[c];
        t += s;
        if (beaten >= 2) r += s;
        out[g * 4 + c] = beaten < 2 ? p[c] : 0.0f;
      }
    }
  } else {
    // Vectors of 8 columns (group_columns), stored whole: `out` is not `x`,
    // so a column taken twice is written twice the same.
    v8i tail_keep;
    lanes_from(8 - inner % 8, tail_keep);
    v8f a_t = splat8(0), a_r = a_t;
    uint64_t pending = 0;
    for (uint64_t g = 0; g < full_groups; ++g) {
      const float* p0 = x + (4 * g) * inner;
      float* q0 = out + (4 * g) * inner;
      auto columns = [&](uint64_t at, const v8i& keep) {
        const v8f s0 = load8(p0 + at), s1 = load8(p0 + inner + at), s2 = load8(p0 + 2 * inner + at),
                  s3 = load8(p0 + 3 * inner + at);
        v8i k0, k1, k2, k3;
        AMCT_4OF2_MASKS(v8f, v8i, s0, s1, s2, s3, k0, k1, k2, k3);
        const v8f o0 = reinterpret_cast<v8f>(reinterpret_cast<v8i>(s0) & k0);
        const v8f o1 = reinterpret_cast<v8f>(reinterpret_cast<v8i>(s1) & k1);
        const v8f o2 = reinterpret_cast<v8f>(reinterpret_cast<v8i>(s2) & k2);
        const v8f o3 = reinterpret_cast<v8f>(reinterpret_cast<v8i>(s3) & k3);
        store8(q0 + at, o0);
        store8(q0 + inner + at, o1);
        store8(q0 + 2 * inner + at, o2);
        store8(q0 + 3 * inner + at, o3);
        a_t += lanes_where(keep, (s0 * s0 + s1 * s1) + (s2 * s2 + s3 * s3));
        const v8f d0 = s0 - o0, d1 = s1 - o1, d2 = s2 - o2, d3 = s3 - o3;  // removed (see above)
        a_r += lanes_where(keep, (d0 * d0 + d1 * d1) + (d2 * d2 + d3 * d3));
      };
      if (group_columns(inner, tail_keep, columns, a_t, a_r, pending, t, r)) continue;
      for (uint64_t j = 0; j < inner; ++j) {
        float v[4], a[4];
        for (int c = 0; c < 4; ++c) v[c] = p0[c * inner + j], a[c] = std::fabs(v[c]);
        for (int c = 0; c < 4; ++c) {
          int beaten = 0;
          for (int k = 0; k < 4; ++k) beaten += (k < c && a[k] >= a[c]) || (k > c && a[k] > a[c]);
          const float s = v[c] * v[c];
          t += s;
          if (beaten >= 2) r += s;
          q0[c * inner + j] = beaten < 2 ? v[c] : 0.0f;
        }
      }
    }
    t += lanes_sum(a_t);
    r += lanes_sum(a_r);
  }
  // The last, zero-padded group: pads are zeros competing like any zero.
  if (const uint64_t real = cin % 4; real != 0) {
    const uint64_t base = full_groups * 4 * inner;
    for (uint64_t j = 0; j < inner; ++j) {
      float v[4] = {0, 0, 0, 0}, a[4] = {0, 0, 0, 0};
      for (uint64_t c = 0; c < real; ++c) v[c] = x[base + c * inner + j], a[c] = std::fabs(v[c]);
      for (uint64_t c = 0; c < real; ++c) {
        int beaten = 0;
        for (uint64_t k = 0; k < 4; ++k) beaten += (k < c && a[k] >= a[c]) || (k > c && a[k] > a[c]);
        const float s = v[c] * v[c];
        t += s;
        if (beaten >= 2) r += s;
        out[base + c * inner + j] = beaten < 2 ? v[c] : 0.0f;
      }
    }
  }
  total += t;
  removed += r;
}

uint64_t count_non_finite(const TensorView& view) {
  uint64_t bad = 0;
  for (uint64_t i = 0; i < view.elements; ++i) bad += !std::isfinite(element_at(view, i));
  return bad;
}

// ---- the out-channel-major view --------------------------------------------------

struct Layout {
  uint64_t rows = 1;   // output channels
  uint64_t cin = 1;    // second axis of the out-major view
  uint64_t inner = 1;  // product of the remaining axes
  bool transposed = false;
  uint64_t row_length() const { return cin * inner; }
};

Layout layout_of(const TensorView& w, bool output_axis_is_1) {
  Layout layout;
  const auto& s = w.shape;
  if (s.size() >= 2) {
    layout.transposed = output_axis_is_1;
    layout.rows = static_cast<uint64_t>(output_axis_is_1 ? s[1] : s[0]);
    layout.cin = static_cast<uint64_t>(output_axis_is_1 ? s[0] : s[1]);
    for (size_t i = 2; i < s.size(); ++i) layout.inner *= static_cast<uint64_t>(s[i]);
  } else {
    layout.cin = w.elements;
  }
  return layout;
}

class RowSource {
 public:
  RowSource(const TensorView& w, const Layout& layout) : w_(w), layout_(layout) {
    direct_ = w.dtype == DType::F32 && !layout.transposed &&
              reinterpret_cast<uintptr_t>(w.data) % alignof(float) == 0;
    row_bytes_ = layout.row_length() * dtype_size(w.dtype);
  }
  bool direct() const { return direct_; }
  // Rows lie one after another in the weight (not transposed).
  bool contiguous() const { return !layout_.transposed; }

  const float* row(uint64_t r, float* buffer) const {
    const uint64_t length = layout_.row_length();
    if (direct_) return reinterpret_cast<const float*>(w_.data) + r * length;
    if (!layout_.transposed) {
      widen_to_float(w_, r * length, length, buffer);
    } else {
      for (uint64_t i = 0; i < layout_.cin; ++i) {
        widen_to_float(w_, (i * layout_.rows + r) * layout_.inner, layout_.inner, buffer + i * layout_.inner);
      }
    }
    return buffer;
  }

  // Where row r starts in the weight's own bytes (contiguous sources), and a
  // row's size there: what to fetch ahead, and what the 16-bit kernels read.
  const unsigned char* bytes_of_row(uint64_t r) const { return w_.data + r * row_bytes(); }
  uint64_t row_bytes() const { return row_bytes_; }

  // Puts an out-major row back in the weight's layout.
  void store(uint64_t r, const float* row, float* output) const {
    if (!layout_.transposed) {
      std::memcpy(output + r * layout_.row_length(), row, layout_.row_length() * sizeof(float));
      return;
    }
    for (uint64_t i = 0; i < layout_.cin; ++i) {
      std::memcpy(output + (i * layout_.rows + r) * layout_.inner, row + i * layout_.inner,
                  layout_.inner * sizeof(float));
    }
  }

 private:
  const TensorView& w_;
  Layout layout_;
  bool direct_ = false;
  uint64_t row_bytes_ = 0;
};

// How a tensor's chunks are handed to threads: in runs of consecutive
// chunks, each run taken whole by the next free thread. A thread then streams
// a run as one contiguous read, and the hardware prefetcher ramps up once per
// run rather than once per chunk: on a Zen 5, a 2-thread sum of a 180 MB
// array in 256 KB pieces ran at ~87 % of its rate in 1 MB pieces, and runs of
// 4 chunks raised ARQ and 4:2 from memory by 8-15 % (session 12). Runs are
// shorter on small tensors, so that the last run leaves no thread idle long.
struct ChunkSchedule {
  uint64_t chunks = 0;
  unsigned threads = 1;
  uint64_t run = 1;  // chunks per run

  ChunkSchedule(uint64_t chunk_count, unsigned thread_count)
      : chunks(chunk_count),
        threads(static_cast<unsigned>(std::max<uint64_t>(1, std::min<uint64_t>(thread_count, chunk_count)))),
        run(std::clamp<uint64_t>(chunk_count / (uint64_t{threads} * 8), 1, 4)) {}

  // The chunk that the thread processing `chunk` likely takes after it: the
  // next one in its run, or the first of the run after the other threads'.
  uint64_t likely_next(uint64_t chunk) const {
    return (chunk + 1) % run != 0 ? chunk + 1 : chunk + 1 + (threads - 1) * run;
  }
};

// Runs fn(chunk, worker) for every chunk, on the schedule's threads.
template <typename Fn>
void for_each_chunk(const ChunkSchedule& schedule, Fn&& fn) {
  if (schedule.threads <= 1) {
    for (uint64_t c = 0; c < schedule.chunks; ++c) fn(c, 0u);
    return;
  }
  std::atomic<uint64_t> next_run{0};
  auto work = [&](unsigned worker) {
    for (uint64_t first = next_run++ * schedule.run; first < schedule.chunks; first = next_run++ * schedule.run) {
      const uint64_t last = std::min(schedule.chunks, first + schedule.run);
      for (uint64_t c = first; c < last; ++c) fn(c, worker);
    }
  };
  std::vector<std::thread> pool;
  for (unsigned t = 1; t < schedule.threads; ++t) pool.emplace_back(work, t);
  work(0);
  for (std::thread& thread : pool) thread.join();
}

// Per-tensor ARQ's scale and the max of the extremes it came from.
struct TensorScale {
  float scale = 1;
  float max_value = std::numeric_limits<float>::infinity();
};

struct Scratch {
  bool ready = false;
  std::vector<float> row, pruned, quantized, zeros;
};

struct ChunkFigures {
  ErrorSums error;
  double prune_total = 0, prune_removed = 0;
  float removed_peak_square = 0;
  float min_value = std::numeric_limits<float>::infinity();
  float max_value = -std::numeric_limits<float>::infinity();
};

// Lowers (raises) an extreme shared by the threads to `value`; returns the
// extreme as it was before (NaN never changes it: such tensors get no figures).
float lower_to(std::atomic<float>& extreme, float value) {
  float seen = extreme.load(std::memory_order_relaxed);
  while (value < seen && !extreme.compare_exchange_weak(seen, value, std::memory_order_relaxed)) {
  }
  return seen;
}
float raise_to(std::atomic<float>& extreme, float value) {
  float seen = extreme.load(std::memory_order_relaxed);
  while (value > seen && !extreme.compare_exchange_weak(seen, value, std::memory_order_relaxed)) {
  }
  return seen;
}

// The last-level cache's size from sysfs (sysconf's figure can be the host
// CPU's rather than the virtual machine's); 8 MB when unknown.
uint64_t last_level_cache_bytes() {
  for (int index = 3; index >= 2; --index) {
    const std::string dir = "/sys/devices/system/cpu/cpu0/cache/index" + std::to_string(index) + "/";
    std::ifstream size_file(dir + "size");
    uint64_t kib = 0;
    char unit = 0;
    if (size_file >> kib >> unit && unit == 'K' && kib > 0) return std::min<uint64_t>(kib << 10, uint64_t{256} << 20);
  }
  return uint64_t{8} << 20;
}

// Tensors up to this size are scanned whole before quantizing (per-tensor ARQ).
uint64_t two_pass_bytes() {
  static const uint64_t bytes = last_level_cache_bytes() / 3;
  return bytes;
}

}  // namespace

CompressResult compress_weight(const TensorView& weight, const CompressSpec& spec) {
  CompressResult result;
  if (weight.elements == 0) {
    result.problem = "empty tensor";
    return result;
  }
  const Layout layout = layout_of(weight, spec.output_axis_is_1);
  const RowSource source(weight, layout);
  const VectorKernels kernels = std::min(spec.kernels_at_most, widest_vector_kernels());
  const uint64_t rows = layout.rows, length = layout.row_length();
  // Fixed chunks (about 256 KB of floats): results do not depend on threads.
  const uint64_t rows_per_chunk = std::max<uint64_t>(1, (uint64_t{1} << 16) / std::max<uint64_t>(1, length));
  const uint64_t chunks = (rows + rows_per_chunk - 1) / rows_per_chunk;
  const unsigned threads = std::max(1u, spec.threads);
  const ChunkSchedule schedule(chunks, threads);
  std::vector<Scratch> scratch(threads);
  // Row buffers, only those this computation uses (a row can be long).
  const bool writes_rows = spec.quant.has_value() || spec.output != nullptr;
  auto buffers = [&](unsigned worker) -> Scratch& {
    Scratch& s = scratch[worker];
    if (!s.ready) {  // once per worker and tensor
      s.ready = true;
      if (!source.direct()) s.row.assign(length, 0.0f);
      if (writes_rows && spec.prune.kind == PruneKind::Selective4of2) s.pruned.assign(length, 0.0f);
      if (spec.output) s.quantized.assign(length, 0.0f);
      if (writes_rows && spec.prune.kind == PruneKind::Filter) s.zeros.assign(length, 0.0f);
    }
    return s;
  };
  std::vector<ChunkFigures> figures(chunks);
  auto rows_of = [&](uint64_t chunk) {
    return std::pair{chunk * rows_per_chunk, std::min(rows, (chunk + 1) * rows_per_chunk)};
  };
  auto not_finite = [&](double value) {
    if (std::isfinite(value)) return false;
    result.non_finite = count_non_finite(weight);
    result.problem = result.non_finite > 0
                         ? std::to_string(result.non_finite) + " weights are NaN or infinite"
                         : "weights too large: their squares overflow float";
    return true;
  };

  const PruneKind prune = spec.prune.kind;
  const bool selective_skipped = prune == PruneKind::Selective4of2 && layout.cin <= 2;
  const bool selective = prune == PruneKind::Selective4of2 && !selective_skipped;

  // Filter pruning: rank channels by L2 norm.
  std::vector<char> pruned_row;
  if (prune == PruneKind::Filter) {
    std::vector<double> energy(rows, 0.0);
    std::vector<float> peak(rows, 0.0f);
    for_each_chunk(schedule, [&](uint64_t chunk, unsigned worker) {
      Scratch& s = buffers(worker);
      auto [begin, end] = rows_of(chunk);
      for (uint64_t r = begin; r < end; ++r) row_energy(source.row(r, s.row.data()), length, energy[r], peak[r]);
    });
    const double total = std::accumulate(energy.begin(), energy.end(), 0.0);
    if (not_finite(total)) return result;
    const int64_t kept = filter_kept_count(static_cast<int64_t>(rows), spec.prune.ratio, spec.prune.ascend_optimized);
    std::vector<uint64_t> order(rows);
    std::iota(order.begin(), order.end(), uint64_t{0});
    std::stable_sort(order.begin(), order.end(), [&](uint64_t a, uint64_t b) { return energy[a] < energy[b]; });
    pruned_row.assign(rows, 0);
    PruneFigures figures_out;
    figures_out.total = rows;
    figures_out.kept = static_cast<uint64_t>(kept);
    figures_out.sumsq_weight = total;
    ErrorSums error;
    error.sumsq_ref = total;
    for (uint64_t i = 0; i < rows - static_cast<uint64_t>(kept); ++i) {
      pruned_row[order[i]] = 1;
      figures_out.sumsq_removed += energy[order[i]];
      error.max_abs = std::max(error.max_abs, static_cast<double>(peak[order[i]]));
    }
    error.sumsq_err = figures_out.sumsq_removed;
    error.dot = error.sumsq_approx = total - figures_out.sumsq_removed;
    result.prune = figures_out;
    if (!spec.quant && !spec.output) {
      result.error = error;
      return result;
    }
  }

  // 4:2 figures only: one pass, no pruned copy.
  if (prune == PruneKind::Selective4of2 && !spec.quant && !spec.output) {
    PruneFigures out;
    out.total = weight.elements;
    out.skipped = selective_skipped;
    if (selective_skipped) {
      for_each_chunk(schedule, [&](uint64_t chunk, unsigned worker) {
        Scratch& s = buffers(worker);
        auto [begin, end] = rows_of(chunk);
        float unused = 0;
        for (uint64_t r = begin; r < end; ++r) {
          row_energy(source.row(r, s.row.data()), length, figures[chunk].prune_total, unused);
        }
      });
    } else {
      for_each_chunk(schedule, [&](uint64_t chunk, unsigned worker) {
        Scratch& s = buffers(worker);
        auto [begin, end] = rows_of(chunk);
        ChunkFigures& f = figures[chunk];
        for (uint64_t r = begin; r < end; ++r) {
          row_4of2_energy(source.row(r, s.row.data()), layout.cin, layout.inner, f.prune_total,
                          f.prune_removed, f.removed_peak_square);
        }
      });
    }
    ErrorSums error;
    float peak = 0;
    for (const ChunkFigures& f : figures) {
      out.sumsq_weight += f.prune_total;
      out.sumsq_removed += f.prune_removed;
      peak = std::max(peak, f.removed_peak_square);
    }
    if (not_finite(out.sumsq_weight)) return result;
    const uint64_t tail = layout.cin % 4;
    out.kept = selective_skipped ? weight.elements
                                 : layout.rows * layout.inner * ((layout.cin / 4) * 2 + std::min<uint64_t>(2, tail));
    error.sumsq_ref = out.sumsq_weight;
    error.sumsq_err = out.sumsq_removed;
    error.dot = error.sumsq_approx = out.sumsq_weight - out.sumsq_removed;
    error.max_abs = std::sqrt(static_cast<double>(peak));
    result.prune = out;
    result.error = error;
    return result;
  }

  // The source of a row after pruning (the row itself, zeros, or the 4:2 row).
  auto pruned_source = [&](uint64_t r, const float* row, Scratch& s, ChunkFigures& f) -> const float* {
    if (prune == PruneKind::Filter && pruned_row[r]) return s.zeros.data();
    if (selective) {
      row_4of2_prune(row, layout.cin, layout.inner, s.pruned.data(), f.prune_total, f.prune_removed);
      return s.pruned.data();
    }
    if (selective_skipped) {
      float unused = 0;
      row_energy(row, length, f.prune_total, unused);
    }
    return row;
  };

  const int bits = spec.quant ? spec.quant->bits : 8;
  const float qmin = -static_cast<float>(1 << (bits - 1));
  const float qmax = static_cast<float>((1 << (bits - 1)) - 1);
  // ||row||² from per-tensor ARQ's scan (used for unpruned rows).
  std::vector<double> row_sumsq;
  // Unpruned ARQ of F16/BF16 weights in their own layout (figures only)
  // reads rows and spans where they are (`packed`); other 16-bit paths widen rows.
  const bool packed = spec.quant && source.contiguous() && prune == PruneKind::None && spec.output == nullptr &&
                      packed_kernels(weight.dtype, kernels);
  // Per-tensor ARQ of an unpruned tensor in its own layout (figures only),
  // F32 or packed: a chunk's rows are contiguous and share the scale, so the
  // chunk is scanned and quantized as one span, without a row's fixed costs.
  const bool spans = spec.quant && !spec.quant->channel_wise && prune == PruneKind::None && spec.output == nullptr &&
                     (source.direct() || packed);
  std::vector<double> chunk_sumsq;  // ||chunk||² (spans)
  // Pass 2 of one chunk: prune and/or quantize its rows (`tensor_scale` for
  // per-tensor ARQ), adding to the chunk's figures.
  // ChunkFetch::rows_ahead: per-tensor ARQ fetches the row that many rows
  // ahead while quantizing each row (0: none), in spans that chunk but its
  // first `fetched_by_scan` bytes (the scan fetched them); `next_tensor`: it
  // fetches the caller's next tensor instead (spec.next_tensor), row r the
  // part at r's place, `next_ratio` times the row's bytes.
  const uint64_t row_bytes = source.row_bytes();
  auto bytes_to_fetch = [&](uint64_t r) { return reinterpret_cast<const char*>(source.bytes_of_row(r)); };
  const uint64_t next_ratio =
      std::clamp<uint64_t>((spec.next_tensor_bytes + weight.byte_size() - 1) / weight.byte_size(), 1, 4);
  struct ChunkFetch {
    uint64_t rows_ahead = 0;
    uint64_t fetched_by_scan = 0;
    bool next_tensor = false;
  };
  // A chunk as one span (spans), for per-tensor ARQ with `tensor_scale`.
  auto span_row = [&](uint64_t chunk, TensorScale tensor_scale) {
    const auto [begin, end] = rows_of(chunk);
    QuantRow q;
    q.kernels = kernels;
    if (packed) {
      q.packed = source.bytes_of_row(begin);
      q.packed_type = weight.dtype;
    } else {
      q.ref = q.src = source.row(begin, nullptr);
    }
    q.n = (end - begin) * length;
    q.qmin = qmin;
    q.qmax = qmax;
    q.scale = tensor_scale.scale;
    q.src_max = tensor_scale.max_value;
    return q;
  };
  auto process_chunk = [&](uint64_t chunk, unsigned worker, TensorScale tensor_scale, ChunkFetch fetch) {
    const uint64_t prefetch_rows = fetch.rows_ahead;
    const bool fetch_next_tensor = fetch.next_tensor;
    Scratch& s = buffers(worker);
    auto [begin, end] = rows_of(chunk);
    ChunkFigures& f = figures[chunk];
    if (spans) {
      QuantRow q = span_row(chunk, tensor_scale);
      q.ref_sumsq = chunk_sumsq[chunk];
      if (fetch_next_tensor) {
        const uint64_t offset = begin * row_bytes * next_ratio, bytes = (end - begin) * row_bytes * next_ratio;
        if (spec.next_tensor && offset + bytes <= spec.next_tensor_bytes) {
          q.prefetch = {reinterpret_cast<const char*>(spec.next_tensor) + offset, bytes};
        }
      } else if (prefetch_rows > 0 && end + prefetch_rows <= rows) {
        q.prefetch = {bytes_to_fetch(begin + prefetch_rows) + fetch.fetched_by_scan,
                      (end - begin) * row_bytes - fetch.fetched_by_scan};
      }
      quantize_row(q, f.error);
      return;
    }
    for (uint64_t r = begin; r < end; ++r) {
      const float* row = packed ? nullptr : source.row(r, s.row.data());
      const float* src = packed ? nullptr : pruned_source(r, row, s, f);
      if (spec.quant) {
        QuantRow q;
        q.kernels = kernels;
      q.kernels = kernels;
        q.ref = row;
        q.src = src;
        if (packed) {
          q.packed = source.bytes_of_row(r);
          q.packed_type = weight.dtype;
        }
        q.n = length;
        q.qmin = qmin;
        q.qmax = qmax;
        if (spec.quant->channel_wise) {
          float mn = std::numeric_limits<float>::infinity(), mx = -mn;
          double sumsq = 0;
          // The next row is fetched meanwhile, part during this row's scan
          // and the rest while it is quantized, so that memory stays busy
          // through both passes and the next scan reads from cache.
          Prefetch scan_fetch;
          if (source.contiguous() && r + 1 < rows) {
            const uint64_t by_scan = row_bytes / 2 / 64 * 64;
            scan_fetch = {bytes_to_fetch(r + 1), by_scan};
            q.prefetch = {bytes_to_fetch(r + 1) + by_scan, row_bytes - by_scan};
          }
          if (packed) {
            row_scan_packed(kernels, q.packed, weight.dtype, length, mn, mx, sumsq, scan_fetch);
          } else {
            row_scan(kernels, src, length, mn, mx, sumsq, scan_fetch);
          }
          q.scale = arq_scale(mx, mn, bits);
          q.src_max = mx;
          q.ref_sumsq = sumsq;
        } else {
          q.scale = tensor_scale.scale;
          q.src_max = tensor_scale.max_value;
          q.ref_sumsq = row_sumsq[r];
          if (fetch_next_tensor) {
            const uint64_t offset = r * row_bytes * next_ratio;
            if (spec.next_tensor && offset + row_bytes * next_ratio <= spec.next_tensor_bytes) {
              q.prefetch = {reinterpret_cast<const char*>(spec.next_tensor) + offset, row_bytes * next_ratio};
            }
          } else if (source.contiguous() && prefetch_rows > 0 && r + prefetch_rows < rows) {
            q.prefetch = {bytes_to_fetch(r + prefetch_rows), row_bytes};
          }
        }
        if (src != row) q.ref_sumsq.reset();
        q.out = spec.output ? s.quantized.data() : nullptr;
        quantize_row(q, f.error);
        if (spec.output) source.store(r, q.out, spec.output);
      } else {
        // Pruning only, with output: ŵ is the pruned row.
        ErrorSums& e = f.error;
        for (uint64_t i = 0; i < length; ++i) {
          const double w = row[i], p = src[i], d = w - p;
          e.sumsq_ref += w * w;
          e.sumsq_err += d * d;
          e.dot += w * p;
          e.sumsq_approx += p * p;
          e.max_abs = std::max(e.max_abs, std::fabs(d));
        }
        source.store(r, src, spec.output);
      }
    }
  };

  // Per-tensor ARQ's scan of an unpruned tensor (spans), given back to
  // the caller once the figures are known to be finite.
  std::optional<TensorScan> scan_out;
  const TensorScan* known = spec.known_scan;
  const bool use_known = spans && known && known->elements == weight.elements && known->row_length == length &&
                         known->chunk_sumsq.size() == chunks;
  if (use_known) {
    // The scan is known: one read, every chunk quantized with the final scale
    // (as the reread pass below does), fetching the chunk this thread likely
    // takes next while it quantizes.
    chunk_sumsq = known->chunk_sumsq;
    const TensorScale final_scale{arq_scale(known->max_value, known->min_value, bits), known->max_value};
    for_each_chunk(schedule, [&](uint64_t chunk, unsigned worker) {
      process_chunk(chunk, worker, final_scale, {.rows_ahead = (schedule.likely_next(chunk) - chunk) * rows_per_chunk});
    });
    result.used_known_scan = true;
  } else if (spec.quant && !spec.quant->channel_wise) {
    // Per-tensor ARQ in about one read: each chunk is quantized with the
    // scale of the extremes seen so far by every thread; chunks whose scale
    // was not the final one are read and quantized again at the end. Codes
    // and sums are those of the final scale, as if the whole tensor had been
    // scanned first.
    //  - Figures-only spans with the vector kernels (the estimate's path):
    //    one sweep from memory quantizes the chunk with the extremes seen
    //    before it and scans it (min, max, ||w||²) alike. When the chunk moves
    //    the extremes, it is quantized again at once, from cache.
    //  - Otherwise (rows, or the portable kernels) the chunk is scanned from
    //    memory, then quantized from cache.
    // The first quarter is only scanned (it is mostly quantized again
    // anyway) and quantized at the end.
    // The max is one element anywhere, and no order fixed before reading
    // meets it early on average: every chunk processed before the one holding
    // the final extremes is read again (it is no longer in cache on a tensor
    // this path takes, over a third of the last-level cache): half the tensor
    // on average, 1.5 reads; from 1 (the max first) to 2 (the max last).
    // Splitting the chunks between threads (shared running extremes) or into
    // halves with their own extremes, or ordering them by the max of a
    // strided sample, did not move the average.
    // Measured (engine_bench --per-layer, Llama layer): on a 2 GHz Zen 1
    // (session 7) scan + quantize ran at ~8 GB/s per core from L2, under the
    // memory's 19 GB/s for two, and the one-sweep form gained nothing. On a
    // Zen 5 with AVX-512 (session 12) it raised per-tensor ARQ by 5-14 %.
    // There, without the scanned-only quarter, the Llama layer's tensors whose
    // max comes early were read twice 2-6 % instead of 25 % (35 -> 39 GB/s
    // each), but the whole layer ran the same on 2 threads, and BF16 weights
    // (bound by the CPU: quantizing twice costs) 20 % slower on one: the
    // quarter stays.
    if (spans) {
      chunk_sumsq.assign(chunks, 0.0);
    } else {
      row_sumsq.assign(rows, 0.0);
    }
    std::vector<float> chunk_min(chunks, std::numeric_limits<float>::infinity());
    std::vector<float> chunk_max(chunks, -std::numeric_limits<float>::infinity());
    std::vector<float> chunk_scale(chunks, std::numeric_limits<float>::quiet_NaN());  // NaN: not quantized yet
    const bool one_sweep = spans && kernels != VectorKernels::Portable;
    // A tensor that stays in the last-level cache between two passes (with
    // one more such tensor on the other thread) is scanned whole first, then
    // quantized from cache: a second read there is cheaper than quantizing
    // chunks twice. Not by default on the one-sweep path for F32 weights,
    // which is bound by memory, not by quantizing: there ResNet-50 ran 5 %
    // faster without it (54-62 % of the read bandwidth against 51-58 %, four
    // alternated pairs; larger limits, up to 16 MB, were slower still), while
    // BF16 weights (bound by the CPU) ran 15 % slower on one thread (session 12).
    const bool memory_bound = one_sweep && !packed;
    const uint64_t two_pass_limit = spec.two_pass_max_bytes.value_or(memory_bound ? 0 : two_pass_bytes());
    const bool two_pass = weight.byte_size() <= two_pass_limit;
    const uint64_t scanned_only = two_pass ? chunks : chunks / 4;
    std::atomic<float> seen_min{std::numeric_limits<float>::infinity()};
    std::atomic<float> seen_max{-std::numeric_limits<float>::infinity()};
    for_each_chunk(schedule, [&](uint64_t chunk, unsigned worker) {
      Scratch& s = buffers(worker);
      auto [begin, end] = rows_of(chunk);
      ChunkFigures scratch_figures;
      // The chunk this thread likely takes next (`ahead` rows on) is fetched
      // while this one is scanned and quantized, so that memory stays busy
      // in both: its first half during the scan (all of it when this chunk
      // is only scanned, or scanned and quantized in one sweep), the rest
      // during the quantize pass. (Fetching it
      // during the quantize pass alone left memory idle during each scan:
      // the first pass ran at ~15 GB/s on 2 threads against 19-20.)
      const uint64_t ahead = (schedule.likely_next(chunk) - chunk) * rows_per_chunk;
      uint64_t fetched_by_scan = 0;
      if (spans) {
        const uint64_t whole = (end - begin) * row_bytes;
        const bool fetch_next = end + ahead <= rows;
        const float seen_lo = seen_min.load(std::memory_order_relaxed);
        const float seen_hi = seen_max.load(std::memory_order_relaxed);
        if (one_sweep && chunk >= scanned_only && seen_lo <= seen_hi) {
          QuantRow q = span_row(chunk, {arq_scale(seen_hi, seen_lo, bits), seen_hi});
          if (fetch_next) q.prefetch = {bytes_to_fetch(begin + ahead), whole};
          scan_and_quantize(q, figures[chunk].error, chunk_min[chunk], chunk_max[chunk], chunk_sumsq[chunk]);
          if (chunk_min[chunk] >= seen_lo && chunk_max[chunk] <= seen_hi) {
            chunk_scale[chunk] = q.scale;
            return;
          }
          figures[chunk] = ChunkFigures{};  // quantized again below, from cache
          fetched_by_scan = fetch_next ? whole : 0;
        } else {
          Prefetch next;
          if (fetch_next) {
            // The portable scan fetches nothing. (A third or a quarter for
            // the scan, the share of its CPU time, measured the same.)
            fetched_by_scan =
                kernels == VectorKernels::Portable ? 0 : chunk < scanned_only ? whole : whole / 2 / 64 * 64;
            next = {bytes_to_fetch(begin + ahead), fetched_by_scan};
          }
          const uint64_t n = (end - begin) * length;
          if (packed) {
            row_scan_packed(kernels, source.bytes_of_row(begin), weight.dtype, n, chunk_min[chunk], chunk_max[chunk],
                            chunk_sumsq[chunk], next);
          } else {
            row_scan(kernels, source.row(begin, nullptr), n, chunk_min[chunk], chunk_max[chunk], chunk_sumsq[chunk],
                     next);
          }
        }
      }
      for (uint64_t r = begin; r < end && !spans; ++r) {
        const float* row = source.row(r, s.row.data());
        const float* src = pruned_source(r, row, s, scratch_figures);
        row_scan(kernels, src, length, chunk_min[chunk], chunk_max[chunk], row_sumsq[r]);
      }
      const float mn = std::min(chunk_min[chunk], lower_to(seen_min, chunk_min[chunk]));
      const float mx = std::max(chunk_max[chunk], raise_to(seen_max, chunk_max[chunk]));
      if (chunk < scanned_only) return;
      chunk_scale[chunk] = arq_scale(mx, mn, bits);
      // The chunk is in cache (its scan read it): fetch meanwhile the one this
      // thread likely takes next, so that its scan finds it in cache.
      process_chunk(chunk, worker, {chunk_scale[chunk], mx}, {.rows_ahead = ahead, .fetched_by_scan = fetched_by_scan});
    });
    const float mn = *std::min_element(chunk_min.begin(), chunk_min.end());
    const float mx = *std::max_element(chunk_max.begin(), chunk_max.end());
    const float final_scale = arq_scale(mx, mn, bits);
    std::vector<uint64_t> again;  // scanned only, or quantized with another scale
    for (uint64_t c = 0; c < chunks; ++c) {
      if (!(chunk_scale[c] == final_scale)) again.push_back(c);
    }
    std::atomic<uint64_t> reread{0}, requantized{0};
    // Scanned whole: latest first, the last scanned are still in cache;
    // otherwise in order, from memory, in runs.
    for_each_chunk(ChunkSchedule(again.size(), threads), [&](uint64_t k, unsigned worker) {
      const uint64_t chunk = two_pass ? again[again.size() - 1 - k] : again[k];
      const auto [begin, end] = rows_of(chunk);
      reread += (end - begin) * length;
      if (!std::isnan(chunk_scale[chunk])) requantized += (end - begin) * length;
      figures[chunk] = ChunkFigures{};
      // Scanned whole: from cache, fetching the caller's next tensor
      // meanwhile; otherwise from memory, fetching the next row.
      process_chunk(chunk, worker, {final_scale, mx}, {.rows_ahead = 1, .next_tensor = two_pass});
    });
    result.reread_elements = reread.load();
    result.requantized_elements = requantized.load();
    if (spans) scan_out = TensorScan{weight.elements, length, mn, mx, std::move(chunk_sumsq)};
  } else {
    for_each_chunk(schedule, [&](uint64_t chunk, unsigned worker) { process_chunk(chunk, worker, {}, {}); });
  }
  ErrorSums error;
  double prune_total = 0, prune_removed = 0;
  for (const ChunkFigures& f : figures) {
    error.add(f.error);
    prune_total += f.prune_total;
    prune_removed += f.prune_removed;
  }
  if (not_finite(error.sumsq_ref + error.sumsq_err)) return result;
  result.scan = std::move(scan_out);
  if (prune == PruneKind::Selective4of2) {
    PruneFigures out;
    out.total = weight.elements;
    out.skipped = selective_skipped;
    const uint64_t tail = layout.cin % 4;
    out.kept = selective_skipped ? weight.elements
                                 : layout.rows * layout.inner * ((layout.cin / 4) * 2 + std::min<uint64_t>(2, tail));
    out.sumsq_weight = prune_total;
    out.sumsq_removed = prune_removed;
    result.prune = out;
  }
  result.error = error;
  return result;
}

// ---- ULQ activations ----------------------------------------------------------------

AsymmetricQuant asymmetric_quant(double min_value, double max_value, int bits) {
  const double hi = std::max(max_value, 0.0), lo = std::min(min_value, 0.0);
  const double levels = std::ldexp(1.0, bits) - 1;
  AsymmetricQuant quant;
  quant.scale = (hi - lo) / levels;
  if (quant.scale < kFltEpsilon) quant.scale = 1.0;
  quant.offset = static_cast<int64_t>(std::nearbyint(-std::ceil(levels / 2) - lo / quant.scale));
  return quant;
}

ActivationStaticFigure ulq_activation_static(double clip_min, double clip_max, int bits, bool fixed_min) {
  ActivationStaticFigure figure;
  figure.clip_min = fixed_min ? 0.0 : clip_min;
  figure.clip_max = clip_max;
  figure.step = (figure.clip_max - figure.clip_min) / (std::ldexp(1.0, bits) - 1);
  figure.noise_rms = figure.step / std::sqrt(12.0);
  return figure;
}

ErrorSums activation_quant_error(const TensorView& x, const AsymmetricQuant& quant, int bits) {
  const double qmin = -std::ldexp(1.0, bits - 1), qmax = std::ldexp(1.0, bits - 1) - 1;
  ErrorSums sums;
  for (uint64_t i = 0; i < x.elements; ++i) {
    const double v = element_at(x, i);
    const double q = std::clamp(std::nearbyint(v / quant.scale + static_cast<double>(quant.offset)), qmin, qmax);
    const double approx = (q - static_cast<double>(quant.offset)) * quant.scale;
    const double e = v - approx;
    sums.sumsq_ref += v * v;
    sums.sumsq_err += e * e;
    sums.dot += v * approx;
    sums.sumsq_approx += approx * approx;
    sums.max_abs = std::max(sums.max_abs, std::fabs(e));
  }
  return sums;
}

}  // namespace amct::engine
