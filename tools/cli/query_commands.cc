// nenep units, nenep rollup, nenep rebuild: the Query and Projections
// services for people (dates as dd/mm/yyyy, Vietnamese names aligned by
// their displayed width) or, with --json, for machines.

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <ostream>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "grpcpp/client_context.h"
#include "nenep/v1/query.grpc.pb.h"
#include "tools/cli/cli.h"

namespace nenep::cli {

std::string Vn(const v1::Date& d) {
  return absl::StrFormat("%02d/%02d/%04d", d.day(), d.month(), d.year());
}

bool ParseDate(const std::string& text, v1::Date* out) {
  int y = 0, m = 0, d = 0;
  std::vector<std::string> p = absl::StrSplit(text, '/');
  if (p.size() == 3 && absl::SimpleAtoi(p[0], &d) &&
      absl::SimpleAtoi(p[1], &m) && absl::SimpleAtoi(p[2], &y)) {
  } else {
    p = absl::StrSplit(text, '-');
    if (p.size() != 3 || !absl::SimpleAtoi(p[0], &y) ||
        !absl::SimpleAtoi(p[1], &m) || !absl::SimpleAtoi(p[2], &d)) {
      return false;
    }
  }
  out->set_year(y);
  out->set_month(m);
  out->set_day(d);
  return true;
}

namespace {

// Columns a UTF-8 string takes in a terminal: code points, less combining
// marks (NFC Vietnamese has none, but a stray NFD name must not shift).
size_t DisplayWidth(absl::string_view s) {
  size_t width = 0;
  for (size_t i = 0; i < s.size();) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    const int len = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
    uint32_t cp = c;
    if (len == 2 && i + 1 < s.size()) {
      cp = ((c & 0x1F) << 6) | (s[i + 1] & 0x3F);
    } else if (len == 3 && i + 2 < s.size()) {
      cp = ((c & 0x0F) << 12) | ((s[i + 1] & 0x3F) << 6) | (s[i + 2] & 0x3F);
    }
    const bool combining = (cp >= 0x300 && cp <= 0x36F);
    if (!combining) ++width;
    i += len;
  }
  return width;
}

// `s` cut to `width` columns (with "…") and padded to it.
std::string Pad(absl::string_view s, size_t width) {
  std::string out(s);
  if (DisplayWidth(out) > width) {
    // Cut by code points.
    std::string cut;
    size_t w = 0;
    for (size_t i = 0; i < out.size() && w + 1 < width;) {
      const unsigned char c = static_cast<unsigned char>(out[i]);
      const size_t len = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
      cut.append(out, i, len);
      i += len;
      ++w;
    }
    out = cut + "…";
  }
  const size_t w = DisplayWidth(out);
  if (w < width) out.append(width - w, ' ');
  return out;
}

// 2024, 2024-H1, 2024-Q2, 2024-03.
bool ParsePeriod(const std::string& text, v1::PeriodRef* out) {
  std::vector<std::string> p = absl::StrSplit(text, '-');
  int year = 0, n = 0;
  if (p.empty() || !absl::SimpleAtoi(p[0], &year)) return false;
  out->set_year(year);
  if (p.size() == 1) return true;
  if (p.size() != 2 || p[1].empty()) return false;
  const char kind = p[1][0];
  if ((kind == 'Q' || kind == 'q') && absl::SimpleAtoi(p[1].substr(1), &n)) {
    out->set_quarter(n);
  } else if ((kind == 'H' || kind == 'h') &&
             absl::SimpleAtoi(p[1].substr(1), &n)) {
    out->set_half(n);
  } else if (absl::SimpleAtoi(p[1], &n)) {
    out->set_month(n);
  } else {
    return false;
  }
  return true;
}

const char* KindName(v1::UnitKind k) {
  switch (k) {
    case v1::UNIT_KIND_CENTRAL:
      return "trung ương";
    case v1::UNIT_KIND_DIRECT_UNDER_CENTRAL:
      return "trực thuộc TW";
    case v1::UNIT_KIND_UPPER_BASE:
      return "cấp trên cơ sở";
    case v1::UNIT_KIND_BASE_PARTY_COMMITTEE:
      return "đảng bộ cơ sở";
    case v1::UNIT_KIND_SUB_PARTY_COMMITTEE:
      return "đảng bộ bộ phận";
    case v1::UNIT_KIND_BASE_CELL:
      return "chi bộ cơ sở";
    case v1::UNIT_KIND_ATTACHED_CELL:
      return "chi bộ trực thuộc";
    case v1::UNIT_KIND_PARTY_GROUP:
      return "tổ đảng";
    default:
      return "?";
  }
}

std::string Active(const v1::Unit& u) {
  return u.has_dissolved_on()
             ? absl::StrCat(Vn(u.active_from()), " – ", Vn(u.dissolved_on()))
             : absl::StrCat("từ ", Vn(u.active_from()));
}

std::string Percent(int64_t num, int64_t den) {
  if (den == 0) return "—";
  return absl::StrFormat(
      "%.1f%%", 100.0 * static_cast<double>(num) / static_cast<double>(den));
}

void PrintUnitRow(const Context& ctx, const v1::Unit& u) {
  *ctx.out << Pad(u.unit_id(), 22) << "  " << Pad(u.name(), 46) << "  "
           << Pad(KindName(u.kind()), 18) << "  " << Active(u) << "\n";
}

int Fail(const Context& ctx, absl::string_view what, const grpc::Status& s) {
  *ctx.err << "nenep: " << what << " failed: " << Describe(ctx, s) << "\n";
  return 1;
}

void PrintRollup(const Context& ctx, const v1::Rollup& r) {
  auto line = [&](absl::string_view label, const std::string& value) {
    *ctx.out << "  " << Pad(label, 48) << value << "\n";
  };
  auto ratio = [](int64_t num, int64_t den) {
    return absl::StrCat(num, " / ", den, "  (", Percent(num, den), ")");
  };
  line("Đơn vị / chi bộ (cuối kỳ)", absl::StrCat(r.units(), " / ", r.cells()));
  line("Đảng viên (cuối kỳ)", absl::StrCat(r.members()));
  line("Sinh hoạt thường kỳ", absl::StrCat(r.sessions_regular()));
  line("Sinh hoạt chuyên đề", absl::StrCat(r.sessions_thematic()));
  line("Sinh hoạt khác", absl::StrCat(r.sessions_other()));
  line("Có nội dung học tập tư tưởng HCM",
       ratio(r.sessions_hcm(), r.sessions_total()));
  line("Tỷ lệ dự sinh hoạt",
       ratio(r.attendance_present(), r.attendance_convened()));
  line("Chi bộ-tháng có sinh hoạt thường kỳ",
       ratio(r.regular_cell_months_held(), r.regular_cell_months_active()));
  line("Chi bộ-quý có sinh hoạt chuyên đề",
       ratio(r.thematic_cell_quarters_held(),
             r.thematic_cell_quarters_active()));
  line("Kế hoạch ban hành", absl::StrCat(r.plans_issued()));
  line("Kế hoạch cấp dưới đúng hạn",
       ratio(r.child_plans_on_time(), r.child_plans_required()));
  line("Đảng viên đăng ký làm theo",
       ratio(r.members_with_commitment(), r.members()));
  line(
      "Bản đăng ký / đã đánh giá / hoàn thành",
      absl::StrCat(r.commitments_registered(), " / ", r.commitments_evaluated(),
                   " / ", r.commitments_fulfilled()));
  line("Bằng khen / Giấy khen / Cờ thi đua / khác",
       absl::StrCat(r.awards_bang_khen(), " / ", r.awards_giay_khen(), " / ",
                    r.awards_co_thi_dua(), " / ", r.awards_other()));
  line("Khen thưởng: TW / bộ-tỉnh / trên cơ sở / cơ sở",
       absl::StrCat(r.awards_central(), " / ", r.awards_ministry_province(),
                    " / ", r.awards_upper_base(), " / ", r.awards_base()));
  line("Tập thể / cá nhân được khen",
       absl::StrCat(r.award_recipients_collective(), " / ",
                    r.award_recipients_individual()));
  line("Chi bộ được khen thưởng", ratio(r.awarded_cells(), r.cells()));
}

}  // namespace

