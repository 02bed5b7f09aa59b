// End-to-end tests of `amct-lsp --estimate` over the real binary: weights
// files written by the test, figures checked against the engine in-process.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstring>

#include "core/engine/compress.h"
#include "core/engine_test_support.h"
#include "support/run_process.h"
#include "support/temp_dir.h"

namespace {

using amct::test::TempDir;
using nlohmann::json;

amct::test::ProcessResult run_estimate(const std::vector<std::string>& arguments) {
  amct::test::ProcessOptions options;
  options.arguments = arguments;
  options.arguments.insert(options.arguments.begin(), "--estimate");
  amct::test::ProcessResult result = amct::test::run_process(AMCT_LSP_BINARY, options);
  UNSCOPED_INFO("exit " << result.exit_code << "\nstdout:\n" << result.standard_output << "\nstderr:\n"
                        << result.standard_error);
  return result;
}

const char* const kConfig = R"(retrain_weight_quant_config {
  arq_retrain { dst_type: INT8 }
}
quant_skip_layers: "conv1"
prune_config {
  filter_pruner { balanced_l2_norm_filter_prune { prune_ratio: 0.25 ascend_optimized: false } }
}
)";

struct SmallModel {
  std::vector<float> conv1 = amct::test::random_weights(20 * 8 * 3 * 3, 21);
  std::vector<float> block = amct::test::random_weights(32 * 16, 22);
  std::vector<float> fc = amct::test::random_weights(10 * 32, 23);

  std::string safetensors() const {
    using amct::test::f32_bytes;
    return amct::test::safetensors_file({{"conv1.weight", "F32", {20, 8, 3, 3}, f32_bytes(conv1)},
                                         {"layer1.0.conv1.weight", "F32", {32, 16, 1, 1}, f32_bytes(block)},
                                         {"fc.weight", "F32", {10, 32}, f32_bytes(fc)}});
  }
};

const json& layer(const json& report, const std::string& name) {
  for (const json& l : report["layers"]) {
    if (l["name"] == name) return l;
  }
  FAIL("no layer " << name);
  static json none;
  return none;
}

}  // namespace

TEST_CASE("amct-lsp --estimate JSON: effective config per layer, skips honoured, figures", "[cli][estimate]") {
  TempDir dir;
  SmallModel model;
  const std::string cfg = dir.write("compressed.cfg", kConfig);
  const std::string weights = dir.write("model.safetensors", model.safetensors());
  const auto result = run_estimate({cfg, "--weights", weights, "--format", "json"});
  REQUIRE(result.exit_code == 0);
  CHECK(result.standard_error.empty());  // no progress bar without a terminal
  const json report = json::parse(result.standard_output);
  CHECK(report["model"]["format"] == "safetensors");
  CHECK(report["model"]["parameters"] == 1440 + 512 + 320);
  REQUIRE(report["layers"].size() == 3);

  const json& conv1 = layer(report, "conv1");
  CHECK(conv1["type"] == "Conv2d");
  CHECK(conv1["type_inferred"] == true);
  CHECK(conv1["quant"].is_null());  // quant_skip_layers
  CHECK(conv1["config"]["skipped_by"][0]["list"] == "quant_skip_layers");
  CHECK(conv1["prune"]["algo"] == "balanced_l2_norm_filter_prune");
  CHECK(conv1["prune"]["kept"] == 15);  // 20 - round(20 * 0.25)
  CHECK(conv1["prune"]["total"] == 20);
  CHECK(conv1["prune"]["params_pruned"] == 5 * 72);

  const json& fc = layer(report, "fc");
  CHECK(fc["type"] == "Linear");
  CHECK(fc["quant"]["channel_wise"] == false);  // the default for Linear
  CHECK(fc["quant"]["dst_type"] == "INT8");
  CHECK(fc["prune"]["kept"] == 8);  // 10 - round(2.5) = 8
  // Same figures as the engine in-process: prune 0.25, then INT8 per tensor.
  amct::engine::CompressSpec spec;
  spec.quant = amct::engine::QuantSpec{8, false};
  spec.prune = {amct::engine::PruneKind::Filter, 0.25, false};
  const auto expected = amct::engine::compress_weight(amct::test::view_of(model.fc, {10, 32}), spec);
  REQUIRE(expected.error);
  CHECK(fc["quant"]["rel_l2"].get<double>() == Approx(expected.error->rel_l2()));
  CHECK(fc["quant"]["sqnr_db"].get<double>() == Approx(expected.error->sqnr_db()));
  CHECK(fc["quant"]["cosine"].get<double>() == Approx(expected.error->cosine()));

  const json& summary = report["summary"];
  CHECK(summary["layers"] == 3);
  CHECK(summary["quantized_layers"] == 2);
  CHECK(summary["pruned_layers"] == 3);
  CHECK(summary["parameters_pruned"] == 5 * 72 + 8 * 16 + 2 * 32);  // 32 x 0.25 -> 24 kept
  CHECK(summary["worst_layers"].size() == 3);
}

