// What the services use once nenepd's store is open. nenepd starts
// answering (health NOT_SERVING) before its store is open; until Attach()
// every RPC that needs it answers UNAVAILABLE.
//
//   StoreHandle store;                 // a Handle<storage::EventLog>
//   ASSIGN_OR_RETURN(storage::EventLog* log, store.Get());
#pragma once

#include <atomic>

#include "absl/status/statusor.h"
#include "storage/log/event_log.h"

namespace nenep::services {

template <typename T>
class Handle {
 public:
  // `p` is not owned and must outlive every RPC.
  void Attach(T* p) {
    reopening_.store(false, std::memory_order_relaxed);
    p_.store(p, std::memory_order_release);
  }
  void Detach() { p_.store(nullptr, std::memory_order_release); }
  // Detach() while the store, which failed, is being reopened.
  void DetachToReopen() {
    reopening_.store(true, std::memory_order_relaxed);
    Detach();
  }

  // The attached object, or kUnavailable while the store is not open.
  absl::StatusOr<T*> Get() const {
    T* p = p_.load(std::memory_order_acquire);
    if (p == nullptr) {
      return absl::UnavailableError(
          reopening_.load(std::memory_order_relaxed)
              ? "the store failed to write and is being reopened (see the "
                "server's log); retry with the same request_id shortly"
              : "the store is not open (the server is starting or "
                "stopping); retry shortly");
    }
    return p;
  }

 private:
  std::atomic<T*> p_{nullptr};
  std::atomic<bool> reopening_{false};
};

// The log.
using StoreHandle = Handle<storage::EventLog>;

}  // namespace nenep::services
