// The reference engine's algorithms: hand-computed cases (AMCT_FACTS.md
// "Algorithms", the same cases as ../shared/perf/quant_ref.py selftest) and
// a straightforward reference implementation the fast kernels must match.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <numeric>

#include "core/engine/compress.h"
#include "core/engine_test_support.h"

namespace amct::engine {
namespace {

using test::view_of;

struct Compressed {
  std::vector<float> approx;
  CompressResult result;
};

Compressed run(const std::vector<float>& w, std::vector<int64_t> shape, CompressSpec spec) {
  Compressed out;
  out.approx.assign(w.size(), std::numeric_limits<float>::quiet_NaN());
  spec.output = out.approx.data();
  out.result = compress_weight(view_of(w, std::move(shape)), spec);
  return out;
}

CompressSpec arq(int bits, bool channel_wise) {
  CompressSpec spec;
  spec.quant = QuantSpec{bits, channel_wise};
  return spec;
}

// Integer codes q = ŵ / scale.
std::vector<float> codes(const std::vector<float>& approx, const std::vector<float>& scales, size_t per_row) {
  std::vector<float> q(approx.size());
  for (size_t i = 0; i < approx.size(); ++i) q[i] = approx[i] / scales[std::min(i / per_row, scales.size() - 1)];
  return q;
}

// ---- a straightforward reference (one element at a time, double sums) ---------

struct Reference {
  std::vector<float> approx;
  double sumsq_ref = 0, sumsq_err = 0, dot = 0, sumsq_approx = 0, max_abs = 0;
  int64_t kept = 0;
  double removed = 0;
};

// Index into the weight of out-major element (row, i) where i runs over the
// row [cin, inner].
size_t weight_index(const std::vector<int64_t>& shape, bool transposed, size_t row, size_t i) {
  size_t inner = 1;
  for (size_t d = 2; d < shape.size(); ++d) inner *= static_cast<size_t>(shape[d]);
  const size_t c = i / inner, p = i % inner;
  if (!transposed) return (row * static_cast<size_t>(shape[1]) + c) * inner + p;
  return (c * static_cast<size_t>(shape[1]) + row) * inner + p;
}

Reference reference(const std::vector<float>& w, const std::vector<int64_t>& shape, bool transposed,
                    std::optional<QuantSpec> quant, PruneSpec prune) {
  const size_t rows = static_cast<size_t>(transposed ? shape[1] : shape[0]);
  const size_t cin = static_cast<size_t>(transposed ? shape[0] : shape[1]);
  const size_t length = w.size() / rows, inner = length / cin;
  std::vector<std::vector<float>> m(rows, std::vector<float>(length));
  for (size_t r = 0; r < rows; ++r)
    for (size_t i = 0; i < length; ++i) m[r][i] = w[weight_index(shape, transposed, r, i)];
  std::vector<std::vector<float>> p = m;
  Reference ref;
  if (prune.kind == PruneKind::Filter) {
    std::vector<double> norm(rows);
    for (size_t r = 0; r < rows; ++r)
      for (float v : m[r]) norm[r] += double(v) * v;
    const int64_t kept = filter_kept_count(int64_t(rows), prune.ratio, prune.ascend_optimized);
    std::vector<size_t> order(rows);
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return norm[a] < norm[b]; });
    for (size_t k = 0; k < rows - size_t(kept); ++k) {
      std::fill(p[order[k]].begin(), p[order[k]].end(), 0.0f);
      ref.removed += norm[order[k]];
    }
    ref.kept = kept;
  } else if (prune.kind == PruneKind::Selective4of2 && cin > 2) {
    for (size_t r = 0; r < rows; ++r)
      for (size_t g = 0; g < cin; g += 4)
        for (size_t j = 0; j < inner; ++j) {
          float a[4] = {0, 0, 0, 0};
          for (size_t c = 0; c < 4 && g + c < cin; ++c) a[c] = std::fabs(m[r][(g + c) * inner + j]);
          for (size_t c = 0; c < 4 && g + c < cin; ++c) {
            int beaten = 0;
            for (size_t k = 0; k < 4; ++k) beaten += (k < c && a[k] >= a[c]) || (k > c && a[k] > a[c]);
            if (beaten >= 2) {
              ref.removed += double(a[c]) * a[c];
              p[r][(g + c) * inner + j] = 0.0f;
            } else {
              ++ref.kept;
            }
          }
        }
  }
  if (quant) {
    const int b = quant->bits;
    const float qmin = -std::ldexp(1.0f, b - 1), qmax = std::ldexp(1.0f, b - 1) - 1;
    auto scale_of = [&](float mx, float mn) {
      const float d = std::fabs(mn) > std::fabs(mx) ? std::ldexp(1.0f, b - 1) : std::ldexp(1.0f, b - 1) - 1;
      const float s = std::max(std::fabs(mx), std::fabs(mn)) / d;
      return s < 1.192092896e-7f ? 1.0f : s;
    };
    float gmx = -INFINITY, gmn = INFINITY;
    for (auto& row : p)
      for (float v : row) gmx = std::max(gmx, v), gmn = std::min(gmn, v);
    for (size_t r = 0; r < rows; ++r) {
      float mx = -INFINITY, mn = INFINITY;
      for (float v : p[r]) mx = std::max(mx, v), mn = std::min(mn, v);
      const float s = quant->channel_wise ? scale_of(mx, mn) : scale_of(gmx, gmn);
      for (float& v : p[r]) v = std::clamp(std::nearbyint(v / s), qmin, qmax) * s;
    }
  }
  ref.approx.assign(w.size(), 0.0f);
  for (size_t r = 0; r < rows; ++r)
    for (size_t i = 0; i < length; ++i) {
      const double a = m[r][i], b = p[r][i], e = float(m[r][i] - p[r][i]);
      ref.approx[weight_index(shape, transposed, r, i)] = p[r][i];
      ref.sumsq_ref += a * a;
      ref.sumsq_err += e * e;
      ref.dot += a * b;
      ref.sumsq_approx += b * b;
      ref.max_abs = std::max(ref.max_abs, std::fabs(e));
    }
  return ref;
}

