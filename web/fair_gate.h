// FairGate: admits at most a fixed number of threads at a time into a
// section, in the order they arrived.
//
// The HTTP pool ([web] threads, 8 by default; 64 in the API bench) serves a
// request per thread. Lists of alerts and households are CPU-bound: with
// dozens of them running at once on a two-core node the scheduler time-slices them all, and a list that is
// preempted waits for every other one (loaded list p99 36.8 to 69.2 ms over
// four runs of the API bench, medians 4.4 to 7.2 ms). Running at most twice
// as many lists as the machine has cores (a list may wait on a page of the
// store), first come first served, bounds that wait by the queue in front:
// p99 32.6 to 35.4 ms over three runs, at the price of a higher median
// (21.7 to 23.5 ms). A leaving thread hands its slot to the longest waiter
// directly, so that newcomers never overtake the queue.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <mutex>

namespace lifeline::web {

class FairGate {
 public:
  explicit FairGate(size_t slots);
  FairGate(const FairGate&) = delete;
  FairGate& operator=(const FairGate&) = delete;

  // Holds one slot from construction to destruction.
  class Slot {
   public:
    explicit Slot(FairGate& gate) : gate_(gate) { gate_.enter(); }
    ~Slot() { gate_.leave(); }
    Slot(const Slot&) = delete;
    Slot& operator=(const Slot&) = delete;

   private:
    FairGate& gate_;
  };

  size_t slots() const { return slots_; }
  size_t waiting();  // threads queued now

 private:
  struct Waiter {
    std::condition_variable cv;
    bool admitted = false;
  };
  void enter();
  void leave();

  const size_t slots_;
  mutable std::mutex mutex_;
  size_t free_;                   // guarded
  std::deque<Waiter*> waiting_;   // guarded; oldest first
};

}  // namespace lifeline::web