TEST_CASE("amct-lsp --estimate text: table sorted by error with bars, and a summary", "[cli][estimate]") {
  TempDir dir;
  SmallModel model;
  const std::string cfg = dir.write("quant.cfg", "retrain_weight_quant_config { arq_retrain { dst_type: INT8 } }\n"
                                                 "override_layer_configs { layer_name: \"fc\" retrain_weight_quant_config { arq_retrain { dst_type: INT4 channel_wise: false } } }\n"
                                                 "# soc: Ascend310P3\n");
  const std::string weights = dir.write("model.safetensors", model.safetensors());
  const auto result = run_estimate({cfg, "--weights", weights});
  REQUIRE(result.exit_code == 0);
  const std::string& out = result.standard_output;
  CHECK_THAT(out, Catch::Contains("safetensors, 3 layers, 2272 parameters"));
  CHECK_THAT(out, Catch::Contains("inferred from the weight's rank"));
  CHECK_THAT(out, Catch::Contains("summary: 3 layers (3 quantized, 0 pruned, 0 untouched)"));
  // fc (INT4) has the largest error: first row, full bar.
  const size_t header = out.find("rel.err");
  REQUIRE(header != std::string::npos);
  const size_t first_row = out.find('\n', header) + 1;
  CHECK(out.compare(first_row, 3, "fc ") == 0);
  CHECK_THAT(out.substr(first_row, out.find('\n', first_row) - first_row), Catch::Contains("####################"));
  CHECK_THAT(out, Catch::Contains("worst layers: fc, "));
}

namespace {

// Five equal BF16 layers, 11.3M parameters (above --estimate's progress
// threshold of 10M): the bar moves in fifths.
std::string large_bf16_safetensors() {
  const int64_t rows = 1024, columns = 2200;
  std::vector<amct::test::SafetensorsEntry> entries;
  uint64_t state = 12345;
  for (int i = 0; i < 5; ++i) {
    std::string bytes(static_cast<size_t>(rows * columns) * 2, '\0');
    for (size_t k = 0; k < bytes.size(); k += 2) {
      state = state * 6364136223846793005ull + 1442695040888963407ull;
      // A float in (-0.05, 0.05), its top half is the BF16 value.
      const float value = (static_cast<float>(state >> 40) / 16777216.0f - 0.5f) * 0.1f;
      uint32_t bits;
      std::memcpy(&bits, &value, 4);
      bytes[k] = static_cast<char>((bits >> 16) & 0xFF);
      bytes[k + 1] = static_cast<char>(bits >> 24);
    }
    entries.push_back({"block" + std::to_string(i) + ".weight", "BF16", {rows, columns}, std::move(bytes)});
  }
  return amct::test::safetensors_file(entries);
}

std::string bar_frame(int filled, const std::string& percent) {
  return "\r[" + std::string(static_cast<size_t>(filled), '#') + std::string(static_cast<size_t>(30 - filled), ' ') +
         "] " + percent + "% of 11.3M parameters";
}

}  // namespace