void require_matches_reference(const std::vector<float>& w, const std::vector<int64_t>& shape,
                               CompressSpec spec) {
  const Reference ref = reference(w, shape, spec.output_axis_is_1, spec.quant, spec.prune);
  for (unsigned threads : {1u, 2u, 3u}) {
    spec.threads = threads;
    const Compressed fast = run(w, shape, spec);
    REQUIRE(fast.result.problem.empty());
    REQUIRE(fast.result.error);
    // ŵ bit for bit.
    size_t mismatches = 0;
    for (size_t i = 0; i < w.size(); ++i) mismatches += fast.approx[i] != ref.approx[i];
    CHECK(mismatches == 0);
    const ErrorSums& e = *fast.result.error;
    CHECK(e.sumsq_ref == Approx(ref.sumsq_ref).epsilon(1e-5));
    CHECK(e.sumsq_err == Approx(ref.sumsq_err).epsilon(1e-5));
    CHECK(e.dot == Approx(ref.dot).epsilon(1e-5));
    CHECK(e.sumsq_approx == Approx(ref.sumsq_approx).epsilon(1e-5));
    CHECK(e.max_abs == Approx(ref.max_abs).epsilon(1e-6));
    // Quantized: the largest error is one of the same float differences.
    if (spec.quant) CHECK(e.max_abs == ref.max_abs);
    if (spec.prune.kind != PruneKind::None) {
      REQUIRE(fast.result.prune);
      if (spec.prune.kind == PruneKind::Filter || !fast.result.prune->skipped) {
        CHECK(int64_t(fast.result.prune->kept) == ref.kept);
      }
      CHECK(fast.result.prune->sumsq_removed == Approx(ref.removed).epsilon(1e-5).margin(1e-12));
    }
    // The figures-only path (no ŵ written) gives the same figures.
    CompressSpec figures_only = spec;
    figures_only.output = nullptr;
    const CompressResult quick = compress_weight(view_of(w, shape), figures_only);
    REQUIRE(quick.error);
    CHECK(quick.error->sumsq_err == Approx(e.sumsq_err).epsilon(1e-5).margin(1e-12));
    // (Per-tensor ARQ takes whole chunks as one span here: the other sums too.)
    CHECK(quick.error->sumsq_ref == Approx(ref.sumsq_ref).epsilon(1e-5));
    CHECK(quick.error->dot == Approx(ref.dot).epsilon(1e-5));
    CHECK(quick.error->sumsq_approx == Approx(ref.sumsq_approx).epsilon(1e-5));
    CHECK(quick.error->max_abs == Approx(e.max_abs).epsilon(1e-6));
    if (spec.quant) CHECK(quick.error->max_abs == e.max_abs);
  }
}

// Every vector kernel set this CPU runs, the portable code first.
std::vector<VectorKernels> kernel_sets_this_cpu_runs() {
  std::vector<VectorKernels> sets;
  for (VectorKernels k : {VectorKernels::Portable, VectorKernels::Avx2, VectorKernels::Avx512}) {
    if (k <= widest_vector_kernels()) sets.push_back(k);
  }
  return sets;
}

}  // namespace

TEST_CASE("round half to even and the ARQ scale rule", "[engine]") {
  CHECK(round_half_even(2.5f) == 2.0f);
  CHECK(round_half_even(3.5f) == 4.0f);
  CHECK(round_half_even(-63.5f) == -64.0f);
  CHECK(round_half_even(-0.5f) == 0.0f);
  CHECK(round_half_even(31.75f) == 32.0f);
  CHECK(round_half_even(1e9f) == 1e9f);
  CHECK(arq_scale(1.0f, -0.5f, 8) == 1.0f / 127);  // |max| > |min|: D = 127
  CHECK(arq_scale(0.5f, -1.0f, 8) == 1.0f / 128);  // |min| > |max|: D = 128
  CHECK(arq_scale(1.0f, -1.0f, 8) == 1.0f / 127);  // tie: D = 127
  CHECK(arq_scale(7.0f, -8.0f, 4) == 1.0f);        // INT4: D = 8
  CHECK(arq_scale(1e-6f, -1e-6f, 8) == 1.0f);      // below FLT_EPSILON -> 1
  CHECK(arq_scale(2e-5f, -1e-5f, 8) != 1.0f);
}

