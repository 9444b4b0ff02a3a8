#include "storage/lmdb_env.h"

namespace lifeline::storage {

void check_lmdb(int rc, const char* what) {
  if (rc == MDB_SUCCESS) return;
  if (rc == MDB_MAP_FULL) throw MapFull();
  throw LmdbError(std::string(what) + ": " + mdb_strerror(rc), rc);
}

LmdbTxn::LmdbTxn(MDB_env* env, unsigned flags) {
  check_lmdb(mdb_txn_begin(env, nullptr, flags, &txn_), "mdb_txn_begin");
}

LmdbTxn::LmdbTxn(MDB_env* env, MDB_txn* parent, unsigned flags) {
  check_lmdb(mdb_txn_begin(env, parent, flags, &txn_), "mdb_txn_begin (nested)");
}

LmdbTxn& LmdbTxn::operator=(LmdbTxn&& other) noexcept {
  if (this != &other) {
    abort();
    txn_ = other.txn_;
    other.txn_ = nullptr;
  }
  return *this;
}

void LmdbTxn::commit() {
  MDB_txn* txn = txn_;
  txn_ = nullptr;  // mdb_txn_commit frees the handle even when it fails
  check_lmdb(mdb_txn_commit(txn), "mdb_txn_commit");
}

void LmdbTxn::abort() noexcept {
  if (txn_ != nullptr) mdb_txn_abort(txn_);
  txn_ = nullptr;
}

}  // namespace lifeline::storage
