// AMCT's run-time checks as diagnostics: codes, severities, ranges (annotated
// with [[ ]]), related information, SoC and API modes, and the example configs.
#include <catch2/catch.hpp>

#include <algorithm>

#include "core/amct/amct_checks.h"
#include "core/amct/resolver.h"
#include "core/amct/rules.h"
#include "core/amct_test_support.h"
#include "support/annotated.h"
#include "support/config_generator.h"
#include "support/printers.h"

using namespace amct;
using amct::test::Annotated;
using amct::test::CheckedConfig;

namespace {

using Strings = std::vector<std::string>;

// Checks `annotated` and expects exactly one diagnostic with `code`, on the
// marked range. Returns it for further checks.
Diagnostic expect_one(const std::string& annotated, const std::string& code,
                      const AmctCheckOptions& options = {}) {
  const Annotated source(annotated);
  const CheckedConfig checked(source.text, options);
  INFO(source.text);
  REQUIRE(checked.codes() == Strings{code});
  CHECK(checked.diagnostics[0].range == source.range());
  return checked.diagnostics[0];
}

void expect_none(const std::string& text, const AmctCheckOptions& options = {}) {
  const CheckedConfig checked(text, options);
  INFO(text);
  CHECK(checked.summary() == Strings{});
}

bool mentions(const Diagnostic& diagnostic, const std::string& text) {
  return diagnostic.message.find(text) != std::string::npos;
}

const char* kQuant = "retrain_weight_quant_config { arq_retrain { dst_type: INT8 } }\n";

AmctCheckOptions with_soc(const char* soc) {
  AmctCheckOptions options;
  options.soc = soc;
  return options;
}

AmctCheckOptions with_api(const char* api) {
  AmctCheckOptions options;
  options.api = api;
  return options;
}

}  // namespace

// ---------------------------------------------------------------- examples

TEST_CASE("table example quant.cfg: unsupported type Optype and the A4W8 pair", "[amct]") {
  const CheckedConfig checked(test::read_source_file("tests/fixtures/table_examples/quant.cfg"));
  CHECK(checked.bound.diagnostics.empty());
  // Errors: exactly what AMCT rejects. Warning: INT4 weights need an
  // Ascend310P* SoC, and the table names no SoC.
  CHECK(checked.summary() == Strings{"19:unsupported-layer-type:error",
                                     "21:unsupported-layer-type:error",
                                     "25:soc-unsupported-dtype:warning",
                                     "37:dtype-pair:error"});
  const Diagnostic* pair = checked.find("dtype-pair");
  REQUIRE(pair);
  CHECK(checked.text_of(pair->range) == "INT4");
  CHECK(mentions(*pair, "A4W8"));
  CHECK(checked.text_of(checked.diagnostics[0].range) == "\"Optype\"");
}

TEST_CASE("table example quant.cfg with its SoC: only what AMCT rejects", "[amct]") {
  const CheckedConfig checked(test::read_source_file("tests/fixtures/table_examples/quant.cfg"),
                              with_soc("Ascend310P3"));
  CHECK(checked.summary() == Strings{"19:unsupported-layer-type:error",
                                     "21:unsupported-layer-type:error", "37:dtype-pair:error"});
}

TEST_CASE("table example prune.cfg: only the repeated skip entry", "[amct]") {
  const CheckedConfig checked(test::read_source_file("tests/fixtures/table_examples/prune.cfg"));
  CHECK(checked.bound.diagnostics.empty());
  CHECK(checked.summary() == Strings{"12:duplicate-skip:warning"});
}

TEST_CASE("table example selective_prune.cfg: repeated skip entry, 4:2 needs a SoC", "[amct]") {
  const CheckedConfig checked(
      test::read_source_file("tests/fixtures/table_examples/selective_prune.cfg"));
  CHECK(checked.summary() ==
        Strings{"3:soc-unsupported-sparsity:warning", "12:duplicate-skip:warning"});
  const CheckedConfig on_a2(
      test::read_source_file("tests/fixtures/table_examples/selective_prune.cfg"),
      with_soc("Ascend910B2"));
  CHECK(on_a2.summary() == Strings{"12:duplicate-skip:warning"});
}

