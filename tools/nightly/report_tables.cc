// File: tools/nightly/report_tables.cc

#include "tools/nightly/report_tables.h"

#include <cerrno>
#include <cstdio>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"

namespace nenep::nightly {
namespace {

// Asia/Ho_Chi_Minh: UTC+7 all year since 1975; fixed, so no tzdata needed.
absl::TimeZone VietnamTime() { return absl::FixedTimeZone(7 * 3600); }

// A rate of a rollup, by name, for the summary.
struct Measure {
  const char* label;
  int64_t (*num)(const v1::Rollup&);
  int64_t (*den)(const v1::Rollup&);
};

const Measure kSummaryMeasures[] = {
    {"Tỷ lệ sinh hoạt thường kỳ",
     [](const v1::Rollup& r) { return r.regular_cell_months_held(); },
     [](const v1::Rollup& r) { return r.regular_cell_months_active(); }},
    {"Tỷ lệ sinh hoạt chuyên đề",
     [](const v1::Rollup& r) { return r.thematic_cell_quarters_held(); },
     [](const v1::Rollup& r) { return r.thematic_cell_quarters_active(); }},
    {"Tỷ lệ đảng viên dự họp",
     [](const v1::Rollup& r) { return r.attendance_present(); },
     [](const v1::Rollup& r) { return r.attendance_convened(); }},
    {"Tỷ lệ đảng viên đăng ký làm theo",
     [](const v1::Rollup& r) { return r.members_with_commitment(); },
     [](const v1::Rollup& r) { return r.members(); }},
    {"Kế hoạch cấp dưới ban hành đúng hạn",
     [](const v1::Rollup& r) { return r.child_plans_on_time(); },
     [](const v1::Rollup& r) { return r.child_plans_required(); }},
};

CivilTime FromCivilDay(int year, int month, int day) {
  CivilTime t;
  t.year = year;
  t.month = month;
  t.day = day;
  return t;
}

}  // namespace

// ---- Cell ---------------------------------------------------------------

void Cell::SetRate(int64_t num, int64_t den) {
  if (den <= 0 || num < 0) {
    kind = Kind::kEmpty;
    return;
  }
  kind = Kind::kRate;
  number = num;
  denominator = den;
}

void Cell::SetDate(const v1::Date& d) {
  if (d.year() == 0) {
    kind = Kind::kEmpty;
    return;
  }
  kind = Kind::kDate;
  time = FromCivilDay(d.year(), d.month(), d.day());
}

// ---- Levels and lists ---------------------------------------------------

Level LevelOf(const v1::SnapshotUnit& u) {
  if (u.depth() == 0) return Level::kTop;
  return u.is_cell() ? Level::kCell : Level::kBranch;
}

const std::vector<OverdueList>& OverdueLists() {
  static const auto* const kLists = new std::vector<OverdueList>{
      {v1::OVERDUE_NO_REGULAR_SESSION, "Chưa SH thường kỳ",
       "qua_han_sinh_hoat_thuong_ky.csv",
       "Chi bộ chưa sinh hoạt thường kỳ tháng trước"},
      {v1::OVERDUE_NO_THEMATIC_SESSION, "Chưa SH chuyên đề",
       "qua_han_sinh_hoat_chuyen_de.csv",
       "Chi bộ chưa sinh hoạt chuyên đề quý trước"},
      {v1::OVERDUE_CHILD_PLAN, "Chưa ban hành KH", "qua_han_ke_hoach.csv",
       "Đơn vị quá hạn ban hành kế hoạch thực hiện"},
      {v1::OVERDUE_COMMITMENT_NOT_EVALUATED, "Cam kết chưa đánh giá",
       "cam_ket_chua_danh_gia.csv", "Bản đăng ký làm theo chưa được đánh giá"},
      {v1::OVERDUE_CHANGED_AFTER_SNAPSHOT, "Thay đổi sau báo cáo",
       "thay_doi_sau_bao_cao.csv", "Số liệu thay đổi sau báo cáo trước"},
  };
  return *kLists;
}

// ---- ReportTables -------------------------------------------------------

ReportTables::ReportTables(const ReportInput& in) : in_(in) {
  by_id_.reserve(in.units.size());
  for (size_t i = 0; i < in.units.size(); ++i) {
    const v1::SnapshotUnit& u = in.units[i];
    by_id_.emplace(u.unit_id(), i);
    levels_[static_cast<int>(LevelOf(u))].push_back(i);
  }
  for (size_t i = 0; i < in.overdue.size(); ++i) {
    const int kind = in.overdue[i].kind();
    if (kind >= 1 && kind <= 5) overdue_[kind].push_back(i);
  }
  AddSummary();
  AddUnitTable(Level::kTop, "Khối", "khoi.csv");
  AddUnitTable(Level::kBranch, "Đảng bộ", "dang_bo.csv");
  AddUnitTable(Level::kCell, "Chi bộ", "chi_bo.csv");
  for (const OverdueList& list : OverdueLists()) AddOverdueTable(list);
}

const std::vector<size_t>& ReportTables::overdue_of(
    v1::OverdueKind kind) const {
  const int k = static_cast<int>(kind);
  return overdue_[k >= 1 && k <= 5 ? k : 0];
}

absl::string_view ReportTables::ParentName(const v1::SnapshotUnit& u) const {
  if (u.parent_id().empty()) return {};
  auto it = by_id_.find(u.parent_id());
  if (it == by_id_.end()) return {};
  return in_.units[it->second].name();
}

std::string ReportTables::ParentChain(const v1::SnapshotUnit& u) const {
  std::string out;
  const v1::SnapshotUnit* cur = &u;
  // The depth bounds the walk even if the input has a cycle.
  for (int steps = 0; steps <= u.depth() && !cur->parent_id().empty();
       ++steps) {
    auto it = by_id_.find(cur->parent_id());
    if (it == by_id_.end()) break;
    cur = &in_.units[it->second];
    if (!out.empty()) out += " › ";
    out += cur->name();
  }
  return out;
}

void ReportTables::AddSummary() {
  const v1::SnapshotInfo& info = in_.info;
  auto row = [&](absl::string_view label) -> std::vector<Cell>& {
    summary_.emplace_back(9);
    summary_.back()[0].SetText(label);
    return summary_.back();
  };
  row("Ngày báo cáo")[5].SetDate(info.date());
  row("Vị trí nhật ký (số liệu tính đến sự kiện này)")[5].SetInteger(
      static_cast<int64_t>(info.position()));
  if (info.has_created_at()) {
    row("Thời điểm lập (giờ Việt Nam)")[5].SetDateTime(
        LocalTime(info.created_at()));
  }
  if (!info.periods().phase_label().empty()) {
    row("Giai đoạn")[5].SetText(info.periods().phase_label());
  }
  if (info.has_previous_date()) {
    std::vector<Cell>& r = row("So sánh với báo cáo ngày");
    r[5].SetDate(info.previous_date());
  }
  int64_t cells = 0;
  int64_t members = 0;
  for (const v1::SnapshotUnit& u : in_.units) cells += u.is_cell() ? 1 : 0;
  for (size_t i : units_of(Level::kTop)) {
    members += in_.units[i].year().members();
  }
  row("Số đơn vị")[5].SetInteger(static_cast<int64_t>(in_.units.size()));
  row("Số chi bộ")[5].SetInteger(cells);
  row("Số đảng viên")[5].SetInteger(members);

  for (size_t i : units_of(Level::kTop)) {
    const v1::SnapshotUnit& u = in_.units[i];
    for (int p = 0; p < kPeriodCount; ++p) {
      const v1::Rollup& r = PeriodRollup(u, p);
      const v1::DateRange* range = nullptr;
      const v1::SnapshotPeriods& ps = info.periods();
      switch (p) {
        case 0:
          range = &ps.month();
          break;
        case 1:
          range = &ps.quarter();
          break;
        case 2:
          range = &ps.half();
          break;
        case 3:
          range = &ps.year();
          break;
        default:
          range = &ps.phase();
          break;
      }
      for (const Measure& m : kSummaryMeasures) {
        std::vector<Cell>& cells_row = row(m.label);
        cells_row[1].SetText(u.name());
        cells_row[2].SetText(PeriodLabel(info, p));
        cells_row[3].SetDate(range->start());
        cells_row[4].SetDate(range->end());
        cells_row[6].SetRate(m.num(r), m.den(r));
        cells_row[7].SetInteger(m.num(r));
        cells_row[8].SetInteger(m.den(r));
      }
    }
  }
  for (const OverdueList& list : OverdueLists()) {
    row(absl::StrCat("Quá hạn: ", list.title))[5].SetInteger(
        static_cast<int64_t>(overdue_of(list.kind).size()));
  }

  Table t;
  t.sheet = "Tổng hợp";
  t.csv_file = "tong_hop.csv";
  t.columns = {{"Chỉ tiêu", 44},  {"Đơn vị", 40},   {"Kỳ", 22},
               {"Từ ngày", 12},   {"Đến ngày", 12}, {"Giá trị", 20},
               {"Tỷ lệ (%)", 10}, {"Tử số", 10},    {"Mẫu số", 10}};
  t.rows = summary_.size();
  t.fill = [this](size_t row, std::vector<Cell>* out) { *out = summary_[row]; };
  tables_.push_back(std::move(t));
}

void ReportTables::AddUnitTable(Level level, const char* sheet,
                                const char* csv_file) {
  Table t;
  t.sheet = sheet;
  t.csv_file = csv_file;
  t.columns = {
      {"Mã", 14},
      {"Tên", 44},
      {"Cấp trên", 36},
      {"Đảng viên", 10},
      {"Chi bộ", 9},
      {"SH thường kỳ tháng: đã họp", 12},
      {"SH thường kỳ tháng: phải họp", 12},
      {"Tỷ lệ SH thường kỳ năm (%)", 12},
      {"Tỷ lệ SH thường kỳ giai đoạn (%)", 12},
      {"Tỷ lệ SH chuyên đề năm (%)", 12},
      {"Tỷ lệ dự họp năm (%)", 11},
      {"Buổi SH có nội dung HCM năm", 12},
      {"Tỷ lệ đăng ký làm theo năm (%)", 12},
      {"KH cấp dưới đúng hạn năm (%)", 12},
      {"Khen thưởng năm", 10},
  };
  t.freeze_columns = 2;
  const std::vector<size_t>* index = &units_of(level);
  t.rows = index->size();
  t.fill = [this, index](size_t row, std::vector<Cell>* out) {
    const v1::SnapshotUnit& u = in_.units[(*index)[row]];
    const v1::Rollup& y = u.year();
    std::vector<Cell>& c = *out;
    c[0].SetText(u.unit_id());
    c[1].SetText(u.name());
    c[2].SetText(ParentName(u));
    c[3].SetInteger(y.members());
    c[4].SetInteger(y.cells());
    c[5].SetInteger(u.month().regular_cell_months_held());
    c[6].SetInteger(u.month().regular_cell_months_active());
    c[7].SetRate(y.regular_cell_months_held(), y.regular_cell_months_active());
    c[8].SetRate(u.phase().regular_cell_months_held(),
                 u.phase().regular_cell_months_active());
    c[9].SetRate(y.thematic_cell_quarters_held(),
                 y.thematic_cell_quarters_active());
    c[10].SetRate(y.attendance_present(), y.attendance_convened());
    c[11].SetInteger(y.sessions_hcm());
    c[12].SetRate(y.members_with_commitment(), y.members());
    c[13].SetRate(y.child_plans_on_time(), y.child_plans_required());
    c[14].SetInteger(TotalAwards(y));
  };
  tables_.push_back(std::move(t));
}

void ReportTables::AddOverdueTable(const OverdueList& list) {
  Table t;
  t.sheet = list.sheet;
  t.csv_file = list.csv_file;
  t.columns = {{"Đơn vị", 40},   {"Mã", 14},      {"Trực thuộc", 60},
               {"Nội dung", 50}, {"Từ ngày", 12}, {"Tham chiếu", 26}};
  t.freeze_columns = 1;
  const std::vector<size_t>* index = &overdue_of(list.kind);
  t.rows = index->size();
  t.fill = [this, index](size_t row, std::vector<Cell>* out) {
    const v1::OverdueItem& item = in_.overdue[(*index)[row]];
    std::vector<Cell>& c = *out;
    c[0].SetText(item.unit_name());
    c[1].SetText(item.unit_id());
    c[2].SetText(OverdueChain(item));
    c[3].SetText(item.missing());
    c[4].SetDate(item.since());
    c[5].SetText(OverdueReference(item));
  };
  tables_.push_back(std::move(t));
}

// ---- Formatting ---------------------------------------------------------

std::string OverdueChain(const v1::OverdueItem& item) {
  std::string chain;
  for (const v1::UnitRef& p : item.parent_chain()) {
    if (!chain.empty()) chain += " › ";
    chain += p.name();
  }
  return chain;
}

std::string OverdueReference(const v1::OverdueItem& item) {
  std::string ref = item.ref_id();
  if (item.position() != 0) {
    absl::StrAppend(&ref, ref.empty() ? "" : " ", "(vị trí ", item.position(),
                    ")");
  }
  return ref;
}

std::string FormatDate(const v1::Date& d) {
  if (d.year() == 0) return "";
  return absl::StrFormat("%02d/%02d/%04d", d.day(), d.month(), d.year());
}

std::string FormatDate(const CivilTime& t) {
  return absl::StrFormat("%02d/%02d/%04d", t.day, t.month, t.year);
}

std::string FormatDateTime(const CivilTime& t) {
  return absl::StrFormat("%02d/%02d/%04d %02d:%02d:%02d", t.day, t.month,
                         t.year, t.hour, t.minute, t.second);
}

std::string FormatMonth(const v1::PeriodRef& p) {
  return absl::StrFormat("%02d/%04d", p.month(), p.year());
}

std::optional<int64_t> PerMille(int64_t num, int64_t den) {
  if (den <= 0 || num < 0) return std::nullopt;
  // Half up, in integers: no floating point, no locale.
  const __int128 n = static_cast<__int128>(num) * 2000 + den;
  return static_cast<int64_t>(n / (static_cast<__int128>(den) * 2));
}

std::string FormatPercent(int64_t num, int64_t den, char decimal) {
  const std::optional<int64_t> pm = PerMille(num, den);
  if (!pm.has_value()) return "";
  return absl::StrCat(*pm / 10, std::string(1, decimal), *pm % 10);
}

std::string GroupThousands(int64_t v) {
  std::string digits = absl::StrCat(v < 0 ? -v : v);
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += '.';
    out += digits[i];
  }
  return v < 0 ? "-" + out : out;
}

