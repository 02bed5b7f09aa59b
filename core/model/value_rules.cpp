#include "core/model/value_rules.h"

#include <google/protobuf/io/tokenizer.h>

#include <algorithm>
#include <array>
#include <cfloat>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <limits>
#include <unordered_map>
#include <utility>

#include "core/text_util.h"

// Verdicts follow libprotobuf 3.21's TextFormat::Parser (text_format.cc,
// io/tokenizer.cc); see binder.cpp.

namespace amct::model::rules {

namespace pb = google::protobuf;
using pb::FieldDescriptor;

namespace {

// Whether protobuf's tokenizer could have produced `literal` as a float
// (digits, '.', exponent, 'f'): Tokenizer::ParseFloat aborts the process on
// anything else (a libprotobuf FATAL). Fuzz finding: after an incremental
// edit the tree can hold a float token such as ".5.5".
bool is_tokenizer_float(std::string_view literal) {
  size_t i = 0, digits = 0;
  auto skip_digits = [&] {
    while (i < literal.size() && literal[i] >= '0' && literal[i] <= '9') ++i, ++digits;
  };
  skip_digits();
  if (i < literal.size() && literal[i] == '.') ++i, skip_digits();
  if (digits == 0) return false;
  if (i < literal.size() && (literal[i] == 'e' || literal[i] == 'E')) {
    ++i;
    if (i < literal.size() && (literal[i] == '+' || literal[i] == '-')) ++i;
    const size_t exponent_start = i;
    while (i < literal.size() && literal[i] >= '0' && literal[i] <= '9') ++i;
    if (i == exponent_start) return false;
  }
  if (i < literal.size() && (literal[i] == 'f' || literal[i] == 'F')) ++i;
  return i == literal.size();
}

// Tokenizer::ParseFloat of a literal is_tokenizer_float() accepts, through
// std::from_chars where it reads the whole literal (both round correctly:
// the same double, at a fraction of strtod's cost; a 100,000-override
// config has 200,000 floats). A trailing 'f', and values out of range
// (where from_chars gives no value), go to ParseFloat.
double parse_tokenizer_float(std::string_view literal) {
  double value = 0;
  const char* end = literal.data() + literal.size();
  const auto [stop, error] = std::from_chars(literal.data(), end, value);
  if (error == std::errc() && stop == end) return value;
  return pb::io::Tokenizer::ParseFloat(std::string(literal));
}

// EnumDescriptor::FindValueByName, with a scan of the few values of a small
// enum first (names are unique in an enum; cheaper than the pool's hash
// lookup, once per enum value of a config).
const pb::EnumValueDescriptor* find_enum_value(const pb::EnumDescriptor* type, std::string_view name) {
  if (type->value_count() <= 16) {
    for (int i = 0; i < type->value_count(); ++i) {
      const pb::EnumValueDescriptor* value = type->value(i);
      if (value->name() == name) return value;
    }
    return nullptr;
  }
  return type->FindValueByName(std::string(name));
}

constexpr char kAnyFullName[] = "google.protobuf.Any";

void report(std::vector<Diagnostic>& diagnostics, Severity severity, ByteRange range, const char* code,
            std::string message, std::vector<RelatedInformation> related = {}) {
  diagnostics.push_back({range, severity, code, std::move(message), std::move(related)});
}

// The candidate a typo most likely meant, or "" when none is close enough.
std::string closest_name(std::string_view name, const std::vector<std::string>& candidates) {
  const size_t limit = std::max<size_t>(1, std::min<size_t>(3, name.size() / 3));
  std::string best;
  size_t best_distance = limit + 1;
  for (const std::string& candidate : candidates) {
    const size_t distance = edit_distance_ignoring_case(name, candidate);
    if (distance < best_distance) {
      best_distance = distance;
      best = candidate;
    }
  }
  return best;
}

std::string did_you_mean(std::string_view name, const std::vector<std::string>& candidates) {
  const std::string best = closest_name(name, candidates);
  return best.empty() ? "" : "; did you mean " + quoted(best) + "?";
}

// The number token of an Integer/Float value, after the optional '-'.
struct NumberText {
  bool negative = false;
  std::string literal;
};
NumberText number_text(const ScalarSyntax& syntax) { return {syntax.negative, std::string(syntax.literal)}; }

// A map for the few keys of one message, and for the many of a root with
// 100,000 fields: a linear scan while small (no allocation), then a hash map.
template <typename Key, typename Value>
class SmallMap {
 public:
  // The value of `key` (inserted as `value` if absent) and whether it was inserted.
  std::pair<Value*, bool> emplace(Key key, Value value) {
    if (map_.empty()) {
      for (size_t i = 0; i < size_; ++i) {
        if (items_[i].key == key) return {&items_[i].value, false};
      }
      if (size_ < kInline) {
        items_[size_] = {key, value};
        return {&items_[size_++].value, true};
      }
      for (const Item& item : items_) map_.emplace(item.key, item.value);
    }
    auto [it, inserted] = map_.emplace(key, value);
    return {&it->second, inserted};
  }

