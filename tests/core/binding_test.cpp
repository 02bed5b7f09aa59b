#include "core/schema/binding.h"

#include <catch2/catch.hpp>

#include <chrono>
#include <filesystem>
#include <thread>

#include "core/syntax/document.h"
#include "support/annotated.h"
#include "support/printers.h"
#include "support/temp_dir.h"

using amct::schema::bind_schema;
using amct::schema::BindingOptions;
using amct::schema::BindingSource;
using amct::schema::SchemaBinding;
using amct::schema::SchemaCache;
using amct::test::Annotated;
using amct::test::TempDir;

namespace {

constexpr const char* kShopProto = R"(syntax = "proto2";
package shop;
message Order { optional int32 qty = 1; }
message Customer { optional string name = 1; }
)";

SchemaBinding bind_text(const std::string& text, const BindingOptions& options) {
  const amct::syntax::Document document(text);
  return bind_schema(document, options);
}

std::string root_name(const SchemaBinding& binding) {
  return binding.schema && binding.schema->root != nullptr ? binding.schema->root->full_name() : "";
}

// Moves a file's mtime forward, as an editor saving it later would.
void touch_later(const std::string& path, int seconds) {
  namespace fs = std::filesystem;
  fs::last_write_time(path, fs::last_write_time(path) + std::chrono::seconds(seconds));
}

}  // namespace

TEST_CASE("binding: header comments name a .proto beside the document", "[schema]") {
  TempDir dir;
  dir.write("cfg/shop.proto", kShopProto);
  SchemaCache cache;
  BindingOptions options;
  options.path = dir.path("cfg/a.txtpb");
  options.cache = &cache;
  const auto binding =
      bind_text("# proto-file: shop.proto\n# proto-message: shop.Order\nqty: 1\n", options);
  CHECK(binding.diagnostics.empty());
  CHECK(binding.source == BindingSource::Header);
  CHECK(root_name(binding) == "shop.Order");
  REQUIRE(binding.schema);
  CHECK(binding.schema->proto_path == dir.path("cfg/shop.proto"));
  CHECK_FALSE(binding.schema->is_amct);
}

TEST_CASE("binding: a header beats the .cfg extension and explicit options", "[schema]") {
  TempDir dir;
  dir.write("shop.proto", kShopProto);
  dir.write("other.proto", "syntax = \"proto2\";\nmessage Other {}\n");
  SchemaCache cache;
  BindingOptions options;
  options.path = dir.path("quant.cfg");
  options.cache = &cache;
  const std::string text = "# proto-file: shop.proto\n# proto-message: shop.Customer\nname: \"x\"\n";
  CHECK(root_name(bind_text(text, options)) == "shop.Customer");

  options.proto_file = dir.path("other.proto");
  options.message_name = "Other";
  const auto binding = bind_text(text, options);
  CHECK(binding.source == BindingSource::Header);
  CHECK(root_name(binding) == "shop.Customer");

  // Without the header the options apply, also to a .cfg.
  const auto explicit_options = bind_text("name: \"x\"\n", options);
  CHECK(explicit_options.source == BindingSource::Options);
  CHECK(root_name(explicit_options) == "Other");
  CHECK(explicit_options.diagnostics.empty());
}

TEST_CASE("binding: header paths resolve against the folder, the workspace, the import roots",
          "[schema]") {
  TempDir dir;
  dir.write("ws/protos/shop.proto", kShopProto);
  dir.write("roots/lib/shop.proto", kShopProto);
  SchemaCache cache;
  BindingOptions options;
  options.path = dir.path("ws/configs/a.txtpb");
  options.workspace_root = dir.path("ws");
  options.import_roots = {dir.path("roots")};
  options.cache = &cache;

  const auto from_workspace =
      bind_text("# proto-file: protos/shop.proto\n# proto-message: shop.Order\n", options);
  REQUIRE(from_workspace.schema);
  CHECK(from_workspace.schema->proto_path == dir.path("ws/protos/shop.proto"));

  const auto from_root =
      bind_text("# proto-file: lib/shop.proto\n# proto-message: shop.Order\n", options);
  REQUIRE(from_root.schema);
  CHECK(from_root.schema->proto_path == dir.path("roots/lib/shop.proto"));

  dir.write("ws/configs/protos/shop.proto", kShopProto);  // the document's folder comes first
  const auto from_folder =
      bind_text("# proto-file: protos/shop.proto\n# proto-message: shop.Order\n", options);
  REQUIRE(from_folder.schema);
  CHECK(from_folder.schema->proto_path == dir.path("ws/configs/protos/shop.proto"));
}

