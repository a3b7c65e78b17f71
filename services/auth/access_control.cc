#include "services/auth/access_control.h"

#include <algorithm>
#include <fstream>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "services/subscribe/event_filter.h"
#include "storage/common/logging.h"
#include "storage/common/sha256.h"
#include "storage/common/status_macros.h"

namespace nenep::services {
namespace {

constexpr char kAnonymous[] = "anonymous";

bool Allows(Role role, Need need) {
  switch (need) {
    case Need::kAny:
      return true;
    case Need::kAppend:
      return role == Role::kWriter || role == Role::kAdmin;
    case Need::kRead:
      return true;
    case Need::kAudit:
      return role == Role::kAuditor || role == Role::kAdmin;
    case Need::kAdmin:
      return role == Role::kAdmin;
  }
  return false;
}

const char* NeedText(Need need) {
  switch (need) {
    case Need::kAny:
    case Need::kRead:
      return "a reader";
    case Need::kAppend:
      return "a writer";
    case Need::kAudit:
      return "an auditor";
    case Need::kAdmin:
      return "an admin";
  }
  return "?";
}

}  // namespace

const char* RoleName(Role role) {
  switch (role) {
    case Role::kWriter:
      return "writer";
    case Role::kReader:
      return "reader";
    case Role::kAuditor:
      return "auditor";
    case Role::kAdmin:
      return "admin";
  }
  return "?";
}

AccessControl::AccessControl(AccessOptions options,
                             const ProjectionHandle* projections)
    : options_(std::move(options)), projections_(projections) {}

absl::StatusOr<std::unique_ptr<AccessControl>> AccessControl::Create(
    AccessOptions options, const ProjectionHandle* projections) {
  std::unique_ptr<AccessControl> a(
      new AccessControl(std::move(options), projections));
  if (a->enabled()) RETURN_IF_ERROR(a->Reload());
  return a;
}

absl::StatusOr<std::shared_ptr<const AccessControl::Table>> AccessControl::Load(
    const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot read the access file ", path, " (--auth_file)"));
  }
  auto table = std::make_shared<Table>();
  std::string line;
  int n = 0;
  absl::flat_hash_map<std::string, int> names;
  while (std::getline(in, line)) {
    ++n;
    absl::string_view text = line;
    if (size_t hash = text.find('#'); hash != absl::string_view::npos) {
      text = text.substr(0, hash);
    }
    text = absl::StripAsciiWhitespace(text);
    if (text.empty()) continue;
    auto bad = [&](absl::string_view why) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ":", n, ": ", why,
                       " (a line is: name=N role=writer|reader|auditor|admin "
                       "[scope=UNIT,UNIT|*] cert_cn=CN and/or "
                       "token_sha256=HEX)"));
    };
    Principal p;
    std::string cert, token, role;
    bool has_scope = false;
    for (absl::string_view field :
         absl::StrSplit(text, absl::ByAnyChar(" \t"), absl::SkipEmpty())) {
      std::pair<std::string, std::string> kv = absl::StrSplit(field, '=');
      if (kv.second.empty())
        return bad(absl::StrCat("'", field, "' is no key=value"));
      if (kv.first == "name") {
        p.name = kv.second;
      } else if (kv.first == "role") {
        role = kv.second;
      } else if (kv.first == "scope") {
        has_scope = true;
        if (kv.second == "*") {
          p.all_units = true;
        } else {
          p.scopes = absl::StrSplit(kv.second, ',', absl::SkipEmpty());
        }
      } else if (kv.first == "cert_cn") {
        cert = kv.second;
      } else if (kv.first == "token_sha256") {
        token = absl::AsciiStrToLower(kv.second);
        if (token.size() != 64 ||
            token.find_first_not_of("0123456789abcdef") != std::string::npos) {
          return bad(
              "token_sha256 must be 64 hex digits (sha256sum of the "
              "token)");
        }
      } else {
        return bad(absl::StrCat("unknown key '", kv.first, "'"));
      }
    }
    if (p.name.empty()) return bad("name= is missing");
    if (names[p.name]++ > 0) {
      return bad(absl::StrCat("principal '", p.name, "' is named twice"));
    }
    if (role == "writer") {
      p.role = Role::kWriter;
    } else if (role == "reader") {
      p.role = Role::kReader;
    } else if (role == "auditor") {
      p.role = Role::kAuditor;
    } else if (role == "admin") {
      p.role = Role::kAdmin;
    } else {
      return bad(absl::StrCat("role '", role,
                              "' is not one of writer, "
                              "reader, auditor, admin"));
    }
    if (p.role == Role::kAuditor || p.role == Role::kAdmin) {
      p.all_units = true;
      p.scopes.clear();
    } else if (!has_scope) {
      return bad("a writer or reader needs scope=UNIT,... (or scope=*)");
    }
    if (cert.empty() && token.empty()) {
      return bad("give cert_cn= or token_sha256= (or both)");
    }
    if (!cert.empty() && !table->by_cert.emplace(cert, p).second) {
      return bad(absl::StrCat("cert_cn '", cert, "' is given twice"));
    }
    if (!token.empty() && !table->by_token.emplace(token, p).second) {
      return bad("the same token hash is given twice");
    }
  }
  return std::shared_ptr<const Table>(std::move(table));
}

