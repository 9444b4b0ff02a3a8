// `lifeline network init`: lays out a local network of nodes on loopback,
// one folder per node (DIR/<code>/) with node.toml, node.pub, node.key
// (0600), divisions.csv (a copy of the divisions file) and, for a node with
// children, allowlist.toml with their codes and public keys. Also writes
// DIR/nodes.tsv: code, level, name, config path — one line per node, parents
// before children, for scripts.
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
};

// Returns the number of nodes laid out.
Result<size_t> network_init(const NetworkInitOptions& options);

}  // namespace lifeline::runtime
