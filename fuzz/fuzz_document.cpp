// Fuzz target (a): any text -> Document -> analyze() (schema binding, binder,
// AMCT rules) -> every core/ide feature at cursor positions chosen by the
// input, plus an incremental edit. Nothing may crash, hang or read out of
// bounds; a few invariants are checked on the way.
//
// Input layout (FuzzedDataProvider): option bytes and cursor offsets are
// consumed from the END of the input, the rest is the document text, so seed
// files (plain configs) work as they are.
#include <fuzzer/FuzzedDataProvider.h>

#include <cstdint>
#include <cstdlib>
#include <string>

#include "core/analysis.h"
#include "core/ide/code_actions.h"
#include "core/ide/code_lens.h"
#include "core/ide/completion.h"
#include "core/ide/cursor_context.h"
#include "core/ide/definition.h"
#include "core/ide/document_symbols.h"
#include "core/ide/folding.h"
#include "core/ide/formatting.h"
#include "core/ide/hover.h"
#include "core/ide/inlay_hints.h"
#include "core/ide/selection_range.h"
#include "core/ide/semantic_tokens.h"
#include "core/amct/rules.h"
#include "core/syntax/document.h"

using namespace amct;

namespace {

void require(bool condition) {
  if (!condition) std::abort();
}

void require_in_text(ByteRange range, const syntax::Document& document) {
  require(range.start <= range.end);
  require(range.end <= document.text().size());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 64 * 1024) return 0;  // keep executions fast; large inputs are covered by tests
  FuzzedDataProvider input(data, size);
  // Trailing bytes: options and cursors (empty when the input is short).
  const uint8_t flags = input.ConsumeIntegral<uint8_t>();
  const uint32_t cursor_seeds[3] = {input.ConsumeIntegral<uint32_t>(), input.ConsumeIntegral<uint32_t>(),
                                    input.ConsumeIntegral<uint32_t>()};
  const std::string text = input.ConsumeRemainingBytesAsString();

  syntax::Document document(text);
  const auto encoding = (flags & 1) ? syntax::PositionEncoding::Utf16 : syntax::PositionEncoding::Utf8;

  AnalysisOptions options;
  options.path = (flags & 2) ? "/nonexistent-workspace/fuzz.cfg" : "/nonexistent-workspace/fuzz.txtpb";
  options.workspace_root = "/nonexistent-workspace";
  static const char* const kSocs[] = {"Ascend310P", "Ascend910B", "Ascend310", "Bogus"};
  if (flags & 4) options.soc = kSocs[(flags >> 4) & 3];
  static const char* const kApis[] = {"quant", "prune", "compressed", "nonsense"};
  if (flags & 8) options.api = kApis[(flags >> 6) & 3];

  const Analysis analysis = analyze(document, options);
  for (const Diagnostic& diagnostic : analysis.diagnostics) {
    require_in_text(diagnostic.range, document);
    (void)document.range_of(diagnostic.range, encoding);
    (void)document.line_column_at(diagnostic.range.start);
  }
  const google::protobuf::Descriptor* root = analysis.schema ? analysis.schema->root : nullptr;
  const bool is_amct = analysis.schema && analysis.schema->is_amct;

  // Whole-document features.
  for (const auto& symbol : ide::document_symbols(document)) require_in_text(symbol.range, document);
  for (const auto& range : ide::folding_ranges(document)) require(range.start_line <= range.end_line);
  for (const auto& token : ide::semantic_tokens(document)) require_in_text(token.range, document);
  ide::FormattingOptions formatting;
  formatting.tab_size = 1 + (flags & 7);
  formatting.insert_spaces = (flags & 16) == 0;
  for (const auto& edit : ide::format_document(document, formatting)) require_in_text(edit.range, document);
  if (analysis.bound) {
    for (const auto& hint : ide::inlay_hints(*analysis.bound, {})) require(hint.offset <= text.size());
    if (is_amct) {
      ide::CodeLensOptions lens_options;
      lens_options.api = static_cast<AmctApi>(flags % 3);
      for (const auto& lens : ide::code_lenses(*analysis.bound, lens_options)) require_in_text(lens.range, document);
    }
  }

  // Cursor features at positions chosen by the input (byte offsets and LSP positions).
  const uint32_t length = static_cast<uint32_t>(text.size());
  for (const uint32_t seed : cursor_seeds) {
    const uint32_t offset = length == 0 ? 0 : seed % (length + 1);
    const syntax::Position position = document.position_at(offset, encoding);
    require(document.offset_at(position, encoding) <= length);
    // A position past the end (as a client may send) is clamped.
    (void)document.offset_at({seed % 4096, seed >> 20}, encoding);

    (void)ide::cursor_context(document, offset, root);
    ide::CompletionOptions completion;
    completion.root_type = root;
    completion.schema_file = (root && !is_amct) ? root->file() : nullptr;
    completion.is_amct = is_amct;
    completion.soc = options.soc;
    completion.language = (seed & 1) ? ide::DocsLanguage::Chinese : ide::DocsLanguage::English;
    for (const auto& item : ide::complete(document, offset, completion)) require_in_text(item.replace, document);
    ide::HoverOptions hover_options;
    hover_options.root_type = root;
    hover_options.language = completion.language;
    if (const auto hover = ide::hover(document, offset, hover_options)) require_in_text(hover->range, document);
    if (root) (void)ide::definition(document, offset, root);
    for (const ByteRange& range : ide::selection_ranges(document, offset)) require_in_text(range, document);
    const uint32_t end = offset + (length == 0 ? 0 : (seed >> 8) % (length - offset + 1));
    const ByteRange selection{offset, end};
    for (const auto& edit : ide::format_range(document, selection, formatting)) require_in_text(edit.range, document);
    ide::CodeActionInput actions;
    actions.diagnostics = &analysis.diagnostics;
    actions.bound = analysis.bound.get();
    actions.has_schema = analysis.schema.has_value();
    actions.range = selection;
    for (const auto& action : ide::code_actions(document, actions))
      for (const auto& edit : action.edits) require_in_text(edit.range, document);
    (void)ide::semantic_tokens(document, selection);
    if (analysis.bound) {
      ide::InlayHintOptions hint_options;
      hint_options.range = selection;
      (void)ide::inlay_hints(*analysis.bound, hint_options);
    }
  }

  // An incremental edit (delete a range, insert a tail of the text) and a re-check.
  if (length > 0) {
    const uint32_t a = cursor_seeds[0] % (length + 1), b = cursor_seeds[1] % (length + 1);
    syntax::TextChange change;
    change.range = syntax::Range{document.position_at(std::min(a, b), encoding),
                                 document.position_at(std::max(a, b), encoding)};
    change.text = text.substr(cursor_seeds[2] % length, 16);
    document.apply_change(change, encoding);
    (void)analyze(document, options);
    (void)ide::document_symbols(document);
  }
  return 0;
}