TEST_CASE("table example compressed1.cfg: Optype in skip lists and override", "[amct]") {
  const CheckedConfig checked(
      test::read_source_file("tests/fixtures/table_examples/compressed1.cfg"));
  CHECK(checked.bound.diagnostics.empty());
  CHECK(checked.summary() == Strings{"10:unsupported-layer-type:error",
                                     "12:unsupported-layer-type:error",
                                     "20:unsupported-layer-type:error"});
}

TEST_CASE("table example compressed2.cfg: Optype errors, 4:2 needs a SoC", "[amct]") {
  const std::string text = test::read_source_file("tests/fixtures/table_examples/compressed2.cfg");
  const CheckedConfig checked(text);
  CHECK(checked.summary() == Strings{"2:soc-unsupported-sparsity:warning",
                                     "10:unsupported-layer-type:error",
                                     "12:unsupported-layer-type:error",
                                     "20:unsupported-layer-type:error"});
  // One warning for the file; the second use is related information.
  REQUIRE(checked.diagnostics[0].related.size() == 1);
  CHECK(checked.document.line_column_at(checked.diagnostics[0].related[0].range.start).line == 36);
  const CheckedConfig on_a3(text, with_soc("Ascend910_9391"));
  CHECK(on_a3.summary() == Strings{"10:unsupported-layer-type:error",
                                   "12:unsupported-layer-type:error",
                                   "20:unsupported-layer-type:error"});
}

TEST_CASE("realistic examples check clean", "[amct]") {
  for (const char* name : {"quant.cfg", "prune.cfg", "selective_prune.cfg", "compressed1.cfg",
                           "compressed2.cfg"}) {
    INFO(name);
    const CheckedConfig checked(test::read_source_file(std::string("examples/") + name));
    CHECK(checked.document.syntax_diagnostics().empty());
    CHECK(checked.bound.diagnostics.empty());
    CHECK(checked.summary() == Strings{});
  }
}

// ---------------------------------------------------------------- values

TEST_CASE("clip-range: clip_max must be positive", "[amct]") {
  const Diagnostic d = expect_one(
      "retrain_data_quant_config { ulq_quantize { clip_max_min { clip_max: [[0.0]] clip_min: -1 "
      "} } }",
      "clip-range");
  CHECK(d.severity == Severity::Error);
  CHECK(mentions(d, "clip_max > 0"));
  expect_one(
      "retrain_data_quant_config { ulq_quantize { clip_max_min { clip_max: [[-2]] clip_min: -1 "
      "} } }",
      "clip-range");
}

TEST_CASE("clip-range: clip_min must be negative", "[amct]") {
  const Diagnostic d = expect_one(
      "retrain_data_quant_config { ulq_quantize { clip_max_min { clip_max: 6 clip_min: [[0.5]] } "
      "} }",
      "clip-range");
  CHECK(mentions(d, "fixed_min"));
  expect_one(
      "retrain_data_quant_config { ulq_quantize { clip_max_min { clip_max: 6 clip_min: [[0]] } } "
      "}",
      "clip-range");
}

TEST_CASE("clip-range: clip_max_min needs both values", "[amct]") {
  const Diagnostic d = expect_one(
      "retrain_data_quant_config { ulq_quantize { [[clip_max_min]] { clip_max: 6 } } }",
      "clip-range");
  CHECK(mentions(d, "clip_min"));
  expect_one("retrain_data_quant_config { ulq_quantize { [[clip_max_min]] { clip_min: -6 } } }",
             "clip-range");
}

TEST_CASE("clip-range: a valid clip range is accepted", "[amct]") {
  expect_none(
      "retrain_data_quant_config { ulq_quantize { clip_max_min { clip_max: 1e-3 clip_min: -1e-3 "
      "} } }");
}

