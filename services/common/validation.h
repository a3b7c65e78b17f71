// File: services/common/validation.h
//
// Schema validation of events at the API boundary. Everything here is a pure
// function of the request (and today's date): checks that need the current
// state of the log (expected revisions, referential rules) happen later.
//
// Every failure is kInvalidArgument (or kResourceExhausted for size limits)
// with a message that starts with the offending field's path, e.g.
//   "events[2].session_held.attendance: present (30) + absent_excused (1) +
//    absent_unexcused (0) must equal convened (29)"
#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "nenep/v1/events.pb.h"
#include "nenep/v1/log.pb.h"

namespace nenep::services {

struct ValidationLimits {
  // Events in one Append. Default: 1,000.
  size_t max_append_events = 1000;
  // Entries in one BatchAppend. Default: 10,000.
  size_t max_batch_events = 10000;
  // Serialized size of one event. Default: 64 KiB.
  size_t max_event_bytes = 64 << 10;
  // Bytes in any one text field. Default: 4 KiB.
  size_t max_text_bytes = 4 << 10;
  // How far past today (Asia/Ho_Chi_Minh) a business date may lie; absorbs
  // clock skew between the caller and the server. Default: 1 day.
  int max_future_days = 1;
};

// Checks `event`. `path` names it in messages ("events[3]"); `today` is the
// local date in Asia/Ho_Chi_Minh. If some of its text is not in NFC, sets
// *normalized to a copy in NFC, which is what must be stored; otherwise
// leaves it null.
absl::Status ValidateEvent(const v1::Event& event, const std::string& path,
                           const ValidationLimits& limits, absl::CivilDay today,
                           std::unique_ptr<v1::Event>* normalized);

// ValidateEvent, and the event's serialized bytes (in NFC) in *payload: what
// the log stores. The per-event hot path of appends.
absl::Status ValidateAndSerialize(const v1::Event& event,
                                  const std::string& path,
                                  const ValidationLimits& limits,
                                  absl::CivilDay today, std::string* payload,
                                  std::unique_ptr<v1::Event>* normalized);

// Like ValidateAndSerialize for an event already encoded: `event` was parsed
// from `encoded`, which becomes the payload unless its text needs NFC.
absl::Status ValidateEncoded(const v1::Event& event, absl::string_view encoded,
                             const std::string& path,
                             const ValidationLimits& limits,
                             absl::CivilDay today, std::string* payload,
                             std::unique_ptr<v1::Event>* normalized);

// Identifiers chosen by callers (unit_id, member_id, plan_id ...): 1 to 128
// characters from [A-Za-z0-9._:-].
absl::Status ValidateId(absl::string_view id, const std::string& field);

// A stream name: 1 to 256 printable ASCII characters, no spaces.
absl::Status ValidateStreamName(absl::string_view stream,
                                const std::string& field);

// A request id: 1 to 128 printable ASCII characters, no spaces.
absl::Status ValidateRequestId(absl::string_view request_id);

// The payload's message name, e.g. "SessionHeld"; "" if no payload is set.
absl::string_view EventTypeName(const v1::Event& event);

// The stream an event belongs to, from its payload: "unit-<unit_id>",
// "member-<member_id>", "plan-<plan_id>", "sessions-<unit_id>",
// "commitment-<commitment_id>", "award-<award_id>". Corrections and
// retractions have none of their own ("": they go to their target's stream).
std::string NaturalStream(const v1::Event& event);

}  // namespace nenep::services
