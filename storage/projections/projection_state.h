// Internal to the projection: its state and the helpers apply.cc and
// query.cc share. Not for use outside storage/projections.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/inlined_vector.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "storage/common/string_keys.h"
#include "storage/projections/projection.h"
#include "storage/projections/series.h"
#include "storage/projections/stable_vector.h"

namespace nenep::projections {

using UnitIdx = int32_t;
inline constexpr UnitIdx kNoUnit = -1;

// Counter indices of each family of series.
enum SessionCounter {
  kRegular,
  kThematic,
  kOtherKind,
  kAllSessions,
  kHcm,
  kPresent,
  kConvened,
  kSessionCounters
};
enum ComplianceCounter {
  kRegHeld,
  kRegYoung,
  kThemHeld,
  kThemYoung,
  kComplianceCounters
};
enum StateCounter { kUnits, kCells, kMembers, kStateCounters };
enum PlanCounter { kPlansIssued, kRequired, kOnTime, kPlanCounters };
enum CommitmentCounter {
  kRegistered,
  kEvaluated,
  kFulfilled,
  kMembersRegistered,
  kCommitmentCounters
};
enum AwardCounter {
  kBangKhen,
  kGiayKhen,
  kCoThiDua,
  kOtherAward,
  kLvCentral,
  kLvMinistry,
  kLvUpperBase,
  kLvBase,
  kCollective,
  kIndividual,
  kAwardCounters
};

struct Facts {
  Series<kSessionCounters> sessions;
  Series<kComplianceCounters> compliance;  // rows at month / quarter ends
  Series<kStateCounters> state;            // deltas
  Series<kPlanCounters> plans;
  Series<kCommitmentCounters> commitments;
  Series<kAwardCounters> awards;
  // (day, cell) of collective awards to cells, sorted by day; a cell awarded
  // twice appears twice.
  std::vector<std::pair<Day, UnitIdx>> awarded;
};

struct Unit {
  std::string id;
  std::string folded;  // name folded for search
  v1::UnitKind kind = v1::UNIT_KIND_UNSPECIFIED;
  v1::UnitSetting setting = v1::UNIT_SETTING_UNSPECIFIED;
  bool is_cell = false;
  Day created = 0;
  Day dissolved = kForever;
  Day last_change = 0;  // of structure (created, moved, renamed ...)
  std::vector<std::pair<Day, UnitIdx>> parents;  // from day, parent
  std::vector<std::pair<Day, std::string>> names;
  std::string short_name;
  std::vector<UnitIdx> predecessors, successors;
  std::vector<UnitIdx> children_ever;
  // Entries naming the unit in members' cell histories (retractions check
  // that none is left before a cell's creation is taken back).
  int32_t member_entries = 0;
  // Standing facts that name the unit but count elsewhere (a commitment's
  // unit_id next to its member, an aggregate award's empty count).
  int32_t fact_refs = 0;
  // The short name before each rename, to restore on a retraction.
  std::vector<std::string> prior_short_names;
  // own: the unit's own facts; agg: its subtree's as recorded (own
  // included), kept only once it has had a child (see Agg()).
  Facts own, agg;
  // Cells: regular sessions per month, thematic per quarter.
  std::vector<std::pair<int32_t, int32_t>> regular_months, thematic_quarters;

  // A unit that never had a child keeps no copy of its own facts in `agg`.
  const Facts& Agg() const { return children_ever.empty() ? own : agg; }
  bool ActiveOn(Day d) const { return d >= created && d < dissolved; }
  // Its creation was retracted: it never existed (kept as a tombstone so
  // the indexes of later units hold).
  bool gone() const { return created == kForever; }
  // Copies of parents.back() and of the cell's member count after its last
  // member change, kept in the struct: the hot paths then touch no other
  // memory of the unit.
  Day last_parent_day = 0;
  UnitIdx last_parent = kNoUnit;
  int32_t members_now = 0;
  Day members_changed = -kForever;
  void SyncParent() {
    last_parent_day = parents.back().first;
    last_parent = parents.back().second;
  }

  UnitIdx ParentOn(Day d) const {
    if (d >= last_parent_day) return last_parent;
    for (auto it = parents.rbegin(); it != parents.rend(); ++it) {
      if (it->first <= d) return it->second;
    }
    return parents.empty() ? kNoUnit : parents.front().second;
  }
  const std::string& NameOn(Day d) const {
    for (auto it = names.rbegin(); it != names.rend(); ++it) {
      if (it->first <= d) return it->second;
    }
    return names.front().second;
  }
};

struct Member {
  absl::string_view id;  // in State::ids
  // From day, cell (kNoUnit once left), in date order.
  absl::InlinedVector<std::pair<Day, UnitIdx>, 1> cells;
  absl::InlinedVector<int16_t, 2> commitment_years;
  UnitIdx CellOn(Day d) const {
    for (auto it = cells.rbegin(); it != cells.rend(); ++it) {
      if (it->first <= d) return it->second;
    }
    return kNoUnit;
  }
};

struct Commitment {
  absl::string_view id;    // in State::ids
  int32_t member = -1;     // -1: a collective commitment
  UnitIdx unit = kNoUnit;  // where it counts: the cell, else the unit
  Day registered = 0;
  int16_t year = 0;
  bool evaluated = false;
  bool fulfilled = false;
  Day evaluated_on = 0;
};

// Append-only storage for the millions of member and commitment ids: no
// per-string allocation, and views into it stay valid.
class StringPool {
 public:
  absl::string_view Add(absl::string_view s) {
    if (s.size() > kChunk - used_) {
      chunks_.push_back(std::make_unique<char[]>(std::max(kChunk, s.size())));
      used_ = 0;
    }
    char* p = chunks_.back().get() + used_;
    std::memcpy(p, s.data(), s.size());
    used_ += s.size();
    return absl::string_view(p, s.size());
  }

