#pragma once
// The language server: LSP 3.17 lifecycle, document sync and features, over
// any transport. It receives JSON-RPC bodies from the reader thread and never
// does slow work there: checking runs on a worker thread, and results for a
// document version that has since changed are dropped.
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace amct::server {

struct LanguageServerOptions {
  // Edits closer together than this are a burst: its check waits until the
  // edits pause this long. An edit after a pause is checked at once.
  std::chrono::milliseconds diagnostics_debounce{25};
};

class LanguageServer {
 public:
  using Send = std::function<void(const std::string& json_body)>;

  LanguageServer(Send send, LanguageServerOptions options = {});
  ~LanguageServer();
  LanguageServer(const LanguageServer&) = delete;
  LanguageServer& operator=(const LanguageServer&) = delete;

  void on_message(std::string_view json_body);
  void on_framing_error(const std::string& error);
  void on_end_of_input();

  bool exit_requested() const;
  // 0 after shutdown + exit; 1 for exit without shutdown or end of input.
  int exit_code() const;
  // Blocks until no work is queued or running (tests use this instead of sleeping).
  void wait_idle();
  // wait_idle(), then until the error estimates (amct.weights) are computed.
  void wait_estimates_idle();
  // Whether the open document's tree is parsed, so that a request needs no
  // parse (the server parses it in idle time after an edit); tests ask.
  bool document_tree_parsed(const std::string& uri);

 private:
  struct State;
  std::unique_ptr<State> state_;
};

// Runs the server on stdin/stdout until `exit` or end of input.
int run_stdio_server();

}  // namespace amct::server
