#include "web/auth/sessions.h"

#include <algorithm>

#include "topology/logging.h"
#include "web/auth/password.h"

namespace lifeline::web {
namespace {

constexpr size_t kTokenBytes = 32;

}  // namespace

SessionTable::SessionTable(int64_t idle_timeout_us, int64_t absolute_timeout_us, size_t max_sessions_per_account)
    : idle_timeout_us_(idle_timeout_us),
      absolute_timeout_us_(absolute_timeout_us),
      max_sessions_per_account_(max_sessions_per_account) {
  LIFELINE_CHECK(idle_timeout_us > 0 && absolute_timeout_us > 0, "session timeouts must be positive");
  LIFELINE_CHECK(max_sessions_per_account >= 1, "an account must be allowed one session");
}

SessionTable::SessionTable(const SessionOptions& options)
    : SessionTable(options.idle_timeout_us, options.absolute_timeout_us, options.max_sessions_per_account) {}

Session SessionTable::create(const Account& account, std::string address, int64_t now_us) {
  Session s;
  s.token = random_token(kTokenBytes);
  s.csrf = random_token(kTokenBytes);
  s.account = account.name;
  s.role = account.role;
  s.jurisdiction = account.jurisdiction;
  s.created_us = now_us;
  s.last_seen_us = now_us;
  s.must_change_password = account.must_change_password;
  s.password_changed_us = account.password_changed_us;
  s.address = std::move(address);

  std::lock_guard lock(mutex_);
  make_room_locked(account.name, now_us);
  const bool inserted = by_token_.emplace(s.token, s).second;
  // 256 random bits never repeat; a repeat means the random source is broken.
  LIFELINE_CHECK(inserted, "session token collision");
  by_account_[account.name].push_back(s.token);
  return s;
}

std::optional<Session> SessionTable::touch(std::string_view token, int64_t now_us) {
  std::lock_guard lock(mutex_);
  const auto it = by_token_.find(std::string(token));
  if (it == by_token_.end()) return std::nullopt;
  if (expired(it->second, now_us)) {
    erase_locked(it);
    return std::nullopt;
  }
  it->second.last_seen_us = std::max(it->second.last_seen_us, now_us);
  return it->second;
}

bool SessionTable::end(std::string_view token) {
  std::lock_guard lock(mutex_);
  const auto it = by_token_.find(std::string(token));
  if (it == by_token_.end()) return false;
  erase_locked(it);
  return true;
}

size_t SessionTable::end_all(std::string_view account) {
  std::lock_guard lock(mutex_);
  return end_matching_locked(account, {});
}

size_t SessionTable::end_others(std::string_view account, std::string_view keep_token) {
  std::lock_guard lock(mutex_);
  return end_matching_locked(account, keep_token);
}

void SessionTable::set_must_change(std::string_view account, bool must_change) {
  std::lock_guard lock(mutex_);
  const auto it = by_account_.find(std::string(account));
  if (it == by_account_.end()) return;
  for (const std::string& token : it->second) by_token_.at(token).must_change_password = must_change;
}

bool SessionTable::set_password_changed(std::string_view token, int64_t password_changed_us) {
  std::lock_guard lock(mutex_);
  const auto it = by_token_.find(std::string(token));
  if (it == by_token_.end()) return false;
  it->second.password_changed_us = password_changed_us;
  return true;
}

size_t SessionTable::sweep(int64_t now_us) {
  std::lock_guard lock(mutex_);
  size_t erased = 0;
  for (auto it = by_token_.begin(); it != by_token_.end();) {
    auto next = std::next(it);
    if (expired(it->second, now_us)) {
      erase_locked(it);
      ++erased;
    }
    it = next;
  }
  return erased;
}

size_t SessionTable::size() const {
  std::lock_guard lock(mutex_);
  return by_token_.size();
}

bool SessionTable::expired(const Session& s, int64_t now_us) const {
  return now_us - s.last_seen_us >= idle_timeout_us_ || now_us - s.created_us >= absolute_timeout_us_;
}

void SessionTable::erase_locked(TokenMap::iterator it) {
  const auto owner = by_account_.find(it->second.account);
  LIFELINE_CHECK(owner != by_account_.end(), "session without its account entry: " + it->second.account);
  std::vector<std::string>& tokens = owner->second;
  tokens.erase(std::find(tokens.begin(), tokens.end(), it->first));
  if (tokens.empty()) by_account_.erase(owner);
  by_token_.erase(it);
}

// An empty keep_token keeps nothing: tokens are never empty.
size_t SessionTable::end_matching_locked(std::string_view account, std::string_view keep_token) {
  const auto owner = by_account_.find(std::string(account));
  if (owner == by_account_.end()) return 0;
  const std::vector<std::string> tokens = owner->second;  // a copy: erase_locked edits the original
  size_t ended = 0;
  for (const std::string& token : tokens) {
    if (token == keep_token) continue;
    erase_locked(by_token_.find(token));
    ++ended;
  }
  return ended;
}

void SessionTable::make_room_locked(const std::string& account, int64_t now_us) {
  const auto owner = by_account_.find(account);
  if (owner == by_account_.end()) return;
  const std::vector<std::string> tokens = owner->second;  // a copy: erase_locked edits the original
  size_t left = tokens.size();
  for (const std::string& token : tokens) {
    const auto it = by_token_.find(token);
    if (expired(it->second, now_us)) {
      erase_locked(it);
      --left;
    }
  }
  // Oldest first; the account's entry may vanish with its last session, so
  // each round looks it up again.
  for (; left >= max_sessions_per_account_; --left) {
    folder_logger("web")->info("session limit of {} reached for account {}: its oldest session ends",
                               max_sessions_per_account_, account);
    erase_locked(by_token_.find(by_account_.at(account).front()));
  }
}

bool csrf_matches(const Session& session, std::string_view header_value) {
  return !session.csrf.empty() && constant_time_equal(session.csrf, header_value);
}

bool constant_time_equal(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  // volatile keeps the compiler from turning the loop into an early exit.
  volatile unsigned char diff = 0;
  for (size_t i = 0; i < a.size(); ++i) diff = diff | static_cast<unsigned char>(a[i] ^ b[i]);
  return diff == 0;
}

}  // namespace lifeline::web
