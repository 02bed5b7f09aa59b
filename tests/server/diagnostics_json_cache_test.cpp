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
    if (expect_copies) {
      CHECK(cache.last_reused() + 5 >= analysis.diagnostics.size());
      // Without computing their positions (the edits below keep the line count).
      CHECK(cache.last_matched_by_bytes() + 5 >= analysis.diagnostics.size());
    }
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

TEST_CASE("json cache: after a change that keeps the line count, diagnostics in the unchanged ends match by bytes",
          "[lsp][json-cache]") {
  const std::string uri = "file:///w/c.cfg";
  amct::syntax::Document document("a: 1\nb: 2 c: \"\xc3\xa9\" 3\nd: 4\ne: 5\n");
  // Byte ranges of the names a..e as they are now; `shift` moves those after `from`.
  auto diagnostics_for = [](uint32_t from, uint32_t shift) {
    auto at = [&](uint32_t offset) { return offset >= from ? offset + shift : offset; };
    std::vector<amct::Diagnostic> out = {
        {{at(0), at(1)}, amct::Severity::Error, "unknown-field", "a", {}},
        {{at(5), at(6)}, amct::Severity::Warning, "duplicate-field", "b", {{{at(25), at(26)}, "e"}}},
        {{at(10), at(11)}, amct::Severity::Error, "type-mismatch", "c", {}},
        {{at(20), at(21)}, amct::Severity::Error, "unknown-field", "d", {}},
        {{at(25), at(26)}, amct::Severity::Error, "unknown-field", "e", {{{at(0), at(1)}, "a"}}},
    };
    return out;
  };
  for (PositionEncoding encoding : {PositionEncoding::Utf16, PositionEncoding::Utf8}) {
    amct::syntax::Document edited = document.snapshot();
    DiagnosticsJsonCache cache;
    auto publish = [&](const std::vector<amct::Diagnostic>& diagnostics) {
      const std::string text = cache.text(edited, uri, diagnostics, encoding, "B");
      CHECK(text == amct::server::diagnostics_json_text(edited, uri, diagnostics, encoding, "B"));
    };
    publish(diagnostics_for(0, 0));
    CHECK(cache.last_matched_by_bytes() == 0);
    // Two bytes typed after "b: " (offset 8): b keeps its position (before
    // the change); c, on the same line after it, moves and is written
    // anew; d and e, on later lines, keep their positions at new offsets.
    // Unchanged, e's related `a` before the change, b's related `e` after.
    edited.apply_change(change_at(1, 3, 3, "xx"), PositionEncoding::Utf8);
    publish(diagnostics_for(8, 2));
    CHECK(cache.last_matched_by_bytes() == 4);
    CHECK(cache.last_reused() == 4);
    // The same text again: everything matches.
    publish(diagnostics_for(8, 2));
    CHECK(cache.last_matched_by_bytes() == 5);
    // A byte range that moved without the text moving it is not matched.
    std::vector<amct::Diagnostic> moved = diagnostics_for(8, 2);
    moved[3].range = {moved[3].range.start + 1, moved[3].range.end + 1};
    publish(moved);
    CHECK(cache.last_matched_by_bytes() == 4);
    // A new line: every position after it changed line, nothing matches by bytes.
    edited.apply_change(change_at(0, 0, 0, "\n"), PositionEncoding::Utf8);
    publish(diagnostics_for(0, 3));
    CHECK(cache.last_matched_by_bytes() == 0);
    CHECK(cache.last_reused() == 0);
  }
}
