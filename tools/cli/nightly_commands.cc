// `nenep nightly`: the daily snapshot and its reports; `nenep snapshots`:
// what stored snapshots say.

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <ostream>
#include <set>
#include <thread>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "grpcpp/grpcpp.h"
#include "nenep/v1/groups.grpc.pb.h"
#include "nenep/v1/snapshots.grpc.pb.h"
#include "services/common/calendar.h"
#include "storage/common/logging.h"
#include "storage/common/sha256.h"
#include "tools/cli/cli.h"
#include "tools/nightly/report.h"

namespace nenep::cli {
namespace {

namespace fs = std::filesystem;

// Progress: a bar on a terminal, JSON log lines otherwise.
class Progress {
 public:
  Progress(const Context& ctx, std::string title)
      : ctx_(ctx), title_(std::move(title)) {}
  ~Progress() {
    if (ctx_.progress && drawn_) *ctx_.err << "\n";
  }
  // Step `step` of `steps`: what is being done now.
  void Step(int step, int steps, const std::string& what,
            logging::Fields fields = {}) {
    if (ctx_.progress) {
      constexpr int kWidth = 30;
      const int filled = steps == 0 ? kWidth : kWidth * step / steps;
      *ctx_.err << "\r\x1b[2K" << title_ << " [" << std::string(filled, '#')
                << std::string(kWidth - filled, '.') << "] "
                << (steps == 0 ? 100 : 100 * step / steps) << "% " << what
                << std::flush;
      drawn_ = true;
    } else {
      logging::Info(what, fields);
    }
  }
  void Done(const std::string& what, logging::Fields fields) {
    if (ctx_.progress) {
      Step(1, 1, what);
      *ctx_.err << "\n";
      drawn_ = false;
    }
    logging::Info(what, fields);
  }

 private:
  const Context& ctx_;
  const std::string title_;
  bool drawn_ = false;
};

int Fail(const Context& ctx, const std::string& what) {
  *ctx.err << (ctx.progress ? "\n" : "") << "nenep nightly: " << what << "\n";
  logging::Error("nightly run failed", {{"error", what}});
  return 1;
}

absl::Status FsyncPath(const fs::path& p, bool directory) {
  const int fd = open(p.c_str(), directory ? O_RDONLY | O_DIRECTORY : O_RDONLY);
  if (fd < 0 || fsync(fd) != 0) {
    const int e = errno;
    if (fd >= 0) close(fd);
    return absl::InternalError(
        absl::StrCat("cannot sync ", p.string(), ": ", std::strerror(e)));
  }
  close(fd);
  return absl::OkStatus();
}

absl::StatusOr<std::string> FileSha256(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) return absl::InternalError(absl::StrCat("cannot read ", p.string()));
  Sha256 h;
  std::string buf(1 << 16, '\0');
  while (in.read(buf.data(), static_cast<std::streamsize>(buf.size())) ||
         in.gcount() > 0) {
    h.Update(absl::string_view(buf.data(), static_cast<size_t>(in.gcount())));
  }
  return HexEncode(h.Finish());
}

absl::Status WriteText(const fs::path& p, const std::string& text) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out << text;
  out.close();
  if (!out) {
    return absl::InternalError(
        absl::StrCat("cannot write ", p.string(), ": ", std::strerror(errno)));
  }
  return absl::OkStatus();
}

// For tests of a killed run: NENEP_NIGHTLY_PAUSE_AFTER_FILES=n makes the
// job announce "paused" on stderr after its n-th report file and wait to be
// killed.
void MaybePause(const Context& ctx, int files_written) {
  const char* env = std::getenv("NENEP_NIGHTLY_PAUSE_AFTER_FILES");
  int n = 0;
  if (env == nullptr || !absl::SimpleAtoi(env, &n) || n != files_written) {
    return;
  }
  *ctx.err << "nenep nightly: paused after " << n << " file(s)" << std::endl;
  for (;;) pause();
}

