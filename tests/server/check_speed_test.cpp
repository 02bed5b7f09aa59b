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

// `diagnostic` located by Document (which counts columns in code points).
LocatedDiagnostic located_by_document(const amct::syntax::Document& document, const amct::Diagnostic& diagnostic) {
  LocatedDiagnostic located;
  located.start = document.line_column_at(diagnostic.range.start);
  located.end = document.line_column_at(diagnostic.range.end);
  located.severity = diagnostic.severity;
  located.code = diagnostic.code;
  located.message = diagnostic.message;
  for (const amct::RelatedInformation& related : diagnostic.related) {
    located.related.push_back(
        {document.line_column_at(related.range.start), document.line_column_at(related.range.end), related.message});
  }
  return located;
}

std::string expected_text_report(const std::string& path, const std::string& text) {
  amct::syntax::Document document{std::string(text)};
  amct::AnalysisOptions options;
  options.path = path;
  const amct::Analysis analysis = amct::server::check_document(document, options);
  std::string out;
  for (const amct::Diagnostic& diagnostic : analysis.diagnostics) {
    FileReport report;
    report.path = path;
    report.diagnostics.push_back(located_by_document(document, diagnostic));
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

namespace {

// The report of the tree-sitter path for `text`, every position located by
// Document (which counts columns in code points).
FileReport expected_report(const std::string& path, const std::string& text) {
  amct::syntax::Document document{std::string(text)};
  amct::AnalysisOptions options;
  options.path = path;
  const amct::Analysis analysis = amct::server::check_document(document, options);
  FileReport report;
  report.path = path;
  report.schema = analysis.schema_description;
  for (const amct::Diagnostic& diagnostic : analysis.diagnostics)
    report.diagnostics.push_back(located_by_document(document, diagnostic));
  return report;
}

// `amct-lsp --check FILE --format json` must equal the JSON of `expected`.
void check_json_output(amct::test::TempDir& dir, const std::string& file, const FileReport& expected) {
  amct::test::ProcessOptions options;
  options.arguments = {"--check", file, "--format", "json"};
  options.working_directory = dir.path("");
  options.time_limit = std::chrono::seconds(120);
  const amct::test::ProcessResult result = amct::test::run_process(AMCT_LSP_BINARY, options);
  REQUIRE_FALSE(result.timed_out);
  CHECK(result.exit_code == 1);
  const std::string expected_json = amct::server::json_report({expected});
  if (result.standard_output != expected_json) {
    size_t at = 0;
    while (at < expected_json.size() && at < result.standard_output.size() &&
           expected_json[at] == result.standard_output[at])
      ++at;
    FAIL("outputs differ at byte " << at << ":\nexpected: " << expected_json.substr(at, 200)
                                   << "\nactual:   " << result.standard_output.substr(at, 200));
  }
}

}  // namespace

TEST_CASE("a big ASCII --check (columns without reading the lines) gives every start and end as Document",
          "[check_speed][cli]") {
  amct::test::TempDir dir;
  const std::string text = amct::bench::generate_config(20000, 7);
  REQUIRE(text.size() > (size_t{4} << 20));  // the line index's two-thread threshold
  REQUIRE(std::all_of(text.begin(), text.end(), [](char c) { return static_cast<unsigned char>(c) < 0x80; }));
  dir.write("ascii.cfg", text);
  const FileReport expected = expected_report("ascii.cfg", text);
  REQUIRE(expected.diagnostics.size() > 8192);
  check_json_output(dir, "ascii.cfg", expected);
}

TEST_CASE("a big non-ASCII --check counts columns in code points, as Document", "[check_speed][cli]") {
  // Each layer name gets two non-ASCII characters (3 and 2 bytes), and the
  // rest of its override block moves up onto its line (lines with a comment
  // stay where they end): the diagnostics of the block start and end after
  // them, on both halves of the text.
  amct::test::TempDir dir;
  const std::string generated = amct::bench::generate_config(20000, 7);
  const std::string key = "layer_name: \"";
  std::string text;
  bool joining = false;
  size_t names = 0;
  for (size_t at = 0; at < generated.size();) {
    size_t end = generated.find('\n', at);
    if (end == std::string::npos) end = generated.size();
    std::string line = generated.substr(at, end - at);
    at = end + 1;
    if (joining) {
      line.erase(0, line.find_first_not_of(' '));
      text += ' ';
    }
    if (const size_t name = line.find(key); name != std::string::npos) {
      line.insert(name + key.size(), "\xE5\xB1\x82\xC3\xA9");  // U+5C42 U+00E9
      ++names;
      joining = true;
    }
    if (line.find('#') != std::string::npos || line == "}") joining = false;
    text += line;
    if (!joining) text += '\n';
  }
  REQUIRE(names > 10000);
  REQUIRE(text.size() > (size_t{4} << 20));  // the line index's two-thread threshold
  REQUIRE(amct::analyze_without_tree(text, {}).has_value());  // the single pass takes it
  dir.write("utf8.cfg", text);
  const FileReport expected = expected_report("utf8.cfg", text);
  REQUIRE(expected.diagnostics.size() > 8192);
  // Many diagnostics lie after the non-ASCII characters on their line:
  // their code point columns are not their byte columns.
  const amct::syntax::Document document{std::string(text)};
  size_t after_non_ascii = 0;
  for (const amct::Diagnostic& diagnostic : amct::server::check_document(document, {}).diagnostics) {
    const size_t line_start = text.rfind('\n', diagnostic.range.start) + 1;
    const std::string_view before(text.data() + line_start, diagnostic.range.start - line_start);
    if (std::any_of(before.begin(), before.end(), [](char c) { return static_cast<unsigned char>(c) >= 0x80; }))
      ++after_non_ascii;
  }
  REQUIRE(after_non_ascii > expected.diagnostics.size() / 4);
  check_json_output(dir, "utf8.cfg", expected);
}

TEST_CASE("the text report in parts is the text report", "[check_speed][cli]") {
  // A small file, a big one (two halves written on two threads), a small one.
  const auto report_with = [](const std::string& path, size_t count) {
    FileReport report;
    report.path = path;
    for (size_t i = 0; i < count; ++i) {
      LocatedDiagnostic& diagnostic = report.diagnostics.emplace_back();
      diagnostic.start = {static_cast<uint32_t>(i + 1), 3};
      diagnostic.end = {static_cast<uint32_t>(i + 1), 9};
      diagnostic.code = "clip-range";
      diagnostic.message = "message " + std::to_string(i);
      if (i % 7 == 0) diagnostic.related.push_back({{1, 1}, {1, 2}, "other " + std::to_string(i)});
    }
    return report;
  };
  const std::vector<FileReport> reports = {report_with("a.cfg", 3), report_with("big.cfg", 20000),
                                           report_with("c.cfg", 2)};
  std::string one_at_a_time;
  for (const FileReport& report : reports) one_at_a_time += amct::server::text_report({report});
  const std::vector<std::string> parts = amct::server::text_report_parts(reports);
  CHECK(parts.size() == 4);  // a.cfg, big.cfg's two halves, c.cfg
  std::string joined;
  for (const std::string& part : parts) joined += part;
  CHECK(joined == one_at_a_time);
  CHECK(amct::server::text_report(reports) == one_at_a_time);
  CHECK(amct::server::text_report_parts({}).size() == 1);
  CHECK(amct::server::text_report_parts({}).front().empty());
}
