// IncrementalAnalyzer against analyze(): hundreds of random edits (characters,
// lines, whole blocks; breaking and repairing syntax) to the examples and a
// generated config; after each, the incremental result must equal a fresh
// full analysis, diagnostics and bound model alike.
#include "core/analysis.h"

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <optional>
#include <random>
#include <sstream>

#include "support/config_generator.h"

using amct::Analysis;
using amct::AnalysisOptions;
using amct::IncrementalAnalyzer;
using amct::syntax::Document;
using amct::syntax::PositionEncoding;

namespace {

std::string render(const std::vector<amct::Diagnostic>& diagnostics) {
  std::ostringstream out;
  for (const auto& d : diagnostics) {
    out << d.range.start << '-' << d.range.end << ' ' << static_cast<int>(d.severity) << ' ' << d.code << ": "
        << d.message;
    for (const auto& r : d.related) out << " [" << r.range.start << '-' << r.range.end << ' ' << r.message << ']';
    out << '\n';
  }
  return out.str();
}

// The bound model as text: every range, name, descriptor and value.
void render(const amct::model::Message& message, std::ostringstream& out, int depth) {
  out << std::string(depth, ' ') << "msg " << (message.descriptor ? message.descriptor->full_name() : "?") << ' '
      << message.range.start << '-' << message.range.end << " open " << message.open_range.start << '\n';
  for (const auto& field : message.fields) {
    out << std::string(depth + 1, ' ') << field.name << ' ' << (field.descriptor ? field.descriptor->full_name() : "?")
        << ' ' << field.name_range.start << '-' << field.name_range.end << ' ' << field.range.start << '-'
        << field.range.end << (field.has_colon ? " :" : "") << (field.reserved ? " reserved" : "")
        << (field.any_type ? " any" : "") << '\n';
    for (const auto& scalar : field.scalars)
      out << std::string(depth + 2, ' ') << static_cast<int>(scalar.kind) << ' ' << scalar.range.start << '-'
          << scalar.range.end << ' ' << scalar.text << ' ' << scalar.int_value << ' ' << scalar.uint_value << ' '
          << scalar.float_value << ' ' << scalar.string_value << '\n';
    for (const auto& child : field.messages) render(child, out, depth + 2);
  }
}

std::string render(const Analysis& analysis) {
  std::ostringstream out;
  out << analysis.schema_description << '\n';
  if (analysis.bound) {
    render(analysis.bound->root, out, 0);
    out << render(analysis.bound->diagnostics);
  }
  return out.str();
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream contents;
  contents << in.rdbuf();
  return contents.str();
}

// Replaces the bytes [start, end) with `text`, as an editor's range change.
void replace_bytes(Document& document, uint32_t start, uint32_t end, const std::string& text) {
  document.apply_change({amct::syntax::Range{document.position_at(start, PositionEncoding::Utf8),
                                             document.position_at(end, PositionEncoding::Utf8)},
                         text},
                        PositionEncoding::Utf8);
}

// One random edit, as an editor sends it: a range replacement.
void random_edit(Document& document, std::mt19937& random) {
  const std::string& text = document.text();
  const auto size = static_cast<uint32_t>(text.size());
  auto offset = [&](uint32_t limit) { return limit == 0 ? 0u : static_cast<uint32_t>(random() % (limit + 1)); };
  uint32_t start = offset(size), end = start;
  std::string insert;
  static const std::string kPieces[] = {"{", "}", ":", "\"", "\n", " ", "#", "<", ">", "[", "]", ",", ";", "x",
                                        "1", "-", ".", "batch_num: 2\n", "dst_type: INT4 ", "  ", "\"a\"",
                                        "skip_layers: \"conv1\"\n", "override_layer_configs {\n layer_name: \"l\"\n}\n",
                                        "retrain_data_quant_config { ulq_quantize { clip_max_min { clip_max: 1 } } }\n",
                                        // Headers and entries that the AMCT rules judge one by one.
                                        "# soc: Ascend910B2\n", "# amct-api: quant\n", "# soc: Ascend310P3\n",
                                        "override_layer_types {\n layer_type: \"Linear\"\n retrain_weight_quant_config "
                                        "{ arq_retrain { channel_wise: true dst_type: INT4 } }\n}\n",
                                        "override_layer_types { layer_type: \"Conv2d\" prune_config { n_out_of_m_pruner "
                                        "{ l1_selective_prune { n_out_of_m_type: M4N2 } } } }\n",
                                        "override_layer_types { layer_type: \"Conv2d\" }\n",
                                        "override_layer_configs { layer_name: \"l\" retrain_data_quant_config "
                                        "{ ulq_quantize { dst_type: INT4 } } prune_config { filter_pruner { } } }\n",
                                        "quant_skip_types: \"Embedding\"\n", "dst_type: INT16 "};
  switch (random() % 7) {
    case 0:  // type one piece
      insert = kPieces[random() % std::size(kPieces)];
      break;
    case 1:  // delete a few characters
      end = std::min(size, start + 1 + static_cast<uint32_t>(random() % 4));
      break;
    case 2: {  // delete a whole line
      const uint32_t line = document.position_at(start, PositionEncoding::Utf8).line;
      start = document.line_start(line);
      end = std::min(size, document.line_end(line) + 1);
      break;
    }
    case 3: {  // delete a block-sized span
      end = std::min(size, start + static_cast<uint32_t>(random() % 300));
      break;
    }
    case 4: {  // copy a span elsewhere (duplicates, moved blocks)
      const uint32_t from = offset(size);
      insert = text.substr(from, std::min<uint32_t>(size - from, random() % 200));
      break;
    }
    case 5: {  // break a bracket, or repair one
      const size_t bracket = text.find_first_of("{}", start);
      if (bracket != std::string::npos) {
        start = static_cast<uint32_t>(bracket);
        end = start + 1;
      } else {
        insert = "}";
      }
      break;
    }
    default:  // replace a character
      end = std::min(size, start + 1);
      insert = kPieces[random() % 17];
  }
  replace_bytes(document, start, end, insert);
}

struct EditRun {
  int edits = 100;
  uint32_t seed = 1;
  // Also change the settings (SoC, API mode) now and then, between edits.
  bool vary_settings = false;
};

void check_edits(const std::string& name, const std::string& text, const EditRun& run, AnalysisOptions options) {
  Document document(text);
  IncrementalAnalyzer incremental;
  std::mt19937 random(run.seed);
  for (int i = 0; i <= run.edits; ++i) {
    if (i > 0) random_edit(document, random);
    if (run.vary_settings && random() % 8 == 0) {
      static const std::optional<std::string> kSocs[] = {std::nullopt, "Ascend310P3", "Ascend910B2", "Nonsense9"};
      static const std::optional<std::string> kApis[] = {std::nullopt, "quant", "prune", "compressed"};
      options.soc = kSocs[random() % std::size(kSocs)];
      options.api = kApis[random() % std::size(kApis)];
    }
    std::string incremental_diagnostics, incremental_model;
    {
      // First, while the document's tree is not parsed (as in the server):
      // the analyzer may parse only the fields around the edit.
      // Dropped before the next edit, so the analyzer may reuse its model.
      // Every other edit, as the server checks: diagnostics first, the model after.
      std::string early_diagnostics;
      const Analysis partial =
          i % 2 == 0 ? incremental.analyze(document, options)
                     : incremental.analyze(document, options, [&](const std::vector<amct::Diagnostic>& diagnostics) {
                         early_diagnostics = render(diagnostics);
                       });
      incremental_diagnostics = render(partial.diagnostics);
      incremental_model = render(partial);
      if (i % 2 == 1) REQUIRE(early_diagnostics == incremental_diagnostics);
    }
    const Analysis full = amct::analyze(document, options);
    INFO(name << " after edit " << i << ":\n" << document.text());
    REQUIRE(incremental_diagnostics == render(full.diagnostics));
    REQUIRE(incremental_model == render(full));
  }
}

}  // namespace

