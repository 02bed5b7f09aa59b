#include "server/resolve_command.h"

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>

#include "core/amct/amct_checks.h"
#include "core/amct/config.h"
#include "core/model/binder.h"
#include "core/schema/schema.h"

namespace amct::server {
namespace {

constexpr const char* kUsage =
    "usage: amct-lsp --resolve CFG --layer NAME [--type TYPE] [--format text|json]\n"
    "                [--soc SOC] [--api quant|prune|compressed]\n";

struct ResolveArguments {
  std::string config_path;
  std::optional<std::string> layer;
  std::optional<std::string> type;
  std::string format = "text";
  AmctCheckOptions check;
};

// Parses `--name value` and `--name=value`. Returns an error message or "".
std::string parse_arguments(const std::vector<std::string>& args, ResolveArguments& parsed) {
  std::optional<std::string> config_path;
  for (size_t i = 0; i < args.size(); ++i) {
    std::string name = args[i];
    std::optional<std::string> value;
    if (const size_t equals = name.find('='); name.rfind("--", 0) == 0 && equals != std::string::npos) {
      value = name.substr(equals + 1);
      name = name.substr(0, equals);
    }
    const auto take_value = [&]() -> std::optional<std::string> {
      if (value) return value;
      if (i + 1 < args.size()) return args[++i];
      return std::nullopt;
    };
    std::optional<std::string>* target = nullptr;
    std::optional<std::string> format;
    if (name == "--resolve") {
      target = &config_path;
    } else if (name == "--layer") {
      target = &parsed.layer;
    } else if (name == "--type") {
      target = &parsed.type;
    } else if (name == "--format") {
      target = &format;
    } else if (name == "--soc") {
      target = &parsed.check.soc;
    } else if (name == "--api") {
      target = &parsed.check.api;
    } else if (name.rfind("-", 0) != 0 && !config_path) {
      config_path = name;  // CFG given without --resolve in front of it
      continue;
    } else {
      return "unknown argument '" + args[i] + "'";
    }
    const std::optional<std::string> taken = take_value();
    if (!taken) return name + " needs a value";
    *target = *taken;
    if (format) {
      if (*format != "text" && *format != "json") {
        return "--format must be text or json, not '" + *format + "'";
      }
      parsed.format = *format;
    }
  }
  if (!config_path || config_path->empty()) return "no config file given";
  if (!parsed.layer && !parsed.type) return "give the layer with --layer NAME (and --type TYPE)";
  if (parsed.check.api && !parse_amct_api(*parsed.check.api)) {
    return "--api must be quant, prune or compressed, not '" + *parsed.check.api + "'";
  }
  if (parsed.check.soc && !soc_catalog().find_series(*parsed.check.soc)) {
    return "unknown SoC '" + *parsed.check.soc +
           "'; known SoCs: " + join_names(soc_catalog().known_names);
  }
  parsed.config_path = *config_path;
  return "";
}

std::optional<std::string> read_file(const std::string& path, std::string& error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    error = std::strerror(errno);
    return std::nullopt;
  }
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) {
    error = "read error";
    return std::nullopt;
  }
  return text.str();
}

using Json = nlohmann::ordered_json;  // keys in the documented order

Json optional_json(const auto& value) { return value ? Json(*value) : Json(nullptr); }

// Float fields (clip_max, clip_min, prune_ratio) hold a float's value; print
// the shortest decimal that reads back as the same float (0.3, not
// 0.30000001192092896).
double shortest_float(double value) {
  const float target = static_cast<float>(value);
  char buffer[32];
  for (int digits = 1; digits <= 9; ++digits) {
    std::snprintf(buffer, sizeof buffer, "%.*g", digits, value);
    const double candidate = std::strtod(buffer, nullptr);
    if (static_cast<float>(candidate) == target) return candidate;
  }
  return value;
}

Json optional_float_json(const std::optional<double>& value) {
  return value ? Json(shortest_float(*value)) : Json(nullptr);
}

