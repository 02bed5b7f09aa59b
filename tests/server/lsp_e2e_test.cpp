// End-to-end: the real binary over pipes, as an editor runs it.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

#include "support/lsp_client.h"
#include "support/temp_dir.h"

using amct::test::LspProcess;
using nlohmann::json;

namespace {

json initialize_params(bool offer_utf8 = false) {
  json params = {{"processId", nullptr}, {"rootUri", "file:///tmp"}, {"capabilities", json::object()}};
  if (offer_utf8) params["capabilities"]["general"]["positionEncodings"] = {"utf-8", "utf-16"};
  return params;
}

bool is_diagnostics_for(const json& m, const std::string& uri, int version) {
  return m.value("method", "") == "textDocument/publishDiagnostics" && m["params"]["uri"] == uri &&
         m["params"].value("version", -1) == version;
}

void open(LspProcess& server, const std::string& uri, const std::string& text, int version = 1) {
  server.notify("textDocument/didOpen",
                {{"textDocument", {{"uri", uri}, {"languageId", "amct-cfg"}, {"version", version}, {"text", text}}}});
}

}  // namespace

TEST_CASE("lifecycle: initialize, diagnostics after open and change, shutdown, exit 0", "[lsp][e2e]") {
  LspProcess server;
  const auto init = server.wait_for_response(server.request("initialize", initialize_params()));
  REQUIRE(init);
  CHECK((*init)["result"]["capabilities"]["textDocumentSync"]["change"] == 2);
  CHECK((*init)["result"]["capabilities"]["positionEncoding"] == "utf-16");
  CHECK((*init)["result"]["serverInfo"]["name"] == "amct-lsp");
  server.notify("initialized", json::object());

  // A .txtpb without a schema header: syntax checking only.
  const std::string uri = "file:///tmp/lifecycle.txtpb";
  open(server, uri, "batch_num: 1\nfoo_config_block { dst_type INT8 }\n");
  auto published = server.wait_for([&](const json& m) { return is_diagnostics_for(m, uri, 1); });
  REQUIRE(published);
  const json& diagnostics = (*published)["params"]["diagnostics"];
  REQUIRE(diagnostics.size() == 1);
  CHECK(diagnostics[0]["code"] == "syntax-error");
  CHECK(diagnostics[0]["range"]["start"] == json{{"line", 1}, {"character", 19}});
  CHECK(diagnostics[0]["message"].get<std::string>().find("expected ':' after field name 'dst_type'") !=
        std::string::npos);

  // Incremental change: insert the missing ':' -> no diagnostics for version 2.
  server.notify("textDocument/didChange",
                {{"textDocument", {{"uri", uri}, {"version", 2}}},
                 {"contentChanges", {{{"range", {{"start", {{"line", 1}, {"character", 27}}},
                                                {"end", {{"line", 1}, {"character", 27}}}}},
                                      {"text", ":"}}}}});
  published = server.wait_for([&](const json& m) { return is_diagnostics_for(m, uri, 2); });
  REQUIRE(published);
  CHECK((*published)["params"]["diagnostics"].empty());

  // Pull diagnostics agree.
  const auto pulled = server.wait_for_response(
      server.request("textDocument/diagnostic", {{"textDocument", {{"uri", uri}}}}));
  REQUIRE(pulled);
  CHECK((*pulled)["result"]["kind"] == "full");
  CHECK((*pulled)["result"]["items"].empty());

  const auto shutdown = server.wait_for_response(server.request("shutdown", nullptr));
  REQUIRE(shutdown);
  CHECK((*shutdown)["result"].is_null());
  server.notify("exit", nullptr);
  CHECK(server.wait_exit() == 0);
}

TEST_CASE("utf-8 position encoding is negotiated when offered", "[lsp][e2e]") {
  LspProcess server;
  const auto init = server.wait_for_response(server.request("initialize", initialize_params(/*offer_utf8=*/true)));
  REQUIRE(init);
  CHECK((*init)["result"]["capabilities"]["positionEncoding"] == "utf-8");
  open(server, "file:///tmp/a.txtpb", "a: \"é\" b: 1bad");
  const auto published = server.wait_for([&](const json& m) { return is_diagnostics_for(m, "file:///tmp/a.txtpb", 1); });
  REQUIRE(published);
  REQUIRE((*published)["params"]["diagnostics"].size() == 1);
  // "é" is 2 bytes: the bad number starts at byte 11 (UTF-16 would say 10).
  CHECK((*published)["params"]["diagnostics"][0]["range"]["start"]["character"] == 11);
}