TEST_CASE("incremental analysis equals a full analysis after random edits to the examples", "[incremental]") {
  int checked = 0;
  for (const auto& entry : std::filesystem::directory_iterator(std::string(AMCT_SOURCE_DIR) + "/examples")) {
    if (entry.path().extension() != ".cfg") continue;
    AnalysisOptions options;
    options.path = entry.path().string();
    check_edits(entry.path().filename().string(), read_file(entry.path().string()),
                {120, static_cast<uint32_t>(std::hash<std::string>{}(entry.path().filename().string())), true}, options);
    ++checked;
  }
  CHECK(checked >= 5);
}

TEST_CASE("incremental analysis equals a full analysis on a generated config", "[incremental]") {
  AnalysisOptions options;
  options.path = "/w/generated.cfg";
  check_edits("generated (60 layers)", amct::bench::generate_config(60, 7), {300, 11, false}, options);
  check_edits("generated (60 layers, settings change)", amct::bench::generate_config(60, 9), {300, 13, true}, options);
  options.soc = "Ascend310P3";
  check_edits("generated (40 layers, SoC)", amct::bench::generate_config(40, 3), {150, 5, false}, options);
  options.soc = std::nullopt;
  options.api = "quant";
  check_edits("generated (40 layers, quant API)", amct::bench::generate_config(40, 4), {150, 6, false}, options);
}

