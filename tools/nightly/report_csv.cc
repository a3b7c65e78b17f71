// File: tools/nightly/report_csv.cc
//
// WriteCsvs (report.h): one CSV file per table of report_tables.h, UTF-8
// with a byte order mark (so that Excel reads the Vietnamese names right),
// CRLF line ends and RFC 4180 quoting. Dates are dd/mm/yyyy; a rate is a
// percentage with one decimal and a point ("95.7") in a column whose header
// ends in "(%)", empty when its denominator is zero.

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "tools/nightly/report.h"
#include "tools/nightly/report_tables.h"

namespace nenep::nightly {
namespace {

// Appends `field`, quoted if it holds a comma, a quote, CR or LF.
void AppendField(absl::string_view field, std::string* out) {
  if (field.find_first_of(",\"\r\n") == absl::string_view::npos) {
    out->append(field.data(), field.size());
    return;
  }
  out->push_back('"');
  for (char c : field) {
    if (c == '"') out->push_back('"');
    out->push_back(c);
  }
  out->push_back('"');
}

void AppendCell(const Cell& cell, std::string* out) {
  switch (cell.kind) {
    case Cell::Kind::kEmpty:
      return;
    case Cell::Kind::kText:
      AppendField(cell.text, out);
      return;
    case Cell::Kind::kInteger:
      absl::StrAppend(out, cell.number);
      return;
    case Cell::Kind::kRate:
      out->append(FormatPercent(cell.number, cell.denominator));
      return;
    case Cell::Kind::kDate:
      out->append(FormatDate(cell.time));
      return;
    case Cell::Kind::kDateTime:
      out->append(FormatDateTime(cell.time));
      return;
  }
}

absl::Status WriteTable(const Table& table, const std::string& path) {
  OutputFile file;
  if (absl::Status s = file.Open(path); !s.ok()) return s;
  std::string buf = "\xEF\xBB\xBF";  // BOM
  for (size_t i = 0; i < table.columns.size(); ++i) {
    if (i > 0) buf.push_back(',');
    AppendField(table.columns[i].header, &buf);
  }
  buf += "\r\n";
  std::vector<Cell> cells(table.columns.size());
  for (size_t row = 0; row < table.rows; ++row) {
    table.fill(row, &cells);
    for (size_t i = 0; i < cells.size(); ++i) {
      if (i > 0) buf.push_back(',');
      AppendCell(cells[i], &buf);
    }
    buf += "\r\n";
    if (buf.size() >= (1 << 20)) {
      file.Write(buf);
      buf.clear();
    }
  }
  file.Write(buf);
  return file.Commit();
}

}  // namespace

absl::Status WriteCsvs(const ReportInput& in, const std::string& dir,
                       std::vector<std::string>* files) {
  const ReportTables tables(in);
  for (const Table& table : tables.tables()) {
    const std::string path =
        dir.empty() ? table.csv_file : absl::StrCat(dir, "/", table.csv_file);
    if (absl::Status s = WriteTable(table, path); !s.ok()) return s;
    if (files != nullptr) files->push_back(table.csv_file);
  }
  return absl::OkStatus();
}

}  // namespace nenep::nightly
