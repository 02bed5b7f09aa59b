// Runs grammar/test/corpus/*.txt against the compiled parser, so the project's
// own test command checks the grammar without the tree-sitter CLI. Reads the
// corpus format the way `tree-sitter test` does (crates/cli/src/test.rs):
//  - a header is a line of 3+ '=', name lines (then `:error`/`:skip` marker
//    lines), and another line of 3+ '='; the input runs from the end of the
//    header to the longest line of 3+ '-' (the last one if several are as
//    long), minus the newline before that divider;
//  - the expected tree loses `;` comment lines and has its whitespace
//    collapsed; field names (`name: (`) are compared only when the expected
//    tree has some;
//  - `:error` cases pass when the tree has an ERROR or MISSING node.
#include <catch2/catch.hpp>

#include <string>
#include <string_view>
#include <vector>

#include "grammar/grammar_support.h"

namespace amct::test::grammar {
namespace {

struct CorpusCase {
  std::string file;
  int line = 0;  // 1-based line of the case's first header line
  std::string name;
  std::string input;
  std::string expected;  // normalized S-expression; empty for `:error` cases
  bool expect_error = false;
  bool skip = false;
};

struct Line {
  std::string_view text;  // without the line terminator
  size_t begin = 0;       // byte offset of the line
  size_t end = 0;         // byte offset after its terminator
};

std::vector<Line> split_lines(std::string_view text) {
  std::vector<Line> lines;
  size_t begin = 0;
  while (begin < text.size()) {
    size_t newline = text.find('\n', begin);
    size_t end = newline == std::string_view::npos ? text.size() : newline + 1;
    std::string_view content = text.substr(begin, (newline == std::string_view::npos ? end : newline) - begin);
    if (!content.empty() && content.back() == '\r') content.remove_suffix(1);
    lines.push_back({content, begin, end});
    begin = end;
  }
  return lines;
}

bool is_rule(std::string_view line, char c) {
  return line.size() >= 3 && line.find_first_not_of(c) == std::string_view::npos;
}

std::string collapse_whitespace(std::string_view text) {
  std::string out;
  bool pending_space = false;
  for (char c : text) {
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v') {
      pending_space = !out.empty();
      continue;
    }
    if (pending_space) out += ' ';
    pending_space = false;
    out += c;
  }
  return out;
}

std::string replace_all(std::string_view text, std::string_view from, std::string_view to) {
  std::string out;
  size_t done = 0;
  for (size_t at = text.find(from); at != std::string_view::npos; at = text.find(from, done)) {
    out.append(text.substr(done, at - done));
    out.append(to);
    done = at + from.size();
  }
  out.append(text.substr(done));
  return out;
}

std::string normalize_expected(std::string_view output) {
  std::string without_comments;
  for (const Line& line : split_lines(output)) {
    const size_t first = line.text.find_first_not_of(" \t");
    if (first != std::string_view::npos && line.text[first] == ';') continue;
    without_comments.append(line.text);
    without_comments += '\n';
  }
  return replace_all(collapse_whitespace(without_comments), " )", ")");
}

bool is_word_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

// Length of a field label ` \w+: (` at `at` minus its final '(' (0 if none);
// the CLI's SEXP_FIELD_REGEX.
size_t field_label_length(std::string_view sexp, size_t at) {
  if (sexp[at] != ' ') return 0;
  size_t end = at + 1;
  while (end < sexp.size() && is_word_char(sexp[end])) ++end;
  if (end == at + 1 || sexp.substr(end, 3) != ": (") return 0;
  return end + 2 - at;
}

bool has_field_labels(std::string_view sexp) {
  for (size_t at = 0; at < sexp.size(); ++at)
    if (field_label_length(sexp, at) > 0) return true;
  return false;
}

std::string strip_fields(std::string_view sexp) {
  std::string out;
  for (size_t at = 0; at < sexp.size();) {
    if (const size_t length = field_label_length(sexp, at); length > 0) {
      out += ' ';
      at += length;
    } else {
      out += sexp[at++];
    }
  }
  return out;
}

std::vector<CorpusCase> read_corpus(std::string_view text, const std::string& file) {
  const std::vector<Line> lines = split_lines(text);
  struct Header {
    size_t first_line;
    size_t begin;  // byte offset where the header starts
    size_t end;    // byte offset after its closing rule
    std::string name;
    bool error = false;
    bool skip = false;
  };
  std::vector<Header> headers;
  for (size_t i = 0; i < lines.size(); ++i) {
    if (!is_rule(lines[i].text, '=')) continue;
    size_t j = i + 1;
    while (j < lines.size() && !lines[j].text.empty() && lines[j].text[0] != '=') ++j;
    if (j == i + 1 || j >= lines.size() || !is_rule(lines[j].text, '=')) continue;
    Header header{i, lines[i].begin, lines[j].end, {}, false, false};
    bool seen_marker = false;
    for (size_t k = i + 1; k < j; ++k) {
      std::string trimmed = collapse_whitespace(lines[k].text);
      if (trimmed == ":error") {
        header.error = seen_marker = true;
      } else if (trimmed == ":skip") {
        header.skip = seen_marker = true;
      } else if (!trimmed.empty() && trimmed[0] == ':') {
        seen_marker = true;  // other markers (:platform, :language, ...) do not apply here
      } else if (!seen_marker) {
        if (!header.name.empty()) header.name += '\n';
        header.name += std::string(lines[k].text);
      }
    }
    headers.push_back(std::move(header));
    i = j;
  }

  std::vector<CorpusCase> cases;
  for (size_t h = 0; h < headers.size(); ++h) {
    const size_t body_begin = headers[h].end;
    const size_t body_end = h + 1 < headers.size() ? headers[h + 1].begin : text.size();
    // The longest divider line wins; among equally long ones, the last.
    const Line* divider = nullptr;
    for (const Line& line : lines) {
      if (line.begin < body_begin || line.end > body_end) continue;
      if (!is_rule(line.text, '-') || line.end == line.begin + line.text.size()) continue;  // needs a newline
      if (!divider || line.end - line.begin >= divider->end - divider->begin) divider = &line;
    }
    CorpusCase c;
    c.file = file;
    c.line = static_cast<int>(headers[h].first_line) + 1;
    c.name = headers[h].name;
    c.expect_error = headers[h].error && !headers[h].skip;
    c.skip = headers[h].skip;
    if (!divider) {
      FAIL_CHECK(file << ":" << c.line << ": case '" << c.name << "' has no '---' divider");
      continue;
    }
    c.input = std::string(text.substr(body_begin, divider->begin - body_begin));
    if (!c.input.empty()) c.input.pop_back();
    if (!c.input.empty() && c.input.back() == '\r') c.input.pop_back();
    c.expected = normalize_expected(text.substr(divider->end, body_end - divider->end));
    cases.push_back(std::move(c));
  }
  return cases;
}

struct CaseResult {
  bool passed = false;
  std::string actual;
};

CaseResult run_case(const CorpusCase& c) {
  const TreePtr tree = parse(c.input);
  const TSNode root = ts_tree_root_node(tree.get());
  CaseResult result;
  result.actual = node_sexp(root);
  if (c.expect_error) {
    result.passed = ts_node_has_error(root);
    return result;
  }
  if (!has_field_labels(c.expected)) result.actual = strip_fields(result.actual);
  result.passed = result.actual == c.expected;
  return result;
}

std::vector<CorpusCase> read_all_corpus_files() {
  std::vector<CorpusCase> all;
  for (const auto& path : files_in(grammar_dir() / "test" / "corpus", ".txt")) {
    auto cases = read_corpus(read_file(path), path.filename().string());
    all.insert(all.end(), cases.begin(), cases.end());
  }
  return all;
}

}  // namespace

