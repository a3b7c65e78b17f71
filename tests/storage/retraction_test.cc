// Retractions of structural events (issue 5): taking one back gives the
// figures of a log that never had it, in both attributions; what depends on
// it must be taken back first (earlier in the same append, or before), else
// the retraction is refused and changes nothing; a replay of the log gives
// the live state exactly.

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "storage/projections/projection.h"
#include "tests/testing/events.h"

namespace nenep::projections {
namespace {

using ::nenep::testing::D;
using ::testing::HasSubstr;

Day DayOf(const v1::Date& d) { return DayNumber(d.year(), d.month(), d.day()); }

// A log in memory behind a projection, as the server keeps them.
class Log {
 public:
  Log()
      : p_(nullptr, [this](uint64_t pos) -> absl::StatusOr<v1::Event> {
          if (pos == 0 || pos > events_.size()) {
            return absl::NotFoundError(absl::StrCat("no event at ", pos));
          }
          return events_[pos - 1];
        }) {}

  // One append request: all of it or nothing.
  absl::Status Append(const std::vector<v1::Event>& request) {
    std::vector<const v1::Event*> ptrs;
    for (const v1::Event& e : request) ptrs.push_back(&e);
    absl::Status s = p_.Apply(ptrs, events_.size() + 1);
    if (s.ok()) events_.insert(events_.end(), request.begin(), request.end());
    return s;
  }
  // Appends each event as its own request.
  void AppendEach(const std::vector<v1::Event>& events) {
    for (const v1::Event& e : events) {
      absl::Status s = Append({e});
      ASSERT_TRUE(s.ok()) << s << "\n" << e.DebugString();
    }
  }
  uint64_t head() const { return events_.size(); }
  const Projection& projection() const { return p_; }
  const std::vector<v1::Event>& events() const { return events_; }

