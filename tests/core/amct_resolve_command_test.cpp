// amct-lsp --resolve: the JSON contract of issue 3 item 5, the text format,
// argument handling and exit codes (0 ok, 1 config has errors, 2 usage/I-O).
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>
#include <sstream>

#include "server/resolve_command.h"
#include "support/temp_dir.h"

using amct::server::run_resolve_command;
using nlohmann::json;

namespace {

struct Run {
  int status = -1;
  std::string out;
  std::string err;
};

Run resolve(const std::vector<std::string>& args) {
  std::ostringstream out, err;
  Run run;
  run.status = run_resolve_command(args, out, err);
  run.out = out.str();
  run.err = err.str();
  return run;
}

std::string example(const char* name) { return std::string(AMCT_SOURCE_DIR) + "/examples/" + name; }

}  // namespace

TEST_CASE("amct-lsp --resolve json: the exact contract for a name-overridden layer", "[resolve]") {
  const Run run = resolve({"--resolve", example("quant.cfg"), "--layer", "layer1.0.conv1",
                           "--type", "Conv2d", "--format", "json"});
  INFO(run.err);
  REQUIRE(run.status == 0);
  const json expected = json::parse(R"({
    "layer": "layer1.0.conv1",
    "type": "Conv2d",
    "quant": {
      "enabled": true,
      "data": {"algo": "ulq_quantize", "dst_type": "INT8", "clip_max": 3.0, "clip_min": -3.0,
               "fixed_min": null,
               "source": {"block": "override_layer_configs", "line": 36}},
      "weight": {"algo": "arq_retrain", "dst_type": "INT8", "channel_wise": true,
                 "source": {"block": "default", "line": null}}
    },
    "prune": {"enabled": false, "algo": null, "prune_ratio": null, "ascend_optimized": null,
              "n_out_of_m_type": null, "update_freq": null, "source": null},
    "skipped_by": []
  })");
  CHECK(json::parse(run.out) == expected);
  // Keys come in the documented order.
  CHECK(run.out.find("\"layer\"") < run.out.find("\"type\""));
  CHECK(run.out.find("\"type\"") < run.out.find("\"quant\""));
  CHECK(run.out.find("\"quant\"") < run.out.find("\"prune\""));
  CHECK(run.out.find("\"prune\"") < run.out.find("\"skipped_by\""));
}

TEST_CASE("amct-lsp --resolve json: global blocks, type override and skip entries", "[resolve]") {
  const Run typed = resolve({"--resolve", example("quant.cfg"), "--layer", "layer2.0.conv1",
                             "--type", "Conv2d", "--format", "json"});
  REQUIRE(typed.status == 0);
  const json t = json::parse(typed.out);
  CHECK(t["quant"]["weight"] == json::parse(R"({"algo": "arq_retrain", "dst_type": "INT4",
        "channel_wise": false, "source": {"block": "override_layer_types", "line": 27}})"));
  CHECK(t["quant"]["data"]["source"]["block"] == "default");

  const Run skipped = resolve({"--resolve", example("quant.cfg"), "--layer", "fc", "--type",
                               "Linear", "--format=json"});
  REQUIRE(skipped.status == 0);
  const json s = json::parse(skipped.out);
  CHECK(s["quant"] == json::parse(R"({"enabled": false, "data": null, "weight": null})"));
  CHECK(s["skipped_by"] == json::parse(R"([{"list": "skip_layers", "value": "fc", "line": 23,
        "disables": ["quant"]}])"));
}

TEST_CASE("amct-lsp --resolve json: pruning settings and their source", "[resolve]") {
  const Run run = resolve({"--resolve", example("prune.cfg"), "--layer", "layer4.0.conv1",
                           "--type", "Conv2d", "--format", "json"});
  REQUIRE(run.status == 0);
  const json j = json::parse(run.out);
  CHECK(j["quant"]["enabled"] == false);
  // Float fields print as written (0.3), not as the float's binary value.
  const Run global = resolve({"--resolve", example("prune.cfg"), "--layer", "layer1.0.conv1",
                              "--type", "Conv2d", "--format", "json"});
  CHECK(global.out.find("\"prune_ratio\": 0.3,") != std::string::npos);
  CHECK(j["prune"] == json::parse(R"({"enabled": true, "algo": "balanced_l2_norm_filter_prune",
        "prune_ratio": 0.5, "ascend_optimized": true, "n_out_of_m_type": null,
        "update_freq": null, "source": {"block": "override_layer_configs", "line": 18}})"));

  const Run selective = resolve({"--resolve", example("selective_prune.cfg"), "--layer",
                                 "layer2.0.conv2", "--type", "Conv2d", "--format", "json"});
  REQUIRE(selective.status == 0);
  CHECK(json::parse(selective.out)["prune"] ==
        json::parse(R"({"enabled": true, "algo": "l1_selective_prune", "prune_ratio": null,
        "ascend_optimized": null, "n_out_of_m_type": "M4N2", "update_freq": 0,
        "source": {"block": "global", "line": 6}})"));
}

