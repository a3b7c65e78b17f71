// Skimmer (storage/projections/skim.h): what it drops, what it keeps, and
// that projections built from skimmed events equal those built from whole
// ones.

#include "storage/projections/skim.h"

#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "nenep/v1/events.pb.h"
#include "nenep/v1/log.pb.h"
#include "storage/projections/projection.h"
#include "tools/gen/generator.h"

namespace nenep::projections {
namespace {

using google::protobuf::util::MessageDifferencer;

v1::Event Skimmed(const v1::Event& e) {
  Skimmer skimmer;
  std::string out;
  EXPECT_TRUE(skimmer.Skim(e.SerializeAsString(), &out));
  v1::Event parsed;
  EXPECT_TRUE(parsed.ParseFromString(out));
  return parsed;
}

v1::Event Commitment() {
  v1::Event e;
  e.mutable_business_date()->set_year(2024);
  e.mutable_business_date()->set_month(1);
  e.mutable_business_date()->set_day(5);
  v1::CommitmentRegistered* c = e.mutable_commitment_registered();
  c->set_commitment_id("cm.1");
  c->set_member_id("dv1");
  c->set_cell_id("cb1");
  c->mutable_period()->set_year(2024);
  for (int i = 0; i < 3; ++i) {
    v1::CommitmentItem* item = c->add_items();
    item->set_text(absl::StrCat("Đi làm đúng giờ, không về sớm ", i));
    item->set_category(v1::VIRTUE_CATEGORY_CAN);
    if (i == 1) item->set_measure("Bốn hoạt động trong năm");
  }
  return e;
}

TEST(SkimTest, EveryUnreadFieldIsAStringOfTheSchema) {
  ASSERT_FALSE(UnreadFields().empty());
  for (absl::string_view name : UnreadFields()) {
    const google::protobuf::FieldDescriptor* f =
        google::protobuf::DescriptorPool::generated_pool()->FindFieldByName(
            std::string(name));
    ASSERT_NE(f, nullptr) << name << " is not a field of the schema";
    EXPECT_EQ(f->type(), google::protobuf::FieldDescriptor::TYPE_STRING)
        << name;
  }
}

TEST(SkimTest, DropsTheUnreadTextAndKeepsTheRest) {
  v1::Event e = Commitment();
  v1::Event want = e;
  for (v1::CommitmentItem& item :
       *want.mutable_commitment_registered()->mutable_items()) {
    item.clear_text();
    item.clear_measure();
  }
  EXPECT_TRUE(MessageDifferencer::Equals(Skimmed(e), want))
      << Skimmed(e).DebugString();

  v1::Event s;
  s.mutable_business_date()->set_year(2024);
  v1::SessionHeld* h = s.mutable_session_held();
  h->set_session_id("s1");
  h->set_unit_id("cb1");
  h->set_kind(v1::SESSION_KIND_THEMATIC);
  h->set_topic("Học tập và làm theo tư tưởng Hồ Chí Minh");
  h->set_location("Phòng họp tầng 3");
  h->add_tags("HCM");
  h->add_hcm_items()->set_title("Tác phẩm Sửa đổi lối làm việc");
  h->mutable_attendance()->set_convened(13);
  h->mutable_attendance()->set_present(12);
  v1::Event want_s = s;
  want_s.mutable_session_held()->clear_topic();
  want_s.mutable_session_held()->clear_location();
  want_s.mutable_session_held()->mutable_hcm_items(0)->clear_title();
  const v1::Event got = Skimmed(s);
  EXPECT_TRUE(MessageDifferencer::Equals(got, want_s)) << got.DebugString();
  // The item itself stays: the projections count sessions with one.
  EXPECT_EQ(got.session_held().hcm_items_size(), 1);
}

TEST(SkimTest, CopiesCorrectionsAndUnknownFieldsWhole) {
  v1::Event c;
  c.mutable_business_date()->set_year(2024);
  c.mutable_event_corrected()->set_target_position(7);
  c.mutable_event_corrected()->set_reason("sai nội dung");
  *c.mutable_event_corrected()->mutable_replacement() = Commitment();
  std::string bytes = c.SerializeAsString();
  // An unknown field 999 (varint 5) and one of length 3, at the end.
  bytes += std::string("\xb8\x3e\x05", 3);
  bytes += std::string("\xc2\x3e\x03xyz", 6);
  Skimmer skimmer;
  std::string out = "prefix";
  ASSERT_TRUE(skimmer.Skim(bytes, &out));
  EXPECT_EQ(out, "prefix" + bytes);
}

TEST(SkimTest, RefusesBytesThatAreNotWireFormat) {
  const std::string whole = Commitment().SerializeAsString();
  Skimmer skimmer;
  for (size_t cut = 1; cut < whole.size(); ++cut) {
    std::string out = "kept";
    const std::string truncated = whole.substr(0, cut);
    if (!skimmer.Skim(truncated, &out)) {
      EXPECT_EQ(out, "kept") << "cut at " << cut;
    }
  }
  std::string out = "kept";
  EXPECT_FALSE(skimmer.Skim(whole.substr(0, whole.size() - 1), &out));
  EXPECT_EQ(out, "kept");
  EXPECT_FALSE(skimmer.Skim(std::string("\x0b\x0c", 2), &out));  // a group
  EXPECT_EQ(out, "kept");
}

// Applies `events` whole and skimmed to two projections; their checksums
// must be equal, and the skimmed bytes fewer.
void ExpectSameProjection(const std::vector<v1::Event>& events) {
  auto fetch = [&events](uint64_t position) -> absl::StatusOr<v1::Event> {
    if (position == 0 || position > events.size()) {
      return absl::NotFoundError("no such position");
    }
    return events[position - 1];
  };
  Projection whole(nullptr, fetch);
  Projection skimmed(nullptr, fetch);
  std::vector<const v1::Event*> whole_events;
  std::vector<v1::Event> parsed(events.size());
  std::vector<const v1::Event*> skimmed_events;
  Skimmer skimmer;
  size_t bytes = 0, skimmed_bytes = 0;
  for (size_t i = 0; i < events.size(); ++i) {
    const std::string encoded = events[i].SerializeAsString();
    std::string out;
    ASSERT_TRUE(skimmer.Skim(encoded, &out));
    ASSERT_TRUE(parsed[i].ParseFromString(out));
    bytes += encoded.size();
    skimmed_bytes += out.size();
    whole_events.push_back(&events[i]);
    skimmed_events.push_back(&parsed[i]);
  }
  int refused_whole = 0, refused_skimmed = 0;
  whole.ApplyLogged(whole_events, 1,
                    [&](uint64_t position, const absl::Status& s) {
                      ++refused_whole;
                      ADD_FAILURE() << "position " << position << ": " << s;
                    });
  skimmed.ApplyLogged(skimmed_events, 1, [&](uint64_t, const absl::Status&) {
    ++refused_skimmed;
  });
  EXPECT_EQ(refused_whole, refused_skimmed);
  EXPECT_EQ(whole.applied(), events.size());
  EXPECT_EQ(whole.Checksum(), skimmed.Checksum());
  EXPECT_LT(skimmed_bytes, bytes);
}

// A correction of the first session (the projections keep the
// replacement, text and all, as it is).
void AddCorrection(std::vector<v1::Event>* events) {
  for (size_t i = 0; i < events->size(); ++i) {
    if (!(*events)[i].has_session_held()) continue;
    v1::Event c;
    *c.mutable_business_date() = (*events)[i].business_date();
    c.mutable_event_corrected()->set_target_position(i + 1);
    c.mutable_event_corrected()->set_reason("ghi sai địa điểm");
    v1::Event* r = c.mutable_event_corrected()->mutable_replacement();
    *r = (*events)[i];
    r->mutable_session_held()->set_location("Hội trường Đảng ủy");
    r->mutable_session_held()->set_topic("Chuyên đề năm");
    events->push_back(std::move(c));
    return;
  }
  FAIL() << "no session to correct";
}

TEST(SkimTest, TheDemoDataGivesTheSameProjection) {
  std::ifstream in(std::string(NENEP_SOURCE_DIR) + "/tools/demo/demo.jsonl");
  ASSERT_TRUE(in.good());
  std::vector<v1::Event> events;
  std::string line;
  while (std::getline(in, line)) {
    v1::BatchEntry entry;
    ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(line, &entry).ok())
        << line;
    events.push_back(entry.event());
  }
  ASSERT_GT(events.size(), 300u);
  AddCorrection(&events);
  ExpectSameProjection(events);
}

TEST(SkimTest, GeneratedDataGivesTheSameProjection) {
  gen::GenOptions options;
  options.scale = "tiny";
  std::vector<v1::Event> events;
  gen::GenStats stats;
  ASSERT_TRUE(gen::Generate(
                  options,
                  [&events](const v1::Event& e) {
                    events.push_back(e);
                    return true;
                  },
                  &stats)
                  .ok());
  ASSERT_GT(events.size(), 100u);
  AddCorrection(&events);
  ExpectSameProjection(events);
}

}  // namespace
}  // namespace nenep::projections
