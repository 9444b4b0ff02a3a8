// The writes of a deferred write transaction (Store::write_deferred): the
// callback runs against a read snapshot taken when the write transaction
// began, and every put and delete it makes is kept here, in order, with an
// overlay that lets its later lookups see them; another thread replays them
// into the LMDB write transaction meanwhile. Internal to storage/.
//
// A lookup of one key sees the callback's own writes. A range read (scan)
// cannot be merged with them cheaply, so one that could meet a key written
// earlier in the transaction throws DeferredConflict; the store then runs the
// callback again the ordinary way. The bounds of the keys written to each
// table decide it: a scan entirely outside them is exact.
//
// Threading: one producer (the callback's thread) records; whole chunks of
// operations go to one consumer (next). The arena's bytes never move, so an
// operation's key and value stay valid until the log is gone.
#pragma once

#include <lmdb.h>
#include <sys/mman.h>

#include <algorithm>
#include <condition_variable>
#include <cstdint>
#include <cstring>
#include <deque>
#include <memory>
#include <mutex>
#include <new>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace lifeline::storage {

class DeferredConflict : public std::runtime_error {
 public:
  explicit DeferredConflict(const std::string& what) : std::runtime_error("deferred write: " + what) {}
};

class DeferredLog {
 public:
  struct Op {
    MDB_dbi dbi;
    bool del;
    std::string_view key, value;
  };
  using Chunk = std::vector<Op>;

  // What the transaction holds for key: true with value set when it wrote
  // it, true with deleted set when it deleted it, false when untouched.
  bool find(MDB_dbi dbi, std::string_view key, std::string_view& value, bool& deleted) const {
    if (entries_.empty() || dbi > 255) return false;
    const uint64_t h = hash(dbi, key);
    for (size_t i = h & mask_;; i = (i + 1) & mask_) {
      const Slot& s = slots_[i];
      if (s.entry == 0) return false;
      const Entry& e = entries_[s.entry - 1];
      if (s.hash == static_cast<uint32_t>(h >> 32) && e.dbi == dbi && e.key == key) {
        value = e.value;
        deleted = e.deleted;
        return true;
      }
    }
  }

  void put(MDB_dbi dbi, std::string_view key, std::string_view value) {
    char* v = reserve(dbi, key, value.size());
    if (!value.empty()) std::memcpy(v, value.data(), value.size());
  }
  // Records a put of size bytes the caller writes at the pointer returned
  // (before its next call on this log: an operation is published to the
  // consumer no earlier than the next one is recorded).
  char* reserve(MDB_dbi dbi, std::string_view key, size_t size) {
    std::string_view k = stored_key(dbi, key);
    char* v = alloc(size);
    record(Op{dbi, false, k, std::string_view(v, size)});
    return v;
  }
  void del(MDB_dbi dbi, std::string_view key) { record(Op{dbi, true, stored_key(dbi, key), {}}); }

  // Throws DeferredConflict when a scan of [from, to) — `to` empty: no upper
  // bound — could meet a key written earlier in this transaction.
  void check_range(MDB_dbi dbi, std::string_view from, std::string_view to, const char* what) const {
    if (dbi >= bounds_.size() || !bounds_[dbi].any) return;
    const Bounds& b = bounds_[dbi];
    bool below = b.max < from;
    bool above = !to.empty() && b.min >= to;
    if (!below && !above) throw DeferredConflict(std::string(what) + " over keys written in this transaction");
  }
  bool wrote(MDB_dbi dbi) const { return dbi < bounds_.size() && bounds_[dbi].any; }

  // Producer: publishes what was recorded (the last operation too).
  void finish() { publish(true); }
  // Consumer: waits for the next chunk; false when the log is finished and
  // every chunk was taken, or when abandoned.
  bool next(Chunk& out) {
    std::unique_lock lock(mutex_);
    ready_.wait(lock, [&] { return !queue_.empty() || finished_ || abandoned_; });
    if (abandoned_ || queue_.empty()) return false;
    out = std::move(queue_.front());
    queue_.pop_front();
    return true;
  }
  // Either side: stop. The producer's next record throws; the consumer's
  // next() returns false.
  void abandon() {
    std::lock_guard lock(mutex_);
    abandoned_ = true;
    ready_.notify_all();
  }
  uint64_t operations() const { return operations_; }

 private:
  // The overlay: an open-addressing table of slots naming entries (the
  // latest write of each key), far cheaper than a node per key for the
  // million writes of a large import.
  struct Entry {
    MDB_dbi dbi;
    bool deleted;
    std::string_view key, value;
  };
  struct Slot {
    uint32_t hash;   // the key hash's upper half
    uint32_t entry;  // 1 + index into entries_; 0: empty
  };
  struct Bounds {
    std::string min, max;
    bool any = false;
  };
  static constexpr size_t kArenaChunkBytes = size_t{4} << 20;
  static constexpr size_t kOpsPerChunk = 4096;
  // A deferred write is a large one: room for half a million writes before
  // the first growth (8 MiB).
  static constexpr size_t kInitialSlots = size_t{1} << 20;

