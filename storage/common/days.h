// Calendar days as integers: days since 1970-01-01 of the proleptic
// Gregorian calendar. Business dates are local dates (Asia/Ho_Chi_Minh), so
// no time zone ever enters here.
#pragma once

#include <cstdint>

namespace nenep {

using Day = int32_t;
// A day later than any date nenep accepts (the year 2199 ends at ~84,000).
inline constexpr Day kForever = 1 << 30;

// The day of year-month-day (no validation).
constexpr Day DayNumber(int64_t y, int m, int d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return static_cast<Day>(era * 146097 + doe - 719468);
}

// The inverse of DayNumber.
constexpr void CivilFromDay(Day day, int* year, int* month, int* d) {
  int64_t z = static_cast<int64_t>(day) + 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const int64_t doe = z - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  *d = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  *month = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  *year = static_cast<int>(yoe + era * 400 + (*month <= 2));
}

// Days in `month` (1..12) of `year`.
constexpr int DaysInMonth(int64_t year, int month) {
  constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  return month == 2 && leap ? 29 : kDays[month - 1];
}

// Months and quarters as running numbers: month = year * 12 + (month - 1),
// quarter = year * 4 + (quarter - 1).
constexpr int32_t MonthOf(Day day) {
  int y = 0, m = 0, d = 0;
  CivilFromDay(day, &y, &m, &d);
  return y * 12 + (m - 1);
}
constexpr int32_t QuarterOf(Day day) { return MonthOf(day) / 3; }
constexpr Day MonthFirstDay(int32_t month) {
  return DayNumber(month / 12, month % 12 + 1, 1);
}
constexpr Day MonthLastDay(int32_t month) {
  return MonthFirstDay(month + 1) - 1;
}
constexpr Day QuarterFirstDay(int32_t quarter) {
  return MonthFirstDay(quarter * 3);
}
constexpr Day QuarterLastDay(int32_t quarter) {
  return MonthFirstDay(quarter * 3 + 3) - 1;
}

}  // namespace nenep