TEST_CASE("ARQ INT8 per channel: codes, half-even, zero channel", "[engine]") {
  const std::vector<float> w = {1.0f, -0.5f, 0.25f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f};
  const Compressed c = run(w, {2, 4}, arq(8, true));
  const std::vector<float> q = codes(c.approx, {1.0f / 127, 1.0f}, 4);
  CHECK(q == std::vector<float>{127, -64, 32, 0, 0, 0, 0, 0});  // -63.5 -> -64, 31.75 -> 32
}

TEST_CASE("ARQ INT8 clamps to -128..127", "[engine]") {
  // |min| > |max| -> D = 128; 0.999 * 128 = 127.87 rounds to 128, clamped to 127.
  const Compressed c = run({-1.0f, 0.999f}, {1, 2}, arq(8, true));
  CHECK(codes(c.approx, {1.0f / 128}, 2) == std::vector<float>{-128, 127});
  const Compressed d = run({-1.0f, 0.5f, 0.25f}, {1, 3}, arq(8, true));
  CHECK(codes(d.approx, {1.0f / 128}, 3) == std::vector<float>{-128, 64, 32});
}

TEST_CASE("ARQ INT4 clamps to -8..7 with half-even rounding", "[engine]") {
  const Compressed a = run({7.0f, -7.0f, 3.5f, 2.5f}, {1, 4}, arq(4, true));
  CHECK(a.approx == std::vector<float>{7, -7, 4, 2});  // scale 1: 3.5 -> 4, 2.5 -> 2
  const Compressed b = run({-8.0f, 4.0f, 2.5f, -1.5f, 7.9f}, {1, 5}, arq(4, true));
  CHECK(b.approx == std::vector<float>{-8, 4, 2, -2, 7});  // D = 8, 7.9 -> 8 clamped to 7
}

TEST_CASE("ARQ per tensor uses one scale", "[engine]") {
  const Compressed c = run({1.0f, -0.5f, 0.25f, -2.0f}, {2, 2}, arq(8, false));
  CHECK(codes(c.approx, {2.0f / 128}, 4) == std::vector<float>{64, -32, 16, -128});
}

TEST_CASE("ARQ on ConvTranspose: one scale per output channel (axis 1)", "[engine]") {
  // [Cin=2, Cout=3, 1, 1]
  const std::vector<float> w = {1.0f, -2.0f, 4.0f, -0.5f, 1.0f, -3.0f};
  CompressSpec spec = arq(8, true);
  spec.output_axis_is_1 = true;
  const Compressed c = run(w, {2, 3, 1, 1}, spec);
  const float s[3] = {1.0f / 127, 2.0f / 128, 4.0f / 127};
  std::vector<float> q(6);
  for (size_t i = 0; i < 6; ++i) q[i] = c.approx[i] / s[i % 3];
  CHECK(q == std::vector<float>{127, -128, 127, -64, 64, -95});
}

TEST_CASE("BalancedL2Norm kept counts", "[engine]") {
  CHECK(filter_kept_count(20, 0.25, false) == 15);
  CHECK(filter_kept_count(20, 0.25, true) == 16);
  CHECK(filter_kept_count(10, 0.25, true) == 10);  // 16 > 10: nothing pruned
  CHECK(filter_kept_count(10, 0.25, false) == 8);  // 2.5 -> 2
  CHECK(filter_kept_count(6, 0.25, false) == 4);   // 1.5 -> 2
  CHECK(filter_kept_count(256, 0.3, true) == 192);
  CHECK(filter_kept_count(64, 0.3, true) == 48);
  CHECK(filter_kept_count(1000, 0.3, true) == 704);
  CHECK(filter_kept_count(33, 0.5, true) == 32);  // 16.5 -> 16 pruned
  CHECK(filter_kept_count(16, 0.99, true) == 16);
  CHECK(filter_kept_count(100, 0.29, false) == 71);
  CHECK(filter_kept_count(2, 0.8, false) == 1);
  CHECK(filter_kept_count(15, 0.3, false) == 10);  // 0.3f * 15 = 4.5000001 -> 5
}

TEST_CASE("BalancedL2Norm prunes the lowest norms, lower index first on ties", "[engine]") {
  std::vector<float> w(20);
  std::iota(w.begin(), w.end(), 1.0f);  // channel norms 1..20
  CompressSpec spec;
  spec.prune = {PruneKind::Filter, 0.25, false};
  Compressed plain = run(w, {20, 1, 1, 1}, spec);
  REQUIRE(plain.result.prune);
  CHECK(plain.result.prune->kept == 15);
  CHECK(plain.result.prune->total == 20);
  for (int i = 0; i < 20; ++i) CHECK(plain.approx[i] == (i < 5 ? 0.0f : w[i]));

  spec.prune.ascend_optimized = true;
  Compressed aligned = run(w, {20, 1, 1, 1}, spec);
  CHECK(aligned.result.prune->kept == 16);
  double removed = 0, total = 0;
  for (int i = 1; i <= 20; ++i) total += i * i, removed += i <= 4 ? i * i : 0;
  CHECK(aligned.result.prune->energy_removed() == Approx(removed / total));
  CHECK(aligned.result.error->rel_l2() == Approx(std::sqrt(removed / total)));

  spec.prune = {PruneKind::Filter, 0.5, false};
  Compressed ties = run(std::vector<float>(12, 1.0f), {4, 3}, spec);
  CHECK(ties.approx == std::vector<float>{0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1});
}