  // The value of `key`, or null.
  Value* find(Key key) {
    if (map_.empty()) {
      for (size_t i = 0; i < size_; ++i) {
        if (items_[i].key == key) return &items_[i].value;
      }
      return nullptr;
    }
    auto it = map_.find(key);
    return it == map_.end() ? nullptr : &it->second;
  }

 private:
  // Left uninitialised (only [0, size_) is read): this runs once or twice
  // per block, a million times on a big config.
  struct Item {
    Key key;
    Value value;
  };
  static constexpr size_t kInline = 16;
  Item items_[kInline];
  size_t size_ = 0;
  std::unordered_map<Key, Value> map_;
};

}  // namespace

std::string quoted(std::string_view text) {
  // Appended, not "'" + std::string(text) + "'": GCC 12 warns (-Wrestrict,
  // a false positive) on that once this file's string appends inline.
  std::string out;
  out.reserve(text.size() + 2);
  out += '\'';
  out += text;
  out += '\'';
  return out;
}

std::string type_label(const FieldDescriptor* field) {
  switch (field->type()) {
    case FieldDescriptor::TYPE_MESSAGE:
    case FieldDescriptor::TYPE_GROUP: return "a message (" + field->message_type()->name() + ")";
    case FieldDescriptor::TYPE_ENUM: return "an enum (" + field->enum_type()->name() + ")";
    default: return std::string(field->type_name());
  }
}

bool is_any(const pb::Descriptor* descriptor) {
  return descriptor != nullptr && descriptor->full_name() == kAnyFullName;
}

// "; it is a field of ActULQquantize: write it as
//  retrain_data_quant_config { ulq_quantize { dst_type: ... } }"
// when a message reachable from `descriptor` has a field of that name: the
// usual slip of writing a nested setting one level too high.
static std::string belongs_elsewhere(const pb::Descriptor* descriptor, const std::string& name) {
  struct Step {
    const pb::Descriptor* type;
    std::string path;  // field names from `descriptor`, "a { b"
  };
  std::vector<Step> queue{{descriptor, ""}};
  std::vector<const pb::Descriptor*> seen{descriptor};
  for (size_t next = 0; next < queue.size() && next < 64; ++next) {
    const Step step = queue[next];
    for (int i = 0; i < step.type->field_count(); ++i) {
      const FieldDescriptor* field = step.type->field(i);
      if (field->message_type() == nullptr || field->is_map()) continue;
      const pb::Descriptor* child = field->message_type();
      const std::string path = step.path.empty() ? field->name() : step.path + " { " + field->name();
      if (child->FindFieldByName(name) != nullptr) {
        const size_t depth = static_cast<size_t>(std::count(path.begin(), path.end(), '{')) + 1;
        std::string where = path + " { " + name + ": ... ";
        for (size_t level = 0; level < depth; ++level) where += "} ";
        where.pop_back();
        return "; it is a field of " + child->name() + ": write it as " + where;
      }
      if (std::find(seen.begin(), seen.end(), child) == seen.end()) {
        seen.push_back(child);
        queue.push_back({child, path});
      }
    }
  }
  return "";
}

// TextFormat's name lookup: the exact field name; a group by its type name.
const FieldDescriptor* find_field(const pb::Descriptor* descriptor, const std::string& name) {
  const FieldDescriptor* field = descriptor->FindFieldByName(name);
  if (field == nullptr) {
    field = descriptor->FindFieldByName(lowercase(name));
    if (field != nullptr && field->type() != FieldDescriptor::TYPE_GROUP) field = nullptr;
  }
  if (field != nullptr && field->type() == FieldDescriptor::TYPE_GROUP && field->message_type()->name() != name) {
    field = nullptr;
  }
  return field;
}

std::string unknown_field_message(const pb::Descriptor* descriptor, const std::string& name) {
  std::vector<std::string> names;
  for (int i = 0; i < descriptor->field_count(); ++i) {
    const FieldDescriptor* candidate = descriptor->field(i);
    names.push_back(candidate->type() == FieldDescriptor::TYPE_GROUP ? candidate->message_type()->name()
                                                                     : candidate->name());
  }
  std::string hint = did_you_mean(name, names);
  if (hint.empty()) hint = belongs_elsewhere(descriptor, name);
  return "unknown field " + quoted(name) + " in " + descriptor->name() + hint;
}

void untyped_scalar_into(ScalarValue& scalar, const ScalarSyntax& syntax, const StringDecoder& decode) {
  using Kind = ScalarSyntax::Kind;
  scalar.range = syntax.range;
  scalar.text.append(syntax.text);  // (empty: append is the shortest path)
  if (syntax.kind == Kind::String) {
    scalar.kind = ScalarValue::Kind::String;
    decode(scalar.string_value, false);
  } else if (syntax.kind == Kind::Integer) {
    const NumberText number = number_text(syntax);
    uint64_t magnitude = 0;
    if (pb::io::Tokenizer::ParseInteger(number.literal, std::numeric_limits<uint64_t>::max(), &magnitude)) {
      if (!number.negative && magnitude > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
        scalar.kind = ScalarValue::Kind::UInt;
        scalar.uint_value = magnitude;
      } else if (!number.negative || magnitude <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) + 1) {
        scalar.kind = ScalarValue::Kind::Int;
        scalar.int_value = number.negative ? static_cast<int64_t>(0 - magnitude) : static_cast<int64_t>(magnitude);
        scalar.uint_value = magnitude;
      }
    }
  } else if (syntax.kind == Kind::Float && is_tokenizer_float(number_text(syntax).literal)) {
    const NumberText number = number_text(syntax);
    scalar.kind = ScalarValue::Kind::Float;
    scalar.float_value = parse_tokenizer_float(number.literal) * (number.negative ? -1 : 1);
  } else if (syntax.kind == Kind::Identifier) {
    if (scalar.text == "true" || scalar.text == "false") {
      scalar.kind = ScalarValue::Kind::Bool;
      scalar.bool_value = scalar.text == "true";
    }
  }
}

