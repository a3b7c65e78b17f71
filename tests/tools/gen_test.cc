#include "tools/gen/generator.h"

#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/civil_time.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "nenep/v1/log.pb.h"
#include "services/common/text.h"
#include "services/common/validation.h"

namespace nenep::gen {
namespace {

// Far enough ahead that no generated business date is "in the future".
const absl::CivilDay kToday(2100, 1, 1);

GenOptions Options(const std::string& scale, uint64_t seed = 1,
                   int year = 2024) {
  GenOptions o;
  o.scale = scale;
  o.seed = seed;
  o.year = year;
  return o;
}

std::string Jsonl(const GenOptions& options, GenStats* stats = nullptr) {
  std::string out;
  GenStats ignored;
  absl::Status s = WriteJsonLines(
      options, /*check=*/false,
      [&](absl::string_view chunk) {
        out.append(chunk.data(), chunk.size());
        return true;
      },
      stats != nullptr ? stats : &ignored);
  EXPECT_TRUE(s.ok()) << s;
  return out;
}

std::vector<v1::Event> Events(const GenOptions& options, GenStats* stats) {
  std::vector<v1::Event> events;
  absl::Status s = Generate(
      options,
      [&](const v1::Event& e) {
        events.push_back(e);
        return true;
      },
      stats);
  EXPECT_TRUE(s.ok()) << s;
  return events;
}

std::vector<std::string> Lines(const std::string& jsonl) {
  std::vector<std::string> lines = absl::StrSplit(jsonl, '\n');
  EXPECT_FALSE(lines.empty());
  EXPECT_EQ(lines.back(), "") << "the output ends with a newline";
  lines.pop_back();
  return lines;
}

bool IsCell(v1::UnitKind k) {
  return k == v1::UNIT_KIND_BASE_CELL || k == v1::UNIT_KIND_ATTACHED_CELL;
}

// ---------------------------------------------------------------------------

TEST(GeneratorTest, SameSeedSameBytesOtherSeedOtherBytes) {
  const std::string first = Jsonl(Options("tiny", 1));
  EXPECT_EQ(first, Jsonl(Options("tiny", 1)));
  EXPECT_NE(first, Jsonl(Options("tiny", 2)));
  EXPECT_NE(first, Jsonl(Options("tiny", 1, 2023)));
}

TEST(GeneratorTest, BlocScaleIsByteIdenticalAcrossRuns) {
  const std::string a = Jsonl(Options("bloc", 7));
  const std::string b = Jsonl(Options("bloc", 7));
  EXPECT_GT(a.size(), 50u << 20);
  EXPECT_TRUE(a == b) << "two runs with seed 7 differ";
}

TEST(GeneratorTest, RefusesBadOptions) {
  GenStats stats;
  auto run = [&](const GenOptions& o) {
    return Generate(
        o, [](const v1::Event&) { return true; }, &stats);
  };
  EXPECT_EQ(run(Options("galactic")).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(run(Options("tiny", 1, 1800)).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(run(Options("tiny", 1, 2500)).code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(GeneratorTest, StopsWhenTheSinkSaysSo) {
  int seen = 0;
  GenStats stats;
  absl::Status s = Generate(
      Options("bloc"), [&](const v1::Event&) { return ++seen < 10; }, &stats);
  EXPECT_EQ(s.code(), absl::StatusCode::kCancelled);
  EXPECT_EQ(seen, 10);

  s = WriteJsonLines(
      Options("tiny"), false, [](absl::string_view) { return false; }, &stats);
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
}

TEST(GeneratorTest, TinyScaleCountsAreSane) {
  GenStats stats;
  const std::vector<v1::Event> events = Events(Options("tiny"), &stats);
  EXPECT_EQ(stats.events, static_cast<int64_t>(events.size()));
  EXPECT_LT(stats.events, 2000);
  EXPECT_GE(stats.cells, 4);
  EXPECT_LE(stats.cells, 10);
  EXPECT_GE(stats.members, 40);
  EXPECT_LE(stats.members, 120);
  EXPECT_EQ(stats.units_by_kind["DIRECT_UNDER_CENTRAL"], 1);
  for (const char* type :
       {"UnitCreated", "MemberJoined", "MemberTransferred", "MemberLeft",
        "PlanIssued", "SessionHeld", "CommitmentRegistered",
        "CommitmentEvaluated", "AwardGiven"}) {
    EXPECT_GT(stats.by_type[type], 0) << type;
  }
  EXPECT_EQ(stats.by_type["UnitCreated"], stats.units);
  // At most 12 regular and 4 thematic sessions a cell.
  EXPECT_LE(stats.by_type["SessionHeld"], 16 * stats.cells);
  EXPECT_GE(stats.by_type["SessionHeld"], 12 * stats.cells);
}

// Every line is a BatchEntry with only `event` set, parses back to the event
// generated, prints back to the same bytes, and passes the server's schema
// validation without any NFC rewrite.
TEST(GeneratorTest, EveryTinyLineParsesBackAndValidates) {
  GenStats stats;
  const std::vector<v1::Event> events = Events(Options("tiny"), &stats);
  const std::vector<std::string> lines = Lines(Jsonl(Options("tiny")));
  ASSERT_EQ(lines.size(), events.size());
  google::protobuf::util::JsonPrintOptions print;
  print.add_whitespace = false;
  services::ValidationLimits limits;
  for (size_t i = 0; i < lines.size(); ++i) {
    SCOPED_TRACE(absl::StrCat("line ", i + 1, ": ", lines[i]));
    EXPECT_TRUE(services::IsNfc(lines[i]));
    v1::BatchEntry entry;
    ASSERT_TRUE(
        google::protobuf::util::JsonStringToMessage(lines[i], &entry).ok());
    EXPECT_TRUE(entry.stream().empty());
    EXPECT_FALSE(entry.has_expected_revision());
    ASSERT_TRUE(entry.has_event());
    EXPECT_EQ(entry.event().SerializeAsString(), events[i].SerializeAsString());
    std::string again;
    ASSERT_TRUE(
        google::protobuf::util::MessageToJsonString(entry, &again, print).ok());
    EXPECT_EQ(again + "\n", lines[i] + "\n");
    std::unique_ptr<v1::Event> normalized;
    absl::Status s = services::ValidateEvent(entry.event(), "event", limits,
                                             kToday, &normalized);
    EXPECT_TRUE(s.ok()) << s;
    EXPECT_EQ(normalized, nullptr) << "text not in NFC";
  }
}

TEST(GeneratorTest, FastJsonMatchesProtobufIncludingEscapes) {
  GenStats stats;
  for (const v1::Event& e : Events(Options("tiny"), &stats)) {
    std::string fast;
    AppendJsonLine(e, &fast);
    ASSERT_EQ(fast, ProtobufJsonLine(e));
  }
  // Text the fast path escapes itself, and text it leaves to protobuf.
  for (const char* text :
       {"a \"quoted\" <b> & c\\d", "tab\there", "Bác Hồ – “Đảng ta”…",
        "emoji 🙂 and U+2028 \u2028", "ñ ø ß ∑ 中文"}) {
    v1::Event e;
    e.mutable_business_date()->set_year(2024);
    e.mutable_business_date()->set_month(1);
    e.mutable_business_date()->set_day(1);
    e.set_note(text);
    e.mutable_unit_renamed()->set_unit_id("u");
    e.mutable_unit_renamed()->set_new_name(text);
    std::string fast;
    AppendJsonLine(e, &fast);
    EXPECT_EQ(fast, ProtobufJsonLine(e)) << text;
  }
}

TEST(GeneratorTest, CheckModeAcceptsEveryScaleItCanAffordHere) {
  for (const char* scale : {"tiny", "bloc"}) {
    GenStats stats;
    absl::Status s = WriteJsonLines(
        Options(scale, 3), /*check=*/true,
        [](absl::string_view) { return true; }, &stats);
    EXPECT_TRUE(s.ok()) << scale << ": " << s;
  }
}

TEST(StreamCheckerTest, RejectsBrokenStreams) {
  GenStats stats;
  const std::vector<v1::Event> events = Events(Options("tiny"), &stats);
  auto check = [&](const std::vector<v1::Event>& stream) {
    StreamChecker checker;
    for (size_t i = 0; i < stream.size(); ++i) {
      absl::Status s = checker.Check(stream[i]);
      if (!s.ok()) return s;
    }
    return checker.Finish();
  };
  ASSERT_TRUE(check(events).ok());
  auto first = [&](v1::Event::PayloadCase type) {
    for (size_t i = 0; i < events.size(); ++i) {
      if (events[i].payload_case() == type) return i;
    }
    return events.size();
  };

  {  // A session that counts one member too many.
    std::vector<v1::Event> bad = events;
    const size_t i = first(v1::Event::kSessionHeld);
    v1::Attendance* a = bad[i].mutable_session_held()->mutable_attendance();
    a->set_convened(a->convened() + 1);
    a->set_present(a->present() + 1);
    EXPECT_NE(check(bad).message().find("convened"), std::string::npos);
  }
  {  // A member who joins a cell that does not exist.
    std::vector<v1::Event> bad = events;
    bad[first(v1::Event::kMemberJoined)].mutable_member_joined()->set_cell_id(
        "nowhere");
    EXPECT_FALSE(check(bad).ok());
  }
  {  // A child before its parent.
    std::vector<v1::Event> bad = events;
    std::swap(bad[0], bad[1]);
    EXPECT_FALSE(check(bad).ok());
  }
  {  // An evaluation of a commitment never registered.
    std::vector<v1::Event> bad = events;
    bad[first(v1::Event::kCommitmentEvaluated)]
        .mutable_commitment_evaluated()
        ->set_commitment_id("cm.nobody");
    EXPECT_FALSE(check(bad).ok());
  }
  {  // Text that the server would rewrite in NFC (a decomposed "ộ").
    std::vector<v1::Event> bad = events;
    bad[0].mutable_unit_created()->set_name("Đảng bo\xcc\xa3\xcc\x82");
    EXPECT_NE(check(bad).message().find("NFC"), std::string::npos);
  }
  {  // Dates going backwards.
    std::vector<v1::Event> bad = events;
    bad.back().mutable_business_date()->set_year(2020);
    EXPECT_FALSE(check(bad).ok());
  }
}

// Follows the bloc line by line with bookkeeping of its own: structure,
// membership, attendance, causal order and the shares the domain expects.
class BlocFollower {
 public:
  // Checks the next event; fatal failures stop the generation.
  void Follow(const v1::Event& e) {
    SCOPED_TRACE(absl::StrCat("event ", ++events_));
    std::unique_ptr<v1::Event> normalized;
    absl::Status s =
        services::ValidateEvent(e, "event", limits_, kToday, &normalized);
    ASSERT_TRUE(s.ok()) << s;
    ASSERT_EQ(normalized, nullptr) << "not in NFC";
    const int64_t day = DayOf(e.business_date());
    ASSERT_GE(day, prev_) << "business dates go backwards";
    prev_ = day;
    switch (e.payload_case()) {
      case v1::Event::kUnitCreated: {
        const v1::UnitCreated& u = e.unit_created();
        UnitInfo info{u.parent_id(), u.kind()};
        if (!u.parent_id().empty()) {
          ASSERT_TRUE(units_.contains(u.parent_id())) << u.unit_id();
          info.depth = units_[u.parent_id()].depth + 1;
        }
        ASSERT_TRUE(units_.emplace(u.unit_id(), info).second) << u.unit_id();
        if (IsCell(u.kind())) ++cells_at_depth_[info.depth];
        break;
      }
      case v1::Event::kMemberJoined: {
        const v1::MemberJoined& j = e.member_joined();
        ASSERT_TRUE(IsCell(units_[j.cell_id()].kind)) << j.cell_id();
        ASSERT_TRUE(member_cell_.emplace(j.member_id(), j.cell_id()).second);
        ++units_[j.cell_id()].members;
        EXPECT_FALSE(j.display_name().empty());
        initial_members_ += j.how() == v1::JOIN_KIND_INITIAL_LOAD;
        break;
      }
      case v1::Event::kMemberTransferred: {
        const v1::MemberTransferred& t = e.member_transferred();
        ASSERT_EQ(CellOf(t.member_id()), t.from_cell_id());
        ASSERT_TRUE(IsCell(units_[t.to_cell_id()].kind));
        member_cell_[t.member_id()] = t.to_cell_id();
        --units_[t.from_cell_id()].members;
        ++units_[t.to_cell_id()].members;
        ASSERT_GE(units_[t.from_cell_id()].members, 3);
        break;
      }
      case v1::Event::kMemberLeft: {
        const v1::MemberLeft& l = e.member_left();
        ASSERT_EQ(CellOf(l.member_id()), l.cell_id());
        member_cell_.erase(l.member_id());
        left_.insert(l.member_id());
        --units_[l.cell_id()].members;
        ASSERT_GE(units_[l.cell_id()].members, 3);
        break;
      }
      case v1::Event::kSessionHeld: {
        const v1::SessionHeld& h = e.session_held();
        ASSERT_TRUE(units_.contains(h.unit_id()));
        ASSERT_TRUE(sessions_.insert(h.session_id()).second) << h.session_id();
        EXPECT_EQ(h.attendance().convened(), units_[h.unit_id()].members)
            << h.session_id();
        EXPECT_GE(h.attendance().present() * 5, h.attendance().convened() * 4)
            << "present below 80%";
        if (h.kind() == v1::SESSION_KIND_REGULAR) ++regular_;
        if (h.kind() == v1::SESSION_KIND_THEMATIC) ++thematic_;
        break;
      }
      case v1::Event::kPlanIssued: {
        const v1::PlanIssued& p = e.plan_issued();
        ASSERT_TRUE(units_.contains(p.issuer_unit_id()));
        ASSERT_TRUE(plan_day_.emplace(p.plan_id(), day).second);
        const v1::DocumentRef& d = p.document();
        ASSERT_TRUE(documents_
                        .insert(absl::StrCat(d.number(), "|", d.issuer(), "|",
                                             DayOf(d.date())))
                        .second)
            << "plan identity reused: " << d.number() << " " << d.issuer();
        EXPECT_EQ(DayOf(d.date()), day);
        for (const v1::PlanRequirement& r : p.requirements()) {
          if (r.action() == v1::REQUIREMENT_ACTION_ISSUE_PLAN) {
            plan_due_[p.plan_id()] = DayOf(r.due_date());
          }
        }
        if (p.implements_plan_id().empty()) {
          EXPECT_EQ(p.kind(), v1::PLAN_KIND_ANNUAL);
          EXPECT_EQ(p.issuer_unit_id(), "dbk");
        } else {
          ASSERT_TRUE(plan_day_.contains(p.implements_plan_id()));
          EXPECT_GT(day, plan_day_[p.implements_plan_id()]);
          if (p.implements_plan_id() == "dbk.kh2024") {
            if (day <= plan_due_["dbk.kh2024"]) {
              ++implementing_on_time_;
            } else {
              ++implementing_late_;
            }
          }
        }
        break;
      }
      case v1::Event::kCommitmentRegistered: {
        const v1::CommitmentRegistered& c = e.commitment_registered();
        if (!c.member_id().empty()) {
          ASSERT_EQ(CellOf(c.member_id()), c.cell_id());
          ++member_registrations_;
        } else {
          ASSERT_EQ(c.unit_id(), c.cell_id());
        }
        EXPECT_GE(c.items_size(), 2);
        EXPECT_LE(c.items_size(), 4);
        EXPECT_LE(e.business_date().month(), 2);
        ASSERT_TRUE(registered_.emplace(c.commitment_id(), day).second);
        break;
      }
      case v1::Event::kCommitmentEvaluated: {
        const v1::CommitmentEvaluated& c = e.commitment_evaluated();
        ASSERT_TRUE(registered_.contains(c.commitment_id()));
        EXPECT_GT(day, registered_[c.commitment_id()]);
        ASSERT_TRUE(evaluated_.insert(c.commitment_id()).second);
        fulfilled_ += c.outcome() == v1::EVALUATION_OUTCOME_FULFILLED;
        break;
      }
      case v1::Event::kAwardGiven: {
        const v1::AwardGiven& a = e.award_given();
        ASSERT_TRUE(awards_.insert(a.award_id()).second);
        for (const v1::AwardRecipient& r : a.recipients()) {
          if (r.type() == v1::RECIPIENT_TYPE_PARTY_UNIT) {
            ASSERT_TRUE(units_.contains(r.unit_id()));
          } else {
            ASSERT_EQ(r.type(), v1::RECIPIENT_TYPE_MEMBER);
            EXPECT_EQ(CellOf(r.member_id()), r.counted_under_unit_id());
          }
          if (a.kind() == v1::AWARD_KIND_BANG_KHEN) {
            if (r.type() == v1::RECIPIENT_TYPE_MEMBER) {
              ++bang_khen_members_;
            } else {
              ++bang_khen_units_;
            }
          }
        }
        if (a.kind() == v1::AWARD_KIND_BANG_KHEN) {
          EXPECT_EQ(a.issuer().organ(), "Ban Thường vụ Đảng ủy Khối");
          EXPECT_EQ(a.issuer().unit_id(), "dbk");
        } else {
          ++giay_khen_;
        }
        break;
      }
      default:
        FAIL() << "unexpected payload " << e.payload_case();
    }
  }

  void CheckTotals(const GenStats& stats) {
    EXPECT_EQ(stats.events, events_);
    // One bloc, 61 đảng bộ under it (34 upper, 27 base), cells at depths 2
    // (base cells of an upper, cells of a base) to 4 (under a sub committee
    // of a base under an upper).
    int children = 0, upper = 0, base = 0;
    for (const auto& [id, u] : units_) {
      if (IsCell(u.kind)) EXPECT_GE(u.members, 3) << id;
      if (u.parent != "dbk") continue;
      ++children;
      upper += u.kind == v1::UNIT_KIND_UPPER_BASE;
      base += u.kind == v1::UNIT_KIND_BASE_PARTY_COMMITTEE;
    }
    EXPECT_EQ(children, 61);
    EXPECT_EQ(upper, 34);
    EXPECT_EQ(base, 27);
    EXPECT_GT(cells_at_depth_[2], 0);
    EXPECT_GT(cells_at_depth_[3], 0);
    EXPECT_GT(cells_at_depth_[4], 0);
    EXPECT_GT(stats.cells, 4800);
    EXPECT_LT(stats.cells, 5700);
    EXPECT_GT(stats.members, 60000);
    EXPECT_LT(stats.members, 80000);
    EXPECT_EQ(stats.members,
              static_cast<int64_t>(member_cell_.size() + left_.size()));
    // ~95% of cell-months have a regular session, ~92% of cell-quarters a
    // thematic one; ~90% of members register, ~85% fulfil; ~90% of the
    // đảng bộ issue their plan on time, a few late, a few never.
    const double cells = static_cast<double>(stats.cells);
    EXPECT_NEAR(regular_ / (12 * cells), 0.95, 0.02);
    EXPECT_NEAR(thematic_ / (4 * cells), 0.92, 0.02);
    EXPECT_NEAR(static_cast<double>(member_registrations_) / initial_members_,
                0.9, 0.02);
    EXPECT_NEAR(static_cast<double>(fulfilled_) / evaluated_.size(), 0.85,
                0.03);
    EXPECT_GE(implementing_on_time_, 48);
    EXPECT_LE(implementing_on_time_ + implementing_late_, 61);
    EXPECT_GT(bang_khen_units_, 20);
    EXPECT_GT(bang_khen_members_, 20);
    EXPECT_GT(giay_khen_, 20);
  }

 private:
  struct UnitInfo {
    std::string parent;
    v1::UnitKind kind = v1::UNIT_KIND_UNSPECIFIED;
    int depth = 0;
    int members = 0;
  };

  static int64_t DayOf(const v1::Date& d) {
    return absl::CivilDay(d.year(), d.month(), d.day()) -
           absl::CivilDay(1970, 1, 1);
  }

  std::string CellOf(const std::string& member) {
    EXPECT_FALSE(left_.contains(member)) << member << " appears after leaving";
    auto it = member_cell_.find(member);
    EXPECT_NE(it, member_cell_.end()) << member << " never joined";
    return it == member_cell_.end() ? "" : it->second;
  }

  services::ValidationLimits limits_;
  int64_t events_ = 0;
  int64_t prev_ = 0;
  absl::flat_hash_map<std::string, UnitInfo> units_;
  std::map<int, int> cells_at_depth_;
  absl::flat_hash_map<std::string, std::string> member_cell_;
  absl::flat_hash_set<std::string> left_;
  int64_t initial_members_ = 0;
  absl::flat_hash_set<std::string> sessions_, documents_, evaluated_, awards_;
  absl::flat_hash_map<std::string, int64_t> registered_;  // id -> day
  absl::flat_hash_map<std::string, int64_t> plan_day_, plan_due_;
  int64_t regular_ = 0, thematic_ = 0, member_registrations_ = 0;
  int64_t fulfilled_ = 0, implementing_on_time_ = 0, implementing_late_ = 0;
  int64_t bang_khen_units_ = 0, bang_khen_members_ = 0, giay_khen_ = 0;
};

TEST(GeneratorTest, BlocScaleIsConsistentCausalAndRealistic) {
  BlocFollower follower;
  GenStats stats;
  absl::Status s = Generate(
      Options("bloc"),
      [&](const v1::Event& e) {
        follower.Follow(e);
        return !::testing::Test::HasFatalFailure();
      },
      &stats);
  ASSERT_TRUE(s.ok()) << s;
  follower.CheckTotals(stats);
}

// The national scale is too big for a unit test; its first events (the whole
// structure and the start of the members) are checked here.
TEST(GeneratorTest, NationalScaleStartsValid) {
  StreamChecker checker;
  int64_t n = 0, units = 0;
  absl::Status failure;
  GenStats stats;
  absl::Status s = Generate(
      Options("national"),
      [&](const v1::Event& e) {
        failure = checker.Check(e);
        units += e.has_unit_created();
        return failure.ok() && ++n < 400000;
      },
      &stats);
  EXPECT_TRUE(failure.ok()) << "event " << n << ": " << failure;
  EXPECT_EQ(s.code(), absl::StatusCode::kCancelled);
  EXPECT_GT(units, 200000);
  EXPECT_LT(units, 300000);
}

}  // namespace
}  // namespace nenep::gen
