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

// Orders diagnostics by start offset, keeping the order of equal starts
// (std::stable_sort). Most lists arrive sorted (rules emit in source order;
// concatenating sorted lists often stays sorted): those are left as they are
// instead of being moved through a merge sort, which costs real time with
// 100,000 diagnostics.
void sort_by_start(std::vector<Diagnostic>& diagnostics);

}  // namespace amct