Json source_json(const SettingSource& source, const syntax::Document& document) {
  Json line = nullptr;
  if (source.range) line = document.line_column_at(source.range->start).line;
  return {{"block", source_block_name(source.block)}, {"line", line}};
}

std::string format_number(double value) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%g", shortest_float(value));
  return buffer;
}

std::string source_text(const SettingSource& source, const syntax::Document& document) {
  std::string text = source_block_name(source.block);
  if (source.range) {
    text += " (line " + std::to_string(document.line_column_at(source.range->start).line) + ")";
  }
  return text;
}

}  // namespace

nlohmann::ordered_json resolution_to_json(const LayerResolution& resolution,
                                          const syntax::Document& document) {
  Json quant = {{"enabled", resolution.quant.enabled}, {"data", nullptr},
                          {"weight", nullptr}};
  if (const auto& data = resolution.quant.data) {
    quant["data"] = {{"algo", data->algorithm},
                     {"dst_type", data_type_name(data->dst_type)},
                     {"clip_max", optional_float_json(data->clip_max)},
                     {"clip_min", optional_float_json(data->clip_min)},
                     {"fixed_min", optional_json(data->fixed_min)},
                     {"source", source_json(data->source, document)}};
  }
  if (const auto& weight = resolution.quant.weight) {
    quant["weight"] = {{"algo", weight_algorithm_name(weight->algorithm)},
                       {"dst_type", data_type_name(weight->dst_type)},
                       {"channel_wise", optional_json(weight->channel_wise)},
                       {"source", source_json(weight->source, document)}};
  }
  const ResolvedPrune& prune_result = resolution.prune;
  Json prune = {
      {"enabled", prune_result.enabled},
      {"algo", prune_result.algorithm == PruneAlgorithm::None
                   ? Json(nullptr)
                   : Json(prune_algorithm_name(prune_result.algorithm))},
      {"prune_ratio", optional_float_json(prune_result.prune_ratio)},
      {"ascend_optimized", optional_json(prune_result.ascend_optimized)},
      {"n_out_of_m_type", optional_json(prune_result.n_out_of_m_type)},
      {"update_freq", optional_json(prune_result.update_freq)},
      {"source", prune_result.source ? source_json(*prune_result.source, document)
                                     : Json(nullptr)}};
  Json skipped = Json::array();
  for (const SkipMatch& match : resolution.skipped_by) {
    Json disables = Json::array();
    for (ResolvedFeature feature : match.disables) {
      disables.push_back(feature == ResolvedFeature::Quantization ? "quant" : "prune");
    }
    skipped.push_back({{"list", skip_list_name(match.list)},
                       {"value", match.value},
                       {"line", document.line_column_at(match.range.start).line},
                       {"disables", disables}});
  }
  return {{"layer", resolution.layer.empty() ? Json(nullptr)
                                             : Json(resolution.layer)},
          {"type", optional_json(resolution.type)},
          {"quant", quant},
          {"prune", prune},
          {"skipped_by", skipped}};
}