int Units(const Context& ctx, const std::string& unit_id,
          const UnitsOptions& options) {
  auto stub = v1::Query::NewStub(ctx.channel);
  v1::Date as_of;
  const bool has_as_of = !options.as_of.empty();
  if (has_as_of && !ParseDate(options.as_of, &as_of)) {
    *ctx.err << "nenep: --as_of '" << options.as_of
             << "' is not a date (dd/mm/yyyy)\n";
    return 2;
  }
  if (!options.find.empty()) {
    v1::FindUnitsRequest request;
    request.set_query(options.find);
    if (has_as_of) *request.mutable_as_of() = as_of;
    request.set_include_inactive(options.all);
    request.set_limit(100);
    v1::FindUnitsResponse response;
    grpc::ClientContext call;
    SetDeadline(ctx, &call);
    grpc::Status s = stub->FindUnits(&call, request, &response);
    if (!s.ok()) return Fail(ctx, "units", s);
    for (const v1::Unit& u : response.units()) {
      if (ctx.json) {
        *ctx.out << ToJson(u) << "\n";
      } else {
        PrintUnitRow(ctx, u);
      }
    }
    if (!ctx.json && response.units().empty()) {
      *ctx.out << "no unit matches '" << options.find << "'\n";
    }
    return 0;
  }
  v1::GetUnitRequest request;
  request.set_unit_id(unit_id);
  if (has_as_of) *request.mutable_as_of() = as_of;
  v1::Unit unit;
  {
    grpc::ClientContext call;
    SetDeadline(ctx, &call);
    grpc::Status s = stub->GetUnit(&call, request, &unit);
    if (!s.ok()) return Fail(ctx, "units", s);
  }
  std::vector<v1::Unit> children;
  std::string token;
  do {
    v1::ListChildrenRequest list;
    list.set_unit_id(unit_id);
    if (has_as_of) *list.mutable_as_of() = as_of;
    list.set_page_size(1000);
    list.set_page_token(token);
    v1::ListChildrenResponse page;
    grpc::ClientContext call;
    SetDeadline(ctx, &call);
    grpc::Status s = stub->ListChildren(&call, list, &page);
    if (!s.ok()) return Fail(ctx, "units", s);
    for (v1::Unit& c : *page.mutable_children())
      children.push_back(std::move(c));
    token = page.next_page_token();
  } while (!token.empty());
  if (ctx.json) {
    *ctx.out << ToJson(unit) << "\n";
    for (const v1::Unit& c : children) *ctx.out << ToJson(c) << "\n";
    return 0;
  }
  *ctx.out << unit.name() << " (" << unit.unit_id() << ")\n";
  *ctx.out << "  loại        " << KindName(unit.kind()) << "\n";
  *ctx.out << "  hoạt động   " << Active(unit) << "\n";
  std::string chain;
  for (const v1::UnitRef& p : unit.parent_chain()) {
    absl::StrAppend(&chain, chain.empty() ? "" : " ← ", p.name());
  }
  *ctx.out << "  trực thuộc  " << (chain.empty() ? "—" : chain) << "\n";
  if (!unit.predecessor_unit_ids().empty()) {
    *ctx.out << "  tiền thân   "
             << absl::StrJoin(unit.predecessor_unit_ids(), ", ") << "\n";
  }
  if (!unit.successor_unit_ids().empty()) {
    *ctx.out << "  kế thừa bởi "
             << absl::StrJoin(unit.successor_unit_ids(), ", ") << "\n";
  }
  *ctx.out << "  chi bộ      " << unit.cells() << "\n";
  *ctx.out << "  đảng viên   " << unit.members() << "\n";
  *ctx.out << "  trực thuộc trực tiếp: " << children.size() << "\n";
  for (const v1::Unit& c : children) {
    *ctx.out << "    ";
    PrintUnitRow(ctx, c);
  }
  return 0;
}

