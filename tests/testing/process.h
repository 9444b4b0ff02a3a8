// Child processes for the real-process tests and benchmarks: spawn
// `lifeline run` in the background with its output in a log file, run a
// `lifeline` command to completion capturing stdout, signal and reap.
//
// Process is move-only; its destructor kills (SIGKILL) and reaps a child
// still running, so a failing test leaves no process behind.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

namespace lifeline::testing {

class Process {
 public:
  Process() = default;
  // Starts argv[0] (a path) with argv; stdout and stderr appended to log_path.
  static Process spawn(const std::vector<std::string>& argv, const std::string& log_path) {
    pid_t pid = ::fork();
    if (pid == 0) {
      int fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
      if (fd >= 0) {
        ::dup2(fd, 1);
        ::dup2(fd, 2);
        ::close(fd);
      }
      std::vector<char*> args;
      for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
      args.push_back(nullptr);
      ::execv(args[0], args.data());
      ::_exit(127);
    }
    Process p;
    p.pid_ = pid;
    return p;
  }
  Process(Process&& o) noexcept : pid_(o.pid_) { o.pid_ = -1; }
  Process& operator=(Process&& o) noexcept {
    if (this != &o) {
      kill_and_reap();
      pid_ = o.pid_;
      o.pid_ = -1;
    }
    return *this;
  }
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;
  ~Process() { kill_and_reap(); }

  pid_t pid() const { return pid_; }
  bool running() const { return pid_ > 0 && ::waitpid(pid_, nullptr, WNOHANG) == 0; }
  void signal(int sig) const {
    if (pid_ > 0) ::kill(pid_, sig);
  }
  // Sends sig and waits for the exit; returns the wait status (or -1).
  int stop(int sig = SIGTERM) {
    if (pid_ <= 0) return -1;
    ::kill(pid_, sig);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
    return status;
  }
  void kill_and_reap() {
    if (pid_ > 0) stop(SIGKILL);
  }

 private:
  pid_t pid_ = -1;  // -1 when none
};

// Runs argv to completion; returns its stdout, sets *exit_code.
inline std::string run_command(const std::vector<std::string>& argv, int* exit_code) {
  int pipefd[2];
  // Close-on-exec: a node another thread spawns meanwhile must not inherit
  // the write end, or this read would wait for that node's exit (dup2 in
  // the child clears the flag on its stdout).
  if (::pipe2(pipefd, O_CLOEXEC) != 0) return "";
  pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(pipefd[1], 1);
    ::close(pipefd[0]);
    ::close(pipefd[1]);
    int devnull = ::open("/dev/null", O_WRONLY);
    if (devnull >= 0) ::dup2(devnull, 2);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    ::execv(args[0], args.data());
    ::_exit(127);
  }
  ::close(pipefd[1]);
  std::string out;
  char buf[4096];
  for (ssize_t n; (n = ::read(pipefd[0], buf, sizeof buf)) > 0;) out.append(buf, static_cast<size_t>(n));
  ::close(pipefd[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  if (exit_code) *exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return out;
}

// Polls pred every interval until it holds or timeout passes.
template <typename Pred>
bool wait_until(Pred pred, std::chrono::milliseconds timeout, std::chrono::milliseconds interval = std::chrono::milliseconds(50)) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(interval);
  }
  return pred();
}

}  // namespace lifeline::testing
