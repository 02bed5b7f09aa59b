#include "support/lsp_client.h"

#include <cstdlib>

#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <stdexcept>

namespace amct::test {

using nlohmann::json;

LspProcess::LspProcess(std::vector<std::string> arguments, Environment environment, std::string working_directory) {
  int in_pipe[2], out_pipe[2];
  if (pipe(in_pipe) != 0 || pipe(out_pipe) != 0) throw std::runtime_error("pipe failed");
  signal(SIGPIPE, SIG_IGN);
  pid_ = fork();
  if (pid_ == 0) {
    dup2(in_pipe[0], STDIN_FILENO);
    dup2(out_pipe[1], STDOUT_FILENO);
    close(in_pipe[1]);
    close(out_pipe[0]);
    for (const auto& [name, value] : environment) setenv(name.c_str(), value.c_str(), 1);
    if (!working_directory.empty() && chdir(working_directory.c_str()) != 0) _exit(126);
    std::vector<char*> argv;
    // AMCT_LSP_BINARY_UNDER_TEST: another build (lsp_bench compares two builds).
    const char* other = std::getenv("AMCT_LSP_BINARY_UNDER_TEST");
    std::string binary = other && *other ? other : AMCT_LSP_BINARY;
    argv.push_back(binary.data());
    for (auto& a : arguments) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(binary.c_str(), argv.data());
    _exit(127);
  }
  close(in_pipe[0]);
  close(out_pipe[1]);
  to_server_ = in_pipe[1];
  from_server_ = out_pipe[0];
}

LspProcess::~LspProcess() {
  if (to_server_ >= 0) close(to_server_);
  if (pid_ > 0) {
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, &status, 0);
    }
  }
  if (from_server_ >= 0) close(from_server_);
}

void LspProcess::send_raw(const std::string& bytes) {
  size_t written = 0;
  while (written < bytes.size()) {
    const ssize_t n = write(to_server_, bytes.data() + written, bytes.size() - written);
    if (n <= 0) return;
    written += static_cast<size_t>(n);
  }
}

void LspProcess::send(const json& message) {
  const std::string body = message.dump();
  send_raw("Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body);
}

int LspProcess::request(const std::string& method, json params) {
  const int id = next_id_++;
  send({{"jsonrpc", "2.0"}, {"id", id}, {"method", method}, {"params", std::move(params)}});
  return id;
}

void LspProcess::notify(const std::string& method, json params) {
  send({{"jsonrpc", "2.0"}, {"method", method}, {"params", std::move(params)}});
}

std::optional<json> LspProcess::read_message(std::chrono::steady_clock::time_point deadline) {
  for (;;) {
    const size_t header_end = buffer_.find("\r\n\r\n");
    if (header_end != std::string::npos) {
      const size_t key = buffer_.find("Content-Length: ");
      const size_t length = std::stoul(buffer_.substr(key + 16, header_end - key - 16));
      if (buffer_.size() >= header_end + 4 + length) {
        // No read() happens while a whole message is buffered, so the last
        // one completed this message.
        last_arrival = last_read_;
        json message = json::parse(buffer_.substr(header_end + 4, length));
        buffer_.erase(0, header_end + 4 + length);
        return message;
      }
    }
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return std::nullopt;
    pollfd fd{from_server_, POLLIN, 0};
    if (poll(&fd, 1, static_cast<int>(left.count())) <= 0) return std::nullopt;
    char chunk[65536];
    const ssize_t n = read(from_server_, chunk, sizeof chunk);
    if (n <= 0) return std::nullopt;
    last_read_ = std::chrono::steady_clock::now();
    buffer_.append(chunk, static_cast<size_t>(n));
  }
}

std::optional<json> LspProcess::wait_for(const std::function<bool(const json&)>& match,
                                         std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (auto message = read_message(deadline)) {
    if (match(*message)) return message;
    seen.push_back(std::move(*message));
  }
  return std::nullopt;
}

std::optional<json> LspProcess::wait_for_response(int id) {
  return wait_for([id](const json& m) { return m.contains("id") && m["id"] == id && !m.contains("method"); });
}

void LspProcess::close_input() {
  if (to_server_ >= 0) close(to_server_);
  to_server_ = -1;
}

int LspProcess::wait_exit() {
  int status = 0;
  waitpid(pid_, &status, 0);
  pid_ = -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

}  // namespace amct::test
