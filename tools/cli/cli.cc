#include "tools/cli/cli.h"

#include <unistd.h>

#include <fstream>
#include <iostream>
#include <map>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "google/protobuf/util/json_util.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpcpp/client_context.h"
#include "nenep/v1/admin.grpc.pb.h"
#include "nenep/v1/log.grpc.pb.h"
#include "nenep/v1/subscribe.grpc.pb.h"
#include "services/common/calendar.h"
#include "services/common/grpc_status.h"
#include "services/common/proto_time.h"
#include "services/common/validation.h"
#include "storage/common/sha256.h"
#include "storage/log/rocksdb_event_log.h"

namespace nenep::cli {

using google::protobuf::util::JsonParseOptions;
using google::protobuf::util::JsonPrintOptions;

std::string Describe(const Context& ctx, const grpc::Status& s) {
  if (s.error_code() == grpc::StatusCode::UNAVAILABLE &&
      absl::StrContains(s.error_message(), "onnect")) {
    return absl::StrCat("cannot reach nenepd at ", ctx.server,
                        " (is it running? see --server): ", s.error_message());
  }
  return absl::StrCat(services::GrpcCodeName(s.error_code()), ": ",
                      s.error_message());
}

void SetDeadline(const Context& ctx, grpc::ClientContext* call) {
  call->set_deadline(absl::ToChronoTime(absl::Now() + ctx.timeout));
  if (!ctx.bearer_token.empty()) {
    call->AddMetadata("authorization",
                      absl::StrCat("Bearer ", ctx.bearer_token));
  }
}

JsonPrintOptions PrintOptions() {
  JsonPrintOptions o;
  o.add_whitespace = false;
  o.preserve_proto_field_names = false;
  return o;
}

// Protobuf 3.21 has its own Status type.
absl::Status FromPb(const google::protobuf::util::Status& s) {
  if (s.ok()) return absl::OkStatus();
  return absl::InvalidArgumentError(std::string(s.message()));
}

std::string ToJson(const google::protobuf::Message& m) {
  std::string out;
  // Fails only for messages that cannot exist here (unset Any types).
  (void)google::protobuf::util::MessageToJsonString(m, &out, PrintOptions());
  return out;
}

namespace {

// A JSON Lines input: a file or stdin.
class LineReader {
 public:
  explicit LineReader(const std::string& path) : path_(path) {
    if (path != "-") {
      file_.open(path);
      in_ = &file_;
    } else {
      in_ = &std::cin;
    }
  }
  bool ok() const { return path_ == "-" || file_.is_open(); }
  // Next non-blank line; false at the end. *number is 1-based.
  bool Next(std::string* line, int64_t* number) {
    while (std::getline(*in_, *line)) {
      ++number_;
      if (!line->empty() && line->back() == '\r') line->pop_back();
      if (absl::StripAsciiWhitespace(*line).empty()) continue;
      *number = number_;
      return true;
    }
    return false;
  }