TEST_CASE("L1 selective 4:2: exact masks", "[engine]") {
  CompressSpec spec;
  spec.prune.kind = PruneKind::Selective4of2;
  const Compressed linear = run({1.0f, -3.0f, 2.0f, 0.5f, 0.1f, 0.2f, 0.3f, 0.4f}, {1, 8}, spec);
  CHECK(linear.approx == std::vector<float>{0, -3, 2, 0, 0, 0, 0.3f, 0.4f});
  CHECK(linear.result.prune->kept == 4);
  CHECK(linear.result.prune->total == 8);

  CHECK(run({2, 2, 2, 2}, {1, 4}, spec).approx == std::vector<float>{2, 2, 0, 0});  // ties: lower index
  const Compressed six = run({1, 2, 3, 4, 5, 6}, {1, 6}, spec);  // padded to 8
  CHECK(six.approx == std::vector<float>{0, 0, 3, 4, 5, 6});
  CHECK(six.result.prune->kept == 4);
  CHECK(run({1, 2, 3, 4, 0, -7}, {1, 6}, spec).approx == std::vector<float>{0, 0, 3, 4, 0, -7});
  CHECK(run({1, 2, 3, 4, 5, 7, 6}, {1, 7}, spec).approx == std::vector<float>{0, 0, 3, 4, 0, 7, 6});
  // Conv [2, 3, 1, 1]: Cin = 3 padded to 4 and pruned.
  const Compressed conv = run({3, 1, -2, 0, 5, 0}, {2, 3, 1, 1}, spec);
  CHECK(conv.approx == std::vector<float>{3, 0, -2, 0, 5, 0});
  CHECK(conv.result.prune->kept == 4);
  CHECK_FALSE(conv.result.prune->skipped);
  // Cin <= 2: untouched.
  const Compressed narrow = run(std::vector<float>(8 * 2 * 9, 1.0f), {8, 2, 3, 3}, spec);
  CHECK(narrow.result.prune->skipped);
  CHECK(narrow.result.prune->kept == narrow.result.prune->total);
  CHECK(narrow.result.error->sumsq_err == 0);
  // ConvTranspose [Cin=4, Cout=2, 1, 1]: groups along axis 0.
  spec.output_axis_is_1 = true;
  CHECK(run({1, 4, 2, 3, 3, 2, 4, 1}, {4, 2, 1, 1}, spec).approx ==
        std::vector<float>{0, 4, 0, 3, 3, 0, 4, 0});
}

TEST_CASE("4:2 groups along input channels of a 3x3 conv keep the top 2", "[engine]") {
  const std::vector<float> w = test::random_weights(8 * 16 * 9, 11);
  CompressSpec spec;
  spec.prune.kind = PruneKind::Selective4of2;
  const Compressed c = run(w, {8, 16, 3, 3}, spec);
  for (size_t o = 0; o < 8; ++o)
    for (size_t g = 0; g < 4; ++g)
      for (size_t p = 0; p < 9; ++p) {
        int kept = 0;
        for (size_t k = 0; k < 4; ++k) kept += c.approx[(o * 16 + 4 * g + k) * 9 + p] != 0.0f;
        REQUIRE(kept == 2);
      }
  CHECK(c.result.prune->kept == w.size() / 2);
}

TEST_CASE("fast kernels match the reference implementation on random tensors", "[engine]") {
  struct Case {
    std::vector<int64_t> shape;
    bool transposed;
  };
  const std::vector<Case> cases = {
      {{64, 256}, false},        {{37, 19, 3, 3}, false}, {{16, 7, 5, 5}, false},   {{40, 3, 7, 7}, false},
      {{12, 10, 3, 3}, true},    {{33, 2, 3}, false},     {{300, 1030}, false},     {{9, 4101}, false},
      {{5, 3000, 1, 1}, false},  {{24, 18}, true},
  };
  uint32_t seed = 1;
  for (const Case& c : cases) {
    size_t count = 1;
    for (int64_t d : c.shape) count *= size_t(d);
    std::vector<float> w = test::random_weights(count, seed++);
    w[count / 3] *= 9.0f;  // an outlier
    for (int bits : {4, 8})
      for (bool channel_wise : {true, false})
        for (PruneKind prune : {PruneKind::None, PruneKind::Filter, PruneKind::Selective4of2}) {
          CAPTURE(c.shape, c.transposed, bits, channel_wise, int(prune));
          CompressSpec spec = arq(bits, channel_wise);
          spec.output_axis_is_1 = c.transposed;
          spec.prune = {prune, 0.3, true};
          require_matches_reference(w, c.shape, spec);
        }
    for (PruneKind prune : {PruneKind::Filter, PruneKind::Selective4of2}) {
      CAPTURE(c.shape, c.transposed, int(prune));
      CompressSpec spec;
      spec.output_axis_is_1 = c.transposed;
      spec.prune = {prune, 0.45, false};
      require_matches_reference(w, c.shape, spec);
    }
  }
}