TEST_CASE("incremental analysis re-binds only the top-level fields an edit touches", "[incremental]") {
  AnalysisOptions options;
  options.path = "/w/large.cfg";
  Document document(amct::bench::generate_config(400, 42));
  IncrementalAnalyzer incremental;
  (void)incremental.analyze(document, options);
  const size_t all_units = incremental.last_rebound_units();
  CHECK(all_units > 400);
  // A space typed inside the middle of the file.
  const uint32_t middle = static_cast<uint32_t>(document.text().find("layer_name", document.text().size() / 2));
  replace_bytes(document, middle, middle, " ");
  std::string partial_diagnostics;
  {
    const Analysis partial = incremental.analyze(document, options);
    CHECK(incremental.last_rebound_units() <= 3);
    CHECK(incremental.last_rechecked_entries() <= 1);  // the AMCT rules too re-check the edited entry alone
    partial_diagnostics = render(partial.diagnostics);
    CHECK(partial_diagnostics == render(amct::analyze(document, options).diagnostics));
    // A model still held elsewhere is never changed: the next check binds afresh.
    const Analysis again = incremental.analyze(document, options);
    CHECK(incremental.last_rebound_units() == all_units);
    CHECK(incremental.last_rechecked_entries() > 400);
    CHECK(render(again.diagnostics) == partial_diagnostics);
  }
  (void)incremental.analyze(document, options);  // nothing held, nothing changed: all reused
  CHECK(incremental.last_rechecked_entries() == 0);
  // A setting the entries' verdicts depend on: every entry is checked again.
  options.api = "quant";
  (void)incremental.analyze(document, options);
  CHECK(incremental.last_rechecked_entries() > 400);
}

TEST_CASE("an edit updates the model where it is when nothing else holds it", "[incremental]") {
  AnalysisOptions options;
  options.path = "/w/large.cfg";
  Document document(amct::bench::generate_config(300, 5));
  IncrementalAnalyzer incremental;
  const amct::model::BoundDocument* model = incremental.analyze(document, options).bound.get();
  REQUIRE(model != nullptr);
  const std::string text = document.text();
  struct Edit {
    const char* what;
    uint32_t start, end;
    std::string inserted;
    size_t most_rebound = 3;  // top-level units bound afresh
  };
  const uint32_t block = static_cast<uint32_t>(text.find("override_layer_configs", text.size() / 3));
  const uint32_t block_end = static_cast<uint32_t>(text.find("\noverride_layer_configs", block) + 1);
  const std::vector<Edit> edits = {
      {"a blank near the top", 40, 40, " "},
      {"a digit in the middle", static_cast<uint32_t>(text.find("clip_max: ", text.size() / 2) + 10), 0, "7"},
      // A copy next to itself matches either way: the blocks up to the next
      // distinct bytes are bound again.
      {"a block copied (one more root field)", block, block, text.substr(block, block_end - block), 100},
      {"a block deleted (one fewer)", block, block_end, "", 100},
  };
  for (const Edit& edit : edits) {
    INFO(edit.what);
    replace_bytes(document, edit.start, edit.end == 0 ? edit.start : edit.end, edit.inserted);
    const Analysis analysis = incremental.analyze(document, options);
    CHECK(analysis.bound.get() == model);  // the same object, changed in place
    CHECK(incremental.last_rebound_units() <= edit.most_rebound);
    CHECK(render(analysis) == render(amct::analyze(document, options)));
  }
}

