// End-to-end tests of `amct-lsp --check` (and --help/--version/usage errors):
// they write files into a temporary directory and run the REAL binary.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "server/check_codes.h"
#include "server/check_output.h"
#include "server/check_runner.h"
#include "server/cli.h"
#include "support/printers.h"
#include "support/run_process.h"
#include "support/temp_dir.h"

namespace fs = std::filesystem;
using amct::test::ProcessOptions;
using amct::test::ProcessResult;
using amct::test::run_process;
using nlohmann::json;

namespace {

using amct::test::TempDir;

ProcessResult run_cli(const std::vector<std::string>& arguments, const std::string& directory = "",
                      std::chrono::seconds time_limit = std::chrono::seconds(60)) {
  ProcessOptions options;
  options.arguments = arguments;
  options.working_directory = directory;
  options.time_limit = time_limit;
  ProcessResult result = run_process(AMCT_LSP_BINARY, options);
  UNSCOPED_INFO("amct-lsp exit " << result.exit_code << " signal " << result.signal
                                 << (result.timed_out ? " (timed out)" : "") << "\nstdout:\n"
                                 << result.standard_output.substr(0, 4000) << "\nstderr:\n"
                                 << result.standard_error.substr(0, 4000));
  return result;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    lines.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return lines;
}

// The file of the first diagnostic of each output line, in order.
std::vector<std::string> paths_in_order(const std::string& text_output) {
  std::vector<std::string> paths;
  for (const std::string& line : lines_of(text_output)) {
    std::string path = line.substr(0, line.find(':'));
    if (paths.empty() || paths.back() != path) paths.push_back(path);
  }
  return paths;
}

// Known diagnostics, no schema (syntax only): a stray '}' after a CJK string
// (column 11 in code points, 13 in bytes) and an unclosed '{'.
const std::string kFixture =
    "# 中文注释\n"
    "name: \"层\" }\n"
    "b {\n"
    "  c: 1\n";

// Every diagnostic code the layers of issues 2 and 3 produce.
const std::vector<std::string> kKnownCodes = {
    "syntax-error", "invalid-utf8", "unknown-field", "type-mismatch", "out-of-range",
    "invalid-enum-value", "invalid-bool", "missing-colon", "not-repeated", "duplicate-field",
    "oneof-conflict", "missing-required", "schema-file-not-found", "schema-error",
    "schema-message-not-found", "clip-range", "batch-num-zero", "prune-ratio-range",
    "missing-prune-algorithm", "duplicate-override", "duplicate-skip", "unsupported-layer-type",
    "channel-wise-linear", "dtype-pair", "empty-config", "soc-unknown", "soc-unsupported-dtype",
    "soc-unsupported-sparsity", "api-prune-content"};

}  // namespace

TEST_CASE("amct-lsp --check text output: file:line:col: severity: message [code], summary on stderr", "[cli]") {
  TempDir dir;
  dir.write("fixture.txtpb", kFixture);
  ProcessResult result = run_cli({"--check", "fixture.txtpb"}, dir.path(""));
  CHECK(result.exit_code == 1);
  std::vector<std::string> lines = lines_of(result.standard_output);
  REQUIRE(lines.size() == 2);
  // Column 11 counts code points: "层" is one column although it is 3 bytes.
  CHECK_THAT(lines[0], Catch::StartsWith("fixture.txtpb:2:11: error: "));
  CHECK_THAT(lines[0], Catch::EndsWith(" [syntax-error]"));
  CHECK_THAT(lines[0], Catch::Contains("'}'"));
  CHECK_THAT(lines[1], Catch::StartsWith("fixture.txtpb:3:3: error: "));
  CHECK_THAT(lines[1], Catch::EndsWith(" [syntax-error]"));
  CHECK_THAT(result.standard_error, Catch::Contains("checked 1 file: 2 errors, 0 warnings"));
}