TEST_CASE("every vector kernel set this CPU runs gives the same codes and figures", "[engine]") {
  // AVX-512, AVX2 and the portable code: ŵ bit for bit, the same max |w - ŵ|,
  // sums to float rounding (lanes add in another order). Rows with vector
  // and scalar tails, F32 and 16-bit (read in place by the vector kernels).
  const std::vector<VectorKernels> sets = kernel_sets_this_cpu_runs();
  CAPTURE(vector_kernels_name(widest_vector_kernels()));
  for (const std::vector<int64_t>& shape :
       {std::vector<int64_t>{48, 1000}, std::vector<int64_t>{9, 4101}, std::vector<int64_t>{20, 24, 3, 3}}) {
    size_t count = 1;
    for (int64_t d : shape) count *= size_t(d);
    std::vector<float> w = test::random_weights(count, 31);
    w[count / 2] = 0.4f;
    for (float& v : w) v = bfloat16_to_float(float_to_bfloat16(v));  // so that BF16 holds the same values
    const std::string bf16 = test::bf16_bytes(w);
    for (int bits : {4, 8})
      for (bool channel_wise : {true, false})
        for (PruneKind prune : {PruneKind::None, PruneKind::Selective4of2}) {
          CompressSpec spec = arq(bits, channel_wise);
          spec.prune.kind = prune;
          spec.threads = 2;
          spec.kernels_at_most = VectorKernels::Portable;
          const Compressed portable = run(w, shape, spec);
          REQUIRE(portable.result.error);
          for (VectorKernels k : sets) {
            CAPTURE(shape, bits, channel_wise, int(prune), vector_kernels_name(k));
            spec.kernels_at_most = k;
            const Compressed fast = run(w, shape, spec);
            REQUIRE(fast.result.error);
            size_t mismatches = 0;
            for (size_t i = 0; i < count; ++i) mismatches += fast.approx[i] != portable.approx[i];
            CHECK(mismatches == 0);
            CompressSpec figures_only = spec;
            figures_only.output = nullptr;
            for (const TensorView& view : {view_of(w, shape), test::view_of_bytes(bf16, DType::BF16, shape)}) {
              CAPTURE(dtype_name(view.dtype));
              const CompressResult quick = compress_weight(view, figures_only);
              REQUIRE(quick.error);
              const ErrorSums &a = *quick.error, &b = *portable.result.error;
              CHECK(a.max_abs == b.max_abs);
              CHECK(a.sumsq_ref == Approx(b.sumsq_ref).epsilon(1e-6));
              CHECK(a.sumsq_err == Approx(b.sumsq_err).epsilon(1e-6));
              CHECK(a.dot == Approx(b.dot).epsilon(1e-6));
              CHECK(a.sumsq_approx == Approx(b.sumsq_approx).epsilon(1e-6));
            }
          }
        }
  }
}

TEST_CASE("ARQ's max abs error is exact when many errors lie within ulps of it", "[engine]") {
  // 4096 errors of about the same size, just under half a step (s = 100/127,
  // not a power of two): the fast path's d * s differs from w - ŵ in the last
  // bits, and the figure must be the exact max of w - ŵ.
  const float s = 100.0f / 127;
  std::vector<float> w(8 * 512);
  for (size_t i = 0; i < w.size(); ++i) {
    const float k = static_cast<float>(static_cast<int>((i * 37) % 199) - 99);
    const float below_half = 1e-4f;  // above the tie limit: no element takes the exact rule
    w[i] = (k + 0.5f - below_half) * s * (i % 2 ? 1.0f : -1.0f);
  }
  w[5] = 100.0f;
  for (bool channel_wise : {true, false}) {
    CAPTURE(channel_wise);
    require_matches_reference(w, {8, 512}, arq(8, channel_wise));
  }
}

TEST_CASE("per-tensor ARQ quantizes chunks with the running max and redoes the stale ones", "[engine][arq-tensor]") {
  // 256 x 1024 floats: 4 chunks of 64 rows (the kernel's 256 KB chunks). The
  // max |w| first in the tensor, then in its last chunk (every earlier chunk
  // got a smaller scale), then a negative min dominating (D = 2^(b-1)).
  const std::vector<int64_t> shape = {256, 1024};
  const size_t count = 256 * 1024;
  struct Placement {
    size_t index;
    float factor;
  };
  for (const Placement& outlier : {Placement{5, 12.0f}, Placement{count - 3, 12.0f}, Placement{count / 2 + 7, -15.0f}}) {
    std::vector<float> w = test::random_weights(count, 77);
    w[outlier.index] = outlier.factor * 0.05f;
    for (int bits : {4, 8})
      for (PruneKind prune : {PruneKind::None, PruneKind::Selective4of2, PruneKind::Filter}) {
        CAPTURE(outlier.index, bits, int(prune));
        CompressSpec spec = arq(bits, false);
        spec.prune = {prune, 0.3, true};
        spec.two_pass_max_bytes = 0;  // chunk by chunk, whatever this machine's cache
        require_matches_reference(w, shape, spec);
        spec.two_pass_max_bytes = uint64_t{1} << 40;  // scanned whole first
        require_matches_reference(w, shape, spec);
      }
    CompressSpec spec = arq(8, false);
    spec.threads = 1;
    spec.two_pass_max_bytes = uint64_t{1} << 40;
    const CompressResult two_pass = compress_weight(view_of(w, shape), spec);
    CHECK(two_pass.reread_elements == count);  // every chunk, from cache
    CHECK(two_pass.requantized_elements == 0);
    spec.two_pass_max_bytes = 0;
    const CompressResult one_thread = compress_weight(view_of(w, shape), spec);
    CAPTURE(outlier.index);
    // Chunk 0 (the first quarter) is only scanned at first, then quantized at the end.
    if (outlier.index < 64 * 1024) {
      CHECK(one_thread.reread_elements == 1 * 64 * 1024);
      CHECK(one_thread.requantized_elements == 0);  // the max was seen first
    } else if (outlier.index >= 192 * 1024) {
      CHECK(one_thread.reread_elements == 3 * 64 * 1024);  // every chunk before the last
      CHECK(one_thread.requantized_elements == 2 * 64 * 1024);
    } else {
      CHECK(one_thread.reread_elements == 2 * 64 * 1024);
      CHECK(one_thread.requantized_elements == 1 * 64 * 1024);
    }
  }
}

