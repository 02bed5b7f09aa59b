// In-process server tests: the LanguageServer with a capturing sink; tests
// wait for the server to be idle, never sleep.
#include "server/lsp_server.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <memory>
#include <cstdio>
#include <mutex>
#include <vector>

#include "server/idle_memory.h"
#include "support/config_generator.h"

using amct::server::LanguageServer;
using nlohmann::json;

namespace {

class TestClient {
 public:
  TestClient() : server_([this](const std::string& body) { capture(body); }) {}

  void send(const json& message) { server_.on_message(message.dump()); }
  void request(int id, const std::string& method, json params) {
    send({{"jsonrpc", "2.0"}, {"id", id}, {"method", method}, {"params", std::move(params)}});
  }
  void notify(const std::string& method, json params) {
    send({{"jsonrpc", "2.0"}, {"method", method}, {"params", std::move(params)}});
  }
  std::vector<json> received() {
    server_.wait_idle();
    std::lock_guard lock(mutex_);
    return messages_;
  }
  LanguageServer& server() { return server_; }

 private:
  void capture(const std::string& body) {
    std::lock_guard lock(mutex_);
    messages_.push_back(json::parse(body));
  }
  std::mutex mutex_;
  std::vector<json> messages_;
  LanguageServer server_;
};

std::vector<json> published(const std::vector<json>& messages, const std::string& uri) {
  std::vector<json> out;
  for (const json& m : messages)
    if (m.value("method", "") == "textDocument/publishDiagnostics" && m["params"]["uri"] == uri) out.push_back(m);
  return out;
}

}  // namespace

TEST_CASE("in-process: edits faster than checks publish only the latest version", "[lsp][server]") {
  TestClient client;
  client.request(1, "initialize", {{"capabilities", json::object()}});
  const std::string uri = "file:///w/a.txtpb";
  client.notify("textDocument/didOpen", {{"textDocument", {{"uri", uri}, {"version", 1}, {"text", "a: 1"}}}});
  for (int version = 2; version <= 50; ++version)
    client.notify("textDocument/didChange", {{"textDocument", {{"uri", uri}, {"version", version}}},
                                             {"contentChanges", {{{"text", version == 50 ? "a: 1bad" : "a: 1"}}}}});
  const auto diagnostics = published(client.received(), uri);
  REQUIRE(!diagnostics.empty());
  // Debounced: the 50 edits in a row do not give 50 checks, and the last is version 50.
  CHECK(diagnostics.size() < 50);
  CHECK(diagnostics.back()["params"]["version"] == 50);
  CHECK(diagnostics.back()["params"]["diagnostics"].size() == 1);
}

TEST_CASE("in-process: out-of-order and unknown-document changes are ignored", "[lsp][server]") {
  TestClient client;
  client.request(1, "initialize", {{"capabilities", json::object()}});
  const std::string uri = "file:///w/b.txtpb";
  client.notify("textDocument/didOpen", {{"textDocument", {{"uri", uri}, {"version", 5}, {"text", "a: 1"}}}});
  client.notify("textDocument/didChange", {{"textDocument", {{"uri", uri}, {"version", 3}}},
                                           {"contentChanges", {{{"text", "a: 1bad"}}}}});
  client.notify("textDocument/didChange", {{"textDocument", {{"uri", "file:///w/never-opened.txtpb"}, {"version", 9}}},
                                           {"contentChanges", {{{"text", "x"}}}}});
  const auto diagnostics = published(client.received(), uri);
  REQUIRE(!diagnostics.empty());
  CHECK(diagnostics.back()["params"]["version"] == 5);
  CHECK(diagnostics.back()["params"]["diagnostics"].empty());
  CHECK(published(client.received(), "file:///w/never-opened.txtpb").empty());
}

TEST_CASE("in-process: shutdown then exit gives exit code 0; requests after shutdown are refused", "[lsp][server]") {
  TestClient client;
  client.request(1, "initialize", {{"capabilities", json::object()}});
  client.request(2, "shutdown", nullptr);
  client.request(3, "textDocument/hover", {{"textDocument", {{"uri", "file:///x"}}}, {"position", {{"line", 0}, {"character", 0}}}});
  client.notify("exit", nullptr);
  const auto messages = client.received();
  REQUIRE(messages.size() == 3);
  CHECK(messages[2]["id"] == 3);
  CHECK(messages[2]["error"]["code"] == -32600);
  CHECK(client.server().exit_requested());
  CHECK(client.server().exit_code() == 0);
}