TEST_CASE("amct-lsp --check --format json gives the documented document", "[cli]") {
  TempDir dir;
  dir.write("fixture.txtpb", kFixture);
  dir.write("clean.txtpb", "name: \"ok\"\n");
  ProcessResult result =
      run_cli({"--check", "--format", "json", "fixture.txtpb", "clean.txtpb"}, dir.path(""));
  CHECK(result.exit_code == 1);
  json report = json::parse(result.standard_output);
  REQUIRE(report["files"].size() == 2);
  const json& file = report["files"][0];
  CHECK(file["path"] == "fixture.txtpb");
  CHECK(file.contains("schema"));
  CHECK(file["schema"].is_null());  // no schema: syntax only
  REQUIRE(file["diagnostics"].size() == 2);
  const json& first = file["diagnostics"][0];
  CHECK(first["line"] == 2);
  CHECK(first["column"] == 11);
  CHECK(first["endLine"] == 2);
  CHECK(first["endColumn"] == 12);
  CHECK(first["severity"] == "error");
  CHECK(first["code"] == "syntax-error");
  CHECK(first["message"].get<std::string>().find("'}'") != std::string::npos);
  CHECK(first["related"].is_array());
  CHECK(file["diagnostics"][1]["line"] == 3);
  CHECK(report["files"][1]["path"] == "clean.txtpb");
  CHECK(report["files"][1]["diagnostics"].empty());
  CHECK(report["summary"] == json{{"files", 2}, {"errors", 2}, {"warnings", 0}});
  CHECK(result.standard_error.empty());  // stderr stays quiet for machine formats
}

TEST_CASE("amct-lsp --check --format sarif is one SARIF 2.1.0 run with rules, results and regions", "[cli]") {
  TempDir dir;
  dir.write("sub dir/fixture.txtpb", kFixture);
  ProcessResult result =
      run_cli({"--check", "--format=sarif", "sub dir/fixture.txtpb"}, dir.path(""));
  CHECK(result.exit_code == 1);
  json sarif = json::parse(result.standard_output);
  CHECK(sarif["version"] == "2.1.0");
  CHECK(sarif["$schema"].get<std::string>().find("sarif-2.1.0") != std::string::npos);
  REQUIRE(sarif["runs"].size() == 1);
  const json& run = sarif["runs"][0];
  const json& driver = run["tool"]["driver"];
  CHECK(driver["name"] == "amct-lsp");
  CHECK(driver["version"] == AMCT_LSP_VERSION);
  CHECK(run["columnKind"] == "unicodeCodePoints");

  std::set<std::string> rule_ids;
  for (const json& rule : driver["rules"]) {
    rule_ids.insert(rule["id"].get<std::string>());
    CHECK_FALSE(rule["shortDescription"]["text"].get<std::string>().empty());
    CHECK_FALSE(rule["help"]["text"].get<std::string>().empty());
  }
  for (const std::string& code : kKnownCodes) {
    INFO("code " << code);
    CHECK(rule_ids.count(code) == 1);
  }

  REQUIRE(run["results"].size() == 2);
  const json& result0 = run["results"][0];
  CHECK(result0["ruleId"] == "syntax-error");
  CHECK(driver["rules"][result0["ruleIndex"].get<size_t>()]["id"] == "syntax-error");
  CHECK(result0["level"] == "error");
  CHECK(result0["message"]["text"].get<std::string>().find("'}'") != std::string::npos);
  const json& location = result0["locations"][0]["physicalLocation"];
  CHECK(location["artifactLocation"]["uri"] == "sub%20dir/fixture.txtpb");  // relative, encoded
  CHECK(location["artifactLocation"]["uriBaseId"] == "%SRCROOT%");
  CHECK(location["region"] == json{{"startLine", 2}, {"startColumn", 11}, {"endLine", 2}, {"endColumn", 12}});
  CHECK(run["invocations"][0]["executionSuccessful"] == true);
}

