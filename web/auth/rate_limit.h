// LoginLimiter: slows password guessing against the web UI's sign-in.
// Input: each sign-in attempt's account name, client address and outcome.
// Output: how long the next attempt must wait.
//
// Failed attempts are counted per account name and per client address, each
// in a sliding window. By default 5 failures for one account within 15
// minutes lock that account for 15 minutes (from any address), and 20
// failures from one address within 15 minutes lock that address for 15
// minutes (for any account). An IPv6 address counts as its /64 prefix, the
// block one subscriber usually holds. A success clears the account's
// failures but not the address's, so signing in to one's own account
// between guesses at others gains nothing. Failures recorded while a key is
// locked are ignored: the server refuses locked attempts without checking
// the password and should not record them.
//
// Memory is bounded: each kind of key is held in a table of at most
// max_tracked_keys entries, least recently failed first. An entry whose
// window and lock have both passed is dropped when it reaches the front; a
// new key arriving at a full table evicts the front entry even if it still
// counts (counted in evictions()), which takes more distinct names within
// one window than the address limit lets a single address try.
//
// Time is passed in (µs since the Unix epoch); nothing here reads a clock.
// Thread-safety: every method may be called from any thread; one mutex
// guards both tables. Not copyable, not movable.
#pragma once

#include <cstddef>
#include <cstdint>
#include <list>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace lifeline::web {

struct LoginLimiterOptions {
  // Per account name: failures within the window that lock it, and for how long.
  size_t account_max_failures = 5;
  int64_t account_window_us = int64_t{15} * 60 * 1000000;
  int64_t account_lock_us = int64_t{15} * 60 * 1000000;
  // Per client address (an IPv6 address's /64): the same, set higher
  // because an office may share one address behind NAT.
  size_t address_max_failures = 20;
  int64_t address_window_us = int64_t{15} * 60 * 1000000;
  int64_t address_lock_us = int64_t{15} * 60 * 1000000;
  // Entries per table (accounts, addresses); about 300 bytes each at most.
  size_t max_tracked_keys = 100000;
};

// Failures of one kind of key (account names or addresses) in a sliding
// window, within a bounded LRU table; LoginLimiter holds two. Not
// thread-safe; not copyable (its list iterators point into itself).
class FailureWindow {
 public:
  // Requires max_failures >= 1, window_us > 0, lock_us > 0, max_keys >= 1.
  // kind ("account", "address") names the table in logs; a literal.
  FailureWindow(const char* kind, size_t max_failures, int64_t window_us, int64_t lock_us, size_t max_keys);
  FailureWindow(const FailureWindow&) = delete;
  FailureWindow& operator=(const FailureWindow&) = delete;

  // µs until key is unlocked; 0 when it is not locked.
  int64_t remaining_lock_us(std::string_view key, int64_t now_us) const;
  // Counts a failure; true when it locked the key.
  bool record_failure(std::string_view key, int64_t now_us);
  // Forgets key's failures and lock.
  void clear(std::string_view key);

  size_t size() const { return entries_.size(); }
  uint64_t evictions() const { return evictions_; }

  // Keys are cut to this many bytes (names and addresses are shorter).
  static constexpr size_t kMaxKeyBytes = 128;

 private:
  struct Entry {
    std::vector<int64_t> failures;         // times within the window, oldest first; fewer than max_failures_
    int64_t locked_until_us = 0;           // 0 or when the lock ends
    int64_t last_failure_us = 0;           // orders lru_
    std::list<std::string>::iterator lru;  // this entry's place in lru_
  };

  bool dead(const Entry& entry, int64_t now_us) const;
  void prune(int64_t now_us);
  Entry& entry_for(const std::string& key, int64_t now_us);

  const char* const kind_;                          // "account" or "address", for logs; a literal
  const size_t max_failures_;                       // failures within window_us_ that lock a key
  const int64_t window_us_;                         // how far back failures count
  const int64_t lock_us_;                           // how long a lock lasts
  const size_t max_keys_;                           // bound on entries_.size()
  std::unordered_map<std::string, Entry> entries_;  // key -> its failures
  std::list<std::string> lru_;                      // keys of entries_, least recently failed first
  uint64_t evictions_ = 0;                          // entries dropped while they still counted
};

class LoginLimiter {
 public:
  LoginLimiter() : LoginLimiter(LoginLimiterOptions{}) {}
  explicit LoginLimiter(const LoginLimiterOptions& options);
  LoginLimiter(const LoginLimiter&) = delete;
  LoginLimiter& operator=(const LoginLimiter&) = delete;

  // Seconds (rounded up) before an attempt for account from address may be
  // made; 0 = allowed now. The longer of the account's and the address's lock.
  int64_t retry_after_s(std::string_view account, std::string_view address, int64_t now_us) const;
  // A wrong password (or an unknown or disabled account) for account from
  // address. shown: how a log line names the account (the caller may mask
  // it further); empty: shown_name(account).
  void record_failure(std::string_view account, std::string_view address, int64_t now_us, std::string_view shown = {});
  // A name typed at sign-in as logs and the audit log may show it:
  // "(invalid name)" when it is no valid account name (check_account_name),
  // which is where a password typed into the name field ends up; else the
  // name.
  static std::string shown_name(std::string_view account);
  // A correct password: clears the account's failures (not the address's).
  void record_success(std::string_view account, std::string_view address, int64_t now_us);

  // Entries held across both tables; entries evicted while they still counted.
  size_t tracked_keys() const;
  uint64_t evictions() const;

  // The key an address is counted under: an IPv6 address's /64 prefix
  // ("2001:db8:1:2::/64"), anything else as given.
  static std::string address_key(std::string_view address);

 private:
  mutable std::mutex mutex_;  // guards the two tables
  FailureWindow accounts_;    // by account name; GUARDED_BY(mutex_)
  FailureWindow addresses_;   // by address_key; GUARDED_BY(mutex_)
};

}  // namespace lifeline::web
