// Where the time of one edit goes, in process: the steps the language server
// runs between a one-character didChange and its publishDiagnostics, each
// timed on its own, on the same generated config as lsp_bench (10,000
// override blocks), in thread CPU time. For finding the costly step;
// lsp_bench measures the whole path through the real binary.
//   edit_stages_bench [--layers N] [--edits N] [--line L] [--server-path-only]
// --server-path-only runs only what the server runs before a publish
// (apply_change, snapshot, analyze up to its callback, the JSON), so that a
// profiler (perf record) sees that path alone.
#include <algorithm>
#include <chrono>
#include <ctime>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "core/amct/amct_checks.h"
#include "core/analysis.h"
#include "core/schema/binding.h"
#include "core/syntax/document.h"
#include "server/lsp_convert.h"
#include "core/syntax/region_parse.h"
#include "support/config_generator.h"

namespace {

// Thread CPU time: the machine is shared, and wall time would count the
// time other processes had the core.
struct Clock {
  using duration = std::chrono::nanoseconds;
  using time_point = std::chrono::time_point<Clock, duration>;
  static time_point now() {
    timespec t{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return time_point(duration(static_cast<int64_t>(t.tv_sec) * 1'000'000'000 + t.tv_nsec));
  }
};

struct Stages {
  std::vector<std::string> order;
  std::map<std::string, std::vector<double>> samples;
  template <typename Step>
  auto time(const std::string& name, Step step) {
    if (!samples.count(name)) order.push_back(name);
    const auto start = Clock::now();
    if constexpr (std::is_void_v<decltype(step())>) {
      step();
      samples[name].push_back(std::chrono::duration<double, std::milli>(Clock::now() - start).count());
    } else {
      auto result = step();
      samples[name].push_back(std::chrono::duration<double, std::milli>(Clock::now() - start).count());
      return result;
    }
  }
};

double process_cpu_ms() {
  timespec now{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &now);
  return static_cast<double>(now.tv_sec) * 1e3 + static_cast<double>(now.tv_nsec) / 1e6;
}

double percentile(std::vector<double> values, double p) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  return values[std::min(values.size() - 1, static_cast<size_t>(p * static_cast<double>(values.size() - 1) + 0.5))];
}

}  // namespace

int main(int argc, char** argv) {
  int layers = 10000, edits = 20;
  uint32_t line = 3;  // lsp_bench edits the start of line 3
  bool server_path_only = false;
  for (int i = 1; i < argc; ++i)
    if (!std::strcmp(argv[i], "--server-path-only")) server_path_only = true;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--layers")) layers = std::atoi(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--line")) line = static_cast<uint32_t>(std::atoi(argv[i + 1]));
    else if (!std::strcmp(argv[i], "--edits")) edits = std::atoi(argv[i + 1]);
  }
  const std::string text = amct::bench::generate_config(layers, 42);
  amct::syntax::Document document(text);
  amct::AnalysisOptions options;
  options.path = "/tmp/edit_stages.cfg";
  amct::IncrementalAnalyzer analyzer;
  (void)analyzer.analyze(document, options);
  const google::protobuf::Descriptor* root_type =
      amct::schema::bind_schema(document, amct::binding_options_of(options)).schema->root;
  amct::model::IncrementalBinder binder;
  amct::IncrementalAmctChecker checker;
  checker.check(amct::read_amct_headers(document), *binder.bind(document, root_type), {}, nullptr);

  amct::server::DiagnosticsJsonCache published_json;  // as the server keeps it per document
  (void)published_json.text(document, "file:///tmp/edit_stages.cfg", analyzer.analyze(document, options).diagnostics,
                            amct::syntax::PositionEncoding::Utf16, "https://example.invalid/docs");
  Stages stages;
  size_t diagnostic_count = 0, rebound = 0, rechecked = 0, json_reused = 0;
  bool reused_outline = false, parsed_region_only = false;
  for (int i = 0; i < edits; ++i) {
    const bool insert = i % 2 == 0;
    amct::syntax::TextChange change;
    change.range = amct::syntax::Range{{line, 0}, {line, insert ? 0u : 1u}};
    change.text = insert ? " " : "";
    stages.time("apply_change", [&] { document.apply_change(change, amct::syntax::PositionEncoding::Utf16); });
    auto snapshot = stages.time("snapshot", [&] { return document.snapshot(); });
    // As the server checks an edit: the document's tree is not parsed yet.
    // As the server calls it: the diagnostics are published from the callback.
    Clock::time_point analyze_start;
    amct::Analysis analysis = stages.time("IncrementalAnalyzer::analyze", [&] {
      analyze_start = Clock::now();
      const double cpu_start = process_cpu_ms();
      return analyzer.analyze(snapshot, options, [&](const std::vector<amct::Diagnostic>& diagnostics) {
        stages.samples["  until the diagnostics are ready (the publish starts)"].push_back(
            std::chrono::duration<double, std::milli>(Clock::now() - analyze_start).count());
        // CPU time of every thread: steadier than the wall time on a shared machine.
        stages.samples["  the same in CPU time (all threads)"].push_back(process_cpu_ms() - cpu_start);
        diagnostic_count = diagnostics.size();
        if (server_path_only)
          stages.time("  DiagnosticsJsonCache::text (the publish, from the callback)", [&] {
            return published_json
                .text(snapshot, "file:///tmp/edit_stages.cfg", diagnostics, amct::syntax::PositionEncoding::Utf16,
                      "https://example.invalid/docs")
                .size();
          });
      });
    });
    for (const char* name : {"  the same in CPU time (all threads)"})
      if (std::find(stages.order.begin(), stages.order.end(), name) == stages.order.end()) stages.order.push_back(name);
    if (stages.samples.count("  until the diagnostics are ready (the publish starts)") &&
        std::find(stages.order.begin(), stages.order.end(), "  until the diagnostics are ready (the publish starts)") ==
            stages.order.end())
      stages.order.push_back("  until the diagnostics are ready (the publish starts)");
    parsed_region_only = analyzer.last_parsed_region_only();
    if (server_path_only) continue;
    analysis = {};
    // The steps of IncrementalAnalyzer::analyze one by one, on a second analyzer's parts.
    const auto edited = binder.region_to_reparse(snapshot.text());
    auto region = stages.time("  parse_region (the fields around the edit)", [&] {
      return edited ? amct::syntax::parse_region(snapshot.text(), edited->bytes) : std::nullopt;
    });
    auto bound = stages.time("  IncrementalBinder::bind", [&] {
      amct::model::IncrementalBindOptions bind_options;
      bind_options.region = edited ? &*edited : nullptr;
      bind_options.region_tree = region ? &*region : nullptr;
      return binder.bind(snapshot, root_type, bind_options);
    });
    stages.time("re-parse (the whole tree, at a feature's first use)", [&] { return snapshot.root(); });
    stages.time("syntax_diagnostics", [&] { return snapshot.syntax_diagnostics(); });
    stages.time("  schema::bind_schema", [&] {
      return amct::schema::bind_schema(snapshot, amct::binding_options_of(options));
    });
    const amct::AmctHeaders headers = stages.time("  read_amct_headers (only with a soc/amct-api header)", [&] { return amct::read_amct_headers(snapshot); });
    stages.time("  IncrementalAmctChecker::check", [&] {
      return checker.check(headers, *bound, {}, &binder.last_reused_fields());
    });
    stages.time("  (full check_amct, for comparison)", [&] {
      return amct::check_amct(snapshot, *bound, amct::AmctCheckOptions{});
    });
    analysis = analyzer.analyze(snapshot, options);  // for the figures below
    auto replaced = stages.time("adopt_tree (under the server's lock)", [&] { return document.adopt_tree(snapshot); });
    stages.time("  freeing the tree it replaced (unlocked)", [&] { replaced.reset(); });
    diagnostic_count = analysis.diagnostics.size();
    rebound = analyzer.last_rebound_units();
    rechecked = analyzer.last_rechecked_entries();
    reused_outline = analyzer.last_reused_outline();
    stages.time("diagnostics_json_text", [&] {
      return amct::server::diagnostics_json_text(snapshot, "file:///tmp/edit_stages.cfg", analysis.diagnostics,
                                                 amct::syntax::PositionEncoding::Utf16, "https://example.invalid/docs");
    });
    stages.time("DiagnosticsJsonCache::text (publish)", [&] {
      return published_json
          .text(snapshot, "file:///tmp/edit_stages.cfg", analysis.diagnostics, amct::syntax::PositionEncoding::Utf16,
                "https://example.invalid/docs")
          .size();
    });
    json_reused = published_json.last_reused();
  }
  std::printf("edit_stages_bench: %d override blocks, %zu bytes, %zu diagnostics, %d edits "
              "(the last re-bound %zu top-level units, re-checked %zu override entries, "
              "wrote the JSON of %zu diagnostics, %s the outline: analyze() then skips the top-level walks timed below in schema::bind_schema and read_amct_headers; "
              "%s)\n",
              layers, text.size(), diagnostic_count, edits, rebound, rechecked, diagnostic_count - json_reused,
              reused_outline ? "reused" : "did not reuse",
              parsed_region_only ? "parsed only the fields around the edit, not the whole tree" : "parsed the whole tree");
  for (const std::string& name : stages.order)
    std::printf("  %-50s p50 %8.2f ms   p99 %8.2f ms\n", name.c_str(), percentile(stages.samples[name], 0.5),
                percentile(stages.samples[name], 0.99));
}
