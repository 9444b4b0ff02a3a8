// Encoding and decoding of the monitoring domain's values (protocol/domain.h)
// as Cap'n Proto bytes (protocol/domain.capnp). The same bytes are link
// payloads (untrusted) and store values (written by this node). Decoding
// never throws: malformed bytes, unaligned input (copied first), Cap'n Proto
// errors, values outside their enumerations and strings or lists over the
// limits below all become an invalid_argument Status.
//
// Stateless free functions: thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "protocol/domain.h"
#include "topology/status.h"

namespace lifeline::protocol {

inline constexpr size_t kMaxDomainBytes = 1u << 20;   // one encoded value
inline constexpr size_t kMaxTextBytes = 4096;         // one string field
inline constexpr size_t kMaxMembers = 64;             // members of a household
inline constexpr size_t kMaxListItems = 16384;        // alerts, history, events, needs, indicators, aliases

std::string encode_household(const Household& h);
std::string encode_alert(const Alert& a);
std::string encode_history(const HistoryEntry& e);
std::string encode_event(const DeptEvent& e);
std::string encode_sync(const HouseholdSync& s);

Result<Household> decode_household(std::string_view bytes);
// Only the id and the village (value and stamp): the other fields are left
// empty. For a caller that needs no more and must not write it back.
Result<Household> decode_household_header(std::string_view bytes);
Result<Alert> decode_alert(std::string_view bytes);
Result<HistoryEntry> decode_history(std::string_view bytes);
Result<DeptEvent> decode_event(std::string_view bytes);
Result<HouseholdSync> decode_sync(std::string_view bytes);

// A batch of household syncs toward one neighbour (record kind
// kHouseholdSyncBatch, protocol/README.md). Its items are laid one after
// another, each an 8-byte little-endian length and then that many bytes of
// an encoded HouseholdSync (a whole number of words, so every item starts
// word-aligned). On the wire the items are Cap'n Proto-packed (the standard
// packing of words, most of which are zero here), after an 8-byte
// little-endian count of the unpacked bytes. A sender closes a batch once
// its items reach kSyncBatchTargetBytes; unpacked they may not exceed
// kMaxSyncBatchBytes, and a batch holds at most kMaxListItems items.
inline constexpr size_t kSyncBatchTargetBytes = 256u << 10;
inline constexpr size_t kMaxSyncBatchBytes = 4u << 20;
// Appends one encoded sync to the items of a batch.
void append_to_sync_batch(std::string& items, std::string_view encoded_sync);
// The record payload of a batch's items (packed).
std::string seal_sync_batch(std::string_view items);
// A batch's items, unpacked (word-aligned), from a record payload. Refuses
// a payload that is empty, malformed, too large unpacked, or has bytes
// after the packed items.
Result<std::string> open_sync_batch(std::string_view payload);
// A batch's record payload compressed for kind kHouseholdSyncBatchZstd: one
// zstd frame (level 1) of the kHouseholdSyncBatch payload, with its size in
// the frame header. Syncs compress 6-8x (repeated codes, stamps, indicator
// names), so the outbox and the link carry that much less. Returns nullopt
// when compression would not make the payload smaller.
std::optional<std::string> compress_sync_batch(std::string_view sealed);
// The kHouseholdSyncBatch payload inside a kHouseholdSyncBatchZstd one.
// Refuses, before allocating, a frame that does not state its decompressed
// size or states one over kMaxPayloadBytes; refuses any zstd error and bytes
// after the frame.
Result<std::string> expand_sync_batch(std::string_view compressed);
// The items (views into items; decode each with decode_sync). Refuses
// items whose lengths do not tile them exactly with whole-word items.
Result<std::vector<std::string_view>> split_sync_batch(std::string_view items);

}  // namespace lifeline::protocol
