// In-process server tests of the engine settings (amct.weights): error
// estimates as code lenses computed in the background, model-aware
// diagnostics and completion; and diagnostics delivery for pull clients.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <mutex>
#include <set>
#include <vector>

#include "server/lsp_server.h"
#include "support/temp_dir.h"
#include "support/tiny_model.h"

using amct::server::LanguageServer;
using nlohmann::json;

namespace {

class TestClient {
 public:
  TestClient() : server_([this](const std::string& body) { capture(body); }) {}

  void request(int id, const std::string& method, json params) {
    send({{"jsonrpc", "2.0"}, {"id", id}, {"method", method}, {"params", std::move(params)}});
  }
  void notify(const std::string& method, json params) {
    send({{"jsonrpc", "2.0"}, {"method", method}, {"params", std::move(params)}});
  }
  // Answers the server's own requests (window/workDoneProgress/create, refreshes) with null.
  void answer_server_requests() {
    for (const json& m : received())
      if (m.contains("method") && m.contains("id") && !answered_.count(m["id"].dump())) {
        answered_.insert(m["id"].dump());
        send({{"jsonrpc", "2.0"}, {"id", m["id"]}, {"result", nullptr}});
      }
  }
  std::vector<json> received() {
    server_.wait_estimates_idle();
    std::lock_guard lock(mutex_);
    return messages_;
  }
  json response(int id) {
    for (const json& m : received())
      if (m.contains("id") && m["id"] == id && !m.contains("method")) return m;
    return nullptr;
  }
  std::vector<json> with_method(const std::string& method) {
    std::vector<json> out;
    for (const json& m : received())
      if (m.value("method", "") == method) out.push_back(m);
    return out;
  }
  void open(const std::string& uri, const std::string& text) {
    notify("textDocument/didOpen", {{"textDocument", {{"uri", uri}, {"version", 1}, {"text", text}}}});
  }
  std::vector<std::string> lens_titles(int id, const std::string& uri) {
    request(id, "textDocument/codeLens", {{"textDocument", {{"uri", uri}}}});
    std::vector<std::string> out;
    const json answer = response(id);
    for (const json& lens : answer["result"]) out.push_back(lens["command"]["title"]);
    return out;
  }

 private:
  void send(const json& message) { server_.on_message(message.dump()); }
  void capture(const std::string& body) {
    std::lock_guard lock(mutex_);
    messages_.push_back(json::parse(body));
  }
  std::mutex mutex_;
  std::vector<json> messages_;
  std::set<std::string> answered_;
  LanguageServer server_;
};

json engine_client_capabilities() {
  return {{"window", {{"workDoneProgress", true}}}, {"workspace", {{"codeLens", {{"refreshSupport", true}}}}}};
}

size_t count_containing(const std::vector<std::string>& titles, const std::string& part) {
  size_t n = 0;
  for (const std::string& title : titles) n += title.find(part) != std::string::npos;
  return n;
}

const char* kConfig =
    "retrain_weight_quant_config { arq_retrain { dst_type: INT8 } }\n"
    "override_layer_configs {\n  layer_name: \"fc\"\n  retrain_weight_quant_config { arq_retrain { dst_type: INT4 channel_wise: false } }\n}\n";

}  // namespace

