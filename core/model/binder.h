#pragma once
// bind(): CST -> bound model + schema diagnostics with the same verdicts as
// libprotobuf's TextFormat::Parser (default options), except duplicate-field
// and oneof-conflict, which are warnings (AMCT/Python keep the last value).
#include <google/protobuf/descriptor.h>

#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include "core/model/bound.h"
#include "core/syntax/document.h"
#include "core/syntax/region_parse.h"

namespace amct::model {

struct BoundDocument {
  Message root;
  std::vector<Diagnostic> diagnostics;  // schema diagnostics only (not syntax)

  BoundDocument() = default;
  BoundDocument(const BoundDocument&) = default;
  BoundDocument(BoundDocument&&) noexcept = default;
  BoundDocument& operator=(const BoundDocument&) = default;
  BoundDocument& operator=(BoundDocument&&) noexcept = default;
  // Takes the tree apart iteratively: the implicit destructor recurses once
  // per nesting level, and 100,000 nested blocks would overflow the stack.
  ~BoundDocument();
};

// Diagnostic codes (all errors unless noted):
//   unknown-field       name not in the message / unknown extension / bad Any URL
//   type-mismatch       scalar for a message, message for a scalar, float for
//                       an int, hex/octal for a float, string for a number...
//   out-of-range        integer beyond its type; float overflow (warning only:
//                       protobuf stores inf)
//   invalid-enum-value  unknown name, or unknown number of a closed enum
//   invalid-bool        not true/false/True/False/t/f/1/0
//   missing-colon       scalar field without ':' (only reachable for `x []`)
//   not-repeated        list syntax on a singular field
//   invalid-escape      \U escape beyond U+10FFFF
//   missing-required    on the block's opening bracket (root: empty range at 0)
//   unexpected-separator  ',' or ';' after a reserved field or an Any value
//   invalid-reserved-value  a reserved field's value protobuf cannot skip
//   duplicate-field, oneof-conflict  warnings, related info -> other occurrence
//   reserved-field, deprecated-field  warnings
// `root_type` may be null (no schema): the structure is still bound, with no
// descriptors and no schema diagnostics.
BoundDocument bind(const syntax::Document& document,
                   const google::protobuf::Descriptor* root_type);

// The same over a tree-sitter tree of `text` (a textproto source_file), for
// callers that hold no Document. `root` must stay valid during the call.
BoundDocument bind_tree(std::string_view text, TSNode root,
                        const google::protobuf::Descriptor* root_type);

// What IncrementalBinder::region_to_reparse() found comparing the last
// call's text with the next one: the bytes to parse again, and the top-level
// units the edit leaves alone ([0, kept_before) in place, [first_kept_after,
// end) moved by `delta`).
struct ReparseRegion {
  ByteRange bytes;
  size_t common_prefix = 0;
  size_t common_suffix = 0;  // may overlap the prefix (text repeated around the edit)
  size_t kept_before = 0;
  size_t first_kept_after = 0;
  uint32_t delta = 0;  // new size - old size, modular
};

struct IncrementalBindOptions {
  // region_to_reparse(document.text()) and the tree of its bytes alone: the
  // document's own tree is not parsed when the region is enough (the fields
  // around the edit are bound from it, and the rest moved over).
  const ReparseRegion* region = nullptr;
  const syntax::RegionTree* region_tree = nullptr;
  // Leave the insides of moved repeated message fields at their old offsets
  // until finish_deferred() (or the next bind()): the root fields, their
  // scalars and every diagnostic are final, so the diagnostics can be
  // published first. An edit near the top of a 10,000-block file moves
  // ~500,000 ranges.
  bool defer_nested_shifts = false;
};

// Binds successive versions of one document, re-binding only the top-level
// units (fields, and ERROR nodes holding fields) between the first and the
// last edit: the error-free top-level fields of the common prefix and suffix
// (same bytes) keep their bound fields and diagnostics, shifted to their new
// offsets; root-level verdicts (duplicate
// top-level fields, required fields of the root and of merged singular
// blocks) are recomputed over the assembled root. The result equals bind()
// (tests/core/incremental_analysis_test.cpp applies random edits to prove it).
//
// Fields are moved out of the previous result when the caller no longer holds
// it (use_count 1); otherwise everything is bound again, so a model handed
// out is never changed.
class IncrementalBinder {
 public:
  IncrementalBinder();
  ~IncrementalBinder();
  IncrementalBinder(const IncrementalBinder&) = delete;
  IncrementalBinder& operator=(const IncrementalBinder&) = delete;

  std::shared_ptr<const BoundDocument> bind(const syntax::Document& document,
                                            const google::protobuf::Descriptor* root_type,
                                            const IncrementalBindOptions& options = {});
  // Completes a model bound with defer_nested_shifts (nothing to do otherwise).
  void finish_deferred();

  // The bytes of `text` (the next version) that hold every top-level unit an
  // edit since the last call may have changed, starting and ending at
  // top-level boundaries, when the last version had no syntax errors; parsed
  // alone without errors, they stand for the whole tree (see bind()).
  // `known`: bytes known common to both ends of the last text and `text`
  // (syntax::Document::unchanged_ends_since(last_text())), so that only the
  // bytes around the edit are compared.
  std::optional<ReparseRegion> region_to_reparse(std::string_view text,
                                                 std::optional<syntax::Document::KnownEnds> known = {}) const;
  // The text of the last bind() (null before the first), held until the next.
  const std::string* last_text() const;
  // Whether the last call bound from such a region, without the whole tree.
  bool last_bound_from_region() const;
  // The names of the last call's top-level fields starting in `bytes` (of
  // the last call's text), in source order; empty without a model.
  std::vector<std::string_view> top_level_names_in(ByteRange bytes) const;

  // Top-level units bound afresh by the last call (the rest were reused).
  size_t last_rebound_units() const;
  // For each root field of the last call's model: the index of the root
  // field of the call before that it was moved from (same bytes, shifted),
  // or SIZE_MAX if it was bound afresh.
  const std::vector<size_t>& last_reused_fields() const;

  struct State;  // opaque: defined in binder.cpp

 private:
  std::unique_ptr<State> state_;
};

}  // namespace amct::model
