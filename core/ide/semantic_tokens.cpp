#include "core/ide/semantic_tokens.h"

#include <cstring>
#include <string_view>

#include "core/syntax/walk.h"

namespace amct::ide {

namespace {

bool overlaps(ByteRange a, ByteRange b) { return a.start < b.end && b.start < a.end; }

std::optional<SemanticTokenType> classify(const syntax::Document& document, TSNode node) {
  const std::string_view type = ts_node_type(node);
  if (type == "comment") return SemanticTokenType::Comment;
  if (type == "header_key") return SemanticTokenType::Keyword;
  if (type == "header_value") return SemanticTokenType::String;
  if (type == "string") return SemanticTokenType::String;
  if (type == "integer" || type == "float") return SemanticTokenType::Number;
  if (type == "type_name" || type == "domain") return SemanticTokenType::Type;
  if (type == "identifier") {
    TSNode parent = ts_node_parent(node);
    const std::string_view parent_type = ts_node_is_null(parent) ? "" : ts_node_type(parent);
    if (parent_type == "field_name") return SemanticTokenType::Property;
    const std::string_view text = document.text_of(node);
    if (text == "true" || text == "false" || text == "True" || text == "False") return SemanticTokenType::Keyword;
    std::string lower(text);
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (lower == "inf" || lower == "infinity" || lower == "nan") return SemanticTokenType::Number;
    return SemanticTokenType::EnumMember;
  }
  return std::nullopt;
}

}  // namespace

std::vector<SemanticToken> semantic_tokens(const syntax::Document& document, std::optional<ByteRange> range) {
  std::vector<SemanticToken> tokens;
  syntax::walk(document.root(), [&](TSNode node, uint32_t) {
    const ByteRange node_range = syntax::byte_range_of(node);
    if (range && !overlaps(node_range, *range) && node_range.start != range->start) return syntax::Walk::Skip;
    if (ts_node_symbol(node) == static_cast<TSSymbol>(-1)) return syntax::Walk::Descend;
    if (auto kind = classify(document, node)) {
      // '-' of a signed value: part of the number token for editors.
      if (node_range.end > node_range.start) {
        // A string or comment never spans lines in text format; clip defensively.
        const uint32_t line = ts_node_start_point(node).row;
        const uint32_t end = std::min(node_range.end, document.line_end(line));
        if (end > node_range.start) tokens.push_back({{node_range.start, end}, *kind});
      }
      return syntax::Walk::Skip;
    }
    return syntax::Walk::Descend;
  });
  return tokens;
}

}  // namespace amct::ide
