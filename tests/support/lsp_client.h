#pragma once
// Speaks LSP to the real amct-lsp binary over pipes, as an editor does.
// Reads block with a generous timeout that only guards against a hung
// server; tests wait for messages, never sleep.
#include <nlohmann/json.hpp>

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <sys/types.h>
#include <vector>

namespace amct::test {

class LspProcess {
 public:
  using Environment = std::vector<std::pair<std::string, std::string>>;
  // `working_directory`: "" keeps the test's own.
  explicit LspProcess(std::vector<std::string> arguments = {}, Environment environment = {},
                      std::string working_directory = {});
  ~LspProcess();

  void send_raw(const std::string& bytes);
  void send(const nlohmann::json& message);  // framed
  int request(const std::string& method, nlohmann::json params);  // returns the id
  void notify(const std::string& method, nlohmann::json params);

  // The next message satisfying `match`; other messages are kept in `seen`.
  std::optional<nlohmann::json> wait_for(const std::function<bool(const nlohmann::json&)>& match,
                                         std::chrono::milliseconds timeout = std::chrono::seconds(20));
  std::optional<nlohmann::json> wait_for_response(int id);
  void close_input();
  pid_t pid() const { return pid_; }
  int wait_exit();  // exit status of the process

  std::vector<nlohmann::json> seen;
  // When the bytes of the last message returned (or kept in `seen`) had all
  // arrived, before this client parsed them: the server's latency, without
  // the client's own JSON parse (lsp_bench).
  std::chrono::steady_clock::time_point last_arrival{};

 private:
  std::optional<nlohmann::json> read_message(std::chrono::steady_clock::time_point deadline);

  pid_t pid_ = -1;
  int to_server_ = -1;
  int from_server_ = -1;
  int next_id_ = 1;
  std::string buffer_;
  std::chrono::steady_clock::time_point last_read_{};  // of the read() that last added bytes
};

}  // namespace amct::test
