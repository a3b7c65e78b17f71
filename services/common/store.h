// The log the services use. nenepd starts answering (health NOT_SERVING)
// before its store is open; until Attach() every RPC that needs the store
// answers UNAVAILABLE.
#pragma once

#include <atomic>

#include "absl/status/statusor.h"
#include "storage/log/event_log.h"

namespace nenep::services {

class StoreHandle {
 public:
  // `log` is not owned and must outlive every RPC.
  void Attach(storage::EventLog* log) {
    log_.store(log, std::memory_order_release);
  }
  void Detach() { log_.store(nullptr, std::memory_order_release); }

  // The log, or kUnavailable while the store is not open.
  absl::StatusOr<storage::EventLog*> Get() const {
    storage::EventLog* log = log_.load(std::memory_order_acquire);
    if (log == nullptr) {
      return absl::UnavailableError(
          "the store is not open (the server is starting or stopping); "
          "retry shortly");
    }
    return log;
  }

 private:
  std::atomic<storage::EventLog*> log_{nullptr};
};

}  // namespace nenep::services
