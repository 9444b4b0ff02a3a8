// Passwords of operator accounts: Argon2id hashing in the standard PHC
// string, one-time passwords, random tokens and the password policy
// (DESIGN §4, accounts). Input: a password typed by a person. Output: a
// stored hash, a verdict, or a policy error shown to that person.
//
// The PHC string is the one libargon2 writes:
//   $argon2id$v=19$m=<KiB>,t=<passes>,p=<lanes>$<salt, base64 no padding>$<hash, base64 no padding>
// with a 16-byte salt from getrandom(2) and a 32-byte hash. It carries its
// own parameters, so raising Argon2Params later leaves old hashes valid.
//
// User-facing validation in web/auth returns std::optional<PolicyError>:
// nullopt when the input is acceptable, else a stable machine-readable code
// and the message in Chinese and in English.
//
// Pure functions apart from reading the kernel's random source; thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "topology/status.h"

namespace lifeline::web {

// Why a user-supplied value was refused. Value type; copyable.
struct PolicyError {
  std::string code;        // stable, machine-readable, e.g. "password_too_short"
  std::string message_zh;  // zh-CN, shown to the operator
  std::string message_en;  // the same in English
  bool operator==(const PolicyError&) const = default;
};

// The error as a Status (invalid_argument, "<code>: <message_en>"), for
// callers that report through Status.
Status to_status(const PolicyError& error);

// Argon2id cost. The defaults are OWASP's minimum for Argon2id (19 MiB,
// 2 passes, 1 lane): about 20-40 ms per hash on one core of the target
// machines, which bounds a login flood together with LoginLimiter.
struct Argon2Params {
  uint32_t t_cost = 2;          // passes over memory
  uint32_t m_cost_kib = 19456;  // memory in KiB (19 MiB)
  uint32_t parallelism = 1;     // lanes (and threads)
};

// The PHC string of password with a fresh random salt. Errors:
// invalid_argument for parameters libargon2 refuses (e.g. m_cost_kib <
// 8 * parallelism) or a password over kMaxPasswordBytes; io_error when the
// random source fails.
Result<std::string> hash_password(std::string_view password, const Argon2Params& p = {});

// True iff encoded is a well-formed argon2id v=19 PHC string whose hash
// matches password. Anything else (argon2i/argon2d, other versions, junk,
// truncation, costs above the limits below, which would let a forged record
// make a login allocate gigabytes) is false; never throws or aborts.
// Constant-time in the comparison of hashes (libargon2).
bool verify_password(std::string_view encoded, std::string_view password);

// Upper bounds verify_password accepts from an encoding.
inline constexpr uint32_t kMaxVerifyMemoryKib = 1u << 20;  // 1 GiB
inline constexpr uint32_t kMaxVerifyPasses = 16;
inline constexpr uint32_t kMaxVerifyLanes = 16;

// Characters of one-time passwords: letters and digits without 0 O 1 l I.
inline constexpr std::string_view kPasswordAlphabet = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";

// A one-time password of `length` characters drawn uniformly from
// kPasswordAlphabet (getrandom with rejection sampling). When length >= 2 it
// holds at least two character classes (drawn again until it does), so with
// length >= kMinPasswordChars it meets check_password_policy unless it
// happens to contain the account name. Aborts if the kernel's random source
// fails.
std::string generate_password(size_t length = 16);

// `bytes` random bytes as lower-case hex (2 * bytes characters), for session
// tokens and CSRF tokens. Aborts if the kernel's random source fails.
std::string random_token(size_t bytes = 32);

// Policy limits.
inline constexpr size_t kMinPasswordChars = 10;   // Unicode code points
inline constexpr size_t kMaxPasswordBytes = 128;  // UTF-8 bytes
inline constexpr int kMinPasswordClasses = 2;     // of lower, upper, digit, other

// Null when password is acceptable for account_name, else the first rule it
// breaks, in this order (codes):
//   password_too_long        more than kMaxPasswordBytes bytes
//   password_not_utf8        not valid UTF-8
//   password_control_char    holds a control character (U+0000-U+001F, U+007F)
//   password_too_short       fewer than kMinPasswordChars characters
//   password_contains_name   equals or contains the account name (ASCII case-insensitive)
//   password_too_simple      fewer than kMinPasswordClasses classes among
//                            lower-case, upper-case, digits, other (symbols, non-ASCII)
std::optional<PolicyError> check_password_policy(std::string_view password, std::string_view account_name);

}  // namespace lifeline::web
