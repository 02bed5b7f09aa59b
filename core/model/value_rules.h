#pragma once
// The schema rules of the binder that do not depend on how the text was
// parsed: scalar values against their field type, unknown-field hints,
// overwrites (duplicate-field, oneof-conflict) and required fields. Shared by
// the tree-sitter binder (binder.cpp) and the single-pass binder of --check
// (fast_binder.cpp), so both give the same verdicts and the same messages.
#include <google/protobuf/descriptor.h>

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "core/model/bound.h"
#include "core/syntax/diagnostic.h"

namespace amct::model::rules {

// One scalar value as the grammar sees it.
struct ScalarSyntax {
  enum class Kind { String, Integer, Float, Identifier, SignedIdentifier, Other };
  Kind kind = Kind::Other;
  ByteRange range;        // the value as written (including '-' and adjacent strings)
  std::string_view text;  // source text of `range`
  bool negative = false;     // Integer / Float: a '-' before the number
  std::string_view literal;  // Integer / Float: the number token after the '-'
  std::string_view word;     // SignedIdentifier: the identifier after the '-'
};

// Appends the decoded bytes of a String value to `out`; returns false (and,
// when `report_errors`, reports) when an escape is invalid.
using StringDecoder = std::function<bool(std::string& out, bool report_errors)>;

std::string quoted(std::string_view text);
std::string type_label(const google::protobuf::FieldDescriptor* field);
bool is_any(const google::protobuf::Descriptor* descriptor);

// TextFormat's name lookup: the exact field name; a group by its type name.
const google::protobuf::FieldDescriptor* find_field(const google::protobuf::Descriptor* descriptor,
                                                    const std::string& name);

// The unknown-field message for `name` in `descriptor`, with a did-you-mean
// or a "belongs elsewhere" hint.
std::string unknown_field_message(const google::protobuf::Descriptor* descriptor, const std::string& name);

// A value of a typed scalar field; errors go to `diagnostics` when `report_errors`.
ScalarValue typed_scalar(const google::protobuf::FieldDescriptor* field, const ScalarSyntax& syntax,
                         bool report_errors, const StringDecoder& decode, std::vector<Diagnostic>& diagnostics);

// A value without a schema: kinds by syntax only.
ScalarValue untyped_scalar(const ScalarSyntax& syntax, const StringDecoder& decode);

// The same two into `scalar` (default-constructed: in place in its vector,
// no move of a 112-byte value per scalar of a big config).
void typed_scalar_into(ScalarValue& scalar, const google::protobuf::FieldDescriptor* field, const ScalarSyntax& syntax,
                       bool report_errors, const StringDecoder& decode, std::vector<Diagnostic>& diagnostics);
void untyped_scalar_into(ScalarValue& scalar, const ScalarSyntax& syntax, const StringDecoder& decode);

// duplicate-field / oneof-conflict warnings of one typed message.
void check_overwrites(const Message& message, std::vector<Diagnostic>& diagnostics);

// missing-required over the whole bound tree; `broken(message)` is true for a
// block with syntax errors inside (its content is partial: not judged).
void check_required(const Message& root, const std::function<bool(const Message*)>& broken,
                    std::vector<Diagnostic>& diagnostics);
// The same from given groups (each a run of blocks of one message judged
// together), for a binder that judges parts of a document separately: the
// incremental binder judges repeated and Any blocks of each top-level field
// alone, then the root with only its merged singular blocks.
enum class RootChildren { All, SingularOnly };
struct RequiredScope {
  const Message* root = nullptr;  // the document root ("the document is missing ..."), if in the groups
  RootChildren root_children = RootChildren::All;  // which child groups of the root are descended into
};
void check_required_groups(const std::vector<std::vector<const Message*>>& groups, const RequiredScope& scope,
                           const std::function<bool(const Message*)>& broken, std::vector<Diagnostic>& diagnostics);
// check_required_groups with each of `blocks` a group of its own and no
// root, in that order: for a binder that judges the elements of repeated
// top-level fields while they are fresh in the cache (and on the thread that
// bound them), then the root with RootChildren::SingularOnly.
void check_required_blocks(const std::vector<const Message*>& blocks, const std::function<bool(const Message*)>& broken,
                           std::vector<Diagnostic>& diagnostics);

}  // namespace amct::model::rules
