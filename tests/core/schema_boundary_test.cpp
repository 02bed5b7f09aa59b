// Security boundaries of schema binding (issue 7 item 5): header paths
// resolve only inside the document's folder, the workspace root and the
// import roots (after following symlinks); an import cycle and a
// 10,000-file import graph are handled.
#include <catch2/catch.hpp>

#include <chrono>
#include <filesystem>
#include <string>

#include "core/schema/binding.h"
#include "core/syntax/document.h"
#include "support/temp_dir.h"

using amct::schema::bind_schema;
using amct::schema::BindingOptions;
using amct::schema::SchemaBinding;
using amct::schema::SchemaCache;
using amct::test::TempDir;
namespace fs = std::filesystem;

namespace {

constexpr const char* kShopProto = "syntax = \"proto2\";\npackage shop;\nmessage Order { optional int32 qty = 1; }\n";
// Not a .proto: reading it would give schema-error, so that code proves a read.
constexpr const char* kSecret = "this is not a proto file, and must not be read\n";

SchemaBinding bind_text(const std::string& text, const BindingOptions& options) {
  return bind_schema(amct::syntax::Document(text), options);
}

std::string codes(const SchemaBinding& binding) {
  std::string out;
  for (const auto& diagnostic : binding.diagnostics) out += diagnostic.code + ";";
  return out;
}

}  // namespace

TEST_CASE("schema paths: headers cannot leave the folder, workspace and import roots", "[schema][security]") {
  TempDir dir;
  dir.write("ws/protos/shop.proto", kShopProto);
  dir.write("roots/lib/shop.proto", kShopProto);
  dir.write("secret/passwd.proto", kSecret);
  dir.write("ws/configs/a.txtpb", "");  // the folder exists, so `..` from it resolves on disk
  SchemaCache cache;
  BindingOptions options;
  options.path = dir.path("ws/configs/a.txtpb");
  options.workspace_root = dir.path("ws");
  options.import_roots = {dir.path("roots")};
  options.cache = &cache;
  const std::string message = "\n# proto-message: shop.Order\n";

  SECTION("inside: the workspace (also through '..'), the import roots") {
    CHECK(bind_text("# proto-file: ../protos/shop.proto" + message, options).schema);
    CHECK(bind_text("# proto-file: protos/../protos/shop.proto" + message, options).schema);
    CHECK(bind_text("# proto-file: lib/shop.proto" + message, options).schema);
    CHECK(bind_text("# proto-file: " + dir.path("ws/protos/shop.proto") + message, options).schema);
  }
  SECTION("'..' out of every allowed folder") {
    const auto binding = bind_text("# proto-file: ../../secret/passwd.proto" + message, options);
    CHECK(!binding.schema);
    CHECK(codes(binding) == "schema-path-outside-workspace;");
    CHECK(binding.diagnostics[0].message.find("not read") != std::string::npos);
    CHECK(codes(bind_text("# proto-file: ../../../../../../../../etc/passwd" + message, options)) ==
          "schema-path-outside-workspace;");
  }
  SECTION("an absolute path elsewhere") {
    CHECK(codes(bind_text("# proto-file: " + dir.path("secret/passwd.proto") + message, options)) ==
          "schema-path-outside-workspace;");
    CHECK(codes(bind_text("# proto-file: /etc/passwd" + message, options)) == "schema-path-outside-workspace;");
  }
  SECTION("symlinks pointing out: a file and a folder") {
    fs::create_symlink(dir.path("secret/passwd.proto"), dir.path("ws/protos/link.proto"));
    fs::create_directory_symlink(dir.path("secret"), dir.path("ws/linked"));
    CHECK(codes(bind_text("# proto-file: ../protos/link.proto" + message, options)) ==
          "schema-path-outside-workspace;");
    CHECK(codes(bind_text("# proto-file: linked/passwd.proto" + message, options)) ==
          "schema-path-outside-workspace;");
    // A symlink that stays inside is fine.
    fs::create_symlink(dir.path("ws/protos/shop.proto"), dir.path("ws/protos/alias.proto"));
    CHECK(bind_text("# proto-file: protos/alias.proto" + message, options).schema);
  }
  SECTION("'# proto-import:' is held to the same folders") {
    const auto binding = bind_text(
        "# proto-file: ../protos/shop.proto" + message + "# proto-import: ../../secret/passwd.proto\n", options);
    CHECK(!binding.schema);
    CHECK(codes(binding) == "schema-path-outside-workspace;");
  }
  SECTION("without a workspace: the document's folder and the import roots") {
    options.workspace_root.clear();
    dir.write("ws/configs/near.proto", kShopProto);
    CHECK(bind_text("# proto-file: near.proto" + message, options).schema);
    CHECK(bind_text("# proto-file: lib/shop.proto" + message, options).schema);
    CHECK(codes(bind_text("# proto-file: ../protos/shop.proto" + message, options)) ==
          "schema-path-outside-workspace;");
  }
  SECTION("a missing file inside is still 'not found'") {
    CHECK(codes(bind_text("# proto-file: nope.proto" + message, options)) == "schema-file-not-found;");
  }
}

