// EventLogService::Append, ::AppendSession and ::BatchAppend.

#include <cstddef>
#include <deque>
#include <memory>
#include <string>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "google/protobuf/timestamp.pb.h"
#include "grpcpp/support/proto_buffer_reader.h"
#include "grpcpp/support/proto_buffer_writer.h"
#include "nenep/internal/raw_requests.pb.h"
#include "services/common/calendar.h"
#include "services/common/grpc_status.h"
#include "services/common/proto_time.h"
#include "services/eventlog/event_log_service.h"
#include "storage/common/sha256.h"
#include "storage/common/status_macros.h"

namespace nenep::services {
namespace {

storage::ExpectedRevision ToExpected(const v1::ExpectedRevision& e) {
  switch (e.kind_case()) {
    case v1::ExpectedRevision::kNoStream:
      return storage::ExpectedRevision::NoStream();
    case v1::ExpectedRevision::kExact:
      return storage::ExpectedRevision::Exact(e.exact());
    case v1::ExpectedRevision::kStreamExists:
      return storage::ExpectedRevision::StreamExists();
    case v1::ExpectedRevision::kAny:
    case v1::ExpectedRevision::KIND_NOT_SET:
      break;
  }
  return storage::ExpectedRevision::Any();
}

// The expectation as hashed into the request body.
std::string ExpectedKey(const storage::ExpectedRevision& e) {
  return absl::StrCat(static_cast<int>(e.kind), ":", e.revision);
}

absl::Time Deadline(const grpc::CallbackServerContext* context) {
  const auto deadline = context->deadline();
  if (deadline == std::chrono::system_clock::time_point::max()) {
    return absl::InfiniteFuture();
  }
  return absl::FromChrono(deadline);
}

absl::Status Invalid(absl::string_view field, absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(field, ": ", what));
}

// An arena for one request's decoded messages, starting with one block of
// `first_block` bytes and blocks growing up to 64 times that. Shared,
// because the events decoded into it ride with the request to the commit.
std::shared_ptr<google::protobuf::Arena> NewRequestArena(size_t first_block) {
  google::protobuf::ArenaOptions options;
  options.start_block_size = first_block;
  options.max_block_size = first_block * 64;
  return std::make_shared<google::protobuf::Arena>(options);
}

// `s` with the path of the event it is about in front of its message.
absl::Status Under(const std::string& path, const absl::Status& s) {
  if (s.ok()) return s;
  return absl::Status(s.code(), absl::StrCat(path, ": ", s.message()));
}

}  // namespace

EventLogService::EventLogService(const StoreHandle* store,
                                 EventLogServiceOptions options,
                                 Metrics* metrics, AccessControl* access)
    : store_(store),
      access_(access),
      options_(std::move(options)),
      metrics_(metrics) {
  if (!options_.clock) options_.clock = [] { return absl::Now(); };
}

std::shared_ptr<void> EventLogService::Admit(int64_t bytes,
                                             absl::Status* refused) {
  const int64_t before = inflight_bytes_.fetch_add(bytes);
  if (before > 0 && before + bytes > options_.max_inflight_bytes) {
    inflight_bytes_.fetch_sub(bytes);
    *refused = absl::ResourceExhaustedError(absl::StrFormat(
        "the server is busy: %d MiB of appends are in progress (at most %d "
        "MiB, nenepd --max_queued_mib); retry in a moment",
        before >> 20, options_.max_inflight_bytes >> 20));
    return nullptr;
  }
  // A non-null ticket that owns nothing: its deleter gives the bytes back.
  return std::shared_ptr<void>(
      this, [this, bytes](void*) { inflight_bytes_.fetch_sub(bytes); });
}

void EventLogService::Done(Rpc rpc, absl::Time start,
                           grpc::ServerUnaryReactor* reactor,
                           const absl::Status& status) {
  grpc::Status g = ToGrpcStatus(status);
  if (metrics_ != nullptr) {
    metrics_->RpcDone(rpc, g.error_code(), absl::Now() - start);
  }
  reactor->Finish(g);
}

