#include "services/subscribe/subscription_service.h"

#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "services/common/grpc_status.h"
#include "services/eventlog/event_log_service.h"
#include "storage/common/status_macros.h"

namespace nenep::services {
namespace {

constexpr size_t kPage = 512;
constexpr uint64_t kDefaultLagLimit = 10000;

// The units an event is about (for the subtree filter).
std::vector<std::string> UnitsOf(const v1::Event& e,
                                 const projections::Projection* p) {
  switch (e.payload_case()) {
    case v1::Event::kUnitCreated:
      return {e.unit_created().unit_id()};
    case v1::Event::kUnitRenamed:
      return {e.unit_renamed().unit_id()};
    case v1::Event::kUnitMoved:
      return {e.unit_moved().unit_id(), e.unit_moved().to_parent_id()};
    case v1::Event::kUnitsMerged: {
      std::vector<std::string> out(e.units_merged().source_unit_ids().begin(),
                                   e.units_merged().source_unit_ids().end());
      out.push_back(e.units_merged().target_unit_id());
      return out;
    }
    case v1::Event::kUnitDissolved:
      return {e.unit_dissolved().unit_id()};
    case v1::Event::kMemberJoined:
      return {e.member_joined().cell_id()};
    case v1::Event::kMemberTransferred:
      return {e.member_transferred().from_cell_id(),
              e.member_transferred().to_cell_id()};
    case v1::Event::kMemberLeft:
      return {e.member_left().cell_id()};
    case v1::Event::kPlanIssued:
      return {e.plan_issued().issuer_unit_id()};
    case v1::Event::kSessionHeld:
      return {e.session_held().unit_id()};
    case v1::Event::kCommitmentRegistered:
      return {e.commitment_registered().cell_id(),
              e.commitment_registered().unit_id()};
    case v1::Event::kCommitmentEvaluated:
      return {p->CommitmentUnit(e.commitment_evaluated().commitment_id())};
    case v1::Event::kAwardGiven: {
      std::vector<std::string> out;
      for (const v1::AwardRecipient& r : e.award_given().recipients()) {
        out.push_back(r.unit_id());
        out.push_back(r.counted_under_unit_id());
      }
      out.push_back(e.award_given().aggregate().counted_under_unit_id());
      return out;
    }
    case v1::Event::kEventCorrected:
      return UnitsOf(e.event_corrected().replacement(), p);
    default:
      return {};
  }
}

class SubscribeReactor final
    : public grpc::ServerWriteReactor<v1::SubscribeResponse> {
 public:
  SubscribeReactor(storage::EventLog* log,
                   std::shared_ptr<const projections::Projection> projection,
                   HeadWatch* head, std::atomic<int>* active,
                   const v1::SubscribeRequest& request)
      : log_(log),
        projection_(std::move(projection)),
        head_(head),
        active_(active),
        request_(request) {
    ++*active_;
    for (const std::string& t : request_.event_types()) types_.insert(t);
    std::thread([this] { Run(); }).detach();
  }

  void OnWriteDone(bool ok) override {
    absl::MutexLock lock(&mu_);
    writing_ = false;
    write_failed_ = !ok;
  }
  void OnCancel() override {
    absl::MutexLock lock(&mu_);
    cancelled_ = true;
  }
  void OnDone() override {
    --*active_;
    delete this;
  }

 private:
  bool Cancelled() {
    absl::MutexLock lock(&mu_);
    return cancelled_ || write_failed_;
  }

  // Writes `response` and waits until it is sent (or the call ends).
  bool Write() {
    absl::MutexLock lock(&mu_);
    if (cancelled_ || write_failed_) return false;
    writing_ = true;
    StartWrite(&response_);
    auto sent = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return !writing_ || cancelled_;
    };
    mu_.Await(absl::Condition(&sent));
    // A write still pending at cancellation completes (failed) on its own.
    if (writing_) {
      auto done = [this]()
                      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return !writing_; };
      mu_.Await(absl::Condition(&done));
    }
    return !cancelled_ && !write_failed_;
  }

  bool Passes(const v1::RecordedEvent& e) {
    if (!types_.empty() && !types_.contains(e.type())) return false;
    if (request_.subtree_unit_id().empty()) return true;
    const v1::Date& d = e.event().business_date();
    const Day day = DayNumber(d.year(), d.month(), d.day());
    const v1::Event& fact = e.event();
    for (const std::string& unit : UnitsOf(fact, projection_.get())) {
      if (!unit.empty() &&
          projection_->IsUnder(unit, request_.subtree_unit_id(), day)) {
        return true;
      }
    }
    return false;
  }

  void Run() { Finish(ToGrpcStatus(Serve())); }

