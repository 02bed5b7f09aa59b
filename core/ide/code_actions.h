#pragma once
// Code actions: quick fixes for diagnostics (did-you-mean, remove a
// duplicate, INT4 -> INT8 where the SoC lacks INT4, add a missing required
// field) and the schema headers for a textproto without a schema.
#include <string>
#include <vector>

#include "core/model/binder.h"
#include "core/syntax/diagnostic.h"
#include "core/ide/text_edit.h"
#include "core/syntax/document.h"

namespace amct::ide {


struct CodeAction {
  std::string title;
  std::string kind;                 // "quickfix" or "source"
  std::vector<size_t> diagnostics;  // indices into the diagnostics given
  std::vector<TextEdit> edits;
  bool preferred = false;
};

struct CodeActionInput {
  const std::vector<Diagnostic>* diagnostics = nullptr;  // the document's current diagnostics
  const model::BoundDocument* bound = nullptr;           // null without schema
  bool has_schema = false;
  ByteRange range;  // the editor's selection; actions for diagnostics touching it
};

std::vector<CodeAction> code_actions(const syntax::Document& document, const CodeActionInput& input);

}  // namespace amct::ide
