// RocksDbEventLog: the committer. One thread takes what is queued, checks
// request ids and expected revisions in order, assigns positions, writes one
// WriteBatch with sync=true and answers only after the sync returns.

#include <algorithm>
#include <utility>

#include "absl/container/inlined_vector.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/types/span.h"
#include "nenep/storage/v1/records.pb.h"
#include "rocksdb/write_batch.h"
#include "storage/common/coding.h"
#include "storage/common/logging.h"
#include "storage/common/status_macros.h"
#include "storage/log/log_format.h"
#include "storage/log/rocks_status.h"
#include "storage/log/rocksdb_event_log_impl.h"

namespace nenep::storage::internal {
namespace {

absl::Status Aborted(absl::string_view stream, const ExpectedRevision& expected,
                     Revision actual, size_t event_index) {
  std::string want;
  switch (expected.kind) {
    case ExpectedRevision::Kind::kNoStream:
      want = "no stream";
      break;
    case ExpectedRevision::Kind::kExact:
      want = absl::StrCat("revision ", expected.revision);
      break;
    case ExpectedRevision::Kind::kStreamExists:
      want = "an existing stream";
      break;
    case ExpectedRevision::Kind::kAny:
      want = "any revision";
      break;
  }
  absl::Status status = absl::AbortedError(absl::StrCat(
      "wrong expected revision for stream '", stream, "' (event ", event_index,
      " of the request): expected ", want, ", but the stream is at revision ",
      actual, actual == 0 ? " (it does not exist)" : "",
      "; re-read the stream and retry"));
  status.SetPayload(kAbortedRevisionPayload, absl::Cord(absl::StrCat(actual)));
  return status;
}

bool Satisfies(const ExpectedRevision& expected, Revision actual) {
  switch (expected.kind) {
    case ExpectedRevision::Kind::kAny:
      return true;
    case ExpectedRevision::Kind::kNoStream:
      return actual == 0;
    case ExpectedRevision::Kind::kExact:
      return actual == expected.revision;
    case ExpectedRevision::Kind::kStreamExists:
      return actual > 0;
  }
  return false;
}

// The heads of the streams one request touches, as it would leave them,
// each with the cache entry it replaces on acceptance: a short list for the
// usual one or two streams, a hash map for batches.
class RequestHeads {
 public:
  struct Head {
    StreamHead* cached;  // in the committer's StreamHeadCache
    StreamHead head;
  };
  explicit RequestHeads(size_t events) {
    if (events > kSmall) map_.reserve(events);
  }
  // The entry of `stream`, and whether it is new (then `head` is unset).
  std::pair<Head*, bool> Get(absl::string_view stream) {
    if (map_.capacity() == 0) {
      for (auto& [name, head] : small_) {
        if (name == stream) return {&head, false};
      }
      small_.emplace_back(stream, Head{});
      return {&small_.back().second, true};
    }
    auto [it, added] = map_.try_emplace(stream);
    return {&it->second, added};
  }
  template <typename F>
  void ForEach(F f) {
    for (auto& [name, head] : small_) f(head);
    for (auto& [name, head] : map_) f(head);
  }