 private:
  std::vector<v1::Event> events_;
  Projection p_;
};

v1::Event Retraction(uint64_t position) {
  v1::Event e;
  *e.mutable_business_date() = D(2022, 1, 10);
  e.mutable_event_retracted()->set_target_position(position);
  e.mutable_event_retracted()->set_reason(
      v1::RETRACTION_REASON_ENTERED_IN_ERROR);
  return e;
}
v1::Event Renamed(const std::string& unit, const std::string& name,
                  const std::string& short_name, v1::Date date) {
  v1::Event e;
  *e.mutable_business_date() = date;
  e.mutable_unit_renamed()->set_unit_id(unit);
  e.mutable_unit_renamed()->set_new_name(name);
  e.mutable_unit_renamed()->set_new_short_name(short_name);
  return e;
}
v1::Event Left(const std::string& member, const std::string& cell,
               v1::Date date) {
  v1::Event e;
  *e.mutable_business_date() = date;
  e.mutable_member_left()->set_member_id(member);
  e.mutable_member_left()->set_cell_id(cell);
  return e;
}
v1::Event Cell(const std::string& id, const std::string& parent,
               v1::Date date = D(2020, 1, 1)) {
  return testing::UnitCreated(id, v1::UNIT_KIND_ATTACHED_CELL,
                              absl::StrCat("Chi bộ ", id), parent, date);
}
v1::Event Upper(const std::string& id, const std::string& parent) {
  return testing::UnitCreated(id, v1::UNIT_KIND_UPPER_BASE,
                              absl::StrCat("Đảng bộ ", id), parent,
                              D(2020, 1, 1));
}

// K ── A ── a1, a2 (5 members each), c3 (no members)
//   └─ B ── b1 (5 members)
// with a regular session a month in each cell, January to June 2021.
std::vector<v1::Event> Base() {
  std::vector<v1::Event> e = {
      testing::UnitCreated("K", v1::UNIT_KIND_DIRECT_UNDER_CENTRAL, "Khối", "",
                           D(2020, 1, 1)),
      Upper("A", "K"),
      Upper("B", "K"),
      Cell("a1", "A"),
      Cell("a2", "A"),
      Cell("c3", "A"),
      Cell("b1", "B"),
  };
  for (const char* cell : {"a1", "a2", "b1"}) {
    for (int i = 0; i < 5; ++i) {
      e.push_back(testing::MemberJoined(absl::StrCat(cell, ".m", i), cell,
                                        D(2020, 1, 1)));
    }
  }
  for (int month = 1; month <= 6; ++month) {
    for (const char* cell : {"a1", "a2", "b1"}) {
      e.push_back(testing::RegularSession(absl::StrCat(cell, ".s", month), cell,
                                          D(2021, month, 10), 5, 4));
    }
    e.push_back(testing::RegularSession(absl::StrCat("c3.s", month), "c3",
                                        D(2021, month, 12), 0, 0));
  }
  return e;
}

// Sessions of `cell` from July to December 2021 (convened 5).
std::vector<v1::Event> Later(const std::string& cell) {
  std::vector<v1::Event> e;
  for (int month = 7; month <= 12; ++month) {
    e.push_back(testing::RegularSession(absl::StrCat(cell, ".s", month), cell,
                                        D(2021, month, 10), 5, 5));
  }
  return e;
}

// Every figure and every unit answer of `a` equals that of `b`.
void ExpectSameFigures(const Projection& a, const Projection& b) {
  const std::vector<std::string> units = {"K",  "A",  "B",  "a1", "a2",
                                          "c3", "b1", "c9", "E",  "e1"};
  const std::vector<std::pair<v1::Date, v1::Date>> ranges = {
      {D(2021, 1, 1), D(2021, 12, 31)}, {D(2021, 4, 1), D(2021, 6, 30)},
      {D(2021, 7, 1), D(2021, 9, 30)},  {D(2021, 3, 1), D(2021, 3, 31)},
      {D(2020, 1, 1), D(2021, 5, 15)},
  };
  const std::vector<v1::Date> structures = {D(2021, 2, 1), D(2021, 12, 31)};
  for (const std::string& u : units) {
    for (const auto& [from, to] : ranges) {
      RollupQuery q{u, DayOf(from), DayOf(to), Attribution::kAsRecorded, 0};
      std::vector<RollupQuery> queries = {q};
      for (const v1::Date& s : structures) {
        q.attribution = Attribution::kAsOfStructure;
        q.structure_date = DayOf(s);
        queries.push_back(q);
      }
      for (const RollupQuery& query : queries) {
        absl::StatusOr<Rollup> ra = a.GetRollup(query);
        absl::StatusOr<Rollup> rb = b.GetRollup(query);
        const std::string where = absl::StrCat(
            u, " ", query.from, "..", query.to, " attribution ",
            static_cast<int>(query.attribution), " ", query.structure_date);
        ASSERT_EQ(ra.status().code(), rb.status().code()) << where;
        if (!ra.ok()) continue;
        EXPECT_TRUE(*ra == *rb)
            << where << ": sessions " << ra->sessions_regular << " vs "
            << rb->sessions_regular << ", members " << ra->members << " vs "
            << rb->members << ", cells " << ra->cells << " vs " << rb->cells
            << ", months held " << ra->regular_cell_months_held << " vs "
            << rb->regular_cell_months_held << " of "
            << ra->regular_cell_months_active << " vs "
            << rb->regular_cell_months_active;
      }
    }
    for (const v1::Date& on : {D(2021, 3, 1), D(2021, 12, 31)}) {
      absl::StatusOr<UnitInfo> ia = a.GetUnit(u, DayOf(on));
      absl::StatusOr<UnitInfo> ib = b.GetUnit(u, DayOf(on));
      ASSERT_EQ(ia.status().code(), ib.status().code()) << u;
      if (!ia.ok()) continue;
      EXPECT_EQ(ia->name, ib->name) << u;
      EXPECT_EQ(ia->short_name, ib->short_name) << u;
      EXPECT_EQ(ia->created, ib->created) << u;
      EXPECT_EQ(ia->dissolved, ib->dissolved) << u;
      EXPECT_EQ(ia->predecessor_ids, ib->predecessor_ids) << u;
      EXPECT_EQ(ia->successor_ids, ib->successor_ids) << u;
      EXPECT_EQ(ia->children, ib->children) << u;
      EXPECT_EQ(ia->cells, ib->cells) << u;
      EXPECT_EQ(ia->members, ib->members) << u;
      ASSERT_EQ(ia->parent_chain.size(), ib->parent_chain.size()) << u;
      for (size_t i = 0; i < ia->parent_chain.size(); ++i) {
        EXPECT_EQ(ia->parent_chain[i].unit_id, ib->parent_chain[i].unit_id);
      }
    }
    EXPECT_EQ(a.FindUnits(u, DayOf(D(2021, 6, 1)), true, 10).size(),
              b.FindUnits(u, DayOf(D(2021, 6, 1)), true, 10).size())
        << u;
  }
}

// A replay of the whole log, one request per event, gives the live state.
void ExpectReplayEqual(const Log& log) {
  Log replay;
  for (const v1::Event& e : log.events()) {
    ASSERT_TRUE(replay.Append({e}).ok());
  }
  EXPECT_EQ(replay.projection().Checksum(), log.projection().Checksum());
}

const v1::Date kDue = D(2021, 6, 30);

struct Case {
  std::string name;
  std::vector<v1::Event> change;  // retracted as one event each, last first
  std::vector<v1::Event> after;   // recorded after the change, kept
};

class RetractStructureTest : public ::testing::TestWithParam<Case> {};

// base + change + after + retractions == base + after.
TEST_P(RetractStructureTest, GivesTheFiguresOfALogWithoutIt) {
  const Case& c = GetParam();
  Log with;
  with.AppendEach(Base());
  const uint64_t first = with.head() + 1;
  with.AppendEach(c.change);
  with.AppendEach(c.after);
  for (uint64_t i = c.change.size(); i > 0; --i) {
    absl::Status s = with.Append({Retraction(first + i - 1)});
    ASSERT_TRUE(s.ok()) << s;
  }
  Log without;
  without.AppendEach(Base());
  without.AppendEach(c.after);
  ExpectSameFigures(with.projection(), without.projection());
  ExpectReplayEqual(with);
  // Retracted twice: refused.
  absl::Status again = with.Append({Retraction(first)});
  EXPECT_EQ(again.code(), absl::StatusCode::kFailedPrecondition) << again;
  EXPECT_THAT(std::string(again.message()), HasSubstr("already retracted"));
}

INSTANTIATE_TEST_SUITE_P(
    EveryStructuralEvent, RetractStructureTest,
    ::testing::Values(
        Case{"UnitCreated", {Cell("c9", "A", D(2021, 3, 15))}, {}},
        Case{"UnitCreatedWithPredecessor",
             {[] {
               v1::Event e = Cell("c9", "A", D(2021, 3, 15));
               e.mutable_unit_created()->add_predecessor_unit_ids("a2");
               return e;
             }()},
             {}},
        Case{"UnitRenamed",
             {Renamed("A", "Đảng bộ A mới", "ĐB A", D(2021, 6, 1))},
             Later("a1")},
        Case{"UnitMoved",
             {testing::Moved("a2", "A", "B", D(2021, 5, 1))},
             Later("a2")},
        Case{"UnitMovedTwice",
             {testing::Moved("a2", "A", "B", D(2021, 5, 1)),
              testing::Moved("a2", "B", "A", D(2021, 8, 1))},
             Later("a2")},
        Case{"UnitDissolved",
             {testing::Dissolved("c3", {"a1"}, D(2021, 6, 20))},
             Later("a1")},
        Case{"UnitsMerged",
             {testing::Merged({"a2"}, "a1", D(2021, 7, 1))},
             Later("a1")},
        Case{"MemberJoined",
             {testing::MemberJoined("new.m", "b1", D(2021, 3, 1))},
             Later("b1")},
        Case{"MemberTransferred",
             {testing::Transferred("a1.m0", "a1", "b1", D(2021, 8, 1))},
             Later("b1")},
        Case{"MemberLeftAndRejoined",
             {Left("a1.m1", "a1", D(2021, 9, 1)),
              testing::MemberJoined("a1.m1", "b1", D(2021, 10, 1))},
             {}},
        Case{"PlanIssued",
             {testing::Plan("pk", "K", "01-KH/ĐUK", D(2021, 3, 1), "", &kDue)},
             {}},
        Case{"PlanAndItsImplementingPlan",
             {testing::Plan("pk", "K", "01-KH/ĐUK", D(2021, 3, 1), "", &kDue),
              testing::Plan("pa", "A", "02-KH/ĐU", D(2021, 4, 1), "pk")},
             {testing::Plan("pb", "B", "03-KH/ĐU", D(2021, 5, 1))}},
        Case{"CellWithMembersAndSessions",
             {Cell("c9", "B", D(2021, 2, 1)),
              testing::MemberJoined("c9.m0", "c9", D(2021, 2, 1)),
              testing::RegularSession("c9.s1", "c9", D(2021, 2, 15), 1, 1),
              Renamed("c9", "Chi bộ C9", "C9", D(2021, 3, 1)),
              testing::Moved("c9", "B", "A", D(2021, 4, 1)),
              testing::Transferred("c9.m0", "c9", "b1", D(2021, 5, 1)),
              testing::Dissolved("c9", {}, D(2021, 6, 1))},
             Later("b1")}),
    [](const ::testing::TestParamInfo<Case>& info) { return info.param.name; });

class RetractDependentsTest : public ::testing::Test {
 protected:
  void SetUp() override { log_.AppendEach(Base()); }

