// Tests of the nightly report writers (tools/nightly/report.h) on a small
// hand-made snapshot: a bloc, two đảng bộ, four cells with Vietnamese names
// (one with a comma, one with & and <>, one with quotes), zero denominators,
// overdue items of every kind and two twelve-month trends. The workbook is
// read back with /usr/bin/unzip.

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"
#include "tools/nightly/report.h"

namespace nenep::nightly {
namespace {

using ::nenep::testing::TempDir;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kBom[] = "\xEF\xBB\xBF";

v1::Date MakeDate(int y, int m, int d) {
  v1::Date date;
  date.set_year(y);
  date.set_month(m);
  date.set_day(d);
  return date;
}

void SetRange(v1::DateRange* r, const v1::Date& start, const v1::Date& end) {
  *r->mutable_start() = start;
  *r->mutable_end() = end;
}

// The figures a test sets on a unit's year (and, scaled, other periods).
struct Figures {
  int64_t members, cells;
  int64_t regular_held, regular_active;  // year
  int64_t thematic_held, thematic_active;
  int64_t present, convened;
  int64_t committed;  // members with a commitment
  int64_t plans_on_time, plans_required;
  int64_t hcm;
  int64_t month_held, month_active;
  int64_t phase_held, phase_active;
  int64_t awards;  // bằng khen
};

v1::SnapshotUnit MakeUnit(const std::string& id, const std::string& name,
                          const std::string& parent, int depth, bool is_cell,
                          const Figures& f) {
  v1::SnapshotUnit u;
  u.set_unit_id(id);
  u.set_name(name);
  u.set_parent_id(parent);
  u.set_depth(depth);
  u.set_is_cell(is_cell);
  u.set_kind(is_cell      ? v1::UNIT_KIND_ATTACHED_CELL
             : depth == 0 ? v1::UNIT_KIND_DIRECT_UNDER_CENTRAL
                          : v1::UNIT_KIND_BASE_PARTY_COMMITTEE);
  for (v1::Rollup* r :
       {u.mutable_day(), u.mutable_month(), u.mutable_quarter(),
        u.mutable_half(), u.mutable_year(), u.mutable_phase()}) {
    r->set_members(f.members);
    r->set_cells(f.cells);
  }
  v1::Rollup* y = u.mutable_year();
  y->set_regular_cell_months_held(f.regular_held);
  y->set_regular_cell_months_active(f.regular_active);
  y->set_thematic_cell_quarters_held(f.thematic_held);
  y->set_thematic_cell_quarters_active(f.thematic_active);
  y->set_attendance_present(f.present);
  y->set_attendance_convened(f.convened);
  y->set_members_with_commitment(f.committed);
  y->set_child_plans_on_time(f.plans_on_time);
  y->set_child_plans_required(f.plans_required);
  y->set_sessions_hcm(f.hcm);
  y->set_awards_bang_khen(f.awards);
  y->set_awards_giay_khen(1);
  // The half year and quarter: the same as the year here.
  *u.mutable_half() = *y;
  *u.mutable_quarter() = *y;
  u.mutable_month()->set_regular_cell_months_held(f.month_held);
  u.mutable_month()->set_regular_cell_months_active(f.month_active);
  u.mutable_phase()->set_regular_cell_months_held(f.phase_held);
  u.mutable_phase()->set_regular_cell_months_active(f.phase_active);
  return u;
}

v1::OverdueItem MakeItem(v1::OverdueKind kind, const std::string& id,
                         const std::string& name,
                         std::vector<std::string> chain,
                         const std::string& missing, v1::Date since,
                         const std::string& ref, uint64_t position) {
  v1::OverdueItem item;
  item.set_kind(kind);
  item.set_unit_id(id);
  item.set_unit_name(name);
  for (const std::string& c : chain) item.add_parent_chain()->set_name(c);
  item.set_missing(missing);
  *item.mutable_since() = since;
  item.set_ref_id(ref);
  item.set_position(position);
  return item;
}

constexpr char kBloc[] = "Đảng bộ Khối các cơ quan Trung ương";
constexpr char kTuPhap[] = "Đảng bộ Bộ Tư pháp";
constexpr char kNgoaiGiao[] = "Đảng bộ Bộ Ngoại giao";
constexpr char kDaoTao[] = "Chi bộ Vụ Đào tạo, bồi dưỡng cán bộ";
constexpr char kKhtc[] = "Chi bộ Phòng Kế hoạch & Tài chính <KHTC>";
constexpr char kDoanKet[] = "Chi bộ \"Đoàn kết\" Vụ Lễ tân";
constexpr char kMoi[] = "Chi bộ Vụ Châu Âu (mới thành lập)";

ReportInput MakeInput() {
  ReportInput in;
  v1::SnapshotInfo& info = in.info;
  *info.mutable_date() = MakeDate(2023, 5, 18);
  info.set_position(12345);
  info.mutable_created_at()->set_seconds(1684425900);  // 16:05:00Z
  v1::SnapshotPeriods* p = info.mutable_periods();
  const v1::Date today = MakeDate(2023, 5, 18);
  SetRange(p->mutable_day(), today, today);
  SetRange(p->mutable_month(), MakeDate(2023, 5, 1), today);
  SetRange(p->mutable_quarter(), MakeDate(2023, 4, 1), today);
  SetRange(p->mutable_half(), MakeDate(2023, 1, 1), today);
  SetRange(p->mutable_year(), MakeDate(2023, 1, 1), today);
  SetRange(p->mutable_phase(), MakeDate(2021, 1, 1), today);
  p->set_phase_label("2021-2025");
  *info.mutable_previous_date() = MakeDate(2023, 5, 17);
  info.set_previous_position(12001);

  //                members cells reg     them   attendance  com plans hcm
  //                month   phase    awards
  in.units.push_back(MakeUnit(
      "khoi", kBloc, "", 0, false,
      {120, 4, 21, 30, 4, 8, 900, 1000, 100, 3, 4, 12, 3, 4, 200, 230, 2}));
  in.units.push_back(MakeUnit(
      "db-tp", kTuPhap, "khoi", 1, false,
      {70, 2, 18, 20, 4, 4, 500, 560, 60, 0, 0, 7, 2, 2, 100, 110, 1}));
  in.units.push_back(
      MakeUnit("db-ng", kNgoaiGiao, "khoi", 1, false,
               {50, 2, 3, 10, 0, 4, 400, 440, 40, 3, 4, 5, 1, 2, 40, 60, 0}));
  in.units.push_back(
      MakeUnit("cb-dt", kDaoTao, "db-tp", 2, true,
               {35, 1, 10, 10, 2, 2, 250, 280, 30, 0, 0, 4, 1, 1, 50, 55, 0}));
  in.units.push_back(
      MakeUnit("cb-kh", kKhtc, "db-tp", 2, true,
               {35, 1, 8, 10, 2, 2, 250, 280, 30, 0, 0, 3, 1, 1, 50, 55, 0}));
  in.units.push_back(
      MakeUnit("cb-dk", kDoanKet, "db-ng", 2, true,
               {45, 1, 3, 10, 0, 4, 150, 160, 40, 0, 0, 5, 1, 1, 40, 60, 0}));
  // New: no cell-month yet, nothing convened; 0 of 5 members committed.
  in.units.push_back(
      MakeUnit("cb-moi", kMoi, "db-ng", 2, true,
               {5, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}));

  in.overdue.push_back(MakeItem(
      v1::OVERDUE_NO_REGULAR_SESSION, "cb-dk", kDoanKet, {kNgoaiGiao, kBloc},
      "Sinh hoạt thường kỳ tháng 4/2023", MakeDate(2023, 4, 1), "", 0));
  in.overdue.push_back(MakeItem(
      v1::OVERDUE_NO_REGULAR_SESSION, "cb-kh", kKhtc, {kTuPhap, kBloc},
      "Sinh hoạt thường kỳ tháng 4/2023", MakeDate(2023, 4, 1), "", 0));
  in.overdue.push_back(MakeItem(
      v1::OVERDUE_NO_THEMATIC_SESSION, "cb-dk", kDoanKet, {kNgoaiGiao, kBloc},
      "Sinh hoạt chuyên đề quý 1/2023", MakeDate(2023, 1, 1), "", 0));
  in.overdue.push_back(MakeItem(v1::OVERDUE_CHILD_PLAN, "db-ng", kNgoaiGiao,
                                {kBloc},
                                "Kế hoạch thực hiện 35-KH/ĐU, hạn 30/04/2023",
                                MakeDate(2023, 4, 30), "35-KH/ĐU", 0));
  in.overdue.push_back(MakeItem(v1::OVERDUE_COMMITMENT_NOT_EVALUATED, "cb-dt",
                                kDaoTao, {kTuPhap, kBloc},
                                "Bản đăng ký 'làm theo' năm 2022 chưa đánh giá",
                                MakeDate(2023, 1, 1), "cam-ket-7", 0));
  in.overdue.push_back(MakeItem(v1::OVERDUE_CHANGED_AFTER_SNAPSHOT, "cb-kh",
                                kKhtc, {kTuPhap, kBloc},
                                "Sửa số đảng viên dự họp, \"tháng 5\"",
                                MakeDate(2023, 5, 12), "ev-9", 12100));

  // Two trends, June 2022 to May 2023; the tax office had no thematic
  // quarter in its first month (a gap, not a zero).
  for (const char* name : {kBloc, kTuPhap}) {
    v1::Trend* t = info.add_trends();
    t->set_unit_id(name == kBloc ? "khoi" : "db-tp");
    t->set_name(name);
    for (int i = 0; i < 12; ++i) {
      v1::MonthFigures* m = t->add_months();
      m->mutable_month()->set_year(i < 7 ? 2022 : 2023);
      m->mutable_month()->set_month((i + 5) % 12 + 1);
      v1::Rollup* r = m->mutable_rollup();
      r->set_regular_cell_months_held(2 + (i % 3));
      r->set_regular_cell_months_active(4);
      r->set_thematic_cell_quarters_held(i % 4);
      r->set_thematic_cell_quarters_active(i == 0 ? 0 : 4);
      r->set_attendance_present(80 + i);
      r->set_attendance_convened(100);
    }
  }
  return in;
}

std::string ReadFile(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), {});
}

