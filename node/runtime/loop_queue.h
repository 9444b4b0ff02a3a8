// LoopQueue: how threads other than the node loop (the HTTP server's pool)
// get work done on it (STYLE habit 7). A thread posts a task; the loop wakes
// on the queue's eventfd, runs up to a bounded number of tasks per turn with
// the node's parts, and the poster waits for the result with a timeout.
// Tasks are the only way a pool thread reaches the core or a write
// transaction.
//
// Group commit: the tasks of one turn run inside Store::begin_group/
// end_group, so their writes share one commit and sync. A task therefore returns a
// completion, called after that sync with whether it succeeded; call() sets
// its result there, so no caller hears of a write before it is durable.
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
#include <stdexcept>
#include <vector>

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
  // Called after the turn's sync; durable is false when the sync failed.
  using Completion = std::function<void(bool durable)>;
  using Task = std::function<Completion(LoopContext&)>;

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
    bool queued = post([promise, fn = std::move(fn)](LoopContext& ctx) -> Completion {
      std::shared_ptr<R> value;
      try {
        value = std::make_shared<R>(fn(ctx));
      } catch (...) {
        promise->set_exception(std::current_exception());
        return nullptr;
      }
      return [promise, value](bool durable) {
        if (durable) {
          promise->set_value(std::move(*value));
        } else {
          promise->set_exception(std::make_exception_ptr(std::runtime_error("the store's sync failed")));
        }
      };
    });
    if (!queued || result.wait_for(std::chrono::milliseconds(timeout_ms)) != std::future_status::ready)
      return std::nullopt;
    return result.get();
  }

  // The descriptor the loop polls: readable while tasks are waiting.
  int fd() const { return fd_; }
  // Runs up to max tasks on the calling (loop) thread and appends their
  // completions (to be called after the turn's sync); returns how many ran.
  size_t drain(LoopContext& ctx, size_t max, std::vector<Completion>& completions);
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
