// What the event fuzz targets (import_line, validation) check of an event
// the validators accepted.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "google/protobuf/message.h"
#include "google/protobuf/unknown_field_set.h"
#include "nenep/v1/events.pb.h"
#include "services/common/validation.h"
#include "tests/fuzz/fuzz_util.h"

namespace nenep::fuzz {

// "today" for the validators: fixed, so that an input always gives the same
// verdict. Far enough ahead that the demo data is not in the future.
inline absl::CivilDay FuzzToday() { return absl::CivilDay(2030, 1, 1); }

// True if `msg` or any message inside it holds unknown fields: data the
// parser did not recognize, which the API promises to refuse.
inline bool HasUnknownFields(const google::protobuf::Message& msg) {
  const google::protobuf::Reflection* refl = msg.GetReflection();
  if (!refl->GetUnknownFields(msg).empty()) return true;
  std::vector<const google::protobuf::FieldDescriptor*> fields;
  refl->ListFields(msg, &fields);
  for (const google::protobuf::FieldDescriptor* f : fields) {
    if (f->cpp_type() != google::protobuf::FieldDescriptor::CPPTYPE_MESSAGE) {
      continue;
    }
    if (f->is_repeated()) {
      for (int i = 0; i < refl->FieldSize(msg, f); ++i) {
        if (HasUnknownFields(refl->GetRepeatedMessage(msg, f, i))) return true;
      }
    } else if (HasUnknownFields(refl->GetMessage(msg, f))) {
      return true;
    }
  }
  return false;
}

// What must hold of an event ValidateEvent (or ValidateEncoded) accepted:
// what would be stored (`payload`, the NFC form) parses, carries no unknown
// field, validates again unchanged, and its natural stream (if any) is a
// valid stream name.
inline void CheckAccepted(absl::string_view payload, const std::string& path) {
  v1::Event stored;
  Check(stored.ParseFromArray(payload.data(), static_cast<int>(payload.size())),
        "an accepted event's payload does not parse as nenep.v1.Event",
        [&] { return absl::CHexEscape(payload); });
  Check(!HasUnknownFields(stored) || Skipped("stored-unknown"),
        "an accepted event's payload holds unknown fields (the parser "
        "dropped them into the unknown field set)",
        [&] {
          return absl::StrCat(absl::CHexEscape(payload),
                              "\n  parsed: ", stored.ShortDebugString());
        });
  std::unique_ptr<v1::Event> again;
  std::string payload_again;
  const absl::Status s = services::ValidateEncoded(
      stored, payload, path, services::ValidationLimits(), FuzzToday(),
      &payload_again, &again);
  Check(s.ok(), "an accepted event's payload does not validate again",
        [&] { return s.ToString(); });
  Check(again == nullptr, "an accepted event's payload is not in NFC");
  Check(payload_again == payload,
        "validating an accepted payload again changes it");
  const std::string natural = services::NaturalStream(stored);
  if (!natural.empty()) {
    const absl::Status n = services::ValidateStreamName(natural, "stream");
    Check(n.ok(), "an accepted event's natural stream is not a stream name",
          [&] { return n.ToString(); });
  }
}

}  // namespace nenep::fuzz
