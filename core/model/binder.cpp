#include "core/model/binder.h"
#include "core/text_util.h"

#include <google/protobuf/descriptor.pb.h>
#include <google/protobuf/io/tokenizer.h>

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <map>
#include <unordered_map>
#include <utility>

// Verdicts follow libprotobuf 3.21's TextFormat::Parser (text_format.cc,
// io/tokenizer.cc): every rule below names the C++ behaviour it mirrors. The
// differential test (tests/core/binder_differential_test.cpp) holds us to it.

namespace amct::model {
namespace {

namespace pb = google::protobuf;
using pb::FieldDescriptor;

constexpr char kAnyFullName[] = "google.protobuf.Any";

// Grammar symbols, looked up once: comparing symbols instead of type names
// keeps binding of a 100,000-block file cheap.
struct Symbols {
  TSSymbol field, field_name, identifier, extension_name, any_name, message, message_list, scalar_list, string,
      concatenated_string, integer, float_, signed_identifier, escape_sequence, colon, comma, semicolon;
  TSFieldId name_field, value_field;
  Symbols() {
    const TSLanguage* language = tree_sitter_textproto();
    auto named = [language](const char* name) {
      return ts_language_symbol_for_name(language, name, static_cast<uint32_t>(std::strlen(name)), true);
    };
    auto anonymous = [language](const char* name) {
      return ts_language_symbol_for_name(language, name, static_cast<uint32_t>(std::strlen(name)), false);
    };
    field = named("field");
    field_name = named("field_name");
    identifier = named("identifier");
    extension_name = named("extension_name");
    any_name = named("any_name");
    message = named("message");
    message_list = named("message_list");
    scalar_list = named("scalar_list");
    string = named("string");
    concatenated_string = named("concatenated_string");
    integer = named("integer");
    float_ = named("float");
    signed_identifier = named("signed_identifier");
    escape_sequence = named("escape_sequence");
    colon = anonymous(":");
    comma = anonymous(",");
    semicolon = anonymous(";");
    name_field = ts_language_field_id_for_name(language, "name", 4);
    value_field = ts_language_field_id_for_name(language, "value", 5);
  }
};

const Symbols& symbols() {
  static const Symbols instance;
  return instance;
}

bool is_type(TSNode node, TSSymbol symbol) { return !ts_node_is_null(node) && ts_node_symbol(node) == symbol; }

// Children through a cursor: ts_node_child(i) walks from the first child,
// which is quadratic over a block with 100,000 fields.
std::vector<TSNode> children_of(TSNode node, bool named_only) {
  std::vector<TSNode> children;
  TSTreeCursor cursor = ts_tree_cursor_new(node);
  if (ts_tree_cursor_goto_first_child(&cursor)) {
    do {
      TSNode child = ts_tree_cursor_current_node(&cursor);
      if (!named_only || ts_node_is_named(child)) children.push_back(child);
    } while (ts_tree_cursor_goto_next_sibling(&cursor));
  }
  ts_tree_cursor_delete(&cursor);
  return children;
}

bool is_error_node(TSNode node) { return !ts_node_is_null(node) && ts_node_symbol(node) == static_cast<TSSymbol>(-1); }

ByteRange range_of(TSNode node) { return {ts_node_start_byte(node), ts_node_end_byte(node)}; }

std::string quoted(std::string_view text) { return "'" + std::string(text) + "'"; }

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

enum class Mode {
  Typed,    // fields are looked up in the message's descriptor
  Untyped,  // no schema here (no schema at all, or inside an unknown field): structure only
  Skipped,  // inside a reserved field: libprotobuf skips it with its own rules
};

struct Frame {
  Message* message;
  TSNode body;
  Mode mode;
};

// Everything about one `field` node that the rules look at.
struct FieldSyntax {
  TSNode node{};
  TSNode name{};       // field_name
  TSNode name_kind{};  // identifier | extension_name | any_name
  TSNode value{};      // null when absent or MISSING
  bool has_colon = false;
  bool colon_missing = false;  // a MISSING ':' inserted by error recovery
  TSNode separator{};          // ',' or ';' (null if none)
};

class Binder {
 public:
  Binder(std::string_view text, const pb::Descriptor* root_type) : text_(text), root_type_(root_type) {}

