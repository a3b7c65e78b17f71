// File: tools/nightly/report_tables.h
//
// The tables of a nightly report, shared by the three writers (report.h):
// their columns, their rows (computed from a ReportInput) and the
// locale-free formatting of their values. The workbook has a sheet per
// table, the CSV output a file per table, and the HTML page draws on the
// same figures.
//
// Rates are always numerator / denominator of the Rollup counts (never an
// average of rates); a zero denominator gives no value (an empty cell), not
// 0 %.
#pragma once

#include <cstdint>
#include <cstdio>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "tools/nightly/report.h"

namespace nenep::nightly {

// A local (Asia/Ho_Chi_Minh) calendar date and time of day.
struct CivilTime {
  int year = 0;
  int month = 0;
  int day = 0;
  int hour = 0;
  int minute = 0;
  int second = 0;
};

// One value of a table row. Which fields count depends on `kind`.
struct Cell {
  enum class Kind { kEmpty, kText, kInteger, kRate, kDate, kDateTime };
  Kind kind = Kind::kEmpty;
  std::string text;         // kText
  int64_t number = 0;       // kInteger; the numerator of a kRate
  int64_t denominator = 0;  // kRate (> 0)
  CivilTime time;           // kDate, kDateTime

  void SetEmpty() { kind = Kind::kEmpty; }
  void SetText(absl::string_view s) {
    kind = Kind::kText;
    text.assign(s.data(), s.size());
  }
  void SetInteger(int64_t v) {
    kind = Kind::kInteger;
    number = v;
  }
  // Empty if den <= 0 or num < 0.
  void SetRate(int64_t num, int64_t den);
  // Empty if the date is unset (year 0).
  void SetDate(const v1::Date& d);
  void SetDateTime(const CivilTime& t) {
    kind = Kind::kDateTime;
    time = t;
  }
};

struct Column {
  std::string header;  // Vietnamese; "(%)" for a rate column
  double width;        // in the workbook, in characters
};

// A table: a sheet of the workbook, a CSV file. Rows are produced one at a
// time so that a national-scale table (250,000 cells) is never held twice.
struct Table {
  std::string sheet;     // workbook sheet name, at most 31 characters
  std::string csv_file;  // CSV file name
  std::vector<Column> columns;
  int freeze_columns = 0;  // columns kept in view besides the header row
  size_t rows = 0;
  // Fills `*cells` (resized to columns.size()) with row `row` (< rows).
  std::function<void(size_t row, std::vector<Cell>* cells)> fill;
};

// The report's level of a unit (report.h).
enum class Level { kTop, kBranch, kCell };
Level LevelOf(const v1::SnapshotUnit& u);

// The overdue lists, OverdueKind 1..5.
struct OverdueList {
  v1::OverdueKind kind;
  const char* sheet;     // "Chưa SH thường kỳ"
  const char* csv_file;  // "qua_han_sinh_hoat_thuong_ky.csv"
  const char* title;     // a heading for people
};
const std::vector<OverdueList>& OverdueLists();

// The input with its indexes, and the report's tables in a fixed order:
// Tổng hợp, Khối, Đảng bộ, Chi bộ, then the overdue lists. Keeps a
// reference to `in`, which must outlive it.
class ReportTables {
 public:
  explicit ReportTables(const ReportInput& in);
  ReportTables(const ReportTables&) = delete;
  ReportTables& operator=(const ReportTables&) = delete;

  const ReportInput& input() const { return in_; }
  const std::vector<Table>& tables() const { return tables_; }

  // Indexes into input().units of each level, in tree order.
  const std::vector<size_t>& units_of(Level level) const {
    return levels_[static_cast<int>(level)];
  }
  // Indexes into input().overdue of a list, in input order.
  const std::vector<size_t>& overdue_of(v1::OverdueKind kind) const;
  // The parent's name ("" for a top unit or an unknown parent).
  absl::string_view ParentName(const v1::SnapshotUnit& u) const;
  // The names of the parent, its parent ... up to the top unit, joined with
  // " › ".
  std::string ParentChain(const v1::SnapshotUnit& u) const;

