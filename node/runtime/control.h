// The local control surface of a node: `lifeline status`, `post` and
// `inbox`. A request is one JSON object with "cmd" ("status", "post",
// "inbox"); the reply is one JSON object with "ok" and either the result or
// "error". The running node answers on a ZeroMQ REP socket at its
// control_endpoint (ipc://<data_dir>/control.sock, mode 0700 folder); when
// the node is not running the CLI answers the same requests from the store
// itself (OfflineNode), holding the node's lock meanwhile.
#pragma once

#include <nlohmann/json.hpp>

#include <memory>
#include <string>
#include <utility>

#include "node/core/node_core.h"
#include "node/runtime/options.h"
#include "storage/store.h"

namespace lifeline::runtime {

// The JSON documents for status and inbox, built from the core and the store.
nlohmann::json status_json(const NodeOptions& options, const node::NodeCore& core, const storage::Store& store,
                           bool running, uint64_t auth_refusals);
Result<nlohmann::json> inbox_json(const storage::Store& store, uint64_t self);

// A digest of the store's contents: per domain table its entry count and a
// 64-bit FNV-1a hash of its keys and values, and per link the outbox
// depth. Two digests are equal when the store did not change (tests compare
// them around refused requests; operators, two replicas' tables).
Result<nlohmann::json> digest_json(const storage::Store& store);

// Validates a post request: {"cmd":"post","to":"<12 digits>","count":N,"size":B}.
struct PostRequest {
  uint64_t to = 0;
  uint32_t count = 1;
  uint32_t size = 256;
};
Result<PostRequest> parse_post(const nlohmann::json& request);

// An exclusive lock on <data_dir>/node.lock: held by a running node, or by
// the CLI while it works on the store of a stopped node. Move-only.
class NodeLock {
 public:
  // Ok with the lock held; kUnavailable when another process holds it.
  static Result<NodeLock> acquire(const std::string& data_dir);
  NodeLock(NodeLock&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
  NodeLock& operator=(NodeLock&& other) noexcept {
    std::swap(fd_, other.fd_);
    return *this;
  }
  NodeLock(const NodeLock&) = delete;
  ~NodeLock();

 private:
  explicit NodeLock(int fd) : fd_(fd) {}
  int fd_ = -1;  // the locked file; -1 when moved from
};

// Sends one request to the running node; unavailable when it does not
// answer within timeout_ms.
Result<nlohmann::json> control_request(const std::string& endpoint, const nlohmann::json& request, int timeout_ms);

// A request travels as JSON text, which holds only UTF-8. A top-level string
// that is not (a file exported in GBK, say) travels base64-encoded as
// "<key>_base64", so that the node judges its lines as it would offline;
// restore_control_request puts it back.
std::string control_request_text(const nlohmann::json& request);
void restore_control_request(nlohmann::json& request);

// Answers a request from the store of a node that is not running.
Result<nlohmann::json> offline_request(const NodeOptions& options, const nlohmann::json& request);

}  // namespace lifeline::runtime