TEST_CASE("schema paths: an import cycle is an error, not a hang", "[schema][security]") {
  TempDir dir;
  dir.write("a.proto", "syntax = \"proto2\";\nimport \"b.proto\";\nmessage A { optional int32 x = 1; }\n");
  dir.write("b.proto", "syntax = \"proto2\";\nimport \"a.proto\";\nmessage B { optional int32 y = 1; }\n");
  SchemaCache cache;
  BindingOptions options;
  options.path = dir.path("c.txtpb");
  options.cache = &cache;
  const auto binding = bind_text("# proto-file: a.proto\n# proto-message: A\n", options);
  CHECK(!binding.schema);
  REQUIRE(binding.diagnostics.size() == 1);
  CHECK(binding.diagnostics[0].code == "schema-error");
  CHECK(binding.diagnostics[0].message.find("recursively imports itself") != std::string::npos);
}

TEST_CASE("schema paths: a 10,000-file import graph loads", "[schema][security]") {
  constexpr int kFiles = 10000;
  TempDir dir;
  // File i imports files 2i+1 and 2i+2 (a graph 14 levels deep), and the last
  // 200 files form a chain, so both breadth and a long path are exercised.
  auto name = [](int i) { return "f" + std::to_string(i) + ".proto"; };
  for (int i = 0; i < kFiles; ++i) {
    std::string text = "syntax = \"proto2\";\npackage p;\n";
    for (int child : {2 * i + 1, 2 * i + 2})
      if (child < kFiles - 200) text += "import \"" + name(child) + "\";\n";
    if (i >= kFiles - 201 && i + 1 < kFiles) text += "import \"" + name(i + 1) + "\";\n";
    text += "message M" + std::to_string(i) + " { optional int32 v = 1; }\n";
    dir.write("g/" + name(i), text);
  }
  dir.write("g/root.proto", "syntax = \"proto2\";\npackage p;\nimport \"" + name(0) + "\";\nimport \"" +
                                name(kFiles - 201) + "\";\nmessage Root { optional M0 a = 1; optional M" +
                                std::to_string(kFiles - 201) + " z = 2; }\n");
  SchemaCache cache;
  BindingOptions options;
  options.path = dir.path("c.txtpb");
  options.cache = &cache;
  const auto start = std::chrono::steady_clock::now();
  const auto binding = bind_text("# proto-file: g/root.proto\n# proto-message: p.Root\n", options);
  const auto seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  INFO(codes(binding) << (binding.diagnostics.empty() ? "" : binding.diagnostics[0].message));
  REQUIRE(binding.schema);
  CHECK(binding.schema->root->full_name() == "p.Root");
  WARN("10,000-file import graph bound in " << seconds << " s");
  // The cached schema is validated (every file stat'ed) and reused.
  const auto again = bind_text("# proto-file: g/root.proto\n# proto-message: p.Root\n", options);
  CHECK(again.schema);
  CHECK(cache.stats().hits == 1);
}