TEST_CASE("edits that keep the syntax intact re-bind only the fields next to them, and equal a full analysis",
          "[incremental][edit-parse]") {
  // The binder then finds the fields around the edit from the tree without
  // walking the root; the shapes here move top-level boundaries: a separator
  // or a second string that joins the field before the edit, blank lines,
  // comments, new fields, removed lines.
  AnalysisOptions options;
  options.path = "/w/clean.cfg";
  Document document(amct::bench::generate_config(80, 21));
  REQUIRE(Document(document.text()).syntax_diagnostics().empty());
  document.apply_change({std::nullopt, "name: \"a\"\n" + document.text() + "\nlast: 1\n"}, PositionEncoding::Utf8);
  IncrementalAnalyzer incremental;
  (void)incremental.analyze(document, options);
  std::mt19937 random(77);
  static const std::string kPieces[] = {" ", "\n", "\n\n", "# note\n", "batch_num: 3\n", " ,", ";", " \"b\"",
                                        "skip_layers: \"x\"\n", "\"c\" "};
  int clean_edits = 0, small_rebinds = 0, region_only = 0;
  for (int i = 0; i < 400; ++i) {
    const std::string& text = document.text();
    uint32_t start = static_cast<uint32_t>(random() % (text.size() + 1));
    uint32_t end = start;
    if (random() % 3 == 0) {  // at the end of a value: where separators and strings join
      const size_t value_end = text.find_first_of("\"0123456789", start);
      if (value_end != std::string::npos) start = end = static_cast<uint32_t>(value_end + 1);
    } else if (random() % 4 == 0) {  // a whole line goes
      const uint32_t line = document.position_at(start, PositionEncoding::Utf8).line;
      start = document.line_start(line);
      end = std::min<uint32_t>(static_cast<uint32_t>(text.size()), document.line_end(line) + 1);
    } else {  // at a line start
      start = end = document.line_start(document.position_at(start, PositionEncoding::Utf8).line);
    }
    const std::string insert = end > start ? "" : kPieces[random() % std::size(kPieces)];
    const std::string before = text;
    replace_bytes(document, start, end, insert);
    // Judged on a copy: the document's own tree stays unparsed, as in the server.
    if (!Document(document.text()).syntax_diagnostics().empty()) {  // undo edits that break the syntax
      document.apply_change({std::nullopt, before}, PositionEncoding::Utf8);
      (void)incremental.analyze(document, options);
      continue;
    }
    ++clean_edits;
    std::string partial_diagnostics, partial_model;
    size_t rebound = 0;
    {
      const Analysis partial = incremental.analyze(document, options);
      rebound = incremental.last_rebound_units();
      region_only += incremental.last_parsed_region_only();
      partial_diagnostics = render(partial.diagnostics);
      partial_model = render(partial);
    }
    const Analysis full = amct::analyze(document, options);
    INFO("edit " << i << " at " << start << ": '" << insert << "'\n" << document.text());
    REQUIRE(partial_diagnostics == render(full.diagnostics));
    REQUIRE(partial_model == render(full));
    small_rebinds += rebound <= 4;
  }
  CHECK(clean_edits > 150);
  CHECK(small_rebinds == clean_edits);  // no clean edit re-bound more than the fields around it
  // Edits that add or remove top-level fields walk the whole tree for the outline.
  CHECK(region_only > clean_edits / 4);
}

