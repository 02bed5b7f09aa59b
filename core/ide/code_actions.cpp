#include "core/ide/code_actions.h"

#include <cstring>

namespace amct::ide {

using google::protobuf::FieldDescriptor;

namespace {

bool touches(ByteRange a, ByteRange b) { return a.start <= b.end && b.start <= a.end; }

// The suggestion of an unknown-field message ("...; did you mean 'dst_type'?").
std::string suggestion_of(const std::string& message) {
  const std::string marker = "did you mean '";
  const size_t at = message.find(marker);
  if (at == std::string::npos) return {};
  const size_t start = at + marker.size();
  const size_t end = message.find('\'', start);
  return end == std::string::npos ? std::string() : message.substr(start, end - start);
}

// The text range that deleting a field removes: its whole lines when it is
// alone on them, else the field and the blanks after it.
ByteRange removal_range(const syntax::Document& document, ByteRange field) {
  const std::string& text = document.text();
  uint32_t start = field.start, end = field.end;
  uint32_t line_start = start;
  while (line_start > 0 && (text[line_start - 1] == ' ' || text[line_start - 1] == '\t')) --line_start;
  uint32_t line_end = end;
  while (line_end < text.size() && (text[line_end] == ' ' || text[line_end] == '\t')) ++line_end;
  const bool alone = (line_start == 0 || text[line_start - 1] == '\n') && (line_end == text.size() || text[line_end] == '\n');
  if (alone) return {line_start, std::min<uint32_t>(line_end + 1, static_cast<uint32_t>(text.size()))};
  while (end < text.size() && (text[end] == ' ' || text[end] == '\t')) ++end;
  return {start, end};
}

// The `field` node around a range (the diagnostic's token).
TSNode enclosing_field(const syntax::Document& document, ByteRange range) {
  TSNode node = ts_node_descendant_for_byte_range(document.root(), range.start, range.end);
  while (!ts_node_is_null(node) && std::strcmp(ts_node_type(node), "field") != 0) node = ts_node_parent(node);
  return node;
}

std::string placeholder(const FieldDescriptor* field) {
  switch (field->cpp_type()) {
    case FieldDescriptor::CPPTYPE_MESSAGE: return " {}";
    case FieldDescriptor::CPPTYPE_STRING: return ": \"\"";
    case FieldDescriptor::CPPTYPE_BOOL: return ": false";
    case FieldDescriptor::CPPTYPE_ENUM: return ": " + field->enum_type()->value(0)->name();
    case FieldDescriptor::CPPTYPE_FLOAT:
    case FieldDescriptor::CPPTYPE_DOUBLE: return ": 0.0";
    default: return ": 0";
  }
}

// The bound message whose opening bracket is at `range` (missing-required points there).
const model::Message* message_opening_at(const model::BoundDocument& bound, ByteRange range) {
  std::vector<const model::Message*> pending{&bound.root};
  while (!pending.empty()) {
    const model::Message* message = pending.back();
    pending.pop_back();
    if (message->open_range == range) return message;
    for (const model::Field& field : message->fields)
      for (const model::Message& child : field.messages) pending.push_back(&child);
  }
  return nullptr;
}

std::string indentation_of_line(const syntax::Document& document, uint32_t offset) {
  const uint32_t line = document.position_at(offset, syntax::PositionEncoding::Utf8).line;
  const uint32_t start = document.line_start(line);
  uint32_t end = start;
  while (end < document.text().size() && (document.text()[end] == ' ' || document.text()[end] == '\t')) ++end;
  return document.text().substr(start, end - start);
}

}  // namespace

std::vector<CodeAction> code_actions(const syntax::Document& document, const CodeActionInput& input) {
  std::vector<CodeAction> actions;
  const std::vector<Diagnostic> none;
  const std::vector<Diagnostic>& diagnostics = input.diagnostics ? *input.diagnostics : none;
  for (size_t index = 0; index < diagnostics.size(); ++index) {
    const Diagnostic& diagnostic = diagnostics[index];
    if (!touches(diagnostic.range, input.range)) continue;
    if (diagnostic.code == "unknown-field") {
      const std::string suggestion = suggestion_of(diagnostic.message);
      if (!suggestion.empty())
        actions.push_back({"Change to '" + suggestion + "'", "quickfix", {index}, {{diagnostic.range, suggestion}}, true});
    } else if (diagnostic.code == "duplicate-field" || diagnostic.code == "duplicate-skip") {
      TSNode field = enclosing_field(document, diagnostic.range);
      if (!ts_node_is_null(field))
        actions.push_back({"Remove the duplicate (AMCT keeps only one)", "quickfix", {index},
                           {{removal_range(document, syntax::byte_range_of(field)), ""}}, true});
    } else if (diagnostic.code == "soc-unsupported-dtype" && document.text_of(diagnostic.range) == "INT4") {
      actions.push_back({"Use INT8 (this SoC has no INT4)", "quickfix", {index}, {{diagnostic.range, "INT8"}}, true});
    } else if (diagnostic.code == "missing-required" && input.bound) {
      const model::Message* message = message_opening_at(*input.bound, diagnostic.range);
      if (!message || !message->descriptor || message == &input.bound->root) continue;
      const std::string indent = indentation_of_line(document, diagnostic.range.start) + "  ";
      std::string insertion;
      std::string names;
      for (int i = 0; i < message->descriptor->field_count(); ++i) {
        const FieldDescriptor* field = message->descriptor->field(i);
        if (!field->is_required() || message->find(field->name())) continue;
        insertion += "\n" + indent + field->name() + placeholder(field);
        names += (names.empty() ? "'" : ", '") + field->name() + "'";
      }
      if (!insertion.empty())
        actions.push_back({"Add the required " + names, "quickfix", {index},
                           {{{diagnostic.range.end, diagnostic.range.end}, insertion}}, false});
    } else if (diagnostic.code == "schema-header-incomplete" &&
               document.text_of(diagnostic.range).find("proto-file") != std::string_view::npos) {
      const uint32_t line = document.position_at(diagnostic.range.start, syntax::PositionEncoding::Utf8).line;
      const uint32_t next_line = document.line_end(line) + 1;
      actions.push_back({"Insert a '# proto-message:' header", "quickfix", {index},
                         {{{std::min<uint32_t>(next_line, document.text().size()), std::min<uint32_t>(next_line, document.text().size())},
                           "# proto-message: \n"}},
                         true});
    }
  }
  // A textproto no schema applies to: offer the headers that bind one.
  if (!input.has_schema && document.text().find("# proto-") == std::string::npos)
    actions.push_back({"Insert '# proto-file:' and '# proto-message:' headers", "source", {}, {{{0, 0}, "# proto-file: \n# proto-message: \n"}}, false});
  return actions;
}

}  // namespace amct::ide