ScalarValue untyped_scalar(const ScalarSyntax& syntax, const StringDecoder& decode) {
  ScalarValue scalar;
  untyped_scalar_into(scalar, syntax, decode);
  return scalar;
}

void typed_scalar_into(ScalarValue& scalar, const FieldDescriptor* field, const ScalarSyntax& syntax,
                       bool report_errors, const StringDecoder& decode, std::vector<Diagnostic>& diagnostics) {
  using Kind = ScalarSyntax::Kind;
  scalar.range = syntax.range;
  scalar.text.append(syntax.text);  // (empty: append is the shortest path)
  // Messages are built only on failure: most values are fine.
  auto name = [&] { return quoted(field->name()); };
  auto fail = [&](const char* code, std::string message) {
    if (report_errors) report(diagnostics, Severity::Error, scalar.range, code, std::move(message));
  };
  const bool is_string = syntax.kind == Kind::String;
  const bool is_integer = syntax.kind == Kind::Integer;
  const bool is_float = syntax.kind == Kind::Float;
  const bool is_identifier = syntax.kind == Kind::Identifier;
  const bool is_signed_identifier = syntax.kind == Kind::SignedIdentifier;
  if (!is_string && !is_integer && !is_float && !is_identifier && !is_signed_identifier) return;

  switch (field->cpp_type()) {
    case FieldDescriptor::CPPTYPE_INT32:
    case FieldDescriptor::CPPTYPE_INT64:
    case FieldDescriptor::CPPTYPE_UINT32:
    case FieldDescriptor::CPPTYPE_UINT64: {
      const bool is_signed = field->cpp_type() == FieldDescriptor::CPPTYPE_INT32 ||
                             field->cpp_type() == FieldDescriptor::CPPTYPE_INT64;
      const bool is_32 = field->cpp_type() == FieldDescriptor::CPPTYPE_INT32 ||
                         field->cpp_type() == FieldDescriptor::CPPTYPE_UINT32;
      if (!is_integer) {
        return fail("type-mismatch", "field " + name() + " is " + type_label(field) + ": expected an integer, got " +
                                         quoted(scalar.text));
      }
      const NumberText number = number_text(syntax);
      auto out_of_range = [&] {
        const std::string range_text = is_signed ? (is_32 ? "-2147483648 to 2147483647"
                                                        : "-9223372036854775808 to 9223372036854775807")
                                               : (is_32 ? "0 to 4294967295" : "0 to 18446744073709551615");
        return scalar.text + " is out of range for " + name() + " (" + std::string(field->type_name()) + ": " +
               range_text + ")";
      };
      if (!is_signed && number.negative) return fail("out-of-range", out_of_range());
      uint64_t max = is_signed ? (is_32 ? uint64_t{INT32_MAX} : uint64_t{INT64_MAX})
                               : (is_32 ? uint64_t{UINT32_MAX} : UINT64_MAX);
      if (number.negative) ++max;  // two's complement: one more negative value
      uint64_t magnitude = 0;
      if (!pb::io::Tokenizer::ParseInteger(number.literal, max, &magnitude)) return fail("out-of-range", out_of_range());
      if (is_signed) {
        scalar.kind = ScalarValue::Kind::Int;
        scalar.int_value = number.negative ? static_cast<int64_t>(0 - magnitude) : static_cast<int64_t>(magnitude);
      } else {
        scalar.kind = ScalarValue::Kind::UInt;
        scalar.uint_value = magnitude;
      }
      return;
    }
    case FieldDescriptor::CPPTYPE_FLOAT:
    case FieldDescriptor::CPPTYPE_DOUBLE: {
      double value = 0;
      bool negative = false;
      if (is_integer || is_float) {
        const NumberText number = number_text(syntax);
        negative = number.negative;
        const std::string& literal = number.literal;
        if (is_integer) {
          // ConsumeUnsignedDecimalAsDouble: hex and octal are not decimal.
          if (literal.size() >= 2 && literal[0] == '0' &&
              (literal[1] == 'x' || literal[1] == 'X' || (literal[1] >= '0' && literal[1] < '8'))) {
            return fail("type-mismatch", "field " + name() + " is " + type_label(field) +
                                             ": hex and octal numbers are not allowed, write a decimal number");
          }
          uint64_t integer = 0;
          if (pb::io::Tokenizer::ParseInteger(literal, UINT64_MAX, &integer)) {
            value = static_cast<double>(integer);
          } else if (is_tokenizer_float(literal)) {
            value = parse_tokenizer_float(literal);
          } else {
            return fail("type-mismatch", "field " + name() + " is " + type_label(field) + ": '" + literal +
                                             "' is not a number");
          }
        } else if (is_tokenizer_float(literal)) {
          value = parse_tokenizer_float(literal);
        } else {
          return fail("type-mismatch", "field " + name() + " is " + type_label(field) + ": '" + literal +
                                           "' is not a number");
        }
      } else if (is_identifier || is_signed_identifier) {
        negative = is_signed_identifier;
        const std::string word =
            lowercase(is_signed_identifier ? syntax.word : std::string_view(scalar.text));
        if (word == "inf" || word == "infinity") {
          value = std::numeric_limits<double>::infinity();
        } else if (word == "nan") {
          value = std::numeric_limits<double>::quiet_NaN();
        } else {
          return fail("type-mismatch", "field " + name() + " is " + type_label(field) + ": expected a number, got " +
                                           quoted(scalar.text));
        }
      } else {
        return fail("type-mismatch", "field " + name() + " is " + type_label(field) + ": expected a number, got a string");
      }
      if (negative) value = -value;
      scalar.kind = ScalarValue::Kind::Float;
      scalar.float_value = value;
      if (field->cpp_type() == FieldDescriptor::CPPTYPE_FLOAT && std::isfinite(value) &&
          std::fabs(value) > FLT_MAX && report_errors) {
        report(diagnostics, Severity::Warning, scalar.range, "out-of-range",
               scalar.text + " is beyond the range of float (about 3.4e38): " + name() + " becomes " +
                   (value > 0 ? "inf" : "-inf"));
      }
      if (field->cpp_type() == FieldDescriptor::CPPTYPE_FLOAT) {
        scalar.float_value = value > FLT_MAX ? std::numeric_limits<double>::infinity()
                             : value < -FLT_MAX ? -std::numeric_limits<double>::infinity()
                                                : static_cast<double>(static_cast<float>(value));
      }
      return;
    }
    case FieldDescriptor::CPPTYPE_BOOL: {
      auto invalid = [&] {
        return "invalid value " + quoted(scalar.text) + " for boolean field " + name() +
               ": use true, false, True, False, t, f, 1 or 0";
      };
      if (is_integer) {
        const NumberText number = number_text(syntax);
        uint64_t value = 0;
        if (number.negative || !pb::io::Tokenizer::ParseInteger(number.literal, 1, &value)) {
          return fail("invalid-bool", invalid());
        }
        scalar.kind = ScalarValue::Kind::Bool;
        scalar.bool_value = value != 0;
        return;
      }
      if (is_identifier) {
        if (scalar.text == "true" || scalar.text == "True" || scalar.text == "t") {
          scalar.kind = ScalarValue::Kind::Bool;
          scalar.bool_value = true;
          return;
        }
        if (scalar.text == "false" || scalar.text == "False" || scalar.text == "f") {
          scalar.kind = ScalarValue::Kind::Bool;
          scalar.bool_value = false;
          return;
        }
      }
      if (is_string) return fail("type-mismatch", "field " + name() + " is bool, not a string: " + invalid());
      return fail("invalid-bool", invalid());
    }
    case FieldDescriptor::CPPTYPE_STRING: {
      if (!is_string) {
        return fail("type-mismatch", "field " + name() + " is " + type_label(field) + ": expected a quoted string, got " +
                                         quoted(scalar.text));
      }
      if (!decode(scalar.string_value, report_errors)) return;
      scalar.kind = ScalarValue::Kind::String;
      return;
    }
    case FieldDescriptor::CPPTYPE_ENUM: {
      const pb::EnumDescriptor* type = field->enum_type();
      auto names = [type] {
        std::vector<std::string> all;
        for (int i = 0; i < type->value_count(); ++i) all.push_back(type->value(i)->name());
        return all;
      };
      if (is_identifier) {
        scalar.enum_value = find_enum_value(type, scalar.text);
        if (scalar.enum_value == nullptr) {
          return fail("invalid-enum-value", quoted(scalar.text) + " is not a value of enum " + type->name() +
                                                " (field " + name() + ")" + did_you_mean(scalar.text, names()));
        }
        scalar.kind = ScalarValue::Kind::Enum;
        scalar.int_value = scalar.enum_value->number();
        return;
      }
      if (is_integer) {
        const NumberText number = number_text(syntax);
        uint64_t magnitude = 0;
        if (!pb::io::Tokenizer::ParseInteger(number.literal, uint64_t{INT32_MAX} + (number.negative ? 1 : 0),
                                              &magnitude)) {
          return fail("out-of-range", scalar.text + " is out of range for enum field " + name() + " (int32)");
        }
        const int64_t number_value =
            number.negative ? -static_cast<int64_t>(magnitude) : static_cast<int64_t>(magnitude);
        scalar.enum_value = type->FindValueByNumber(static_cast<int>(number_value));
        // Reflection::SupportsUnknownEnumValues: proto3 messages keep unknown numbers.
        const bool open = field->containing_type() != nullptr &&
                          field->containing_type()->file()->syntax() == pb::FileDescriptor::SYNTAX_PROTO3;
        if (scalar.enum_value == nullptr && !open) {
          return fail("invalid-enum-value", std::to_string(number_value) + " is not a value of enum " + type->name() +
                                                " (field " + name() + ")");
        }
        scalar.kind = ScalarValue::Kind::Enum;
        scalar.int_value = number_value;
        return;
      }
      if (is_signed_identifier) {
        return fail("invalid-enum-value", quoted(scalar.text) + " is not a value of enum " + type->name() +
                                              ": names take no '-'");
      }
      return fail("type-mismatch", "field " + name() + " is " + type_label(field) + ": expected a value name, got " +
                                       quoted(scalar.text));
    }
    case FieldDescriptor::CPPTYPE_MESSAGE: break;
  }
}

