// LoopQueue: how threads other than the node loop (the HTTP server's pool)
// get work done on it (STYLE habit 7). A thread posts a task; the loop wakes
// on the queue's eventfd, runs up to a bounded number of tasks per turn with
// the node's parts, and the poster waits for the result with a timeout.
// Tasks are the only way a pool thread reaches the core or a write
// transaction.
//
// Thread-safe; not copyable.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <optional>

#include "node/core/clock.h"

namespace lifeline::runtime {

struct NodeOptions;
struct NodeParts;

// What a task sees: the node's options and parts, the link figures the loop
// holds, and the time of this turn.
struct LoopContext {
  const NodeOptions& options;
  NodeParts& parts;
  uint64_t auth_refusals = 0;  // CURVE handshakes refused so far
  bool running = true;         // false when a CLI answers on a stopped node
  node::Instant now;
};

class LoopQueue {
 public:
  using Task = std::function<void(LoopContext&)>;

  explicit LoopQueue(size_t max_pending = 4096);
  ~LoopQueue();
  LoopQueue(const LoopQueue&) = delete;
  LoopQueue& operator=(const LoopQueue&) = delete;

  // Queues a task and wakes the loop. False when the queue is closed or full.
  bool post(Task task);

  // Runs fn on the loop and waits for its result; nullopt when the queue
  // refused the task or the loop did not run it within timeout_ms (the task
  // may still run later). An exception thrown by fn is rethrown here.
  template <class R>
  std::optional<R> call(std::function<R(LoopContext&)> fn, int timeout_ms) {
    auto promise = std::make_shared<std::promise<R>>();
    std::future<R> result = promise->get_future();
    bool queued = post([promise, fn = std::move(fn)](LoopContext& ctx) {
      try {
        promise->set_value(fn(ctx));
      } catch (...) {
        promise->set_exception(std::current_exception());
      }
    });
    if (!queued || result.wait_for(std::chrono::milliseconds(timeout_ms)) != std::future_status::ready)
      return std::nullopt;
    return result.get();
  }

  // The descriptor the loop polls: readable while tasks are waiting.
  int fd() const { return fd_; }
  // Runs up to max tasks on the calling (loop) thread; returns how many ran.
  size_t drain(LoopContext& ctx, size_t max);
  // Refuses further tasks and drops the waiting ones (their callers see a
  // broken promise, i.e. nullopt after their timeout or an exception).
  void close();
  size_t pending() const;

 private:
  mutable std::mutex mutex_;
  std::deque<Task> tasks_;  // guarded by mutex_
  bool closed_ = false;     // guarded by mutex_
  size_t max_pending_;
  int fd_ = -1;             // eventfd; owned
};

}  // namespace lifeline::runtime
