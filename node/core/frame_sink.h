// FrameSink: where the core hands the frames it sends. The runtime wires it
// to ZeroMQ sockets, the simulation to an in-memory network.
#pragma once

#include <cstdint>
#include <string>

namespace lifeline::node {

class FrameSink {
 public:
  virtual ~FrameSink() = default;
  // Queues bytes (one encoded frame) toward neighbour `peer`. Returns false
  // when the transport cannot take it now (no connection, high-water mark):
  // the frame counts as not sent and the core keeps it for later.
  virtual bool send(uint64_t peer, std::string&& bytes) = 0;
};

}  // namespace lifeline::node
