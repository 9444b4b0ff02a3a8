#include "web/auth/rate_limit.h"

#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <cstring>

#include "topology/logging.h"
#include "topology/status.h"
#include "web/auth/account.h"

namespace lifeline::web {
namespace {

constexpr int64_t kMicrosPerSecond = 1000000;
constexpr uint64_t kEvictionLogEvery = 10000;  // log the first eviction, then one in this many

std::string cut_key(std::string_view key) { return std::string(key.substr(0, FailureWindow::kMaxKeyBytes)); }

// Account names come from the network: the log shows printable ASCII only.
std::string printable(std::string_view text) {
  std::string out(text.substr(0, FailureWindow::kMaxKeyBytes));
  for (char& c : out) {
    if (c < 0x20 || c > 0x7E) c = '?';
  }
  return out;
}

}  // namespace

FailureWindow::FailureWindow(const char* kind, size_t max_failures, int64_t window_us, int64_t lock_us, size_t max_keys)
    : kind_(kind), max_failures_(max_failures), window_us_(window_us), lock_us_(lock_us), max_keys_(max_keys) {
  LIFELINE_CHECK(max_failures >= 1 && window_us > 0 && lock_us > 0 && max_keys >= 1, "bad login limiter options");
}

int64_t FailureWindow::remaining_lock_us(std::string_view key, int64_t now_us) const {
  const auto it = entries_.find(cut_key(key));
  if (it == entries_.end()) return 0;
  return std::max<int64_t>(0, it->second.locked_until_us - now_us);
}

bool FailureWindow::record_failure(std::string_view key, int64_t now_us) {
  prune(now_us);
  Entry& e = entry_for(cut_key(key), now_us);
  if (e.locked_until_us > now_us) return false;
  std::erase_if(e.failures, [&](int64_t t) { return now_us - t >= window_us_; });
  e.failures.push_back(now_us);
  e.last_failure_us = std::max(e.last_failure_us, now_us);
  lru_.splice(lru_.end(), lru_, e.lru);
  if (e.failures.size() < max_failures_) return false;
  e.failures.clear();
  e.locked_until_us = now_us + lock_us_;
  return true;
}

void FailureWindow::clear(std::string_view key) {
  const auto it = entries_.find(cut_key(key));
  if (it == entries_.end()) return;
  lru_.erase(it->second.lru);
  entries_.erase(it);
}

// Every failure lies at or before last_failure_us, and a lock starts at a
// failure, so an entry past both the window and the lock counts no more.
bool FailureWindow::dead(const Entry& e, int64_t now_us) const {
  return now_us - e.last_failure_us >= std::max(window_us_, lock_us_);
}

// lru_ is ordered by last failure, so the dead entries are at its front.
void FailureWindow::prune(int64_t now_us) {
  while (!lru_.empty()) {
    const auto it = entries_.find(lru_.front());
    if (!dead(it->second, now_us)) return;
    entries_.erase(it);
    lru_.pop_front();
  }
}

FailureWindow::Entry& FailureWindow::entry_for(const std::string& key, int64_t now_us) {
  if (const auto it = entries_.find(key); it != entries_.end()) return it->second;
  if (entries_.size() >= max_keys_) {
    if (evictions_++ % kEvictionLogEvery == 0) {
      folder_logger("web")->warn(
          "login limiter: {} {} keys tracked, the most allowed; dropping the least recent ({} so far)", entries_.size(),
          kind_, evictions_);
    }
    entries_.erase(lru_.front());
    lru_.pop_front();
  }
  Entry& e = entries_[key];
  e.last_failure_us = now_us;
  e.lru = lru_.insert(lru_.end(), key);
  return e;
}

LoginLimiter::LoginLimiter(const LoginLimiterOptions& o)
    : accounts_("account", o.account_max_failures, o.account_window_us, o.account_lock_us, o.max_tracked_keys),
      addresses_("address", o.address_max_failures, o.address_window_us, o.address_lock_us, o.max_tracked_keys) {}

int64_t LoginLimiter::retry_after_s(std::string_view account, std::string_view address, int64_t now_us) const {
  std::lock_guard lock(mutex_);
  const int64_t wait_us = std::max(accounts_.remaining_lock_us(account, now_us),
                                   addresses_.remaining_lock_us(address_key(address), now_us));
  return (wait_us + kMicrosPerSecond - 1) / kMicrosPerSecond;
}

void LoginLimiter::record_failure(std::string_view account, std::string_view address, int64_t now_us,
                                  std::string_view shown) {
  const std::string by_address = address_key(address);
  std::lock_guard lock(mutex_);
  if (accounts_.record_failure(account, now_us)) {
    folder_logger("web")->warn("sign-in locked for account '{}' after repeated failures (last from {})",
                               printable(shown.empty() ? shown_name(account) : shown), printable(address));
  }
  if (addresses_.record_failure(by_address, now_us)) {
    folder_logger("web")->warn("sign-in locked for address {} after repeated failures", printable(by_address));
  }
}

std::string LoginLimiter::shown_name(std::string_view account) {
  return check_account_name(account) ? "(invalid name)" : std::string(account);
}

void LoginLimiter::record_success(std::string_view account, std::string_view address, int64_t now_us) {
  std::lock_guard lock(mutex_);
  accounts_.clear(account);
}

size_t LoginLimiter::tracked_keys() const {
  std::lock_guard lock(mutex_);
  return accounts_.size() + addresses_.size();
}

uint64_t LoginLimiter::evictions() const {
  std::lock_guard lock(mutex_);
  return accounts_.evictions() + addresses_.evictions();
}

std::string LoginLimiter::address_key(std::string_view address) {
  std::array<unsigned char, 16> raw{};
  const std::string text(address.substr(0, INET6_ADDRSTRLEN));
  if (address.size() >= INET6_ADDRSTRLEN || inet_pton(AF_INET6, text.c_str(), raw.data()) != 1) {
    return std::string(address);
  }
  // A v4-mapped address (::ffff:a.b.c.d) is one IPv4 client.
  constexpr std::array<unsigned char, 12> kMapped = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF};
  const bool mapped = std::equal(kMapped.begin(), kMapped.end(), raw.begin());
  char out[INET6_ADDRSTRLEN] = {};
  if (mapped) return inet_ntop(AF_INET, raw.data() + 12, out, sizeof out);
  std::fill(raw.begin() + 8, raw.end(), 0);
  return std::string(inet_ntop(AF_INET6, raw.data(), out, sizeof out)) + "/64";
}

}  // namespace lifeline::web
