#pragma once
// The bound model: every field occurrence of a text-format document tied to
// its descriptor, its parsed value(s) and its source ranges. Produced by
// bind() (core/model/binder.h); consumed by core/amct and core/ide.
//
// Unknown fields, bad values and broken syntax keep what could be bound:
// descriptor or value may be missing, ranges are always set.
#include <google/protobuf/descriptor.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/syntax/diagnostic.h"

namespace amct::model {

struct ScalarValue {
  enum class Kind { Invalid, Bool, Int, UInt, Float, String, Enum };
  // (Members ordered so that no padding is wasted: --check binds ~500,000 of these.)
  Kind kind = Kind::Invalid;
  ByteRange range;   // the value as written (including '-' and adjacent strings)
  bool bool_value = false;
  std::string text;  // source text of the value
  int64_t int_value = 0;
  uint64_t uint_value = 0;
  double float_value = 0;
  std::string string_value;  // decoded bytes of a string value
  const google::protobuf::EnumValueDescriptor* enum_value = nullptr;
};

struct Field;

struct Message {
  const google::protobuf::Descriptor* descriptor = nullptr;  // null if unknown
  ByteRange range;       // from the opening bracket to the closing one (root: whole text)
  ByteRange open_range;  // the opening bracket (root: empty range at 0)
  std::vector<Field> fields;  // in source order, every occurrence

  // The last occurrence of a field (what protobuf keeps), or null.
  const Field* find(std::string_view name) const;
  std::vector<const Field*> find_all(std::string_view name) const;
};

struct Field {
  const google::protobuf::FieldDescriptor* descriptor = nullptr;  // null if unknown
  std::string name;  // as written (for extensions: "[pkg.ext]")
  ByteRange name_range;
  ByteRange range;  // the whole field, name to value (and separator)
  bool has_colon = false;
  bool reserved = false;  // a reserved name: libprotobuf skips its value (next to has_colon: no padding)
  std::vector<ScalarValue> scalars;  // scalar values; lists flattened
  std::vector<Message> messages;     // message values; lists flattened
  // `[type.googleapis.com/pkg.Msg] { ... }` inside a google.protobuf.Any: the
  // expanded type (descriptor stays null; messages[0] has this descriptor).
  const google::protobuf::Descriptor* any_type = nullptr;
};

}  // namespace amct::model