namespace {

// The request of `nenep rollup` (and of replay's rollups); 0, or the exit
// code of a usage error (said on ctx.err).
int BuildRollupRequest(const Context& ctx, const std::string& unit_id,
                       const RollupOptions& options,
                       v1::RollupRequest& request) {
  request.set_unit_id(unit_id);
  const int ranges = (!options.from.empty() || !options.to.empty()) +
                     !options.period.empty() + !options.phase.empty();
  if (ranges != 1) {
    *ctx.err << "nenep: rollup needs one range: --from=dd/mm/yyyy "
                "--to=dd/mm/yyyy, --period=2024|2024-H1|2024-Q2|2024-03 or "
                "--phase=2021-2023\n";
    return 2;
  }
  if (!options.period.empty()) {
    if (!ParsePeriod(options.period, request.mutable_period())) {
      *ctx.err << "nenep: --period '" << options.period
               << "' is not like 2024, 2024-H1, 2024-Q2 or 2024-03\n";
      return 2;
    }
  } else if (!options.phase.empty()) {
    request.set_phase(options.phase);
  } else if (!ParseDate(options.from,
                        request.mutable_dates()->mutable_start()) ||
             !ParseDate(options.to, request.mutable_dates()->mutable_end())) {
    *ctx.err << "nenep: --from and --to must both be dates (dd/mm/yyyy)\n";
    return 2;
  }
  request.set_attribution(v1::ATTRIBUTION_AS_RECORDED);
  if (!options.structure_date.empty()) {
    request.set_attribution(v1::ATTRIBUTION_AS_OF_STRUCTURE);
    if (!ParseDate(options.structure_date, request.mutable_structure_date())) {
      *ctx.err << "nenep: --as_of_structure '" << options.structure_date
               << "' is not a date (dd/mm/yyyy)\n";
      return 2;
    }
  }
  if (!options.known_as_of.empty()) {
    uint64_t position = 0;
    absl::Time t;
    std::string error;
    if (absl::SimpleAtoi(options.known_as_of, &position)) {
      request.mutable_known_as_of()->set_position(position);
    } else if (absl::ParseTime(absl::RFC3339_full, options.known_as_of, &t,
                               &error)) {
      const int64_t micros = absl::ToUnixMicros(t);
      auto* ts = request.mutable_known_as_of()->mutable_recorded_at();
      ts->set_seconds(micros / 1000000);
      ts->set_nanos(static_cast<int32_t>(micros % 1000000) * 1000);
    } else {
      *ctx.err << "nenep: --known_as_of '" << options.known_as_of
               << "' is neither a log position nor an RFC 3339 time (e.g. "
                  "2024-03-15T17:00:00+07:00)\n";
      return 2;
    }
  }
  return 0;
}

}  // namespace

