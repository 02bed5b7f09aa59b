// Prints what schema binding costs: building the built-in schema, loading a
// .proto cold, a cached bind (what the server pays on every keystroke), and
// binding a large AMCT config (the top-level scan for AMCT recognition).
// Usage: schema_binding_bench [OVERRIDES]   (default 100000)
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "core/schema/binding.h"
#include "core/schema/param_docs.h"
#include "core/schema/schema.h"
#include "core/syntax/document.h"

namespace {

double ms_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

int main(int argc, char** argv) {
  const int overrides = argc > 1 ? std::atoi(argv[1]) : 100000;
  using clock = std::chrono::steady_clock;

  auto start = clock::now();
  const auto& amct = amct::schema::amct_schema();
  std::printf("built-in schema build (once):          %8.3f ms (%s)\n", ms_since(start),
              amct.root != nullptr ? "ok" : "FAILED");
  start = clock::now();
  const auto& docs = amct::schema::amct_param_docs();
  std::printf("parameter docs parse (once):           %8.3f ms (%zu rows, %zu errors)\n",
              ms_since(start), docs.rows().size(), docs.errors().size());

  const auto dir = std::filesystem::temp_directory_path() / "amct_schema_bench";
  std::filesystem::create_directories(dir);
  const std::string proto = (dir / "bench.proto").string();
  {
    std::ofstream out(proto);
    out << "syntax = \"proto2\";\npackage bench;\n";
    for (int i = 0; i < 50; ++i) {
      out << "message M" << i << " {\n";
      for (int f = 1; f <= 20; ++f) out << "  optional int32 f" << f << " = " << f << ";\n";
      out << "}\n";
    }
  }
  start = clock::now();
  const auto loaded = amct::schema::load_schema(proto, "bench.M0");
  std::printf("load_schema, 50 messages x 20 fields:  %8.3f ms (%s)\n", ms_since(start),
              loaded.schema ? "ok" : "FAILED");

  amct::schema::SchemaCache cache;
  amct::schema::BindingOptions options;
  options.path = (dir / "a.txtpb").string();
  options.cache = &cache;
  const amct::syntax::Document header_document("# proto-file: bench.proto\n# proto-message: bench.M1\nf1: 1\n");
  amct::schema::bind_schema(header_document, options);  // fills the cache
  constexpr int kRepeats = 1000;
  start = clock::now();
  for (int i = 0; i < kRepeats; ++i) amct::schema::bind_schema(header_document, options);
  std::printf("cached header bind (per call):         %8.3f ms (hits %zu)\n",
              ms_since(start) / kRepeats, cache.stats().hits);

  std::string config = "prune_config { filter_pruner { balanced_l2_norm_filter_prune { prune_ratio: 0.3 } } }\n";
  for (int i = 0; i < overrides; ++i) {
    config += "override_layer_configs { layer_name: \"layer" + std::to_string(i) +
              "\" retrain_weight_quant_config { arq_retrain { dst_type: INT8 } } }\n";
  }
  start = clock::now();
  const amct::syntax::Document big(config);
  const double parse_ms = ms_since(start);
  options.path = (dir / "big.txtpb").string();
  start = clock::now();
  const auto binding = amct::schema::bind_schema(big, options);
  std::printf("bind by AMCT names, %d overrides:  %8.3f ms (parse alone %.1f ms; %s)\n", overrides,
              ms_since(start), parse_ms, binding.schema ? binding.schema->description.c_str() : "none");
  std::filesystem::remove_all(dir);
  return 0;
}
