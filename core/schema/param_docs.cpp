#include "core/schema/param_docs.h"

#include <array>
#include <set>

#include "core/embedded_files.h"
#include "core/text_util.h"

namespace amct::schema {

namespace {

constexpr std::array<std::string_view, 6> kColumns = {
    "message", "label", "type", "field", "description (zh)", "description (en)"};

const std::set<std::string_view>& known_labels() {
  static const std::set<std::string_view> labels = {
      "message", "enum", "enum value", "optional", "required", "repeated", "oneof"};
  return labels;
}

bool is_type_label(std::string_view label) { return label == "message" || label == "enum"; }

std::string lower(std::string_view text) {
  std::string result(text);
  for (char& c : result) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return result;
}

// Cells of a `| a | b |` line, with `\|` kept as a literal pipe. A trailing
// pipe is optional, as in Markdown.
std::vector<std::string> split_cells(std::string_view line) {
  std::vector<std::string> cells;
  line = trim(line);
  if (!line.empty() && line.front() == '|') line.remove_prefix(1);
  std::string cell;
  bool closed = false;
  for (size_t i = 0; i < line.size(); ++i) {
    if (line[i] == '\\' && i + 1 < line.size() && line[i + 1] == '|') {
      cell += '|';
      ++i;
    } else if (line[i] == '|') {
      cells.emplace_back(trim(cell));
      cell.clear();
      closed = true;
    } else {
      cell += line[i];
      closed = false;
    }
  }
  if (!closed || !trim(cell).empty()) cells.emplace_back(trim(cell));
  return cells;
}

bool is_separator(const std::vector<std::string>& cells) {
  if (cells.empty()) return false;
  for (const std::string& cell : cells) {
    if (cell.empty()) return false;
    for (char c : cell) {
      if (c != '-' && c != ':') return false;
    }
  }
  return true;
}

// `<br>` (also `<br/>`, `<br />`) is a line break inside a table cell.
std::string description_text(std::string_view cell) {
  std::string text;
  text.reserve(cell.size());
  while (!cell.empty()) {
    bool replaced = false;
    for (std::string_view tag : {"<br>", "<br/>", "<br />"}) {
      if (cell.substr(0, tag.size()) == tag) {
        text.push_back('\n');
        cell.remove_prefix(tag.size());
        replaced = true;
        break;
      }
    }
    if (!replaced) {
      text.push_back(cell.front());
      cell.remove_prefix(1);
    }
  }
  return text;
}

}  // namespace

ParamDocs parse_param_docs(std::string_view markdown) {
  ParamDocs docs;
  const auto error = [&docs](int line, const std::string& message) {
    docs.errors_.push_back("line " + std::to_string(line) + ": " + message);
  };

  enum class State { Outside, ExpectSeparator, Rows, SkippedTable };
  State state = State::Outside;
  int line_number = 0;
  size_t start = 0;
  while (start <= markdown.size()) {
    size_t end = markdown.find('\n', start);
    if (end == std::string_view::npos) end = markdown.size();
    const std::string_view line = trim(markdown.substr(start, end - start));
    start = end + 1;
    ++line_number;

    if (line.empty() || line.front() != '|') {
      state = State::Outside;
      continue;
    }
    const std::vector<std::string> cells = split_cells(line);
    if (state == State::Outside) {
      bool header_ok = cells.size() == kColumns.size();
      for (size_t i = 0; header_ok && i < cells.size(); ++i) {
        header_ok = lower(cells[i]) == kColumns[i];
      }
      if (!header_ok) {
        error(line_number,
              "table header must be | message | label | type | field | description (zh) | "
              "description (en) |; this table is skipped");
        state = State::SkippedTable;
      } else {
        state = State::ExpectSeparator;
      }
      continue;
    }
    if (state == State::SkippedTable) continue;
    if (state == State::ExpectSeparator) {
      state = State::Rows;
      if (is_separator(cells)) continue;
      error(line_number, "expected the |---| line under the table header");
    }

    if (cells.size() != kColumns.size()) {
      error(line_number, "expected " + std::to_string(kColumns.size()) + " cells, found " +
                             std::to_string(cells.size()) + "; row skipped");
      continue;
    }
    ParamDoc doc;
    doc.message = cells[0];
    doc.label = cells[1];
    doc.type = cells[2];
    doc.field = cells[3];
    doc.zh = description_text(cells[4]);
    doc.en = description_text(cells[5]);
    doc.line = line_number;
    if (doc.message.empty() || doc.message == "-" || doc.field.empty()) {
      error(line_number, "the message and field cells must not be empty; row skipped");
      continue;
    }
    if (!known_labels().count(doc.label)) {
      error(line_number, "unknown label '" + doc.label +
                             "' (expected message, enum, enum value, optional, required, "
                             "repeated or oneof); row skipped");
      continue;
    }
    if (is_type_label(doc.label) != (doc.field == "-")) {
      error(line_number, is_type_label(doc.label)
                             ? "a '" + doc.label + "' row has '-' in the field column; row skipped"
                             : "a field or enum value row needs a name in the field column; "
                               "row skipped");
      continue;
    }
    auto key = std::make_pair(doc.message, doc.field);
    if (const auto found = docs.by_key_.find(key); found != docs.by_key_.end()) {
      error(line_number, "duplicate of line " + std::to_string(docs.rows_[found->second].line) +
                             " (" + doc.message + " " + doc.field + "); row skipped");
      continue;
    }
    docs.by_key_.emplace(std::move(key), docs.rows_.size());
    docs.rows_.push_back(std::move(doc));
  }
  return docs;
}

const ParamDoc* ParamDocs::find(std::string_view message, std::string_view field,
                                bool enum_value) const {
  const auto found = by_key_.find(std::make_pair(std::string(message), std::string(field)));
  if (found == by_key_.end()) return nullptr;
  const ParamDoc& doc = rows_[found->second];
  if ((doc.label == "enum value") != enum_value) return nullptr;
  return &doc;
}

const ParamDoc* ParamDocs::field(std::string_view message, std::string_view field) const {
  if (field == "-") return nullptr;
  return find(message, field, false);
}

const ParamDoc* ParamDocs::field(const google::protobuf::FieldDescriptor* field) const {
  if (field == nullptr || field->containing_type() == nullptr) return nullptr;
  return this->field(field->containing_type()->full_name(), field->name());
}

const ParamDoc* ParamDocs::type(std::string_view full_name) const {
  return find(full_name, "-", false);
}

const ParamDoc* ParamDocs::enum_value(std::string_view enum_name, std::string_view value) const {
  return find(enum_name, value, true);
}

const ParamDoc* ParamDocs::enum_value(const google::protobuf::EnumValueDescriptor* value) const {
  if (value == nullptr) return nullptr;
  return enum_value(value->type()->full_name(), value->name());
}

const ParamDocs& amct_param_docs() {
  static const ParamDocs docs =
      parse_param_docs(amct::embedded::find("parameter_docs.md").value_or(std::string_view{}));
  return docs;
}

}  // namespace amct::schema