// The output of a shell command (stdout).
std::string RunCommand(const std::string& command) {
  std::string out;
  FILE* p = popen(command.c_str(), "r");
  if (p == nullptr) return out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), p)) > 0) out.append(buf, n);
  pclose(p);
  return out;
}

// One member of a zip file.
std::string Unzip(const std::string& zip, const std::string& member) {
  return RunCommand(
      absl::StrCat("/usr/bin/unzip -p '", zip, "' '", member, "' 2>/dev/null"));
}

// The <row r="N">...</row> element of a sheet.
std::string SheetRow(const std::string& sheet_xml, int row) {
  const std::string open = absl::StrCat("<row r=\"", row, "\"");
  const size_t start = sheet_xml.find(open);
  if (start == std::string::npos) return "";
  const size_t end = sheet_xml.find("</row>", start);
  return sheet_xml.substr(start, end - start);
}

// The index (s="N" of a cell) of the first cell style whose number format
// is `code`, or -1.
int StyleIndex(const std::string& styles_xml, const std::string& code) {
  std::smatch m;
  if (!std::regex_search(
          styles_xml, m,
          std::regex(absl::StrCat("<numFmt numFmtId=\"([0-9]+)\" "
                                  "formatCode=\"",
                                  code, "\"/>")))) {
    return -1;
  }
  const std::string id = m[1];
  const size_t xfs = styles_xml.find("<cellXfs");
  const size_t end = styles_xml.find("</cellXfs>", xfs);
  if (xfs == std::string::npos || end == std::string::npos) return -1;
  int index = 0;
  for (size_t at = styles_xml.find("<xf ", xfs); at < end;
       at = styles_xml.find("<xf ", at + 1), ++index) {
    const size_t close = styles_xml.find('>', at);
    if (styles_xml.substr(at, close - at)
            .find(absl::StrCat("numFmtId=\"", id, "\"")) != std::string::npos) {
      return index;
    }
  }
  return -1;
}

