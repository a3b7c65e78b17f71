// Business dates: local calendar dates in Asia/Ho_Chi_Minh (UTC+7, no DST).
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "nenep/v1/events.pb.h"
#include "storage/common/days.h"

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

using ::nenep::DayNumber;
using ::nenep::DaysInMonth;

inline int64_t DayNumber(absl::CivilDay day) {
  return nenep::DayNumber(day.year(), day.month(), day.day());
}

// Like ToCivilDay, but returns the day number; cheap enough for every event.
absl::StatusOr<int64_t> CheckDate(const v1::Date& date,
                                  const std::string& field);

// "18/05/2023" (how dates are shown to people) and "2023-05-18".
std::string FormatDayVn(const v1::Date& date);
std::string FormatDayIso(const v1::Date& date);

}  // namespace nenep::services