  absl::Status Serve() {
    storage::Position head = log_->Head();
    storage::Position next = 1;
    switch (request_.start_case()) {
      case v1::SubscribeRequest::kFromPosition:
        next = std::max<uint64_t>(request_.from_position(), 1);
        if (next > head + 1) {
          return absl::OutOfRangeError(
              absl::StrCat("from_position ", request_.from_position(),
                           " is past the head (", head,
                           "); use from_now to follow new "
                           "events"));
        }
        break;
      case v1::SubscribeRequest::kFromNow:
        next = head + 1;
        break;
      default:
        break;
    }
    const uint64_t lag_limit =
        request_.lag_limit() == 0 ? kDefaultLagLimit : request_.lag_limit();
    bool live = false;
    while (!Cancelled()) {
      head = log_->Head();
      if (next <= head) {
        if (live && head - next + 1 > lag_limit) {
          live = false;
          response_.Clear();
          response_.mutable_fell_behind()->set_position(head);
          response_.mutable_fell_behind()->set_lag(head - next + 1);
          if (!Write()) break;
        }
        ASSIGN_OR_RETURN(
            std::vector<storage::Record> page,
            log_->ReadAll(next, storage::Direction::kForward,
                          std::min<uint64_t>(kPage, head - next + 1)));
        if (page.empty()) {
          return absl::DataLossError(
              absl::StrCat("the log has no event at ", next));
        }
        for (storage::Record& r : page) {
          next = r.position + 1;
          response_.Clear();
          RETURN_IF_ERROR(
              ToRecordedEvent(std::move(r), response_.mutable_event()));
          if (!Passes(response_.event())) continue;
          if (!Write()) return absl::OkStatus();
        }
        continue;
      }
      if (!live) {
        live = true;
        response_.Clear();
        response_.mutable_caught_up()->set_position(head);
        if (!Write()) break;
      }
      head_->WaitPast(head, absl::Milliseconds(200));
    }
    return absl::OkStatus();
  }

  storage::EventLog* const log_;
  const std::shared_ptr<const projections::Projection> projection_;
  HeadWatch* const head_;
  std::atomic<int>* const active_;
  const v1::SubscribeRequest request_;
  absl::flat_hash_set<std::string> types_;
  v1::SubscribeResponse response_;  // the write in flight
  absl::Mutex mu_;
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool write_failed_ ABSL_GUARDED_BY(mu_) = false;
  bool cancelled_ ABSL_GUARDED_BY(mu_) = false;
};

// A stream that fails at once.
class RefusedReactor final
    : public grpc::ServerWriteReactor<v1::SubscribeResponse> {
 public:
  explicit RefusedReactor(const absl::Status& s) { Finish(ToGrpcStatus(s)); }
  void OnDone() override { delete this; }
};

}  // namespace

SubscriptionService::SubscriptionService(const StoreHandle* store,
                                         const ProjectionHandle* projections,
                                         HeadWatch* head)
    : store_(store), projections_(projections), head_(head) {}

grpc::ServerWriteReactor<v1::SubscribeResponse>* SubscriptionService::Subscribe(
    grpc::CallbackServerContext* context, const v1::SubscribeRequest* request) {
  absl::StatusOr<storage::EventLog*> log = store_->Get();
  if (!log.ok()) return new RefusedReactor(log.status());
  static const absl::flat_hash_set<std::string>* const kTypes = [] {
    auto* types = new absl::flat_hash_set<std::string>;
    const google::protobuf::OneofDescriptor* payload =
        v1::Event::descriptor()->FindOneofByName("payload");
    for (int i = 0; i < payload->field_count(); ++i) {
      types->insert(payload->field(i)->message_type()->name());
    }
    return types;
  }();
  for (int i = 0; i < request->event_types_size(); ++i) {
    if (!kTypes->contains(request->event_types(i))) {
      return new RefusedReactor(absl::InvalidArgumentError(absl::StrCat(
          "event_types[", i, "]: '", request->event_types(i),
          "' is not an event type (e.g. SessionHeld, UnitMoved)")));
    }
  }
  std::shared_ptr<const projections::Projection> projection;
  if (!request->subtree_unit_id().empty()) {
    absl::StatusOr<ProjectionStore*> store = projections_->Get();
    if (!store.ok()) return new RefusedReactor(store.status());
    projection = (*store)->Get();
    if (!projection->GetUnit(request->subtree_unit_id(), 0).ok() &&
        absl::IsNotFound(
            projection->GetUnit(request->subtree_unit_id(), 0).status())) {
      return new RefusedReactor(absl::NotFoundError(
          absl::StrCat("subtree_unit_id: unit '", request->subtree_unit_id(),
                       "' is not recorded")));
    }
  }
  return new SubscribeReactor(*log, std::move(projection), head_, &active_,
                              *request);
}

}  // namespace nenep::services