TEST_CASE("binding: header failures are one diagnostic on the header, and no schema",
          "[schema]") {
  TempDir dir;
  dir.write("bad.proto", "syntax = \"proto2\";\nmessage Bad {\n  optional int32 a = 1\n}\n");
  dir.write("shop.proto", kShopProto);
  SchemaCache cache;
  BindingOptions options;
  options.path = dir.path("quant.cfg");  // would be AMCT without the headers
  options.workspace_root = dir.path("");
  options.cache = &cache;

  const auto check_one = [&](std::string_view annotated, const char* code, const char* words) {
    const Annotated a(annotated);
    const auto binding = bind_text(a.text, options);
    INFO(a.text);
    CHECK_FALSE(binding.schema);
    CHECK(binding.source == BindingSource::Header);
    REQUIRE(binding.diagnostics.size() == 1);
    const amct::Diagnostic& diagnostic = binding.diagnostics[0];
    CHECK(diagnostic.code == code);
    CHECK(diagnostic.severity == amct::Severity::Error);
    CHECK(diagnostic.range == a.range());
    CHECK_THAT(diagnostic.message, Catch::Contains(words));
    return diagnostic.message;
  };

  SECTION("missing file") {
    const std::string message = check_one(
        "[[# proto-file: nope/missing.proto]]\n# proto-message: X\nbatch_num: 1\n",
        "schema-file-not-found", "'nope/missing.proto' not found");
    CHECK_THAT(message, Catch::Contains(dir.path("nope/missing.proto")));  // where it looked
  }
  SECTION(".proto with errors: protobuf's text with file:line:col") {
    check_one("[[# proto-file: bad.proto]]\n# proto-message: Bad\n", "schema-error",
              (dir.path("bad.proto") + ":4:1: Expected \";\".").c_str());
  }
  SECTION("message not in the file: on the proto-message header, with the names it has") {
    const std::string message =
        check_one("# proto-file: shop.proto\n[[# proto-message: shop.Ordr]]\n",
                  "schema-message-not-found", "did you mean 'shop.Order'?");
    CHECK_THAT(message, Catch::Contains("shop.Customer"));
  }
  SECTION("proto-file without proto-message lists the messages to choose from") {
    check_one("[[# proto-file: shop.proto]]\nqty: 1\n", "schema-header-incomplete",
              "Available: shop.Order, shop.Customer");
  }
  SECTION("proto-message alone naming no built-in message") {
    check_one("[[# proto-message: shop.Order]]\n", "schema-header-incomplete",
              "add '# proto-file:");
  }
  SECTION("a proto-import that does not exist") {
    check_one("# proto-file: shop.proto\n# proto-message: shop.Order\n[[# proto-import: ext.proto]]\n",
              "schema-file-not-found", "'ext.proto' not found");
  }
  SECTION("a header with no value") {
    check_one("[[# proto-file:]]\n# proto-message: shop.Order\n", "schema-header-incomplete",
              "needs the path");
  }
}

TEST_CASE("binding: proto-import adds files to the pool", "[schema]") {
  TempDir dir;
  dir.write("main.proto", "syntax = \"proto2\";\npackage m;\nmessage Root { extensions 100 to 200; }\n");
  dir.write("more/ext.proto", R"(syntax = "proto2";
package e;
import "main.proto";
extend m.Root { optional string note = 100; }
)");
  SchemaCache cache;
  BindingOptions options;
  options.path = dir.path("x.txtpb");
  options.cache = &cache;
  const auto binding = bind_text(
      "# proto-file: main.proto\n# proto-message: m.Root\n# proto-import: more/ext.proto\n"
      "[e.note]: \"hi\"\n",
      options);
  INFO((binding.diagnostics.empty() ? "" : binding.diagnostics[0].message));
  REQUIRE(binding.schema);
  CHECK(binding.schema->pool->FindExtensionByName("e.note") != nullptr);
}