 private:
  static constexpr size_t kChunk = 1 << 20;
  std::vector<std::unique_ptr<char[]>> chunks_;
  size_t used_ = kChunk;
};

// A key of the member and commitment indexes. An id of up to 23 bytes is
// held in the key itself, so that a lookup compares it inside the index's
// slot; a longer one is a view into the StringPool (reading it is a cache
// miss per lookup when the index is large). Lookups take any string.
class IdKey {
 public:
  explicit IdKey(absl::string_view id) {
    if (id.size() <= kInline) {
      std::memcpy(bytes_, id.data(), id.size());
      bytes_[kInline] = static_cast<char>(id.size());
    } else {
      const char* data = id.data();
      const size_t size = id.size();
      std::memcpy(bytes_, &data, sizeof data);
      std::memcpy(bytes_ + sizeof data, &size, sizeof size);
      bytes_[kInline] = kOutOfLine;
    }
  }
  // Valid while the key (and, for a long id, the pool) is.
  absl::string_view view() const {
    if (bytes_[kInline] != kOutOfLine) {
      return absl::string_view(bytes_,
                               static_cast<unsigned char>(bytes_[kInline]));
    }
    const char* data;
    size_t size;
    std::memcpy(&data, bytes_, sizeof data);
    std::memcpy(&size, bytes_ + sizeof data, sizeof size);
    return absl::string_view(data, size);
  }

 private:
  static constexpr size_t kInline = 23;
  static constexpr char kOutOfLine = static_cast<char>(0xff);
  char bytes_[kInline + 1] = {};  // the last: the size, or kOutOfLine
};
static_assert(sizeof(IdKey) == 24, "an index slot is 32 bytes");

template <typename V>
using IdMap =
    absl::flat_hash_map<IdKey, V, StringKeyHash<IdKey>, StringKeyEq<IdKey>>;

struct Requirement {
  Day due = 0;
  std::vector<UnitIdx> units;
  std::vector<uint8_t> done;  // 0 not yet, 1 on time, 2 late
  std::vector<Day> done_on;   // the implementing plan's date, when done
};

struct Plan {
  std::string id;
  UnitIdx issuer = kNoUnit;
  Day issued = 0;
  std::string identity;  // number \0 issuer \0 date, or "" without a number
  std::vector<Requirement> requirements;
  int32_t implements = -1;  // the plan it implements, if recorded
  bool retracted = false;
};

class Projection::State {
 public:
  State(Folder fold, EventFetcher fetch);
  ~State();

  absl::Status ApplyRequest(absl::Span<const v1::Event* const> events,
                            uint64_t first_position);

  // --- queries (query.cc) ---
  UnitInfo Info(UnitIdx u, Day on) const;
  absl::StatusOr<UnitIdx> Find(absl::string_view unit_id) const;
  // As recorded: u's subtree over [from, to], counting only what happened
  // on days inside `windows` (inclusive day ranges; default: all days).
  // State measures are taken on `to` if it lies in a window.
  Rollup RollupOf(UnitIdx u, Day from, Day to,
                  const std::vector<std::pair<Day, Day>>& windows = {
                      {-kForever, kForever}}) const;
  // The windows in which u's parent was `parent`.
  std::vector<std::pair<Day, Day>> UnderParent(UnitIdx u, UnitIdx parent) const;
  // Children of u at any time in [from, to], in the order they joined.
  std::vector<UnitIdx> ChildrenDuring(UnitIdx u, Day from, Day to) const;
  // Every unit mapped into the tree of day d (see MapAll), grouped by the
  // unit of that tree that carries its history.
  struct StructureIndex {
    Day day = 0;
    uint64_t applied = 0;         // the state it was built from
    std::vector<int32_t> start;   // per target t: [start[t], start[t + 1])
    std::vector<UnitIdx> mapped;  // units, grouped by target
  };
  std::shared_ptr<const StructureIndex> IndexFor(Day d) const;
  // As of a structure date: u's subtree in the tree of index.day.
  Rollup RollupAsOf(UnitIdx u, Day from, Day to,
                    const StructureIndex& index) const;
  std::vector<UnitIdx> MapAll(Day d) const;
  std::vector<UnitIdx> ChildrenOn(UnitIdx u, Day d) const;
  bool InSubtree(UnitIdx u, UnitIdx root, Day d) const;
  std::string Checksum() const;
  const Folder& fold() const { return fold_; }
  // Hints, nothing more, for event i of `events` about to be applied: pulls
  // into the cache the parsed event 16 ahead, the index slots that the
  // event 8 ahead will look up, the unit or member entry of the event 4
  // ahead, then level by level the series rows that the events 3, 2 and 1
  // ahead will change in their unit and its ancestors, so that the lookups
  // of a large state overlap instead of waiting on memory one by one.
  void PrefetchAhead(absl::Span<const v1::Event* const> events, size_t i) const;
  void Prefetch(const v1::Event& e) const;         // the index slots
  void PrefetchEntries(const v1::Event& e) const;  // what they point to
  // The rows of e's unit's ancestor `level` up (0: the unit itself) and
  // the lines of the one above it.
  void PrefetchLevel(const v1::Event& e, int level) const;
  // Then the row of the event's day there (see Series::Guess), if earlier
  // than the last.
  void PrefetchGuess(const v1::Event& e, int level) const;
  // PrefetchEntries looks ids up a few events ahead and keeps what it
  // found, so that the event's own checks need not hash and probe again.
  // What it keeps is named by the id's address inside the parsed event and
  // is good until ForgetResolved(): call it before each run of ApplyRequest
  // over new events (their addresses may repeat an earlier run's), and on
  // every erase from unit_index or member_index outside an undo (a failed
  // request's undo is followed by a new run, commitment_index's erases are
  // all undos).
  void ForgetResolved() const { ++resolved_stamp_; }
  // The index `id` (an id inside an event given to PrefetchAhead) resolved
  // to, or -1 if it was not looked up ahead (or not found then).
  int32_t Resolved(const std::string& id) const {
    const ResolvedId& r = resolved_[ResolvedSlot(&id)];
    return r.id == &id && r.stamp == resolved_stamp_ ? r.index : -1;
  }

