#pragma once
// Domain tables loaded from data files (embedded at build time):
//   data/soc_capabilities.tsv  SoC version patterns -> product series -> INT4 / INT16 / 4:2
//   data/layer_types.tsv       layer types per AMCT feature, channel_wise default
// The file formats are described in the files' header comments. A new chip or
// layer type is a data edit.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace amct {

// ---------------------------------------------------------------- SoCs

struct ProductSeries {
  std::string id;            // "atlas-inference"
  std::string display_name;  // "Atlas inference series"
  bool int4 = false;
  bool int16 = false;
  bool sparsity_4_2 = false;
};

struct SocPattern {
  std::string pattern;  // "Ascend310P*" (prefix) or "Ascend910A" (exact)
  std::string series_id;
  bool is_prefix() const { return !pattern.empty() && pattern.back() == '*'; }
  bool matches(std::string_view soc) const;
};

struct SocCatalog {
  std::vector<ProductSeries> series;
  std::vector<SocPattern> patterns;      // file order
  std::vector<std::string> known_names;  // concrete names for completion, file order
  std::vector<std::string> load_errors;  // "line N: ..." for malformed lines (skipped)

  // The series of a SoC version: an exact pattern beats a prefix, a longer
  // prefix beats a shorter one. Null for an unknown SoC.
  const ProductSeries* find_series(std::string_view soc) const;
  const ProductSeries* series_by_id(std::string_view id) const;
  const SocPattern* find_pattern(std::string_view soc) const;

  // Patterns whose series lacks a capability, e.g. for a warning "INT4 runs
  // only on ...; not on Ascend910*, ...". `has` picks the capability.
  std::vector<std::string> patterns_where(bool (*has)(const ProductSeries&), bool value) const;
};

SocCatalog parse_soc_catalog(std::string_view text);
const SocCatalog& soc_catalog();  // the embedded data/soc_capabilities.tsv, parsed once

// ---------------------------------------------------------------- layer types

enum class Feature { Quantization, FilterPruning, SelectivePruning };
const char* feature_name(Feature feature);  // "quantization-aware training", ...

struct LayerTypeInfo {
  std::string type;  // "Conv2d"
  bool quantization = false;
  bool filter_pruning = false;
  bool selective_pruning = false;
  bool channel_wise_allowed = true;  // false: `channel_wise: true` is an AMCT error
  std::string note;
  bool supports(Feature feature) const;
  bool channel_wise_default() const { return channel_wise_allowed; }
};

struct LayerTypeTable {
  std::vector<LayerTypeInfo> types;  // file order
  std::vector<std::string> load_errors;

  const LayerTypeInfo* find(std::string_view type) const;  // exact (case-sensitive)
  std::vector<std::string> types_for(Feature feature) const;
};

LayerTypeTable parse_layer_type_table(std::string_view text);
const LayerTypeTable& layer_type_table();  // the embedded data/layer_types.tsv

// "a, b, c"
std::string join_names(const std::vector<std::string>& items, std::string_view separator = ", ");

}  // namespace amct