// Creates the job's consumer group on its first run, from the events
// committed after that: there is no earlier run to compare with.
absl::Status EnsureGroup(const Context& ctx, const std::string& group) {
  auto stub = v1::ConsumerGroups::NewStub(ctx.channel);
  {
    grpc::ClientContext call;
    SetDeadline(ctx, &call);
    v1::GetGroupRequest r;
    r.set_name(group);
    v1::ConsumerGroup g;
    grpc::Status s = stub->GetGroup(&call, r, &g);
    if (s.error_code() == grpc::StatusCode::NOT_FOUND) {
      grpc::ClientContext create;
      SetDeadline(ctx, &create);
      v1::CreateGroupRequest c;
      c.set_name(group);
      c.set_from_now(true);
      c.set_ack_deadline_ms(300000);
      s = stub->CreateGroup(&create, c, &g);
      if (!s.ok() && s.error_code() != grpc::StatusCode::ALREADY_EXISTS) {
        return absl::UnavailableError(absl::StrCat(
            "cannot create consumer group '", group, "': ", Describe(ctx, s)));
      }
      logging::Info("created the consumer group the job follows",
                    {{"group", group}, {"start_position", g.start_position()}});
    } else if (!s.ok()) {
      return absl::UnavailableError(absl::StrCat(
          "cannot read consumer group '", group, "': ", Describe(ctx, s)));
    }
  }
  return absl::OkStatus();
}

// Follows the log through the job's consumer group up to `position`:
// tallies what changed since the last run and acks it.
absl::StatusOr<std::string> FollowGroup(const Context& ctx,
                                        const std::string& group,
                                        uint64_t position) {
  auto stub = v1::ConsumerGroups::NewStub(ctx.channel);
  const std::string member = absl::StrCat("nightly-", getpid());
  std::map<std::string, uint64_t> by_type;
  std::set<std::string> streams;
  uint64_t events = 0;
  for (;;) {
    grpc::ClientContext call;
    SetDeadline(ctx, &call);
    v1::PullRequest r;
    r.set_group(group);
    r.set_member(member);
    r.set_max_events(10000);
    r.set_up_to_position(position);
    v1::PullResponse got;
    grpc::Status s = stub->Pull(&call, r, &got);
    if (!s.ok()) {
      return absl::UnavailableError(absl::StrCat(
          "cannot pull from consumer group '", group, "': ", Describe(ctx, s)));
    }
    if (got.deliveries_size() == 0) break;
    v1::AckRequest ack;
    ack.set_group(group);
    ack.set_member(member);
    for (const v1::Delivery& d : got.deliveries()) {
      ++events;
      ++by_type[d.event().type()];
      streams.insert(d.event().stream());
      ack.add_positions(d.event().position());
    }
    grpc::ClientContext ack_call;
    SetDeadline(ctx, &ack_call);
    v1::AckResponse acked;
    s = stub->Ack(&ack_call, ack, &acked);
    if (!s.ok()) {
      return absl::UnavailableError(absl::StrCat(
          "cannot ack to consumer group '", group, "': ", Describe(ctx, s)));
    }
  }
  std::vector<std::string> parts;
  for (const auto& [type, n] : by_type)
    parts.push_back(absl::StrCat(type, " ", n));
  return absl::StrCat(events, " event(s) in ", streams.size(), " stream(s)",
                      parts.empty() ? "" : ": ", absl::StrJoin(parts, ", "));
}

// Removes what killed runs left behind: hidden .DATE.partial-* folders.
void RemoveLeftovers(const fs::path& out_dir) {
  std::error_code ec;
  for (const fs::directory_entry& e : fs::directory_iterator(out_dir, ec)) {
    const std::string name = e.path().filename().string();
    if (name.size() > 1 && name[0] == '.' &&
        name.find(".partial-") != std::string::npos) {
      fs::remove_all(e.path(), ec);
      logging::Info("removed the leftovers of an interrupted run",
                    {{"path", e.path().string()}});
    }
  }
}

// Moves the finished folder `tmp` to `final`, atomically: a reader sees the
// old report or the new one, never a part.
absl::Status Publish(const fs::path& tmp, const fs::path& final) {
  if (rename(tmp.c_str(), final.c_str()) != 0) {
    if (errno != ENOTEMPTY && errno != EEXIST) {
      return absl::InternalError(absl::StrCat("cannot move ", tmp.string(),
                                              " to ", final.string(), ": ",
                                              std::strerror(errno)));
    }
    // A report of that date exists: swap the two, then drop the old one.
    if (renameat2(AT_FDCWD, tmp.c_str(), AT_FDCWD, final.c_str(),
                  RENAME_EXCHANGE) != 0) {
      return absl::InternalError(absl::StrCat("cannot replace ", final.string(),
                                              ": ", std::strerror(errno)));
    }
    std::error_code ec;
    fs::remove_all(tmp, ec);
  }
  return FsyncPath(final.parent_path(), true);
}

}  // namespace