TEST_CASE("corpus reader splits cases like tree-sitter test", "[grammar]") {
  const std::string corpus =
      "=====\n"
      "First case\n"
      "=====\n"
      "\n"
      "a: 1\n"
      "---\n"
      "\n"
      "; a comment line\n"
      "(source_file\n"
      "  (field name: (field_name (identifier))\n"
      "    value: (integer)\n"
      "  )\n"
      ")\n"
      "\n"
      "===\n"
      "Second case\n"
      ":error\n"
      "===\n"
      "a 1\n"
      "---\n"
      "-----\n"
      "\n";
  const auto cases = read_corpus(corpus, "inline");
  REQUIRE(cases.size() == 2);
  CHECK(cases[0].name == "First case");
  CHECK(cases[0].input == "\na: 1");  // the blank line after the header is part of the input
  CHECK(cases[0].expected == "(source_file (field name: (field_name (identifier)) value: (integer)))");
  CHECK_FALSE(cases[0].expect_error);
  CHECK(cases[1].name == "Second case");
  CHECK(cases[1].expect_error);
  CHECK(cases[1].input == "a 1\n---");  // the longest divider wins
  CHECK(cases[1].expected.empty());
}

TEST_CASE("corpus runner fails wrong expectations", "[grammar]") {
  CorpusCase right{"inline", 1, "right", "a: 1", "(source_file (field (field_name (identifier)) (integer)))"};
  CHECK(run_case(right).passed);

  CorpusCase with_fields = right;
  with_fields.expected = "(source_file (field name: (field_name (identifier)) value: (integer)))";
  CHECK(run_case(with_fields).passed);

  CorpusCase wrong_field = right;
  wrong_field.expected = "(source_file (field key: (field_name (identifier)) value: (integer)))";
  CHECK_FALSE(run_case(wrong_field).passed);

  CorpusCase wrong_tree = right;
  wrong_tree.expected = "(source_file (field (field_name (identifier)) (float)))";
  CHECK_FALSE(run_case(wrong_tree).passed);

  CorpusCase error_expected_but_valid = right;
  error_expected_but_valid.expected.clear();
  error_expected_but_valid.expect_error = true;
  CHECK_FALSE(run_case(error_expected_but_valid).passed);

  CorpusCase error_expected = error_expected_but_valid;
  error_expected.input = "a 1";
  CHECK(run_case(error_expected).passed);
}

