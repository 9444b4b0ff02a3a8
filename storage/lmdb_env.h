// RAII over LMDB's C handles, for use inside storage/ only (the rest of the
// project sees storage/store.h, which does not include lmdb.h).
//
// LmdbEnv owns one MDB_env (one per node store per process: PITFALLS.md);
// LmdbTxn owns one MDB_txn and aborts it unless committed. Both move-only.
// An LMDB error inside a transaction is thrown as LmdbError and caught by
// Store, the one adapter that calls LMDB; MDB_MAP_FULL is thrown as MapFull
// so that Store can abort, grow the map and retry.
#pragma once

#include <lmdb.h>

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

namespace lifeline::storage {

// An LMDB call failed; code is the LMDB or errno value.
class LmdbError : public std::runtime_error {
 public:
  LmdbError(const std::string& what, int code) : std::runtime_error(what), code_(code) {}
  int code() const { return code_; }

 private:
  int code_;  // the MDB_* or errno value
};

// The map is full: abort the transaction, grow the map and retry.
class MapFull : public std::runtime_error {
 public:
  MapFull() : std::runtime_error("MDB_MAP_FULL") {}
};

// Throws LmdbError (or MapFull) when rc is not MDB_SUCCESS.
void check_lmdb(int rc, const char* what);

inline MDB_val to_val(std::string_view bytes) {
  return MDB_val{bytes.size(), const_cast<char*>(bytes.data())};
}
inline std::string_view to_view(const MDB_val& v) {
  return std::string_view(static_cast<const char*>(v.mv_data), v.mv_size);
}

class LmdbTxn {
 public:
  LmdbTxn() = default;
  // Begins a transaction; throws LmdbError (MDB_MAP_RESIZED included).
  LmdbTxn(MDB_env* env, unsigned flags);
  // Begins a transaction nested in parent (a write transaction of this
  // thread, unusable until this one ends); throws LmdbError or MapFull.
  LmdbTxn(MDB_env* env, MDB_txn* parent, unsigned flags);
  LmdbTxn(LmdbTxn&& other) noexcept : txn_(other.txn_) { other.txn_ = nullptr; }
  LmdbTxn& operator=(LmdbTxn&& other) noexcept;
  LmdbTxn(const LmdbTxn&) = delete;
  LmdbTxn& operator=(const LmdbTxn&) = delete;
  ~LmdbTxn() { abort(); }

  MDB_txn* get() const { return txn_; }
  void commit();                // throws LmdbError / MapFull; the handle is gone either way
  void abort() noexcept;        // idempotent

 private:
  MDB_txn* txn_ = nullptr;  // owned; null once committed or aborted
};

}  // namespace lifeline::storage
