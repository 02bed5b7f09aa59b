#include "server/cli.h"

#include <malloc.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <sstream>

#include "core/amct/capabilities.h"
#include "core/engine/weights_model.h"
#include "server/check_output.h"
#include "server/batch_arena.h"
#include "server/check_runner.h"
#include "server/estimate_command.h"
#include "server/lsp_server.h"
#include "server/resolve_command.h"

namespace amct::server {
namespace {
namespace fs = std::filesystem;

constexpr int kExitOk = 0;
constexpr int kExitUsageOrIo = 2;

const char* const kShortUsage =
    "Usage: amct-lsp [--stdio]\n"
    "       amct-lsp --check [--soc SOC] [--api quant|prune|compressed] [--format text|json|sarif]\n"
    "                [--proto FILE --message NAME] [-I DIR]... [--weights FILE] [--manifest JSON]\n"
    "                [--jobs N] PATH...\n"
    "       amct-lsp --resolve CFG --layer NAME [--type TYPE] [--format text|json] [--soc SOC]\n"
    "                [--api quant|prune|compressed]\n"
    "       amct-lsp --estimate CFG --weights FILE [--manifest JSON] [--soc SOC] [--format text|json]\n"
    "       amct-lsp --version | --help\n";

int usage_error(const std::string& message) {
  std::fprintf(stderr, "amct-lsp: %s\n%sTry 'amct-lsp --help' for more information.\n",
               message.c_str(), kShortUsage);
  return kExitUsageOrIo;
}

bool one_of(const std::string& value, std::initializer_list<const char*> allowed) {
  return std::any_of(allowed.begin(), allowed.end(), [&](const char* a) { return value == a; });
}

// Paths on the command line mean "relative to the current directory"; the
// analysis resolves relative paths against each file's folder, so make them
// absolute here.
std::string absolute_path(const std::string& path) {
  std::error_code ec;
  fs::path absolute = fs::absolute(path, ec);
  return ec ? path : absolute.lexically_normal().string();
}

// ---- --check ---------------------------------------------------------------

// What `--check` was asked to do, after validation.
struct CheckCommand {
  std::string format = "text";
  AnalysisOptions analysis;  // everything but the per-file path
  unsigned jobs = 0;
  std::vector<std::string> paths;
  std::vector<std::string> side_files;  // --weights, --manifest: must exist
  std::optional<std::string> weights, manifest;
  std::string working_directory;
};

// Like protoc: the current directory first, then the -I roots.
std::optional<std::string> find_proto_file(const std::string& proto,
                                           const std::vector<std::string>& import_roots,
                                           std::string& searched) {
  std::vector<std::string> candidates = {absolute_path(proto)};
  if (fs::path(proto).is_relative()) {
    for (const std::string& root : import_roots) {
      candidates.push_back((fs::path(root) / proto).lexically_normal().string());
    }
  }
  for (const std::string& candidate : candidates) {
    std::error_code ec;
    if (fs::is_regular_file(candidate, ec)) return candidate;
    searched += (searched.empty() ? "" : ", ") + candidate;
  }
  return std::nullopt;
}

// Fills `command` from the arguments; returns an exit status when they are
// not usable (usage error or a --proto that does not exist).
std::optional<int> parse_check_command(const std::vector<std::string>& arguments,
                                       CheckCommand& command) {
  const std::vector<OptionSpec> specs = {
      {"--format", true}, {"--soc", true},     {"--api", true},      {"--proto", true},
      {"--message", true}, {"-I", true},       {"--weights", true},  {"--manifest", true},
      {"--jobs", true},    {"-j", true},
  };
  std::string error;
  std::optional<ParsedArguments> parsed = parse_arguments(arguments, specs, error);
  if (!parsed) return usage_error(error);

  command.format = parsed->last("--format").value_or("text");
  if (!one_of(command.format, {"text", "json", "sarif"})) {
    return usage_error("--format must be text, json or sarif, not '" + command.format + "'");
  }
  AnalysisOptions& analysis = command.analysis;
  std::error_code ec;
  command.working_directory = fs::current_path(ec).string();
  analysis.workspace_root = command.working_directory;
  analysis.soc = parsed->last("--soc");
  if (analysis.soc && soc_catalog().find_series(*analysis.soc) == nullptr) {
    // Same verdict as --resolve: a wrong --soc is the command line's mistake,
    // not one diagnostic per file.
    return usage_error("unknown SoC '" + *analysis.soc +
                       "'; known SoCs: " + join_names(soc_catalog().known_names));
  }
  analysis.api = parsed->last("--api");
  if (analysis.api && !one_of(*analysis.api, {"quant", "prune", "compressed"})) {
    return usage_error("--api must be quant, prune or compressed, not '" + *analysis.api + "'");
  }
  std::optional<std::string> proto = parsed->last("--proto");
  analysis.message_name = parsed->last("--message");
  if (proto.has_value() != analysis.message_name.has_value()) {
    return usage_error("--proto FILE and --message NAME go together");
  }
  for (const std::string& root : parsed->all("-I")) analysis.import_roots.push_back(absolute_path(root));

  std::optional<std::string> jobs_text = parsed->last("--jobs");
  if (!jobs_text) jobs_text = parsed->last("-j");
  if (jobs_text) {
    char* end = nullptr;
    long value = std::strtol(jobs_text->c_str(), &end, 10);
    if (jobs_text->empty() || *end != '\0' || value < 1 || value > 1024) {
      return usage_error("--jobs must be a number from 1 to 1024, not '" + *jobs_text + "'");
    }
    command.jobs = static_cast<unsigned>(value);
  }
  command.paths = parsed->positionals;
  if (command.paths.empty()) return usage_error("--check needs at least one PATH");

  if (proto) {
    // A schema named on the command line that does not exist is one I/O
    // failure, not a diagnostic repeated in every file.
    std::string searched;
    analysis.proto_file = find_proto_file(*proto, analysis.import_roots, searched);
    if (!analysis.proto_file) {
      std::fprintf(stderr, "amct-lsp: cannot open --proto file '%s' (searched %s)\n",
                   printable(*proto).c_str(), printable(searched).c_str());
      return kExitUsageOrIo;
    }
  }
  // Sample weights and the layer manifest are for weight-aware checks; they
  // must at least exist so a CI typo does not pass silently.
  for (const char* option : {"--weights", "--manifest"}) {
    if (std::optional<std::string> file = parsed->last(option)) command.side_files.push_back(*file);
  }
  command.weights = parsed->last("--weights");
  command.manifest = parsed->last("--manifest");
  return std::nullopt;
}

// --check is a short-lived process that builds and drops large models:
// keep freed memory for reuse instead of returning it to the kernel and
// faulting it in again (glibc's defaults trim and mmap eagerly).
void tune_allocator_for_batch_run() {
  mallopt(M_TOP_PAD, 64 << 20);
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
  mallopt(M_MMAP_THRESHOLD, 1 << 30);
}

// The arena's budget for checking `files`: about what the check allocates
// (a 35 MB config: 500 MB), so that a batch of huge files goes back to
// malloc (which reuses freed memory) instead of growing without bound;
// 0 (no arena) for small inputs.
size_t batch_arena_budget(const std::vector<std::string>& files) {
  constexpr size_t kBytesPerInputByte = 24;
  constexpr size_t kMaximum = size_t{3} << 30;
  size_t input_bytes = 0;
  for (const std::string& file : files) {
    std::error_code ec;
    const uintmax_t size = fs::file_size(file, ec);
    if (!ec) input_bytes += static_cast<size_t>(size);
  }
  constexpr size_t kMinimumInput = size_t{1} << 20;  // below: a few milliseconds, malloc is as good
  if (input_bytes < kMinimumInput) return 0;
  return std::min(kMaximum, input_bytes * kBytesPerInputByte + (size_t{64} << 20));
}

int run_check(const std::vector<std::string>& arguments) {
  tune_allocator_for_batch_run();
  CheckCommand command;
  if (std::optional<int> failed = parse_check_command(arguments, command)) return *failed;

  bool io_failure = false;
  for (const std::string& file : command.side_files) {
    std::error_code ec;
    if (!fs::is_regular_file(file, ec)) {
      std::fprintf(stderr, "amct-lsp: cannot open '%s'\n", printable(file).c_str());
      io_failure = true;
    }
  }
  CheckInputs inputs = collect_check_inputs(command.paths);
  for (const std::string& message : inputs.errors) {
    std::fprintf(stderr, "amct-lsp: %s\n", printable(message).c_str());
    io_failure = true;
  }

  CheckRequest request;
  if (command.weights && !io_failure) {  // model-aware checks: layer names and types only
    engine::LoadResult loaded = engine::load_weights({*command.weights, command.manifest, {}});
    if (!loaded.model) {
      std::fprintf(stderr, "amct-lsp: %s\n", printable(loaded.error).c_str());
      io_failure = true;
    } else {
      for (const engine::ModelLayer& layer : loaded.model->layers) {
        request.model_layers.push_back({layer.name, layer.type, layer.groups});
      }
    }
  }
  request.files = std::move(inputs.files);
  enable_batch_arena(batch_arena_budget(request.files));
  request.analysis = command.analysis;
  request.jobs = command.jobs;
  std::vector<FileReport> reports = check_files(request);
  for (const FileReport& report : reports) {
    if (report.read_error) {
      std::fprintf(stderr, "amct-lsp: %s\n", printable(*report.read_error).c_str());
      io_failure = true;
    }
  }

  CheckSummary summary = summarize(reports);
  std::vector<std::string> parts;
  if (command.format == "json") {
    parts.push_back(json_report(reports));
  } else if (command.format == "sarif") {
    parts.push_back(sarif_report(reports, {AMCT_LSP_VERSION, command.working_directory}));
  } else {
    parts = text_report_parts(reports);
  }
  for (const std::string& part : parts) std::fwrite(part.data(), 1, part.size(), stdout);
  std::fflush(stdout);
  keep_until_exit(reports);  // the process ends here: no need to free the models
  if (command.format == "text") std::fprintf(stderr, "%s\n", summary_line(summary).c_str());
  return check_exit_status(summary, io_failure);
}

// ---- the language server ------------------------------------------------------

int run_language_server(const std::vector<std::string>& arguments) {
  // Editors' clients may add their own flags (e.g. --clientProcessId=N); the
  // server needs none of them.
  (void)arguments;
  return run_stdio_server();
}

// ---- --resolve (server/resolve_command.h) ----------------------------------------

int run_resolve_mode(const std::vector<std::string>& arguments) {
  return run_resolve_command(arguments);
}

// ---- the dispatcher -----------------------------------------------------------

using ModeRunner = int (*)(const std::vector<std::string>& arguments);

struct Mode {
  std::string_view flag;  // "" = no flag (language server on stdio)
  ModeRunner run;         // nullptr = not built yet
  std::string_view description;
};

// One entry per mode of DESIGN.md. Modes implemented by other layers plug in
// here: write `int run_xxx(const std::vector<std::string>&)` (the arguments
// without the mode flag) and put it in place of the nullptr.
const Mode kModes[] = {
    {"--check", run_check, "check files"},
    {"--resolve", run_resolve_mode, "the precedence resolver"},
    {"--estimate", run_estimate_command, "error estimates on weights"},
    {"--stdio", run_language_server, "the language server"},
};

int run_mode(const Mode& mode, const std::vector<std::string>& arguments) {
  if (mode.run == nullptr) {
    std::fprintf(stderr, "amct-lsp: %s (%s) is not available in this build yet\n",
                 mode.flag.data(), std::string(mode.description).c_str());
    return kExitUsageOrIo;
  }
  return mode.run(arguments);
}

}  // namespace

std::optional<std::string> ParsedArguments::last(std::string_view name) const {
  auto it = options.find(name);
  if (it == options.end() || it->second.empty()) return std::nullopt;
  return it->second.back();
}

std::vector<std::string> ParsedArguments::all(std::string_view name) const {
  auto it = options.find(name);
  return it == options.end() ? std::vector<std::string>{} : it->second;
}

std::optional<ParsedArguments> parse_arguments(const std::vector<std::string>& arguments,
                                               const std::vector<OptionSpec>& specs,
                                               std::string& error) {
  ParsedArguments parsed;
  bool options_ended = false;
  for (size_t i = 0; i < arguments.size(); ++i) {
    const std::string& argument = arguments[i];
    if (options_ended || argument.size() < 2 || argument[0] != '-') {
      parsed.positionals.push_back(argument);
      continue;
    }
    if (argument == "--") {
      options_ended = true;
      continue;
    }
    const OptionSpec* match = nullptr;
    std::optional<std::string> inline_value;
    for (const OptionSpec& spec : specs) {
      if (argument == spec.name) {
        match = &spec;
        break;
      }
      const bool long_option = spec.name.size() > 2;
      if (argument.rfind(spec.name, 0) == 0) {
        if (long_option && argument[spec.name.size()] == '=') {  // --name=value
          match = &spec;
          inline_value = argument.substr(spec.name.size() + 1);
          break;
        }
        if (!long_option && spec.takes_value) {  // -IDIR
          match = &spec;
          inline_value = argument.substr(spec.name.size());
          break;
        }
      }
    }
    if (match == nullptr) {
      error = "unknown option '" + argument + "'";
      return std::nullopt;
    }
    std::vector<std::string>& values = parsed.options[std::string(match->name)];
    if (!match->takes_value) {
      if (inline_value) {
        error = "option '" + std::string(match->name) + "' takes no value";
        return std::nullopt;
      }
      values.push_back("");
      continue;
    }
    if (inline_value) {
      values.push_back(*inline_value);
    } else if (i + 1 < arguments.size()) {
      values.push_back(arguments[++i]);
    } else {
      error = "option '" + std::string(match->name) + "' needs a value";
      return std::nullopt;
    }
  }
  return parsed;
}

std::string usage_text() {
  return std::string("amct-lsp ") + AMCT_LSP_VERSION +
         " - language server and checker for AMCT retrain configs\n"
         "(protobuf text format; schema AMCTRetrainConfig built in, any .proto on request)\n"
         "\n" +
         kShortUsage +
         "\n"
         "Modes:\n"
         "  (no mode), --stdio   Run the language server on stdin/stdout (JSON-RPC).\n"
         "  --check PATH...      Check files. A directory is searched recursively for\n"
         "                       *.cfg *.txtpb *.textproto *.pbtxt *.prototxt (sorted);\n"
         "                       a file named explicitly is checked whatever its name.\n"
         "                       Files are checked in parallel; output keeps argument order.\n"
         "  --resolve CFG        Show the effective configuration of a layer after AMCT's\n"
         "                       precedence (name override > type override > global) and\n"
         "                       which block each setting came from.\n"
         "  --estimate CFG       Per-layer error estimates of the effective config on sample\n"
         "                       weights (safetensors, ONNX).\n"
         "  --version            Print the version.\n"
         "  --help, -h           Print this help.\n"
         "\n"
         "Options of --check:\n"
         "  --format text|json|sarif\n"
         "                       text (default): FILE:LINE:COL: SEVERITY: MESSAGE [CODE], then\n"
         "                       FILE:LINE:COL: note: ... for related places, summary on stderr;\n"
         "                       json: {\"files\":[{\"path\",\"schema\",\"diagnostics\"}],\"summary\"};\n"
         "                       sarif: SARIF 2.1.0 for code-scanning upload.\n"
         "                       Lines and columns are 1-based; columns count Unicode code points.\n"
         "  --soc SOC            Target SoC as CANN names it (Ascend310P3, Ascend910B2, ...):\n"
         "                       unsupported data types / 4:2 sparsity become errors.\n"
         "                       A '# soc:' header in a file overrides it.\n"
         "  --api quant|prune|compressed\n"
         "                       The AMCT API that reads the config (default compressed);\n"
         "                       a '# amct-api:' header overrides it.\n"
         "  --proto FILE --message NAME\n"
         "                       Schema for files without '# proto-file:' / '# proto-message:'\n"
         "                       headers (default: AMCTRetrainConfig for *.cfg and files using\n"
         "                       AMCT's top-level fields; otherwise syntax only). FILE is looked\n"
         "                       up in the current directory, then in the -I roots.\n"
         "  -I DIR               Import root for .proto files (repeatable).\n"
         "  --weights FILE       Model weights (safetensors, ONNX): model-aware checks of AMCT\n"
         "                       configs (unknown layer names, types the model lacks, ...);\n"
         "                       --check reads the header, not the tensors.\n"
         "  --manifest JSON      Layer names/types for weights files that have none; must exist.\n"
         "  --jobs N, -j N       Check N files at a time (default: all cores).\n"
         "\n"
         "Options of --resolve: --layer NAME (the layer), --type TYPE (its layer type, for\n"
         "  override_layer_types and type skip lists), --format text|json, --soc, --api.\n"
         "  Exit status 1 means the layer was resolved but the config has errors.\n"
         "Options of --estimate: --weights FILE, --manifest JSON, --soc SOC, --api, --format text|json,\n"
         "  --activations DIR (<layer>.npy activation samples), --jobs N.\n"
         "\n"
         "Exit status: 0 no errors (warnings allowed), 1 errors found,\n"
         "             2 usage error or I/O failure (a missing or unreadable file, a directory\n"
         "               without matching files); the other files are still checked.\n";
}

int run_main(int argc, char** argv) {
  std::vector<std::string> arguments(argv + 1, argv + argc);
  const auto options_end = std::find(arguments.begin(), arguments.end(), "--");
  auto given = [&](std::string_view flag) {
    return std::find(arguments.begin(), options_end, flag) != options_end;
  };
  if (given("--help") || given("-h")) {
    std::fputs(usage_text().c_str(), stdout);
    return kExitOk;
  }
  if (given("--version")) {
    std::printf("amct-lsp %s\n", AMCT_LSP_VERSION);
    return kExitOk;
  }

  const Mode* selected = nullptr;
  for (const Mode& mode : kModes) {
    if (!given(mode.flag)) continue;
    if (selected != nullptr) {
      return usage_error("choose one of " + std::string(selected->flag) + " and " +
                         std::string(mode.flag));
    }
    selected = &mode;
  }
  if (selected == nullptr) {
    if (arguments.empty()) return run_language_server({});
    const std::string& first = arguments.front();
    if (first.size() > 1 && first[0] == '-') return usage_error("unknown option '" + first + "'");
    return usage_error("no mode given for '" + first + "' (did you mean 'amct-lsp --check " +
                       first + "'?)");
  }
  std::vector<std::string> rest;
  bool removed = false;
  for (auto it = arguments.begin(); it != arguments.end(); ++it) {
    if (!removed && it < options_end && *it == selected->flag) {
      removed = true;
      continue;
    }
    rest.push_back(*it);
  }
  return run_mode(*selected, rest);
}

}  // namespace amct::server
