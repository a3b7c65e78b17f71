// Business dates: local calendar dates in Asia/Ho_Chi_Minh (UTC+7, no DST).
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "nenep/v1/events.pb.h"

namespace nenep::services {

// The Asia/Ho_Chi_Minh zone from the system's tzdata. Fails rather than fall
// back to UTC, which would shift every business date by 7 hours.
absl::StatusOr<absl::TimeZone> VietnamTimeZone();

// The local date at `now` in `tz`.
absl::CivilDay LocalDay(absl::Time now, absl::TimeZone tz);

// The date as a civil day; kInvalidArgument if it is not a calendar date
// or lies outside 1900..2199. `field` names it in the message.
absl::StatusOr<absl::CivilDay> ToCivilDay(const v1::Date& date,
                                          const std::string& field);

v1::Date FromCivilDay(absl::CivilDay day);

// Days since 1970-01-01 of a proleptic Gregorian date (no validation).
constexpr int64_t DayNumber(int64_t y, int m, int d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}
inline int64_t DayNumber(absl::CivilDay day) {
  return DayNumber(day.year(), day.month(), day.day());
}

// Days in `month` (1..12) of `year`.
constexpr int DaysInMonth(int64_t year, int month) {
  constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  return month == 2 && leap ? 29 : kDays[month - 1];
}

// Like ToCivilDay, but returns the day number; cheap enough for every event.
absl::StatusOr<int64_t> CheckDate(const v1::Date& date,
                                  const std::string& field);

// "18/05/2023" (how dates are shown to people) and "2023-05-18".
std::string FormatDayVn(const v1::Date& date);
std::string FormatDayIso(const v1::Date& date);

}  // namespace nenep::services