std::string resolution_to_text(const LayerResolution& resolution,
                               const syntax::Document& document) {
  std::ostringstream out;
  out << "layer " << (resolution.layer.empty() ? "(any)" : resolution.layer);
  if (resolution.type) out << " (" << *resolution.type << ")";
  out << "\n";

  out << "quantization: " << (resolution.quant.enabled ? "on" : "off") << "\n";
  if (const auto& data = resolution.quant.data) {
    out << "  data:   " << data->algorithm << " " << data_type_name(data->dst_type);
    if (data->clip_max || data->clip_min) {
      out << ", clip [" << (data->clip_min ? format_number(*data->clip_min) : "?") << ", "
          << (data->clip_max ? format_number(*data->clip_max) : "?") << "]";
    } else {
      out << ", no clip (AMCT initialises it with IFMR)";
    }
    if (data->fixed_min) out << ", fixed_min " << (*data->fixed_min ? "true" : "false");
    out << "\n          from " << source_text(data->source, document) << "\n";
  }
  if (const auto& weight = resolution.quant.weight) {
    out << "  weight: " << weight_algorithm_name(weight->algorithm) << " "
        << data_type_name(weight->dst_type);
    if (weight->channel_wise) {
      out << ", channel_wise " << (*weight->channel_wise ? "true" : "false");
      if (weight->channel_wise_is_default) out << " (default for the type)";
    } else {
      out << ", channel_wise per layer type (give --type)";
    }
    out << "\n          from " << source_text(weight->source, document) << "\n";
  }

  const ResolvedPrune& prune = resolution.prune;
  out << "pruning: " << (prune.enabled ? "on" : "off") << "\n";
  if (prune.enabled) {
    out << "  " << prune_algorithm_name(prune.algorithm);
    if (prune.prune_ratio) out << ", prune_ratio " << format_number(*prune.prune_ratio);
    if (prune.ascend_optimized) out << ", ascend_optimized " << (*prune.ascend_optimized ? "true" : "false");
    if (prune.n_out_of_m_type) out << ", " << *prune.n_out_of_m_type;
    if (prune.update_freq) out << ", update_freq " << *prune.update_freq;
    out << "\n          from " << source_text(*prune.source, document) << "\n";
  }

  for (const SkipMatch& match : resolution.skipped_by) {
    out << "skipped by " << skip_list_name(match.list) << " \"" << match.value << "\" (line "
        << document.line_column_at(match.range.start).line << "): ";
    if (match.disables.empty()) {
      out << "no effect (an override wins)";
    } else {
      for (size_t i = 0; i < match.disables.size(); ++i) {
        out << (i ? ", " : "") << (match.disables[i] == ResolvedFeature::Quantization
                                       ? "no quantization"
                                       : "no pruning");
      }
    }
    out << "\n";
  }
  for (const std::string& note : resolution.notes) out << "note: " << note << "\n";
  return out.str();
}

int run_resolve_command(const std::vector<std::string>& args) {
  return run_resolve_command(args, std::cout, std::cerr);
}

int run_resolve_command(const std::vector<std::string>& args, std::ostream& out,
                        std::ostream& err) {
  ResolveArguments parsed;
  if (const std::string problem = parse_arguments(args, parsed); !problem.empty()) {
    err << "amct-lsp --resolve: " << problem << "\n" << kUsage;
    return 2;
  }
  std::string read_error;
  std::optional<std::string> text = read_file(parsed.config_path, read_error);
  if (!text) {
    err << "amct-lsp --resolve: cannot read " << parsed.config_path << ": " << read_error << "\n";
    return 2;
  }

  const syntax::Document document(std::move(*text));
  const model::BoundDocument bound = model::bind(document, schema::amct_schema().root);
  const std::vector<Diagnostic> problems = amct_config_problems(document, bound, parsed.check);

  ResolveOptions options;
  const ResolvedAmctOptions amct_options = resolve_amct_options(document, parsed.check);
  options.api = amct_options.context.api;
  const LayerResolution resolution = resolve_layer(
      extract_config(bound.root), {parsed.layer.value_or(""), parsed.type}, options);

  if (parsed.format == "json") {
    out << resolution_to_json(resolution, document).dump(2) << "\n";
  } else {
    out << resolution_to_text(resolution, document);
  }

  int errors = 0;
  for (const Diagnostic& diagnostic : problems) {
    if (diagnostic.severity != Severity::Error) continue;
    ++errors;
    const syntax::LineColumn at = document.line_column_at(diagnostic.range.start);
    err << parsed.config_path << ":" << at.line << ":" << at.column << ": error: "
        << diagnostic.message << " [" << diagnostic.code << "]\n";
  }
  if (errors > 0) {
    err << parsed.config_path << ": " << errors
        << (errors == 1 ? " error" : " errors")
        << ": AMCT would reject this config; the resolution above is what it would mean once "
           "fixed.\n";
    return 1;
  }
  return 0;
}

}  // namespace amct::server
