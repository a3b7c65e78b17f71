#include "services/subscribe/subscription_service.h"

#include <algorithm>
#include <functional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/mutex.h"
#include "services/common/calendar.h"
#include "services/common/grpc_status.h"
#include "services/common/proto_time.h"
#include "services/eventlog/event_log_service.h"
#include "services/subscribe/event_filter.h"
#include "storage/common/status_macros.h"

namespace nenep::services {
namespace {

constexpr size_t kPage = 512;
constexpr uint64_t kDefaultLagLimit = 10000;

class SubscribeReactor final
    : public grpc::ServerWriteReactor<v1::SubscribeResponse> {
 public:
  SubscribeReactor(storage::EventLog* log, const ProjectionHandle* projections,
                   EventFilter filter, HeadWatch* head,
                   std::atomic<int>* active,
                   const v1::SubscribeRequest& request,
                   SubscriptionService* service, std::string peer,
                   std::function<void()> on_done)
      : on_done_(std::move(on_done)),
        log_(log),
        projections_(projections),
        filter_(std::move(filter)),
        head_(head),
        active_(active),
        request_(request),
        service_(service) {
    ++*active_;
    progress_.peer = std::move(peer);
    progress_.started_at = absl::Now();
    progress_.request = request;
    service_->Register(&progress_);
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
    // gRPC runs OnDone after every other reaction has returned, ordered by
    // its own atomics, which ThreadSanitizer cannot see (Debian's gRPC is
    // not instrumented); taking mu_ once, as OnCancel and OnWriteDone did,
    // makes that order visible to it.
    { absl::MutexLock lock(&mu_); }
    service_->Unregister(&progress_);
    --*active_;
    if (on_done_) on_done_();
    delete this;
  }

 private:
  const std::function<void()> on_done_;
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

  bool Passes(const v1::RecordedEvent& e,
              const projections::Projection* p) const {
    return filter_.PassesType(e.type()) && filter_.PassesSubtree(e.event(), p);
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
          progress_.live.store(false);
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
        // The live projection (replaced by a rebuild), once per page.
        std::shared_ptr<const projections::Projection> projection;
        if (filter_.needs_event()) {
          absl::StatusOr<ProjectionStore*> store = projections_->Get();
          if (!store.ok()) return store.status();
          projection = (*store)->Get();
        }
        for (storage::Record& r : page) {
          next = r.position + 1;
          progress_.position.store(r.position, std::memory_order_relaxed);
          response_.Clear();
          RETURN_IF_ERROR(
              ToRecordedEvent(std::move(r), response_.mutable_event()));
          if (!Passes(response_.event(), projection.get())) continue;
          if (!Write()) return absl::OkStatus();
          progress_.delivered.fetch_add(1, std::memory_order_relaxed);
        }
        continue;
      }
      progress_.position.store(head, std::memory_order_relaxed);
      if (!live) {
        live = true;
        progress_.live.store(true);
        response_.Clear();
        response_.mutable_caught_up()->set_position(head);
        if (!Write()) break;
      }
      head_->WaitPast(head, absl::Milliseconds(200));
    }
    return absl::OkStatus();
  }

  storage::EventLog* const log_;
  const ProjectionHandle* const projections_;
  const EventFilter filter_;
  HeadWatch* const head_;
  std::atomic<int>* const active_;
  const v1::SubscribeRequest request_;
  SubscriptionService* const service_;
  SubscriptionService::Progress progress_;
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
                                         HeadWatch* head, AccessControl* access)
    : store_(store), projections_(projections), head_(head), access_(access) {}