  uint64_t applied = 0;
  // References to elements stay valid as these grow, which the undo
  // journal relies on.
  StableVector<Unit> units;
  absl::flat_hash_map<std::string, UnitIdx> unit_index;
  StringPool ids;
  StableVector<Member> members;
  // Long keys point into `ids` (see IdKey).
  IdMap<int32_t> member_index;
  StableVector<Commitment> commitments;
  IdMap<int32_t> commitment_index;
  StableVector<Plan> plans;
  absl::flat_hash_map<std::string, int32_t> plan_index;
  absl::flat_hash_map<std::string, int32_t> plan_identities;
  std::vector<std::string> award_ids;
  // Member -> the standing awards naming the member: day, the cell it
  // counted in, award id.
  struct MemberAward {
    Day day;
    UnitIdx cell;
    std::string award;
  };
  absl::flat_hash_map<int32_t, std::vector<MemberAward>> member_awards;
  absl::flat_hash_map<std::string, int32_t> award_index;
  // Position -> the event now standing for it (after corrections), or
  // nothing if retracted.
  absl::flat_hash_map<uint64_t, std::unique_ptr<v1::Event>> superseded;
  absl::flat_hash_map<uint64_t, bool> retracted;
  // Days of recorded moves, sorted (for cycle checks of backdated moves).
  std::vector<Day> move_days;
  // What each standing merge moved (by the position it stands for), for
  // its retraction.
  struct MergeRecord {
    std::vector<UnitIdx> children;
    std::vector<int32_t> members;
  };
  absl::flat_hash_map<uint64_t, MergeRecord> merges;

 private:
  // The unit an event posts to (as resolved ahead) and the series it
  // changes there and up the chain.
  struct PostTargets {
    UnitIdx unit = kNoUnit;
    Day day = 0;
    bool sessions = false;  // with compliance
    bool state = false;
    bool commitments = false;
  };
  PostTargets TargetsOf(const v1::Event& e) const;
  static void PrefetchLines(const Unit& u, const Facts& f,
                            const PostTargets& t);
  struct ResolvedId {
    const std::string* id = nullptr;
    int32_t index = -1;
    uint64_t stamp = 0;
  };
  static constexpr size_t kResolvedSlots = 32;  // > the lookahead's ids
  static size_t ResolvedSlot(const std::string* id) {
    // Ids of one event lie a few dozen bytes apart, events hundreds.
    return (reinterpret_cast<uintptr_t>(id) >> 4) % kResolvedSlots;
  }
  void KeepResolved(const std::string& id, int32_t index) const {
    resolved_[ResolvedSlot(&id)] = ResolvedId{&id, index, resolved_stamp_};
  }

  class Applier;
  friend class Applier;
  mutable std::array<ResolvedId, kResolvedSlots> resolved_{};
  // 64 bits: it never wraps around to the stamp of an entry left behind.
  mutable uint64_t resolved_stamp_ = 1;
  std::unique_ptr<Applier> applier_;  // reused: its journal keeps capacity
  // The last structure index built (queries of one date come in runs).
  mutable absl::Mutex index_mu_;
  mutable std::shared_ptr<const StructureIndex> index_
      ABSL_GUARDED_BY(index_mu_);
  Folder fold_;
  EventFetcher fetch_;
};

// Days as ISO text for messages.
std::string DayText(Day d);

}  // namespace nenep::projections
