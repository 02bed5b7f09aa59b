#include "server/lsp_convert.h"

#include <cctype>
#include <cstdio>

#include "core/syntax/utf.h"
#include "server/diagnostic_docs.h"

namespace amct::server {

using nlohmann::json;

std::string uri_to_path(const std::string& uri) {
  std::string_view rest = uri;
  if (!rest.starts_with("file://")) return uri;
  rest.remove_prefix(7);
  std::string path;
  for (size_t i = 0; i < rest.size(); ++i) {
    if (rest[i] == '%' && i + 2 < rest.size() && std::isxdigit(static_cast<unsigned char>(rest[i + 1])) &&
        std::isxdigit(static_cast<unsigned char>(rest[i + 2]))) {
      path.push_back(static_cast<char>(std::stoi(std::string(rest.substr(i + 1, 2)), nullptr, 16)));
      i += 2;
    } else {
      path.push_back(rest[i]);
    }
  }
  return path;
}

std::string path_to_uri(const std::string& path) {
  std::string uri = "file://";
  for (unsigned char c : path) {
    if (std::isalnum(c) || c == '/' || c == '-' || c == '_' || c == '.' || c == '~') {
      uri.push_back(static_cast<char>(c));
    } else {
      char escaped[4];
      std::snprintf(escaped, sizeof escaped, "%%%02X", c);
      uri += escaped;
    }
  }
  return uri;
}

json range_to_json(const syntax::Range& range) {
  return {{"start", {{"line", range.start.line}, {"character", range.start.character}}},
          {"end", {{"line", range.end.line}, {"character", range.end.character}}}};
}

syntax::Position position_from_json(const json& p) {
  const int64_t line = p.at("line").get<int64_t>();
  const int64_t character = p.at("character").get<int64_t>();
  return syntax::Position{static_cast<uint32_t>(std::clamp<int64_t>(line, 0, UINT32_MAX)),
                          static_cast<uint32_t>(std::clamp<int64_t>(character, 0, UINT32_MAX))};
}

syntax::Range range_from_json(const json& range) {
  return {position_from_json(range.at("start")), position_from_json(range.at("end"))};
}

json symbols_to_json(const syntax::Document& document, const std::vector<ide::DocumentSymbol>& symbols,
                     syntax::PositionEncoding encoding) {
  json out = json::array();
  for (const ide::DocumentSymbol& symbol : symbols) {
    json item = {{"name", symbol.name.empty() ? std::string("?") : symbol.name},
                 {"kind", static_cast<int>(symbol.kind)},
                 {"range", range_to_json(document.range_of(symbol.range, encoding))},
                 {"selectionRange", range_to_json(document.range_of(symbol.selection_range, encoding))}};
    if (!symbol.detail.empty()) item["detail"] = symbol.detail;
    if (!symbol.children.empty()) item["children"] = symbols_to_json(document, symbol.children, encoding);
    out.push_back(std::move(item));
  }
  return out;
}

json folding_ranges_to_json(const std::vector<ide::FoldingRange>& ranges) {
  json out = json::array();
  for (const ide::FoldingRange& range : ranges) {
    json item = {{"startLine", range.start_line}, {"endLine", range.end_line}};
    if (!range.kind.empty()) item["kind"] = range.kind;
    out.push_back(std::move(item));
  }
  return out;
}

json selection_range_to_json(const syntax::Document& document, const std::vector<ByteRange>& ranges,
                             syntax::PositionEncoding encoding) {
  json out = nullptr;
  for (auto it = ranges.rbegin(); it != ranges.rend(); ++it) {
    json item = {{"range", range_to_json(document.range_of(*it, encoding))}};
    if (!out.is_null()) item["parent"] = std::move(out);
    out = std::move(item);
  }
  return out;
}

json semantic_tokens_to_json(const syntax::Document& document, const std::vector<ide::SemanticToken>& tokens,
                             syntax::PositionEncoding encoding) {
  json data = json::array();
  uint32_t previous_line = 0, previous_character = 0;
  for (const ide::SemanticToken& token : tokens) {
    const syntax::Range range = document.range_of(token.range, encoding);
    if (range.end.line != range.start.line) continue;
    const uint32_t delta_line = range.start.line - previous_line;
    const uint32_t delta_character = delta_line == 0 ? range.start.character - previous_character : range.start.character;
    data.push_back(delta_line);
    data.push_back(delta_character);
    data.push_back(range.end.character - range.start.character);
    data.push_back(static_cast<int>(token.type));
    data.push_back(0);
    previous_line = range.start.line;
    previous_character = range.start.character;
  }
  return data;
}

json diagnostics_to_json(const syntax::Document& document, const std::string& uri,
                         const std::vector<Diagnostic>& diagnostics, syntax::PositionEncoding encoding,
                         std::string_view docs_base) {
  json out = json::array();
  for (const Diagnostic& d : diagnostics) {
    json item = {{"range", range_to_json(document.range_of(d.range, encoding))},
                 {"severity", static_cast<int>(d.severity)},
                 {"code", d.code},
                 {"source", "amct-lsp"},
                 {"message", d.message}};
    if (std::string href = diagnostic_docs_href(docs_base, d.code); !href.empty())
      item["codeDescription"] = {{"href", std::move(href)}};
    if (!d.related.empty()) {
      json related = json::array();
      for (const RelatedInformation& r : d.related)
        related.push_back({{"location", {{"uri", uri}, {"range", range_to_json(document.range_of(r.range, encoding))}}},
                           {"message", r.message}});
      item["relatedInformation"] = std::move(related);
    }
    out.push_back(std::move(item));
  }
  return out;
}

void append_json_string(std::string& out, std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += '"';
  for (size_t i = 0; i < text.size();) {
    // Runs of plain ASCII are copied in one go.
    size_t run = i;
    while (run < text.size()) {
      const unsigned char c = static_cast<unsigned char>(text[run]);
      if (c < 0x20 || c >= 0x80 || c == '"' || c == '\\') break;
      ++run;
    }
    if (run > i) {
      out.append(text.data() + i, run - i);
      i = run;
      if (i == text.size()) break;
    }
    const unsigned char c = static_cast<unsigned char>(text[i]);
    if (c >= 0x80) {
      const syntax::DecodedChar decoded = syntax::decode_utf8(text, i);
      if (decoded.valid) out.append(text.substr(i, decoded.length));
      else out += "\xEF\xBF\xBD";
      i += decoded.length;
      continue;
    }
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      default:
        if (c < 0x20) {
          out += "\\u00";
          out += kHex[c >> 4];
          out += kHex[c & 15];
        } else {
          out += static_cast<char>(c);
        }
    }
    ++i;
  }
  out += '"';
}