TEST_CASE("ARQ codes near half-integers are those of the division", "[engine]") {
  // The kernel multiplies by 1/scale and falls back to division near ties:
  // weights at (k + 1/2) * scale and one float either side of it.
  for (int bits : {4, 8}) {
    const float top = 0.3f;
    const float qmax = std::ldexp(1.0f, bits - 1) - 1;
    const float scale = top / qmax;
    std::vector<float> w;
    w.push_back(top);
    for (int k = -int(qmax); w.size() < 256; k = k >= int(qmax) ? -int(qmax) : k + 1) {
      const float tie = (float(k) + 0.5f) * scale;
      w.push_back(tie);
      w.push_back(std::nextafter(tie, 1.0f));
      w.push_back(std::nextafter(tie, -1.0f));
    }
    w.resize(256);
    std::vector<float> rows = w;
    rows.insert(rows.end(), w.rbegin(), w.rend());
    CAPTURE(bits);
    require_matches_reference(rows, {2, 256}, arq(bits, true));
    require_matches_reference(rows, {2, 256}, arq(bits, false));
  }
}

TEST_CASE("ARQ clamps codes above qmax in the vector kernel, and only skips the clamp when none can occur",
          "[engine][arq-clamp]") {
  // |min| > |max|: D = 2^(b-1), scale = 1/D for min = -1, so max * D can
  // round to D, one above qmax. The kernel skips min(y, qmax) when
  // max * (1/scale) <= qmax + 1/4: rows with max just below, at and above
  // that bound, and max rounding to D (clamped), each 256 long (the
  // vector path, not the scalar tail).
  for (int bits : {4, 8}) {
    const float d = std::ldexp(1.0f, bits - 1);
    const float bound = (d - 1 + 0.25f) / d;
    const std::vector<float> row_maxima = {std::nextafter(bound, 0.0f), bound, std::nextafter(bound, 1.0f),
                                           (d - 0.5f) / d, std::nextafter((d - 0.5f) / d, 1.0f), 0.999f};
    std::vector<float> w;
    uint32_t seed = 500;
    for (float top : row_maxima) {
      std::vector<float> row = test::random_weights(256, seed++);
      for (float& v : row) v = std::clamp(v, -0.9f * top, 0.9f * top);
      row[3] = -1.0f;
      for (size_t i = 17; i < 256; i += 61) row[i] = top;  // the max, several times
      w.insert(w.end(), row.begin(), row.end());
    }
    const std::vector<int64_t> shape = {int64_t(row_maxima.size()), 256};
    CAPTURE(bits);
    require_matches_reference(w, shape, arq(bits, true));
    require_matches_reference(w, shape, arq(bits, false));
    // Codes of the clamped row: its max is qmax, never D.
    const Compressed c = run(w, shape, arq(bits, true));
    for (size_t r = 0; r < row_maxima.size(); ++r) {
      CAPTURE(r);
      CHECK(c.approx[r * 256 + 17] * d == (row_maxima[r] * d >= d - 0.5f ? d - 1 : std::nearbyint(row_maxima[r] * d)));
    }
  }
}

TEST_CASE("F16 and BF16 weights are widened on the fly", "[engine]") {
  const std::vector<float> w = test::random_weights(48 * 40, 5);
  for (DType dtype : {DType::F16, DType::BF16}) {
    const std::string bytes = dtype == DType::F16 ? test::f16_bytes(w) : test::bf16_bytes(w);
    std::vector<float> widened(w.size());
    const TensorView half = test::view_of_bytes(bytes, dtype, {48, 40});
    widen_to_float(half, 0, w.size(), widened.data());
    for (bool transposed : {false, true}) {
      CompressSpec spec = arq(8, true);
      spec.output_axis_is_1 = transposed;
      std::vector<float> from_half(w.size()), from_float(w.size());
      spec.output = from_half.data();
      const CompressResult a = compress_weight(half, spec);
      spec.output = from_float.data();
      const CompressResult b = compress_weight(view_of(widened, {48, 40}), spec);
      CHECK(from_half == from_float);
      REQUIRE(a.error);
      CHECK(a.error->sumsq_err == b.error->sumsq_err);
    }
  }
  CHECK(half_to_float(0x3C00) == 1.0f);
  CHECK(half_to_float(0xC000) == -2.0f);
  CHECK(half_to_float(0x0001) == std::ldexp(1.0f, -24));
  CHECK(std::isinf(half_to_float(0x7C00)));
  CHECK(bfloat16_to_float(0x3F80) == 1.0f);
  CHECK(float_to_half(65504.0f) == 0x7BFF);
  CHECK(float_to_bfloat16(1.0f) == 0x3F80);
}