class NightlyReportTest : public ::testing::Test {
 protected:
  ReportInput in_ = MakeInput();
  TempDir dir_;
};

// ---- xlsx ------------------------------------------------------------------

TEST_F(NightlyReportTest, XlsxHasSheetsNamesNumbersAndFormats) {
  const std::string path = dir_.Sub("report.xlsx");
  NENEP_ASSERT_OK(WriteXlsx(in_, path));

  const std::string workbook = Unzip(path, "xl/workbook.xml");
  for (const char* sheet :
       {"Tổng hợp", "Khối", "Đảng bộ", "Chi bộ", "Chưa SH thường kỳ",
        "Chưa SH chuyên đề", "Chưa ban hành KH", "Cam kết chưa đánh giá",
        "Thay đổi sau báo cáo"}) {
    EXPECT_THAT(workbook, HasSubstr(absl::StrCat("name=\"", sheet, "\"")));
  }
  EXPECT_LT(workbook.find("Tổng hợp"), workbook.find("name=\"Khối\""));
  EXPECT_LT(workbook.find("name=\"Chi bộ\""), workbook.find("Chưa SH"));

  // Strings are written inline (constant-memory mode), so the names are in
  // the sheets themselves; a shared string table, if any, counts too.
  const std::string shared = Unzip(path, "xl/sharedStrings.xml");
  const std::string khoi = Unzip(path, "xl/worksheets/sheet2.xml") + shared;
  const std::string dang_bo = Unzip(path, "xl/worksheets/sheet3.xml") + shared;
  const std::string chi_bo = Unzip(path, "xl/worksheets/sheet4.xml") + shared;
  ASSERT_THAT(khoi, HasSubstr("<sheetData>"));
  EXPECT_THAT(khoi, HasSubstr(kBloc));
  EXPECT_THAT(khoi, HasSubstr("Tỷ lệ SH thường kỳ năm (%)"));
  EXPECT_THAT(dang_bo, HasSubstr(kTuPhap));
  EXPECT_THAT(dang_bo, HasSubstr(kNgoaiGiao));
  EXPECT_THAT(chi_bo, HasSubstr(kDaoTao));
  EXPECT_THAT(chi_bo,
              HasSubstr("Chi bộ Phòng Kế hoạch &amp; Tài chính &lt;KHTC&gt;"));
  EXPECT_THAT(chi_bo, HasSubstr("Vụ Lễ tân"));
  EXPECT_THAT(chi_bo, HasSubstr(kMoi));

  // Number formats: 0.0 % for rates, dd/mm/yyyy for dates, thousands for
  // counts.
  const std::string styles = Unzip(path, "xl/styles.xml");
  const int rate = StyleIndex(styles, "0.0%");
  const int date = StyleIndex(styles, "dd/mm/yyyy");
  const int count = StyleIndex(styles, "#,##0");
  ASSERT_GT(rate, 0) << styles;
  ASSERT_GT(date, 0) << styles;
  ASSERT_GT(count, 0) << styles;
  auto cell = [](const char* ref, int style, const char* value) {
    return absl::StrCat("<c r=\"", ref, "\" s=\"", style, "\"><v>", value,
                        "</v></c>");
  };

  // Khối, row 2: 120 members, 21/30 = 0.7 regular, 900/1000 attendance,
  // 2 + 1 awards; the parent column is empty.
  const std::string bloc_row = SheetRow(khoi, 2);
  EXPECT_THAT(bloc_row, HasSubstr("<v>120</v>"));
  EXPECT_THAT(bloc_row, HasSubstr(cell("H2", rate, "0.7")));
  EXPECT_THAT(bloc_row, HasSubstr(cell("K2", rate, "0.9")));
  EXPECT_THAT(bloc_row, HasSubstr(cell("O2", count, "3")));
  EXPECT_THAT(bloc_row, Not(HasSubstr("r=\"C2\"")));

  // Chi bộ: the cell "Đoàn kết" (row 4) at 3/10 regular, 150/160 = 0.9375
  // attendance; the new cell (row 5) has members but no rate at all where
  // the denominator is zero, and 0 % (a real zero) registered.
  const std::string doan_ket = SheetRow(chi_bo, 4);
  EXPECT_THAT(doan_ket, HasSubstr(cell("H4", rate, "0.3")));
  EXPECT_THAT(doan_ket, HasSubstr(cell("K4", rate, "0.9375")));
  const std::string moi = SheetRow(chi_bo, 5);
  ASSERT_THAT(moi, HasSubstr(kMoi));
  EXPECT_THAT(moi, HasSubstr(cell("D5", count, "5")));
  for (const char* col : {"H5", "I5", "J5", "K5", "N5"}) {
    EXPECT_THAT(moi, Not(HasSubstr(absl::StrCat("r=\"", col, "\""))))
        << col << " should be empty (zero denominator)";
  }
  EXPECT_THAT(moi, HasSubstr(cell("M5", rate, "0")));

  // Frozen header, filter over the whole table (4 cells, 15 columns).
  EXPECT_TRUE(
      std::regex_search(chi_bo, std::regex("<pane [^>]*state=\"frozen\"")));
  EXPECT_THAT(chi_bo, HasSubstr("<autoFilter ref=\"A1:O5\"/>"));

  // Summary: the date as a real Excel date (18/05/2023 = 45064), the
  // position, the created time 23:05 in Vietnam.
  const std::string summary = Unzip(path, "xl/worksheets/sheet1.xml");
  EXPECT_THAT(SheetRow(summary, 2), HasSubstr(cell("F2", date, "45064")));
  EXPECT_THAT(SheetRow(summary, 3), HasSubstr("<v>12345</v>"));
  EXPECT_THAT(SheetRow(summary, 4), HasSubstr("<v>45064.961805555"));

  // Overdue: the parent chain, the date since.
  const std::string plans = Unzip(path, "xl/worksheets/sheet7.xml");
  EXPECT_THAT(plans, HasSubstr("35-KH/ĐU"));
  EXPECT_THAT(plans, HasSubstr(cell("E2", date, "45046")));  // 30/04/2023
  const std::string regular = Unzip(path, "xl/worksheets/sheet5.xml");
  EXPECT_THAT(regular, HasSubstr(absl::StrCat(kNgoaiGiao, " › ", kBloc)));
  EXPECT_THAT(regular, HasSubstr("<autoFilter ref=\"A1:F3\"/>"));

  // Document properties from the snapshot, not the clock.
  EXPECT_THAT(Unzip(path, "docProps/core.xml"),
              HasSubstr("<dcterms:created xsi:type=\"dcterms:W3CDTF\">"
                        "2023-05-18T16:05:00Z</dcterms:created>"));
}

