// The language server's engine service: background jobs, cancellation
// between layers, the cache across edits, reloading a changed weights file.
#include "server/estimate_service.h"

#include <catch2/catch.hpp>

#include "core/amct_test_support.h"
#include "support/temp_dir.h"
#include "support/tiny_model.h"

namespace amct::server {

TEST_CASE("estimate service: jobs run in the background, a cancelled job keeps what it computed",
          "[estimate][server]") {
  test::TempDir dir;
  const std::string weights = dir.write("m.safetensors", test::tiny_model_safetensors());
  EstimateService* self = nullptr;
  int changed = 0;
  bool cancel_after_first_layer = false;
  std::vector<std::string> progress;
  EstimateEvents events;
  events.estimates_changed = [&](const std::string&, int64_t) { ++changed; };
  events.progress_begin = [&](const std::string&) { progress.push_back("begin"); };
  events.progress_report = [&](unsigned, const std::string& message) {
    progress.push_back(message);
    if (cancel_after_first_layer) self->cancel("file:///q.cfg");
  };
  events.progress_end = [&] { progress.push_back("end"); };
  EstimateService service(events);
  self = &service;
  service.configure({weights, std::nullopt, 1});
  REQUIRE(service.model()->model);
  const test::CheckedConfig config("retrain_weight_quant_config { arq_retrain { dst_type: INT8 } }\n");

  cancel_after_first_layer = true;
  service.schedule("file:///q.cfg", 1, config.config(), {});
  service.wait_idle();
  CHECK(service.layers_computed() == 1);
  CHECK(changed == 0);  // a cancelled job asks for no refresh
  CHECK(progress == std::vector<std::string>{"begin", "1/3 layers", "end"});
  REQUIRE(service.hints(config.config(), {}).size() == 1);
  CHECK(service.hints(config.config(), {})[0].label == "≈ estimating… 1/3 layers");

  cancel_after_first_layer = false;
  service.schedule("file:///q.cfg", 2, config.config(), {});
  service.wait_idle();
  CHECK(service.layers_computed() == 3);  // only the two missing layers
  CHECK(changed == 1);
  CHECK(service.hints(config.config(), {})[0].complete());

  // Nothing new to compute: no job output, no refresh.
  service.schedule("file:///q.cfg", 3, config.config(), {});
  service.wait_idle();
  CHECK(service.layers_computed() == 3);
  CHECK(changed == 1);

  // The file changes on disk (another size): reloaded, and the cache with it.
  dir.write("m.safetensors", test::safetensors_file({{"fc.weight", "F32", {4, 8}, test::f32_bytes(test::random_weights(32, 5))}}));
  REQUIRE(service.model()->layers.size() == 1);
  CHECK(service.hints(config.config(), {})[0].label == "≈ estimating… 0/1 layer");
}

TEST_CASE("estimate service: off without weights; a load error is reported once", "[estimate][server]") {
  test::TempDir dir;
  std::vector<std::string> errors;
  EstimateEvents events;
  events.load_failed = [&](const std::string& error) { errors.push_back(error); };
  EstimateService service(events);
  CHECK(!service.enabled());
  CHECK(!service.model()->model);
  CHECK(errors.empty());
  service.configure({dir.path("missing.safetensors"), std::nullopt, 1});
  CHECK(service.enabled());
  CHECK(!service.model()->model);
  CHECK(!service.model()->error.empty());
  REQUIRE(errors.size() == 1);
  CHECK(errors[0].find("missing.safetensors") != std::string::npos);
  // Scheduling without a model does nothing, and nothing waits.
  service.schedule("file:///q.cfg", 1, test::CheckedConfig("batch_num: 1\n").config(), {});
  service.wait_idle();
  CHECK(service.layers_computed() == 0);
}

TEST_CASE("estimate service: a config change reuses the weights' scans",
          "[estimate][server][known-scan]") {
  test::TempDir dir;
  const std::string weights = dir.write("m.safetensors", test::tiny_model_safetensors());
  EstimateService service({});
  service.configure({weights, std::nullopt, 1});
  REQUIRE(service.model()->model);
  const test::CheckedConfig int8("retrain_weight_quant_config { arq_retrain { dst_type: INT8 channel_wise: false } }\n");
  const test::CheckedConfig int4("retrain_weight_quant_config { arq_retrain { dst_type: INT4 channel_wise: false } }\n");
  service.schedule("file:///q.cfg", 1, int8.config(), {});
  service.wait_idle();
  CHECK(service.layers_computed() == 3);
  CHECK(service.scans_reused() == 0);
  service.schedule("file:///q.cfg", 2, int4.config(), {});
  service.wait_idle();
  CHECK(service.layers_computed() == 6);
  CHECK(service.scans_reused() == 3);
  CHECK(service.hints(int4.config(), {})[0].complete());
}

}  // namespace amct::server
