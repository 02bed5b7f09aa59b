#pragma once
// Runs a program (the real amct-lsp binary in end-to-end tests) with
// arguments, optional stdin text and working directory, and captures its
// stdout, stderr and exit status. A time limit turns a hang into a failed
// test instead of a stuck test run.
#include <chrono>
#include <string>
#include <vector>

namespace amct::test {

struct ProcessOptions {
  std::vector<std::string> arguments;  // without the program name
  std::string standard_input;          // written to the child's stdin, then closed
  std::string working_directory;       // "" = the current one
  std::chrono::milliseconds time_limit{std::chrono::seconds(120)};
  // The child's stderr is a pseudo-terminal (openpty) instead of a pipe: what
  // a user at a terminal sees (the terminal turns "\n" into "\r\n").
  bool standard_error_is_terminal = false;
};

struct ProcessResult {
  int exit_code = -1;     // the exit status, or -1 when the child was killed by a signal
  int signal = 0;         // the signal that ended the child, 0 if none
  bool timed_out = false; // killed because it ran past the time limit
  std::string standard_output;
  std::string standard_error;
};

ProcessResult run_process(const std::string& program, const ProcessOptions& options);

}  // namespace amct::test