CivilTime LocalTime(const google::protobuf::Timestamp& t) {
  const absl::CivilSecond s =
      absl::ToCivilSecond(absl::FromUnixSeconds(t.seconds()), VietnamTime());
  CivilTime out;
  out.year = static_cast<int>(s.year());
  out.month = s.month();
  out.day = s.day();
  out.hour = s.hour();
  out.minute = s.minute();
  out.second = s.second();
  return out;
}

int64_t CreatedUnixSeconds(const v1::SnapshotInfo& info) {
  if (info.created_at().seconds() > 0) return info.created_at().seconds();
  const v1::Date& d = info.date();
  if (d.year() > 1970) {
    return absl::ToUnixSeconds(absl::FromCivil(
        absl::CivilDay(d.year(), d.month(), d.day()), VietnamTime()));
  }
  return 1;  // never 0: libxlsxwriter would use the clock
}

std::string PeriodLabel(const v1::SnapshotInfo& info, int period) {
  const v1::Date& d = info.date();
  switch (period) {
    case 0:
      return absl::StrFormat("Tháng %02d/%04d", d.month(), d.year());
    case 1:
      return absl::StrFormat("Quý %d/%04d", (d.month() + 2) / 3, d.year());
    case 2:
      return absl::StrFormat("6 tháng %s năm %04d",
                             d.month() <= 6 ? "đầu" : "cuối", d.year());
    case 3:
      return absl::StrFormat("Năm %04d", d.year());
    default:
      return info.periods().phase_label().empty()
                 ? std::string("Giai đoạn")
                 : absl::StrCat("Giai đoạn ", info.periods().phase_label());
  }
}