TEST_F(NightlyReportTest, XlsxIsByteIdenticalAndZipTimesAreFixed) {
  const std::string a = dir_.Sub("a.xlsx");
  const std::string b = dir_.Sub("b.xlsx");
  NENEP_ASSERT_OK(WriteXlsx(in_, a));
  NENEP_ASSERT_OK(WriteXlsx(in_, b));
  const std::string bytes = ReadFile(a);
  ASSERT_GT(bytes.size(), 1000u);
  EXPECT_TRUE(bytes == ReadFile(b)) << "the two workbooks differ";
  EXPECT_FALSE(std::filesystem::exists(a + ".tmp"));

  // Every zip entry is stamped 1980-01-01 00:00, not with the clock (so
  // equality above is no accident of timing).
  const std::string listing =
      RunCommand(absl::StrCat("/usr/bin/unzip -Z -T '", a, "'"));
  int entries = 0;
  for (absl::string_view line : absl::StrSplit(listing, '\n')) {
    if (!absl::StartsWith(line, "-")) continue;
    ++entries;
    EXPECT_THAT(std::string(line), HasSubstr(" 19800101.000000 "));
  }
  EXPECT_GE(entries, 10);
}

TEST_F(NightlyReportTest, XlsxWithoutCreatedTimeIsStillDeterministic) {
  in_.info.clear_created_at();
  const std::string path = dir_.Sub("r.xlsx");
  NENEP_ASSERT_OK(WriteXlsx(in_, path));
  // The snapshot's date at 00:00 in Vietnam.
  EXPECT_THAT(Unzip(path, "docProps/core.xml"),
              HasSubstr(">2023-05-17T17:00:00Z</dcterms:created>"));
}

