// A weights file truncated in place while it is mapped: reads past its new
// end raise SIGBUS. The mapping's guard (core/engine/mapped_file.h) turns that
// into an error result; the process (the language server) stays up.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>

#include "core/amct_test_support.h"
#include "core/engine/estimate.h"
#include "core/engine/mapped_file.h"
#include "core/engine/weights_model.h"
#include "core/engine_test_support.h"
#include "support/temp_dir.h"

namespace amct::engine {
namespace {

// Three 256x256 F32 (or BF16) layers (256 or 128 KB each): truncating to one
// page leaves every tensor's pages past the end of the file.
std::string three_layers(DType dtype) {
  std::vector<test::SafetensorsEntry> entries;
  for (int i = 0; i < 3; ++i) {
    const std::vector<float> w = test::random_weights(256 * 256, 40 + i);
    entries.push_back({"layer" + std::to_string(i) + ".weight", dtype_name(dtype), {256, 256},
                       dtype == DType::F32 ? test::f32_bytes(w) : test::bf16_bytes(w)});
  }
  return test::safetensors_file(entries);
}

}  // namespace

TEST_CASE("a weights file truncated in place while mapped: an error result, the process stays up",
          "[engine][sigbus]") {
  // BF16 weights are read in place by the 16-bit kernels: the read that faults is theirs.
  const DType dtype = GENERATE(DType::F32, DType::BF16);
  CAPTURE(dtype_name(dtype));
  test::TempDir dir;
  const std::string path = dir.write("m.safetensors", three_layers(dtype));
  LoadResult loaded = load_weights(LoadOptions{path, std::nullopt, {}});
  REQUIRE(loaded.model);
  CHECK(mapped_file_guard_installed());
  const test::CheckedConfig per_tensor("retrain_weight_quant_config { arq_retrain { channel_wise: false } }\n");
  const test::CheckedConfig pruned("prune_config { n_out_of_m_pruner { l1_selective_prune { n_out_of_m_type: M4N2 } } }\n");

  // Intact: figures.
  EstimateOptions options;
  options.threads = 2;
  const ModelEstimate before = estimate_model(per_tensor.config(), *loaded.model, options);
  CHECK(before.error.empty());
  REQUIRE(before.layers.size() == 3);
  CHECK(before.layers[2].error);

  // Truncated in place (not replaced): the mapping's pages past one page vanish.
  REQUIRE(::truncate(path.c_str(), 4096) == 0);
  for (const test::CheckedConfig* config : {&per_tensor, &pruned}) {
    for (unsigned threads : {1u, 2u}) {
      options.threads = threads;
      const ModelEstimate after = estimate_model(config->config(), *loaded.model, options);
      CHECK(after.error == kFileChangedWhileRead);
      for (const LayerEstimate& layer : after.layers) {
        CHECK_FALSE(layer.error);
        CHECK(layer.weights_changed);
        CHECK(layer.problem == kFileChangedWhileRead);
      }
    }
  }
  // One layer at a time (the language server's path).
  const LayerResolution resolution =
      resolve_layer(per_tensor.config(), {loaded.model->layers[1].name, loaded.model->layers[1].type}, {});
  const LayerEstimate one = estimate_layer(loaded.model->layers[1], resolution, 2);
  CHECK(one.problem == kFileChangedWhileRead);
  CHECK_FALSE(one.error);

  // Loading the truncated file again: a clear error, not a crash.
  const LoadResult again = load_weights(LoadOptions{path, std::nullopt, {}});
  CHECK_FALSE(again.model);
  CHECK_FALSE(again.error.empty());

  // Rewritten: a fresh mapping has figures again.
  dir.write("m.safetensors", three_layers(dtype));
  const LoadResult rewritten = load_weights(LoadOptions{path, std::nullopt, {}});
  REQUIRE(rewritten.model);
  options.threads = 2;
  const ModelEstimate fresh = estimate_model(per_tensor.config(), *rewritten.model, options);
  CHECK(fresh.error.empty());
  REQUIRE(fresh.layers.size() == 3);
  REQUIRE(fresh.layers[2].error);
  CHECK(fresh.layers[2].error->sqnr_db() == before.layers[2].error->sqnr_db());
}

TEST_CASE("a SIGBUS outside the weights mappings still has its default action", "[engine][sigbus]") {
  test::TempDir dir;
  const std::string guarded = dir.write("g.bin", std::string(8192, 'x'));
  std::string error;
  const std::optional<MappedFile> mapped = MappedFile::open(guarded, error);  // installs the guard
  REQUIRE(mapped);
  REQUIRE(mapped_file_guard_installed());
  const std::string other = dir.write("other.bin", std::string(3 * 4096, 'y'));
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    // A mapping the engine does not know: its fault is not ours to repair.
    const int fd = ::open(other.c_str(), O_RDONLY);
    void* p = fd >= 0 ? ::mmap(nullptr, 3 * 4096, PROT_READ, MAP_PRIVATE, fd, 0) : MAP_FAILED;
    if (p == MAP_FAILED || ::truncate(other.c_str(), 0) != 0) ::_exit(3);
    volatile const char* bytes = static_cast<const char*>(p);
    const char value = bytes[2 * 4096];  // SIGBUS
    ::_exit(value == 'y' ? 4 : 5);
  }
  int status = 0;
  REQUIRE(::waitpid(child, &status, 0) == child);
  // The previous action runs: the default one (death by SIGBUS), or under
  // AddressSanitizer the sanitizer's own handler (a report, then exit 1).
  // Either way the read is not repaired (exit 4 or 5).
#if defined(__SANITIZE_ADDRESS__)
  CHECK(WIFEXITED(status));
  if (WIFEXITED(status)) CHECK(WEXITSTATUS(status) == 1);
#else
  CHECK(WIFSIGNALED(status));
  if (WIFSIGNALED(status)) CHECK(WTERMSIG(status) == SIGBUS);
#endif
}

}  // namespace amct::engine
