// `nenep audit`: signed tree heads and proofs (issue 5).

#include <cstdio>
#include <fstream>
#include <map>
#include <ostream>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/time/time.h"
#include "grpcpp/client_context.h"
#include "nenep/v1/audit.grpc.pb.h"
#include "services/common/calendar.h"
#include "tools/cli/cli.h"

namespace nenep::cli {
namespace {

bool Number(const Context& ctx, const std::string& text, uint64_t* out) {
  if (!absl::SimpleAtoi(text, out)) {
    *ctx.err << "nenep: audit: '" << text << "' is not a number\n";
    return false;
  }
  return true;
}

int Fail(const Context& ctx, const grpc::Status& s) {
  *ctx.err << "nenep: audit failed: " << Describe(ctx, s) << "\n";
  return 1;
}

}  // namespace

int Audit(const Context& ctx, const std::vector<std::string>& args, bool fresh,
          uint64_t tree_size) {
  auto stub = v1::Audit::NewStub(ctx.channel);
  grpc::ClientContext call;
  SetDeadline(ctx, &call);
  const std::string sub = args.empty() ? "head" : args[0];
  if (sub == "head" && args.size() <= 1) {
    v1::GetTreeHeadRequest r;
    r.set_fresh(fresh);
    r.set_tree_size(tree_size);
    v1::SignedTreeHead h;
    grpc::Status s = stub->GetTreeHead(&call, r, &h);
    if (!s.ok()) return Fail(ctx, s);
    if (ctx.json) {
      *ctx.out << ToJson(h) << "\n";
    } else {
      const absl::TimeZone zone =
          services::VietnamTimeZone().value_or(absl::UTCTimeZone());
      *ctx.out << absl::StrFormat(
          "tree head: %d events\nroot:       %s\nsigned:     %s "
          "(Asia/Ho_Chi_Minh)\npublic key: %s (key %s)\n",
          h.tree_size(), absl::BytesToHexString(h.root_hash()),
          absl::FormatTime("%d/%m/%Y %H:%M:%S",
                           absl::FromUnixSeconds(h.timestamp().seconds()),
                           zone),
          absl::BytesToHexString(h.public_key()), h.key_id());
    }
    return 0;
  }
  if (sub == "proof" && args.size() == 2) {
    v1::GetInclusionProofRequest r;
    uint64_t position = 0;
    if (!Number(ctx, args[1], &position)) return 2;
    r.set_position(position);
    r.set_tree_size(tree_size);
    v1::InclusionProof p;
    grpc::Status s = stub->GetInclusionProof(&call, r, &p);
    if (!s.ok()) return Fail(ctx, s);
    if (ctx.json) {
      *ctx.out << ToJson(p) << "\n";
    } else {
      *ctx.out << absl::StrFormat(
          "event %d in the tree of %d: leaf %s, %d hashes in its audit path "
          "(--json for the proof)\n",
          p.position(), p.tree_size(), absl::BytesToHexString(p.leaf_hash()),
          p.audit_path_size());
    }
    return 0;
  }
  if (sub == "consistency" && (args.size() == 2 || args.size() == 3)) {
    v1::GetConsistencyProofRequest r;
    uint64_t first = 0, second = 0;
    if (!Number(ctx, args[1], &first)) return 2;
    if (args.size() == 3 && !Number(ctx, args[2], &second)) return 2;
    r.set_first_tree_size(first);
    r.set_second_tree_size(second);
    v1::ConsistencyProof c;
    grpc::Status s = stub->GetConsistencyProof(&call, r, &c);
    if (!s.ok()) return Fail(ctx, s);
    if (ctx.json) {
      *ctx.out << ToJson(c) << "\n";
    } else {
      *ctx.out << absl::StrFormat(
          "the tree of %d extends the tree of %d: %d hashes (--json for the "
          "proof)\n",
          c.second_tree_size(), c.first_tree_size(), c.hashes_size());
    }
    return 0;
  }
  *ctx.err << "nenep: audit: use head [--fresh --tree_size=N], proof "
              "POSITION [--tree_size=N] or consistency FIRST [SECOND]\n";
  return 2;
}

}  // namespace nenep::cli

namespace nenep::cli {
namespace {

std::string JsonString(absl::string_view s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(static_cast<char>(c));
    } else if (c < 0x20) {
      out += absl::StrFormat("\\u%04x", c);
    } else {
      out.push_back(static_cast<char>(c));
    }
  }
  return out + "\"";
}

std::string CsvField(absl::string_view s) {
  if (s.find_first_of(",\"\n\r") == absl::string_view::npos) {
    return std::string(s);
  }
  return absl::StrCat("\"", absl::StrReplaceAll(s, {{"\"", "\"\""}}), "\"");
}

std::string Timestamp(const google::protobuf::Timestamp& t) {
  return absl::FormatTime(
      "%Y-%m-%dT%H:%M:%E6SZ",
      absl::FromUnixSeconds(t.seconds()) + absl::Nanoseconds(t.nanos()),
      absl::UTCTimeZone());
}

}  // namespace

