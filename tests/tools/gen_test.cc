#include "tools/gen/generator.h"

#include <map>
#include <memory>
#include <set>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/common/text.h"
#include "services/common/validation.h"

namespace nenep::gen {
namespace {

std::vector<v1::Event> GenerateAll(const GenOptions& options, GenStats* stats) {
  std::vector<v1::Event> events;
  EXPECT_TRUE(
      Generate(
          options, [&](const v1::Event& e) { events.push_back(e); }, stats)
          .ok());
  return events;
}

std::string Bytes(const std::vector<v1::Event>& events) {
  std::string out;
  for (const v1::Event& e : events) out += e.SerializeAsString();
  return out;
}

TEST(GeneratorTest, SameSeedSameEventsOtherSeedOtherEvents) {
  GenOptions o;
  o.scale = "tiny";
  GenStats a, b, c;
  const std::string first = Bytes(GenerateAll(o, &a));
  EXPECT_EQ(first, Bytes(GenerateAll(o, &b)));
  o.seed = 2;
  EXPECT_NE(first, Bytes(GenerateAll(o, &c)));
  EXPECT_EQ(a.events, b.events);
}

TEST(GeneratorTest, RefusesUnknownScales) {
  GenOptions o;
  o.scale = "galactic";
  GenStats stats;
  EXPECT_EQ(Generate(
                o, [](const v1::Event&) {}, &stats)
                .code(),
            absl::StatusCode::kInvalidArgument);
}

// Every event passes the server's validation, in NFC; references are
// causal; attendance matches the cell's members on the day; commitments
// are registered before they are evaluated and by members of their cell.
TEST(GeneratorTest, BlocScaleIsValidConsistentAndCausal) {
  GenOptions o;
  o.scale = "bloc";
  GenStats stats;
  std::vector<v1::Event> events = GenerateAll(o, &stats);
  EXPECT_EQ(stats.events, static_cast<int64_t>(events.size()));
  EXPECT_GT(stats.cells, 4800);
  EXPECT_LT(stats.cells, 5800);
  EXPECT_GT(stats.members, 55000);

  services::ValidationLimits limits;
  const absl::CivilDay today(2026, 11, 24);
  absl::flat_hash_map<std::string, std::string> parent;  // unit -> parent
  absl::flat_hash_map<std::string, int> children_of_root;
  absl::flat_hash_map<std::string, std::string> member_cell;
  absl::flat_hash_map<std::string, int> cell_members;
  absl::flat_hash_map<std::string, std::string> commitment_member;
  absl::flat_hash_set<std::string> plans;
  std::map<std::string, int> by_kind;
  int64_t prev_day = 0;
  for (size_t i = 0; i < events.size(); ++i) {
    const v1::Event& e = events[i];
    std::unique_ptr<v1::Event> normalized;
    absl::Status s =
        services::ValidateEvent(e, "event", limits, today, &normalized);
    ASSERT_TRUE(s.ok()) << "event " << i << ": " << s;
    ASSERT_EQ(normalized, nullptr) << "event " << i << " is not NFC";
    const v1::Date& d = e.business_date();
    const int64_t day = d.year() * 400 + d.month() * 32 + d.day();
    switch (e.payload_case()) {
      case v1::Event::kUnitCreated: {
        const auto& u = e.unit_created();
        if (!u.parent_id().empty()) {
          ASSERT_TRUE(parent.contains(u.parent_id())) << u.unit_id();
        }
        ASSERT_TRUE(parent.emplace(u.unit_id(), u.parent_id()).second);
        ++by_kind[v1::UnitKind_Name(u.kind())];
        if (u.parent_id() == "dbk") ++children_of_root["dbk"];
        break;
      }
      case v1::Event::kMemberJoined:
        ASSERT_TRUE(parent.contains(e.member_joined().cell_id()));
        member_cell[e.member_joined().member_id()] =
            e.member_joined().cell_id();
        ++cell_members[e.member_joined().cell_id()];
        break;
      case v1::Event::kMemberTransferred: {
        const auto& t = e.member_transferred();
        ASSERT_EQ(member_cell[t.member_id()], t.from_cell_id());
        member_cell[t.member_id()] = t.to_cell_id();
        --cell_members[t.from_cell_id()];
        ++cell_members[t.to_cell_id()];
        ASSERT_GE(cell_members[t.from_cell_id()], 3);
        break;
      }
      case v1::Event::kMemberLeft:
        ASSERT_EQ(member_cell[e.member_left().member_id()],
                  e.member_left().cell_id());
        member_cell.erase(e.member_left().member_id());
        --cell_members[e.member_left().cell_id()];
        break;
      case v1::Event::kSessionHeld: {
        const auto& sh = e.session_held();
        ASSERT_TRUE(parent.contains(sh.unit_id()));
        EXPECT_EQ(sh.attendance().convened(), cell_members[sh.unit_id()])
            << sh.session_id();
        break;
      }
      case v1::Event::kPlanIssued:
        if (!e.plan_issued().implements_plan_id().empty()) {
          ASSERT_TRUE(plans.contains(e.plan_issued().implements_plan_id()));
        }
        plans.insert(e.plan_issued().plan_id());
        break;
      case v1::Event::kCommitmentRegistered: {
        const auto& c = e.commitment_registered();
        ASSERT_EQ(member_cell[c.member_id()], c.cell_id());
        commitment_member[c.commitment_id()] = c.member_id();
        break;
      }
      case v1::Event::kCommitmentEvaluated:
        ASSERT_TRUE(commitment_member.contains(
            e.commitment_evaluated().commitment_id()));
        break;
      case v1::Event::kAwardGiven:
        for (const auto& r : e.award_given().recipients()) {
          if (!r.unit_id().empty()) ASSERT_TRUE(parent.contains(r.unit_id()));
        }
        break;
      default:
        break;
    }
    // After the initial load, the year's activity goes month by month.
    if (e.business_date().year() == o.year) {
      EXPECT_GE(d.month(), prev_day / 1000) << "event " << i;
      prev_day = d.month() * 1000;
    }
    (void)day;
  }
  EXPECT_EQ(children_of_root["dbk"], 61);
  EXPECT_EQ(by_kind["UNIT_KIND_UPPER_BASE"], 34);
  EXPECT_GT(by_kind["UNIT_KIND_SUB_PARTY_COMMITTEE"], 0);  // depth 4 exists
  EXPECT_GT(by_kind["UNIT_KIND_BASE_CELL"], 0);            // depth 2 exists
  EXPECT_GT(stats.by_type["SessionHeld"], 60000);
  EXPECT_GT(stats.by_type["CommitmentEvaluated"], 40000);
  EXPECT_GT(stats.by_type["AwardGiven"], 0);
}

}  // namespace
}  // namespace nenep::gen