TEST_CASE("F16 and BF16 weights read in place give the figures of the same values as F32, bit for bit", "[engine]") {
  // Unpruned ARQ without ŵ reads 16-bit weights where they are, widening in
  // registers; rows with vector tails, a scalar tail, and rows longer than a
  // chunk, on one and two threads, per channel and per tensor.
  for (const std::vector<int64_t>& shape : {std::vector<int64_t>{7, 203}, std::vector<int64_t>{48, 40},
                                            std::vector<int64_t>{3, 70001}, std::vector<int64_t>{300, 257}}) {
    const uint64_t count = static_cast<uint64_t>(shape[0] * shape[1]);
    std::vector<float> w = test::random_weights(count, 11);
    w[count / 3] = -0.5f;
    for (DType dtype : {DType::F16, DType::BF16}) {
      std::vector<float> values = w;
      for (float& v : values) v = dtype == DType::F16 ? half_to_float(float_to_half(v)) : bfloat16_to_float(float_to_bfloat16(v));
      const std::string bytes = dtype == DType::F16 ? test::f16_bytes(values) : test::bf16_bytes(values);
      for (int bits : {4, 8}) {
        for (bool channel_wise : {true, false}) {
          for (unsigned threads : {1u, 2u}) {
            CAPTURE(shape, dtype_name(dtype), bits, channel_wise, threads);
            CompressSpec spec = arq(bits, channel_wise);
            spec.threads = threads;
            const CompressResult half = compress_weight(test::view_of_bytes(bytes, dtype, shape), spec);
            const CompressResult full = compress_weight(view_of(values, shape), spec);
            REQUIRE(half.error);
            REQUIRE(full.error);
            test::require_16bit_sums_match(*half.error, *full.error);
          }
        }
      }
    }
  }
}

TEST_CASE("F16 and BF16 weights at any byte offset in the file read the same", "[engine]") {
  // safetensors places a tensor at any byte offset: the in-place kernels
  // read unaligned, one byte off included.
  const std::vector<int64_t> shape = {20, 1000};
  std::vector<float> w = test::random_weights(20 * 1000, 12);
  for (DType dtype : {DType::F16, DType::BF16}) {
    for (float& v : w) v = dtype == DType::F16 ? half_to_float(float_to_half(v)) : bfloat16_to_float(float_to_bfloat16(v));
    const std::string bytes = dtype == DType::F16 ? test::f16_bytes(w) : test::bf16_bytes(w);
    for (bool channel_wise : {true, false}) {
      const CompressResult full = compress_weight(view_of(w, shape), arq(8, channel_wise));
      REQUIRE(full.error);
      for (size_t offset : {size_t{1}, size_t{2}, size_t{6}}) {
        CAPTURE(dtype_name(dtype), channel_wise, offset);
        const std::string shifted = std::string(offset, '\0') + bytes;
        TensorView view = test::view_of_bytes(shifted, dtype, shape);
        view.data += offset;
        view.elements = w.size();
        const CompressResult half = compress_weight(view, arq(8, channel_wise));
        REQUIRE(half.error);
        test::require_16bit_sums_match(*half.error, *full.error);
      }
    }
  }
}

TEST_CASE("every F16 and BF16 value widens to the float half_to_float / bfloat16_to_float give", "[engine]") {
  std::string bytes(65536 * 2, '\0');
  for (uint32_t h = 0; h < 65536; ++h) {
    bytes[2 * h] = static_cast<char>(h & 0xFF);
    bytes[2 * h + 1] = static_cast<char>(h >> 8);
  }
  for (DType dtype : {DType::F16, DType::BF16}) {
    CAPTURE(dtype_name(dtype));
    const TensorView all = test::view_of_bytes(bytes, dtype, {65536});
    std::vector<float> widened(65536);
    // From an odd element too: the vector loop and the tail, unaligned.
    for (uint64_t first : {uint64_t{0}, uint64_t{3}}) {
      widen_to_float(all, first, 65536 - first, widened.data());
      size_t mismatches = 0;
      for (uint32_t h = static_cast<uint32_t>(first); h < 65536; ++h) {
        const float expected = dtype == DType::F16 ? half_to_float(static_cast<uint16_t>(h))
                                                   : bfloat16_to_float(static_cast<uint16_t>(h));
        const float got = widened[h - first];
        mismatches += std::isnan(expected) ? !std::isnan(got) : std::memcmp(&expected, &got, 4) != 0;
      }
      CHECK(mismatches == 0);
    }
  }
}

TEST_CASE("metrics: rel L2, SQNR, cosine agree", "[engine]") {
  const std::vector<float> w = test::random_weights(64 * 256, 3, 1.0f);
  const Compressed q8 = run(w, {64, 256}, arq(8, true));
  const Compressed q4 = run(w, {64, 256}, arq(4, true));
  const ErrorSums& e8 = *q8.result.error;
  CHECK(e8.sqnr_db() > q4.result.error->sqnr_db() + 15);
  CHECK(e8.cosine() > 0.999);
  CHECK(e8.cosine() <= 1.0);
  CHECK(-20 * std::log10(e8.rel_l2()) == Approx(e8.sqnr_db()));
  CHECK(e8.max_abs > 0);
}

