#include "core/amct/capabilities.h"

#include <algorithm>

#include "core/embedded_files.h"
#include "core/text_util.h"

namespace amct {
namespace {

std::vector<std::string_view> split_tabs(std::string_view line) {
  std::vector<std::string_view> columns;
  size_t start = 0;
  while (true) {
    const size_t tab = line.find('\t', start);
    columns.push_back(trim(line.substr(start, tab == std::string_view::npos ? std::string_view::npos
                                                                             : tab - start)));
    if (tab == std::string_view::npos) break;
    start = tab + 1;
  }
  return columns;
}

// Calls `handle(line_number, columns)` for every line that is not blank or a comment.
template <typename Handler>
void for_each_record(std::string_view text, Handler handle) {
  uint32_t line_number = 0;
  size_t start = 0;
  while (start <= text.size()) {
    const size_t newline = text.find('\n', start);
    const std::string_view line =
        text.substr(start, newline == std::string_view::npos ? std::string_view::npos
                                                             : newline - start);
    ++line_number;
    const std::string_view content = trim(line);
    if (!content.empty() && content.front() != '#') handle(line_number, split_tabs(line));
    if (newline == std::string_view::npos) break;
    start = newline + 1;
  }
}

std::optional<bool> parse_yes_no(std::string_view text) {
  if (text == "yes") return true;
  if (text == "no") return false;
  return std::nullopt;
}

std::string line_error(uint32_t line, std::string_view what) {
  return "line " + std::to_string(line) + ": " + std::string(what);
}

}  // namespace

std::string join_names(const std::vector<std::string>& items, std::string_view separator) {
  std::string out;
  for (size_t i = 0; i < items.size(); ++i) {
    if (i) out += separator;
    out += items[i];
  }
  return out;
}

// ---------------------------------------------------------------- SoCs

bool SocPattern::matches(std::string_view soc) const {
  if (is_prefix()) {
    const std::string_view prefix = std::string_view(pattern).substr(0, pattern.size() - 1);
    return soc.substr(0, prefix.size()) == prefix;
  }
  return soc == pattern;
}

const SocPattern* SocCatalog::find_pattern(std::string_view soc) const {
  const SocPattern* best = nullptr;
  for (const SocPattern& candidate : patterns) {
    if (!candidate.matches(soc)) continue;
    if (!candidate.is_prefix()) return &candidate;
    if (!best || candidate.pattern.size() > best->pattern.size()) best = &candidate;
  }
  return best;
}

const ProductSeries* SocCatalog::series_by_id(std::string_view id) const {
  for (const ProductSeries& entry : series) {
    if (entry.id == id) return &entry;
  }
  return nullptr;
}

const ProductSeries* SocCatalog::find_series(std::string_view soc) const {
  const SocPattern* pattern = find_pattern(soc);
  return pattern ? series_by_id(pattern->series_id) : nullptr;
}

std::vector<std::string> SocCatalog::patterns_where(bool (*has)(const ProductSeries&),
                                                    bool value) const {
  std::vector<std::string> out;
  for (const SocPattern& pattern : patterns) {
    const ProductSeries* entry = series_by_id(pattern.series_id);
    if (entry && has(*entry) == value) out.push_back(pattern.pattern);
  }
  return out;
}

SocCatalog parse_soc_catalog(std::string_view text) {
  SocCatalog catalog;
  for_each_record(text, [&](uint32_t line, const std::vector<std::string_view>& columns) {
    const std::string_view kind = columns[0];
    if (kind == "series") {
      if (columns.size() < 6) {
        catalog.load_errors.push_back(line_error(line, "series needs 6 columns"));
        return;
      }
      const auto int4 = parse_yes_no(columns[2]);
      const auto int16 = parse_yes_no(columns[3]);
      const auto sparsity = parse_yes_no(columns[4]);
      if (!int4 || !int16 || !sparsity || columns[1].empty()) {
        catalog.load_errors.push_back(line_error(line, "series capabilities must be yes or no"));
        return;
      }
      catalog.series.push_back({std::string(columns[1]), std::string(columns[5]), *int4, *int16,
                                *sparsity});
    } else if (kind == "soc") {
      if (columns.size() < 3 || columns[1].empty() || columns[1] == "*") {
        catalog.load_errors.push_back(line_error(line, "soc needs a pattern and a series id"));
        return;
      }
      catalog.patterns.push_back({std::string(columns[1]), std::string(columns[2])});
    } else if (kind == "known") {
      if (columns.size() < 2 || columns[1].empty()) {
        catalog.load_errors.push_back(line_error(line, "known needs a SoC name"));
        return;
      }
      catalog.known_names.emplace_back(columns[1]);
    } else {
      catalog.load_errors.push_back(line_error(line, "unknown record kind '" + std::string(kind) + "'"));
    }
  });
  // Cross-references are checked after the whole file is read, so the
  // sections may come in any order.
  std::vector<SocPattern> valid_patterns;
  for (SocPattern& pattern : catalog.patterns) {
    if (catalog.series_by_id(pattern.series_id)) {
      valid_patterns.push_back(std::move(pattern));
    } else {
      catalog.load_errors.push_back("soc " + pattern.pattern + ": unknown series '" +
                                    pattern.series_id + "'");
    }
  }
  catalog.patterns = std::move(valid_patterns);
  std::vector<std::string> valid_names;
  for (std::string& name : catalog.known_names) {
    if (catalog.find_pattern(name)) {
      valid_names.push_back(std::move(name));
    } else {
      catalog.load_errors.push_back("known " + name + ": matches no soc pattern");
    }
  }
  catalog.known_names = std::move(valid_names);
  return catalog;
}

const SocCatalog& soc_catalog() {
  static const SocCatalog catalog =
      parse_soc_catalog(embedded::find("soc_capabilities.tsv").value_or(std::string_view{}));
  return catalog;
}

// ---------------------------------------------------------------- layer types

const char* feature_name(Feature feature) {
  switch (feature) {
    case Feature::Quantization: return "quantization-aware training";
    case Feature::FilterPruning: return "channel pruning (filter_pruner)";
    case Feature::SelectivePruning: return "4:2 structured sparsity (n_out_of_m_pruner)";
  }
  return "";
}

bool LayerTypeInfo::supports(Feature feature) const {
  switch (feature) {
    case Feature::Quantization: return quantization;
    case Feature::FilterPruning: return filter_pruning;
    case Feature::SelectivePruning: return selective_pruning;
  }
  return false;
}

const LayerTypeInfo* LayerTypeTable::find(std::string_view type) const {
  for (const LayerTypeInfo& info : types) {
    if (info.type == type) return &info;
  }
  return nullptr;
}

std::vector<std::string> LayerTypeTable::types_for(Feature feature) const {
  std::vector<std::string> out;
  for (const LayerTypeInfo& info : types) {
    if (info.supports(feature)) out.push_back(info.type);
  }
  return out;
}

LayerTypeTable parse_layer_type_table(std::string_view text) {
  LayerTypeTable table;
  for_each_record(text, [&](uint32_t line, const std::vector<std::string_view>& columns) {
    if (columns.size() < 5) {
      table.load_errors.push_back(line_error(line, "a layer type needs at least 5 columns"));
      return;
    }
    const auto quantization = parse_yes_no(columns[1]);
    const auto filter = parse_yes_no(columns[2]);
    const auto selective = parse_yes_no(columns[3]);
    const std::string_view channel_wise = columns[4];
    if (!quantization || !filter || !selective ||
        (channel_wise != "default" && channel_wise != "forbidden")) {
      table.load_errors.push_back(
          line_error(line, "expected yes|no for features and default|forbidden for channel_wise"));
      return;
    }
    if (table.find(columns[0])) {
      table.load_errors.push_back(line_error(line, "duplicate layer type " + std::string(columns[0])));
      return;
    }
    LayerTypeInfo info;
    info.type = std::string(columns[0]);
    info.quantization = *quantization;
    info.filter_pruning = *filter;
    info.selective_pruning = *selective;
    info.channel_wise_allowed = channel_wise == "default";
    if (columns.size() > 5) info.note = std::string(columns[5]);
    table.types.push_back(std::move(info));
  });
  return table;
}

const LayerTypeTable& layer_type_table() {
  static const LayerTypeTable table =
      parse_layer_type_table(embedded::find("layer_types.tsv").value_or(std::string_view{}));
  return table;
}

}  // namespace amct