  // Appends `events` one by one; the position of the first.
  uint64_t Record(const std::vector<v1::Event>& events) {
    const uint64_t first = log_.head() + 1;
    log_.AppendEach(events);
    return first;
  }
  // The request is refused, naming `why`, and nothing changes.
  void ExpectRefused(const std::vector<v1::Event>& request,
                     const std::string& why) {
    const std::string before = log_.projection().Checksum();
    const uint64_t head = log_.head();
    absl::Status s = log_.Append(request);
    EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition) << s;
    EXPECT_THAT(std::string(s.message()), HasSubstr(why));
    EXPECT_THAT(std::string(s.message()), HasSubstr("cannot retract the "));
    EXPECT_EQ(log_.projection().Checksum(), before);
    EXPECT_EQ(log_.head(), head);
  }
  // The log without the events at `gone` (positions), replayed.
  void ExpectSameAsWithout(const std::vector<uint64_t>& gone) {
    Log without;
    for (uint64_t pos = 1; pos <= log_.head(); ++pos) {
      const v1::Event& e = log_.events()[pos - 1];
      if (e.has_event_retracted()) continue;
      if (std::find(gone.begin(), gone.end(), pos) != gone.end()) continue;
      ASSERT_TRUE(without.Append({e}).ok()) << e.DebugString();
    }
    ExpectSameFigures(log_.projection(), without.projection());
    ExpectReplayEqual(log_);
  }