TEST_CASE("batch-num-zero", "[amct]") {
  const Diagnostic d = expect_one(std::string(kQuant) + "batch_num: [[0]]", "batch-num-zero");
  CHECK(d.severity == Severity::Error);
  expect_none(std::string(kQuant) + "batch_num: 1");
}

TEST_CASE("prune-ratio-range: prune_ratio must be in (0, 1)", "[amct]") {
  for (const char* bad : {"0", "0.0", "1", "1.0", "1.5", "-0.2"}) {
    INFO(bad);
    expect_one(std::string("prune_config { filter_pruner { balanced_l2_norm_filter_prune { "
                           "prune_ratio: [[") +
                   bad + "]] } } }",
               "prune-ratio-range");
  }
  expect_none(
      "prune_config { filter_pruner { balanced_l2_norm_filter_prune { prune_ratio: 0.999 } } }");
}

TEST_CASE("missing-prune-algorithm: empty filter_pruner", "[amct]") {
  const Diagnostic d =
      expect_one(std::string(kQuant) + "prune_config { [[filter_pruner]] {} }",
                 "missing-prune-algorithm");
  CHECK(mentions(d, "balanced_l2_norm_filter_prune"));
}

TEST_CASE("missing-prune-algorithm: empty n_out_of_m_pruner", "[amct]") {
  const Diagnostic d = expect_one(
      std::string("# soc: Ascend910B2\n") + kQuant + "prune_config { [[n_out_of_m_pruner]] {} }",
      "missing-prune-algorithm");
  CHECK(mentions(d, "l1_selective_prune"));
}

TEST_CASE("missing-prune-algorithm: balanced_l2_norm_filter_prune without prune_ratio",
          "[amct]") {
  const Diagnostic d = expect_one(
      "prune_config { filter_pruner { [[balanced_l2_norm_filter_prune]] { ascend_optimized: "
      "true } } }",
      "missing-prune-algorithm");
  CHECK(mentions(d, "prune_ratio"));
}

TEST_CASE("missing-prune-algorithm in an override entry", "[amct]") {
  expect_one(std::string(kQuant) +
                 "override_layer_configs { layer_name: \"fc\" prune_config { [[filter_pruner]] "
                 "{ } } }",
             "missing-prune-algorithm");
}

// ---------------------------------------------------------------- whole config

TEST_CASE("empty-config: nothing to quantize or prune", "[amct]") {
  for (const char* text : {"", "# just a comment\n", "batch_num: 2\n",
                           "skip_layers: \"fc\"\nquant_skip_types: \"Conv2d\"\n",
                           "prune_config {}\n"}) {
    INFO(text);
    const CheckedConfig checked(text);
    REQUIRE(checked.codes() == Strings{"empty-config"});
    CHECK(checked.diagnostics[0].range == ByteRange{0, 0});
  }
}

TEST_CASE("empty-config: create_quant_retrain_config quantizes with defaults", "[amct]") {
  expect_none("batch_num: 2\n", with_api("quant"));
}

TEST_CASE("a prune-only and a quant-only config are not empty", "[amct]") {
  expect_none("prune_config { filter_pruner { balanced_l2_norm_filter_prune { prune_ratio: 0.2 } "
              "} }");
  expect_none("retrain_data_quant_config {}");
  expect_none("override_layer_configs { layer_name: \"fc\" retrain_weight_quant_config { "
              "ulq_retrain {} } }");
}

TEST_CASE("api-prune-content: create_quant_retrain_config rejects prune_config", "[amct]") {
  const Diagnostic d = expect_one(
      std::string(kQuant) +
          "[[prune_config]] { filter_pruner { balanced_l2_norm_filter_prune { prune_ratio: 0.2 } "
          "} }",
      "api-prune-content", with_api("quant"));
  CHECK(mentions(d, "create_quant_retrain_config"));
  expect_one(std::string(kQuant) + "override_layer_configs { layer_name: \"a\" [[prune_config]] "
                                   "{} }",
             "api-prune-content", with_api("quant"));
}