TEST_CASE("corpus covers every area of the text format", "[grammar]") {
  const auto cases = read_all_corpus_files();
  for (const char* file : {"comments.txt", "headers.txt", "fields.txt", "messages.txt", "lists.txt",
                           "strings.txt", "numbers.txt", "rejected.txt", "recovery.txt"}) {
    INFO(file);
    CHECK(std::any_of(cases.begin(), cases.end(), [&](const CorpusCase& c) { return c.file == file; }));
  }
}

TEST_CASE("every grammar/test/corpus case parses to its expected tree", "[grammar]") {
  const auto cases = read_all_corpus_files();
  REQUIRE(cases.size() > 100);
  int checked = 0;
  for (const CorpusCase& c : cases) {
    if (c.skip) continue;
    const CaseResult result = run_case(c);
    INFO(c.file << ":" << c.line << ": " << c.name);
    INFO("input:\n" << c.input);
    if (c.expect_error) {
      INFO("expected an ERROR or MISSING node, got " << result.actual);
      CHECK(result.passed);
    } else {
      INFO("expected: " << c.expected);
      INFO("actual:   " << result.actual);
      CHECK(result.passed);
    }
    ++checked;
  }
  CHECK(checked == static_cast<int>(cases.size()));
}

// Kept out of the corpus files: editors and git settings rewrite '\r'.
TEST_CASE("CRLF line endings parse like LF, header values exclude the CR", "[grammar]") {
  const std::string lf = "# soc: Ascend310P3\n# amct-api: quant\nbatch_num: 2 # c\nm {\n  s: \"x\"\n}\n";
  std::string crlf;
  for (char c : lf) crlf += c == '\n' ? std::string("\r\n") : std::string(1, c);
  const TreePtr lf_tree = parse(lf);
  const TreePtr crlf_tree = parse(crlf);
  const TSNode root = ts_tree_root_node(crlf_tree.get());
  CHECK(node_sexp(root) == node_sexp(ts_tree_root_node(lf_tree.get())));
  CHECK_FALSE(ts_node_has_error(root));
  const TSNode value = ts_node_child_by_field_name(ts_node_named_child(root, 0), "value", 5);
  REQUIRE_FALSE(ts_node_is_null(value));
  CHECK(crlf.substr(ts_node_start_byte(value), ts_node_end_byte(value) - ts_node_start_byte(value)) == "Ascend310P3");
}

}  // namespace amct::test::grammar
