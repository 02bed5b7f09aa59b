#pragma once
// Where the cursor is, in schema terms: which message it is in, whether it is
// typing a field name, a field's value or a header's value, and the partial
// word being typed. Works on broken text: the enclosing blocks come from the
// tree around the cursor, and from a bracket scan inside ERROR regions.
#include <google/protobuf/descriptor.h>

#include <string>
#include <vector>

#include "core/syntax/diagnostic.h"
#include "core/syntax/document.h"

namespace amct::ide {

struct CursorContext {
  enum class Kind { FieldName, FieldValue, HeaderValue, Comment };
  Kind kind = Kind::FieldName;
  std::vector<std::string> path;  // enclosing fields, outermost first
  // The enclosing message type; null when there is no schema or the path
  // leaves it (unknown field, scalar field).
  const google::protobuf::Descriptor* message = nullptr;
  std::string field_name;                              // FieldValue: the field being given a value
  const google::protobuf::FieldDescriptor* field = nullptr;  // FieldValue: its descriptor, if known
  std::string header_key;        // HeaderValue: "soc", "proto-message", ...
  ByteRange word;                // the partial word around the cursor (may be empty)
  std::string prefix;            // the part of `word` before the cursor
  std::vector<std::string> set_fields;  // names already given in the enclosing message
};

CursorContext cursor_context(const syntax::Document& document, uint32_t offset,
                             const google::protobuf::Descriptor* root_type);

}  // namespace amct::ide
