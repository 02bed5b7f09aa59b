#include "core/model/binder.h"

#include "core/model/value_rules.h"
#include "core/parallel.h"
#include "core/syntax/text_compare.h"
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
#include <optional>
#include <span>
#include <unordered_map>
#include <utility>

// Verdicts follow libprotobuf 3.21's TextFormat::Parser (text_format.cc,
// io/tokenizer.cc): every rule below names the C++ behaviour it mirrors. The
// differential test (tests/core/binder_differential_test.cpp) holds us to it.

namespace amct::model {
namespace {

namespace pb = google::protobuf;
using pb::FieldDescriptor;

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

using rules::is_any;
using rules::quoted;
using rules::type_label;

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
    if (root_type_ != nullptr) {
      rules::check_required(bound.root, is_broken(), diagnostics_);
    }
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
    bind_fields_in(frame.body, message, frame.mode, pending);
    if (frame.mode == Mode::Typed) rules::check_overwrites(message, diagnostics_);
    // message.fields is final: pointers into it stay valid from here on.
    for (auto it = pending.rbegin(); it != pending.rend(); ++it) {
      Message* child = &message.fields[it->field_index].messages[it->message_index];
      has_error_[child] = ts_node_has_error(it->body);
      stack.push_back({child, it->body, it->mode});
    }
  }