 private:
  void AddSummary();
  void AddUnitTable(Level level, const char* sheet, const char* csv_file);
  void AddOverdueTable(const OverdueList& list);

  const ReportInput& in_;
  absl::flat_hash_map<absl::string_view, size_t> by_id_;
  std::vector<size_t> levels_[3];
  std::vector<size_t> overdue_[6];  // by OverdueKind; 0 unused
  std::vector<std::vector<Cell>> summary_;
  std::vector<Table> tables_;
};

// ---- Formatting, all locale-free --------------------------------------

// An overdue item's parent chain, parent first, joined with " › ".
std::string OverdueChain(const v1::OverdueItem& item);
// Its plan, commitment or event and log position: "KH-12 (vị trí 345)".
std::string OverdueReference(const v1::OverdueItem& item);

// "dd/mm/yyyy"; "" for an unset date.
std::string FormatDate(const v1::Date& d);
std::string FormatDate(const CivilTime& t);
// "dd/mm/yyyy hh:mm:ss".
std::string FormatDateTime(const CivilTime& t);
// "MM/yyyy" of a month's PeriodRef.
std::string FormatMonth(const v1::PeriodRef& p);
// A rate in per mille, rounded half up; nullopt if den <= 0 or num < 0.
std::optional<int64_t> PerMille(int64_t num, int64_t den);
// num / den as a percentage with one decimal, "95.7" (or "95,7" with a
// decimal comma); "" if there is no rate.
std::string FormatPercent(int64_t num, int64_t den, char decimal = '.');
// 1234567 -> "1.234.567" (Vietnamese grouping) for people.
std::string GroupThousands(int64_t v);
// The time of a Timestamp in Asia/Ho_Chi_Minh (UTC+7, no DST since 1975).
CivilTime LocalTime(const google::protobuf::Timestamp& t);
// The created time for the workbook: created_at, or the snapshot's date at
// 00:00 UTC+7 if created_at is unset (libxlsxwriter uses the clock for 0).
int64_t CreatedUnixSeconds(const v1::SnapshotInfo& info);
// The snapshot's periods labelled for people ("Tháng 05/2023", "Quý
// 2/2023", "6 tháng đầu năm 2023", "Năm 2023", "Giai đoạn 2021-2025").
std::string PeriodLabel(const v1::SnapshotInfo& info, int period);
inline constexpr int kPeriodCount = 5;  // month, quarter, half, year, phase
const v1::Rollup& PeriodRollup(const v1::SnapshotUnit& u, int period);
// Awards of every type given in the range.
int64_t TotalAwards(const v1::Rollup& r);
// & < > " ' as entities.
std::string HtmlEscape(absl::string_view s);
// At most `max_chars` code points of `s`, with "…" if it was cut.
std::string Ellipsize(absl::string_view s, size_t max_chars);

// A file written under a temporary name and renamed into place on Commit,
// so that a reader never sees half a report. Errors name the path.
class OutputFile {
 public:
  OutputFile() = default;
  ~OutputFile();
  OutputFile(const OutputFile&) = delete;
  OutputFile& operator=(const OutputFile&) = delete;

  absl::Status Open(const std::string& path);
  void Write(absl::string_view s) {
    if (file_ != nullptr) std::fwrite(s.data(), 1, s.size(), file_);
  }
  absl::Status Commit();

 private:
  std::string path_;
  std::string tmp_path_;
  std::FILE* file_ = nullptr;
};

// Where a writer stages `path` before renaming it into place.
std::string StagingPath(const std::string& path);
// Renames `from` to `to`, or removes `from` and says why not.
absl::Status RenameInto(const std::string& from, const std::string& to);

}  // namespace nenep::nightly