TEST_CASE("amct-lsp --resolve text: human-readable with sources", "[resolve]") {
  const Run run =
      resolve({"--resolve", example("quant.cfg"), "--layer", "layer1.0.conv1", "--type", "Conv2d"});
  REQUIRE(run.status == 0);
  CHECK(run.out.find("layer layer1.0.conv1 (Conv2d)") != std::string::npos);
  CHECK(run.out.find("quantization: on") != std::string::npos);
  CHECK(run.out.find("ulq_quantize INT8, clip [-3, 3]") != std::string::npos);
  CHECK(run.out.find("from override_layer_configs (line 36)") != std::string::npos);
  CHECK(run.out.find("arq_retrain INT8, channel_wise true (default for the type)") !=
        std::string::npos);
  CHECK(run.out.find("pruning: off") != std::string::npos);
}

TEST_CASE("amct-lsp --resolve: a config with errors still resolves, exit 1", "[resolve]") {
  amct::test::TempDir dir;
  const std::string path =
      dir.write("bad.cfg",
                "retrain_weight_quant_config { arq_retrain { dst_type: INT8 } }\nbatch_num: 0\n");
  const Run run = resolve({"--resolve", path, "--layer", "conv1", "--format", "json"});
  CHECK(run.status == 1);
  CHECK(json::parse(run.out)["quant"]["enabled"] == true);
  CHECK(run.err.find("bad.cfg:2:12: error:") != std::string::npos);
  CHECK(run.err.find("[batch-num-zero]") != std::string::npos);
}

TEST_CASE("amct-lsp --resolve: the --api option changes the resolution", "[resolve]") {
  const Run run = resolve({"--resolve", example("prune.cfg"), "--layer", "conv", "--type",
                           "Conv2d", "--api", "quant", "--format", "json"});
  CHECK(run.status == 1);  // create_quant_retrain_config rejects prune_config
  const json j = json::parse(run.out);
  CHECK(j["quant"]["enabled"] == true);
  CHECK(j["prune"]["enabled"] == false);
  CHECK(run.err.find("[api-prune-content]") != std::string::npos);
}

TEST_CASE("amct-lsp --resolve: usage and I/O errors exit 2", "[resolve]") {
  CHECK(resolve({"--resolve", "/nonexistent/x.cfg", "--layer", "a"}).status == 2);
  const Run missing_layer = resolve({"--resolve", example("quant.cfg")});
  CHECK(missing_layer.status == 2);
  CHECK(missing_layer.err.find("usage:") != std::string::npos);
  CHECK(resolve({"--resolve"}).status == 2);
  CHECK(resolve({"--resolve", example("quant.cfg"), "--layer"}).status == 2);
  CHECK(resolve({"--resolve", example("quant.cfg"), "--layer", "a", "--format", "xml"}).status ==
        2);
  CHECK(resolve({"--resolve", example("quant.cfg"), "--layer", "a", "--bogus"}).status == 2);
  CHECK(resolve({"--resolve", example("quant.cfg"), "--layer", "a", "--api", "qat"}).status == 2);
  const Run soc = resolve({"--resolve", example("quant.cfg"), "--layer", "a", "--soc", "Ascend1"});
  CHECK(soc.status == 2);
  CHECK(soc.err.find("Ascend910B2") != std::string::npos);  // lists the known SoCs
  const Run io = resolve({"--resolve", "/nonexistent/x.cfg", "--layer", "a"});
  CHECK(io.err.find("cannot read /nonexistent/x.cfg") != std::string::npos);
  CHECK(io.out.empty());
}
