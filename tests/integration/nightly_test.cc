// The nightly job end to end: a generated bloc in a real server, the job
// (in this process, and as a process that gets killed), the stored
// snapshots, their overdue lists and the files written.

#include <signal.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <sstream>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_replace.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/message_differencer.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "nenep/v1/groups.grpc.pb.h"
#include "nenep/v1/snapshots.grpc.pb.h"
#include "tests/testing/events.h"
#include "tests/testing/process.h"
#include "tests/testing/test_server.h"
#include "tools/cli/cli.h"
#include "tools/gen/generator.h"

namespace nenep {
namespace {

namespace fs = std::filesystem;
using ::google::protobuf::util::MessageDifferencer;
using testing::D;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::string ReadFile(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// Every file of a report folder, by name.
std::map<std::string, std::string> Files(const fs::path& dir) {
  std::map<std::string, std::string> out;
  for (const fs::directory_entry& e : fs::directory_iterator(dir)) {
    out[e.path().filename().string()] = ReadFile(e.path());
  }
  return out;
}

std::string Iso(const v1::Date& d) {
  return absl::StrFormat("%04d-%02d-%02d", d.year(), d.month(), d.day());
}

struct RunResult {
  int code = 0;
  std::string out, err;
};

RunResult RunNightly(const std::shared_ptr<grpc::Channel>& channel,
                     const std::string& date, const std::string& out_dir) {
  std::ostringstream out, err;
  cli::Context ctx;
  ctx.channel = channel;
  ctx.server = "test";
  ctx.out = &out;
  ctx.err = &err;
  cli::NightlyOptions o;
  o.date = date;
  o.out_dir = out_dir;
  RunResult r;
  r.code = cli::Nightly(ctx, o);
  r.out = out.str();
  r.err = err.str();
  return r;
}

v1::SnapshotInfo Latest(v1::Snapshots::Stub* stub, const v1::Date& date) {
  grpc::ClientContext call;
  v1::ReadSnapshotRequest r;
  *r.mutable_date() = date;
  auto reader = stub->ReadSnapshot(&call, r);
  v1::SnapshotChunk chunk;
  EXPECT_TRUE(reader->Read(&chunk));
  v1::SnapshotChunk rest;
  while (reader->Read(&rest)) {
  }
  EXPECT_TRUE(reader->Finish().ok());
  return chunk.info();
}

std::vector<v1::OverdueItem> Overdue(v1::Snapshots::Stub* stub,
                                     const v1::Date& date,
                                     v1::OverdueKind kind) {
  grpc::ClientContext call;
  v1::ReadSnapshotRequest r;
  *r.mutable_date() = date;
  auto reader = stub->ReadSnapshot(&call, r);
  v1::SnapshotChunk chunk;
  std::vector<v1::OverdueItem> out;
  while (reader->Read(&chunk)) {
    for (const v1::OverdueItem& item : chunk.overdue()) {
      if (item.kind() == kind) out.push_back(item);
    }
  }
  EXPECT_TRUE(reader->Finish().ok());
  return out;
}

// "unit_id since=dd/mm/yyyy ref" for compact expectations.
std::vector<std::string> Brief(const std::vector<v1::OverdueItem>& items) {
  std::vector<std::string> out;
  for (const v1::OverdueItem& i : items) {
    out.push_back(absl::StrCat(i.unit_id(), " ", cli::Vn(i.since()),
                               i.ref_id().empty() ? "" : " ", i.ref_id()));
  }
  return out;
}

// --- A generated bloc (one year of activity) -------------------------------

class NightlyBlocTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    server_ = new testing::TestServer();
    gen::GenOptions options;
    options.scale = "bloc";
    options.seed = 7;
    options.year = 2024;
    v1::BatchAppendRequest batch;
    int n = 0;
    auto flush = [&] {
      if (batch.entries_size() == 0) return;
      grpc::ClientContext call;
      v1::BatchAppendResponse r;
      batch.set_request_id(absl::StrCat("gen-", n++));
      grpc::Status s = server_->log()->BatchAppend(&call, batch, &r);
      ASSERT_TRUE(s.ok()) << s.error_message();
      batch.Clear();
    };
    gen::GenStats stats;
    absl::Status s = gen::Generate(
        options,
        [&](const v1::Event& e) {
          *batch.add_entries()->mutable_event() = e;
          if (batch.entries_size() == 5000) flush();
          return true;
        },
        &stats);
    ASSERT_TRUE(s.ok()) << s;
    flush();
    events_ = stats.events;
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }

