#include "tests/testing/process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <stdexcept>
#include <thread>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpcpp/client_context.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"

namespace nenep::testing {
namespace {

std::vector<char*> Argv(std::vector<std::string>& args) {
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  return argv;
}

}  // namespace

std::string BinaryPath(const std::string& relative) {
  const char* dir = std::getenv("NENEP_BINARY_DIR");
  return absl::StrCat(dir != nullptr && *dir ? dir : NENEP_BUILD_DIR, "/",
                      relative);
}

Process::Process(std::vector<std::string> args, const std::string& log_path) {
  std::vector<char*> argv = Argv(args);
  pid_ = fork();
  if (pid_ < 0) throw std::runtime_error("fork failed");
  if (pid_ == 0) {
    if (!log_path.empty()) {
      int fd = open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
      if (fd >= 0) {
        dup2(fd, 1);
        dup2(fd, 2);
        close(fd);
      }
    }
    // The test may block signals in its threads; the child must not inherit
    // that.
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
}

Process::~Process() {
  if (pid_ > 0 && !reaped_) {
    kill(pid_, SIGKILL);
    Wait();
  }
}

void Process::Signal(int sig) {
  if (pid_ > 0 && !reaped_) kill(pid_, sig);
}

int Process::Wait() {
  if (reaped_) return code_;
  int status = 0;
  while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
  reaped_ = true;
  code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return code_;
}

bool Process::WaitFor(absl::Duration timeout, int* code) {
  const absl::Time deadline = absl::Now() + timeout;
  while (!reaped_) {
    int status = 0;
    pid_t r = waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
      reaped_ = true;
      code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      break;
    }
    if (absl::Now() > deadline) return false;
    absl::SleepFor(absl::Milliseconds(10));
  }
  *code = code_;
  return true;
}

int RunCommand(const std::vector<std::string>& command, std::string* out,
               std::string* err, const std::string& stdin_data) {
  std::vector<std::string> args = command;
  std::vector<char*> argv = Argv(args);
  int out_pipe[2], err_pipe[2], in_pipe[2];
  if (pipe(out_pipe) != 0 || pipe(err_pipe) != 0 || pipe(in_pipe) != 0) {
    throw std::runtime_error("pipe failed");
  }
  pid_t pid = fork();
  if (pid == 0) {
    dup2(in_pipe[0], 0);
    dup2(out_pipe[1], 1);
    dup2(err != nullptr ? err_pipe[1] : out_pipe[1], 2);
    close(in_pipe[0]);
    close(in_pipe[1]);
    close(out_pipe[0]);
    close(out_pipe[1]);
    close(err_pipe[0]);
    close(err_pipe[1]);
    execv(argv[0], argv.data());
    _exit(127);
  }
  close(in_pipe[0]);
  close(out_pipe[1]);
  close(err_pipe[1]);
  std::thread writer([fd = in_pipe[1], &stdin_data] {
    size_t done = 0;
    while (done < stdin_data.size()) {
      ssize_t n = write(fd, stdin_data.data() + done, stdin_data.size() - done);
      if (n <= 0) break;
      done += n;
    }
    close(fd);
  });
  std::string captured_out, captured_err;
  pollfd fds[2] = {{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}};
  int open_fds = 2;
  char buf[65536];
  while (open_fds > 0) {
    if (poll(fds, 2, -1) < 0 && errno != EINTR) break;
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP))) continue;
      ssize_t n = read(fds[i].fd, buf, sizeof(buf));
      if (n <= 0) {
        close(fds[i].fd);
        fds[i].fd = -1;
        --open_fds;
      } else {
        (i == 0 ? captured_out : captured_err).append(buf, n);
      }
    }
  }
  writer.join();
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (out != nullptr) *out = captured_out;
  if (err != nullptr) *err = captured_err;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

NenepdProcess::NenepdProcess(const std::string& data_dir,
                             std::vector<std::string> extra_flags) {
  static std::atomic<int> counter{0};
  const int n = counter++;
  const std::string port_file = absl::StrCat(data_dir, ".port");
  unlink(port_file.c_str());
  std::vector<std::string> argv = {
      BinaryPath("services/nenepd"), "--data_dir=" + data_dir,
      "--listen=127.0.0.1:0", "--metrics_listen=", "--port_file=" + port_file};
  for (std::string& f : extra_flags) argv.push_back(std::move(f));
  process_ = std::make_unique<Process>(
      argv, absl::StrCat(data_dir, ".nenepd-", n, ".log"));
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  while (absl::Now() < deadline) {
    std::ifstream in(port_file);
    std::string text;
    if (in && std::getline(in, text) &&
        absl::SimpleAtoi(absl::StripAsciiWhitespace(text), &port_)) {
      break;
    }
    int code = 0;
    if (process_->WaitFor(absl::ZeroDuration(), &code)) return;  // died
    absl::SleepFor(absl::Milliseconds(5));
  }
  if (port_ == 0) return;
  auto channel =
      grpc::CreateChannel(address(), grpc::InsecureChannelCredentials());
  auto health = grpc::health::v1::Health::NewStub(channel);
  while (absl::Now() < deadline) {
    grpc::ClientContext ctx;
    ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(1)));
    grpc::health::v1::HealthCheckResponse resp;
    if (health->Check(&ctx, {}, &resp).ok() &&
        resp.status() == grpc::health::v1::HealthCheckResponse::SERVING) {
      return;
    }
    absl::SleepFor(absl::Milliseconds(5));
  }
  port_ = 0;
}

std::string NenepdProcess::address() const {
  return absl::StrCat("127.0.0.1:", port_);
}

}  // namespace nenep::testing