 private:
  static constexpr size_t kSmall = 8;
  absl::InlinedVector<std::pair<absl::string_view, Head>, kSmall> small_;
  absl::flat_hash_map<absl::string_view, Head> map_;
};

// How many events ahead the committer prefetches stream heads.
constexpr size_t kHeadPrefetch = 4;

size_t RequestBytes(const AppendRequest& request) {
  size_t bytes = request.request_id.size() + request.principal.size() + 64;
  for (const NewEvent& e : request.events) {
    bytes += e.stream.size() + e.type.size() + e.payload.size() + 32;
  }
  return bytes;
}

}  // namespace

StreamHead* StreamHeadCache::Find(const std::string& stream) {
  if (auto it = current_.find(stream); it != current_.end()) {
    return &it->second;
  }
  if (auto it = previous_.find(stream); it != previous_.end()) {
    return &current_.emplace(StreamKey(stream), it->second).first->second;
  }
  return nullptr;
}

StreamHead* StreamHeadCache::Insert(const std::string& stream,
                                    const StreamHead& head) {
  StreamHead& slot = current_.try_emplace(StreamKey(stream)).first->second;
  slot = head;
  return &slot;
}

void StreamHeadCache::Rotate(Position indexed) {
  if (current_.size() < generation_limit_) return;
  Map older = std::move(previous_);
  previous_ = std::move(current_);
  current_ = {};
  for (auto& [name, h] : older) {
    // An entry of `older` also in previous_ is an outdated copy.
    if (h.last_position > indexed && !previous_.contains(name)) {
      current_.emplace(name, h);
    }
  }
}

void RocksDbEventLog::AppendAsync(AppendRequest request, AppendCallback done) {
  absl::Status refused;
  if (request.events.empty()) {
    refused = absl::InvalidArgumentError("an append needs at least one event");
  } else if (!request.request_id.empty() && request.body_hash.empty()) {
    refused = absl::InvalidArgumentError("a request_id needs a body hash");
  } else {
    for (const NewEvent& e : request.events) {
      refused = CheckStreamName(e.stream);
      if (!refused.ok()) break;
    }
  }
  if (refused.ok()) {
    const size_t bytes = RequestBytes(request);
    bool idle = false;  // then this thread holds committing_ and syncing_
    {
      absl::MutexLock lock(&mu_);
      if (closing_) {
        refused = absl::UnavailableError(
            "the log is closing; nothing was written, retry with the same "
            "request_id");
      } else if (queued_bytes_ + bytes > options_.max_queued_bytes &&
                 !queue_.empty()) {
        refused = absl::ResourceExhaustedError(
            absl::StrCat("the commit queue is full (", queued_bytes_ >> 20,
                         " MiB waiting); nothing was written, retry shortly"));
      } else {
        if (options_.commit_on_caller_when_idle && queue_.empty() &&
            !committing_) {
          // Lock order: mu_, then sync_mu_.
          absl::MutexLock sync_lock(&sync_mu_);
          idle = sync_queue_.empty() && !syncing_ && last_synced_requests_ <= 1;
          if (idle) syncing_ = true;
        }
        if (!idle) {
          queued_bytes_ += bytes;
          queue_.push_back(Pending{std::move(request), std::move(done), bytes});
          return;
        }
        committing_ = true;
      }
    }
    if (idle) {
      CommitOnCaller(Pending{std::move(request), std::move(done), bytes});
      return;
    }
  }
  std::move(done)(std::move(refused));
}

void RocksDbEventLog::CommitOnCaller(Pending pending) {
  std::vector<Pending> group;
  group.push_back(std::move(pending));
  std::optional<SyncJob> job = CommitGroup(&group);
  {
    // Requests that queued meanwhile go to the committer; their sync waits
    // for this one (syncing_ is held).
    absl::MutexLock lock(&mu_);
    committing_ = false;
  }
  if (job.has_value()) {
    SyncAndAnswer(absl::MakeSpan(&*job, 1));
  } else {
    EndSync({});
  }
}

void RocksDbEventLog::CommitterLoop() {
  std::vector<Pending> group;
  while (true) {
    group.clear();
    {
      absl::MutexLock lock(&mu_);
      mu_.Await(absl::Condition(this, &RocksDbEventLog::HasWorkLocked));
      if (queue_.empty()) break;  // closing and drained
      committing_ = true;
      size_t events = 0;
      size_t bytes = 0;
      while (!queue_.empty()) {
        Pending& next = queue_.front();
        const size_t n = next.request.events.size();
        if (!group.empty() && (events + n > options_.max_group_events ||
                               bytes + next.bytes > options_.max_group_bytes)) {
          break;
        }
        events += n;
        bytes += next.bytes;
        queued_bytes_ -= next.bytes;
        group.push_back(std::move(next));
        queue_.pop_front();
      }
    }
    std::optional<SyncJob> job = CommitGroup(&group);
    if (job.has_value()) {
      // Only this thread adds to sync_queue_, so the room awaited here is
      // still there once both locks are held below.
      absl::MutexLock lock(&sync_mu_);
      sync_mu_.Await(
          absl::Condition(this, &RocksDbEventLog::HasSyncRoomLocked));
    }
    // The job is handed over and committing_ cleared in one step (lock
    // order: mu_, then sync_mu_): a caller answered from this job may
    // append again at once, and must not find the committer still busy.
    absl::MutexLock lock(&mu_);
    absl::MutexLock sync_lock(&sync_mu_);
    if (job.has_value()) sync_queue_.push_back(*std::move(job));
    committing_ = false;
  }
}

absl::StatusOr<StreamHead*> RocksDbEventLog::CommittedHead(
    const std::string& stream) {
  if (StreamHead* cached = heads_.Find(stream)) return cached;
  // Not cached: every event of the stream is in the index.
  ASSIGN_OR_RETURN(StreamHead head, ReadHead(stream));
  return heads_.Insert(stream, head);
}

absl::StatusOr<AppendResult> RocksDbEventLog::PriorResult(
    absl::string_view request_id, const std::string& value) {
  v1::RequestRecord record;
  if (!record.ParseFromString(value)) {
    return absl::DataLossError(
        absl::StrCat("corrupt record of request_id '", request_id, "'"));
  }
  AppendResult result;
  result.first_position = record.first_position();
  result.last_position = record.first_position() + record.count() - 1;
  result.recorded_at = absl::FromUnixMicros(record.recorded_at_micros());
  result.already_appended = true;
  for (Position p = result.first_position; p <= result.last_position; ++p) {
    std::string bytes;
    RETURN_IF_ERROR(
        FromRocks(db_->Get(rocksdb::ReadOptions(), log_cf_, LogKey(p), &bytes),
                  absl::StrCat("reading position ", p)));
    v1::LogRecord rec;
    if (!rec.ParseFromString(bytes)) {
      return absl::DataLossError(
          absl::StrCat("corrupt log record at position ", p));
    }
    result.revisions.push_back(rec.revision());
  }
  return result;
}

std::optional<RocksDbEventLog::SyncJob> RocksDbEventLog::CommitGroup(
    std::vector<Pending>* group) {
  const absl::Time wall = absl::Now();
  const int64_t micros =
      std::max(absl::ToUnixMicros(options_.clock()), committer_last_micros_);
  size_t group_bytes = 0;
  for (const Pending& p : *group) group_bytes += p.bytes;
  rocksdb::WriteBatch batch(group_bytes + group_bytes / 4 + 1024);
  std::vector<Outcome> outcomes(group->size());
  heads_.Rotate(indexed_.load(std::memory_order_acquire));
  // Each event adds at most one head to the cache: with room for them, the
  // pointers the requests hold stay valid through the group.
  size_t group_events = 0;
  for (const Pending& p : *group) group_events += p.request.events.size();
  heads_.Reserve(group_events);
  // The heads the accepted requests replaced in the cache, to put back if
  // the group's write fails.
  std::vector<std::pair<StreamHead*, StreamHead>> replaced;
  // request_id -> index of the request of this group that carries it.
  absl::flat_hash_map<std::string, int> group_requests;
  std::vector<IndexEntry> index_entries;
  // Every record is encoded in `value`, copied into the batch and hashed
  // as a Merkle leaf: the tree's thread gets 32 bytes per event, not the
  // record.
  std::string value;
  std::string leaves;
  Position next = next_position_;
  size_t accepted = 0;
  CommitHook* const hook = hook_.load(std::memory_order_acquire);
  if (hook != nullptr) hook->BeginGroup();

  for (size_t i = 0; i < group->size(); ++i) {
    AppendRequest& req = (*group)[i].request;
    Outcome& out = outcomes[i];
    if (wall > req.deadline) {
      out.status = absl::DeadlineExceededError(
          "the deadline passed while the append was queued; nothing was "
          "written");
      continue;
    }
    if (!req.request_id.empty()) {
      if (auto it = group_requests.find(req.request_id);
          it != group_requests.end()) {
        if ((*group)[it->second].request.body_hash == req.body_hash) {
          out.repeat_of = it->second;
        } else {
          out.status = absl::AlreadyExistsError(absl::StrCat(
              "request_id '", req.request_id,
              "' was already used for a different request; use a new "
              "request_id for new events"));
        }
        continue;
      }
      std::string prior;
      rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), requests_cf_,
                                   req.request_id, &prior);
      if (s.ok()) {
        v1::RequestRecord record;
        if (record.ParseFromString(prior) &&
            record.body_hash() != req.body_hash) {
          out.status = absl::AlreadyExistsError(absl::StrCat(
              "request_id '", req.request_id,
              "' was already used for a different request (at position ",
              record.first_position(),
              "); use a new request_id for new events"));
        } else {
          absl::StatusOr<AppendResult> r = PriorResult(req.request_id, prior);
          if (r.ok()) {
            out.result = *std::move(r);
          } else {
            out.status = r.status();
          }
        }
        continue;
      }
      if (!s.IsNotFound()) {
        out.status = FromRocks(s, "looking up a request_id");
        continue;
      }
    }

