// End-to-end: the real binary with amct.weights, as VS Code (pull
// diagnostics, progress, code lens refresh) runs it.
#include <catch2/catch.hpp>

#include <chrono>
#include <cstdio>

#include "support/lsp_client.h"
#include "support/temp_dir.h"
#include "support/tiny_model.h"

using amct::test::LspProcess;
using nlohmann::json;

namespace {

// Four 512x512x3x3 convolutions and a Linear: 9.4M parameters, 38 MB.
std::string larger_model() {
  std::vector<amct::test::SafetensorsEntry> entries;
  for (int i = 0; i < 4; ++i)
    entries.push_back({"layer" + std::to_string(i) + ".conv.weight", "F32", {512, 512, 3, 3},
                       amct::test::f32_bytes(amct::test::random_weights(512 * 512 * 9, 10 + i))});
  entries.push_back({"fc.weight", "F32", {1000, 512}, amct::test::f32_bytes(amct::test::random_weights(1000 * 512, 9))});
  return amct::test::safetensors_file(entries);
}

// A server message already read (while waiting for something else) or the next one.
std::optional<json> seen_or_next(LspProcess& server, const std::string& method) {
  for (const json& m : server.seen)
    if (m.value("method", "") == method) return m;
  return server.wait_for([&](const json& m) { return m.value("method", "") == method; });
}

}  // namespace

TEST_CASE("e2e: amct.weights with a pull client: progress, code lens refresh, estimates, no pushes",
          "[lsp][e2e][estimate]") {
  amct::test::TempDir dir;
  dir.write("model.safetensors", larger_model());
  LspProcess server;
  json capabilities = {{"window", {{"workDoneProgress", true}}},
                       {"workspace", {{"codeLens", {{"refreshSupport", true}}}, {"diagnostics", {{"refreshSupport", true}}}}},
                       {"textDocument", {{"diagnostic", {{"dynamicRegistration", false}}}}}};
  REQUIRE(server.wait_for_response(server.request(
      "initialize", {{"processId", nullptr}, {"rootUri", "file://" + dir.path("")}, {"capabilities", capabilities},
                     {"initializationOptions", {{"amct", {{"weights", "model.safetensors"}}}}}})));
  server.notify("initialized", json::object());
  const std::string uri = "file://" + dir.path("quant.cfg");
  const auto opened = std::chrono::steady_clock::now();
  server.notify("textDocument/didOpen",
                {{"textDocument", {{"uri", uri}, {"languageId", "amct-cfg"}, {"version", 1},
                                   {"text", "retrain_weight_quant_config { arq_retrain { dst_type: INT8 } }\n"
                                            "skip_layers: \"\"\n"}}}});
  // Typing is not blocked: completion of a layer name answers while the estimates run.
  const int completion = server.request("textDocument/completion",
                                        {{"textDocument", {{"uri", uri}}}, {"position", {{"line", 1}, {"character", 14}}}});
  const auto items = server.wait_for_response(completion);
  const double completion_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - opened).count();
  REQUIRE(items);
  CHECK((*items)["result"]["items"].size() == 5);
  CHECK((*items)["result"]["items"][0]["label"] == "\"layer0.conv\"");

  const auto create = seen_or_next(server, "window/workDoneProgress/create");
  REQUIRE(create);
  server.send({{"jsonrpc", "2.0"}, {"id", (*create)["id"]}, {"result", nullptr}});
  const auto refresh = seen_or_next(server, "workspace/codeLens/refresh");
  REQUIRE(refresh);
  const double estimate_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - opened).count();
  server.send({{"jsonrpc", "2.0"}, {"id", (*refresh)["id"]}, {"result", nullptr}});
  std::printf("e2e estimates: completion answered after %.1f ms, 9.4M-parameter estimate done after %.1f ms\n",
              completion_ms, estimate_ms);

  const auto lenses = server.wait_for_response(server.request("textDocument/codeLens", {{"textDocument", {{"uri", uri}}}}));
  REQUIRE(lenses);
  bool estimated = false;
  for (const json& lens : (*lenses)["result"]) {
    const std::string title = lens["command"]["title"];
    if (title.rfind("≈ SQNR", 0) == 0 && title.find("· 5 layers") != std::string::npos) estimated = true;
  }
  CHECK(estimated);
  const auto pulled = server.wait_for_response(server.request("textDocument/diagnostic", {{"textDocument", {{"uri", uri}}}}));
  REQUIRE(pulled);
  // skip_layers: "" names no layer of the model.
  REQUIRE((*pulled)["result"]["items"].size() == 1);
  CHECK((*pulled)["result"]["items"][0]["code"] == "model-unknown-layer");
  for (const json& m : server.seen) CHECK(m.value("method", "") != "textDocument/publishDiagnostics");
  REQUIRE(server.wait_for_response(server.request("shutdown", nullptr)));
  server.notify("exit", nullptr);
  CHECK(server.wait_exit() == 0);
}