  static testing::TestServer* server_;
  static int64_t events_;
  testing::TempDir out_;
};
testing::TestServer* NightlyBlocTest::server_ = nullptr;
int64_t NightlyBlocTest::events_ = 0;

TEST_F(NightlyBlocTest, SnapshotEqualsTheRollupsAtItsPosition) {
  RunResult run = RunNightly(server_->NewChannel(), "31/12/2024", out_.path());
  ASSERT_EQ(run.code, 0) << run.err;
  auto stub = v1::Snapshots::NewStub(server_->NewChannel());
  const v1::SnapshotInfo info = Latest(stub.get(), D(2024, 12, 31));
  EXPECT_EQ(info.position(), static_cast<uint64_t>(events_));
  EXPECT_GT(info.units(), 5000u);
  EXPECT_EQ(info.periods().phase_label(), "2021-2025");

  // Every unit that is not a cell, and every 20th cell: each period's
  // figures equal GetRollup over the same range at the same position.
  const std::pair<const char*, const v1::DateRange*> periods[] = {
      {"day", &info.periods().day()},
      {"month", &info.periods().month()},
      {"quarter", &info.periods().quarter()},
      {"half", &info.periods().half()},
      {"year", &info.periods().year()},
      {"phase", &info.periods().phase()}};
  grpc::ClientContext call;
  v1::ReadSnapshotRequest r;
  *r.mutable_date() = D(2024, 12, 31);
  auto reader = stub->ReadSnapshot(&call, r);
  v1::SnapshotChunk chunk;
  int cells = 0, checked = 0;
  int64_t nonzero_regular = 0;
  while (reader->Read(&chunk)) {
    for (const v1::SnapshotUnit& u : chunk.units()) {
      if (u.is_cell() && cells++ % 20 != 0) continue;
      const v1::Rollup* rows[] = {&u.day(),  &u.month(), &u.quarter(),
                                  &u.half(), &u.year(),  &u.phase()};
      for (int i = 0; i < 6; ++i) {
        grpc::ClientContext q;
        v1::RollupRequest req = testing::RollupOver(
            u.unit_id(), periods[i].second->start(), periods[i].second->end());
        req.mutable_known_as_of()->set_position(info.position());
        v1::RollupResponse got;
        ASSERT_TRUE(server_->query()->GetRollup(&q, req, &got).ok());
        EXPECT_TRUE(MessageDifferencer::Equals(got.rollup(), *rows[i]))
            << u.unit_id() << " " << periods[i].first
            << "\nsnapshot: " << rows[i]->ShortDebugString()
            << "\nrollup:   " << got.rollup().ShortDebugString();
      }
      nonzero_regular += u.year().regular_cell_months_held();
      ++checked;
    }
  }
  ASSERT_TRUE(reader->Finish().ok());
  EXPECT_GT(checked, 500);
  EXPECT_GT(nonzero_regular, 0);  // the figures are not all zero
}

TEST_F(NightlyBlocTest, ReRunGivesByteIdenticalFiles) {
  testing::TempDir other;
  RunResult a = RunNightly(server_->NewChannel(), "30/06/2024", out_.path());
  ASSERT_EQ(a.code, 0) << a.err;
  RunResult b = RunNightly(server_->NewChannel(), "30/06/2024", other.path());
  ASSERT_EQ(b.code, 0) << b.err;
  EXPECT_THAT(b.out, HasSubstr("snapshot already stored"));
  const auto first = Files(fs::path(out_.path()) / "2024-06-30");
  EXPECT_EQ(first.size(), 13u);
  EXPECT_EQ(first, Files(fs::path(other.path()) / "2024-06-30"));
  // Again into the same folder: the report is replaced by the same bytes.
  RunResult c = RunNightly(server_->NewChannel(), "30/06/2024", out_.path());
  ASSERT_EQ(c.code, 0) << c.err;
  EXPECT_EQ(first, Files(fs::path(out_.path()) / "2024-06-30"));
}

TEST_F(NightlyBlocTest, SpreadsheetAndCsvCarryNamesAndNumbers) {
  RunResult run = RunNightly(server_->NewChannel(), "31/12/2024", out_.path());
  ASSERT_EQ(run.code, 0) << run.err;
  const fs::path dir = fs::path(out_.path()) / "2024-12-31";
  auto stub = v1::Snapshots::NewStub(server_->NewChannel());
  // The bloc and one cell, as the snapshot has them.
  grpc::ClientContext call;
  v1::ReadSnapshotRequest r;
  *r.mutable_date() = D(2024, 12, 31);
  auto reader = stub->ReadSnapshot(&call, r);
  v1::SnapshotChunk chunk;
  ASSERT_TRUE(reader->Read(&chunk));  // info
  ASSERT_TRUE(reader->Read(&chunk));  // the first rows
  call.TryCancel();
  reader->Finish();
  const v1::SnapshotUnit bloc = chunk.units(0);
  v1::SnapshotUnit cell;
  for (const v1::SnapshotUnit& u : chunk.units()) {
    if (u.is_cell() && u.year().members() > 0) {
      cell = u;
      break;
    }
  }
  ASSERT_FALSE(cell.unit_id().empty());
  ASSERT_GT(bloc.year().members(), 10000);

  // The workbook: every part's XML, as unzip gives it.
  std::string xml;
  ASSERT_EQ(testing::RunCommand(
                {"/usr/bin/unzip", "-p", (dir / "report.xlsx").string()}, &xml),
            0);
  EXPECT_THAT(xml, HasSubstr(bloc.name()));
  EXPECT_THAT(xml, HasSubstr(cell.name()));
  EXPECT_THAT(xml, HasSubstr("Chi bộ"));
  EXPECT_THAT(xml,
              HasSubstr(absl::StrCat("<v>", bloc.year().members(), "</v>")));
  EXPECT_THAT(xml, HasSubstr("state=\"frozen\""));
  EXPECT_THAT(xml, HasSubstr("<autoFilter"));

  // The CSV: a BOM, then the cell's row with its name and members.
  const std::string csv = ReadFile(dir / "chi_bo.csv");
  ASSERT_TRUE(absl::StartsWith(csv, "\xEF\xBB\xBF"));
  bool found = false;
  std::istringstream lines(csv);
  for (std::string line; std::getline(lines, line);) {
    if (absl::StartsWith(line, cell.unit_id() + ",")) {
      found = true;
      EXPECT_THAT(line, HasSubstr(cell.name()));
      EXPECT_THAT(line,
                  HasSubstr(absl::StrCat(",", cell.year().members(), ",")));
    }
  }
  EXPECT_TRUE(found) << cell.unit_id();

  // The HTML: the bloc's name, and nothing fetched from a network.
  const std::string html = ReadFile(dir / "report.html");
  EXPECT_THAT(html, HasSubstr("<svg"));
  EXPECT_THAT(html, HasSubstr(bloc.name()));
  for (const char* bad : {"https:", "<script", "<link", "url(", "@import",
                          "src=\"http", "src=\"//"}) {
    EXPECT_THAT(html, ::testing::Not(HasSubstr(bad))) << bad;
  }
  std::string rest = html;
  absl::StrReplaceAll({{"xmlns=\"http://www.w3.org/2000/svg\"", ""}}, &rest);
  EXPECT_THAT(rest, ::testing::Not(HasSubstr("http:")));
}

TEST_F(NightlyBlocTest, AKilledRunLeavesNothingVisibleAndTheNextCompletes) {
  const std::string nenep = testing::BinaryPath("tools/nenep");
  testing::TempDir logs;
  const std::string log = logs.path() + "/killed-run.log";
  setenv("NENEP_NIGHTLY_PAUSE_AFTER_FILES", "1", 1);
  auto child = std::make_unique<testing::Process>(
      std::vector<std::string>{nenep, "--server=" + server_->address(),
                               "--progress=false", "nightly",
                               "--date=15/11/2024", "--out_dir=" + out_.path()},
      log);
  unsetenv("NENEP_NIGHTLY_PAUSE_AFTER_FILES");
  // Wait until it has written its first file and paused, then kill it.
  bool paused = false;
  for (int i = 0; i < 600 && !paused; ++i) {
    paused = absl::StrContains(ReadFile(log), "paused after 1 file");
    if (!paused) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_TRUE(paused) << ReadFile(log);
  child->Signal(SIGKILL);
  EXPECT_EQ(child->Wait(), 128 + SIGKILL);

  // No report of the date is visible; only a hidden partial folder.
  std::vector<std::string> names;
  for (const fs::directory_entry& e : fs::directory_iterator(out_.path())) {
    names.push_back(e.path().filename().string());
  }
  EXPECT_FALSE(fs::exists(fs::path(out_.path()) / "2024-11-15"));
  int partial = 0;
  for (const std::string& n : names) {
    if (absl::StrContains(n, ".partial-")) ++partial;
    EXPECT_TRUE(absl::StartsWith(n, ".")) << n;
  }
  EXPECT_EQ(partial, 1);

  // The next run completes it and clears the leftovers.
  RunResult run = RunNightly(server_->NewChannel(), "15/11/2024", out_.path());
  ASSERT_EQ(run.code, 0) << run.err;
  names.clear();
  for (const fs::directory_entry& e : fs::directory_iterator(out_.path())) {
    names.push_back(e.path().filename().string());
  }
  EXPECT_THAT(names, ::testing::UnorderedElementsAre("2024-11-15",
                                                     ".nenep-nightly.lock"));
  const auto files = Files(fs::path(out_.path()) / "2024-11-15");
  EXPECT_EQ(files.size(), 13u);
  EXPECT_THAT(files.at("manifest.json"), HasSubstr("\"report.html\""));
}

// --- Hand-built cases of every overdue list --------------------------------

class NightlyOverdueTest : public ::testing::Test {
 protected:
  void Append(const std::vector<v1::Event>& events) {
    grpc::Status s = server_.AppendBatch(events);
    ASSERT_TRUE(s.ok()) << s.error_message();
  }
  v1::SnapshotInfo Create(v1::Date date, grpc::Status* status = nullptr) {
    grpc::ClientContext call;
    v1::CreateSnapshotRequest r;
    *r.mutable_date() = date;
    v1::SnapshotInfo info;
    grpc::Status s = stub_->CreateSnapshot(&call, r, &info);
    if (status != nullptr) {
      *status = s;
    } else {
      EXPECT_TRUE(s.ok()) << s.error_message();
    }
    return info;
  }

  testing::TestServer server_;
  std::unique_ptr<v1::Snapshots::Stub> stub_ =
      v1::Snapshots::NewStub(server_.NewChannel());
};

TEST_F(NightlyOverdueTest, ListsWhatIsMissingSinceWhen) {
  using testing::UnitCreated;
  const v1::Date due = D(2023, 2, 28);
  Append({
      UnitCreated("blk", v1::UNIT_KIND_DIRECT_UNDER_CENTRAL,
                  "Đảng bộ Khối Thử nghiệm", "", D(2020, 1, 1)),
      UnitCreated("dbx", v1::UNIT_KIND_BASE_PARTY_COMMITTEE,
                  "Đảng bộ Vụ Kế hoạch", "blk", D(2020, 1, 1)),
      UnitCreated("c1", v1::UNIT_KIND_ATTACHED_CELL, "Chi bộ Phòng Một", "dbx",
                  D(2020, 1, 1)),
      UnitCreated("c2", v1::UNIT_KIND_ATTACHED_CELL, "Chi bộ Phòng Hai", "dbx",
                  D(2020, 1, 1)),
      testing::MemberJoined("m1", "c1", D(2020, 1, 2)),
      testing::MemberJoined("m2", "c1", D(2020, 1, 2)),
      testing::MemberJoined("m3", "c2", D(2020, 1, 2)),
      testing::ThematicSession("t-c2-q4", "c2", D(2022, 11, 21), 1, 1),
      testing::Commitment("cm-1", "m1", "c1", D(2022, 2, 1)),
      testing::Commitment("cm-2", "m2", "c1", D(2022, 2, 1)),
      testing::Commitment("cm-3", "m3", "c2", D(2022, 2, 1)),
      testing::Evaluation("cm-1", D(2022, 12, 20), true),
      testing::Plan("kh-1", "dbx", "01-KH/ĐU", D(2023, 1, 10), "", &due),
      UnitCreated("c3", v1::UNIT_KIND_ATTACHED_CELL, "Chi bộ Phòng Ba", "dbx",
                  D(2023, 2, 15)),
      testing::MemberJoined("m4", "c3", D(2023, 2, 16)),
      testing::RegularSession("r-c1-1", "c1", D(2023, 1, 10), 2, 2),
      testing::RegularSession("r-c1-2", "c1", D(2023, 2, 10), 2, 2),
      testing::RegularSession("r-c1-3", "c1", D(2023, 3, 10), 2, 2),
      testing::RegularSession("r-c1-4", "c1", D(2023, 4, 10), 2, 2),
      testing::ThematicSession("t-c1-q1", "c1", D(2023, 3, 20), 2, 2),
      testing::RegularSession("r-c2-1", "c2", D(2023, 1, 11), 1, 1),
      testing::RegularSession("r-c2-2", "c2", D(2023, 2, 11), 1, 1),
      testing::RegularSession("r-c2-3", "c2", D(2023, 3, 11), 1, 1),
      testing::RegularSession("r-c2-4", "c2", D(2023, 4, 11), 1, 1),
      testing::RegularSession("r-c2-5", "c2", D(2023, 5, 11), 1, 1),
      // c2's implementing plan comes late: no longer missing.
      testing::Plan("kh-c2", "c2", "01-KH/CB", D(2023, 3, 15), "kh-1"),
      // Evaluated, but after the snapshot's date.
      testing::Evaluation("cm-3", D(2023, 6, 15), true),
  });

  const v1::Date may31 = D(2023, 5, 31);
  const v1::SnapshotInfo first = Create(may31);
  EXPECT_TRUE(first.created());
  EXPECT_FALSE(first.has_previous_date());
  using K = v1::OverdueKind;
  EXPECT_THAT(
      Brief(Overdue(stub_.get(), may31, v1::OVERDUE_NO_REGULAR_SESSION)),
      ElementsAre("c1 01/05/2023", "c3 01/03/2023"));
  EXPECT_THAT(
      Brief(Overdue(stub_.get(), may31, v1::OVERDUE_NO_THEMATIC_SESSION)),
      ElementsAre("c2 01/01/2023"));
  EXPECT_THAT(Brief(Overdue(stub_.get(), may31, v1::OVERDUE_CHILD_PLAN)),
              ElementsAre("c1 28/02/2023 kh-1"));
  EXPECT_THAT(
      Brief(Overdue(stub_.get(), may31, v1::OVERDUE_COMMITMENT_NOT_EVALUATED)),
      ElementsAre("c1 01/01/2023 cm-2", "c2 01/01/2023 cm-3"));
  EXPECT_TRUE(
      Overdue(stub_.get(), may31, v1::OVERDUE_CHANGED_AFTER_SNAPSHOT).empty());
  // Each item names its parent chain and what is missing.
  const v1::OverdueItem c1 =
      Overdue(stub_.get(), may31, K::OVERDUE_NO_REGULAR_SESSION)[0];
  EXPECT_EQ(c1.unit_name(), "Chi bộ Phòng Một");
  ASSERT_EQ(c1.parent_chain_size(), 2);
  EXPECT_EQ(c1.parent_chain(0).name(), "Đảng bộ Vụ Kế hoạch");
  EXPECT_EQ(c1.parent_chain(1).unit_id(), "blk");
  EXPECT_THAT(c1.missing(), HasSubstr("tháng 05/2023"));
  EXPECT_THAT(c1.missing(), HasSubstr("lần gần nhất: 04/2023"));

  // A session of May recorded after that snapshot: the next one lists c1
  // as changed, and c1 no longer misses May.
  Append({testing::RegularSession("r-c1-5", "c1", D(2023, 5, 20), 2, 2)});
  const v1::Date jun1 = D(2023, 6, 1);
  const v1::SnapshotInfo second = Create(jun1);
  EXPECT_EQ(second.previous_position(), first.position());
  EXPECT_EQ(second.position(), first.position() + 1);
  const auto changed =
      Overdue(stub_.get(), jun1, v1::OVERDUE_CHANGED_AFTER_SNAPSHOT);
  EXPECT_THAT(Brief(changed), ElementsAre("c1 20/05/2023"));
  EXPECT_EQ(changed[0].position(), second.position());
  EXPECT_THAT(changed[0].missing(), HasSubstr("31/05/2023"));
  EXPECT_THAT(Brief(Overdue(stub_.get(), jun1, v1::OVERDUE_NO_REGULAR_SESSION)),
              ElementsAre("c3 01/03/2023"));

  // The difference between the two snapshots, for the đảng bộ.
  grpc::ClientContext call;
  v1::DiffSnapshotsRequest diff;
  *diff.mutable_from_date() = may31;
  *diff.mutable_to_date() = jun1;
  diff.set_unit_id("dbx");
  v1::DiffSnapshotsResponse d;
  ASSERT_TRUE(stub_->DiffSnapshots(&call, diff, &d).ok());
  bool regular_year = false;
  for (const v1::MeasureChange& c : d.changes()) {
    if (c.period() == "year" && c.measure() == "sessions_regular") {
      regular_year = true;
      EXPECT_EQ(c.from(), 9);
      EXPECT_EQ(c.to(), 10);
    }
  }
  EXPECT_TRUE(regular_year);

  // The same date again at the same position: stored once.
  const v1::SnapshotInfo again = Create(jun1);
  EXPECT_FALSE(again.created());
  EXPECT_EQ(again.position(), second.position());
  EXPECT_EQ(again.created_at().seconds(), second.created_at().seconds());

  // One unit's row, and a unit not in the snapshot.
  {
    grpc::ClientContext c;
    v1::GetSnapshotRequest g;
    *g.mutable_date() = may31;
    g.set_unit_id("c2");
    v1::GetSnapshotResponse got;
    ASSERT_TRUE(stub_->GetSnapshot(&c, g, &got).ok());
    EXPECT_EQ(got.unit().name(), "Chi bộ Phòng Hai");
    EXPECT_EQ(got.unit().parent_id(), "dbx");
    EXPECT_EQ(got.unit().depth(), 2);
    EXPECT_EQ(got.unit().year().sessions_regular(), 5);
    EXPECT_EQ(got.unit().month().regular_cell_months_held(), 1);
  }
  {
    grpc::ClientContext c;
    v1::GetSnapshotRequest g;
    *g.mutable_date() = D(2020, 1, 1);
    g.set_unit_id("c2");
    v1::GetSnapshotResponse got;
    grpc::Status s = stub_->GetSnapshot(&c, g, &got);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND);
    EXPECT_THAT(s.error_message(), HasSubstr("01/01/2020"));
  }
  {
    grpc::ClientContext c;
    v1::ListSnapshotsResponse list;
    ASSERT_TRUE(
        stub_->ListSnapshots(&c, v1::ListSnapshotsRequest(), &list).ok());
    ASSERT_EQ(list.snapshots_size(), 2);
    EXPECT_EQ(Iso(list.snapshots(0).date()), "2023-06-01");
  }
}

TEST_F(NightlyOverdueTest, RefusesBadRequestsAndWritesNothing) {
  Append({testing::UnitCreated("blk", v1::UNIT_KIND_DIRECT_UNDER_CENTRAL,
                               "Khối", "", D(2020, 1, 1))});
  grpc::Status s;
  Create(D(2190, 1, 1), &s);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("after today"));
  Create(D(2023, 2, 30), &s);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  {
    grpc::ClientContext call;
    v1::CreateSnapshotRequest r;
    *r.mutable_date() = D(2023, 5, 31);
    r.set_phase("2016-2020");
    v1::SnapshotInfo info;
    s = stub_->CreateSnapshot(&call, r, &info);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_THAT(s.error_message(), HasSubstr("phase"));
  }
  grpc::ClientContext call;
  v1::ListSnapshotsResponse list;
  ASSERT_TRUE(
      stub_->ListSnapshots(&call, v1::ListSnapshotsRequest(), &list).ok());
  EXPECT_EQ(list.snapshots_size(), 0);