int Rollup(const Context& ctx, const std::string& unit_id,
           const RollupOptions& options) {
  v1::RollupRequest request;
  if (int rc = BuildRollupRequest(ctx, unit_id, options, request)) return rc;
  auto stub = v1::Query::NewStub(ctx.channel);
  const std::string attribution =
      options.structure_date.empty()
          ? "theo thời điểm ghi nhận"
          : absl::StrCat("theo cơ cấu ngày ", options.structure_date);
  if (!options.children) {
    v1::RollupResponse response;
    grpc::ClientContext call;
    SetDeadline(ctx, &call);
    grpc::Status s = stub->GetRollup(&call, request, &response);
    if (!s.ok()) return Fail(ctx, "rollup", s);
    if (ctx.json) {
      *ctx.out << ToJson(response) << "\n";
      return 0;
    }
    *ctx.out << response.unit().name() << " (" << unit_id << ")\n"
             << "  từ " << Vn(response.from()) << " đến " << Vn(response.to())
             << ", " << attribution << "\n";
    PrintRollup(ctx, response.rollup());
    return 0;
  }
  std::vector<v1::ChildRollup> rows;
  v1::ChildrenRollupsResponse head;
  std::string token;
  do {
    v1::ChildrenRollupsRequest children;
    *children.mutable_rollup() = request;
    children.set_sort_by(options.sort_by);
    children.set_descending(options.descending);
    children.set_page_size(1000);
    children.set_page_token(token);
    v1::ChildrenRollupsResponse page;
    grpc::ClientContext call;
    SetDeadline(ctx, &call);
    grpc::Status s = stub->GetChildrenRollups(&call, children, &page);
    if (!s.ok()) return Fail(ctx, "rollup", s);
    for (v1::ChildRollup& c : *page.mutable_children()) {
      rows.push_back(std::move(c));
    }
    token = page.next_page_token();
    page.clear_children();
    head = std::move(page);
  } while (!token.empty());
  if (ctx.json) {
    for (const v1::ChildRollup& c : rows) *ctx.out << ToJson(c) << "\n";
    return 0;
  }
  *ctx.out << head.unit().name() << " (" << unit_id << "): các đơn vị trực "
           << "thuộc\n  từ " << Vn(head.from()) << " đến " << Vn(head.to())
           << ", " << attribution << "\n\n";
  *ctx.out << "  " << Pad("Đơn vị", 44) << Pad("chi bộ", 8)
           << Pad("đảng viên", 11) << Pad("SH t.kỳ", 10) << Pad("t.kỳ %", 9)
           << Pad("c.đề %", 9) << Pad("dự SH %", 9) << Pad("KH đúng hạn", 13)
           << "khen\n";
  for (const v1::ChildRollup& c : rows) {
    const v1::Rollup& r = c.rollup();
    *ctx.out << "  " << Pad(c.unit().name(), 44)
             << Pad(absl::StrCat(r.cells()), 8)
             << Pad(absl::StrCat(r.members()), 11)
             << Pad(absl::StrCat(r.sessions_regular()), 10)
             << Pad(Percent(r.regular_cell_months_held(),
                            r.regular_cell_months_active()),
                    9)
             << Pad(Percent(r.thematic_cell_quarters_held(),
                            r.thematic_cell_quarters_active()),
                    9)
             << Pad(Percent(r.attendance_present(), r.attendance_convened()), 9)
             << Pad(absl::StrCat(r.child_plans_on_time(), "/",
                                 r.child_plans_required()),
                    13)
             << r.award_recipients_collective() +
                    r.award_recipients_individual()
             << "\n";
  }
  return 0;
}

