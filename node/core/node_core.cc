#include "node/core/node_core.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <set>

#include "protocol/codec.h"
#include "topology/logging.h"

namespace lifeline::node {
namespace {

using protocol::Frame;
using protocol::Record;
using topology::DivisionCode;

constexpr int64_t kNever = std::numeric_limits<int64_t>::min() / 2;

DivisionCode as_code(uint64_t number) { return DivisionCode::or_invalid(number); }

const char* role_name(LinkRole role) { return role == LinkRole::kParent ? "parent" : "child"; }

std::string refusal_counter(uint64_t peer) { return "refused:" + DivisionCode::format(peer); }

// Test payload: the origin sequence and the wall time of the post in
// microseconds (both little-endian, as far as size allows; latency
// measurements read the second), then a fixed filler.
std::string test_payload(uint64_t origin_seq, uint32_t size, const Instant& now) {
  std::string p(size, 'L');
  uint64_t words[2] = {origin_seq, static_cast<uint64_t>(now.wall_us)};
  std::memcpy(p.data(), words, std::min<size_t>(size, sizeof words));
  return p;
}

}  // namespace

const char* link_state_name(LinkState state) { return state == LinkState::kUp ? "up" : "down"; }

// In-memory state of the link toward one neighbour. `cursor` mirrors the
// committed store; the rest is volatile and rebuilt from it after a restart.
struct NodeCore::Link {
  uint64_t peer = 0;                     // neighbour's code
  LinkRole role = LinkRole::kChild;      // the neighbour's role relative to us
  storage::LinkCursor cursor;            // as last committed
  uint64_t next_send = 1;                // next link seq to hand to the transport
  LinkState state = LinkState::kDown;
  int64_t since_wall_us = 0;             // when state last changed
  int64_t last_heard_us = kNever;        // mono time of the last frame received
  int64_t last_ping_us = kNever;         // mono time of the last ping sent
  int64_t rtt_us = -1;                   // last measured round-trip time
  uint64_t ack_sent = 0;                 // highest applied seq told to the peer
  int64_t ack_progress_us = kNever;      // mono time acked last advanced or a flight began
  bool hello_reply_owed = false;         // the peer asked for our Hello
  bool stall_hello_owed = false;         // acks stopped progressing: ask where the peer is
  int64_t stall_hello_at_us = kNever;
  bool gap_hello_owed = false;           // a gap was seen: ask the peer to resend
  uint64_t gap_hello_applied = ~uint64_t{0};
  int64_t gap_hello_at_us = kNever;
  std::optional<uint64_t> echo_owed;     // a ping's sent_at to echo back
  int64_t hello_next_us = 0;             // next Hello attempt toward a down parent
  int64_t hello_backoff_us = 0;
  uint64_t malformed = 0;                // frames refused before decoding completed
  uint64_t peer_features = 0;            // kFeature* bits of the peer's latest frame; none until one arrives
};

// Effects of one input batch, staged until the write transaction commits
// (Store::write may run its callback more than once).
struct NodeCore::Batch {
  storage::WriteTxn* txn = nullptr;
  Instant now;
  std::map<uint64_t, storage::LinkCursor> cursors;   // staged cursors of touched links
  std::map<uint64_t, uint64_t> acks;                 // highest ack seen per peer
  std::map<std::string, uint64_t> counter_deltas;
  std::vector<std::pair<uint64_t, protocol::Hello>> hellos;
  std::vector<std::pair<uint64_t, protocol::Heartbeat>> heartbeats;
  std::set<uint64_t> heard;
  std::set<uint64_t> gaps;
  std::vector<std::pair<uint64_t, std::string>> refusals;  // peer, reason: logged after commit
  std::vector<std::string> warnings;
  bool dirty = false;  // something other than cursors and counters was written
  uint64_t hlc = 0;    // the clock this batch stores (0: unchanged)
  std::string oversize;  // why a domain message was not sent: larger than a record may carry