  BoundDocument run(TSNode root) {
    BoundDocument bound;
    bound.root.descriptor = root_type_;
    bound.root.range = {0, static_cast<uint32_t>(text_.size())};
    bound.root.open_range = {0, 0};
    has_error_[&bound.root] = ts_node_has_error(root);
    std::vector<Frame> stack{{&bound.root, root, root_type_ ? Mode::Typed : Mode::Untyped}};
    while (!stack.empty()) {
      const Frame frame = stack.back();
      stack.pop_back();
      bind_message(frame, stack);
    }
    if (root_type_ != nullptr) check_required(bound.root);
    std::stable_sort(diagnostics_.begin(), diagnostics_.end(), [](const Diagnostic& a, const Diagnostic& b) {
      return a.range.start < b.range.start;
    });
    bound.diagnostics = std::move(diagnostics_);
    return bound;
  }

 private:
  struct PendingMessage {
    size_t field_index;
    size_t message_index;
    TSNode body;
    Mode mode;
  };

  std::string_view text_of(TSNode node) const {
    const uint32_t start = std::min<uint32_t>(ts_node_start_byte(node), text_.size());
    const uint32_t end = std::min<uint32_t>(ts_node_end_byte(node), text_.size());
    return text_.substr(start, end - start);
  }

  void report(Severity severity, ByteRange range, const char* code, std::string message,
              std::vector<RelatedInformation> related = {}) {
    diagnostics_.push_back({range, severity, code, std::move(message), std::move(related)});
  }
  void error(ByteRange range, const char* code, std::string message) {
    report(Severity::Error, range, code, std::move(message));
  }

  // --- messages -----------------------------------------------------------

  void bind_message(const Frame& frame, std::vector<Frame>& stack) {
    Message& message = *frame.message;
    std::vector<PendingMessage> pending;
    // Fields can sit directly in the body or inside ERROR nodes of it.
    std::vector<TSNode> containers{frame.body};
    while (!containers.empty()) {
      TSNode container = containers.back();
      containers.pop_back();
      std::vector<TSNode> nested_errors;
      for (TSNode child : children_of(container, false)) {
        if (is_type(child, S.field)) {
          bind_field(child, message, frame.mode, pending);
        } else if (is_error_node(child)) {
          nested_errors.push_back(child);
        }
      }
      containers.insert(containers.end(), nested_errors.rbegin(), nested_errors.rend());
    }
    if (frame.mode == Mode::Typed) check_overwrites(message);
    // message.fields is final: pointers into it stay valid from here on.
    for (auto it = pending.rbegin(); it != pending.rend(); ++it) {
      Message* child = &message.fields[it->field_index].messages[it->message_index];
      has_error_[child] = ts_node_has_error(it->body);
      stack.push_back({child, it->body, it->mode});
    }
  }

  void add_message(Field& field, size_t field_index, TSNode body, const pb::Descriptor* descriptor, Mode mode,
                   std::vector<PendingMessage>& pending) {
    Message child;
    child.descriptor = mode == Mode::Typed ? descriptor : nullptr;
    child.range = range_of(body);
    TSNode open = ts_node_child(body, 0);
    child.open_range = ts_node_is_null(open) ? ByteRange{child.range.start, child.range.start} : range_of(open);
    field.messages.push_back(std::move(child));
    pending.push_back({field_index, field.messages.size() - 1, body,
                       mode == Mode::Typed && descriptor == nullptr ? Mode::Untyped : mode});
  }

  // --- fields -------------------------------------------------------------

  FieldSyntax read_syntax(TSNode node) const {
    FieldSyntax syntax;
    syntax.node = node;
    TSTreeCursor cursor = ts_tree_cursor_new(node);
    if (ts_tree_cursor_goto_first_child(&cursor)) {
      do {
        TSNode child = ts_tree_cursor_current_node(&cursor);
        const TSFieldId role = ts_tree_cursor_current_field_id(&cursor);
        const TSSymbol symbol = ts_node_symbol(child);
        if (role == S.name_field) {
          syntax.name = child;
          syntax.name_kind = ts_node_named_child(child, 0);
        } else if (role == S.value_field) {
          if (!ts_node_is_missing(child)) syntax.value = child;
        } else if (symbol == S.colon) {
          if (ts_node_is_missing(child)) {
            syntax.colon_missing = true;
          } else {
            syntax.has_colon = true;
          }
        } else if (symbol == S.comma || symbol == S.semicolon) {
          syntax.separator = child;
        }
      } while (ts_tree_cursor_goto_next_sibling(&cursor));
    }
    ts_tree_cursor_delete(&cursor);
    return syntax;
  }

