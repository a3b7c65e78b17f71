// File: storage/projections/projection.h
//
// The hierarchy and rollup projection: the state nenep derives from its log.
//
// It holds the tree of units with its history (parents, names, active dates,
// lineage), members in their cells over date ranges, plans, commitments and
// awards, and for every unit two sets of day series (series.h):
//   own  the unit's own facts (sessions it held, its members ...);
//   agg  the facts of its whole subtree as recorded: every fact counts for
//        the ancestors its unit had on the fact's business date.
// A rollup "as recorded" sums agg over the range; "as of a structure date"
// maps every unit to the unit of that date's tree that carries its history
// (itself, its successor by lineage, or its nearest ancestor) and sums own.
//
// Apply() is the only writer: it checks an event against the state of the
// log before it (referential rules: unknown units, inactive units, cycles,
// members not in their cell ...) and, if it passes, applies it. A request's
// events are applied all or nothing. Events must be given in log order;
// rebuilding from the log gives exactly the same state (Checksum()).
//
// Day conventions: a unit is active on [created, dissolved). A month (or
// quarter) counts in a range when it overlaps it; a cell counts in a month
// only if it is active the whole month. State measures (units, cells,
// members) are taken at the last day of the range.
//
// Thread-safe: Apply() takes the writer lock, queries a reader lock.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/types/span.h"
#include "nenep/v1/events.pb.h"
#include "storage/common/days.h"

namespace nenep::projections {

enum class Attribution { kAsRecorded, kAsOfStructure };

struct UnitRef {
  std::string unit_id;
  std::string name;
  v1::UnitKind kind = v1::UNIT_KIND_UNSPECIFIED;
};

struct UnitInfo {
  std::string unit_id;
  std::string name;  // as of the date asked for
  std::string short_name;
  v1::UnitKind kind = v1::UNIT_KIND_UNSPECIFIED;
  v1::UnitSetting setting = v1::UNIT_SETTING_UNSPECIFIED;
  bool is_cell = false;
  Day created = 0;
  Day dissolved = kForever;  // first day not active; kForever if active
  std::vector<UnitRef> parent_chain;  // parent first, root last
  std::vector<std::string> predecessor_ids;
  std::vector<std::string> successor_ids;
  int64_t children = 0;  // active direct children on the date
  int64_t cells = 0;     // active cells in the subtree on the date
  int64_t members = 0;   // members in the subtree on the date
};

struct RollupQuery {
  std::string unit_id;
  Day from = 0;
  Day to = 0;
  Attribution attribution = Attribution::kAsRecorded;
  Day structure_date = 0;  // for kAsOfStructure
};

// Every measure of one unit's subtree over [from, to]. Rates are left to the
// caller as num / den, never averaged.
struct Rollup {
  // State on `to`.
  int64_t units = 0, cells = 0, members = 0;
  // Sessions held in the range.
  int64_t sessions_regular = 0;   // regular or combined
  int64_t sessions_thematic = 0;  // thematic or combined
  int64_t sessions_other = 0;     // extraordinary
  int64_t sessions_total = 0;
  int64_t sessions_hcm = 0;  // with Hồ Chí Minh study content
  int64_t attendance_present = 0, attendance_convened = 0;
  // Compliance: cell-months (cell-quarters) with a regular (thematic)
  // session over the active ones.
  int64_t regular_cell_months_held = 0, regular_cell_months_active = 0;
  int64_t thematic_cell_quarters_held = 0, thematic_cell_quarters_active = 0;
  // Plans issued in the range; child plans due in the range.
  int64_t plans_issued = 0, child_plans_required = 0, child_plans_on_time = 0;
  // Commitments. members_with_commitment counts each member once per
  // calendar year, in the year of the commitment's period.
  int64_t members_with_commitment = 0;
  int64_t commitments_registered = 0, commitments_evaluated = 0,
          commitments_fulfilled = 0;
  // Awards, counted per recipient (aggregate recipients included).
  int64_t awards_bang_khen = 0, awards_giay_khen = 0, awards_co_thi_dua = 0,
          awards_other = 0;
  int64_t awards_central = 0, awards_ministry_province = 0,
          awards_upper_base = 0, awards_base = 0;
  int64_t award_recipients_collective = 0, award_recipients_individual = 0;
  int64_t awarded_cells = 0;  // distinct cells with a collective award

  bool operator==(const Rollup&) const;
};

// --- Daily snapshots (Projection::Snapshot) ---

// The ranges of a snapshot, all ending on `date`: the first days of the
// month, quarter, half-year, year and phase containing it.
struct SnapshotRanges {
  Day date = 0;
  Day month = 0, quarter = 0, half = 0, year = 0, phase = 0;
};

// One unit of the tree of the snapshot's date, with its subtree's figures
// (as recorded) for each range.
struct SnapshotRow {
  std::string unit_id;
  std::string name;
  v1::UnitKind kind = v1::UNIT_KIND_UNSPECIFIED;
  bool is_cell = false;
  std::string parent_id;  // "" for a top unit
  int depth = 0;
  Rollup day, month, quarter, half, year, phase;
};

// The overdue and compliance lists (numbers as in snapshots.proto).
enum class OverdueKind {
  kNoRegularSession = 1,
  kNoThematicSession = 2,
  kChildPlan = 3,
  kCommitmentNotEvaluated = 4,
  kChangedAfterSnapshot = 5,
};

struct OverdueEntry {
  OverdueKind kind = OverdueKind::kNoRegularSession;
  std::string unit_id;
  std::string unit_name;
  std::vector<UnitRef> parent_chain;  // parent first
  std::string missing;                // in Vietnamese
  Day since = 0;
  std::string ref_id;
  uint64_t position = 0;
};

// A logged event that changes figures an earlier snapshot reported: its
// unit (or, for an evaluation, its commitment), the business date it
// changes and a description.
struct LateFact {
  uint64_t position = 0;
  std::string unit_id;
  std::string commitment_id;
  Day day = 0;
  std::string what;
};

// A top unit's figures month by month.
struct Trend {
  std::string unit_id;
  std::string name;
  std::vector<std::pair<int32_t, Rollup>> months;  // MonthOf(), figures
};

struct SnapshotSummary {
  uint64_t position = 0;  // the state the snapshot was read from
  size_t rows = 0;
  std::vector<OverdueEntry> overdue;  // by kind, then tree order
  std::vector<Trend> trends;
};

class Projection {
 public:
  // Reads the current version of a logged event (for retractions and
  // corrections); kNotFound if there is none.
  using EventFetcher = std::function<absl::StatusOr<v1::Event>(uint64_t)>;
  // Folds a name for accent-insensitive search.
  using Folder = std::function<std::string(absl::string_view)>;