absl::Status EventLogService::PrepareEvent(
    absl::string_view encoded, const std::string& path, storage::EventLog* log,
    absl::CivilDay today, const std::shared_ptr<google::protobuf::Arena>& arena,
    storage::NewEvent* out, std::string* natural_stream) {
  v1::Event* event =
      google::protobuf::Arena::CreateMessage<v1::Event>(arena.get());
  if (!event->ParseFromArray(encoded.data(),
                             static_cast<int>(encoded.size()))) {
    return Invalid(path, "does not parse as a nenep.v1.Event");
  }
  std::unique_ptr<v1::Event> normalized;
  RETURN_IF_ERROR(ValidateEncoded(*event, encoded, path, options_.limits, today,
                                  &out->payload, &normalized));
  if (normalized) {
    // Into the arena, which the append's callback keeps alive.
    event->CopyFrom(*normalized);
  }
  const v1::Event& e = *event;
  // The projections' hook reads the decoded event (valid until answered).
  out->decoded = event;
  *natural_stream = NaturalStream(e);
  if (natural_stream->empty()) {
    // A correction or retraction goes to the stream of the event it names.
    const bool correction = e.has_event_corrected();
    const uint64_t target = correction ? e.event_corrected().target_position()
                                       : e.event_retracted().target_position();
    const std::string field =
        absl::StrCat(path, correction ? ".event_corrected" : ".event_retracted",
                     ".target_position");
    absl::StatusOr<storage::Record> record = log->Get(target);
    if (absl::IsNotFound(record.status())) {
      return absl::NotFoundError(
          absl::StrCat(field, ": no event at position ", target));
    }
    RETURN_IF_ERROR(record.status());
    v1::Event target_event;
    if (!target_event.ParseFromString(record->payload)) {
      return absl::DataLossError(
          absl::StrCat("the event at position ", target, " does not parse"));
    }
    if (target_event.has_event_retracted()) {
      return absl::FailedPreconditionError(absl::StrCat(
          field, ": the event at position ", target,
          " is a retraction, which cannot be corrected or retracted"));
    }
    if (correction) {
      const v1::Event& fact = target_event.has_event_corrected()
                                  ? target_event.event_corrected().replacement()
                                  : target_event;
      if (EventTypeName(fact) !=
          EventTypeName(e.event_corrected().replacement())) {
        return Invalid(
            absl::StrCat(path, ".event_corrected.replacement"),
            absl::StrCat("is a ",
                         EventTypeName(e.event_corrected().replacement()),
                         " but the event at position ", target, " is a ",
                         EventTypeName(fact)));
      }
    }
    *natural_stream = record->stream;
  }
  out->type = std::string(EventTypeName(e));
  return absl::OkStatus();
}

namespace {

// The projections name an event of a request "events[i]"; in a BatchAppend
// it is "entries[i].event".
absl::Status EntryPaths(const absl::Status& status) {
  absl::string_view msg = status.message();
  if (!absl::StartsWith(msg, "events[")) return status;
  const size_t close = msg.find(']');
  if (close == absl::string_view::npos) return status;
  absl::Status out(status.code(),
                   absl::StrCat("entries", msg.substr(6, close - 5), ".event",
                                msg.substr(close + 1)));
  status.ForEachPayload([&out](absl::string_view url, const absl::Cord& p) {
    out.SetPayload(url, p);
  });
  return out;
}

// Parses a raw request; kInvalidArgument if the bytes are not one.
template <typename Raw>
absl::Status ParseRequest(const grpc::ByteBuffer* request, Raw* raw) {
  grpc::ByteBuffer copy = *request;  // shares the slices
  grpc::ProtoBufferReader reader(&copy);
  if (!raw->ParseFromZeroCopyStream(&reader)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the request does not parse as a ", Raw::descriptor()->full_name()));
  }
  return absl::OkStatus();
}

template <typename Response>
void SerializeResponse(const Response& message, grpc::ByteBuffer* out) {
  bool own = false;
  (void)grpc::SerializationTraits<Response>::Serialize(message, out, &own);
}

}  // namespace

