// File: tools/nightly/report.h
//
// The files of a nightly report, rendered from one stored snapshot
// (proto/nenep/v1/snapshots.proto). Every writer is a pure function of its
// input: the same snapshot gives byte-identical files (no clock, no locale,
// no randomness; the workbook's dates come from the snapshot's created_at).
//
// Levels: a top unit (depth 0, e.g. a bloc) is "Khối"; a unit that is not a
// cell and not a top unit is "Đảng bộ"; a cell is "Chi bộ".
#pragma once

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "nenep/v1/snapshots.pb.h"

namespace nenep::nightly {

// A snapshot as read back with Snapshots.ReadSnapshot.
struct ReportInput {
  v1::SnapshotInfo info;
  std::vector<v1::SnapshotUnit> units;   // tree order (parents first)
  std::vector<v1::OverdueItem> overdue;  // grouped by kind
};

// Writes report.xlsx: a summary sheet, a sheet per level (Khối, Đảng bộ,
// Chi bộ) and a sheet per overdue list, with Vietnamese headers, percentages
// and dates (dd/mm/yyyy) formatted, frozen header rows and filters.
absl::Status WriteXlsx(const ReportInput& in, const std::string& path);

// Writes the same tables as CSV files (UTF-8 with a BOM, CRLF line ends)
// into `dir`, and appends their file names to *files.
absl::Status WriteCsvs(const ReportInput& in, const std::string& dir,
                       std::vector<std::string>* files);

// Writes report.html: summary figures, a bar chart of regular-session
// compliance by đảng bộ, monthly trend lines and tables sorted by a
// measure. Self-contained: inline CSS and SVG only, no script and no
// network resource.
absl::Status WriteHtml(const ReportInput& in, const std::string& path);

}  // namespace nenep::nightly
