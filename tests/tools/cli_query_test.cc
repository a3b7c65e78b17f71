// `nenep units`, `nenep rollup` and `nenep rebuild` against a real server
// holding the shipped demo data: dates as dd/mm/yyyy, Vietnamese names
// aligned by the columns they take on screen, machine output with --json.

#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/demo_cli_test.h"
#include "tests/testing/process.h"
#include "tests/testing/test_server.h"

namespace nenep {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// Columns a UTF-8 line takes: code points (the demo's text is NFC).
size_t Columns(absl::string_view s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

class CliQueryTest : public testing::DemoCliTest {};

TEST_F(CliQueryTest, RollupPrintsTheSeedFiguresWithVietnameseDates) {
  std::string out, err;
  ASSERT_EQ(Nenep({"rollup", "cb-bdv-dongnai", "--from_date=01/01/2021",
                   "--to_date=15/03/2024"},
                  &out, &err),
            0)
      << err;
  EXPECT_THAT(out, HasSubstr("Chi bộ Ban Dân vận Tỉnh ủy"));
  EXPECT_THAT(out, HasSubstr("từ 01/01/2021 đến 15/03/2024"));
  EXPECT_THAT(out,
              HasSubstr("Sinh hoạt thường kỳ                             39"));
  EXPECT_THAT(out,
              HasSubstr("Sinh hoạt chuyên đề                             13"));
  EXPECT_THAT(out, HasSubstr("39 / 39  (100.0%)"));
  // The labels end in one column, whatever their accents.
  std::vector<std::string> lines = absl::StrSplit(out, '\n');
  for (size_t i = 2; i < lines.size(); ++i) {
    if (lines[i].empty()) continue;
    EXPECT_GE(Columns(lines[i]), 51u) << lines[i];
  }
  // Machine output.
  ASSERT_EQ(
      Nenep({"--json", "rollup", "cb-cthads-tn", "--period=2020"}, &out, &err),
      0)
      << err;
  EXPECT_THAT(out, HasSubstr(R"("commitmentsFulfilled":"21")"));
  EXPECT_THAT(out, HasSubstr(R"("from":{"year":2020,"month":1,"day":1})"));
}

TEST_F(CliQueryTest, ChildrenTableColumnsLineUp) {
  std::string out, err;
  ASSERT_EQ(Nenep({"rollup", "dbk", "--phase=2021-2023", "--children",
                   "--sort_by=members", "--descending"},
                  &out, &err),
            0)
      << err;
  std::vector<std::string> lines = absl::StrSplit(out, '\n');
  // Header and rows: the second column starts at screen column 46 in every
  // line, after a name cell padded (or cut) to 44 columns by its width, not
  // its bytes (Vietnamese letters take 2 or 3 bytes each).
  std::vector<size_t> starts;
  for (const std::string& line : lines) {
    if (line.rfind("  Đảng bộ", 0) != 0 && line.rfind("  Đơn vị", 0) != 0) {
      continue;
    }
    size_t bytes = 0, cols = 0;
    while (bytes < line.size() && cols < 46) {
      ++bytes;
      while (bytes < line.size() &&
             (static_cast<unsigned char>(line[bytes]) & 0xC0) == 0x80) {
        ++bytes;
      }
      ++cols;
    }
    ASSERT_LT(bytes, line.size()) << line;
    EXPECT_EQ(line[bytes - 1], ' ') << line;  // the name cell's padding
    EXPECT_NE(line[bytes], ' ') << line;      // the next column's value
    starts.push_back(bytes);
  }
  ASSERT_GE(starts.size(), 3u) << out;
  EXPECT_THAT(out, HasSubstr("Đảng bộ cơ quan Ban Tổ chức Trung ương      12"));
  EXPECT_THAT(out, HasSubstr("Đảng bộ Bộ Tư pháp                          3 "));
  EXPECT_THAT(out, HasSubstr("từ 01/01/2021 đến 31/12/2023"));
}

TEST_F(CliQueryTest, UnitsFindsWithoutAccentsAndShowsTheTreeOfADate) {
  std::string out, err;
  ASSERT_EQ(Nenep({"units", "--find=bo tu phap", "--all"}, &out, &err), 0)
      << err;
  EXPECT_THAT(out, HasSubstr("db-btp"));
  EXPECT_THAT(out, HasSubstr("Đảng bộ Bộ Tư pháp"));
  EXPECT_THAT(out, HasSubstr("từ 01/01/2007"));
  ASSERT_EQ(Nenep({"units", "dbk", "--as_of=01/01/2024"}, &out, &err), 0)
      << err;
  EXPECT_THAT(out, HasSubstr("Đảng bộ Khối các cơ quan Trung ương (dbk)"));
  EXPECT_THAT(out, HasSubstr("01/01/2007 – 03/02/2025"));
  EXPECT_THAT(out, HasSubstr("db-btp"));
  // After the 2025 restructuring the Khối has no children left.
  ASSERT_EQ(Nenep({"units", "dbk", "--as_of=01/03/2025"}, &out, &err), 0);
  EXPECT_THAT(out, HasSubstr("trực thuộc trực tiếp: 0"));
  EXPECT_THAT(out, Not(HasSubstr("db-btp ")));
  // Errors: unknown unit, bad date.
  EXPECT_EQ(Nenep({"units", "nowhere"}, &out, &err), 1);
  EXPECT_THAT(err, HasSubstr("NOT_FOUND"));
  EXPECT_EQ(Nenep({"units", "dbk", "--as_of=32/13/2024"}, &out, &err), 1);
  EXPECT_THAT(err, HasSubstr("INVALID_ARGUMENT"));
  EXPECT_EQ(Nenep({"rollup", "dbk"}, &out, &err), 2);
  EXPECT_THAT(err, HasSubstr("needs one range"));
}

TEST_F(CliQueryTest, TailFollowsTheLogWithFilters) {
  std::string out, err;
  ASSERT_EQ(Nenep({"tail", "--from=1", "--types=SessionHeld",
                   "--subtree=cb-bdv-dongnai", "--count=3"},
                  &out, &err),
            0)
      << err;
  std::vector<std::string> lines = absl::StrSplit(out, '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 3u) << out;
  for (const std::string& line : lines) {
    EXPECT_THAT(line, HasSubstr("SessionHeld"));
    EXPECT_THAT(line, HasSubstr("sessions-cb-bdv-dongnai"));
  }
  EXPECT_EQ(Nenep({"tail", "--types=Nonsense", "--count=1"}, &out, &err), 1);
  EXPECT_THAT(err, HasSubstr("INVALID_ARGUMENT"));
}

TEST_F(CliQueryTest, RebuildSaysTheProjectionsEqualTheLog) {
  std::string out, err;
  ASSERT_EQ(Nenep({"status"}, &out, &err), 0) << err;
  EXPECT_THAT(out, HasSubstr("projections at #361: 35 units, 166 members"));
  EXPECT_THAT(out, HasSubstr("events hashed"));  // the Merkle tree's size
  ASSERT_EQ(Nenep({"rebuild"}, &out, &err), 0) << err;
  EXPECT_THAT(out, HasSubstr("equal: the live projections are exactly what "
                             "the log gives"));
}

TEST_F(CliQueryTest, RollupKnownAsOfAPastPosition) {
  std::string now, then, err;
  ASSERT_EQ(Nenep({"rollup", "cb-bdv-dongnai", "--from_date=01/01/2021",
                   "--to_date=15/03/2024", "--known_as_of=361"},
                  &then, &err),
            0)
      << err;
  ASSERT_EQ(Nenep({"rollup", "cb-bdv-dongnai", "--from_date=01/01/2021",
                   "--to_date=15/03/2024"},
                  &now, &err),
            0)
      << err;
  EXPECT_EQ(then, now);  // the whole demo: nothing changed since
  // Position 1 knew nothing of the cell.
  EXPECT_EQ(Nenep({"rollup", "cb-bdv-dongnai", "--from_date=01/01/2021",
                   "--to_date=15/03/2024", "--known_as_of=1"},
                  &then, &err),
            1);
  EXPECT_THAT(err, HasSubstr("NOT_FOUND"));
  EXPECT_EQ(Nenep({"rollup", "cb-bdv-dongnai", "--period=2023",
                   "--known_as_of=yesterday"},
                  &then, &err),
            2);
  EXPECT_THAT(err, HasSubstr("RFC 3339"));
}

// `nenep replay`: a separate state up to a position, with the same
// checksum every time and the live state's checksum when it goes to the
// head; rollups of chosen units printed and kept in the output directory.
TEST_F(CliQueryTest, ReplayIsDeterministicAndLeavesTheLiveStateAlone) {
  const std::string dir = server_.dir();
  std::string a, b, head, err;
  ASSERT_EQ(Nenep({"replay", "--to=200", "--units=cb-bdv-dongnai",
                   "--phase=2021-2023", "--out_dir=" + dir + "/r1"},
                  &a, &err),
            0)
      << err;
  ASSERT_EQ(Nenep({"replay", "--to=200", "--units=cb-bdv-dongnai",
                   "--phase=2021-2023", "--out_dir=" + dir + "/r2"},
                  &b, &err),
            0)
      << err;
  EXPECT_THAT(a, HasSubstr("up to position 200"));
  const std::string checksum = a.substr(a.find("checksum ") + 9, 64);
  EXPECT_EQ(b.substr(b.find("checksum ") + 9, 64), checksum);
  std::ifstream r1(dir + "/r1/replay.json"), r2(dir + "/r2/replay.json");
  std::string j1((std::istreambuf_iterator<char>(r1)), {});
  std::string j2((std::istreambuf_iterator<char>(r2)), {});
  EXPECT_THAT(j1, HasSubstr(checksum));
  std::ifstream rollups(dir + "/r1/rollups.jsonl");
  std::string line;
  ASSERT_TRUE(std::getline(rollups, line));
  EXPECT_THAT(line, HasSubstr("\"unitId\":\"cb-bdv-dongnai\""));

  // To the head: the checksum of the live state (nenep rebuild's).
  ASSERT_EQ(Nenep({"replay", "--out_dir=" + dir + "/r3"}, &head, &err), 0)
      << err;
  EXPECT_THAT(head, HasSubstr("up to position 361"));
  std::string rebuild;
  ASSERT_EQ(Nenep({"rebuild", "--json"}, &rebuild, &err), 0) << err;
  EXPECT_THAT(rebuild, HasSubstr(head.substr(head.find("checksum ") + 9, 64)));
  EXPECT_NE(head.substr(head.find("checksum ") + 9, 64), checksum);
  // The live state was not touched: it still answers at 361.
  ASSERT_EQ(Nenep({"status"}, &a, &err), 0) << err;
  EXPECT_THAT(a, HasSubstr("projections at #361"));
  EXPECT_EQ(
      Nenep({"replay", "--to=5000", "--out_dir=" + dir + "/r4"}, &a, &err), 1);
  EXPECT_THAT(err, HasSubstr("past the head"));
}

}  // namespace
}  // namespace nenep
