// The `nenep` binary against a real server.

#include <fstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "nenep/v1/log.pb.h"
#include "tests/testing/process.h"
#include "tests/testing/test_server.h"

namespace nenep {
namespace {

using ::nenep::testing::BinaryPath;
using ::nenep::testing::LogOnly;
using ::nenep::testing::RunCommand;
using ::nenep::testing::TestServer;
using ::testing::HasSubstr;

constexpr char kUnits[] =
    R"({"event":{"businessDate":{"year":2007,"month":1,"day":1},"unitCreated":{"unitId":"dbk","kind":"UNIT_KIND_DIRECT_UNDER_CENTRAL","name":"Đảng bộ Khối các cơ quan Trung ương"}}})"
    "\n"
    R"({"businessDate":{"year":2007,"month":1,"day":1},"unitCreated":{"unitId":"db-btp","kind":"UNIT_KIND_UPPER_BASE","name":"Đảng bộ Bộ Tư pháp","parentId":"dbk"}})"
    "\n\n"
    R"({"businessDate":{"year":2020,"month":7,"day":27},"sessionHeld":{"sessionId":"s1","unitId":"db-btp","kind":"SESSION_KIND_THEMATIC","topic":"Về văn hóa","forPeriod":{"year":2020,"quarter":3},"attendance":{"convened":22,"present":21,"absentExcused":1}}})"
    "\n";

class CliTest : public ::testing::Test {
 protected:
  int Nenep(std::vector<std::string> args, std::string* out,
            std::string* err = nullptr, const std::string& stdin_data = "") {
    std::vector<std::string> argv = {BinaryPath("tools/nenep"),
                                     "--server=" + server_.address()};
    for (auto& a : args) argv.push_back(std::move(a));
    return RunCommand(argv, out, err, stdin_data);
  }
  std::string Write(const std::string& name, const std::string& content) {
    const std::string path = server_.dir() + "/" + name;
    std::ofstream(path) << content;
    return path;
  }
  TestServer server_{LogOnly()};
};

TEST_F(CliTest, ImportIsIdempotentAndReportsWhatItLoaded) {
  const std::string file = Write("units.jsonl", kUnits);
  std::string out, err;
  ASSERT_EQ(Nenep({"import", file}, &out, &err), 0) << err;
  EXPECT_THAT(out, HasSubstr("imported 3 new event(s)"));
  EXPECT_THAT(out, HasSubstr("UnitCreated            2"));
  EXPECT_THAT(out, HasSubstr("positions 1..3"));

  ASSERT_EQ(Nenep({"import", file}, &out, &err), 0) << err;
  EXPECT_THAT(out, HasSubstr("imported 0 new event(s)"));
  EXPECT_THAT(out, HasSubstr("3 were already imported"));

  ASSERT_EQ(Nenep({"--json", "import", file}, &out, &err), 0);
  EXPECT_THAT(out, HasSubstr("\"alreadyImported\":3"));
}

TEST_F(CliTest, ImportStopsAtABadLineAndNamesIt) {
  std::string bad = kUnits;
  bad +=
      R"({"businessDate":{"year":2021,"month":2,"day":30},"unitRenamed":{"unitId":"db-btp","newName":"x"}})";
  bad += "\n";
  const std::string file = Write("bad.jsonl", bad);
  std::string out, err;
  EXPECT_EQ(Nenep({"import", "--batch_size=2", file}, &out, &err), 1);
  EXPECT_THAT(err, HasSubstr("bad.jsonl: line 5: batch of lines 4..5"));
  EXPECT_THAT(err, HasSubstr("entries[1].event.business_date"));
  EXPECT_THAT(err, HasSubstr("2021-02-30 is not a calendar date"));
  EXPECT_THAT(err, HasSubstr("imported 2 event(s) before this batch"));

  const std::string broken = Write("broken.jsonl", "{\"businessDate\": \n");
  EXPECT_EQ(Nenep({"import", broken}, &out, &err), 1);
  EXPECT_THAT(err, HasSubstr("line 1:"));
}

TEST_F(CliTest, ReadGetAndStatusPrintForPeopleAndMachines) {
  ASSERT_EQ(Nenep({"import", Write("u.jsonl", kUnits)}, nullptr), 0);
  std::string out, err;
  ASSERT_EQ(Nenep({"read"}, &out, &err), 0) << err;
  EXPECT_THAT(out, HasSubstr("Đảng bộ Bộ Tư pháp (upper_base) under dbk"));
  EXPECT_THAT(out, HasSubstr("27/07/2020"));
  EXPECT_THAT(out, HasSubstr("db-btp thematic 21/22 present"));

  ASSERT_EQ(Nenep({"--json", "read", "--backward", "--limit=2"}, &out), 0);
  std::vector<std::string> lines = absl::StrSplit(out, '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 2u);
  v1::RecordedEvent e;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(lines[0], &e).ok());
  EXPECT_EQ(e.position(), 3u);
  EXPECT_EQ(e.event().session_held().topic(), "Về văn hóa");

  ASSERT_EQ(Nenep({"read", "--stream=unit-db-btp"}, &out), 0);
  EXPECT_THAT(out, HasSubstr("unit-db-btp@1"));

  ASSERT_EQ(Nenep({"get", "2"}, &out), 0);
  EXPECT_THAT(out, HasSubstr("\"parentId\": \"dbk\""));
  EXPECT_EQ(Nenep({"get", "9"}, &out, &err), 1);
  EXPECT_THAT(err, HasSubstr("NOT_FOUND"));

  ASSERT_EQ(Nenep({"status"}, &out), 0);
  EXPECT_THAT(out, HasSubstr("SERVING"));
  EXPECT_THAT(out, HasSubstr("head        3"));
}

TEST_F(CliTest, AppendIsAtomicAndChecksTheExpectedRevision) {
  const std::string file = Write("one.jsonl", kUnits);
  std::string out, err;
  // Several streams: one BatchAppend, all or nothing.
  ASSERT_EQ(Nenep({"append", file}, &out, &err), 0) << err;
  EXPECT_THAT(out, HasSubstr("appended 3 event(s): positions 1..3"));
  const std::string rename =
      R"json({"businessDate":{"year":2021,"month":2,"day":3},"unitRenamed":{"unitId":"db-btp","newName":"Đảng bộ Bộ Tư pháp (mới)"}})json";
  EXPECT_EQ(Nenep({"append", "--expected_revision=5", "-"}, &out, &err, rename),
            1);
  EXPECT_THAT(err, HasSubstr("ABORTED"));
  EXPECT_THAT(err, HasSubstr("stream is at revision 1"));
  ASSERT_EQ(Nenep({"append", "--expected_revision=1", "-"}, &out, &err, rename),
            0)
      << err;
  EXPECT_THAT(out, HasSubstr("to unit-db-btp: positions 4..4, revisions 2..2"));
  EXPECT_EQ(
      Nenep({"append", "--expected_revision=xyz", "-"}, &out, &err, rename), 2);
}

TEST_F(CliTest, UsageErrorsAndAnUnreachableServer) {
  std::string out, err;
  EXPECT_EQ(Nenep({"frobnicate"}, &out, &err), 2);
  EXPECT_THAT(err, HasSubstr("unknown command 'frobnicate'"));
  EXPECT_EQ(Nenep({}, &out, &err), 2);
  EXPECT_EQ(Nenep({"get", "zero"}, &out, &err), 2);
  EXPECT_EQ(RunCommand({BinaryPath("tools/nenep"), "--server=127.0.0.1:1",
                        "--timeout=2s", "status"},
                       &out, &err),
            1);
  EXPECT_THAT(err, HasSubstr("cannot reach nenepd at 127.0.0.1:1"));
}

}  // namespace
}  // namespace nenep
