// The fast paths of a big `--check` (tests for server/batch_arena.cpp and the
// two-thread locating and text output of check_runner.cpp / check_output.cpp):
// a config above 1 MB with more than 8,192 diagnostics, checked by the
// amct-lsp process (arena on, two halves), must print exactly what the
// tree-sitter path gives in this process (malloc, no split), each diagnostic
// located by Document and written on its own.
#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <string>
#include <vector>

#include "core/analysis.h"
#include "core/syntax/document.h"
#include "server/check_output.h"
#include "server/check_runner.h"
#include "support/config_generator.h"
#include "support/run_process.h"
#include "support/temp_dir.h"

namespace {

using amct::server::FileReport;
using amct::server::LocatedDiagnostic;

// The text output of the tree-sitter path, one diagnostic at a time.
// `amct-lsp --check FILE` in `dir`, for a file with errors (exit code 1).
amct::test::ProcessResult check_with_errors(amct::test::TempDir& dir, const std::string& file) {
  amct::test::ProcessOptions options;
  options.arguments = {"--check", file};
  options.working_directory = dir.path("");
  options.time_limit = std::chrono::seconds(120);
  amct::test::ProcessResult result = amct::test::run_process(AMCT_LSP_BINARY, options);
  REQUIRE_FALSE(result.timed_out);
  CHECK(result.signal == 0);
  CHECK(result.exit_code == 1);
  return result;
}

std::string expected_text_report(const std::string& path, const std::string& text) {
  amct::syntax::Document document{std::string(text)};
  amct::AnalysisOptions options;
  options.path = path;
  const amct::Analysis analysis = amct::server::check_document(document, options);
  std::string out;
  for (const amct::Diagnostic& diagnostic : analysis.diagnostics) {
    LocatedDiagnostic located;
    located.start = document.line_column_at(diagnostic.range.start);
    located.end = document.line_column_at(diagnostic.range.end);
    located.severity = diagnostic.severity;
    located.code = diagnostic.code;
    located.message = diagnostic.message;
    for (const amct::RelatedInformation& related : diagnostic.related) {
      located.related.push_back({document.line_column_at(related.range.start),
                                 document.line_column_at(related.range.end), related.message});
    }
    FileReport report;
    report.path = path;
    report.diagnostics.push_back(std::move(located));
    out += amct::server::text_report({report});
  }
  return out;
}

}  // namespace

TEST_CASE("a big --check (arena, two-thread locating and output) prints what the tree-sitter path gives",
          "[check_speed][cli]") {
  amct::test::TempDir dir;
  const std::string text = amct::bench::generate_config(20000, 7);
  REQUIRE(text.size() > (size_t{1} << 20));  // the arena's threshold
  dir.write("big.cfg", text);

  const amct::test::ProcessResult result = check_with_errors(dir, "big.cfg");

  const std::string expected = expected_text_report("big.cfg", text);
  const size_t lines = static_cast<size_t>(std::count(expected.begin(), expected.end(), '\n'));
  REQUIRE(lines > 8192);  // the two-thread threshold of locating and writing
  CHECK(result.standard_output.size() == expected.size());
  if (result.standard_output != expected) {
    size_t at = 0;
    while (at < expected.size() && at < result.standard_output.size() && expected[at] == result.standard_output[at]) ++at;
    FAIL("outputs differ at byte " << at << ":\nexpected: " << expected.substr(at, 200)
                                   << "\nactual:   " << result.standard_output.substr(at, 200));
  }
}

TEST_CASE("a big --check the single pass declines (a syntax error) prints what the tree-sitter path gives",
          "[check_speed][cli]") {
  // Files of 1 MB and more are mapped, not read: a declined file goes on
  // from the mapping's copy to the tree-sitter path.
  amct::test::TempDir dir;
  std::string text = amct::bench::generate_config(5000, 11);
  REQUIRE(text.size() > (size_t{1} << 20));  // the mapping's threshold
  const size_t middle = text.find("\noverride_layer_configs", text.size() / 2);
  REQUIRE(middle != std::string::npos);
  text.insert(middle + 1, "override_layer_configs { layer_name: \"broken\" \n");  // an unclosed block
  REQUIRE_FALSE(amct::analyze_without_tree(text, {}).has_value());
  dir.write("broken.cfg", text);

  const amct::test::ProcessResult result = check_with_errors(dir, "broken.cfg");
  const std::string expected = expected_text_report("broken.cfg", text);
  CHECK(expected.find("[syntax-error]") != std::string::npos);
  CHECK(result.standard_output == expected);
}
