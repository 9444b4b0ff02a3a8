// libFuzzer target for protocol/domain_codec: the monitoring payloads that
// arrive over links (HouseholdSync) and the store's values. Every decoder
// must never crash or leak on any bytes, must give the same answer for
// word-aligned and unaligned copies, and whatever it accepts must re-encode
// to bytes that decode to the same value. A violation traps, which
// libFuzzer reports with the input. See tests/fuzz/README.md.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/codec.h"
#include "protocol/domain_codec.h"

namespace {

using namespace lifeline::protocol;

std::string_view aligned_copy(const uint8_t* data, size_t size, std::vector<uint64_t>& words) {
  words.assign(size / 8 + 1, 0);
  if (size > 0) std::memcpy(words.data(), data, size);
  return std::string_view(reinterpret_cast<const char*>(words.data()), size);
}

std::string_view unaligned_copy(const uint8_t* data, size_t size, std::vector<char>& buffer) {
  buffer.assign(size + 1, 0);
  if (size > 0) std::memcpy(buffer.data() + 1, data, size);
  return std::string_view(buffer.data() + 1, size);
}

// One decoder under the three properties above.
template <class T, class Decode, class Encode>
void check(std::string_view aligned, std::string_view unaligned, Decode decode, Encode encode) {
  auto a = decode(aligned);
  auto u = decode(unaligned);
  if (a.is_ok() != u.is_ok()) __builtin_trap();
  if (!a.is_ok()) return;
  if (!(*a == *u)) __builtin_trap();
  std::string again = encode(*a);
  auto b = decode(again);
  if (!b.is_ok() || !(*b == *a)) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::vector<uint64_t> words;
  std::vector<char> buffer;
  std::string_view a = aligned_copy(data, size, words);
  std::string_view u = unaligned_copy(data, size, buffer);
  check<HouseholdSync>(a, u, decode_sync, encode_sync);
  check<Household>(a, u, decode_household, encode_household);
  check<Alert>(a, u, decode_alert, encode_alert);
  check<HistoryEntry>(a, u, decode_history, encode_history);
  check<DeptEvent>(a, u, decode_event, encode_event);
  // A sync batch (kHouseholdSyncBatch): opening must not crash, must give
  // the same answer at any alignment, and items that open, split and decode
  // must seal again into a batch that opens to the same items.
  auto opened = open_sync_batch(a);
  if (opened.is_ok() != open_sync_batch(u).is_ok()) __builtin_trap();
  if (opened.is_ok()) {
    auto items = split_sync_batch(*opened);
    if (items.is_ok()) {
      for (std::string_view item : *items) (void)decode_sync(item);
      auto again = open_sync_batch(seal_sync_batch(*opened));
      if (!again.is_ok() || *again != *opened) __builtin_trap();
    }
  }
  // A compressed batch (kHouseholdSyncBatchZstd): expanding must not crash,
  // must stay within a record's payload, and what it gives must compress
  // and expand back to itself.
  auto expanded = expand_sync_batch(u);
  if (expanded.is_ok()) {
    if (expanded->empty() || expanded->size() > kMaxPayloadBytes) __builtin_trap();
    if (auto z = compress_sync_batch(*expanded)) {
      auto back = expand_sync_batch(*z);
      if (!back.is_ok() || *back != *expanded) __builtin_trap();
    }
  }
  return 0;
}
