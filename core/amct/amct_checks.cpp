#include "core/amct/amct_checks.h"
#include "core/parallel.h"
#include "core/text_util.h"

#include <algorithm>
#include <string_view>

namespace amct {
namespace {

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

std::string amct_header_name(std::string_view key) {
  std::string name;
  for (char c : key) {
    if (c != '#' && c != ':' && c != ' ' && c != '\t') name += c;
  }
  return name;
}

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
  const std::string name = amct_header_name(key_text);
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
  std::vector<Diagnostic> rules = check_rules_and_release(extract_config(bound.root), resolved.context);
  if (diagnostics.empty()) {  // the usual case: no header diagnostics, nothing to move one by one
    diagnostics = std::move(rules);
  } else {
    diagnostics.insert(diagnostics.end(), std::make_move_iterator(rules.begin()),
                       std::make_move_iterator(rules.end()));
  }
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
  bool updated_in_place = false;
};

IncrementalAmctChecker::IncrementalAmctChecker() : state_(std::make_unique<State>()) {}
IncrementalAmctChecker::~IncrementalAmctChecker() = default;

void IncrementalAmctChecker::forget() {
  *state_ = State{};
}

size_t IncrementalAmctChecker::last_rechecked_entries() const { return state_->rechecked; }
bool IncrementalAmctChecker::last_updated_in_place() const { return state_->updated_in_place; }

namespace {

// The entries of one override kind after an edit, as runs: the entries of a
// root field carried over from the previous model (`old_first`, `count`,
// moved by `delta` bytes), or of a root field bound afresh.
struct EntryRun {
  size_t field = 0;  // root field index in the new model
  bool reused = false;
  size_t old_first = 0, count = 0;
  uint32_t delta = 0;
};

}  // namespace

// An edit re-binds the root fields between its first and last change; the
// others keep their entries in the same order. When every carried-over entry
// of a kind sits in a prefix and a suffix of the previous entries, the
// previous vectors are updated where they are: the suffix shifted, the
// middle replaced. Returns false for any other shape (the caller then
// assembles the vectors anew).
bool IncrementalAmctChecker::update_in_place(State& old, State& next, const model::BoundDocument& bound,
                                             const std::vector<size_t>& reused_from, const RuleContext& context) {
  std::vector<EntryRun> runs[2];
  for (size_t i = 0; i < bound.root.fields.size(); ++i) {
    const std::optional<OverrideKind> kind = override_kind_of(bound.root.fields[i]);
    if (!kind) continue;
    EntryRun run;
    run.field = i;
    const size_t from = reused_from[i];
    if (from < old.fields.size() && old.fields[from].is_override && old.fields[from].kind == *kind) {
      run.reused = true;
      run.old_first = old.fields[from].first;
      run.count = old.fields[from].count;
      run.delta = bound.root.fields[i].range.start - old.fields[from].start;
    }
    runs[static_cast<int>(*kind)].push_back(run);
  }
  // Check the shape first: nothing may be moved before it is known to fit.
  struct Splice {
    size_t prefix_runs = 0, suffix_runs = 0;  // leading / trailing reused runs
    size_t old_prefix_end = 0, old_suffix_begin = 0;
  } splices[2];
  for (int kind = 0; kind < 2; ++kind) {
    const std::vector<EntryRun>& list = runs[kind];
    const size_t old_total = kind == 0 ? old.config.name_overrides.size() : old.config.type_overrides.size();
    Splice& splice = splices[kind];
    size_t expected = 0;
    while (splice.prefix_runs < list.size() && list[splice.prefix_runs].reused &&
           list[splice.prefix_runs].old_first == expected) {
      expected += list[splice.prefix_runs].count;
      ++splice.prefix_runs;
    }
    splice.old_prefix_end = expected;
    size_t begin = old_total;
    while (splice.prefix_runs + splice.suffix_runs < list.size()) {
      const EntryRun& run = list[list.size() - 1 - splice.suffix_runs];
      if (!run.reused || run.old_first + run.count != begin || run.old_first < splice.old_prefix_end) break;
      begin = run.old_first;
      ++splice.suffix_runs;
    }
    splice.old_suffix_begin = begin;
    for (size_t r = splice.prefix_runs; r + splice.suffix_runs < list.size(); ++r)
      if (list[r].reused) return false;  // a carried-over field in the middle: another shape
  }

  for (int kind = 0; kind < 2; ++kind) {
    const std::vector<EntryRun>& list = runs[kind];
    const Splice& splice = splices[kind];
    std::vector<OverrideEntry>& entries = kind == 0 ? old.config.name_overrides : old.config.type_overrides;
    std::vector<EntryRuleDiagnostics>& rules = kind == 0 ? old.name_rules : old.type_rules;
    // The middle: the entries of the fields bound afresh.
    std::vector<OverrideEntry> fresh;
    std::vector<size_t> fresh_counts;
    for (size_t r = splice.prefix_runs; r + splice.suffix_runs < list.size(); ++r) {
      const size_t before = fresh.size();
      extract_override_entries(bound.root.fields[list[r].field], static_cast<OverrideKind>(kind), fresh);
      fresh_counts.push_back(fresh.size() - before);
    }
    std::vector<EntryRuleDiagnostics> fresh_rules;
    fresh_rules.reserve(fresh.size());
    for (const OverrideEntry& entry : fresh) fresh_rules.push_back(check_entry_rules(entry, context));
    next.rechecked += fresh.size();
    // Carried-over entries move with their fields: an edit near the top of a
    // large config moves ~10,000, in two halves on two threads.
    size_t moved = 0;
    for (const EntryRun& run : list)
      if (run.reused && run.delta != 0) moved += run.count;
    auto shift_runs = [&](size_t first_run, size_t end_run) {
      for (size_t r = first_run; r < end_run; ++r) {
        const EntryRun& run = list[r];
        if (!run.reused || run.delta == 0) continue;
        for (size_t k = run.old_first; k < run.old_first + run.count; ++k) {
          shift_ranges(entries[k], run.delta);
          rules[k].shift(run.delta);
        }
      }
    };
    constexpr size_t kParallelShiftEntries = 2000;
    run_both(moved >= kParallelShiftEntries, [&] { shift_runs(0, list.size() / 2); },
             [&] { shift_runs(list.size() / 2, list.size()); });
    const auto first = static_cast<std::ptrdiff_t>(splice.old_prefix_end);
    const auto last = static_cast<std::ptrdiff_t>(splice.old_suffix_begin);
    if (static_cast<size_t>(last - first) == fresh.size()) {
      std::move(fresh.begin(), fresh.end(), entries.begin() + first);
      std::move(fresh_rules.begin(), fresh_rules.end(), rules.begin() + first);
    } else {
      entries.erase(entries.begin() + first, entries.begin() + last);
      entries.insert(entries.begin() + first, std::make_move_iterator(fresh.begin()), std::make_move_iterator(fresh.end()));
      rules.erase(rules.begin() + first, rules.begin() + last);
      rules.insert(rules.begin() + first, std::make_move_iterator(fresh_rules.begin()),
                   std::make_move_iterator(fresh_rules.end()));
    }
    // Where each field's entries are now.
    size_t at = 0, fresh_run = 0;
    for (size_t r = 0; r < list.size(); ++r) {
      const EntryRun& run = list[r];
      const size_t count = run.reused ? run.count : fresh_counts[fresh_run++];
      next.fields[run.field] = {true, static_cast<OverrideKind>(kind), at, count,
                                bound.root.fields[run.field].range.start};
      at += count;
    }
    (kind == 0 ? next.config.name_overrides : next.config.type_overrides) = std::move(entries);
    (kind == 0 ? next.name_rules : next.type_rules) = std::move(rules);
  }
  return true;
}

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
  next.updated_in_place = reuse && update_in_place(old, next, bound, *reused_from, context);
  if (!next.updated_in_place) {
    next.config.name_overrides.clear();
    next.config.type_overrides.clear();
    next.name_rules.clear();
    next.type_rules.clear();
    next.rechecked = 0;
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
  }

  std::vector<Diagnostic> diagnostics = std::move(resolved.diagnostics);
  std::vector<Diagnostic> rules = check_rules(next.config, context, next.name_rules, next.type_rules);
  if (diagnostics.empty()) diagnostics = std::move(rules);
  else diagnostics.insert(diagnostics.end(), std::make_move_iterator(rules.begin()), std::make_move_iterator(rules.end()));
  sort_by_start(diagnostics);  // stable; nothing to do when no SoC or API name was unknown

  *state_ = std::move(next);
  return diagnostics;
}

}  // namespace amct