TEST_CASE("protocol errors get JSON-RPC error answers and the server stays up", "[lsp][e2e]") {
  LspProcess server;
  SECTION("request before initialize") {
    const int id = server.request("textDocument/diagnostic", {{"textDocument", {{"uri", "file:///x"}}}});
    const auto response = server.wait_for_response(id);
    REQUIRE(response);
    CHECK((*response)["error"]["code"] == -32002);
  }
  REQUIRE(server.wait_for_response(server.request("initialize", initialize_params())));
  SECTION("invalid JSON") {
    server.send_raw("Content-Length: 9\r\n\r\n{not json");
    const auto response = server.wait_for([](const json& m) { return m.contains("error"); });
    REQUIRE(response);
    CHECK((*response)["error"]["code"] == -32700);
    CHECK((*response)["id"].is_null());
  }
  SECTION("missing Content-Length") {
    server.send_raw("Content-Type: x\r\n\r\n");
    const auto response = server.wait_for([](const json& m) { return m.contains("error"); });
    REQUIRE(response);
    CHECK((*response)["error"]["code"] == -32700);
  }
  SECTION("unknown method") {
    const auto response = server.wait_for_response(server.request("textDocument/nonsense", json::object()));
    REQUIRE(response);
    CHECK((*response)["error"]["code"] == -32601);
  }
  SECTION("wrong parameter types") {
    const auto response =
        server.wait_for_response(server.request("textDocument/diagnostic", {{"textDocument", 42}}));
    REQUIRE(response);
    CHECK((*response)["error"]["code"] == -32602);
  }
  // Still answering after the abuse.
  const auto shutdown = server.wait_for_response(server.request("shutdown", nullptr));
  REQUIRE(shutdown);
  CHECK(shutdown->contains("result"));
}

TEST_CASE("exit without shutdown exits 1; end of input exits", "[lsp][e2e]") {
  {
    LspProcess server;
    REQUIRE(server.wait_for_response(server.request("initialize", initialize_params())));
    server.notify("exit", nullptr);
    CHECK(server.wait_exit() == 1);
  }
  {
    LspProcess server;
    server.send_raw("Content-Length: 100\r\n\r\n{\"jsonrpc\"");  // EOF mid-message
    server.close_input();
    CHECK(server.wait_exit() == 1);
  }
}

TEST_CASE("stale versions are never published", "[lsp][e2e]") {
  LspProcess server;
  REQUIRE(server.wait_for_response(server.request("initialize", initialize_params())));
  const std::string uri = "file:///tmp/fast.txtpb";
  open(server, uri, "a: 1\n");
  // Many edits faster than the server checks; only the last version may be final.
  for (int version = 2; version <= 200; ++version) {
    server.notify("textDocument/didChange",
                  {{"textDocument", {{"uri", uri}, {"version", version}}},
                   {"contentChanges", {{{"text", version % 2 ? "a: 1\n" : "a: 1bad\n"}}}}});
  }
  const auto last = server.wait_for([&](const json& m) { return is_diagnostics_for(m, uri, 200); });
  REQUIRE(last);
  CHECK((*last)["params"]["diagnostics"].size() == 1);
  for (const json& m : server.seen)
    if (m.value("method", "") == "textDocument/publishDiagnostics") {
      // Whatever was published before matches its own version's text.
      const int version = m["params"]["version"];
      CHECK(m["params"]["diagnostics"].size() == (version % 2 ? 0u : 1u));
    }
}

