#pragma once
// AMCT's reference quantization and pruning algorithms on one weight tensor,
// with error metrics (AMCT_FACTS.md "Algorithms"):
//  - ARQ: symmetric, offset 0, scale = max(|max|,|min|) / D with D = 2^(b-1)
//    if |min| > |max| else 2^(b-1) - 1 (scale < FLT_EPSILON -> 1), per output
//    channel or per tensor, q = clamp(round_half_even(w / scale)) in
//    [-2^(b-1), 2^(b-1) - 1]. ULQ weights are initialised exactly like ARQ.
//  - BalancedL2Norm filter pruning: kept = n - round(n * ratio), rounded up to
//    a multiple of 16 with ascend_optimized (0 -> 16; 0 -> 1 without); the
//    lowest L2 norms are pruned, lower index first on ties.
//  - L1 selective 4:2 along the input channels: in each group of 4 the 2
//    largest |w| are kept (lower index wins ties), Cin zero-padded to a
//    multiple of 4, Cin <= 2 untouched.
//  - prune, then quantize the pruned weight.
// Weights are viewed out-channel-major: [Cout, Cin, k...]. A layer whose
// output channels are on axis 1 (ConvTranspose, ONNX MatMul) is transposed
// on the fly. Kernels keep no copy of the tensor, widen F16/BF16 on the fly
// and split rows over threads; per-channel ARQ reads each row from memory
// once (its second pass finds the row in cache); per-tensor ARQ scans and
// quantizes each L2-sized chunk at once with the scale of the extremes seen
// so far (in one sweep, for unpruned spans on the vector kernels), and reads
// again only the chunks whose scale was not the tensor's final one (and the
// first quarter, only scanned at first); on the other paths, a tensor that
// fits in a third of the last-level cache is scanned whole, then quantized
// from cache while the caller's next tensor (CompressSpec::next_tensor) is
// fetched. Unpruned chunks in the weight's own layout are processed as one
// span, not row by row (F32, or F16/BF16 read in place by the AVX2 or
// AVX-512 kernels);
// there the scan is returned (CompressResult::scan) and, passed back for the
// same weights (CompressSpec::known_scan), saves the first pass: one read.
// (Scanning the caller's next tensor while quantizing this one would not
// save a read: a tensor larger than the cache must be read again once its
// max is known, and one that fits is already fetched during the previous
// tensor's quantize pass.)
// ARQ's codes are those of the division x / scale, computed without it
// (multiply by 1/scale, exact rule for the rare near-ties; no clamp when no
// code can exceed qmax). Results do not depend on the thread count.
#include <cmath>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/engine/tensor.h"

namespace amct::engine {

constexpr float kFltEpsilon = 1.192092896e-7f;

// Sums from which every error metric of an approximation ŵ of w follows.
struct ErrorSums {
  double sumsq_ref = 0;     // ||w||²
  double sumsq_err = 0;     // ||w - ŵ||²
  double dot = 0;           // w · ŵ
  double sumsq_approx = 0;  // ||ŵ||²
  double max_abs = 0;       // max |w - ŵ|