TEST_CASE("binding: proto-message alone can name a built-in AMCT message", "[schema]") {
  BindingOptions options;
  options.path = "fragment.txtpb";
  const auto binding = bind_text("# proto-message: PruneConfig\nfilter_pruner {}\n", options);
  CHECK(binding.diagnostics.empty());
  CHECK(binding.source == BindingSource::Header);
  CHECK(root_name(binding) == "PruneConfig");
  REQUIRE(binding.schema);
  CHECK_FALSE(binding.schema->is_amct);  // AMCT's whole-config rules do not apply to a fragment
  CHECK(binding.schema->description == "PruneConfig (built-in)");

  const auto whole = bind_text("# proto-message: AMCTRetrainConfig\n", options);
  REQUIRE(whole.schema);
  CHECK(whole.schema->is_amct);
}

TEST_CASE("binding: duplicate headers warn and the first applies", "[schema]") {
  TempDir dir;
  dir.write("shop.proto", kShopProto);
  BindingOptions options;
  options.path = dir.path("a.txtpb");
  const Annotated a(
      "# proto-file: shop.proto\n# proto-message: shop.Order\n[[# proto-message: shop.Customer]]\n");
  const auto binding = bind_text(a.text, options);
  CHECK(root_name(binding) == "shop.Order");
  REQUIRE(binding.diagnostics.size() == 1);
  CHECK(binding.diagnostics[0].code == "schema-header-duplicate");
  CHECK(binding.diagnostics[0].severity == amct::Severity::Warning);
  CHECK(binding.diagnostics[0].range == a.range());
}

TEST_CASE("binding: explicit options", "[schema]") {
  TempDir dir;
  dir.write("shop.proto", kShopProto);
  SchemaCache cache;
  BindingOptions options;
  options.path = dir.path("a.txtpb");
  options.cache = &cache;

  SECTION("a --proto file and --message") {
    options.proto_file = dir.path("shop.proto");
    options.message_name = "shop.Customer";
    const auto binding = bind_text("name: \"x\"\n", options);
    CHECK(binding.source == BindingSource::Options);
    CHECK(root_name(binding) == "shop.Customer");
    CHECK(binding.schema->description == "shop.Customer from " + dir.path("shop.proto"));
  }
  SECTION("a relative --proto resolves against the workspace root") {
    options.workspace_root = dir.path("");
    options.proto_file = "shop.proto";
    options.message_name = "shop.Order";
    CHECK(root_name(bind_text("", options)) == "shop.Order");
  }
  SECTION("--message alone names a built-in message") {
    options.message_name = "AMCTRetrainConfig";
    const auto binding = bind_text("", options);
    CHECK(root_name(binding) == "AMCTRetrainConfig");
    CHECK(binding.schema->is_amct);
  }
  SECTION("failures are diagnostics at the start of the document") {
    options.proto_file = dir.path("missing.proto");
    options.message_name = "X";
    const auto missing = bind_text("prune_config {}\n", options);
    CHECK_FALSE(missing.schema);
    REQUIRE(missing.diagnostics.size() == 1);
    CHECK(missing.diagnostics[0].code == "schema-file-not-found");
    CHECK(missing.diagnostics[0].range == amct::ByteRange{0, 0});

    options.proto_file = dir.path("shop.proto");
    options.message_name = "Nope";
    const auto no_message = bind_text("", options);
    REQUIRE(no_message.diagnostics.size() == 1);
    CHECK(no_message.diagnostics[0].code == "schema-message-not-found");

    options.proto_file.reset();
    const auto not_builtin = bind_text("", options);
    REQUIRE(not_builtin.diagnostics.size() == 1);
    CHECK(not_builtin.diagnostics[0].code == "schema-message-not-found");
  }
}