TEST_CASE("api mode from the # amct-api: header, which beats the option", "[amct]") {
  const std::string text =
      std::string("# amct-api: quant\n") + kQuant +
      "prune_config { filter_pruner { balanced_l2_norm_filter_prune { prune_ratio: 0.2 } } }";
  CHECK(CheckedConfig(text).codes() == Strings{"api-prune-content"});
  CHECK(CheckedConfig(text, with_api("compressed")).codes() == Strings{"api-prune-content"});
  CHECK(CheckedConfig(text.substr(text.find('\n') + 1), with_api("prune")).codes() == Strings{});
}

TEST_CASE("api-unknown: a bad API mode is reported on the header value", "[amct]") {
  const Diagnostic d =
      expect_one(std::string("# amct-api: [[quantize]]\n") + kQuant, "api-unknown");
  CHECK(mentions(d, "compressed"));
  const CheckedConfig from_option(kQuant, with_api("qat"));
  CHECK(from_option.codes() == Strings{"api-unknown"});
}

// ---------------------------------------------------------------- layer types

TEST_CASE("unsupported-layer-type: override type not quantizable", "[amct]") {
  const Diagnostic d = expect_one(
      "override_layer_types { layer_type: [[\"BatchNorm2d\"]] retrain_weight_quant_config { "
      "arq_retrain {} } }",
      "unsupported-layer-type");
  CHECK(mentions(d, "override layers types not supported"));
  CHECK(mentions(d, "Conv2d"));
}

TEST_CASE("unsupported-layer-type suggests the right capitalisation", "[amct]") {
  const Diagnostic d = expect_one(
      "override_layer_types { layer_type: [[\"conv2d\"]] retrain_weight_quant_config { "
      "arq_retrain {} } }",
      "unsupported-layer-type");
  CHECK(mentions(d, "Did you mean 'Conv2d'?"));
}

TEST_CASE("unsupported-layer-type: the pruner of the entry decides", "[amct]") {
  // LSTM is quantizable but not channel-prunable.
  const Diagnostic d = expect_one(
      std::string(kQuant) +
          "override_layer_types { layer_type: [[\"LSTM\"]] prune_config { filter_pruner { "
          "balanced_l2_norm_filter_prune { prune_ratio: 0.2 } } } }",
      "unsupported-layer-type");
  CHECK(mentions(d, "Supported types: Conv2d, Linear."));
  // ConvTranspose2d takes 4:2 sparsity but not channel pruning.
  expect_none("# soc: Ascend910B1\noverride_layer_types { layer_type: \"ConvTranspose2d\" "
              "prune_config { n_out_of_m_pruner { l1_selective_prune {} } } }");
  expect_one("override_layer_types { layer_type: [[\"ConvTranspose2d\"]] prune_config { "
             "filter_pruner { balanced_l2_norm_filter_prune { prune_ratio: 0.2 } } } }",
             "unsupported-layer-type");
}

TEST_CASE("unsupported-layer-type in skip lists follows the features in use", "[amct]") {
  const std::string filter_prune =
      "prune_config { filter_pruner { balanced_l2_norm_filter_prune { prune_ratio: 0.2 } } }\n";
  // skip_layer_types applies to quantization and pruning: one of them is enough.
  expect_none(std::string(kQuant) + filter_prune + "skip_layer_types: \"LSTM\"");
  // regular_prune_skip_types: only pruning counts.
  expect_one(std::string(kQuant) + filter_prune + "regular_prune_skip_types: [[\"LSTM\"]]",
             "unsupported-layer-type");
  expect_none(std::string(kQuant) + filter_prune + "regular_prune_skip_types: \"Linear\"");
  // quant_skip_types: quantization.
  expect_none(std::string(kQuant) + "quant_skip_types: \"GRU\"");
  expect_one(std::string(kQuant) + "quant_skip_types: [[\"ReLU\"]]", "unsupported-layer-type");
  // A prune-only config: skip_layer_types must name a prunable type.
  expect_one(filter_prune + "skip_layer_types: [[\"GRU\"]]", "unsupported-layer-type");
}

TEST_CASE("layer names are not checked against types", "[amct]") {
  expect_none(std::string(kQuant) + "skip_layers: \"Optype\"\nquant_skip_layers: \"x.y\"");
}

