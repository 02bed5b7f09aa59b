// Protocol abuse battery (issue 7 item 3), end to end against the real
// binary: every answer is the right JSON-RPC error (or the message is
// ignored, as the spec says), the server stays responsive, and memory stays
// bounded. Cases the [lsp][e2e] tests already cover (invalid JSON, missing
// Content-Length, wrong parameter types, unknown methods, requests before
// initialize, EOF mid-message) are not repeated.
#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>
#include <string>

#include "support/lsp_client.h"

using amct::test::LspProcess;
using nlohmann::json;

namespace {

json initialize_params() {
  return {{"processId", nullptr}, {"rootUri", "file:///tmp"}, {"capabilities", json::object()}};
}

LspProcess& initialized(LspProcess& server) {
  REQUIRE(server.wait_for_response(server.request("initialize", initialize_params())));
  server.notify("initialized", json::object());
  return server;
}

// A field of /proc/<pid>/status in kB ("VmRSS", "VmHWM"), -1 if unreadable.
long status_kb(pid_t pid, const std::string& field) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind(field + ":", 0) == 0) return std::stol(line.substr(field.size() + 1));
  }
  return -1;
}

// The server answers a request: it is alive and reading.
void require_responsive(LspProcess& server) {
  const auto response = server.wait_for_response(
      server.request("textDocument/documentSymbol", {{"textDocument", {{"uri", "file:///tmp/none.cfg"}}}}));
  REQUIRE(response);
  CHECK((*response)["result"].is_null());
}

bool is_diagnostics_for(const json& m, const std::string& uri) {
  return m.value("method", "") == "textDocument/publishDiagnostics" && m["params"]["uri"] == uri;
}

void open(LspProcess& server, const std::string& uri, const std::string& text, int version = 1) {
  server.notify("textDocument/didOpen",
                {{"textDocument", {{"uri", uri}, {"languageId", "amct-cfg"}, {"version", version}, {"text", text}}}});
}

// A config without diagnostics.
const std::string kCleanConfig = "retrain_weight_quant_config {\n  arq_retrain { channel_wise: true }\n}\n";

const bool kUnderAsan =
#if defined(__SANITIZE_ADDRESS__)
    true;
#else
    false;
#endif

}  // namespace

TEST_CASE("abuse: a wrong Content-Length costs one message, then the server reads on", "[lsp][abuse]") {
  LspProcess server;
  initialized(server);
  const std::string body = json{{"jsonrpc", "2.0"}, {"id", 900}, {"method", "shutdown"}}.dump();
  SECTION("bigger than the body") {
    // The server reads the next message's header as the rest of this body.
    server.send_raw("Content-Length: " + std::to_string(body.size() + 30) + "\r\n\r\n" + body);
    server.send(json{{"jsonrpc", "2.0"}, {"method", "$/ignored"}});
  }
  SECTION("smaller than the body") {
    server.send_raw("Content-Length: " + std::to_string(body.size() - 10) + "\r\n\r\n" + body);
  }
  SECTION("truncated body followed by the next message") {
    server.send_raw("Content-Length: 500\r\n\r\n{\"jsonrpc\":\"2.0\",\"id\":901,");
    // 500 bytes are not there: the next two messages are read as its body.
    server.send(json{{"jsonrpc", "2.0"}, {"method", "$/ignored"}, {"params", std::string(300, 'p')}});
    server.send(json{{"jsonrpc", "2.0"}, {"method", "$/ignored"}, {"params", std::string(300, 'p')}});
  }
  const auto error = server.wait_for([](const json& m) { return m.contains("error"); });
  REQUIRE(error);
  CHECK((*error)["error"]["code"] == -32700);
  CHECK((*error)["id"].is_null());
  require_responsive(server);
  // Nothing was mistaken for the shutdown request.
  for (const json& m : server.seen) CHECK(m.value("id", json()) != 900);
}