TEST_CASE("amct-lsp --estimate: a progress bar on stderr when it is a terminal and the model is large",
          "[cli][estimate][progress]") {
  TempDir dir;
  const std::string cfg = dir.write("quant.cfg", "retrain_weight_quant_config { arq_retrain { dst_type: INT8 } }\n");
  const std::string large = dir.write("large.safetensors", large_bf16_safetensors());
  amct::test::ProcessOptions options;
  options.arguments = {"--estimate", cfg, "--weights", large};

  SECTION("stderr is a terminal: the bar fills in fifths, then is erased") {
    options.standard_error_is_terminal = true;
    const auto result = amct::test::run_process(AMCT_LSP_BINARY, options);
    INFO("stderr: " << result.standard_error);
    REQUIRE(result.exit_code == 0);
    const std::string& err = result.standard_error;
    size_t at = 0;
    for (const auto& [filled, percent] : std::vector<std::pair<int, std::string>>{
             {6, " 20"}, {12, " 40"}, {18, " 60"}, {24, " 80"}, {30, "100"}}) {
      CAPTURE(percent);
      const size_t frame = err.find(bar_frame(filled, percent), at);
      REQUIRE(frame != std::string::npos);  // in order
      at = frame + 1;
    }
    // Erased at the end: carriage return, clear to the end of the line, nothing after.
    CHECK(err.size() >= 4);
    CHECK(err.compare(err.size() - 4, 4, "\r\033[K") == 0);
    CHECK(err.find('\n') == std::string::npos);
    // The report itself goes to stdout as usual.
    CHECK_THAT(result.standard_output, Catch::Contains("safetensors, 5 layers, 11.3M parameters"));
  }

  SECTION("stderr is a pipe: no bar") {
    const auto result = amct::test::run_process(AMCT_LSP_BINARY, options);
    REQUIRE(result.exit_code == 0);
    CHECK(result.standard_error.empty());
    CHECK_THAT(result.standard_output, Catch::Contains("safetensors, 5 layers, 11.3M parameters"));
  }

  SECTION("a small model at a terminal: no bar") {
    options.arguments = {"--estimate", cfg, "--weights", dir.write("small.safetensors", SmallModel().safetensors())};
    options.standard_error_is_terminal = true;
    const auto result = amct::test::run_process(AMCT_LSP_BINARY, options);
    REQUIRE(result.exit_code == 0);
    CHECK(result.standard_error.empty());
  }
}

TEST_CASE("amct-lsp --estimate on an ONNX model with 4:2 pruning", "[cli][estimate]") {
  TempDir dir;
  const std::vector<float> conv = amct::test::random_weights(16 * 8 * 3 * 3, 31);
  const std::vector<float> fc = amct::test::random_weights(10 * 16, 32);
  const std::string onnx = amct::test::onnx_model(
      {amct::test::onnx_node("/conv/Conv", "Conv", {"x", "conv.weight"}),
       amct::test::onnx_node("/fc/Gemm", "Gemm", {"y", "fc.weight"}, {{"transB", 1}})},
      {amct::test::onnx_tensor_raw("conv.weight", {16, 8, 3, 3}, 1, amct::test::f32_bytes(conv)),
       amct::test::onnx_tensor_floats("fc.weight", {10, 16}, fc)});
  const std::string weights = dir.write("model.onnx", onnx);
  const std::string cfg = dir.write("sparse.cfg", "prune_config { n_out_of_m_pruner { l1_selective_prune { n_out_of_m_type: M4N2 } } }\n");
  const auto result = run_estimate({cfg, "--weights", weights, "--soc", "Ascend910B2", "--format", "json"});
  REQUIRE(result.exit_code == 0);
  const json report = json::parse(result.standard_output);
  CHECK(report["model"]["format"] == "onnx");
  const json& c = layer(report, "conv");
  CHECK(c["type"] == "Conv2d");
  CHECK(c["type_inferred"] == false);
  CHECK(c["quant"].is_null());
  CHECK(c["prune"]["algo"] == "l1_selective_prune");
  CHECK(c["prune"]["kept"] == conv.size() / 2);
  CHECK(c["prune"]["total"] == conv.size());
  CHECK(c["prune"]["energy_removed"].get<double>() > 0.05);
  CHECK(layer(report, "fc")["prune"]["kept"] == 80);
}

