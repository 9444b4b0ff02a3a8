// LinkOptions: the tunables of every link of a node. Defaults explained
// inline; node.sample.toml documents the matching [link] keys.
#pragma once

#include <cstddef>
#include <cstdint>

#include "protocol/frame.h"

namespace lifeline::node {

struct LinkOptions {
  // A ping goes to each up link this often; its echo gives the round-trip time.
  int64_t heartbeat_interval_us = 250'000;
  // A link with nothing heard for this long is marked down (≥ 2 heartbeats).
  int64_t down_after_us = 1'500'000;
  // Records in flight with no ack progress for this long: ask the peer where
  // it is (Hello want_reply) and resend from there. Also the pace of gap
  // resume requests.
  int64_t resend_after_us = 1'000'000;
  // A child whose parent link is down sends Hello at this interval, doubling
  // up to hello_backoff_max_us (ZeroMQ reconnects underneath with its own backoff).
  int64_t hello_backoff_initial_us = 50'000;
  int64_t hello_backoff_max_us = 500'000;
  // Records in one data frame, and payload bytes after which a frame closes.
  size_t frame_max_records = 512;
  size_t frame_max_bytes = 256 * 1024;
  // Records sent and not yet acknowledged on one link (several batches: the
  // sender never waits for one ack before sending the next batch).
  uint64_t window_max_records = 32768;
  // A record's clock stamp is taken into this node's hybrid logical clock
  // up to this far ahead of the wall clock here, no further: one node whose
  // clock is set wrong (or one bad stamp) cannot drag every clock of the
  // tree into the future, where stamps stop ordering edits. The record
  // still applies; the clamp is counted ("clock_ahead") and logged.
  int64_t max_clock_lead_us = 600'000'000;
  // Messages created per write transaction by one post command.
  size_t post_batch = 4096;
  // What this node announces in every frame it sends (protocol::kFeature*
  // bits). Always protocol::kFeatures in a node; a test sets fewer to play a
  // node of an earlier release.
  uint64_t features = protocol::kFeatures;
};

}  // namespace lifeline::node