  Log log_;
};

TEST_F(RetractDependentsTest, ACellWithASessionGoesWithTheSessionFirst) {
  const uint64_t cell =
      Record({Cell("c9", "A", D(2021, 3, 15)),
              testing::RegularSession("c9.s", "c9", D(2021, 3, 20), 0, 0)});
  ExpectRefused({Retraction(cell)},
                "creation of unit 'c9': facts are recorded for it");
  // The session after the cell in the same append: still refused.
  ExpectRefused({Retraction(cell), Retraction(cell + 1)}, "facts are recorded");
  ASSERT_TRUE(log_.Append({Retraction(cell + 1), Retraction(cell)}).ok());
  ExpectSameAsWithout({cell, cell + 1});
  absl::StatusOr<UnitInfo> info =
      log_.projection().GetUnit("c9", DayOf(D(2021, 6, 1)));
  EXPECT_EQ(info.status().code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(log_.projection().FindUnits("c9", 0, true, 10).empty());
  // Its id is free again.
  ASSERT_TRUE(log_.Append({Cell("c9", "B", D(2021, 4, 1))}).ok());
  info = log_.projection().GetUnit("c9", DayOf(D(2021, 6, 1)));
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->parent_chain.front().unit_id, "B");
}

// The projection looks an event's unit or member up a few events ahead of
// applying it (apply.cc). A retraction in between that takes the unit or
// the member away leaves the id unknown: NOT_FOUND, not the index found
// ahead (which would say FAILED_PRECONDITION, "not active" or "not in
// cell"). Both paths: one request of many events, and the replay's events
// applied one by one.
TEST_F(RetractDependentsTest, AnIdLookedUpAheadThenRetractedIsNotFound) {
  const uint64_t cell = Record({Cell("c7", "A", D(2021, 3, 15))});
  const uint64_t join =
      Record({testing::MemberJoined("c7.m", "b1", D(2021, 3, 1))});
  auto filler = [](int n) {
    return testing::RegularSession(absl::StrCat("b1.f", n), "b1", D(2021, 7, n),
                                   0, 0);
  };
  // The use is 4 events after the retraction's predecessor: looked up
  // ahead before the retraction applies.
  const std::vector<v1::Event> unit_gone = {
      filler(1), Retraction(cell),
      filler(2), filler(3),
      filler(4), testing::RegularSession("c7.s", "c7", D(2021, 7, 20), 0, 0)};
  const std::vector<v1::Event> member_gone = {
      filler(11), Retraction(join),
      filler(12), filler(13),
      filler(14), testing::Commitment("c7.cm", "c7.m", "b1", D(2021, 7, 20))};

  const std::string before = log_.projection().Checksum();
  absl::Status s = log_.Append(unit_gone);
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound) << s;
  EXPECT_THAT(std::string(s.message()), HasSubstr("unit 'c7' is not recorded"));
  s = log_.Append(member_gone);
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound) << s;
  EXPECT_THAT(std::string(s.message()),
              HasSubstr("member 'c7.m' is not recorded"));
  EXPECT_EQ(log_.projection().Checksum(), before);

  // The replay path: every event its own request, under one lock.
  std::vector<v1::Event> log = log_.events();
  const uint64_t first_use = log.size() + unit_gone.size();
  log.insert(log.end(), unit_gone.begin(), unit_gone.end());
  log.insert(log.end(), member_gone.begin(), member_gone.end());
  std::vector<const v1::Event*> ptrs;
  for (const v1::Event& e : log) ptrs.push_back(&e);
  Projection replay(nullptr, [&log](uint64_t pos) -> absl::StatusOr<v1::Event> {
    if (pos == 0 || pos > log.size()) return absl::NotFoundError("no event");
    return log[pos - 1];
  });
  std::vector<std::pair<uint64_t, absl::Status>> refused;
  replay.ApplyLogged(ptrs, 1, [&](uint64_t pos, const absl::Status& st) {
    refused.emplace_back(pos, st);
  });
  ASSERT_EQ(refused.size(), 2u);
  EXPECT_EQ(refused[0].first, first_use);
  EXPECT_EQ(refused[0].second.code(), absl::StatusCode::kNotFound)
      << refused[0].second;
  EXPECT_EQ(refused[1].first, log.size());
  EXPECT_EQ(refused[1].second.code(), absl::StatusCode::kNotFound)
      << refused[1].second;
}

// What was looked up ahead is named by the id's address; a later request
// whose event sits at the same address (here: the same objects, refilled)
// and names an unknown unit must not find the earlier request's unit.
TEST_F(RetractDependentsTest, ALookupAheadDoesNotOutliveItsRequest) {
  std::vector<v1::Event> request;
  for (int n = 1; n <= 5; ++n) {
    request.push_back(testing::RegularSession(absl::StrCat("b1.a", n), "b1",
                                              D(2021, 8, n), 0, 0));
  }
  request.push_back(
      testing::RegularSession("b1.a6", "b1", D(2021, 8, 20), 0, 0));
  ASSERT_TRUE(log_.Append(request).ok());
  const std::string* id = &request[5].session_held().unit_id();
  for (int n = 0; n < 5; ++n) {
    request[n].mutable_session_held()->set_session_id(absl::StrCat("b1.b", n));
  }
  request[5].mutable_session_held()->set_session_id("b1.b6");
  request[5].mutable_session_held()->set_unit_id("nope");
  ASSERT_EQ(&request[5].session_held().unit_id(), id);  // the same string
  const std::string before = log_.projection().Checksum();
  absl::Status s = log_.Append(request);
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound) << s;
  EXPECT_THAT(std::string(s.message()),
              HasSubstr("unit 'nope' is not recorded"));
  EXPECT_EQ(log_.projection().Checksum(), before);
}

TEST_F(RetractDependentsTest, AUnitWithChildrenOrMembers) {
  const uint64_t e = Record({Upper("E", "K"), Cell("e1", "E"),
                             testing::MemberJoined("e1.m", "e1", D(2021, 1, 5)),
                             Left("e1.m", "e1", D(2021, 2, 5))});
  ExpectRefused({Retraction(e)}, "unit 'e1' was created or moved under it");
  ExpectRefused({Retraction(e + 1)}, "members joined it or moved through it");
  ExpectRefused({Retraction(e + 2)}, "the member has a later change");
  ASSERT_TRUE(log_.Append({Retraction(e + 3), Retraction(e + 2),
                           Retraction(e + 1), Retraction(e)})
                  .ok());
  ExpectSameAsWithout({e, e + 1, e + 2, e + 3});
}