// ---- CSV -------------------------------------------------------------------

TEST_F(NightlyReportTest, CsvFilesHaveBomCrlfQuotingAndFigures) {
  std::vector<std::string> files;
  NENEP_ASSERT_OK(WriteCsvs(in_, dir_.path(), &files));
  EXPECT_THAT(
      files,
      ElementsAre("tong_hop.csv", "khoi.csv", "dang_bo.csv", "chi_bo.csv",
                  "qua_han_sinh_hoat_thuong_ky.csv",
                  "qua_han_sinh_hoat_chuyen_de.csv", "qua_han_ke_hoach.csv",
                  "cam_ket_chua_danh_gia.csv", "thay_doi_sau_bao_cao.csv"));
  for (const std::string& f : files) {
    const std::string text = ReadFile(dir_.Sub(f));
    EXPECT_TRUE(absl::StartsWith(text, kBom)) << f;
    EXPECT_TRUE(absl::EndsWith(text, "\r\n")) << f;
    // No bare LF: every line ends CRLF.
    size_t lf = 0, crlf = 0;
    for (size_t i = 0; i < text.size(); ++i) {
      if (text[i] != '\n') continue;
      ++lf;
      if (i > 0 && text[i - 1] == '\r') ++crlf;
    }
    EXPECT_EQ(lf, crlf) << f;
  }

  const std::string header =
      "Mã,Tên,Cấp trên,Đảng viên,Chi bộ,SH thường kỳ tháng: đã họp,"
      "SH thường kỳ tháng: phải họp,Tỷ lệ SH thường kỳ năm (%),"
      "Tỷ lệ SH thường kỳ giai đoạn (%),Tỷ lệ SH chuyên đề năm (%),"
      "Tỷ lệ dự họp năm (%),Buổi SH có nội dung HCM năm,"
      "Tỷ lệ đăng ký làm theo năm (%),KH cấp dưới đúng hạn năm (%),"
      "Khen thưởng năm\r\n";
  EXPECT_EQ(ReadFile(dir_.Sub("chi_bo.csv")),
            absl::StrCat(
                kBom, header,
                "cb-dt,\"Chi bộ Vụ Đào tạo, bồi dưỡng cán bộ\",Đảng bộ Bộ Tư "
                "pháp,35,1,1,1,100.0,90.9,100.0,89.3,4,85.7,,1\r\n",
                "cb-kh,Chi bộ Phòng Kế hoạch & Tài chính <KHTC>,Đảng bộ Bộ Tư "
                "pháp,35,1,1,1,80.0,90.9,100.0,89.3,3,85.7,,1\r\n",
                "cb-dk,\"Chi bộ \"\"Đoàn kết\"\" Vụ Lễ tân\",Đảng bộ Bộ Ngoại "
                "giao,45,1,1,1,30.0,66.7,0.0,93.8,5,88.9,,1\r\n",
                "cb-moi,Chi bộ Vụ Châu Âu (mới thành lập),Đảng bộ Bộ Ngoại "
                "giao,5,1,0,0,,,,,0,0.0,,1\r\n"));
  EXPECT_EQ(ReadFile(dir_.Sub("khoi.csv")),
            absl::StrCat(kBom, header,
                         "khoi,Đảng bộ Khối các cơ quan Trung ương,,120,4,3,4,"
                         "70.0,87.0,50.0,90.0,12,83.3,75.0,3\r\n"));

  const std::string summary = ReadFile(dir_.Sub("tong_hop.csv"));
  EXPECT_TRUE(absl::StartsWith(
      summary, absl::StrCat(kBom,
                            "Chỉ tiêu,Đơn vị,Kỳ,Từ ngày,Đến ngày,Giá trị,"
                            "Tỷ lệ (%),Tử số,Mẫu số\r\n"
                            "Ngày báo cáo,,,,,18/05/2023,,,\r\n")));
  EXPECT_THAT(summary, HasSubstr("\r\nVị trí nhật ký (số liệu tính đến sự "
                                 "kiện này),,,,,12345,,,\r\n"));
  EXPECT_THAT(summary, HasSubstr("\r\nThời điểm lập (giờ Việt Nam),,,,,"
                                 "18/05/2023 23:05:00,,,\r\n"));
  EXPECT_THAT(summary, HasSubstr("\r\nSố chi bộ,,,,,4,,,\r\n"));
  EXPECT_THAT(summary,
              HasSubstr("\r\nTỷ lệ sinh hoạt thường kỳ,Đảng bộ Khối các cơ "
                        "quan Trung ương,Năm 2023,01/01/2023,18/05/2023,,"
                        "70.0,21,30\r\n"));
  EXPECT_THAT(summary,
              HasSubstr("\r\nTỷ lệ sinh hoạt thường kỳ,Đảng bộ Khối các cơ "
                        "quan Trung ương,Giai đoạn 2021-2025,01/01/2021,"
                        "18/05/2023,,87.0,200,230\r\n"));
  EXPECT_THAT(summary, HasSubstr("\r\nQuá hạn: Chi bộ chưa sinh hoạt thường "
                                 "kỳ tháng trước,,,,,2,,,\r\n"));

  EXPECT_EQ(ReadFile(dir_.Sub("qua_han_ke_hoach.csv")),
            absl::StrCat(kBom,
                         "Đơn vị,Mã,Trực thuộc,Nội dung,Từ ngày,Tham chiếu\r\n"
                         "Đảng bộ Bộ Ngoại giao,db-ng,Đảng bộ Khối các cơ quan "
                         "Trung ương,\"Kế hoạch thực hiện 35-KH/ĐU, hạn "
                         "30/04/2023\",30/04/2023,35-KH/ĐU\r\n"));
  EXPECT_EQ(ReadFile(dir_.Sub("thay_doi_sau_bao_cao.csv")),
            absl::StrCat(kBom,
                         "Đơn vị,Mã,Trực thuộc,Nội dung,Từ ngày,Tham chiếu\r\n"
                         "Chi bộ Phòng Kế hoạch & Tài chính <KHTC>,cb-kh,"
                         "Đảng bộ Bộ Tư pháp › Đảng bộ Khối các cơ quan Trung "
                         "ương,\"Sửa số đảng viên dự họp, \"\"tháng 5\"\"\","
                         "12/05/2023,ev-9 (vị trí 12100)\r\n"));
}

