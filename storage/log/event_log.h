// File: storage/log/event_log.h
//
// EventLog is the sequencer and the durable log of nenep: it assigns every
// appended event a gap-free global position and a revision in its stream,
// and makes it durable before saying so. It knows nothing of the domain: an
// event is a stream name, a type name and opaque payload bytes.
//
// This interface is what a distributed log engine implements for
// multi-machine deployments. The single-machine implementation is
// OpenRocksDbEventLog() (rocksdb_event_log.h).
//
//   ASSIGN_OR_RETURN(std::unique_ptr<EventLog> log, OpenRocksDbEventLog(opts));
//   log->AppendAsync(std::move(request), [](absl::StatusOr<AppendResult> r) {
//     ... r is OK only once the events are on disk ...
//   });
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>
#include "absl/strings/string_view.h"

#include "absl/functional/any_invocable.h"
#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace nenep::storage {

// Global position: 1, 2, 3 ... without gaps. 0 means "before the first".
using Position = uint64_t;
// Revision in a stream: its n-th event has revision n. A stream that does not
// exist is at revision 0.
using Revision = uint64_t;

// Longest accepted stream name and request id, in bytes.
inline constexpr size_t kMaxStreamNameBytes = 256;
inline constexpr size_t kMaxRequestIdBytes = 128;

struct ExpectedRevision {
  enum class Kind { kAny, kNoStream, kExact, kStreamExists };
  Kind kind = Kind::kAny;
  Revision revision = 0;  // for kExact

  static ExpectedRevision Any() { return {}; }
  static ExpectedRevision NoStream() { return {Kind::kNoStream, 0}; }
  static ExpectedRevision Exact(Revision r) { return {Kind::kExact, r}; }
  static ExpectedRevision StreamExists() { return {Kind::kStreamExists, 0}; }
};

// One event to append.
struct NewEvent {
  // Non-empty, at most kMaxStreamNameBytes, no NUL byte.
  std::string stream;
  // Checked against the stream's revision just before this event is placed
  // (after any earlier events of the same request).
  ExpectedRevision expected;
  std::string type;     // payload type name, e.g. "SessionHeld"
  std::string payload;  // opaque bytes
  // Optional, opaque to the log: the payload already decoded by the caller,
  // handed to the CommitHook so that it need not decode it again. The
  // caller keeps it alive until the request's callback has run.
  const void* decoded = nullptr;
};

struct AppendRequest {
  // Optional. A request id is remembered forever: appending the same id with
  // the same body_hash again returns the first result (already_appended);
  // with another body_hash it fails with kAlreadyExists.
  std::string request_id;
  std::string body_hash;         // required when request_id is set
  std::string principal;         // who appends; stored with every event
  std::vector<NewEvent> events;  // at least one
  // A request still queued at its deadline is dropped unwritten with
  // kDeadlineExceeded.
  absl::Time deadline = absl::InfiniteFuture();
};

struct AppendResult {
  // The events got positions first_position..last_position, in order.
  Position first_position = 0;
  Position last_position = 0;
  std::vector<Revision> revisions;  // one per event
  absl::Time recorded_at;
  bool already_appended = false;
};

// An event as stored.
struct Record {
  Position position = 0;
  std::string stream;
  Revision revision = 0;
  absl::Time recorded_at;
  std::string type;
  std::string payload;
  std::string request_id;
  std::string principal;
};

enum class Direction { kForward, kBackward };

// One change to the server state kept beside the log (EventLog::WriteState).
struct StateWrite {
  std::string key;
  std::string value;   // ignored when erase
  bool erase = false;  // delete `key`
};

struct BackupInfo {
  uint32_t backup_id = 0;
  // Every event up to this position (all acknowledged before the backup
  // began) is in the backup; later ones may be too.
  Position head_position = 0;
  uint64_t size_bytes = 0;
  absl::Time created_at;
};

struct LogStats {
  Position head = 0;
  absl::Time last_recorded_at;  // of the head event; InfinitePast if empty
  uint64_t disk_bytes = 0;
  uint64_t appends_committed = 0;  // requests committed since open
  Position indexed = 0;  // the stream index holds positions up to here
};

// Told about every commit, on the committer thread, after the write is
// durable and before any caller is answered. Must be fast and must not call
// back into the log's append path.
class CommitListener {
 public:
  virtual ~CommitListener() = default;
  // A group of `requests` requests holding events first..last was committed;
  // `commit_latency` is the time of the durable write.
  virtual void OnCommit(Position first, Position last, size_t requests,
                        absl::Duration commit_latency) = 0;
  // A group write failed; nothing of it is visible.
  virtual void OnCommitFailed(const absl::Status& status) {}
};

// Sees every request the committer accepts, in log order, and may refuse
// it: how projections validate against the state of the log and stay in step
// with it. All calls but Durable() come from the committer thread.
class CommitHook {
 public:
  virtual ~CommitHook() = default;
  // A group of requests begins; Admit() calls for it follow.
  virtual void BeginGroup() {}
  // `request` passed its request id and expectation checks and would take
  // positions first, first + 1 ... A non-OK status refuses it: nothing of
  // it is written and its caller gets that status. OK means the hook has
  // taken the request into its state.
  virtual absl::Status Admit(const AppendRequest& request, Position first) = 0;
  // The group is written (not yet durable) or, if !written, failed: the
  // hook's state then holds requests the log does not, and the log refuses
  // appends until it is reopened.
  virtual void EndGroup(bool written) {}
  // Every event up to `last` is durable. On the thread that synced (the
  // syncer, or an idle log's caller), in order, before the callers of those
  // events are answered.
  virtual void Durable(Position last) = 0;
  // A sync failed: admitted events may or may not be on disk; the log
  // refuses appends until it is reopened.
  virtual void Failed(const absl::Status& status) {}
};

