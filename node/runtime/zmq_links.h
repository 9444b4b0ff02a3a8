// ZmqLinks: the ZeroMQ side of a node's links (DESIGN §3.3, PITFALLS.md).
//
// - Children: one ROUTER bound at listen_endpoint, CURVE server, with
//   ROUTER_MANDATORY (a frame for an absent child is "not sent", never
//   dropped), no ROUTER_HANDOVER (a connection cannot take over the id of
//   one that is connected) and ZMTP heartbeats (a dead connection closes in
//   seconds, so a restarted child gets its id back).
// - Parent: one DEALER connected to the parent's endpoint, CURVE client,
//   routing id = this node's 12-digit code, IMMEDIATE (no queueing to an
//   incomplete connection), reconnecting with backoff.
// - A ZAP handler, bound at inproc://zeromq.zap.01 before the ROUTER binds,
//   admits a child only when its public key is on the allowlist, and answers
//   with the child's code as User-Id. Every frame received is checked again:
//   its routing id must equal the User-Id that its key earned.
//
// High-water marks become back-pressure: send() returns false on EAGAIN or
// EHOSTUNREACH, and the core keeps the records in its outbox.
//
// Threading: the sockets belong to the node loop thread; the ZAP handler runs
// on its own thread with its own socket and shares only atomic counters.
// Not copyable.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <thread>
#include <vector>

#include <zmq.hpp>
#include <zmq_addon.hpp>

#include "node/core/frame_sink.h"
#include "node/core/node_core.h"
#include "node/runtime/options.h"

namespace lifeline::runtime {

class ZmqLinks : public node::FrameSink {
 public:
  // Requires context to outlive this object.
  ZmqLinks(zmq::context_t& context, const NodeOptions& options, const std::string& secret_key,
           const std::string& public_key);
  ~ZmqLinks() override;
  ZmqLinks(const ZmqLinks&) = delete;
  ZmqLinks& operator=(const ZmqLinks&) = delete;

  // Starts the ZAP handler, binds and connects. Errors: bad endpoint, port in use.
  Status open();
  // Stops the ZAP handler and closes the sockets (idempotent).
  void close() noexcept;

  // Poll items for the loop: ROUTER and/or DEALER, in that order.
  void add_poll_items(std::vector<zmq::pollitem_t>& items);
  // Receives up to max frames from the sockets without blocking; appends
  // those from authenticated neighbours to out.
  void receive(size_t max, std::vector<node::InFrame>& out);

  bool send(uint64_t peer, std::string&& bytes) override;

  // Handshakes refused by ZAP, frames whose routing id is not their key's
  // code, and messages of more than one part.
  uint64_t auth_refusals() const { return zap_refusals_.load() + impostor_frames_ + multipart_refusals_; }

 private:
  void zap_loop();
  bool zap_answer(zmq::socket_t& socket);
  void receive_router(size_t max, std::vector<node::InFrame>& out);
  void receive_dealer(size_t max, std::vector<node::InFrame>& out);
  void drain_extra_parts(zmq::socket_t& socket, std::string_view from);

  zmq::context_t& context_;            // not owned; outlives this
  const NodeOptions& options_;         // not owned; outlives this
  std::string secret_key_;             // this node's CURVE secret (Z85)
  std::string public_key_;             // this node's CURVE public (Z85)
  std::map<std::string, uint64_t> allowed_;  // children's raw 32-byte public keys -> code; read by the ZAP thread only after open()
  std::unique_ptr<zmq::socket_t> router_;    // toward children; null when none
  std::unique_ptr<zmq::socket_t> dealer_;    // toward the parent; null at the root
  std::thread zap_thread_;                   // runs zap_loop while open
  std::atomic<bool> zap_stop_{false};        // asks zap_loop to return
  std::atomic<uint64_t> zap_refusals_{0};    // handshakes refused by ZAP (unknown key)
  uint64_t impostor_frames_ = 0;             // frames whose routing id is not their key's code (loop thread)
  uint64_t multipart_refusals_ = 0;          // messages of more than one part (loop thread)
};

}  // namespace lifeline::runtime