TEST_F(RetractDependentsTest, AJoinWhoseMemberHasACommitmentOrAttended) {
  const uint64_t join =
      Record({testing::MemberJoined("new.m", "b1", D(2021, 3, 1)),
              testing::Commitment("cm", "new.m", "b1", D(2021, 3, 5)),
              testing::RegularSession("b1.x", "b1", D(2021, 3, 20), 6, 6)});
  ExpectRefused({Retraction(join)}, "commitment 'cm' of member 'new.m'");
  ExpectRefused({Retraction(join + 1), Retraction(join)},
                "sessions of 'b1' on 2021-03-20 convened 6, more than the 5");
  ASSERT_TRUE(log_.Append({Retraction(join + 2), Retraction(join + 1),
                           Retraction(join)})
                  .ok());
  ExpectSameAsWithout({join, join + 1, join + 2});
}

TEST_F(RetractDependentsTest, ASuccessorCreatedBeforeItsPredecessorEnded) {
  v1::Event created = Cell("c9", "A", D(2021, 6, 20));
  created.mutable_unit_created()->add_predecessor_unit_ids("c3");
  const uint64_t c9 =
      Record({created, testing::Dissolved("c3", {"c9"}, D(2021, 6, 20))});
  ExpectRefused({Retraction(c9)},
                "unit 'c3' was merged into it or ended after it was created");
  // A correction says so.
  v1::Event fix;
  *fix.mutable_business_date() = D(2022, 1, 10);
  fix.mutable_event_corrected()->set_target_position(c9);
  fix.mutable_event_corrected()->set_reason("sai tên");
  *fix.mutable_event_corrected()->mutable_replacement() = created;
  fix.mutable_event_corrected()
      ->mutable_replacement()
      ->mutable_unit_created()
      ->set_name("Chi bộ C9");
  const std::string before = log_.projection().Checksum();
  absl::Status s = log_.Append({fix});
  EXPECT_THAT(std::string(s.message()),
              HasSubstr("cannot correct the creation of unit 'c9'"));
  EXPECT_EQ(log_.projection().Checksum(), before);
  ASSERT_TRUE(log_.Append({Retraction(c9 + 1), fix}).ok());
  ExpectReplayEqual(log_);
}

TEST_F(RetractDependentsTest, ALineageLinkMadeTwiceKeepsTheOtherOne) {
  // c9 is created as c3's successor, then c3 is dissolved naming c9 again:
  // retracting the dissolution keeps the creation's link.
  v1::Event created = Cell("c9", "A", D(2021, 6, 20));
  created.mutable_unit_created()->add_predecessor_unit_ids("c3");
  const uint64_t c9 =
      Record({created, testing::Dissolved("c3", {"c9"}, D(2021, 6, 21))});
  ASSERT_TRUE(log_.Append({Retraction(c9 + 1)}).ok());
  ExpectSameAsWithout({c9 + 1});
  absl::StatusOr<UnitInfo> c3 =
      log_.projection().GetUnit("c3", DayOf(D(2021, 12, 1)));
  ASSERT_TRUE(c3.ok());
  EXPECT_EQ(c3->successor_ids, std::vector<std::string>{"c9"});
  EXPECT_EQ(c3->dissolved, kForever);
}

TEST_F(RetractDependentsTest, AMembersFirstCommitmentOfTheYear) {
  // members_with_commitment counts b1.m0 once for 2021, by its first
  // commitment; retracted, the second one counts it.
  const uint64_t first =
      Record({testing::Commitment("cm1", "b1.m0", "b1", D(2021, 2, 1)),
              testing::Commitment("cm2", "b1.m0", "b1", D(2021, 4, 1)),
              testing::Commitment("cm3", "b1.m1", "b1", D(2021, 4, 1))});
  ASSERT_TRUE(log_.Append({Retraction(first)}).ok());
  ExpectSameAsWithout({first});
  ASSERT_TRUE(log_.Append({Retraction(first + 1)}).ok());
  ExpectSameAsWithout({first, first + 1});
  absl::StatusOr<Rollup> r = log_.projection().GetRollup(
      {"b1", DayOf(D(2021, 1, 1)), DayOf(D(2021, 12, 31)),
       Attribution::kAsRecorded, 0});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->members_with_commitment, 1);
  EXPECT_EQ(r->commitments_registered, 1);
}