TEST_F(NightlyReportTest, CsvQuotesLineBreaks) {
  in_.units[3].set_name("Chi bộ\r\nhai dòng");
  std::vector<std::string> files;
  NENEP_ASSERT_OK(WriteCsvs(in_, dir_.path(), &files));
  EXPECT_THAT(ReadFile(dir_.Sub("chi_bo.csv")),
              HasSubstr("\r\ncb-dt,\"Chi bộ\r\nhai dòng\",Đảng bộ"));
}

// ---- HTML ------------------------------------------------------------------

TEST_F(NightlyReportTest, HtmlIsSelfContainedEscapedAndHasCharts) {
  const std::string path = dir_.Sub("report.html");
  NENEP_ASSERT_OK(WriteHtml(in_, path));
  const std::string html = ReadFile(path);

  EXPECT_TRUE(absl::StartsWith(html, "<!DOCTYPE html>\n<html lang=\"vi\">"));
  EXPECT_THAT(html, HasSubstr("<meta charset=\"utf-8\">"));
  EXPECT_THAT(html, HasSubstr("<title>Báo cáo ngày 18/05/2023 (vị trí "
                              "12345)</title>"));
  EXPECT_THAT(html, HasSubstr("@media print"));

  // Every name escaped; none raw.
  EXPECT_THAT(html, HasSubstr("Chi bộ Phòng Kế hoạch &amp; Tài chính "
                              "&lt;KHTC&gt;"));
  EXPECT_THAT(html, HasSubstr("Chi bộ &quot;Đoàn kết&quot; Vụ Lễ tân"));
  EXPECT_THAT(html, HasSubstr("Bản đăng ký &#39;làm theo&#39; năm 2022"));
  EXPECT_THAT(html, Not(HasSubstr("<KHTC>")));
  EXPECT_THAT(html, Not(HasSubstr("\"Đoàn kết\"")));
  EXPECT_THAT(html, HasSubstr(kDaoTao));

  // No script and no network resource. The SVG namespace is the one URL
  // allowed, as an attribute value only.
  std::string stripped = absl::StrReplaceAll(
      html, {{"xmlns=\"http://www.w3.org/2000/svg\"", "xmlns=\"\""}});
  const std::regex network(
      "http:|https:|//|<script|<link|url\\(|@import|<iframe|<img|<object|"
      "<embed|src=|href=",
      std::regex::icase);
  std::smatch m;
  EXPECT_FALSE(std::regex_search(stripped, m, network))
      << "found \"" << m.str() << "\" at "
      << stripped.substr(std::max<long>(0, m.position() - 60), 120);

  // Cards: the bloc's figures, Vietnamese number conventions.
  EXPECT_THAT(html, HasSubstr("<dt>Tỷ lệ SH thường kỳ năm</dt><dd>70,0% "
                              "(21/30)</dd>"));
  EXPECT_THAT(html, HasSubstr("<dt>Tỷ lệ dự họp năm</dt><dd>90,0%</dd>"));

  // Bar chart: lowest first, with labels and a 0–100 % axis.
  const size_t chart = html.find("<svg");
  ASSERT_NE(chart, std::string::npos);
  const std::string bars =
      html.substr(chart, html.find("</svg>", chart) - chart);
  EXPECT_THAT(bars, HasSubstr(">100%</text>"));
  EXPECT_THAT(bars, HasSubstr(">0%</text>"));
  EXPECT_THAT(bars, HasSubstr(">30,0%</text>"));
  EXPECT_THAT(bars, HasSubstr(">90,0%</text>"));
  ASSERT_NE(bars.find(kNgoaiGiao), std::string::npos);
  EXPECT_LT(bars.find(kNgoaiGiao), bars.find(kTuPhap));
  EXPECT_THAT(bars, Not(HasSubstr("Chi bộ")));  // đảng bộ only

  // Trend lines: a chart per trend, twelve month labels, legend, and a gap
  // where the first month has no thematic quarter.
  int svgs = 0;
  for (size_t at = 0; (at = html.find("<svg", at)) != std::string::npos; ++at) {
    ++svgs;
  }
  EXPECT_EQ(svgs, 3);
  EXPECT_THAT(html, HasSubstr(">06/2022</text>"));
  EXPECT_THAT(html, HasSubstr(">05/2023</text>"));
  EXPECT_THAT(html, HasSubstr(">Tỷ lệ SH chuyên đề</text>"));
  EXPECT_THAT(html, HasSubstr(">Tỷ lệ dự họp</text>"));
  EXPECT_THAT(html, HasSubstr("stroke-dasharray"));
  EXPECT_THAT(html, HasSubstr("<title>Tỷ lệ SH chuyên đề 07/2022: 25,0% "
                              "(1/4)</title>"));
  EXPECT_THAT(html, Not(HasSubstr("Tỷ lệ SH chuyên đề 06/2022")));

  // The lowest cells: "Đoàn kết" (30 %) before Kế hoạch (80 %) before Đào
  // tạo (100 %); the new cell (no rate) is not listed.
  const size_t cells = html.find("chi bộ có tỷ lệ sinh hoạt thường kỳ năm");
  ASSERT_NE(cells, std::string::npos);
  const std::string cell_table =
      html.substr(cells, html.find("</table>", cells) - cells);
  const size_t dk = cell_table.find("Đoàn kết");
  const size_t kh = cell_table.find("Kế hoạch");
  const size_t dt = cell_table.find("Đào tạo");
  ASSERT_NE(dk, std::string::npos);
  ASSERT_NE(dt, std::string::npos);
  EXPECT_LT(dk, kh);
  EXPECT_LT(kh, dt);
  EXPECT_THAT(cell_table, Not(HasSubstr("Châu Âu")));
  EXPECT_THAT(cell_table, HasSubstr(absl::StrCat(kTuPhap, " › ", kBloc)));

  // Overdue lists with their counts.
  EXPECT_THAT(html, HasSubstr("<h3>Chi bộ chưa sinh hoạt thường kỳ tháng "
                              "trước (2)</h3>"));
  EXPECT_THAT(html, HasSubstr("<td>35-KH/ĐU</td>"));
  EXPECT_THAT(html, HasSubstr("<td class=\"n\">30/04/2023</td>"));
}

