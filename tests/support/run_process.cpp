#include "support/run_process.h"

#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

extern char** environ;

namespace amct::test {
namespace {

struct Pipe {
  int read_end = -1;
  int write_end = -1;
  Pipe() {
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
    read_end = fds[0];
    write_end = fds[1];
  }
};

void close_fd(int& fd) {
  if (fd >= 0) ::close(fd);
  fd = -1;
}

}  // namespace

ProcessResult run_process(const std::string& program, const ProcessOptions& options) {
  // A child that exits early must not kill the test with SIGPIPE.
  signal(SIGPIPE, SIG_IGN);
  Pipe in, out, err;
  if (options.standard_error_is_terminal) {
    close_fd(err.read_end);
    close_fd(err.write_end);
    // read_end: the terminal's master side; write_end: the child's terminal.
    if (openpty(&err.read_end, &err.write_end, nullptr, nullptr, nullptr) != 0) throw std::runtime_error("openpty failed");
    fcntl(err.read_end, F_SETFD, FD_CLOEXEC);
    fcntl(err.write_end, F_SETFD, FD_CLOEXEC);
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, in.read_end, STDIN_FILENO);
  posix_spawn_file_actions_adddup2(&actions, out.write_end, STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, err.write_end, STDERR_FILENO);
  if (!options.working_directory.empty()) {
    posix_spawn_file_actions_addchdir_np(&actions, options.working_directory.c_str());
  }
  std::vector<std::string> argument_storage;
  argument_storage.push_back(program);
  argument_storage.insert(argument_storage.end(), options.arguments.begin(), options.arguments.end());
  std::vector<char*> argv;
  for (std::string& argument : argument_storage) argv.push_back(argument.data());
  argv.push_back(nullptr);

  pid_t pid = -1;
  int spawn_error = posix_spawn(&pid, program.c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  close_fd(in.read_end);
  close_fd(out.write_end);
  close_fd(err.write_end);
  ProcessResult result;
  if (spawn_error != 0) {
    close_fd(in.write_end);
    close_fd(out.read_end);
    close_fd(err.read_end);
    result.standard_error = "posix_spawn failed: " + std::string(std::strerror(spawn_error));
    return result;
  }

  fcntl(in.write_end, F_SETFL, O_NONBLOCK);
  size_t written = 0;
  if (options.standard_input.empty()) close_fd(in.write_end);
  const auto deadline = std::chrono::steady_clock::now() + options.time_limit;
  char buffer[1 << 16];
  while (out.read_end >= 0 || err.read_end >= 0) {
    auto now = std::chrono::steady_clock::now();
    if (now >= deadline) {
      kill(pid, SIGKILL);
      result.timed_out = true;
      break;
    }
    pollfd fds[3];
    int count = 0;
    auto watch = [&](int fd, short events) {
      if (fd >= 0) fds[count++] = pollfd{fd, events, 0};
    };
    watch(out.read_end, POLLIN);
    watch(err.read_end, POLLIN);
    watch(in.write_end, POLLOUT);
    int wait_ms = static_cast<int>(
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now).count()) + 1;
    if (poll(fds, count, wait_ms) < 0 && errno != EINTR) break;
    for (int i = 0; i < count; ++i) {
      if (fds[i].revents == 0) continue;
      int fd = fds[i].fd;
      if (fd == in.write_end) {
        ssize_t n = ::write(fd, options.standard_input.data() + written,
                            options.standard_input.size() - written);
        if (n > 0) written += static_cast<size_t>(n);
        if (n < 0 && errno != EAGAIN) written = options.standard_input.size();
        if (written == options.standard_input.size()) close_fd(in.write_end);
        continue;
      }
      ssize_t n = ::read(fd, buffer, sizeof buffer);
      if (n > 0) {
        (fd == out.read_end ? result.standard_output : result.standard_error).append(buffer, n);
      } else if (n == 0 || errno != EINTR) {
        close_fd(fd == out.read_end ? out.read_end : err.read_end);
      }
    }
  }
  close_fd(in.write_end);
  close_fd(out.read_end);
  close_fd(err.read_end);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status)) {
    result.exit_code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    result.signal = WTERMSIG(status);
  }
  return result;
}

}  // namespace amct::test