absl::Status AccessControl::Reload() {
  absl::StatusOr<std::shared_ptr<const Table>> t = Load(options_.auth_file);
  if (!t.ok()) {
    logging::Error("access file refused; the previous one stays",
                   {{"path", options_.auth_file}, {"error", t.status()}});
    return t.status();
  }
  logging::Info("access file loaded", {{"path", options_.auth_file},
                                       {"certificates", (*t)->by_cert.size()},
                                       {"tokens", (*t)->by_token.size()}});
  absl::MutexLock lock(&mu_);
  table_ = std::move(*t);
  return absl::OkStatus();
}

absl::StatusOr<Principal> AccessControl::Authenticate(
    const grpc::ServerContextBase& context) const {
  if (!enabled()) {
    Principal p;
    p.name = kAnonymous;
    p.role = Role::kAdmin;
    p.all_units = true;
    return p;
  }
  std::shared_ptr<const Table> table;
  {
    absl::MutexLock lock(&mu_);
    table = table_;
  }
  // A verified client certificate first.
  std::shared_ptr<const grpc::AuthContext> auth = context.auth_context();
  std::string cn;
  if (auth != nullptr && auth->IsPeerAuthenticated()) {
    for (const grpc::string_ref& v :
         auth->FindPropertyValues("x509_common_name")) {
      cn.assign(v.data(), v.size());
      auto it = table->by_cert.find(cn);
      if (it != table->by_cert.end()) return it->second;
    }
  }
  // Then a bearer token.
  const auto& md = context.client_metadata();
  bool had_token = false;
  for (auto it = md.find("authorization");
       it != md.end() && it->first == "authorization"; ++it) {
    absl::string_view value(it->second.data(), it->second.size());
    if (!absl::ConsumePrefix(&value, "Bearer ")) continue;
    had_token = true;
    Sha256 h;
    h.Update(absl::StripAsciiWhitespace(value));
    auto found = table->by_token.find(HexEncode(h.Finish()));
    if (found != table->by_token.end()) return found->second;
  }
  if (!cn.empty()) {
    return absl::UnauthenticatedError(
        absl::StrCat("the client certificate '", cn,
                     "' names no principal of the access file"));
  }
  return absl::UnauthenticatedError(
      had_token ? "the bearer token is not known"
                : "no client certificate and no bearer token: present a "
                  "certificate the server's CA signed, or send "
                  "'authorization: Bearer <token>'");
}

absl::StatusOr<Principal> AccessControl::Require(
    const grpc::ServerContextBase& context, Need need) {
  ASSIGN_OR_RETURN(Principal p, Authenticate(context));
  if (!Allows(p.role, need)) {
    return absl::PermissionDeniedError(
        absl::StrCat("principal '", p.name, "' is ", RoleName(p.role),
                     "; this call needs ", NeedText(need)));
  }
  RETURN_IF_ERROR(Admit(p));
  return p;
}

absl::Status AccessControl::Admit(const Principal& p) {
  if (options_.calls_per_second <= 0) return absl::OkStatus();
  const absl::Time now = options_.clock ? options_.clock() : absl::Now();
  const double burst =
      std::max(1.0, options_.call_burst > 0 ? options_.call_burst
                                            : options_.calls_per_second);
  absl::MutexLock lock(&mu_);
  auto [it, fresh] = buckets_.try_emplace(p.name);
  Bucket& b = it->second;
  if (fresh || b.last == absl::Time()) {
    b.tokens = burst;
  } else {
    b.tokens = std::min(burst, b.tokens + absl::ToDoubleSeconds(now - b.last) *
                                              options_.calls_per_second);
  }
  b.last = now;
  if (b.tokens < 1) {
    const double wait_ms = (1 - b.tokens) / options_.calls_per_second * 1000;
    return absl::ResourceExhaustedError(absl::StrFormat(
        "principal '%s' is over its rate of %g calls/s; retry in %.0f ms",
        p.name, options_.calls_per_second, std::max(1.0, wait_ms)));
  }
  b.tokens -= 1;
  return absl::OkStatus();
}

absl::Status AccessControl::OpenStream(const Principal& p) {
  if (options_.max_streams <= 0) return absl::OkStatus();
  absl::MutexLock lock(&mu_);
  Bucket& b = buckets_[p.name];
  if (b.streams >= options_.max_streams) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "principal '", p.name, "' has ", b.streams,
        " subscriptions open, its limit; close one or retry later"));
  }
  ++b.streams;
  return absl::OkStatus();
}