absl::Status EventLogService::PrepareAppend(
    const Principal& who, const internal::RawAppendRequest& request,
    storage::EventLog* log,
    const std::shared_ptr<google::protobuf::Arena>& arena,
    storage::AppendRequest* append, std::string* stream) {
  append->principal = who.name;
  RETURN_IF_ERROR(ValidateRequestId(request.request_id()));
  if (!request.stream().empty()) {
    RETURN_IF_ERROR(ValidateStreamName(request.stream(), "stream"));
  }
  if (request.events().empty()) {
    return Invalid("events", "at least one event is required");
  }
  if (static_cast<size_t>(request.events_size()) >
      options_.limits.max_append_events) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "events: ", request.events_size(), " events; at most ",
        options_.limits.max_append_events,
        " per Append (nenepd --max_append_events); use BatchAppend for "
        "bulk imports"));
  }
  const absl::CivilDay today = LocalDay(options_.clock(), options_.zone);
  append->events.resize(request.events_size());
  // The body hash is needed only to recognize a repeated request_id.
  std::unique_ptr<Sha256> hash;
  if (!request.request_id().empty()) {
    hash = std::make_unique<Sha256>();
    hash->UpdateField("Append");
  }
  for (int i = 0; i < request.events_size(); ++i) {
    const std::string path = absl::StrCat("events[", i, "]");
    std::string natural;
    RETURN_IF_ERROR(PrepareEvent(request.events(i), path, log, today, arena,
                                 &append->events[i], &natural));
    if (access_ != nullptr) {
      RETURN_IF_ERROR(Under(
          path,
          access_->CheckEvent(
              who, *static_cast<const v1::Event*>(append->events[i].decoded),
              *log)));
    }
    if (i == 0) {
      *stream = request.stream().empty() ? natural : request.stream();
    }
    if (natural != *stream) {
      return Invalid(
          path,
          absl::StrCat("belongs to stream '", natural, "', not '", *stream,
                       "'; an Append writes one stream (use BatchAppend "
                       "for several)"));
    }
    append->events[i].stream = *stream;
    if (hash) hash->UpdateField(append->events[i].payload);
  }
  append->events[0].expected = ToExpected(request.expected_revision());
  append->request_id = request.request_id();
  if (hash) {
    hash->UpdateField(*stream);
    hash->UpdateField(ExpectedKey(append->events[0].expected));
    append->body_hash = hash->Finish();
  }
  return absl::OkStatus();
}

void FillAppendResponse(const std::string& stream,
                        const storage::AppendResult& result,
                        v1::AppendResponse* out) {
  out->set_stream(stream);
  out->set_first_position(result.first_position);
  out->set_last_position(result.last_position);
  out->set_first_revision(result.revisions.front());
  out->set_last_revision(result.revisions.back());
  ToProtoTimestamp(result.recorded_at, out->mutable_recorded_at());
  out->set_already_appended(result.already_appended);
}

grpc::ServerUnaryReactor* EventLogService::Append(
    grpc::CallbackServerContext* context, const grpc::ByteBuffer* request_bytes,
    grpc::ByteBuffer* response_bytes) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  const absl::Time start = absl::Now();
  absl::StatusOr<storage::EventLog*> log = store_->Get();
  if (!log.ok()) {
    Done(Rpc::kAppend, start, reactor, log.status());
    return reactor;
  }
  absl::Status busy;
  std::shared_ptr<void> ticket =
      Admit(static_cast<int64_t>(request_bytes->Length()), &busy);
  if (ticket == nullptr) {
    Done(Rpc::kAppend, start, reactor, busy);
    return reactor;
  }

  auto arena = NewRequestArena(4096);
  auto* request =
      google::protobuf::Arena::CreateMessage<internal::RawAppendRequest>(
          arena.get());
  storage::AppendRequest append;
  std::string stream;
  absl::Status status = [&]() -> absl::Status {
    ASSIGN_OR_RETURN(const Principal who,
                     Gate(access_, *context, Need::kAppend));
    RETURN_IF_ERROR(ParseRequest(request_bytes, request));
    RETURN_IF_ERROR(
        PrepareAppend(who, *request, *log, arena, &append, &stream));
    append.deadline = Deadline(context);
    return absl::OkStatus();
  }();
  if (!status.ok()) {
    Done(Rpc::kAppend, start, reactor, status);
    return reactor;
  }

  (*log)->AppendAsync(
      std::move(append),
      [this, start, reactor, context, response_bytes, stream, arena,
       ticket](absl::StatusOr<storage::AppendResult> result) {
        // `arena` (the decoded events) is freed here, on the log's thread
        // that answers, not on its committer.
        if (!result.ok()) {
          if (absl::optional<storage::Revision> actual =
                  storage::AbortedRevision(result.status())) {
            context->AddTrailingMetadata(kCurrentRevisionMetadata,
                                         absl::StrCat(*actual));
          }
          Done(Rpc::kAppend, start, reactor, result.status());
          return;
        }
        v1::AppendResponse response;
        FillAppendResponse(stream, *result, &response);
        SerializeResponse(response, response_bytes);
        Done(Rpc::kAppend, start, reactor, absl::OkStatus());
      });
  return reactor;
}