TEST_CASE("amct-lsp --check exit status: 0 for clean files, 2 for usage and I/O failures", "[cli]") {
  SECTION("the five examples check clean") {
    ProcessResult result = run_cli({"--check", std::string(AMCT_SOURCE_DIR) + "/examples"});
    CHECK(result.exit_code == 0);
    CHECK(result.standard_output.empty());
    CHECK_THAT(result.standard_error, Catch::Contains("checked 5 files: 0 errors"));
  }
  SECTION("a missing file is named on stderr; the other files are still checked") {
    TempDir dir;
    dir.write("fixture.txtpb", kFixture);
    ProcessResult result = run_cli({"--check", "missing.cfg", "fixture.txtpb"}, dir.path(""));
    CHECK(result.exit_code == 2);
    CHECK_THAT(result.standard_error, Catch::Contains("'missing.cfg'"));
    CHECK_THAT(result.standard_output, Catch::Contains("fixture.txtpb:2:11: error:"));
  }
  SECTION("an unreadable file (a symbolic link loop) is named on stderr") {
    TempDir dir;
    fs::create_symlink("loop.cfg", dir.path("loop.cfg"));
    dir.write("clean.cfg", "batch_num: 1\n");
    ProcessResult result = run_cli({"--check", "loop.cfg", "clean.cfg"}, dir.path(""));
    CHECK(result.exit_code == 2);
    CHECK_THAT(result.standard_error, Catch::Contains("'loop.cfg'"));
    CHECK(result.signal == 0);
  }
  SECTION("a directory without matching files") {
    TempDir dir;
    dir.write("empty/notes.txt", "nothing to check\n");
    ProcessResult result = run_cli({"--check", "empty"}, dir.path(""));
    CHECK(result.exit_code == 2);
    CHECK_THAT(result.standard_error, Catch::Contains("no *.cfg"));
    CHECK_THAT(result.standard_error, Catch::Contains("'empty'"));
  }
  SECTION("a missing --weights file") {
    TempDir dir;
    dir.write("clean.txtpb", "name: \"ok\"\n");
    ProcessResult result =
        run_cli({"--check", "--weights", "nope.safetensors", "clean.txtpb"}, dir.path(""));
    CHECK(result.exit_code == 2);
    CHECK_THAT(result.standard_error, Catch::Contains("nope.safetensors"));
  }
  SECTION("an I/O failure still prints the JSON document") {
    TempDir dir;
    dir.write("clean.txtpb", "name: \"ok\"\n");
    ProcessResult result =
        run_cli({"--check", "--format", "json", "gone.cfg", "clean.txtpb"}, dir.path(""));
    CHECK(result.exit_code == 2);
    json report = json::parse(result.standard_output);
    CHECK(report["files"].size() == 1);
    CHECK(report["summary"]["files"] == 1);
  }
}

TEST_CASE("amct-lsp --check recurses into directories in sorted order and keeps argument order", "[cli]") {
  TempDir dir;
  const std::string broken = "a: }\n";
  for (const char* name : {"tree/b.cfg", "tree/a/z.txtpb", "tree/a/y.pbtxt", "tree/c.textproto",
                           "tree/d/e.prototxt", "first.anything"}) {
    dir.write(name, broken);
  }
  dir.write("tree/notes.txt", broken);  // not a text-format extension: ignored
  dir.write("tree/README.md", broken);
  std::vector<std::string> expected = {"first.anything", "tree/a/y.pbtxt", "tree/a/z.txtpb",
                                       "tree/b.cfg", "tree/c.textproto", "tree/d/e.prototxt"};
  ProcessResult parallel = run_cli({"--check", "first.anything", "tree"}, dir.path(""));
  CHECK(parallel.exit_code == 1);
  CHECK(paths_in_order(parallel.standard_output) == expected);

  ProcessResult serial = run_cli({"--check", "-j", "1", "first.anything", "tree"}, dir.path(""));
  CHECK(serial.standard_output == parallel.standard_output);

  ProcessResult reversed = run_cli({"--check", "tree", "first.anything"}, dir.path(""));
  std::vector<std::string> expected_reversed(expected.begin() + 1, expected.end());
  expected_reversed.push_back("first.anything");
  CHECK(paths_in_order(reversed.standard_output) == expected_reversed);
}

TEST_CASE("amct-lsp --check output order does not depend on parallelism over many files", "[cli]") {
  TempDir dir;
  for (int i = 0; i < 60; ++i) {
    // Files of very different sizes finish in a different order than they start.
    std::string body;
    for (int k = 0; k < (i % 7) * 300; ++k) body += "x: " + std::to_string(k) + "\n";
    dir.write("many/f" + std::to_string(100 + i) + ".txtpb", body + "broken: }\n");
  }
  ProcessResult parallel = run_cli({"--check", "--jobs", "8", "many"}, dir.path(""));
  ProcessResult serial = run_cli({"--check", "--jobs", "1", "many"}, dir.path(""));
  CHECK(parallel.exit_code == 1);
  CHECK(lines_of(parallel.standard_output).size() == 60);
  CHECK(parallel.standard_output == serial.standard_output);
}