void AccessControl::CloseStream(const Principal& p) {
  if (options_.max_streams <= 0) return;
  absl::MutexLock lock(&mu_);
  Bucket& b = buckets_[p.name];
  if (b.streams > 0) --b.streams;
}

bool AccessControl::InScope(const Principal& p, absl::string_view unit_id,
                            Day day) const {
  if (p.all_units) return true;
  absl::StatusOr<ProjectionStore*> store = projections_->Get();
  if (!store.ok()) return false;
  std::shared_ptr<const projections::Projection> proj = (*store)->Get();
  for (const std::string& root : p.scopes) {
    if (unit_id == root || proj->IsUnder(unit_id, root, day)) return true;
  }
  return false;
}

absl::Status AccessControl::CheckUnits(const Principal& p,
                                       const std::vector<std::string>& unit_ids,
                                       Day day) const {
  for (const std::string& u : unit_ids) {
    if (u.empty()) continue;
    if (!InScope(p, u, day)) {
      return absl::PermissionDeniedError(
          absl::StrCat("unit '", u, "' is outside the scope of principal '",
                       p.name, "' (", absl::StrJoin(p.scopes, ", "), ")"));
    }
  }
  return absl::OkStatus();
}

absl::Status AccessControl::CheckEvent(const Principal& p,
                                       const v1::Event& event,
                                       const storage::EventLog& log) const {
  if (p.all_units) return absl::OkStatus();
  const Day day =
      DayNumber(event.business_date().year(), event.business_date().month(),
                event.business_date().day());
  std::vector<std::string> units;
  std::shared_ptr<const projections::Projection> proj;
  if (absl::StatusOr<ProjectionStore*> store = projections_->Get();
      store.ok()) {
    proj = (*store)->Get();
  }
  switch (event.payload_case()) {
    case v1::Event::kUnitCreated:
      // A new unit: its parent must be in scope (a root needs every unit).
      units.push_back(event.unit_created().parent_id());
      if (units.back().empty()) {
        return absl::PermissionDeniedError(absl::StrCat(
            "creating the top unit '", event.unit_created().unit_id(),
            "' needs a scope over every unit; principal '", p.name, "' has ",
            absl::StrJoin(p.scopes, ", ")));
      }
      break;
    case v1::Event::kUnitMoved: {
      // The unit, its old parent and its new one.
      units = UnitsOf(event, proj.get());
      if (proj != nullptr) {
        absl::StatusOr<projections::UnitInfo> u =
            proj->GetUnit(event.unit_moved().unit_id(), day);
        if (u.ok() && !u->parent_chain.empty()) {
          units.push_back(u->parent_chain.front().unit_id);
        }
      }
      break;
    }
    case v1::Event::kEventCorrected:
    case v1::Event::kEventRetracted: {
      units = UnitsOf(event, proj.get());
      const uint64_t target = event.has_event_corrected()
                                  ? event.event_corrected().target_position()
                                  : event.event_retracted().target_position();
      v1::Event original;
      absl::StatusOr<storage::Record> rec = log.Get(target);
      if (rec.ok() && original.ParseFromString(rec->payload)) {
        for (std::string& u : UnitsOf(original, proj.get())) {
          units.push_back(std::move(u));
        }
      }
      break;
    }
    default:
      units = UnitsOf(event, proj.get());
  }
  units.erase(std::remove(units.begin(), units.end(), std::string()),
              units.end());
  if (units.empty()) {
    return absl::PermissionDeniedError(absl::StrCat(
        "the event names no unit in the scope of principal '", p.name, "'"));
  }
  return CheckUnits(p, units, day);
}

bool AccessControl::Visible(const Principal& p, const v1::Event& event) const {
  if (p.all_units) return true;
  std::shared_ptr<const projections::Projection> proj;
  if (absl::StatusOr<ProjectionStore*> store = projections_->Get();
      store.ok()) {
    proj = (*store)->Get();
  }
  const v1::Event& fact = event.has_event_corrected()
                              ? event.event_corrected().replacement()
                              : event;
  const Day day =
      DayNumber(fact.business_date().year(), fact.business_date().month(),
                fact.business_date().day());
  for (const std::string& u : UnitsOf(fact, proj.get())) {
    if (!u.empty() && InScope(p, u, day)) return true;
  }
  return false;
}

absl::Status AccessControl::CheckAllUnits(const Principal& p,
                                          absl::string_view what) const {
  if (p.all_units) return absl::OkStatus();
  return absl::PermissionDeniedError(absl::StrCat(
      what, " covers every unit; principal '", p.name,
      "' may see only its scope (", absl::StrJoin(p.scopes, ", "), ")"));
}

}  // namespace nenep::services
