#include "topology/utf8.h"

namespace lifeline::topology {

namespace {

// What a UTF-8 lead byte allows: the sequence length (0: not a lead byte)
// and the range of the second byte, which excludes overlong forms,
// surrogates and code points above U+10FFFF.
struct Utf8Lead {
  size_t length;
  unsigned char lo, hi;
};

Utf8Lead utf8_lead(unsigned char b) {
  if (b >= 0xC2 && b <= 0xDF) return {2, 0x80, 0xBF};
  if (b == 0xE0) return {3, 0xA0, 0xBF};
  if (b == 0xED) return {3, 0x80, 0x9F};
  if (b >= 0xE1 && b <= 0xEF) return {3, 0x80, 0xBF};
  if (b == 0xF0) return {4, 0x90, 0xBF};
  if (b >= 0xF1 && b <= 0xF3) return {4, 0x80, 0xBF};
  if (b == 0xF4) return {4, 0x80, 0x8F};
  return {0, 0, 0};
}

}  // namespace

size_t utf8_sequence_length(std::string_view s, size_t i) {
  const auto byte = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  const Utf8Lead lead = utf8_lead(byte(i));
  if (lead.length == 0 || i + lead.length > s.size()) return 0;
  if (byte(i + 1) < lead.lo || byte(i + 1) > lead.hi) return 0;
  for (size_t k = 2; k < lead.length; ++k) {
    if ((byte(i + k) & 0xC0) != 0x80) return 0;
  }
  return lead.length;
}

bool valid_utf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    // Most text is ASCII: step over it byte by byte without decoding.
    if (static_cast<unsigned char>(s[i]) < 0x80) {
      ++i;
      continue;
    }
    const size_t n = utf8_sequence_length(s, i);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

std::string clean_text(std::string_view s, size_t max_bytes) {
  static constexpr std::string_view kReplacement = "\xEF\xBF\xBD", kEllipsis = "\xE2\x80\xA6";
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    const auto b = static_cast<unsigned char>(s[i]);
    const size_t n = b < 0x80 ? 1 : utf8_sequence_length(s, i);
    if (n == 0) {
      out += kReplacement;
      ++i;
      continue;
    }
    if (b < 0x20 || b == 0x7F) {
      out += ' ';
    } else {
      out.append(s.substr(i, n));
    }
    i += n;
  }
  if (out.size() <= max_bytes) return out;
  // out is valid UTF-8: cut before a continuation byte's character.
  const bool ellipsis = max_bytes >= kEllipsis.size();
  size_t cut = max_bytes - (ellipsis ? kEllipsis.size() : 0);
  while (cut > 0 && (static_cast<unsigned char>(out[cut]) & 0xC0) == 0x80) --cut;
  out.resize(cut);
  if (ellipsis) out += kEllipsis;
  return out;
}

}  // namespace lifeline::topology