TEST_CASE("amct-lsp --estimate: bad weights files and arguments fail with a message", "[cli][estimate]") {
  TempDir dir;
  SmallModel model;
  const std::string cfg = dir.write("q.cfg", "retrain_weight_quant_config { arq_retrain { dst_type: INT8 } }\n");
  const std::string full = model.safetensors();
  const std::string truncated = dir.write("cut.safetensors", full.substr(0, full.size() - 100));
  auto cut = run_estimate({cfg, "--weights", truncated});
  CHECK(cut.exit_code == 2);
  CHECK_THAT(cut.standard_error, Catch::Contains("run past the end of the data section"));
  CHECK(cut.standard_output.empty());

  std::string oversized = full;
  oversized[4] = 0x7F;  // header length ~ 2^38
  auto big = run_estimate({cfg, "--weights", dir.write("big.safetensors", oversized)});
  CHECK(big.exit_code == 2);
  CHECK_THAT(big.standard_error, Catch::Contains("exceeds the limit"));

  auto missing = run_estimate({cfg});
  CHECK(missing.exit_code == 2);
  CHECK_THAT(missing.standard_error, Catch::Contains("--weights FILE is required"));
  auto bad_soc = run_estimate({cfg, "--weights", truncated, "--soc", "Nope9"});
  CHECK(bad_soc.exit_code == 2);
  CHECK_THAT(bad_soc.standard_error, Catch::Contains("unknown SoC 'Nope9'"));
  auto bad_manifest = run_estimate({cfg, "--weights", dir.write("ok.safetensors", full), "--manifest",
                                    dir.write("m.json", "{\"layers\": 3}")});
  CHECK(bad_manifest.exit_code == 2);
  CHECK_THAT(bad_manifest.standard_error, Catch::Contains("expected {\"layers\""));
}

TEST_CASE("amct-lsp --estimate: a config with errors still estimates, exit 1", "[cli][estimate]") {
  TempDir dir;
  SmallModel model;
  // INT4 without a SoC that runs it.
  const std::string cfg = dir.write("q.cfg", "# soc: Ascend910B2\nretrain_weight_quant_config { arq_retrain { dst_type: INT4 } }\n");
  const auto result = run_estimate({cfg, "--weights", dir.write("m.safetensors", model.safetensors()), "--format", "json"});
  CHECK(result.exit_code == 1);
  CHECK_THAT(result.standard_error, Catch::Contains("AMCT would reject this config"));
  const json report = json::parse(result.standard_output);
  CHECK(layer(report, "fc")["quant"]["dst_type"] == "INT4");
  // 8 input channels: even; conv1 keeps INT4.
  CHECK(layer(report, "conv1")["quant"]["dst_type"] == "INT4");
}

TEST_CASE("amct-lsp --check --weights: model-aware checks of AMCT configs", "[cli][estimate]") {
  TempDir dir;
  SmallModel model;
  const std::string weights = dir.write("model.safetensors", model.safetensors());
  const std::string cfg = dir.write("q.cfg", "retrain_weight_quant_config { arq_retrain { dst_type: INT8 } }\n"
                                             "skip_layers: \"layer1.0.conv\"\n");
  amct::test::ProcessOptions options;
  options.arguments = {"--check", "--weights", weights, cfg};
  auto result = amct::test::run_process(AMCT_LSP_BINARY, options);
  CHECK(result.exit_code == 0);  // a warning
  CHECK_THAT(result.standard_output,
             Catch::Contains("q.cfg:2:14: warning: the model has no layer 'layer1.0.conv' (skip_layers); did you mean "
                             "'layer1.0.conv1'? [model-unknown-layer]"));
  // Without --weights: no model verdicts.
  options.arguments = {"--check", cfg};
  result = amct::test::run_process(AMCT_LSP_BINARY, options);
  CHECK_THAT(result.standard_output, !Catch::Contains("model-unknown-layer"));
  // A broken weights file is an I/O failure (exit 2) with the loader's message.
  options.arguments = {"--check", "--weights", dir.write("bad.safetensors", "12345678{"), cfg};
  result = amct::test::run_process(AMCT_LSP_BINARY, options);
  CHECK(result.exit_code == 2);
  CHECK_THAT(result.standard_error, Catch::Contains("bad.safetensors"));
}