TEST_CASE("in-process: published diagnostics link their code to the docs page", "[lsp][server]") {
  TestClient client;
  client.request(1, "initialize", {{"capabilities", json::object()},
                                   {"initializationOptions", {{"amct", {{"diagnosticsDocsUrl", "https://d.example/diagnostics.md"}}}}}});
  const std::string uri = "file:///w/linked.cfg";
  client.notify("textDocument/didOpen",
                {{"textDocument", {{"uri", uri}, {"version", 1}, {"text", "batch_nm: 1\n"}}}});
  const auto diagnostics = published(client.received(), uri);
  REQUIRE(!diagnostics.empty());
  const json& items = diagnostics.back()["params"]["diagnostics"];
  REQUIRE(!items.empty());
  CHECK(items[0]["code"] == "unknown-field");
  CHECK(items[0]["codeDescription"]["href"] == "https://d.example/diagnostics.md#unknown-field");
}

TEST_CASE("in-process: $/logTrace follows the trace level", "[lsp][server]") {
  auto traces = [](const std::vector<json>& messages) {
    std::vector<json> out;
    for (const json& m : messages)
      if (m.value("method", "") == "$/logTrace") out.push_back(m["params"]);
    return out;
  };
  TestClient client;
  client.request(1, "initialize", {{"capabilities", json::object()}, {"trace", "off"}});
  client.request(2, "textDocument/hover", {{"textDocument", {{"uri", "file:///x"}}}, {"position", {{"line", 0}, {"character", 0}}}});
  CHECK(traces(client.received()).empty());

  client.notify("$/setTrace", {{"value", "messages"}});
  client.request(3, "textDocument/hover", {{"textDocument", {{"uri", "file:///x"}}}, {"position", {{"line", 0}, {"character", 0}}}});
  auto logged = traces(client.received());
  REQUIRE(logged.size() == 2);
  CHECK(logged[0]["message"] == "Received request 'textDocument/hover - (3)'.");
  CHECK(logged[0].count("verbose") == 0);
  CHECK(logged[1]["message"].get<std::string>().starts_with("Sending response 'textDocument/hover - (3)'."));

  client.notify("$/setTrace", {{"value", "verbose"}});
  client.notify("workspace/didChangeConfiguration", {{"settings", {{"amct", {{"socVersion", "Ascend910B2"}}}}}});
  logged = traces(client.received());
  REQUIRE(logged.size() == 4);
  CHECK(logged[3]["message"] == "Received notification 'workspace/didChangeConfiguration'.");
  CHECK(logged[3]["verbose"].get<std::string>().find("Ascend910B2") != std::string::npos);

  client.notify("$/setTrace", {{"value", "off"}});  // still traced: it arrives at level verbose
  client.request(4, "shutdown", nullptr);
  logged = traces(client.received());
  REQUIRE(logged.size() == 5);
  CHECK(logged[4]["message"] == "Received notification '$/setTrace'.");
}

TEST_CASE("in-process: an edit to an idle server is checked at once; a burst waits and coalesces", "[lsp][server]") {
  // A long debounce makes the difference measurable: the single edit must
  // not wait for it, the burst must.
  std::mutex mutex;
  std::vector<json> messages;
  amct::server::LanguageServerOptions options;
  options.diagnostics_debounce = std::chrono::milliseconds(3000);
  LanguageServer server([&](const std::string& body) {
    std::lock_guard lock(mutex);
    messages.push_back(json::parse(body));
  }, options);
  auto send = [&](const std::string& method, json params) {
    server.on_message(json{{"jsonrpc", "2.0"}, {"method", method}, {"params", std::move(params)}}.dump());
  };
  server.on_message(json{{"jsonrpc", "2.0"}, {"id", 1}, {"method", "initialize"}, {"params", {{"capabilities", json::object()}}}}.dump());
  const std::string uri = "file:///w/debounce.txtpb";
  // The server is idle and no check ran within the debounce: checked at once.
  auto start = std::chrono::steady_clock::now();
  send("textDocument/didOpen", {{"textDocument", {{"uri", uri}, {"version", 2}, {"text", "a: 2bad"}}}});
  server.wait_idle();
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::milliseconds(2000));
  {
    std::lock_guard lock(mutex);
    const auto diagnostics = published(messages, uri);
    REQUIRE(diagnostics.size() == 1);
    CHECK(diagnostics.back()["params"]["version"] == 2);
    messages.clear();
  }

  start = std::chrono::steady_clock::now();
  for (int version = 3; version <= 40; ++version)
    send("textDocument/didChange", {{"textDocument", {{"uri", uri}, {"version", version}}},
                                    {"contentChanges", {{{"text", "a: " + std::to_string(version)}}}}});
  server.wait_idle();
  CHECK(std::chrono::steady_clock::now() - start >= std::chrono::milliseconds(3000));
  std::lock_guard lock(mutex);
  const auto diagnostics = published(messages, uri);
  REQUIRE(!diagnostics.empty());
  CHECK(diagnostics.size() == 1);  // within the debounce of the last check: the burst coalesces
  CHECK(diagnostics.back()["params"]["version"] == 40);
  for (const json& d : diagnostics) CHECK(d["params"]["version"] >= 3);
}

