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
  void Attach(T* p) { p_.store(p, std::memory_order_release); }
  void Detach() { p_.store(nullptr, std::memory_order_release); }

  // The attached object, or kUnavailable while the store is not open.
  absl::StatusOr<T*> Get() const {
    T* p = p_.load(std::memory_order_acquire);
    if (p == nullptr) {
      return absl::UnavailableError(
          "the store is not open (the server is starting or stopping); "
          "retry shortly");
    }
    return p;
  }

 private:
  std::atomic<T*> p_{nullptr};
};

// The log.
using StoreHandle = Handle<storage::EventLog>;

}  // namespace nenep::services