TEST_CASE("amct-lsp --estimate: pruning only has no mean SQNR", "[cli][estimate]") {
  TempDir dir;
  SmallModel model;
  const std::string cfg = dir.write("p.cfg", "prune_config { n_out_of_m_pruner { l1_selective_prune { } } }\n");
  const std::string weights = dir.write("m.safetensors", model.safetensors());
  const auto json_run = run_estimate({cfg, "--weights", weights, "--format", "json"});
  REQUIRE(json_run.exit_code == 0);
  const json report = json::parse(json_run.standard_output);
  CHECK(report["summary"]["mean_sqnr_db"].is_null());
  CHECK(report["summary"]["quantized_layers"] == 0);
  const auto text_run = run_estimate({cfg, "--weights", weights});
  CHECK_THAT(text_run.standard_output, !Catch::Contains("mean SQNR"));
  CHECK_THAT(text_run.standard_output, Catch::Contains("(0 quantized, 3 pruned, 0 untouched)"));
}

TEST_CASE("amct-lsp --estimate: ULQ activation figures from the clip range and from a .npy sample", "[cli][estimate]") {
  TempDir dir;
  SmallModel model;
  const std::string cfg = dir.write("q.cfg", R"(retrain_data_quant_config { ulq_quantize { clip_max_min { clip_max: 6.0 clip_min: -2.0 } } }
retrain_weight_quant_config { arq_retrain { dst_type: INT8 } }
override_layer_configs { layer_name: "conv1" retrain_data_quant_config { ulq_quantize { dst_type: INT8 } } }
)");
  const std::string weights = dir.write("m.safetensors", model.safetensors());
  dir.write("acts/fc.npy", amct::test::npy_file({3}, {6.0f, 7.0f, -2.0f}));
  dir.write("acts/conv1.npy", amct::test::npy_file({2}, {-1.0f, 3.0f}));
  const auto result = run_estimate({cfg, "--weights", weights, "--activations", dir.path("acts"), "--format", "json"});
  REQUIRE(result.exit_code == 0);
  const json report = json::parse(result.standard_output);
  const json& fc = layer(report, "fc")["activation"];
  CHECK(fc["dst_type"] == "INT8");
  CHECK(fc["step"].get<double>() == Approx(8.0 / 255));
  CHECK(fc["noise_rms"].get<double>() == Approx(8.0 / 255 / std::sqrt(12.0)));
  // Asymmetric over [-2, 6]: 6 -> 191 s, 7 clamped to 191 s, -2 exact.
  const double s = 8.0 / 255, top = 191 * s;
  CHECK(fc["measured"]["max_abs"].get<double>() == Approx(7.0 - top));
  const double err = std::sqrt((std::pow(6 - top, 2) + std::pow(7 - top, 2) + std::pow(-2 + 64 * s, 2)) / (36 + 49 + 4));
  CHECK(fc["measured"]["rel_l2"].get<double>() == Approx(err).margin(1e-9));
  // conv1's name override has no clip: the sample's range stands in (noted).
  const json& conv1 = layer(report, "conv1");
  CHECK(conv1["activation"]["step"].is_null());
  CHECK(conv1["activation"]["measured"]["max_abs"].get<double>() < 4.0 / 255);
  CHECK_THAT(conv1["notes"].dump(), Catch::Contains("sample's min/max"));
  // No sample for layer1.0.conv1: the static figure only.
  CHECK(layer(report, "layer1.0.conv1")["activation"]["measured"].is_null());
}