namespace {

// Document::position_at, without decoding lines that are plain ASCII (where
// every encoding counts bytes).
syntax::Position position_of(const syntax::Document& document, uint32_t offset, syntax::PositionEncoding encoding) {
  const syntax::Position bytes = document.position_at(offset, syntax::PositionEncoding::Utf8);
  if (encoding == syntax::PositionEncoding::Utf8) return bytes;
  const std::string_view line = std::string_view(document.text()).substr(document.line_start(bytes.line), bytes.character);
  for (char c : line)
    if (static_cast<unsigned char>(c) >= 0x80) return document.position_at(offset, encoding);
  return bytes;
}

syntax::Range range_of(const syntax::Document& document, ByteRange range, syntax::PositionEncoding encoding) {
  return {position_of(document, range.start, encoding), position_of(document, range.end, encoding)};
}

void append_range(std::string& out, const syntax::Range& range) {
  out += "{\"start\":{\"line\":";
  out += std::to_string(range.start.line);
  out += ",\"character\":";
  out += std::to_string(range.start.character);
  out += "},\"end\":{\"line\":";
  out += std::to_string(range.end.line);
  out += ",\"character\":";
  out += std::to_string(range.end.character);
  out += "}}";
}

// Document::position_at for offsets that mostly come in ascending order
// (sorted diagnostics): the line is found by walking on from the line of the
// previous offset instead of a binary search over every line.
class PositionCursor {
 public:
  PositionCursor(const syntax::Document& document, syntax::PositionEncoding encoding)
      : document_(document), encoding_(encoding), size_(static_cast<uint32_t>(document.text().size())) {}

  syntax::Position at(uint32_t offset) {
    offset = std::min(offset, size_);
    if (offset < document_.line_start(line_)) {
      line_ = document_.position_at(offset, syntax::PositionEncoding::Utf8).line;
    } else {
      // Galloping: the last line starting at or before the offset, in steps
      // that double, then halve.
      const uint32_t count = document_.line_count();
      uint32_t step = 1;
      while (line_ + step < count && document_.line_start(line_ + step) <= offset) {
        line_ += step;
        step *= 2;
      }
      for (; step > 0; step /= 2)
        if (line_ + step < count && document_.line_start(line_ + step) <= offset) line_ += step;
    }
    const uint32_t start = document_.line_start(line_);
    if (encoding_ == syntax::PositionEncoding::Utf16 &&
        !syntax::is_ascii(std::string_view(document_.text()).substr(start, offset - start)))
      return document_.position_at(offset, encoding_);
    return {line_, offset - start};
  }
  syntax::Range range(ByteRange range) { return {at(range.start), at(range.end)}; }

