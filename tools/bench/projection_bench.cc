// nenep-projection-bench: the hierarchy and rollup benchmarks against a
// running nenepd (see projection_bench.sh, which runs them all).
//
//   seed     creates the units and members nenep-bench's sessions name
//            (bench.cb00000 ... bench.cb09999, 20 members each), so that
//            nenep-bench can measure appends with the projections on
//   load     generates --scale events (tools/gen) and appends them in order
//            with BatchAppend; writes what the queries need to --meta
//   queries  latency of GetRollup and GetChildrenRollups (from --meta)
//   move     builds a subtree of --move_cells cells with a year of sessions
//            under one root, then moves it to another root, backdated to
//            mid-year, and times that one append
//
// Exit code: 0 success, 1 a call failed, 2 bad flags.

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "grpcpp/client_context.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "nenep/v1/log.grpc.pb.h"
#include "nenep/v1/query.grpc.pb.h"
#include "tools/gen/generator.h"

ABSL_FLAG(std::string, server, "127.0.0.1:50051", "nenepd address.");
ABSL_FLAG(std::string, scale, "national", "load: tiny, bloc or national.");
ABSL_FLAG(uint64_t, seed, 1, "load: generator seed.");
ABSL_FLAG(int, year, 2024, "load: the generator's year of activity.");
ABSL_FLAG(int, batch_size, 10000, "load: events per BatchAppend.");
ABSL_FLAG(std::string, meta, "projection-bench.meta",
          "load writes, queries reads: the units to query.");
ABSL_FLAG(int, iterations, 1000, "queries: calls per measured query.");
ABSL_FLAG(int, move_cells, 5000, "move: cells in the moved subtree.");

namespace nenep {
namespace {

using Clock = std::chrono::steady_clock;

double Ms(Clock::duration d) {
  return std::chrono::duration<double, std::milli>(d).count();
}

v1::Date D(int y, int m, int d) {
  v1::Date out;
  out.set_year(y);
  out.set_month(m);
  out.set_day(d);
  return out;
}

std::unique_ptr<v1::EventLog::Stub> LogStub(const std::string& server) {
  grpc::ChannelArguments args;
  args.SetMaxSendMessageSize(256 << 20);
  return v1::EventLog::NewStub(grpc::CreateCustomChannel(
      server, grpc::InsecureChannelCredentials(), args));
}

// Appends `batch`, retrying nothing: any failure ends the run.
bool Send(v1::EventLog::Stub* stub, const v1::BatchAppendRequest& batch,
          double* ms = nullptr) {
  grpc::ClientContext ctx;
  v1::BatchAppendResponse resp;
  const auto start = Clock::now();
  grpc::Status s = stub->BatchAppend(&ctx, batch, &resp);
  if (ms != nullptr) *ms = Ms(Clock::now() - start);
  if (!s.ok()) {
    std::cerr << "projection-bench: BatchAppend " << batch.request_id()
              << " failed: " << s.error_code() << " " << s.error_message()
              << "\n";
    return false;
  }
  return true;
}

v1::Event Created(const std::string& id, v1::UnitKind kind,
                  const std::string& parent, v1::Date date) {
  v1::Event e;
  *e.mutable_business_date() = date;
  v1::UnitCreated* u = e.mutable_unit_created();
  u->set_unit_id(id);
  u->set_kind(kind);
  u->set_name(absl::StrCat("Đơn vị ", id));
  u->set_parent_id(parent);
  return e;
}

v1::Event Joined(const std::string& member, const std::string& cell,
                 v1::Date date) {
  v1::Event e;
  *e.mutable_business_date() = date;
  v1::MemberJoined* m = e.mutable_member_joined();
  m->set_member_id(member);
  m->set_cell_id(cell);
  m->set_status(v1::MEMBER_STATUS_OFFICIAL);
  m->set_how(v1::JOIN_KIND_INITIAL_LOAD);
  return e;
}

// Flushes `events` in batches of `size` with request ids prefix-<n>.
class Batcher {
 public:
  Batcher(v1::EventLog::Stub* stub, std::string prefix, int size)
      : stub_(stub), prefix_(std::move(prefix)), size_(size) {}
  bool Add(v1::Event e) {
    *batch_.add_entries()->mutable_event() = std::move(e);
    return batch_.entries_size() < size_ || Flush();
  }
  bool Flush() {
    if (batch_.entries_size() == 0) return true;
    batch_.set_request_id(absl::StrCat(prefix_, "-", n_++));
    const bool ok = Send(stub_, batch_);
    batch_.Clear();
    return ok;
  }