TEST_CASE("channel-wise-linear: channel_wise true for Linear", "[amct]") {
  const Diagnostic d = expect_one(
      "override_layer_types { layer_type: \"Linear\" retrain_weight_quant_config { arq_retrain "
      "{ channel_wise: [[true]] } } }",
      "channel-wise-linear");
  CHECK(mentions(d, "layer can not be channelwised"));
  expect_one(
      "override_layer_types { layer_type: \"Linear\" retrain_weight_quant_config { ulq_retrain "
      "{ channel_wise: [[true]] } } }",
      "channel-wise-linear");
  expect_none(
      "override_layer_types { layer_type: \"Linear\" retrain_weight_quant_config { arq_retrain "
      "{ channel_wise: false } } }");
  expect_none(
      "override_layer_types { layer_type: \"Conv2d\" retrain_weight_quant_config { arq_retrain "
      "{ channel_wise: true } } }");
}

// ---------------------------------------------------------------- data types

TEST_CASE("dtype-pair: INT4 activations with INT8 weights (A4W8)", "[amct]") {
  const Diagnostic d = expect_one(
      "retrain_data_quant_config { ulq_quantize { dst_type: [[INT4]] } }", "dtype-pair");
  CHECK(mentions(d, "A4W8"));
  CHECK(mentions(d, "A8W8, A16W8, A8W4"));
}

TEST_CASE("dtype-pair: A4W4 is listed but AMCT rejects INT4 activations", "[amct]") {
  const Annotated source(
      "# soc: Ascend310P3\n"
      "retrain_data_quant_config { ulq_quantize { dst_type: [[INT4]] } }\n"
      "retrain_weight_quant_config { arq_retrain { dst_type: INT4 } }");
  const CheckedConfig checked(source.text);
  REQUIRE(checked.codes() == Strings{"dtype-pair"});
  CHECK(checked.diagnostics[0].range == source.range());
  CHECK(mentions(checked.diagnostics[0], "A4W4 is listed"));
}

TEST_CASE("dtype-pair: an override's missing block is the default, not the global", "[amct]") {
  // Global weights are INT4, but the override has no weight block: A4W8.
  const Diagnostic d = expect_one(
      "# soc: Ascend310P3\n"
      "retrain_weight_quant_config { arq_retrain { dst_type: INT4 } }\n"
      "override_layer_configs { layer_name: \"a\" retrain_data_quant_config { ulq_quantize { "
      "dst_type: [[INT4]] } } }",
      "dtype-pair");
  CHECK(mentions(d, "A4W8"));
  CHECK(mentions(d, "not the global block"));
}

TEST_CASE("dtype-pair: A8W4 and A8W8 are supported", "[amct]") {
  expect_none("# soc: Ascend310P3\nretrain_weight_quant_config { arq_retrain { dst_type: INT4 } }");
  expect_none(
      "retrain_data_quant_config { ulq_quantize { dst_type: INT8 } }\n"
      "retrain_weight_quant_config { ulq_retrain { dst_type: INT8 } }");
}

TEST_CASE("int16-unsupported: A16W8 is a listed pair the current version cannot run",
          "[amct]") {
  const Diagnostic d = expect_one(
      "retrain_data_quant_config { ulq_quantize { dst_type: [[INT16]] } }", "int16-unsupported");
  CHECK(mentions(d, "INT8 and INT4"));
}

TEST_CASE("dtype-pair and int16-unsupported: INT16 weights", "[amct]") {
  const Annotated source("retrain_weight_quant_config { arq_retrain { dst_type: [[INT16]] } }");
  const CheckedConfig checked(source.text);
  CHECK(checked.codes() == Strings{"int16-unsupported", "dtype-pair"});
  for (const Diagnostic& d : checked.diagnostics) CHECK(d.range == source.range());
}

