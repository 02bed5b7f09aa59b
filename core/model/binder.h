#pragma once
// bind(): CST -> bound model + schema diagnostics with the same verdicts as
// libprotobuf's TextFormat::Parser (default options), except duplicate-field
// and oneof-conflict, which are warnings (AMCT/Python keep the last value).
#include <google/protobuf/descriptor.h>

#include <string_view>
#include <vector>

#include "core/model/bound.h"
#include "core/syntax/document.h"

namespace amct::model {

struct BoundDocument {
  Message root;
  std::vector<Diagnostic> diagnostics;  // schema diagnostics only (not syntax)
};

// `root_type` may be null (no schema): the structure is still bound, with no
// descriptors and no schema diagnostics.
BoundDocument bind(const syntax::Document& document,
                   const google::protobuf::Descriptor* root_type);

// The same over a tree-sitter tree of `text` (a textproto source_file), for
// callers that hold no Document. `root` must stay valid during the call.
BoundDocument bind_tree(std::string_view text, TSNode root,
                        const google::protobuf::Descriptor* root_type);

}  // namespace amct::model
