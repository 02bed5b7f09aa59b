// The language server's engine service when the weights file is truncated in
// place while mapped (issue 5: "a truncated weights file gives a clear error;
// the server stays up"): the estimate's reads fault (SIGBUS), the mapping's
// guard turns that into an error, the service says so and reloads.
#include <catch2/catch.hpp>
#include <unistd.h>

#include "core/amct_test_support.h"
#include "core/engine/mapped_file.h"
#include "server/estimate_service.h"
#include "support/temp_dir.h"
#include "support/tiny_model.h"

namespace amct::server {
namespace {

std::string two_layers(uint32_t seed) {
  return test::safetensors_file(
      {{"a.weight", "F32", {256, 256}, test::f32_bytes(test::random_weights(256 * 256, seed))},
       {"b.weight", "F32", {256, 256}, test::f32_bytes(test::random_weights(256 * 256, seed + 1))}});
}

}  // namespace

TEST_CASE("estimate service: weights truncated in place while mapped give an error, then a reload",
          "[estimate][server][sigbus]") {
  test::TempDir dir;
  const std::string weights = dir.write("m.safetensors", two_layers(3));
  std::vector<std::string> errors;
  int changed = 0, reloaded = 0;
  EstimateEvents events;
  events.load_failed = [&](const std::string& error) { errors.push_back(error); };
  events.estimates_changed = [&](const std::string&, int64_t) { ++changed; };
  events.model_reloaded = [&] { ++reloaded; };
  EstimateService service(events);
  service.configure({weights, std::nullopt, 2});
  REQUIRE(service.model()->model);
  const test::CheckedConfig config("retrain_weight_quant_config { arq_retrain { channel_wise: false } }\n");

  // Truncated after loading, before the estimate reads the tensors.
  REQUIRE(::truncate(weights.c_str(), 4096) == 0);
  service.schedule("file:///q.cfg", 1, config.config(), {});
  service.wait_idle();
  REQUIRE_FALSE(errors.empty());
  CHECK(errors.front() == engine::kFileChangedWhileRead);
  CHECK(changed == 0);
  CHECK(reloaded == 1);
  CHECK_FALSE(service.model()->model);  // the truncated file does not load
  CHECK_FALSE(service.model()->error.empty());
  CHECK(service.hints(config.config(), {}).empty());  // no figures of the vanished weights

  // Rewritten: loaded and estimated again.
  dir.write("m.safetensors", two_layers(3));
  REQUIRE(service.model()->model);
  service.schedule("file:///q.cfg", 2, config.config(), {});
  service.wait_idle();
  CHECK(changed == 1);
  const std::vector<ide::EstimateHint> hints = service.hints(config.config(), {});
  REQUIRE(hints.size() == 1);
  CHECK(hints[0].complete());
}

}  // namespace amct::server
