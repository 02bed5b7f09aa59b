#pragma once
// The single-pass path of `--check`: a hand-written tokenizer and parser of
// the textproto grammar (grammar/grammar.js) that builds, straight from the
// bytes, the same bound model and schema diagnostics as the tree-sitter path
// (syntax::Document + bind()), without a concrete syntax tree.
//
// It covers the common shapes exactly and declines everything else, so that
// the caller falls back to the tree-sitter path and the output never differs:
// any syntax error, invalid UTF-8, control characters, non-ASCII outside
// strings and comments, extension and Any names (`[...]`), reserved field
// names, nesting deeper than kMaxFastNesting. tests/core/fast_binder_test.cpp
// holds the two paths to the same results.
#include <google/protobuf/descriptor.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/model/binder.h"
#include "core/syntax/diagnostic.h"

namespace amct::model {

inline constexpr size_t kMaxFastNesting = 200;

// A header comment (`# soc: Ascend310P3`) as the grammar's `header` node.
struct FastHeader {
  std::string_view key_text;    // "# soc:" as written
  ByteRange key_range;
  std::optional<ByteRange> value_range;  // from the first non-blank to the end of the line
  ByteRange range;              // the whole header node
};

struct FastOptions {
  // From this size on, the second half of the top level is parsed and bound
  // on a second thread (when a split point between two top-level items is
  // found); the result is the same.
  size_t parallel_min_bytes = size_t{4} << 20;
};

// The parsed document, ready to be bound against any schema.
class FastSyntax {
 public:
  ~FastSyntax();
  FastSyntax(FastSyntax&&) noexcept;
  FastSyntax& operator=(FastSyntax&&) noexcept;

  const std::vector<FastHeader>& headers() const;
  // Distinct top-level field names in first-seen order (views into the text).
  const std::vector<std::string_view>& top_level_fields() const;
  // True when the two halves were parsed (and will be bound) on two threads.
  bool split_in_two() const;

  struct Tree;

 private:
  friend std::optional<FastSyntax> parse_fast(std::string_view text, const FastOptions& options);
  friend std::optional<BoundDocument> bind_fast(const FastSyntax& syntax, const google::protobuf::Descriptor* root_type);
  friend std::optional<BoundDocument> bind_fast(FastSyntax&& syntax, const google::protobuf::Descriptor* root_type);
  FastSyntax();
  std::unique_ptr<Tree> tree_;
};

// nullopt when the text is not in the subset this parser reproduces exactly.
// `text` must outlive the result.
std::optional<FastSyntax> parse_fast(std::string_view text, const FastOptions& options = {});

// The bound model and schema diagnostics, equal to bind() of a Document of the
// same text; nullopt when binding needs what the fast path does not cover
// (a reserved field name). `root_type` may be null (structure only).
std::optional<BoundDocument> bind_fast(const FastSyntax& syntax, const google::protobuf::Descriptor* root_type);

// The same, giving up the syntax: its nodes (64 MB for a 35 MB config) are
// freed as soon as the model is built, before the passes that follow
// allocate theirs.
std::optional<BoundDocument> bind_fast(FastSyntax&& syntax, const google::protobuf::Descriptor* root_type);

}  // namespace amct::model