int Nightly(const Context& ctx, const NightlyOptions& o) {
  // The date: given, or yesterday in Asia/Ho_Chi_Minh.
  absl::StatusOr<absl::TimeZone> tz = services::VietnamTimeZone();
  if (!tz.ok()) return Fail(ctx, std::string(tz.status().message()));
  const absl::CivilDay today = services::LocalDay(absl::Now(), *tz);
  v1::Date date;
  if (o.date.empty()) {
    date = services::FromCivilDay(today - 1);
  } else if (!ParseDate(o.date, &date) ||
             !services::ToCivilDay(date, "date").ok()) {
    *ctx.err << "nenep nightly: --date: '" << o.date
             << "' is not a date (dd/mm/yyyy or yyyy-mm-dd)\n";
    return 2;
  }
  if (*services::ToCivilDay(date, "date") > today) {
    *ctx.err << "nenep nightly: --date: " << Vn(date)
             << " is in the future (today is "
             << Vn(services::FromCivilDay(today))
             << " in Asia/Ho_Chi_Minh); a nightly run reports a day that "
                "has begun\n";
    return 2;
  }
  if (o.out_dir.empty()) {
    *ctx.err << "nenep nightly: --out_dir is required (the folder that "
                "gets one subfolder of reports per date)\n";
    return 2;
  }

  // The output folder must be writable before anything is computed.
  const fs::path out_dir(o.out_dir);
  std::error_code ec;
  fs::create_directories(out_dir, ec);
  const fs::path lock_path = out_dir / ".nenep-nightly.lock";
  const int lock_fd =
      open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (lock_fd < 0) {
    return Fail(ctx,
                absl::StrCat("cannot write to the output folder ",
                             out_dir.string(), ": ", std::strerror(errno)));
  }
  if (flock(lock_fd, LOCK_EX | LOCK_NB) != 0) {
    close(lock_fd);
    return Fail(ctx, absl::StrCat("another nightly run is writing to ",
                                  out_dir.string()));
  }
  RemoveLeftovers(out_dir);

  Progress progress(ctx, absl::StrCat("nightly ", Vn(date)));
  constexpr int kSteps = 6;
  progress.Step(
      0, kSteps, "computing the snapshot on the server",
      {{"date", services::FormatDayIso(date)}, {"server", ctx.server}});

  if (absl::Status s = EnsureGroup(ctx, o.group); !s.ok()) {
    return Fail(ctx, std::string(s.message()));
  }
  // 1. The snapshot fixes the log position everything is computed at.
  auto snapshots = v1::Snapshots::NewStub(ctx.channel);
  v1::SnapshotInfo info;
  {
    grpc::ClientContext call;
    SetDeadline(ctx, &call);
    call.set_deadline(std::chrono::system_clock::now() +
                      std::chrono::minutes(30));
    v1::CreateSnapshotRequest r;
    *r.mutable_date() = date;
    r.set_phase(o.phase);
    grpc::Status s = snapshots->CreateSnapshot(&call, r, &info);
    if (!s.ok()) {
      if (s.error_code() == grpc::StatusCode::INVALID_ARGUMENT) {
        *ctx.err << (ctx.progress ? "\n" : "")
                 << "nenep nightly: " << Describe(ctx, s) << "\n";
        return 2;
      }
      return Fail(
          ctx, absl::StrCat("cannot create the snapshot: ", Describe(ctx, s)));
    }
  }
  const uint64_t position = info.position();
  progress.Step(1, kSteps, "following the log since the last run",
                {{"position", position},
                 {"created", info.created()},
                 {"units", info.units()}});

  // 2. What changed since the last run, through the consumer group.
  absl::StatusOr<std::string> changes = FollowGroup(ctx, o.group, position);
  if (!changes.ok()) return Fail(ctx, std::string(changes.status().message()));
  logging::Info(
      "since the last run",
      {{"group", o.group}, {"up_to", position}, {"changes", *changes}});

  // 3. The whole snapshot, as stored.
  progress.Step(
      2, kSteps, "reading the snapshot",
      {{"units", info.units()}, {"overdue_items", info.overdue_items()}});
  nightly::ReportInput input;
  {
    grpc::ClientContext call;
    SetDeadline(ctx, &call);
    v1::ReadSnapshotRequest r;
    *r.mutable_date() = date;
    r.set_position(position);
    auto reader = snapshots->ReadSnapshot(&call, r);
    v1::SnapshotChunk chunk;
    bool first = true;
    input.units.reserve(info.units());
    while (reader->Read(&chunk)) {
      if (first) {
        input.info = chunk.info();
        first = false;
      }
      for (v1::SnapshotUnit& u : *chunk.mutable_units()) {
        input.units.push_back(std::move(u));
      }
      for (v1::OverdueItem& item : *chunk.mutable_overdue()) {
        input.overdue.push_back(std::move(item));
      }
    }
    grpc::Status s = reader->Finish();
    if (!s.ok()) {
      return Fail(ctx,
                  absl::StrCat("cannot read the snapshot: ", Describe(ctx, s)));
    }
    if (input.units.size() != input.info.units() ||
        input.overdue.size() != input.info.overdue_items()) {
      return Fail(ctx, absl::StrCat("the server sent ", input.units.size(),
                                    " rows and ", input.overdue.size(),
                                    " overdue items; the snapshot has ",
                                    input.info.units(), " and ",
                                    input.info.overdue_items()));
    }
  }

  // 4. The files, in a hidden folder that only a finished run publishes.
  const fs::path final_dir = out_dir / services::FormatDayIso(date);
  const fs::path tmp = out_dir / absl::StrCat(".", services::FormatDayIso(date),
                                              ".partial-", getpid());
  fs::remove_all(tmp, ec);
  if (!fs::create_directory(tmp, ec)) {
    return Fail(
        ctx, absl::StrCat("cannot create ", tmp.string(), ": ", ec.message()));
  }
  std::vector<std::string> files;
  progress.Step(3, kSteps, "writing report.xlsx");
  if (absl::Status s =
          nightly::WriteXlsx(input, (tmp / "report.xlsx").string());
      !s.ok()) {
    return Fail(ctx, std::string(s.message()));
  }
  files.push_back("report.xlsx");
  MaybePause(ctx, files.size());
  progress.Step(4, kSteps, "writing the CSV files");
  std::vector<std::string> csvs;
  if (absl::Status s = nightly::WriteCsvs(input, tmp.string(), &csvs);
      !s.ok()) {
    return Fail(ctx, std::string(s.message()));
  }
  files.insert(files.end(), csvs.begin(), csvs.end());
  MaybePause(ctx, files.size());
  progress.Step(5, kSteps, "writing report.html");
  if (absl::Status s =
          nightly::WriteHtml(input, (tmp / "report.html").string());
      !s.ok()) {
    return Fail(ctx, std::string(s.message()));
  }
  files.push_back("report.html");
  MaybePause(ctx, files.size());
  // The snapshot's info, and a manifest with every file's digest.
  if (absl::Status s =
          WriteText(tmp / "snapshot.json", ToJson(input.info) + "\n");
      !s.ok()) {
    return Fail(ctx, std::string(s.message()));
  }
  files.push_back("snapshot.json");
  std::string manifest = absl::StrFormat(
      "{\n  \"date\": \"%s\",\n  \"position\": %d,\n  \"units\": %d,\n"
      "  \"overdue_items\": %d,\n  \"files\": [",
      services::FormatDayIso(date), position, input.info.units(),
      input.info.overdue_items());
  for (size_t i = 0; i < files.size(); ++i) {
    absl::StatusOr<std::string> digest = FileSha256(tmp / files[i]);
    if (!digest.ok()) return Fail(ctx, std::string(digest.status().message()));
    absl::StrAppendFormat(
        &manifest,
        "%s\n    {\"name\": \"%s\", \"bytes\": %d, \"sha256\": \"%s\"}",
        i == 0 ? "" : ",", files[i], fs::file_size(tmp / files[i], ec),
        *digest);
  }
  manifest += "\n  ]\n}\n";
  if (absl::Status s = WriteText(tmp / "manifest.json", manifest); !s.ok()) {
    return Fail(ctx, std::string(s.message()));
  }
  files.push_back("manifest.json");
  MaybePause(ctx, files.size());
  for (const std::string& f : files) {
    if (absl::Status s = FsyncPath(tmp / f, false); !s.ok()) {
      return Fail(ctx, std::string(s.message()));
    }
  }
  if (absl::Status s = FsyncPath(tmp, true); !s.ok()) {
    return Fail(ctx, std::string(s.message()));
  }

  // 5. Publish.
  if (absl::Status s = Publish(tmp, final_dir); !s.ok()) {
    return Fail(ctx, std::string(s.message()));
  }
  progress.Done("nightly report written",
                {{"date", services::FormatDayIso(date)},
                 {"position", position},
                 {"dir", final_dir.string()},
                 {"files", files.size()},
                 {"units", input.info.units()},
                 {"overdue_items", input.info.overdue_items()}});
  if (ctx.json) {
    *ctx.out << ToJson(input.info) << "\n";
  } else {
    *ctx.out << "report of " << Vn(date) << " at position " << position << " ("
             << input.info.units() << " units, " << input.info.overdue_items()
             << " overdue items"
             << (info.created() ? "" : ", snapshot already stored") << ") in "
             << final_dir.string() << "\n";
  }
  close(lock_fd);
  return 0;
}

}  // namespace nenep::cli

