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
