// NodeOptions: everything a node reads from its node.toml, validated, with
// paths resolved against the config file's folder. One loader (load_options)
// parses and checks the file; node.sample.toml documents every key.
//
// Value type; copyable.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "node/core/link_options.h"
#include "node/core/monitor.h"
#include "storage/store.h"
#include "topology/division_code.h"
#include "topology/status.h"

namespace lifeline::runtime {

// ZeroMQ socket settings of the links (the protocol tunables are in LinkOptions).
struct TransportOptions {
  int reconnect_interval_ms = 100;      // first reconnect delay of a child's DEALER
  int reconnect_interval_max_ms = 500;  // reconnect delays double up to this
  int send_hwm = 1000;                  // frames queued per peer before send says "not now"
  int receive_hwm = 1000;               // frames queued on receive
  size_t batch_max_frames = 16;         // frames drained into one write transaction
};

struct ParentOptions {
  topology::DivisionCode code;  // the parent node
  std::string endpoint;         // where it listens, e.g. tcp://127.0.0.1:17000
  std::string public_key;       // its CURVE public key (Z85, 40 characters)
};

// The operators' HTTP API (web/API.md). Empty listen: no HTTP server.
struct WebOptions {
  std::string listen;                     // host:port, e.g. 127.0.0.1:18080
  int threads = 8;                        // the server's worker pool
  size_t max_body_bytes = 64u << 20;      // largest request body (an import file)
  size_t max_json_bytes = 1u << 20;       // largest JSON body
  int64_t session_idle_us = 30 * 60'000'000LL;      // a session ends after this long unused...
  int64_t session_max_us = 12 * 3600'000'000LL;     // ...and this long after login at the latest
  bool secure_cookies = false;            // mark cookies Secure (behind a TLS proxy)
  int loop_timeout_ms = 30000;            // how long a request waits for the node loop
  std::vector<std::string> trusted_proxies;  // addresses whose X-Forwarded-For is believed
};

struct NodeOptions {
  std::string config_path;              // the node.toml this came from
  topology::DivisionCode code;          // this node
  std::string name;                     // display name (informational)
  std::string data_dir;                 // the LMDB environment's folder
  std::string divisions_path;           // divisions CSV (validates codes)
  std::string log_level = "info";       // spdlog level name
  std::string public_key_path;          // this node's CURVE public key file
  std::string secret_key_path;          // this node's CURVE secret key file (mode 0600)
  std::string listen_endpoint;          // ROUTER endpoint for children; empty when none
  std::string allowlist_path;           // children's codes and public keys
  std::map<topology::DivisionCode, std::string> children;  // code -> Z85 public key (from the allowlist)
  std::optional<ParentOptions> parent;  // absent at the root
  std::string control_endpoint;         // local control socket (ipc://…/control.sock)
  node::LinkOptions link;
  TransportOptions transport;
  node::MonitorOptions monitor;         // aggregates' intervals (known_division is set from the tree)
  WebOptions web;
  storage::StorageOptions storage;
};

// Loads and validates FILE; every error names the file and the key.
Result<NodeOptions> load_options(const std::string& path);

// The effective configuration as one line per key, for the start-up log.
std::string describe(const NodeOptions& options);

}  // namespace lifeline::runtime
