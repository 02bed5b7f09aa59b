#include "core/ide/completion.h"

#include <catch2/catch.hpp>

#include <algorithm>

#include "core/schema/schema.h"
#include "support/annotated.h"
#include "support/printers.h"

using amct::ide::complete;
using amct::ide::CompletionItem;
using amct::ide::CompletionOptions;
using amct::syntax::Document;
using amct::test::Annotated;

namespace {

CompletionOptions amct_options() {
  CompletionOptions options;
  options.root_type = amct::schema::amct_schema().root;
  options.is_amct = true;
  return options;
}

std::vector<std::string> labels(const std::vector<CompletionItem>& items) {
  std::vector<CompletionItem> sorted = items;
  std::stable_sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) {
    return a.sort_text != b.sort_text ? a.sort_text < b.sort_text : a.label < b.label;
  });
  std::vector<std::string> out;
  for (const auto& item : sorted) out.push_back(item.label);
  return out;
}

std::vector<CompletionItem> complete_at(std::string_view annotated, const CompletionOptions& options = amct_options()) {
  const Annotated a(annotated);
  return complete(Document(a.text), a.cursor(), options);
}

const CompletionItem* find(const std::vector<CompletionItem>& items, std::string_view label) {
  for (const auto& item : items)
    if (item.label == label) return &item;
  return nullptr;
}

}  // namespace

TEST_CASE("completion offers the fields of the message around the cursor", "[completion]") {
  const auto items = complete_at("retrain_weight_quant_config {\n  ^\n}\n");
  CHECK(labels(items) == std::vector<std::string>{"arq_retrain", "ulq_retrain"});
  const CompletionItem* arq = find(items, "arq_retrain");
  REQUIRE(arq);
  CHECK(arq->is_snippet);
  CHECK(arq->insert_text == "arq_retrain {\n  $0\n}");
  CHECK_THAT(arq->documentation, Catch::Contains("ARQ"));
}

TEST_CASE("completion inside broken text still knows the message", "[completion]") {
  // Unclosed blocks: the tree is an ERROR; the bracket scan finds the path.
  auto items = complete_at("batch_num: 1\nretrain_data_quant_config { ulq_quantize { dst_type: INT8 ^");
  CHECK(labels(items) == std::vector<std::string>{"clip_max_min", "fixed_min"});
  // Partial word: replaces the word, keeps the context.
  const Annotated a("prune_config {\n  filter_pruner {\n    [[bal^]]\n");
  const auto partial = complete(Document(a.text), a.cursor(), amct_options());
  REQUIRE(find(partial, "balanced_l2_norm_filter_prune"));
  CHECK(find(partial, "balanced_l2_norm_filter_prune")->replace == a.range());
}

TEST_CASE("set singular fields and the other members of a set oneof are left out", "[completion]") {
  const auto top = complete_at("batch_num: 2\nskip_layers: \"a\"\n^\n");
  const auto names = labels(top);
  CHECK(std::find(names.begin(), names.end(), "batch_num") == names.end());
  CHECK(std::find(names.begin(), names.end(), "skip_layers") != names.end());  // repeated
  const auto oneof = complete_at("retrain_weight_quant_config { arq_retrain {} ^ }");
  CHECK(labels(oneof).empty());
}

TEST_CASE("scalar fields insert 'name: ' and ask for the value next", "[completion]") {
  const auto items = complete_at("retrain_weight_quant_config { arq_retrain { ^ } }");
  const CompletionItem* dst = find(items, "dst_type");
  REQUIRE(dst);
  CHECK(dst->insert_text == "dst_type: ");
  CHECK(!dst->is_snippet);
  CHECK(dst->trigger_suggest);
  CHECK(dst->detail == "optional DataType dst_type = 1 [default = INT8]");
}

