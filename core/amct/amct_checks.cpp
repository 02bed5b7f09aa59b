#include "core/amct/amct_checks.h"
#include "core/text_util.h"

#include <algorithm>
#include <string_view>

namespace amct {
namespace {

// "# soc:" / "#soc :" -> "soc"
std::string header_name(std::string_view key) {
  std::string name;
  for (char c : key) {
    if (c != '#' && c != ':' && c != ' ' && c != '\t') name += c;
  }
  return name;
}

std::string unknown_soc_message(std::string_view soc, const SocCatalog& catalog) {
  std::vector<std::string> patterns;
  for (const SocPattern& pattern : catalog.patterns) patterns.push_back(pattern.pattern);
  std::string message = "unknown SoC ";
  if (soc.empty()) {
    message += "(empty)";
  } else {
    message += '\'';
    message += soc;
    message += '\'';
  }
  return message + ": it matches no entry of the capability table, so SoC checks are skipped. Known SoCs: " +
         join_names(catalog.known_names) + " (patterns: " + join_names(patterns) +
         "). Use the SoC version as CANN names it, e.g. Ascend310P3 or Ascend910B2.";
}

}  // namespace

AmctHeaders read_amct_headers(const syntax::Document& document) {
  AmctHeaders headers;
  // A cursor walk: ts_node_named_child(i) is linear in i, which would make a
  // file with many top-level fields quadratic.
  TSTreeCursor cursor = ts_tree_cursor_new(document.root());
  for (bool more = ts_tree_cursor_goto_first_child(&cursor); more;
       more = ts_tree_cursor_goto_next_sibling(&cursor)) {
    const TSNode node = ts_tree_cursor_current_node(&cursor);
    if (std::string_view(ts_node_type(node)) != "header") continue;
    const TSNode key = ts_node_child_by_field_name(node, "key", 3);
    if (ts_node_is_null(key)) continue;
    const TSNode value = ts_node_child_by_field_name(node, "value", 5);
    std::optional<std::string_view> value_text;
    ByteRange value_range;
    if (!ts_node_is_null(value)) {
      value_text = document.text_of(value);
      value_range = syntax::byte_range_of(value);
    }
    add_amct_header(headers, document.text_of(key), syntax::byte_range_of(key), value_text, value_range);
  }
  ts_tree_cursor_delete(&cursor);
  return headers;
}

void add_amct_header(AmctHeaders& headers, std::string_view key_text, ByteRange key_range,
                     std::optional<std::string_view> value_text, ByteRange value_range) {
  const std::string name = header_name(key_text);
  Located<std::string> located;
  if (!value_text) {
    located.range = key_range;
  } else {
    located.value = std::string(trim(*value_text));
    located.range = value_range;
  }
  if (name == "soc") headers.soc = located;
  if (name == "amct-api") headers.api = located;
}

ResolvedAmctOptions resolve_amct_options(const syntax::Document& document,
                                         const AmctCheckOptions& options) {
  return resolve_amct_options(read_amct_headers(document), options);
}

ResolvedAmctOptions resolve_amct_options(const AmctHeaders& headers, const AmctCheckOptions& options) {
  ResolvedAmctOptions resolved;

  // A header describes the file itself, so it beats the command line / setting.
  std::optional<Located<std::string>> soc = headers.soc;
  if (!soc && options.soc) soc = Located<std::string>{*options.soc, ByteRange{0, 0}};
  if (soc) {
    const SocCatalog& catalog = *resolved.context.socs;
    resolved.context.soc = soc->value;
    resolved.context.series = catalog.find_series(soc->value);
    if (!resolved.context.series) {
      resolved.diagnostics.push_back({soc->range, Severity::Error, "soc-unknown",
                                      unknown_soc_message(soc->value, catalog), {}});
    }
  }

  std::optional<Located<std::string>> api = headers.api;
  if (!api && options.api) api = Located<std::string>{*options.api, ByteRange{0, 0}};
  if (api) {
    if (const auto parsed = parse_amct_api(api->value)) {
      resolved.context.api = *parsed;
    } else {
      resolved.diagnostics.push_back(
          {api->range, Severity::Error, "api-unknown",
           "unknown AMCT API mode '" + api->value +
               "': use quant (create_quant_retrain_config), prune or compressed. Checking as "
               "compressed.",
           {}});
    }
  }
  return resolved;
}

bool is_amct_config(const model::BoundDocument& bound) {
  return bound.root.descriptor && bound.root.descriptor->name() == "AMCTRetrainConfig";
}

std::vector<Diagnostic> check_amct(const syntax::Document& document,
                                   const model::BoundDocument& bound,
                                   const AmctCheckOptions& options) {
  if (!is_amct_config(bound)) return {};
  return check_amct(read_amct_headers(document), bound, options);
}

std::vector<Diagnostic> check_amct(const AmctHeaders& headers, const model::BoundDocument& bound,
                                   const AmctCheckOptions& options) {
  if (!is_amct_config(bound)) return {};
  ResolvedAmctOptions resolved = resolve_amct_options(headers, options);
  std::vector<Diagnostic> diagnostics = std::move(resolved.diagnostics);
  const AmctConfig config = extract_config(bound.root);
  std::vector<Diagnostic> rules = check_rules(config, resolved.context);
  diagnostics.insert(diagnostics.end(), std::make_move_iterator(rules.begin()),
                     std::make_move_iterator(rules.end()));
  sort_by_start(diagnostics);
  return diagnostics;
}

std::vector<Diagnostic> amct_config_problems(const syntax::Document& document, const model::BoundDocument& bound,
                                             const AmctCheckOptions& options) {
  std::vector<Diagnostic> problems = document.syntax_diagnostics();
  problems.insert(problems.end(), bound.diagnostics.begin(), bound.diagnostics.end());
  const std::vector<Diagnostic> rules = check_amct(document, bound, options);
  problems.insert(problems.end(), rules.begin(), rules.end());
  return problems;
}

struct IncrementalAmctChecker::State {
  // Where the entries of one root field of the last model went.
  struct FieldEntries {
    bool is_override = false;
    OverrideKind kind = OverrideKind::ByName;
    size_t first = 0;  // index into config.name_overrides / type_overrides
    size_t count = 0;
    uint32_t start = 0;  // the field's start offset
  };
  bool valid = false;
  AmctApi api = AmctApi::Compressed;
  std::optional<std::string> soc;
  const ProductSeries* series = nullptr;
  AmctConfig config;
  std::vector<EntryRuleDiagnostics> name_rules, type_rules;
  std::vector<FieldEntries> fields;
  size_t rechecked = 0;
};

IncrementalAmctChecker::IncrementalAmctChecker() : state_(std::make_unique<State>()) {}
IncrementalAmctChecker::~IncrementalAmctChecker() = default;

void IncrementalAmctChecker::forget() {
  *state_ = State{};
}

size_t IncrementalAmctChecker::last_rechecked_entries() const { return state_->rechecked; }

std::vector<Diagnostic> IncrementalAmctChecker::check(const AmctHeaders& headers, const model::BoundDocument& bound,
                                                      const AmctCheckOptions& options,
                                                      const std::vector<size_t>* reused_from) {
  State& old = *state_;
  if (!is_amct_config(bound)) {
    forget();
    return {};
  }
  ResolvedAmctOptions resolved = resolve_amct_options(headers, options);
  const RuleContext& context = resolved.context;
  // The entries' own verdicts depend on the API mode and the SoC besides the entry.
  const bool reuse = old.valid && reused_from != nullptr && reused_from->size() == bound.root.fields.size() &&
                     old.api == context.api && old.soc == context.soc && old.series == context.series;

  State next;
  next.valid = true;
  next.api = context.api;
  next.soc = context.soc;
  next.series = context.series;
  next.config = extract_config_without_overrides(bound.root);
  next.fields.resize(bound.root.fields.size());
  for (size_t i = 0; i < bound.root.fields.size(); ++i) {
    const model::Field& field = bound.root.fields[i];
    const std::optional<OverrideKind> kind = override_kind_of(field);
    if (!kind) continue;
    std::vector<OverrideEntry>& entries =
        *kind == OverrideKind::ByName ? next.config.name_overrides : next.config.type_overrides;
    std::vector<EntryRuleDiagnostics>& rules = *kind == OverrideKind::ByName ? next.name_rules : next.type_rules;
    State::FieldEntries& placed = next.fields[i];
    placed = {true, *kind, entries.size(), 0, field.range.start};
    const size_t from = reuse ? (*reused_from)[i] : SIZE_MAX;
    if (from < old.fields.size() && old.fields[from].is_override && old.fields[from].kind == *kind) {
      const State::FieldEntries& was = old.fields[from];
      std::vector<OverrideEntry>& old_entries =
          *kind == OverrideKind::ByName ? old.config.name_overrides : old.config.type_overrides;
      std::vector<EntryRuleDiagnostics>& old_rules = *kind == OverrideKind::ByName ? old.name_rules : old.type_rules;
      const uint32_t delta = field.range.start - was.start;
      for (size_t k = was.first; k < was.first + was.count; ++k) {
        entries.push_back(std::move(old_entries[k]));
        rules.push_back(std::move(old_rules[k]));
        if (delta != 0) {
          shift_ranges(entries.back(), delta);
          rules.back().shift(delta);
        }
      }
    } else {
      const size_t before = entries.size();
      extract_override_entries(field, *kind, entries);
      for (size_t k = before; k < entries.size(); ++k) rules.push_back(check_entry_rules(entries[k], context));
      next.rechecked += entries.size() - before;
    }
    placed.count = entries.size() - placed.first;
  }

  std::vector<EntryRuleDiagnostics> entry_rules = std::move(next.name_rules);
  entry_rules.insert(entry_rules.end(), std::make_move_iterator(next.type_rules.begin()),
                     std::make_move_iterator(next.type_rules.end()));
  std::vector<Diagnostic> diagnostics = std::move(resolved.diagnostics);
  std::vector<Diagnostic> rules = check_rules(next.config, context, entry_rules);
  diagnostics.insert(diagnostics.end(), std::make_move_iterator(rules.begin()), std::make_move_iterator(rules.end()));
  std::stable_sort(diagnostics.begin(), diagnostics.end(),
                   [](const Diagnostic& a, const Diagnostic& b) { return a.range.start < b.range.start; });

  // Kept for the next call, split again by kind.
  const size_t names = next.config.name_overrides.size();
  next.name_rules.assign(std::make_move_iterator(entry_rules.begin()),
                         std::make_move_iterator(entry_rules.begin() + static_cast<std::ptrdiff_t>(names)));
  next.type_rules.assign(std::make_move_iterator(entry_rules.begin() + static_cast<std::ptrdiff_t>(names)),
                         std::make_move_iterator(entry_rules.end()));
  *state_ = std::move(next);
  return diagnostics;
}

}  // namespace amct
