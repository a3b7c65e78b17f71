// File: tools/nightly/report_xlsx.cc
//
// WriteXlsx (report.h) with libxlsxwriter: a sheet per table of
// report_tables.h, in constant-memory mode (each row goes to a temporary
// file as soon as it is complete, strings inline), so that a national-scale
// sheet of 250,000 cells needs no more memory than one row.
//
// Byte-identical output: libxlsxwriter 1.1.4 stamps every zip entry with
// 1980-01-01 00:00 (a constant, as Excel does); the only clock it reads is
// for docProps/core.xml's created/modified time when the created property
// is 0, so we always set it (from the snapshot's created_at).

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "tools/nightly/report.h"
#include "tools/nightly/report_tables.h"
#include "xlsxwriter.h"

namespace nenep::nightly {
namespace {

struct Formats {
  lxw_format* header;
  lxw_format* integer;
  lxw_format* rate;
  lxw_format* date;
  lxw_format* datetime;
};

Formats AddFormats(lxw_workbook* wb) {
  Formats f;
  f.header = workbook_add_format(wb);
  format_set_bold(f.header);
  format_set_text_wrap(f.header);
  format_set_align(f.header, LXW_ALIGN_VERTICAL_CENTER);
  format_set_bg_color(f.header, 0xDDEBF7);
  format_set_bottom(f.header, LXW_BORDER_THIN);
  f.integer = workbook_add_format(wb);
  format_set_num_format(f.integer, "#,##0");
  f.rate = workbook_add_format(wb);
  format_set_num_format(f.rate, "0.0%");
  f.date = workbook_add_format(wb);
  format_set_num_format(f.date, "dd/mm/yyyy");
  f.datetime = workbook_add_format(wb);
  format_set_num_format(f.datetime, "dd/mm/yyyy hh:mm:ss");
  return f;
}

lxw_error WriteCell(lxw_worksheet* ws, lxw_row_t row, lxw_col_t col,
                    const Cell& cell, const Formats& f) {
  switch (cell.kind) {
    case Cell::Kind::kEmpty:
      return LXW_NO_ERROR;
    case Cell::Kind::kText:
      if (cell.text.empty()) return LXW_NO_ERROR;
      return worksheet_write_string(ws, row, col, cell.text.c_str(), nullptr);
    case Cell::Kind::kInteger:
      return worksheet_write_number(
          ws, row, col, static_cast<double>(cell.number), f.integer);
    case Cell::Kind::kRate:
      return worksheet_write_number(ws, row, col,
                                    static_cast<double>(cell.number) /
                                        static_cast<double>(cell.denominator),
                                    f.rate);
    case Cell::Kind::kDate:
    case Cell::Kind::kDateTime: {
      lxw_datetime dt;
      dt.year = cell.time.year;
      dt.month = cell.time.month;
      dt.day = cell.time.day;
      dt.hour = cell.time.hour;
      dt.min = cell.time.minute;
      dt.sec = cell.time.second;
      return worksheet_write_datetime(
          ws, row, col, &dt,
          cell.kind == Cell::Kind::kDate ? f.date : f.datetime);
    }
  }
  return LXW_NO_ERROR;
}

// Writes one table into a new sheet; on failure says where.
absl::Status WriteSheet(lxw_workbook* wb, const Table& table, const Formats& f,
                        const std::string& path) {
  if (table.rows + 1 > LXW_ROW_MAX) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "cannot write ", path, ": sheet \"", table.sheet, "\" would have ",
        table.rows, " rows and a sheet holds at most ", LXW_ROW_MAX - 1,
        "; use the CSV file ", table.csv_file, " instead"));
  }
  lxw_worksheet* ws = workbook_add_worksheet(wb, table.sheet.c_str());
  if (ws == nullptr) {
    return absl::InternalError(absl::StrCat("cannot write ", path,
                                            ": bad sheet name \"", table.sheet,
                                            "\" (a bug in report_tables.cc)"));
  }
  const lxw_col_t last_col = static_cast<lxw_col_t>(table.columns.size() - 1);
  for (lxw_col_t c = 0; c <= last_col; ++c) {
    worksheet_set_column(ws, c, c, table.columns[c].width, nullptr);
  }
  worksheet_freeze_panes(ws, 1, static_cast<lxw_col_t>(table.freeze_columns));
  worksheet_autofilter(ws, 0, 0, static_cast<lxw_row_t>(table.rows), last_col);
  worksheet_set_landscape(ws);
  worksheet_set_paper(ws, 9);  // A4
  worksheet_fit_to_pages(ws, 1, 0);
  worksheet_repeat_rows(ws, 0, 0);

  worksheet_set_row(ws, 0, 48, nullptr);
  for (lxw_col_t c = 0; c <= last_col; ++c) {
    worksheet_write_string(ws, 0, c, table.columns[c].header.c_str(), f.header);
  }
  std::vector<Cell> cells(table.columns.size());
  for (size_t r = 0; r < table.rows; ++r) {
    table.fill(r, &cells);
    const lxw_row_t row = static_cast<lxw_row_t>(r + 1);
    for (lxw_col_t c = 0; c <= last_col; ++c) {
      const lxw_error err = WriteCell(ws, row, c, cells[c], f);
      if (err != LXW_NO_ERROR) {
        return absl::InvalidArgumentError(
            absl::StrCat("cannot write ", path, ": sheet \"", table.sheet,
                         "\", row ", row + 1, ", column \"",
                         table.columns[c].header, "\": ", lxw_strerror(err)));
      }
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status WriteXlsx(const ReportInput& in, const std::string& path) {
  const ReportTables tables(in);
  const std::string tmp = StagingPath(path);

  lxw_workbook_options options;
  std::memset(&options, 0, sizeof(options));
  options.constant_memory = LXW_TRUE;
  lxw_workbook* wb = workbook_new_opt(tmp.c_str(), &options);
  if (wb == nullptr) {
    return absl::ResourceExhaustedError(
        absl::StrCat("cannot write ", path,
                     ": libxlsxwriter could not allocate a workbook"));
  }

  std::string title = absl::StrCat("Báo cáo ngày ", FormatDate(in.info.date()),
                                   ", vị trí ", in.info.position());
  std::string subject = "Tình hình sinh hoạt chi bộ và thực hiện kế hoạch";
  std::string author = "nenep nightly";
  lxw_doc_properties props;
  std::memset(&props, 0, sizeof(props));
  props.title = title.data();
  props.subject = subject.data();
  props.author = author.data();
  props.created = static_cast<time_t>(CreatedUnixSeconds(in.info));
  workbook_set_properties(wb, &props);

  const Formats formats = AddFormats(wb);
  for (const Table& table : tables.tables()) {
    if (absl::Status s = WriteSheet(wb, table, formats, path); !s.ok()) {
      lxw_workbook_free(wb);
      std::remove(tmp.c_str());
      return s;
    }
  }

  errno = 0;
  const lxw_error err = workbook_close(wb);
  if (err != LXW_NO_ERROR) {
    const int saved_errno = errno;
    std::remove(tmp.c_str());
    std::string why = lxw_strerror(err);
    absl::StatusCode code = absl::StatusCode::kInternal;
    if (saved_errno != 0 && (err == LXW_ERROR_CREATING_XLSX_FILE ||
                             err == LXW_ERROR_CREATING_TMPFILE ||
                             err == LXW_ERROR_ZIP_FILE_OPERATION)) {
      absl::StrAppend(&why, " (", std::strerror(saved_errno), ")");
      code = absl::ErrnoToStatusCode(saved_errno);
    }
    return absl::Status(
        code,
        absl::StrCat("cannot write ", path, " (staged as ", tmp, "): ", why,
                     "; check that the directory exists, is writable "
                     "and has space, and that the temporary directory "
                     "($TMPDIR or /tmp) is writable"));
  }
  return RenameInto(tmp, path);
}

}  // namespace nenep::nightly
