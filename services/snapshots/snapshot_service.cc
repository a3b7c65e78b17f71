#include "services/snapshots/snapshot_service.h"

#include <thread>
#include <utility>

#include "services/common/calendar.h"
#include "services/common/grpc_status.h"
#include "storage/common/status_macros.h"

namespace nenep::services {
namespace {

template <typename T, typename F>
grpc::ServerUnaryReactor* Answer(grpc::CallbackServerContext* context,
                                 AccessControl* access, T* response, F body) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::StatusOr<Principal> who = Gate(access, *context, Need::kRead);
  if (!who.ok()) {
    reactor->Finish(ToGrpcStatus(who.status()));
    return reactor;
  }
  absl::StatusOr<T> r = body(*who);
  if (r.ok()) *response = std::move(*r);
  reactor->Finish(ToGrpcStatus(r.status()));
  return reactor;
}

// Streams a stored snapshot: the info, then one message per stored chunk,
// each read when the previous one has been sent.
class ReadReactor final : public grpc::ServerWriteReactor<v1::SnapshotChunk> {
 public:
  // `allowed`: whether the caller may read the whole snapshot.
  ReadReactor(const SnapshotStore* snapshots, const v1::ReadSnapshotRequest& r,
              const absl::Status& allowed)
      : snapshots_(snapshots) {
    absl::StatusOr<v1::SnapshotInfo> info =
        [&]() -> absl::StatusOr<v1::SnapshotInfo> {
      if (!allowed.ok()) return allowed;
      if (!r.has_date()) return absl::InvalidArgumentError("date: required");
      return snapshots_->Find(r.date(), r.position(), "date");
    }();
    if (!info.ok()) {
      Finish(ToGrpcStatus(info.status()));
      return;
    }
    info_ = std::move(*info);
    chunks_ = SnapshotStore::Chunks(info_);
    *message_.mutable_info() = info_;
    StartWrite(&message_);
  }
  void OnWriteDone(bool ok) override {
    if (!ok) {
      Finish(grpc::Status(grpc::StatusCode::CANCELLED, "the client left"));
      return;
    }
    if (next_ >= chunks_) {
      Finish(grpc::Status::OK);
      return;
    }
    absl::StatusOr<v1::SnapshotChunk> chunk =
        snapshots_->ReadChunk(info_, next_++);
    if (!chunk.ok()) {
      Finish(ToGrpcStatus(chunk.status()));
      return;
    }
    message_ = std::move(*chunk);
    StartWrite(&message_);
  }
  void OnDone() override { delete this; }

 private:
  const SnapshotStore* const snapshots_;
  v1::SnapshotInfo info_;
  int64_t chunks_ = 0;
  int64_t next_ = 0;
  v1::SnapshotChunk message_;
};

}  // namespace

absl::Status SnapshotService::CheckUnit(const Principal& who,
                                        const std::string& unit_id,
                                        const v1::Date& date) const {
  if (access_ == nullptr || who.all_units) return absl::OkStatus();
  return access_->CheckUnits(who, {unit_id},
                             DayNumber(date.year(), date.month(), date.day()));
}

grpc::ServerUnaryReactor* SnapshotService::CreateSnapshot(
    grpc::CallbackServerContext* context,
    const v1::CreateSnapshotRequest* request, v1::SnapshotInfo* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  if (absl::StatusOr<Principal> who = Gate(access_, *context, Need::kAdmin);
      !who.ok()) {
    reactor->Finish(ToGrpcStatus(who.status()));
    return reactor;
  }
  std::thread([reactor, request, response, snapshots = snapshots_] {
    absl::StatusOr<v1::SnapshotInfo> r = snapshots->Create(*request);
    if (r.ok()) *response = std::move(*r);
    reactor->Finish(ToGrpcStatus(r.status()));
  }).detach();
  return reactor;
}

grpc::ServerUnaryReactor* SnapshotService::ListSnapshots(
    grpc::CallbackServerContext* context,
    const v1::ListSnapshotsRequest* request,
    v1::ListSnapshotsResponse* response) {
  return Answer(context, access_, response,
                [&](const Principal&) { return snapshots_->List(*request); });
}

grpc::ServerUnaryReactor* SnapshotService::GetSnapshot(
    grpc::CallbackServerContext* context, const v1::GetSnapshotRequest* request,
    v1::GetSnapshotResponse* response) {
  return Answer(
      context, access_, response,
      [&](const Principal& who) -> absl::StatusOr<v1::GetSnapshotResponse> {
        RETURN_IF_ERROR(CheckUnit(who, request->unit_id(), request->date()));
        return snapshots_->Get(*request);
      });
}

grpc::ServerWriteReactor<v1::SnapshotChunk>* SnapshotService::ReadSnapshot(
    grpc::CallbackServerContext* context,
    const v1::ReadSnapshotRequest* request) {
  absl::StatusOr<Principal> who = Gate(access_, *context, Need::kRead);
  absl::Status allowed = who.status();
  if (who.ok() && access_ != nullptr) {
    allowed = access_->CheckAllUnits(*who, "a whole snapshot");
  }
  return new ReadReactor(snapshots_, *request, allowed);
}

grpc::ServerUnaryReactor* SnapshotService::DiffSnapshots(
    grpc::CallbackServerContext* context,
    const v1::DiffSnapshotsRequest* request,
    v1::DiffSnapshotsResponse* response) {
  return Answer(
      context, access_, response,
      [&](const Principal& who) -> absl::StatusOr<v1::DiffSnapshotsResponse> {
        RETURN_IF_ERROR(CheckUnit(who, request->unit_id(), request->to_date()));
        return snapshots_->Diff(*request);
      });
}

}  // namespace nenep::services
