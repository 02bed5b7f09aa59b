#include "core/ide/hover.h"

#include <catch2/catch.hpp>

#include "core/schema/schema.h"
#include "support/annotated.h"
#include "support/printers.h"

using amct::ide::DocsLanguage;
using amct::ide::hover;
using amct::ide::HoverOptions;
using amct::syntax::Document;
using amct::test::Annotated;

namespace {

HoverOptions amct_options(DocsLanguage language = DocsLanguage::English) {
  HoverOptions options;
  options.root_type = amct::schema::amct_schema().root;
  options.language = language;
  return options;
}

}  // namespace

TEST_CASE("hover on a field: signature, table doc, precedence", "[hover]") {
  const Annotated a("retrain_weight_quant_config { arq_retrain { [[dst_t^ype]]: INT8 } }");
  const auto result = hover(Document(a.text), a.cursor(), amct_options());
  REQUIRE(result);
  CHECK(result->range == a.range());
  CHECK_THAT(result->markdown, Catch::Contains("optional DataType dst_type = 1 [default = INT8]"));
  CHECK_THAT(result->markdown, Catch::Contains("ARQRetrain"));

  const Annotated b("[[prune_conf^ig]] { }");
  const auto prune = hover(Document(b.text), b.cursor(), amct_options());
  REQUIRE(prune);
  CHECK_THAT(prune->markdown, Catch::Contains("Precedence: override_layer_configs > override_layer_types > global prune_config"));
  CHECK_THAT(prune->markdown, Catch::Contains("prune_config = 8"));
}

TEST_CASE("hover language follows the setting", "[hover]") {
  const Annotated a("[[batch_n^um]]: 1");
  const auto zh = hover(Document(a.text), a.cursor(), amct_options(DocsLanguage::Chinese));
  const auto en = hover(Document(a.text), a.cursor(), amct_options(DocsLanguage::English));
  REQUIRE(zh);
  REQUIRE(en);
  CHECK(zh->markdown != en->markdown);
  CHECK_THAT(zh->markdown, Catch::Contains("batch"));
}

TEST_CASE("hover on an enum value: meaning and SoC support", "[hover]") {
  const Annotated a("retrain_weight_quant_config { arq_retrain { dst_type: [[IN^T4]] } }");
  const auto result = hover(Document(a.text), a.cursor(), amct_options());
  REQUIRE(result);
  CHECK(result->range == a.range());
  CHECK_THAT(result->markdown, Catch::Contains("DataType = 0"));
  CHECK_THAT(result->markdown, Catch::Contains("4-bit quantization."));
  // Support comes from the SoC table alone, so it is said once.
  const std::string& text = result->markdown;
  const auto first = text.find("Ascend310P");
  REQUIRE(first != std::string::npos);
  CHECK(text.find("Ascend310P", first + 1) == std::string::npos);
  const Annotated oneof("retrain_weight_quant_config { [[ulq_ret^rain]] { } }");
  const auto member = hover(Document(oneof.text), oneof.cursor(), amct_options());
  REQUIRE(member);
  CHECK_THAT(member->markdown, Catch::Contains("(oneof"));
}

TEST_CASE("no hover on unknown names, punctuation, without schema, or in broken text", "[hover]") {
  CHECK(!hover(Document("nonsense: 1"), 2, amct_options()));
  CHECK(!hover(Document("batch_num: 1"), 10, amct_options()));
  CHECK(!hover(Document("batch_num: 1"), 2, HoverOptions{}));
  const auto broken = hover(Document("retrain_data_quant_config { ulq_quantize { dst_type"), 45, amct_options());
  REQUIRE(broken);
  CHECK_THAT(broken->markdown, Catch::Contains("dst_type = 3"));
}
