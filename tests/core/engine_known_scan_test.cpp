// Per-tensor ARQ with its scan known (CompressSpec::known_scan, from an
// earlier CompressResult::scan of the same weights): one read, the same
// figures as the two-pass and chunk-by-chunk paths, on any thread count.
#include <catch2/catch.hpp>

#include "core/engine/compress.h"
#include "core/engine_test_support.h"

namespace amct::engine {
using test::per_tensor;

TEST_CASE("per-tensor ARQ with a known scan reads once and gives the same figures", "[engine][arq-tensor]") {
  // 256 x 1024 floats: 4 chunks. The max |w| in the first chunk, in the last
  // one (every earlier chunk stale on the chunked path), and a negative min
  // dominating in the middle (D = 2^(b-1)).
  const std::vector<int64_t> shape = {256, 1024};
  const size_t count = 256 * 1024;
  struct Placement {
    size_t index;
    float value;
  };
  for (const Placement& outlier : {Placement{5, 0.6f}, Placement{count - 3, 0.6f}, Placement{count / 2 + 7, -0.75f}}) {
    std::vector<float> w = test::random_weights(count, 77);
    w[outlier.index] = outlier.value;
    const TensorView view = test::view_of(w, shape);
    // The scan depends on the weights only: taken once, at INT8 on one thread.
    const CompressResult first = compress_weight(view, per_tensor(8, 1, 0));
    REQUIRE(first.scan);
    CHECK_FALSE(first.used_known_scan);
    CHECK(first.scan->elements == count);
    CHECK(first.scan->row_length == 1024);
    CHECK(first.scan->chunk_sumsq.size() == 4);
    CHECK(first.scan->max_value == std::max(first.scan->max_value, outlier.value));
    CHECK(first.scan->min_value == std::min(first.scan->min_value, outlier.value));
    for (int bits : {4, 8}) {
      // Figures of the paths that scan: chunk by chunk and scanned whole.
      const CompressResult chunked = compress_weight(view, per_tensor(bits, 1, 0));
      const CompressResult whole = compress_weight(view, per_tensor(bits, 1, uint64_t{1} << 40));
      REQUIRE(chunked.error);
      REQUIRE(whole.error);
      test::require_same_sums(*whole.error, *chunked.error);
      for (unsigned threads : {1u, 2u, 3u}) {
        CAPTURE(outlier.index, bits, threads);
        CompressSpec spec = per_tensor(bits, threads, 0);
        spec.known_scan = &*first.scan;
        const CompressResult known = compress_weight(view, spec);
        REQUIRE(known.error);
        CHECK(known.used_known_scan);
        CHECK(known.reread_elements == 0);
        CHECK(known.requantized_elements == 0);
        test::require_same_sums(*known.error, *chunked.error);
      }
    }
  }
}

TEST_CASE("BF16 and F16 weights get a scan, and read once with it, as F32 ones do", "[engine][arq-tensor]") {
  const std::vector<int64_t> shape = {256, 1024};
  std::vector<float> w = test::random_weights(256 * 1024, 80);
  w[200 * 1024 + 9] = -0.7f;  // the extreme in the last chunk: the chunked path reads the others twice
  for (DType dtype : {DType::BF16, DType::F16}) {
    CAPTURE(dtype_name(dtype));
    const std::string bytes = dtype == DType::BF16 ? test::bf16_bytes(w) : test::f16_bytes(w);
    const TensorView view = test::view_of_bytes(bytes, dtype, shape);
    const CompressResult first = compress_weight(view, per_tensor(8, 1, 0));
    REQUIRE(first.error);
    if (!test::reads_16bit_in_place()) {  // 16-bit rows widened: the row path, which keeps no scan
      CHECK_FALSE(first.scan);
      continue;
    }
    REQUIRE(first.scan);
    CHECK(first.reread_elements > 0);
    for (unsigned threads : {1u, 2u}) {
      CAPTURE(threads);
      CompressSpec spec = per_tensor(8, threads, 0);
      spec.known_scan = &*first.scan;
      const CompressResult known = compress_weight(view, spec);
      REQUIRE(known.error);
      CHECK(known.used_known_scan);
      CHECK(known.reread_elements == 0);
      test::require_same_sums(*known.error, *first.error);
    }
  }
}

TEST_CASE("a known scan that does not fit the tensor or the path is ignored", "[engine][arq-tensor]") {
  const std::vector<float> w = test::random_weights(256 * 1024, 78);
  const std::vector<float> other = test::random_weights(128 * 1024, 79);
  const TensorView view = test::view_of(w, {256, 1024});
  const CompressResult other_scan = compress_weight(test::view_of(other, {128, 1024}), per_tensor(8, 1, 0));
  REQUIRE(other_scan.scan);
  const CompressResult own_scan = compress_weight(view, per_tensor(8, 1, 0));
  REQUIRE(own_scan.scan);
  const CompressResult plain = compress_weight(view, per_tensor(8, 2, 0));
  REQUIRE(plain.error);

  SECTION("another tensor's scan (other element count)") {
    CompressSpec spec = per_tensor(8, 2, 0);
    spec.known_scan = &*other_scan.scan;
    const CompressResult result = compress_weight(view, spec);
    REQUIRE(result.error);
    CHECK_FALSE(result.used_known_scan);
    test::require_same_sums(*result.error, *plain.error);
  }
  SECTION("the same elements seen with another row length (other chunks)") {
    const CompressResult reshaped = compress_weight(test::view_of(w, {1024, 256}), per_tensor(8, 1, 0));
    REQUIRE(reshaped.scan);
    CompressSpec spec = per_tensor(8, 2, 0);
    spec.known_scan = &*reshaped.scan;
    const CompressResult result = compress_weight(view, spec);
    REQUIRE(result.error);
    CHECK_FALSE(result.used_known_scan);
    test::require_same_sums(*result.error, *plain.error);
  }
  SECTION("pruned, channel-wise or with output: the scan is neither used nor given") {
    CompressSpec pruned = per_tensor(8, 1, 0);
    pruned.prune.kind = PruneKind::Selective4of2;
    CompressSpec channel_wise = per_tensor(8, 1, 0);
    channel_wise.quant->channel_wise = true;
    std::vector<float> approx(w.size());
    CompressSpec with_output = per_tensor(8, 1, 0);
    with_output.output = approx.data();
    for (CompressSpec spec : {pruned, channel_wise, with_output}) {
      const CompressResult without = compress_weight(view, spec);
      spec.known_scan = &*own_scan.scan;
      const CompressResult result = compress_weight(view, spec);
      REQUIRE(result.error);
      REQUIRE(without.error);
      CHECK_FALSE(result.used_known_scan);
      CHECK_FALSE(result.scan);
      test::require_same_sums(*result.error, *without.error);
    }
  }
}

}  // namespace amct::engine