grpc::ServerWriteReactor<v1::SubscribeResponse>* SubscriptionService::Subscribe(
    grpc::CallbackServerContext* context, const v1::SubscribeRequest* request) {
  absl::StatusOr<Principal> who = Gate(access_, *context, Need::kRead);
  if (!who.ok()) return new RefusedReactor(who.status());
  absl::StatusOr<storage::EventLog*> log = store_->Get();
  if (!log.ok()) return new RefusedReactor(log.status());
  // A scoped principal follows a subtree of its scope: the one it names,
  // or its only one.
  v1::SubscribeRequest scoped = *request;
  if (access_ != nullptr && !who->all_units) {
    if (scoped.subtree_unit_id().empty() && who->scopes.size() == 1) {
      scoped.set_subtree_unit_id(who->scopes[0]);
    }
    if (scoped.subtree_unit_id().empty()) {
      return new RefusedReactor(absl::PermissionDeniedError(
          absl::StrCat("principal '", who->name,
                       "' sees only its scope; set subtree_unit_id to one of ",
                       absl::StrJoin(who->scopes, ", "))));
    }
    const bool root = std::find(who->scopes.begin(), who->scopes.end(),
                                scoped.subtree_unit_id()) != who->scopes.end();
    const absl::TimeZone zone =
        VietnamTimeZone().value_or(absl::FixedTimeZone(7 * 3600));
    const Day today = static_cast<Day>(DayNumber(LocalDay(absl::Now(), zone)));
    if (!root && !access_->InScope(*who, scoped.subtree_unit_id(), today)) {
      return new RefusedReactor(absl::PermissionDeniedError(
          absl::StrCat("unit '", scoped.subtree_unit_id(),
                       "' is outside the scope of principal '", who->name,
                       "' (", absl::StrJoin(who->scopes, ", "), ")")));
    }
  }
  request = &scoped;
  std::function<void()> on_done;
  if (access_ != nullptr) {
    if (absl::Status s = access_->OpenStream(*who); !s.ok()) {
      return new RefusedReactor(s);
    }
    on_done = [access = access_, p = *who] { access->CloseStream(p); };
  }
  const projections::Projection* projection = nullptr;
  std::shared_ptr<const projections::Projection> hold;
  if (!request->subtree_unit_id().empty()) {
    absl::StatusOr<ProjectionStore*> store = projections_->Get();
    if (!store.ok()) return new RefusedReactor(store.status());
    hold = (*store)->Get();
    projection = hold.get();
  }
  absl::StatusOr<EventFilter> filter = EventFilter::Make(
      {request->event_types().begin(), request->event_types().end()},
      request->subtree_unit_id(), projection, "");
  if (!filter.ok()) {
    if (on_done) on_done();
    return new RefusedReactor(filter.status());
  }
  return new SubscribeReactor(*log, projections_, *std::move(filter), head_,
                              &active_, *request, this, context->peer(),
                              std::move(on_done));
}

void SubscriptionService::Register(Progress* p) {
  absl::MutexLock lock(&mu_);
  p->id = next_id_++;
  subscribers_[p->id] = p;
}

void SubscriptionService::Unregister(Progress* p) {
  absl::MutexLock lock(&mu_);
  subscribers_.erase(p->id);
}

std::vector<v1::Subscriber> SubscriptionService::Subscribers() const {
  absl::StatusOr<storage::EventLog*> log = store_->Get();
  const storage::Position head = log.ok() ? (*log)->Head() : 0;
  std::vector<v1::Subscriber> out;
  absl::MutexLock lock(&mu_);
  for (const auto& [id, p] : subscribers_) {
    v1::Subscriber& s = out.emplace_back();
    s.set_id(id);
    s.set_peer(p->peer);
    ToProtoTimestamp(p->started_at, s.mutable_started_at());
    for (const std::string& t : p->request.event_types()) s.add_event_types(t);
    s.set_subtree_unit_id(p->request.subtree_unit_id());
    const uint64_t position = p->position.load(std::memory_order_relaxed);
    s.set_position(position);
    s.set_head(head);
    s.set_lag_events(head > position ? head - position : 0);
    s.set_live(p->live.load());
    s.set_delivered(p->delivered.load(std::memory_order_relaxed));
  }
  return out;
}

grpc::ServerUnaryReactor* SubscriptionService::ListSubscribers(
    grpc::CallbackServerContext* context, const v1::ListSubscribersRequest*,
    v1::ListSubscribersResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  if (absl::StatusOr<Principal> who = Gate(access_, *context, Need::kAdmin);
      !who.ok()) {
    reactor->Finish(ToGrpcStatus(who.status()));
    return reactor;
  }
  absl::StatusOr<storage::EventLog*> log = store_->Get();
  if (!log.ok()) {
    reactor->Finish(ToGrpcStatus(log.status()));
    return reactor;
  }
  const absl::Time now = absl::Now();
  for (v1::Subscriber& s : Subscribers()) {
    // The age of the first event it has not read.
    if (s.position() < s.head()) {
      absl::StatusOr<storage::Record> next = (*log)->Get(s.position() + 1);
      if (next.ok()) {
        s.set_lag_seconds(
            std::max(0.0, absl::ToDoubleSeconds(now - next->recorded_at)));
      }
    }
    *response->add_subscribers() = std::move(s);
  }
  reactor->Finish(grpc::Status::OK);
  return reactor;
}

}  // namespace nenep::services