 private:
  const syntax::Document& document_;
  syntax::PositionEncoding encoding_;
  uint32_t size_;
  uint32_t line_ = 0;
};

// One diagnostic's JSON object, its LSP ranges given (see PositionCursor).
void append_diagnostic(std::string& out, const Diagnostic& d, const std::vector<syntax::Range>& ranges,
                       const std::string& quoted_uri, std::string_view docs_base) {
  out += "{\"range\":";
  append_range(out, ranges[0]);
  out += ",\"severity\":";
  out += std::to_string(static_cast<int>(d.severity));
  out += ",\"code\":";
  append_json_string(out, d.code);
  if (const std::string href = diagnostic_docs_href(docs_base, d.code); !href.empty()) {
    out += ",\"codeDescription\":{\"href\":";
    append_json_string(out, href);
    out += '}';
  }
  out += ",\"source\":\"amct-lsp\",\"message\":";
  append_json_string(out, d.message);
  if (!d.related.empty()) {
    out += ",\"relatedInformation\":[";
    for (size_t r = 0; r < d.related.size(); ++r) {
      if (r) out += ',';
      out += "{\"location\":{\"uri\":";
      out += quoted_uri;
      out += ",\"range\":";
      append_range(out, ranges[1 + r]);
      out += "},\"message\":";
      append_json_string(out, d.related[r].message);
      out += '}';
    }
    out += ']';
  }
  out += '}';
}

std::vector<syntax::Range> lsp_ranges(PositionCursor& cursor, const Diagnostic& d) {
  std::vector<syntax::Range> ranges;
  ranges.reserve(1 + d.related.size());
  ranges.push_back(cursor.range(d.range));
  for (const RelatedInformation& related : d.related) ranges.push_back(cursor.range(related.range));
  return ranges;
}

// Whether `d` with LSP ranges `ranges` writes the same JSON as `cached` with `cached_ranges`.
bool same_json(const Diagnostic& d, const syntax::Range* ranges, const Diagnostic& cached,
               const syntax::Range* cached_ranges) {
  if (d.severity != cached.severity || d.related.size() != cached.related.size() ||
      !std::equal(ranges, ranges + 1 + d.related.size(), cached_ranges) || d.code != cached.code ||
      d.message != cached.message)
    return false;
  for (size_t r = 0; r < d.related.size(); ++r)
    if (d.related[r].message != cached.related[r].message) return false;
  return true;
}

}  // namespace