TEST_CASE("in-process: amct.weights gives estimate lenses computed in the background, updated after an edit",
          "[lsp][server][estimate]") {
  amct::test::TempDir dir;
  const std::string weights = dir.write("model.safetensors", amct::test::tiny_model_safetensors());
  TestClient client;
  client.request(1, "initialize", {{"capabilities", engine_client_capabilities()},
                                   {"rootUri", "file://" + dir.path("")},
                                   {"initializationOptions", {{"amct", {{"weights", "model.safetensors"}}}}}});
  client.notify("initialized", json::object());
  const std::string uri = "file://" + dir.path("quant.cfg");
  client.open(uri, kConfig);
  client.answer_server_requests();  // the progress token

  // Progress: create, then begin/report/end on that token once the client answered.
  const auto creates = client.with_method("window/workDoneProgress/create");
  REQUIRE(creates.size() == 1);
  const json token = creates[0]["params"]["token"];
  std::vector<std::string> kinds;
  for (const json& p : client.with_method("$/progress"))
    if (p["params"]["token"] == token) kinds.push_back(p["params"]["value"]["kind"]);
  // The job may finish before the client answers: then no begin is sent at all.
  if (!kinds.empty()) {
    CHECK(kinds.front() == "begin");
    CHECK(kinds.back() == "end");
  }
  CHECK(client.with_method("workspace/codeLens/refresh").size() == 1);

  const std::vector<std::string> titles = client.lens_titles(2, uri);
  // Two precedence lenses and two estimate lenses (global: conv1 + layer1.conv; fc's override).
  REQUIRE(count_containing(titles, "≈ SQNR") == 2);
  CHECK(count_containing(titles, "· 2 layers") == 1);
  CHECK(count_containing(titles, "· 1 layer") == 1);
  std::string fc_int4;
  for (const std::string& t : titles)
    if (t.find("· 1 layer") != std::string::npos) fc_int4 = t;

  // An edit: INT4 -> INT8 on fc. Only fc is recomputed; its lens changes.
  std::string edited = kConfig;
  edited.replace(edited.find("INT4"), 4, "INT8");
  client.notify("textDocument/didChange", {{"textDocument", {{"uri", uri}, {"version", 2}}},
                                           {"contentChanges", {{{"text", edited}}}}});
  client.answer_server_requests();
  CHECK(client.with_method("workspace/codeLens/refresh").size() == 2);
  const std::vector<std::string> after = client.lens_titles(3, uri);
  REQUIRE(count_containing(after, "· 1 layer") == 1);
  CHECK(count_containing(after, fc_int4) == 0);  // INT8 on fc: a higher SQNR

  // Completion of the model's layer names.
  client.notify("textDocument/didChange",
                {{"textDocument", {{"uri", uri}, {"version", 3}}}, {"contentChanges", {{{"text", "skip_layers: \"\"\n"}}}}});
  client.request(4, "textDocument/completion",
                 {{"textDocument", {{"uri", uri}}}, {"position", {{"line", 0}, {"character", 14}}}});
  std::vector<std::string> labels;
  const json completion = client.response(4);
  for (const json& item : completion["result"]["items"]) labels.push_back(item["label"]);
  CHECK(labels == std::vector<std::string>{"\"conv1\"", "\"layer1.conv\"", "\"fc\""});
}

TEST_CASE("in-process: model-aware diagnostics; a bad weights file is reported and the server stays up",
          "[lsp][server][estimate]") {
  amct::test::TempDir dir;
  const std::string weights = dir.write("model.safetensors", amct::test::tiny_model_safetensors());
  TestClient client;
  client.request(1, "initialize", {{"capabilities", json::object()}});
  const std::string uri = "file://" + dir.path("quant.cfg");
  client.notify("workspace/didChangeConfiguration", {{"settings", {{"amct", {{"weights", weights}}}}}});
  client.open(uri, "retrain_weight_quant_config { arq_retrain { dst_type: INT8 } }\nskip_layers: \"fc1\"\n");
  auto published = client.with_method("textDocument/publishDiagnostics");
  REQUIRE(!published.empty());
  const json& diagnostics = published.back()["params"]["diagnostics"];
  REQUIRE(diagnostics.size() == 1);
  CHECK(diagnostics[0]["code"] == "model-unknown-layer");
  CHECK(diagnostics[0]["message"].get<std::string>().find("did you mean 'fc'?") != std::string::npos);

  // A truncated file: one clear message, no model diagnostics, requests still answered.
  const std::string truncated = amct::test::tiny_model_safetensors().substr(0, 200);
  const std::string bad = dir.write("bad.safetensors", truncated);
  client.notify("workspace/didChangeConfiguration", {{"settings", {{"amct", {{"weights", bad}}}}}});
  const auto messages = client.with_method("window/showMessage");
  REQUIRE(messages.size() == 1);
  CHECK(messages[0]["params"]["type"] == 1);
  const std::string text = messages[0]["params"]["message"];
  CHECK(text.find("amct.weights: ") == 0);
  CHECK(text.find("bad.safetensors") != std::string::npos);
  published = client.with_method("textDocument/publishDiagnostics");
  CHECK(published.back()["params"]["diagnostics"].empty());
  const std::vector<std::string> titles = client.lens_titles(2, uri);
  CHECK(count_containing(titles, "⚠ amct.weights: ") == 1);
  client.request(3, "textDocument/hover", {{"textDocument", {{"uri", uri}}}, {"position", {{"line", 0}, {"character", 3}}}});
  CHECK(client.response(3)["result"].is_object());

  // Fixing the file (same path, new size) reloads it.
  dir.write("bad.safetensors", amct::test::tiny_model_safetensors());
  client.notify("workspace/didChangeConfiguration", {{"settings", {{"amct", {{"weights", bad}}}}}});
  published = client.with_method("textDocument/publishDiagnostics");
  CHECK(published.back()["params"]["diagnostics"].size() == 1);
  CHECK(client.with_method("window/showMessage").size() == 1);
}

