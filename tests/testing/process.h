// Child processes for tests that kill servers: nenepd and the CLI as real
// processes, started with fork/exec.
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/time/time.h"

namespace nenep::testing {

// Path of a binary built by this project, e.g. BinaryPath("services/nenepd").
// $NENEP_BINARY_DIR overrides the build directory the tests were built in.
std::string BinaryPath(const std::string& relative);

class Process {
 public:
  // Starts `argv[0]` with arguments; stdout and stderr go to `log_path` if
  // given (appended), else are inherited.
  Process(std::vector<std::string> argv, const std::string& log_path = "");
  ~Process();  // SIGKILLs the child if it still runs

  pid_t pid() const { return pid_; }
  void Signal(int sig);
  // Waits for the child to exit; returns its exit code, or 128+signal.
  int Wait();
  // True if the child exited within `timeout` (its code in *code).
  bool WaitFor(absl::Duration timeout, int* code);

 private:
  pid_t pid_ = -1;
  bool reaped_ = false;
  int code_ = 0;
};

// Runs a command to completion, capturing stdout and stderr (merged unless
// `err` is given). Returns the exit code.
int RunCommand(const std::vector<std::string>& argv, std::string* out,
               std::string* err = nullptr, const std::string& stdin_data = "");

// A nenepd child on 127.0.0.1:0 over `data_dir`, waited for until it
// serves. Its log goes to `data_dir`/../nenepd-<n>.log.
class NenepdProcess {
 public:
  NenepdProcess(const std::string& data_dir,
                std::vector<std::string> extra_flags = {});
  int port() const { return port_; }
  std::string address() const;
  Process& process() { return *process_; }
  // False if it did not come up within `timeout`.
  bool ok() const { return port_ > 0; }

 private:
  std::unique_ptr<Process> process_;
  int port_ = 0;
};

}  // namespace nenep::testing