const std::string& DiagnosticsJsonCache::text(const syntax::Document& document, const std::string& uri,
                                              const std::vector<Diagnostic>& diagnostics,
                                              syntax::PositionEncoding encoding, std::string_view docs_base,
                                              const JsonFrame& frame) {
  // Another spelling of the constant parts: nothing can be copied.
  if (!valid_ || uri != uri_ || encoding != encoding_ || docs_base != docs_base_) {
    entries_.clear();
    ranges_.clear();
    text_.clear();
    uri_ = uri;
    encoding_ = encoding;
    docs_base_ = std::string(docs_base);
    valid_ = true;
  }
  std::string quoted_uri;
  append_json_string(quoted_uri, uri);
  PositionCursor cursor(document, encoding);
  // Bytes whose LSP position did not change since the last call: those in
  // the common prefix (same offset), and those in the common suffix on a
  // line that starts in it (offset moved by `delta`), when the change kept
  // the line count. A diagnostic whose ranges all lie there, at the offsets
  // of a cached one with the same content, has the cached JSON without
  // computing its positions.
  size_t stable_prefix = 0, stable_from = SIZE_MAX;
  const uint32_t delta = static_cast<uint32_t>(document.text().size() - (last_text_ ? last_text_->size() : 0));
  if (last_text_ && document.lineage() == last_lineage_ && document.line_count() == last_line_count_) {
    std::optional<syntax::Document::KnownEnds> known;
    if (last_text_.get() == &document.text()) known = syntax::Document::KnownEnds{document.text().size(), 0};
    else known = document.unchanged_ends_since(last_text_.get());
    if (known) {
      stable_prefix = known->prefix;
      const uint32_t suffix_start = static_cast<uint32_t>(document.text().size() - known->suffix);
      const uint32_t line = document.position_at(suffix_start, syntax::PositionEncoding::Utf8).line;
      stable_from = document.line_start(line) == suffix_start ? suffix_start : document.line_start(line + 1);
      if (known->suffix == 0) stable_from = SIZE_MAX;
    }
  }
  // The offset the byte range `now` had in the last call's text, if its
  // position is known unchanged.
  auto old_offsets = [&](ByteRange now) -> std::optional<ByteRange> {
    if (now.end <= stable_prefix) return now;
    if (now.start >= stable_from) return ByteRange{now.start - delta, now.end - delta};
    return std::nullopt;
  };
  auto same_by_bytes = [&](const Diagnostic& d, const Diagnostic& cached) {
    if (d.severity != cached.severity || d.related.size() != cached.related.size()) return false;
    const std::optional<ByteRange> was = old_offsets(d.range);
    if (!was || !(*was == cached.range) || d.code != cached.code || d.message != cached.message) return false;
    for (size_t r = 0; r < d.related.size(); ++r) {
      const std::optional<ByteRange> related_was = old_offsets(d.related[r].range);
      if (!related_was || !(*related_was == cached.related[r].range) || d.related[r].message != cached.related[r].message)
        return false;
    }
    return true;
  };
  // A cached diagnostic keeps the byte ranges of the version it was last
  // published for (same_by_bytes compares them next time).
  auto take_byte_ranges = [](Diagnostic& cached, const Diagnostic& d) {
    cached.range = d.range;
    for (size_t r = 0; r < d.related.size(); ++r) cached.related[r].range = d.related[r].range;
  };
  std::string out = std::move(spare_text_);
  out.clear();
  out.reserve(text_.size() + frame.before.size() + frame.after.size() + 1024);
  out += frame.before;
  out += '[';
  std::vector<Entry> entries = std::move(spare_entries_);
  entries.clear();
  entries.reserve(diagnostics.size());
  std::vector<syntax::Range> ranges = std::move(spare_ranges_);
  ranges.clear();
  reused_ = 0;
  matched_by_bytes_ = 0;
  // The previous diagnostics come in the same order, give or take those an
  // edit added or removed: the next unused one, or one a few further on.
  constexpr size_t kLookAhead = 8;
  size_t next_old = 0;
  for (size_t i = 0; i < diagnostics.size(); ++i) {
    const Diagnostic& d = diagnostics[i];
    Entry& entry = entries.emplace_back();
    entry.first_range = ranges.size();
    size_t by_bytes = SIZE_MAX;
    for (size_t k = next_old; k < entries_.size() && k < next_old + kLookAhead; ++k) {
      if (same_by_bytes(d, entries_[k].diagnostic)) {
        by_bytes = k;
        break;
      }
    }
    if (by_bytes != SIZE_MAX) {
      Entry& old = entries_[by_bytes];
      ranges.insert(ranges.end(), ranges_.begin() + static_cast<std::ptrdiff_t>(old.first_range),
                    ranges_.begin() + static_cast<std::ptrdiff_t>(old.first_range + 1 + d.related.size()));
      if (i) out += ',';
      entry.begin = out.size();
      out.append(text_, old.begin, old.end - old.begin);
      entry.end = out.size();
      entry.diagnostic = std::move(old.diagnostic);
      take_byte_ranges(entry.diagnostic, d);
      next_old = by_bytes + 1;
      ++reused_;
      ++matched_by_bytes_;
      continue;
    }
    ranges.push_back(cursor.range(d.range));
    for (const RelatedInformation& related : d.related) ranges.push_back(cursor.range(related.range));
    const syntax::Range* own = ranges.data() + entry.first_range;
    if (i) out += ',';
    size_t match = SIZE_MAX;
    for (size_t k = next_old; k < entries_.size() && k < next_old + kLookAhead; ++k) {
      if (same_json(d, own, entries_[k].diagnostic, ranges_.data() + entries_[k].first_range)) {
        match = k;
        break;
      }
    }
    entry.begin = out.size();
    if (match != SIZE_MAX) {
      Entry& old = entries_[match];
      out.append(text_, old.begin, old.end - old.begin);
      entry.diagnostic = std::move(old.diagnostic);
      take_byte_ranges(entry.diagnostic, d);
      next_old = match + 1;
      ++reused_;
    } else {
      append_diagnostic(out, d, std::vector<syntax::Range>(own, own + 1 + d.related.size()), quoted_uri, docs_base);
      entry.diagnostic = d;
    }
    entry.end = out.size();
  }
  out += ']';
  out += frame.after;
  spare_text_ = std::move(text_);
  text_ = std::move(out);
  spare_entries_ = std::move(entries_);
  entries_ = std::move(entries);
  spare_ranges_ = std::move(ranges_);
  ranges_ = std::move(ranges);
  last_text_ = document.shared_text();
  last_line_count_ = document.line_count();
  last_lineage_ = document.lineage();
  return text_;
}

