#include "core/ide/code_actions.h"

#include <catch2/catch.hpp>

#include "core/analysis.h"
#include "support/annotated.h"
#include "support/printers.h"

using amct::ide::code_actions;
using amct::ide::CodeAction;
using amct::syntax::Document;
using amct::test::Annotated;

namespace {

// Runs the full check of `text` as an AMCT config and returns the actions for `range`.
std::vector<CodeAction> actions_for(const Document& document, amct::ByteRange range,
                                    std::optional<std::string> soc = std::nullopt, std::string path = "x.cfg") {
  amct::AnalysisOptions options;
  options.path = path;
  options.soc = soc;
  const amct::Analysis analysis = amct::analyze(document, options);
  std::optional<amct::model::BoundDocument> bound;
  if (analysis.schema) bound = amct::model::bind(document, analysis.schema->root);
  amct::ide::CodeActionInput input;
  input.diagnostics = &analysis.diagnostics;
  input.bound = bound ? &*bound : nullptr;
  input.has_schema = analysis.schema.has_value();
  input.range = range;
  return code_actions(document, input);
}

std::string apply(const Document& document, const CodeAction& action) {
  std::string text = document.text();
  for (auto it = action.edits.rbegin(); it != action.edits.rend(); ++it)
    text.replace(it->range.start, it->range.end - it->range.start, it->new_text);
  return text;
}

}  // namespace

TEST_CASE("quick fix: did-you-mean for an unknown field", "[code-actions]") {
  const Annotated a("retrain_weight_quant_config { arq_retrain { [[dst_typ]]: INT8 } }\n");
  const Document document(a.text);
  const auto actions = actions_for(document, a.range());
  REQUIRE(actions.size() == 1);
  CHECK(actions[0].title == "Change to 'dst_type'");
  CHECK(actions[0].kind == "quickfix");
  CHECK(apply(document, actions[0]) == "retrain_weight_quant_config { arq_retrain { dst_type: INT8 } }\n");
}

TEST_CASE("quick fix: remove a duplicate skip entry and a duplicate field", "[code-actions]") {
  const Annotated a(
      "prune_config { filter_pruner { balanced_l2_norm_filter_prune { prune_ratio: 0.3 } } }\n"
      "regular_prune_skip_layers: \"fc\"\n"
      "regular_prune_skip_layers: [[\"fc\"]]\n"
      "batch_num: 2\n");
  const Document document(a.text);
  const auto actions = actions_for(document, a.range());
  REQUIRE(actions.size() == 1);
  CHECK(apply(document, actions[0]) ==
        "prune_config { filter_pruner { balanced_l2_norm_filter_prune { prune_ratio: 0.3 } } }\n"
        "regular_prune_skip_layers: \"fc\"\n"
        "batch_num: 2\n");
  const Annotated b("batch_num: 1\n[[batch_num]]: 2\nprune_config { filter_pruner { balanced_l2_norm_filter_prune { prune_ratio: 0.3 } } }\n");
  const Document twice(b.text);
  const auto duplicate = actions_for(twice, b.range());
  REQUIRE(duplicate.size() == 1);
  CHECK(apply(twice, duplicate[0]).find("batch_num: 2") == std::string::npos);
}

TEST_CASE("quick fix: INT4 -> INT8 where the SoC has no INT4", "[code-actions]") {
  const Annotated a("retrain_weight_quant_config { arq_retrain { dst_type: [[INT4]] } }\n");
  const Document document(a.text);
  const auto actions = actions_for(document, a.range(), "Ascend910B2");
  REQUIRE(actions.size() == 1);
  CHECK(apply(document, actions[0]) == "retrain_weight_quant_config { arq_retrain { dst_type: INT8 } }\n");
  CHECK(actions_for(document, a.range(), "Ascend310P3").empty());
}

TEST_CASE("quick fix: add a missing required field", "[code-actions]") {
  const Annotated a("override_layer_configs [[{]]\n  prune_config { filter_pruner { balanced_l2_norm_filter_prune { prune_ratio: 0.3 } } }\n}\n");
  const Document document(a.text);
  const auto actions = actions_for(document, a.range());
  const CodeAction* add = nullptr;
  for (const auto& action : actions)
    if (action.title.find("Add the required 'layer_name'") != std::string::npos) add = &action;
  REQUIRE(add);
  CHECK(apply(document, *add).starts_with("override_layer_configs {\n  layer_name: \"\"\n  prune_config"));
}

TEST_CASE("source action: schema headers for a textproto without schema", "[code-actions]") {
  const Document document("a: 1\n");
  const auto actions = actions_for(document, {0, 0}, std::nullopt, "data.txtpb");
  REQUIRE(actions.size() == 1);
  CHECK(actions[0].kind == "source");
  CHECK(apply(document, actions[0]) == "# proto-file: \n# proto-message: \na: 1\n");
  CHECK(actions_for(Document("batch_num: 1\nprune_config {}\n"), {0, 0}).empty());
}