TEST_CASE("amct-lsp --check never crashes on bad input", "[cli]") {
  TempDir dir;
  SECTION("binary data: invalid-utf8 at the first bad byte") {
    std::string binary = "batch_num: 1\n";
    for (int i = 0; i < 4096; ++i) binary += static_cast<char>((i * 7919 + 13) % 256);
    dir.write("blob.cfg", binary);
    ProcessResult result = run_cli({"--check", "--format", "json", "blob.cfg"}, dir.path(""));
    CHECK(result.signal == 0);
    CHECK(result.exit_code == 1);
    json report = json::parse(result.standard_output);  // valid JSON despite the bytes
    bool found = false;
    for (const json& diagnostic : report["files"][0]["diagnostics"]) {
      if (diagnostic["code"] != "invalid-utf8") continue;
      CHECK_FALSE(found);  // reported once
      found = true;
      // bytes 0..127 are ASCII: the first bad byte is 0x80, at i == 82 on line 2
      std::string text = binary.substr(13);
      size_t bad = 0;
      while (static_cast<unsigned char>(text[bad]) < 0x80) ++bad;
      size_t line_start = text.rfind('\n', bad);
      size_t line = 2 + static_cast<size_t>(std::count(text.begin(), text.begin() + bad, '\n'));
      size_t column = (line_start == std::string::npos ? bad : bad - line_start - 1) + 1;
      CHECK(diagnostic["line"] == line);
      CHECK(diagnostic["column"] == column);
    }
    CHECK(found);
  }
  SECTION("invalid UTF-8 in an otherwise fine file") {
    dir.write("latin1.txtpb", "name: \"caf\xe9\"\n");
    ProcessResult result = run_cli({"--check", "latin1.txtpb"}, dir.path(""));
    CHECK(result.exit_code == 1);
    CHECK_THAT(result.standard_output, Catch::Contains("latin1.txtpb:1:11: error: "));
    CHECK_THAT(result.standard_output, Catch::Contains("[invalid-utf8]"));
  }
  SECTION("control characters and binary bytes are escaped in text output") {
    std::string binary = "\x01\x1b[31mred: 1\n";
    for (int i = 0; i < 512; ++i) binary += static_cast<char>((i * 7919 + 13) % 256);
    dir.write("control.txtpb", binary);
    ProcessResult result = run_cli({"--check", "control.txtpb"}, dir.path(""));
    CHECK(result.exit_code == 1);
    CHECK_THAT(result.standard_output, Catch::StartsWith("control.txtpb:1:1: error: "));
    for (char c : result.standard_output) {
      INFO("byte " << static_cast<int>(static_cast<unsigned char>(c)));
      CHECK((c == '\n' || c == '\t' || static_cast<unsigned char>(c) >= 0x20));
      CHECK(c != '\x7f');
    }
    CHECK(amct::server::printable("a\x01\xff\t\xe4\xb8\xad") == "a\\x01\\xFF\t\xe4\xb8\xad");
  }
  SECTION("NUL bytes") {
    dir.write("nul.txtpb", std::string("a: 1\0\0\nb: \"x\0y\"\n", 17));
    dir.write("zeros.txtpb", std::string(10000, '\0'));
    ProcessResult result = run_cli({"--check", "nul.txtpb", "zeros.txtpb"}, dir.path(""));
    CHECK(result.signal == 0);
    CHECK(result.exit_code == 1);
    CHECK_THAT(result.standard_output, Catch::Contains("nul.txtpb:1:5: error: "));
    CHECK_THAT(result.standard_output, Catch::Contains("zeros.txtpb:1:1: error: "));
  }
  SECTION("10,000-deep nesting") {
    std::string open, close;
    for (int i = 0; i < 10000; ++i) {
      open += "a {";
      close += "}";
    }
    dir.write("deep.txtpb", open + close + "\n");
    dir.write("deep_unclosed.txtpb", open + "\n");
    std::string list = "a: ";
    for (int i = 0; i < 10000; ++i) list += "[";
    dir.write("deep_list.txtpb", list + "\n");
    ProcessResult clean = run_cli({"--check", "deep.txtpb"}, dir.path(""));
    CHECK(clean.exit_code == 0);
    ProcessResult broken = run_cli({"--check", "--format", "json", "deep_unclosed.txtpb", "deep_list.txtpb"},
                                   dir.path(""));
    CHECK(broken.exit_code == 1);
    CHECK_FALSE(broken.timed_out);
    json report = json::parse(broken.standard_output);
    REQUIRE(report["files"].size() == 2);
    CHECK_FALSE(report["files"][0]["diagnostics"].empty());
    CHECK_FALSE(report["files"][1]["diagnostics"].empty());
  }
}

