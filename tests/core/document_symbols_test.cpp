#include "core/ide/document_symbols.h"

#include <catch2/catch.hpp>

#include "support/annotated.h"
#include "support/printers.h"

using amct::ide::document_symbols;
using amct::ide::SymbolKind;
using amct::syntax::Document;
using amct::test::Annotated;

TEST_CASE("outline: global blocks, overrides by layer name and type, skip lists", "[symbols]") {
  const Annotated a(
      "[[[[retrain_weight_quant_config]] { arq_retrain { dst_type: INT8 } }]]\n"
      "[[[[skip_layers]]: \"fc\"]]\n"
      "[[[[override_layer_configs]] { layer_name: \"layer1.0\" }]]\n"
      "override_layer_types { layer_type: \"Conv2d\" }\n");
  const Document document(a.text);
  const auto symbols = document_symbols(document);
  REQUIRE(symbols.size() == 4);
  CHECK(symbols[0].name == "retrain_weight_quant_config");
  CHECK(symbols[0].kind == SymbolKind::Struct);
  CHECK(symbols[0].range == a.ranges[0]);
  CHECK(symbols[0].selection_range == a.ranges[1]);
  REQUIRE(symbols[0].children.size() == 1);
  CHECK(symbols[0].children[0].name == "arq_retrain");
  REQUIRE(symbols[0].children[0].children.size() == 1);
  CHECK(symbols[0].children[0].children[0].detail == "INT8");
  CHECK(symbols[1].name == "skip_layers");
  CHECK(symbols[1].detail == "\"fc\"");
  CHECK(symbols[1].range == a.ranges[2]);
  CHECK(symbols[2].name == "layer1.0");
  CHECK(symbols[2].detail == "override_layer_configs");
  CHECK(symbols[2].selection_range == a.ranges[5]);
  CHECK(symbols[3].name == "Conv2d");
  CHECK(symbols[3].detail == "override_layer_types");
}

TEST_CASE("outline of broken and deeply nested text", "[symbols]") {
  const Document broken("a: 1\nb { c: 2\n");
  const auto symbols = document_symbols(broken);
  REQUIRE(symbols.size() == 2);
  CHECK(symbols[1].children.size() == 1);

  std::string deep;
  for (int i = 0; i < 10000; ++i) deep += "a {";
  for (int i = 0; i < 10000; ++i) deep += "}";
  const auto nested = document_symbols(Document(deep));
  REQUIRE(nested.size() == 1);
  int depth = 1;
  for (const auto* s = &nested[0]; !s->children.empty(); s = &s->children[0]) ++depth;
  CHECK(depth == static_cast<int>(amct::ide::kMaxSymbolDepth));
}