TEST_CASE("binding: the built-in AMCT schema for .cfg files and AMCT-looking documents",
          "[schema]") {
  BindingOptions options;
  SECTION(".cfg, even empty") {
    options.path = "/some/where/quant.cfg";
    const auto binding = bind_text("", options);
    CHECK(binding.source == BindingSource::BuiltinByExtension);
    CHECK(root_name(binding) == "AMCTRetrainConfig");
    CHECK(binding.schema->is_amct);
    CHECK(binding.schema->description == "AMCTRetrainConfig (built-in)");
    CHECK(binding.diagnostics.empty());
  }
  SECTION("a .txtpb whose top-level names are AMCT's") {
    options.path = "config.txtpb";
    const auto binding =
        bind_text("prune_config { filter_pruner {} }\nskip_layers: \"fc\"\n", options);
    CHECK(binding.source == BindingSource::BuiltinByFieldNames);
    CHECK(root_name(binding) == "AMCTRetrainConfig");
  }
  SECTION("an AMCT config with a typo is still recognised") {
    options.path = "config.textproto";
    CHECK(bind_text("retrain_weight_quant_config {}\nskip_layerz: \"fc\"\n", options).source ==
          BindingSource::BuiltinByFieldNames);
  }
  SECTION("an AMCT config with broken syntax is still recognised") {
    options.path = "config.textproto";
    CHECK(bind_text("prune_config {\n  filter_pruner {\n", options).source ==
          BindingSource::BuiltinByFieldNames);
  }
  SECTION("an unknown .txtpb gets no schema and no diagnostics") {
    options.path = "other.txtpb";
    const auto binding = bind_text("name: \"x\"\nsize: 3\n", options);
    CHECK(binding.source == BindingSource::None);
    CHECK_FALSE(binding.schema);
    CHECK(binding.diagnostics.empty());
  }
  SECTION("a generic name alone or a minority of AMCT names is not AMCT") {
    options.path = "other.txtpb";
    CHECK_FALSE(bind_text("batch_num: 3\n", options).schema);
    CHECK_FALSE(bind_text("skip_layers: \"a\"\nname: \"x\"\nsize: 3\n", options).schema);
    CHECK(bind_text("", options).source == BindingSource::None);
  }
  SECTION("proto-import alone is ignored with a warning") {
    options.path = "q.cfg";
    const Annotated a("[[# proto-import: x.proto]]\nbatch_num: 1\n");
    const auto binding = bind_text(a.text, options);
    CHECK(binding.source == BindingSource::BuiltinByExtension);
    REQUIRE(binding.diagnostics.size() == 1);
    CHECK(binding.diagnostics[0].code == "schema-header-incomplete");
    CHECK(binding.diagnostics[0].severity == amct::Severity::Warning);
    CHECK(binding.diagnostics[0].range == a.range());
  }
}

TEST_CASE("binding: looks_like_amct", "[schema]") {
  using amct::schema::looks_like_amct;
  CHECK(looks_like_amct({"retrain_data_quant_config"}));
  CHECK(looks_like_amct({"override_layer_configs", "override_layer_configs", "typo"}));
  CHECK_FALSE(looks_like_amct({}));
  CHECK_FALSE(looks_like_amct({"batch_num"}));
  CHECK_FALSE(looks_like_amct({"prune_config", "a", "b"}));
}

TEST_CASE("binding: the outline reads headers and top-level names from the tree", "[schema]") {
  const Annotated a("[[# proto-file:   x.proto  ]]\nfoo: 1 # proto-message: not a header\n"
                    "bar { baz: 2 }\n[[# soc: Ascend310P3]]\n");
  const amct::syntax::Document document(a.text);
  const auto outline = amct::schema::outline_of(document);
  REQUIRE(outline.headers.size() == 2);
  CHECK(outline.headers[0].key == "proto-file");
  CHECK(outline.headers[0].value == "x.proto");
  CHECK(outline.headers[0].range == a.ranges[0]);
  CHECK(outline.headers[1].key == "soc");
  CHECK(outline.headers[1].value == "Ascend310P3");
  CHECK(outline.headers[1].range == a.ranges[1]);
  CHECK(outline.top_level_fields == std::vector<std::string>{"foo", "bar"});

  const amct::syntax::Document repeated("b: 1\na: 1\nb: 2\na { }\n");
  CHECK(amct::schema::outline_of(repeated).top_level_fields == std::vector<std::string>{"b", "a"});

  // Broken syntax: tree-sitter flattens what it cannot nest into an ERROR
  // node; names inside an unclosed block are not top-level.
  const amct::syntax::Document broken("skip_layers {\n a { b: 1 }\n}\nprune_config {\n  filter_pruner {\n");
  CHECK(amct::schema::outline_of(broken).top_level_fields ==
        std::vector<std::string>{"skip_layers", "prune_config"});
  const amct::syntax::Document unclosed("prune_config {\n  filter_pruner {\n}\nskip_layers: 1 2\n");
  CHECK(amct::schema::outline_of(unclosed).top_level_fields == std::vector<std::string>{"prune_config"});
}

