#include "core/ide/definition.h"

#include <catch2/catch.hpp>

#include <sstream>

#include "core/schema/schema.h"
#include "support/annotated.h"

using amct::ide::definition;
using amct::syntax::Document;
using amct::test::Annotated;

namespace {

// The text of a 0-based line of the built-in proto.
std::string proto_line(uint32_t line) {
  std::istringstream in{std::string(amct::schema::amct_proto_text())};
  std::string text;
  for (uint32_t i = 0; i <= line && std::getline(in, text); ++i) {}
  return text;
}

}  // namespace

TEST_CASE("definition of a field name and of an enum value in the built-in proto", "[definition]") {
  const auto* root = amct::schema::amct_schema().root;
  const Annotated field("retrain_weight_quant_config { arq_retrain { dst_t^ype: INT8 } }");
  const auto target = definition(Document(field.text), field.cursor(), root);
  REQUIRE(target);
  CHECK(target->proto_file == "retrain_config.proto");
  CHECK_THAT(proto_line(target->line), Catch::Contains("dst_type = 1"));

  const Annotated value("retrain_weight_quant_config { arq_retrain { dst_type: IN^T4 } }");
  const auto enum_target = definition(Document(value.text), value.cursor(), root);
  REQUIRE(enum_target);
  CHECK_THAT(proto_line(enum_target->line), Catch::Contains("INT4 = 0"));
}

TEST_CASE("no definition for unknown names, strings, or without schema", "[definition]") {
  const auto* root = amct::schema::amct_schema().root;
  CHECK(!definition(Document("nonsense: 1"), 2, root));
  CHECK(!definition(Document("skip_layers: \"fc\""), 15, root));
  CHECK(!definition(Document("batch_num: 1"), 2, nullptr));
}
