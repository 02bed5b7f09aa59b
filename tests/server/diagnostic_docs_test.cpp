// docs/diagnostics.md and the codeDescription links to it; the JSON text
// writer of published diagnostics against the JSON tree conversion.
#include "server/diagnostic_docs.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "server/check_codes.h"
#include "server/lsp_convert.h"

using nlohmann::json;

TEST_CASE("docs/diagnostics.md is the page rendered from the code table", "[diagnostic-docs]") {
  const std::string path = std::string(AMCT_SOURCE_DIR) + "/docs/diagnostics.md";
  const std::string rendered = amct::server::diagnostics_markdown();
  if (std::getenv("AMCT_WRITE_DIAGNOSTICS_DOCS")) std::ofstream(path, std::ios::binary) << rendered;
  std::ifstream file(path, std::ios::binary);
  std::stringstream contents;
  contents << file.rdbuf();
  INFO("regenerate with AMCT_WRITE_DIAGNOSTICS_DOCS=1 ./build/amct_tests \"[diagnostic-docs]\"");
  CHECK(contents.str() == rendered);
  // One section per code, headed by the bare code so the anchor is the code.
  REQUIRE(amct::server::diagnostic_codes().size() > 30);
  for (const auto& info : amct::server::diagnostic_codes()) {
    INFO(info.code);
    CHECK(rendered.find("\n## " + info.code + "\n") != std::string::npos);
    CHECK(rendered.find(info.help) != std::string::npos);
  }
}

TEST_CASE("codeDescription links: base#code for documented codes only", "[diagnostic-docs]") {
  using amct::server::diagnostic_docs_href;
  CHECK(diagnostic_docs_href("https://docs.example/diagnostics.md", "unknown-field") ==
        "https://docs.example/diagnostics.md#unknown-field");
  CHECK(diagnostic_docs_href("https://docs.example/diagnostics.md", "no-such-code").empty());
  CHECK(diagnostic_docs_href("", "unknown-field").empty());
}

TEST_CASE("diagnostics written as JSON text equal the JSON tree conversion", "[diagnostic-docs][lsp]") {
  const amct::syntax::Document document("a: 1\n  b: \"\xc3\xa9\xf0\x9f\x98\x80\" c\n\td: 2\n");
  std::vector<amct::Diagnostic> diagnostics = {
      {{0, 1}, amct::Severity::Error, "unknown-field", "unknown \"a\"\\ with\ttab\nnewline \x01 control \xc3\xa9", {}},
      {{10, 17}, amct::Severity::Warning, "duplicate-field", "twice", {{{0, 4}, "first set here"}, {{20, 21}, "and here"}}},
      {{24, 26}, amct::Severity::Hint, "not-a-documented-code", "no link", {}},
  };
  for (auto encoding : {amct::syntax::PositionEncoding::Utf16, amct::syntax::PositionEncoding::Utf8}) {
    for (const char* base : {"", "file:///cache/diagnostics.md"}) {
      const std::string text =
          amct::server::diagnostics_json_text(document, "file:///w/a b.cfg", diagnostics, encoding, base);
      const json tree = amct::server::diagnostics_to_json(document, "file:///w/a b.cfg", diagnostics, encoding, base);
      CHECK(json::parse(text) == tree);
    }
  }
  const json linked = json::parse(amct::server::diagnostics_json_text(document, "file:///w/a.cfg", diagnostics,
                                                                      amct::syntax::PositionEncoding::Utf16, "B"));
  CHECK(linked[0]["codeDescription"]["href"] == "B#unknown-field");
  CHECK(!linked[2].contains("codeDescription"));
  CHECK(linked[1]["range"]["start"]["character"] == 5);
  CHECK(linked[1]["range"]["end"]["character"] == 9);  // é is 1 UTF-16 unit, the emoji 2
}
