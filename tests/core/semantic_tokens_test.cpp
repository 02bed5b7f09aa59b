#include "core/ide/semantic_tokens.h"

#include <catch2/catch.hpp>

#include "support/annotated.h"
#include "support/printers.h"

using amct::ide::semantic_tokens;
using amct::ide::SemanticTokenType;
using amct::syntax::Document;
using amct::test::Annotated;

TEST_CASE("semantic tokens classify every kind of token", "[semantic-tokens]") {
  const Annotated a(
      "[[# soc:]] [[Ascend310P3]]\n"
      "[[# note]]\n"
      "[[a]] { [[b]]: [[INT8]] [[c]]: [[-1.5]] [[d]]: [[\"s\"]] [[e]]: [[true]] [[f]]: -[[inf]] }\n"
      "[[[ext.[[g]]]]]: 0x1\n");
  const Document document(a.text);
  const auto tokens = semantic_tokens(document);
  using T = SemanticTokenType;
  const std::vector<T> expected = {T::Keyword, T::String,   T::Comment, T::Property, T::Property, T::EnumMember,
                                   T::Property, T::Number,  T::Property, T::String,  T::Property, T::Keyword,
                                   T::Property, T::Number};
  REQUIRE(tokens.size() >= expected.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    INFO("token " << i);
    CHECK(tokens[i].range == a.ranges[i]);
    CHECK(tokens[i].type == expected[i]);
  }
}

TEST_CASE("semantic tokens for a range only cover that range", "[semantic-tokens]") {
  const Document document("a: 1\nb: 2\nc: 3\n");
  const auto tokens = semantic_tokens(document, amct::ByteRange{5, 9});
  REQUIRE(tokens.size() == 2);
  CHECK(tokens[0].range == amct::ByteRange{5, 6});
  CHECK(tokens[1].range == amct::ByteRange{8, 9});
}