TEST_CASE("outline, folding, selection and semantic tokens over the protocol", "[lsp][e2e]") {
  LspProcess server;
  const auto init = server.wait_for_response(server.request("initialize", initialize_params()));
  REQUIRE(init);
  const json& capabilities = (*init)["result"]["capabilities"];
  CHECK(capabilities["documentSymbolProvider"] == true);
  CHECK(capabilities["semanticTokensProvider"]["legend"]["tokenTypes"][0] == "property");
  const std::string uri = "file:///tmp/p.cfg";
  open(server, uri, "# c1\n# c2\nprune_config {\n  filter_pruner {\n  }\n}\nskip_layers: \"fc\"\n");
  const json doc = {{"textDocument", {{"uri", uri}}}};

  auto symbols = server.wait_for_response(server.request("textDocument/documentSymbol", doc));
  REQUIRE(symbols);
  REQUIRE((*symbols)["result"].size() == 2);
  CHECK((*symbols)["result"][0]["name"] == "prune_config");
  CHECK((*symbols)["result"][0]["children"][0]["name"] == "filter_pruner");
  CHECK((*symbols)["result"][1]["detail"] == "\"fc\"");

  auto folding = server.wait_for_response(server.request("textDocument/foldingRange", doc));
  REQUIRE(folding);
  CHECK((*folding)["result"][0] == json{{"startLine", 0}, {"endLine", 1}, {"kind", "comment"}});
  CHECK((*folding)["result"].size() == 2);
  CHECK((*folding)["result"][1] == json{{"startLine", 2}, {"endLine", 4}});

  json selection_params = doc;
  selection_params["positions"] = {{{"line", 3}, {"character", 4}}};
  auto selection = server.wait_for_response(server.request("textDocument/selectionRange", selection_params));
  REQUIRE(selection);
  const json& innermost = (*selection)["result"][0];
  CHECK(innermost["range"]["start"] == json{{"line", 3}, {"character", 2}});
  CHECK(innermost["range"]["end"] == json{{"line", 3}, {"character", 15}});
  CHECK(innermost.contains("parent"));

  auto tokens = server.wait_for_response(server.request("textDocument/semanticTokens/full", doc));
  REQUIRE(tokens);
  const json& data = (*tokens)["result"]["data"];
  REQUIRE(data.size() % 5 == 0);
  // First token: the comment on line 0, 4 characters, type "comment" (4).
  CHECK(std::vector<int>(data.begin(), data.begin() + 5) == std::vector<int>{0, 0, 4, 4, 0});

  json range_params = doc;
  range_params["range"] = {{"start", {{"line", 6}, {"character", 0}}}, {"end", {{"line", 7}, {"character", 0}}}};
  auto range_tokens = server.wait_for_response(server.request("textDocument/semanticTokens/range", range_params));
  REQUIRE(range_tokens);
  CHECK((*range_tokens)["result"]["data"] == json{6, 0, 11, 0, 0, 0, 13, 4, 3, 0});

  auto unknown_doc = server.wait_for_response(
      server.request("textDocument/documentSymbol", {{"textDocument", {{"uri", "file:///not/open.cfg"}}}}));
  REQUIRE(unknown_doc);
  CHECK((*unknown_doc)["result"].is_null());
}

TEST_CASE("every cancelled request is answered exactly once", "[lsp][e2e]") {
  LspProcess server;
  REQUIRE(server.wait_for_response(server.request("initialize", initialize_params())));
  const std::string uri = "file:///tmp/c.cfg";
  open(server, uri, "a { b: 1 }\n");
  std::vector<int> ids;
  for (int i = 0; i < 50; ++i) {
    ids.push_back(server.request("textDocument/documentSymbol", {{"textDocument", {{"uri", uri}}}}));
    server.notify("$/cancelRequest", {{"id", ids.back()}});
  }
  for (int id : ids) {
    const auto response = server.wait_for_response(id);
    REQUIRE(response);
    const bool ok = response->contains("result") ||
                    ((*response)["error"]["code"] == -32800);
    CHECK(ok);
  }
  for (const json& m : server.seen) CHECK(!(m.contains("id") && !m.contains("method")));
}

