#include "core/analysis.h"

#include <algorithm>
#include <functional>

#include "core/amct/amct_checks.h"
#include "core/model/binder.h"
#include "core/model/fast_binder.h"
#include "core/schema/binding.h"
#include "core/syntax/region_parse.h"
#include "core/syntax/text_compare.h"
#include "core/text_util.h"

namespace amct {

schema::BindingOptions binding_options_of(const AnalysisOptions& options) {
  schema::BindingOptions binding;
  binding.path = options.path;
  binding.workspace_root = options.workspace_root;
  binding.import_roots = options.import_roots;
  binding.proto_file = options.proto_file;
  binding.message_name = options.message_name;
  return binding;
}

namespace {

// An AMCT rule that names the same mistake as the schema (a missing clip_min
// is both `missing-required` and `clip-range`) says it better: keep one
// diagnostic per place.
void append_schema_diagnostics(const std::vector<Diagnostic>& schema_diagnostics,
                               const std::vector<Diagnostic>& amct_diagnostics, std::vector<Diagnostic>& out) {
  for (const Diagnostic& diagnostic : schema_diagnostics) {
    const bool covered = diagnostic.code == "missing-required" &&
                         std::any_of(amct_diagnostics.begin(), amct_diagnostics.end(), [&](const Diagnostic& d) {
                           return d.severity == Severity::Error && d.range.start <= diagnostic.range.start &&
                                  diagnostic.range.end <= d.range.end + 1 && d.range.start + 1 >= diagnostic.range.start;
                         });
    if (!covered) out.push_back(diagnostic);
  }
}

// Whether the outline has a header read_amct_headers() could take for
// `# soc:` or `# amct-api:` (the outline holds every top-level header, and
// more): without one, the AMCT headers are known to be empty without
// another walk over the top level.
bool may_have_amct_headers(const schema::DocumentOutline& outline) {
  return std::any_of(outline.headers.begin(), outline.headers.end(), [](const schema::SchemaHeader& header) {
    const std::string name = amct_header_name(header.key);
    return name == "soc" || name == "amct-api";
  });
}

// How analyze() gets the bound model and its AMCT diagnostics: afresh, or incrementally.
using BindModel = std::function<std::shared_ptr<const model::BoundDocument>(const google::protobuf::Descriptor*)>;
using CheckAmct = std::function<std::vector<Diagnostic>(const model::BoundDocument&, const AmctCheckOptions&,
                                                        bool may_have_headers)>;

bool has_syntax_error(const std::vector<Diagnostic>& diagnostics) {
  return std::any_of(diagnostics.begin(), diagnostics.end(), [](const Diagnostic& d) { return d.code == "syntax-error"; });
}

Analysis analyze_with(std::vector<Diagnostic> syntax_diagnostics, const schema::DocumentOutline& outline,
                      const AnalysisOptions& options, const BindModel& bind_model, const CheckAmct& check_amct_model) {
  Analysis analysis;
  analysis.diagnostics = std::move(syntax_diagnostics);

  schema::SchemaBinding binding = schema::bind_schema(outline, binding_options_of(options));
  analysis.diagnostics.insert(analysis.diagnostics.end(), binding.diagnostics.begin(), binding.diagnostics.end());
  if (binding.schema) {
    analysis.schema_description = binding.schema->description;
    std::shared_ptr<const model::BoundDocument> bound_model = bind_model(binding.schema->root);
    const model::BoundDocument& bound = *bound_model;
    std::vector<Diagnostic> amct_diagnostics;
    if (binding.schema->is_amct)
      amct_diagnostics = check_amct_model(bound, AmctCheckOptions{options.soc, options.api}, may_have_amct_headers(outline));
    append_schema_diagnostics(bound.diagnostics, amct_diagnostics, analysis.diagnostics);
    // With syntax errors the content is partial: "the config is empty" would
    // only repeat them.
    if (analysis.diagnostics.empty()) {
      // Nothing broken (no diagnostic at all): the usual case, and the
      // vector moves instead of ~6,000 diagnostics one by one.
      analysis.diagnostics = std::move(amct_diagnostics);
    } else {
      const bool broken = has_syntax_error(analysis.diagnostics);
      for (Diagnostic& diagnostic : amct_diagnostics)
        if (!(broken && diagnostic.code == "empty-config")) analysis.diagnostics.push_back(std::move(diagnostic));
    }
    analysis.schema = std::move(binding.schema);
    analysis.bound = std::move(bound_model);
  }

  sort_by_start(analysis.diagnostics);
  return analysis;
}

using syntax::common_prefix;
using syntax::common_suffix;

// Characters that can change how the rest of a text splits into tokens,
// comments, strings and bracket levels.
bool is_structural(char c) {
  return std::string_view("{}<>[]\"'\\#\n\r").find(c) != std::string_view::npos;
}
bool is_blank(char c) { return c == ' ' || c == '\t'; }
bool is_space(char c) { return is_blank(c) || c == '\n' || c == '\r'; }

// Whether `text` = P + inserted + S, after `old_text` = P + removed + S, has
// the headers and top-level field names of `old_text` (header ranges moved
// with S). Both texts parse without syntax errors. Each line enters the lexer
// in the same state (strings and comments end at the line's end), and neither
// replaced part holds a bracket, quote, backslash, `#` or line break, so the
// edit changes no bracket level, string or comment outside itself; on a line
// without `#` and quotes it touches no header, and then the top level is kept
// when the edit only widens or narrows a run of blanks, or lies inside
// brackets (a message or list value).
bool keeps_top_level(std::string_view old_text, std::string_view text, size_t prefix, size_t suffix, TSNode root) {
  const std::string_view removed = old_text.substr(prefix, old_text.size() - suffix - prefix);
  const std::string_view inserted = text.substr(prefix, text.size() - suffix - prefix);
  if (std::any_of(removed.begin(), removed.end(), is_structural) ||
      std::any_of(inserted.begin(), inserted.end(), is_structural))
    return false;
  const size_t end = prefix + inserted.size();
  const size_t line_start = text.rfind('\n', prefix == 0 ? 0 : prefix - 1);
  const size_t from = line_start == std::string_view::npos || prefix == 0 ? 0 : line_start + 1;
  const size_t line_end = std::min(text.find('\n', end), text.size());
  if (text.substr(from, line_end - from).find_first_of("#\"'") != std::string_view::npos) return false;
  if (std::all_of(removed.begin(), removed.end(), is_blank) && std::all_of(inserted.begin(), inserted.end(), is_blank) &&
      ((prefix == 0 || is_space(text[prefix - 1])) || (end == text.size() || is_space(text[end]))))
    return true;
  for (TSNode node = ts_node_descendant_for_byte_range(root, static_cast<uint32_t>(prefix), static_cast<uint32_t>(end));
       !ts_node_is_null(node); node = ts_node_parent(node)) {
    const std::string_view type = ts_node_type(node);
    if ((type == "message" || type == "message_list" || type == "scalar_list") && ts_node_start_byte(node) < prefix &&
        end < ts_node_end_byte(node))
      return true;
  }
  return false;
}

void shift_after(ByteRange& range, size_t at, uint32_t delta) {
  if (range.start >= at) {
    range.start += delta;
    range.end += delta;
  }
}

}  // namespace

const schema::DocumentOutline& IncrementalAnalyzer::outline_of(const syntax::Document& document, bool parsed_cleanly,
                                                                 const syntax::RegionTree* region,
                                                                 const model::ReparseRegion* edited) {
  const std::string& text = document.text();
  reused_outline_ = false;
  if (top_level_.valid && parsed_cleanly) {
    // With a region, the binder has just compared the same two texts (its
    // last text is this one's: see last_text_clean_); here the ends must not overlap.
    const size_t shorter = std::min(top_level_.text->size(), text.size());
    const size_t prefix = edited ? edited->common_prefix : common_prefix(*top_level_.text, text);
    const size_t suffix = edited ? std::min(edited->common_suffix, shorter - prefix)
                                 : common_suffix(*top_level_.text, text, shorter - prefix);
    // The region's tree holds the edit (it spans every changed byte).
    if (keeps_top_level(*top_level_.text, text, prefix, suffix, region ? region->root() : document.root()) ||
        (region && region_keeps_top_level(*region, text))) {
      const size_t old_end = top_level_.text->size() - suffix;
      const uint32_t delta = static_cast<uint32_t>(text.size() - top_level_.text->size());  // modular
      for (schema::SchemaHeader& header : top_level_.outline.headers) shift_after(header.range, old_end, delta);
      if (top_level_.amct_headers) {
        for (auto* header : {&top_level_.amct_headers->soc, &top_level_.amct_headers->api})
          if (*header) shift_after((*header)->range, old_end, delta);
      }
      reused_outline_ = true;
    }
  }
  if (!reused_outline_) {
    top_level_.outline = schema::outline_of(document);
    top_level_.amct_headers.reset();
  }
  top_level_.text = document.shared_text();
  top_level_.valid = parsed_cleanly;
  return top_level_.outline;
}

// Whether the region parsed after an edit has, at its top level, the same
// field names in the same order as the text it replaced, and no header in
// either: then the whole text has the same outline (headers after it moved).
bool IncrementalAnalyzer::region_keeps_top_level(const syntax::RegionTree& region, std::string_view text) const {
  const ByteRange bytes = region.region();
  const uint32_t old_end = bytes.end - static_cast<uint32_t>(text.size() - top_level_.text->size());  // modular
  if (old_end < bytes.start || old_end > top_level_.text->size()) return false;
  for (const schema::SchemaHeader& header : top_level_.outline.headers)
    if (header.range.start >= bytes.start && header.range.start < old_end) return false;
  const std::vector<std::string_view> old_names = binder_.top_level_names_in({bytes.start, old_end});
  size_t next = 0;
  TSTreeCursor cursor = ts_tree_cursor_new(region.root());
  bool same = true;
  for (bool more = ts_tree_cursor_goto_first_child(&cursor); more && same;
       more = ts_tree_cursor_goto_next_sibling(&cursor)) {
    const TSNode child = ts_tree_cursor_current_node(&cursor);
    const std::string_view type = ts_node_type(child);
    if (type == "header") {
      same = false;
    } else if (type == "field") {
      const TSNode name = ts_node_child(child, 0);
      const std::string_view written = text.substr(ts_node_start_byte(name), ts_node_end_byte(name) - ts_node_start_byte(name));
      same = next < old_names.size() && old_names[next++] == written;
    }
  }
  ts_tree_cursor_delete(&cursor);
  return same && next == old_names.size();
}

Analysis analyze(const syntax::Document& document, const AnalysisOptions& options) {
  return analyze_with(
      document.syntax_diagnostics(), schema::outline_of(document), options,
      [&](const google::protobuf::Descriptor* root_type) {
        return std::make_shared<const model::BoundDocument>(model::bind(document, root_type));
      },
      [&](const model::BoundDocument& bound, const AmctCheckOptions& amct_options, bool) {
        return check_amct(document, bound, amct_options);
      });
}

Analysis IncrementalAnalyzer::analyze(const syntax::Document& document, const AnalysisOptions& options,
                                      const DiagnosticsReady& diagnostics_ready) {
  // The checker follows the binder only when it saw every model the binder made.
  bool bound_now = false, checked_now = false;
  // After an edit to a text without syntax errors, the top-level fields
  // around the edit, parsed alone, stand for the whole tree when they parse
  // cleanly: the whole text then has no syntax error either, and the binder
  // takes its new fields from them. The document's tree is left unparsed
  // (~20 ms for 10,000 blocks) until a feature asks for it.
  std::optional<model::ReparseRegion> edited;
  std::optional<syntax::RegionTree> region;
  if (!document.is_parsed() && last_text_clean_) {
    // The binder's last text is of this document when the lineage is: then
    // the changes since tell where to compare (3 MB read otherwise).
    std::optional<syntax::Document::KnownEnds> known;
    if (document.lineage() == last_lineage_ && binder_.last_text())
      known = document.unchanged_ends_since(binder_.last_text());
    edited = binder_.region_to_reparse(document.text(), known);
    if (edited) region = syntax::parse_region(document.text(), edited->bytes);
  }
  std::vector<Diagnostic> syntax_diagnostics = region ? std::vector<Diagnostic>{} : document.syntax_diagnostics();
  const bool syntax_clean = syntax_diagnostics.empty();
  const schema::DocumentOutline& outline =
      outline_of(document, !has_syntax_error(syntax_diagnostics), region ? &*region : nullptr, region ? &*edited : nullptr);
  Analysis analysis = analyze_with(
      std::move(syntax_diagnostics), outline, options,
      [&](const google::protobuf::Descriptor* root_type) {
        bound_now = true;
        model::IncrementalBindOptions bind_options;
        bind_options.region = edited ? &*edited : nullptr;
        bind_options.region_tree = region ? &*region : nullptr;
        bind_options.defer_nested_shifts = static_cast<bool>(diagnostics_ready);
        return binder_.bind(document, root_type, bind_options);
      },
      [&](const model::BoundDocument& bound, const AmctCheckOptions& amct_options, bool may_have_headers) {
        checked_now = true;
        const std::vector<size_t>* reused = checker_follows_binder_ ? &binder_.last_reused_fields() : nullptr;
        if (may_have_headers && !top_level_.amct_headers) top_level_.amct_headers = read_amct_headers(document);
        return checker_.check(may_have_headers ? *top_level_.amct_headers : AmctHeaders{}, bound, amct_options,
                              reused);
      });
  if (bound_now && !checked_now) checker_.forget();
  if (bound_now) checker_follows_binder_ = checked_now;
  if (diagnostics_ready) {
    diagnostics_ready(analysis.diagnostics);
    binder_.finish_deferred();
  }
  // The binder's last text is this one, free of any syntax diagnostic
  // (invalid UTF-8 included): the next edit may parse its region alone.
  last_text_clean_ = bound_now && syntax_clean;
  last_lineage_ = document.lineage();
  parsed_region_only_ = region.has_value() && !document.is_parsed();
  return analysis;
}

// analyze() for a text the single-pass parser accepts: no syntax errors, so
// the steps of analyze() that look at syntax errors have nothing to do. Keep
// the two in step; the fast_binder test compares them.
std::optional<Analysis> analyze_without_tree(std::string_view text, const AnalysisOptions& options) {
  std::optional<model::FastSyntax> syntax = model::parse_fast(text);
  if (!syntax) return std::nullopt;
  schema::DocumentOutline outline;
  AmctHeaders amct_headers;
  for (const model::FastHeader& header : syntax->headers()) {
    std::string_view key = header.key_text;  // "# proto-file:" -> "proto-file"
    if (!key.empty() && key.front() == '#') key.remove_prefix(1);
    if (!key.empty() && key.back() == ':') key.remove_suffix(1);
    std::optional<std::string_view> value;
    if (header.value_range) value = text.substr(header.value_range->start, header.value_range->end - header.value_range->start);
    outline.headers.push_back({std::string(trim(key)), value ? std::string(trim(*value)) : std::string(), header.range});
    add_amct_header(amct_headers, header.key_text, header.key_range, value, header.value_range.value_or(ByteRange{}));
  }
  outline.top_level_fields.assign(syntax->top_level_fields().begin(), syntax->top_level_fields().end());

  schema::SchemaBinding binding = schema::bind_schema(outline, binding_options_of(options));
  Analysis analysis;
  analysis.diagnostics = std::move(binding.diagnostics);
  if (binding.schema) {
    std::optional<model::BoundDocument> bound = model::bind_fast(std::move(*syntax), binding.schema->root);
    if (!bound) return std::nullopt;
    analysis.schema_description = binding.schema->description;
    std::vector<Diagnostic> amct_diagnostics;
    if (binding.schema->is_amct) amct_diagnostics = check_amct(amct_headers, *bound, AmctCheckOptions{options.soc, options.api});
    append_schema_diagnostics(bound->diagnostics, amct_diagnostics, analysis.diagnostics);
    if (analysis.diagnostics.empty()) {  // the usual case: the vector moves, not 50,000 diagnostics one by one
      analysis.diagnostics = std::move(amct_diagnostics);
    } else {
      analysis.diagnostics.reserve(analysis.diagnostics.size() + amct_diagnostics.size());
      for (Diagnostic& diagnostic : amct_diagnostics) analysis.diagnostics.push_back(std::move(diagnostic));
    }
    analysis.schema = std::move(binding.schema);
    analysis.bound = std::make_shared<const model::BoundDocument>(std::move(*bound));
  }
  sort_by_start(analysis.diagnostics);
  return analysis;
}

}  // namespace amct