ScalarValue typed_scalar(const FieldDescriptor* field, const ScalarSyntax& syntax, bool report_errors,
                         const StringDecoder& decode, std::vector<Diagnostic>& diagnostics) {
  ScalarValue scalar;
  typed_scalar_into(scalar, field, syntax, report_errors, decode, diagnostics);
  return scalar;
}

// Singular fields given twice, and two members of one oneof. libprotobuf's
// ParseFromString rejects both; AMCT's Python Merge keeps the last value.
void check_overwrites(const Message& message, std::vector<Diagnostic>& diagnostics) {
  const pb::Descriptor* descriptor = message.descriptor;
  const bool any = is_any(descriptor);
  const FieldDescriptor* any_url = any ? descriptor->FindFieldByNumber(1) : nullptr;
  const FieldDescriptor* any_value = any ? descriptor->FindFieldByNumber(2) : nullptr;
  SmallMap<const FieldDescriptor*, const Field*> first_set;
  SmallMap<const pb::OneofDescriptor*, const Field*> oneof_member;
  for (const Field& field : message.fields) {
    std::array<const FieldDescriptor*, 2> sets{nullptr, nullptr};
    if (field.any_type != nullptr) {
      sets = {any_url, any_value};
    } else if (field.descriptor != nullptr && !field.descriptor->is_repeated()) {
      sets[0] = field.descriptor;
    }
    bool warned = false;
    for (const FieldDescriptor* set : sets) {
      if (set == nullptr) continue;
      auto [first, inserted] = first_set.emplace(set, &field);
      if (!inserted && !warned) {
        warned = true;
        const bool is_message = set->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE && field.any_type == nullptr;
        report(diagnostics, Severity::Warning, field.name_range, "duplicate-field",
               "field " + quoted(field.any_type ? "Any value" : field.name) +
                   " is set more than once: protobuf's C++ parser rejects this, AMCT (Python) " +
                   (is_message ? "merges the blocks" : "keeps the last value"),
               {{(*first)->name_range, "first set here"}});
      }
      const pb::OneofDescriptor* oneof = set->containing_oneof();
      if (oneof == nullptr) continue;
      auto [member, first_member] = oneof_member.emplace(oneof, &field);
      if (!first_member && (*member)->descriptor != set) {
        report(diagnostics, Severity::Warning, field.name_range, "oneof-conflict",
               "fields " + quoted(field.name) + " and " + quoted((*member)->name) + " are both in oneof " +
                   quoted(oneof->name()) + ": protobuf's C++ parser rejects this, AMCT (Python) keeps only " +
                   quoted(field.name),
               {{(*member)->name_range, quoted((*member)->name) + " set here"}});
      }
      *member = &field;
    }
  }
}

