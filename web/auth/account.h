// Operator accounts (DESIGN §4): who may sign in to a node's web UI, with
// which role, over which jurisdiction. Input: an account created or edited
// by an administrator. Output: the bytes stored for it, and back.
//
// Stored format: one compact JSON object per account, keys in this order
// (nlohmann's sorted order), every key required, no other key allowed:
//   {"created_by":"admin",            account name of the creator; "" for the bootstrap account
//    "created_us":1718000000000000,   creation time, µs since the Unix epoch, >= 0
//    "disabled":false,                true: may not sign in; sessions were ended
//    "jurisdiction":"441303000000",   12-digit division code (topology::DivisionCode)
//    "must_change_password":true,     true until the owner replaces a one-time password
//    "name":"wang.li",                check_account_name
//    "password_changed_us":0,         last password change, µs since the epoch, >= 0
//    "password_hash":"$argon2id$...", PHC string (password.h)
//    "role":"operator",               role_name
//    "v":1}                           format version
// decode_account refuses anything else: other JSON, a missing, unknown or
// repeated key, a wrong type, an invalid value.
//
// Value types and pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "topology/status.h"
#include "web/auth/password.h"

namespace lifeline::web {

// Ordered: a higher role may do everything a lower one may.
enum class Role : uint8_t { kOperator = 1, kSupervisor = 2, kAdmin = 3 };

// "operator", "supervisor", "admin"; parse_role is its exact inverse (no
// other spelling is accepted).
const char* role_name(Role role);
std::optional<Role> parse_role(std::string_view name);

// Value type; copyable.
struct Account {
  std::string name;                  // unique on the node; check_account_name
  Role role = Role::kOperator;       // what the account may do
  uint64_t jurisdiction = 0;         // 12-digit division code as a number; what the account may see
  std::string password_hash;         // PHC string of hash_password
  bool must_change_password = true;  // the password is a one-time password
  bool disabled = false;             // may not sign in
  int64_t created_us = 0;            // µs since the Unix epoch
  int64_t password_changed_us = 0;   // µs since the Unix epoch; 0 = never changed
  std::string created_by;            // creator's account name; empty for the bootstrap account
  bool operator==(const Account&) const = default;
};

// The password_changed_us of a password set at now_us: now_us, or just after
// the account's last change when the clock reads earlier, so that a later
// change always has a later time (sessions compare them).
int64_t next_password_change_us(const Account& account, int64_t now_us);

// The stored format above. Never throws: invalid UTF-8 in a string (which
// decode would refuse) is replaced by U+FFFD.
std::string encode_account(const Account& account);

// Parses the stored format strictly (see above). Errors are corruption,
// naming the key at fault.
Result<Account> decode_account(std::string_view bytes);

// Limit on the stored bytes decode_account reads.
inline constexpr size_t kMaxAccountBytes = 4096;

// Null when name is 3 to 32 ASCII characters of [a-z0-9._-] starting with a
// letter or digit, else (codes) account_name_length or account_name_chars.
// A new account's name must also hold no ID number, which this (knowing
// topology only) does not check: runtime::check_new_account does.
std::optional<PolicyError> check_account_name(std::string_view name);

}  // namespace lifeline::web