TEST_CASE("an edit inside a value is checked from the fields around it, leaving the tree unparsed",
          "[incremental][edit-parse]") {
  AnalysisOptions options;
  options.path = "/w/large.cfg";
  Document document(amct::bench::generate_config(300, 5));
  IncrementalAnalyzer incremental;
  (void)incremental.analyze(document, options);
  auto edit = [&](uint32_t start, uint32_t end, const std::string& text) {
    replace_bytes(document, start, end, text);
    std::string partial;
    {
      std::string early;
      const Analysis analysis = incremental.analyze(
          document, options, [&](const std::vector<amct::Diagnostic>& diagnostics) { early = render(diagnostics); });
      partial = render(analysis.diagnostics) + render(analysis);
      CHECK(early == render(analysis.diagnostics));
    }
    const bool region_only = incremental.last_parsed_region_only();
    CHECK(region_only == !document.is_parsed());
    const Analysis full = amct::analyze(document, options);
    INFO(document.text());
    CHECK(partial == render(full.diagnostics) + render(full));
    return region_only;
  };
  // (The text as it is at each step: a change gives the document a new buffer.)
  auto text = [&]() -> const std::string& { return document.text(); };
  const uint32_t value = static_cast<uint32_t>(text().find("clip_max: ", text().size() / 2) + 10);
  CHECK(edit(value, value + 1, "7"));                // a digit
  CHECK(edit(value, value, "-"));                    // a sign
  const uint32_t number_end = static_cast<uint32_t>(text().find('\n', value));
  CHECK(edit(value, number_end, "wide"));            // an identifier: a type error, no syntax error
  CHECK(edit(value, value + 4, "0.25"));
  const uint32_t name = static_cast<uint32_t>(text().find("layer_name: \"", text().size() / 3) + 13);
  CHECK(edit(name, name, "renamed_"));               // a layer name: the AMCT rules see it
  // Invalid UTF-8 in a string parses cleanly but is a syntax diagnostic: the
  // whole tree, and the whole tree again for its repair.
  CHECK_FALSE(edit(name, name, "\xC3"));
  CHECK_FALSE(edit(name, name + 1, ""));
  CHECK(edit(name, name, "x"));
  // A syntax error needs the whole tree (its diagnostics come from it), and so
  // does the next edit, which repairs it.
  CHECK_FALSE(edit(value, value, "{"));
  CHECK_FALSE(edit(value, value + 1, ""));
  CHECK(edit(value, value + 1, "9"));
  // A new top-level field changes the outline: the whole tree is walked.
  const uint32_t line = static_cast<uint32_t>(text().find("\noverride_layer_configs", text().size() / 2) + 1);
  CHECK_FALSE(edit(line, line, "batch_num: 4\n"));
  CHECK(edit(line + 11, line + 12, "5"));          // its value, once it is there
  // Fields sharing a line: the region must end where a line starts (a
  // comment or a name typed before a field on its line would run into it).
  CHECK_FALSE(edit(line + 12, line + 13, " skip_layers: \"a\" skip_layers: \"b\"\n"));
  CHECK_FALSE(edit(line + 11, line + 12, "6"));
}

TEST_CASE("incremental AMCT check: typing, deleting and copying override blocks update the entries in place",
          "[incremental][amct]") {
  AnalysisOptions options;
  options.path = "/w/large.cfg";
  Document document(amct::bench::generate_config(200, 42));
  IncrementalAnalyzer incremental;
  (void)incremental.analyze(document, options);
  const auto check = [&](const char* what, bool in_place) {
    INFO(what);
    std::string partial;
    {
      const Analysis analysis = incremental.analyze(document, options);
      partial = render(analysis.diagnostics);
    }
    CHECK(incremental.last_updated_entries_in_place() == in_place);
    CHECK(partial == render(amct::analyze(document, options).diagnostics));
  };
  const auto block_at = [&](size_t nth) {  // the nth override_layer_configs block, with its line end
    size_t at = 0;
    for (size_t i = 0; i <= nth; ++i) at = document.text().find("override_layer_configs", at + 1);
    const size_t next = document.text().find("\noverride_", at);
    return std::pair<uint32_t, uint32_t>(static_cast<uint32_t>(at), static_cast<uint32_t>(next + 1));
  };
  // lsp_bench's edit: before every entry, moving all of them.
  const uint32_t batch = static_cast<uint32_t>(document.text().find("batch_num"));
  replace_bytes(document, batch, batch, " ");
  check("a space before batch_num", true);
  CHECK(incremental.last_rechecked_entries() == 0);
  replace_bytes(document, batch, batch + 1, "");
  check("and removed", true);
  // A block deleted: the later entries move up.
  auto [start, end] = block_at(30);
  const std::string block = document.text().substr(start, end - start);
  replace_bytes(document, start, end, "");
  check("a block deleted", true);
  // Copied twice further on: duplicate-override across entries.
  std::tie(start, end) = block_at(60);
  replace_bytes(document, start, start, block + block);
  check("a block copied twice", true);
  CHECK(incremental.last_rechecked_entries() == 2);
  // A layer name changed to another entry's.
  std::tie(start, end) = block_at(5);
  const size_t quote = document.text().find('"', start);
  replace_bytes(document, static_cast<uint32_t>(quote + 1), static_cast<uint32_t>(quote + 1), "x");
  check("a layer name typed into", true);
  // With the previous model still held, every field is bound and every entry extracted again.
  const Analysis held = incremental.analyze(document, options);
  const Analysis again = incremental.analyze(document, options);
  CHECK(incremental.last_rechecked_entries() > 200);
  CHECK(render(again.diagnostics) == render(held.diagnostics));
}