const v1::Rollup& PeriodRollup(const v1::SnapshotUnit& u, int period) {
  switch (period) {
    case 0:
      return u.month();
    case 1:
      return u.quarter();
    case 2:
      return u.half();
    case 3:
      return u.year();
    default:
      return u.phase();
  }
}

int64_t TotalAwards(const v1::Rollup& r) {
  return r.awards_bang_khen() + r.awards_giay_khen() + r.awards_co_thi_dua() +
         r.awards_other();
}

std::string HtmlEscape(absl::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string Ellipsize(absl::string_view s, size_t max_chars) {
  size_t chars = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    if ((static_cast<unsigned char>(s[i]) & 0xC0) == 0x80) continue;
    if (chars == max_chars) return absl::StrCat(s.substr(0, i), "…");
    ++chars;
  }
  return std::string(s);
}

// ---- Files --------------------------------------------------------------

std::string StagingPath(const std::string& path) {
  return absl::StrCat(path, ".tmp");
}

absl::Status RenameInto(const std::string& from, const std::string& to) {
  if (std::rename(from.c_str(), to.c_str()) != 0) {
    const int err = errno;
    std::remove(from.c_str());
    return absl::ErrnoToStatus(
        err,
        absl::StrCat("cannot write ", to, ": renaming ", from, " into place"));
  }
  return absl::OkStatus();
}