TEST_CASE("the last dst_type wins, as in AMCT's reader", "[amct]") {
  // text_format.Merge keeps the last value of a repeated singular field.
  expect_none("retrain_data_quant_config { ulq_quantize { dst_type: INT4 dst_type: INT8 } }");
  expect_one("retrain_data_quant_config { ulq_quantize { dst_type: INT8 dst_type: [[INT4]] } }",
             "dtype-pair");
}

// ---------------------------------------------------------------- duplicates

TEST_CASE("duplicate-override: a layer name overridden twice", "[amct]") {
  const Annotated source(
      "override_layer_configs { layer_name: [[\"conv1\"]] retrain_weight_quant_config { "
      "arq_retrain {} } }\n"
      "override_layer_configs { layer_name: \"conv2\" }\n"
      "override_layer_configs { layer_name: [[\"conv1\"]] }\n");
  const CheckedConfig checked(source.text);
  REQUIRE(checked.codes() == Strings{"duplicate-override"});
  const Diagnostic& d = checked.diagnostics[0];
  CHECK(d.severity == Severity::Error);
  CHECK(d.range == source.ranges[1]);
  REQUIRE(d.related.size() == 1);
  CHECK(d.related[0].range == source.ranges[0]);
}

TEST_CASE("duplicate-override: a layer type overridden twice", "[amct]") {
  const Annotated source(
      "override_layer_types { layer_type: [[\"Conv2d\"]] retrain_weight_quant_config { "
      "arq_retrain {} } }\n"
      "override_layer_types { layer_type: [[\"Conv2d\"]] retrain_weight_quant_config { "
      "arq_retrain {} } }\n");
  const CheckedConfig checked(source.text);
  REQUIRE(checked.codes() == Strings{"duplicate-override"});
  CHECK(checked.diagnostics[0].range == source.ranges[1]);
  CHECK(checked.diagnostics[0].related.at(0).range == source.ranges[0]);
}

TEST_CASE("a name and a type override with the same text are not duplicates", "[amct]") {
  expect_none(
      "override_layer_types { layer_type: \"Linear\" retrain_weight_quant_config { arq_retrain "
      "{} } }\n"
      "override_layer_configs { layer_name: \"Linear\" }\n");
}

TEST_CASE("duplicate-skip: a warning with the first entry as related information", "[amct]") {
  const Annotated source(std::string(kQuant) +
                         "skip_layers: [[\"fc\"]]\nskip_layers: \"conv1\"\nskip_layers: [[\"fc\"]]\n"
                         "quant_skip_layers: \"fc\"\n");
  const CheckedConfig checked(source.text);
  REQUIRE(checked.codes() == Strings{"duplicate-skip"});
  const Diagnostic& d = checked.diagnostics[0];
  CHECK(d.severity == Severity::Warning);
  CHECK(d.range == source.ranges[1]);
  CHECK(d.related.at(0).range == source.ranges[0]);
}

TEST_CASE("duplicate-skip: list syntax repeats count too", "[amct]") {
  expect_one(std::string(kQuant) + "quant_skip_types: [\"Conv2d\", [[\"Conv2d\"]]]",
             "duplicate-skip");
}

// ---------------------------------------------------------------- SoC

namespace {
const char* kInt4 = "retrain_weight_quant_config { arq_retrain { dst_type: INT4 } }\n";
const char* kSparsity = "prune_config { n_out_of_m_pruner { l1_selective_prune {} } }\n";
}  // namespace

TEST_CASE("with --soc Ascend310P3 accepts INT4 and rejects n_out_of_m_pruner", "[amct]") {
  expect_none(kInt4, with_soc("Ascend310P3"));
  const Diagnostic d =
      expect_one("prune_config { [[n_out_of_m_pruner]] { l1_selective_prune {} } }",
                 "soc-unsupported-sparsity", with_soc("Ascend310P3"));
  CHECK(d.severity == Severity::Error);
  CHECK(mentions(d, "Ascend310P3"));
  CHECK(mentions(d, "Ascend910B*"));
}

