// Encoding and decoding of the monitoring domain's values (protocol/domain.h)
// as Cap'n Proto bytes (protocol/domain.capnp). The same bytes are link
// payloads (untrusted) and store values (written by this node). Decoding
// never throws: malformed bytes, unaligned input (copied first), Cap'n Proto
// errors, values outside their enumerations and strings or lists over the
// limits below all become an invalid_argument Status.
//
// Stateless free functions: thread-safe.
#pragma once

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
Result<Alert> decode_alert(std::string_view bytes);
Result<HistoryEntry> decode_history(std::string_view bytes);
Result<DeptEvent> decode_event(std::string_view bytes);
Result<HouseholdSync> decode_sync(std::string_view bytes);

}  // namespace lifeline::protocol