TEST_CASE("weights under the scale's floor quantize to 0: ||ŵ||² is 0, not rounding noise", "[engine]") {
  // max |w| < 7 * FLT_EPSILON: the scale falls back to 1 (AMCT's rule), so
  // every code is 0 and ŵ = 0. ||ŵ||² summed as ||w||² - 2 w·ŵ + ||w - ŵ||²
  // came out negative here (fuzz_weights, CI of session 12).
  const std::vector<VectorKernels> sets = kernel_sets_this_cpu_runs();
  // Row tails, whole blocks, and a tensor of 8 chunks (the one-sweep path).
  for (const std::vector<int64_t>& shape :
       {std::vector<int64_t>{2, 64}, std::vector<int64_t>{9, 4101}, std::vector<int64_t>{8, 65536}}) {
    size_t count = 1;
    for (int64_t d : shape) count *= size_t(d);
    std::vector<float> w = test::random_weights(count, 17, 1e-7f);
    for (float& v : w) v = std::clamp(bfloat16_to_float(float_to_bfloat16(v)), -8e-7f, 8e-7f);
    const std::string bf16 = test::bf16_bytes(w);
    for (VectorKernels k : sets)
      for (int bits : {4, 8})
        for (bool channel_wise : {true, false})
          for (PruneKind prune : {PruneKind::None, PruneKind::Selective4of2}) {
            CAPTURE(shape, vector_kernels_name(k), bits, channel_wise, int(prune));
            CompressSpec spec = arq(bits, channel_wise);
            spec.prune.kind = prune;
            spec.kernels_at_most = k;
            spec.threads = 2;
            const Compressed written = run(w, shape, spec);
            REQUIRE(written.result.error);
            CHECK(std::all_of(written.approx.begin(), written.approx.end(), [](float q) { return q == 0; }));
            CompressSpec figures_only = spec;
            figures_only.output = nullptr;
            for (const TensorView& view : {view_of(w, shape), test::view_of_bytes(bf16, DType::BF16, shape)}) {
              CAPTURE(dtype_name(view.dtype));
              for (const CompressResult& r : {written.result, compress_weight(view, figures_only)}) {
                REQUIRE(r.error);
                const ErrorSums& e = *r.error;
                CHECK(e.sumsq_approx == 0);
                CHECK(e.dot == 0);
                CHECK(e.cosine() == 0);
                CHECK(e.sumsq_ref > 0);
                CHECK(e.sumsq_err == Approx(e.sumsq_ref).epsilon(1e-6));
                CHECK(e.rel_l2() == Approx(1).epsilon(1e-6));
              }
            }
          }
  }
}

TEST_CASE("NaN or infinite weights give no figures and say how many", "[engine]") {
  // Documented result: a layer with non-finite weights is reported, not estimated.
  std::vector<float> w = test::random_weights(4 * 8, 9);
  w[5] = std::numeric_limits<float>::quiet_NaN();
  w[17] = std::numeric_limits<float>::infinity();
  for (PruneKind prune : {PruneKind::None, PruneKind::Filter, PruneKind::Selective4of2}) {
    CompressSpec spec = arq(8, true);
    spec.prune.kind = prune;
    const CompressResult r = compress_weight(view_of(w, {4, 8}), spec);
    CHECK_FALSE(r.error);
    CHECK(r.non_finite == 2);
    CHECK(r.problem == "2 weights are NaN or infinite");
    spec.quant.reset();
    if (prune == PruneKind::None) continue;
    const CompressResult p = compress_weight(view_of(w, {4, 8}), spec);
    CHECK_FALSE(p.error);
    CHECK(p.non_finite == 2);
  }
}

TEST_CASE("ULQ activations: asymmetric scale and offset, static step", "[engine]") {
  const AsymmetricQuant q = asymmetric_quant(-2.0, 6.0, 8);
  CHECK(q.scale == Approx(8.0 / 255));
  CHECK(q.offset == -64);  // round(-128 + 63.75)
  const AsymmetricQuant fixed = asymmetric_quant(0.0, 6.0, 8);
  CHECK(fixed.offset == -128);
  CHECK(asymmetric_quant(0.0, 0.0, 8).scale == 1.0);
  const ActivationStaticFigure s = ulq_activation_static(-6.0, 6.0, 8, false);
  CHECK(s.step == Approx(12.0 / 255));
  CHECK(s.noise_rms == Approx(12.0 / 255 / std::sqrt(12.0)));
  CHECK(ulq_activation_static(-6.0, 6.0, 8, true).clip_min == 0.0);

  // 6.0 -> 191 s exactly; 7.0 clamped to 191 s; -2.0 -> -64 s.
  const std::vector<float> x = {6.0f, 7.0f, -2.0f};
  const ErrorSums e = activation_quant_error(view_of(x, {3}), q, 8);
  const double s191 = (127 + 64) * q.scale;
  CHECK(e.max_abs == Approx(7.0 - s191));
  CHECK(e.sumsq_err == Approx(std::pow(6.0 - s191, 2) + std::pow(7.0 - s191, 2) + std::pow(-2.0 + 64 * q.scale, 2)).margin(1e-12));
}

}  // namespace amct::engine
