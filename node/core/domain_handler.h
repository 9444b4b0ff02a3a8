// The seam between the link core (NodeCore) and the monitoring domain
// (Monitor): NodeCore hands every record of a domain kind that is applied
// here to the handler, inside the write transaction that applies it, and the
// handler sends what follows from it through an Outbound in that same
// transaction. So a change and the messages it causes commit together
// (DESIGN §3.3).
//
// Threading: called on the node loop only.
#pragma once

#include <cstdint>
#include <string>

#include "node/core/clock.h"
#include "protocol/frame.h"
#include "storage/store.h"
#include "topology/status.h"

namespace lifeline::node {

// Messages created by the domain, written to the outbox of the next hop in
// the current transaction.
class Outbound {
 public:
  virtual ~Outbound() = default;
  // destination: a neighbour, or any node (routed like a post).
  virtual void send(uint64_t destination, protocol::MessageKind kind, std::string payload) = 0;
  // A hybrid logical clock timestamp for a change made now.
  virtual uint64_t hlc() = 0;
  // Part of a record received from peer was refused (one item of a batch
  // that applies the rest): counted and logged like a refused record.
  virtual void refuse(uint64_t peer, const std::string& reason) = 0;
};

class DomainHandler {
 public:
  virtual ~DomainHandler() = default;
  virtual bool handles(uint16_t kind) const = 0;
  // A kind that travels one link only: created by the neighbour that sends
  // it, for this node (a household sync, a policy, standards, an aggregate,
  // an audit entry). NodeCore refuses such a record whose origin is not the
  // sending neighbour or whose destination is not this node, so that no
  // node can have one relayed to another in its name (DESIGN §4).
  virtual bool neighbour_only(uint16_t kind) const {
    (void)kind;
    return false;
  }
  // Start of a write attempt (Store::write may run its callback again after
  // growing the map): drop whatever the previous attempt staged.
  virtual void begin() = 0;
  // Applies one record received from the neighbour from_peer. A non-ok
  // Status refuses it (counted and logged as a refusal); the handler must
  // then have written nothing. A record of several items (a sync batch)
  // whose items are refused one by one reports each through
  // Outbound::refuse and returns ok.
  virtual Status on_record(storage::WriteTxn& txn, const protocol::Record& record, uint64_t from_peer,
                           Outbound& out, const Instant& now) = 0;
  // The attempt committed: publish what was staged.
  virtual void committed() = 0;
  // A record leaving the outbox for a peer whose latest frame announced
  // only peer_features (protocol::kFeature* bits): one of a kind the peer
  // does not understand is rewritten in place into an older kind that says
  // the same, keeping its ids. A failure means the stored record is
  // damaged.
  virtual Status adapt_for_peer(protocol::Record& record, uint64_t peer_features) const {
    (void)record;
    (void)peer_features;
    return Status::ok();
  }
};

}  // namespace lifeline::node