TEST_CASE("completion and hover over the protocol, in broken text", "[lsp][e2e]") {
  LspProcess server;
  json params = initialize_params();
  params["locale"] = "en";
  REQUIRE(server.wait_for_response(server.request("initialize", params)));
  const std::string uri = "file:///tmp/quant.cfg";
  open(server, uri, "retrain_weight_quant_config {\n  \n");  // unclosed: an editor buffer mid-typing
  const auto completion = server.wait_for_response(server.request(
      "textDocument/completion", {{"textDocument", {{"uri", uri}}}, {"position", {{"line", 1}, {"character", 2}}}}));
  REQUIRE(completion);
  const json& items = (*completion)["result"]["items"];
  std::vector<std::string> labels;
  for (const json& item : items) labels.push_back(item["label"]);
  CHECK(labels == std::vector<std::string>{"arq_retrain", "ulq_retrain"});
  CHECK(items[0]["insertTextFormat"] == 2);
  CHECK(items[0]["textEdit"]["newText"] == "arq_retrain {\n  $0\n}");
  CHECK(items[0]["documentation"]["kind"] == "markdown");

  open(server, "file:///tmp/b.cfg", "batch_num: 1\n", 1);
  const auto hover = server.wait_for_response(server.request(
      "textDocument/hover", {{"textDocument", {{"uri", "file:///tmp/b.cfg"}}}, {"position", {{"line", 0}, {"character", 3}}}}));
  REQUIRE(hover);
  CHECK((*hover)["result"]["contents"]["kind"] == "markdown");
  CHECK((*hover)["result"]["contents"]["value"].get<std::string>().find("batch_num = 1") != std::string::npos);
  CHECK((*hover)["result"]["range"]["end"] == json{{"line", 0}, {"character", 9}});

  // docsLanguage setting switches the hover to Chinese.
  server.notify("workspace/didChangeConfiguration", {{"settings", {{"amct", {{"docsLanguage", "zh"}}}}}});
  const auto zh = server.wait_for_response(server.request(
      "textDocument/hover", {{"textDocument", {{"uri", "file:///tmp/b.cfg"}}}, {"position", {{"line", 0}, {"character", 3}}}}));
  REQUIRE(zh);
  CHECK((*zh)["result"]["contents"]["value"] != (*hover)["result"]["contents"]["value"]);
}

TEST_CASE("inlay hints and go to definition into the built-in proto", "[lsp][e2e]") {
  char cache_template[] = "/tmp/amct-lsp-cache-XXXXXX";
  const std::string cache = mkdtemp(cache_template);
  LspProcess server({}, {{"XDG_CACHE_HOME", cache}});
  const auto init = server.wait_for_response(server.request("initialize", initialize_params()));
  REQUIRE(init);
  CHECK((*init)["result"]["capabilities"]["definitionProvider"] == true);
  const std::string uri = "file:///tmp/d.cfg";
  open(server, uri, "retrain_weight_quant_config {\n  arq_retrain {\n    channel_wise: true\n  }\n}\n");

  const auto hints = server.wait_for_response(server.request(
      "textDocument/inlayHint", {{"textDocument", {{"uri", uri}}},
                                 {"range", {{"start", {{"line", 0}, {"character", 0}}}, {"end", {{"line", 5}, {"character", 0}}}}}}));
  REQUIRE(hints);
  REQUIRE((*hints)["result"].size() == 1);
  CHECK((*hints)["result"][0]["label"] == "dst_type: INT8 (default)");
  CHECK((*hints)["result"][0]["position"] == json{{"line", 1}, {"character", 15}});

  const auto definition = server.wait_for_response(server.request(
      "textDocument/definition", {{"textDocument", {{"uri", uri}}}, {"position", {{"line", 2}, {"character", 8}}}}));
  REQUIRE(definition);
  const std::string target = (*definition)["result"]["uri"];
  CHECK(target == "file://" + cache + "/amct-lsp/" + AMCT_LSP_VERSION + "/retrain_config.proto");
  std::ifstream proto(target.substr(7));
  std::string line;
  for (int i = 0; i <= (*definition)["result"]["range"]["start"]["line"].get<int>(); ++i) std::getline(proto, line);
  CHECK(line.find("channel_wise = 2") != std::string::npos);
  std::filesystem::remove_all(cache);
}

TEST_CASE("code lens shows the resolved precedence over the protocol", "[lsp][e2e]") {
  LspProcess server;
  REQUIRE(server.wait_for_response(server.request("initialize", initialize_params())));
  const std::string uri = "file:///tmp/lens.cfg";
  open(server, uri,
       "retrain_weight_quant_config { arq_retrain { dst_type: INT8 } }\n"
       "override_layer_configs {\n  layer_name: \"fc\"\n  retrain_weight_quant_config { ulq_retrain { dst_type: INT4 } }\n}\n");
  const auto lenses = server.wait_for_response(server.request("textDocument/codeLens", {{"textDocument", {{"uri", uri}}}}));
  REQUIRE(lenses);
  REQUIRE((*lenses)["result"].size() == 2);
  CHECK((*lenses)["result"][1]["range"]["start"] == json{{"line", 1}, {"character", 0}});
  const std::string title = (*lenses)["result"][1]["command"]["title"];
  CHECK(title.find("weight: ULQ INT4") != std::string::npos);
  CHECK(title.find("(this block)") != std::string::npos);
  CHECK((*lenses)["result"][0]["command"]["title"] == "shadowed by 1 name override");
}