// The analyzer keeps the previous outline (headers, top-level names) across
// edits that cannot change it. On a file that is not `.cfg`, the top-level
// names choose the schema and `# soc:` the rules: each edit below that does
// change them would give other diagnostics if the outline were kept wrongly.
TEST_CASE("incremental analysis keeps the outline only across edits that cannot change it", "[incremental]") {
  AnalysisOptions options;
  options.path = "/w/config.txt";
  Document document(
      "# soc: Ascend310P3\n"
      "\n"
      "override_layer_configs {\n"
      "  layer_name: \"l\"\n"
      "  retrain_data_quant_config { ulq_quantize { dst_type: INT4 } }\n"
      "}\n"
      "# soc: Ascend910B2\n");
  IncrementalAnalyzer incremental;
  (void)incremental.analyze(document, options);
  struct Edit {
    const char* what;
    std::string find;     // replace the first occurrence of this...
    std::string replace;  // ...by this
    bool reused;
  };
  const Edit edits[] = {
      {"a blank at a line's start", "override_layer_configs {", " override_layer_configs {", true},
      {"a blank removed again", " override_layer_configs {", "override_layer_configs {", true},
      {"a character inside a nested message", "dst_type: INT4", "dst_type: INT8", true},
      {"blanks inside a message", "layer_name: \"l\"\n  retrain", "layer_name: \"l\"\n    retrain", true},
      {"a top-level name renamed (no AMCT names left: no schema)", "override_layer_configs", "overrixde_layer_configs", false},
      {"the name restored", "overrixde_layer_configs", "override_layer_configs", false},
      {"a header's value (the last `# soc:` wins)", "Ascend910B2", "Nonsense9", false},
      {"the header's value back", "Nonsense9", "Ascend910B2", false},
      {"a blank in a header", "# soc: Ascend310P3", "#  soc: Ascend310P3", false},
      {"a blank that splits a top-level name", "override_layer_configs", "override_layer _configs", false},
      {"the name joined again", "override_layer _configs", "override_layer_configs", false},
      {"a character inside a string", "layer_name: \"l\"", "layer_name: \"lx\"", false},
      {"the block's brace removed", "INT8 } }\n}", "INT8 } }\n", false},
      {"the brace back", "INT8 } }\n", "INT8 } }\n}", false},
      {"an edit inside a message after the headers moved", "dst_type: INT8", "dst_type: INT4", true},
  };
  for (const Edit& edit : edits) {
    const std::string& text = document.text();
    const size_t at = text.find(edit.find);
    REQUIRE(at != std::string::npos);
    replace_bytes(document, static_cast<uint32_t>(at), static_cast<uint32_t>(at + edit.find.size()), edit.replace);
    INFO(edit.what << ":\n" << document.text());
    const Analysis full = amct::analyze(document, options);
    const Analysis partial = incremental.analyze(document, options);
    CHECK(incremental.last_reused_outline() == edit.reused);
    REQUIRE(render(partial.diagnostics) == render(full.diagnostics));
    REQUIRE(render(partial) == render(full));
  }
}