  void add(const ErrorSums& other);
  double rel_l2() const { return sumsq_ref > 0 ? std::sqrt(sumsq_err / sumsq_ref) : 0.0; }
  // +inf when ŵ == w.
  double sqnr_db() const {
    return sumsq_err > 0 && sumsq_ref > 0 ? 10 * std::log10(sumsq_ref / sumsq_err) : INFINITY;
  }
  double cosine() const {
    return sumsq_ref > 0 && sumsq_approx > 0 ? dot / std::sqrt(sumsq_ref * sumsq_approx) : 0.0;
  }
};

struct PruneFigures {
  uint64_t kept = 0;   // channels (filter pruning) or weights (4:2)
  uint64_t total = 0;
  double sumsq_weight = 0;
  double sumsq_removed = 0;
  bool skipped = false;  // 4:2 with Cin <= 2: untouched
  double energy_removed() const { return sumsq_weight > 0 ? sumsq_removed / sumsq_weight : 0.0; }
};

struct QuantSpec {
  int bits = 8;
  bool channel_wise = true;
};

enum class PruneKind { None, Filter, Selective4of2 };

struct PruneSpec {
  PruneKind kind = PruneKind::None;
  double ratio = 0;  // filter pruning; used as the float32 AMCT sees
  bool ascend_optimized = true;
};

// Per-tensor ARQ's first pass over an unpruned tensor in its own layout:
// its extremes and the energy of each of its fixed chunks. It depends on the
// weights only (not on bits or the thread count), so a caller that keeps it
// for the same weights (the language server estimating again after an edit)
// can pass it back through CompressSpec::known_scan: the tensor is then read
// once and quantized with the final scale, with the very same figures.
struct TensorScan {
  uint64_t elements = 0;    // of the tensor it describes
  uint64_t row_length = 0;  // elements per output channel (the chunking follows it)
  float min_value = 0, max_value = 0;
  std::vector<double> chunk_sumsq;  // ||chunk||², chunk by chunk
};

// The vector kernels ARQ runs on: AVX-512 (16 floats), AVX2 + FMA (8) or
// portable code (the exact rule for every weight). compress_weight takes the
// widest this CPU runs, up to CompressSpec::kernels_at_most; figures agree
// between them to the rounding of their sums (the codes are the same).
enum class VectorKernels { Portable, Avx2, Avx512 };
VectorKernels widest_vector_kernels();
// CompressSpec's default cap: AVX-512, or what the environment variable
// AMCT_VECTOR_KERNELS names ("portable", "avx2"): to compare the kernel sets
// on one machine (the test suite runs once per set), or rule one out when a
// figure looks wrong. Read once per process.
VectorKernels default_vector_kernels_cap();
const char* vector_kernels_name(VectorKernels kernels);  // "portable", "AVX2", "AVX-512"
std::optional<VectorKernels> parse_vector_kernels(std::string_view name);  // a name, or "avx2", "avx-512"

struct CompressSpec {
  std::optional<QuantSpec> quant;
  PruneSpec prune;
  bool output_axis_is_1 = false;  // transpose the first two axes first
  unsigned threads = 1;           // within this tensor
  // Per-tensor ARQ scans tensors up to this many bytes (as floats) whole
  // before quantizing them (they stay in cache between the passes); larger
  // ones are quantized chunk by chunk with the running max. Default: a third
  // of the last-level cache; none for unpruned F32 figures on the vector
  // kernels (one sweep per chunk, bound by memory).
  std::optional<uint64_t> two_pass_max_bytes;
  // The tensor the caller compresses next (its bytes, any dtype), if known:
  // per-tensor ARQ fetches it into cache while it quantizes a tensor it
  // scanned whole (from cache, compute-bound, the memory bus idle), so that
  // the next scan reads from cache. A hint only: figures do not depend on it.
  const unsigned char* next_tensor = nullptr;
  uint64_t next_tensor_bytes = 0;
  // Per-tensor ARQ: this tensor's scan, from an earlier CompressResult::scan of
  // the same weights. Used only when it matches the tensor (elements, row
  // length, chunk count) on the path that produces it; ignored otherwise.
  const TensorScan* known_scan = nullptr;
  // When set, receives ŵ (pruned then quantized) in the weight's own layout,
  // `elements` floats. For tests and small tensors; the estimate leaves it null.
  float* output = nullptr;
  // Tests and the benchmark lower it to check or compare narrower kernels.
  VectorKernels kernels_at_most = default_vector_kernels_cap();
};

struct CompressResult {
  std::optional<ErrorSums> error;      // ŵ against w (quantized, pruned, or both)
  std::optional<PruneFigures> prune;   // when pruning ran
  uint64_t non_finite = 0;             // NaN/Inf weights: then no figures are given
  std::string problem;                 // why there are no figures ("" if there are)
  // Per-tensor ARQ (speed figures): elements read from the weight a second
  // time (chunks only scanned at first, or quantized with a scale that was
  // not the final one), and those quantized twice (the latter). A chunk that
  // moved the extremes in a one-sweep pass is quantized again from cache at
  // once; that is not counted.
  uint64_t reread_elements = 0;
  uint64_t requantized_elements = 0;
  // Per-tensor ARQ of an unpruned tensor in its own layout without
  // output (the estimate's path): its scan, to pass back as known_scan.
  std::optional<TensorScan> scan;
  bool used_known_scan = false;  // known_scan matched: the tensor was read once
};

CompressResult compress_weight(const TensorView& weight, const CompressSpec& spec);

// ---- the rules, exposed for tests and callers --------------------------------

float arq_scale(float max_value, float min_value, int bits);
// round half to even of a float (the current rounding mode is assumed default)
float round_half_even(float value);
// Channels kept by BalancedL2Norm out of n (<= n).
int64_t filter_kept_count(int64_t channels, double ratio, bool ascend_optimized);

// ---- ULQ activations ----------------------------------------------------------------

struct AsymmetricQuant {
  double scale = 1;
  int64_t offset = 0;
};
// max' = max(max, 0), min' = min(min, 0), scale = (max' - min') / (2^b - 1)
// (< FLT_EPSILON -> 1), offset = round(-ceil((2^b - 1) / 2) - min' / scale).
AsymmetricQuant asymmetric_quant(double min_value, double max_value, int bits);

struct ActivationStaticFigure {
  double clip_min = 0, clip_max = 0;
  double step = 0;       // (clip_max - clip_min) / (2^b - 1)
  double noise_rms = 0;  // step / sqrt(12)
};
ActivationStaticFigure ulq_activation_static(double clip_min, double clip_max, int bits,
                                             bool fixed_min);

// Measured error of fake-quantizing the activation sample `x` with `quant`
// (x̂ = (clamp(round(x/s + o), -2^(b-1), 2^(b-1)-1) - o) * s, in double).
ErrorSums activation_quant_error(const TensorView& x, const AsymmetricQuant& quant, int bits);

}  // namespace amct::engine
