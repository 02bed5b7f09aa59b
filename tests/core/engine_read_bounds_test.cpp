// The vector kernels read only the weights they are given: a tensor that
// ends on the last byte of a mapping (as a safetensors file's last tensor
// does) or starts on its first must not fault, whatever its alignment. The
// weights are placed against inaccessible guard pages on both sides; a load
// that reaches past them faults (the ASan run of the suite checks heap
// buffers the same way, to the byte).
#include <catch2/catch.hpp>

#include <sys/mman.h>
#include <unistd.h>

#include <cstring>
#include <vector>

#include "core/engine/compress.h"
#include "core/engine_test_support.h"

namespace amct::engine {
namespace {

// `bytes` readable bytes between two PROT_NONE pages, placed at the start or
// against the end of the readable region.
class GuardedBuffer {
 public:
  explicit GuardedBuffer(size_t bytes) {
    page_ = static_cast<size_t>(sysconf(_SC_PAGESIZE));
    readable_ = (bytes + page_ - 1) / page_ * page_;
    void* region = mmap(nullptr, readable_ + 2 * page_, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    REQUIRE(region != MAP_FAILED);
    base_ = static_cast<unsigned char*>(region);
    REQUIRE(mprotect(base_ + page_, readable_, PROT_READ | PROT_WRITE) == 0);
  }
  ~GuardedBuffer() { munmap(base_, readable_ + 2 * page_); }
  GuardedBuffer(const GuardedBuffer&) = delete;
  GuardedBuffer& operator=(const GuardedBuffer&) = delete;

  unsigned char* at_start() { return base_ + page_; }
  unsigned char* against_end(size_t bytes) { return base_ + page_ + readable_ - bytes; }

 private:
  size_t page_ = 0, readable_ = 0;
  unsigned char* base_ = nullptr;
};

}  // namespace

TEST_CASE("ARQ kernels read nothing before or after the weights, at any alignment", "[engine]") {
  // Row lengths around the kernels' vector and block sizes (per channel, rows
  // of 64 end their last block exactly at the tensor's end), the tensor
  // placed at every float offset within a 64-byte line after the mapping's
  // start, and ending on the last byte of the mapping (its start then at
  // every alignment, over the shapes). A read past the end faults. Rows of
  // 65541 floats are a chunk each: per tensor, the second and third chunks
  // are scanned and quantized in one sweep (vector kernels), the last one
  // ending in a scalar tail on the mapping's last byte.
  std::vector<std::vector<int64_t>> shapes = {{3, 64}, {2, 1000}, {40, 33}, {1, 4096}, {3, 65541}};
  for (int64_t extra = 0; extra < 16; ++extra) shapes.push_back({3, 64 + extra});
  for (const std::vector<int64_t>& shape : shapes) {
    const uint64_t count = static_cast<uint64_t>(shape[0] * shape[1]);
    const std::vector<float> w = test::random_weights(count, 5);
    for (DType dtype : {DType::F32, DType::BF16}) {
      std::string bytes;
      if (dtype == DType::F32) {
        bytes = test::f32_bytes(w);
      } else {
        std::vector<float> rounded = w;
        for (float& v : rounded) v = bfloat16_to_float(float_to_bfloat16(v));
        bytes = test::bf16_bytes(rounded);
      }
      GuardedBuffer buffer(bytes.size() + 64);
      std::vector<std::pair<unsigned char*, size_t>> places = {{buffer.against_end(bytes.size()), 0}};
      for (size_t offset = 0; offset < 64; offset += dtype_size(dtype)) places.push_back({buffer.at_start() + offset, offset});
      for (bool channel_wise : {true, false}) {
        CompressSpec spec;
        spec.quant = QuantSpec{8, channel_wise};
        spec.kernels_at_most = VectorKernels::Portable;
        const CompressResult expected = compress_weight(test::view_of_bytes(bytes, dtype, shape), spec);
        REQUIRE(expected.error);
        spec.kernels_at_most = default_vector_kernels_cap();
        for (const auto& [place, offset] : places) {
          CAPTURE(shape, dtype_name(dtype), offset, channel_wise);
          std::memcpy(place, bytes.data(), bytes.size());
          TensorView view = test::view_of_bytes(bytes, dtype, shape);
          view.data = place;
          const CompressResult result = compress_weight(view, spec);
          REQUIRE(result.error);
          CHECK(result.error->max_abs == expected.error->max_abs);
          CHECK(result.error->sumsq_err == Approx(expected.error->sumsq_err).epsilon(1e-6));
        }
      }
    }
  }
}

}  // namespace amct::engine
