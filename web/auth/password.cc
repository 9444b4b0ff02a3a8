#include "web/auth/password.h"

#include <argon2.h>
#include <sys/random.h>

#include <array>
#include <cerrno>
#include <cstring>

namespace lifeline::web {
namespace {

constexpr size_t kSaltBytes = 16;
constexpr size_t kHashBytes = 32;
// Longer than any PHC string our limits allow (about 100 characters for a
// 16-byte salt and a 32-byte hash); anything longer is junk.
constexpr size_t kMaxEncodedBytes = 512;
constexpr std::string_view kPhcPrefix = "$argon2id$v=19$m=";
constexpr std::string_view kHexDigits = "0123456789abcdef";

// Fills out with bytes from getrandom(2), which blocks only until the
// kernel's pool is first seeded. A short read is continued, EINTR retried.
Status fill_random(unsigned char* out, size_t n) {
  while (n > 0) {
    const ssize_t got = getrandom(out, n, 0);
    if (got < 0) {
      if (errno == EINTR) continue;
      return Status::io_error(std::string("getrandom: ") + std::strerror(errno));
    }
    out += got;
    n -= static_cast<size_t>(got);
  }
  return Status::ok();
}

void must_fill_random(unsigned char* out, size_t n) {
  const Status s = fill_random(out, n);
  LIFELINE_CHECK(s.is_ok(), s.to_string());
}

// Consumes a decimal of 1..10 digits that fits uint32_t from the front of
// text; false (text unspecified) when there is none.
bool take_u32(std::string_view& text, uint32_t& out) {
  size_t n = 0;
  uint64_t value = 0;
  while (n < text.size() && n < 10 && text[n] >= '0' && text[n] <= '9') value = value * 10 + (text[n++] - '0');
  if (n == 0 || value > UINT32_MAX || (n < text.size() && text[n] >= '0' && text[n] <= '9')) return false;
  out = static_cast<uint32_t>(value);
  text.remove_prefix(n);
  return true;
}

bool take(std::string_view& text, std::string_view literal) {
  if (!text.starts_with(literal)) return false;
  text.remove_prefix(literal.size());
  return true;
}

bool is_base64_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '/';
}

// "<salt>$<hash>", both non-empty unpadded base64.
bool is_salt_and_hash(std::string_view text) {
  const size_t dollar = text.find('$');
  if (dollar == std::string_view::npos || dollar == 0 || dollar + 1 == text.size()) return false;
  for (size_t i = 0; i < text.size(); ++i) {
    if (i != dollar && !is_base64_char(text[i])) return false;
  }
  return true;
}

// libargon2 decodes the string itself; this check comes first so that only
// argon2id v=19 is accepted and a forged record cannot name costs that make
// verification allocate gigabytes or run for minutes.
bool acceptable_encoding(std::string_view text) {
  uint32_t m = 0, t = 0, p = 0;
  if (text.size() > kMaxEncodedBytes || !take(text, kPhcPrefix) || !take_u32(text, m) || !take(text, ",t=") ||
      !take_u32(text, t) || !take(text, ",p=") || !take_u32(text, p) || !take(text, "$")) {
    return false;
  }
  if (m > kMaxVerifyMemoryKib || t == 0 || t > kMaxVerifyPasses || p == 0 || p > kMaxVerifyLanes) return false;
  return is_salt_and_hash(text);
}

// The character class of an ASCII byte or the lead byte of a UTF-8 sequence.
enum CharClass { kLower = 1, kUpper = 2, kDigit = 4, kOther = 8 };

int char_class(unsigned char c) {
  if (c >= 'a' && c <= 'z') return kLower;
  if (c >= 'A' && c <= 'Z') return kUpper;
  if (c >= '0' && c <= '9') return kDigit;
  return kOther;
}

int class_count(int mask) { return __builtin_popcount(static_cast<unsigned>(mask)); }

int classes_of(std::string_view text) {
  int mask = 0;
  for (char c : text) mask |= char_class(static_cast<unsigned char>(c));
  return mask;
}

// The length of the UTF-8 sequence at text[i], or 0 when it is malformed
// (bad lead or continuation byte, overlong form, surrogate, > U+10FFFF).
size_t utf8_sequence_length(std::string_view text, size_t i) {
  const auto byte = [&](size_t k) { return static_cast<unsigned char>(text[k]); };
  const unsigned char lead = byte(i);
  if (lead < 0x80) return 1;
  // C0, C1 and F5..FF never lead; E0..EF lead 3 bytes, F0..F4 lead 4.
  if (lead < 0xC2 || lead > 0xF4) return 0;
  const size_t n = lead < 0xE0 ? 2 : lead < 0xF0 ? 3 : 4;
  uint32_t cp = lead & (0x7F >> n);
  if (i + n > text.size()) return 0;
  for (size_t k = 1; k < n; ++k) {
    if ((byte(i + k) & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (byte(i + k) & 0x3F);
  }
  const bool overlong = (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000);
  if (overlong || (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF) return 0;
  return n;
}

// The number of code points in text, or nullopt when it is not UTF-8.
std::optional<size_t> utf8_length(std::string_view text) {
  size_t count = 0;
  for (size_t i = 0; i < text.size(); ++count) {
    const size_t n = utf8_sequence_length(text, i);
    if (n == 0) return std::nullopt;
    i += n;
  }
  return count;
}

bool has_control_char(std::string_view text) {
  for (char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7F) return true;
  }
  return false;
}

std::string ascii_lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

PolicyError policy_error(std::string code, std::string zh, std::string en) {
  return PolicyError{std::move(code), std::move(zh), std::move(en)};
}

// One draw of generate_password: uniform over kPasswordAlphabet.
std::string draw_password(size_t length) {
  // Bytes at or above the largest multiple of the alphabet's size are
  // rejected, so that `byte % size` is uniform.
  constexpr size_t kSize = kPasswordAlphabet.size();
  constexpr unsigned kLimit = 256 - 256 % kSize;
  std::string out;
  out.reserve(length);
  std::array<unsigned char, 64> pool{};
  while (out.size() < length) {
    must_fill_random(pool.data(), pool.size());
    for (unsigned char b : pool) {
      if (b < kLimit && out.size() < length) out.push_back(kPasswordAlphabet[b % kSize]);
    }
  }
  return out;
}

}  // namespace

Status to_status(const PolicyError& error) {
  return Status::invalid_argument(error.code + ": " + error.message_en).with_zh(error.message_zh);
}

Result<std::string> hash_password(std::string_view password, const Argon2Params& p) {
  if (password.size() > kMaxPasswordBytes) {
    return Status::invalid_argument("password longer than " + std::to_string(kMaxPasswordBytes) + " bytes");
  }
  std::array<unsigned char, kSaltBytes> salt{};
  if (Status s = fill_random(salt.data(), salt.size()); !s) return s;
  std::string encoded(argon2_encodedlen(p.t_cost, p.m_cost_kib, p.parallelism, kSaltBytes, kHashBytes, Argon2_id),
                      '\0');
  const int rc = argon2id_hash_encoded(p.t_cost, p.m_cost_kib, p.parallelism, password.data(), password.size(),
                                       salt.data(), salt.size(), kHashBytes, encoded.data(), encoded.size());
  if (rc != ARGON2_OK) return Status::invalid_argument(std::string("argon2id: ") + argon2_error_message(rc));
  encoded.resize(std::strlen(encoded.c_str()));  // argon2_encodedlen counts the NUL and is an upper bound
  return encoded;
}

bool verify_password(std::string_view encoded, std::string_view password) {
  if (!acceptable_encoding(encoded)) return false;
  const std::string terminated(encoded);  // libargon2 wants a C string; acceptable_encoding excluded NULs
  return argon2id_verify(terminated.c_str(), password.data(), password.size()) == ARGON2_OK;
}

std::string generate_password(size_t length) {
  for (;;) {
    std::string out = draw_password(length);
    if (length < 2 || class_count(classes_of(out)) >= kMinPasswordClasses) return out;
  }
}

std::string random_token(size_t bytes) {
  std::string raw(bytes, '\0');
  must_fill_random(reinterpret_cast<unsigned char*>(raw.data()), raw.size());
  std::string out;
  out.reserve(2 * bytes);
  for (unsigned char b : raw) {
    out.push_back(kHexDigits[b >> 4]);
    out.push_back(kHexDigits[b & 0x0F]);
  }
  return out;
}

std::optional<PolicyError> check_password_policy(std::string_view password, std::string_view account_name) {
  if (password.size() > kMaxPasswordBytes) {
    const std::string max = std::to_string(kMaxPasswordBytes);
    return policy_error("password_too_long", "密码不能超过 " + max + " 字节",
                        "password must be at most " + max + " bytes");
  }
  const std::optional<size_t> chars = utf8_length(password);
  if (!chars) return policy_error("password_not_utf8", "密码含有无效的字符编码", "password is not valid UTF-8");
  if (has_control_char(password)) {
    return policy_error("password_control_char", "密码不能包含控制字符",
                        "password must not contain control characters");
  }
  if (*chars < kMinPasswordChars) {
    const std::string min = std::to_string(kMinPasswordChars);
    return policy_error("password_too_short", "密码至少 " + min + " 个字符",
                        "password must be at least " + min + " characters");
  }
  if (!account_name.empty() && ascii_lower(password).find(ascii_lower(account_name)) != std::string::npos) {
    return policy_error("password_contains_name", "密码不能包含账号名", "password must not contain the account name");
  }
  if (class_count(classes_of(password)) < kMinPasswordClasses) {
    return policy_error("password_too_simple", "密码须包含至少两类字符：小写字母、大写字母、数字、其他符号",
                        "password must mix at least two of: lower-case letters, upper-case letters, digits, "
                        "other characters");
  }
  return std::nullopt;
}

}  // namespace lifeline::web
