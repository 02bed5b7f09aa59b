// Where the time of `amct-lsp --check` on one big config goes, stage by
// stage, in one process set up as --check sets itself up (the batch arena):
//   parse       model::parse_fast (two threads from 4 MB)
//   bind        model::bind_fast against AMCTRetrainConfig (two threads)
//   extract     amct::extract_config
//   rules       amct::check_rules
//   analyze     amct::analyze_without_tree (all of the above, the --check path,
//               on a fresh copy of the text)
// The arena never frees small blocks, so each run is a process of its own:
// run this program several times (alternating with an old build) rather
// than looping inside it.
//
//   check_stages_bench [--layers N (100000)] [--seed S (42)]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>

#include "core/amct/amct_checks.h"
#include "core/amct/config.h"
#include "core/amct/rules.h"
#include "core/analysis.h"
#include "core/model/fast_binder.h"
#include "server/batch_arena.h"
#include "support/config_generator.h"

namespace {

double milliseconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

int main(int argc, char** argv) {
  int layers = 100000;
  uint64_t seed = 42;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string option = argv[i];
    if (option == "--layers") {
      layers = std::atoi(argv[i + 1]);
    } else if (option == "--seed") {
      seed = std::strtoull(argv[i + 1], nullptr, 10);
    } else {
      std::fprintf(stderr, "usage: check_stages_bench [--layers N] [--seed S]\n");
      return 2;
    }
  }
  const std::string text = amct::bench::generate_config(layers, seed);
  amct::server::enable_batch_arena(text.size() * 48 + (size_t{256} << 20));

  // The schema as --check finds it (analyze_without_tree's binding).
  amct::AnalysisOptions options;
  options.path = "check_stages_bench.cfg";
  const std::optional<amct::Analysis> warm = amct::analyze_without_tree("batch_num: 1\n", options);
  if (!warm || !warm->schema) {
    std::fprintf(stderr, "check_stages_bench: no AMCT schema\n");
    return 2;
  }
  const google::protobuf::Descriptor* root = warm->schema->root;

  auto start = std::chrono::steady_clock::now();
  std::optional<amct::model::FastSyntax> syntax = amct::model::parse_fast(text);
  const double parse = milliseconds_since(start);
  if (!syntax) {
    std::fprintf(stderr, "check_stages_bench: the single pass declined the config\n");
    return 2;
  }
  start = std::chrono::steady_clock::now();
  std::optional<amct::model::BoundDocument> bound = amct::model::bind_fast(std::move(*syntax), root);
  const double bind = milliseconds_since(start);
  if (!bound) return 2;
  start = std::chrono::steady_clock::now();
  const amct::AmctConfig config = amct::extract_config(bound->root);
  const double extract = milliseconds_since(start);
  start = std::chrono::steady_clock::now();
  const amct::ResolvedAmctOptions resolved = amct::resolve_amct_options(amct::AmctHeaders{}, {});
  const std::vector<amct::Diagnostic> rules = amct::check_rules(config, resolved.context);
  const double check = milliseconds_since(start);

  const std::string copy = text;
  start = std::chrono::steady_clock::now();
  const std::optional<amct::Analysis> analysis = amct::analyze_without_tree(copy, options);
  const double analyze = milliseconds_since(start);

  std::printf("%d layers, %zu bytes: parse %.1f  bind %.1f  extract %.1f  rules %.1f  (sum %.1f)  analyze %.1f ms; "
              "%zu schema diagnostics, %zu rule diagnostics, %zu in all\n",
              layers, text.size(), parse, bind, extract, check, parse + bind + extract + check, analyze,
              bound->diagnostics.size(), rules.size(), analysis ? analysis->diagnostics.size() : 0);
  std::fflush(stdout);
  std::_Exit(0);  // as --check: the models are not freed
}