int Rebuild(const Context& ctx) {
  auto stub = v1::Projections::NewStub(ctx.channel);
  grpc::ClientContext call;
  call.set_deadline(absl::ToChronoTime(absl::Now() + absl::Hours(24)));
  v1::RebuildResponse response;
  grpc::Status s = stub->Rebuild(&call, v1::RebuildRequest(), &response);
  if (!s.ok()) return Fail(ctx, "rebuild", s);
  if (ctx.json) {
    *ctx.out << ToJson(response) << "\n";
  } else {
    *ctx.out << absl::StrFormat(
        "rebuilt the projections from %d events in %.2f s (%.0f events/s; "
        "%.2f s with the checksums), at position %d\n"
        "  live     %s\n  rebuilt  %s\n  %s\n",
        response.events(), response.seconds(), response.events_per_second(),
        response.total_seconds(), response.position(), response.live_checksum(),
        response.rebuilt_checksum(),
        response.equal() ? "equal: the live projections are exactly what the "
                           "log gives"
                         : "DIFFERENT: the rebuilt projections replaced the "
                           "live ones (see the server log)");
    if (response.skipped_events() > 0) {
      *ctx.out << "  " << response.skipped_events()
               << " logged event(s) were refused on replay (see the server "
                  "log)\n";
    }
  }
  return response.equal() ? 0 : 1;
}

}  // namespace nenep::cli