TEST_F(RetractDependentsTest, APlanAndThePlansImplementingIt) {
  const uint64_t pk =
      Record({testing::Plan("pk", "K", "01-KH/ĐUK", D(2021, 3, 1), "", &kDue),
              testing::Plan("pa1", "A", "02-KH/ĐU", D(2021, 4, 1), "pk"),
              testing::Plan("pa2", "A", "03-KH/ĐU", D(2021, 7, 15), "pk"),
              testing::Plan("pb", "B", "04-KH/ĐU", D(2021, 5, 1), "pk")});
  ExpectRefused({Retraction(pk)}, "plan 'pa1' of 'A' implements it");
  auto compliance = [&] {
    absl::StatusOr<Rollup> r = log_.projection().GetRollup(
        {"K", DayOf(D(2021, 1, 1)), DayOf(D(2021, 12, 31)),
         Attribution::kAsRecorded, 0});
    EXPECT_TRUE(r.ok());
    return std::make_pair(r->child_plans_on_time, r->child_plans_required);
  };
  EXPECT_EQ(compliance(), std::make_pair(int64_t{2}, int64_t{2}));
  // A's first plan retracted: its second, late, now implements pk.
  ASSERT_TRUE(log_.Append({Retraction(pk + 1)}).ok());
  EXPECT_EQ(compliance(), std::make_pair(int64_t{1}, int64_t{2}));
  ExpectSameAsWithout({pk + 1});
  // Then pk with everything implementing it, in one append.
  ASSERT_TRUE(
      log_.Append({Retraction(pk + 3), Retraction(pk + 2), Retraction(pk)})
          .ok());
  EXPECT_EQ(compliance(), std::make_pair(int64_t{0}, int64_t{0}));
  ExpectSameAsWithout({pk, pk + 1, pk + 2, pk + 3});
  // Its number is free again.
  EXPECT_TRUE(log_.Append({testing::Plan("pk", "K", "01-KH/ĐUK", D(2021, 3, 1),
                                         "", &kDue)})
                  .ok());
}

TEST_F(RetractDependentsTest, AMoveFollowedByAnotherOrAPlan) {
  const uint64_t move = Record({testing::Moved("a2", "A", "B", D(2021, 5, 1)),
                                testing::Moved("a2", "B", "A", D(2021, 9, 1))});
  ExpectRefused({Retraction(move)}, "it was moved again later (on 2021-09-01)");
  ASSERT_TRUE(log_.Append({Retraction(move + 1), Retraction(move)}).ok());
  ExpectSameAsWithout({move, move + 1});
  // A plan of an ancestor after the move fixed the tree it required from.
  const v1::Date due = D(2021, 12, 1);
  const uint64_t again =
      Record({testing::Moved("a2", "A", "B", D(2021, 10, 1)),
              testing::Plan("p", "B", "01-KH", D(2021, 10, 5), "", &due)});
  ExpectRefused({Retraction(again)}, "plan 'p' of 'B', issued on 2021-10-05");
}

TEST_F(RetractDependentsTest, ADissolutionUnderAParentThatEndedLater) {
  const uint64_t e = Record({Upper("E", "K"), Cell("e1", "E"),
                             testing::Dissolved("e1", {}, D(2021, 4, 1)),
                             testing::Dissolved("E", {}, D(2021, 5, 1))});
  ExpectRefused({Retraction(e + 2)}, "its parent 'E' ended on 2021-05-01");
  ASSERT_TRUE(log_.Append({Retraction(e + 3), Retraction(e + 2)}).ok());
  ExpectSameAsWithout({e + 2, e + 3});
}

TEST_F(RetractDependentsTest, AMergeWhoseMembersMovedOn) {
  const uint64_t merge =
      Record({testing::Merged({"a2"}, "a1", D(2021, 7, 1)),
              testing::Transferred("a2.m0", "a1", "b1", D(2021, 8, 1))});
  ExpectRefused({Retraction(merge)},
                "member 'a2.m0' has a later change (on 2021-08-01)");
  ASSERT_TRUE(log_.Append({Retraction(merge + 1), Retraction(merge)}).ok());
  ExpectSameAsWithout({merge, merge + 1});
}

TEST_F(RetractDependentsTest, ARefusedRequestUndoesTheRetractionsBeforeIt) {
  const uint64_t cell = Record({Cell("c9", "A", D(2021, 3, 15)),
                                testing::Moved("a2", "A", "B", D(2021, 5, 1)),
                                testing::Merged({"c3"}, "a1", D(2021, 7, 1))});
  const std::string before = log_.projection().Checksum();
  absl::Status s =
      log_.Append({Retraction(cell + 2), Retraction(cell + 1), Retraction(cell),
                   testing::RegularSession("bad", "nowhere", D(2021, 8, 1))});
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound) << s;
  EXPECT_EQ(log_.projection().Checksum(), before);
  // A correction of a structural event: a rename's name.
  const uint64_t rename =
      Record({Renamed("B", "Đảng bộ Bê", "", D(2021, 9, 1))});
  v1::Event fix;
  *fix.mutable_business_date() = D(2022, 1, 10);
  fix.mutable_event_corrected()->set_target_position(rename);
  fix.mutable_event_corrected()->set_reason("sai tên");
  *fix.mutable_event_corrected()->mutable_replacement() =
      Renamed("B", "Đảng bộ B mới", "", D(2021, 9, 1));
  ASSERT_TRUE(log_.Append({fix}).ok());
  absl::StatusOr<UnitInfo> b =
      log_.projection().GetUnit("B", DayOf(D(2021, 12, 1)));
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->name, "Đảng bộ B mới");
  ExpectReplayEqual(log_);
}

}  // namespace
}  // namespace nenep::projections

