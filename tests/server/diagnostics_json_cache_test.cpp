// DiagnosticsJsonCache: the publish after an edit copies the JSON of the
// diagnostics that did not change and writes the same text as
// diagnostics_json_text() (which the DOM conversion checks in
// diagnostic_docs_test.cpp).
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "core/analysis.h"
#include "server/lsp_convert.h"
#include "support/config_generator.h"

using amct::server::DiagnosticsJsonCache;
using amct::syntax::PositionEncoding;
using nlohmann::json;

namespace {

amct::syntax::TextChange change_at(uint32_t line, uint32_t from, uint32_t to, std::string text) {
  amct::syntax::TextChange change;
  change.range = amct::syntax::Range{{line, from}, {line, to}};
  change.text = std::move(text);
  return change;
}

}  // namespace

TEST_CASE("json cache: copies unchanged diagnostics, rewrites moved and changed ones", "[lsp][json-cache]") {
  const std::string uri = "file:///w/a.cfg";
  amct::syntax::Document document("a: 1\nb: 2\nc: \"\xc3\xa9\" 3\n");
  std::vector<amct::Diagnostic> diagnostics = {
      {{0, 1}, amct::Severity::Error, "unknown-field", "unknown a", {}},
      {{5, 6}, amct::Severity::Warning, "duplicate-field", "twice", {{{0, 1}, "first"}, {{16, 17}, "third"}}},
      {{16, 17}, amct::Severity::Error, "type-mismatch", "bad \"3\"", {}},
  };
  for (PositionEncoding encoding : {PositionEncoding::Utf16, PositionEncoding::Utf8}) {
    DiagnosticsJsonCache cache;
    CHECK(cache.text(document, uri, diagnostics, encoding, "B") ==
          amct::server::diagnostics_json_text(document, uri, diagnostics, encoding, "B"));
    CHECK(cache.last_reused() == 0);

    // Same content, same LSP ranges: all copied.
    CHECK(cache.text(document, uri, diagnostics, encoding, "B") ==
          amct::server::diagnostics_json_text(document, uri, diagnostics, encoding, "B"));
    CHECK(cache.last_reused() == 3);

    // One message changed, one diagnostic gone: the rest is still copied.
    std::vector<amct::Diagnostic> changed = {diagnostics[0], diagnostics[2]};
    changed[0].message = "unknown \"a\" now";
    CHECK(cache.text(document, uri, changed, encoding, "B") ==
          amct::server::diagnostics_json_text(document, uri, changed, encoding, "B"));
    CHECK(cache.last_reused() == 1);

    // A line inserted above: every position moved, nothing may be copied.
    amct::syntax::Document shifted("\na: 1\nb: 2\nc: \"\xc3\xa9\" 3\n");
    std::vector<amct::Diagnostic> moved = diagnostics;
    for (amct::Diagnostic& d : moved) {
      d.range.start += 1;
      d.range.end += 1;
      for (auto& related : d.related) related.range.start += 1, related.range.end += 1;
    }
    const std::string text = cache.text(shifted, uri, moved, encoding, "B");
    CHECK(text == amct::server::diagnostics_json_text(shifted, uri, moved, encoding, "B"));
    CHECK(cache.last_reused() == 0);
    CHECK(json::parse(text) == amct::server::diagnostics_to_json(shifted, uri, moved, encoding, "B"));

    // Another docs base or URI spells every diagnostic differently.
    CHECK(cache.text(shifted, uri, moved, encoding, "") ==
          amct::server::diagnostics_json_text(shifted, uri, moved, encoding, ""));
    CHECK(cache.last_reused() == 0);
    CHECK(cache.text(shifted, "file:///w/b.cfg", moved, encoding, "") ==
          amct::server::diagnostics_json_text(shifted, "file:///w/b.cfg", moved, encoding, ""));
    CHECK(cache.last_reused() == 0);
  }
}

TEST_CASE("json cache: edits of a generated config publish what a fresh write publishes", "[lsp][json-cache]") {
  const std::string uri = "file:///w/generated.cfg";
  amct::syntax::Document document(amct::bench::generate_config(300, 11));
  amct::AnalysisOptions options;
  options.path = "/w/generated.cfg";
  amct::IncrementalAnalyzer analyzer;
  DiagnosticsJsonCache cache;
  const auto check_version = [&](bool expect_copies) {
    const amct::Analysis analysis = analyzer.analyze(document, options);
    REQUIRE(analysis.diagnostics.size() > 50);
    const std::string& text = cache.text(document, uri, analysis.diagnostics, PositionEncoding::Utf16, "D");
    CHECK(text == amct::server::diagnostics_json_text(document, uri, analysis.diagnostics, PositionEncoding::Utf16, "D"));
    if (expect_copies) CHECK(cache.last_reused() + 5 >= analysis.diagnostics.size());
  };
  check_version(false);
  // Within a line: the other lines' diagnostics keep their positions.
  document.apply_change(change_at(3, 0, 0, " "), PositionEncoding::Utf16);
  check_version(true);
  document.apply_change(change_at(3, 0, 1, ""), PositionEncoding::Utf16);
  check_version(true);
  // Lines added and removed, a block broken and mended.
  document.apply_change(change_at(3, 0, 0, "\n\n"), PositionEncoding::Utf16);
  check_version(false);
  document.apply_change(change_at(40, 0, 0, "}"), PositionEncoding::Utf16);
  check_version(false);
  document.apply_change(change_at(40, 0, 1, ""), PositionEncoding::Utf16);
  check_version(false);
  document.apply_change(change_at(3, 0, 2, ""), PositionEncoding::Utf16);
  check_version(false);
}
