// File: services/auth/access_control.h
//
// Who is calling and what they may do. A caller is a principal named in the
// access file (--auth_file), identified by its TLS client certificate's
// common name or by a bearer token ("authorization: Bearer <token>")
// whose SHA-256 the file stores (never the token itself). Each principal
// has one role and a scope:
//
//   writer   appends events whose units lie in its scope (a move needs the
//            old and the new parent in scope too); reads within its scope
//   reader   queries, reads and subscriptions within its scope
//   auditor  reads everything: proofs, exports, replays, snapshots
//   admin    everything, consumer groups and configuration included
//
// A scope is a set of unit subtrees ("*": every unit); auditors and admins
// see every unit. Without an access file every caller is the principal
// "anonymous" with the admin role (a store on loopback, the demo, tests).
//
// The access file, one principal per line, `#` starts a comment:
//
//   name=bo-tu-phap role=writer scope=dbtp cert_cn=app.botuphap.gov.vn
//   name=bao-cao role=reader scope=dbk,dbt-dongnai token_sha256=5e88...42d8
//   name=kiem-toan role=auditor cert_cn=kiemtoan-client
//
// Reload() re-reads it (nenepd calls it on SIGHUP); a file that does not
// parse is refused and the previous one stays.
//
// Thread-safe.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "grpcpp/server_context.h"
#include "nenep/v1/events.pb.h"
#include "services/query/projection_store.h"
#include "storage/log/event_log.h"

namespace nenep::services {

enum class Role { kWriter, kReader, kAuditor, kAdmin };

// What a call needs.
enum class Need {
  kAny,     // any authenticated caller (health, status)
  kAppend,  // writer, admin
  kRead,    // reader, writer, auditor, admin (within scope)
  kAudit,   // auditor, admin
  kAdmin,   // admin
};

struct Principal {
  std::string name;
  Role role = Role::kReader;
  std::vector<std::string> scopes;  // unit ids, with all_units false
  bool all_units = false;
};

const char* RoleName(Role role);

struct AccessOptions {
  std::string auth_file;  // "" = no access control
  // Per principal: calls per second and burst (0 = no limit), and
  // subscriptions open at once (0 = no limit).
  double calls_per_second = 0;
  double call_burst = 0;
  int max_streams = 0;
  std::function<absl::Time()> clock;  // default absl::Now
};

class AccessControl {
 public:
  static absl::StatusOr<std::unique_ptr<AccessControl>> Create(
      AccessOptions options, const ProjectionHandle* projections);

  // Re-reads the access file; on an error the previous one stays.
  absl::Status Reload() ABSL_LOCKS_EXCLUDED(mu_);
  bool enabled() const { return !options_.auth_file.empty(); }

  // The caller, from its certificate or token: kUnauthenticated if neither
  // names a principal (while access control is on).
  absl::StatusOr<Principal> Authenticate(
      const grpc::ServerContextBase& context) const ABSL_LOCKS_EXCLUDED(mu_);
  // Authenticate, then kPermissionDenied unless the role allows `need`,
  // then the principal's rate limit (kResourceExhausted with a retry hint).
  absl::StatusOr<Principal> Require(const grpc::ServerContextBase& context,
                                    Need need) ABSL_LOCKS_EXCLUDED(mu_);

  // Whether `unit_id` lies in the principal's scope in the tree of `day`.
  bool InScope(const Principal& p, absl::string_view unit_id, Day day) const;
  // kPermissionDenied naming the first unit outside the scope.
  absl::Status CheckUnits(const Principal& p,
                          const std::vector<std::string>& unit_ids,
                          Day day) const;
  // kPermissionDenied unless the principal sees every unit.
  absl::Status CheckAllUnits(const Principal& p, absl::string_view what) const;

  // A writer's event: kPermissionDenied unless every unit it touches lies
  // in the scope on its date (a new unit's parent, a moved unit's old and
  // new parents, a merge's units, a correction's or retraction's target).
  // `log` reads a corrected or retracted event.
  absl::Status CheckEvent(const Principal& p, const v1::Event& event,
                          const storage::EventLog& log) const;
  // Whether a reader may see a logged event: one of its units is in scope.
  bool Visible(const Principal& p, const v1::Event& event) const;

  // A subscription opens / closes: kResourceExhausted beyond max_streams.
  absl::Status OpenStream(const Principal& p) ABSL_LOCKS_EXCLUDED(mu_);
  void CloseStream(const Principal& p) ABSL_LOCKS_EXCLUDED(mu_);

 private:
  struct Entry {
    Principal principal;
    std::string cert_cn;
    std::string token_sha256;
  };
  struct Table {
    absl::flat_hash_map<std::string, Principal> by_cert;
    absl::flat_hash_map<std::string, Principal> by_token;
  };
  struct Bucket {
    double tokens = 0;
    absl::Time last;
    int streams = 0;
  };

  AccessControl(AccessOptions options, const ProjectionHandle* projections);
  static absl::StatusOr<std::shared_ptr<const Table>> Load(
      const std::string& path);
  absl::Status Admit(const Principal& p) ABSL_LOCKS_EXCLUDED(mu_);

  const AccessOptions options_;
  const ProjectionHandle* const projections_;
  mutable absl::Mutex mu_;
  std::shared_ptr<const Table> table_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, Bucket> buckets_ ABSL_GUARDED_BY(mu_);
};

// Require() when access control is set up; null lets every call through
// (services built without it, in tests of one service).
inline absl::StatusOr<Principal> Gate(AccessControl* access,
                                      const grpc::ServerContextBase& context,
                                      Need need) {
  if (access != nullptr) return access->Require(context, need);
  Principal p;
  p.name = "anonymous";
  p.role = Role::kAdmin;
  p.all_units = true;
  return p;
}

}  // namespace nenep::services