namespace nenep::cli {

int Replay(const Context& ctx, const ReplayOptions& o) {
  v1::ReplayRequest request;
  if (o.to != 0 && !o.known_as_of.empty()) {
    *ctx.err << "nenep: replay: give --to=POSITION or --known_as_of=TIME, "
                "not both\n";
    return 2;
  }
  if (!o.known_as_of.empty()) {
    absl::Time t;
    std::string error;
    if (!absl::ParseTime(absl::RFC3339_full, o.known_as_of, &t, &error)) {
      *ctx.err << "nenep: --known_as_of '" << o.known_as_of
               << "' is not an RFC 3339 time (e.g. "
                  "2024-03-15T17:00:00+07:00)\n";
      return 2;
    }
    const int64_t micros = absl::ToUnixMicros(t);
    request.mutable_to_recorded_at()->set_seconds(micros / 1000000);
    request.mutable_to_recorded_at()->set_nanos(
        static_cast<int32_t>(micros % 1000000) * 1000);
  } else {
    request.set_to_position(o.to);
  }
  for (const std::string& unit : o.units) {
    if (int rc =
            BuildRollupRequest(ctx, unit, o.rollup, *request.add_rollups())) {
      return rc;
    }
  }
  if (o.out_dir.empty()) {
    *ctx.err << "nenep: replay needs --out_dir (where its results go; the "
                "live store is not touched)\n";
    return 2;
  }
  std::error_code ec;
  std::filesystem::create_directories(o.out_dir, ec);
  if (ec) {
    *ctx.err << "nenep: replay: cannot create " << o.out_dir << ": "
             << ec.message() << "\n";
    return 1;
  }
  auto stub = v1::Projections::NewStub(ctx.channel);
  grpc::ClientContext call;  // a replay of a large log takes a while
  auto reader = stub->Replay(&call, request);
  v1::ReplayProgress m;
  v1::ReplayResult result;
  const bool tty = ctx.progress;
  while (reader->Read(&m)) {
    if (m.has_result()) {
      result = m.result();
    } else if (tty && m.target() > 0) {
      *ctx.err << absl::StrFormat("\rreplaying %d / %d events (%.0f%%)",
                                  m.position(), m.target(),
                                  100.0 * m.position() / m.target())
               << std::flush;
    }
  }
  if (tty) *ctx.err << "\r" << std::string(60, ' ') << "\r";
  grpc::Status s = reader->Finish();
  if (!s.ok()) {
    *ctx.err << "nenep: replay failed: " << Describe(ctx, s) << "\n";
    return 1;
  }
  // Results: replay.json (what was replayed, the checksum) and one JSON line
  // per rollup, written then renamed into place.
  v1::ReplayResult summary = result;
  summary.clear_rollups();
  std::string rollups;
  for (const v1::RollupResponse& r : result.rollups()) {
    absl::StrAppend(&rollups, ToJson(r), "\n");
  }
  for (const auto& [name, text] : {std::pair<std::string, std::string>{
                                       "replay.json", ToJson(summary) + "\n"},
                                   {"rollups.jsonl", rollups}}) {
    const std::string path = o.out_dir + "/" + name;
    {
      std::ofstream f(path + ".partial", std::ios::trunc);
      f << text;
      f.close();
      if (!f) {
        *ctx.err << "nenep: replay: cannot write " << path << "\n";
        return 1;
      }
    }
    std::filesystem::rename(path + ".partial", path, ec);
    if (ec) {
      *ctx.err << "nenep: replay: cannot write " << path << "\n";
      return 1;
    }
  }
  if (ctx.json) {
    *ctx.out << ToJson(result) << "\n";
    return 0;
  }
  *ctx.out << absl::StrFormat(
      "replayed %d events up to position %d in %.1f s (%d refused); "
      "checksum %s\nresults in %s\n",
      result.events(), result.position(), result.seconds(),
      result.skipped_events(), result.checksum(), o.out_dir);
  for (const v1::RollupResponse& r : result.rollups()) {
    const v1::Rollup& x = r.rollup();
    *ctx.out << absl::StrFormat(
        "%s: %d cells, %d members, %d sessions (%d regular, %d thematic), "
        "attendance %.1f%%, regular compliance %.1f%%\n",
        r.unit().name(), x.cells(), x.members(), x.sessions_total(),
        x.sessions_regular(), x.sessions_thematic(), 100 * x.attendance_rate(),
        100 * x.regular_compliance());
  }
  return 0;
}

}  // namespace nenep::cli