TEST_CASE("code actions over the protocol: a did-you-mean quick fix as a workspace edit", "[lsp][e2e]") {
  LspProcess server;
  REQUIRE(server.wait_for_response(server.request("initialize", initialize_params())));
  const std::string uri = "file:///tmp/fix.cfg";
  open(server, uri, "retrain_weight_quant_config { arq_retrain { dst_typ: INT8 } }\n");
  const auto actions = server.wait_for_response(server.request(
      "textDocument/codeAction",
      {{"textDocument", {{"uri", uri}}},
       {"range", {{"start", {{"line", 0}, {"character", 45}}}, {"end", {{"line", 0}, {"character", 45}}}}},
       {"context", {{"diagnostics", json::array()}}}}));
  REQUIRE(actions);
  REQUIRE((*actions)["result"].size() == 1);
  const json& action = (*actions)["result"][0];
  CHECK(action["title"] == "Change to 'dst_type'");
  CHECK(action["kind"] == "quickfix");
  CHECK(action["diagnostics"][0]["code"] == "unknown-field");
  const json& edit = action["edit"]["changes"][uri][0];
  CHECK(edit["newText"] == "dst_type");
  CHECK(edit["range"]["start"] == json{{"line", 0}, {"character", 44}});
}

TEST_CASE("workspace/configuration is pulled; schemaMappings bind a .proto by glob", "[lsp][e2e]") {
  char root_template[] = "/tmp/amct-lsp-ws-XXXXXX";
  const std::string root = mkdtemp(root_template);
  {
    std::ofstream proto(root + "/point.proto");
    proto << "syntax = \"proto2\";\npackage geo;\nmessage Point { optional int32 x = 1; optional int32 y = 2; }\n";
  }
  LspProcess server;
  json params = initialize_params();
  params["rootUri"] = "file://" + root;
  params["capabilities"]["workspace"]["configuration"] = true;
  REQUIRE(server.wait_for_response(server.request("initialize", params)));
  server.notify("initialized", json::object());
  const auto pull = server.wait_for([](const json& m) { return m.value("method", "") == "workspace/configuration"; });
  REQUIRE(pull);
  CHECK((*pull)["params"]["items"][0]["section"] == "amct");
  server.send({{"jsonrpc", "2.0"},
               {"id", (*pull)["id"]},
               {"result", {{{"schemaMappings", {{{"glob", "*.pbtxt"}, {"proto", "point.proto"}, {"message", "geo.Point"}}}}}}}});
  const std::string uri = "file://" + root + "/data/p.pbtxt";
  open(server, uri, "x: 1\nz: 2\n");
  const auto published = server.wait_for([&](const json& m) { return is_diagnostics_for(m, uri, 1); });
  REQUIRE(published);
  REQUIRE((*published)["params"]["diagnostics"].size() == 1);
  CHECK((*published)["params"]["diagnostics"][0]["code"] == "unknown-field");
  CHECK((*published)["params"]["diagnostics"][0]["range"]["start"] == json{{"line", 1}, {"character", 0}});
  std::filesystem::remove_all(root);
}