TEST_CASE("in-process: a client that pulls diagnostics gets no pushes, and a refresh when results change",
          "[lsp][server][pull]") {
  amct::test::TempDir dir;
  const std::string weights = dir.write("model.safetensors", amct::test::tiny_model_safetensors());
  const std::string uri = "file://" + dir.path("quant.cfg");
  const std::string text = "retrain_weight_quant_config { arq_retrain { dst_type: INT8 } }\nskip_layers: \"fc1\"\nbatch_num: x\n";

  SECTION("pull client") {
    TestClient client;
    client.request(1, "initialize", {{"capabilities", {{"textDocument", {{"diagnostic", {{"dynamicRegistration", false}}}}},
                                                       {"workspace", {{"diagnostics", {{"refreshSupport", true}}}}}}}});
    client.open(uri, text);
    client.request(2, "textDocument/diagnostic", {{"textDocument", {{"uri", uri}}}});
    CHECK(client.response(2)["result"]["items"].size() == 1);  // batch_num: x
    CHECK(client.with_method("textDocument/publishDiagnostics").empty());
    CHECK(client.with_method("workspace/diagnostic/refresh").empty());
    // The model adds a diagnostic to the same version: the client is asked to pull again.
    client.notify("workspace/didChangeConfiguration", {{"settings", {{"amct", {{"weights", weights}}}}}});
    CHECK(client.with_method("workspace/diagnostic/refresh").size() == 1);
    client.request(3, "textDocument/diagnostic", {{"textDocument", {{"uri", uri}}}});
    CHECK(client.response(3)["result"]["items"].size() == 2);
    // An edit: the client pulls by itself, no refresh needed.
    client.notify("textDocument/didChange", {{"textDocument", {{"uri", uri}, {"version", 2}}},
                                             {"contentChanges", {{{"text", "retrain_weight_quant_config { arq_retrain { dst_type: INT8 } }\n"}}}}});
    client.request(4, "textDocument/diagnostic", {{"textDocument", {{"uri", uri}}}});
    CHECK(client.response(4)["result"]["items"].empty());
    CHECK(client.with_method("workspace/diagnostic/refresh").size() == 1);
    client.notify("textDocument/didClose", {{"textDocument", {{"uri", uri}}}});
    CHECK(client.with_method("textDocument/publishDiagnostics").empty());
  }

  SECTION("push client") {
    TestClient client;
    client.request(1, "initialize", {{"capabilities", json::object()}});
    client.open(uri, text);
    auto published = client.with_method("textDocument/publishDiagnostics");
    REQUIRE(published.size() == 1);
    CHECK(published[0]["params"]["diagnostics"].size() == 1);
    client.notify("workspace/didChangeConfiguration", {{"settings", {{"amct", {{"weights", weights}}}}}});
    published = client.with_method("textDocument/publishDiagnostics");
    REQUIRE(published.size() == 2);
    CHECK(published[1]["params"]["diagnostics"].size() == 2);
    CHECK(client.with_method("workspace/diagnostic/refresh").empty());
  }
}