  // The job: a future date, an output folder that is a file, no server.
  testing::TempDir dir;
  RunResult future = RunNightly(server_.NewChannel(), "01/01/2190", dir.path());
  EXPECT_EQ(future.code, 2);
  EXPECT_THAT(future.err, HasSubstr("in the future"));
  const std::string file = dir.path() + "/not-a-folder";
  std::ofstream(file) << "x";
  RunResult bad_dir = RunNightly(server_.NewChannel(), "31/05/2023", file);
  EXPECT_EQ(bad_dir.code, 1);
  EXPECT_THAT(bad_dir.err, HasSubstr(file));
  RunResult no_server = RunNightly(
      grpc::CreateChannel("127.0.0.1:1", grpc::InsecureChannelCredentials()),
      "31/05/2023", dir.path() + "/out");
  EXPECT_EQ(no_server.code, 1);
  EXPECT_THAT(no_server.err, HasSubstr("cannot reach nenepd"));
  EXPECT_FALSE(fs::exists(dir.path() + "/out/2023-05-31"));
}

TEST_F(NightlyOverdueTest, TheJobFollowsItsGroupOnlyUpToItsPosition) {
  Append({testing::UnitCreated("blk", v1::UNIT_KIND_DIRECT_UNDER_CENTRAL,
                               "Khối", "", D(2020, 1, 1))});
  testing::TempDir dir;
  RunResult run = RunNightly(server_.NewChannel(), "31/05/2023", dir.path());
  ASSERT_EQ(run.code, 0) << run.err;
  auto groups = v1::ConsumerGroups::NewStub(server_.NewChannel());
  grpc::ClientContext call;
  v1::GetGroupRequest r;
  r.set_name("nenep-nightly");
  v1::ConsumerGroup g;
  ASSERT_TRUE(groups->GetGroup(&call, r, &g).ok());
  // Created on the first run, from the events after it.
  EXPECT_EQ(g.start_position(), 2u);
  EXPECT_EQ(g.stats().in_flight(), 0u);

  // The next run follows what came since, up to its own position.
  Append({testing::UnitCreated("dbx", v1::UNIT_KIND_BASE_PARTY_COMMITTEE,
                               "Đảng bộ", "blk", D(2020, 1, 1))});
  run = RunNightly(server_.NewChannel(), "01/06/2023", dir.path());
  ASSERT_EQ(run.code, 0) << run.err;
  {
    grpc::ClientContext c;
    ASSERT_TRUE(groups->GetGroup(&c, r, &g).ok());
    EXPECT_EQ(g.stats().checkpoint(), 2u);
  }

  // A pull bounded by a position delivers nothing past it.
  Append({testing::UnitCreated("c1", v1::UNIT_KIND_ATTACHED_CELL, "Chi bộ",
                               "dbx", D(2020, 1, 1))});
  v1::PullRequest pull;
  pull.set_group("nenep-nightly");
  pull.set_member("probe");
  pull.set_up_to_position(2);
  v1::PullResponse got;
  {
    grpc::ClientContext c;
    ASSERT_TRUE(groups->Pull(&c, pull, &got).ok());
    EXPECT_EQ(got.deliveries_size(), 0);
  }
  pull.set_up_to_position(3);
  {
    grpc::ClientContext c;
    ASSERT_TRUE(groups->Pull(&c, pull, &got).ok());
    ASSERT_EQ(got.deliveries_size(), 1);
    EXPECT_EQ(got.deliveries(0).event().position(), 3u);
  }
}

}  // namespace
}  // namespace nenep