TEST_CASE("with --soc Ascend910B2 accepts n_out_of_m_pruner and rejects INT4", "[amct]") {
  expect_none(kSparsity, with_soc("Ascend910B2"));
  const Diagnostic d =
      expect_one("retrain_weight_quant_config { arq_retrain { dst_type: [[INT4]] } }",
                 "soc-unsupported-dtype", with_soc("Ascend910B2"));
  CHECK(d.severity == Severity::Error);
  CHECK(mentions(d, "Ascend310P*"));
}

TEST_CASE("with a SoC every unsupported use is an error", "[amct]") {
  const std::string text = std::string(kInt4) +
                           "override_layer_types { layer_type: \"Conv2d\" "
                           "retrain_weight_quant_config { ulq_retrain { dst_type: INT4 } } }";
  const CheckedConfig checked(text, with_soc("Ascend950PR"));
  CHECK(checked.summary() ==
        Strings{"1:soc-unsupported-dtype:error", "2:soc-unsupported-dtype:error"});
}

TEST_CASE("training-series and 950 SoCs run neither INT4 nor 4:2", "[amct]") {
  for (const char* soc : {"Ascend910", "Ascend910A", "Ascend910ProB", "Ascend950DT"}) {
    INFO(soc);
    CHECK(CheckedConfig(kInt4, with_soc(soc)).codes() == Strings{"soc-unsupported-dtype"});
    CHECK(CheckedConfig(kSparsity, with_soc(soc)).codes() == Strings{"soc-unsupported-sparsity"});
  }
}

TEST_CASE("without a SoC: one warning naming the SoCs that cannot run it", "[amct]") {
  const Annotated source(
      "retrain_weight_quant_config { arq_retrain { dst_type: [[INT4]] } }\n"
      "override_layer_configs { layer_name: \"a\" retrain_weight_quant_config { arq_retrain { "
      "dst_type: [[INT4]] } } }\n");
  const CheckedConfig checked(source.text);
  REQUIRE(checked.codes() == Strings{"soc-unsupported-dtype"});
  const Diagnostic& d = checked.diagnostics[0];
  CHECK(d.severity == Severity::Warning);
  CHECK(d.range == source.ranges[0]);
  CHECK(d.related.at(0).range == source.ranges[1]);
  CHECK(mentions(d, "Ascend910B*"));
  CHECK(mentions(d, "Ascend310P*"));
  CHECK(mentions(d, "--soc"));
}

TEST_CASE("the # soc: header selects the SoC and beats the option", "[amct]") {
  const std::string text = std::string("# soc: Ascend310P3\n") + kInt4;
  CHECK(CheckedConfig(text).codes() == Strings{});
  CHECK(CheckedConfig(text, with_soc("Ascend910B2")).codes() == Strings{});
  CHECK(CheckedConfig(kInt4, with_soc("Ascend910B2")).codes() == Strings{"soc-unsupported-dtype"});
}

TEST_CASE("soc-unknown: on the header value, listing the known SoCs", "[amct]") {
  const Diagnostic d = expect_one(std::string("# soc: [[Ascend999]]\n") + kInt4, "soc-unknown");
  CHECK(d.severity == Severity::Error);
  CHECK(mentions(d, "Ascend310P3"));
  CHECK(mentions(d, "Ascend910B2"));
  CHECK(mentions(d, "Ascend910_9391"));
  CHECK(mentions(d, "Ascend950PR"));
}

TEST_CASE("soc-unknown from the option is reported at the start of the file", "[amct]") {
  const CheckedConfig checked(std::string(kSparsity), with_soc("Ascend310"));
  // SoC checks are skipped for an unknown SoC: one clear error only.
  REQUIRE(checked.codes() == Strings{"soc-unknown"});
  CHECK(checked.diagnostics[0].range == ByteRange{0, 0});
}

TEST_CASE("an empty # soc: header is an unknown SoC", "[amct]") {
  const CheckedConfig checked(std::string("# soc:\n") + kQuant);
  CHECK(checked.codes() == Strings{"soc-unknown"});
}

// ---------------------------------------------------------------- scope

