#pragma once
// Helpers shared by the grammar tests: the compiled textproto parser (no CLI),
// file reading, and the grammar's directories in the source tree.
#include <tree_sitter/api.h>

#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

extern "C" const TSLanguage* tree_sitter_textproto(void);

namespace amct::test::grammar {

inline std::filesystem::path grammar_dir() { return std::filesystem::path(AMCT_SOURCE_DIR) / "grammar"; }

inline std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  REQUIRE(in.good());
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// Regular files directly in `dir`, sorted by name (as the CLI orders them).
inline std::vector<std::filesystem::path> files_in(const std::filesystem::path& dir,
                                                   std::string_view extension = {}) {
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    const auto name = entry.path().filename().string();
    if (!entry.is_regular_file() || name.starts_with('.')) continue;
    if (!extension.empty() && entry.path().extension() != extension) continue;
    files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

struct TreeDeleter {
  void operator()(TSTree* tree) const { ts_tree_delete(tree); }
};
struct ParserDeleter {
  void operator()(TSParser* parser) const { ts_parser_delete(parser); }
};
using TreePtr = std::unique_ptr<TSTree, TreeDeleter>;

inline TreePtr parse(std::string_view text) {
  std::unique_ptr<TSParser, ParserDeleter> parser(ts_parser_new());
  REQUIRE(ts_parser_set_language(parser.get(), tree_sitter_textproto()));
  return TreePtr(ts_parser_parse_string(parser.get(), nullptr, text.data(),
                                        static_cast<uint32_t>(text.size())));
}

inline std::string node_sexp(TSNode node) {
  char* raw = ts_node_string(node);
  std::string sexp(raw);
  free(raw);
  return sexp;
}

}  // namespace amct::test::grammar