TEST_CASE("formatting and range formatting over the protocol", "[lsp][e2e]") {
  LspProcess server;
  const auto init = server.wait_for_response(server.request("initialize", initialize_params()));
  REQUIRE(init);
  CHECK((*init)["result"]["capabilities"]["documentFormattingProvider"] == true);
  const std::string uri = "file:///tmp/fmt.cfg";
  open(server, uri, "prune_config: {filter_pruner <balanced_l2_norm_filter_prune {prune_ratio:0.3}>}\n");
  const auto formatted = server.wait_for_response(server.request(
      "textDocument/formatting", {{"textDocument", {{"uri", uri}}}, {"options", {{"tabSize", 2}, {"insertSpaces", true}}}}));
  REQUIRE(formatted);
  REQUIRE((*formatted)["result"].size() == 1);
  CHECK((*formatted)["result"][0]["newText"] ==
        "prune_config {\n  filter_pruner {\n    balanced_l2_norm_filter_prune {\n      prune_ratio: 0.3\n    }\n  }\n}\n");
  open(server, "file:///tmp/fmt2.cfg", "batch_num:1\nretrain_weight_quant_config {arq_retrain {}}\n");
  const auto ranged = server.wait_for_response(server.request(
      "textDocument/rangeFormatting",
      {{"textDocument", {{"uri", "file:///tmp/fmt2.cfg"}}},
       {"range", {{"start", {{"line", 0}, {"character", 0}}}, {"end", {{"line", 0}, {"character", 5}}}}},
       {"options", {{"tabSize", 4}, {"insertSpaces", true}}}}));
  REQUIRE(ranged);
  REQUIRE((*ranged)["result"].size() == 1);
  CHECK((*ranged)["result"][0]["newText"] == "batch_num: 1");
  CHECK((*ranged)["result"][0]["range"]["end"] == json{{"line", 0}, {"character", 11}});
}

TEST_CASE("codeDescription links, $/logTrace and incremental re-checks over the protocol", "[lsp][e2e]") {
  amct::test::TempDir cache;
  LspProcess server({}, {{"XDG_CACHE_HOME", cache.path("")}});
  json params = initialize_params();
  params["trace"] = "messages";
  const int init = server.request("initialize", params);
  REQUIRE(server.wait_for_response(init));
  server.notify("initialized", json::object());
  const std::string uri = "file:///tmp/e2e-links.cfg";
  std::string text;
  for (int i = 0; i < 50; ++i)
    text += "override_layer_configs { layer_name: \"l" + std::to_string(i) + "\" retrain_data_quant_config { ulq_quantize { dst_type: INT8 } } }\n";
  text += "batch_nm: 1\n";
  open(server, uri, text);
  auto published = server.wait_for([&](const json& m) { return is_diagnostics_for(m, uri, 1); });
  REQUIRE(published);
  const json& first = (*published)["params"]["diagnostics"];
  REQUIRE(first.size() == 1);
  CHECK(first[0]["code"] == "unknown-field");
  // The default page is written to the cache directory, next to the built-in proto.
  const std::string href = first[0]["codeDescription"]["href"];
  CHECK(href.starts_with("file://" + cache.path("")));
  CHECK(href.ends_with("/diagnostics.md#unknown-field"));
  CHECK(std::filesystem::exists(href.substr(7, href.find('#') - 7)));
  // Trace level messages (from initialize): notifications are logged, without the verbose part.
  bool notification_traced = false;
  for (const json& m : server.seen)
    if (m.value("method", "") == "$/logTrace" && m["params"]["message"] == "Received notification 'initialized'.")
      notification_traced = !m["params"].contains("verbose");
  CHECK(notification_traced);

  // Fix the typo in the last line, then break a block in the middle: each
  // re-check (incremental) reports what a fresh check would.
  server.notify("textDocument/didChange",
                {{"textDocument", {{"uri", uri}, {"version", 2}}},
                 {"contentChanges", {{{"range", {{"start", {{"line", 50}, {"character", 7}}}, {"end", {{"line", 50}, {"character", 7}}}}},
                                      {"text", "u"}}}}});
  published = server.wait_for([&](const json& m) { return is_diagnostics_for(m, uri, 2); });
  REQUIRE(published);
  CHECK((*published)["params"]["diagnostics"].empty());
  server.notify("textDocument/didChange",
                {{"textDocument", {{"uri", uri}, {"version", 3}}},
                 {"contentChanges", {{{"range", {{"start", {{"line", 20}, {"character", 96}}}, {"end", {{"line", 20}, {"character", 100}}}}},
                                      {"text", "INT3"}}}}});
  published = server.wait_for([&](const json& m) { return is_diagnostics_for(m, uri, 3); });
  REQUIRE(published);
  const json& third = (*published)["params"]["diagnostics"];
  INFO(third.dump(1));
  REQUIRE(third.size() == 1);
  CHECK(third[0]["code"] == "invalid-enum-value");
  CHECK(third[0]["range"]["start"] == json{{"line", 20}, {"character", 96}});
  server.wait_for_response(server.request("shutdown", nullptr));
  server.notify("exit", nullptr);
  CHECK(server.wait_exit() == 0);
}