  // The fields of a message body (or of an ERROR node), in source order:
  // fields can sit directly in it or inside ERROR nodes of it.
  void bind_fields_in(TSNode body, Message& message, Mode mode, std::vector<PendingMessage>& pending) {
    std::vector<TSNode> containers{body};
    while (!containers.empty()) {
      TSNode container = containers.back();
      containers.pop_back();
      std::vector<TSNode> nested_errors;
      for (TSNode child : children_of(container, false)) {
        if (is_type(child, S.field)) {
          bind_field(child, message, mode, pending);
        } else if (is_error_node(child)) {
          nested_errors.push_back(child);
        }
      }
      containers.insert(containers.end(), nested_errors.rbegin(), nested_errors.rend());
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
      const FieldDescriptor* found = rules::find_field(descriptor, field.name);
      if (found == nullptr && descriptor->IsReservedName(field.name)) {
        field.reserved = true;
        report(Severity::Warning, field.name_range, "reserved-field",
               "field " + quoted(field.name) + " is reserved in " + type_name + "; its value is ignored");
        check_skippable(field, field_index, syntax, /*top_level=*/true, pending);
        return;
      }
      if (found == nullptr) {
        // An empty name is a MISSING token: the syntax error already says so.
        if (!field.name.empty())
          error(field.name_range, "unknown-field", rules::unknown_field_message(descriptor, field.name));
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
  // Text after a '-': spaces and comments may sit between it and the number.
  static std::string_view skip_extras(std::string_view text) {
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
    return text;
  }

  bool decode_string(TSNode node, std::string& out, bool report_errors) {
    std::vector<TSNode> parts;
    if (is_type(node, S.concatenated_string)) {
      parts = children_of(node, true);
    } else {
      parts.push_back(node);
    }
    bool valid = true;
    for (TSNode part : parts) {
      // Comments between adjacent strings are named children too.
      if (!is_type(part, S.string)) continue;
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

  rules::ScalarSyntax scalar_syntax(TSNode node) const {
    using Kind = rules::ScalarSyntax::Kind;
    rules::ScalarSyntax syntax;
    syntax.range = range_of(node);
    syntax.text = text_of(node);
    if (is_type(node, S.string) || is_type(node, S.concatenated_string)) {
      syntax.kind = Kind::String;
    } else if (is_type(node, S.integer) || is_type(node, S.float_)) {
      syntax.kind = is_type(node, S.integer) ? Kind::Integer : Kind::Float;
      syntax.literal = syntax.text;
      if (!syntax.literal.empty() && syntax.literal.front() == '-') {
        syntax.negative = true;
        syntax.literal = skip_extras(syntax.literal.substr(1));
      }
    } else if (is_type(node, S.identifier)) {
      syntax.kind = Kind::Identifier;
    } else if (is_type(node, S.signed_identifier)) {
      syntax.kind = Kind::SignedIdentifier;
      syntax.word = text_of(ts_node_named_child(node, 0));
    }
    return syntax;
  }

  ScalarValue untyped_scalar(TSNode node) {
    return rules::untyped_scalar(scalar_syntax(node), [&](std::string& out, bool report_errors) {
      return decode_string(node, out, report_errors);
    });
  }

  ScalarValue typed_scalar(const FieldDescriptor* field, TSNode node, bool report_errors) {
    return rules::typed_scalar(
        field, scalar_syntax(node), report_errors,
        [&](std::string& out, bool report) { return decode_string(node, out, report); }, diagnostics_);
  }

  // --- incremental binding (IncrementalBinder) ----------------------------

 public:
  // What one top-level unit (a field, or an ERROR node holding fields)
  // contributes, in the order bind() emits it: diagnostics of its top-level
  // fields, of the messages below them, and the required-field verdicts of
  // blocks that are judged alone (repeated message elements, Any payloads).
  struct UnitResult {
    std::vector<Field> fields;
    std::vector<Diagnostic> top, nested, required;
    std::vector<const Message*> broken;  // messages with syntax errors below
  };

  UnitResult bind_unit(TSNode node, bool is_error) {
    UnitResult out;
    has_error_.clear();
    Message scratch;
    scratch.descriptor = root_type_;
    const Mode mode = root_type_ ? Mode::Typed : Mode::Untyped;
    std::vector<PendingMessage> pending;
    if (!is_error) {
      bind_field(node, scratch, mode, pending);
    } else {  // as bind_message() walks an ERROR child of the root
      bind_fields_in(node, scratch, mode, pending);
    }
    out.top = std::exchange(diagnostics_, {});
    std::vector<Frame> stack;
    for (auto it = pending.rbegin(); it != pending.rend(); ++it) {
      Message* child = &scratch.fields[it->field_index].messages[it->message_index];
      has_error_[child] = ts_node_has_error(it->body);
      stack.push_back({child, it->body, it->mode});
    }
    while (!stack.empty()) {
      const Frame frame = stack.back();
      stack.pop_back();
      bind_message(frame, stack);
    }
    out.nested = std::exchange(diagnostics_, {});
    if (root_type_ != nullptr) {
      std::vector<std::vector<const Message*>> groups;
      for (const Field& field : scratch.fields) {
        if (field.any_type != nullptr) {
          for (const Message& packed : field.messages) groups.push_back({&packed});
        } else if (field.descriptor != nullptr && field.descriptor->is_repeated() &&
                   field.descriptor->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
          for (const Message& element : field.messages) groups.push_back({&element});
        }
      }
      rules::check_required_groups(groups, {nullptr, rules::RootChildren::All}, is_broken(), diagnostics_);
      out.required = std::exchange(diagnostics_, {});
    }
    for (const auto& [message, broken] : has_error_)
      if (broken) out.broken.push_back(message);
    has_error_.clear();
    out.fields = std::move(scratch.fields);
    return out;
  }

  // The root-level verdicts over the assembled root: overwrites of top-level
  // fields, and required fields of the root and of merged singular blocks.
  std::vector<Diagnostic> root_overwrites(const Message& root) {
    rules::check_overwrites(root, diagnostics_);
    return std::exchange(diagnostics_, {});
  }
  std::vector<Diagnostic> root_required(const Message& root, bool root_broken,
                                        const std::vector<const Message*>& broken) {
    has_error_.clear();
    has_error_[&root] = root_broken;
    for (const Message* message : broken) has_error_[message] = true;
    rules::check_required_groups({{&root}}, {&root, rules::RootChildren::SingularOnly}, is_broken(), diagnostics_);
    has_error_.clear();
    return std::exchange(diagnostics_, {});
  }

 private:
  std::function<bool(const Message*)> is_broken() {
    return [this](const Message* message) { return has_error_[message]; };
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

namespace {

// Moves every byte range of a reused unit by `delta` (modular: a negative
// delta wraps, and the sum is right). Iterative: nesting can be 100,000 deep.
void shift_fields(std::span<Field> fields, uint32_t delta) {
  std::vector<std::span<Field>> pending{fields};
  auto shift = [delta](ByteRange& range) {
    range.start += delta;
    range.end += delta;
  };
  while (!pending.empty()) {
    const std::span<Field> list = pending.back();
    pending.pop_back();
    for (Field& field : list) {
      shift(field.name_range);
      shift(field.range);
      for (ScalarValue& scalar : field.scalars) shift(scalar.range);
      for (Message& message : field.messages) {
        shift(message.range);
        shift(message.open_range);
        pending.push_back(message.fields);
      }
    }
  }
}

bool is_repeated_message(const Field& field) {
  return field.descriptor != nullptr && field.descriptor->is_repeated() &&
         field.descriptor->cpp_type() == pb::FieldDescriptor::CPPTYPE_MESSAGE;
}

// A field's own ranges and scalars, not those inside its messages.
void shift_field_itself(Field& field, uint32_t delta) {
  auto shift = [delta](ByteRange& range) {
    range.start += delta;
    range.end += delta;
  };
  shift(field.name_range);
  shift(field.range);
  for (ScalarValue& scalar : field.scalars) shift(scalar.range);
}

// The rest of a field shift_field_itself() moved.
void shift_messages_of(Field& field, uint32_t delta) {
  for (Message& message : field.messages) {
    message.range.start += delta;
    message.range.end += delta;
    message.open_range.start += delta;
    message.open_range.end += delta;
    shift_fields(message.fields, delta);
  }
}

void shift_diagnostics(std::vector<Diagnostic>& diagnostics, uint32_t delta) {
  for (Diagnostic& diagnostic : diagnostics) {
    diagnostic.range.start += delta;
    diagnostic.range.end += delta;
    for (RelatedInformation& related : diagnostic.related) {
      related.range.start += delta;
      related.range.end += delta;
    }
  }
}

}  // namespace

struct IncrementalBinder::State {
  struct Unit {
    bool has_syntax_error = false;
    uint32_t start = 0;
    uint32_t end = 0;
    bool is_error = false;
    size_t first_field = 0;
    size_t field_count = 0;
    uint32_t child_index = 0;  // among the root's visible children
    std::vector<Diagnostic> top, nested, required;
    std::vector<const Message*> broken;
  };

  const pb::Descriptor* root_type = nullptr;
  // Of the last call, shared with its document: units are compared byte for byte.
  std::shared_ptr<const std::string> text = std::make_shared<const std::string>();
  std::shared_ptr<BoundDocument> model;
  std::vector<Unit> units;
  size_t rebound = 0;
  std::vector<size_t> reused_fields;
  bool error_free = false;        // no syntax error anywhere in the last tree
  bool bound_from_region = false;  // the last call parsed only the region around the edit
  // Root fields whose messages still lie at their old offsets: they move by
  // `delta` in finish_deferred().
  struct DeferredShift {
    size_t field = 0;
    uint32_t delta = 0;
  };
  std::vector<DeferredShift> deferred;
  // The previous model and units (their fields moved out), freed in
  // finish_deferred() rather than before the diagnostics go out.
  std::shared_ptr<BoundDocument> retired_model;
  std::vector<Unit> retired_units;
  std::vector<Field> retired_fields;  // of the units an in-place update replaced
  uint32_t root_child_count = 0;  // visible children of the last root
};

using syntax::common_prefix;
using syntax::common_suffix;

IncrementalBinder::IncrementalBinder() : state_(std::make_unique<State>()) {}
IncrementalBinder::~IncrementalBinder() = default;

size_t IncrementalBinder::last_rebound_units() const { return state_->rebound; }
bool IncrementalBinder::last_bound_from_region() const { return state_->bound_from_region; }

void IncrementalBinder::finish_deferred() {
  State& state = *state_;
  state.retired_model.reset();
  state.retired_units.clear();
  state.retired_fields.clear();
  if (state.deferred.empty()) return;
  std::vector<Field>& fields = state.model->root.fields;
  const std::vector<State::DeferredShift>& deferred = state.deferred;
  const size_t middle = deferred.size() / 2;
  auto shift_part = [&](size_t begin, size_t end) {
    for (size_t i = begin; i < end; ++i) shift_messages_of(fields[deferred[i].field], deferred[i].delta);
  };
  constexpr size_t kParallelFields = 1000;
  run_both(deferred.size() >= kParallelFields, [&] { shift_part(0, middle); }, [&] { shift_part(middle, deferred.size()); });
  state.deferred.clear();
}

std::vector<std::string_view> IncrementalBinder::top_level_names_in(ByteRange bytes) const {
  std::vector<std::string_view> names;
  if (!state_->model) return names;
  const std::vector<Field>& fields = state_->model->root.fields;
  // Source order: the last call's text had no syntax errors, or the
  // caller's region check fails anyway on the fields of ERROR nodes.
  auto it = std::lower_bound(fields.begin(), fields.end(), bytes.start,
                             [](const Field& field, uint32_t at) { return field.range.start < at; });
  for (; it != fields.end() && it->range.start < bytes.end; ++it) names.emplace_back(it->name);
  return names;
}
const std::vector<size_t>& IncrementalBinder::last_reused_fields() const { return state_->reused_fields; }

namespace {

// The top-level units of a new tree, as IncrementalBinder::bind assembles
// them: an old unit moved over (shifted by `delta`), or a node bound afresh.
struct UnitSource {
  size_t old_index = SIZE_MAX;  // reuse this old unit...
  uint32_t delta = 0;           // ...moved by this many bytes (modular)
  TSNode node{};                // or bind this node
  bool is_error = false;
  uint32_t child_index = 0;
};

}  // namespace

// The old units an edit leaves alone, and the bytes between them (without
// the check that the region ends where a line starts).
static std::optional<ReparseRegion> edit_span(const IncrementalBinder::State& state, std::string_view text,
                                              std::optional<syntax::Document::KnownEnds> known = {}) {
  if (!state.error_free || state.units.empty()) return std::nullopt;
  const std::string_view old_text = *state.text;
  const syntax::Document::KnownEnds common = known.value_or(syntax::Document::KnownEnds{});
  ReparseRegion span;
  span.common_prefix = common_prefix(old_text, text, common.prefix);
  // Measured apart: when the edit repeats the text around it (a block
  // copied next to itself), the two overlap, and the fields on either side
  // are still matched; the reuse below takes each old unit once, in order.
  span.common_suffix = common_suffix(old_text, text, std::min(old_text.size(), text.size()), common.suffix);
  span.delta = static_cast<uint32_t>(text.size() - old_text.size());  // modular
  const auto& units = state.units;
  // Old units kept in place: those ending before the edit, less the last one
  // (a string or separator after it may join it); `first_kept_after` onwards
  // move by delta: those starting after the edit, less the first.
  size_t kept_before = 0;
  while (kept_before < units.size() && units[kept_before].end < span.common_prefix) ++kept_before;
  span.kept_before = kept_before > 0 ? kept_before - 1 : 0;
  size_t first_kept_after = units.size();
  while (first_kept_after > span.kept_before && units[first_kept_after - 1].start > old_text.size() - span.common_suffix)
    --first_kept_after;
  span.first_kept_after = std::min(units.size(), first_kept_after + 1);
  if (span.first_kept_after < span.kept_before) return std::nullopt;
  const uint32_t start = span.kept_before > 0 ? units[span.kept_before].start : 0;
  const uint32_t end = span.first_kept_after == units.size() ? static_cast<uint32_t>(text.size())
                                                             : units[span.first_kept_after].start + span.delta;
  span.bytes = {start, std::max(start, end)};
  return span;
}

// The units of the new tree found without walking the whole root, when the
// old and new trees are free of syntax errors: text outside the edited span
// [prefix, size - suffix) is the same, so the top-level fields wholly before
// the field just before the edit, and wholly after the one just after it,
// parse as before (an LR parse of the same text from the same top-level
// state). Only the root's children around the edit are visited; the count of
// its children checks the rest. nullopt: not applicable, walk the root.
// `root` is either the whole new tree, or (`region_only`) the tree of the
// region's bytes alone, whose top-level items are then the only children
// visited. `known`: the span, when the caller has it from edit_span() of this text.
static std::optional<std::vector<UnitSource>> units_around_edit(const IncrementalBinder::State& state,
                                                                  std::string_view text, TSNode root,
                                                                  bool region_only, const ReparseRegion* known,
                                                                  uint32_t& root_child_count) {
  if (ts_node_has_error(root)) return std::nullopt;
  const std::optional<ReparseRegion> span = known ? std::optional<ReparseRegion>(*known) : edit_span(state, text);
  if (!span) return std::nullopt;
  const size_t prefix = span->common_prefix, suffix = span->common_suffix;
  const uint32_t delta = span->delta;
  const auto& units = state.units;
  const size_t kept_before = span->kept_before, first_kept_after = span->first_kept_after;

  // The old unit spanning exactly [start, end), if any (units are in source order).
  auto unit_at = [&](uint32_t start, uint32_t end) {
    const auto it = std::lower_bound(units.begin(), units.end(), start,
                                     [](const IncrementalBinder::State::Unit& unit, uint32_t at) { return unit.start < at; });
    return it != units.end() && it->start == start && it->end == end ? static_cast<size_t>(it - units.begin()) : SIZE_MAX;
  };
  std::vector<UnitSource> sources;
  sources.reserve(units.size() + 8);
  for (size_t i = 0; i < kept_before; ++i) sources.push_back({i, 0, {}, false, units[i].child_index});
  // The root's children from the first unit not kept (or its first child).
  const uint32_t from = kept_before < units.size() ? units[kept_before].start : 0;
  // With nothing kept before, from the root's first child (a header or comment, maybe).
  const uint32_t first_child_index = kept_before > 0 ? units[kept_before].child_index : 0;
  const bool until_end = first_kept_after == units.size();
  const uint32_t stop_at = until_end ? 0 : units[first_kept_after].start + delta;
  const uint32_t stop_length = until_end ? 0 : units[first_kept_after].end - units[first_kept_after].start;
  TSTreeCursor cursor = ts_tree_cursor_new(root);
  int64_t index = kept_before == 0 ? (ts_tree_cursor_goto_first_child(&cursor) ? 0 : -1)
                                   : ts_tree_cursor_goto_first_child_for_byte(&cursor, from);
  bool matched = until_end;
  size_t next_old = kept_before;  // old units before this one are taken
  uint32_t child_index = first_child_index;
  const Symbols& S = symbols();
  if (index >= 0 && kept_before > 0 && ts_node_start_byte(ts_tree_cursor_current_node(&cursor)) != from) index = -1;
  if (index >= 0) {
    do {
      const TSNode child = ts_tree_cursor_current_node(&cursor);
      const uint32_t start = ts_node_start_byte(child);
      if (!until_end && start >= stop_at) {
        matched = start == stop_at && ts_node_end_byte(child) - start == stop_length && is_type(child, S.field);
        break;
      }
      if (is_type(child, S.field)) {
        // A field wholly in the unchanged text that an old unit spans
        // exactly has the same bytes: reused, as by the full walk.
        const uint32_t end = ts_node_end_byte(child);
        size_t old_index = SIZE_MAX;
        uint32_t old_delta = 0;
        if (end <= prefix) {
          old_index = unit_at(start, end);
        } else if (start >= text.size() - suffix) {
          old_index = unit_at(start - delta, end - delta);
          old_delta = delta;
        }
        if (old_index != SIZE_MAX && (old_index < next_old || old_index >= first_kept_after)) old_index = SIZE_MAX;
        if (old_index != SIZE_MAX) next_old = old_index + 1;
        if (old_index != SIZE_MAX) sources.push_back({old_index, old_delta, {}, false, child_index});
        else sources.push_back({SIZE_MAX, 0, child, false, child_index});
      }
      ++child_index;
    } while (ts_tree_cursor_goto_next_sibling(&cursor));
  }
  ts_tree_cursor_delete(&cursor);
  // The region's tree ends where the first unit kept after it starts.
  if (region_only && index >= 0) matched = true;
  if (index < 0 || !matched) return std::nullopt;
  const uint32_t kept_after_children =
      until_end ? 0 : state.root_child_count - units[first_kept_after].child_index;
  if (!region_only && child_index + kept_after_children != ts_node_child_count(root)) return std::nullopt;
  root_child_count = child_index + kept_after_children;
  const uint32_t index_shift = child_index - (until_end ? 0 : units[first_kept_after].child_index);  // modular
  for (size_t i = first_kept_after; i < units.size(); ++i)
    sources.push_back({i, delta, {}, false, units[i].child_index + index_shift});
  return sources;
}

const std::string* IncrementalBinder::last_text() const { return state_->text.get(); }

std::optional<ReparseRegion> IncrementalBinder::region_to_reparse(std::string_view text,
                                                                  std::optional<syntax::Document::KnownEnds> known) const {
  const State& state = *state_;
  if (!state.model) return std::nullopt;
  std::optional<ReparseRegion> span = edit_span(state, text, known);
  if (!span) return std::nullopt;
  // The unit kept after the region starts a line: nothing in the region (a
  // comment, a number, a name) can run on into it, so the region parses alone
  // as it does in the whole text.
  const ByteRange region = span->bytes;
  if (region.end < text.size() && (region.end == 0 || text[region.end - 1] != '\n')) return std::nullopt;
  return span;
}

namespace {

// Sources that keep the old units' order around one edited stretch: the
// first `prefix_units` are old units 0, 1, ... in place, the last
// `suffix_units` the old units up to the end, all moved by one delta, and
// those between come from old units between them or are bound afresh.
struct SplicedUnits {
  size_t prefix_units = 0, suffix_units = 0;
};

std::optional<SplicedUnits> spliced_units(const std::vector<UnitSource>& sources, size_t old_unit_count) {
  SplicedUnits splice;
  while (splice.prefix_units < sources.size() && splice.prefix_units < old_unit_count &&
         sources[splice.prefix_units].old_index == splice.prefix_units && sources[splice.prefix_units].delta == 0)
    ++splice.prefix_units;
  while (splice.prefix_units + splice.suffix_units < sources.size() &&
         splice.prefix_units + splice.suffix_units < old_unit_count) {
    const UnitSource& source = sources[sources.size() - 1 - splice.suffix_units];
    if (source.old_index != old_unit_count - 1 - splice.suffix_units ||
        (splice.suffix_units > 0 && source.delta != sources[sources.size() - splice.suffix_units].delta))
      break;
    ++splice.suffix_units;
  }
  const size_t middle_end = old_unit_count - splice.suffix_units;
  for (size_t k = splice.prefix_units; k < sources.size() - splice.suffix_units; ++k) {
    const size_t old = sources[k].old_index;
    if (old != SIZE_MAX && (old < splice.prefix_units || old >= middle_end)) return std::nullopt;
  }
  return splice;
}

// Replaces items [begin, end) of `items` with `middle`; the items after
// move only when the count changes.
template <typename T>
void splice_into(std::vector<T>& items, size_t begin, size_t end, std::vector<T>& middle) {
  const size_t replaced = end - begin;
  const size_t common = std::min(replaced, middle.size());
  const auto at = [&](size_t index) { return items.begin() + static_cast<std::ptrdiff_t>(index); };
  std::move(middle.begin(), middle.begin() + static_cast<std::ptrdiff_t>(common), at(begin));
  if (middle.size() < replaced)
    items.erase(at(begin + common), at(end));
  else if (middle.size() > replaced)
    items.insert(at(end), std::make_move_iterator(middle.begin() + static_cast<std::ptrdiff_t>(common)),
                 std::make_move_iterator(middle.end()));
}

}  // namespace

std::shared_ptr<const BoundDocument> IncrementalBinder::bind(const syntax::Document& document,
                                                             const google::protobuf::Descriptor* root_type,
                                                             const IncrementalBindOptions& options) {
  finish_deferred();
  State& state = *state_;
  const std::string_view text = document.text();
  const Symbols& S = symbols();
  const bool can_reuse = state.model && state.root_type == root_type && state.model.use_count() == 1;

  std::optional<std::vector<UnitSource>> sources;
  uint32_t root_child_count = 0;
  state.bound_from_region = false;
  if (can_reuse && options.region != nullptr && options.region_tree != nullptr &&
      options.region_tree->region() == options.region->bytes) {
    sources = units_around_edit(state, text, options.region_tree->root(), true, options.region, root_child_count);
    state.bound_from_region = sources.has_value();
  }
  // The whole tree, parsed now unless it was already.
  const TSNode root = state.bound_from_region ? TSNode{} : document.root();
  if (can_reuse && !sources) sources = units_around_edit(state, text, root, false, options.region, root_child_count);
  if (!sources) {
    root_child_count = ts_node_child_count(root);
    // The root's own fields (source order) and ERROR children: bind() takes
    // the fields first, then those inside ERROR nodes.
    std::vector<TSNode> field_nodes, error_nodes;
    std::vector<uint32_t> field_indices, error_indices;
    uint32_t child_index = 0;
    TSTreeCursor cursor = ts_tree_cursor_new(root);
    if (ts_tree_cursor_goto_first_child(&cursor)) {
      do {
        const TSNode child = ts_tree_cursor_current_node(&cursor);
        if (is_type(child, S.field)) {
          field_nodes.push_back(child);
          field_indices.push_back(child_index);
        } else if (is_error_node(child)) {
          error_nodes.push_back(child);
          error_indices.push_back(child_index);
        }
        ++child_index;
      } while (ts_tree_cursor_goto_next_sibling(&cursor));
    }
    ts_tree_cursor_delete(&cursor);

    // Which old unit each new field reuses: the fields before the first and
    // after the last edit, found as the longest common prefix and suffix of
    // error-free fields with the same bytes. The same bytes parse to the same
    // field subtree when neither has syntax errors, so they bind the same.
    std::vector<size_t> reuse(field_nodes.size(), SIZE_MAX);
    if (can_reuse) {
      std::vector<size_t> old_fields;  // indices into state.units, source order
      for (size_t i = 0; i < state.units.size(); ++i)
        if (!state.units[i].is_error) old_fields.push_back(i);
      auto same = [&](size_t old_index, TSNode node) {
        const State::Unit& old = state.units[old_index];
        const uint32_t start = ts_node_start_byte(node), end = ts_node_end_byte(node);
        return !old.has_syntax_error && !ts_node_has_error(node) && old.end - old.start == end - start &&
               end <= text.size() && old.end <= state.text->size() &&
               std::memcmp(state.text->data() + old.start, text.data() + start, end - start) == 0;
      };
      size_t prefix = 0;
      while (prefix < old_fields.size() && prefix < field_nodes.size() && same(old_fields[prefix], field_nodes[prefix])) {
        reuse[prefix] = old_fields[prefix];
        ++prefix;
      }
      for (size_t old_at = old_fields.size(), new_at = field_nodes.size();
           old_at > prefix && new_at > prefix && same(old_fields[old_at - 1], field_nodes[new_at - 1]);
           --old_at, --new_at)
        reuse[new_at - 1] = old_fields[old_at - 1];
    }
    sources.emplace();
    for (size_t i = 0; i < field_nodes.size(); ++i) {
      if (reuse[i] != SIZE_MAX)
        sources->push_back({reuse[i], ts_node_start_byte(field_nodes[i]) - state.units[reuse[i]].start, {}, false,
                            field_indices[i]});
      else
        sources->push_back({SIZE_MAX, 0, field_nodes[i], false, field_indices[i]});
    }
    for (size_t i = 0; i < error_nodes.size(); ++i) sources->push_back({SIZE_MAX, 0, error_nodes[i], true, error_indices[i]});
  }
  state.root_child_count = root_child_count;
  Binder binder(text, root_type);
  state.rebound = 0;
  // Reused units that moved, shifted after the loop (on two threads for a
  // large file: an edit near the top moves ~500,000 ranges of a 10,000-block
  // file, spread over the heap).
  struct Shift {
    size_t unit = 0, first_field = 0, field_count = 0;
    uint32_t delta = 0;
  };
  std::vector<Shift> shifts;
  std::vector<size_t> reused_fields;
  std::shared_ptr<BoundDocument> model;
  std::vector<State::Unit> units;
  // Appends the unit of `source` to `out_units` and its fields to
  // `out_fields` (whose first lands at `field_base` in the model, the unit at
  // `unit_base`): an old unit moved over from `old_units`/`old_fields`, or a
  // node bound afresh.
  auto place_unit = [&](const UnitSource& source, std::vector<State::Unit>& old_units, std::vector<Field>* old_fields,
                        std::vector<Field>& out_fields, std::vector<size_t>& out_reused,
                        std::vector<State::Unit>& out_units, size_t field_base, size_t unit_base) {
    State::Unit unit;
    unit.child_index = source.child_index;
    unit.first_field = field_base + out_fields.size();
    if (source.old_index != SIZE_MAX) {
      State::Unit& old = old_units[source.old_index];
      unit.has_syntax_error = old.has_syntax_error;
      unit.is_error = old.is_error;
      unit.start = old.start + source.delta;
      unit.end = old.end + source.delta;
      for (size_t f = 0; f < old.field_count; ++f) {
        out_reused.push_back(old.first_field + f);
        out_fields.push_back(std::move((*old_fields)[old.first_field + f]));
      }
      if (source.delta != 0)
        shifts.push_back({unit_base + out_units.size(), unit.first_field, old.field_count, source.delta});
      unit.field_count = old.field_count;
      unit.top = std::move(old.top);
      unit.nested = std::move(old.nested);
      unit.required = std::move(old.required);
      unit.broken = std::move(old.broken);
    } else {
      const TSNode node = source.node;
      unit.has_syntax_error = ts_node_has_error(node);
      unit.start = ts_node_start_byte(node);
      unit.end = ts_node_end_byte(node);
      unit.is_error = source.is_error;
      ++state.rebound;
      Binder::UnitResult result = binder.bind_unit(node, source.is_error);
      unit.field_count = result.fields.size();
      out_reused.insert(out_reused.end(), result.fields.size(), SIZE_MAX);
      for (Field& field : result.fields) out_fields.push_back(std::move(field));
      unit.top = std::move(result.top);
      unit.nested = std::move(result.nested);
      unit.required = std::move(result.required);
      unit.broken = std::move(result.broken);
    }
    out_units.push_back(std::move(unit));
  };
  const std::optional<SplicedUnits> splice = can_reuse ? spliced_units(*sources, state.units.size()) : std::nullopt;
  if (splice) {
    // The usual edit: the old model is updated where it is, the units the
    // edit touched replaced and the ones after it shifted. Moving its
    // 10,000 root fields and units into new vectors instead wrote ~2.6 MB of
    // fresh memory per keystroke.
    model = state.model;
    units = std::move(state.units);
    std::vector<Field>& fields = model->root.fields;
    const size_t old_unit_count = units.size();
    const size_t middle_begin = splice->prefix_units, middle_end = old_unit_count - splice->suffix_units;
    const size_t fields_begin = middle_begin < old_unit_count ? units[middle_begin].first_field : fields.size();
    const size_t fields_end = middle_end < old_unit_count ? units[middle_end].first_field : fields.size();
    std::vector<Field> middle_fields;
    std::vector<State::Unit> middle_units;
    std::vector<size_t> middle_reused;
    for (size_t k = splice->prefix_units; k < sources->size() - splice->suffix_units; ++k)
      place_unit((*sources)[k], units, &fields, middle_fields, middle_reused, middle_units, fields_begin, middle_begin);
    // What the middle replaces goes when the diagnostics are out (see below).
    state.retired_fields.assign(std::make_move_iterator(fields.begin() + static_cast<std::ptrdiff_t>(fields_begin)),
                                std::make_move_iterator(fields.begin() + static_cast<std::ptrdiff_t>(fields_end)));
    state.retired_units.assign(std::make_move_iterator(units.begin() + static_cast<std::ptrdiff_t>(middle_begin)),
                               std::make_move_iterator(units.begin() + static_cast<std::ptrdiff_t>(middle_end)));
    splice_into(fields, fields_begin, fields_end, middle_fields);
    splice_into(units, middle_begin, middle_end, middle_units);
    // The units after the edit: moved by the edit's delta, their fields by
    // the middle's change of count.
    const size_t after = middle_begin + middle_units.size();
    const auto field_offset = static_cast<std::ptrdiff_t>(middle_fields.size()) -
                              static_cast<std::ptrdiff_t>(fields_end - fields_begin);
    reused_fields.resize(fields.size());
    for (size_t f = 0; f < fields_begin; ++f) reused_fields[f] = f;
    std::copy(middle_reused.begin(), middle_reused.end(), reused_fields.begin() + static_cast<std::ptrdiff_t>(fields_begin));
    for (size_t k = 0; k < splice->suffix_units; ++k) {
      State::Unit& unit = units[after + k];
      const UnitSource& source = (*sources)[sources->size() - splice->suffix_units + k];
      const size_t old_first = unit.first_field;
      unit.first_field = static_cast<size_t>(static_cast<std::ptrdiff_t>(old_first) + field_offset);
      unit.child_index = source.child_index;
      unit.start += source.delta;
      unit.end += source.delta;
      for (size_t f = 0; f < unit.field_count; ++f) reused_fields[unit.first_field + f] = old_first + f;
      if (source.delta != 0) shifts.push_back({after + k, unit.first_field, unit.field_count, source.delta});
    }
    model->root.range = {0, static_cast<uint32_t>(text.size())};
  } else {
    model = std::make_shared<BoundDocument>();
    model->root.descriptor = root_type;
    model->root.range = {0, static_cast<uint32_t>(text.size())};
    model->root.open_range = {0, 0};
    units.reserve(sources->size());
    if (can_reuse) model->root.fields.reserve(state.model->root.fields.size() + 8);
    std::vector<Field>* old_fields = state.model ? &state.model->root.fields : nullptr;
    for (const UnitSource& source : *sources)
      place_unit(source, state.units, old_fields, model->root.fields, reused_fields, units, 0, 0);
  }

  {
    size_t total = 0;
    for (const Shift& shift : shifts) total += shift.field_count;
    // The two halves by field count: shifts [0, middle) here, the rest on the other thread.
    size_t middle = 0;
    for (size_t counted = 0; middle < shifts.size() && counted < total / 2; ++middle) counted += shifts[middle].field_count;
    // Deferred: the insides of repeated message fields (the model's bulk;
    // nothing assembling the diagnostics reads them).
    std::vector<State::DeferredShift> deferred;
    if (options.defer_nested_shifts) {
      for (const Shift& shift : shifts) {
        for (size_t i = shift.first_field; i < shift.first_field + shift.field_count; ++i) {
          Field& field = model->root.fields[i];
          if (!is_repeated_message(field)) continue;
          shift_field_itself(field, shift.delta);
          deferred.push_back({i, shift.delta});
        }
      }
    }
    auto shift_part = [&](size_t begin, size_t end) {
      for (size_t i = begin; i < end; ++i) {
        const Shift& shift = shifts[i];
        const std::span<Field> moved = std::span<Field>(model->root.fields).subspan(shift.first_field, shift.field_count);
        if (!options.defer_nested_shifts) {
          shift_fields(moved, shift.delta);
        } else {
          for (Field& field : moved)
            if (!is_repeated_message(field)) shift_fields(std::span<Field>(&field, 1), shift.delta);
        }
        State::Unit& unit = units[shift.unit];
        shift_diagnostics(unit.top, shift.delta);
        shift_diagnostics(unit.nested, shift.delta);
        shift_diagnostics(unit.required, shift.delta);
      }
    };
    constexpr size_t kParallelShiftFields = 2000;
    run_both(total >= kParallelShiftFields, [&] { shift_part(0, middle); }, [&] { shift_part(middle, shifts.size()); });
    state.deferred = std::move(deferred);
  }

  // Diagnostics in bind()'s emission order, then its stable sort by start.
  std::vector<Diagnostic> diagnostics;
  for (const State::Unit& unit : units) diagnostics.insert(diagnostics.end(), unit.top.begin(), unit.top.end());
  if (root_type != nullptr) {
    std::vector<Diagnostic> overwrites = binder.root_overwrites(model->root);
    diagnostics.insert(diagnostics.end(), overwrites.begin(), overwrites.end());
  }
  for (const State::Unit& unit : units) diagnostics.insert(diagnostics.end(), unit.nested.begin(), unit.nested.end());
  if (root_type != nullptr) {
    std::vector<const Message*> broken;
    for (const State::Unit& unit : units) broken.insert(broken.end(), unit.broken.begin(), unit.broken.end());
    const bool has_syntax_error = !state.bound_from_region && ts_node_has_error(root);
    std::vector<Diagnostic> required = binder.root_required(model->root, has_syntax_error, broken);
    // The root's own verdict comes first, as bind() judges the root group first.
    std::vector<Diagnostic> ordered;
    for (Diagnostic& diagnostic : required)
      if (diagnostic.range == model->root.open_range) ordered.push_back(diagnostic);
    for (const State::Unit& unit : units) ordered.insert(ordered.end(), unit.required.begin(), unit.required.end());
    for (Diagnostic& diagnostic : required)
      if (!(diagnostic.range == model->root.open_range)) ordered.push_back(diagnostic);
    diagnostics.insert(diagnostics.end(), ordered.begin(), ordered.end());
  }
  std::stable_sort(diagnostics.begin(), diagnostics.end(),
                   [](const Diagnostic& a, const Diagnostic& b) { return a.range.start < b.range.start; });
  model->diagnostics = std::move(diagnostics);
  // The old model's remaining fields (units not reused) go with it, once
  // the diagnostics are out when the caller defers.
  if (splice) {
    state.units = std::move(units);
    if (!options.defer_nested_shifts) {
      state.retired_fields.clear();
      state.retired_units.clear();
    }
  } else if (options.defer_nested_shifts) {
    state.retired_model = std::exchange(state.model, model);
    state.retired_units = std::exchange(state.units, std::move(units));
  } else {
    state.model = model;
    state.units = std::move(units);
  }
  state.reused_fields = std::move(reused_fields);
  state.root_type = root_type;
  state.text = document.shared_text();
  state.error_free = state.bound_from_region || !ts_node_has_error(root);
  return model;
}

}  // namespace amct::model
