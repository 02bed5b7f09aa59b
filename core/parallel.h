#pragma once
// Two pieces of work on two threads, for the passes of a big document that
// split into independent halves (the single-pass parser and binder, the AMCT
// config extraction). Below the size where a thread pays off, callers pass
// parallel = false and both run here, one after the other.
#include <exception>
#include <thread>

namespace amct {

// Runs `second` on another thread while `first` runs here; an exception of
// either is rethrown here (the first one's when both throw).
template <typename First, typename Second>
void run_both(bool parallel, First first, Second second) {
  if (!parallel) {
    first();
    second();
    return;
  }
  std::exception_ptr failure;
  std::thread thread([&] {
    try {
      second();
    } catch (...) {
      failure = std::current_exception();
    }
  });
  try {
    first();
  } catch (...) {
    thread.join();
    throw;
  }
  thread.join();
  if (failure) std::rethrow_exception(failure);
}

}  // namespace amct