TEST_CASE("amct-lsp --check reads a 100 MB config without trouble", "[cli][slow]") {
  TempDir dir;
  std::string text = "retrain_weight_quant_config { arq_retrain { channel_wise: true } }\n";
  text.reserve(size_t{101} << 20);
  for (int i = 0; text.size() < size_t{100} << 20; ++i) {
    text += "override_layer_configs {\n  layer_name: \"model.layers." + std::to_string(i) +
            ".mlp.down_proj\"\n  retrain_weight_quant_config { arq_retrain { dst_type: INT8 "
            "channel_wise: false } }\n}\n";
  }
  text += "name_with_error: }\n";  // one syntax error on the last line
  const size_t last_line = static_cast<size_t>(std::count(text.begin(), text.end(), '\n'));
  dir.write("big.txtpb", text);
  ProcessResult result = run_cli({"--check", "--format", "json", "big.txtpb"}, dir.path(""),
                                 std::chrono::seconds(300));
  CHECK_FALSE(result.timed_out);
  CHECK(result.signal == 0);
  CHECK(result.exit_code == 1);
  json report = json::parse(result.standard_output);
  REQUIRE(report["files"][0]["diagnostics"].size() >= 1);
  CHECK(report["files"][0]["diagnostics"][0]["line"] == last_line);
}

TEST_CASE("amct-lsp --version and --help", "[cli]") {
  ProcessResult version = run_cli({"--version"});
  CHECK(version.exit_code == 0);
  CHECK(version.standard_output == std::string("amct-lsp ") + AMCT_LSP_VERSION + "\n");

  ProcessResult help = run_cli({"--help"});
  CHECK(help.exit_code == 0);
  for (const char* documented :
       {"--stdio", "--check", "--resolve", "--estimate", "--version", "--format text|json|sarif",
        "--soc SOC", "--api quant|prune|compressed", "--proto FILE", "--message NAME", "-I DIR",
        "--weights FILE", "--manifest JSON", "--layer NAME", "--type TYPE", "*.cfg", "*.txtpb",
        "*.textproto", "*.pbtxt", "*.prototxt", "Exit status"}) {
    INFO("help mentions " << documented);
    CHECK_THAT(help.standard_output, Catch::Contains(documented));
  }
  CHECK(run_cli({"--check", "--help"}).standard_output == help.standard_output);
  CHECK(run_cli({"-h"}).exit_code == 0);
}

TEST_CASE("usage errors exit 2 with a message and the usage", "[cli]") {
  struct Case {
    std::vector<std::string> arguments;
    std::string message;
  };
  const std::vector<Case> cases = {
      {{"--check", "--frobnicate", "x.cfg"}, "unknown option '--frobnicate'"},
      {{"--frobnicate"}, "unknown option '--frobnicate'"},
      {{"--check", "--format", "xml", "x.cfg"}, "--format must be text, json or sarif"},
      {{"--check", "--api", "train", "x.cfg"}, "--api must be quant, prune or compressed"},
      {{"--check"}, "needs at least one PATH"},
      {{"--check", "--format"}, "'--format' needs a value"},
      {{"--check", "--proto", "a.proto", "x.cfg"}, "--proto FILE and --message NAME go together"},
      {{"--check", "--jobs", "0", "x.cfg"}, "--jobs must be a number"},
      {{"--check", "--resolve", "x.cfg"}, "choose one of --check and --resolve"},
      {{"x.cfg"}, "did you mean 'amct-lsp --check x.cfg'"},
  };
  for (const Case& c : cases) {
    INFO("arguments: " << c.arguments.size() << " starting " << c.arguments.front());
    ProcessResult result = run_cli(c.arguments);
    CHECK(result.exit_code == 2);
    CHECK(result.standard_output.empty());
    CHECK_THAT(result.standard_error, Catch::Contains(c.message));
    CHECK_THAT(result.standard_error, Catch::Contains("Usage: amct-lsp"));
  }
}

