// File: tools/nightly/report_html.cc
//
// WriteHtml (report.h): one self-contained page for people who open, print
// and forward it. Inline CSS and SVG drawn here (no script, no font, no
// image, no network resource of any kind), every text escaped, Vietnamese
// number conventions for people ("1.234", "95,7%"), the same figures as the
// tables of report_tables.h.

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "tools/nightly/report.h"
#include "tools/nightly/report_tables.h"

namespace nenep::nightly {
namespace {

constexpr size_t kMaxBars = 60;
constexpr size_t kLowestCells = 50;
constexpr size_t kMaxOverdueRows = 200;

// A rate as numerator and denominator (den 0: none).
struct Rate {
  int64_t num = 0;
  int64_t den = 0;
  bool has() const { return den > 0 && num >= 0; }
};

Rate Regular(const v1::Rollup& r) {
  return {r.regular_cell_months_held(), r.regular_cell_months_active()};
}
Rate Thematic(const v1::Rollup& r) {
  return {r.thematic_cell_quarters_held(), r.thematic_cell_quarters_active()};
}
Rate Attendance(const v1::Rollup& r) {
  return {r.attendance_present(), r.attendance_convened()};
}
Rate Commitment(const v1::Rollup& r) {
  return {r.members_with_commitment(), r.members()};
}
Rate ChildPlans(const v1::Rollup& r) {
  return {r.child_plans_on_time(), r.child_plans_required()};
}

// Ascending by rate (exactly, by cross-multiplication), units without a
// rate last, ties by unit_id.
bool LowerRate(const Rate& a, const std::string& a_id, const Rate& b,
               const std::string& b_id) {
  if (a.has() != b.has()) return a.has();
  if (a.has()) {
    const __int128 l = static_cast<__int128>(a.num) * b.den;
    const __int128 r = static_cast<__int128>(b.num) * a.den;
    if (l != r) return l < r;
  }
  return a_id < b_id;
}

// "95,7%", or "—" without a rate.
std::string Pct(const Rate& r) {
  if (!r.has()) return "—";
  return absl::StrCat(FormatPercent(r.num, r.den, ','), "%");
}

// "22/23", or "—" without a denominator.
std::string Fraction(const Rate& r) {
  if (r.den <= 0) return "—";
  return absl::StrCat(GroupThousands(r.num), "/", GroupThousands(r.den));
}

std::string Esc(absl::string_view s) { return HtmlEscape(s); }

// A period label within a sentence: "Năm 2023" -> "năm 2023".
std::string InSentence(std::string label) {
  if (!label.empty() && label[0] >= 'A' && label[0] <= 'Z') {
    label[0] = static_cast<char>(label[0] - 'A' + 'a');
  }
  return label;
}

constexpr char kStyle[] = R"css(
:root { color-scheme: light; }
body { font-family: "DejaVu Sans", "Noto Sans", "Segoe UI", Arial, sans-serif;
  margin: 24px; color: #1a1a1a; font-size: 14px; line-height: 1.4;
  -webkit-print-color-adjust: exact; print-color-adjust: exact; }
h1 { font-size: 22px; margin: 0 0 4px; color: #8b1a1a; }
h2 { font-size: 18px; margin: 28px 0 8px; padding-bottom: 4px;
  border-bottom: 2px solid #b22222; }
h3 { font-size: 15px; margin: 16px 0 6px; }
.meta { color: #555; margin: 0; }
.cards { display: flex; flex-wrap: wrap; gap: 12px; }
.card { border: 1px solid #ccc; border-radius: 6px; padding: 10px 14px;
  flex: 1 1 320px; background: #fafafa; }
.card h3 { margin: 0 0 6px; }
.card dl { display: grid; grid-template-columns: 1fr auto; gap: 2px 12px;
  margin: 0; }
.card dt { color: #444; }
.card dd { margin: 0; text-align: right; font-weight: bold;
  font-variant-numeric: tabular-nums; white-space: nowrap; }
figure { margin: 8px 0 16px; }
figcaption { font-weight: bold; margin-bottom: 4px; }
svg { display: block; max-width: 100%; height: auto; }
svg text { font-size: 12px; fill: #333; }
table { border-collapse: collapse; width: 100%; font-size: 13px; }
th, td { border: 1px solid #d0d0d0; padding: 3px 6px; vertical-align: top; }
th { background: #eef3f9; text-align: left; }
td.n { text-align: right; font-variant-numeric: tabular-nums;
  white-space: nowrap; }
tbody tr:nth-child(even) { background: #f7f7f7; }
.note { color: #555; font-style: italic; }
footer { margin-top: 32px; color: #777; font-size: 12px; }
@media print {
  @page { size: A4; margin: 12mm; }
  body { margin: 0; font-size: 11px; }
  h2 { break-after: avoid; page-break-after: avoid; }
  .card, figure, svg { break-inside: avoid; page-break-inside: avoid; }
  table { font-size: 10px; }
  thead { display: table-header-group; }
  tr { break-inside: avoid; page-break-inside: avoid; }
}
)css";

class Page {
 public:
  explicit Page(const ReportTables& t) : t_(t), in_(t.input()) {}

  std::string Render() {
    Head();
    Cards();
    BarChart();
    Trends();
    BranchTable();
    CellTable();
    Overdue();
    absl::StrAppend(&out_,
                    "<footer>Báo cáo tự động của hệ thống nenep, lập từ ảnh "
                    "chụp số liệu ngày ",
                    FormatDate(in_.info.date()), " tại vị trí nhật ký ",
                    in_.info.position(),
                    ". Tỷ lệ tính bằng tử số / mẫu số; “—”: không có mẫu "
                    "số.</footer>\n</body>\n</html>\n");
    return std::move(out_);
  }

 private:
  void Head() {
    const v1::SnapshotInfo& info = in_.info;
    const std::string date = FormatDate(info.date());
    absl::StrAppend(&out_,
                    "<!DOCTYPE html>\n<html lang=\"vi\">\n<head>\n"
                    "<meta charset=\"utf-8\">\n"
                    "<meta name=\"viewport\" content=\"width=device-width, "
                    "initial-scale=1\">\n<title>Báo cáo ngày ",
                    date, " (vị trí ", info.position(), ")</title>\n<style>",
                    kStyle, "</style>\n</head>\n<body>\n<header>\n");
    absl::StrAppend(&out_, "<h1>Báo cáo ngày ", date, " — vị trí nhật ký ",
                    info.position(), "</h1>\n");
    std::string meta =
        absl::StrCat("Số liệu tính đến vị trí nhật ký ", info.position());
    if (info.has_created_at()) {
      const CivilTime t = LocalTime(info.created_at());
      absl::StrAppend(&meta, " · lập lúc ",
                      absl::StrFormat("%02d:%02d ", t.hour, t.minute),
                      FormatDate(t), " (giờ Việt Nam)");
    }
    if (!info.periods().phase_label().empty()) {
      absl::StrAppend(&meta, " · giai đoạn ", info.periods().phase_label());
    }
    if (info.has_previous_date()) {
      absl::StrAppend(&meta, " · so sánh với báo cáo ngày ",
                      FormatDate(info.previous_date()));
    }
    absl::StrAppend(&out_, "<p class=\"meta\">", Esc(meta),
                    "</p>\n</header>\n");
  }

  void Line(absl::string_view label, absl::string_view value) {
    absl::StrAppend(&out_, "<dt>", Esc(label), "</dt><dd>", Esc(value),
                    "</dd>\n");
  }

  void Cards() {
    const std::string year = InSentence(PeriodLabel(in_.info, 3));
    const std::string month = InSentence(PeriodLabel(in_.info, 0));
    absl::StrAppend(&out_, "<section>\n<h2>Tổng quan (", Esc(year),
                    ", lũy kế đến ", FormatDate(in_.info.date()),
                    ")</h2>\n<div class=\"cards\">\n");
    for (size_t i : t_.units_of(Level::kTop)) {
      const v1::SnapshotUnit& u = in_.units[i];
      const v1::Rollup& y = u.year();
      absl::StrAppend(&out_, "<article class=\"card\">\n<h3>", Esc(u.name()),
                      "</h3>\n<dl>\n");
      Line("Đảng viên", GroupThousands(y.members()));
      Line("Chi bộ", GroupThousands(y.cells()));
      Line(absl::StrCat("SH thường kỳ ", month, " (đã họp/phải họp)"),
           Fraction(Regular(u.month())));
      Line("Tỷ lệ SH thường kỳ năm",
           absl::StrCat(Pct(Regular(y)), " (", Fraction(Regular(y)), ")"));
      Line("Tỷ lệ SH thường kỳ giai đoạn", Pct(Regular(u.phase())));
      Line("Tỷ lệ SH chuyên đề năm", Pct(Thematic(y)));
      Line("Tỷ lệ dự họp năm", Pct(Attendance(y)));
      Line("Buổi SH có nội dung HCM năm", GroupThousands(y.sessions_hcm()));
      Line("Tỷ lệ đăng ký làm theo năm", Pct(Commitment(y)));
      Line("KH cấp dưới đúng hạn năm", Pct(ChildPlans(y)));
      Line("Khen thưởng năm", GroupThousands(TotalAwards(y)));
      absl::StrAppend(&out_, "</dl>\n</article>\n");
    }
    absl::StrAppend(&out_,
                    "<article class=\"card\">\n<h3>Danh sách quá "
                    "hạn</h3>\n<dl>\n");
    for (const OverdueList& list : OverdueLists()) {
      Line(list.title, GroupThousands(static_cast<int64_t>(
                           t_.overdue_of(list.kind).size())));
    }
    absl::StrAppend(&out_, "</dl>\n</article>\n</div>\n</section>\n");
  }

  // Horizontal bars, lowest first: the depth-1 units with a rate.
  void BarChart() {
    std::vector<size_t> units;
    size_t without_rate = 0;
    for (size_t i : t_.units_of(Level::kBranch)) {
      if (in_.units[i].depth() != 1) continue;
      if (Regular(in_.units[i].year()).has()) {
        units.push_back(i);
      } else {
        ++without_rate;
      }
    }
    auto lower = [this](size_t a, size_t b) {
      return LowerRate(Regular(in_.units[a].year()), in_.units[a].unit_id(),
                       Regular(in_.units[b].year()), in_.units[b].unit_id());
    };
    const size_t total = units.size();
    const size_t shown = std::min(total, kMaxBars);
    std::partial_sort(units.begin(), units.begin() + shown, units.end(), lower);
    units.resize(shown);

    absl::StrAppend(&out_, "<section>\n<h2>Tỷ lệ sinh hoạt thường kỳ ",
                    Esc(InSentence(PeriodLabel(in_.info, 3))),
                    " theo đảng bộ (thấp nhất trước)</h2>\n");
    if (units.empty()) {
      absl::StrAppend(&out_,
                      "<p class=\"note\">Không có đảng bộ nào có chi bộ "
                      "phải sinh hoạt.</p>\n</section>\n");
      return;
    }
    constexpr int kWidth = 960, kLabelRight = 332, kX0 = 340, kBarW = 540;
    constexpr int kTop = 30, kRow = 20, kBarH = 14;
    const int height = kTop + static_cast<int>(shown) * kRow + 26;
    const int bottom = kTop + static_cast<int>(shown) * kRow;
    absl::StrAppend(
        &out_, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"", kWidth,
        "\" height=\"", height, "\" viewBox=\"0 0 ", kWidth, " ", height,
        "\" role=\"img\" aria-label=\"Tỷ lệ sinh hoạt thường kỳ theo đảng "
        "bộ\">\n");
    for (int pct = 0; pct <= 100; pct += 25) {
      const int x = kX0 + kBarW * pct / 100;
      absl::StrAppend(&out_, "<line x1=\"", x, "\" y1=\"", kTop - 6, "\" x2=\"",
                      x, "\" y2=\"", bottom, "\" stroke=\"",
                      pct == 0 ? "#666" : "#ccc", "\" stroke-width=\"1\"/>\n");
      absl::StrAppend(&out_, "<text x=\"", x, "\" y=\"", kTop - 10,
                      "\" text-anchor=\"middle\">", pct, "%</text>\n");
      absl::StrAppend(&out_, "<text x=\"", x, "\" y=\"", bottom + 16,
                      "\" text-anchor=\"middle\">", pct, "%</text>\n");
    }
    for (size_t k = 0; k < units.size(); ++k) {
      const v1::SnapshotUnit& u = in_.units[units[k]];
      const Rate r = Regular(u.year());
      const int64_t pm = std::min<int64_t>(*PerMille(r.num, r.den), 1000);
      const int y = kTop + static_cast<int>(k) * kRow;
      const int w = static_cast<int>((kBarW * pm + 500) / 1000);
      const std::string tip =
          absl::StrCat(u.name(), ": ", Pct(r), " (", Fraction(r), ")");
      absl::StrAppend(&out_, "<g><title>", Esc(tip), "</title>");
      absl::StrAppend(&out_, "<text x=\"", kLabelRight, "\" y=\"",
                      y + kBarH - 3, "\" text-anchor=\"end\">",
                      Esc(Ellipsize(u.name(), 46)), "</text>");
      absl::StrAppend(&out_, "<rect x=\"", kX0, "\" y=\"", y + 2, "\" width=\"",
                      w, "\" height=\"", kBarH, "\" fill=\"#3b6ea8\"/>");
      absl::StrAppend(&out_, "<text x=\"", kX0 + w + 4, "\" y=\"",
                      y + kBarH - 3, "\">", Pct(r), "</text></g>\n");
    }
    absl::StrAppend(&out_, "</svg>\n");
    if (shown < total || without_rate > 0) {
      std::string note;
      if (shown < total) {
        note = absl::StrCat("Vẽ ", shown, " đảng bộ có tỷ lệ thấp nhất trong ",
                            total, ". ");
      }
      if (without_rate > 0) {
        absl::StrAppend(&note, without_rate,
                        " đảng bộ không có chi bộ phải sinh hoạt trong năm "
                        "(không vẽ).");
      }
      absl::StrAppend(&out_, "<p class=\"note\">", Esc(note), "</p>\n");
    }
    absl::StrAppend(&out_, "</section>\n");
  }

  void Trends() {
    if (in_.info.trends().empty()) return;
    absl::StrAppend(&out_, "<section>\n<h2>Diễn biến 12 tháng gần nhất</h2>\n");
    for (const v1::Trend& trend : in_.info.trends()) TrendChart(trend);
    absl::StrAppend(&out_, "</section>\n");
  }

  void TrendChart(const v1::Trend& trend) {
    constexpr int kWidth = 960, kHeight = 300;
    constexpr int kLeft = 56, kRight = 940, kTop = 16, kBottom = 216;
    struct Series {
      const char* name;
      const char* color;
      const char* dash;
      Rate (*rate)(const v1::Rollup&);
    };
    static constexpr Series kSeries[] = {
        {"Tỷ lệ SH thường kỳ", "#0072b2", "", Regular},
        {"Tỷ lệ SH chuyên đề", "#d55e00", "7 4", Thematic},
        {"Tỷ lệ dự họp", "#009e73", "2 3", Attendance},
    };
    const int n = trend.months_size();
    absl::StrAppend(&out_, "<figure>\n<figcaption>", Esc(trend.name()),
                    "</figcaption>\n");
    if (n == 0) {
      absl::StrAppend(&out_,
                      "<p class=\"note\">Chưa có số liệu tháng.</p>\n"
                      "</figure>\n");
      return;
    }
    absl::StrAppend(&out_, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"",
                    kWidth, "\" height=\"", kHeight, "\" viewBox=\"0 0 ",
                    kWidth, " ", kHeight, "\" role=\"img\" aria-label=\"",
                    Esc(absl::StrCat("Diễn biến 12 tháng: ", trend.name())),
                    "\">\n");
    auto x_of = [&](int i) {
      return kLeft + (2 * i + 1) * (kRight - kLeft) / (2 * n);
    };
    auto y_of = [&](int64_t pm) {
      pm = std::clamp<int64_t>(pm, 0, 1000);
      return kBottom - static_cast<int>(((kBottom - kTop) * pm + 500) / 1000);
    };
    for (int pct = 0; pct <= 100; pct += 20) {
      const int y = y_of(pct * 10);
      absl::StrAppend(&out_, "<line x1=\"", kLeft, "\" y1=\"", y, "\" x2=\"",
                      kRight, "\" y2=\"", y, "\" stroke=\"",
                      pct == 0 ? "#666" : "#ddd", "\" stroke-width=\"1\"/>",
                      "<text x=\"", kLeft - 6, "\" y=\"", y + 4,
                      "\" text-anchor=\"end\">", pct, "%</text>\n");
    }
    for (int i = 0; i < n; ++i) {
      absl::StrAppend(&out_, "<text x=\"", x_of(i), "\" y=\"", kBottom + 18,
                      "\" text-anchor=\"middle\">",
                      FormatMonth(trend.months(i).month()), "</text>\n");
    }
    for (const Series& s : kSeries) {
      std::string path;
      std::string points;
      bool pen_down = false;
      for (int i = 0; i < n; ++i) {
        const Rate r = s.rate(trend.months(i).rollup());
        if (!r.has()) {
          pen_down = false;  // a gap, not a zero
          continue;
        }
        const int x = x_of(i);
        const int y = y_of(*PerMille(r.num, r.den));
        absl::StrAppend(&path, path.empty() ? "" : " ", pen_down ? "L" : "M", x,
                        " ", y);
        pen_down = true;
        absl::StrAppend(
            &points, "<circle cx=\"", x, "\" cy=\"", y, "\" r=\"3\" fill=\"",
            s.color, "\"><title>",
            Esc(absl::StrCat(s.name, " ", FormatMonth(trend.months(i).month()),
                             ": ", Pct(r), " (", Fraction(r), ")")),
            "</title></circle>\n");
      }
      if (!path.empty()) {
        absl::StrAppend(&out_, "<path d=\"", path, "\" fill=\"none\" stroke=\"",
                        s.color, "\" stroke-width=\"2\"");
        if (*s.dash != '\0') {
          absl::StrAppend(&out_, " stroke-dasharray=\"", s.dash, "\"");
        }
        absl::StrAppend(&out_, "/>\n");
      }
      out_ += points;
    }
    // Legend.
    int lx = kLeft;
    const int ly = kHeight - 24;
    for (const Series& s : kSeries) {
      absl::StrAppend(&out_, "<line x1=\"", lx, "\" y1=\"", ly, "\" x2=\"",
                      lx + 28, "\" y2=\"", ly, "\" stroke=\"", s.color,
                      "\" stroke-width=\"2\"");
      if (*s.dash != '\0') {
        absl::StrAppend(&out_, " stroke-dasharray=\"", s.dash, "\"");
      }
      absl::StrAppend(&out_, "/><text x=\"", lx + 34, "\" y=\"", ly + 4, "\">",
                      Esc(s.name), "</text>\n");
      lx += 220;
    }
    absl::StrAppend(&out_, "</svg>\n</figure>\n");
  }

  void Td(absl::string_view text, bool numeric = false) {
    absl::StrAppend(&out_, numeric ? "<td class=\"n\">" : "<td>", Esc(text),
                    "</td>");
  }

  void Header(std::initializer_list<const char*> headers) {
    absl::StrAppend(&out_, "<table>\n<thead><tr>");
    for (const char* h : headers)
      absl::StrAppend(&out_, "<th>", Esc(h), "</th>");
    absl::StrAppend(&out_, "</tr></thead>\n<tbody>\n");
  }

  void BranchTable() {
    std::vector<size_t> units = t_.units_of(Level::kBranch);
    std::sort(units.begin(), units.end(), [this](size_t a, size_t b) {
      return LowerRate(Regular(in_.units[a].year()), in_.units[a].unit_id(),
                       Regular(in_.units[b].year()), in_.units[b].unit_id());
    });
    absl::StrAppend(&out_,
                    "<section>\n<h2>Đảng bộ theo tỷ lệ sinh hoạt thường kỳ "
                    "năm (thấp nhất trước)</h2>\n");
    if (units.empty()) {
      absl::StrAppend(&out_, "<p class=\"note\">Không có đảng bộ.</p>\n");
      absl::StrAppend(&out_, "</section>\n");
      return;
    }
    Header({"STT", "Đảng bộ", "Cấp trên", "Đảng viên", "Chi bộ",
            "SH thường kỳ năm (đã họp/phải họp)", "Tỷ lệ SH thường kỳ năm",
            "Tỷ lệ SH chuyên đề năm", "Tỷ lệ dự họp năm",
            "Tỷ lệ đăng ký làm theo năm", "KH cấp dưới đúng hạn năm"});
    for (size_t k = 0; k < units.size(); ++k) {
      const v1::SnapshotUnit& u = in_.units[units[k]];
      const v1::Rollup& y = u.year();
      absl::StrAppend(&out_, "<tr>");
      Td(absl::StrCat(k + 1), true);
      Td(u.name());
      Td(t_.ParentName(u));
      Td(GroupThousands(y.members()), true);
      Td(GroupThousands(y.cells()), true);
      Td(Fraction(Regular(y)), true);
      Td(Pct(Regular(y)), true);
      Td(Pct(Thematic(y)), true);
      Td(Pct(Attendance(y)), true);
      Td(Pct(Commitment(y)), true);
      Td(Pct(ChildPlans(y)), true);
      absl::StrAppend(&out_, "</tr>\n");
    }
    absl::StrAppend(&out_, "</tbody>\n</table>\n</section>\n");
  }

  void CellTable() {
    std::vector<size_t> cells;
    for (size_t i : t_.units_of(Level::kCell)) {
      if (Regular(in_.units[i].year()).has()) cells.push_back(i);
    }
    const size_t shown = std::min(cells.size(), kLowestCells);
    std::partial_sort(cells.begin(), cells.begin() + shown, cells.end(),
                      [this](size_t a, size_t b) {
                        return LowerRate(Regular(in_.units[a].year()),
                                         in_.units[a].unit_id(),
                                         Regular(in_.units[b].year()),
                                         in_.units[b].unit_id());
                      });
    cells.resize(shown);
    absl::StrAppend(&out_, "<section>\n<h2>", kLowestCells,
                    " chi bộ có tỷ lệ sinh hoạt thường kỳ năm thấp "
                    "nhất</h2>\n");
    if (cells.empty()) {
      absl::StrAppend(&out_,
                      "<p class=\"note\">Không có chi bộ nào phải sinh "
                      "hoạt.</p>\n</section>\n");
      return;
    }
    Header({"STT", "Chi bộ", "Trực thuộc", "Đảng viên",
            "SH thường kỳ năm (đã họp/phải họp)", "Tỷ lệ SH thường kỳ năm",
            "SH thường kỳ tháng (đã họp/phải họp)", "Tỷ lệ SH chuyên đề năm",
            "Tỷ lệ dự họp năm"});
    for (size_t k = 0; k < cells.size(); ++k) {
      const v1::SnapshotUnit& u = in_.units[cells[k]];
      const v1::Rollup& y = u.year();
      absl::StrAppend(&out_, "<tr>");
      Td(absl::StrCat(k + 1), true);
      Td(u.name());
      Td(t_.ParentChain(u));
      Td(GroupThousands(y.members()), true);
      Td(Fraction(Regular(y)), true);
      Td(Pct(Regular(y)), true);
      Td(Fraction(Regular(u.month())), true);
      Td(Pct(Thematic(y)), true);
      Td(Pct(Attendance(y)), true);
      absl::StrAppend(&out_, "</tr>\n");
    }
    absl::StrAppend(&out_, "</tbody>\n</table>\n</section>\n");
  }

  void Overdue() {
    absl::StrAppend(&out_, "<section>\n<h2>Danh sách quá hạn</h2>\n");
    for (const OverdueList& list : OverdueLists()) {
      const std::vector<size_t>& items = t_.overdue_of(list.kind);
      absl::StrAppend(&out_, "<h3>", Esc(list.title), " (",
                      GroupThousands(static_cast<int64_t>(items.size())),
                      ")</h3>\n");
      if (items.empty()) {
        absl::StrAppend(&out_, "<p class=\"note\">Không có.</p>\n");
        continue;
      }
      Header(
          {"STT", "Đơn vị", "Trực thuộc", "Nội dung", "Từ ngày", "Tham chiếu"});
      const size_t shown = std::min(items.size(), kMaxOverdueRows);
      for (size_t k = 0; k < shown; ++k) {
        const v1::OverdueItem& item = in_.overdue[items[k]];
        absl::StrAppend(&out_, "<tr>");
        Td(absl::StrCat(k + 1), true);
        Td(item.unit_name());
        Td(OverdueChain(item));
        Td(item.missing());
        Td(FormatDate(item.since()), true);
        Td(OverdueReference(item));
        absl::StrAppend(&out_, "</tr>\n");
      }
      absl::StrAppend(&out_, "</tbody>\n</table>\n");
      if (shown < items.size()) {
        absl::StrAppend(
            &out_, "<p class=\"note\">... và ",
            GroupThousands(static_cast<int64_t>(items.size() - shown)),
            " mục khác, xem tệp CSV ", Esc(list.csv_file), "</p>\n");
      }
    }
    absl::StrAppend(&out_, "</section>\n");
  }

  const ReportTables& t_;
  const ReportInput& in_;
  std::string out_;
};

}  // namespace

absl::Status WriteHtml(const ReportInput& in, const std::string& path) {
  const ReportTables tables(in);
  const std::string html = Page(tables).Render();
  OutputFile file;
  if (absl::Status s = file.Open(path); !s.ok()) return s;
  file.Write(html);
  return file.Commit();
}

}  // namespace nenep::nightly
