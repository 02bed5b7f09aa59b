#pragma once
// Diagnostics as every layer of core/ produces them: byte ranges into the
// document's UTF-8 text, converted to lines and columns only at the edges
// (server/ for LSP, the CLI for file:line:col).
#include <cstdint>
#include <string>
#include <vector>

namespace amct {

struct ByteRange {
  uint32_t start = 0;
  uint32_t end = 0;
  friend bool operator==(const ByteRange&, const ByteRange&) = default;
};

enum class Severity { Error = 1, Warning = 2, Information = 3, Hint = 4 };

const char* severity_name(Severity severity);  // "error", "warning", "info", "hint"

struct RelatedInformation {
  ByteRange range;  // in the same document
  std::string message;
};

struct Diagnostic {
  ByteRange range;
  Severity severity = Severity::Error;
  std::string code;     // stable kebab-case id, e.g. "syntax-error"
  std::string message;  // a sentence a person understands
  std::vector<RelatedInformation> related;
};

}  // namespace amct