TEST_CASE("option parsing: --opt value, --opt=value, -IDIR, -- ends options", "[cli]") {
  using amct::server::OptionSpec;
  const std::vector<OptionSpec> specs = {{"--format", true}, {"-I", true}, {"--check", false}};
  std::string error;
  auto parsed = amct::server::parse_arguments(
      {"--format", "json", "-Ia", "-I", "b", "--format=sarif", "x", "--", "--format"}, specs, error);
  REQUIRE(parsed);
  CHECK(parsed->last("--format") == "sarif");
  CHECK(parsed->all("-I") == std::vector<std::string>{"a", "b"});
  CHECK(parsed->positionals == std::vector<std::string>{"x", "--format"});
  CHECK_FALSE(amct::server::parse_arguments({"--check=1"}, specs, error));
  CHECK(error == "option '--check' takes no value");
}

TEST_CASE("first_invalid_utf8 finds the first bad sequence", "[cli]") {
  using amct::server::first_invalid_utf8;
  CHECK_FALSE(first_invalid_utf8("plain ASCII, é, 中, 𝄞"));
  CHECK(first_invalid_utf8("ab\xff") == amct::ByteRange{2, 3});
  CHECK(first_invalid_utf8("a\xc3") == amct::ByteRange{1, 2});              // truncated
  CHECK(first_invalid_utf8("\xe4\xb8x") == amct::ByteRange{0, 2});          // broken 3-byte
  CHECK(first_invalid_utf8("\xc0\xaf") == amct::ByteRange{0, 1});           // overlong lead
  CHECK(first_invalid_utf8("\xe0\x80\x80") == amct::ByteRange{0, 1});       // overlong
  CHECK(first_invalid_utf8("\xed\xa0\x80") == amct::ByteRange{0, 1});       // surrogate
  CHECK(first_invalid_utf8("\xf4\x90\x80\x80") == amct::ByteRange{0, 1});   // above U+10FFFF
  CHECK_FALSE(first_invalid_utf8(std::string_view("a\0b", 3)));             // NUL is UTF-8
}

TEST_CASE("diagnostic code table parses and knows every code", "[cli]") {
  auto parsed = amct::server::parse_diagnostic_codes(
      "# comment\n\ncode-a\terror\tShort A\tHelp A.\r\nbroken line\ncode-b\twarning\tShort B\tHelp B.");
  REQUIRE(parsed.size() == 2);
  CHECK(parsed[0].code == "code-a");
  CHECK(parsed[0].help == "Help A.");
  CHECK(parsed[1].level == "warning");
  for (const std::string& code : kKnownCodes) {
    INFO("code " << code);
    const auto* info = amct::server::find_diagnostic_code(code);
    REQUIRE(info != nullptr);
    CHECK((info->level == "error" || info->level == "warning" || info->level == "note"));
  }
  CHECK(amct::server::find_diagnostic_code("no-such-code") == nullptr);
}

TEST_CASE("SARIF artifact URIs are relative to the working directory", "[cli]") {
  using amct::server::artifact_uri;
  CHECK(artifact_uri("/work/repo/configs/a.cfg", "/work/repo") == "configs/a.cfg");
  CHECK(artifact_uri("/work/repo/my configs/ü.cfg", "/work/repo") == "my%20configs/%C3%BC.cfg");
  CHECK(artifact_uri("/elsewhere/a.cfg", "/work/repo") == "file:///elsewhere/a.cfg");
}