// Required fields, judged as protobuf does after parsing: blocks of one
// singular message field merge, a later oneof member clears the earlier.
void check_required(const Message& root, const std::function<bool(const Message*)>& is_broken,
                    std::vector<Diagnostic>& diagnostics) {
  check_required_groups({{&root}}, {&root, RootChildren::All}, is_broken, diagnostics);
}

namespace {

// A group is a run of `members` (one allocation for all of them, not one
// per block).
struct RequiredGroup {
  size_t begin;
  size_t size;
};

// Judges the groups of `groups` (a stack: the last is judged first) and the
// blocks below them.
void judge_required(std::vector<const Message*>& members, std::vector<RequiredGroup>& groups,
                    const RequiredScope& scope, const std::function<bool(const Message*)>& is_broken,
                    std::vector<Diagnostic>& diagnostics);

}  // namespace

void check_required_groups(const std::vector<std::vector<const Message*>>& start_groups, const RequiredScope& scope,
                           const std::function<bool(const Message*)>& is_broken, std::vector<Diagnostic>& diagnostics) {
  std::vector<const Message*> members;
  std::vector<RequiredGroup> groups;
  // A stack: the first given group is judged first.
  for (auto it = start_groups.rbegin(); it != start_groups.rend(); ++it) {
    groups.push_back({members.size(), it->size()});
    members.insert(members.end(), it->begin(), it->end());
  }
  judge_required(members, groups, scope, is_broken, diagnostics);
}

