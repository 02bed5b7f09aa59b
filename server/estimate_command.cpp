#include "server/estimate_command.h"

#include <unistd.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>

#include "core/amct/amct_checks.h"
#include "core/amct/config.h"
#include "core/engine/estimate.h"
#include "core/model/binder.h"
#include "core/schema/schema.h"
#include "server/cli.h"
#include "server/resolve_command.h"

namespace amct::server {
namespace {

using Json = nlohmann::ordered_json;

constexpr const char* kUsage =
    "usage: amct-lsp --estimate CFG --weights FILE [--manifest JSON] [--soc SOC]\n"
    "                [--api quant|prune|compressed] [--format text|json] [--activations DIR] [--jobs N]\n";
constexpr uint64_t kProgressParameters = 10'000'000;

struct EstimateArguments {
  std::string config_path;
  std::string weights_path;
  std::optional<std::string> manifest_path;
  std::optional<std::string> activations_dir;
  std::string format = "text";
  unsigned jobs = 0;
  AmctCheckOptions check;
};

std::string parse(const std::vector<std::string>& args, EstimateArguments& parsed) {
  const std::vector<OptionSpec> specs = {{"--weights", true}, {"--manifest", true}, {"--soc", true},
                                         {"--api", true},     {"--format", true},   {"--activations", true},
                                         {"--jobs", true},    {"-j", true}};
  std::string error;
  std::optional<ParsedArguments> arguments = parse_arguments(args, specs, error);
  if (!arguments) return error;
  if (arguments->positionals.size() != 1) return "give exactly one config file (CFG)";
  parsed.config_path = arguments->positionals.front();
  std::optional<std::string> weights = arguments->last("--weights");
  if (!weights) return "--weights FILE is required (safetensors or ONNX)";
  parsed.weights_path = *weights;
  parsed.manifest_path = arguments->last("--manifest");
  parsed.activations_dir = arguments->last("--activations");
  parsed.format = arguments->last("--format").value_or("text");
  if (parsed.format != "text" && parsed.format != "json") {
    return "--format must be text or json, not '" + parsed.format + "'";
  }
  std::optional<std::string> jobs = arguments->last("--jobs");
  if (!jobs) jobs = arguments->last("-j");
  if (jobs) {
    char* end = nullptr;
    const long value = std::strtol(jobs->c_str(), &end, 10);
    if (jobs->empty() || *end != '\0' || value < 1 || value > 1024) {
      return "--jobs must be a number from 1 to 1024, not '" + *jobs + "'";
    }
    parsed.jobs = static_cast<unsigned>(value);
  }
  parsed.check.soc = arguments->last("--soc");
  parsed.check.api = arguments->last("--api");
  if (parsed.check.api && !parse_amct_api(*parsed.check.api)) {
    return "--api must be quant, prune or compressed, not '" + *parsed.check.api + "'";
  }
  if (parsed.check.soc && !soc_catalog().find_series(*parsed.check.soc)) {
    return "unknown SoC '" + *parsed.check.soc + "'; known SoCs: " + join_names(soc_catalog().known_names);
  }
  return "";
}

std::optional<std::string> read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

Json finite_or_null(double value) { return std::isfinite(value) ? Json(value) : Json(nullptr); }

Json layer_json(const engine::LayerEstimate& layer, const syntax::Document& document) {
  Json quant = nullptr;
  if (layer.weight_quant && layer.error) {
    const engine::ErrorSums& e = *layer.error;
    quant = {{"algo", layer.weight_algorithm},
             {"dst_type", layer.weight_quant->bits == 4 ? "INT4" : "INT8"},
             {"channel_wise", layer.weight_quant->channel_wise},
             {"rel_l2", e.rel_l2()},
             {"sqnr_db", finite_or_null(e.sqnr_db())},
             {"cosine", e.cosine()},
             {"max_abs", e.max_abs}};
  }
  Json prune = nullptr;
  if (layer.prune && layer.prune_figures) {
    prune = {{"algo", layer.prune_algorithm},
             {"kept", layer.prune_figures->kept},
             {"total", layer.prune_figures->total},
             {"energy_removed", layer.prune_figures->energy_removed()},
             {"params_pruned", layer.parameters_pruned}};
  }
  Json activation = nullptr;
  if (layer.activation_static || layer.activation_measured) {
    activation = {{"dst_type", layer.activation_bits == 4 ? "INT4" : (layer.activation_bits == 16 ? "INT16" : "INT8")},
                  {"step", layer.activation_static ? Json(layer.activation_static->step) : Json(nullptr)},
                  {"noise_rms", layer.activation_static ? Json(layer.activation_static->noise_rms) : Json(nullptr)},
                  {"measured", nullptr}};
    if (layer.activation_measured) {
      activation["measured"] = {{"rel_l2", layer.activation_measured->rel_l2()},
                                {"sqnr_db", finite_or_null(layer.activation_measured->sqnr_db())},
                                {"max_abs", layer.activation_measured->max_abs}};
    }
  }
  return {{"name", layer.name},
          {"type", layer.type},
          {"type_inferred", layer.type_inferred},
          {"shape", layer.shape},
          {"groups", layer.groups},
          {"config", resolution_to_json(layer.resolution, document)},
          {"quant", quant},
          {"prune", prune},
          {"activation", activation},
          {"notes", layer.notes},
          {"problem", layer.problem.empty() ? Json(nullptr) : Json(layer.problem)}};
}

Json summary_json(const engine::EstimateSummary& s) {
  return {{"layers", s.layers},
          {"quantized_layers", s.quantized_layers},
          {"pruned_layers", s.pruned_layers},
          {"untouched_layers", s.untouched_layers},
          {"parameters", s.parameters},
          {"parameters_pruned", s.parameters_pruned},
          {"mean_sqnr_db", s.mean_sqnr_db ? Json(*s.mean_sqnr_db) : Json(nullptr)},
          {"overall_rel_l2", s.overall_rel_l2},
          {"worst_layers", s.worst_layers}};
}

std::string human_count(uint64_t n) {
  char buffer[32];
  if (n >= 1'000'000) std::snprintf(buffer, sizeof buffer, "%.1fM", static_cast<double>(n) / 1e6);
  else if (n >= 10'000) std::snprintf(buffer, sizeof buffer, "%.1fk", static_cast<double>(n) / 1e3);
  else std::snprintf(buffer, sizeof buffer, "%llu", static_cast<unsigned long long>(n));
  return buffer;
}

std::string weight_setting(const engine::LayerEstimate& layer) {
  if (!layer.weight_quant) return "-";
  std::string text = layer.weight_quant->bits == 4 ? "INT4" : "INT8";
  text += layer.weight_quant->channel_wise ? " ch" : " tensor";
  if (layer.weight_algorithm == "ulq_retrain") text += " ulq";
  return text;
}

std::string prune_setting(const engine::LayerEstimate& layer) {
  if (!layer.prune) return "-";
  char buffer[64];
  if (layer.prune->kind == engine::PruneKind::Selective4of2) {
    return layer.prune_figures && layer.prune_figures->skipped ? "4:2 (Cin<=2)" : "4:2";
  }
  if (layer.prune_figures) {
    std::snprintf(buffer, sizeof buffer, "keep %llu/%llu",
                  static_cast<unsigned long long>(layer.prune_figures->kept),
                  static_cast<unsigned long long>(layer.prune_figures->total));
    return buffer;
  }
  return "filter";
}

std::string pad(std::string text, size_t width) {
  if (text.size() < width) text.append(width - text.size(), ' ');
  return text;
}

void write_text(std::ostream& out, const engine::ModelEstimate& estimate, const engine::WeightsModel& model,
                const std::string& weights_path) {
  out << weights_path << ": " << model.format << ", " << model.layers.size() << " layers, "
      << human_count(model.parameter_count()) << " parameters\n";
  for (const std::string& notice : model.notices) out << "note: " << notice << "\n";
  out << "\n";
  std::vector<const engine::LayerEstimate*> rows;
  size_t name_width = 5;
  for (const engine::LayerEstimate& layer : estimate.layers) {
    rows.push_back(&layer);
    name_width = std::max(name_width, std::min<size_t>(layer.name.size(), 48));
  }
  std::stable_sort(rows.begin(), rows.end(), [](auto* a, auto* b) {
    const double ea = a->error ? a->error->rel_l2() : -1, eb = b->error ? b->error->rel_l2() : -1;
    return ea > eb;
  });
  double worst = 0;
  for (auto* row : rows) {
    if (row->error) worst = std::max(worst, row->error->rel_l2());
  }
  out << pad("layer", name_width) << "  " << pad("type", 16) << pad("weights", 12) << pad("prune", 14)
      << "  rel.err   SQNR dB\n";
  for (const engine::LayerEstimate* row : rows) {
    out << pad(row->name, name_width) << "  " << pad(row->type + (row->type_inferred ? "?" : ""), 16)
        << pad(weight_setting(*row), 12) << pad(prune_setting(*row), 14);
    if (row->error) {
      char sqnr_text[32] = "exact";
      if (const double sqnr = row->error->sqnr_db(); std::isfinite(sqnr)) {
        std::snprintf(sqnr_text, sizeof sqnr_text, "%.1f", sqnr);
      }
      char figures[64];
      std::snprintf(figures, sizeof figures, "%8.3f %%  %7s", 100 * row->error->rel_l2(), sqnr_text);
      out << figures << "  ";
      const int bar = worst > 0 ? static_cast<int>(std::lround(20 * row->error->rel_l2() / worst)) : 0;
      out << std::string(static_cast<size_t>(bar), '#');
    } else if (!row->problem.empty()) {
      out << "  " << row->problem;
    } else {
      out << "         -        -";
    }
    for (const std::string& note : row->notes) out << "\n" << pad("", name_width) << "  note: " << note;
    out << "\n";
  }
  const engine::EstimateSummary& s = estimate.summary;
  char sqnr[48] = "";
  if (s.mean_sqnr_db) std::snprintf(sqnr, sizeof sqnr, "mean SQNR %.1f dB; ", *s.mean_sqnr_db);
  char line[320];
  std::snprintf(line, sizeof line,
                "\nsummary: %zu layers (%zu quantized, %zu pruned, %zu untouched); %s"
                "overall rel.err %.3f %%; parameters pruned %s of %s (%.1f %%)\n",
                s.layers, s.quantized_layers, s.pruned_layers, s.untouched_layers, sqnr,
                100 * s.overall_rel_l2, human_count(s.parameters_pruned).c_str(), human_count(s.parameters).c_str(),
                s.parameters ? 100.0 * static_cast<double>(s.parameters_pruned) / static_cast<double>(s.parameters) : 0.0);
  out << line;
  if (!s.worst_layers.empty()) {
    out << "worst layers:";
    for (size_t i = 0; i < s.worst_layers.size(); ++i) out << (i ? ", " : " ") << s.worst_layers[i];
    out << "\n";
  }
}

}  // namespace

int run_estimate_command(const std::vector<std::string>& args) {
  return run_estimate_command(args, std::cout, std::cerr);
}

int run_estimate_command(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  EstimateArguments parsed;
  if (const std::string problem = parse(args, parsed); !problem.empty()) {
    err << "amct-lsp --estimate: " << problem << "\n" << kUsage;
    return 2;
  }
  std::optional<std::string> text = read_text(parsed.config_path);
  if (!text) {
    err << "amct-lsp --estimate: cannot read " << parsed.config_path << "\n";
    return 2;
  }
  engine::LoadOptions load;
  load.weights_path = parsed.weights_path;
  load.manifest_path = parsed.manifest_path;
  engine::LoadResult loaded = engine::load_weights(load);
  if (!loaded.model) {
    err << "amct-lsp --estimate: " << loaded.error << "\n";
    return 2;
  }
  const engine::WeightsModel& model = *loaded.model;

  const syntax::Document document(std::move(*text));
  const model::BoundDocument bound = model::bind(document, schema::amct_schema().root);
  const std::vector<Diagnostic> problems = amct_config_problems(document, bound, parsed.check);

  engine::EstimateOptions options;
  options.resolve.api = resolve_amct_options(document, parsed.check).context.api;
  options.threads = parsed.jobs;
  options.activations_dir = parsed.activations_dir;
  const bool show_progress = ::isatty(STDERR_FILENO) && model.parameter_count() > kProgressParameters;
  if (show_progress) {
    options.progress = [](uint64_t done, uint64_t total) {
      const int width = 30;
      const int filled = total ? static_cast<int>(width * done / total) : width;
      std::fprintf(stderr, "\r[%s%s] %3d%% of %s parameters", std::string(static_cast<size_t>(filled), '#').c_str(),
                   std::string(static_cast<size_t>(width - filled), ' ').c_str(),
                   total ? static_cast<int>(100 * done / total) : 100, human_count(total).c_str());
      std::fflush(stderr);
    };
  }
  const engine::ModelEstimate estimate = engine::estimate_model(extract_config(bound.root), model, options);
  if (show_progress) std::fprintf(stderr, "\r\033[K");
  if (!estimate.error.empty()) {  // truncated in place while read: the figures are not the file's
    err << "amct-lsp --estimate: " << parsed.weights_path
        << ": the weights file changed while it was read (truncated in place?); run again once it is rewritten\n";
    return 2;
  }

  if (parsed.format == "json") {
    Json layers = Json::array();
    for (const engine::LayerEstimate& layer : estimate.layers) layers.push_back(layer_json(layer, document));
    Json report = {{"model",
                    {{"path", parsed.weights_path},
                     {"format", model.format},
                     {"layers", model.layers.size()},
                     {"parameters", model.parameter_count()}}},
                   {"notices", model.notices},
                   {"layers", layers},
                   {"summary", summary_json(estimate.summary)}};
    out << report.dump(2) << "\n";
  } else {
    write_text(out, estimate, model, parsed.weights_path);
  }

  int errors = 0;
  for (const Diagnostic& diagnostic : problems) {
    if (diagnostic.severity != Severity::Error) continue;
    ++errors;
    const syntax::LineColumn at = document.line_column_at(diagnostic.range.start);
    err << parsed.config_path << ":" << at.line << ":" << at.column << ": error: " << diagnostic.message << " ["
        << diagnostic.code << "]\n";
  }
  if (errors > 0) {
    err << parsed.config_path << ": " << errors << (errors == 1 ? " error" : " errors")
        << ": AMCT would reject this config; the estimates above are what it would mean once fixed.\n";
    return 1;
  }
  return 0;
}

}  // namespace amct::server
