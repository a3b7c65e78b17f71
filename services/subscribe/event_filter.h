// File: services/subscribe/event_filter.h
//
// Which events a subscriber or a consumer group wants: by payload type and
// by unit subtree on the event's business date. Shared by Subscribe and
// the consumer groups so that both filter alike.
//
//   ASSIGN_OR_RETURN(EventFilter f, EventFilter::Make(types, subtree, p,
//                                                     "filter."));
//   if (f.PassesType(record.type) && (!f.needs_event() || f.Passes(e, p)))
#pragma once

#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "nenep/v1/events.pb.h"
#include "storage/projections/projection.h"

namespace nenep::services {

class EventFilter {
 public:
  EventFilter() = default;  // passes everything

  // kInvalidArgument for a type name that is no event type, naming
  // `field_prefix`event_types[i]; kNotFound for a subtree unit the
  // projection `p` does not know; kFailedPrecondition for a subtree without
  // projections (`p` null).
  static absl::StatusOr<EventFilter> Make(
      const std::vector<std::string>& event_types,
      const std::string& subtree_unit_id, const projections::Projection* p,
      absl::string_view field_prefix);

  bool PassesType(absl::string_view type) const {
    return types_.empty() || types_.contains(type);
  }
  // Whether Passes() must see the decoded event (a subtree filter).
  bool needs_event() const { return !subtree_.empty(); }
  // The subtree test, against projection `p` (not null when needs_event()).
  bool PassesSubtree(const v1::Event& event,
                     const projections::Projection* p) const;

 private:
  absl::flat_hash_set<std::string> types_;
  std::string subtree_;
};

// The units an event is about (several for moves, transfers, awards ...).
std::vector<std::string> UnitsOf(const v1::Event& event,
                                 const projections::Projection* p);

}  // namespace nenep::services
