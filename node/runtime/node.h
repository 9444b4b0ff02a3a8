// Node: the composition root of one running node (STYLE §5). It owns, in
// declaration order, the options, the lock on the data folder, the divisions
// tree, the store, the core, the ZeroMQ context, the links and the control
// socket; run() is the node loop.
//
// Threading model (written down once, here): the loop thread owns the core,
// the store's write transactions and every socket except the ZAP handler's.
// Each loop turn: poll (timeout = the core's next timer, at most one
// heartbeat), drain up to batch_max_frames frames into one write transaction
// (group commit), answer one control request, run up to kTasksPerTurn tasks
// posted by the HTTP pool (LoopQueue), advance a pending post by one chunk,
// run the core's timers, and flush every link. The HTTP pool's threads read
// the store concurrently (Store::read is thread-safe) but reach the core and
// write transactions only through tasks.
//
// Not copyable.
#pragma once

#include <atomic>
#include <memory>
#include <optional>

#include <nlohmann/json.hpp>
#include <zmq.hpp>

#include "node/core/node_core.h"
#include "node/runtime/control.h"
#include "node/runtime/loop_queue.h"
#include "node/runtime/options.h"
#include "node/runtime/zmq_links.h"
#include "storage/store.h"
#include "topology/jurisdiction_tree.h"

namespace lifeline::runtime {

// The parts shared by a running node and the CLI working on a stopped one:
// lock, tree, store, core.
struct NodeParts {
  std::optional<NodeLock> lock;             // held for the parts' lifetime
  topology::JurisdictionTree tree;          // the divisions known to the node
  std::unique_ptr<storage::Store> store;    // the node's LMDB environment
  std::unique_ptr<node::NodeCore> core;     // uses *store
  std::unique_ptr<node::Monitor> monitor;   // the core's domain; uses *core and *store; destroyed first

  ~NodeParts() {
    monitor.reset();
    core.reset();
  }
};

// Locks, loads the tree, opens the store and starts the core. kUnavailable
// when another process still holds the lock after lock_wait_ms.
Result<std::unique_ptr<NodeParts>> open_parts(const NodeOptions& options, int lock_wait_ms);

// Answers a control request on the given parts. Posts are done in full.
nlohmann::json answer(const NodeOptions& options, NodeParts& parts, const nlohmann::json& request, bool running,
                      uint64_t auth_refusals);

class Node {
 public:
  static Result<std::unique_ptr<Node>> create(NodeOptions options);
  ~Node();
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;

  // Runs until stop becomes true. Returns an error if the links cannot open.
  Status run(const std::atomic<bool>& stop);

  // For the HTTP server: the queue into the loop, and the store and options
  // for its concurrent reads. Valid for the node's lifetime.
  LoopQueue& queue() { return queue_; }
  const storage::Store& store() const { return *parts_->store; }
  const NodeOptions& options() const { return options_; }

 private:
  // A post being committed chunk by chunk so the links keep moving meanwhile.
  struct PendingPost {
    PostRequest request;
    uint32_t remaining = 0;
    node::PostResult result;
  };

  Node(NodeOptions options, std::unique_ptr<NodeParts> parts);
  Status open_sockets();
  void loop_once(std::vector<zmq::pollitem_t>& items, std::vector<node::InFrame>& frames);
  void serve_control();
  void run_tasks();
  void advance_post();
  void release_memory_when_idle(const std::vector<node::InFrame>& frames);

  static constexpr size_t kTasksPerTurn = 32;                // HTTP tasks run per loop turn
  static constexpr int64_t kIdleWindowUs = 2'000'000;        // length of the window judged quiet or busy
  static constexpr uint64_t kQuietBytes = 64 * 1024;         // at most this received in a quiet window
  static constexpr uint64_t kReleaseAfterBytes = 1u << 20;   // traffic since the last release worth releasing
  void reply(const nlohmann::json& body);

  NodeOptions options_;                     // effective configuration
  std::unique_ptr<NodeParts> parts_;        // lock, tree, store, core
  zmq::context_t context_;                  // every socket of this node
  std::unique_ptr<ZmqLinks> links_;         // parent/children sockets and ZAP
  std::unique_ptr<zmq::socket_t> control_;  // REP for the local CLI
  LoopQueue queue_;                         // tasks from the HTTP pool
  std::optional<PendingPost> pending_;      // the post in progress; the control reply waits for it
  int64_t window_start_us_ = 0;             // start of the current idle-judging window (monotonic)
  uint64_t window_bytes_ = 0;               // bytes received or posted in the window
  uint64_t traffic_since_release_ = 0;      // bytes since memory was last released
  uint64_t store_bytes_seen_ = 0;           // the store's bytes_written() when last judged
};

}  // namespace lifeline::runtime