TEST_CASE("abuse: a 200 MB message is refused by the limit without being read into memory", "[lsp][abuse]") {
  LspProcess server;
  initialized(server);
  require_responsive(server);
  const long before_kb = status_kb(server.pid(), "VmHWM");
  constexpr size_t kSize = 200u << 20;
  server.send_raw("Content-Length: " + std::to_string(kSize) + "\r\n\r\n");
  const std::string chunk(1 << 20, 'x');
  for (size_t sent = 0; sent < kSize; sent += chunk.size()) server.send_raw(chunk);
  const auto error = server.wait_for([](const json& m) { return m.contains("error"); });
  REQUIRE(error);
  CHECK((*error)["error"]["code"] == -32700);
  CHECK((*error)["error"]["message"].get<std::string>().find("exceeds the limit") != std::string::npos);
  require_responsive(server);
  const long peak_kb = status_kb(server.pid(), "VmHWM");
  INFO("peak resident memory before " << before_kb << " kB, after the 200 MB message " << peak_kb << " kB");
  REQUIRE(peak_kb > 0);
  CHECK(peak_kb - before_kb < 32 * 1024);  // far below the 200 MB sent
}

TEST_CASE("abuse: requests after shutdown get InvalidRequest; exit then gives 0", "[lsp][abuse]") {
  LspProcess server;
  initialized(server);
  REQUIRE(server.wait_for_response(server.request("shutdown", nullptr)));
  for (const char* method : {"textDocument/hover", "shutdown", "initialize", "textDocument/nonsense"}) {
    const auto response = server.wait_for_response(
        server.request(method, {{"textDocument", {{"uri", "file:///tmp/a.cfg"}}},
                                {"position", {{"line", 0}, {"character", 0}}}}));
    REQUIRE(response);
    INFO(method);
    CHECK((*response)["error"]["code"] == -32600);
  }
  // Notifications after shutdown are dropped (no diagnostics).
  open(server, "file:///tmp/after.cfg", "nonsense_field: 1\n");
  server.notify("exit", nullptr);
  CHECK(server.wait_exit() == 0);
  for (const json& m : server.seen) CHECK(!is_diagnostics_for(m, "file:///tmp/after.cfg"));
}

TEST_CASE("abuse: positions past the end are clamped", "[lsp][abuse]") {
  LspProcess server;
  initialized(server);
  const std::string uri = "file:///tmp/past.cfg";
  open(server, uri, kCleanConfig);
  const json far = {{"line", 100000}, {"character", 4000000000u}};
  for (const char* method : {"textDocument/completion", "textDocument/hover", "textDocument/definition"}) {
    const auto response =
        server.wait_for_response(server.request(method, {{"textDocument", {{"uri", uri}}}, {"position", far}}));
    REQUIRE(response);
    INFO(method << ": " << response->dump());
    CHECK(response->contains("result"));
  }
  const json range = {{"start", {{"line", 7}, {"character", 9}}}, {"end", far}};
  for (const char* method : {"textDocument/inlayHint", "textDocument/codeAction", "textDocument/semanticTokens/range"}) {
    const auto response = server.wait_for_response(server.request(
        method, {{"textDocument", {{"uri", uri}}}, {"range", range}, {"context", {{"diagnostics", json::array()}}}}));
    REQUIRE(response);
    INFO(method << ": " << response->dump());
    CHECK(response->contains("result"));
  }
  // An edit past the end appends; the text stays consistent.
  server.notify("textDocument/didChange",
                {{"textDocument", {{"uri", uri}, {"version", 2}}},
                 {"contentChanges", {{{"range", {{"start", far}, {"end", far}}}, {"text", "nonsense_field: 2\n"}}}}});
  const auto published = server.wait_for([&](const json& m) {
    return is_diagnostics_for(m, uri) && m["params"].value("version", 0) == 2;
  });
  REQUIRE(published);
  const json& diagnostics = (*published)["params"]["diagnostics"];
  REQUIRE(diagnostics.size() == 1);
  CHECK(diagnostics[0]["code"] == "unknown-field");
  CHECK(diagnostics[0]["range"]["start"] == json{{"line", 3}, {"character", 0}});
}

