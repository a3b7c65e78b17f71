#include "services/groups/group_manager.h"

#include <algorithm>
#include <limits>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "services/common/proto_time.h"
#include "services/eventlog/event_log_service.h"
#include "storage/common/coding.h"
#include "storage/common/logging.h"
#include "storage/common/status_macros.h"

namespace nenep::services {
namespace {

using storage::Position;
using storage::StateWrite;

constexpr size_t kPage = 512;
constexpr uint32_t kDefaultAckDeadlineMs = 30000;
constexpr uint32_t kDefaultMaxDeliveries = 5;
constexpr uint32_t kDefaultMaxEvents = 100;
constexpr uint32_t kMaxEvents = 10000;
constexpr size_t kMaxMemberBytes = 128;
// A member with nothing in flight is forgotten after this long.
constexpr absl::Duration kMemberIdle = absl::Minutes(10);

constexpr char kGroupPrefix[] = "group/";
constexpr char kParkedPrefix[] = "parked/";

std::string GroupKey(const std::string& name) {
  return absl::StrCat(kGroupPrefix, name);
}
std::string ParkedPrefix(const std::string& name) {
  return absl::StrCat(kParkedPrefix, name, "/");
}
std::string ParkedKey(const std::string& name, Position position) {
  return absl::StrCat(ParkedPrefix(name), EncodeFixed64BE(position));
}

absl::Status CheckName(const std::string& name, absl::string_view field) {
  if (name.empty() || name.size() > 64) {
    return absl::InvalidArgumentError(absl::StrCat(
        field, ": a group name has 1 to 64 characters, got ", name.size()));
  }
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                    (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
    if (!ok) {
      return absl::InvalidArgumentError(absl::StrCat(
          field, ": '", name, "' has a character outside [A-Za-z0-9._-]"));
    }
  }
  return absl::OkStatus();
}

absl::Status CheckMember(const std::string& member) {
  if (member.empty() || member.size() > kMaxMemberBytes) {
    return absl::InvalidArgumentError(absl::StrCat(
        "member: name the consumer with 1 to ", kMaxMemberBytes, " bytes"));
  }
  return absl::OkStatus();
}

absl::Status CheckPositions(
    const google::protobuf::RepeatedField<uint64_t>& positions) {
  if (positions.empty()) {
    return absl::InvalidArgumentError("positions: give at least one");
  }
  if (static_cast<size_t>(positions.size()) > kMaxEvents) {
    return absl::InvalidArgumentError(
        absl::StrCat("positions: at most ", kMaxEvents, " per call"));
  }
  return absl::OkStatus();
}

}  // namespace

GroupManager::GroupManager(storage::EventLog* log,
                           const ProjectionHandle* projections,
                           GroupManagerOptions options)
    : log_(log), projections_(projections), options_(std::move(options)) {}

absl::StatusOr<std::unique_ptr<GroupManager>> GroupManager::Open(
    storage::EventLog* log, const ProjectionHandle* projections,
    GroupManagerOptions options) {
  if (!options.clock) options.clock = [] { return absl::Now(); };
  std::unique_ptr<GroupManager> m(
      new GroupManager(log, projections, std::move(options)));
  RETURN_IF_ERROR(m->Load());
  return m;
}

absl::StatusOr<EventFilter> GroupManager::MakeFilter(
    const storage::v1::GroupRecord& rec) const {
  std::shared_ptr<const projections::Projection> hold;
  if (!rec.subtree_unit_id().empty()) {
    absl::StatusOr<ProjectionStore*> store = projections_->Get();
    if (store.ok()) hold = (*store)->Get();
  }
  return EventFilter::Make({rec.event_types().begin(), rec.event_types().end()},
                           rec.subtree_unit_id(), hold.get(), "filter.");
}

absl::Status GroupManager::Load() {
  std::vector<storage::v1::GroupRecord> recs;
  absl::Status parse;
  RETURN_IF_ERROR(log_->ScanState(
      kGroupPrefix, [&](absl::string_view key, absl::string_view value) {
        storage::v1::GroupRecord rec;
        if (!rec.ParseFromArray(value.data(), static_cast<int>(value.size())))
          parse = absl::DataLossError(
              absl::StrCat("state key '", key, "' holds no group record"));
        recs.push_back(std::move(rec));
      }));
  RETURN_IF_ERROR(parse);
  absl::MutexLock lock(&mu_);
  for (storage::v1::GroupRecord& rec : recs) {
    auto g = std::make_unique<Group>();
    absl::StatusOr<EventFilter> filter = MakeFilter(rec);
    if (filter.ok()) {
      g->filter = *std::move(filter);
    } else {
      // E.g. the server now runs without projections: keep the group and
      // its checkpoint, deliver nothing, and say why.
      g->broken = absl::FailedPreconditionError(
          absl::StrCat("consumer group '", rec.name(),
                       "' cannot filter: ", filter.status().message()));
      logging::Error("consumer group cannot filter; it delivers nothing",
                     {{"group", rec.name()}, {"error", filter.status()}});
    }
    g->scanned = std::max<Position>(rec.checkpoint(), rec.start_position() - 1);
    const std::string name = rec.name();
    std::vector<std::pair<Position, storage::v1::ParkedRecord>> replaying;
    RETURN_IF_ERROR(log_->ScanState(
        ParkedPrefix(name), [&](absl::string_view key, absl::string_view v) {
          ++g->parked;
          storage::v1::ParkedRecord p;
          if (p.ParseFromArray(v.data(), static_cast<int>(v.size())) &&
              p.replaying()) {
            replaying.emplace_back(DecodeFixed64BE(key.substr(key.size() - 8)),
                                   p);
          }
        }));
    for (auto& [position, p] : replaying) {
      ASSIGN_OR_RETURN(storage::Record r, log_->Get(position));
      Entry e;
      e.record = std::move(r);
      e.replay = true;
      g->replays.emplace(position, std::move(e));
    }
    g->rec = std::move(rec);
    logging::Info("consumer group loaded", {{"group", name},
                                            {"checkpoint", g->rec.checkpoint()},
                                            {"parked", g->parked}});
    groups_.emplace(name, std::move(g));
  }
  return absl::OkStatus();
}

absl::Status GroupManager::CheckOpen() const {
  if (closed_) {
    return absl::UnavailableError(
        "the server is stopping; consumer groups resume from their "
        "checkpoints when it is back");
  }
  return absl::OkStatus();
}

absl::StatusOr<GroupManager::Group*> GroupManager::Find(
    const std::string& name) {
  RETURN_IF_ERROR(CheckOpen());
  auto it = groups_.find(name);
  if (it == groups_.end()) {
    return absl::NotFoundError(
        absl::StrCat("consumer group '", name,
                     "' does not exist (nenep groups lists them)"));
  }
  return it->second.get();
}

void GroupManager::Close() {
  absl::MutexLock lock(&mu_);
  closed_ = true;
}

Position GroupManager::Checkpoint(const Group& g) {
  return g.window.empty() ? g.scanned : g.window.begin()->first - 1;
}

absl::StatusOr<v1::ConsumerGroup> GroupManager::Create(
    const v1::CreateGroupRequest& r) {
  RETURN_IF_ERROR(CheckName(r.name(), "name"));
  const uint32_t deadline_ms =
      r.ack_deadline_ms() == 0 ? kDefaultAckDeadlineMs : r.ack_deadline_ms();
  if (deadline_ms < 100 || deadline_ms > 3600000) {
    return absl::InvalidArgumentError(absl::StrCat(
        "ack_deadline_ms: ", deadline_ms, " is outside 100 .. 3,600,000"));
  }
  const uint32_t max_deliveries =
      r.max_deliveries() == 0 ? kDefaultMaxDeliveries : r.max_deliveries();
  if (max_deliveries > 1000) {
    return absl::InvalidArgumentError(absl::StrCat(
        "max_deliveries: ", max_deliveries, " is outside 1 .. 1,000"));
  }
  storage::v1::GroupRecord rec;
  rec.set_name(r.name());
  for (const std::string& t : r.filter().event_types()) rec.add_event_types(t);
  rec.set_subtree_unit_id(r.filter().subtree_unit_id());
  rec.set_ack_deadline_ms(deadline_ms);
  rec.set_max_deliveries(max_deliveries);
  ASSIGN_OR_RETURN(EventFilter filter, MakeFilter(rec));

  absl::MutexLock lock(&mu_);
  RETURN_IF_ERROR(CheckOpen());
  if (groups_.contains(r.name())) {
    return absl::AlreadyExistsError(
        absl::StrCat("consumer group '", r.name(), "' already exists"));
  }
  const Position head = log_->Head();
  Position start = 1;
  switch (r.start_case()) {
    case v1::CreateGroupRequest::kFromPosition:
      start = std::max<Position>(r.from_position(), 1);
      if (start > head + 1) {
        return absl::OutOfRangeError(absl::StrCat(
            "from_position: ", r.from_position(), " is past the head (", head,
            "); use from_now to take only new events"));
      }
      break;
    case v1::CreateGroupRequest::kFromNow:
      start = head + 1;
      break;
    default:
      break;
  }
  rec.set_start_position(start);
  rec.set_checkpoint(start - 1);
  rec.set_created_at_micros(absl::ToUnixMicros(options_.clock()));
  RETURN_IF_ERROR(log_->WriteState(
      {StateWrite{GroupKey(rec.name()), rec.SerializeAsString()}},
      /*sync=*/true));
  auto g = std::make_unique<Group>();
  g->filter = std::move(filter);
  g->scanned = start - 1;
  g->rec = std::move(rec);
  Group* raw = g.get();
  groups_.emplace(r.name(), std::move(g));
  logging::Info("consumer group created",
                {{"group", r.name()}, {"start_position", start}});
  return Describe(*raw);
}

absl::StatusOr<v1::ConsumerGroup> GroupManager::Get(const std::string& name) {
  absl::MutexLock lock(&mu_);
  ASSIGN_OR_RETURN(Group * g, Find(name));
  return Describe(*g);
}

absl::StatusOr<std::vector<v1::ConsumerGroup>> GroupManager::List() {
  absl::MutexLock lock(&mu_);
  RETURN_IF_ERROR(CheckOpen());
  std::vector<v1::ConsumerGroup> out;
  for (auto& [name, g] : groups_) out.push_back(Describe(*g));
  return out;
}

absl::Status GroupManager::Delete(const std::string& name) {
  absl::MutexLock lock(&mu_);
  ASSIGN_OR_RETURN(Group * g, Find(name));
  std::vector<StateWrite> writes;
  RETURN_IF_ERROR(log_->ScanState(
      ParkedPrefix(name), [&](absl::string_view key, absl::string_view) {
        writes.push_back(StateWrite{std::string(key), "", /*erase=*/true});
      }));
  writes.push_back(StateWrite{GroupKey(name), "", /*erase=*/true});
  RETURN_IF_ERROR(log_->WriteState(writes, /*sync=*/true));
  logging::Info("consumer group deleted",
                {{"group", name}, {"checkpoint", Checkpoint(*g)}});
  groups_.erase(name);
  return absl::OkStatus();
}

absl::Status GroupManager::Fill(Group* g) {
  RETURN_IF_ERROR(g->broken);
  const Position head = log_->Head();
  std::shared_ptr<const projections::Projection> projection;
  while (g->window.size() < options_.window && g->scanned < head) {
    const size_t n = std::min<uint64_t>(
        {kPage, head - g->scanned, options_.window - g->window.size()});
    ASSIGN_OR_RETURN(
        std::vector<storage::Record> page,
        log_->ReadAll(g->scanned + 1, storage::Direction::kForward, n));
    if (page.empty()) {
      return absl::DataLossError(
          absl::StrCat("the log has no event at ", g->scanned + 1));
    }
    if (g->filter.needs_event() && projection == nullptr) {
      ASSIGN_OR_RETURN(ProjectionStore * store, projections_->Get());
      projection = store->Get();
    }
    for (storage::Record& r : page) {
      g->scanned = r.position;
      if (!g->filter.PassesType(r.type)) continue;
      if (g->filter.needs_event()) {
        v1::Event event;
        if (!event.ParseFromString(r.payload)) {
          return absl::DataLossError(absl::StrCat(
              "the event at ", r.position, " does not parse as an Event"));
        }
        if (!g->filter.PassesSubtree(event, projection.get())) continue;
      }
      const Position p = r.position;
      g->streams[r.stream].open.insert(p);
      Entry e;
      e.record = std::move(r);
      g->window.emplace(p, std::move(e));
    }
  }
  return absl::OkStatus();
}

GroupManager::Entry* GroupManager::InFlightTo(Group* g, Position position,
                                              const std::string& member) {
  for (auto* m : {&g->window, &g->replays}) {
    auto it = m->find(position);
    if (it != m->end() && it->second.member == member) return &it->second;
  }
  return nullptr;
}

void GroupManager::Release(Group* g, Position position, Entry* e) {
  auto m = g->members.find(e->member);
  if (m != g->members.end() && m->second.in_flight > 0) --m->second.in_flight;
  if (!e->replay) {
    StreamState& s = g->streams[e->record.stream];
    if (--s.in_flight == 0) s.owner.clear();
  }
  e->member.clear();
  g->in_flight.erase(position);
}

void GroupManager::Resolve(Group* g, Position position, bool replay) {
  if (replay) {
    g->replays.erase(position);
    return;
  }
  auto it = g->window.find(position);
  auto s = g->streams.find(it->second.record.stream);
  s->second.open.erase(position);
  if (s->second.open.empty()) g->streams.erase(s);
  g->window.erase(it);
}

void GroupManager::Park(Group* g, Position position, Entry* e,
                        const std::string& reason,
                        std::vector<StateWrite>* writes) {
  storage::v1::ParkedRecord p;
  p.set_deliveries(e->deliveries);
  p.set_reason(reason);
  p.set_parked_at_micros(absl::ToUnixMicros(options_.clock()));
  writes->push_back(
      StateWrite{ParkedKey(g->rec.name(), position), p.SerializeAsString()});
  if (!e->replay) ++g->parked;  // a replayed one was counted already
  logging::Warn("consumer group parked an event",
                {{"group", g->rec.name()},
                 {"position", position},
                 {"deliveries", e->deliveries},
                 {"reason", reason}});
  Resolve(g, position, e->replay);
}

void GroupManager::Expire(Group* g, absl::Time now,
                          std::vector<StateWrite>* writes) {
  std::vector<Position> due;
  for (Position p : g->in_flight) {
    Entry* e = nullptr;
    for (auto* m : {&g->window, &g->replays}) {
      auto it = m->find(p);
      if (it != m->end()) e = &it->second;
    }
    if (e != nullptr && e->deadline <= now) due.push_back(p);
  }
  for (Position p : due) {
    auto it = g->window.find(p);
    Entry* e = it != g->window.end() ? &it->second : &g->replays.at(p);
    const std::string member = e->member;
    Release(g, p, e);
    if (e->deliveries >= g->rec.max_deliveries()) {
      Park(g, p, e,
           absl::StrCat("not acked within ", g->rec.ack_deadline_ms(),
                        " ms in ", e->deliveries,
                        " deliveries (last to member '", member, "')"),
           writes);
    }
  }
}

void GroupManager::Touch(Group* g, const std::string& member, absl::Time now) {
  g->members[member].last_seen = now;
  for (auto it = g->members.begin(); it != g->members.end();) {
    auto next = std::next(it);
    if (it->second.in_flight == 0 && now - it->second.last_seen > kMemberIdle)
      g->members.erase(it);
    it = next;
  }
}

absl::Status GroupManager::Persist(Group* g, std::vector<StateWrite> writes) {
  const Position checkpoint = Checkpoint(*g);
  if (checkpoint == g->rec.checkpoint() && writes.empty()) {
    return absl::OkStatus();
  }
  storage::v1::GroupRecord rec = g->rec;
  rec.set_checkpoint(checkpoint);
  writes.push_back(StateWrite{GroupKey(rec.name()), rec.SerializeAsString()});
  absl::Status s = log_->WriteState(writes, /*sync=*/false);
  if (!s.ok()) {
    logging::Error("cannot write a consumer group's state",
                   {{"group", rec.name()}, {"error", s}});
    return s;
  }
  g->rec = std::move(rec);
  return absl::OkStatus();
}

absl::StatusOr<v1::PullResponse> GroupManager::Pull(const v1::PullRequest& r) {
  RETURN_IF_ERROR(CheckMember(r.member()));
  const uint32_t max = r.max_events() == 0 ? kDefaultMaxEvents : r.max_events();
  if (max > kMaxEvents) {
    return absl::InvalidArgumentError(absl::StrCat(
        "max_events: ", r.max_events(), " is more than ", kMaxEvents));
  }
  absl::MutexLock lock(&mu_);
  ASSIGN_OR_RETURN(Group * g, Find(r.group()));
  const absl::Time now = options_.clock();
  Touch(g, r.member(), now);
  std::vector<StateWrite> writes;
  Expire(g, now, &writes);
  RETURN_IF_ERROR(Fill(g));

  std::vector<std::pair<Position, Entry*>> chosen;
  const Position bound = r.up_to_position() == 0
                             ? std::numeric_limits<Position>::max()
                             : r.up_to_position();
  for (auto& [p, e] : g->replays) {
    if (chosen.size() >= max || p > bound) break;
    if (e.member.empty()) chosen.emplace_back(p, &e);
  }
  for (auto& [p, e] : g->window) {
    if (chosen.size() >= max || p > bound) break;
    if (!e.member.empty()) continue;
    StreamState& s = g->streams[e.record.stream];
    if (s.in_flight > 0 && s.owner != r.member()) continue;
    // Every earlier open event of the stream must be with this member
    // already: the stream's events go out in order.
    bool blocked = false;
    for (Position q : s.open) {
      if (q == p) break;
      if (g->window.at(q).member != r.member()) {
        blocked = true;
        break;
      }
    }
    if (blocked) continue;
    // Deliver now, so that later events of the stream see it in flight.
    e.member = r.member();
    s.owner = r.member();
    ++s.in_flight;
    chosen.emplace_back(p, &e);
  }

  v1::PullResponse out;
  const absl::Time deadline =
      now + absl::Milliseconds(g->rec.ack_deadline_ms());
  Member& member = g->members[r.member()];
  for (auto& [p, e] : chosen) {
    if (e->replay) e->member = r.member();
    ++e->deliveries;
    e->deadline = deadline;
    g->in_flight.insert(p);
    ++member.in_flight;
    ++g->delivered;
    if (e->deliveries > 1) ++g->redeliveries;
    v1::Delivery* d = out.add_deliveries();
    RETURN_IF_ERROR(
        ToRecordedEvent(storage::Record(e->record), d->mutable_event()));
    d->set_delivery(e->deliveries);
    ToProtoTimestamp(deadline, d->mutable_ack_deadline());
    d->set_replayed(e->replay);
  }
  // Replays come first but the answer is in position order within each.
  RETURN_IF_ERROR(Persist(g, std::move(writes)));
  return out;
}

absl::StatusOr<std::set<Position>> GroupManager::HeldBy(
    Group* g, const google::protobuf::RepeatedField<uint64_t>& positions,
    const std::string& member) {
  std::set<Position> out(positions.begin(), positions.end());
  for (Position p : out) {
    if (InFlightTo(g, p, member) == nullptr) {
      return absl::FailedPreconditionError(absl::StrCat(
          "position ", p, " is not in flight to member '", member,
          "' of group '", g->rec.name(),
          "': never delivered to it, already acked, or its ack deadline "
          "passed and it went back to the group"));
    }
  }
  return out;
}

absl::StatusOr<v1::AckResponse> GroupManager::Ack(const v1::AckRequest& r) {
  RETURN_IF_ERROR(CheckMember(r.member()));
  RETURN_IF_ERROR(CheckPositions(r.positions()));
  absl::MutexLock lock(&mu_);
  ASSIGN_OR_RETURN(Group * g, Find(r.group()));
  const absl::Time now = options_.clock();
  ASSIGN_OR_RETURN(std::set<Position> positions,
                   HeldBy(g, r.positions(), r.member()));
  Touch(g, r.member(), now);
  std::vector<StateWrite> writes;
  for (Position p : positions) {
    Entry* e = InFlightTo(g, p, r.member());
    const bool replay = e->replay;
    Release(g, p, e);
    if (replay) {
      writes.push_back(
          StateWrite{ParkedKey(g->rec.name(), p), "", /*erase=*/true});
      --g->parked;
    }
    Resolve(g, p, replay);
    ++g->acked;
  }
  RETURN_IF_ERROR(Persist(g, std::move(writes)));
  v1::AckResponse out;
  out.set_checkpoint(g->rec.checkpoint());
  return out;
}

absl::StatusOr<v1::NackResponse> GroupManager::Nack(const v1::NackRequest& r) {
  RETURN_IF_ERROR(CheckMember(r.member()));
  RETURN_IF_ERROR(CheckPositions(r.positions()));
  if (r.reason().size() > 4096) {
    return absl::InvalidArgumentError("reason: at most 4,096 bytes");
  }
  absl::MutexLock lock(&mu_);
  ASSIGN_OR_RETURN(Group * g, Find(r.group()));
  const absl::Time now = options_.clock();
  ASSIGN_OR_RETURN(std::set<Position> positions,
                   HeldBy(g, r.positions(), r.member()));
  Touch(g, r.member(), now);
  std::vector<StateWrite> writes;
  v1::NackResponse out;
  for (Position p : positions) {
    Entry* e = InFlightTo(g, p, r.member());
    Release(g, p, e);
    if (r.park() || e->deliveries >= g->rec.max_deliveries()) {
      std::string reason =
          r.reason().empty()
              ? absl::StrCat("nacked by member '", r.member(), "'")
              : r.reason();
      if (!r.park()) {
        absl::StrAppend(&reason, " (", e->deliveries, " deliveries)");
      }
      Park(g, p, e, reason, &writes);
      out.add_parked(p);
    }
  }
  RETURN_IF_ERROR(Persist(g, std::move(writes)));
  return out;
}

absl::StatusOr<v1::ListParkedResponse> GroupManager::ListParked(
    const v1::ListParkedRequest& r) {
  const uint32_t limit = r.limit() == 0 ? 100 : r.limit();
  if (limit > kMaxEvents) {
    return absl::InvalidArgumentError(
        absl::StrCat("limit: at most ", kMaxEvents));
  }
  absl::MutexLock lock(&mu_);
  ASSIGN_OR_RETURN(Group * g, Find(r.group()));
  v1::ListParkedResponse out;
  absl::Status parse;
  RETURN_IF_ERROR(log_->ScanState(
      ParkedPrefix(g->rec.name()),
      [&](absl::string_view key, absl::string_view value) {
        const Position p = DecodeFixed64BE(key.substr(key.size() - 8));
        if (p <= r.after_position()) return;
        if (static_cast<uint32_t>(out.parked_size()) >= limit) {
          out.set_more(true);
          return;
        }
        storage::v1::ParkedRecord rec;
        if (!rec.ParseFromArray(value.data(), static_cast<int>(value.size())))
          parse = absl::DataLossError(
              absl::StrCat("parked record at ", p, " does not parse"));
        v1::ParkedEvent* e = out.add_parked();
        e->set_position(p);
        e->set_deliveries(rec.deliveries());
        e->set_reason(rec.reason());
        ToProtoTimestamp(absl::FromUnixMicros(rec.parked_at_micros()),
                         e->mutable_parked_at());
        e->set_replaying(rec.replaying());
      }));
  RETURN_IF_ERROR(parse);
  return out;
}

absl::StatusOr<v1::ReplayParkedResponse> GroupManager::ReplayParked(
    const v1::ReplayParkedRequest& r) {
  if (r.all() == !r.positions().empty()) {
    return absl::InvalidArgumentError(
        "give either positions or all, not both or neither");
  }
  absl::MutexLock lock(&mu_);
  ASSIGN_OR_RETURN(Group * g, Find(r.group()));
  std::map<Position, storage::v1::ParkedRecord> parked;
  absl::Status parse;
  RETURN_IF_ERROR(log_->ScanState(
      ParkedPrefix(g->rec.name()),
      [&](absl::string_view key, absl::string_view value) {
        storage::v1::ParkedRecord rec;
        if (!rec.ParseFromArray(value.data(), static_cast<int>(value.size())))
          parse = absl::DataLossError("a parked record does not parse");
        parked.emplace(DecodeFixed64BE(key.substr(key.size() - 8)), rec);
      }));
  RETURN_IF_ERROR(parse);
  std::vector<Position> chosen;
  if (r.all()) {
    for (auto& [p, rec] : parked) {
      if (!rec.replaying()) chosen.push_back(p);
    }
  } else {
    for (Position p :
         std::set<Position>(r.positions().begin(), r.positions().end())) {
      auto it = parked.find(p);
      if (it == parked.end()) {
        return absl::NotFoundError(absl::StrCat(
            "positions: ", p, " is not parked in group '", r.group(), "'"));
      }
      if (!it->second.replaying()) chosen.push_back(p);
    }
  }
  std::vector<StateWrite> writes;
  std::vector<Entry> entries;
  for (Position p : chosen) {
    ASSIGN_OR_RETURN(storage::Record rec, log_->Get(p));
    Entry e;
    e.record = std::move(rec);
    e.replay = true;
    entries.push_back(std::move(e));
    storage::v1::ParkedRecord pr = parked[p];
    pr.set_replaying(true);
    writes.push_back(
        StateWrite{ParkedKey(g->rec.name(), p), pr.SerializeAsString()});
  }
  if (!writes.empty()) {
    RETURN_IF_ERROR(log_->WriteState(writes, /*sync=*/true));
  }
  for (Entry& e : entries) {
    const Position p = e.record.position;
    g->replays.emplace(p, std::move(e));
  }
  logging::Info("consumer group replays parked events",
                {{"group", g->rec.name()}, {"count", chosen.size()}});
  v1::ReplayParkedResponse out;
  out.set_replayed(chosen.size());
  return out;
}

v1::ConsumerGroup GroupManager::Describe(const Group& g) {
  v1::ConsumerGroup out;
  out.set_name(g.rec.name());
  for (const std::string& t : g.rec.event_types()) {
    out.mutable_filter()->add_event_types(t);
  }
  out.mutable_filter()->set_subtree_unit_id(g.rec.subtree_unit_id());
  out.set_start_position(g.rec.start_position());
  out.set_ack_deadline_ms(g.rec.ack_deadline_ms());
  out.set_max_deliveries(g.rec.max_deliveries());
  ToProtoTimestamp(absl::FromUnixMicros(g.rec.created_at_micros()),
                   out.mutable_created_at());
  v1::GroupStats* s = out.mutable_stats();
  const Position head = log_->Head();
  const Position checkpoint = Checkpoint(g);
  s->set_checkpoint(checkpoint);
  s->set_head(head);
  s->set_lag_events(head > checkpoint ? head - checkpoint : 0);
  // The oldest matching event not yet acked: the window's first, or (the
  // window being empty) the next one the group has not read yet.
  absl::Time oldest = absl::InfiniteFuture();
  if (!g.window.empty()) {
    oldest = g.window.begin()->second.record.recorded_at;
  } else if (checkpoint < head) {
    absl::StatusOr<storage::Record> next = log_->Get(checkpoint + 1);
    if (next.ok()) oldest = next->recorded_at;
  }
  if (oldest != absl::InfiniteFuture()) {
    s->set_lag_seconds(
        std::max(0.0, absl::ToDoubleSeconds(options_.clock() - oldest)));
  }
  s->set_in_flight(g.in_flight.size());
  s->set_delivered(g.delivered);
  s->set_redeliveries(g.redeliveries);
  s->set_acked(g.acked);
  s->set_parked(g.parked);
  for (const auto& [name, m] : g.members) {
    v1::MemberStats* ms = s->add_members();
    ms->set_member(name);
    ms->set_in_flight(m.in_flight);
    ToProtoTimestamp(m.last_seen, ms->mutable_last_seen());
  }
  std::sort(s->mutable_members()->begin(), s->mutable_members()->end(),
            [](const v1::MemberStats& a, const v1::MemberStats& b) {
              return a.member() < b.member();
            });
  return out;
}

}  // namespace nenep::services