TEST_CASE("values: enum values with SoC support, bools, layer types", "[completion]") {
  auto options = amct_options();
  options.soc = "Ascend910B2";
  const auto dtypes = complete_at("retrain_weight_quant_config { arq_retrain { dst_type: ^ } }", options);
  // INT4 is not runnable on Ascend910B2 (INT16 on no SoC yet): ranked last and said so.
  CHECK(labels(dtypes) == std::vector<std::string>{"INT8", "INT4", "INT16"});
  CHECK_THAT(find(dtypes, "INT16")->detail, Catch::Contains("not supported"));
  CHECK_THAT(find(dtypes, "INT4")->detail, Catch::Contains("not supported on Ascend910B2"));
  CHECK_THAT(find(dtypes, "INT4")->documentation, Catch::Contains("Ascend310P"));

  const auto bools = complete_at("retrain_weight_quant_config { arq_retrain { channel_wise: t^ } }");
  CHECK(labels(bools) == std::vector<std::string>{"false", "true"});

  const Annotated a("override_layer_types {\n  layer_type: [[\"Con^]]\n}\n");
  const auto types = complete(Document(a.text), a.cursor(), amct_options());
  REQUIRE(find(types, "\"Conv2d\""));
  CHECK(find(types, "\"Conv2d\"")->replace == a.range());
  CHECK(find(types, "\"LSTM\""));
}

TEST_CASE("header values: SoC names, message names, API modes; nothing in comments", "[completion]") {
  const auto socs = complete_at("# soc: ^\n");
  CHECK(find(socs, "Ascend310P3"));
  CHECK(find(socs, "Ascend910B2"));
  CHECK_THAT(find(socs, "Ascend310P3")->detail, Catch::Contains("INT4 yes"));
  const auto messages = complete_at("# proto-message: ^\n");
  CHECK(find(messages, "AMCTRetrainConfig"));
  const auto apis = complete_at("# amct-api: ^\n");
  CHECK(labels(apis) == std::vector<std::string>{"compressed", "prune", "quant"});
  CHECK(complete_at("# just a comm^ent\n").empty());
  CHECK(complete_at("batch_num: 1 # trailing ^\n").empty());
}

TEST_CASE("no schema: no field names, no crash; cursor anywhere in any text", "[completion]") {
  CompletionOptions none;
  CHECK(complete_at("a {\n  ^\n}\n", none).empty());
  const std::string texts[] = {"", "{", "}}}", "a: \"\xff", "# soc:", "a: [1, ", std::string(3, '\0')};
  for (const std::string& text : texts) {
    const Document document(text);
    for (uint32_t offset = 0; offset <= text.size() + 2; ++offset) (void)complete(document, offset, amct_options());
  }
}

TEST_CASE("model layers: names in layer_name and skip lists, model types first", "[completion][model]") {
  CompletionOptions options = amct_options();
  options.model_layers = {{"conv1", "Conv2d"}, {"layer1.0.conv1", "Conv2d"}, {"fc", "Linear"}, {"attn", "MyAttention"}};

  const Annotated a("override_layer_configs {\n  layer_name: [[\"lay^]]\n}\n");
  const auto names = complete(Document(a.text), a.cursor(), options);
  CHECK(labels(names) == std::vector<std::string>{"\"conv1\"", "\"layer1.0.conv1\"", "\"fc\"", "\"attn\""});
  CHECK(names[0].replace == a.range());
  CHECK(names[0].detail == "model layer · Conv2d");
  for (const char* list : {"skip_layers", "quant_skip_layers", "regular_prune_skip_layers"}) {
    INFO(list);
    CHECK(labels(complete_at(std::string(list) + ": \"^\"\n", options)).size() == 4);
  }
  // Without a model there is nothing to offer for a name.
  CHECK(complete_at("skip_layers: \"^\"\n").empty());

  const auto types = complete_at("quant_skip_types: \"^\"\n", options);
  const std::vector<std::string> ranked = labels(types);
  REQUIRE(ranked.size() > 3);
  // The model's types first (alphabetical), the rest of the table after.
  CHECK(std::vector<std::string>(ranked.begin(), ranked.begin() + 3) ==
        std::vector<std::string>{"\"Conv2d\"", "\"Linear\"", "\"MyAttention\""});
  CHECK(find(types, "\"Conv2d\"")->detail.find("in the model: 2 layers") != std::string::npos);
  CHECK(find(types, "\"MyAttention\"")->detail == "model layer type · 1 layer");
  CHECK(find(types, "\"LSTM\""));
}
