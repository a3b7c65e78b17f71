#include "services/subscribe/event_filter.h"

#include "absl/strings/str_cat.h"
#include "services/common/calendar.h"

namespace nenep::services {

std::vector<std::string> UnitsOf(const v1::Event& e,
                                 const projections::Projection* p) {
  switch (e.payload_case()) {
    case v1::Event::kUnitCreated:
      return {e.unit_created().unit_id()};
    case v1::Event::kUnitRenamed:
      return {e.unit_renamed().unit_id()};
    case v1::Event::kUnitMoved:
      return {e.unit_moved().unit_id(), e.unit_moved().to_parent_id()};
    case v1::Event::kUnitsMerged: {
      std::vector<std::string> out(e.units_merged().source_unit_ids().begin(),
                                   e.units_merged().source_unit_ids().end());
      out.push_back(e.units_merged().target_unit_id());
      return out;
    }
    case v1::Event::kUnitDissolved:
      return {e.unit_dissolved().unit_id()};
    case v1::Event::kMemberJoined:
      return {e.member_joined().cell_id()};
    case v1::Event::kMemberTransferred:
      return {e.member_transferred().from_cell_id(),
              e.member_transferred().to_cell_id()};
    case v1::Event::kMemberLeft:
      return {e.member_left().cell_id()};
    case v1::Event::kPlanIssued:
      return {e.plan_issued().issuer_unit_id()};
    case v1::Event::kSessionHeld:
      return {e.session_held().unit_id()};
    case v1::Event::kCommitmentRegistered:
      return {e.commitment_registered().cell_id(),
              e.commitment_registered().unit_id()};
    case v1::Event::kCommitmentEvaluated:
      if (p == nullptr) return {};
      return {p->CommitmentUnit(e.commitment_evaluated().commitment_id())};
    case v1::Event::kAwardGiven: {
      std::vector<std::string> out;
      for (const v1::AwardRecipient& r : e.award_given().recipients()) {
        out.push_back(r.unit_id());
        out.push_back(r.counted_under_unit_id());
      }
      out.push_back(e.award_given().aggregate().counted_under_unit_id());
      return out;
    }
    case v1::Event::kEventCorrected:
      return UnitsOf(e.event_corrected().replacement(), p);
    default:
      return {};
  }
}

absl::StatusOr<EventFilter> EventFilter::Make(
    const std::vector<std::string>& event_types,
    const std::string& subtree_unit_id, const projections::Projection* p,
    absl::string_view field_prefix) {
  static const absl::flat_hash_set<std::string>* const kTypes = [] {
    auto* types = new absl::flat_hash_set<std::string>;
    const google::protobuf::OneofDescriptor* payload =
        v1::Event::descriptor()->FindOneofByName("payload");
    for (int i = 0; i < payload->field_count(); ++i) {
      types->insert(payload->field(i)->message_type()->name());
    }
    return types;
  }();
  EventFilter f;
  for (size_t i = 0; i < event_types.size(); ++i) {
    if (!kTypes->contains(event_types[i])) {
      return absl::InvalidArgumentError(
          absl::StrCat(field_prefix, "event_types[", i, "]: '", event_types[i],
                       "' is not an event type (e.g. SessionHeld, UnitMoved)"));
    }
    f.types_.insert(event_types[i]);
  }
  if (!subtree_unit_id.empty()) {
    if (p == nullptr) {
      return absl::FailedPreconditionError(absl::StrCat(
          field_prefix,
          "subtree_unit_id: the server runs without projections "
          "(--projections=false), so it cannot filter by subtree"));
    }
    absl::StatusOr<projections::UnitInfo> unit = p->GetUnit(subtree_unit_id, 0);
    if (!unit.ok() && absl::IsNotFound(unit.status())) {
      return absl::NotFoundError(
          absl::StrCat(field_prefix, "subtree_unit_id: unit '", subtree_unit_id,
                       "' is not recorded"));
    }
    f.subtree_ = subtree_unit_id;
  }
  return f;
}

bool EventFilter::PassesSubtree(const v1::Event& event,
                                const projections::Projection* p) const {
  if (subtree_.empty()) return true;
  if (p == nullptr) return false;
  const v1::Date& d = event.business_date();
  const Day day = DayNumber(d.year(), d.month(), d.day());
  for (const std::string& unit : UnitsOf(event, p)) {
    if (!unit.empty() && p->IsUnder(unit, subtree_, day)) return true;
  }
  return false;
}

}  // namespace nenep::services
