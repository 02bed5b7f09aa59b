// Security boundaries end to end (issue 7 item 5): a whole session writes
// nothing but the server's cache under the user cache directory.
#include <catch2/catch.hpp>

#include <sys/stat.h>

#include <filesystem>
#include <map>
#include <string>

#include "support/lsp_client.h"
#include "support/temp_dir.h"

using amct::test::LspProcess;
using amct::test::TempDir;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

// Every file and folder below `root` with its size (folders: -1).
std::map<std::string, long long> listing(const fs::path& root) {
  std::map<std::string, long long> out;
  for (const auto& entry : fs::recursive_directory_iterator(root)) {
    const std::string relative = fs::relative(entry.path(), root).string();
    out[relative] = entry.is_regular_file() ? static_cast<long long>(entry.file_size()) : -1;
  }
  return out;
}

}  // namespace

TEST_CASE("security: a session writes nothing but its cache under the user cache directory",
          "[lsp][security]") {
  TempDir dir;
  const std::string ws = dir.path("ws");
  const std::map<std::string, std::string> documents = {
      {"quant.cfg", "batch_num: 2\nretrain_weight_quant_config {\n  arq_retrain { channel_wise: true }\n}\n"},
      {"order.txtpb", "# proto-file: protos/shop.proto\n# proto-message: shop.Order\nqty: 1\n"},
      {"escape.txtpb", "# proto-file: ../../../../etc/passwd\n# proto-message: X\n"}};
  for (const auto& [name, text] : documents) dir.write("ws/" + name, text);
  dir.write("ws/protos/shop.proto", "syntax = \"proto2\";\npackage shop;\nmessage Order { optional int32 qty = 1; }\n");
  fs::create_directories(dir.path("home"));
  fs::create_directories(dir.path("cwd"));
  fs::create_directories(dir.path("tmp"));
  // A read-only workspace (root ignores the bits; the listing below still
  // proves nothing was written).
  for (const auto& entry : fs::recursive_directory_iterator(ws))
    ::chmod(entry.path().c_str(), entry.is_directory() ? 0555 : 0444);
  ::chmod(ws.c_str(), 0555);
  const auto workspace_before = listing(ws);

  {
    LspProcess server({}, {{"HOME", dir.path("home")}, {"XDG_CACHE_HOME", dir.path("home/.cache")},
                           {"TMPDIR", dir.path("tmp")}},
                      dir.path("cwd"));
    const std::string root_uri = "file://" + ws;
    REQUIRE(server.wait_for_response(server.request(
        "initialize", {{"processId", nullptr}, {"rootUri", root_uri}, {"capabilities", json::object()}})));
    server.notify("initialized", json::object());
    for (const auto& [name, text] : documents) {
      const std::string uri = root_uri + "/" + name;
      server.notify("textDocument/didOpen",
                    {{"textDocument", {{"uri", uri}, {"languageId", "x"}, {"version", 1}, {"text", text}}}});
      server.notify("textDocument/didSave", {{"textDocument", {{"uri", uri}}}});
      const auto published = server.wait_for([&](const json& m) {
        return m.value("method", "") == "textDocument/publishDiagnostics" && m["params"]["uri"] == uri;
      });
      REQUIRE(published);
      if (name == "escape.txtpb") {
        REQUIRE((*published)["params"]["diagnostics"].size() == 1);
        CHECK((*published)["params"]["diagnostics"][0]["code"] == "schema-path-outside-workspace");
      } else {
        CHECK((*published)["params"]["diagnostics"].empty());
      }
    }
    const std::string cfg = root_uri + "/quant.cfg";
    const json doc = {{"textDocument", {{"uri", cfg}}}};
    json at = doc;
    at["position"] = {{"line", 0}, {"character", 2}};
    // Go to definition materialises the built-in .proto in the cache.
    const auto definition = server.wait_for_response(server.request("textDocument/definition", at));
    REQUIRE(definition);
    REQUIRE((*definition)["result"].is_object());
    CHECK((*definition)["result"]["uri"].get<std::string>().find(dir.path("home/.cache/amct-lsp")) !=
          std::string::npos);
    json format = doc;
    format["options"] = {{"tabSize", 2}, {"insertSpaces", true}};
    for (const auto& [method, params] : std::vector<std::pair<std::string, json>>{
             {"textDocument/hover", at}, {"textDocument/completion", at}, {"textDocument/formatting", format},
             {"textDocument/codeLens", doc}, {"textDocument/diagnostic", doc}}) {
      INFO(method);
      REQUIRE(server.wait_for_response(server.request(method, params)));
    }
    REQUIRE(server.wait_for_response(server.request("shutdown", nullptr)));
    server.notify("exit", nullptr);
    CHECK(server.wait_exit() == 0);
  }

  CHECK(listing(ws) == workspace_before);
  CHECK(listing(dir.path("cwd")).empty());
  CHECK(listing(dir.path("tmp")).empty());
  for (const auto& [path, size] : listing(dir.path("home"))) {
    INFO(path);
    CHECK((path == ".cache" || path.starts_with(".cache/amct-lsp")));
  }
  for (const auto& entry : fs::recursive_directory_iterator(ws))
    ::chmod(entry.path().c_str(), entry.is_directory() ? 0755 : 0644);
  ::chmod(ws.c_str(), 0755);
}
