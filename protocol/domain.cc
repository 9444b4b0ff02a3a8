// Text forms of record ids (protocol/domain.h).
#include "protocol/domain.h"

#include <charconv>
#include <string>
#include <string_view>
#include <system_error>

#include "topology/division_code.h"

namespace lifeline::protocol {
namespace {

constexpr size_t kOriginDigits = 12;

bool all_digits(std::string_view text) {
  for (char c : text) {
    if (c < '0' || c > '9') return false;
  }
  return !text.empty();
}

// A decimal number with no sign, no leading zero and no overflow; ≥ 1.
bool parse_seq(std::string_view text, uint64_t& out) {
  if (!all_digits(text) || text.front() == '0') return false;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), out);
  return error == std::errc() && end == text.data() + text.size();
}

}  // namespace

std::string format_id(char prefix, const RecordId& id) {
  return std::string{prefix, '-'} + topology::DivisionCode::format(id.origin) + '-' + std::to_string(id.seq);
}

bool parse_id(std::string_view text, char prefix, RecordId& out) {
  // prefix '-' 12 digits '-' seq
  constexpr size_t kSeqStart = 2 + kOriginDigits + 1;
  if (text.size() <= kSeqStart || text[0] != prefix || text[1] != '-' || text[kSeqStart - 1] != '-') return false;
  std::string_view origin_text = text.substr(2, kOriginDigits);
  if (!all_digits(origin_text)) return false;
  uint64_t origin = 0;
  std::from_chars(origin_text.data(), origin_text.data() + origin_text.size(), origin);  // 12 digits: no overflow
  // An origin that is no division code names no node, so no record either.
  if (!topology::DivisionCode::or_invalid(origin).valid()) return false;
  uint64_t seq = 0;
  if (!parse_seq(text.substr(kSeqStart), seq)) return false;
  out = RecordId{origin, seq};
  return true;
}

}  // namespace lifeline::protocol
