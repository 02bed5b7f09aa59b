#pragma once
// Conversions between core/ structs and LSP JSON. The only place that knows
// both; features in core/ide return plain structs.
#include <nlohmann/json.hpp>

#include <string>
#include <string_view>
#include <vector>

#include "core/ide/code_lens.h"
#include "core/ide/completion.h"
#include "core/ide/document_symbols.h"
#include "core/ide/folding.h"
#include "core/ide/semantic_tokens.h"
#include "core/syntax/diagnostic.h"
#include "core/syntax/document.h"

namespace amct::server {

std::string uri_to_path(const std::string& uri);
std::string path_to_uri(const std::string& path);

nlohmann::json range_to_json(const syntax::Range& range);
syntax::Range range_from_json(const nlohmann::json& range);
syntax::Position position_from_json(const nlohmann::json& position);
// `docs_base`: where docs/diagnostics.md is published; each diagnostic with a
// documented code links to `docs_base#code` (codeDescription). "" for none.
nlohmann::json diagnostics_to_json(const syntax::Document& document, const std::string& uri,
                                   const std::vector<Diagnostic>& diagnostics,
                                   syntax::PositionEncoding encoding, std::string_view docs_base = "");
// The same array written straight to JSON text: publishing thousands of
// diagnostics after every keystroke must not build a JSON tree first.
std::string diagnostics_json_text(const syntax::Document& document, const std::string& uri,
                                  const std::vector<Diagnostic>& diagnostics, syntax::PositionEncoding encoding,
                                  std::string_view docs_base = "");
// diagnostics_json_text() for successive versions of one document, for the
// publish after every keystroke: the JSON of a diagnostic whose content and
// LSP range are those of a diagnostic of the previous call is copied from
// that call's text, not written again; only the others are written. The text
// equals diagnostics_json_text() of the same arguments. Not thread-safe: one
// per document, used by one thread at a time.
// Text written before and after the JSON array of the diagnostics, in the
// same buffer: the publishDiagnostics notification around it, so that a
// publish of megabytes is not copied once more to frame it.
struct JsonFrame {
  std::string_view before, after;
};

class DiagnosticsJsonCache {
 public:
  const std::string& text(const syntax::Document& document, const std::string& uri,
                          const std::vector<Diagnostic>& diagnostics, syntax::PositionEncoding encoding,
                          std::string_view docs_base = "", const JsonFrame& frame = {});
  // Diagnostics of the last call whose JSON was copied from the call before.
  size_t last_reused() const { return reused_; }
  // Of those, the ones matched by their byte ranges alone (see text()).
  size_t last_matched_by_bytes() const { return matched_by_bytes_; }

 private:
  struct Entry {
    Diagnostic diagnostic;
    size_t first_range = 0;     // in ranges_: the diagnostic's, then its related information's
    size_t begin = 0, end = 0;  // its JSON in text_
  };
  bool valid_ = false;
  std::string uri_, docs_base_;
  syntax::PositionEncoding encoding_ = syntax::PositionEncoding::Utf16;
  std::string text_;
  std::vector<Entry> entries_;
  std::vector<syntax::Range> ranges_;
  // The buffers of the call before last, reused for their capacity (a fresh
  // 3 MB string costs page faults).
  std::string spare_text_;
  std::vector<Entry> spare_entries_;
  std::vector<syntax::Range> spare_ranges_;
  size_t reused_ = 0, matched_by_bytes_ = 0;
  // The text of the last call and its document's line count and lineage:
  // a change since that keeps the line count leaves the LSP positions of
  // bytes in the unchanged ends where they were.
  std::shared_ptr<const std::string> last_text_;
  uint32_t last_line_count_ = 0;
  uint64_t last_lineage_ = 0;
};
// Code lenses as JSON text (10,000 overrides give 10,000 lenses).
std::string code_lenses_json_text(const syntax::Document& document, const std::vector<ide::CodeLens>& lenses,
                                  syntax::PositionEncoding encoding);
// Appends `text` as a JSON string literal (invalid UTF-8 becomes U+FFFD).
void append_json_string(std::string& out, std::string_view text);

nlohmann::json symbols_to_json(const syntax::Document& document, const std::vector<ide::DocumentSymbol>& symbols,
                               syntax::PositionEncoding encoding);
nlohmann::json folding_ranges_to_json(const std::vector<ide::FoldingRange>& ranges);
// Innermost first, as ide::selection_ranges returns them.
nlohmann::json selection_range_to_json(const syntax::Document& document, const std::vector<ByteRange>& ranges,
                                       syntax::PositionEncoding encoding);
// LSP's relative encoding: 5 integers per token.
nlohmann::json semantic_tokens_to_json(const syntax::Document& document, const std::vector<ide::SemanticToken>& tokens,
                                       syntax::PositionEncoding encoding);

nlohmann::json completion_items_to_json(const syntax::Document& document, const std::vector<ide::CompletionItem>& items,
                                        syntax::PositionEncoding encoding);

// The `capabilities` of the initialize result: every feature the server binds.
nlohmann::json server_capabilities(syntax::PositionEncoding encoding);

}  // namespace amct::server