  storage::LinkCursor& cursor(const Link& l) {
    auto it = cursors.find(l.peer);
    return it != cursors.end() ? it->second : cursors.emplace(l.peer, l.cursor).first->second;
  }
};

// The domain's messages of one batch: each gets the next origin sequence of
// its stream and goes to the outbox of its next hop in the batch's transaction.
class NodeCore::BatchOutbound : public Outbound {
 public:
  BatchOutbound(NodeCore& core, Batch& batch) : core_(core), batch_(batch) {}
  void send(uint64_t destination, protocol::MessageKind kind, std::string payload) override {
    // A record larger than a peer accepts would be resent and refused
    // forever, and every record after it on that link would wait behind it:
    // it is not sent. The domain splits what may grow (household syncs); a
    // command that would still send one fails whole (execute).
    if (payload.size() > protocol::kMaxPayloadBytes) {
      batch_.oversize = "a message of kind " + std::to_string(static_cast<int>(kind)) + " to " +
                        DivisionCode::format(destination) + " of " + std::to_string(payload.size()) +
                        " bytes exceeds the " + std::to_string(protocol::kMaxPayloadBytes) + " bytes a record carries";
      batch_.warnings.push_back("not sent: " + batch_.oversize);
      return;
    }
    uint64_t self = core_.neighbourhood_.self().number();
    Record r{0, self, batch_.txn->next_origin_seq(destination | storage::kMonitorChannel), destination,
             static_cast<uint16_t>(kind),
             core_.hlc_.now(batch_.now), std::move(payload)};
    core_.route_record(batch_, r, self);
  }
  uint64_t hlc() override { return core_.hlc_.now(batch_.now); }
  void refuse(uint64_t peer, const std::string& reason) override { core_.refuse(batch_, peer, reason); }