// The server learns a version's `# soc:` header after its check, from the
// check's outline when that has no SoC header (no walk); completion must see
// a header added by an edit, and keep it across edits that reuse the outline.
TEST_CASE("in-process: completion follows a `# soc:` header added and kept by edits", "[lsp][server]") {
  TestClient client;
  client.request(1, "initialize", {{"capabilities", json::object()}});
  const std::string uri = "file:///w/soc.cfg";
  client.notify("textDocument/didOpen",
                {{"textDocument",
                  {{"uri", uri}, {"version", 1}, {"text", "retrain_weight_quant_config { arq_retrain { dst_type: INT8 } }\n"}}}});
  int id = 10;
  auto int4_detail = [&](int line) {
    client.request(++id, "textDocument/completion",
                   {{"textDocument", {{"uri", uri}}}, {"position", {{"line", line}, {"character", 54}}}});
    for (const json& m : client.received()) {
      if (m.value("id", 0) != id) continue;
      const json& result = m["result"];
      const json& items = result.is_array() ? result : result["items"];
      for (const json& item : items)
        if (item["label"] == "INT4") return item.value("detail", std::string());
    }
    return std::string("(no INT4 item)");
  };
  CHECK_THAT(int4_detail(0), !Catch::Contains("not supported on Ascend910B2") && !Catch::Contains("no INT4"));
  auto edit = [&](int version, int line, int character, const std::string& text) {
    const json at = {{"line", line}, {"character", character}};
    json change = {{"range", {{"start", at}, {"end", at}}}, {"text", text}};
    client.notify("textDocument/didChange", {{"textDocument", {{"uri", uri}, {"version", version}}},
                                             {"contentChanges", json::array({change})}});
    (void)client.received();
  };
  edit(2, 0, 0, "# soc: Ascend910B2\n");
  CHECK_THAT(int4_detail(1), Catch::Contains("not supported on Ascend910B2"));
  edit(3, 1, 29, " ");  // a blank inside the message: the outline is kept
  edit(4, 1, 29, "");
  CHECK_THAT(int4_detail(1), Catch::Contains("not supported on Ascend910B2"));
}

TEST_CASE("in-process: after an edit checked from the fields around it, idle time parses the whole tree",
          "[lsp][server][idle-parse]") {
  TestClient client;
  client.request(1, "initialize", {{"capabilities", json::object()}});
  const std::string uri = "file:///w/large.cfg";
  const std::string text = amct::bench::generate_config(300, 7);
  client.notify("textDocument/didOpen", {{"textDocument", {{"uri", uri}, {"version", 1}, {"text", text}}}});
  client.received();
  // A digit inside a value, far from the top: checked from the fields around it.
  const size_t at = text.find("clip_max: ", text.size() / 2) + 10;
  const size_t line = static_cast<size_t>(std::count(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(at), '\n'));
  const size_t column = at - (text.rfind('\n', at) + 1);
  for (int version = 2; version <= 4; ++version) {
    json change = {{"range", {{"start", {{"line", line}, {"character", column}}},
                              {"end", {{"line", line}, {"character", column + 1}}}}},
                   {"text", std::to_string(version)}};
    client.notify("textDocument/didChange", {{"textDocument", {{"uri", uri}, {"version", version}}},
                                             {"contentChanges", json::array({change})}});
    const auto diagnostics = published(client.received(), uri);
    REQUIRE(!diagnostics.empty());
    CHECK(diagnostics.back()["params"]["version"] == version);
    // Idle: the version just checked has its tree, ready for the next request.
    CHECK(client.server().document_tree_parsed(uri));
  }
  client.request(2, "textDocument/hover", {{"textDocument", {{"uri", uri}}},
                                           {"position", {{"line", line}, {"character", column - 6}}}});  // on `clip_max`
  bool answered = false;
  for (const json& m : client.received())
    if (m.value("id", 0) == 2) answered = m.contains("result") && !m["result"].is_null();
  CHECK(answered);
}