OutputFile::~OutputFile() {
  if (file_ != nullptr) {
    std::fclose(file_);
    std::remove(tmp_path_.c_str());
  }
}

absl::Status OutputFile::Open(const std::string& path) {
  path_ = path;
  tmp_path_ = StagingPath(path);
  file_ = std::fopen(tmp_path_.c_str(), "wb");
  if (file_ == nullptr) {
    return absl::ErrnoToStatus(
        errno, absl::StrCat("cannot write ", path, " (creating ", tmp_path_,
                            "); check that the directory exists and that "
                            "this user may write to it"));
  }
  return absl::OkStatus();
}

absl::Status OutputFile::Commit() {
  if (file_ == nullptr) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot write ", path_, ": the file is not open"));
  }
  errno = 0;
  const bool write_error = std::fflush(file_) != 0 || std::ferror(file_);
  int err = write_error ? errno : 0;
  if (std::fclose(file_) != 0 && err == 0) err = errno != 0 ? errno : EIO;
  file_ = nullptr;
  if (write_error || err != 0) {
    std::remove(tmp_path_.c_str());
    return absl::ErrnoToStatus(
        err != 0 ? err : EIO,
        absl::StrCat("cannot write ", path_, " (staged as ", tmp_path_,
                     "); is the disk full?"));
  }
  return RenameInto(tmp_path_, path_);
}

}  // namespace nenep::nightly