    // Check every expectation against the heads as this request would leave
    // them, then place the events. Most requests touch one stream.
    RequestHeads local(req.events.size());
    std::vector<Revision> revisions;
    revisions.reserve(req.events.size());
    absl::Status status;
    for (size_t k = 0; k < req.events.size(); ++k) {
      const NewEvent& e = req.events[k];
      // A batch's streams are spread over the cache: start the lookup of
      // a later event's stream now, so its cache misses overlap this one.
      if (k + kHeadPrefetch < req.events.size()) {
        heads_.Prefetch(req.events[k + kHeadPrefetch].stream);
      }
      auto [entry, added] = local.Get(e.stream);
      if (added) {
        // The cache holds what the accepted requests of this group left.
        absl::StatusOr<StreamHead*> cached = CommittedHead(e.stream);
        if (!cached.ok()) {
          status = cached.status();
          break;
        }
        entry->cached = *cached;
        entry->head = **cached;
      }
      StreamHead* head = &entry->head;
      if (!Satisfies(e.expected, head->revision)) {
        status = Aborted(e.stream, e.expected, head->revision, k);
        break;
      }
      head->revision += 1;
      head->last_position = next + k;
      revisions.push_back(head->revision);
    }
    if (status.ok() && hook != nullptr) status = hook->Admit(req, next);
    if (!status.ok()) {
      out.status = std::move(status);
      continue;
    }

