// EventLogService::ReadAll, ::ReadStream and ::GetEvent.
//
// Page tokens are opaque to callers: web-safe base64 of
//   "all|<f|b>|<next position>"  or  "stream|<f|b>|<next revision>|<stream>".

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "services/common/proto_time.h"
#include "services/eventlog/event_log_service.h"
#include "storage/common/status_macros.h"

namespace nenep::services {
namespace {

constexpr uint32_t kDefaultPageSize = 100;

struct PageToken {
  bool stream = false;
  bool backward = false;
  uint64_t next = 0;
  std::string stream_name;
};

std::string EncodeToken(const PageToken& t) {
  std::string raw =
      t.stream ? absl::StrCat("stream|", t.backward ? "b" : "f", "|", t.next,
                              "|", t.stream_name)
               : absl::StrCat("all|", t.backward ? "b" : "f", "|", t.next);
  return absl::WebSafeBase64Escape(raw);
}

absl::StatusOr<PageToken> DecodeToken(const std::string& token) {
  const absl::Status bad = absl::InvalidArgumentError(
      "page_token: not a token from this server's previous response");
  std::string raw;
  if (!absl::WebSafeBase64Unescape(token, &raw)) return bad;
  std::vector<std::string> parts = absl::StrSplit(raw, absl::MaxSplits('|', 3));
  if (parts.size() < 3) return bad;
  PageToken t;
  if (parts[0] == "stream" && parts.size() == 4) {
    t.stream = true;
    t.stream_name = parts[3];
  } else if (parts[0] != "all" || parts.size() != 3) {
    return bad;
  }
  if (parts[1] != "f" && parts[1] != "b") return bad;
  t.backward = parts[1] == "b";
  if (!absl::SimpleAtoi(parts[2], &t.next)) return bad;
  return t;
}

size_t PageSize(uint32_t requested, size_t max) {
  if (requested == 0) return std::min<size_t>(kDefaultPageSize, max);
  return std::min<size_t>(requested, max);
}

}  // namespace

absl::Status ToRecordedEvent(storage::Record&& record, v1::RecordedEvent* out) {
  if (!out->mutable_event()->ParseFromString(record.payload)) {
    return absl::DataLossError(absl::StrCat(
        "the event at position ", record.position, " does not parse"));
  }
  out->set_position(record.position);
  out->set_stream(std::move(record.stream));
  out->set_revision(record.revision);
  ToProtoTimestamp(record.recorded_at, out->mutable_recorded_at());
  out->set_type(std::move(record.type));
  out->set_request_id(std::move(record.request_id));
  out->set_principal(std::move(record.principal));
  return absl::OkStatus();
}

void EventLogService::HideOutOfScope(
    const Principal& who,
    google::protobuf::RepeatedPtrField<v1::RecordedEvent>* events) const {
  if (access_ == nullptr || who.all_units) return;
  auto keep = std::remove_if(events->begin(), events->end(),
                             [&](const v1::RecordedEvent& e) {
                               return !access_->Visible(who, e.event());
                             });
  events->erase(keep, events->end());
}

grpc::ServerUnaryReactor* EventLogService::ReadAll(
    grpc::CallbackServerContext* context, const v1::ReadAllRequest* request,
    v1::ReadAllResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  const absl::Time start = absl::Now();
  absl::Status status = [&]() -> absl::Status {
    ASSIGN_OR_RETURN(const Principal who, Gate(access_, *context, Need::kRead));
    ASSIGN_OR_RETURN(storage::EventLog * log, store_->Get());
    bool backward = request->direction() == v1::DIRECTION_BACKWARD;
    uint64_t from = request->from_position();
    if (request->direction() != v1::DIRECTION_FORWARD && !backward) {
      return absl::InvalidArgumentError(absl::StrCat(
          "direction: unknown Direction value ", request->direction()));
    }
    if (!request->page_token().empty()) {
      ASSIGN_OR_RETURN(PageToken token, DecodeToken(request->page_token()));
      if (token.stream) {
        return absl::InvalidArgumentError(
            "page_token: a ReadStream token cannot continue a ReadAll");
      }
      backward = token.backward;
      from = token.next;
    }
    const size_t page = PageSize(request->page_size(), options_.max_read_page);
    const storage::Position head = log->Head();
    response->set_head_position(head);
    ASSIGN_OR_RETURN(std::vector<storage::Record> records,
                     log->ReadAll(from,
                                  backward ? storage::Direction::kBackward
                                           : storage::Direction::kForward,
                                  page));
    for (storage::Record& r : records) {
      RETURN_IF_ERROR(ToRecordedEvent(std::move(r), response->add_events()));
    }
    const storage::Position last_read =
        records.empty() ? 0 : response->events().rbegin()->position();
    HideOutOfScope(who, response->mutable_events());
    if (records.size() == page && !records.empty()) {
      const storage::Position last = last_read;
      if (!backward && last < head) {
        response->set_next_page_token(EncodeToken({false, false, last + 1}));
      } else if (backward && last > 1) {
        response->set_next_page_token(EncodeToken({false, true, last - 1}));
      }
    }
    return absl::OkStatus();
  }();
  Done(Rpc::kReadAll, start, reactor, status);
  return reactor;
}

grpc::ServerUnaryReactor* EventLogService::ReadStream(
    grpc::CallbackServerContext* context, const v1::ReadStreamRequest* request,
    v1::ReadStreamResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  const absl::Time start = absl::Now();
  absl::Status status = [&]() -> absl::Status {
    ASSIGN_OR_RETURN(const Principal who, Gate(access_, *context, Need::kRead));
    ASSIGN_OR_RETURN(storage::EventLog * log, store_->Get());
    RETURN_IF_ERROR(ValidateStreamName(request->stream(), "stream"));
    bool backward = request->direction() == v1::DIRECTION_BACKWARD;
    uint64_t from = request->from_revision();
    if (request->direction() != v1::DIRECTION_FORWARD && !backward) {
      return absl::InvalidArgumentError(absl::StrCat(
          "direction: unknown Direction value ", request->direction()));
    }
    if (!request->page_token().empty()) {
      ASSIGN_OR_RETURN(PageToken token, DecodeToken(request->page_token()));
      if (!token.stream || token.stream_name != request->stream()) {
        return absl::InvalidArgumentError(absl::StrCat(
            "page_token: not a token for stream '", request->stream(), "'"));
      }
      backward = token.backward;
      from = token.next;
    }
    ASSIGN_OR_RETURN(storage::Revision revision,
                     log->StreamRevision(request->stream()));
    if (revision == 0) {
      return absl::NotFoundError(
          absl::StrCat("stream '", request->stream(), "' has no events"));
    }
    response->set_stream_revision(revision);
    const size_t page = PageSize(request->page_size(), options_.max_read_page);
    ASSIGN_OR_RETURN(std::vector<storage::Record> records,
                     log->ReadStream(request->stream(), from,
                                     backward ? storage::Direction::kBackward
                                              : storage::Direction::kForward,
                                     page));
    for (storage::Record& r : records) {
      RETURN_IF_ERROR(ToRecordedEvent(std::move(r), response->add_events()));
    }
    const storage::Revision last_read =
        records.empty() ? 0 : response->events().rbegin()->revision();
    HideOutOfScope(who, response->mutable_events());
    if (records.size() == page && !records.empty()) {
      const storage::Revision last = last_read;
      if (!backward && last < revision) {
        response->set_next_page_token(
            EncodeToken({true, false, last + 1, request->stream()}));
      } else if (backward && last > 1) {
        response->set_next_page_token(
            EncodeToken({true, true, last - 1, request->stream()}));
      }
    }
    return absl::OkStatus();
  }();
  Done(Rpc::kReadStream, start, reactor, status);
  return reactor;
}

grpc::ServerUnaryReactor* EventLogService::GetEvent(
    grpc::CallbackServerContext* context, const v1::GetEventRequest* request,
    v1::RecordedEvent* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  const absl::Time start = absl::Now();
  absl::Status status = [&]() -> absl::Status {
    ASSIGN_OR_RETURN(const Principal who, Gate(access_, *context, Need::kRead));
    ASSIGN_OR_RETURN(storage::EventLog * log, store_->Get());
    if (request->position() == 0) {
      return absl::InvalidArgumentError(
          "position: required (positions start at 1)");
    }
    ASSIGN_OR_RETURN(storage::Record record, log->Get(request->position()));
    RETURN_IF_ERROR(ToRecordedEvent(std::move(record), response));
    if (access_ != nullptr && !access_->Visible(who, response->event())) {
      response->Clear();
      return absl::PermissionDeniedError(absl::StrCat(
          "the event at position ", request->position(),
          " concerns no unit in the scope of principal '", who.name, "'"));
    }
    return absl::OkStatus();
  }();
  Done(Rpc::kGetEvent, start, reactor, status);
  return reactor;
}

}  // namespace nenep::services
