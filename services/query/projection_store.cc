#include "services/query/projection_store.h"

#include <deque>
#include <optional>
#include <thread>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "google/protobuf/arena.h"
#include "services/common/text.h"
#include "storage/common/logging.h"
#include "storage/common/status_macros.h"
#include "storage/projections/skim.h"

namespace nenep::services {
namespace {

// Events per chunk of a replay, and chunks parsed ahead of the applier.
constexpr size_t kReplayChunkEvents = 4096;
constexpr size_t kReplayChunks = 4;

// The arena block of a chunk: room for its parsed events (their strings
// longer than the small-string buffer live on the heap).
constexpr size_t kArenaBlock = kReplayChunkEvents * 1024;

}  // namespace

ProjectionStore::ProjectionStore(storage::EventLog* log) : log_(log) {}

std::shared_ptr<projections::Projection> ProjectionStore::NewProjection()
    const {
  storage::EventLog* log = log_;
  return std::make_shared<projections::Projection>(
      [](absl::string_view text) { return FoldForSearch(text); },
      [log](uint64_t position) -> absl::StatusOr<v1::Event> {
        ASSIGN_OR_RETURN(storage::Record record, log->Get(position));
        v1::Event event;
        if (!event.ParseFromString(record.payload)) {
          return absl::DataLossError(absl::StrCat("the event at position ",
                                                  position, " does not parse"));
        }
        return event;
      });
}

absl::StatusOr<std::unique_ptr<ProjectionStore>> ProjectionStore::Open(
    storage::EventLog* log) {
  std::unique_ptr<ProjectionStore> store(new ProjectionStore(log));
  const absl::Time start = absl::Now();
  std::shared_ptr<projections::Projection> p = store->NewProjection();
  const storage::Position head = log->Head();
  uint64_t events = 0;
  RETURN_IF_ERROR(
      store->Replay(p.get(), 1, head, &events, &store->skipped_on_open_));
  {
    absl::MutexLock lock(&store->ptr_mu_);
    store->live_ = std::move(p);
  }
  {
    absl::MutexLock lock(&store->durable_mu_);
    store->durable_ = head;
  }
  const absl::Duration took = absl::Now() - start;
  logging::Info("projections built from the log",
                {{"events", events},
                 {"skipped", store->skipped_on_open_},
                 {"ms", absl::ToInt64Milliseconds(took)},
                 {"events_per_s",
                  static_cast<int64_t>(
                      events / std::max(absl::ToDoubleSeconds(took), 1e-6))}});
  return store;
}

absl::Status ProjectionStore::Replay(projections::Projection* p,
                                     storage::Position from,
                                     storage::Position to, uint64_t* events,
                                     uint64_t* skipped) const {
  if (from > to) return absl::OkStatus();
  // A reader thread scans the log into chunks while this thread applies
  // them. Parsing goes to whichever thread has time: the reader parses a
  // chunk when the applier still has work queued, and hands it over raw
  // when the applier waits, so both cores stay busy.
  // Chunks are reused: the reader recycles the ones the applier is done
  // with, so their memory is not mapped, zeroed and unmapped again for
  // every chunk, and what they free is freed on the reader's thread.
  struct Chunk {
    storage::Position first = 0;
    std::string bytes;                               // raw payloads
    std::vector<std::pair<uint32_t, uint32_t>> raw;  // offset, size
    std::unique_ptr<char[]> block{new char[kArenaBlock]};
    std::optional<google::protobuf::Arena> arena;
    std::vector<const v1::Event*> events;  // once parsed
    void Recycle(storage::Position at) {
      first = at;
      bytes.clear();
      raw.clear();
      events.clear();
      arena.reset();
      google::protobuf::ArenaOptions options;
      options.initial_block = block.get();
      options.initial_block_size = kArenaBlock;
      options.max_block_size = kArenaBlock;
      arena.emplace(options);
    }
    absl::Status Parse() {
      events.reserve(raw.size());
      for (size_t i = 0; i < raw.size(); ++i) {
        v1::Event* e =
            google::protobuf::Arena::CreateMessage<v1::Event>(&*arena);
        if (!e->ParseFromArray(bytes.data() + raw[i].first,
                               static_cast<int>(raw[i].second))) {
          return absl::DataLossError(absl::StrCat(
              "the event at position ", first + i, " does not parse"));
        }
        events.push_back(e);
      }
      return absl::OkStatus();
    }
  };
  absl::Mutex mu;
  std::deque<std::unique_ptr<Chunk>> queue;   // guarded by mu
  std::vector<std::unique_ptr<Chunk>> spare;  // guarded by mu
  bool done = false;                          // guarded by mu
  absl::Status read_status;                   // guarded by mu
  std::thread reader([&] {
    std::unique_ptr<Chunk> chunk;
    // Without the text no projection reads: less to parse (skim.h).
    projections::Skimmer skimmer;
    auto hand_over = [&] {
      bool applier_idle;
      {
        absl::MutexLock lock(&mu);
        applier_idle = queue.empty();
      }
      if (!applier_idle) {
        absl::Status parsed = chunk->Parse();
        if (!parsed.ok()) {
          absl::MutexLock lock(&mu);
          read_status = parsed;
          return false;
        }
      }
      absl::MutexLock lock(&mu);
      auto room = [&] { return queue.size() < kReplayChunks; };
      mu.Await(absl::Condition(&room));
      queue.push_back(std::move(chunk));
      return true;
    };
    absl::Status s = log_->Scan(
        from, to, [&](storage::Position position, absl::string_view payload) {
          if (chunk == nullptr) {
            {
              absl::MutexLock lock(&mu);
              if (!spare.empty()) {
                chunk = std::move(spare.back());
                spare.pop_back();
              }
            }
            if (chunk == nullptr) {
              chunk = std::make_unique<Chunk>();
              chunk->raw.reserve(kReplayChunkEvents);
              chunk->bytes.reserve(kReplayChunkEvents * 256);
            }
            chunk->Recycle(position);
          }
          const size_t at = chunk->bytes.size();
          if (!skimmer.Skim(payload, &chunk->bytes)) {
            chunk->bytes.append(payload.data(), payload.size());
          }
          chunk->raw.emplace_back(
              static_cast<uint32_t>(at),
              static_cast<uint32_t>(chunk->bytes.size() - at));
          return chunk->raw.size() < kReplayChunkEvents || hand_over();
        });
    if (s.ok() && chunk != nullptr && !chunk->raw.empty()) hand_over();
    absl::MutexLock lock(&mu);
    if (read_status.ok()) read_status = s;
    done = true;
  });
  absl::Status status;
  while (true) {
    std::unique_ptr<Chunk> chunk;
    {
      absl::MutexLock lock(&mu);
      auto ready = [&] { return !queue.empty() || done; };
      mu.Await(absl::Condition(&ready));
      if (queue.empty()) {
        status = read_status;
        break;
      }
      chunk = std::move(queue.front());
      queue.pop_front();
    }
    if (chunk->events.size() != chunk->raw.size()) {
      status = chunk->Parse();
      if (!status.ok()) break;
    }
    p->ApplyLogged(chunk->events, chunk->first,
                   [&](uint64_t position, const absl::Status& st) {
                     if (++*skipped <= 20) {
                       logging::Warn(
                           "replay: the projections refuse a logged event; "
                           "it does not count in them",
                           {{"position", position}, {"error", st}});
                     }
                   });
    *events += chunk->events.size();
    absl::MutexLock lock(&mu);
    spare.push_back(std::move(chunk));
  }
  if (!status.ok()) {
    // Let the reader finish: drain what it still hands over.
    while (true) {
      absl::MutexLock lock(&mu);
      queue.clear();
      if (done) break;
      mu.AwaitWithTimeout(absl::Condition(&done), absl::Milliseconds(10));
    }
  }
  reader.join();
  return status;
}

std::shared_ptr<projections::Projection> ProjectionStore::live() const {
  absl::MutexLock lock(&ptr_mu_);
  return live_;
}

std::shared_ptr<const projections::Projection> ProjectionStore::Get() const {
  return live();
}

void ProjectionStore::BeginGroup() { group_mu_.Lock(); }

void ProjectionStore::EndGroup(bool written) { group_mu_.Unlock(); }

absl::Status ProjectionStore::Admit(const storage::AppendRequest& request,
                                    storage::Position first) {
  const size_t n = request.events.size();
  if (scratch_.size() < n) scratch_.resize(n);
  std::vector<const v1::Event*>& events = event_ptrs_;
  events.resize(n);
  for (size_t i = 0; i < n; ++i) {
    const storage::NewEvent& e = request.events[i];
    if (e.decoded != nullptr) {
      events[i] = static_cast<const v1::Event*>(e.decoded);
      continue;
    }
    if (!scratch_[i].ParseFromString(e.payload)) {
      return absl::InvalidArgumentError(
          absl::StrCat("events[", i, "]: the event does not parse"));
    }
    events[i] = &scratch_[i];
  }
  // The committer holds group_mu_, so live_ cannot be replaced meanwhile.
  return live()->Apply(events, first);
}

void ProjectionStore::Durable(storage::Position last) {
  absl::MutexLock lock(&durable_mu_);
  if (last > durable_) durable_ = last;
}

void ProjectionStore::Failed(const absl::Status& status) {
  absl::MutexLock lock(&durable_mu_);
  failed_ = status;
}

absl::Status ProjectionStore::AwaitDurable(storage::Position position,
                                           absl::Duration timeout) {
  absl::MutexLock lock(&durable_mu_);
  auto ready = [this, position]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(durable_mu_) {
    return durable_ >= position || !failed_.ok();
  };
  durable_mu_.AwaitWithTimeout(absl::Condition(&ready), timeout);
  if (!failed_.ok()) {
    return absl::UnavailableError(
        absl::StrCat("the store failed to sync (", failed_.message(),
                     "); answers are withheld until the store is reopened"));
  }
  if (durable_ < position) {
    return absl::UnavailableError(
        "the log did not become durable in time; retry");
  }
  return absl::OkStatus();
}

absl::StatusOr<RebuildResult> ProjectionStore::Rebuild() {
  absl::MutexLock rebuild(&rebuild_mu_);
  const absl::Time start = absl::Now();
  RebuildResult result;
  std::shared_ptr<projections::Projection> fresh = NewProjection();
  const storage::Position bulk = log_->Head();
  RETURN_IF_ERROR(
      Replay(fresh.get(), 1, bulk, &result.events, &result.skipped));
  // Hold groups back, then catch up to the live position.
  absl::MutexLock groups(&group_mu_);
  std::shared_ptr<projections::Projection> current = live();
  const storage::Position position = current->applied();
  RETURN_IF_ERROR(AwaitDurable(position, absl::Seconds(30)));
  RETURN_IF_ERROR(
      Replay(fresh.get(), bulk + 1, position, &result.events, &result.skipped));
  result.position = position;
  result.replay = absl::Now() - start;
  result.live_checksum = current->Checksum();
  result.rebuilt_checksum = fresh->Checksum();
  if (result.live_checksum != result.rebuilt_checksum) {
    logging::Error(
        "rebuilt projections differ from the live ones; the "
        "rebuilt ones replace them",
        {{"position", position},
         {"live", result.live_checksum},
         {"rebuilt", result.rebuilt_checksum}});
    absl::MutexLock lock(&ptr_mu_);
    live_ = std::move(fresh);
    result.replaced = true;
  }
  result.elapsed = absl::Now() - start;
  logging::Info("projections rebuilt",
                {{"position", position},
                 {"events", result.events},
                 {"ms", absl::ToInt64Milliseconds(result.elapsed)},
                 {"replay_ms", absl::ToInt64Milliseconds(result.replay)},
                 {"equal", !result.replaced}});
  return result;
}

absl::Status ProjectionStore::Reload() {
  absl::MutexLock rebuild(&rebuild_mu_);
  absl::MutexLock groups(&group_mu_);
  const absl::Time start = absl::Now();
  std::shared_ptr<projections::Projection> fresh = NewProjection();
  const storage::Position head = log_->Head();
  uint64_t events = 0, skipped = 0;
  RETURN_IF_ERROR(Replay(fresh.get(), 1, head, &events, &skipped));
  {
    absl::MutexLock lock(&ptr_mu_);
    live_ = std::move(fresh);
  }
  {
    absl::MutexLock lock(&as_of_mu_);
    as_of_.clear();  // may hold positions the reopened log does not
  }
  {
    absl::MutexLock lock(&durable_mu_);
    durable_ = head;
    failed_ = absl::OkStatus();
  }
  logging::Info("projections reloaded from the reopened log",
                {{"events", events},
                 {"head_position", head},
                 {"ms", absl::ToInt64Milliseconds(absl::Now() - start)}});
  return absl::OkStatus();
}

absl::StatusOr<std::shared_ptr<const projections::Projection>>
ProjectionStore::AsOf(storage::Position position) {
  absl::MutexLock lock(&as_of_mu_);
  for (const auto& [at, p] : as_of_) {
    if (at == position) return p;
  }
  const absl::Time start = absl::Now();
  uint64_t events = 0, skipped = 0;
  ASSIGN_OR_RETURN(std::shared_ptr<const projections::Projection> p,
                   ReplayTo(position, {}, &events, &skipped));
  logging::Info(
      "projection rebuilt as known at a past position",
      {{"position", position},
       {"events", events},
       {"replay_ms", absl::ToInt64Milliseconds(absl::Now() - start)}});
  if (as_of_.size() == 2) as_of_.erase(as_of_.begin());
  as_of_.emplace_back(position, p);
  return p;
}

absl::StatusOr<storage::Position> ProjectionStore::PositionAt(
    absl::Time t, storage::Position head) const {
  // recorded_at never goes backwards along the log: a binary search.
  storage::Position lo = 0, hi = head;  // the answer is in [lo, hi]
  while (lo < hi) {
    const storage::Position mid = lo + (hi - lo + 1) / 2;
    ASSIGN_OR_RETURN(storage::Record r, log_->Get(mid));
    if (r.recorded_at <= t) {
      lo = mid;
    } else {
      hi = mid - 1;
    }
  }
  return lo;
}

absl::StatusOr<std::shared_ptr<const projections::Projection>>
ProjectionStore::ReplayTo(
    storage::Position to,
    const std::function<void(storage::Position)>& progress, uint64_t* events,
    uint64_t* skipped) const {
  constexpr storage::Position kStep = 200000;
  std::shared_ptr<projections::Projection> p = NewProjection();
  for (storage::Position from = 1; from <= to; from += kStep) {
    const storage::Position last = std::min(to, from + kStep - 1);
    RETURN_IF_ERROR(Replay(p.get(), from, last, events, skipped));
    if (progress) progress(last);
  }
  return std::shared_ptr<const projections::Projection>(std::move(p));
}

absl::StatusOr<ProjectionStore*> ProjectionHandle::Get() const {
  ProjectionStore* store = store_.load(std::memory_order_acquire);
  if (store == nullptr && off_) {
    return absl::FailedPreconditionError(
        "this server runs without projections (--projections=false)");
  }
  if (store == nullptr) {
    return absl::UnavailableError(
        "the store is not open (the server is starting or stopping); retry "
        "shortly");
  }
  return store;
}

}  // namespace nenep::services
