// Field numbers and types of every message on the wire or on disk are frozen
// once landed: proto/api.lock records them, and this test fails on any
// renumbered, retyped or removed field or enum value.
//
// After adding fields or values (which is allowed), refresh the lock:
//   NENEP_UPDATE_API_LOCK=1 build/tests/api_lock_test

#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "google/protobuf/descriptor.h"
#include "gtest/gtest.h"
#include "nenep/storage/v1/records.pb.h"
#include "nenep/v1/admin.pb.h"
#include "nenep/v1/events.pb.h"
#include "nenep/v1/log.pb.h"
#include "nenep/v1/query.pb.h"
#include "nenep/v1/snapshots.pb.h"

namespace nenep {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::EnumDescriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::FileDescriptor;

std::string TypeOf(const FieldDescriptor* f) {
  std::string label = f->is_repeated() ? "repeated " : "";
  if (f->message_type() != nullptr) {
    return label + f->message_type()->full_name();
  }
  if (f->enum_type() != nullptr) return label + f->enum_type()->full_name();
  return label + f->type_name();
}

void AddEnum(const EnumDescriptor* e, std::set<std::string>* out) {
  for (int i = 0; i < e->value_count(); ++i) {
    out->insert(absl::StrCat(e->full_name(), ".", e->value(i)->name(), " = ",
                             e->value(i)->number()));
  }
}

void AddMessage(const Descriptor* m, std::set<std::string>* out) {
  for (int i = 0; i < m->field_count(); ++i) {
    const FieldDescriptor* f = m->field(i);
    std::string oneof =
        f->real_containing_oneof() != nullptr
            ? absl::StrCat(" (oneof ", f->real_containing_oneof()->name(), ")")
            : "";
    out->insert(absl::StrCat(m->full_name(), ".", f->name(), " = ", f->number(),
                             " : ", TypeOf(f), oneof));
  }
  for (int i = 0; i < m->nested_type_count(); ++i) {
    AddMessage(m->nested_type(i), out);
  }
  for (int i = 0; i < m->enum_type_count(); ++i) AddEnum(m->enum_type(i), out);
}

std::set<std::string> Current() {
  std::set<std::string> out;
  for (const FileDescriptor* file :
       {v1::Event::descriptor()->file(),
        v1::AppendRequest::descriptor()->file(),
        v1::ServerStatus::descriptor()->file(),
        // Snapshots are stored as these messages (storage/FORMAT.md).
        v1::SnapshotInfo::descriptor()->file(),
        v1::Rollup::descriptor()->file(),
        storage::v1::LogRecord::descriptor()->file()}) {
    for (int i = 0; i < file->message_type_count(); ++i) {
      AddMessage(file->message_type(i), &out);
    }
    for (int i = 0; i < file->enum_type_count(); ++i) {
      AddEnum(file->enum_type(i), &out);
    }
    for (int i = 0; i < file->service_count(); ++i) {
      const auto* s = file->service(i);
      for (int j = 0; j < s->method_count(); ++j) {
        out.insert(
            absl::StrCat("rpc ", s->full_name(), ".", s->method(j)->name(), "(",
                         s->method(j)->input_type()->full_name(), ") returns (",
                         s->method(j)->output_type()->full_name(), ")"));
      }
    }
  }
  return out;
}

TEST(ApiLockTest, NoFrozenFieldChanged) {
  const std::string path = absl::StrCat(NENEP_SOURCE_DIR, "/proto/api.lock");
  const std::set<std::string> current = Current();
  if (const char* update = std::getenv("NENEP_UPDATE_API_LOCK");
      update != nullptr && std::string(update) == "1") {
    std::ofstream out(path);
    out << "# Frozen wire and disk schema; see tests/proto/api_lock_test.cc.\n";
    for (const std::string& line : current) out << line << "\n";
    GTEST_SKIP() << "wrote " << path;
  }
  std::ifstream in(path);
  ASSERT_TRUE(in) << "cannot read " << path;
  std::set<std::string> locked;
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line[0] != '#') locked.insert(line);
  }
  for (const std::string& l : locked) {
    EXPECT_TRUE(current.count(l))
        << "frozen schema line changed or removed: '" << l
        << "'. Field numbers, types and enum values are on disk and on the "
           "wire: add a new field instead (and `reserved` the old number).";
  }
  for (const std::string& l : current) {
    EXPECT_TRUE(locked.count(l))
        << "new schema line not in proto/api.lock: '" << l
        << "'. If it is a new field or value, refresh the lock with "
           "NENEP_UPDATE_API_LOCK=1 build/tests/api_lock_test";
  }
}

}  // namespace
}  // namespace nenep
