// SessionTable: the signed-in sessions of a node's web UI, in memory only (a
// restart signs everyone out). Input: a successful sign-in, then each
// request's session cookie. Output: the session it names, or nothing.
//
// A session is named by a token of 32 random bytes (64 hex characters, the
// cookie value) and carries a second random token, the CSRF token, that a
// page must echo in a header on every state-changing request
// (csrf_matches). The table is keyed by the token itself: tokens carry 256
// bits of entropy, so a lookup's timing tells an attacker nothing useful.
//
// A session lives while both hold:
//   now - last_seen_us < idle timeout      (touch() refreshes last_seen_us)
//   now - created_us   < absolute timeout  (nothing extends this)
// An expired session is erased when it is next touched, by sweep(), or when
// its account signs in again. An account holds at most
// max_sessions_per_account sessions; a new one ends the oldest.
//
// Time is always passed in (µs since the Unix epoch); nothing here reads a
// clock, so tests are deterministic.
//
// Thread-safety: every method may be called from any thread (HTTP handlers
// run on a pool); one mutex guards the table. Not copyable, not movable.
#pragma once

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "web/auth/account.h"

namespace lifeline::web {

// A snapshot of one session, as create() and touch() return it. Value type;
// copyable.
struct Session {
  std::string token;                  // 64 hex characters; the cookie value; a secret
  std::string csrf;                   // 64 hex characters; echoed in a header by pages; a secret
  std::string account;                // Account::name
  Role role = Role::kOperator;        // the account's role at sign-in
  uint64_t jurisdiction = 0;          // the account's jurisdiction at sign-in
  int64_t created_us = 0;             // sign-in time
  int64_t last_seen_us = 0;           // last touch()
  bool must_change_password = false;  // only the change-password page may be used
  // The account's password_changed_us when the session signed in, or when
  // the session changed the password itself: a later change (a reset) ends
  // the session (Api::authenticate).
  int64_t password_changed_us = 0;
  std::string address;                // client address at sign-in, for the audit log
};

struct SessionOptions {
  // An unattended screen signs out after half an hour...
  int64_t idle_timeout_us = int64_t{30} * 60 * 1000000;
  // ...and any session after a working day, however active.
  int64_t absolute_timeout_us = int64_t{12} * 3600 * 1000000;
  // Browsers an operator may be signed in from at once.
  size_t max_sessions_per_account = 5;
};

class SessionTable {
 public:
  // Requires both timeouts > 0 and max_sessions_per_account >= 1.
  SessionTable(int64_t idle_timeout_us, int64_t absolute_timeout_us, size_t max_sessions_per_account);
  explicit SessionTable(const SessionOptions& options);
  SessionTable(const SessionTable&) = delete;
  SessionTable& operator=(const SessionTable&) = delete;

  // A new session for account (which the caller has just authenticated),
  // with fresh tokens, and must_change_password and password_changed_us
  // copied from the account.
  // Ends the account's expired sessions, then its oldest ones while it
  // would hold more than max_sessions_per_account.
  Session create(const Account& account, std::string address, int64_t now_us);

  // The live session named by token, after setting its last_seen_us to
  // now_us (never moving it backwards). Nullopt when there is none; an
  // expired session is erased on the way.
  std::optional<Session> touch(std::string_view token, int64_t now_us);

  // Ends the session named by token (sign-out). False if there was none.
  bool end(std::string_view token);
  // Ends every session of account (disabled, role or jurisdiction changed,
  // password reset by an administrator). Returns how many.
  size_t end_all(std::string_view account);
  // Ends every session of account but keep_token (the owner changed their
  // password from that session). Returns how many.
  size_t end_others(std::string_view account, std::string_view keep_token);

  // Sets must_change_password on every session of account.
  void set_must_change(std::string_view account, bool must_change);
  // Sets password_changed_us of the session named by token (its owner
  // changes the password from it). False if there is no such session.
  bool set_password_changed(std::string_view token, int64_t password_changed_us);

  // Erases every expired session; returns how many. The server calls this
  // now and then so sessions that are never touched again do not pile up.
  size_t sweep(int64_t now_us);

  // Sessions held, expired ones not yet erased included.
  size_t size() const;

 private:
  using TokenMap = std::unordered_map<std::string, Session>;

  bool expired(const Session& session, int64_t now_us) const;
  void erase_locked(TokenMap::iterator it);
  size_t end_matching_locked(std::string_view account, std::string_view keep_token);
  void make_room_locked(const std::string& account, int64_t now_us);

  const int64_t idle_timeout_us_;          // see SessionOptions
  const int64_t absolute_timeout_us_;      // see SessionOptions
  const size_t max_sessions_per_account_;  // see SessionOptions

  mutable std::mutex mutex_;  // guards the two maps below
  TokenMap by_token_;         // token -> session; GUARDED_BY(mutex_)
  // account -> its tokens, oldest first; an account with no session has no
  // entry. GUARDED_BY(mutex_)
  std::unordered_map<std::string, std::vector<std::string>> by_account_;
};

// True iff header_value equals session.csrf, compared in time independent
// of where they differ. An empty value never matches.
bool csrf_matches(const Session& session, std::string_view header_value);

// a == b in time that depends only on the lengths (which are not secret
// for our fixed-length tokens).
bool constant_time_equal(std::string_view a, std::string_view b);

}  // namespace lifeline::web
