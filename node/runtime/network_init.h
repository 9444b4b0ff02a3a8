// `lifeline network init`: lays out a local network of nodes on loopback,
// one folder per node (DIR/<code>/) with node.toml, node.pub, node.key
// (0600), divisions.csv (a copy of the divisions file) and, for a node with
// children, allowlist.toml with their codes and public keys. Also writes
// DIR/nodes.tsv: code, level, name, config path, HTTP URL — one line per
// node, parents before children, for scripts. Each node's store is created
// with its first admin account ("admin", a one-time password printed once and
// kept in DIR/<code>/first_admin.txt, mode 0600, for the demo's scripts).
#pragma once

#include <string>
#include <vector>

#include "topology/status.h"

namespace lifeline::runtime {

struct NetworkInitOptions {
  std::string divisions_path;      // divisions CSV
  std::string root;                // the top node's code
  std::string out_dir;             // DIR; must not already hold a node folder
  std::vector<std::string> codes;  // chosen nodes (ancestors up to root implied); empty = whole subtree
  int base_port = 17000;           // the k-th node with children listens on base_port + k
  int web_base_port = 0;           // the k-th node serves HTTP on web_base_port + k (0: base_port + 1000; -1: no HTTP)
  bool first_admins = true;        // create each node's first admin account
};

// Each node's first admin, with a one-time password (changed at first sign-in).
struct FirstAdmin {
  std::string code;
  std::string url;       // the node's HTTP API
  std::string name;      // "admin"
  std::string password;  // one-time; also in DIR/<code>/first_admin.txt (0600)
};

struct NetworkInitResult {
  size_t nodes = 0;
  std::vector<FirstAdmin> admins;  // in nodes.tsv order
};

Result<NetworkInitResult> network_init(const NetworkInitOptions& options);

}  // namespace lifeline::runtime