 private:
  std::string path_;
  std::ifstream file_;
  std::istream* in_;
  int64_t number_ = 0;
};

absl::Status ParseExpected(const std::string& text, v1::ExpectedRevision* out) {
  if (text.empty() || text == "any") {
    out->mutable_any();
  } else if (text == "no_stream") {
    out->mutable_no_stream();
  } else if (text == "exists") {
    out->mutable_stream_exists();
  } else {
    uint64_t n = 0;
    if (!absl::SimpleAtoi(text, &n)) {
      return absl::InvalidArgumentError(
          absl::StrCat("--expected_revision: '", text,
                       "' is not any, no_stream, exists or a revision number"));
    }
    out->set_exact(n);
  }
  return absl::OkStatus();
}

std::string Lower(absl::string_view s) { return absl::AsciiStrToLower(s); }

// UNIT_KIND_BASE_CELL -> base_cell.
template <typename Enum>
std::string EnumText(const std::string& name, absl::string_view prefix) {
  absl::string_view n = name;
  absl::ConsumePrefix(&n, prefix);
  return Lower(n);
}

std::string LocalTime(const google::protobuf::Timestamp& t) {
  static const absl::TimeZone tz = [] {
    absl::StatusOr<absl::TimeZone> z = services::VietnamTimeZone();
    return z.ok() ? *z : absl::FixedTimeZone(7 * 3600);
  }();
  return absl::FormatTime("%d/%m/%Y %H:%M:%S", services::FromProtoTimestamp(t),
                          tz);
}

std::string Summary(const v1::Event& e) {
  switch (e.payload_case()) {
    case v1::Event::kUnitCreated: {
      const auto& p = e.unit_created();
      return absl::StrCat(
          p.name(), " (",
          EnumText<v1::UnitKind>(v1::UnitKind_Name(p.kind()), "UNIT_KIND_"),
          ")", p.parent_id().empty() ? "" : " under ", p.parent_id());
    }
    case v1::Event::kUnitRenamed:
      return absl::StrCat(e.unit_renamed().unit_id(), " -> ",
                          e.unit_renamed().new_name());
    case v1::Event::kUnitMoved:
      return absl::StrCat(e.unit_moved().unit_id(), ": ",
                          e.unit_moved().from_parent_id(), " -> ",
                          e.unit_moved().to_parent_id());
    case v1::Event::kUnitsMerged:
      return absl::StrCat(
          absl::StrJoin(e.units_merged().source_unit_ids(), ", "), " -> ",
          e.units_merged().target_unit_id(), " (",
          EnumText<v1::MergeMode>(v1::MergeMode_Name(e.units_merged().mode()),
                                  "MERGE_MODE_"),
          ")");
    case v1::Event::kUnitDissolved:
      return absl::StrCat(
          e.unit_dissolved().unit_id(), " dissolved",
          e.unit_dissolved().successor_unit_ids().empty() ? ""
                                                          : ", succeeded by ",
          absl::StrJoin(e.unit_dissolved().successor_unit_ids(), ", "));
    case v1::Event::kMemberJoined:
      return absl::StrCat(e.member_joined().member_id(), " joins ",
                          e.member_joined().cell_id());
    case v1::Event::kMemberTransferred:
      return absl::StrCat(e.member_transferred().member_id(), ": ",
                          e.member_transferred().from_cell_id(), " -> ",
                          e.member_transferred().to_cell_id());
    case v1::Event::kMemberLeft:
      return absl::StrCat(e.member_left().member_id(), " leaves ",
                          e.member_left().cell_id());
    case v1::Event::kPlanIssued:
      return absl::StrCat(e.plan_issued().document().number(), " ",
                          e.plan_issued().document().title());
    case v1::Event::kSessionHeld: {
      const auto& s = e.session_held();
      std::string text =
          absl::StrCat(s.unit_id(), " ",
                       EnumText<v1::SessionKind>(v1::SessionKind_Name(s.kind()),
                                                 "SESSION_KIND_"));
      if (s.has_attendance()) {
        absl::StrAppend(&text, " ", s.attendance().present(), "/",
                        s.attendance().convened(), " present");
      }
      if (!s.topic().empty()) absl::StrAppend(&text, " \"", s.topic(), "\"");
      return text;
    }
    case v1::Event::kCommitmentRegistered: {
      const auto& c = e.commitment_registered();
      return absl::StrCat(c.commitment_id(), " by ",
                          c.member_id().empty() ? c.unit_id() : c.member_id(),
                          ", ", c.items_size(), " item(s)");
    }
    case v1::Event::kCommitmentEvaluated:
      return absl::StrCat(
          e.commitment_evaluated().commitment_id(), ": ",
          EnumText<v1::EvaluationOutcome>(
              v1::EvaluationOutcome_Name(e.commitment_evaluated().outcome()),
              "EVALUATION_OUTCOME_"));
    case v1::Event::kAwardGiven: {
      const auto& a = e.award_given();
      const int count = a.has_aggregate() ? a.aggregate().collectives() +
                                                a.aggregate().individuals()
                                          : a.recipients_size();
      return absl::StrCat(
          EnumText<v1::AwardKind>(v1::AwardKind_Name(a.kind()), "AWARD_KIND_"),
          " of ", a.issuer().organ(), " to ", count, " recipient(s)");
    }
    case v1::Event::kEventCorrected:
      return absl::StrCat("corrects #", e.event_corrected().target_position(),
                          ": ", e.event_corrected().reason());
    case v1::Event::kEventRetracted:
      return absl::StrCat(
          "retracts #", e.event_retracted().target_position(), ": ",
          EnumText<v1::RetractionReason>(
              v1::RetractionReason_Name(e.event_retracted().reason()),
              "RETRACTION_REASON_"));
    case v1::Event::PAYLOAD_NOT_SET:
      break;
  }
  return "";
}

std::string HumanBytes(uint64_t n) {
  if (n < 1024) return absl::StrCat(n, " B");
  if (n < (1 << 20)) return absl::StrFormat("%.1f KiB", n / 1024.0);
  if (n < (1u << 30)) return absl::StrFormat("%.1f MiB", n / 1048576.0);
  return absl::StrFormat("%.2f GiB", n / 1073741824.0);
}

// Maps "entries[k]" at the start of a server message to the input line.
std::string LocateEntry(const std::string& message,
                        const std::vector<int64_t>& lines) {
  absl::string_view m = message;
  if (!absl::ConsumePrefix(&m, "entries[")) return "";
  size_t close = m.find(']');
  int index = 0;
  if (close == absl::string_view::npos ||
      !absl::SimpleAtoi(m.substr(0, close), &index) || index < 0 ||
      index >= static_cast<int>(lines.size())) {
    return "";
  }
  return absl::StrCat("line ", lines[index], ": ");
}

}  // namespace

absl::Status ParseImportLine(const std::string& line, v1::BatchEntry* entry) {
  JsonParseOptions options;
  options.ignore_unknown_fields = false;
  entry->Clear();
  absl::Status as_entry =
      FromPb(google::protobuf::util::JsonStringToMessage(line, entry, options));
  if (as_entry.ok()) {
    if (!entry->has_event()) {
      return absl::InvalidArgumentError("no \"event\" in the entry");
    }
    return absl::OkStatus();
  }
  entry->Clear();
  absl::Status as_event = FromPb(google::protobuf::util::JsonStringToMessage(
      line, entry->mutable_event(), options));
  if (as_event.ok()) return absl::OkStatus();
  // Report the error of the form the line most looks like.
  return absl::StrContains(line, "\"event\"") ? as_entry : as_event;
}

int Append(const Context& ctx, const std::string& path,
           const AppendOptions& options) {
  LineReader reader(path);
  if (!reader.ok()) {
    *ctx.err << "nenep: cannot read " << path << "\n";
    return 1;
  }
  std::vector<v1::BatchEntry> entries;
  std::vector<int64_t> lines;
  std::string line;
  int64_t number = 0;
  Sha256 content;
  while (reader.Next(&line, &number)) {
    v1::BatchEntry entry;
    if (absl::Status s = ParseImportLine(line, &entry); !s.ok()) {
      *ctx.err << "nenep: " << path << ": line " << number << ": "
               << s.message() << "\n";
      return 1;
    }
    content.UpdateField(line);
    entries.push_back(std::move(entry));
    lines.push_back(number);
  }
  if (entries.empty()) {
    *ctx.err << "nenep: " << path << " holds no events\n";
    return 1;
  }
  v1::ExpectedRevision expected;
  if (absl::Status s = ParseExpected(options.expected_revision, &expected);
      !s.ok()) {
    *ctx.err << "nenep: " << s.message() << "\n";
    return 2;
  }
  const std::string request_id =
      options.request_id.empty()
          ? absl::StrCat("cli-append-",
                         HexEncode(content.Finish()).substr(0, 32))
          : options.request_id;

  // One stream (explicit, or the events' own): Append; else BatchAppend.
  auto stream_of = [](const v1::BatchEntry& e) {
    return e.stream().empty() ? services::NaturalStream(e.event()) : e.stream();
  };
  const std::string first_stream = stream_of(entries[0]);
  bool one_stream = !first_stream.empty() || !options.stream.empty();
  for (const v1::BatchEntry& e : entries) {
    if (stream_of(e) != first_stream || e.has_expected_revision()) {
      one_stream = false;
    }
  }
  auto stub = v1::EventLog::NewStub(ctx.channel);
  grpc::ClientContext call;
  SetDeadline(ctx, &call);
  if (one_stream) {
    v1::AppendRequest request;
    request.set_request_id(request_id);
    request.set_stream(options.stream);
    *request.mutable_expected_revision() = expected;
    for (v1::BatchEntry& e : entries) {
      *request.add_events() = std::move(*e.mutable_event());
    }
    v1::AppendResponse response;
    grpc::Status s = stub->Append(&call, request, &response);
    if (!s.ok()) {
      std::string where;
      const std::string message = s.error_message();
      absl::string_view m = message;
      if (absl::ConsumePrefix(&m, "events[")) {
        int index = 0;
        size_t close = m.find(']');
        if (close != absl::string_view::npos &&
            absl::SimpleAtoi(m.substr(0, close), &index) && index >= 0 &&
            index < static_cast<int>(lines.size())) {
          where = absl::StrCat(path, ": line ", lines[index], ": ");
        }
      }
      *ctx.err << "nenep: append failed: " << where << Describe(ctx, s) << "\n";
      return 1;
    }
    if (ctx.json) {
      *ctx.out << ToJson(response) << "\n";
    } else {
      *ctx.out << absl::StrFormat(
          "%s %d event(s) to %s: positions %d..%d, revisions %d..%d\n",
          response.already_appended() ? "already appended" : "appended",
          response.last_position() - response.first_position() + 1,
          response.stream(), response.first_position(),
          response.last_position(), response.first_revision(),
          response.last_revision());
    }
    return 0;
  }
  if (!options.stream.empty() || !options.expected_revision.empty()) {
    *ctx.err << "nenep: --stream and --expected_revision apply to events of "
                "one stream; these lines name several (put expectations in "
                "the lines' \"expectedRevision\")\n";
    return 2;
  }
  v1::BatchAppendRequest request;
  request.set_request_id(request_id);
  for (v1::BatchEntry& e : entries) *request.add_entries() = std::move(e);
  v1::BatchAppendResponse response;
  grpc::Status s = stub->BatchAppend(&call, request, &response);
  if (!s.ok()) {
    *ctx.err << "nenep: append failed: " << path << ": "
             << LocateEntry(s.error_message(), lines) << Describe(ctx, s)
             << "\n";
    return 1;
  }
  if (ctx.json) {
    *ctx.out << ToJson(response) << "\n";
  } else {
    *ctx.out << absl::StrFormat(
        "%s %d event(s): positions %d..%d\n",
        response.already_appended() ? "already appended" : "appended",
        response.last_position() - response.first_position() + 1,
        response.first_position(), response.last_position());
  }
  return 0;
}

int Import(const Context& ctx, const std::string& path,
           const ImportOptions& options) {
  if (options.batch_size < 1) {
    *ctx.err << "nenep: --batch_size must be at least 1\n";
    return 2;
  }
  LineReader reader(path);
  if (!reader.ok()) {
    *ctx.err << "nenep: cannot read " << path << "\n";
    return 1;
  }
  auto stub = v1::EventLog::NewStub(ctx.channel);
  const absl::Time start = absl::Now();
  absl::Time last_progress = absl::InfinitePast();
  int64_t imported = 0, already = 0, batches = 0;
  uint64_t first_position = 0, last_position = 0;
  std::map<std::string, int64_t> by_type;

  v1::BatchAppendRequest request;
  std::vector<int64_t> lines;
  auto content = std::make_unique<Sha256>();
  std::string line;
  int64_t number = 0;
  bool end = false;
  while (!end) {
    end = !reader.Next(&line, &number);
    if (!end) {
      v1::BatchEntry* entry = request.add_entries();
      if (absl::Status s = ParseImportLine(line, entry); !s.ok()) {
        *ctx.err << (ctx.progress ? "\n" : "") << "nenep: " << path << ": line "
                 << number << ": " << s.message() << "\n"
                 << "nenep: imported " << imported
                 << " event(s) before this line; fix it and run the same "
                    "command again (what was imported is skipped)\n";
        return 1;
      }
      content->UpdateField(line);
      lines.push_back(number);
    }
    if (request.entries_size() == 0 ||
        (!end && request.entries_size() < options.batch_size)) {
      continue;
    }
    const std::string digest = HexEncode(content->Finish()).substr(0, 24);
    content = std::make_unique<Sha256>();
    request.set_request_id(absl::StrCat(options.request_id_prefix.empty()
                                            ? "import"
                                            : options.request_id_prefix,
                                        "-", digest, "-", lines.front()));
    v1::BatchAppendResponse response;
    grpc::ClientContext call;
    SetDeadline(ctx, &call);
    grpc::Status s = stub->BatchAppend(&call, request, &response);
    if (!s.ok()) {
      *ctx.err << (ctx.progress ? "\n" : "") << "nenep: " << path << ": "
               << LocateEntry(s.error_message(), lines) << "batch of lines "
               << lines.front() << ".." << lines.back()
               << " failed: " << Describe(ctx, s) << "\n"
               << "nenep: imported " << imported
               << " event(s) before this batch; nothing of the batch was "
                  "written. Fix it and run the same command again.\n";
      return 1;
    }
    ++batches;
    const int64_t n = request.entries_size();
    if (response.already_appended()) {
      already += n;
    } else {
      imported += n;
      for (const v1::BatchEntry& e : request.entries()) {
        const google::protobuf::FieldDescriptor* f =
            v1::Event::descriptor()->FindFieldByNumber(
                e.event().payload_case());
        if (f != nullptr) ++by_type[f->message_type()->name()];
      }
    }
    if (first_position == 0) first_position = response.first_position();
    last_position = response.last_position();
    request.Clear();
    lines.clear();
    if (ctx.progress && absl::Now() - last_progress > absl::Milliseconds(200)) {
      last_progress = absl::Now();
      const double secs = absl::ToDoubleSeconds(absl::Now() - start);
      *ctx.err << absl::StrFormat(
                      "\rimporting %s: %d events (%d new), %.0f events/s   ",
                      path, imported + already, imported,
                      secs > 0 ? (imported + already) / secs : 0.0)
               << std::flush;
    }
  }
  if (ctx.progress) *ctx.err << "\n";
  const double secs = absl::ToDoubleSeconds(absl::Now() - start);
  if (ctx.json) {
    std::string types;
    for (const auto& [type, count] : by_type) {
      absl::StrAppend(&types, types.empty() ? "" : ",", "\"", type,
                      "\":", count);
    }
    *ctx.out << absl::StrFormat(
        "{\"file\":\"%s\",\"imported\":%d,\"alreadyImported\":%d,"
        "\"batches\":%d,\"firstPosition\":%d,\"lastPosition\":%d,"
        "\"seconds\":%.3f,\"byType\":{%s}}\n",
        path, imported, already, batches, first_position, last_position, secs,
        types);
  } else {
    *ctx.out << absl::StrFormat(
        "imported %d new event(s) from %s in %d batch(es), %.2f s", imported,
        path, batches, secs);
    if (already > 0) {
      *ctx.out << absl::StrFormat("; %d were already imported", already);
    }
    if (last_position > 0) {
      *ctx.out << absl::StrFormat(" (positions %d..%d)", first_position,
                                  last_position);
    }
    *ctx.out << "\n";
    for (const auto& [type, count] : by_type) {
      *ctx.out << absl::StrFormat("  %-22s %d\n", type, count);
    }
  }
  return 0;
}

int Read(const Context& ctx, const ReadOptions& options) {
  auto stub = v1::EventLog::NewStub(ctx.channel);
  std::string token;
  int64_t printed = 0;
  const bool all = options.limit <= 0;
  bool first = true;
  while (all || printed < options.limit) {
    const int64_t want =
        all ? options.page_size
            : std::min<int64_t>(options.page_size, options.limit - printed);
    grpc::ClientContext call;
    SetDeadline(ctx, &call);
    grpc::Status s;
    google::protobuf::RepeatedPtrField<v1::RecordedEvent> events;
    std::string next;
    if (options.stream.empty()) {
      v1::ReadAllRequest request;
      request.set_from_position(options.from);
      request.set_direction(options.backward ? v1::DIRECTION_BACKWARD
                                             : v1::DIRECTION_FORWARD);
      request.set_page_size(static_cast<uint32_t>(want));
      request.set_page_token(token);
      v1::ReadAllResponse response;
      s = stub->ReadAll(&call, request, &response);
      events.Swap(response.mutable_events());
      next = response.next_page_token();
    } else {
      v1::ReadStreamRequest request;
      request.set_stream(options.stream);
      request.set_from_revision(options.from);
      request.set_direction(options.backward ? v1::DIRECTION_BACKWARD
                                             : v1::DIRECTION_FORWARD);
      request.set_page_size(static_cast<uint32_t>(want));
      request.set_page_token(token);
      v1::ReadStreamResponse response;
      s = stub->ReadStream(&call, request, &response);
      events.Swap(response.mutable_events());
      next = response.next_page_token();
    }
    if (!s.ok()) {
      *ctx.err << "nenep: read failed: " << Describe(ctx, s) << "\n";
      return 1;
    }
    if (first && events.empty() && !ctx.json) {
      *ctx.err << "no events\n";
    }
    first = false;
    for (const v1::RecordedEvent& e : events) {
      PrintEvent(ctx, e);
      ++printed;
    }
    if (next.empty()) break;
    token = next;
  }
  return 0;
}

int Get(const Context& ctx, uint64_t position) {
  auto stub = v1::EventLog::NewStub(ctx.channel);
  grpc::ClientContext call;
  SetDeadline(ctx, &call);
  v1::GetEventRequest request;
  request.set_position(position);
  v1::RecordedEvent event;
  grpc::Status s = stub->GetEvent(&call, request, &event);
  if (!s.ok()) {
    *ctx.err << "nenep: get failed: " << Describe(ctx, s) << "\n";
    return 1;
  }
  if (ctx.json) {
    *ctx.out << ToJson(event) << "\n";
    return 0;
  }
  PrintEvent(ctx, event);
  JsonPrintOptions pretty = PrintOptions();
  pretty.add_whitespace = true;
  std::string body;
  (void)google::protobuf::util::MessageToJsonString(event.event(), &body,
                                                    pretty);
  *ctx.out << body;
  if (!event.request_id().empty()) {
    *ctx.out << "request_id: " << event.request_id() << "\n";
  }
  if (!event.principal().empty()) {
    *ctx.out << "principal:  " << event.principal() << "\n";
  }
  return 0;
}

int Status(const Context& ctx) {
  auto health = grpc::health::v1::Health::NewStub(ctx.channel);
  grpc::ClientContext hcall;
  SetDeadline(ctx, &hcall);
  grpc::health::v1::HealthCheckRequest hreq;
  grpc::health::v1::HealthCheckResponse hresp;
  grpc::Status hs = health->Check(&hcall, hreq, &hresp);
  if (!hs.ok()) {
    *ctx.err << "nenep: status failed: " << Describe(ctx, hs) << "\n";
    return 1;
  }
  const bool serving =
      hresp.status() == grpc::health::v1::HealthCheckResponse::SERVING;
  auto admin = v1::Admin::NewStub(ctx.channel);
  grpc::ClientContext call;
  SetDeadline(ctx, &call);
  v1::ServerStatus status;
  grpc::Status s = admin->GetStatus(&call, v1::GetStatusRequest(), &status);
  if (!s.ok()) {
    *ctx.err << "nenep: status failed: " << Describe(ctx, s) << "\n";
    return 1;
  }
  if (ctx.json) {
    *ctx.out << ToJson(status) << "\n";
    return serving ? 0 : 1;
  }
  *ctx.out << absl::StrFormat("server      %s  %s\n", ctx.server,
                              serving ? "SERVING" : "NOT_SERVING");
  *ctx.out << absl::StrFormat("version     %s\n", status.version());
  *ctx.out << absl::StrFormat("data_dir    %s\n", status.data_dir());
  *ctx.out << absl::StrFormat("head        %d\n", status.head_position());
  if (status.has_last_recorded_at()) {
    *ctx.out << absl::StrFormat("last event  %s (Asia/Ho_Chi_Minh)\n",
                                LocalTime(status.last_recorded_at()));
  }
  *ctx.out << absl::StrFormat("started     %s (Asia/Ho_Chi_Minh)\n",
                              LocalTime(status.started_at()));
  *ctx.out << absl::StrFormat("disk        %s\n",
                              HumanBytes(status.disk_bytes()));
  *ctx.out << absl::StrFormat("appends     %d since start\n",
                              status.appends_total());
  *ctx.out << absl::StrFormat("merkle tree %d events hashed\n",
                              status.merkle_tree_size());
  if (status.has_projections()) {
    const v1::ProjectionStatus& p = status.projections();
    if (!p.enabled()) {
      *ctx.out << "projections off (nenepd --projections=false)\n";
    } else {
      *ctx.out << absl::StrFormat(
          "projections at #%d: %d units, %d members%s\n", p.position(),
          p.units(), p.members(),
          p.skipped_on_open() > 0
              ? absl::StrCat("; ", p.skipped_on_open(),
                             " logged events refused at start")
              : "");
    }
  }
  return serving ? 0 : 1;
}

int Backup(const Context& ctx, const std::string& directory) {
  std::string dir = directory;
  if (!absl::StartsWith(dir, "/")) {
    char cwd[4096];
    if (getcwd(cwd, sizeof(cwd)) == nullptr) {
      *ctx.err << "nenep: cannot resolve " << directory << "\n";
      return 1;
    }
    dir = absl::StrCat(cwd, "/", directory);
  }
  auto admin = v1::Admin::NewStub(ctx.channel);
  grpc::ClientContext call;
  call.set_deadline(absl::ToChronoTime(absl::Now() + absl::Hours(24)));
  v1::CreateBackupRequest request;
  request.set_directory(dir);
  v1::CreateBackupResponse response;
  grpc::Status s = admin->CreateBackup(&call, request, &response);
  if (!s.ok()) {
    *ctx.err << "nenep: backup failed: " << Describe(ctx, s) << "\n";
    return 1;
  }
  if (ctx.json) {
    *ctx.out << ToJson(response) << "\n";
  } else {
    *ctx.out << absl::StrFormat(
        "backup %d in %s: %s, every event up to position %d\n"
        "restore with: nenep restore --backup_dir=%s --data_dir=NEW_DIR\n",
        response.backup_id(), response.directory(),
        HumanBytes(response.size_bytes()), response.head_position(),
        response.directory());
  }
  return 0;
}

int Verify(const std::string& data_dir, const std::string& public_key_hex,
           bool json, std::ostream* out, std::ostream* err) {
  if (data_dir.empty()) {
    *err << "nenep: verify needs --data_dir (the store to check)\n";
    return 2;
  }
  std::string key;
  if (!public_key_hex.empty()) {
    key = absl::HexStringToBytes(public_key_hex);
    if (key.size() != 32 ||
        absl::BytesToHexString(key) != absl::AsciiStrToLower(public_key_hex)) {
      *err << "nenep: --public_key must be 64 hex digits (a raw Ed25519 "
              "public key, as nenep audit head prints it)\n";
      return 2;
    }
  }
  const bool tty = isatty(STDERR_FILENO) != 0;
  absl::StatusOr<storage::VerifyReport> report = storage::VerifyStore(
      data_dir, key, [&](storage::Position done, storage::Position total) {
        if (tty && total > 0) {
          *err << absl::StrFormat("\rverifying %d / %d events (%.0f%%)", done,
                                  total, 100.0 * done / total)
               << std::flush;
        }
      });
  if (tty) *err << "\r" << std::string(60, ' ') << "\r";
  if (!report.ok()) {
    *err << "nenep: verify failed: " << report.status().message() << "\n";
    return 1;
  }
  for (const storage::VerifyReport::Problem& p : report->problems) {
    if (json) {
      *out << absl::StrFormat("{\"position\":%d,\"problem\":\"%s\"}\n",
                              p.position, absl::CEscape(p.what));
    } else {
      *out << absl::StrFormat("position %d: %s\n", p.position, p.what);
    }
  }
  if (!json) {
    *out << absl::StrFormat(
        "%s: %d events, Merkle tree of %d, %d signed tree head(s) checked%s: "
        "%s\n",
        data_dir, report->events, report->tree_size, report->heads_checked,
        report->key_id.empty() ? ""
                               : absl::StrCat(" (key ", report->key_id, ")"),
        report->problems.empty()
            ? "intact"
            : absl::StrCat(report->problems.size(), " problem(s)"));
  }
  return report->problems.empty() ? 0 : 1;
}

int Restore(const std::string& backup_dir, const std::string& data_dir,
            uint32_t backup_id, std::ostream* out, std::ostream* err) {
  if (backup_dir.empty() || data_dir.empty()) {
    *err << "nenep: restore needs --backup_dir and --data_dir\n";
    return 2;
  }
  absl::StatusOr<storage::Position> head =
      storage::RestoreBackup(backup_dir, data_dir, backup_id);
  if (!head.ok()) {
    *err << "nenep: restore failed: " << head.status().message() << "\n";
    return 1;
  }
  *out << absl::StrFormat(
      "restored %s into %s: the log holds positions 1..%d\n"
      "start the server on it with: nenepd --data_dir=%s\n",
      backup_dir, data_dir, *head, data_dir);
  return 0;
}

void PrintEvent(const Context& ctx, const v1::RecordedEvent& e) {
  if (ctx.json) {
    *ctx.out << ToJson(e) << "\n";
    return;
  }
  *ctx.out << absl::StrFormat(
      "#%-8d %s  %-20s %s@%d  %s  %s\n", e.position(),
      LocalTime(e.recorded_at()), e.type(), e.stream(), e.revision(),
      services::FormatDayVn(e.event().business_date()), Summary(e.event()));
}

int Tail(const Context& ctx, const TailOptions& options) {
  auto stub = v1::Subscriptions::NewStub(ctx.channel);
  grpc::ClientContext call;  // no deadline: it follows the log
  v1::SubscribeRequest request;
  if (options.from == 0) {
    request.set_from_now(true);
  } else {
    request.set_from_position(options.from);
  }
  for (const std::string& t : options.types) request.add_event_types(t);
  request.set_subtree_unit_id(options.subtree);
  auto reader = stub->Subscribe(&call, request);
  v1::SubscribeResponse item;
  int64_t printed = 0;
  while (reader->Read(&item)) {
    if (item.has_event()) {
      PrintEvent(ctx, item.event());
      ctx.out->flush();
      if (options.count > 0 && ++printed >= options.count) {
        call.TryCancel();
        break;
      }
    } else if (item.has_caught_up() && !ctx.json) {
      *ctx.err << "-- caught up at #" << item.caught_up().position()
               << "; following new events (Ctrl-C stops) --\n";
    } else if (item.has_fell_behind() && !ctx.json) {
      *ctx.err << "-- " << item.fell_behind().lag()
               << " events behind; reading from the log --\n";
    }
  }
  grpc::Status s = reader->Finish();
  if (!s.ok() && !(options.count > 0 && printed >= options.count)) {
    *ctx.err << "nenep: tail failed: " << Describe(ctx, s) << "\n";
    return 1;
  }
  return 0;
}

}  // namespace nenep::cli
