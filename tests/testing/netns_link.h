// NetnsLink: a test host for the real-process tests — a network namespace
// joined to this one by a veth pair, so that a link between two nodes runs
// over a network interface that the test can cut (interface down: packets
// are lost, TCP connections stall, as when a village's line drops) and heal.
// Needs root and iproute2; available() says whether it could be made. The
// namespace and the veth pair are removed on destruction. Not copyable.
#pragma once

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>

namespace lifeline::testing {

class NetnsLink {
 public:
  // slot keeps concurrent tests apart (addresses 10.250.<slot>.1 and .2).
  explicit NetnsLink(int slot)
      : ns_("llns" + std::to_string(::getpid()) + "_" + std::to_string(slot)),
        host_dev_("llh" + std::to_string(::getpid() % 100000) + "_" + std::to_string(slot)),
        ns_dev_("llv" + std::to_string(::getpid() % 100000) + "_" + std::to_string(slot)),
        host_ip_("10.250." + std::to_string(slot) + ".1"),
        ns_ip_("10.250." + std::to_string(slot) + ".2") {
    if (::geteuid() != 0 || ip_path().empty()) return;
    ok_ = sh("netns add " + ns_) && sh("link add " + host_dev_ + " type veth peer name " + ns_dev_) &&
          sh("link set " + ns_dev_ + " netns " + ns_) && sh("addr add " + host_ip_ + "/30 dev " + host_dev_) &&
          sh("link set " + host_dev_ + " up") && sh("-n " + ns_ + " addr add " + ns_ip_ + "/30 dev " + ns_dev_) &&
          sh("-n " + ns_ + " link set " + ns_dev_ + " up") && sh("-n " + ns_ + " link set lo up");
  }
  NetnsLink(const NetnsLink&) = delete;
  NetnsLink& operator=(const NetnsLink&) = delete;
  ~NetnsLink() {
    sh("link del " + host_dev_);
    sh("netns del " + ns_);
  }

  bool available() const { return ok_; }
  const std::string& ns() const { return ns_; }
  const std::string& host_ip() const { return host_ip_; }  // this side of the veth pair
  // Takes the host side of the link down / up.
  bool cut() const { return sh("link set " + host_dev_ + " down"); }
  bool heal() const { return sh("link set " + host_dev_ + " up"); }
  // argv prefix that runs a program inside the namespace.
  std::vector<std::string> exec_prefix() const { return {ip_path(), "netns", "exec", ns_}; }

  static std::string ip_path() {
    for (const char* p : {"/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip"})
      if (std::filesystem::exists(p)) return p;
    return "";
  }

 private:
  static bool sh(const std::string& args) {
    std::string cmd = ip_path() + " " + args + " >/dev/null 2>&1";
    return std::system(cmd.c_str()) == 0;
  }

  std::string ns_, host_dev_, ns_dev_, host_ip_, ns_ip_;
  bool ok_ = false;  // namespace and veth pair are up
};

}  // namespace lifeline::testing
