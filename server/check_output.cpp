#include "server/check_output.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>

#include "core/parallel.h"
#include "core/syntax/utf.h"
#include "server/check_codes.h"

namespace amct::server {
namespace {
namespace fs = std::filesystem;
using Json = nlohmann::ordered_json;

// Messages and paths may hold bytes that are not UTF-8 (the file's own
// text quoted in a message); replace them rather than fail to print.
std::string dump(const Json& json) {
  return json.dump(2, ' ', false, Json::error_handler_t::replace) + "\n";
}

std::string hex_escape(unsigned char byte) {
  static const char* hex = "0123456789ABCDEF";
  return std::string("\\x") + hex[byte >> 4] + hex[byte & 15];
}

}  // namespace

std::string printable(std::string_view text) {
  // Messages and paths are almost always plain ASCII: copy them as they are.
  const bool plain = std::all_of(text.begin(), text.end(), [](char c) {
    return (c >= 0x20 && c < 0x7F) || c == '\t';
  });
  if (plain) return std::string(text);
  std::string out;
  out.reserve(text.size());
  size_t offset = 0;
  while (offset < text.size()) {
    const syntax::DecodedChar decoded = syntax::decode_utf8(text, offset);
    const bool control = decoded.valid && (decoded.code_point < 0x20 || decoded.code_point == 0x7F ||
                                           (decoded.code_point >= 0x80 && decoded.code_point < 0xA0));
    if (!decoded.valid || (control && decoded.code_point != '\t')) {
      for (uint32_t i = 0; i < decoded.length; ++i) {
        out += hex_escape(static_cast<unsigned char>(text[offset + i]));
      }
    } else {
      out.append(text.substr(offset, decoded.length));
    }
    offset += decoded.length;
  }
  return out;
}

namespace {

const char* sarif_level(Severity severity) {
  switch (severity) {
    case Severity::Error: return "error";
    case Severity::Warning: return "warning";
    case Severity::Information:
    case Severity::Hint: return "note";
  }
  return "error";
}

std::string plural(int count, const char* singular, const char* plural_form) {
  return std::to_string(count) + " " + (count == 1 ? singular : plural_form);
}

Json sarif_region(const syntax::LineColumn& start, const syntax::LineColumn& end) {
  return Json{{"startLine", start.line},
              {"startColumn", start.column},
              {"endLine", end.line},
              {"endColumn", end.column}};
}

Json sarif_physical_location(const std::string& uri, const syntax::LineColumn& start,
                             const syntax::LineColumn& end) {
  Json artifact = {{"uri", uri}};
  if (uri.rfind("file:", 0) != 0) artifact["uriBaseId"] = "%SRCROOT%";
  return Json{{"artifactLocation", artifact}, {"region", sarif_region(start, end)}};
}

std::string rule_name(const std::string& code) {
  // "unknown-field" -> "UnknownField" (SARIF's reportingDescriptor.name style)
  std::string name;
  bool upper = true;
  for (char c : code) {
    if (c == '-') {
      upper = true;
      continue;
    }
    name += upper ? static_cast<char>(std::toupper(static_cast<unsigned char>(c))) : c;
    upper = false;
  }
  return name;
}

Json sarif_rule(const std::string& code, const std::string& level, const std::string& short_text,
                const std::string& help) {
  return Json{{"id", code},
              {"name", rule_name(code)},
              {"shortDescription", {{"text", short_text}}},
              {"fullDescription", {{"text", help}}},
              {"help", {{"text", help}}},
              {"defaultConfiguration", {{"level", level}}}};
}

bool is_unreserved(unsigned char c) {
  return std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~' || c == '/';
}

std::string percent_encode(const std::string& text) {
  static const char* hex = "0123456789ABCDEF";
  std::string encoded;
  for (unsigned char c : text) {
    if (is_unreserved(c)) {
      encoded += static_cast<char>(c);
    } else {
      encoded += '%';
      encoded += hex[c >> 4];
      encoded += hex[c & 15];
    }
  }
  return encoded;
}

std::string directory_uri(const std::string& directory) {
  std::string path = fs::path(directory).generic_string();
  if (path.empty() || path.back() != '/') path += '/';
  return "file://" + percent_encode(path);
}

}  // namespace

namespace {

// Appends printable(text) without a copy for the usual plain-ASCII text.
bool is_plain(char c) { return (c >= 0x20 && c < 0x7F) || c == '\t'; }

// Whether every byte is_plain(), eight bytes at a time (15 MB of messages
// for a 100,000-block config): a word with a byte below 0x20, 0x7F or above
// is looked at byte by byte (a tab is plain).
bool all_plain(std::string_view text) {
  constexpr uint64_t kOnes = 0x0101010101010101ull;
  constexpr uint64_t kHighs = 0x8080808080808080ull;
  size_t i = 0;
  for (; i + 8 <= text.size(); i += 8) {
    uint64_t word;
    std::memcpy(&word, text.data() + i, 8);
    const uint64_t below_space = (word - kOnes * 0x20) & ~word & kHighs;
    const uint64_t deletes = word ^ (kOnes * 0x7F);
    const uint64_t is_delete = (deletes - kOnes) & ~deletes & kHighs;
    if (((word & kHighs) | below_space | is_delete) != 0 &&
        !std::all_of(text.data() + i, text.data() + i + 8, is_plain))
      return false;
  }
  return std::all_of(text.data() + i, text.data() + text.size(), is_plain);
}

void append_printable(std::string& out, std::string_view text) {
  const bool plain = all_plain(text);
  if (plain) {
    out.append(text);
  } else {
    out += printable(text);
  }
}

void append_number(std::string& out, uint32_t number) {
  char digits[16];
  const auto result = std::to_chars(digits, digits + sizeof digits, number);
  out.append(digits, result.ptr);
}

void append_location(std::string& out, std::string_view printable_path, const syntax::LineColumn& position) {
  out.append(printable_path);
  out += ':';
  append_number(out, position.line);
  out += ':';
  append_number(out, position.column);
}

void append_text_diagnostics(std::string& out, std::string_view path, const LocatedDiagnostic* begin,
                             const LocatedDiagnostic* end) {
  for (const LocatedDiagnostic* diagnostic = begin; diagnostic != end; ++diagnostic) {
    append_location(out, path, diagnostic->start);
    out += ": ";
    out += severity_name(diagnostic->severity);
    out += ": ";
    append_printable(out, diagnostic->message);
    out += " [";
    out += diagnostic->code;
    out += "]\n";
    for (const LocatedRelated& related : diagnostic->related) {
      append_location(out, path, related.start);
      out += ": note: ";
      append_printable(out, related.message);
      out += '\n';
    }
  }
}

// From this many diagnostics in one file on, its two halves are written on
// two threads and joined.
constexpr size_t kParallelText = 8192;

}  // namespace

// Built with plain appends: a 100,000-block config can have 50,000
// diagnostics and more (15 MB of text), where stream insertion and
// temporary strings per line were a visible share of --check.
std::vector<std::string> text_report_parts(const std::vector<FileReport>& reports) {
  const auto estimate_of = [](const std::string& path, const LocatedDiagnostic* begin, const LocatedDiagnostic* end) {
    size_t estimate = 0;
    for (const LocatedDiagnostic* diagnostic = begin; diagnostic != end; ++diagnostic) {
      estimate += path.size() + diagnostic->message.size() + diagnostic->code.size() + 40;
      for (const LocatedRelated& related : diagnostic->related) estimate += path.size() + related.message.size() + 32;
    }
    return estimate;
  };
  // One allocation for the text of the files written on one thread, one
  // for each half of a big file: no copy per doubling, and no room
  // reserved (and faulted in) that is never written.
  size_t serial_estimate = 0;
  for (const FileReport& report : reports) {
    if (report.read_error || report.diagnostics.size() >= kParallelText) continue;
    serial_estimate += estimate_of(report.path, report.diagnostics.data(),
                                   report.diagnostics.data() + report.diagnostics.size());
  }
  std::vector<std::string> parts;
  std::string out;
  out.reserve(serial_estimate);
  for (const FileReport& report : reports) {
    if (report.read_error) continue;
    const std::string path = printable(report.path);
    const LocatedDiagnostic* begin = report.diagnostics.data();
    const LocatedDiagnostic* end = begin + report.diagnostics.size();
    if (report.diagnostics.size() < kParallelText) {
      append_text_diagnostics(out, path, begin, end);
      continue;
    }
    const LocatedDiagnostic* middle = begin + report.diagnostics.size() / 2;
    std::string first;
    std::string second;
    run_both(
        true,
        [&] {
          first.reserve(estimate_of(report.path, begin, middle));
          append_text_diagnostics(first, path, begin, middle);
        },
        [&] {
          second.reserve(estimate_of(report.path, middle, end));
          append_text_diagnostics(second, path, middle, end);
        });
    if (!out.empty()) {
      parts.push_back(std::move(out));
      out = std::string();
    }
    parts.push_back(std::move(first));
    parts.push_back(std::move(second));
  }
  if (!out.empty() || parts.empty()) parts.push_back(std::move(out));
  return parts;
}

std::string text_report(const std::vector<FileReport>& reports) {
  std::vector<std::string> parts = text_report_parts(reports);
  if (parts.size() == 1) return std::move(parts.front());
  size_t size = 0;
  for (const std::string& part : parts) size += part.size();
  std::string out;
  out.reserve(size);
  for (const std::string& part : parts) out += part;
  return out;
}

void write_text_report(std::ostream& out, const std::vector<FileReport>& reports) {
  for (const std::string& part : text_report_parts(reports)) out << part;
}

std::string json_report(const std::vector<FileReport>& reports) {
  Json files = Json::array();
  for (const FileReport& report : reports) {
    if (report.read_error) continue;
    Json diagnostics = Json::array();
    for (const LocatedDiagnostic& diagnostic : report.diagnostics) {
      Json related = Json::array();
      for (const LocatedRelated& info : diagnostic.related) {
        related.push_back({{"line", info.start.line},
                           {"column", info.start.column},
                           {"endLine", info.end.line},
                           {"endColumn", info.end.column},
                           {"message", info.message}});
      }
      diagnostics.push_back({{"line", diagnostic.start.line},
                             {"column", diagnostic.start.column},
                             {"endLine", diagnostic.end.line},
                             {"endColumn", diagnostic.end.column},
                             {"severity", severity_name(diagnostic.severity)},
                             {"code", diagnostic.code},
                             {"message", diagnostic.message},
                             {"related", related}});
    }
    files.push_back({{"path", report.path},
                     {"schema", report.schema.empty() ? Json(nullptr) : Json(report.schema)},
                     {"diagnostics", diagnostics}});
  }
  CheckSummary summary = summarize(reports);
  Json root = {{"files", files},
               {"summary",
                {{"files", summary.files_checked},
                 {"errors", summary.errors},
                 {"warnings", summary.warnings}}}};
  return dump(root);
}

std::string artifact_uri(const std::string& path, const std::string& working_directory) {
  // A relative path is relative to the working directory the paths were given in.
  fs::path absolute = (fs::path(working_directory) / path).lexically_normal();
  fs::path relative = absolute.lexically_relative(fs::path(working_directory).lexically_normal());
  std::string relative_text = relative.generic_string();
  if (!relative_text.empty() && relative_text != "." && relative_text.rfind("..", 0) != 0) {
    return percent_encode(relative_text);
  }
  return "file://" + percent_encode(absolute.generic_string());
}

std::string sarif_report(const std::vector<FileReport>& reports, const SarifOptions& options) {
  Json rules = Json::array();
  std::map<std::string, size_t> rule_index;
  for (const DiagnosticCodeInfo& info : diagnostic_codes()) {
    rule_index.emplace(info.code, rules.size());
    rules.push_back(sarif_rule(info.code, info.level, info.short_description, info.help));
  }
  Json results = Json::array();
  Json notifications = Json::array();
  for (const FileReport& report : reports) {
    if (report.read_error) {
      notifications.push_back({{"level", "error"}, {"message", {{"text", *report.read_error}}}});
      continue;
    }
    std::string uri = artifact_uri(report.path, options.working_directory);
    for (const LocatedDiagnostic& diagnostic : report.diagnostics) {
      auto [entry, inserted] = rule_index.emplace(diagnostic.code, rules.size());
      if (inserted) {
        rules.push_back(sarif_rule(diagnostic.code, sarif_level(diagnostic.severity),
                                   diagnostic.code, "No help text is recorded for this code yet."));
      }
      Json result = {{"ruleId", diagnostic.code},
                     {"ruleIndex", entry->second},
                     {"level", sarif_level(diagnostic.severity)},
                     {"message", {{"text", diagnostic.message}}},
                     {"locations",
                      Json::array({{{"physicalLocation",
                                     sarif_physical_location(uri, diagnostic.start,
                                                             diagnostic.end)}}})}};
      if (!diagnostic.related.empty()) {
        Json related = Json::array();
        int id = 1;
        for (const LocatedRelated& info : diagnostic.related) {
          related.push_back({{"id", id++},
                             {"physicalLocation", sarif_physical_location(uri, info.start, info.end)},
                             {"message", {{"text", info.message}}}});
        }
        result["relatedLocations"] = related;
      }
      results.push_back(result);
    }
  }
  Json invocation = {{"executionSuccessful", notifications.empty()}};
  if (!notifications.empty()) invocation["toolExecutionNotifications"] = notifications;
  Json run = {
      {"tool",
       {{"driver",
         {{"name", "amct-lsp"},
          {"version", options.tool_version},
          {"semanticVersion", options.tool_version},
          {"rules", rules}}}}},
      {"originalUriBaseIds", {{"%SRCROOT%", {{"uri", directory_uri(options.working_directory)}}}}},
      {"invocations", Json::array({invocation})},
      {"columnKind", "unicodeCodePoints"},
      {"results", results}};
  Json root = {{"$schema", "https://json.schemastore.org/sarif-2.1.0.json"},
               {"version", "2.1.0"},
               {"runs", Json::array({run})}};
  return dump(root);
}

std::string summary_line(const CheckSummary& summary) {
  std::string line = "amct-lsp: checked " + plural(summary.files_checked, "file", "files") + ": " +
                     plural(summary.errors, "error", "errors") + ", " +
                     plural(summary.warnings, "warning", "warnings");
  if (summary.files_failed > 0) {
    line += "; " + plural(summary.files_failed, "file", "files") + " could not be read";
  }
  return line;
}

}  // namespace amct::server