    for (size_t k = 0; k < req.events.size(); ++k) {
      NewEvent& e = req.events[k];
      char key[8];
      PutLogKey(next + k, key);
      EncodeLogRecord(e.stream, revisions[k], micros, e.type, e.payload,
                      req.request_id, req.principal, &value);
      batch.Put(log_cf_, rocksdb::Slice(key, 8), value);
      merkle::AppendLeafHash(value, &leaves);
      std::string().swap(e.payload);  // free it now, not with the group
    }
    if (!req.request_id.empty()) {
      v1::RequestRecord record;
      record.set_body_hash(req.body_hash);
      record.set_first_position(next);
      record.set_count(static_cast<uint32_t>(req.events.size()));
      record.set_recorded_at_micros(micros);
      batch.Put(requests_cf_, req.request_id, record.SerializeAsString());
      group_requests.emplace(req.request_id, static_cast<int>(i));
    }
    local.ForEach([&](RequestHeads::Head& h) {
      replaced.emplace_back(h.cached, *h.cached);
      *h.cached = h.head;
    });
    for (size_t k = 0; k < req.events.size(); ++k) {
      index_entries.push_back(
          IndexEntry{std::move(req.events[k].stream), revisions[k], next + k});
    }
    out.accepted = true;
    out.result.first_position = next;
    out.result.last_position = next + req.events.size() - 1;
    out.result.revisions = std::move(revisions);
    out.result.recorded_at = absl::FromUnixMicros(micros);
    next += req.events.size();
    ++accepted;
  }

  // Answers that do not wait for durability go out now; the others ride
  // with the group to the syncer.
  SyncJob job;
  job.answers.reserve(accepted);
  auto answer_now = [](AppendCallback& done, absl::StatusOr<AppendResult> r) {
    std::move(done)(std::move(r));
  };

  bool written = false;
  if (accepted > 0) {
    // The WAL write without its sync: the syncer syncs while this thread
    // prepares the next group. Nothing is published or answered before the
    // sync returns.
    rocksdb::WriteOptions wo;
    wo.sync = false;
    const absl::Time start = absl::Now();
    rocksdb::Status s = sync_failed_.load()
                            ? rocksdb::Status::IOError("an earlier sync failed")
                            : db_->Write(wo, &batch);
    job.written_at = absl::Now();
    job.write_latency = job.written_at - start;
    if (s.ok()) {
      written = true;
      job.first = next_position_;
      job.last = next - 1;
      job.requests = accepted;
      job.recorded_micros = micros;
      next_position_ = next;
      committer_last_micros_ = micros;
      job.view = MakeView(db_.get(), next - 1);
      job.index_entries = std::move(index_entries);
      job.leaves = std::move(leaves);
    } else {
      for (auto it = replaced.rbegin(); it != replaced.rend(); ++it) {
        *it->first = it->second;
      }
      absl::Status failed = FromRocks(s, "committing appends");
      logging::Error("commit failed; nothing of the group is visible",
                     {{"requests", accepted}, {"error", failed}});
      absl::Status answer = absl::UnavailableError(
          absl::StrCat("the store could not write (", failed.message(),
                       "); the append is not acknowledged, retry with the "
                       "same request_id"));
      for (Outcome& out : outcomes) {
        if (out.accepted) {
          out.accepted = false;
          out.status = answer;
        }
      }
      if (options_.listener != nullptr) {
        options_.listener->OnCommitFailed(failed);
      }
      if (hook != nullptr) {
        // The hook took in requests the log does not hold: stop here; a
        // reopen rebuilds what hangs on the log from the log.
        sync_failed_.store(true);
        logging::Error(
            "refusing appends until the store is reopened: the "
            "projections hold requests of the failed group");
      } else if (!sync_failed_.load()) {
        db_->Resume().PermitUncheckedError();
      }
    }
  }
  if (hook != nullptr) hook->EndGroup(accepted == 0 || written);

  for (size_t i = 0; i < group->size(); ++i) {
    Outcome& out = outcomes[i];
    AppendCallback& done = (*group)[i].done;
    if (out.repeat_of >= 0) {
      const Outcome& first = outcomes[out.repeat_of];
      if (!first.status.ok()) {
        answer_now(done, first.status);
      } else {
        AppendResult r = first.result;
        r.already_appended = true;
        job.answers.emplace_back(std::move(done), std::move(r));
      }
    } else if (out.accepted) {
      job.answers.emplace_back(std::move(done), std::move(out.result));
    } else if (out.status.ok()) {
      // An earlier request's result (a repeated request_id): durable already.
      answer_now(done, std::move(out.result));
    } else {
      answer_now(done, out.status);
    }
  }
  if (!written) return std::nullopt;
  return job;
}