TEST_F(NightlyReportTest, HtmlCapsLongOverdueLists) {
  for (int i = 0; i < 203; ++i) {
    in_.overdue.push_back(
        MakeItem(v1::OVERDUE_NO_REGULAR_SESSION, absl::StrCat("cb-x", i),
                 absl::StrCat("Chi bộ số ", i), {kBloc}, "Sinh hoạt thường kỳ",
                 MakeDate(2023, 4, 1), "", 0));
  }
  const std::string path = dir_.Sub("report.html");
  NENEP_ASSERT_OK(WriteHtml(in_, path));
  const std::string html = ReadFile(path);
  EXPECT_THAT(html, HasSubstr("(205)</h3>"));
  EXPECT_THAT(html, HasSubstr("<p class=\"note\">... và 5 mục khác, xem tệp "
                              "CSV qua_han_sinh_hoat_thuong_ky.csv</p>"));
  EXPECT_THAT(html, HasSubstr(">Chi bộ số 197</td>"));
  EXPECT_THAT(html, Not(HasSubstr(">Chi bộ số 198</td>")));
}

// ---- All three -------------------------------------------------------------

TEST_F(NightlyReportTest, SameInputGivesByteIdenticalFiles) {
  for (const char* sub : {"a", "b"}) {
    const std::string d = dir_.Sub(sub);
    std::filesystem::create_directory(d);
    NENEP_ASSERT_OK(WriteXlsx(in_, d + "/report.xlsx"));
    std::vector<std::string> files;
    NENEP_ASSERT_OK(WriteCsvs(in_, d, &files));
    NENEP_ASSERT_OK(WriteHtml(in_, d + "/report.html"));
  }
  int compared = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir_.Sub("a"))) {
    const std::string name = entry.path().filename().string();
    const std::string a = ReadFile(entry.path().string());
    EXPECT_FALSE(a.empty()) << name;
    EXPECT_TRUE(a == ReadFile(dir_.Sub("b/" + name))) << name << " differs";
    ++compared;
  }
  EXPECT_EQ(compared, 11);  // xlsx, html and 9 CSV files; no temporary left
}