 private:
  v1::EventLog::Stub* stub_;
  std::string prefix_;
  int size_;
  int n_ = 0;
  v1::BatchAppendRequest batch_;
};

int Seed() {
  auto stub = LogStub(absl::GetFlag(FLAGS_server));
  Batcher b(stub.get(), "bench-seed", 10000);
  const v1::Date d = D(2023, 1, 1);
  if (!b.Add(Created("bench", v1::UNIT_KIND_DIRECT_UNDER_CENTRAL, "", d))) {
    return 1;
  }
  for (int c = 0; c < 10000; ++c) {
    const std::string cell = absl::StrFormat("bench.cb%05d", c);
    if (!b.Add(Created(cell, v1::UNIT_KIND_ATTACHED_CELL, "bench", d))) {
      return 1;
    }
    for (int m = 0; m < 20; ++m) {
      if (!b.Add(Joined(absl::StrCat(cell, ".m", m), cell, d))) return 1;
    }
  }
  if (!b.Flush()) return 1;
  std::cout << "seed: bench + 10,000 cells with 20 members each\n";
  return 0;
}

int Load() {
  gen::GenOptions options;
  options.scale = absl::GetFlag(FLAGS_scale);
  options.seed = absl::GetFlag(FLAGS_seed);
  options.year = absl::GetFlag(FLAGS_year);
  const int batch_size = absl::GetFlag(FLAGS_batch_size);
  // The generator fills batches on its own thread; this one sends them in
  // order, one at a time (each is checked against the state its
  // predecessors left).
  std::mutex mu;
  std::condition_variable cv;
  std::deque<std::unique_ptr<v1::BatchAppendRequest>> queue;
  bool done = false, failed = false;
  // What the queries need: parents and kinds, to find the roots, the cells
  // under each and a bloc of ~5,200 cells.
  std::map<std::string, std::string> parent;
  std::map<std::string, bool> is_cell;
  std::thread producer([&] {
    auto batch = std::make_unique<v1::BatchAppendRequest>();
    int n = 0;
    auto push = [&] {
      batch->set_request_id(
          absl::StrCat("load-", options.scale, "-", options.seed, "-", n++));
      std::unique_lock lock(mu);
      cv.wait(lock, [&] { return queue.size() < 4 || failed; });
      queue.push_back(std::move(batch));
      cv.notify_all();
      batch = std::make_unique<v1::BatchAppendRequest>();
      return !failed;
    };
    gen::GenStats stats;
    absl::Status s = gen::Generate(
        options,
        [&](const v1::Event& e) {
          if (e.has_unit_created()) {
            parent[e.unit_created().unit_id()] = e.unit_created().parent_id();
            const v1::UnitKind k = e.unit_created().kind();
            is_cell[e.unit_created().unit_id()] =
                k == v1::UNIT_KIND_BASE_CELL ||
                k == v1::UNIT_KIND_ATTACHED_CELL;
          }
          *batch->add_entries()->mutable_event() = e;
          return batch->entries_size() < batch_size || push();
        },
        &stats);
    if (batch->entries_size() > 0) push();
    if (!s.ok()) std::cerr << "projection-bench: generator: " << s << "\n";
    std::unique_lock lock(mu);
    done = true;
    cv.notify_all();
  });
  auto stub = LogStub(absl::GetFlag(FLAGS_server));
  int64_t events = 0;
  std::vector<double> call_ms;
  const auto start = Clock::now();
  while (true) {
    std::unique_ptr<v1::BatchAppendRequest> batch;
    {
      std::unique_lock lock(mu);
      cv.wait(lock, [&] { return !queue.empty() || done; });
      if (queue.empty()) break;
      batch = std::move(queue.front());
      queue.pop_front();
      cv.notify_all();
    }
    double ms = 0;
    if (!Send(stub.get(), *batch, &ms)) {
      std::unique_lock lock(mu);
      failed = true;
      cv.notify_all();
      break;
    }
    call_ms.push_back(ms);
    events += batch->entries_size();
  }
  producer.join();
  if (failed) return 1;
  const double secs = Ms(Clock::now() - start) / 1000;
  std::sort(call_ms.begin(), call_ms.end());
  std::cout << absl::StrFormat(
      "load: %d events (%s) in %.1f s: %.0f events/s appended with "
      "BatchAppend of %d, one call at a time (median call %.1f ms)\n",
      events, options.scale, secs, static_cast<double>(events) / secs,
      batch_size, call_ms.empty() ? 0 : call_ms[call_ms.size() / 2]);

  // Cells per root and per unit.
  std::map<std::string, int64_t> cells_under;
  std::map<std::string, int64_t> children;
  for (const auto& [id, p] : parent) {
    if (!p.empty()) ++children[p];
    if (!is_cell[id]) continue;
    for (std::string u = id; !u.empty(); u = parent[u]) ++cells_under[u];
  }
  std::ofstream meta(absl::GetFlag(FLAGS_meta));
  for (const auto& [id, p] : parent) {
    if (!p.empty()) continue;
    meta << "root " << id << " " << cells_under[id] << " " << children[id]
         << "\n";
  }
  // The bloc: the root nearest 5,200 cells.
  std::string bloc;
  for (const auto& [id, p] : parent) {
    if (!p.empty()) continue;
    if (bloc.empty() ||
        std::abs(cells_under[id] - 5200) < std::abs(cells_under[bloc] - 5200)) {
      bloc = id;
    }
  }
  meta << "bloc " << bloc << " " << cells_under[bloc] << " " << children[bloc]
       << "\n";
  return 0;
}

struct Latency {
  double p50, p90, p99, max;
};

Latency Measure(int iterations, const std::function<bool()>& call) {
  for (int i = 0; i < std::max(10, iterations / 10); ++i) call();  // warm-up
  std::vector<double> ms;
  ms.reserve(iterations);
  for (int i = 0; i < iterations; ++i) {
    const auto start = Clock::now();
    if (!call()) return {-1, -1, -1, -1};
    ms.push_back(Ms(Clock::now() - start));
  }
  std::sort(ms.begin(), ms.end());
  auto q = [&](double f) {
    return ms[std::min(ms.size() - 1, static_cast<size_t>(
                                          f * static_cast<double>(ms.size())))];
  };
  return {q(0.5), q(0.9), q(0.99), ms.back()};
}

int Queries() {
  std::ifstream meta(absl::GetFlag(FLAGS_meta));
  std::vector<std::pair<std::string, int64_t>> roots;
  std::string bloc;
  int64_t bloc_cells = 0, bloc_children = 0;
  std::string kind, id;
  int64_t cells = 0, children = 0;
  while (meta >> kind >> id >> cells >> children) {
    if (kind == "root") roots.emplace_back(id, cells);
    if (kind == "bloc") {
      bloc = id;
      bloc_cells = cells;
      bloc_children = children;
    }
  }
  if (roots.empty()) {
    std::cerr << "projection-bench: no roots in " << absl::GetFlag(FLAGS_meta)
              << " (run load first)\n";
    return 2;
  }
  std::sort(roots.begin(), roots.end(),
            [](const auto& a, const auto& b) { return a.second > b.second; });
  auto stub = v1::Query::NewStub(grpc::CreateChannel(
      absl::GetFlag(FLAGS_server), grpc::InsecureChannelCredentials()));
  const int n = absl::GetFlag(FLAGS_iterations);
  const int year = absl::GetFlag(FLAGS_year);
  struct Range {
    std::string name;
    v1::Date from, to;
  };
  const std::vector<Range> ranges = {
      {"year", D(year, 1, 1), D(year, 12, 31)},
      {"quarter", D(year, 4, 1), D(year, 6, 30)},
      {"month", D(year, 3, 1), D(year, 3, 31)},
      {"10/02-03/11", D(year, 2, 10), D(year, 11, 3)},
  };
  auto rollup = [&](const std::string& unit, const Range& r, bool restated) {
    v1::RollupRequest req;
    req.set_unit_id(unit);
    *req.mutable_dates()->mutable_start() = r.from;
    *req.mutable_dates()->mutable_end() = r.to;
    if (restated) {
      req.set_attribution(v1::ATTRIBUTION_AS_OF_STRUCTURE);
      *req.mutable_structure_date() = r.to;
    }
    return req;
  };
  auto print = [](const std::string& what, const Latency& l) {
    std::cout << absl::StrFormat(
        "%-58s p50 %7.3f  p90 %7.3f  p99 %7.3f  max %8.3f ms\n", what, l.p50,
        l.p90, l.p99, l.max);
  };
  bool ok = true;
  auto get = [&](const v1::RollupRequest& req) {
    grpc::ClientContext ctx;
    v1::RollupResponse resp;
    grpc::Status s = stub->GetRollup(&ctx, req, &resp);
    if (!s.ok()) {
      std::cerr << "GetRollup " << req.unit_id() << ": " << s.error_message()
                << "\n";
      ok = false;
    }
    return s.ok();
  };
  std::cout << "queries: " << n << " calls each after warm-up, one client\n";
  for (const Range& r : ranges) {
    print(absl::StrCat("rollup, largest root ", roots[0].first, " (",
                       roots[0].second, " cells), ", r.name),
          Measure(n, [&] { return get(rollup(roots[0].first, r, false)); }));
  }
  // Each root as many times as the rows above, the worst root's p99
  // reported (a p99 of 100 calls would be their second slowest: one
  // scheduling hiccup of the host).
  {
    std::vector<double> worst;
    std::string worst_root;
    double worst_p99 = 0;
    for (const auto& entry : roots) {
      const std::string& root = entry.first;
      Latency l =
          Measure(n, [&] { return get(rollup(root, ranges[0], false)); });
      if (l.p99 > worst_p99) {
        worst_p99 = l.p99;
        worst_root = root;
      }
    }
    std::cout << absl::StrFormat(
        "rollup, each of the %d roots, year: worst p99 %.3f ms (%s)\n",
        roots.size(), worst_p99, worst_root);
  }
  for (const Range& r : ranges) {
    print(absl::StrCat("rollup, bloc ", bloc, " (", bloc_cells, " cells), ",
                       r.name),
          Measure(n, [&] { return get(rollup(bloc, r, false)); }));
  }
  auto children_call = [&](const Range& r, bool restated) {
    v1::ChildrenRollupsRequest req;
    *req.mutable_rollup() = rollup(bloc, r, restated);
    req.set_sort_by("regular_compliance");
    req.set_descending(true);
    grpc::ClientContext ctx;
    v1::ChildrenRollupsResponse resp;
    grpc::Status s = stub->GetChildrenRollups(&ctx, req, &resp);
    if (!s.ok()) ok = false;
    return s.ok();
  };
  for (const Range& r : ranges) {
    print(absl::StrCat("children of bloc (", bloc_children,
                       " đảng bộ), sorted, ", r.name),
          Measure(n, [&] { return children_call(r, false); }));
  }
  const int restated_n = std::max(20, n / 20);
  print(
      absl::StrCat("as of structure: bloc, year (", restated_n, " calls)"),
      Measure(restated_n, [&] { return get(rollup(bloc, ranges[0], true)); }));
  print(absl::StrCat("as of structure: largest root, year (", restated_n,
                     " calls)"),
        Measure(restated_n,
                [&] { return get(rollup(roots[0].first, ranges[0], true)); }));
  print(absl::StrCat("as of structure: children of bloc, year (", restated_n,
                     " calls)"),
        Measure(restated_n, [&] { return children_call(ranges[0], true); }));
  return ok ? 0 : 1;
}

int Move() {
  auto stub = LogStub(absl::GetFlag(FLAGS_server));
  const int cells = absl::GetFlag(FLAGS_move_cells);
  const int year = absl::GetFlag(FLAGS_year);
  const v1::Date created = D(year - 1, 1, 1);
  Batcher b(stub.get(), absl::StrCat("move-", cells), 10000);
  bool ok =
      b.Add(Created("mv.a", v1::UNIT_KIND_DIRECT_UNDER_CENTRAL, "", created)) &&
      b.Add(Created("mv.b", v1::UNIT_KIND_DIRECT_UNDER_CENTRAL, "", created)) &&
      b.Add(Created("mv.x", v1::UNIT_KIND_UPPER_BASE, "mv.a", created));
  // 50 đảng bộ of cells/50 cells each, 5 members per cell, a regular
  // session per cell per month of the year.
  for (int d = 0; ok && d < 50; ++d) {
    const std::string db = absl::StrCat("mv.x.", d);
    ok =
        b.Add(Created(db, v1::UNIT_KIND_BASE_PARTY_COMMITTEE, "mv.x", created));
    for (int c = 0; ok && c < cells / 50; ++c) {
      const std::string cell = absl::StrCat(db, ".", c);
      ok = b.Add(Created(cell, v1::UNIT_KIND_ATTACHED_CELL, db, created));
      for (int m = 0; ok && m < 5; ++m) {
        ok = b.Add(Joined(absl::StrCat(cell, ".m", m), cell, created));
      }
    }
  }
  for (int month = 1; ok && month <= 12; ++month) {
    for (int d = 0; ok && d < 50; ++d) {
      for (int c = 0; ok && c < cells / 50; ++c) {
        const std::string cell = absl::StrCat("mv.x.", d, ".", c);
        v1::Event e;
        *e.mutable_business_date() = D(year, month, 5 + c % 20);
        v1::SessionHeld* s = e.mutable_session_held();
        s->set_session_id(absl::StrCat(cell, ".", month));
        s->set_unit_id(cell);
        s->set_kind(v1::SESSION_KIND_REGULAR);
        s->mutable_for_period()->set_year(year);
        s->mutable_for_period()->set_month(month);
        s->mutable_attendance()->set_convened(5);
        s->mutable_attendance()->set_present(5);
        ok = b.Add(std::move(e));
      }
    }
  }
  if (!ok || !b.Flush()) return 1;
  // The move, dated 1 July: half a year of the subtree's rows change roots.
  v1::AppendRequest move;
  v1::Event* e = move.add_events();
  *e->mutable_business_date() = D(year, 7, 1);
  e->mutable_unit_moved()->set_unit_id("mv.x");
  e->mutable_unit_moved()->set_from_parent_id("mv.a");
  e->mutable_unit_moved()->set_to_parent_id("mv.b");
  grpc::ClientContext ctx;
  v1::AppendResponse resp;
  const auto start = Clock::now();
  grpc::Status s = stub->Append(&ctx, move, &resp);
  const double ms = Ms(Clock::now() - start);
  if (!s.ok()) {
    std::cerr << "projection-bench: the move failed: " << s.error_message()
              << "\n";
    return 1;
  }
  // Check: mv.b's year now holds the second half.
  auto q = v1::Query::NewStub(grpc::CreateChannel(
      absl::GetFlag(FLAGS_server), grpc::InsecureChannelCredentials()));
  v1::RollupRequest r;
  r.set_unit_id("mv.b");
  r.mutable_period()->set_year(year);
  grpc::ClientContext qctx;
  v1::RollupResponse rr;
  if (!q->GetRollup(&qctx, r, &rr).ok()) return 1;
  std::cout << absl::StrFormat(
      "move: a subtree of %d cells (%d sessions in the year) moved to another "
      "root, backdated to 01/07: append acknowledged in %.1f ms; the new "
      "root counts %d sessions of the year (expected %d)\n",
      cells / 50 * 50, cells / 50 * 50 * 12, ms, rr.rollup().sessions_regular(),
      cells / 50 * 50 * 6);
  return rr.rollup().sessions_regular() == cells / 50 * 50 * 6 ? 0 : 1;
}

}  // namespace
}  // namespace nenep

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "hierarchy and rollup benchmarks against a running nenepd.\n"
      "usage: nenep-projection-bench [--server=HOST:PORT] "
      "seed|load|queries|move [flags]\n"
      "  seed     the units and members nenep-bench's sessions name\n"
      "  load     --scale events from the generator, appended in order\n"
      "  queries  rollup latencies (units from --meta, written by load)\n"
      "  move     time to move a --move_cells subtree, backdated");
  std::vector<char*> args = absl::ParseCommandLine(argc, argv);
  if (args.size() != 2) {
    std::cerr << "nenep-projection-bench: give one of seed, load, queries, "
                 "move (see --help)\n";
    return 2;
  }
  const std::string mode = args[1];
  if (mode == "seed") return nenep::Seed();
  if (mode == "load") return nenep::Load();
  if (mode == "queries") return nenep::Queries();
  if (mode == "move") return nenep::Move();
  std::cerr << "nenep-projection-bench: unknown mode '" << mode << "'\n";
  return 2;
}