  Projection(Folder fold, EventFetcher fetch);
  ~Projection();
  Projection(const Projection&) = delete;
  Projection& operator=(const Projection&) = delete;

  // Checks and applies the events of one request, which take positions
  // first_position, first_position + 1 ... On failure nothing of the request
  // is applied and the status says why, naming the event as "events[i]":
  //   kNotFound            an unknown unit, member, commitment or plan;
  //   kFailedPrecondition  an inactive unit, a cycle, a member not in the
  //                        cell on the date, a change out of date order ...;
  //   kInvalidArgument     attendance above the cell's members;
  //   kAlreadyExists       a duplicate id or plan identity.
  absl::Status Apply(absl::Span<const v1::Event* const> events,
                     uint64_t first_position) ABSL_LOCKS_EXCLUDED(mu_);

  // A replay of the log: applies `events` (positions first_position, ...)
  // one by one, each as its own request, under one lock, and calls
  // refused(position, status) for each one the checks refuse.
  void ApplyLogged(
      absl::Span<const v1::Event* const> events, uint64_t first_position,
      absl::FunctionRef<void(uint64_t, const absl::Status&)> refused)
      ABSL_LOCKS_EXCLUDED(mu_);

  // The last position applied (0 before any).
  uint64_t applied() const ABSL_LOCKS_EXCLUDED(mu_);

  absl::StatusOr<UnitInfo> GetUnit(absl::string_view unit_id, Day on) const
      ABSL_LOCKS_EXCLUDED(mu_);
  // Direct children on `on` (active that day), in the order they joined.
  absl::StatusOr<std::vector<UnitInfo>> Children(absl::string_view unit_id,
                                                 Day on) const
      ABSL_LOCKS_EXCLUDED(mu_);
  // Units whose folded name or id contains the folded `query`, best first
  // (name starts with the query, then shorter names); at most `limit`.
  std::vector<UnitInfo> FindUnits(absl::string_view query, Day on,
                                  bool include_inactive, size_t limit) const
      ABSL_LOCKS_EXCLUDED(mu_);

  absl::StatusOr<Rollup> GetRollup(const RollupQuery& query) const
      ABSL_LOCKS_EXCLUDED(mu_);
  // The rollup of each direct child of the unit. As recorded: every unit
  // that was a child at some time in the range, with what it recorded while
  // it was one (so the rows add up to the unit's figures, less its own
  // facts); state measures only for children on `to`. As of a structure
  // date: the children on that date, restated.
  absl::StatusOr<std::vector<std::pair<UnitInfo, Rollup>>> GetChildrenRollups(
      const RollupQuery& query) const ABSL_LOCKS_EXCLUDED(mu_);

  // Whether `unit_id` lies in the subtree of `root_id` (itself included) in
  // the tree of day `on`; false if either is unknown.
  bool IsUnder(absl::string_view unit_id, absl::string_view root_id,
               Day on) const ABSL_LOCKS_EXCLUDED(mu_);
  // The unit a commitment counts for ("" if unknown).
  std::string CommitmentUnit(absl::string_view commitment_id) const
      ABSL_LOCKS_EXCLUDED(mu_);

  // The snapshot of ranges.date, read from the state in one go (appends
  // wait): row(r) is called for every unit active on the date, in tree
  // order (a top unit, then its subtree depth first, children in the order
  // they joined), under the lock: it must not call back into the
  // projection. The summary holds the overdue lists but the "changed after
  // a snapshot" one (see Changed) and each top unit's trend over the twelve
  // months up to the date's.
  SnapshotSummary Snapshot(const SnapshotRanges& ranges,
                           absl::FunctionRef<void(const SnapshotRow&)> row)
      const ABSL_LOCKS_EXCLUDED(mu_);
  // The "changed after a snapshot" entries of `facts`, with the units'
  // names and parent chains on `date`; facts about unknown units are left
  // out.
  std::vector<OverdueEntry> Changed(const std::vector<LateFact>& facts,
                                    Day date) const ABSL_LOCKS_EXCLUDED(mu_);

  // SHA-256 (hex) of a canonical encoding of the whole state.
  std::string Checksum() const ABSL_LOCKS_EXCLUDED(mu_);

  struct Stats {
    uint64_t applied = 0;
    size_t units = 0, members = 0, commitments = 0, plans = 0;
  };
  Stats GetStats() const ABSL_LOCKS_EXCLUDED(mu_);

 private:
  class State;
  class SnapshotReader;  // snapshot.cc
  mutable absl::Mutex mu_;
  std::unique_ptr<State> state_ ABSL_GUARDED_BY(mu_);
};

}  // namespace nenep::projections
