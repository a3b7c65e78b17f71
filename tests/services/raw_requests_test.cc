// nenep.internal.Raw* must stay wire-compatible with the v1 requests they
// stand for: same numbers, compatible wire types.

#include "gtest/gtest.h"
#include "nenep/internal/raw_requests.pb.h"
#include "nenep/v1/log.pb.h"
#include "tests/testing/events.h"

namespace nenep {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;

// Every field of `raw` has the same number, name and label in `v1`, and the
// same type except that a message may be carried as bytes.
void ExpectMirrors(const Descriptor* raw, const Descriptor* v1) {
  ASSERT_EQ(raw->field_count(), v1->field_count()) << raw->full_name();
  for (int i = 0; i < raw->field_count(); ++i) {
    const FieldDescriptor* r = raw->field(i);
    const FieldDescriptor* v = v1->FindFieldByNumber(r->number());
    ASSERT_NE(v, nullptr) << r->full_name();
    EXPECT_EQ(r->name(), v->name());
    EXPECT_EQ(r->is_repeated(), v->is_repeated()) << r->full_name();
    if (r->type() == FieldDescriptor::TYPE_BYTES &&
        v->type() == FieldDescriptor::TYPE_MESSAGE) {
      EXPECT_EQ(v->message_type(), v1::Event::descriptor());
    } else if (r->type() == FieldDescriptor::TYPE_MESSAGE &&
               v->type() == FieldDescriptor::TYPE_MESSAGE &&
               r->message_type() != v->message_type()) {
      ExpectMirrors(r->message_type(), v->message_type());
    } else {
      EXPECT_EQ(r->type(), v->type()) << r->full_name();
    }
  }
}

TEST(RawRequestsTest, MirrorTheV1Requests) {
  ExpectMirrors(internal::RawAppendRequest::descriptor(),
                v1::AppendRequest::descriptor());
  ExpectMirrors(internal::RawBatchAppendRequest::descriptor(),
                v1::BatchAppendRequest::descriptor());
  ExpectMirrors(internal::RawAppendSessionRequest::descriptor(),
                v1::AppendSessionRequest::descriptor());
}

TEST(RawRequestsTest, EventsArriveAsTheirOwnEncoding) {
  v1::BatchAppendRequest request;
  request.set_request_id("r-1");
  *request.add_entries() = testing::Entry(
      testing::RegularSession("s1", "cb1", testing::D(2020, 7, 6)), "x");
  request.mutable_entries(0)->mutable_expected_revision()->set_exact(3);
  internal::RawBatchAppendRequest raw;
  ASSERT_TRUE(raw.ParseFromString(request.SerializeAsString()));
  ASSERT_EQ(raw.entries_size(), 1);
  EXPECT_EQ(raw.request_id(), "r-1");
  EXPECT_EQ(raw.entries(0).stream(), "x");
  EXPECT_EQ(raw.entries(0).expected_revision().exact(), 3u);
  ASSERT_TRUE(raw.entries(0).has_event());
  EXPECT_EQ(raw.entries(0).event(),
            request.entries(0).event().SerializeAsString());
}

}  // namespace
}  // namespace nenep
