#include "web/fair_gate.h"

#include <algorithm>

namespace lifeline::web {

FairGate::FairGate(size_t slots) : slots_(std::max<size_t>(1, slots)), free_(slots_) {}

void FairGate::enter() {
  std::unique_lock lock(mutex_);
  if (free_ > 0 && waiting_.empty()) {
    --free_;
    return;
  }
  Waiter me;
  waiting_.push_back(&me);
  me.cv.wait(lock, [&] { return me.admitted; });
}

size_t FairGate::waiting() {
  std::lock_guard lock(mutex_);
  return waiting_.size();
}

void FairGate::leave() {
  std::lock_guard lock(mutex_);
  if (waiting_.empty()) {
    ++free_;
    return;
  }
  Waiter* next = waiting_.front();
  waiting_.pop_front();
  next->admitted = true;  // the slot passes to it, never back to free_
  next->cv.notify_one();
}

}  // namespace lifeline::web
