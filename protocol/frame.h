// The link frames as plain C++ values: what the sans-IO core reads and
// writes. protocol/codec.h turns them into Cap'n Proto bytes (link.capnp) and
// back, with the limits for untrusted input; protocol/README.md describes the
// envelope, sequencing and limits in prose.
//
// Value types: copyable, movable, no invariants beyond the field comments.
#pragma once

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

namespace lifeline::protocol {

// What a record's payload means. Values are stored and sent: never reuse one.
enum class MessageKind : uint16_t {
  kTest = 1,               // a generic test message (lifeline post / inbox)
  kHouseholdSync = 2,      // HouseholdSync (domain.capnp): one household's state along its holder path
  kPolicy = 3,             // a policy document (JSON), flowing down
  kStandards = 4,          // county 低保 standards set by a province or city (JSON), flowing down and up
  kAggregate = 5,          // an aggregate snapshot (JSON), child to parent
  kApplication = 6,        // a cross-location application (JSON), to the household's home node
  kApplicationStatus = 7,  // an application's status (JSON), back to the township that took it
  kAudit = 8,              // an audit log entry (JSON), up from a township or village to its county
  kHouseholdSyncBatch = 9, // several HouseholdSyncs for one neighbour (protocol/domain_codec.h)
  kHouseholdSyncBatchZstd = 10,  // a kHouseholdSyncBatch payload compressed with zstd; only to a peer
                                 // whose frames announce kFeatureZstdBatches (protocol/domain_codec.h)
};

// Bits of Frame::features: what the sending node understands. A node sends
// a record of a newer kind only to a peer whose latest frame announced it,
// and rewrites it into the older kind otherwise (protocol/README.md).
inline constexpr uint64_t kFeatureZstdBatches = 1;  // records of kind kHouseholdSyncBatchZstd
inline constexpr uint64_t kFeatures = kFeatureZstdBatches;  // all that this release understands

// One message travelling one link.
struct Record {
  uint64_t link_seq = 0;     // this link's sequence, assigned by the hop that sends it (1, 2, ...)
  uint64_t origin = 0;       // division code of the node that created the message
  uint64_t origin_seq = 0;   // 1, 2, ... per (origin, destination) stream; with origin: the global id
  uint64_t destination = 0;  // division code of the node that applies it
  uint16_t kind = 0;         // a MessageKind
  uint64_t hlc = 0;          // hybrid logical clock at creation: (wall ms << 16) | logical counter
  std::string payload;       // opaque to the link; at most kMaxPayloadBytes

  bool operator==(const Record&) const = default;
};

// Sent on connect and to ask for a resume: "I have applied your link
// sequence up to last_applied; resend after it".
struct Hello {
  uint64_t last_applied = 0;  // highest link seq the sender has committed from the receiver
  bool want_reply = false;    // the receiver answers with its own Hello
  bool operator==(const Hello&) const = default;
};

struct Data {
  std::vector<Record> records;  // link_seq strictly increasing within a frame
  bool operator==(const Data&) const = default;
};

// Liveness and round-trip time. A ping carries the sender's monotonic time;
// the echo returns it unchanged.
struct Heartbeat {
  uint64_t sent_at_us = 0;  // sender's monotonic clock, microseconds
  bool echo = false;        // true in the answer to a ping
  bool operator==(const Heartbeat&) const = default;
};

// Nothing but the header's cumulative ack.
struct AckOnly {
  bool operator==(const AckOnly&) const = default;
};

struct Frame {
  uint64_t sender = 0;  // division code of the node that sent the frame
  uint64_t ack = 0;     // cumulative: highest link seq the sender has committed from the receiver
  std::variant<Hello, Data, Heartbeat, AckOnly> body;
  uint64_t features = 0;  // kFeature* bits the sender understands; 0 from an older sender
  bool operator==(const Frame&) const = default;
};

}  // namespace lifeline::protocol