TEST_F(NightlyReportTest, UnwritablePathIsAnErrorNamingIt) {
  // A regular file where a directory should be: fails even for root.
  const std::string blocker = dir_.Sub("not-a-dir");
  std::ofstream(blocker) << "x";
  const std::string xlsx = blocker + "/report.xlsx";
  const std::string html = blocker + "/report.html";

  const absl::Status x = WriteXlsx(in_, xlsx);
  EXPECT_FALSE(x.ok());
  EXPECT_THAT(std::string(x.message()), HasSubstr(xlsx));

  const absl::Status h = WriteHtml(in_, html);
  EXPECT_FALSE(h.ok());
  EXPECT_THAT(std::string(h.message()), HasSubstr(html));

  std::vector<std::string> files;
  const absl::Status c = WriteCsvs(in_, blocker, &files);
  EXPECT_FALSE(c.ok());
  EXPECT_THAT(std::string(c.message()), HasSubstr(blocker + "/tong_hop.csv"));
  EXPECT_TRUE(files.empty());
}

// ---- Scale (run with --gtest_also_run_disabled_tests) ----------------------

// A national-scale snapshot: 250,000 cells. Prints the time of each writer.
TEST(NightlyReportScaleTest, DISABLED_NationalScale) {
  ReportInput in = MakeInput();
  in.units.resize(1);
  const Figures f{30, 1, 4, 5, 1, 2, 100, 120, 25, 0, 0, 2, 1, 1, 40, 41, 1};
  for (int b = 0; b < 60; ++b) {
    in.units.push_back(MakeUnit(absl::StrCat("db-", b),
                                absl::StrCat("Đảng bộ tỉnh số ", b), "khoi", 1,
                                false, f));
  }
  for (int i = 0; i < 250000; ++i) {
    Figures c = f;
    c.regular_held = i % 6;
    in.units.push_back(
        MakeUnit(absl::StrCat("cb-", i),
                 absl::StrCat("Chi bộ Vụ Đào tạo, bồi dưỡng cán bộ số ", i),
                 absl::StrCat("db-", i % 60), 2, true, c));
  }
  TempDir dir;
  auto time = [](const char* what, auto fn) {
    const auto start = std::chrono::steady_clock::now();
    NENEP_EXPECT_OK(fn());
    const std::chrono::duration<double> s =
        std::chrono::steady_clock::now() - start;
    std::printf("%s: %.2f s\n", what, s.count());
  };
  time("xlsx", [&] { return WriteXlsx(in, dir.Sub("report.xlsx")); });
  time("csv", [&] {
    std::vector<std::string> files;
    return WriteCsvs(in, dir.path(), &files);
  });
  time("html", [&] { return WriteHtml(in, dir.Sub("report.html")); });
  std::printf("xlsx size: %ju bytes\n",
              static_cast<uintmax_t>(
                  std::filesystem::file_size(dir.Sub("report.xlsx"))));
}

// Writes the three formats of a sample snapshot (the test input and 24 more
// đảng bộ) into $NENEP_REPORT_SAMPLE_DIR, to look at them, e.g. with
// tools/nightly/screenshot.sh.
TEST(NightlyReportSampleTest, DISABLED_WriteSample) {
  const char* dir = std::getenv("NENEP_REPORT_SAMPLE_DIR");
  if (dir == nullptr || *dir == '\0') {
    GTEST_SKIP() << "set NENEP_REPORT_SAMPLE_DIR";
  }
  ReportInput in = MakeInput();
  const char* const kProvinces[] = {
      "Hà Nội",     "Hải Phòng", "Đà Nẵng",   "Thừa Thiên Huế",    "Cần Thơ",
      "Quảng Ninh", "Nghệ An",   "Thanh Hóa", "Bà Rịa - Vũng Tàu", "Lâm Đồng",
      "Đắk Lắk",    "Kiên Giang"};
  for (int i = 0; i < 24; ++i) {
    Figures f{200,         8,          60 + (i * 37) % 41,
              100,         10 + i % 7, 24,
              800 + i * 7, 1000,       150,
              i % 5,       5,          20,
              6,           8,          400,
              480,         i % 4};
    in.units.push_back(MakeUnit(
        absl::StrCat("db-x", i),
        absl::StrCat(i % 2 == 0 ? "Đảng bộ Cục Thi hành án dân sự tỉnh "
                                : "Đảng bộ Sở Tư pháp ",
                     kProvinces[i % 12]),
        "khoi", 1, false, f));
  }
  NENEP_ASSERT_OK(WriteXlsx(in, absl::StrCat(dir, "/report.xlsx")));
  std::vector<std::string> files;
  NENEP_ASSERT_OK(WriteCsvs(in, dir, &files));
  NENEP_ASSERT_OK(WriteHtml(in, absl::StrCat(dir, "/report.html")));
}

}  // namespace
}  // namespace nenep::nightly
