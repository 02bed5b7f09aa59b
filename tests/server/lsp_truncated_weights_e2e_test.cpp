// End-to-end: the real server binary while its weights file is truncated in
// place during an estimate (issue 5: "a truncated weights file gives a clear
// error; the server stays up"). The server is stopped (SIGSTOP) as soon as it
// starts estimating, the file is truncated, and it is let go: its reads of
// the vanished pages raise SIGBUS, which the mapping's guard turns into an
// error message.
#include <catch2/catch.hpp>
#include <signal.h>
#include <unistd.h>

#include "core/engine/mapped_file.h"
#include "support/lsp_client.h"
#include "support/temp_dir.h"
#include "support/tiny_model.h"

using amct::test::LspProcess;
using nlohmann::json;

TEST_CASE("e2e: the weights file truncated in place during an estimate: an error message, the server answers",
          "[lsp][e2e][estimate][sigbus]") {
  amct::test::TempDir dir;
  const std::string weights = dir.write("model.safetensors", amct::test::large_safetensors_model(5));
  LspProcess server;
  const json capabilities = {{"window", {{"workDoneProgress", true}}}};
  REQUIRE(server.wait_for_response(server.request(
      "initialize", {{"processId", nullptr}, {"rootUri", "file://" + dir.path("")}, {"capabilities", capabilities},
                     {"initializationOptions", {{"amct", {{"weights", "model.safetensors"}}}}}})));
  server.notify("initialized", json::object());
  const std::string uri = "file://" + dir.path("quant.cfg");
  server.notify("textDocument/didOpen",
                {{"textDocument", {{"uri", uri}, {"languageId", "amct-cfg"}, {"version", 1},
                                   {"text", "retrain_weight_quant_config { arq_retrain { channel_wise: false } }\n"}}}});
  const auto create = server.wait_for([](const json& m) { return m.value("method", "") == "window/workDoneProgress/create"; });
  REQUIRE(create);
  // Estimating has begun: freeze the server, truncate its mapped file in place, let it go.
  REQUIRE(::kill(server.pid(), SIGSTOP) == 0);
  REQUIRE(::truncate(weights.c_str(), 4096) == 0);
  REQUIRE(::kill(server.pid(), SIGCONT) == 0);
  server.send({{"jsonrpc", "2.0"}, {"id", (*create)["id"]}, {"result", nullptr}});

  const auto message = server.wait_for([](const json& m) {
    return m.value("method", "") == "window/showMessage" &&
           m["params"].value("message", "").find("changed while it was read") != std::string::npos;
  });
  REQUIRE(message);
  CHECK((*message)["params"]["message"] == std::string("amct.weights: ") + amct::engine::kFileChangedWhileRead);

  // Still up: it answers, and shuts down cleanly.
  const auto hover = server.wait_for_response(server.request(
      "textDocument/hover", {{"textDocument", {{"uri", uri}}}, {"position", {{"line", 0}, {"character", 3}}}}));
  REQUIRE(hover);
  CHECK(hover->contains("result"));
  REQUIRE(server.wait_for_response(server.request("shutdown", nullptr)));
  server.notify("exit", nullptr);
  CHECK(server.wait_exit() == 0);
}
