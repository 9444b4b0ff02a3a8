// LocalNetwork: a network laid out by `lifeline network init` in a
// temporary folder and run as real `lifeline run` processes, driven through
// the lifeline command line exactly as an operator's scripts would.
// Used by the real-process tests and the benchmarks. Not copyable.
#pragma once

#include <nlohmann/json.hpp>
#include <fcntl.h>
#include <poll.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <iterator>
#include <map>
#include <string>
#include <vector>

#include "tests/testing/process.h"
#include "tests/testing/temp_dir.h"

namespace lifeline::testing {

// What one command printed and how it exited.
struct CommandResult {
  int rc = -1;          // exit code (128 + signal when killed)
  std::string out;      // stdout
  std::string err;      // stderr
  nlohmann::json json;  // stdout parsed (discarded value when it is not JSON)
};

// Runs argv to completion, capturing stdout and stderr apart.
inline CommandResult run_command_capture(const std::vector<std::string>& argv) {
  CommandResult r;
  int out_pipe[2], err_pipe[2];
  // Close-on-exec, as in run_command: a node spawned by another thread
  // meanwhile would otherwise hold the write ends open.
  if (::pipe2(out_pipe, O_CLOEXEC) != 0) return r;
  if (::pipe2(err_pipe, O_CLOEXEC) != 0) {
    ::close(out_pipe[0]);
    ::close(out_pipe[1]);
    return r;
  }
  pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(out_pipe[1], 1);
    ::dup2(err_pipe[1], 2);
    for (int fd : {out_pipe[0], out_pipe[1], err_pipe[0], err_pipe[1]}) ::close(fd);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    ::execv(args[0], args.data());
    ::_exit(127);
  }
  ::close(out_pipe[1]);
  ::close(err_pipe[1]);
  pollfd fds[2] = {{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}};
  std::string* sinks[2] = {&r.out, &r.err};
  int open_fds = 2;
  char buf[4096];
  while (open_fds > 0) {
    if (::poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || (fds[i].revents & (POLLIN | POLLHUP | POLLERR)) == 0) continue;
      ssize_t n = ::read(fds[i].fd, buf, sizeof buf);
      if (n > 0) {
        sinks[i]->append(buf, static_cast<size_t>(n));
      } else if (n == 0 || errno != EINTR) {
        ::close(fds[i].fd);
        fds[i].fd = -1;
        --open_fds;
      }
    }
  }
  for (auto& f : fds)
    if (f.fd >= 0) ::close(f.fd);
  int status = 0;
  ::waitpid(pid, &status, 0);
  r.rc = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  r.json = nlohmann::json::parse(r.out, nullptr, false);
  return r;
}

class LocalNetwork {
 public:
  // lifeline: path of the binary; divisions: the CSV; codes: as --codes.
  // web_base_port: 0 = nodes without the HTTP API; else the first HTTP port.
  LocalNetwork(std::string lifeline, std::string divisions, const std::string& root, const std::string& codes,
               int base_port, bool memory = false, int web_base_port = 0)
      : lifeline_(std::move(lifeline)), dir_(memory) {
    int rc = 0;
    std::vector<std::string> argv{lifeline_, "network", "init", "--divisions", divisions, "--root", root, "--out",
                                  dir_.sub("net"), "--codes", codes, "--base-port", std::to_string(base_port)};
    if (web_base_port == 0) {
      argv.push_back("--no-web");
    } else {
      argv.insert(argv.end(), {"--web-base-port", std::to_string(web_base_port)});
    }
    init_output_ = run_command(argv, &rc);
    ok_ = rc == 0;
  }
  bool ok() const { return ok_; }
  const std::string& init_output() const { return init_output_; }
  std::string config(const std::string& code) const { return dir_.sub("net/" + code + "/node.toml"); }
  std::string node_dir(const std::string& code) const { return dir_.sub("net/" + code); }

  void start(const std::string& code) {
    std::vector<std::string> argv = prefix_[code];
    argv.insert(argv.end(), {lifeline_, "run", "--config", config(code)});
    procs_[code] = Process::spawn(argv, node_dir(code) + "/node.log");
  }
  // Runs code's process behind an argv prefix (e.g. `ip netns exec NS`).
  void set_prefix(const std::string& code, std::vector<std::string> prefix) { prefix_[code] = std::move(prefix); }
  // Replaces text in code's node.toml (e.g. to move an endpoint off loopback).
  bool edit_config(const std::string& code, const std::string& from, const std::string& to) const {
    std::ifstream in(config(code));
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    auto at = text.find(from);
    if (at == std::string::npos) return false;
    text.replace(at, from.size(), to);
    std::ofstream(config(code)) << text;
    return true;
  }
  void kill9(const std::string& code) { procs_[code].stop(SIGKILL); }
  void stop(const std::string& code) { procs_[code].stop(SIGTERM); }
  void stop_all() {
    for (auto& [code, p] : procs_) p.stop(SIGTERM);
  }
  Process& process(const std::string& code) { return procs_[code]; }

