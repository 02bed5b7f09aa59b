#pragma once
#include <optional>
#include <vector>

#include "core/syntax/diagnostic.h"
#include "core/syntax/document.h"

namespace amct::ide {

// The order is the legend the server advertises.
enum class SemanticTokenType { Property, EnumMember, Number, String, Comment, Keyword, Type, Operator };
inline constexpr const char* kSemanticTokenLegend[] = {"property", "enumMember", "number", "string",
                                                      "comment",  "keyword",    "type",   "operator"};

struct SemanticToken {
  ByteRange range;  // never spans lines
  SemanticTokenType type;
};

// In document order; only tokens overlapping `range` when given.
std::vector<SemanticToken> semantic_tokens(const syntax::Document& document,
                                           std::optional<ByteRange> range = std::nullopt);

}  // namespace amct::ide