  static uint64_t mix(uint64_t x) {
    x ^= x >> 32;
    x *= 0xd6e8feb86659fd93ull;
    x ^= x >> 32;
    return x;
  }
  // Eight bytes a step; the table handle and the length are mixed in.
  static uint64_t hash(MDB_dbi dbi, std::string_view key) {
    uint64_t h = mix(0x9e3779b97f4a7c15ull ^ (uint64_t{dbi} << 32) ^ key.size());
    size_t i = 0;
    for (; i + 8 <= key.size(); i += 8) {
      uint64_t w;
      std::memcpy(&w, key.data() + i, 8);
      h = mix(h ^ w) + 0x9e3779b97f4a7c15ull;
    }
    if (i < key.size()) {
      uint64_t w = 0;
      std::memcpy(&w, key.data() + i, key.size() - i);
      h = mix(h ^ w);
    }
    return h;
  }
  std::string_view stored_key(MDB_dbi dbi, std::string_view key) {
    if (dbi > 255) throw DeferredConflict("table handle out of range");
    char* k = alloc(key.size());
    if (!key.empty()) std::memcpy(k, key.data(), key.size());
    return {k, key.size()};
  }
  void remember(const Op& op) {
    if ((entries_.size() + 1) * 10 > slots_.size() * 7) grow();
    const uint64_t h = hash(op.dbi, op.key);
    for (size_t i = h & mask_;; i = (i + 1) & mask_) {
      Slot& s = slots_[i];
      if (s.entry == 0) {
        entries_.push_back(Entry{op.dbi, op.del, op.key, op.value});
        s = Slot{static_cast<uint32_t>(h >> 32), static_cast<uint32_t>(entries_.size())};
        return;
      }
      Entry& e = entries_[s.entry - 1];
      if (s.hash == static_cast<uint32_t>(h >> 32) && e.dbi == op.dbi && e.key == op.key) {
        e.deleted = op.del;
        e.value = op.value;
        return;
      }
    }
  }
  void grow() {
    std::vector<Slot> old = std::move(slots_);
    slots_.assign(old.empty() ? kInitialSlots : old.size() * 2, Slot{0, 0});
    mask_ = slots_.size() - 1;
    for (const Slot& o : old) {
      if (o.entry == 0) continue;
      const Entry& e = entries_[o.entry - 1];
      size_t i = hash(e.dbi, e.key) & mask_;
      while (slots_[i].entry != 0) i = (i + 1) & mask_;
      slots_[i] = o;
    }
  }
  char* alloc(size_t n) {
    if (n > left_) {
      size_t size = std::max(n, kArenaChunkBytes);
      arena_.emplace_back(size);
      at_ = arena_.back().data();
      left_ = size;
    }
    char* p = at_;
    at_ += n;
    left_ -= n;
    return p;
  }
  void record(const Op& op) {
    publish(false);
    ++operations_;
    pending_.push_back(op);
    remember(op);
    if (bounds_.size() <= op.dbi) bounds_.resize(op.dbi + 1);
    Bounds& b = bounds_[op.dbi];
    if (!b.any) {
      b.min.assign(op.key);
      b.max.assign(op.key);
      b.any = true;
    } else if (op.key > b.max) {
      b.max.assign(op.key);
    } else if (op.key < b.min) {
      b.min.assign(op.key);
    }
  }
  // Called when an operation is about to be recorded (or at the end): the
  // caller has then finished writing every recorded value (reserve), so all
  // of them may go out.
  void publish(bool finishing) {
    if (!finishing && pending_.size() < kOpsPerChunk) return;
    Chunk out = std::move(pending_);
    pending_.clear();
    pending_.reserve(kOpsPerChunk);
    std::lock_guard lock(mutex_);
    if (abandoned_) throw DeferredConflict("abandoned");
    if (!out.empty()) queue_.push_back(std::move(out));
    if (finishing) finished_ = true;
    ready_.notify_all();
  }

  // Chunks of the arena mapped directly, on huge pages where the kernel has
  // them (MADV_HUGEPAGE): a large write fills hundreds of MiB, and a fault
  // per 4 KiB page costs more than the copying. Not zeroed beyond what the
  // kernel maps: every byte handed out is written by its caller.
  class Mapping {
   public:
    explicit Mapping(size_t size) : size_((size + kHugePage - 1) / kHugePage * kHugePage) {
      void* p = ::mmap(nullptr, size_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      if (p == MAP_FAILED) throw std::bad_alloc();
      ::madvise(p, size_, MADV_HUGEPAGE);
      data_ = static_cast<char*>(p);
    }
    Mapping(Mapping&& o) noexcept : data_(std::exchange(o.data_, nullptr)), size_(o.size_) {}
    Mapping(const Mapping&) = delete;
    Mapping& operator=(const Mapping&) = delete;
    Mapping& operator=(Mapping&&) = delete;
    ~Mapping() {
      if (data_ != nullptr) ::munmap(data_, size_);
    }
    char* data() const { return data_; }

   private:
    static constexpr size_t kHugePage = size_t{2} << 20;
    char* data_ = nullptr;
    size_t size_;
  };
  std::deque<Mapping> arena_;
  char* at_ = nullptr;
  size_t left_ = 0;
  std::vector<Op> pending_;  // recorded, not yet published
  std::deque<Entry> entries_;  // a deque: growing moves none
  std::vector<Slot> slots_;
  size_t mask_ = 0;
  std::vector<Bounds> bounds_;  // by dbi
  uint64_t operations_ = 0;

  std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<Chunk> queue_;  // published, not yet taken
  bool finished_ = false;
  bool abandoned_ = false;
};

}  // namespace lifeline::storage