std::string diagnostics_json_text(const syntax::Document& document, const std::string& uri,
                                  const std::vector<Diagnostic>& diagnostics, syntax::PositionEncoding encoding,
                                  std::string_view docs_base) {
  std::string out;
  out.reserve(diagnostics.size() * 320 + 2);
  out += '[';
  std::string quoted_uri;
  append_json_string(quoted_uri, uri);
  PositionCursor cursor(document, encoding);
  for (size_t i = 0; i < diagnostics.size(); ++i) {
    if (i) out += ',';
    append_diagnostic(out, diagnostics[i], lsp_ranges(cursor, diagnostics[i]), quoted_uri, docs_base);
  }
  out += ']';
  return out;
}

std::string code_lenses_json_text(const syntax::Document& document, const std::vector<ide::CodeLens>& lenses,
                                  syntax::PositionEncoding encoding) {
  std::string out;
  out.reserve(lenses.size() * 200 + 2);
  out += '[';
  for (size_t i = 0; i < lenses.size(); ++i) {
    if (i) out += ',';
    out += "{\"range\":";
    append_range(out, range_of(document, lenses[i].range, encoding));
    out += ",\"command\":{\"title\":";
    append_json_string(out, lenses[i].title);
    out += ",\"command\":\"\"}}";
  }
  out += ']';
  return out;
}

json completion_items_to_json(const syntax::Document& document, const std::vector<ide::CompletionItem>& items,
                              syntax::PositionEncoding encoding) {
  json out = json::array();
  for (const ide::CompletionItem& item : items) {
    json entry = {{"label", item.label},
                  {"kind", static_cast<int>(item.kind)},
                  {"textEdit", {{"range", range_to_json(document.range_of(item.replace, encoding))},
                                {"newText", item.insert_text}}},
                  {"insertTextFormat", item.is_snippet ? 2 : 1}};
    if (!item.detail.empty()) entry["detail"] = item.detail;
    if (!item.documentation.empty()) entry["documentation"] = {{"kind", "markdown"}, {"value", item.documentation}};
    if (!item.sort_text.empty()) entry["sortText"] = item.sort_text;
    // Filter on what is typed: the replaced text may start with a quote.
    entry["filterText"] = item.insert_text.substr(0, item.insert_text.find_first_of(" :{\n"));
    if (item.trigger_suggest)
      entry["command"] = {{"title", "Suggest"}, {"command", "editor.action.triggerSuggest"}};
    out.push_back(std::move(entry));
  }
  return out;
}

json server_capabilities(syntax::PositionEncoding encoding) {
  return {
      {"positionEncoding", encoding == syntax::PositionEncoding::Utf8 ? "utf-8" : "utf-16"},
      {"textDocumentSync", {{"openClose", true}, {"change", 2 /* incremental */}, {"save", {{"includeText", false}}}}},
      {"diagnosticProvider", {{"interFileDependencies", false}, {"workspaceDiagnostics", false}}},
      {"completionProvider", {{"triggerCharacters", {":", "\"", "#", " "}}, {"resolveProvider", false}}},
      {"hoverProvider", true},
      {"definitionProvider", true},
      {"inlayHintProvider", true},
      {"codeLensProvider", {{"resolveProvider", false}}},
      {"codeActionProvider", {{"codeActionKinds", {"quickfix", "source"}}}},
      {"documentFormattingProvider", true},
      {"documentRangeFormattingProvider", true},
      {"documentSymbolProvider", true},
      {"foldingRangeProvider", true},
      {"selectionRangeProvider", true},
      {"semanticTokensProvider",
       {{"legend", {{"tokenTypes", std::vector<std::string>(std::begin(ide::kSemanticTokenLegend),
                                                            std::end(ide::kSemanticTokenLegend))},
                    {"tokenModifiers", json::array()}}},
        {"full", true},
        {"range", true}}},
  };
}

}  // namespace amct::server