void RocksDbEventLog::SyncerLoop() {
  std::vector<SyncJob> jobs;
  while (true) {
    {
      absl::MutexLock lock(&sync_mu_);
      sync_mu_.Await(
          absl::Condition(this, &RocksDbEventLog::HasSyncWorkLocked));
      if (sync_queue_.empty()) return;  // stopping and drained
      jobs.swap(sync_queue_);
      syncing_ = true;
    }
    SyncAndAnswer(absl::MakeSpan(jobs));
    jobs.clear();
  }
}

void RocksDbEventLog::EndSync(absl::Span<const SyncJob> jobs) {
  size_t requests = 0;
  for (const SyncJob& job : jobs) requests += job.answers.size();
  absl::MutexLock lock(&sync_mu_);
  syncing_ = false;
  last_synced_requests_ = requests;
}

void RocksDbEventLog::SyncAndAnswer(absl::Span<SyncJob> jobs) {
  // One fdatasync makes every group written so far durable.
  absl::Status synced = sync_failed_.load()
                            ? absl::UnavailableError("an earlier sync failed")
                            : FromRocks(db_->SyncWAL(), "syncing the log");
  if (synced.ok()) {
    {
      absl::MutexLock lock(&view_mu_);
      log_view_ = jobs.back().view;
    }
    last_recorded_micros_.store(jobs.back().recorded_micros,
                                std::memory_order_relaxed);
    if (CommitHook* hook = hook_.load(std::memory_order_acquire)) {
      hook->Durable(jobs.back().last);
    }
    for (SyncJob& job : jobs) {
      appends_committed_.fetch_add(job.requests, std::memory_order_relaxed);
      EnqueueIndex(job.last, std::move(job.index_entries));
      EnqueueMerkle(job.first, std::move(job.leaves));
      if (options_.listener != nullptr) {
        options_.listener->OnCommit(
            job.first, job.last, job.requests,
            job.write_latency + (absl::Now() - job.written_at));
      }
    }
  } else {
    // The groups may or may not be on disk: refuse everything from now on
    // rather than build on an unknown state; a restart recovers what the
    // WAL holds.
    sync_failed_.store(true);
    logging::Error(
        "syncing the log failed; refusing appends until the store is "
        "reopened",
        {{"error", synced}, {"groups", jobs.size()}});
    absl::Status answer = absl::UnavailableError(absl::StrCat(
        "the store could not sync its log (", synced.message(),
        "); the outcome of this append is unknown: retry with the same "
        "request_id once the server is back"));
    if (CommitHook* hook = hook_.load(std::memory_order_acquire)) {
      hook->Failed(synced);
    }
    if (options_.listener != nullptr) {
      for (size_t i = 0; i < jobs.size(); ++i) {
        options_.listener->OnCommitFailed(synced);
      }
    }
    for (SyncJob& job : jobs) {
      for (auto& [done, result] : job.answers) result = answer;
    }
  }
  EndSync(jobs);
  for (SyncJob& job : jobs) {
    for (auto& [done, result] : job.answers) {
      std::move(done)(std::move(result));
    }
  }
}

}  // namespace nenep::storage::internal
