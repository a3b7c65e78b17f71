#include "tests/testing/events.h"

namespace nenep::testing {

v1::Date D(int year, int month, int day) {
  v1::Date d;
  d.set_year(year);
  d.set_month(month);
  d.set_day(day);
  return d;
}

v1::Event UnitCreated(const std::string& unit_id, v1::UnitKind kind,
                      const std::string& name, const std::string& parent_id,
                      v1::Date date) {
  v1::Event e;
  *e.mutable_business_date() = date;
  v1::UnitCreated* u = e.mutable_unit_created();
  u->set_unit_id(unit_id);
  u->set_kind(kind);
  u->set_name(name);
  u->set_parent_id(parent_id);
  return e;
}

v1::Event RegularSession(const std::string& session_id,
                         const std::string& unit_id, v1::Date date,
                         int convened, int present) {
  v1::Event e;
  *e.mutable_business_date() = date;
  v1::SessionHeld* s = e.mutable_session_held();
  s->set_session_id(session_id);
  s->set_unit_id(unit_id);
  s->set_kind(v1::SESSION_KIND_REGULAR);
  s->mutable_for_period()->set_year(date.year());
  s->mutable_for_period()->set_month(date.month());
  s->set_topic("Sinh hoạt chi bộ thường kỳ");
  s->mutable_attendance()->set_convened(convened);
  s->mutable_attendance()->set_present(present);
  s->mutable_attendance()->set_absent_excused(convened - present);
  return e;
}

v1::BatchEntry Entry(v1::Event event, const std::string& stream) {
  v1::BatchEntry entry;
  entry.set_stream(stream);
  *entry.mutable_event() = std::move(event);
  return entry;
}

v1::Event MemberJoined(const std::string& member_id, const std::string& cell_id,
                       v1::Date date) {
  v1::Event e;
  *e.mutable_business_date() = date;
  v1::MemberJoined* m = e.mutable_member_joined();
  m->set_member_id(member_id);
  m->set_cell_id(cell_id);
  m->set_status(v1::MEMBER_STATUS_OFFICIAL);
  m->set_how(v1::JOIN_KIND_INITIAL_LOAD);
  return e;
}

v1::Event Moved(const std::string& unit_id, const std::string& from_parent,
                const std::string& to_parent, v1::Date date) {
  v1::Event e;
  *e.mutable_business_date() = date;
  v1::UnitMoved* m = e.mutable_unit_moved();
  m->set_unit_id(unit_id);
  m->set_from_parent_id(from_parent);
  m->set_to_parent_id(to_parent);
  return e;
}

v1::Event Dissolved(const std::string& unit_id,
                    const std::vector<std::string>& successors, v1::Date date) {
  v1::Event e;
  *e.mutable_business_date() = date;
  v1::UnitDissolved* d = e.mutable_unit_dissolved();
  d->set_unit_id(unit_id);
  d->set_reason(v1::DISSOLUTION_REASON_ENDED_BY_RESTRUCTURING);
  for (const std::string& s : successors) d->add_successor_unit_ids(s);
  return e;
}

v1::Event Merged(const std::vector<std::string>& sources,
                 const std::string& target, v1::Date date) {
  v1::Event e;
  *e.mutable_business_date() = date;
  v1::UnitsMerged* m = e.mutable_units_merged();
  for (const std::string& s : sources) m->add_source_unit_ids(s);
  m->set_target_unit_id(target);
  m->set_mode(v1::MERGE_MODE_ABSORPTION);
  return e;
}

v1::Event Transferred(const std::string& member_id, const std::string& from,
                      const std::string& to, v1::Date date) {
  v1::Event e;
  *e.mutable_business_date() = date;
  v1::MemberTransferred* t = e.mutable_member_transferred();
  t->set_member_id(member_id);
  t->set_from_cell_id(from);
  t->set_to_cell_id(to);
  t->set_type(v1::TRANSFER_TYPE_OFFICIAL);
  return e;
}

v1::Event ThematicSession(const std::string& session_id,
                          const std::string& unit_id, v1::Date date,
                          int convened, int present) {
  v1::Event e = RegularSession(session_id, unit_id, date, convened, present);
  v1::SessionHeld* s = e.mutable_session_held();
  s->set_kind(v1::SESSION_KIND_THEMATIC);
  s->mutable_for_period()->set_quarter((date.month() + 2) / 3);
  s->set_topic("Học tập và làm theo tư tưởng, đạo đức, phong cách Hồ Chí Minh");
  s->add_tags("HCM");
  return e;
}

v1::Event Plan(const std::string& plan_id, const std::string& issuer,
               const std::string& number, v1::Date date,
               const std::string& implements, const v1::Date* due) {
  v1::Event e;
  *e.mutable_business_date() = date;
  v1::PlanIssued* p = e.mutable_plan_issued();
  p->set_plan_id(plan_id);
  p->set_issuer_unit_id(issuer);
  p->set_issuer_organ("Đảng ủy");
  p->mutable_document()->set_number(number);
  p->mutable_document()->set_issuer(issuer);
  *p->mutable_document()->mutable_date() = date;
  p->set_kind(implements.empty() ? v1::PLAN_KIND_ANNUAL
                                 : v1::PLAN_KIND_IMPLEMENTATION);
  p->set_campaign(v1::CAMPAIGN_KL01);
  p->set_implements_plan_id(implements);
  if (due != nullptr) {
    v1::PlanRequirement* r = p->add_requirements();
    r->set_action(v1::REQUIREMENT_ACTION_ISSUE_PLAN);
    r->set_applies_to(v1::APPLIES_TO_DIRECT_CHILDREN);
    *r->mutable_due_date() = *due;
  }
  return e;
}

v1::Event Commitment(const std::string& commitment_id,
                     const std::string& member_id, const std::string& cell_id,
                     v1::Date date) {
  v1::Event e;
  *e.mutable_business_date() = date;
  v1::CommitmentRegistered* c = e.mutable_commitment_registered();
  c->set_commitment_id(commitment_id);
  c->set_member_id(member_id);
  c->set_cell_id(cell_id);
  c->set_campaign(v1::CAMPAIGN_KL01);
  c->mutable_period()->set_year(date.year());
  v1::CommitmentItem* item = c->add_items();
  item->set_text("Thực hành tiết kiệm, chống lãng phí");
  item->set_category(v1::VIRTUE_CATEGORY_KIEM);
  return e;
}

v1::Event Evaluation(const std::string& commitment_id, v1::Date date,
                     bool fulfilled) {
  v1::Event e;
  *e.mutable_business_date() = date;
  v1::CommitmentEvaluated* c = e.mutable_commitment_evaluated();
  c->set_commitment_id(commitment_id);
  c->set_outcome(fulfilled ? v1::EVALUATION_OUTCOME_FULFILLED
                           : v1::EVALUATION_OUTCOME_NOT_FULFILLED);
  c->set_evaluator("Chi ủy");
  return e;
}

v1::Event Award(const std::string& award_id,
                const std::vector<std::string>& unit_ids, v1::Date date,
                v1::AwardKind kind) {
  v1::Event e;
  *e.mutable_business_date() = date;
  v1::AwardGiven* a = e.mutable_award_given();
  a->set_award_id(award_id);
  a->set_kind(kind);
  a->mutable_issuer()->set_system(v1::ISSUER_SYSTEM_PARTY);
  a->mutable_issuer()->set_level(v1::ISSUER_LEVEL_MINISTRY_PROVINCE);
  a->mutable_issuer()->set_organ("Đảng ủy Khối");
  for (const std::string& u : unit_ids) {
    v1::AwardRecipient* r = a->add_recipients();
    r->set_type(v1::RECIPIENT_TYPE_PARTY_UNIT);
    r->set_unit_id(u);
  }
  return e;
}

v1::BatchAppendRequest SeedRequest(const std::vector<std::string>& cells,
                                   int members) {
  v1::BatchAppendRequest r;
  r.set_request_id("seed");
  *r.add_entries() =
      Entry(UnitCreated("db", v1::UNIT_KIND_DIRECT_UNDER_CENTRAL,
                        "Đảng bộ thử nghiệm", "", D(2019, 1, 1)));
  for (const std::string& cell : cells) {
    *r.add_entries() =
        Entry(UnitCreated(cell, v1::UNIT_KIND_ATTACHED_CELL, "Chi bộ " + cell,
                          "db", D(2019, 1, 1)));
    for (int i = 0; i < members; ++i) {
      *r.add_entries() =
          Entry(MemberJoined(cell + ".m" + std::to_string(i), cell));
    }
  }
  return r;
}

}  // namespace nenep::testing