TEST_CASE("abuse: invalid UTF-8 and NUL characters in document text", "[lsp][abuse]") {
  LspProcess server;
  initialized(server);
  SECTION("invalid UTF-8 makes the message invalid JSON: a parse error, nothing opened") {
    const std::string body = std::string("{\"jsonrpc\":\"2.0\",\"method\":\"textDocument/didOpen\",\"params\":{") +
                             "\"textDocument\":{\"uri\":\"file:///tmp/bad.cfg\",\"version\":1,\"languageId\":\"x\"," +
                             "\"text\":\"batch_num: \xff\xfe 1\"}}}";
    server.send_raw("Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body);
    const auto error = server.wait_for([](const json& m) { return m.contains("error"); });
    REQUIRE(error);
    CHECK((*error)["error"]["code"] == -32700);
  }
  SECTION("NUL and non-characters (U+FFFF, U+10FFFF) are text like any other") {
    const std::string uri = "file:///tmp/nul.cfg";
    static const char kText[] = "batch_num: 1\n\0\0 \xef\xbf\xbf\n# \xf4\x8f\xbf\xbf\nbatch_num";
    open(server, uri, std::string(kText, sizeof kText - 1));
    const auto published = server.wait_for([&](const json& m) { return is_diagnostics_for(m, uri); });
    REQUIRE(published);
    CHECK(!(*published)["params"]["diagnostics"].empty());
    const auto hover = server.wait_for_response(server.request(
        "textDocument/hover", {{"textDocument", {{"uri", uri}}}, {"position", {{"line", 1}, {"character", 1}}}}));
    REQUIRE(hover);
    const auto tokens = server.wait_for_response(
        server.request("textDocument/semanticTokens/full", {{"textDocument", {{"uri", uri}}}}));
    REQUIRE(tokens);
    CHECK(tokens->contains("result"));
  }
  require_responsive(server);
}

TEST_CASE("abuse: changes for unknown documents and out-of-order versions are ignored", "[lsp][abuse]") {
  LspProcess server;
  initialized(server);
  server.notify("textDocument/didChange", {{"textDocument", {{"uri", "file:///tmp/never.cfg"}, {"version", 3}}},
                                           {"contentChanges", {{{"text", "x"}}}}});
  server.notify("textDocument/didClose", {{"textDocument", {{"uri", "file:///tmp/never2.cfg"}}}});
  const std::string uri = "file:///tmp/order.cfg";
  open(server, uri, kCleanConfig, 10);
  REQUIRE(server.wait_for([&](const json& m) { return is_diagnostics_for(m, uri); }));
  for (int version : {9, 10, 3, -5}) {
    server.notify("textDocument/didChange", {{"textDocument", {{"uri", uri}, {"version", version}}},
                                             {"contentChanges", {{{"text", "broken {"}}}}});
  }
  const auto pulled =
      server.wait_for_response(server.request("textDocument/diagnostic", {{"textDocument", {{"uri", uri}}}}));
  REQUIRE(pulled);
  CHECK((*pulled)["result"]["items"].empty());  // still version 10's text
  const auto symbols =
      server.wait_for_response(server.request("textDocument/documentSymbol", {{"textDocument", {{"uri", uri}}}}));
  REQUIRE(symbols);
  REQUIRE((*symbols)["result"].size() == 1);
  CHECK((*symbols)["result"][0]["name"] == "retrain_weight_quant_config");
  for (const json& m : server.seen) {
    if (m.value("method", "") == "textDocument/publishDiagnostics") CHECK(m["params"]["uri"] != "file:///tmp/never.cfg");
    CHECK(!m.contains("error"));
  }
}

TEST_CASE("abuse: a storm of cancellations", "[lsp][abuse]") {
  LspProcess server;
  initialized(server);
  const std::string uri = "file:///tmp/storm.cfg";
  open(server, uri, "retrain_data_quant_config { ifmr_quantize { dst_type: INT8 } }\n");
  // Cancellations of ids that were never sent, or were answered long ago,
  // are ignored (and not remembered: memory stays flat).
  for (int i = 0; i < 5000; ++i) server.notify("$/cancelRequest", {{"id", 1000000 + i}});
  for (int i = 0; i < 5000; ++i) server.notify("$/cancelRequest", {{"id", "s" + std::to_string(i)}});
  server.notify("$/cancelRequest", {{"id", json::object()}});
  server.notify("$/cancelRequest", json::array());
  std::vector<int> ids;
  for (int i = 0; i < 300; ++i) {
    ids.push_back(server.request(i % 2 ? "textDocument/hover" : "textDocument/completion",
                                 {{"textDocument", {{"uri", uri}}}, {"position", {{"line", 0}, {"character", 5}}}}));
    server.notify("$/cancelRequest", {{"id", ids.back()}});
    server.notify("$/cancelRequest", {{"id", ids.back()}});  // twice
  }
  int cancelled = 0;
  for (int id : ids) {
    const auto response = server.wait_for_response(id);
    REQUIRE(response);
    if (response->contains("error")) {
      CHECK((*response)["error"]["code"] == -32800);
      ++cancelled;
    }
  }
  INFO(cancelled << " of 300 requests were cancelled before they ran");
  CHECK(cancelled > 0);
  // Each id is answered exactly once: no second answer arrives later.
  require_responsive(server);
  for (const json& m : server.seen) CHECK(!(m.contains("id") && !m.contains("method") && m["id"] != json()));
}

TEST_CASE("abuse: memory does not grow across 10,000 open/change/close cycles", "[lsp][abuse]") {
  // Under ASan freed memory waits in a quarantine; keep it small so the
  // resident set measures what the server keeps, not what ASan keeps.
  LspProcess server({}, {{"ASAN_OPTIONS", "quarantine_size_mb=1:detect_leaks=1"}});
  initialized(server);
  const std::string text = "retrain_data_quant_config {\n  ifmr_quantize { dst_type: INT8 }\n}\n"
                           "override_layer_configs { layer_name: \"conv1\" retrain_weight_quant_config { arq_retrain { channel_wise: true } } }\n";
  auto cycle = [&](int i) {
    const std::string uri = "file:///tmp/cycle" + std::to_string(i % 7) + ".cfg";
    open(server, uri, text, 1);
    server.notify("textDocument/didChange",
                  {{"textDocument", {{"uri", uri}, {"version", 2}}},
                   {"contentChanges", {{{"range", {{"start", {{"line", 1}, {"character", 2}}}, {"end", {{"line", 1}, {"character", 2}}}}},
                                        {"text", "batch_num: " + std::to_string(i) + "\n  "}}}}});
    server.notify("textDocument/didClose", {{"textDocument", {{"uri", uri}}}});
  };
  auto run = [&](int from, int to) {
    for (int i = from; i < to; ++i) {
      cycle(i);
      if (i % 100 == 99) {  // read the answers so that neither side blocks on a full pipe
        require_responsive(server);
        server.seen.clear();
      }
    }
  };
  run(0, 1000);
  const long after_1000 = status_kb(server.pid(), "VmRSS");
  run(1000, 10000);
  const long after_10000 = status_kb(server.pid(), "VmRSS");
  INFO("VmRSS after 1,000 cycles " << after_1000 << " kB, after 10,000 cycles " << after_10000 << " kB");
  WARN("VmRSS after 1,000 cycles " << after_1000 << " kB, after 10,000 cycles " << after_10000 << " kB"
                                   << (kUnderAsan ? " (ASan)" : ""));
  REQUIRE(after_1000 > 0);
  CHECK(after_10000 - after_1000 < 8 * 1024);
}

TEST_CASE("abuse: JSON nested a million deep", "[lsp][abuse]") {
  LspProcess server;
  initialized(server);
  constexpr int kDepth = 1000000;
  const std::string deep = std::string(kDepth, '[') + std::string(kDepth, ']');
  const std::string body = "{\"jsonrpc\":\"2.0\",\"id\":77,\"method\":\"textDocument/nonsense\",\"params\":" + deep + "}";
  server.send_raw("Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body);
  // Regression: copying the parsed params recursed a million times and
  // overflowed the stack. Now refused before parsing, as a parse error.
  const auto response = server.wait_for([](const json& m) { return m.contains("error"); });
  REQUIRE(response);
  CHECK((*response)["id"].is_null());
  CHECK((*response)["error"]["code"] == -32700);
  CHECK((*response)["error"]["message"].get<std::string>().find("nested deeper") != std::string::npos);
  server.send_raw("Content-Length: " + std::to_string(deep.size()) + "\r\n\r\n" + deep);
  const auto batch = server.wait_for([](const json& m) { return m.contains("error"); });
  REQUIRE(batch);
  CHECK((*batch)["error"]["code"] == -32700);
  require_responsive(server);
}
