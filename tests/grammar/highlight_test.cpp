// Checks grammar/queries/highlights.scm against the assertion comments in
// grammar/test/highlight/* with the compiled parser and the tree-sitter query
// API, so the project's tests do not depend on the tree-sitter CLI.
//
// Assertions follow `tree-sitter test` (crates/cli/src/query_testing.rs):
// a comment `# ^ name` asserts the capture at the caret's column on the
// nearest line above that is neither an assertion line nor too short; `^^^`
// covers several columns (any of them may match); `# <- name` asserts the
// column where the comment starts; `!name` negates. The capture at a
// position is the innermost captured node there, as in tree-sitter-highlight.
//
// Stricter than the CLI: a node captured with two different names, or two
// nodes with the same range and different names, fail the test (editors
// disagree on which pattern wins), and every capture name of the query must
// be asserted somewhere.
#include <regex.h>

#include <catch2/catch.hpp>

#include <algorithm>
#include <cctype>
#include <map>
#include <optional>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "grammar/grammar_support.h"

namespace amct::test::grammar {
namespace {

struct QueryDeleter {
  void operator()(TSQuery* query) const { ts_query_delete(query); }
};
struct CursorDeleter {
  void operator()(TSQueryCursor* cursor) const { ts_query_cursor_delete(cursor); }
};
using QueryPtr = std::unique_ptr<TSQuery, QueryDeleter>;

QueryPtr load_query(const std::string& file_name) {
  const std::string source = read_file(grammar_dir() / "queries" / file_name);
  uint32_t error_offset = 0;
  TSQueryError error = TSQueryErrorNone;
  QueryPtr query(ts_query_new(tree_sitter_textproto(), source.data(), static_cast<uint32_t>(source.size()),
                              &error_offset, &error));
  INFO(file_name << ": query error " << static_cast<int>(error) << " at byte " << error_offset << ": "
                 << source.substr(error_offset, 40));
  REQUIRE(query != nullptr);
  return query;
}

std::string capture_name(const TSQuery* query, uint32_t index) {
  uint32_t length = 0;
  const char* name = ts_query_capture_name_for_id(query, index, &length);
  return std::string(name, length);
}

std::string string_value(const TSQuery* query, uint32_t id) {
  uint32_t length = 0;
  const char* value = ts_query_string_value_for_id(query, id, &length);
  return std::string(value, length);
}

std::string_view node_text(TSNode node, std::string_view source) {
  return source.substr(ts_node_start_byte(node), ts_node_end_byte(node) - ts_node_start_byte(node));
}

// POSIX extended regular expressions: the same as the CLI's Rust regex for the
// anchors, groups, alternations and classes the queries use.
bool regex_matches(const std::string& pattern, std::string_view text) {
  regex_t compiled;
  INFO("regular expression: " << pattern);
  REQUIRE(regcomp(&compiled, pattern.c_str(), REG_EXTENDED | REG_NOSUB) == 0);
  const bool matches = regexec(&compiled, std::string(text).c_str(), 0, nullptr, 0) == 0;
  regfree(&compiled);
  return matches;
}

// Evaluates the text predicates of a match (the C API leaves them to callers).
// Unknown predicates fail the test: silently ignoring one would test a
// different query than editors run.
bool predicates_hold(const TSQuery* query, const TSQueryMatch& match, std::string_view source) {
  uint32_t step_count = 0;
  const TSQueryPredicateStep* steps = ts_query_predicates_for_pattern(query, match.pattern_index, &step_count);
  auto captured_text = [&](uint32_t capture_id) -> std::optional<std::string_view> {
    for (uint16_t i = 0; i < match.capture_count; ++i)
      if (match.captures[i].index == capture_id) return node_text(match.captures[i].node, source);
    return std::nullopt;
  };
  for (uint32_t begin = 0; begin < step_count;) {
    uint32_t end = begin;
    while (end < step_count && steps[end].type != TSQueryPredicateStepTypeDone) ++end;
    const std::vector<TSQueryPredicateStep> args(steps + begin + 1, steps + end);
    const std::string name = string_value(query, steps[begin].value_id);
    begin = end + 1;
    REQUIRE(!args.empty());
    REQUIRE(args[0].type == TSQueryPredicateStepTypeCapture);
    const auto text = captured_text(args[0].value_id);
    if (!text) continue;
    auto argument_text = [&](const TSQueryPredicateStep& step) -> std::string {
      if (step.type == TSQueryPredicateStepTypeString) return string_value(query, step.value_id);
      return std::string(captured_text(step.value_id).value_or(""));
    };
    bool holds = false;
    if (name == "match?" || name == "not-match?") {
      REQUIRE(args.size() == 2);
      holds = regex_matches(argument_text(args[1]), *text) == (name == "match?");
    } else if (name == "eq?" || name == "not-eq?") {
      REQUIRE(args.size() == 2);
      holds = (*text == argument_text(args[1])) == (name == "eq?");
    } else if (name == "any-of?" || name == "not-any-of?") {
      bool any = false;
      for (size_t i = 1; i < args.size(); ++i) any = any || *text == argument_text(args[i]);
      holds = any == (name == "any-of?");
    } else {
      FAIL("unsupported query predicate #" << name);
    }
    if (!holds) return false;
  }
  return true;
}

struct Highlight {
  uint32_t start = 0;  // byte range of the captured node
  uint32_t end = 0;
  std::string name;
};

// One highlight per captured node; conflicting captures fail the test.
std::vector<Highlight> highlights(const TSQuery* query, TSNode root, std::string_view source) {
  std::unique_ptr<TSQueryCursor, CursorDeleter> cursor(ts_query_cursor_new());
  ts_query_cursor_exec(cursor.get(), query, root);
  std::map<std::pair<uint32_t, uint32_t>, std::string> by_range;
  std::map<const void*, std::string> by_node;
  TSQueryMatch match;
  while (ts_query_cursor_next_match(cursor.get(), &match)) {
    if (!predicates_hold(query, match, source)) continue;
    for (uint16_t i = 0; i < match.capture_count; ++i) {
      const TSNode node = match.captures[i].node;
      const std::string name = capture_name(query, match.captures[i].index);
      if (name.starts_with('_')) continue;
      const std::pair range{ts_node_start_byte(node), ts_node_end_byte(node)};
      INFO("node " << ts_node_type(node) << " '" << node_text(node, source) << "' at byte " << range.first);
      auto [node_entry, new_node] = by_node.emplace(node.id, name);
      CHECK((new_node || node_entry->second == name));
      auto [range_entry, new_range] = by_range.emplace(range, name);
      CHECK((new_range || range_entry->second == name));
    }
  }
  std::vector<Highlight> result;
  for (const auto& [range, name] : by_range)
    if (range.second > range.first) result.push_back({range.first, range.second, name});
  return result;
}

// The innermost highlight covering `byte`, or nullptr.
const Highlight* highlight_at(const std::vector<Highlight>& all, uint32_t byte) {
  const Highlight* innermost = nullptr;
  for (const Highlight& h : all)
    if (h.start <= byte && byte < h.end && (!innermost || h.end - h.start < innermost->end - innermost->start))
      innermost = &h;
  return innermost;
}

struct Assertion {
  uint32_t row = 0;
  uint32_t column = 0;  // in code points
  uint32_t length = 1;  // number of carets
  bool negative = false;
  std::string capture;
  uint32_t comment_row = 0;  // where the assertion was written, for messages
};

struct SourceLines {
  explicit SourceLines(std::string_view text) : text(text) {
    size_t begin = 0;
    while (begin <= text.size()) {
      size_t newline = text.find('\n', begin);
      if (newline == std::string_view::npos) {
        starts.push_back(static_cast<uint32_t>(begin));
        ends.push_back(static_cast<uint32_t>(text.size()));
        break;
      }
      starts.push_back(static_cast<uint32_t>(begin));
      ends.push_back(static_cast<uint32_t>(newline));
      begin = newline + 1;
    }
  }
  // Byte offset of code point `column` of `row`, or nullopt past the line's end.
  std::optional<uint32_t> byte_at(uint32_t row, uint32_t column) const {
    uint32_t byte = starts[row];
    for (uint32_t seen = 0; byte < ends[row]; ++byte) {
      if ((static_cast<unsigned char>(text[byte]) & 0xC0) == 0x80) continue;
      if (seen++ == column) return byte;
    }
    return std::nullopt;
  }
  uint32_t code_points(uint32_t row) const {
    uint32_t count = 0;
    for (uint32_t byte = starts[row]; byte < ends[row]; ++byte)
      count += (static_cast<unsigned char>(text[byte]) & 0xC0) != 0x80;
    return count;
  }
  std::string_view text;
  std::vector<uint32_t> starts, ends;
};

uint32_t code_point_count(std::string_view text) {
  uint32_t count = 0;
  for (char c : text) count += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return count;
}

void collect_comments(TSNode node, std::vector<TSNode>& comments) {
  if (std::string_view(ts_node_type(node)).find("comment") != std::string_view::npos) comments.push_back(node);
  for (uint32_t i = 0; i < ts_node_child_count(node); ++i) collect_comments(ts_node_child(node, i), comments);
}

std::vector<Assertion> read_assertions(TSNode root, std::string_view source, const SourceLines& lines) {
  std::vector<TSNode> comments;
  collect_comments(root, comments);
  std::vector<Assertion> assertions;
  std::set<uint32_t> assertion_rows;
  for (const TSNode comment : comments) {
    const TSPoint start = ts_node_start_point(comment);
    if (start.row == 0) continue;
    const std::string_view text = node_text(comment, source);
    const uint32_t comment_column = code_point_count(source.substr(lines.starts[start.row], start.column));
    Assertion assertion;
    assertion.row = start.row;
    assertion.comment_row = start.row;
    assertion.column = comment_column;
    size_t after_arrow = std::string_view::npos;
    for (size_t i = 0; i < text.size(); ++i) {
      if (text[i] == '-' && i > 0 && text[i - 1] == '<') {
        after_arrow = i + 1;
        break;
      }
      if (text[i] == '^') {
        assertion.column += code_point_count(text.substr(0, i));
        size_t carets = text.find_first_not_of('^', i);
        if (carets == std::string_view::npos) carets = text.size();
        assertion.length = static_cast<uint32_t>(carets - i);
        after_arrow = carets;
        break;
      }
    }
    if (after_arrow == std::string_view::npos) continue;
    std::string rest(text.substr(after_arrow));
    const size_t first = rest.find_first_not_of(" \t");
    if (first != std::string::npos && rest[first] == '!') {
      assertion.negative = true;
      rest = rest.substr(first + 1);
    }
    // The capture name is the first run of [\w\-.] characters after the arrow.
    auto in_name = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.'; };
    const auto name_begin = std::find_if(rest.begin(), rest.end(), in_name);
    if (name_begin == rest.end()) continue;
    assertion.capture = std::string(name_begin, std::find_if_not(name_begin, rest.end(), in_name));
    assertions.push_back(assertion);
    assertion_rows.insert(start.row);
  }
  // Point each assertion at the nearest line above that is not an assertion
  // line and is long enough to have the asserted column.
  for (Assertion& assertion : assertions) {
    while (assertion_rows.count(assertion.row) || lines.code_points(assertion.row) <= assertion.column) {
      INFO("assertion for '" << assertion.capture << "' on line " << assertion.comment_row + 1
                             << " has no line above to refer to");
      REQUIRE(assertion.row > 0);
      --assertion.row;
    }
  }
  return assertions;
}

struct FileResult {
  int assertions = 0;
  std::set<std::string> asserted_captures;
};

FileResult check_highlight_file(const TSQuery* query, const std::filesystem::path& path) {
  const std::string source = read_file(path);
  const TreePtr tree = parse(source);
  const TSNode root = ts_tree_root_node(tree.get());
  INFO(path.filename().string());
  CHECK_FALSE(ts_node_has_error(root));
  const SourceLines lines(source);
  const std::vector<Highlight> all = highlights(query, root, source);
  FileResult result;
  for (const Assertion& assertion : read_assertions(root, source, lines)) {
    std::vector<std::string> actual;
    bool passed = false;
    for (uint32_t column = assertion.column; column < assertion.column + assertion.length; ++column) {
      const auto byte = lines.byte_at(assertion.row, column);
      const Highlight* h = byte ? highlight_at(all, *byte) : nullptr;
      if (!h) continue;
      actual.push_back(h->name);
      if ((h->name == assertion.capture) != assertion.negative) passed = true;
    }
    INFO(path.filename().string() << ":" << assertion.comment_row + 1 << ": expected "
                                  << (assertion.negative ? "not " : "") << "'" << assertion.capture
                                  << "' at line " << assertion.row + 1 << ", column " << assertion.column + 1
                                  << "; actual: " << (actual.empty() ? std::string("none") : actual.front()));
    CHECK(passed);
    ++result.assertions;
    if (!assertion.negative) result.asserted_captures.insert(assertion.capture);
  }
  CHECK(result.assertions > 0);
  return result;
}

std::set<std::string> capture_names(const TSQuery* query) {
  std::set<std::string> names;
  for (uint32_t i = 0; i < ts_query_capture_count(query); ++i) names.insert(capture_name(query, i));
  return names;
}

}  // namespace

TEST_CASE("highlights.scm passes every assertion of grammar/test/highlight", "[grammar]") {
  const QueryPtr query = load_query("highlights.scm");
  const auto files = files_in(grammar_dir() / "test" / "highlight");
  REQUIRE_FALSE(files.empty());
  std::set<std::string> asserted;
  int assertions = 0;
  for (const auto& file : files) {
    const FileResult result = check_highlight_file(query.get(), file);
    assertions += result.assertions;
    asserted.insert(result.asserted_captures.begin(), result.asserted_captures.end());
  }
  // Every capture the query can produce is pinned by some positive assertion.
  for (const std::string& name : capture_names(query.get())) {
    INFO("no highlight test asserts @" << name);
    CHECK(asserted.count(name) == 1);
  }
  CHECK(assertions >= 100);
}

TEST_CASE("highlight assertions fail when the capture differs", "[grammar]") {
  const QueryPtr query = load_query("highlights.scm");
  const auto dir = std::filesystem::temp_directory_path() / "amct-highlight-test";
  std::filesystem::create_directories(dir);
  const auto file = dir / "wrong.textproto";
  {
    std::ofstream out(file, std::ios::binary);
    out << "a: 1\n#  ^ string\n";
  }
  const std::string source = read_file(file);
  const TreePtr tree = parse(source);
  const SourceLines lines(source);
  const auto assertions = read_assertions(ts_tree_root_node(tree.get()), source, lines);
  REQUIRE(assertions.size() == 1);
  CHECK(assertions[0].row == 0);
  CHECK(assertions[0].column == 3);
  const auto all = highlights(query.get(), ts_tree_root_node(tree.get()), source);
  const Highlight* at_value = highlight_at(all, *lines.byte_at(0, 3));
  REQUIRE(at_value != nullptr);
  CHECK(at_value->name == "number");
  CHECK(at_value->name != assertions[0].capture);
  std::filesystem::remove_all(dir);
}

TEST_CASE("highlights.scm uses nvim-treesitter capture names", "[grammar]") {
  // From nvim-treesitter's CONTRIBUTING.md (the names this grammar can use).
  const std::set<std::string> standard = {
      "comment",          "keyword",      "keyword.directive",     "string",          "string.escape",
      "string.special",   "string.special.url", "property",        "type",            "number",
      "number.float",     "boolean",      "constant",              "constant.builtin", "operator",
      "punctuation.bracket", "punctuation.delimiter", "variable.member", "spell"};
  const QueryPtr query = load_query("highlights.scm");
  for (const std::string& name : capture_names(query.get())) {
    INFO("@" << name);
    CHECK(standard.count(name) == 1);
  }
}

TEST_CASE("folds.scm and indents.scm compile and capture blocks", "[grammar]") {
  const std::string source = "a {\n  b: [1,\n    2]\n  c [{}, <>]\n}\n";
  const TreePtr tree = parse(source);
  const QueryPtr folds = load_query("folds.scm");
  std::unique_ptr<TSQueryCursor, CursorDeleter> cursor(ts_query_cursor_new());
  ts_query_cursor_exec(cursor.get(), folds.get(), ts_tree_root_node(tree.get()));
  std::multiset<std::string> folded;
  TSQueryMatch match;
  while (ts_query_cursor_next_match(cursor.get(), &match))
    for (uint16_t i = 0; i < match.capture_count; ++i) folded.insert(ts_node_type(match.captures[i].node));
  CHECK(folded == std::multiset<std::string>{"message", "message", "message", "message_list", "scalar_list"});

  const QueryPtr indents = load_query("indents.scm");
  const auto names = capture_names(indents.get());
  CHECK(names == std::set<std::string>{"indent.auto", "indent.begin", "indent.branch", "indent.end"});
}

}  // namespace amct::test::grammar
