#include "web/auth/account.h"

#include <algorithm>
#include <array>
#include <limits>
#include <nlohmann/json.hpp>
#include <set>

#include "topology/division_code.h"

namespace lifeline::web {

using nlohmann::json;

namespace {

constexpr int kFormatVersion = 1;
constexpr size_t kMinNameChars = 3;
constexpr size_t kMaxNameChars = 32;
constexpr std::string_view kHashPrefix = "$argon2id$";
constexpr std::array<std::string_view, 10> kKeys = {
    "created_by", "created_us",          "disabled",      "jurisdiction", "must_change_password",
    "name",       "password_changed_us", "password_hash", "role",         "v"};

Status bad(std::string_view key, std::string_view why) {
  return Status::corruption("account record: '" + std::string(key) + "' " + std::string(why));
}

bool is_name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
}

// Parses one JSON object, refusing a repeated top-level key (nlohmann would
// silently keep the last one). Null on any syntax error or repeat.
std::optional<json> parse_object(std::string_view bytes) {
  std::set<std::string> seen;
  bool repeated = false;
  const json::parser_callback_t note_keys = [&](int depth, json::parse_event_t event, json& parsed) {
    if (event == json::parse_event_t::key && depth == 1 && !seen.insert(parsed.get<std::string>()).second) {
      repeated = true;
    }
    return true;
  };
  json j = json::parse(bytes.begin(), bytes.end(), note_keys, /*allow_exceptions=*/false);
  if (j.is_discarded() || repeated || !j.is_object()) return std::nullopt;
  return j;
}

Status check_keys(const json& j) {
  for (auto& [key, value] : j.items()) {
    if (std::find(kKeys.begin(), kKeys.end(), key) == kKeys.end()) return bad(key, "is not a known key");
  }
  for (std::string_view key : kKeys) {
    if (!j.contains(key)) return bad(key, "is missing");
  }
  return Status::ok();
}

Status read_string(const json& j, std::string_view key, std::string& out) {
  const json& v = j.at(key);
  if (!v.is_string()) return bad(key, "must be a string");
  out = v.get<std::string>();
  return Status::ok();
}

Status read_bool(const json& j, std::string_view key, bool& out) {
  const json& v = j.at(key);
  if (!v.is_boolean()) return bad(key, "must be true or false");
  out = v.get<bool>();
  return Status::ok();
}

// A time in µs: a non-negative integer that fits int64_t.
Status read_time(const json& j, std::string_view key, int64_t& out) {
  const json& v = j.at(key);
  if (!v.is_number_unsigned() || v.get<uint64_t>() > uint64_t{std::numeric_limits<int64_t>::max()}) {
    return bad(key, "must be a non-negative integer");
  }
  out = static_cast<int64_t>(v.get<uint64_t>());
  return Status::ok();
}

Status read_role(const json& j, Role& out) {
  std::string name;
  if (Status s = read_string(j, "role", name); !s) return s;
  const std::optional<Role> role = parse_role(name);
  if (!role) return bad("role", "is not operator, supervisor or admin");
  out = *role;
  return Status::ok();
}

Status read_jurisdiction(const json& j, uint64_t& out) {
  std::string text;
  if (Status s = read_string(j, "jurisdiction", text); !s) return s;
  const Result<topology::DivisionCode> code = topology::DivisionCode::parse(text);
  if (!code) return bad("jurisdiction", "is not a valid 12-digit division code");
  out = code->number();
  return Status::ok();
}

Status check_version(const json& j) {
  const json& v = j.at("v");
  if (!v.is_number_unsigned() || v.get<uint64_t>() != kFormatVersion) return bad("v", "must be 1");
  return Status::ok();
}

// The values' own rules, once every field has its type.
Status check_values(const Account& a) {
  if (check_account_name(a.name)) return bad("name", "is not a valid account name");
  if (!a.created_by.empty() && check_account_name(a.created_by))
    return bad("created_by", "is not a valid account name");
  if (!a.password_hash.starts_with(kHashPrefix)) return bad("password_hash", "is not an argon2id PHC string");
  return Status::ok();
}

Result<Account> account_from(const json& j) {
  Account a;
  for (Status s : {check_version(j), read_string(j, "name", a.name), read_role(j, a.role),
                   read_jurisdiction(j, a.jurisdiction), read_string(j, "password_hash", a.password_hash),
                   read_bool(j, "must_change_password", a.must_change_password), read_bool(j, "disabled", a.disabled),
                   read_time(j, "created_us", a.created_us), read_time(j, "password_changed_us", a.password_changed_us),
                   read_string(j, "created_by", a.created_by), check_values(a)}) {
    if (!s) return s;
  }
  return a;
}

}  // namespace

const char* role_name(Role role) {
  switch (role) {
    case Role::kOperator:
      return "operator";
    case Role::kSupervisor:
      return "supervisor";
    case Role::kAdmin:
      return "admin";
  }
  return "unknown";
}

std::optional<Role> parse_role(std::string_view name) {
  for (Role role : {Role::kOperator, Role::kSupervisor, Role::kAdmin}) {
    if (name == role_name(role)) return role;
  }
  return std::nullopt;
}

int64_t next_password_change_us(const Account& account, int64_t now_us) {
  return std::max(now_us, account.password_changed_us + 1);
}

std::string encode_account(const Account& a) {
  const json j = {{"v", kFormatVersion},
                  {"name", a.name},
                  {"role", role_name(a.role)},
                  {"jurisdiction", topology::DivisionCode::format(a.jurisdiction)},
                  {"password_hash", a.password_hash},
                  {"must_change_password", a.must_change_password},
                  {"disabled", a.disabled},
                  {"created_us", a.created_us},
                  {"password_changed_us", a.password_changed_us},
                  {"created_by", a.created_by}};
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

Result<Account> decode_account(std::string_view bytes) {
  if (bytes.size() > kMaxAccountBytes) return Status::corruption("account record: longer than 4096 bytes");
  const std::optional<json> j = parse_object(bytes);
  if (!j) return Status::corruption("account record: not one JSON object with distinct keys");
  if (Status s = check_keys(*j); !s) return s;
  return account_from(*j);
}

std::optional<PolicyError> check_account_name(std::string_view name) {
  if (name.size() < kMinNameChars || name.size() > kMaxNameChars) {
    return PolicyError{"account_name_length", "账号名须为 3 到 32 个字符", "account name must be 3 to 32 characters"};
  }
  const bool first_ok = is_name_char(name[0]) && name[0] != '.' && name[0] != '_' && name[0] != '-';
  if (!first_ok || !std::all_of(name.begin(), name.end(), is_name_char)) {
    return PolicyError{"account_name_chars", "账号名只能由小写字母、数字和 . _ - 组成，且以字母或数字开头",
                       "account name may hold only a-z, 0-9, '.', '_' and '-', and must start with a letter or digit"};
  }
  return std::nullopt;
}

}  // namespace lifeline::web
