// Per-tensor ARQ read about once: chunks (the kernel's fixed 256 KB of
// floats) are scanned and quantized with the running extremes (in one sweep
// by the vector kernels on the figures-only path), the first quarter only
// scanned at first, and every chunk whose scale was not the tensor's final
// one is quantized again at the end. Whatever the max's place
// and the thread count, the figures (and ŵ) must be those of the two-pass
// path (the whole tensor scanned first: CompressSpec::two_pass_max_bytes),
// bit for bit; on one thread the chunks read and quantized twice are exactly
// those before the chunk that fixed the final scale.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "core/engine/compress.h"
#include "core/engine_test_support.h"

namespace amct::engine {
namespace {

// 1024 x 512 floats: 8 chunks of 128 rows (64 Ki floats each); chunks 0 and
// 1 (the first quarter) are only scanned at first.
const std::vector<int64_t> kShape = {1024, 512};
constexpr uint64_t kChunk = 128 * 512;
constexpr uint64_t kCount = 8 * kChunk;
constexpr uint64_t kScannedOnly = 2;  // chunks

constexpr uint64_t kWhole = uint64_t{1} << 40;  // two_pass_max_bytes: scanned whole first
constexpr uint64_t kChunked = 0;                // chunk by chunk, whatever this machine's cache

using test::per_tensor;

struct Run {
  CompressResult result;
  std::vector<float> approx;  // ŵ when asked for
};

Run run(const TensorView& view, CompressSpec spec, bool with_output) {
  Run out;
  if (with_output) {
    out.approx.assign(view.elements, std::numeric_limits<float>::quiet_NaN());
    spec.output = out.approx.data();
  }
  out.result = compress_weight(view, spec);
  return out;
}

// The chunked path on 1, 2 and 3 threads against the two-pass path, bit for
// bit: the figures-only path (whole chunks as spans, the estimate's) and the
// path that writes ŵ (row by row). Returns the chunked one-thread figures-only run.
CompressResult require_chunked_matches_two_pass(const TensorView& view, int bits) {
  CompressResult one_thread;
  for (bool with_output : {false, true}) {
    const Run whole = run(view, per_tensor(bits, 1, kWhole), with_output);
    REQUIRE(whole.result.error);
    for (unsigned threads : {1u, 2u, 3u}) {
      CAPTURE(bits, with_output, threads);
      const Run chunked = run(view, per_tensor(bits, threads, kChunked), with_output);
      REQUIRE(chunked.result.error);
      test::require_same_sums(*chunked.result.error, *whole.result.error);
      if (with_output) {
        size_t mismatches = 0;
        for (size_t i = 0; i < view.elements; ++i) mismatches += chunked.approx[i] != whole.approx[i];
        CHECK(mismatches == 0);
      }
      // Read twice: at most the chunks before the one holding the final
      // extremes' and the first quarter; quantized twice: a part of them.
      CHECK(chunked.result.requantized_elements <= chunked.result.reread_elements);
      CHECK(chunked.result.reread_elements <= view.elements);
      if (!with_output && threads == 1) one_thread = chunked.result;
    }
  }
  return one_thread;
}

// On one thread: the chunks before `final_chunk` (the chunk that set the
// final scale) are read twice, those of them past the first quarter also
// quantized twice.
void require_one_thread_rework(const CompressResult& result, uint64_t final_chunk) {
  const uint64_t reread = std::max(final_chunk, kScannedOnly);
  const uint64_t requantized = final_chunk > kScannedOnly ? final_chunk - kScannedOnly : 0;
  CHECK(result.reread_elements == reread * kChunk);
  CHECK(result.requantized_elements == requantized * kChunk);
}

}  // namespace

TEST_CASE("per-tensor ARQ chunk by chunk: the max in the first chunk or a middle one or the last", "[engine][arq-tensor]") {
  struct Placement {
    uint64_t index;
    float value;
  };
  // Chunk 0 (only scanned at first), chunk 2 (the first quantized at once),
  // chunk 4 (the middle), chunk 7 (the last; its last element), and the
  // first element of chunk 5.
  for (const Placement& p : {Placement{3, 0.6f}, Placement{2 * kChunk + 11, 0.6f}, Placement{4 * kChunk + 100, 0.6f},
                             Placement{kCount - 1, 0.6f}, Placement{5 * kChunk, -0.7f}}) {
    std::vector<float> w = test::random_weights(kCount, 5);
    w[p.index] = p.value;
    const TensorView view = test::view_of(w, kShape);
    for (int bits : {4, 8}) {
      CAPTURE(p.index, bits);
      const CompressResult one_thread = require_chunked_matches_two_pass(view, bits);
      require_one_thread_rework(one_thread, p.index / kChunk);
    }
  }
}

TEST_CASE("per-tensor ARQ chunk by chunk: a later max as large as an earlier min still changes the scale",
          "[engine][arq-tensor]") {
  // min -0.6 first (D = 2^(b-1): scale 0.6/128), then max +0.6 in chunk 6:
  // |min| > |max| no longer holds, D = 2^(b-1) - 1, scale 0.6/127, although
  // max |w| did not move. Chunks 2..5 were quantized with the old scale.
  std::vector<float> w = test::random_weights(kCount, 6);
  w[2 * kChunk + 5] = -0.6f;
  w[6 * kChunk + 7] = 0.6f;
  const TensorView view = test::view_of(w, kShape);
  for (int bits : {4, 8}) {
    CAPTURE(bits);
    require_one_thread_rework(require_chunked_matches_two_pass(view, bits), 6);
  }
  // The other way round the scale stays (|min| == |max|: D = 2^(b-1) - 1 from the start).
  std::vector<float> v = test::random_weights(kCount, 6);
  v[2 * kChunk + 5] = 0.6f;
  v[6 * kChunk + 7] = -0.6f;
  require_one_thread_rework(require_chunked_matches_two_pass(test::view_of(v, kShape), 8), 2);
}

TEST_CASE("per-tensor ARQ chunk by chunk: all equal values and all zeros", "[engine][arq-tensor]") {
  for (float value : {0.25f, -0.25f, 0.0f}) {
    const std::vector<float> w(kCount, value);
    const TensorView view = test::view_of(w, kShape);
    CAPTURE(value);
    const CompressResult one_thread = require_chunked_matches_two_pass(view, 8);
    // Every chunk quantized at once has the final scale: only the first quarter is read twice.
    require_one_thread_rework(one_thread, 0);
    REQUIRE(one_thread.error);
    if (value == 0.0f) {
      CHECK(one_thread.error->sumsq_ref == 0);  // scale 1 (below FLT_EPSILON), ŵ = 0
      CHECK(one_thread.error->sumsq_err == 0);
      CHECK(one_thread.error->max_abs == 0);
    } else {
      // min == max: D = 2^(b-1) - 1 either sign, every weight is ±127 steps
      // (exact but for the rounding of the scale itself).
      CHECK(one_thread.error->rel_l2() < 1e-6);
      CHECK(one_thread.error->sumsq_ref == Approx(kCount * 0.0625));
    }
  }
}

TEST_CASE("per-tensor ARQ chunk by chunk: tensors of one or two chunks", "[engine][arq-tensor]") {
  // Fewer rows than a chunk, a vector, and one row longer than a chunk (a
  // chunk holds whole rows): one chunk, quantized right after its scan, never
  // again. Two rows longer than a chunk: two chunks, none only scanned, the
  // max in the second: the first is quantized twice.
  for (const std::vector<int64_t>& shape : {std::vector<int64_t>{3, 100}, std::vector<int64_t>{1, 200003},
                                            std::vector<int64_t>{2, 70000}, std::vector<int64_t>{7}}) {
    uint64_t count = 1;
    for (int64_t d : shape) count *= static_cast<uint64_t>(d);
    std::vector<float> w = test::random_weights(count, 7);
    w[count - 1] = 0.6f;  // the max last
    const TensorView view = test::view_of(w, shape);
    for (int bits : {4, 8}) {
      CAPTURE(shape, bits);
      const CompressResult one_thread = require_chunked_matches_two_pass(view, bits);
      CHECK(one_thread.reread_elements == (shape[0] == 2 ? count / 2 : 0));
      CHECK(one_thread.requantized_elements == (shape[0] == 2 ? count / 2 : 0));
    }
  }
}

TEST_CASE("per-tensor ARQ chunk by chunk on two threads: the max in either half", "[engine][arq-tensor]") {
  // Two threads take chunks in turn with shared running extremes; which
  // chunks end up stale depends on timing, the figures must not. Many
  // tensors, the max in the first half or the second, early or late in it.
  for (uint64_t chunk : {0u, 1u, 3u, 4u, 6u, 7u}) {
    std::vector<float> w = test::random_weights(kCount, 100 + static_cast<uint32_t>(chunk));
    w[chunk * kChunk + kChunk / 2] = chunk % 2 ? -0.7f : 0.7f;
    const TensorView view = test::view_of(w, kShape);
    const CompressResult whole = compress_weight(view, per_tensor(8, 1, kWhole));
    REQUIRE(whole.error);
    for (int repeat = 0; repeat < 4; ++repeat) {
      CAPTURE(chunk, repeat);
      const CompressResult two = compress_weight(view, per_tensor(8, 2, kChunked));
      REQUIRE(two.error);
      test::require_same_sums(*two.error, *whole.error);
      // The chunk holding the max gets the final scale when it is quantized
      // at once; the first quarter is always read again.
      if (chunk >= kScannedOnly) CHECK(two.reread_elements <= kCount - kChunk);
      CHECK(two.reread_elements >= kScannedOnly * kChunk);
    }
  }
}

TEST_CASE("chunks handed to threads in runs: a tensor of 96 chunks gives the figures of one thread",
          "[engine][arq-tensor]") {
  // 96 chunks: two or three threads take them in runs of consecutive chunks
  // (4 and 4 here), unlike the 8-chunk tensors above (runs of one). Every
  // chunk must be processed once, in any run: per-tensor ARQ matches the
  // two-pass path bit for bit, per channel, 4:2 and filter pruning their own
  // one-thread figures. The max sits in the middle of a run.
  const std::vector<int64_t> shape = {96 * 128, 512};
  std::vector<float> w = test::random_weights(96 * kChunk, 11);
  w[49 * kChunk + 17] = -0.8f;
  const TensorView view = test::view_of(w, shape);
  CHECK(require_chunked_matches_two_pass(view, 8).reread_elements == 49 * kChunk);
  CompressSpec channel;
  channel.quant = QuantSpec{4, true};
  CompressSpec selective;
  selective.prune.kind = PruneKind::Selective4of2;
  CompressSpec filter = channel;
  filter.prune = PruneSpec{PruneKind::Filter, 0.3, true};
  for (CompressSpec spec : {channel, selective, filter}) {
    spec.threads = 1;
    const CompressResult one = compress_weight(view, spec);
    REQUIRE(one.error);
    for (unsigned threads : {2u, 3u}) {
      CAPTURE(threads, static_cast<int>(spec.prune.kind));
      spec.threads = threads;
      const CompressResult many = compress_weight(view, spec);
      REQUIRE(many.error);
      test::require_same_sums(*many.error, *one.error);
    }
  }
}

TEST_CASE("per-tensor ARQ chunk by chunk: F16 and BF16 weights (read in place) and pruned weights (row by row)",
          "[engine][arq-tensor]") {
  std::vector<float> w = test::random_weights(kCount, 9);
  w[6 * kChunk + 3] = 0.6f;
  // F16 and BF16: chunks read where they are and widened in registers (with
  // AVX2; without, row by row), and again when read twice; the figures are
  // those of the same values given as F32, bit for bit (values representable
  // in each type).
  for (DType dtype : {DType::F16, DType::BF16}) {
    CAPTURE(dtype_name(dtype));
    std::vector<float> values = w;
    for (float& v : values) v = dtype == DType::F16 ? half_to_float(float_to_half(v)) : bfloat16_to_float(float_to_bfloat16(v));
    const std::string bytes = dtype == DType::F16 ? test::f16_bytes(values) : test::bf16_bytes(values);
    const TensorView half = test::view_of_bytes(bytes, dtype, kShape);
    require_one_thread_rework(require_chunked_matches_two_pass(half, 8), 6);
    for (unsigned threads : {1u, 2u}) {
      for (uint64_t two_pass_max_bytes : {kChunked, kWhole}) {
        CAPTURE(threads, two_pass_max_bytes);
        const CompressResult from_half = compress_weight(half, per_tensor(8, threads, two_pass_max_bytes));
        const CompressResult from_float =
            compress_weight(test::view_of(values, kShape), per_tensor(8, threads, two_pass_max_bytes));
        REQUIRE(from_half.error);
        REQUIRE(from_float.error);
        test::require_16bit_sums_match(*from_half.error, *from_float.error);
      }
    }
  }
  // 4:2 then per-tensor ARQ: the scale from the pruned weights.
  for (float& v : w) v = half_to_float(float_to_half(v));
  const TensorView f32 = test::view_of(w, kShape);
  for (unsigned threads : {1u, 2u}) {
    CAPTURE(threads);
    CompressSpec chunked = per_tensor(8, threads, kChunked);
    CompressSpec whole = per_tensor(8, 1, kWhole);
    chunked.prune.kind = whole.prune.kind = PruneKind::Selective4of2;
    const CompressResult a = compress_weight(f32, chunked), b = compress_weight(f32, whole);
    REQUIRE(a.error);
    REQUIRE(b.error);
    test::require_same_sums(*a.error, *b.error);
    if (threads == 1) require_one_thread_rework(a, 6);
  }
}

}  // namespace amct::engine
