// `nenep groups`: consumer groups and subscribers (issue 4).

#include <algorithm>
#include <ostream>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "grpcpp/client_context.h"
#include "nenep/v1/groups.grpc.pb.h"
#include "nenep/v1/subscribe.grpc.pb.h"
#include "tools/cli/cli.h"

namespace nenep::cli {
namespace {

std::string Seconds(double s) {
  if (s <= 0) return "-";
  if (s < 60) return absl::StrFormat("%.1fs", s);
  if (s < 3600) return absl::StrFormat("%.0fm", s / 60);
  return absl::StrFormat("%.1fh", s / 3600);
}

std::string Filter(const v1::GroupFilter& f) {
  std::vector<std::string> parts;
  if (f.event_types_size() > 0) {
    parts.push_back(
        absl::StrCat("types=", absl::StrJoin(f.event_types(), ",")));
  }
  if (!f.subtree_unit_id().empty()) {
    parts.push_back(absl::StrCat("subtree=", f.subtree_unit_id()));
  }
  return parts.empty() ? "all events" : absl::StrJoin(parts, " ");
}

int Fail(const Context& ctx, const std::string& what, const grpc::Status& s) {
  *ctx.err << "nenep: " << what << " failed: " << Describe(ctx, s) << "\n";
  return 1;
}

void PrintGroup(const Context& ctx, const v1::ConsumerGroup& g) {
  const v1::GroupStats& s = g.stats();
  *ctx.out << absl::StrFormat(
      "group %s: %s, from #%d, ack deadline %d ms, parked after %d "
      "deliveries\n"
      "  checkpoint #%d of head #%d: %d events behind, oldest unacked %s\n"
      "  in flight %d, delivered %d (%d again), acked %d, parked %d\n",
      g.name(), Filter(g.filter()), g.start_position(), g.ack_deadline_ms(),
      g.max_deliveries(), s.checkpoint(), s.head(), s.lag_events(),
      Seconds(s.lag_seconds()), s.in_flight(), s.delivered(), s.redeliveries(),
      s.acked(), s.parked());
  for (const v1::MemberStats& m : s.members()) {
    *ctx.out << absl::StrFormat("  member %-24s in flight %d\n", m.member(),
                                m.in_flight());
  }
}

int List(const Context& ctx) {
  auto groups = v1::ConsumerGroups::NewStub(ctx.channel);
  grpc::ClientContext call;
  SetDeadline(ctx, &call);
  v1::ListGroupsResponse list;
  grpc::Status s = groups->ListGroups(&call, {}, &list);
  if (!s.ok()) return Fail(ctx, "listing groups", s);
  auto subs = v1::Subscriptions::NewStub(ctx.channel);
  grpc::ClientContext call2;
  SetDeadline(ctx, &call2);
  v1::ListSubscribersResponse subscribers;
  s = subs->ListSubscribers(&call2, {}, &subscribers);
  if (!s.ok()) return Fail(ctx, "listing subscribers", s);
  if (ctx.json) {
    for (const v1::ConsumerGroup& g : list.groups()) {
      *ctx.out << ToJson(g) << "\n";
    }
    for (const v1::Subscriber& sub : subscribers.subscribers()) {
      *ctx.out << ToJson(sub) << "\n";
    }
    return 0;
  }
  if (list.groups().empty()) {
    *ctx.out << "no consumer groups (create one: nenep groups create NAME)\n";
  } else {
    *ctx.out << absl::StrFormat(
        "%-20s %10s %10s %8s %9s %7s %8s %7s  %s\n", "GROUP", "CHECKPOINT",
        "LAG", "LAG AGE", "IN FLIGHT", "AGAIN", "PARKED", "MEMBERS", "FILTER");
    for (const v1::ConsumerGroup& g : list.groups()) {
      const v1::GroupStats& st = g.stats();
      *ctx.out << absl::StrFormat("%-20s %10d %10d %8s %9d %7d %8d %7d  %s\n",
                                  g.name(), st.checkpoint(), st.lag_events(),
                                  Seconds(st.lag_seconds()), st.in_flight(),
                                  st.redeliveries(), st.parked(),
                                  st.members_size(), Filter(g.filter()));
    }
  }
  if (!subscribers.subscribers().empty()) {
    *ctx.out << absl::StrFormat("\n%-4s %-22s %10s %10s %8s %-8s %10s  %s\n",
                                "SUB", "PEER", "POSITION", "LAG", "LAG AGE",
                                "STATE", "DELIVERED", "FILTER");
    for (const v1::Subscriber& sub : subscribers.subscribers()) {
      v1::GroupFilter f;
      *f.mutable_event_types() = sub.event_types();
      f.set_subtree_unit_id(sub.subtree_unit_id());
      *ctx.out << absl::StrFormat(
          "%-4d %-22s %10d %10d %8s %-8s %10d  %s\n", sub.id(), sub.peer(),
          sub.position(), sub.lag_events(), Seconds(sub.lag_seconds()),
          sub.live() ? "live" : "catch-up", sub.delivered(), Filter(f));
    }
  }
  return 0;
}

int Create(const Context& ctx, const std::string& name,
           const GroupsOptions& o) {
  v1::CreateGroupRequest r;
  r.set_name(name);
  for (const std::string& t : o.types) r.mutable_filter()->add_event_types(t);
  r.mutable_filter()->set_subtree_unit_id(o.subtree);
  if (o.from_now) {
    r.set_from_now(true);
  } else if (o.from > 0) {
    r.set_from_position(o.from);
  } else {
    r.set_from_start(true);
  }
  r.set_ack_deadline_ms(
      static_cast<uint32_t>(absl::ToInt64Milliseconds(o.ack_deadline)));
  r.set_max_deliveries(o.max_deliveries);
  auto stub = v1::ConsumerGroups::NewStub(ctx.channel);
  grpc::ClientContext call;
  SetDeadline(ctx, &call);
  v1::ConsumerGroup g;
  grpc::Status s = stub->CreateGroup(&call, r, &g);
  if (!s.ok()) return Fail(ctx, "create", s);
  if (ctx.json) {
    *ctx.out << ToJson(g) << "\n";
  } else {
    PrintGroup(ctx, g);
  }
  return 0;
}

int Get(const Context& ctx, const std::string& name) {
  auto stub = v1::ConsumerGroups::NewStub(ctx.channel);
  grpc::ClientContext call;
  SetDeadline(ctx, &call);
  v1::GetGroupRequest r;
  r.set_name(name);
  v1::ConsumerGroup g;
  grpc::Status s = stub->GetGroup(&call, r, &g);
  if (!s.ok()) return Fail(ctx, "get", s);
  if (ctx.json) {
    *ctx.out << ToJson(g) << "\n";
  } else {
    PrintGroup(ctx, g);
  }
  return 0;
}

int Delete(const Context& ctx, const std::string& name) {
  auto stub = v1::ConsumerGroups::NewStub(ctx.channel);
  grpc::ClientContext call;
  SetDeadline(ctx, &call);
  v1::DeleteGroupRequest r;
  r.set_name(name);
  v1::DeleteGroupResponse resp;
  grpc::Status s = stub->DeleteGroup(&call, r, &resp);
  if (!s.ok()) return Fail(ctx, "delete", s);
  if (!ctx.json) *ctx.out << "deleted group " << name << "\n";
  return 0;
}

int Parked(const Context& ctx, const std::string& name) {
  auto stub = v1::ConsumerGroups::NewStub(ctx.channel);
  uint64_t after = 0;
  int64_t n = 0;
  while (true) {
    grpc::ClientContext call;
    SetDeadline(ctx, &call);
    v1::ListParkedRequest r;
    r.set_group(name);
    r.set_after_position(after);
    r.set_limit(1000);
    v1::ListParkedResponse resp;
    grpc::Status s = stub->ListParked(&call, r, &resp);
    if (!s.ok()) return Fail(ctx, "parked", s);
    for (const v1::ParkedEvent& p : resp.parked()) {
      ++n;
      after = p.position();
      if (ctx.json) {
        *ctx.out << ToJson(p) << "\n";
      } else {
        *ctx.out << absl::StrFormat(
            "#%-8d %d deliveries%s  %s\n", p.position(), p.deliveries(),
            p.replaying() ? " (replaying)" : "", p.reason());
      }
    }
    if (!resp.more()) break;
  }
  if (!ctx.json) {
    *ctx.out << n << " parked event(s) in group " << name;
    if (n > 0)
      *ctx.out << "; deliver them again: nenep groups replay " << name
               << " --all";
    *ctx.out << "\n";
  }
  return 0;
}

int Replay(const Context& ctx, const std::string& name,
           const std::vector<std::string>& positions, bool all) {
  v1::ReplayParkedRequest r;
  r.set_group(name);
  r.set_all(all);
  for (const std::string& p : positions) {
    uint64_t v = 0;
    if (!absl::SimpleAtoi(p, &v)) {
      *ctx.err << "nenep: replay: '" << p << "' is not a position\n";
      return 2;
    }
    r.add_positions(v);
  }
  if (all == !positions.empty()) {
    *ctx.err << "nenep: replay: give POSITION... or --all\n";
    return 2;
  }
  auto stub = v1::ConsumerGroups::NewStub(ctx.channel);
  grpc::ClientContext call;
  SetDeadline(ctx, &call);
  v1::ReplayParkedResponse resp;
  grpc::Status s = stub->ReplayParked(&call, r, &resp);
  if (!s.ok()) return Fail(ctx, "replay", s);
  if (!ctx.json) {
    *ctx.out << "group " << name << " delivers " << resp.replayed()
             << " parked event(s) again\n";
  }
  return 0;
}

// Pulls, prints and acks until `count` events (or forever).
int Consume(const Context& ctx, const std::string& name,
            const GroupsOptions& o) {
  if (o.member.empty()) {
    *ctx.err << "nenep: consume needs --member=NAME (who acks)\n";
    return 2;
  }
  auto stub = v1::ConsumerGroups::NewStub(ctx.channel);
  int64_t printed = 0;
  while (o.count == 0 || printed < o.count) {
    v1::PullRequest r;
    r.set_group(name);
    r.set_member(o.member);
    r.set_wait_ms(5000);
    r.set_max_events(static_cast<uint32_t>(
        o.count == 0 ? 100 : std::min<int64_t>(100, o.count - printed)));
    grpc::ClientContext call;
    call.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(30)));
    v1::PullResponse got;
    grpc::Status s = stub->Pull(&call, r, &got);
    if (!s.ok()) return Fail(ctx, "pull", s);
    if (got.deliveries().empty()) continue;
    v1::AckRequest ack;
    ack.set_group(name);
    ack.set_member(o.member);
    for (const v1::Delivery& d : got.deliveries()) {
      PrintEvent(ctx, d.event());
      ack.add_positions(d.event().position());
      ++printed;
    }
    ctx.out->flush();
    grpc::ClientContext call2;
    SetDeadline(ctx, &call2);
    v1::AckResponse acked;
    s = stub->Ack(&call2, ack, &acked);
    if (!s.ok()) return Fail(ctx, "ack", s);
  }
  return 0;
}

}  // namespace

int Groups(const Context& ctx, const std::vector<std::string>& args,
           const GroupsOptions& options) {
  if (args.empty() || args[0] == "list") return List(ctx);
  const std::string& sub = args[0];
  if (args.size() < 2) {
    *ctx.err << "nenep: groups " << sub << " needs a group NAME\n";
    return 2;
  }
  const std::string& name = args[1];
  const std::vector<std::string> rest(args.begin() + 2, args.end());
  if (sub == "replay") return Replay(ctx, name, rest, options.all);
  if (!rest.empty()) {
    *ctx.err << "nenep: groups " << sub << ": unexpected '" << rest[0] << "'\n";
    return 2;
  }
  if (sub == "create") return Create(ctx, name, options);
  if (sub == "get") return Get(ctx, name);
  if (sub == "delete") return Delete(ctx, name);
  if (sub == "parked") return Parked(ctx, name);
  if (sub == "consume") return Consume(ctx, name, options);
  *ctx.err << "nenep: groups: unknown subcommand '" << sub
           << "' (list, create, get, delete, parked, replay, consume)\n";
  return 2;
}

}  // namespace nenep::cli
