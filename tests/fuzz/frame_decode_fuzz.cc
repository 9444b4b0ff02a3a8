// libFuzzer target for protocol/codec: decode_frame must never crash or leak
// on any bytes, must give the same answer for word-aligned and unaligned
// copies of the input, and whatever it accepts must re-encode to bytes that
// decode to the same frame. A violation traps, which libFuzzer reports with
// the input. See tests/fuzz/README.md for how to run it.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <vector>

#include "protocol/codec.h"

namespace {

using lifeline::Result;
using lifeline::protocol::decode_frame;
using lifeline::protocol::encode_frame;
using lifeline::protocol::Frame;

// Decodes a copy of the input placed at an odd address (the copying path).
Result<Frame> decode_unaligned(const uint8_t* data, size_t size) {
  std::vector<uint8_t> buffer(size + 1);
  if (size > 0) std::memcpy(buffer.data() + 1, data, size);
  return decode_frame(std::span<const uint8_t>(buffer.data() + 1, size));
}

// Decodes a copy of the input in word-aligned memory (the in-place path).
Result<Frame> decode_aligned(const uint8_t* data, size_t size) {
  std::vector<uint64_t> words(size / 8 + 1);
  if (size > 0) std::memcpy(words.data(), data, size);
  return decode_frame(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(words.data()), size));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Result<Frame> decoded = decode_aligned(data, size);
  Result<Frame> unaligned = decode_unaligned(data, size);
  if (decoded.is_ok() != unaligned.is_ok()) __builtin_trap();
  if (!decoded.is_ok()) return 0;
  if (*decoded != *unaligned) __builtin_trap();

  std::string encoded = encode_frame(*decoded);
  Result<Frame> again = decode_frame(std::as_bytes(std::span(encoded.data(), encoded.size())));
  if (!again.is_ok() || *again != *decoded) __builtin_trap();
  return 0;
}
