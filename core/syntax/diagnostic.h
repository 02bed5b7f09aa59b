#pragma once
// Diagnostics as every layer of core/ produces them: byte ranges into the
// document's UTF-8 text, converted to lines and columns only at the edges
// (server/ for LSP, the CLI for file:line:col).
#include <cstdint>
#include <memory>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

namespace amct {

struct ByteRange {
  uint32_t start = 0;
  uint32_t end = 0;
  friend bool operator==(const ByteRange&, const ByteRange&) = default;
};

enum class Severity { Error = 1, Warning = 2, Information = 3, Hint = 4 };

const char* severity_name(Severity severity);  // "error", "warning", "info", "hint"

// Immutable text whose copies share one buffer. An editor's check copies
// every diagnostic of a document between caches after each keystroke
// (thousands of them for a large config); copying a message must not copy
// its bytes. Reads like a const std::string.
class SharedText {
 public:
  SharedText() = default;
  SharedText(std::string text);  // NOLINT: implicit, as a std::string member was
  SharedText(const char* text) : SharedText(std::string(text)) {}
  SharedText(std::string_view text) : SharedText(std::string(text)) {}

  const std::string& str() const { return text_ ? *text_ : no_text(); }
  operator const std::string&() const { return str(); }
  operator std::string_view() const { return str(); }
  const char* c_str() const { return str().c_str(); }
  size_t size() const { return str().size(); }
  bool empty() const { return str().empty(); }
  size_t find(std::string_view needle, size_t from = 0) const { return str().find(needle, from); }
  std::string_view substr(size_t from, size_t count = std::string_view::npos) const {
    return std::string_view(str()).substr(from, count);
  }

  friend bool operator==(const SharedText& a, const SharedText& b) {
    return a.text_ == b.text_ || a.str() == b.str();
  }
  friend bool operator==(const SharedText& a, std::string_view b) { return a.str() == b; }
  friend bool operator==(const SharedText& a, const std::string& b) { return a.str() == b; }
  friend bool operator==(const SharedText& a, const char* b) { return a.str() == b; }
  friend std::string operator+(const SharedText& a, std::string_view b) { return a.str() + std::string(b); }
  friend std::string operator+(std::string_view a, const SharedText& b) { return std::string(a) + b.str(); }
  friend std::ostream& operator<<(std::ostream& out, const SharedText& text) { return out << text.str(); }

 private:
  static const std::string& no_text();
  std::shared_ptr<const std::string> text_;
};

struct RelatedInformation {
  ByteRange range;  // in the same document
  SharedText message;
};

struct Diagnostic {
  ByteRange range;
  Severity severity = Severity::Error;
  std::string code;    // stable kebab-case id, e.g. "syntax-error"
  SharedText message;  // a sentence a person understands
  std::vector<RelatedInformation> related;
};

// Orders diagnostics by start offset, keeping the order of equal starts
// (std::stable_sort). Most lists arrive sorted (rules emit in source order;
// concatenating sorted lists often stays sorted): those are left as they are
// instead of being moved through a merge sort, which costs real time with
// 100,000 diagnostics.
void sort_by_start(std::vector<Diagnostic>& diagnostics);

}  // namespace amct