class EventLog {
 public:
  using AppendCallback =
      absl::AnyInvocable<void(absl::StatusOr<AppendResult>) &&>;

  virtual ~EventLog() = default;

  // Queues `request` for the committer and returns. `done` runs exactly
  // once, after the events are durable or with why not, on the log's thread
  // that answers or on the caller's, before AppendAsync returns (a request
  // refused before queueing, or one an idle log commits on the caller's
  // thread): the caller must not hold a lock that `done` takes.
  //   kAborted           an expectation failed; the message names the stream
  //                      and its actual revision, which is also in
  //                      AbortedRevision(status).
  //   kAlreadyExists     request_id was used with another body.
  //   kDeadlineExceeded  still queued at the deadline; nothing written.
  //   kUnavailable       the log is closing, or the write failed; nothing of
  //                      the request is visible.
  //   kInvalidArgument   an empty request or a malformed stream name.
  // A failed request writes nothing; requests are independent of each other.
  // Thread-safe; concurrent requests are group-committed.
  virtual void AppendAsync(AppendRequest request, AppendCallback done) = 0;

  // Installs `hook` (not owned; must outlive the log). Call before the
  // first append; null removes it.
  virtual void SetCommitHook(CommitHook* hook) = 0;

  // Blocking form of AppendAsync.
  absl::StatusOr<AppendResult> Append(AppendRequest request);

  // Up to `limit` committed records starting at `from` and moving in
  // `direction`. Forward from 0 starts at 1; backward from 0 or from past the
  // head starts at the head. Thread-safe.
  virtual absl::StatusOr<std::vector<Record>> ReadAll(Position from,
                                                      Direction direction,
                                                      size_t limit) const = 0;

  // Up to `limit` records of `stream` starting at revision `from`. Forward
  // from 0 starts at 1; backward from 0 starts at the last. An unknown stream
  // gives an empty result.
  virtual absl::StatusOr<std::vector<Record>> ReadStream(
      absl::string_view stream, Revision from, Direction direction,
      size_t limit) const = 0;

  // Calls fn(position, payload) for each committed event from `from` to
  // `to` (inclusive, both within 1..Head()), in order, without copying: the
  // payload is valid during the call only. Stops early when fn returns
  // false. For replays of the whole log into projections.
  virtual absl::Status Scan(
      Position from, Position to,
      absl::FunctionRef<bool(Position, absl::string_view)> fn) const = 0;

  // The record at `position`; kNotFound if none is committed there.
  virtual absl::StatusOr<Record> Get(Position position) const = 0;

  // The committed revision of `stream` (0 if it does not exist).
  virtual absl::StatusOr<Revision> StreamRevision(
      absl::string_view stream) const = 0;

  // The last committed position (0 if the log is empty).
  virtual Position Head() const = 0;

  virtual LogStats Stats() const = 0;

  // --- State kept beside the log ---
  // A keyspace of its own, apart from the events, for small state the
  // server derives from the log and keeps across restarts (consumer groups'
  // definitions and checkpoints). Keys and values are opaque bytes.
  //
  // Applies `writes` atomically, in order. With `sync`, durable before it
  // returns; without, it survives a crash of the process but a crash of the
  // machine may lose the latest writes (never a part of one call), and
  // later calls' writes are never kept without earlier ones'.
  virtual absl::Status WriteState(const std::vector<StateWrite>& writes,
                                  bool sync) = 0;
  // Calls fn(key, value) for every state key starting with `prefix`, in
  // byte order; the views are valid during the call only.
  virtual absl::Status ScanState(
      absl::string_view prefix,
      absl::FunctionRef<void(absl::string_view, absl::string_view)> fn)
      const = 0;

  // --- The Merkle tree over the log (storage/audit/merkle.h) ---
  // An RFC 6962 tree whose leaf i is the stored bytes of the record at
  // position i + 1 (RawRecord). It is kept behind a checkpoint by its own
  // thread: TreeSize() <= Head(), and it follows within moments.
  virtual uint64_t TreeSize() const = 0;
  // Waits until TreeSize() >= size (or `timeout`); the tree size then.
  virtual uint64_t AwaitTree(uint64_t size, absl::Duration timeout) const = 0;
  // The hash of the complete subtree (level, index), which covers leaves
  // [index << level, (index + 1) << level); kOutOfRange beyond TreeSize().
  virtual absl::StatusOr<std::string> TreeNode(int level,
                                               uint64_t index) const = 0;
  // The outcome of checking the log against its tree at open, waiting for
  // it if it runs in the background (LogOptions::verify_tree_in_background
  // for the RocksDB log): kDataLoss naming the first position that does not
  // match; OK if it matched or no check was asked for.
  virtual absl::Status AwaitTreeVerified() const = 0;
  // The stored bytes of the record at `position`: the leaf data.
  virtual absl::StatusOr<std::string> RawRecord(Position position) const = 0;

  // Takes a consistent online backup into `directory` (see BackupInfo).
  virtual absl::StatusOr<BackupInfo> CreateBackup(
      const std::string& directory) = 0;

  // Stops accepting appends, commits what is queued, answers every caller,
  // then closes the store. Idempotent; later appends get kUnavailable.
  virtual absl::Status Close() = 0;
};

// The actual revision carried by a kAborted status from AppendAsync, if any.
absl::optional<Revision> AbortedRevision(const absl::Status& status);

}  // namespace nenep::storage
