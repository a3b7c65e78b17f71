#include "services/common/validation.h"

#include <memory>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/common/calendar.h"
#include "services/common/text.h"
#include "tests/testing/events.h"
#include "tests/testing/status_matchers.h"
#include "unicode/normalizer2.h"
#include "unicode/unistr.h"

namespace nenep::services {
namespace {

using ::nenep::testing::D;
using ::nenep::testing::RegularSession;
using ::nenep::testing::StatusIs;
using ::nenep::testing::UnitCreated;
using ::testing::HasSubstr;

class ValidationTest : public ::testing::Test {
 protected:
  absl::Status Check(const v1::Event& e) {
    return ValidateEvent(e, "events[0]", limits_, today_, &normalized_);
  }
  // Expects kInvalidArgument with a message starting at `field`.
  void ExpectInvalid(const v1::Event& e, const std::string& field,
                     const std::string& what = "") {
    absl::Status s = Check(e);
    EXPECT_THAT(s, StatusIs(absl::StatusCode::kInvalidArgument,
                            ::testing::StartsWith(field + ":")))
        << s;
    if (!what.empty()) EXPECT_THAT(std::string(s.message()), HasSubstr(what));
  }

  ValidationLimits limits_;
  absl::CivilDay today_{2026, 11, 24};
  std::unique_ptr<v1::Event> normalized_;
};

TEST_F(ValidationTest, AcceptsWellFormedEvents) {
  EXPECT_TRUE(Check(UnitCreated("dbk", v1::UNIT_KIND_DIRECT_UNDER_CENTRAL,
                                "Đảng bộ Khối các cơ quan Trung ương", ""))
                  .ok());
  EXPECT_TRUE(Check(RegularSession("s1", "cb1", D(2020, 7, 6))).ok());
  EXPECT_EQ(normalized_, nullptr);
}

TEST_F(ValidationTest, MissingBusinessDateOrPayload) {
  v1::Event e = RegularSession("s1", "cb1", D(2020, 7, 6));
  e.clear_business_date();
  ExpectInvalid(e, "events[0].business_date", "required");
  v1::Event empty;
  *empty.mutable_business_date() = D(2020, 1, 1);
  ExpectInvalid(empty, "events[0]", "no event payload");
}

TEST_F(ValidationTest, ImpossibleDates) {
  v1::Event e = RegularSession("s1", "cb1", D(2023, 2, 28));
  *e.mutable_business_date() = D(2023, 2, 29);
  ExpectInvalid(e, "events[0].business_date",
                "2023-02-29 is not a calendar date");
  *e.mutable_business_date() = D(2023, 13, 1);
  ExpectInvalid(e, "events[0].business_date");
  *e.mutable_business_date() = D(1800, 1, 1);
  ExpectInvalid(e, "events[0].business_date", "outside 1900..2199");
  *e.mutable_business_date() = D(2024, 2, 29);  // a leap day is fine
  e.mutable_session_held()->mutable_for_period()->set_year(2024);
  e.mutable_session_held()->mutable_for_period()->set_month(2);
  EXPECT_TRUE(Check(e).ok()) << Check(e);
}

TEST_F(ValidationTest, DatesNestedAnywhereAreChecked) {
  v1::Event e;
  *e.mutable_business_date() = D(2018, 4, 16);
  v1::PlanIssued* p = e.mutable_plan_issued();
  p->set_plan_id("kh35");
  p->set_issuer_unit_id("du-tc");
  p->set_kind(v1::PLAN_KIND_ANNUAL);
  p->mutable_document()->set_number("35/KH-ĐU");
  *p->mutable_document()->mutable_date() = D(2018, 4, 31);
  ExpectInvalid(e, "events[0].plan_issued.document.date",
                "2018-04-31 is not a calendar date");
}

TEST_F(ValidationTest, FutureBusinessDateIsRefused) {
  v1::Event e = UnitCreated("u", v1::UNIT_KIND_DIRECT_UNDER_CENTRAL, "U", "");
  *e.mutable_business_date() = D(2026, 11, 26);
  ExpectInvalid(e, "events[0].business_date", "in the future");
  *e.mutable_business_date() = D(2026, 11, 25);  // one day of skew allowed
  EXPECT_TRUE(Check(e).ok());
}

TEST_F(ValidationTest, UnknownEnumValuesAreRefused) {
  v1::Event e = UnitCreated("u", v1::UNIT_KIND_BASE_CELL, "Chi bộ", "p");
  e.mutable_unit_created()->set_kind(static_cast<v1::UnitKind>(42));
  ExpectInvalid(e, "events[0].unit_created.kind", "unknown UnitKind value 42");
  v1::Event s = RegularSession("s1", "cb1", D(2020, 7, 6));
  s.mutable_session_held()->add_hcm_items()->set_type(
      static_cast<v1::HcmItemType>(9));
  s.mutable_session_held()->mutable_hcm_items(0)->set_title("Chuyện");
  ExpectInvalid(s, "events[0].session_held.hcm_items[0].type", "unknown");
}

TEST_F(ValidationTest, UnknownFieldsAreRefused) {
  v1::Event e = RegularSession("s1", "cb1", D(2020, 7, 6));
  e.mutable_session_held()
      ->GetReflection()
      ->MutableUnknownFields(e.mutable_session_held())
      ->AddVarint(999, 1);
  ExpectInvalid(e, "events[0].session_held", "unknown field number 999");
}

TEST_F(ValidationTest, RequiredFieldsAreNamed) {
  v1::Event e = UnitCreated("", v1::UNIT_KIND_BASE_CELL, "Chi bộ", "p");
  ExpectInvalid(e, "events[0].unit_created.unit_id", "required");
  e = UnitCreated("u", v1::UNIT_KIND_UNSPECIFIED, "Chi bộ", "p");
  ExpectInvalid(e, "events[0].unit_created.kind", "required");
  e = UnitCreated("u", v1::UNIT_KIND_BASE_CELL, "   ", "p");
  ExpectInvalid(e, "events[0].unit_created.name", "required");
  e = UnitCreated("u", v1::UNIT_KIND_BASE_CELL, "Chi bộ", "");
  ExpectInvalid(e, "events[0].unit_created.parent_id", "required for a unit");
  e = UnitCreated("u u", v1::UNIT_KIND_BASE_CELL, "Chi bộ", "p");
  ExpectInvalid(e, "events[0].unit_created.unit_id", "outside [A-Za-z0-9._:-]");
}

TEST_F(ValidationTest, AttendanceMustAddUp) {
  v1::Event e = RegularSession("s1", "cb1", D(2020, 7, 6), 22, 20);
  e.mutable_session_held()->mutable_attendance()->set_absent_unexcused(1);
  ExpectInvalid(e, "events[0].session_held.attendance",
                "must equal convened (22)");
  e = RegularSession("s1", "cb1", D(2020, 7, 6), 0, 0);
  ExpectInvalid(e, "events[0].session_held.attendance.convened");
}

TEST_F(ValidationTest, SessionPeriodMustFitKindAndHeldDate) {
  v1::Event e = RegularSession("s1", "cb1", D(2020, 7, 6));
  e.mutable_session_held()->mutable_for_period()->set_quarter(3);
  ExpectInvalid(e, "events[0].session_held.for_period", "counts for a month");
  e = RegularSession("s1", "cb1", D(2020, 7, 6));
  e.mutable_session_held()->mutable_for_period()->set_month(3);
  ExpectInvalid(e, "events[0].session_held.for_period", "held date");
  e = RegularSession("s1", "cb1", D(2020, 7, 6));
  e.mutable_session_held()->mutable_for_period()->set_month(13);
  ExpectInvalid(e, "events[0].session_held.for_period.month");
  // Held a few days after the month it counts for: accepted.
  e = RegularSession("s1", "cb1", D(2020, 8, 3));
  e.mutable_session_held()->mutable_for_period()->set_month(7);
  EXPECT_TRUE(Check(e).ok());
  // A thematic session needs a topic.
  e = RegularSession("s1", "cb1", D(2020, 7, 27));
  e.mutable_session_held()->set_kind(v1::SESSION_KIND_THEMATIC);
  e.mutable_session_held()->mutable_for_period()->set_quarter(3);
  e.mutable_session_held()->clear_topic();
  ExpectInvalid(e, "events[0].session_held.topic", "required");
}

TEST_F(ValidationTest, PlanRequirementsAreChecked) {
  v1::Event e;
  *e.mutable_business_date() = D(2018, 4, 16);
  v1::PlanIssued* p = e.mutable_plan_issued();
  p->set_plan_id("kh35");
  p->set_issuer_unit_id("du-tc");
  p->set_kind(v1::PLAN_KIND_ANNUAL);
  p->mutable_document()->set_number("35/KH-ĐU");
  *p->mutable_document()->mutable_date() = D(2018, 4, 16);
  v1::PlanRequirement* r = p->add_requirements();
  r->set_action(v1::REQUIREMENT_ACTION_ISSUE_PLAN);
  r->set_applies_to(v1::APPLIES_TO_DIRECT_CHILDREN);
  *r->mutable_due_date() = D(2018, 5, 4);
  EXPECT_TRUE(Check(e).ok()) << Check(e);
  *r->mutable_due_date() = D(2018, 4, 1);
  ExpectInvalid(e, "events[0].plan_issued.requirements[0].due_date",
                "before the plan's issue date");
  *r->mutable_due_date() = D(2018, 5, 4);
  r->add_unit_ids("cb1");
  ExpectInvalid(e, "events[0].plan_issued.requirements[0].unit_ids",
                "only allowed");
  *p->mutable_period()->mutable_start() = D(2020, 1, 1);
  *p->mutable_period()->mutable_end() = D(2016, 1, 1);
  r->clear_unit_ids();
  ExpectInvalid(e, "events[0].plan_issued.period", "before start");
}

TEST_F(ValidationTest, AwardsNeedExactlyOneFormOfRecipients) {
  v1::Event e;
  *e.mutable_business_date() = D(2023, 5, 18);
  v1::AwardGiven* a = e.mutable_award_given();
  a->set_award_id("bk-2023");
  a->set_kind(v1::AWARD_KIND_CO_THI_DUA);
  a->mutable_issuer()->set_system(v1::ISSUER_SYSTEM_STATE);
  a->mutable_issuer()->set_level(v1::ISSUER_LEVEL_MINISTRY_PROVINCE);
  a->mutable_issuer()->set_organ("UBND tỉnh");
  ExpectInvalid(e, "events[0].award_given", "either recipients or aggregate");
  v1::AwardRecipient* r = a->add_recipients();
  r->set_type(v1::RECIPIENT_TYPE_PERSON);
  r->set_name("Nguyễn Văn An");
  ExpectInvalid(e, "events[0].award_given.recipients[0].type",
                "collectives only");
  r->set_type(v1::RECIPIENT_TYPE_STATE_AGENCY);
  r->set_name("Cục Thi hành án dân sự tỉnh");
  EXPECT_TRUE(Check(e).ok()) << Check(e);
  a->mutable_aggregate()->set_collectives(3);
  ExpectInvalid(e, "events[0].award_given", "not both");
}

TEST_F(ValidationTest, OversizeEventsAndTextAreRefused) {
  v1::Event e =
      UnitCreated("u", v1::UNIT_KIND_BASE_CELL, std::string(5000, 'a'), "p");
  ExpectInvalid(e, "events[0].unit_created.name", "at most 4096");
  limits_.max_event_bytes = 100;
  e = UnitCreated("u", v1::UNIT_KIND_BASE_CELL, std::string(200, 'a'), "p");
  EXPECT_THAT(Check(e), StatusIs(absl::StatusCode::kResourceExhausted,
                                 HasSubstr("at most 100")));
}

TEST_F(ValidationTest, ControlCharactersAreRefused) {
  v1::Event e = UnitCreated("u", v1::UNIT_KIND_BASE_CELL, "Chi\x01 bộ", "p");
  ExpectInvalid(e, "events[0].unit_created.name", "control character");
  // At every offset of a text checked eight bytes at a time; tab, newline
  // and carriage return are text.
  const std::string base = "Chi bộ Vụ Pháp chế, Bộ Tư pháp";
  for (size_t at = 0; at <= base.size(); ++at) {
    for (const char* bad : {"\x01", "\x1f", "\x7f", "\x00"}) {
      std::string name = base;
      name.insert(at, bad, 1);
      e = UnitCreated("u", v1::UNIT_KIND_BASE_CELL, name, "p");
      ExpectInvalid(e, "events[0].unit_created.name", "control character");
    }
    for (const char* fine : {"\t", "\n", "\r", " ", "~"}) {
      std::string name = base;
      name.insert(at, fine, 1);
      e = UnitCreated("u", v1::UNIT_KIND_BASE_CELL, name, "p");
      EXPECT_TRUE(Check(e).ok()) << at << " " << Check(e);
    }
  }
}

// IsNfc answers Vietnamese and other Latin text without ICU: it must agree
// with ICU on every character alone, before a combining mark and after one.
TEST(IsNfcTest, AgreesWithIcuAroundEveryCharacterItDecidesAlone) {
  UErrorCode status = U_ZERO_ERROR;
  const icu::Normalizer2* nfc = icu::Normalizer2::getNFCInstance(status);
  ASSERT_TRUE(U_SUCCESS(status));
  auto utf8 = [](UChar32 c) {
    std::string out;
    icu::UnicodeString(c).toUTF8String(out);
    return out;
  };
  auto icu_says = [&](const std::string& text) {
    UErrorCode s = U_ZERO_ERROR;
    return nfc->isNormalizedUTF8(
        icu::StringPiece(text.data(), static_cast<int32_t>(text.size())), s);
  };
  int checked = 0;
  for (UChar32 c = 0x20; c < 0x2000; ++c) {
    for (const std::string& text :
         {utf8(c), "a" + utf8(c), utf8(c) + "\xCC\x81" /* U+0301 */,
          utf8(c) + "\xCC\xA3\xCC\x82" /* U+0323 U+0302 */}) {
      ASSERT_EQ(IsNfc(text), icu_says(text)) << std::hex << c;
      ++checked;
    }
  }
  for (UChar32 c = 0x1E00; c < 0x1F00; ++c) {
    for (const std::string& text : {utf8(c), utf8(c) + "\xCC\x81"}) {
      ASSERT_EQ(IsNfc(text), icu_says(text)) << std::hex << c;
    }
  }
  EXPECT_GT(checked, 30000);
  EXPECT_TRUE(
      IsNfc("Học tập và làm theo tư tưởng, đạo đức, phong cách "
            "Hồ Chí Minh"));
  EXPECT_FALSE(IsNfc("Ho\xCC\x82\xCC\x80"));  // Hồ with combining marks
  EXPECT_EQ(IsNfc("\xE1\xBB"), icu_says("\xE1\xBB"));  // cut short
}

TEST_F(ValidationTest, TextIsNormalizedToNfc) {
  // "Bộ Tư pháp" with combining marks (NFD).
  const std::string nfd = "Bo\xCC\xA3\xCC\x82 Tu\xCC\x9B pha\xCC\x81p";
  const std::string nfc = "Bộ Tư pháp";
  ASSERT_NE(nfd, nfc);
  v1::Event e = UnitCreated("u", v1::UNIT_KIND_DIRECT_UNDER_CENTRAL, nfd, "");
  e.mutable_unit_created()->add_predecessor_unit_ids("p1");
  ASSERT_TRUE(Check(e).ok()) << Check(e);
  ASSERT_NE(normalized_, nullptr);
  EXPECT_EQ(normalized_->unit_created().name(), nfc);
  EXPECT_TRUE(IsNfc(nfc));
  EXPECT_FALSE(IsNfc(nfd));
}

TEST_F(ValidationTest, CorrectionsNeedAReplacementOfAFact) {
  v1::Event e;
  *e.mutable_business_date() = D(2024, 1, 2);
  e.mutable_event_corrected()->set_target_position(5);
  e.mutable_event_corrected()->set_reason("sai số liệu");
  ExpectInvalid(e, "events[0].event_corrected.replacement", "required");
  *e.mutable_event_corrected()->mutable_replacement() =
      RegularSession("s1", "cb1", D(2020, 7, 6), 10, 11);
  ExpectInvalid(e,
                "events[0].event_corrected.replacement.session_held."
                "attendance");
  *e.mutable_event_corrected()->mutable_replacement() =
      RegularSession("s1", "cb1", D(2020, 7, 6));
  EXPECT_TRUE(Check(e).ok()) << Check(e);
  e.mutable_event_corrected()->set_target_position(0);
  ExpectInvalid(e, "events[0].event_corrected.target_position");
}

TEST(StreamsTest, EachEventHasItsNaturalStream) {
  EXPECT_EQ(NaturalStream(UnitCreated("dbk", v1::UNIT_KIND_CENTRAL, "T", "")),
            "unit-dbk");
  EXPECT_EQ(NaturalStream(RegularSession("s", "cb1", D(2020, 1, 6))),
            "sessions-cb1");
  EXPECT_EQ(EventTypeName(RegularSession("s", "cb1", D(2020, 1, 6))),
            "SessionHeld");
  v1::Event r;
  r.mutable_event_retracted()->set_target_position(1);
  EXPECT_EQ(NaturalStream(r), "");
  EXPECT_TRUE(ValidateStreamName("unit-dbk", "stream").ok());
  EXPECT_FALSE(ValidateStreamName("unit dbk", "stream").ok());
  EXPECT_FALSE(ValidateRequestId(std::string(200, 'x')).ok());
}

TEST(TextTest, FoldsVietnameseForSearch) {
  EXPECT_EQ(FoldForSearch("Bộ Tư pháp"), "bo tu phap");
  EXPECT_EQ(FoldForSearch("Đảng bộ Khối"), "dang bo khoi");
  EXPECT_EQ(FoldForSearch("Nguyễn Thị Đào"), "nguyen thi dao");
  // Decomposed input folds the same; non-Latin text goes through ICU's
  // transliterator.
  EXPECT_EQ(FoldForSearch("Bo\xCC\xA3 Tu\xCC\x9B pha\xCC\x81p"), "bo tu phap");
  EXPECT_EQ(FoldForSearch("CHI BỘ ĐẢNG"), "chi bo dang");
  EXPECT_EQ(FoldForSearch("Ωμέγα"), "omega");
}

TEST(CalendarTest, VietnamDatesAreLocal) {
  absl::StatusOr<absl::TimeZone> tz = VietnamTimeZone();
  ASSERT_TRUE(tz.ok()) << tz.status();
  // 23:30 UTC on 31 December is 06:30 on 1 January in Hà Nội.
  absl::Time t = absl::FromCivil(absl::CivilSecond(2024, 12, 31, 23, 30, 0),
                                 absl::UTCTimeZone());
  EXPECT_EQ(LocalDay(t, *tz), absl::CivilDay(2025, 1, 1));
  EXPECT_EQ(FormatDayVn(D(2023, 5, 18)), "18/05/2023");
}

}  // namespace
}  // namespace nenep::services
