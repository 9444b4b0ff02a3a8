#include "node/runtime/loop_queue.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <stdexcept>

namespace lifeline::runtime {

LoopQueue::LoopQueue(size_t max_pending) : max_pending_(max_pending) {
  fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (fd_ < 0) throw std::runtime_error("eventfd failed");
}

LoopQueue::~LoopQueue() {
  if (fd_ >= 0) ::close(fd_);
}

bool LoopQueue::post(Task task) {
  {
    std::lock_guard lock(mutex_);
    if (closed_ || tasks_.size() >= max_pending_) return false;
    tasks_.push_back(std::move(task));
  }
  uint64_t one = 1;
  ssize_t n = ::write(fd_, &one, sizeof one);
  (void)n;  // a full counter (2^64 - 2 wakes) still leaves the fd readable
  return true;
}

size_t LoopQueue::drain(LoopContext& ctx, size_t max, std::vector<Completion>& completions) {
  uint64_t wakes = 0;
  ssize_t n = ::read(fd_, &wakes, sizeof wakes);  // reset; re-armed below if work remains
  (void)n;
  size_t ran = 0;
  while (ran < max) {
    Task task;
    {
      std::lock_guard lock(mutex_);
      if (tasks_.empty()) break;
      task = std::move(tasks_.front());
      tasks_.pop_front();
    }
    if (Completion done = task(ctx)) completions.push_back(std::move(done));
    ++ran;
  }
  std::lock_guard lock(mutex_);
  if (!tasks_.empty()) {
    uint64_t one = 1;
    n = ::write(fd_, &one, sizeof one);
  }
  return ran;
}

void LoopQueue::close() {
  std::deque<Task> dropped;
  {
    std::lock_guard lock(mutex_);
    closed_ = true;
    dropped.swap(tasks_);
  }
}

size_t LoopQueue::pending() const {
  std::lock_guard lock(mutex_);
  return tasks_.size();
}

}  // namespace lifeline::runtime