// Cases a review found (each failed before its fix).
namespace nenep::projections {
namespace {

v1::Event Bad() {
  return testing::RegularSession("bad", "nowhere", D(2021, 8, 1));
}
v1::Event MemberAward(const std::string& id, const std::string& member,
                      v1::Date date) {
  v1::Event e = testing::Award(id, {}, date);
  v1::AwardRecipient* r = e.mutable_award_given()->add_recipients();
  r->set_type(v1::RECIPIENT_TYPE_MEMBER);
  r->set_member_id(member);
  return e;
}

using ReviewedTest = RetractDependentsTest;

TEST_F(ReviewedTest, AFailedRequestOfMemberAwardsLeavesNoneBehind) {
  // Many member awards in one request rehash the award index while its
  // journal holds entries of it; the request fails and is undone.
  const uint64_t join =
      Record({testing::MemberJoined("new.m", "c3", D(2021, 3, 1))});
  std::vector<v1::Event> request = {MemberAward("aw0", "new.m", D(2021, 4, 1))};
  for (const char* cell : {"a1", "a2", "b1"}) {
    for (int i = 0; i < 5; ++i) {
      request.push_back(MemberAward(absl::StrCat("aw.", cell, i),
                                    absl::StrCat(cell, ".m", i),
                                    D(2021, 4, 1)));
    }
  }
  request.push_back(Bad());
  const std::string before = log_.projection().Checksum();
  EXPECT_EQ(log_.Append(request).code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(log_.projection().Checksum(), before);
  EXPECT_TRUE(log_.Append({Retraction(join)}).ok());
}

TEST_F(ReviewedTest, AFailedRequestUndoesASessionRetraction) {
  uint64_t march = 0;
  for (uint64_t p = 1; p <= log_.head(); ++p) {
    if (log_.events()[p - 1].session_held().session_id() == "c3.s3") march = p;
  }
  ASSERT_NE(march, 0u);
  const std::string before = log_.projection().Checksum();
  EXPECT_FALSE(log_.Append({Retraction(march), Bad()}).ok());
  EXPECT_EQ(log_.projection().Checksum(), before);
  ExpectReplayEqual(log_);
}

TEST_F(ReviewedTest, SameDayChangesThatCannotBeToldApart) {
  const uint64_t join =
      Record({testing::MemberJoined("x", "c3", D(2021, 3, 1)),
              testing::Transferred("x", "c3", "b1", D(2021, 3, 1)),
              testing::Transferred("x", "b1", "c3", D(2021, 3, 1))});
  ExpectRefused({Retraction(join)}, "another change to the same cell");
  const uint64_t move = Record({testing::Moved("a2", "A", "B", D(2021, 7, 1)),
                                testing::Moved("a2", "B", "A", D(2021, 7, 1)),
                                testing::Moved("a2", "A", "B", D(2021, 7, 1))});
  ExpectRefused({Retraction(move)}, "another move to the same parent");
}

TEST_F(ReviewedTest, AMergeTakesBackOnlyWhatItMoved) {
  // c3 and a2.m0 left A and a2 by their own events on the merge's day.
  const uint64_t first =
      Record({testing::Moved("c3", "A", "B", D(2021, 7, 1)),
              testing::Transferred("a2.m0", "a2", "a1", D(2021, 7, 1)),
              testing::Merged({"a2"}, "a1", D(2021, 7, 1))});
  ASSERT_TRUE(log_.Append({Retraction(first + 2)}).ok());
  ExpectSameAsWithout({first + 2});
  ASSERT_TRUE(log_.Append({Retraction(first + 1), Retraction(first)}).ok());
  ExpectSameAsWithout({first, first + 1, first + 2});
}

TEST_F(ReviewedTest, AJoinInACellThatMovedLater) {
  const uint64_t join =
      Record({testing::MemberJoined("new.m", "c3", D(2021, 3, 1)),
              testing::Moved("c3", "A", "B", D(2021, 5, 1))});
  ExpectRefused({Retraction(join)},
                "unit 'c3' was moved on 2021-05-01, after it");
  ASSERT_TRUE(log_.Append({Retraction(join + 1), Retraction(join)}).ok());
  ExpectSameAsWithout({join, join + 1});
}

TEST_F(ReviewedTest, ChangesUnderAnAncestorThatMovedLater) {
  const uint64_t first =
      Record({testing::UnitCreated("K2", v1::UNIT_KIND_DIRECT_UNDER_CENTRAL,
                                   "Khối 2", "", D(2020, 1, 1)),
              Cell("c9", "A", D(2021, 3, 15)),
              testing::Dissolved("c3", {}, D(2021, 6, 20)),
              testing::Moved("a2", "A", "B", D(2021, 7, 1)),
              testing::Moved("A", "K", "K2", D(2021, 8, 1)),
              testing::Moved("B", "K", "K2", D(2021, 8, 2))});
  ExpectRefused({Retraction(first + 1)}, "unit 'A' was moved on 2021-08-01");
  ExpectRefused({Retraction(first + 2)}, "unit 'A' was moved on 2021-08-01");
  ExpectRefused({Retraction(first + 3)}, "was moved on 2021-08-0");
  ASSERT_TRUE(log_.Append({Retraction(first + 5), Retraction(first + 4),
                           Retraction(first + 3), Retraction(first + 2),
                           Retraction(first + 1)})
                  .ok());
  ExpectSameAsWithout({first + 1, first + 2, first + 3, first + 4, first + 5});
}

TEST_F(ReviewedTest, AnUpperUnitsSessionCountedTheMembers) {
  const uint64_t join =
      Record({testing::MemberJoined("new.m", "b1", D(2021, 3, 1)),
              testing::RegularSession("B.s", "B", D(2021, 3, 20), 6, 6)});
  ExpectRefused({Retraction(join)}, "sessions of 'B' on 2021-03-20 convened 6");
  const uint64_t move =
      Record({testing::Moved("a2", "A", "B", D(2021, 7, 1)),
              testing::RegularSession("B.s2", "B", D(2021, 7, 20), 10, 10)});
  ExpectRefused({Retraction(move)},
                "sessions of 'B' on 2021-07-20 convened 10");
  ASSERT_TRUE(log_.Append({Retraction(move + 1), Retraction(move)}).ok());
  ExpectSameAsWithout({move, move + 1});
}

TEST_F(ReviewedTest, ACommitmentNamingTheUnitBesideItsMember) {
  v1::Event cm = testing::Commitment("cm", "b1.m0", "", D(2021, 4, 1));
  cm.mutable_commitment_registered()->set_unit_id("c9");
  const uint64_t c9 = Record({Cell("c9", "A", D(2021, 3, 15)), cm});
  ExpectRefused({Retraction(c9)}, "a commitment or an award names it");
  ASSERT_TRUE(log_.Append({Retraction(c9 + 1), Retraction(c9)}).ok());
  ExpectSameAsWithout({c9, c9 + 1});
}

TEST_F(ReviewedTest, APlanOfWhereAMergeMappedAChild) {
  const v1::Date due = D(2021, 12, 1);
  v1::Event merge = testing::Merged({"A"}, "B", D(2021, 7, 1));
  auto* cm = merge.mutable_units_merged()->add_child_mappings();
  cm->set_child_unit_id("c3");
  cm->set_to_parent_id("E");
  const uint64_t first =
      Record({Upper("E", "K"), merge,
              testing::Plan("pe", "E", "01-KH/E", D(2021, 7, 5), "", &due)});
  ExpectRefused({Retraction(first + 1)}, "plan 'pe' of 'E'");
}

TEST_F(ReviewedTest, AMemberAwardOnTheDayTheMemberMoved) {
  // The award counted in a1, where the member was when it was recorded.
  const uint64_t aw =
      Record({MemberAward("aw", "a1.m0", D(2021, 7, 1)),
              testing::Transferred("a1.m0", "a1", "b1", D(2021, 7, 1))});
  ASSERT_TRUE(log_.Append({Retraction(aw)}).ok());
  ExpectSameAsWithout({aw});
  // Recorded after the transfer, it counts in b1 and holds the transfer.
  const uint64_t aw2 = Record({MemberAward("aw2", "a1.m0", D(2021, 7, 1))});
  ExpectRefused({Retraction(aw + 1)}, "award 'aw2' of 2021-07-01");
  ASSERT_TRUE(log_.Append({Retraction(aw2), Retraction(aw + 1)}).ok());
  ExpectSameAsWithout({aw, aw + 1, aw2});
}

TEST_F(ReviewedTest, ACommitmentsCorrectionKeepsItsRegistration) {
  // A registration's items are corrected after its evaluation: the
  // figures stay, and the correction stands (it was refused as a
  // duplicate commitment id before).
  const uint64_t cm =
      Record({testing::Commitment("cm1", "b1.m0", "b1", D(2021, 2, 1)),
              testing::Evaluation("cm1", D(2021, 12, 20), true)});
  const RollupQuery year{"b1", DayOf(D(2021, 1, 1)), DayOf(D(2021, 12, 31)),
                         Attribution::kAsRecorded, 0};
  absl::StatusOr<Rollup> before = log_.projection().GetRollup(year);
  ASSERT_TRUE(before.ok());
  auto correction = [cm](const v1::Event& replacement) {
    v1::Event fix;
    *fix.mutable_business_date() = D(2022, 1, 10);
    fix.mutable_event_corrected()->set_target_position(cm);
    fix.mutable_event_corrected()->set_reason("ghi sai nội dung");
    *fix.mutable_event_corrected()->mutable_replacement() = replacement;
    return fix;
  };
  v1::Event items = log_.events()[cm - 1];
  items.mutable_commitment_registered()->add_items()->set_text(
      "Đi làm đúng giờ");
  ASSERT_TRUE(log_.Append({correction(items)}).ok());
  absl::StatusOr<Rollup> after = log_.projection().GetRollup(year);
  ASSERT_TRUE(after.ok());
  EXPECT_TRUE(*before == *after);
  EXPECT_EQ(after->commitments_registered, 1);
  EXPECT_EQ(after->commitments_evaluated, 1);

  // Another member or year is another commitment: refused, nothing changes.
  const std::string checksum = log_.projection().Checksum();
  v1::Event member = items;
  member.mutable_commitment_registered()->set_member_id("b1.m1");
  v1::Event year_later = items;
  year_later.mutable_commitment_registered()->mutable_period()->set_year(2022);
  for (const v1::Event& replacement : {member, year_later}) {
    absl::Status s = log_.Append({correction(replacement)});
    EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition) << s;
    EXPECT_THAT(std::string(s.message()),
                HasSubstr("retract it and register a new commitment_id"));
  }
  EXPECT_EQ(log_.projection().Checksum(), checksum);
  ExpectReplayEqual(log_);
}

}  // namespace
}  // namespace nenep::projections