 private:
  NodeCore& core_;  // outlives this
  Batch& batch_;    // the batch being written
};

NodeCore::NodeCore(topology::Neighbourhood neighbourhood, storage::Store* store, LinkOptions options)
    : neighbourhood_(std::move(neighbourhood)), store_(store), options_(options) {
  auto add = [&](DivisionCode code, LinkRole role) {
    auto l = std::make_unique<Link>();
    l->peer = code.number();
    l->role = role;
    links_[l->peer] = std::move(l);
  };
  if (neighbourhood_.parent()) add(*neighbourhood_.parent(), LinkRole::kParent);
  for (DivisionCode c : neighbourhood_.children()) add(c, LinkRole::kChild);
}

NodeCore::~NodeCore() = default;

NodeCore::Link* NodeCore::link(uint64_t peer) {
  auto it = links_.find(peer);
  return it == links_.end() ? nullptr : it->second.get();
}

Status NodeCore::start(const Instant& now) {
  std::map<uint64_t, storage::LinkCursor> cursors;
  Status s = store_->read([&](const storage::ReadTxn& txn) {
    cursors = txn.all_cursors();
    counters_ = txn.counters();
    hlc_stored_ = txn.hlc();
  });
  if (!s) return s;
  // The clock resumes from where it stopped: a change made after a restart,
  // with the wall clock behind where it was, still outranks every change
  // this node made or saw before (last writer wins under these stamps).
  hlc_.observe(hlc_stored_);
  for (auto& [peer, cursor] : cursors) {
    Link* l = link(peer);
    if (l == nullptr) {
      folder_logger("node")->warn("store holds a cursor for {} which is no longer a neighbour; its {} outbox records wait",
                                  DivisionCode::format(peer), cursor.last_assigned - cursor.acked);
      continue;
    }
    l->cursor = cursor;
  }
  for (auto& [peer, l] : links_) {
    l->next_send = l->cursor.acked + 1;
    l->ack_sent = l->cursor.applied;
    l->since_wall_us = now.wall_us;
    l->hello_next_us = now.mono_us;
    l->hello_backoff_us = options_.hello_backoff_initial_us;
  }
  return Status::ok();
}

// ---------------------------------------------------------------------------
// Input: frames

namespace {
constexpr int kMaxPoisonedPerBatch = 16;         // runs of one batch that each refuse one more record
constexpr size_t kMaxPoisonedRemembered = 1024;  // then forgotten (found again if resent)
}  // namespace

Status NodeCore::on_frames(std::span<const InFrame> frames, const Instant& now) {
  std::vector<std::pair<uint64_t, Frame>> decoded;
  decoded.reserve(frames.size());
  for (const InFrame& in : frames) {
    Link* l = link(in.peer);
    if (l == nullptr) {
      folder_logger("node")->warn("frame from {} refused: not a neighbour", DivisionCode::format(in.peer));
      continue;
    }
    auto frame = protocol::decode_frame(std::as_bytes(std::span(in.bytes.data(), in.bytes.size())));
    if (!frame || frame->sender != in.peer) {
      ++l->malformed;
      folder_logger("protocol")->warn("frame from {} refused: {}", DivisionCode::format(in.peer),
                                      frame ? "sender field " + DivisionCode::format(frame->sender) + " is not the peer"
                                            : frame.status().message());
      continue;
    }
    l->peer_features = frame->features;
    decoded.emplace_back(in.peer, std::move(*frame));
  }
  if (decoded.empty()) return Status::ok();
  Batch batch;
  Status s;
  // A record whose application throws a data error aborts the batch; the
  // batch then runs again with that record refused (apply_domain). Each
  // run can find at most one more such record.
  const bool durable = durable_batch(decoded);
  for (int attempt = 0;; ++attempt) {
    poison_found_.reset();
    s = store_->write([&](storage::WriteTxn& txn) {
      batch = Batch{};
      batch.txn = &txn;
      batch.now = now;
      if (domain_ != nullptr) domain_->begin();
      for (auto& [peer, frame] : decoded) handle_frame(batch, peer, frame);
      for (auto& [peer, ack] : batch.acks) handle_ack(batch, *link(peer), ack);
      return stage_writes(batch);
    }, durable ? storage::Store::Sync::kDurable : storage::Store::Sync::kDataOnly);
    if (s || !poison_found_ || attempt >= kMaxPoisonedPerBatch) break;
    if (poisoned_.size() >= kMaxPoisonedRemembered) poisoned_.clear();
    poisoned_.insert(std::move(*poison_found_));
  }
  if (s.code() == Status::Code::kNotFound) s = Status::ok();  // nothing changed: aborted, no commit needed
  if (!s) {
    folder_logger("node")->error("batch of {} frames not applied: {}", decoded.size(), s.to_string());
    return s;
  }
  if (domain_ != nullptr) domain_->committed();
  commit_batch(batch, now);
  return Status::ok();
}

Status NodeCore::execute(const std::function<Status(storage::WriteTxn&, Outbound&)>& fn, const Instant& now) {
  Batch batch;
  Status s = store_->write([&](storage::WriteTxn& txn) {
    batch = Batch{};
    batch.txn = &txn;
    batch.now = now;
    batch.dirty = true;
    if (domain_ != nullptr) domain_->begin();
    BatchOutbound out(*this, batch);
    Status r = fn(txn, out);
    if (!r) return r;
    if (!batch.oversize.empty()) return Status::invalid_argument(batch.oversize);
    return stage_writes(batch);
  });
  if (!s) return s;
  if (domain_ != nullptr) domain_->committed();
  commit_batch(batch, now);
  return Status::ok();
}

// A batch that may apply or relay records must be on disk before it is
// acknowledged; one that only deletes acknowledged outbox entries need not
// have its meta page synced (a lost deletion is redone by the peer's next
// ack, and a resent record is a duplicate the peer ignores). Its data
// pages are synced all the same (Store::Sync::kDataOnly): with MDB_NOSYNC
// a power loss could corrupt the store. Committing acks in memory only, to
// the next write, was measured and not adopted: the deletions then ran on
// the next data batch's critical path (latency_p99_ms about 18 instead of
// 6-8).
bool NodeCore::durable_batch(const std::vector<std::pair<uint64_t, Frame>>& frames) {
  for (const auto& [peer, frame] : frames) {
    if (std::holds_alternative<protocol::Data>(frame.body)) return true;
  }
  return false;
}

void NodeCore::handle_frame(Batch& batch, uint64_t peer, Frame& frame) {
  Link& l = *link(peer);
  batch.heard.insert(peer);
  uint64_t& ack = batch.acks[peer];
  ack = std::max(ack, frame.ack);
  if (const auto* hello = std::get_if<protocol::Hello>(&frame.body)) {
    ack = std::max(ack, hello->last_applied);
    batch.hellos.emplace_back(peer, *hello);
  } else if (auto* data = std::get_if<protocol::Data>(&frame.body)) {
    handle_data(batch, l, *data);
  } else if (const auto* hb = std::get_if<protocol::Heartbeat>(&frame.body)) {
    batch.heartbeats.emplace_back(peer, *hb);
  }
}

void NodeCore::handle_ack(Batch& batch, Link& l, uint64_t ack) {
  storage::LinkCursor& c = batch.cursor(l);
  if (ack <= c.acked) return;
  if (ack > c.last_assigned) {
    batch.warnings.push_back(DivisionCode::format(l.peer) + " acknowledged link seq " + std::to_string(ack) +
                             " beyond the last assigned " + std::to_string(c.last_assigned) + "; ignored");
    return;
  }
  batch.txn->outbox_delete_through(l.peer, ack);
  c.acked = ack;
}

void NodeCore::handle_data(Batch& batch, Link& l, protocol::Data& data) {
  storage::LinkCursor& c = batch.cursor(l);
  for (Record& r : data.records) {
    uint64_t seq = r.link_seq;
    if (seq <= c.applied) continue;  // a duplicate: already committed
    if (seq != c.applied + 1) {
      batch.gaps.insert(l.peer);  // lost frames before it: ask for a resend
      return;
    }
    handle_record(batch, l, r);
    c.applied = seq;
  }
}

void NodeCore::handle_record(Batch& batch, Link& l, Record& r) {
  std::string reason;
  if (refuse_reason(l, r, reason)) {
    refuse(batch, l.peer, reason);
    return;
  }
  // Taken into the clock no further than max_clock_lead_us ahead of now.
  const uint64_t lead_ms = static_cast<uint64_t>(std::max<int64_t>(batch.now.wall_us + options_.max_clock_lead_us, 0) / 1000);
  const uint64_t ceiling = lead_ms >= (uint64_t{1} << 47) ? std::numeric_limits<uint64_t>::max() >> 1 : lead_ms << 16;
  if (r.hlc > ceiling && batch.counter_deltas["clock_ahead"]++ == 0) {  // one warning a batch
    batch.warnings.push_back("link " + DivisionCode::format(l.peer) + ": record " + DivisionCode::format(r.origin) + "/" +
                             std::to_string(r.origin_seq) + " is stamped " +
                             std::to_string((Hlc::wall_ms(r.hlc) - batch.now.wall_us / 1000) / 1000) +
                             " s ahead of this node's clock; the clock moves only " +
                             std::to_string(options_.max_clock_lead_us / 1'000'000) + " s ahead");
  }
  hlc_.observe(std::min(r.hlc, ceiling));
  route_record(batch, r, l.peer);
}

bool NodeCore::refuse_reason(const Link& l, const Record& r, std::string& reason) const {
  DivisionCode peer = as_code(l.peer);
  if (l.role == LinkRole::kChild && !peer.contains(as_code(r.origin))) {
    reason = "origin " + DivisionCode::format(r.origin) + " is outside the child's jurisdiction";
  } else if (l.role == LinkRole::kParent && !neighbourhood_.self().contains(as_code(r.destination))) {
    reason = "destination " + DivisionCode::format(r.destination) + " is outside this node's jurisdiction";
  } else if (r.kind != static_cast<uint16_t>(protocol::MessageKind::kTest) &&
             (domain_ == nullptr || !domain_->handles(r.kind))) {
    reason = "unknown message kind " + std::to_string(r.kind);
  } else if (domain_ != nullptr && domain_->neighbour_only(r.kind) &&
             (r.origin != l.peer || r.destination != neighbourhood_.self().number())) {
    reason = "kind " + std::to_string(r.kind) + " travels one link only (from " + DivisionCode::format(r.origin) + " to " +
             DivisionCode::format(r.destination) + ", sent by " + DivisionCode::format(l.peer) + ")";
  } else {
    return false;
  }
  reason = "record " + DivisionCode::format(r.origin) + "/" + std::to_string(r.origin_seq) + " refused: " + reason;
  return true;
}

void NodeCore::refuse(Batch& batch, uint64_t peer, const std::string& reason) {
  ++batch.counter_deltas[refusal_counter(peer)];
  batch.refusals.emplace_back(peer, reason);
}

// Applies r here or writes it to the outbox of the next hop, in batch's
// transaction (r.link_seq is overwritten with the outgoing link's sequence).
// from_peer is the neighbour it came from (self for a post).
void NodeCore::route_record(Batch& batch, Record& r, uint64_t from_peer) {
  batch.dirty = true;
  topology::Route route = neighbourhood_.route(as_code(r.destination));
  if (route.kind == topology::Route::Kind::kNone) {
    refuse(batch, from_peer, "record " + DivisionCode::format(r.origin) + "/" + std::to_string(r.origin_seq) +
                                 " refused: no route to " + DivisionCode::format(r.destination));
    return;
  }
  if (route.kind == topology::Route::Kind::kLocal) {
    if (r.kind != static_cast<uint16_t>(protocol::MessageKind::kTest) && domain_ != nullptr) {
      apply_domain(batch, r, from_peer);
    } else if (batch.txn->apply(r, static_cast<uint64_t>(batch.now.wall_us)) == storage::ApplyOutcome::kDuplicate) {
      ++batch.counter_deltas["duplicates"];
    }
    return;
  }
  if (route.next.number() == from_peer) {
    // Back to where it came from: the neighbour routes it here, this node
    // there. Refused, or the two would pass it to and fro for ever.
    refuse(batch, from_peer, "record " + DivisionCode::format(r.origin) + "/" + std::to_string(r.origin_seq) +
                                 " refused: its route to " + DivisionCode::format(r.destination) +
                                 " leads back to the link it came from");
    return;
  }
  Link& out = *link(route.next.number());
  storage::LinkCursor& c = batch.cursor(out);
  r.link_seq = ++c.last_assigned;
  batch.txn->outbox_put(out.peer, r);
}

// A domain record applies once (the applied-id set); a refusal by the
// domain is counted like a link refusal and leaves the record marked
// applied, so a resend is not retried.
void NodeCore::apply_domain(Batch& batch, Record& r, uint64_t from_peer) {
  if (batch.txn->mark_applied(r) == storage::ApplyOutcome::kDuplicate) {
    ++batch.counter_deltas["duplicates"];
    return;
  }
  const RecordKey key{r.origin, r.destination, r.origin_seq};
  if (auto p = poisoned_.find(key); p != poisoned_.end()) {
    refuse(batch, from_peer, "record " + DivisionCode::format(r.origin) + "/" + std::to_string(r.origin_seq) +
                                 " (kind " + std::to_string(r.kind) + ") refused: applying it failed: " + p->second);
    return;
  }
  BatchOutbound out(*this, batch);
  Status s;
  try {
    s = domain_->on_record(*batch.txn, r, from_peer, out, batch.now);
  } catch (const std::exception& e) {
    // The transaction cannot go on past a throw: on_frames runs the batch
    // again without this record. A store error is the store's, not the
    // record's, and fails the batch as before.
    if (storage::is_data_error(e)) poison_found_.emplace(key, e.what());
    throw;
  }
  if (!s) {
    refuse(batch, from_peer, "record " + DivisionCode::format(r.origin) + "/" + std::to_string(r.origin_seq) +
                                 " (kind " + std::to_string(r.kind) + ") refused: " + s.message());
  }
}

// Writes the batch's changed cursors and counters. A batch that changed
// nothing (heartbeats, repeated acks) returns not_found so that the
// transaction aborts instead of committing: an idle link costs no fsync.
Status NodeCore::stage_writes(Batch& batch) {
  bool dirty = batch.dirty || !batch.counter_deltas.empty();
  for (auto& [peer, cursor] : batch.cursors) {
    if (cursor == link(peer)->cursor) continue;
    batch.txn->put_cursor(peer, cursor);
    dirty = true;
  }
  for (auto& [name, delta] : batch.counter_deltas) batch.txn->add_counter(name, delta);
  // The clock moved (a stamp issued or one seen): stored with the batch.
  if (hlc_.last() > hlc_stored_) {
    batch.hlc = hlc_.last();
    batch.txn->put_hlc(batch.hlc);
    dirty = true;
  }
  return dirty ? Status::ok() : Status::not_found("nothing to commit");
}

void NodeCore::commit_batch(Batch& batch, const Instant& now) {
  auto log = folder_logger("node");
  if (batch.hlc > hlc_stored_) hlc_stored_ = batch.hlc;
  for (auto& [peer, c] : batch.cursors) {
    Link& l = *link(peer);
    if (c.acked > l.cursor.acked) l.ack_progress_us = now.mono_us;
    l.cursor = c;
    l.next_send = std::max(l.next_send, c.acked + 1);
  }
  for (auto& [name, delta] : batch.counter_deltas) counters_[name] += delta;
  for (uint64_t peer : batch.heard) {
    Link& l = *link(peer);
    l.last_heard_us = now.mono_us;
    if (l.state == LinkState::kDown) set_state(l, LinkState::kUp, now, "frame received");
  }
  for (auto& [peer, hello] : batch.hellos) {
    Link& l = *link(peer);
    if (hello.last_applied > l.cursor.last_assigned) {
      // Only a store that lost commits (restored from a backup) gets here;
      // records assigned from now on up to that sequence would look like
      // duplicates to the peer. Needs an operator: say so loudly.
      log->error("link {}: peer says it applied link seq {} but only {} were ever assigned here; the stores disagree",
                 DivisionCode::format(peer), hello.last_applied, l.cursor.last_assigned);
    }
    l.next_send = std::min(std::max(hello.last_applied, l.cursor.acked), l.cursor.last_assigned) + 1;
    l.hello_reply_owed = l.hello_reply_owed || hello.want_reply;
    log->debug("link {}: peer applied through {}, resending from {}", DivisionCode::format(peer), hello.last_applied, l.next_send);
  }
  for (auto& [peer, hb] : batch.heartbeats) {
    Link& l = *link(peer);
    if (hb.echo) {
      l.rtt_us = now.mono_us - static_cast<int64_t>(hb.sent_at_us);
    } else {
      l.echo_owed = hb.sent_at_us;
    }
  }
  for (uint64_t peer : batch.gaps) {
    Link& l = *link(peer);
    if (l.cursor.applied != l.gap_hello_applied || now.mono_us - l.gap_hello_at_us >= options_.resend_after_us)
      l.gap_hello_owed = true;
  }
  for (auto& [peer, reason] : batch.refusals) log->warn("link {}: {}", DivisionCode::format(peer), reason);
  for (auto& w : batch.warnings) log->warn("{}", w);
}

// ---------------------------------------------------------------------------
// Input: post

Result<PostResult> NodeCore::post(uint64_t destination, uint32_t count, uint32_t size, const Instant& now) {
  auto dest = DivisionCode::from_number(destination);
  if (!dest) return dest.status();
  if (neighbourhood_.route(*dest).kind == topology::Route::Kind::kNone)
    return Status::invalid_argument("no route from " + neighbourhood_.self().to_string() + " to " + dest->to_string());
  if (size > protocol::kMaxPayloadBytes)
    return Status::invalid_argument("size " + std::to_string(size) + " exceeds the payload limit");
  PostResult result{destination, 0, 0};
  uint64_t self = neighbourhood_.self().number();
  for (uint32_t done = 0; done < count;) {
    uint32_t n = static_cast<uint32_t>(std::min<size_t>(count - done, options_.post_batch));
    Batch batch;
    uint64_t first = 0, last = 0;
    Status s = store_->write([&](storage::WriteTxn& txn) {
      batch = Batch{};
      batch.txn = &txn;
      batch.now = now;
      first = txn.reserve_origin_seqs(destination, n);
      last = first + n - 1;
      Record r{0, self, 0, destination, static_cast<uint16_t>(protocol::MessageKind::kTest), 0, {}};
      for (uint64_t seq = first; seq <= last; ++seq) {
        r.origin_seq = seq;
        r.hlc = hlc_.now(now);
        r.payload = test_payload(seq, size, now);
        route_record(batch, r, self);
      }
      return stage_writes(batch);
    });
    if (!s) return s;
    commit_batch(batch, now);
    if (result.first_origin_seq == 0) result.first_origin_seq = first;
    result.last_origin_seq = last;
    done += n;
  }
  return result;
}

// ---------------------------------------------------------------------------
// Timers and output

void NodeCore::on_tick(const Instant& now) {
  for (auto& [peer, lp] : links_) {
    Link& l = *lp;
    if (l.state == LinkState::kUp && now.mono_us - l.last_heard_us > options_.down_after_us) {
      set_state(l, LinkState::kDown,
                now, "nothing heard for " + std::to_string((now.mono_us - l.last_heard_us) / 1000) + " ms");
    }
    bool in_flight = l.next_send > l.cursor.acked + 1;
    if (l.state == LinkState::kUp && in_flight && now.mono_us - l.ack_progress_us > options_.resend_after_us &&
        now.mono_us - l.stall_hello_at_us > options_.resend_after_us) {
      l.stall_hello_owed = true;
    }
  }
}

void NodeCore::set_state(Link& l, LinkState state, const Instant& now, const std::string& cause) {
  folder_logger("node")->info("link {} ({}) {} -> {}: {}", DivisionCode::format(l.peer), role_name(l.role),
                              link_state_name(l.state), link_state_name(state), cause);
  l.state = state;
  l.since_wall_us = now.wall_us;
  if (state == LinkState::kDown) {
    l.next_send = l.cursor.acked + 1;  // whatever was in flight may be lost
    l.hello_next_us = now.mono_us;
    l.hello_backoff_us = options_.hello_backoff_initial_us;
    l.rtt_us = -1;
    l.peer_features = 0;  // it may come back as another release: plain records until it says
  }
}

void NodeCore::flush(FrameSink& sink, const Instant& now) {
  for (auto& [peer, lp] : links_) {
    Link& l = *lp;
    if (l.role == LinkRole::kParent && l.state == LinkState::kDown && now.mono_us >= l.hello_next_us) {
      send_hello(sink, l, true, now);
      l.hello_next_us = now.mono_us + l.hello_backoff_us;
      l.hello_backoff_us = std::min(l.hello_backoff_us * 2, options_.hello_backoff_max_us);
    }
    if (l.hello_reply_owed) l.hello_reply_owed = !send_hello(sink, l, false, now);
    if (l.stall_hello_owed && send_hello(sink, l, true, now)) {
      l.stall_hello_owed = false;
      l.stall_hello_at_us = now.mono_us;
    }
    if (l.gap_hello_owed && send_hello(sink, l, false, now)) {
      l.gap_hello_owed = false;
      l.gap_hello_applied = l.cursor.applied;
      l.gap_hello_at_us = now.mono_us;
    }
    if (l.state == LinkState::kUp) send_data(sink, l, now);
    if (l.echo_owed && send_frame(sink, l, Frame{0, 0, protocol::Heartbeat{*l.echo_owed, true}}, now))
      l.echo_owed.reset();
    if (l.state == LinkState::kUp && now.mono_us - l.last_ping_us >= options_.heartbeat_interval_us &&
        send_frame(sink, l, Frame{0, 0, protocol::Heartbeat{static_cast<uint64_t>(now.mono_us), false}}, now))
      l.last_ping_us = now.mono_us;
    if (l.cursor.applied > l.ack_sent) (void)send_frame(sink, l, Frame{0, 0, protocol::AckOnly{}}, now);
  }
}

bool NodeCore::send_hello(FrameSink& sink, Link& l, bool want_reply, const Instant& now) {
  return send_frame(sink, l, Frame{0, 0, protocol::Hello{l.cursor.applied, want_reply}}, now);
}

void NodeCore::send_data(FrameSink& sink, Link& l, const Instant& now) {
  while (l.next_send <= l.cursor.last_assigned && l.next_send - l.cursor.acked - 1 < options_.window_max_records) {
    uint64_t room = options_.window_max_records - (l.next_send - l.cursor.acked - 1);
    protocol::Data data;
    data.records.reserve(std::min<uint64_t>(room, options_.frame_max_records));
    Status s = store_->read([&](const storage::ReadTxn& txn) {
      txn.outbox_read(l.peer, l.next_send, std::min<uint64_t>(room, options_.frame_max_records),
                      options_.frame_max_bytes, data.records);
    });
    LIFELINE_CHECK(s.is_ok() && !data.records.empty() && data.records.front().link_seq == l.next_send,
                   "outbox toward " + DivisionCode::format(l.peer) + " is missing link seq " + std::to_string(l.next_send) +
                       (s ? "" : ": " + s.to_string()));
    if (domain_ != nullptr) adapt_for_peer(l, data.records);
    uint64_t last = data.records.back().link_seq;
    if (l.next_send == l.cursor.acked + 1) l.ack_progress_us = now.mono_us;  // a flight begins
    if (!send_frame(sink, l, Frame{0, 0, std::move(data)}, now)) return;
    l.next_send = last + 1;
  }
}

// Records of a kind the peer's frames did not announce are rewritten into
// one it understands (a compressed sync batch is sent expanded to a node of
// an earlier release). Expanded records may make the frame larger than
// frame_max_bytes: it then ends before the record that would pass it (the
// rest go in the next frame).
void NodeCore::adapt_for_peer(const Link& l, std::vector<Record>& records) const {
  size_t bytes = 0;
  bool grown = false;
  for (size_t i = 0; i < records.size(); ++i) {
    const size_t before = records[i].payload.size();
    Status s = domain_->adapt_for_peer(records[i], l.peer_features);
    // A record that cannot be rewritten goes as it is: the peer refuses a
    // kind it does not know and counts it, and the link goes on. (Only
    // records created here are of a newer kind; one that does not expand
    // is damaged, and stopping the node for it would stop the link too.)
    if (!s)
      folder_logger("node")->error("link {}: record at link seq {} sent unchanged: {}", DivisionCode::format(l.peer),
                                   records[i].link_seq, s.to_string());
    grown = grown || records[i].payload.size() > before;
    bytes += records[i].payload.size();
    if (grown && i > 0 && bytes > options_.frame_max_bytes) {
      records.resize(i);
      return;
    }
  }
}

// Stamps the header (sender, cumulative ack of what is committed, what this
// node understands) and hands the frame to the sink.
bool NodeCore::send_frame(FrameSink& sink, Link& l, Frame&& frame, const Instant& now) {
  frame.sender = neighbourhood_.self().number();
  frame.ack = l.cursor.applied;
  frame.features = options_.features;
  if (!sink.send(l.peer, protocol::encode_frame(frame))) return false;
  l.ack_sent = std::max(l.ack_sent, frame.ack);
  return true;
}

// ---------------------------------------------------------------------------
// Queries

NodeStatus NodeCore::status() const {
  NodeStatus st;
  st.code = neighbourhood_.self().number();
  st.counters = counters_;
  for (auto& [peer, lp] : links_) {
    const Link& l = *lp;
    auto refused = counters_.find(refusal_counter(peer));
    st.links.push_back(LinkStatus{peer, l.role, l.state, l.since_wall_us, l.rtt_us, l.next_send - 1,
                                  l.cursor.acked, l.cursor.applied, l.cursor.last_assigned,
                                  l.cursor.last_assigned - l.cursor.acked,
                                  refused == counters_.end() ? 0 : refused->second, l.malformed, l.peer_features});
  }
  return st;
}

int64_t NodeCore::next_timer_in_us(const Instant& now) const {
  int64_t next = options_.heartbeat_interval_us;
  for (auto& [peer, lp] : links_) {
    const Link& l = *lp;
    if (l.role == LinkRole::kParent && l.state == LinkState::kDown) next = std::min(next, l.hello_next_us - now.mono_us);
    if (l.state == LinkState::kUp) {
      next = std::min(next, l.last_ping_us + options_.heartbeat_interval_us - now.mono_us);
      next = std::min(next, l.last_heard_us + options_.down_after_us + 1 - now.mono_us);
    }
  }
  return std::max<int64_t>(next, 0);
}

}  // namespace lifeline::node