int Export(const Context& ctx, const ExportOptions& o) {
  if (o.format != "jsonl" && o.format != "csv") {
    *ctx.err << "nenep: export: --format is jsonl or csv\n";
    return 2;
  }
  auto stub = v1::Audit::NewStub(ctx.channel);
  v1::SignedTreeHead head;
  std::vector<v1::ExportedEvent> events;
  uint64_t next = o.from == 0 ? 1 : o.from;
  uint64_t tree_size = 0;
  while (true) {
    grpc::ClientContext call;
    SetDeadline(ctx, &call);
    v1::ExportEventsRequest r;
    r.set_from_position(next);
    r.set_to_position(o.to);
    r.set_tree_size(tree_size);
    r.set_subtree_unit_id(o.subtree);
    r.set_page_size(2000);
    v1::ExportEventsResponse page;
    grpc::Status s = stub->ExportEvents(&call, r, &page);
    if (!s.ok()) {
      *ctx.err << "nenep: export failed: " << Describe(ctx, s) << "\n";
      return 1;
    }
    head = page.head();
    tree_size = head.tree_size();
    for (v1::ExportedEvent& e : *page.mutable_events()) {
      events.push_back(std::move(e));
    }
    if (page.next_position() == 0) break;
    next = page.next_position();
  }
  // The correction chain: who corrects or retracts each event.
  std::map<uint64_t, std::vector<uint64_t>> corrected_by, retracted_by;
  for (const v1::ExportedEvent& e : events) {
    const v1::Event& ev = e.event().event();
    if (ev.has_event_corrected()) {
      corrected_by[ev.event_corrected().target_position()].push_back(
          e.event().position());
    } else if (ev.has_event_retracted()) {
      retracted_by[ev.event_retracted().target_position()].push_back(
          e.event().position());
    }
  }
  std::string text;
  if (o.format == "jsonl") {
    absl::StrAppend(&text, "{\"treeHead\":", ToJson(head), "}\n");
  } else {
    text = "\xEF\xBB\xBF";  // BOM: spreadsheets then read UTF-8
    absl::StrAppend(&text,
                    "position,recorded_at,stream,revision,type,business_date,"
                    "principal,corrects,retracts,corrected_by,retracted_by,"
                    "leaf_hash,event_json\n");
  }
  for (const v1::ExportedEvent& e : events) {
    const v1::RecordedEvent& r = e.event();
    const v1::Event& ev = r.event();
    const uint64_t corrects =
        ev.has_event_corrected() ? ev.event_corrected().target_position() : 0;
    const uint64_t retracts =
        ev.has_event_retracted() ? ev.event_retracted().target_position() : 0;
    const std::string by_c = absl::StrJoin(corrected_by[r.position()], ",");
    const std::string by_r = absl::StrJoin(retracted_by[r.position()], ",");
    const v1::Date& d = ev.business_date();
    const std::string date =
        absl::StrFormat("%02d/%02d/%04d", d.day(), d.month(), d.year());
    if (o.format == "jsonl") {
      std::vector<std::string> path;
      for (const std::string& h : e.audit_path()) {
        path.push_back(JsonString(absl::BytesToHexString(h)));
      }
      absl::StrAppend(
          &text, "{\"position\":", r.position(),
          ",\"recordedAt\":", JsonString(Timestamp(r.recorded_at())),
          ",\"stream\":", JsonString(r.stream()),
          ",\"revision\":", r.revision(), ",\"type\":", JsonString(r.type()),
          ",\"businessDate\":", JsonString(date),
          ",\"principal\":", JsonString(r.principal()));
      if (corrects != 0) absl::StrAppend(&text, ",\"corrects\":", corrects);
      if (retracts != 0) absl::StrAppend(&text, ",\"retracts\":", retracts);
      absl::StrAppend(
          &text, ",\"correctedBy\":[", by_c, "],\"retractedBy\":[", by_r,
          "],\"leafHash\":", JsonString(absl::BytesToHexString(e.leaf_hash())),
          ",\"leafData\":", JsonString(absl::Base64Escape(e.leaf_data())),
          ",\"auditPath\":[", absl::StrJoin(path, ","),
          "],\"event\":", ToJson(ev), "}\n");
    } else {
      absl::StrAppend(
          &text, r.position(), ",", Timestamp(r.recorded_at()), ",",
          CsvField(r.stream()), ",", r.revision(), ",", CsvField(r.type()), ",",
          date, ",", CsvField(r.principal()), ",",
          corrects == 0 ? "" : absl::StrCat(corrects), ",",
          retracts == 0 ? "" : absl::StrCat(retracts), ",", CsvField(by_c), ",",
          CsvField(by_r), ",", absl::BytesToHexString(e.leaf_hash()), ",",
          CsvField(ToJson(ev)), "\n");
    }
  }
  if (o.out.empty()) {
    *ctx.out << text;
  } else {
    const std::string tmp = o.out + ".partial";
    {
      std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
      f << text;
      f.close();
      if (!f) {
        *ctx.err << "nenep: export: cannot write " << tmp << "\n";
        std::remove(tmp.c_str());
        return 1;
      }
    }
    if (std::rename(tmp.c_str(), o.out.c_str()) != 0) {
      *ctx.err << "nenep: export: cannot rename " << tmp << " to " << o.out
               << "\n";
      return 1;
    }
    *ctx.err << "exported " << events.size()
             << " event(s) under the tree head of " << head.tree_size()
             << " events (key " << head.key_id() << ") to " << o.out << "\n";
  }
  return 0;
}

}  // namespace nenep::cli