TEST_CASE("binding: loaded schemas are cached until a file they read changes", "[schema]") {
  TempDir dir;
  dir.write("lib/units.proto", "syntax = \"proto2\";\npackage u;\nmessage Size { optional int32 w = 1; }\n");
  dir.write("app.proto", "syntax = \"proto2\";\nimport \"lib/units.proto\";\n"
                         "message App { optional u.Size size = 1; }\n");
  SchemaCache cache;
  BindingOptions options;
  options.path = dir.path("a.txtpb");
  options.cache = &cache;
  const std::string text = "# proto-file: app.proto\n# proto-message: App\n";

  const auto first = bind_text(text, options);
  REQUIRE(first.schema);
  CHECK(cache.stats().misses == 1);
  CHECK(cache.stats().hits == 0);

  const auto second = bind_text(text, options);
  REQUIRE(second.schema);
  CHECK(cache.stats().hits == 1);
  CHECK(second.schema->pool == first.schema->pool);  // the same descriptors, not a re-parse
  CHECK(second.schema->root == first.schema->root);

  SECTION("another message of the same file is another entry") {
    const auto other = bind_text("# proto-file: app.proto\n# proto-message: u.Size\n", options);
    REQUIRE(other.schema);
    CHECK(cache.stats().misses == 2);
  }
  SECTION("editing the .proto reloads it") {
    dir.write("app.proto", "syntax = \"proto2\";\nimport \"lib/units.proto\";\n"
                           "message App { optional u.Size size = 1; optional int32 extra = 2; }\n");
    touch_later(dir.path("app.proto"), 5);
    const auto edited = bind_text(text, options);
    REQUIRE(edited.schema);
    CHECK(cache.stats().misses == 2);
    CHECK(edited.schema->pool != first.schema->pool);
    CHECK(edited.schema->root->FindFieldByName("extra") != nullptr);
  }
  SECTION("editing an imported file reloads too") {
    dir.write("lib/units.proto",
              "syntax = \"proto2\";\npackage u;\nmessage Size { optional int32 w = 1; optional int32 h = 2; }\n");
    touch_later(dir.path("lib/units.proto"), 5);
    const auto edited = bind_text(text, options);
    REQUIRE(edited.schema);
    CHECK(cache.stats().misses == 2);
    CHECK(edited.schema->root->FindFieldByName("size")->message_type()->FindFieldByName("h") !=
          nullptr);
  }
  SECTION("a failed load is not cached: fixing the file is seen at once") {
    dir.write("app.proto", "syntax = \"proto2\";\nmessage App {\n");
    touch_later(dir.path("app.proto"), 5);
    const auto broken = bind_text(text, options);
    CHECK_FALSE(broken.schema);
    REQUIRE(broken.diagnostics.size() == 1);
    CHECK(broken.diagnostics[0].code == "schema-error");
    dir.write("app.proto", "syntax = \"proto2\";\nmessage App {}\n");
    touch_later(dir.path("app.proto"), 10);
    CHECK(bind_text(text, options).schema);
  }
  SECTION("concurrent lookups are safe and agree") {
    std::vector<std::thread> threads;
    std::vector<const google::protobuf::Descriptor*> roots(8);
    for (size_t i = 0; i < roots.size(); ++i) {
      threads.emplace_back([&, i] { roots[i] = root_name(bind_text(text, options)) == "App"
                                                   ? first.schema->root
                                                   : nullptr; });
    }
    for (auto& thread : threads) thread.join();
    for (auto* root : roots) CHECK(root == first.schema->root);
    CHECK(cache.stats().hits == 1 + roots.size());
  }
}