TEST_CASE("check_exit_status: warnings pass, errors 1, I/O failures 2", "[cli]") {
  using amct::server::check_exit_status;
  amct::server::CheckSummary summary;
  summary.files_checked = 3;
  summary.warnings = 4;
  CHECK(check_exit_status(summary, false) == 0);
  summary.errors = 1;
  CHECK(check_exit_status(summary, false) == 1);
  CHECK(check_exit_status(summary, true) == 2);
  summary.errors = 0;
  summary.files_failed = 1;
  CHECK(check_exit_status(summary, false) == 2);
}

namespace {

// A report as the analysis layers will produce it: a warning with related
// information, an info diagnostic and a code the table does not know.
std::vector<amct::server::FileReport> synthetic_reports() {
  using amct::server::LocatedDiagnostic;
  amct::server::FileReport report;
  report.path = "configs/quant.cfg";
  report.schema = "AMCTRetrainConfig (built-in)";
  LocatedDiagnostic duplicate;
  duplicate.start = {7, 5};
  duplicate.end = {7, 13};
  duplicate.severity = amct::Severity::Warning;
  duplicate.code = "duplicate-field";
  duplicate.message = "'dst_type' is set twice; AMCT keeps the last value";
  duplicate.related.push_back({{5, 5}, {5, 13}, "first set here"});
  LocatedDiagnostic info;
  info.start = {1, 1};
  info.end = {1, 2};
  info.severity = amct::Severity::Information;
  info.code = "brand-new-code";
  info.message = "something to know";
  report.diagnostics = {duplicate, info};
  amct::server::FileReport unreadable;
  unreadable.path = "gone.cfg";
  unreadable.read_error = "cannot read 'gone.cfg': Permission denied";
  return {report, unreadable};
}

}  // namespace

TEST_CASE("report formats carry related information, severities and unknown codes", "[cli]") {
  const auto reports = synthetic_reports();
  SECTION("text") {
    std::ostringstream out;
    amct::server::write_text_report(out, reports);
    CHECK(out.str() ==
          "configs/quant.cfg:7:5: warning: 'dst_type' is set twice; AMCT keeps the last value "
          "[duplicate-field]\n"
          "configs/quant.cfg:5:5: note: first set here\n"
          "configs/quant.cfg:1:1: info: something to know [brand-new-code]\n");
    auto summary = amct::server::summarize(reports);
    CHECK(amct::server::summary_line(summary) ==
          "amct-lsp: checked 1 file: 0 errors, 1 warning; 1 file could not be read");
  }
  SECTION("json") {
    json report = json::parse(amct::server::json_report(reports));
    REQUIRE(report["files"].size() == 1);  // the unreadable file is reported on stderr
    CHECK(report["files"][0]["schema"] == "AMCTRetrainConfig (built-in)");
    const json& duplicate = report["files"][0]["diagnostics"][0];
    CHECK(duplicate["severity"] == "warning");
    CHECK(duplicate["related"] == json::parse(R"([{"line":5,"column":5,"endLine":5,"endColumn":13,"message":"first set here"}])"));
    CHECK(report["files"][0]["diagnostics"][1]["severity"] == "info");
    CHECK(report["summary"] == json{{"files", 1}, {"errors", 0}, {"warnings", 1}});
  }
  SECTION("sarif") {
    json sarif = json::parse(amct::server::sarif_report(reports, {"9.9.9", "/work/repo"}));
    const json& run = sarif["runs"][0];
    REQUIRE(run["results"].size() == 2);
    const json& duplicate = run["results"][0];
    CHECK(duplicate["level"] == "warning");
    CHECK(duplicate["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "configs/quant.cfg");
    CHECK(duplicate["relatedLocations"][0]["message"]["text"] == "first set here");
    CHECK(duplicate["relatedLocations"][0]["physicalLocation"]["region"]["startLine"] == 5);
    const json& info = run["results"][1];
    CHECK(info["level"] == "note");
    CHECK(run["tool"]["driver"]["rules"][info["ruleIndex"].get<size_t>()]["id"] == "brand-new-code");
    CHECK(run["invocations"][0]["executionSuccessful"] == false);
    CHECK(run["invocations"][0]["toolExecutionNotifications"][0]["message"]["text"] ==
          "cannot read 'gone.cfg': Permission denied");
    CHECK(run["originalUriBaseIds"]["%SRCROOT%"]["uri"] == "file:///work/repo/");
  }
}
