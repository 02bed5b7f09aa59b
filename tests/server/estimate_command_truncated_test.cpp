// `amct-lsp --estimate` (the real binary) while its weights file is truncated
// in place: a clear error and exit status 2, not a death by SIGBUS. The
// child's stderr is a terminal so that it draws its progress bar: at the
// first frame (one layer done) it is stopped, the file truncated, and it is
// let go.
#include <catch2/catch.hpp>
#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>

#include "core/engine_test_support.h"
#include "support/temp_dir.h"

namespace {

// Reads what is available from `fd` within `timeout`; false at end of file.
bool read_some(int fd, std::string& into, std::chrono::milliseconds timeout) {
  pollfd p{fd, POLLIN, 0};
  if (::poll(&p, 1, static_cast<int>(timeout.count())) <= 0) return true;
  char buffer[4096];
  const ssize_t n = ::read(fd, buffer, sizeof buffer);
  if (n <= 0) return false;  // EIO on a pty whose other side closed
  into.append(buffer, static_cast<size_t>(n));
  return true;
}

}  // namespace

TEST_CASE("amct-lsp --estimate: weights truncated in place mid-estimate give an error and exit 2",
          "[cli][estimate][sigbus]") {
  amct::test::TempDir dir;
  const std::string weights = dir.write("model.safetensors", amct::test::large_safetensors_model(6));
  const std::string cfg = dir.write("quant.cfg", "retrain_weight_quant_config { arq_retrain { channel_wise: false } }\n");
  int terminal = -1, child_side = -1;
  REQUIRE(::openpty(&terminal, &child_side, nullptr, nullptr, nullptr) == 0);
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    const int null = ::open("/dev/null", O_WRONLY);
    ::dup2(null, STDOUT_FILENO);
    ::dup2(child_side, STDERR_FILENO);
    ::close(terminal);
    ::execl(AMCT_LSP_BINARY, AMCT_LSP_BINARY, "--estimate", cfg.c_str(), "--weights", weights.c_str(), "--jobs", "1",
            static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ::close(child_side);
  std::string err;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  bool open = true;
  while (open && err.find('[') == std::string::npos && std::chrono::steady_clock::now() < deadline)
    open = read_some(terminal, err, std::chrono::milliseconds(100));
  REQUIRE(err.find('[') != std::string::npos);  // the first frame: estimating
  REQUIRE(::kill(child, SIGSTOP) == 0);
  REQUIRE(::truncate(weights.c_str(), 4096) == 0);
  REQUIRE(::kill(child, SIGCONT) == 0);
  while (open && std::chrono::steady_clock::now() < deadline) open = read_some(terminal, err, std::chrono::milliseconds(100));
  ::close(terminal);
  int status = 0;
  REQUIRE(::waitpid(child, &status, 0) == child);
  INFO("stderr: " << err);
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 2);
  CHECK_THAT(err, Catch::Contains("the weights file changed while it was read"));
}