TEST_CASE("in-process: once idle after an edit, the checking thread holds no unmerged freed blocks",
          "[lsp][server][idle-memory]") {
  if (amct::server::unmerged_freed_small_blocks() == 0 && [] {
        // Not glibc (nothing to count): the check below cannot say anything.
        std::vector<std::unique_ptr<int>> blocks;
        for (int i = 0; i < 100; ++i) blocks.push_back(std::make_unique<int>(i));
        blocks.clear();
        return amct::server::unmerged_freed_small_blocks() == 0;
      }()) {
    WARN("the C library's allocator is not glibc's: nothing to check");
    return;
  }
  // Arenas of earlier tests' threads keep what they held.
  amct::server::merge_freed_small_blocks();
  const size_t before = amct::server::unmerged_freed_small_blocks();
  TestClient client;
  client.request(1, "initialize", {{"capabilities", json::object()}});
  const std::string uri = "file:///w/merged.cfg";
  const std::string text = amct::bench::generate_config(1000, 11);
  client.notify("textDocument/didOpen", {{"textDocument", {{"uri", uri}, {"version", 1}, {"text", text}}}});
  client.received();
  // A blank at the start of line 3, as lsp_bench types: checked from the
  // fields around it, then the whole tree parsed while idle, and the tree
  // and model it replaces freed (tens of thousands of small blocks).
  for (int version = 2; version <= 3; ++version) {
    json change = {{"range", {{"start", {{"line", 3}, {"character", 0}}}, {"end", {{"line", 3}, {"character", 0}}}}},
                   {"text", " "}};
    client.notify("textDocument/didChange", {{"textDocument", {{"uri", uri}, {"version", version}}},
                                             {"contentChanges", json::array({change})}});
    REQUIRE(published(client.received(), uri).back()["params"]["version"] == version);
  }
  // This thread's own frees (the JSON it sent) are merged here; what is
  // added is in the server's threads' arenas: ~1,000 blocks for this config
  // without the server's idle merge (measured), a handful with it.
  amct::server::merge_freed_small_blocks();
  CHECK(amct::server::unmerged_freed_small_blocks() < before + 200);
}

TEST_CASE("in-process: a traced publish says how long after the change each step ended", "[lsp][server]") {
  TestClient client;
  client.request(1, "initialize", {{"capabilities", json::object()}, {"trace", "messages"}});
  const std::string uri = "file:///w/timed.cfg";
  client.notify("textDocument/didOpen",
                {{"textDocument", {{"uri", uri}, {"version", 1}, {"text", "batch_num: 0\n"}}}});
  // The traces of the publishes of one version.
  auto publish_traces = [&](int version) {
    std::vector<std::string> out;
    for (const json& m : client.received()) {
      if (m.value("method", "") != "$/logTrace") continue;
      const std::string message = m["params"]["message"];
      if (message.starts_with("Published ") && message.find(" version " + std::to_string(version) + ";") != std::string::npos)
        out.push_back(message);
    }
    return out;
  };
  std::vector<std::string> traced = publish_traces(1);
  REQUIRE(traced.size() == 1);
  // An open is timed from the start of its check.
  CHECK(traced[0].find(" diagnostics of " + uri + " version 1; ms after the check started: diagnostics ready ") !=
        std::string::npos);

  client.notify("textDocument/didChange",
                {{"textDocument", {{"uri", uri}, {"version", 2}}},
                 {"contentChanges", {{{"range", {{"start", {{"line", 0}, {"character", 11}}}, {"end", {{"line", 0}, {"character", 12}}}}},
                                      {"text", "4"}}}}});
  traced = publish_traces(2);
  REQUIRE(traced.size() == 1);
  const std::string& trace = traced[0];
  INFO(trace);
  const std::string after = " diagnostics of " + uri + " version 2; ms after the change arrived: ";
  const size_t at = trace.find(after);
  REQUIRE(at != std::string::npos);
  // Each step ends no earlier than the one before.
  double applied = -1, started = -1, ready = -1, json_written = -1, sent = -1;
  REQUIRE(std::sscanf(trace.c_str() + at + after.size(), "applied %lf, check started %lf, diagnostics ready %lf, JSON %lf, sent %lf",
                      &applied, &started, &ready, &json_written, &sent) == 5);
  CHECK(0 <= applied);
  CHECK(applied <= started);
  CHECK(started <= ready);
  CHECK(ready <= json_written);
  CHECK(json_written <= sent);
}