void check_required_blocks(const std::vector<const Message*>& blocks,
                           const std::function<bool(const Message*)>& is_broken, std::vector<Diagnostic>& diagnostics) {
  std::vector<const Message*> members(blocks.rbegin(), blocks.rend());
  std::vector<RequiredGroup> groups;
  groups.reserve(members.size());
  for (size_t i = 0; i < members.size(); ++i) groups.push_back({i, 1});
  judge_required(members, groups, {nullptr, RootChildren::All}, is_broken, diagnostics);
}

namespace {

void judge_required(std::vector<const Message*>& members, std::vector<RequiredGroup>& groups,
                    const RequiredScope& scope, const std::function<bool(const Message*)>& is_broken,
                    std::vector<Diagnostic>& diagnostics) {
  // Types whose blocks can never miss a required field are not walked: on a
  // 100,000-block config most blocks are such.
  // A schema has few message types: a linear cache beats hashing per field.
  std::vector<std::pair<const pb::Descriptor*, bool>> may_miss_cache;
  auto may_miss = [&may_miss_cache](const pb::Descriptor* type) {
    for (const auto& [cached_type, cached] : may_miss_cache) {
      if (cached_type == type) return cached;
    }
    std::vector<const pb::Descriptor*> reachable{type};
    bool found = false;
    for (size_t next = 0; next < reachable.size() && !found; ++next) {
      const pb::Descriptor* current = reachable[next];
      // Extensions and Any bring types not listed here: assume the worst.
      found = current->extension_range_count() > 0 || is_any(current);
      for (int i = 0; i < current->field_count() && !found; ++i) {
        const FieldDescriptor* field = current->field(i);
        found = field->is_required();
        const pb::Descriptor* child = field->message_type();
        if (child != nullptr && std::find(reachable.begin(), reachable.end(), child) == reachable.end()) {
          reachable.push_back(child);
        }
      }
    }
    may_miss_cache.emplace_back(type, found);
    return found;
  };
  auto push_single = [&](const Message* message) {
    members.push_back(message);
    groups.push_back({members.size() - 1, 1});
  };
  std::vector<const Field*> occurrences;
  std::vector<const FieldDescriptor*> present;
  // Reused between groups: [0, singular_count) are this group's.
  std::vector<std::pair<const FieldDescriptor*, std::vector<const Message*>>> singular_groups;
  size_t singular_count = 0;
  while (!groups.empty()) {
    const RequiredGroup group = groups.back();
    groups.pop_back();
    const Message* block = members[group.begin + group.size - 1];  // the last block reports
    const pb::Descriptor* descriptor = block->descriptor;
    if (descriptor == nullptr || !may_miss(descriptor)) continue;
    occurrences.clear();
    for (size_t m = group.begin; m < group.begin + group.size; ++m) {
      for (const Field& field : members[m]->fields) occurrences.push_back(&field);
    }
    // Which occurrences survive oneof clearing.
    const bool has_oneofs = descriptor->oneof_decl_count() > 0;
    SmallMap<const pb::OneofDescriptor*, const FieldDescriptor*> survivor;
    SmallMap<const pb::OneofDescriptor*, size_t> cutoff;  // last index of another member
    for (size_t i = has_oneofs ? occurrences.size() : 0; i-- > 0;) {
      const FieldDescriptor* set = occurrences[i]->descriptor;
      if (set == nullptr || set->containing_oneof() == nullptr) continue;
      const pb::OneofDescriptor* oneof = set->containing_oneof();
      auto [kept, inserted] = survivor.emplace(oneof, set);
      if (!inserted && *kept != set) cutoff.emplace(oneof, i);  // the first (from the end) only
    }
    auto survives = [&](size_t i) {
      const FieldDescriptor* set = occurrences[i]->descriptor;
      if (!has_oneofs || set == nullptr || set->containing_oneof() == nullptr) return true;
      const pb::OneofDescriptor* oneof = set->containing_oneof();
      const FieldDescriptor* const* kept = survivor.find(oneof);
      if (kept == nullptr || *kept != set) return false;
      const size_t* cut = cutoff.find(oneof);
      return cut == nullptr || i > *cut;
    };
    // Blocks of one singular field merge into one group; every other block
    // is a group of its own. Groups are independent: their order does not
    // matter (each reports on its own block).
    present.clear();  // required fields only: the rest is not looked up
    singular_count = 0;
    // Repeated and Any blocks of the root judged elsewhere (RootChildren::SingularOnly).
    const bool judged_elsewhere = scope.root_children == RootChildren::SingularOnly && block == scope.root;
    for (size_t i = 0; i < occurrences.size(); ++i) {
      const Field* field = occurrences[i];
      if (field->any_type != nullptr) {
        if (!judged_elsewhere)
          for (const Message& packed : field->messages) push_single(&packed);
        continue;
      }
      if (!survives(i) || field->descriptor == nullptr) continue;
      if (field->descriptor->is_required()) present.push_back(field->descriptor);
      if (field->descriptor->cpp_type() != FieldDescriptor::CPPTYPE_MESSAGE) continue;
      if (!may_miss(field->descriptor->message_type())) continue;
      if (field->descriptor->is_repeated()) {
        if (!judged_elsewhere)
          for (const Message& element : field->messages) push_single(&element);
      } else {
        const auto end = singular_groups.begin() + static_cast<std::ptrdiff_t>(singular_count);
        auto merged = std::find_if(singular_groups.begin(), end,
                                   [&](const auto& entry) { return entry.first == field->descriptor; });
        if (merged == end) {
          if (singular_count == singular_groups.size()) singular_groups.emplace_back();
          merged = singular_groups.begin() + static_cast<std::ptrdiff_t>(singular_count++);
          merged->first = field->descriptor;
          merged->second.clear();
        }
        for (const Message& element : field->messages) merged->second.push_back(&element);
      }
    }
    for (size_t g = 0; g < singular_count; ++g) {
      const std::vector<const Message*>& merged = singular_groups[g].second;
      if (merged.empty()) continue;
      groups.push_back({members.size(), merged.size()});
      members.insert(members.end(), merged.begin(), merged.end());
    }
    bool broken = false;
    for (size_t m = group.begin; m < group.begin + group.size; ++m) broken = broken || is_broken(members[m]);
    if (!broken) {
      std::vector<std::string> missing;
      for (int i = 0; i < descriptor->field_count(); ++i) {
        const FieldDescriptor* field = descriptor->field(i);
        if (field->is_required() && std::find(present.begin(), present.end(), field) == present.end()) {
          missing.push_back(quoted(field->name()));
        }
      }
      if (!missing.empty()) {
        std::string list;
        for (size_t i = 0; i < missing.size(); ++i) list += (i == 0 ? "" : ", ") + missing[i];
        const bool is_root = block == scope.root;
        report(diagnostics, Severity::Error, block->open_range, "missing-required",
              (is_root ? "the document (" + descriptor->name() + ")" : descriptor->name() + " block") +
                  " is missing required field" +
                  (missing.size() > 1 ? "s " : " ") + list);
      }
    }
  }
}

}  // namespace

}  // namespace amct::model::rules