namespace nenep::cli {

int Snapshots(const Context& ctx, const std::vector<std::string>& args,
              uint64_t position) {
  auto stub = v1::Snapshots::NewStub(ctx.channel);
  auto date_arg = [&](const std::string& text, v1::Date* d) {
    if (ParseDate(text, d)) return true;
    *ctx.err << "nenep snapshots: '" << text
             << "' is not a date (dd/mm/yyyy or yyyy-mm-dd)\n";
    return false;
  };
  auto done = [&](const grpc::Status& s, const google::protobuf::Message& m) {
    if (!s.ok()) {
      *ctx.err << "nenep snapshots: " << Describe(ctx, s) << "\n";
      return 1;
    }
    *ctx.out << ToJson(m) << "\n";
    return 0;
  };
  grpc::ClientContext call;
  SetDeadline(ctx, &call);
  if (args.empty() || (args[0] == "list" && args.size() == 1)) {
    v1::ListSnapshotsResponse r;
    grpc::Status s = stub->ListSnapshots(&call, v1::ListSnapshotsRequest(), &r);
    if (!s.ok() || ctx.json) return done(s, r);
    for (const v1::SnapshotInfo& i : r.snapshots()) {
      *ctx.out << Vn(i.date()) << "  position " << i.position() << "  "
               << i.units() << " units  " << i.overdue_items()
               << " overdue items\n";
    }
    return 0;
  }
  if (args[0] == "show" && args.size() == 3) {
    v1::GetSnapshotRequest r;
    if (!date_arg(args[1], r.mutable_date())) return 2;
    r.set_position(position);
    r.set_unit_id(args[2]);
    v1::GetSnapshotResponse got;
    return done(stub->GetSnapshot(&call, r, &got), got);
  }
  if (args[0] == "diff" && args.size() == 4) {
    v1::DiffSnapshotsRequest r;
    if (!date_arg(args[1], r.mutable_from_date()) ||
        !date_arg(args[2], r.mutable_to_date())) {
      return 2;
    }
    r.set_unit_id(args[3]);
    v1::DiffSnapshotsResponse got;
    grpc::Status s = stub->DiffSnapshots(&call, r, &got);
    if (!s.ok() || ctx.json) return done(s, got);
    *ctx.out << args[3] << ": " << Vn(got.from().date()) << " (position "
             << got.from().position() << ") -> " << Vn(got.to().date())
             << " (position " << got.to().position() << "), "
             << got.changes_size() << " change(s)\n";
    for (const v1::MeasureChange& c : got.changes()) {
      *ctx.out << absl::StrFormat("  %-8s %-32s %14.6g -> %.6g\n", c.period(),
                                  c.measure(), c.from(), c.to());
    }
    return 0;
  }
  *ctx.err << "nenep snapshots: use 'list', 'show DATE UNIT_ID' or 'diff "
              "DATE1 DATE2 UNIT_ID'\n";
  return 2;
}

}  // namespace nenep::cli
