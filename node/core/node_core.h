// NodeCore: the deterministic, sans-IO state machine of one node's links
// (DESIGN §3.1, §3.3). Input: frames from neighbours, post commands, timer
// ticks, each with the current Instant. Output: records written to the
// store (one write transaction per input batch) and frames handed to a
// FrameSink. Direction: both — down to children, up to the parent.
//
// Delivery: a record is written to the outbox of the link it leaves by, in
// the same transaction as the change that caused it (a post, or receiving it
// on another link). The receiver applies or relays records in link-sequence
// order, advances its cursor in the same transaction, and acknowledges
// cumulatively only after commit. Jurisdiction is enforced on every record
// received: from a child, the origin must lie in the child's jurisdiction;
// from the parent, the destination must lie in ours. A refused record is
// counted, logged with the peer code and reason, and never applied.
//
// The core includes no ZeroMQ, LMDB or HTTP header and never reads a clock
// (checked at build time by node/check_core_purity.cmake).
//
// Threading: single-threaded; owned and driven by the node loop (or the
// simulation). The Store pointer must outlive the core. Not copyable.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <tuple>
#include <vector>

#include "node/core/clock.h"
#include "node/core/domain_handler.h"
#include "node/core/frame_sink.h"
#include "node/core/link_options.h"
#include "protocol/frame.h"
#include "storage/store.h"
#include "topology/routing.h"
#include "topology/status.h"

namespace lifeline::node {

// One frame as received from a neighbour (bytes not yet decoded).
struct InFrame {
  uint64_t peer = 0;  // the authenticated neighbour it came from
  std::string bytes;
};

enum class LinkRole { kParent, kChild };
enum class LinkState { kDown, kUp };
const char* link_state_name(LinkState state);

// What `lifeline status` shows for one link.
struct LinkStatus {
  uint64_t peer = 0;
  LinkRole role = LinkRole::kChild;  // the peer's role relative to us
  LinkState state = LinkState::kDown;
  int64_t since_wall_us = 0;         // when state last changed
  int64_t rtt_us = -1;               // last measured round-trip time; -1 before the first
  uint64_t last_sent = 0;            // highest link seq handed to the transport
  uint64_t last_acked = 0;           // highest link seq the peer acknowledged
  uint64_t last_applied = 0;         // highest link seq received from the peer and committed
  uint64_t last_assigned = 0;        // highest link seq written to the outbox
  uint64_t outbox_depth = 0;         // records waiting for the peer's ack
  uint64_t refusals = 0;             // records refused (jurisdiction, kind, route), durable
  uint64_t malformed_frames = 0;     // frames refused before decoding completed (since start)
  uint64_t peer_features = 0;        // protocol::kFeature* bits of the peer's latest frame; 0 while down
};

struct NodeStatus {
  uint64_t code = 0;
  std::vector<LinkStatus> links;
  std::map<std::string, uint64_t> counters;  // durable counters (refusals, duplicates)
};

struct PostResult {
  uint64_t destination = 0;
  uint64_t first_origin_seq = 0;
  uint64_t last_origin_seq = 0;
};

class NodeCore {
 public:
  NodeCore(topology::Neighbourhood neighbourhood, storage::Store* store, LinkOptions options);
  ~NodeCore();
  NodeCore(const NodeCore&) = delete;
  NodeCore& operator=(const NodeCore&) = delete;

  // Loads the link cursors from the store; every link starts down.
  Status start(const Instant& now);

  // Decodes and handles a batch of frames in one write transaction.
  // Malformed or misattributed frames are refused and leave link and store
  // as they were. Returns the store's error if the transaction failed (the
  // frames are then not applied; the senders will resend them).
  Status on_frames(std::span<const InFrame> frames, const Instant& now);

  // Durably enqueues `count` test messages of `size` payload bytes for the
  // node `destination`, committed before returning.
  Result<PostResult> post(uint64_t destination, uint32_t count, uint32_t size, const Instant& now);

  // Installs the domain (not owned; must outlive the core). Without one,
  // records of domain kinds are refused.
  void set_domain(DomainHandler* domain) { domain_ = domain; }

  // Runs fn in one durable write transaction together with the messages it
  // sends; nothing is written when fn fails.
  Status execute(const std::function<Status(storage::WriteTxn&, Outbound&)>& fn, const Instant& now);

  // Timers: liveness, hello retries, stalled-ack resume requests.
  void on_tick(const Instant& now);

  // Hands every frame that is due to sink: hellos, data within the window,
  // acks, heartbeats. Stops on a link as soon as sink refuses a frame.
  void flush(FrameSink& sink, const Instant& now);

  NodeStatus status() const;
  const topology::Neighbourhood& neighbourhood() const { return neighbourhood_; }
  // Microseconds until the next timer is due (for the loop's poll timeout).
  int64_t next_timer_in_us(const Instant& now) const;

 private:
  struct Link;
  struct Batch;
  class BatchOutbound;

  Link* link(uint64_t peer);
  static bool durable_batch(const std::vector<std::pair<uint64_t, protocol::Frame>>& frames);
  void handle_frame(Batch& batch, uint64_t peer, protocol::Frame& frame);
  void handle_ack(Batch& batch, Link& l, uint64_t ack);
  void handle_data(Batch& batch, Link& l, protocol::Data& data);
  void handle_record(Batch& batch, Link& l, protocol::Record& r);
  void route_record(Batch& batch, protocol::Record& r, uint64_t from_peer);
  void apply_domain(Batch& batch, protocol::Record& r, uint64_t from_peer);
  bool refuse_reason(const Link& l, const protocol::Record& r, std::string& reason) const;
  void adapt_for_peer(const Link& l, std::vector<protocol::Record>& records) const;
  void refuse(Batch& batch, uint64_t peer, const std::string& reason);
  Status stage_writes(Batch& batch);
  void commit_batch(Batch& batch, const Instant& now);
  void set_state(Link& l, LinkState state, const Instant& now, const std::string& cause);
  bool send_hello(FrameSink& sink, Link& l, bool want_reply, const Instant& now);
  void send_data(FrameSink& sink, Link& l, const Instant& now);
  bool send_frame(FrameSink& sink, Link& l, protocol::Frame&& frame, const Instant& now);

  topology::Neighbourhood neighbourhood_;  // self, parent, children
  storage::Store* store_;                  // not owned; outlives the core
  LinkOptions options_;                    // fixed at construction
  Hlc hlc_;                                // timestamps of created messages
  uint64_t hlc_stored_ = 0;                // hlc_ as the store holds it (meta "hlc")
  std::map<uint64_t, std::unique_ptr<Link>> links_;  // one per neighbour, by peer code
  std::map<std::string, uint64_t> counters_;         // committed durable counters
  DomainHandler* domain_ = nullptr;                  // not owned; the monitoring domain, if any
  // Records whose application threw a data error (storage::is_data_error):
  // a batch that meets one is aborted and run again with the record
  // refused, so that one bad record cannot hold up its link for ever. Keyed
  // by global id (origin, destination, origin_seq); bounded, in memory (a
  // restart finds a resent one again the same way).
  using RecordKey = std::tuple<uint64_t, uint64_t, uint64_t>;
  std::optional<std::pair<RecordKey, std::string>> poison_found_;
  std::map<RecordKey, std::string> poisoned_;
};

}  // namespace lifeline::node
