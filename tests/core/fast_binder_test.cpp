// The single-pass path of --check (core/model/fast_binder.h,
// amct::analyze_without_tree) against the tree-sitter path (Document + bind()
// + analyze()): on every input it either declines, or gives exactly the same
// bound model, outline, diagnostics (code, severity, range, message, related)
// and analysis. Inputs: the binder differential generator's documents, the
// examples, tests/fixtures, the grammar corpus, generated AMCT configs, and
// mutations of those.
#include <catch2/catch.hpp>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "core/analysis.h"
#include "core/model/binder.h"
#include "core/model/fast_binder.h"
#include "core/schema/binding.h"
#include "core/schema/schema.h"
#include "core/syntax/document.h"
#include "core/syntax/utf.h"
#include "core/text_util.h"
#include "support/config_generator.h"
#include "support/differential_generator.h"

namespace {

namespace fs = std::filesystem;
using amct::Diagnostic;
using amct::model::Field;
using amct::model::Message;
using amct::model::ScalarValue;

std::string read_text(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

std::string range_text(amct::ByteRange range) {
  return std::to_string(range.start) + "-" + std::to_string(range.end);
}

std::string scalar_difference(const ScalarValue& a, const ScalarValue& b) {
  if (a.kind != b.kind) return "kind";
  if (!(a.range == b.range)) return "range " + range_text(a.range) + " vs " + range_text(b.range);
  if (a.text != b.text) return "text '" + a.text + "' vs '" + b.text + "'";
  if (a.bool_value != b.bool_value) return "bool value";
  if (a.int_value != b.int_value) return "int value";
  if (a.uint_value != b.uint_value) return "uint value";
  if (!(a.float_value == b.float_value || (std::isnan(a.float_value) && std::isnan(b.float_value))))
    return "float value";
  if (a.string_value != b.string_value) return "string value";
  if (a.enum_value != b.enum_value) return "enum value";
  return "";
}

// "" when the two bound trees are equal, else where they first differ.
std::string bound_difference(const Message& tree_sitter, const Message& fast) {
  std::vector<std::pair<const Message*, const Message*>> stack{{&tree_sitter, &fast}};
  while (!stack.empty()) {
    const auto [a, b] = stack.back();
    stack.pop_back();
    const std::string at = "message at " + range_text(a->range) + ": ";
    if (a->descriptor != b->descriptor) return at + "descriptor";
    if (!(a->range == b->range) || !(a->open_range == b->open_range))
      return at + "range vs " + range_text(b->range);
    if (a->fields.size() != b->fields.size())
      return at + std::to_string(a->fields.size()) + " vs " + std::to_string(b->fields.size()) + " fields";
    for (size_t i = 0; i < a->fields.size(); ++i) {
      const Field& x = a->fields[i];
      const Field& y = b->fields[i];
      const std::string field_at = at + "field '" + x.name + "' at " + range_text(x.range) + ": ";
      if (x.descriptor != y.descriptor) return field_at + "descriptor";
      if (x.name != y.name) return field_at + "name '" + y.name + "'";
      if (!(x.name_range == y.name_range)) return field_at + "name range " + range_text(y.name_range);
      if (!(x.range == y.range)) return field_at + "range " + range_text(y.range);
      if (x.has_colon != y.has_colon) return field_at + "colon";
      if (x.any_type != y.any_type || x.reserved != y.reserved) return field_at + "any/reserved";
      if (x.scalars.size() != y.scalars.size()) return field_at + "scalar count";
      for (size_t s = 0; s < x.scalars.size(); ++s) {
        const std::string difference = scalar_difference(x.scalars[s], y.scalars[s]);
        if (!difference.empty()) return field_at + "scalar " + std::to_string(s) + ": " + difference;
      }
      if (x.messages.size() != y.messages.size()) return field_at + "message count";
      for (size_t m = 0; m < x.messages.size(); ++m) stack.push_back({&x.messages[m], &y.messages[m]});
    }
  }
  return "";
}

std::string describe(const Diagnostic& d) {
  std::string text = std::string(amct::severity_name(d.severity)) + " [" + d.code + "] " + range_text(d.range) +
                     ": " + d.message;
  for (const auto& related : d.related) text += " | related " + range_text(related.range) + ": " + related.message;
  return text;
}

std::string diagnostics_difference(const std::vector<Diagnostic>& tree_sitter, const std::vector<Diagnostic>& fast) {
  const size_t count = std::max(tree_sitter.size(), fast.size());
  for (size_t i = 0; i < count; ++i) {
    const std::string a = i < tree_sitter.size() ? describe(tree_sitter[i]) : "(none)";
    const std::string b = i < fast.size() ? describe(fast[i]) : "(none)";
    if (a != b) return "diagnostic " + std::to_string(i) + ":\n  tree-sitter: " + a + "\n  single pass: " + b;
  }
  return "";
}

std::string outline_difference(const amct::schema::DocumentOutline& outline, const amct::model::FastSyntax& fast,
                               std::string_view text) {
  std::vector<std::string> fields(fast.top_level_fields().begin(), fast.top_level_fields().end());
  if (outline.top_level_fields != fields) return "top-level field names differ";
  if (outline.headers.size() != fast.headers().size()) return "header count differs";
  for (size_t i = 0; i < outline.headers.size(); ++i) {
    const amct::model::FastHeader& header = fast.headers()[i];
    if (!(outline.headers[i].range == header.range)) return "header " + std::to_string(i) + " range";
    const std::string value =
        header.value_range ? std::string(text.substr(header.value_range->start,
                                                     header.value_range->end - header.value_range->start))
                           : "";
    if (outline.headers[i].value != std::string(amct::trim(value))) return "header " + std::to_string(i) + " value";
  }
  return "";
}

bool has_control_character(std::string_view text) {
  for (char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if ((byte < 0x20 && c != '\t' && c != '\n' && c != '\r') || byte == 0x7f) return true;
  }
  return false;
}

struct Tally {
  size_t documents = 0;
  size_t accepted = 0;
  size_t declined = 0;
  size_t declined_clean = 0;         // declined without a syntax error
  size_t declined_common_shape = 0;  // ... and in the subset the fast path claims to cover
  size_t split_in_two = 0;           // accepted through the two-thread split
  size_t failures = 0;
};

void fail(Tally& tally, const std::string& what, const std::string& text) {
  ++tally.failures;
  if (tally.failures <= 10) FAIL_CHECK(what << "\ndocument:\n----\n" << text << "\n----");
}

// Binding alone (syntax tree vs single pass) against `root_type` (may be null).
// `common_shape`: the document uses only what the fast path claims to cover
// (identifier field names, no reserved names, no control characters).
void check_binding(const std::string& text, const google::protobuf::Descriptor* root_type, bool common_shape,
                   Tally& tally) {
  ++tally.documents;
  const amct::syntax::Document document(text);
  const bool syntax_clean = document.syntax_diagnostics().empty();
  // Every other document goes through the two-thread split (forced on
  // however small the text), so both ways are compared.
  amct::model::FastOptions fast_options;
  if (tally.documents % 2 == 0) fast_options.parallel_min_bytes = 0;
  std::optional<amct::model::FastSyntax> fast_syntax = amct::model::parse_fast(text, fast_options);
  std::optional<amct::model::BoundDocument> fast;
  if (fast_syntax) fast = amct::model::bind_fast(*fast_syntax, root_type);
  if (!fast) {
    ++tally.declined;
    const bool clean = syntax_clean && amct::syntax::find_invalid_utf8(text) == std::string_view::npos;
    if (clean) ++tally.declined_clean;
    if (clean && common_shape) {
      ++tally.declined_common_shape;
      fail(tally, "the single pass declined a document of a shape it covers", text);
    }
    return;
  }
  ++tally.accepted;
  if (fast_syntax->split_in_two()) ++tally.split_in_two;
  if (!syntax_clean) return fail(tally, "the single pass accepted a document with syntax errors", text);
  const std::string outline = outline_difference(amct::schema::outline_of(document), *fast_syntax, text);
  if (!outline.empty()) return fail(tally, "outline: " + outline, text);
  const amct::model::BoundDocument tree_sitter = amct::model::bind(document, root_type);
  const std::string bound = bound_difference(tree_sitter.root, fast->root);
  if (!bound.empty()) return fail(tally, "bound model: " + bound, text);
  const std::string diagnostics = diagnostics_difference(tree_sitter.diagnostics, fast->diagnostics);
  if (!diagnostics.empty()) return fail(tally, diagnostics, text);
}

// The whole analysis (schema binding, schema and AMCT diagnostics).
void check_analysis(const std::string& text, const amct::AnalysisOptions& options, Tally& tally) {
  ++tally.documents;
  std::optional<amct::Analysis> fast = amct::analyze_without_tree(text, options);
  const amct::syntax::Document document(text);
  if (!fast) {
    ++tally.declined;
    if (document.syntax_diagnostics().empty()) ++tally.declined_clean;
    return;
  }
  ++tally.accepted;
  const amct::Analysis tree_sitter = amct::analyze(document, options);
  if (tree_sitter.schema_description != fast->schema_description)
    return fail(tally, "schema: '" + tree_sitter.schema_description + "' vs '" + fast->schema_description + "'", text);
  const std::string diagnostics = diagnostics_difference(tree_sitter.diagnostics, fast->diagnostics);
  if (!diagnostics.empty()) return fail(tally, diagnostics, text);
  if ((tree_sitter.bound == nullptr) != (fast->bound == nullptr)) return fail(tally, "bound model presence", text);
  if (tree_sitter.bound) {
    const std::string bound = bound_difference(tree_sitter.bound->root, fast->bound->root);
    if (!bound.empty()) return fail(tally, "bound model: " + bound, text);
  }
}

// Inputs of the grammar corpus: the text between a case's header and its
// '---' divider (any text is a valid input here, so the split may be rough).
std::vector<std::string> corpus_inputs() {
  std::vector<std::string> inputs;
  for (const auto& entry : fs::directory_iterator(fs::path(AMCT_SOURCE_DIR) / "grammar" / "test" / "corpus")) {
    std::istringstream in(read_text(entry.path()));
    std::string line;
    int header_rules = 0;
    bool in_input = false;
    std::string input;
    auto is_rule = [](const std::string& l, char c) {
      return l.size() >= 3 && l.find_first_not_of(c) == std::string::npos;
    };
    while (std::getline(in, line)) {
      if (is_rule(line, '=')) {
        if (in_input) inputs.push_back(input);
        in_input = false;
        header_rules = header_rules == 1 ? 2 : 1;
        if (header_rules == 2) {
          in_input = true;
          input.clear();
        }
        continue;
      }
      if (in_input && is_rule(line, '-')) {
        if (!input.empty() && input.back() == '\n') input.pop_back();
        inputs.push_back(input);
        in_input = false;
        header_rules = 0;
        continue;
      }
      if (in_input) input += line + "\n";
    }
  }
  return inputs;
}

std::vector<fs::path> example_files() {
  std::vector<fs::path> files;
  for (const char* folder : {"examples", "tests/fixtures"}) {
    for (const auto& entry : fs::recursive_directory_iterator(fs::path(AMCT_SOURCE_DIR) / folder)) {
      if (entry.is_regular_file()) files.push_back(entry.path());
    }
  }
  std::sort(files.begin(), files.end());
  return files;
}

// Character- and line-level edits of an AMCT config: typos in names and
// values, lost or doubled brackets and separators, moved lines, headers.
std::string mutate_config(const std::string& text, std::mt19937& rng) {
  static const std::vector<std::string> kInserts = {
      "{", "}", ":", ";", ",", "\"", "-", "#", "x", "1", "[", "]", "INT9", " 1.5.5", "\n# soc: Ascend310P3\n",
      "\n# amct-api: quant\n", "\n# soc: Nope\n", "\nbatch_num: 0\n", "\nprune_config { }\n", "\xff", "\t"};
  std::string mutated = text;
  const size_t edits = 1 + rng() % 3;
  for (size_t e = 0; e < edits && !mutated.empty(); ++e) {
    const size_t at = rng() % mutated.size();
    switch (rng() % 6) {
      case 0: mutated.erase(at, 1); break;
      case 1: mutated.insert(at, kInserts[rng() % kInserts.size()]); break;
      case 2: {  // a typo in a word
        size_t start = at;
        while (start < mutated.size() && !std::isalpha(static_cast<unsigned char>(mutated[start]))) ++start;
        if (start < mutated.size()) mutated[start] = static_cast<char>('a' + rng() % 26);
        break;
      }
      case 3: {  // duplicate a line
        const size_t line_start = mutated.rfind('\n', at) == std::string::npos ? 0 : mutated.rfind('\n', at) + 1;
        const size_t line_end = mutated.find('\n', at);
        if (line_end != std::string::npos) mutated.insert(line_start, mutated.substr(line_start, line_end - line_start + 1));
        break;
      }
      case 4: {  // replace a value
        const size_t colon = mutated.find(": ", at);
        if (colon != std::string::npos) {
          static const std::vector<std::string> kValues = {"INT4", "INT16", "true", "2", "-1", "1e40", "\"s\"",
                                                           "0.5", "M4N2", "nan", "{ }", "[1, 2]", "[]"};
          const size_t end = mutated.find('\n', colon);
          mutated.replace(colon + 2, (end == std::string::npos ? mutated.size() : end) - colon - 2,
                          kValues[rng() % kValues.size()]);
        }
        break;
      }
      default: {  // drop a line
        const size_t line_end = mutated.find('\n', at);
        if (line_end != std::string::npos) mutated.erase(at, line_end - at + 1);
        break;
      }
    }
  }
  return mutated;
}

}  // namespace

TEST_CASE("single pass equals the tree-sitter binder on the differential generator's documents", "[fast_binder]") {
  amct::test_support::Schema schema;
  amct::test_support::Generator generator(schema.root, 20261126);
  Tally tally;
  constexpr size_t kDocuments = 4000;
  for (size_t i = 0; i < kDocuments; ++i) {
    const std::string text = generator.next();
    const bool common_shape = text.find("[difftest") == std::string::npos &&
                              text.find("[type.") == std::string::npos &&
                              text.find("[example") == std::string::npos && text.find("gone") == std::string::npos &&
                              text.find("legacy") == std::string::npos && !has_control_character(text);
    check_binding(text, schema.root, common_shape, tally);
    check_binding(text, nullptr, common_shape, tally);
  }
  WARN("single pass on generated documents: " << tally.documents << " bindings, " << tally.accepted << " accepted, "
                                              << tally.declined << " declined (" << tally.declined_clean
                                              << " of them without syntax errors, " << tally.declined_common_shape
                                              << " of a covered shape); " << tally.split_in_two
                                              << " accepted through the two-thread split");
  CHECK(tally.failures == 0);
  CHECK(tally.declined_common_shape == 0);
  // Both outcomes in quantity, or the comparison proves little.
  // (Most declines are the generator's extension, Any and reserved names.)
  CHECK(tally.accepted > tally.documents / 5);
  CHECK(tally.declined > tally.documents / 10);
  CHECK(tally.split_in_two > tally.accepted / 20);
}

TEST_CASE("single pass equals the tree-sitter path on examples, fixtures and the grammar corpus", "[fast_binder]") {
  const google::protobuf::Descriptor* amct_root = amct::schema::amct_schema().root;
  Tally binding;
  Tally analysis;
  for (const fs::path& file : example_files()) {
    const std::string text = read_text(file);
    INFO(file.string());
    check_binding(text, amct_root, true, binding);
    check_binding(text, nullptr, true, binding);
    amct::AnalysisOptions options;
    options.path = file.string();
    check_analysis(text, options, analysis);
    options.soc = "Ascend310P3";
    check_analysis(text, options, analysis);
  }
  const std::vector<std::string> corpus = corpus_inputs();
  CHECK(corpus.size() > 50);
  for (const std::string& text : corpus) {
    check_binding(text, amct_root, false, binding);
    check_binding(text, nullptr, false, binding);
    amct::AnalysisOptions options;
    options.path = "corpus.cfg";
    check_analysis(text, options, analysis);
  }
  WARN("examples, fixtures, corpus: " << binding.accepted << " of " << binding.documents << " bindings and "
                                      << analysis.accepted << " of " << analysis.documents
                                      << " analyses on the single pass; declined without syntax errors: "
                                      << binding.declined_clean);
  CHECK(binding.failures == 0);
  CHECK(analysis.failures == 0);
  CHECK(binding.declined_common_shape == 0);
  CHECK(analysis.accepted >= example_files().size() * 2);  // every example and fixture
}

TEST_CASE("single pass equals the tree-sitter path on generated AMCT configs and their mutations", "[fast_binder]") {
  Tally tally;
  std::mt19937 rng(7);
  for (uint64_t seed : {1, 2, 3}) {
    const std::string config = amct::bench::generate_config(100, seed);
    amct::AnalysisOptions options;
    options.path = "generated.cfg";
    check_analysis(config, options, tally);
    for (const char* soc : {"Ascend310P3", "Ascend910B2"}) {
      options.soc = soc;
      check_analysis(config, options, tally);
    }
    options.soc.reset();
    options.api = "quant";
    check_analysis(config, options, tally);
    options.api.reset();
    for (int m = 0; m < 150; ++m) check_analysis(mutate_config(config, rng), options, tally);
  }
  // Binding alone, each config twice (one and two threads), and mutations.
  Tally binding;
  for (uint64_t seed : {4, 5}) {
    const std::string config = amct::bench::generate_config(200, seed);
    for (int run = 0; run < 2; ++run) check_binding(config, amct::schema::amct_schema().root, true, binding);
    for (int m = 0; m < 60; ++m) {
      const std::string mutated = mutate_config(config, rng);
      for (int run = 0; run < 2; ++run) check_binding(mutated, amct::schema::amct_schema().root, false, binding);
    }
  }
  CHECK(binding.failures == 0);
  CHECK(binding.accepted > binding.documents / 4);
  CHECK(binding.split_in_two > binding.accepted / 4);
  const size_t accepted_before_large = tally.accepted;
  amct::AnalysisOptions options;
  options.path = "large.cfg";
  check_analysis(amct::bench::generate_config(3000, 42), options, tally);
  CHECK(tally.accepted == accepted_before_large + 1);
  WARN("AMCT configs: " << tally.accepted << " of " << tally.documents << " analyses on the single pass, "
                        << tally.declined << " declined (" << tally.declined_clean << " without syntax errors)");
  CHECK(tally.failures == 0);
  CHECK(tally.accepted > tally.documents / 3);
  CHECK(tally.declined > 0);
}

TEST_CASE("single pass declines what it does not reproduce and accepts the common shapes", "[fast_binder]") {
  auto accepted = [](const std::string& text) {
    std::optional<amct::model::FastSyntax> syntax = amct::model::parse_fast(text);
    return syntax && amct::model::bind_fast(*syntax, amct::schema::amct_schema().root).has_value();
  };
  for (const std::string text : {"batch_num: ", "batch_num: 1 }", "a: \"\xff\"", "a: 1\x01", "[pkg.ext]: 1",
                                 "a: \"\\z\"", "a: 1.5.5", "a: 10bar", "a: [1, {}]", "a [1]", "a: 'x\n'"}) {
    INFO(text);
    CHECK_FALSE(accepted(text));
  }
  std::string deep;
  for (size_t i = 0; i <= amct::model::kMaxFastNesting; ++i) deep += "a {";
  deep += std::string(amct::model::kMaxFastNesting + 1, '}');
  CHECK_FALSE(accepted(deep));
  for (const std::string text :
       {"", "# soc: Ascend310P3\nbatch_num: 1", "batch_num: 1, batch_num: 2;", "a < b: [1, -2, - 3] > c: 'x' \"y\"",
        "x: -inf y: [] z [] w: [{}, <>] # c\n", "skip_layers: \"\xc3\xa9\\n\\x41\\101\\u00e9\\U0001F600\""}) {
    INFO(text);
    CHECK(accepted(text));
  }
}

TEST_CASE("the single pass comparison notices a difference", "[fast_binder]") {
  // The checks above must be able to fail: the same comparison on a
  // deliberately altered result reports it.
  const std::string text = amct::bench::generate_config(10, 5);
  amct::AnalysisOptions options;
  options.path = "x.cfg";
  std::optional<amct::Analysis> fast = amct::analyze_without_tree(text, options);
  REQUIRE(fast);
  const amct::syntax::Document document(text);
  const amct::Analysis tree_sitter = amct::analyze(document, options);
  CHECK(diagnostics_difference(tree_sitter.diagnostics, fast->diagnostics).empty());
  CHECK(bound_difference(tree_sitter.bound->root, fast->bound->root).empty());
  REQUIRE_FALSE(fast->diagnostics.empty());
  std::vector<Diagnostic> altered = fast->diagnostics;
  altered.front().range.end += 1;
  CHECK_FALSE(diagnostics_difference(tree_sitter.diagnostics, altered).empty());
  amct::model::BoundDocument copy = *fast->bound;
  copy.root.fields.back().range.start += 1;
  CHECK_FALSE(bound_difference(tree_sitter.bound->root, copy.root).empty());
}

TEST_CASE("single pass equals the tree-sitter path where its 16-byte scans of names and strings stop", "[fast_binder]") {
  // Names and strings of every length around the 16-byte steps, ending at
  // every kind of byte that stops them, at the end of the text or not; with
  // escapes, non-ASCII and a newline inside strings.
  Tally tally;
  const google::protobuf::Descriptor* amct_root = amct::schema::amct_schema().root;
  std::vector<std::string> texts;
  for (size_t length = 1; length <= 40; ++length) {
    std::string name = "n";
    for (size_t i = 1; i < length; ++i) name += "aZ_9"[i % 4];
    for (const char* after : {"", ": 1", ":1\n", " {}", "{}", "\t: 2", "#c\n: 3", "-1", ".x", "\xc3\xa9: 1"}) {
      texts.push_back(name + after);
      texts.push_back("layer_name: " + name + after);
    }
    std::string value(length, 'v');
    for (const char* tail : {"\"", "\\\"\"", "\\n\"", "\\x41\"", "\xc3\xa9\"", "\n\"", "'\"", "\\q\""}) {
      texts.push_back("layer_name: \"" + value + tail);
      texts.push_back("layer_name: \"" + value + tail + " skip_layers: 'x'");
      texts.push_back("skip_layers: '" + value + "\"" + tail + "'");
    }
  }
  for (const std::string& text : texts) {
    INFO(text);
    check_binding(text, amct_root, false, tally);
    check_binding(text, nullptr, false, tally);
  }
  WARN("16-byte scan edges: " << tally.accepted << " of " << tally.documents << " bindings on the single pass");
  CHECK(tally.failures == 0);
  CHECK(tally.accepted > tally.documents / 4);
  CHECK(tally.declined > tally.documents / 10);
}
