// RunControl: a deadline and a cancel flag that a Session run is checked against.
// Session::run checks it before every node, and the ThreadPool before every chunk of a
// parallel loop (so a long operator stops at tile granularity, also on one thread).
// An expired run ends with Interrupted (DeadlineExceeded or Cancelled); the Session
// stays usable and the next run starts afresh.
#pragma once

#include <atomic>
#include <chrono>

#include "core/error.h"

namespace pith {

struct RunControl {
  using Clock = std::chrono::steady_clock;
  Clock::time_point deadline = Clock::time_point::max();
  const std::atomic<bool>* cancel = nullptr;  // set it (from any thread) to stop the run

  bool cancelled() const { return cancel && cancel->load(std::memory_order_relaxed); }
  bool expired() const { return cancelled() || (deadline != Clock::time_point::max() && Clock::now() >= deadline); }
  bool active() const { return cancel || deadline != Clock::time_point::max(); }
};

class Interrupted : public Error {
 public:
  enum class Reason { DeadlineExceeded, Cancelled };
  explicit Interrupted(Reason reason)
      : Error(reason == Reason::Cancelled ? "run cancelled" : "deadline exceeded"), reason_(reason) {}
  Reason reason() const { return reason_; }

 private:
  Reason reason_;
};

// Throws Interrupted when the control has expired.
inline void check_run_control(const RunControl* control) {
  if (control && control->expired())
    throw Interrupted(control->cancelled() ? Interrupted::Reason::Cancelled : Interrupted::Reason::DeadlineExceeded);
}

}  // namespace pith