TEST_CASE("check_amct ignores documents of other schemas", "[amct]") {
  const syntax::Document document("layer_name: \"x\"\nbatch_num: 0\n");
  const model::BoundDocument unbound = model::bind(document, nullptr);
  CHECK(check_amct(document, unbound, {}).empty());
  CHECK_FALSE(is_amct_config(unbound));
}

TEST_CASE("every produced code is listed in amct_rule_codes", "[amct]") {
  std::vector<std::string> listed;
  for (const RuleCode& code : amct_rule_codes()) listed.push_back(code.code);
  for (const char* code :
       {"clip-range", "batch-num-zero", "prune-ratio-range", "missing-prune-algorithm",
        "empty-config", "unsupported-layer-type", "channel-wise-linear", "dtype-pair",
        "int16-unsupported", "duplicate-override", "duplicate-skip", "soc-unknown",
        "soc-unsupported-dtype", "soc-unsupported-sparsity", "api-prune-content",
        "api-unknown"}) {
    INFO(code);
    CHECK(std::find(listed.begin(), listed.end(), code) != listed.end());
  }
}

TEST_CASE("headers are read anywhere at the top level, with any spacing", "[amct]") {
  const std::string body = std::string(kInt4) + kSparsity;
  CHECK(CheckedConfig("#soc:Ascend310P3\n" + body).codes() == Strings{"soc-unsupported-sparsity"});
  CHECK(CheckedConfig(body + "#   soc:   Ascend910B3  \n").codes() ==
        Strings{"soc-unsupported-dtype"});
  // A comment after a value is not a header.
  CHECK(CheckedConfig("batch_num: 1 # soc: Ascend310P3\n" + body).codes() ==
        Strings{"soc-unsupported-dtype", "soc-unsupported-sparsity"});
}

TEST_CASE("broken configs: every prefix of every example checks and resolves", "[amct]") {
  // An editor buffer is broken most of the time: checks and the resolver must
  // degrade, never throw or crash.
  size_t checked_prefixes = 0;
  for (const char* name : {"quant.cfg", "prune.cfg", "selective_prune.cfg", "compressed1.cfg",
                           "compressed2.cfg"}) {
    const std::string text = test::read_source_file(std::string("examples/") + name);
    for (size_t length = 0; length <= text.size(); length += 3) {
      const CheckedConfig checked(text.substr(0, length));
      for (const Diagnostic& d : checked.diagnostics) {
        REQUIRE(d.range.start <= d.range.end);
        REQUIRE(d.range.end <= length);
      }
      const LayerResolution resolution =
          resolve_layer(checked.config(), {"layer1.0.conv1", std::string("Conv2d")});
      CHECK(resolution.layer == "layer1.0.conv1");
      ++checked_prefixes;
    }
  }
  CHECK(checked_prefixes > 500);
}

TEST_CASE("check_rules_and_release: the diagnostics of check_rules, and the config left empty", "[amct]") {
  // 20,000 overrides: past the size where the rules run on two threads.
  const amct::test::CheckedConfig checked(amct::bench::generate_config(20000, 5));
  for (const std::optional<std::string>& soc : {std::optional<std::string>(), std::optional<std::string>("Ascend310P3")}) {
    const RuleContext context = resolve_amct_options(AmctHeaders{}, AmctCheckOptions{soc, std::nullopt}).context;
    const AmctConfig config = checked.config();
    REQUIRE(config.name_overrides.size() >= 20000);
    const std::vector<Diagnostic> expected = check_rules(config, context);
    AmctConfig released = checked.config();
    const std::vector<Diagnostic> got = check_rules_and_release(std::move(released), context);
    REQUIRE(!expected.empty());
    REQUIRE(got.size() == expected.size());
    for (size_t i = 0; i < got.size(); ++i) {
      INFO("diagnostic " << i << ": " << expected[i].code);
      CHECK(got[i].code == expected[i].code);
      CHECK(got[i].range == expected[i].range);
      CHECK(std::string_view(got[i].message) == std::string_view(expected[i].message));
      CHECK(got[i].related.size() == expected[i].related.size());
    }
    CHECK(released.name_overrides.empty());
    CHECK(released.skips.empty());
  }
}
