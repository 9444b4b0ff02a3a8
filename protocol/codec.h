// Encoding and decoding of link frames (protocol/link.capnp) with the limits
// for untrusted bytes. Decoding never throws and never aborts: any malformed
// input, including Cap'n Proto's own exceptions, becomes a Status.
//
// Stateless free functions: thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "protocol/frame.h"
#include "topology/status.h"

namespace lifeline::protocol {

// Limits applied to every frame from a peer (see protocol/README.md).
inline constexpr size_t kMaxFrameBytes = 8u << 20;        // whole frame, checked before parsing
inline constexpr size_t kMaxPayloadBytes = 1u << 20;      // one record's payload
inline constexpr size_t kMaxRecordsPerFrame = 16384;      // records in one Data frame
inline constexpr uint64_t kTraversalLimitWords = (kMaxFrameBytes / 8) * 2;  // capnp ReaderOptions
inline constexpr int kNestingLimit = 8;                                    // capnp ReaderOptions

// Serializes a frame. Requires the frame to respect the limits above (the
// core builds frames within them); returns the bytes of one message part.
std::string encode_frame(const Frame& frame);

// Parses one message part. Handles any alignment of `bytes` (copies into
// word-aligned memory when needed). Fails with invalid_argument on: size over
// kMaxFrameBytes or not a whole number of words, a Cap'n Proto error
// (truncated, traversal or nesting limit), an unknown union member, a sender,
// origin or destination that is not a valid division code, a payload or
// record count over the limits, link sequences that are 0 or not increasing.
Result<Frame> decode_frame(std::span<const std::byte> bytes);
inline Result<Frame> decode_frame(std::span<const uint8_t> bytes) {
  return decode_frame(std::as_bytes(bytes));
}

}  // namespace lifeline::protocol