// One AppendSession call. The reading side (gRPC's threads) parses and
// checks each request and hands it to the log; the log's answering thread
// queues the response. Writes go out one at a time in the order answered.
// The call finishes once the client has closed its side (or gone), every
// append has been answered and every answer written; the reactor deletes
// itself in OnDone, after which no append callback can still refer to it.
class EventLogService::SessionReactor final
    : public grpc::ServerBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer> {
 public:
  SessionReactor(EventLogService* service, grpc::CallbackServerContext* context,
                 Principal who)
      : service_(service), context_(context), who_(std::move(who)) {
    StartRead(&request_);
  }

  void OnReadDone(bool ok) override {
    if (!ok) {  // the client closed its side, or the call was cancelled
      bool finish;
      {
        absl::MutexLock lock(&mu_);
        reads_done_ = true;
        finish = ShouldFinishLocked();
      }
      if (finish) Finish(grpc::Status::OK);
      return;
    }
    HandleRequest();
    bool read_more;
    {
      absl::MutexLock lock(&mu_);
      read_paused_ = pending_ >= kMaxSessionPipeline;
      read_more = !read_paused_;
    }
    if (read_more) StartRead(&request_);
  }

  void OnWriteDone(bool ok) override {
    bool write_next = false;
    bool finish;
    {
      absl::MutexLock lock(&mu_);
      if (!ok) {  // the client is gone: its answers cannot be delivered
        broken_ = true;
        to_write_.clear();
      }
      if (!to_write_.empty()) {
        writing_buffer_ = std::move(to_write_.front());
        to_write_.pop_front();
        write_next = true;
      } else {
        writing_ = false;
      }
      finish = ShouldFinishLocked();
    }
    if (write_next) StartWrite(&writing_buffer_);
    if (finish) Finish(grpc::Status::OK);
  }

  void OnDone() override {
    // Every other reaction and answer has returned by now, as gRPC orders
    // with atomics ThreadSanitizer cannot see; taking mu_ once, as they
    // all did, shows it that order.
    { absl::MutexLock lock(&mu_); }
    delete this;
  }

 private:
  // Handles the request in request_: answers at once if it is refused, or
  // hands it to the log, which answers through Answer.
  void HandleRequest() {
    const absl::Time start = absl::Now();
    auto arena = NewRequestArena(4096);
    auto* request = google::protobuf::Arena::CreateMessage<
        internal::RawAppendSessionRequest>(arena.get());
    const absl::Status parsed = ParseRequest(&request_, request);
    const uint64_t id = request->correlation_id();
    std::shared_ptr<void> ticket;
    storage::AppendRequest append;
    std::string stream;
    absl::StatusOr<storage::EventLog*> log = service_->store_->Get();
    absl::Status status = [&]() -> absl::Status {
      RETURN_IF_ERROR(parsed);
      RETURN_IF_ERROR(log.status());
      absl::Status busy;
      ticket = service_->Admit(static_cast<int64_t>(request_.Length()), &busy);
      if (ticket == nullptr) return busy;
      // Messages as the unary Append's: they name fields of the append.
      RETURN_IF_ERROR(service_->PrepareAppend(who_, request->append(), *log,
                                              arena, &append, &stream));
      append.deadline = Deadline(context_);
      return absl::OkStatus();
    }();
    {
      absl::MutexLock lock(&mu_);
      ++pending_;
    }
    if (!status.ok()) {
      Answer(id, start, status, nullptr, "");
      return;
    }
    (*log)->AppendAsync(std::move(append),
                        [this, id, start, stream = std::move(stream), arena,
                         ticket](absl::StatusOr<storage::AppendResult> result) {
                          Answer(id, start, result.status(),
                                 result.ok() ? &*result : nullptr, stream);
                        });
  }

  // Queues the answer to the append `id` (any thread) and writes it if no
  // write is in flight; `result` is set when `status` is OK.
  void Answer(uint64_t id, absl::Time start, const absl::Status& status,
              const storage::AppendResult* result, const std::string& stream) {
    const grpc::Status g = ToGrpcStatus(status);
    if (service_->metrics_ != nullptr) {
      service_->metrics_->RpcDone(Rpc::kAppend, g.error_code(),
                                  absl::Now() - start);
    }
    v1::AppendSessionResponse response;
    response.set_correlation_id(id);
    response.set_code(g.error_code());
    response.set_message(g.error_message());
    if (result != nullptr) {
      FillAppendResponse(stream, *result, response.mutable_result());
    } else if (absl::optional<storage::Revision> actual =
                   storage::AbortedRevision(status)) {
      response.set_current_revision(*actual);
    }
    grpc::ByteBuffer bytes;
    SerializeResponse(response, &bytes);
    bool write_now = false;
    bool read_more = false;
    bool finish;
    {
      absl::MutexLock lock(&mu_);
      --pending_;
      if (!broken_) {
        if (writing_) {
          to_write_.push_back(std::move(bytes));
        } else {
          writing_ = true;
          writing_buffer_ = std::move(bytes);
          write_now = true;
        }
      }
      if (read_paused_ && pending_ < kMaxSessionPipeline) {
        read_paused_ = false;
        read_more = true;
      }
      finish = ShouldFinishLocked();
    }
    if (write_now) StartWrite(&writing_buffer_);
    if (read_more) StartRead(&request_);
    if (finish) Finish(grpc::Status::OK);
  }

  // Whether the call can finish now; true once only.
  bool ShouldFinishLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (finished_ || !reads_done_ || pending_ > 0 || writing_) return false;
    finished_ = true;
    return true;
  }

  EventLogService* const service_;
  grpc::CallbackServerContext* const context_;
  const Principal who_;
  // The read in flight; touched only between a StartRead and its OnReadDone.
  grpc::ByteBuffer request_;
  // The write in flight; touched only while writing_.
  grpc::ByteBuffer writing_buffer_;

  absl::Mutex mu_;
  std::deque<grpc::ByteBuffer> to_write_ ABSL_GUARDED_BY(mu_);
  int pending_ ABSL_GUARDED_BY(mu_) = 0;  // appends not yet answered
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool read_paused_ ABSL_GUARDED_BY(mu_) = false;
  bool reads_done_ ABSL_GUARDED_BY(mu_) = false;
  bool broken_ ABSL_GUARDED_BY(mu_) = false;  // a write failed
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
};

