// File: services/eventlog/event_log_service.h
//
// nenep.v1.EventLog over the gRPC callback API. The service only translates:
// it validates requests (services/common/validation.h), turns them into
// storage::AppendRequest, hands them to the log and answers when the log
// does. No handler blocks on a commit.
//
// Append, AppendSession and BatchAppend take requests as bytes and parse
// them as the wire-compatible nenep.internal.Raw* messages: each event is
// checked and stored in the encoding the caller sent, never serialized again.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <string>

#include "absl/time/time.h"
#include "google/protobuf/arena.h"
#include "grpcpp/support/byte_buffer.h"
#include "nenep/internal/raw_requests.pb.h"
#include "nenep/v1/log.grpc.pb.h"
#include "services/auth/access_control.h"
#include "services/common/metrics.h"
#include "services/common/store.h"
#include "services/common/validation.h"
#include "storage/log/event_log.h"

namespace nenep::services {

struct EventLogServiceOptions {
  ValidationLimits limits;
  // Largest page ReadAll and ReadStream return; bigger requests get this
  // many. Default: 1,000.
  size_t max_read_page = 1000;
  // Asia/Ho_Chi_Minh: business dates are checked against today there.
  absl::TimeZone zone;
  // The clock for "today". Default: absl::Now.
  std::function<absl::Time()> clock;
  // Bytes of append requests being parsed, checked or committed at once;
  // beyond, an append is refused at once with RESOURCE_EXHAUSTED (before
  // it is parsed), so that overload sheds work instead of growing memory.
  // One request is always let in. Default: 512 MiB.
  int64_t max_inflight_bytes = int64_t{512} << 20;
};

// Trailing metadata of an ABORTED append: the stream's actual revision.
inline constexpr char kCurrentRevisionMetadata[] = "nenep-current-revision";

class EventLogService final
    : public v1::EventLog::WithRawCallbackMethod_Append<
          v1::EventLog::WithRawCallbackMethod_AppendSession<
              v1::EventLog::WithRawCallbackMethod_BatchAppend<
                  v1::EventLog::WithCallbackMethod_ReadAll<
                      v1::EventLog::WithCallbackMethod_ReadStream<
                          v1::EventLog::WithCallbackMethod_GetEvent<
                              v1::EventLog::Service>>>>>> {
 public:
  // `store`, `metrics` (nullable) and `access` (nullable: every caller may
  // do everything) must outlive the service.
  EventLogService(const StoreHandle* store, EventLogServiceOptions options,
                  Metrics* metrics, AccessControl* access = nullptr);

  grpc::ServerUnaryReactor* Append(grpc::CallbackServerContext* context,
                                   const grpc::ByteBuffer* request,
                                   grpc::ByteBuffer* response) override;
  // Each request is handled as Append; up to kMaxSessionPipeline of a
  // session's appends are in flight at once, beyond which its reads wait.
  grpc::ServerBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer>* AppendSession(
      grpc::CallbackServerContext* context) override;
  static constexpr int kMaxSessionPipeline = 256;

  grpc::ServerUnaryReactor* BatchAppend(grpc::CallbackServerContext* context,
                                        const grpc::ByteBuffer* request,
                                        grpc::ByteBuffer* response) override;
  grpc::ServerUnaryReactor* ReadAll(grpc::CallbackServerContext* context,
                                    const v1::ReadAllRequest* request,
                                    v1::ReadAllResponse* response) override;
  grpc::ServerUnaryReactor* ReadStream(
      grpc::CallbackServerContext* context,
      const v1::ReadStreamRequest* request,
      v1::ReadStreamResponse* response) override;
  grpc::ServerUnaryReactor* GetEvent(grpc::CallbackServerContext* context,
                                     const v1::GetEventRequest* request,
                                     v1::RecordedEvent* response) override;

 private:
  class SessionReactor;

  // Checks an Append request whose events stay encoded, decodes the events
  // into `arena` and fills `append` (all but its deadline) and `stream`.
  absl::Status PrepareAppend(
      const Principal& who, const internal::RawAppendRequest& request,
      storage::EventLog* log,
      const std::shared_ptr<google::protobuf::Arena>& arena,
      storage::AppendRequest* append, std::string* stream);
  // Parses (into `arena`) and validates one encoded event and fills `out`
  // (stream left to the caller), out->decoded included.
  absl::Status PrepareEvent(
      absl::string_view encoded, const std::string& path,
      storage::EventLog* log, absl::CivilDay today,
      const std::shared_ptr<google::protobuf::Arena>& arena,
      storage::NewEvent* out, std::string* natural_stream);
  void Done(Rpc rpc, absl::Time start, grpc::ServerUnaryReactor* reactor,
            const absl::Status& status);
  // Drops the events a scoped principal may not see (its units outside the
  // scope); a page may then hold fewer than asked, its token unchanged.
  void HideOutOfScope(
      const Principal& who,
      google::protobuf::RepeatedPtrField<v1::RecordedEvent>* events) const;

  // Admits a request of `bytes` within max_inflight_bytes: the returned
  // ticket (null: refused) gives them back when destroyed.
  std::shared_ptr<void> Admit(int64_t bytes, absl::Status* refused);

  const StoreHandle* store_;
  AccessControl* const access_;
  std::atomic<int64_t> inflight_bytes_{0};
  EventLogServiceOptions options_;
  Metrics* metrics_;
};

// The AppendResponse for a committed append to `stream`.
void FillAppendResponse(const std::string& stream,
                        const storage::AppendResult& result,
                        v1::AppendResponse* out);

// The RecordedEvent for a stored record; kDataLoss if its payload does not
// parse.
absl::Status ToRecordedEvent(storage::Record&& record, v1::RecordedEvent* out);

}  // namespace nenep::services