  // "pkg . Ext" (with any spaces or comments between) -> "pkg.Ext".
  std::string dotted_name(TSNode node) const {
    std::string name;
    for (TSNode part : children_of(node, true)) {
      if (!is_type(part, S.identifier)) continue;
      if (!name.empty()) name += '.';
      name += text_of(part);
    }
    return name;
  }

  void bind_field(TSNode node, Message& message, Mode mode, std::vector<PendingMessage>& pending) {
    const FieldSyntax syntax = read_syntax(node);
    if (ts_node_is_null(syntax.name) || ts_node_is_null(syntax.name_kind)) return;
    const size_t field_index = message.fields.size();
    message.fields.emplace_back();
    Field& field = message.fields.back();
    field.range = range_of(node);
    field.name_range = range_of(syntax.name);
    field.has_colon = syntax.has_colon;

    TSNode any_name_type{};
    if (is_type(syntax.name_kind, S.identifier)) {
      field.name = text_of(syntax.name_kind);
    } else if (is_type(syntax.name_kind, S.extension_name)) {
      field.name = "[" + dotted_name(ts_node_named_child(syntax.name_kind, 0)) + "]";
    } else {  // any_name
      TSNode domain = ts_node_named_child(syntax.name_kind, 0);
      any_name_type = ts_node_named_child(syntax.name_kind, 1);
      field.name = "[" + dotted_name(domain) + "/" + dotted_name(any_name_type) + "]";
    }

    if (mode == Mode::Untyped) {
      bind_untyped_value(field, field_index, syntax, Mode::Untyped, pending);
      return;
    }
    if (mode == Mode::Skipped) {
      check_skippable(field, field_index, syntax, /*top_level=*/false, pending);
      return;
    }

    const pb::Descriptor* descriptor = message.descriptor;
    const std::string& type_name = descriptor->name();
    if (is_type(syntax.name_kind, S.identifier)) {
      const FieldDescriptor* found = find_field(descriptor, field.name);
      if (found == nullptr && descriptor->IsReservedName(field.name)) {
        field.reserved = true;
        report(Severity::Warning, field.name_range, "reserved-field",
               "field " + quoted(field.name) + " is reserved in " + type_name + "; its value is ignored");
        check_skippable(field, field_index, syntax, /*top_level=*/true, pending);
        return;
      }
      if (found == nullptr) {
        std::vector<std::string> names;
        for (int i = 0; i < descriptor->field_count(); ++i) {
          const FieldDescriptor* candidate = descriptor->field(i);
          names.push_back(candidate->type() == FieldDescriptor::TYPE_GROUP ? candidate->message_type()->name()
                                                                           : candidate->name());
        }
        std::string hint = did_you_mean(field.name, names);
        if (hint.empty()) hint = belongs_elsewhere(descriptor, field.name);
        // An empty name is a MISSING token: the syntax error already says so.
        if (!field.name.empty())
          error(field.name_range, "unknown-field", "unknown field " + quoted(field.name) + " in " + type_name + hint);
        bind_untyped_value(field, field_index, syntax, Mode::Untyped, pending);
        return;
      }
      field.descriptor = found;
    } else if (is_type(syntax.name_kind, S.extension_name)) {
      const std::string full_name = field.name.substr(1, field.name.size() - 2);
      if (is_any(descriptor)) {
        error(field.name_range, "unknown-field",
              "google.protobuf.Any has no extensions; write the packed type as "
              "'[type.googleapis.com/" + full_name + "]'");
        bind_untyped_value(field, field_index, syntax, Mode::Untyped, pending);
        return;
      }
      const pb::DescriptorPool* pool = descriptor->file()->pool();
      field.descriptor = pool->FindExtensionByPrintableName(descriptor, full_name);
      if (field.descriptor == nullptr) {
        std::string message_text = "unknown extension " + quoted(full_name) + " of " + type_name;
        if (const FieldDescriptor* other = pool->FindExtensionByName(full_name)) {
          message_text = "extension " + quoted(full_name) + " extends " + other->containing_type()->full_name() +
                         ", not " + descriptor->full_name();
        }
        error(field.name_range, "unknown-field", message_text);
        bind_untyped_value(field, field_index, syntax, Mode::Untyped, pending);
        return;
      }
    } else {
      bind_any_expansion(field, field_index, syntax, descriptor, any_name_type, pending);
      return;
    }

    bind_typed_value(field, field_index, syntax, pending);
    if (field.descriptor->options().deprecated()) {
      report(Severity::Warning, field.name_range, "deprecated-field",
             "field " + quoted(field.name) + " is deprecated");
    }
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
  static const FieldDescriptor* find_field(const pb::Descriptor* descriptor, const std::string& name) {
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

  void bind_any_expansion(Field& field, size_t field_index, const FieldSyntax& syntax,
                          const pb::Descriptor* descriptor, TSNode type_node, std::vector<PendingMessage>& pending) {
    if (!is_any(descriptor)) {
      error(field.name_range, "unknown-field",
            "a type URL " + field.name + " is only allowed inside a google.protobuf.Any, not in " +
                descriptor->name());
      bind_untyped_value(field, field_index, syntax, Mode::Untyped, pending);
      return;
    }
    const std::string url = field.name.substr(1, field.name.size() - 2);
    const std::string type_name = dotted_name(type_node);
    const std::string prefix = url.substr(0, url.size() - type_name.size());
    const pb::Descriptor* packed = nullptr;
    if (prefix != "type.googleapis.com/" && prefix != "type.googleprod.com/") {
      error(field.name_range, "unknown-field",
            "type URL " + quoted(url) + " is not resolvable: protobuf resolves only "
            "'type.googleapis.com/' and 'type.googleprod.com/' URLs");
    } else if ((packed = descriptor->file()->pool()->FindMessageTypeByName(type_name)) == nullptr) {
      error(field.name_range, "unknown-field", "unknown message type " + quoted(type_name) + " in type URL");
    }
    if (packed == nullptr) {
      bind_untyped_value(field, field_index, syntax, Mode::Untyped, pending);
      return;
    }
    field.any_type = packed;
    // C++ returns right after the packed value: a separator is not consumed.
    if (!ts_node_is_null(syntax.separator)) {
      error(range_of(syntax.separator), "unexpected-separator",
            "protobuf does not accept " + quoted(text_of(syntax.separator)) + " after an Any value; remove it");
    }
    if (ts_node_is_null(syntax.value)) return;
    if (is_type(syntax.value, S.message)) {
      add_message(field, field_index, syntax.value, packed, Mode::Typed, pending);
      return;
    }
    error(range_of(syntax.value), "type-mismatch",
          "the value of " + field.name + " must be one message { ... }");
    bind_untyped_value(field, field_index, syntax, Mode::Untyped, pending);
  }

  // libprotobuf skips a reserved field's value with SkipField/SkipFieldValue,
  // which accept less than the grammar does.
  void check_skippable(Field& field, size_t field_index, const FieldSyntax& syntax, bool top_level,
                       std::vector<PendingMessage>& pending) {
    if (top_level && !ts_node_is_null(syntax.separator)) {
      error(range_of(syntax.separator), "unexpected-separator",
            "protobuf does not accept " + quoted(text_of(syntax.separator)) + " after the value of reserved field " +
                quoted(field.name) + "; remove it");
    }
    if (ts_node_is_null(syntax.value)) return;
    TSNode value = syntax.value;
    const std::string why = "protobuf cannot skip this value of reserved field " + quoted(field.name);
    if (is_type(value, S.message_list)) {
      if (!syntax.has_colon) {
        if (!syntax.colon_missing) error(range_of(value), "invalid-reserved-value", why + ": a list needs ':' before it");
      } else if (ts_node_named_child_count(value) == 0) {
        error(range_of(value), "invalid-reserved-value", why + ": an empty list");
      }
    } else if (is_type(value, S.scalar_list)) {
      for (TSNode element : children_of(value, true)) check_skippable_scalar(element, why);
    } else if (!is_type(value, S.message)) {
      check_skippable_scalar(value, why);
    }
    bind_untyped_value(field, field_index, syntax, Mode::Skipped, pending);
  }

  void check_skippable_scalar(TSNode value, const std::string& why) {
    if (!is_type(value, S.signed_identifier)) return;
    const std::string word = lowercase(text_of(ts_node_named_child(value, 0)));
    if (word != "inf" && word != "infinity" && word != "nan") {
      error(range_of(value), "invalid-reserved-value", why + ": '-' must be followed by a number, inf or nan");
    }
  }

  // Keeps the structure (messages, scalars by their syntax) without a schema.
  void bind_untyped_value(Field& field, size_t field_index, const FieldSyntax& syntax, Mode mode,
                          std::vector<PendingMessage>& pending) {
    if (ts_node_is_null(syntax.value)) return;
    TSNode value = syntax.value;
    if (is_type(value, S.message)) {
      add_message(field, field_index, value, nullptr, mode, pending);
    } else if (is_type(value, S.message_list)) {
      for (TSNode element : children_of(value, true)) {
        if (is_type(element, S.message)) add_message(field, field_index, element, nullptr, mode, pending);
      }
    } else if (is_type(value, S.scalar_list)) {
      for (TSNode element : children_of(value, true)) field.scalars.push_back(untyped_scalar(element));
    } else if (!is_error_node(value)) {
      field.scalars.push_back(untyped_scalar(value));
    }
  }

  void bind_typed_value(Field& field, size_t field_index, const FieldSyntax& syntax,
                        std::vector<PendingMessage>& pending) {
    const FieldDescriptor* descriptor = field.descriptor;
    if (ts_node_is_null(syntax.value)) return;
    TSNode value = syntax.value;
    const ByteRange value_range = range_of(value);
    const bool repeated = descriptor->is_repeated();
    auto name = [&] { return quoted(field.name); };

    if (descriptor->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
      const pb::Descriptor* type = descriptor->message_type();
      if (is_type(value, S.message)) {
        add_message(field, field_index, value, type, Mode::Typed, pending);
      } else if (is_type(value, S.message_list)) {
        if (!repeated) {
          error(value_range, "not-repeated",
                "field " + name() + " is not repeated: write one block " + field.name + " { ... }, not a list");
        }
        for (TSNode element : children_of(value, true)) {
          if (is_type(element, S.message)) add_message(field, field_index, element, type, Mode::Typed, pending);
        }
      } else if (!is_error_node(value)) {
        error(value_range, "type-mismatch",
              "field " + name() + " is " + type_label(descriptor) + ": write " + field.name + " { ... }");
        bind_untyped_value(field, field_index, syntax, Mode::Untyped, pending);
      }
      return;
    }

    // A scalar field.
    if (is_type(value, S.message)) {
      error(value_range, "type-mismatch", "field " + name() + " is " + type_label(descriptor) + ", not a message");
      bind_untyped_value(field, field_index, syntax, Mode::Untyped, pending);
      return;
    }
    if (is_type(value, S.message_list)) {
      const uint32_t count = ts_node_named_child_count(value);
      if (count > 0) {
        error(value_range, "type-mismatch",
              "field " + name() + " is " + type_label(descriptor) + ", not a list of messages");
        bind_untyped_value(field, field_index, syntax, Mode::Untyped, pending);
      } else if (!syntax.has_colon) {
        if (!syntax.colon_missing) {
          error(field.name_range, "missing-colon",
                "expected ':' after " + name() + " (" + type_label(descriptor) + "): write " + field.name + ": []");
        }
      } else if (!repeated) {
        error(value_range, "not-repeated", "field " + name() + " is not repeated: a list is not allowed");
      }
      return;
    }
    const bool report = syntax.has_colon;  // without ':' the syntax error is the only error
    if (!syntax.has_colon && !syntax.colon_missing) {
      error(field.name_range, "missing-colon", "expected ':' after " + name());
    }
    if (is_type(value, S.scalar_list)) {
      if (!repeated && report) {
        error(value_range, "not-repeated",
              "field " + name() + " is not repeated: give one value, not a list");
      }
      for (TSNode element : children_of(value, true)) {
        field.scalars.push_back(typed_scalar(descriptor, element, report && repeated));
      }
      return;
    }
    if (is_error_node(value)) return;
    field.scalars.push_back(typed_scalar(descriptor, value, report));
  }

  // --- scalar values ------------------------------------------------------

  // The number token of an `integer`/`float` node: after the optional '-'
  // and any spaces or comments between the two.
  struct NumberText {
    bool negative = false;
    std::string literal;
  };
  // Whether protobuf's tokenizer could have produced `literal` as a float
  // (digits, '.', exponent, 'f'): Tokenizer::ParseFloat aborts the process
  // on anything else (a libprotobuf FATAL). Fuzz finding: after an
  // incremental edit the tree can hold a float token such as ".5.5".
  static bool is_tokenizer_float(std::string_view literal) {
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

  NumberText number_text(TSNode node) const {
    std::string_view text = text_of(node);
    NumberText number;
    if (!text.empty() && text.front() == '-') {
      number.negative = true;
      text.remove_prefix(1);
      while (!text.empty()) {
        if (text.front() == '#') {
          const size_t end = text.find('\n');
          text.remove_prefix(end == std::string_view::npos ? text.size() : end);
        } else if (std::isspace(static_cast<unsigned char>(text.front()))) {
          text.remove_prefix(1);
        } else {
          break;
        }
      }
    }
    number.literal = std::string(text);
    return number;
  }

  // Decodes a string or concatenated_string exactly as the tokenizer does;
  // reports the \U escapes the tokenizer rejects (beyond U+10FFFF).
  bool decode_string(TSNode node, std::string& out, bool report_errors) {
    std::vector<TSNode> parts;
    if (is_type(node, S.concatenated_string)) {
      parts = children_of(node, true);
    } else {
      parts.push_back(node);
    }
    bool valid = true;
    for (TSNode part : parts) {
      const std::string_view part_text = text_of(part);
      if (part_text.find('\\') == std::string_view::npos) {
        const bool closed = part_text.size() >= 2 && part_text.back() == part_text.front();
        if (!part_text.empty()) out.append(part_text.substr(1, part_text.size() - (closed ? 2 : 1)));
        continue;
      }
      for (TSNode piece : children_of(part, true)) {
        if (!is_type(piece, S.escape_sequence)) continue;
        const std::string_view escape = text_of(piece);
        if (escape.size() == 10 && escape[1] == 'U' &&
            (escape[2] != '0' || escape[3] != '0' || (escape[4] != '0' && escape[4] != '1'))) {
          valid = false;
          if (report_errors) {
            error(range_of(piece), "invalid-escape",
                  "invalid escape " + std::string(escape) + ": a \\U escape goes up to \\U0010ffff");
          }
        }
      }
      pb::io::Tokenizer::ParseStringAppend(std::string(text_of(part)), &out);
    }
    return valid;
  }

  ScalarValue untyped_scalar(TSNode node) {
    ScalarValue scalar;
    scalar.range = range_of(node);
    scalar.text = text_of(node);
    if (is_type(node, S.string) || is_type(node, S.concatenated_string)) {
      scalar.kind = ScalarValue::Kind::String;
      decode_string(node, scalar.string_value, false);
    } else if (is_type(node, S.integer)) {
      const NumberText number = number_text(node);
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
    } else if (is_type(node, S.float_) && is_tokenizer_float(number_text(node).literal)) {
      const NumberText number = number_text(node);
      scalar.kind = ScalarValue::Kind::Float;
      scalar.float_value = pb::io::Tokenizer::ParseFloat(number.literal) * (number.negative ? -1 : 1);
    } else if (is_type(node, S.identifier)) {
      if (scalar.text == "true" || scalar.text == "false") {
        scalar.kind = ScalarValue::Kind::Bool;
        scalar.bool_value = scalar.text == "true";
      }
    }
    return scalar;
  }

  ScalarValue typed_scalar(const FieldDescriptor* field, TSNode node, bool report_errors) {
    ScalarValue scalar;
    scalar.range = range_of(node);
    scalar.text = text_of(node);
    // Messages are built only on failure: most values are fine.
    auto name = [&] { return quoted(field->name()); };
    auto fail = [&](const char* code, std::string message) {
      if (report_errors) error(scalar.range, code, std::move(message));
      return scalar;
    };
    const bool is_string = is_type(node, S.string) || is_type(node, S.concatenated_string);
    const bool is_integer = is_type(node, S.integer);
    const bool is_float = is_type(node, S.float_);
    const bool is_identifier = is_type(node, S.identifier);
    const bool is_signed_identifier = is_type(node, S.signed_identifier);
    if (!is_string && !is_integer && !is_float && !is_identifier && !is_signed_identifier) return scalar;

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
        const NumberText number = number_text(node);
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
        return scalar;
      }
      case FieldDescriptor::CPPTYPE_FLOAT:
      case FieldDescriptor::CPPTYPE_DOUBLE: {
        double value = 0;
        bool negative = false;
        if (is_integer || is_float) {
          const NumberText number = number_text(node);
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
              value = pb::io::Tokenizer::ParseFloat(literal);
            } else {
              return fail("type-mismatch", "field " + name() + " is " + type_label(field) + ": '" + literal +
                                               "' is not a number");
            }
          } else if (is_tokenizer_float(literal)) {
            value = pb::io::Tokenizer::ParseFloat(literal);
          } else {
            return fail("type-mismatch", "field " + name() + " is " + type_label(field) + ": '" + literal +
                                             "' is not a number");
          }
        } else if (is_identifier || is_signed_identifier) {
          negative = is_signed_identifier;
          const std::string word =
              lowercase(is_signed_identifier ? text_of(ts_node_named_child(node, 0)) : std::string_view(scalar.text));
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
          report(Severity::Warning, scalar.range, "out-of-range",
                 scalar.text + " is beyond the range of float (about 3.4e38): " + name() + " becomes " +
                     (value > 0 ? "inf" : "-inf"));
        }
        if (field->cpp_type() == FieldDescriptor::CPPTYPE_FLOAT) {
          scalar.float_value = value > FLT_MAX ? std::numeric_limits<double>::infinity()
                               : value < -FLT_MAX ? -std::numeric_limits<double>::infinity()
                                                  : static_cast<double>(static_cast<float>(value));
        }
        return scalar;
      }
      case FieldDescriptor::CPPTYPE_BOOL: {
        auto invalid = [&] {
          return "invalid value " + quoted(scalar.text) + " for boolean field " + name() +
                 ": use true, false, True, False, t, f, 1 or 0";
        };
        if (is_integer) {
          const NumberText number = number_text(node);
          uint64_t value = 0;
          if (number.negative || !pb::io::Tokenizer::ParseInteger(number.literal, 1, &value)) {
            return fail("invalid-bool", invalid());
          }
          scalar.kind = ScalarValue::Kind::Bool;
          scalar.bool_value = value != 0;
          return scalar;
        }
        if (is_identifier) {
          if (scalar.text == "true" || scalar.text == "True" || scalar.text == "t") {
            scalar.kind = ScalarValue::Kind::Bool;
            scalar.bool_value = true;
            return scalar;
          }
          if (scalar.text == "false" || scalar.text == "False" || scalar.text == "f") {
            scalar.kind = ScalarValue::Kind::Bool;
            scalar.bool_value = false;
            return scalar;
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
        if (!decode_string(node, scalar.string_value, report_errors)) return scalar;
        scalar.kind = ScalarValue::Kind::String;
        return scalar;
      }
      case FieldDescriptor::CPPTYPE_ENUM: {
        const pb::EnumDescriptor* type = field->enum_type();
        auto names = [type] {
          std::vector<std::string> all;
          for (int i = 0; i < type->value_count(); ++i) all.push_back(type->value(i)->name());
          return all;
        };
        if (is_identifier) {
          scalar.enum_value = type->FindValueByName(scalar.text);
          if (scalar.enum_value == nullptr) {
            return fail("invalid-enum-value", quoted(scalar.text) + " is not a value of enum " + type->name() +
                                                  " (field " + name() + ")" + did_you_mean(scalar.text, names()));
          }
          scalar.kind = ScalarValue::Kind::Enum;
          scalar.int_value = scalar.enum_value->number();
          return scalar;
        }
        if (is_integer) {
          const NumberText number = number_text(node);
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
          return scalar;
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
    return scalar;
  }

  // --- whole-message rules ------------------------------------------------

  // Singular fields given twice, and two members of one oneof. libprotobuf's
  // ParseFromString rejects both; AMCT's Python Merge keeps the last value.
  void check_overwrites(const Message& message) {
    const pb::Descriptor* descriptor = message.descriptor;
    const bool any = is_any(descriptor);
    const FieldDescriptor* any_url = any ? descriptor->FindFieldByNumber(1) : nullptr;
    const FieldDescriptor* any_value = any ? descriptor->FindFieldByNumber(2) : nullptr;
    std::unordered_map<const FieldDescriptor*, const Field*> first_set;
    std::unordered_map<const pb::OneofDescriptor*, const Field*> oneof_member;
    for (const Field& field : message.fields) {
      std::vector<const FieldDescriptor*> sets;
      if (field.any_type != nullptr) {
        sets = {any_url, any_value};
      } else if (field.descriptor != nullptr && !field.descriptor->is_repeated()) {
        sets = {field.descriptor};
      }
      bool warned = false;
      for (const FieldDescriptor* set : sets) {
        if (set == nullptr) continue;
        auto [it, inserted] = first_set.emplace(set, &field);
        if (!inserted && !warned) {
          warned = true;
          const bool is_message = set->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE && field.any_type == nullptr;
          report(Severity::Warning, field.name_range, "duplicate-field",
                 "field " + quoted(field.any_type ? "Any value" : field.name) +
                     " is set more than once: protobuf's C++ parser rejects this, AMCT (Python) " +
                     (is_message ? "merges the blocks" : "keeps the last value"),
                 {{it->second->name_range, "first set here"}});
        }
        const pb::OneofDescriptor* oneof = set->containing_oneof();
        if (oneof == nullptr) continue;
        auto [member, first_member] = oneof_member.emplace(oneof, &field);
        if (!first_member && member->second->descriptor != set) {
          report(Severity::Warning, field.name_range, "oneof-conflict",
                 "fields " + quoted(field.name) + " and " + quoted(member->second->name) + " are both in oneof " +
                     quoted(oneof->name()) + ": protobuf's C++ parser rejects this, AMCT (Python) keeps only " +
                     quoted(field.name),
                 {{member->second->name_range, quoted(member->second->name) + " set here"}});
        }
        member->second = &field;
      }
    }
  }

  // Required fields, judged as protobuf does after parsing: blocks of one
  // singular message field merge, a later oneof member clears the earlier.
  void check_required(const Message& root) {
    std::vector<std::vector<const Message*>> groups{{&root}};
    while (!groups.empty()) {
      const std::vector<const Message*> group = std::move(groups.back());
      groups.pop_back();
      const pb::Descriptor* descriptor = group.back()->descriptor;
      if (descriptor == nullptr) continue;
      std::vector<const Field*> occurrences;
      for (const Message* message : group) {
        for (const Field& field : message->fields) occurrences.push_back(&field);
      }
      // Which occurrences survive oneof clearing.
      std::unordered_map<const pb::OneofDescriptor*, const FieldDescriptor*> survivor;
      std::unordered_map<const pb::OneofDescriptor*, size_t> cutoff;  // last index of another member
      for (size_t i = occurrences.size(); i-- > 0;) {
        const FieldDescriptor* set = occurrences[i]->descriptor;
        if (set == nullptr || set->containing_oneof() == nullptr) continue;
        const pb::OneofDescriptor* oneof = set->containing_oneof();
        auto [it, inserted] = survivor.emplace(oneof, set);
        if (!inserted && it->second != set && !cutoff.count(oneof)) cutoff[oneof] = i;
      }
      auto survives = [&](size_t i) {
        const FieldDescriptor* set = occurrences[i]->descriptor;
        if (set == nullptr || set->containing_oneof() == nullptr) return true;
        const pb::OneofDescriptor* oneof = set->containing_oneof();
        if (survivor[oneof] != set) return false;
        auto cut = cutoff.find(oneof);
        return cut == cutoff.end() || i > cut->second;
      };
      std::vector<const FieldDescriptor*> present;
      std::map<int, std::vector<const Message*>> singular_groups;  // by field index/number, in order
      std::vector<std::vector<const Message*>> child_groups;
      for (size_t i = 0; i < occurrences.size(); ++i) {
        const Field* field = occurrences[i];
        if (field->any_type != nullptr) {
          for (const Message& packed : field->messages) child_groups.push_back({&packed});
          continue;
        }
        if (!survives(i) || field->descriptor == nullptr) continue;
        present.push_back(field->descriptor);
        if (field->descriptor->cpp_type() != FieldDescriptor::CPPTYPE_MESSAGE) continue;
        if (field->descriptor->is_repeated()) {
          for (const Message& element : field->messages) child_groups.push_back({&element});
        } else {
          auto& merged = singular_groups[field->descriptor->number()];
          for (const Message& element : field->messages) merged.push_back(&element);
        }
      }
      for (auto& [number, merged] : singular_groups) {
        if (!merged.empty()) child_groups.push_back(std::move(merged));
      }
      bool broken = false;
      for (const Message* message : group) broken = broken || has_error_[message];
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
          const Message* block = group.back();
          const bool is_root = block == &root;
          error(block->open_range, "missing-required",
                (is_root ? "the document (" + descriptor->name() + ")" : descriptor->name() + " block") +
                    " is missing required field" +
                    (missing.size() > 1 ? "s " : " ") + list);
        }
      }
      for (auto it = child_groups.rbegin(); it != child_groups.rend(); ++it) groups.push_back(std::move(*it));
    }
  }

  const Symbols& S = symbols();
  std::string_view text_;
  const pb::Descriptor* root_type_;
  std::vector<Diagnostic> diagnostics_;
  std::unordered_map<const Message*, bool> has_error_;
};

}  // namespace

BoundDocument bind_tree(std::string_view text, TSNode root, const google::protobuf::Descriptor* root_type) {
  return Binder(text, root_type).run(root);
}

BoundDocument bind(const syntax::Document& document, const google::protobuf::Descriptor* root_type) {
  return bind_tree(document.text(), document.root(), root_type);
}

}  // namespace amct::model