grpc::ServerBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer>*
EventLogService::AppendSession(grpc::CallbackServerContext* context) {
  absl::StatusOr<Principal> who = Gate(access_, *context, Need::kAppend);
  absl::Status status = who.status();
  if (status.ok()) status = store_->Get().status();
  if (!status.ok()) {
    // A reactor that only answers the call's error.
    class Refusal final
        : public grpc::ServerBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer> {
     public:
      explicit Refusal(const grpc::Status& status) { Finish(status); }
      void OnDone() override { delete this; }
    };
    return new Refusal(ToGrpcStatus(status));
  }
  return new SessionReactor(this, context, *std::move(who));
}

grpc::ServerUnaryReactor* EventLogService::BatchAppend(
    grpc::CallbackServerContext* context, const grpc::ByteBuffer* request_bytes,
    grpc::ByteBuffer* response_bytes) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  const absl::Time start = absl::Now();
  absl::StatusOr<storage::EventLog*> log = store_->Get();
  if (!log.ok()) {
    Done(Rpc::kBatchAppend, start, reactor, log.status());
    return reactor;
  }
  absl::Status busy;
  std::shared_ptr<void> ticket =
      Admit(static_cast<int64_t>(request_bytes->Length()), &busy);
  if (ticket == nullptr) {
    Done(Rpc::kBatchAppend, start, reactor, busy);
    return reactor;
  }

  auto arena = NewRequestArena(64 << 10);
  auto* request =
      google::protobuf::Arena::CreateMessage<internal::RawBatchAppendRequest>(
          arena.get());
  storage::AppendRequest append;
  absl::Status status = [&]() -> absl::Status {
    ASSIGN_OR_RETURN(const Principal who,
                     Gate(access_, *context, Need::kAppend));
    append.principal = who.name;
    RETURN_IF_ERROR(ParseRequest(request_bytes, request));
    RETURN_IF_ERROR(ValidateRequestId(request->request_id()));
    if (request->entries().empty()) {
      return Invalid("entries", "at least one entry is required");
    }
    if (static_cast<size_t>(request->entries_size()) >
        options_.limits.max_batch_events) {
      return absl::ResourceExhaustedError(absl::StrCat(
          "entries: ", request->entries_size(), " entries; at most ",
          options_.limits.max_batch_events,
          " per BatchAppend (nenepd --max_batch_events); split the batch"));
    }
    const absl::CivilDay today = LocalDay(options_.clock(), options_.zone);
    append.events.resize(request->entries_size());
    std::unique_ptr<Sha256> hash;
    if (!request->request_id().empty()) {
      hash = std::make_unique<Sha256>();
      hash->UpdateField("BatchAppend");
    }
    // Paths name fields only in errors; one buffer serves every entry.
    std::string path;
    std::string event_path;
    for (int i = 0; i < request->entries_size(); ++i) {
      const internal::RawBatchEntry& entry = request->entries(i);
      path.clear();
      absl::StrAppend(&path, "entries[", i, "]");
      event_path.assign(path);
      event_path.append(".event");
      if (!entry.stream().empty()) {
        RETURN_IF_ERROR(
            ValidateStreamName(entry.stream(), absl::StrCat(path, ".stream")));
      }
      if (!entry.has_event()) return Invalid(path, "event is required");
      storage::NewEvent& out = append.events[i];
      std::string natural;
      RETURN_IF_ERROR(PrepareEvent(entry.event(), event_path, *log, today,
                                   arena, &out, &natural));
      if (access_ != nullptr) {
        RETURN_IF_ERROR(Under(
            path,
            access_->CheckEvent(
                who, *static_cast<const v1::Event*>(out.decoded), **log)));
      }
      if (!entry.stream().empty() && entry.stream() != natural) {
        return Invalid(absl::StrCat(path, ".stream"),
                       absl::StrCat("the event belongs to stream '", natural,
                                    "', not '", entry.stream(), "'"));
      }
      out.stream = std::move(natural);
      out.expected = ToExpected(entry.expected_revision());
      if (hash) {
        hash->UpdateField(out.stream);
        hash->UpdateField(ExpectedKey(out.expected));
        hash->UpdateField(out.payload);
      }
    }
    append.request_id = request->request_id();
    if (hash) append.body_hash = hash->Finish();
    append.deadline = Deadline(context);
    return absl::OkStatus();
  }();
  if (!status.ok()) {
    Done(Rpc::kBatchAppend, start, reactor, status);
    return reactor;
  }

  std::vector<std::string> streams;
  streams.reserve(append.events.size());
  for (const storage::NewEvent& e : append.events) streams.push_back(e.stream);
  (*log)->AppendAsync(
      std::move(append),
      [this, start, reactor, context, response_bytes,
       streams = std::move(streams), arena,
       ticket](absl::StatusOr<storage::AppendResult> result) mutable {
        if (!result.ok()) {
          if (absl::optional<storage::Revision> actual =
                  storage::AbortedRevision(result.status())) {
            context->AddTrailingMetadata(kCurrentRevisionMetadata,
                                         absl::StrCat(*actual));
          }
          Done(Rpc::kBatchAppend, start, reactor, EntryPaths(result.status()));
          return;
        }
        // On the request's arena: the streams' strings move in without
        // an allocation each.
        auto* response =
            google::protobuf::Arena::CreateMessage<v1::BatchAppendResponse>(
                arena.get());
        response->set_first_position(result->first_position);
        response->set_last_position(result->last_position);
        response->mutable_revisions()->Add(result->revisions.begin(),
                                           result->revisions.end());
        response->mutable_streams()->Reserve(static_cast<int>(streams.size()));
        for (std::string& s : streams) response->add_streams(std::move(s));
        ToProtoTimestamp(result->recorded_at, response->mutable_recorded_at());
        response->set_already_appended(result->already_appended);
        SerializeResponse(*response, response_bytes);
        Done(Rpc::kBatchAppend, start, reactor, absl::OkStatus());
      });
  return reactor;
}

}  // namespace nenep::services