TEST_CASE("in-process: a weights file changed on disk is reloaded and its estimates recomputed",
          "[lsp][server][estimate][watch]") {
  amct::test::TempDir dir;
  const std::string weights = dir.write("model.safetensors", amct::test::tiny_model_safetensors());
  const std::string uri = "file://" + dir.path("quant.cfg");
  auto fc_lens = [](const std::vector<std::string>& titles) {
    for (const std::string& t : titles)
      if (t.find("· 1 layer") != std::string::npos) return t;
    return std::string();
  };

  SECTION("the client watches the files the server registered") {
    json capabilities = engine_client_capabilities();
    capabilities["workspace"]["didChangeWatchedFiles"] = {{"dynamicRegistration", true}, {"relativePatternSupport", true}};
    TestClient client;
    client.request(1, "initialize", {{"capabilities", capabilities},
                                     {"rootUri", "file://" + dir.path("")},
                                     {"initializationOptions", {{"amct", {{"weights", "model.safetensors"}}}}}});
    client.notify("initialized", json::object());
    const auto registrations = client.with_method("client/registerCapability");
    REQUIRE(registrations.size() == 1);
    const json& registration = registrations[0]["params"]["registrations"][0];
    CHECK(registration["method"] == "workspace/didChangeWatchedFiles");
    const json& watcher = registration["registerOptions"]["watchers"][0];
    CHECK(watcher["globPattern"]["baseUri"] == "file://" + dir.path(""));
    CHECK(watcher["globPattern"]["pattern"] == "model.safetensors");

    client.open(uri, kConfig);
    client.answer_server_requests();
    const std::string before = fc_lens(client.lens_titles(2, uri));
    REQUIRE(!before.empty());
    CHECK(client.with_method("workspace/codeLens/refresh").size() == 1);

    // Rewritten in place, same size: the client's word is enough.
    const std::string changed = amct::test::tiny_model_safetensors(1000.0f);
    REQUIRE(changed.size() == amct::test::tiny_model_safetensors().size());
    dir.write("model.safetensors", changed);
    client.notify("workspace/didChangeWatchedFiles", {{"changes", {{{"uri", "file://" + weights}, {"type", 2}}}}});
    client.answer_server_requests();
    CHECK(client.with_method("workspace/codeLens/refresh").size() == 2);
    const std::string after = fc_lens(client.lens_titles(3, uri));
    REQUIRE(!after.empty());
    CHECK(after != before);

    // Another file: nothing happens.
    client.notify("workspace/didChangeWatchedFiles",
                  {{"changes", {{{"uri", "file://" + dir.path("other.safetensors")}, {"type", 2}}}}});
    client.answer_server_requests();
    CHECK(client.with_method("workspace/codeLens/refresh").size() == 2);

    // Other files in the settings: the old registration goes, a new one comes.
    const std::string manifest = dir.write("layers.json", "{\"layers\":[]}");
    client.notify("workspace/didChangeConfiguration",
                  {{"settings", {{"amct", {{"weights", "model.safetensors"}, {"manifest", manifest}}}}}});
    CHECK(client.with_method("client/unregisterCapability").size() == 1);
    const auto again = client.with_method("client/registerCapability");
    REQUIRE(again.size() == 2);
    CHECK(again[1]["params"]["registrations"][0]["registerOptions"]["watchers"].size() == 2);
  }

  SECTION("without watching: the stamps of the file, checked when estimates are asked for") {
    TestClient client;
    client.request(1, "initialize", {{"capabilities", engine_client_capabilities()},
                                     {"initializationOptions", {{"amct", {{"weights", weights}}}}}});
    client.notify("initialized", json::object());
    CHECK(client.with_method("client/registerCapability").empty());
    client.open(uri, kConfig);
    client.answer_server_requests();
    const std::string before = fc_lens(client.lens_titles(2, uri));
    REQUIRE(!before.empty());

    // Replaced by a rename, as many tools save: same size, a new inode.
    const std::string fresh = dir.write("model.safetensors.tmp", amct::test::tiny_model_safetensors(1000.0f));
    REQUIRE(std::rename(fresh.c_str(), weights.c_str()) == 0);
    client.lens_titles(3, uri);  // sees the change, starts the recomputation
    client.answer_server_requests();
    CHECK(client.with_method("workspace/codeLens/refresh").size() == 2);
    const std::string after = fc_lens(client.lens_titles(4, uri));
    REQUIRE(!after.empty());
    CHECK(after != before);
  }
}

TEST_CASE("in-process: amct.estimatesIn inlayHint shows the estimates as inlay hints at the blocks' line ends",
          "[lsp][server][estimate][inlay-hints]") {
  amct::test::TempDir dir;
  const std::string weights = dir.write("model.safetensors", amct::test::tiny_model_safetensors());
  json capabilities = engine_client_capabilities();
  capabilities["workspace"]["inlayHint"] = {{"refreshSupport", true}};
  TestClient client;
  client.request(1, "initialize",
                 {{"capabilities", capabilities},
                  {"initializationOptions", {{"amct", {{"weights", weights}, {"estimatesIn", "inlayHint"}}}}}});
  client.notify("initialized", json::object());
  const std::string uri = "file://" + dir.path("quant.cfg");
  client.open(uri, kConfig);
  client.answer_server_requests();
  CHECK(client.with_method("workspace/inlayHint/refresh").size() == 1);
  CHECK(client.with_method("workspace/codeLens/refresh").empty());
  CHECK(count_containing(client.lens_titles(2, uri), "≈ SQNR") == 0);

  const json whole = {{"start", {{"line", 0}, {"character", 0}}}, {"end", {{"line", 9}, {"character", 0}}}};
  client.request(3, "textDocument/inlayHint", {{"textDocument", {{"uri", uri}}}, {"range", whole}});
  std::vector<json> estimates;
  const json answer = client.response(3);
  for (const json& hint : answer["result"])
    if (hint["label"].get<std::string>().starts_with("≈ SQNR")) estimates.push_back(hint);
  REQUIRE(estimates.size() == 2);
  // Line 0: the global block, whole on its line; line 1: "override_layer_configs {".
  const std::string first_line = std::string(kConfig).substr(0, std::string(kConfig).find('\n'));
  CHECK(estimates[0]["position"] == json{{"line", 0}, {"character", first_line.size()}});
  CHECK(estimates[1]["position"] == json{{"line", 1}, {"character", std::string("override_layer_configs {").size()}});
  CHECK_THAT(estimates[1]["label"].get<std::string>(), Catch::EndsWith("· 1 layer"));
}