  // Runs `lifeline <args...> --config <code's config>`; returns parsed JSON
  // (null when the command failed or printed no JSON).
  nlohmann::json cli_json(const std::string& code, std::vector<std::string> args, int* rc_out = nullptr) const {
    std::vector<std::string> argv{lifeline_};
    argv.insert(argv.end(), args.begin(), args.end());
    argv.push_back("--config");
    argv.push_back(config(code));
    int rc = 0;
    std::string out = run_command(argv, &rc);
    if (rc_out) *rc_out = rc;
    auto j = nlohmann::json::parse(out, nullptr, false);
    return rc == 0 && !j.is_discarded() ? j : nlohmann::json();
  }
  // Runs `lifeline <args...> --config <code's config>`, keeping stdout,
  // stderr and the exit code.
  CommandResult cli(const std::string& code, std::vector<std::string> args) const {
    args.push_back("--config");
    args.push_back(config(code));
    return run_lifeline(args);
  }
  // Runs `lifeline <args...>` as given (no --config added).
  CommandResult run_lifeline(const std::vector<std::string>& args) const {
    std::vector<std::string> argv{lifeline_};
    argv.insert(argv.end(), args.begin(), args.end());
    return run_command_capture(argv);
  }
  // Writes text to a file named name in the network's temporary folder; returns its path.
  std::string write_file(const std::string& name, const std::string& text) const {
    std::string path = dir_.sub(name);
    std::ofstream(path, std::ios::binary) << text;
    return path;
  }
  // Starts every node of codes (in that order).
  void start_all(const std::vector<std::string>& codes) {
    for (const auto& c : codes) start(c);
  }
  // True when each consecutive pair of path (parent first) has its link up on both sides.
  bool links_up(const std::vector<std::string>& path) const {
    for (size_t i = 0; i + 1 < path.size(); ++i) {
      if (link_state(path[i], path[i + 1]) != "up" || link_state(path[i + 1], path[i]) != "up") return false;
    }
    return true;
  }
  nlohmann::json status(const std::string& code) const { return cli_json(code, {"status", "--json"}); }
  nlohmann::json inbox(const std::string& code) const { return cli_json(code, {"inbox", "--json"}); }
  bool post(const std::string& code, const std::string& to, int count, int size = 256) const {
    int rc = 0;
    cli_json(code, {"post", "--to", to, "--count", std::to_string(count), "--size", std::to_string(size)}, &rc);
    return rc == 0;
  }
  // The state of code's link toward peer ("up", "down", or "" when unknown).
  std::string link_state(const std::string& code, const std::string& peer) const {
    nlohmann::json st = status(code);
    if (!st.is_object()) return "";
    for (const auto& l : st["links"])
      if (l["peer"] == peer) return l["state"].get<std::string>();
    return "";
  }
  // count / contiguous_through of origin's messages applied at code (-1 if unknown).
  std::pair<int64_t, int64_t> applied(const std::string& code, const std::string& origin) const {
    nlohmann::json in = inbox(code);
    if (!in.is_object() || !in["applied"].contains(origin)) return {in.is_object() ? 0 : -1, 0};
    const auto& e = in["applied"][origin];
    return {e["count"].get<int64_t>(), e["contiguous_through"].get<int64_t>()};
  }

 private:
  std::string lifeline_;                   // path of the lifeline binary
  TempDir dir_;                            // holds net/<code>/ for every node
  std::string init_output_;                // what network init printed
  bool ok_ = false;                        // network init succeeded
  std::map<std::string, Process> procs_;   // running nodes by code
  std::map<std::string, std::vector<std::string>> prefix_;  // argv prefixes by code
};

// This test process's block of 100 ports (20000 + 100 × block), held for
// the process's life by an flock on /tmp/lifeline-test-ports/<block>, so
// that two tests running at the same time never share one. (A block chosen
// from the pid alone was shared now and then, and a node that cannot bind
// its port never comes up: the likely cause of rare set-ups that waited
// out their 20 s.) The blocks stay below Linux's ephemeral range
// (32768-60999), where any outgoing connection can hold a port.
inline int test_port_block() {
  static const int block = [] {
    constexpr int kBlocks = 120;
    const std::string dir = "/tmp/lifeline-test-ports";
    ::mkdir(dir.c_str(), 0777);
    const int start = static_cast<int>(::getpid() % kBlocks);
    for (int i = 0; i < kBlocks; ++i) {
      const int b = (start + i) % kBlocks;
      const std::string path = dir + "/" + std::to_string(b);
      int fd = ::open(path.c_str(), O_CREAT | O_RDWR | O_CLOEXEC, 0666);
      if (fd < 0) continue;
      if (::flock(fd, LOCK_EX | LOCK_NB) == 0) return b;  // fd stays open: the lock lasts as long as the process
      ::close(fd);
    }
    return start;  // every block taken: share one rather than fail
  }();
  return block;
}
inline int test_base_port(int slot) { return 20000 + test_port_block() * 100 + slot * 10; }

}  // namespace lifeline::testing
