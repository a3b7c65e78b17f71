#include "services/common/calendar.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "storage/common/status_macros.h"

namespace nenep::services {

absl::StatusOr<absl::TimeZone> VietnamTimeZone() {
  absl::TimeZone tz;
  if (!absl::LoadTimeZone("Asia/Ho_Chi_Minh", &tz)) {
    return absl::FailedPreconditionError(
        "cannot load time zone Asia/Ho_Chi_Minh: install tzdata "
        "(apt-get install tzdata) or set TZDIR");
  }
  return tz;
}

absl::CivilDay LocalDay(absl::Time now, absl::TimeZone tz) {
  return absl::ToCivilDay(now, tz);
}

absl::StatusOr<int64_t> CheckDate(const v1::Date& date,
                                  const std::string& field) {
  if (date.year() < 1900 || date.year() > 2199) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": year ", date.year(), " is outside 1900..2199"));
  }
  if (date.month() < 1 || date.month() > 12 || date.day() < 1 ||
      date.day() > DaysInMonth(date.year(), date.month())) {
    return absl::InvalidArgumentError(
        absl::StrFormat("%s: %04d-%02d-%02d is not a calendar date", field,
                        date.year(), date.month(), date.day()));
  }
  return DayNumber(date.year(), date.month(), date.day());
}

absl::StatusOr<absl::CivilDay> ToCivilDay(const v1::Date& date,
                                          const std::string& field) {
  RETURN_IF_ERROR(CheckDate(date, field).status());
  return absl::CivilDay(date.year(), date.month(), date.day());
}

v1::Date FromCivilDay(absl::CivilDay day) {
  v1::Date d;
  d.set_year(static_cast<int32_t>(day.year()));
  d.set_month(day.month());
  d.set_day(day.day());
  return d;
}

std::string FormatDayVn(const v1::Date& date) {
  return absl::StrFormat("%02d/%02d/%04d", date.day(), date.month(),
                         date.year());
}

std::string FormatDayIso(const v1::Date& date) {
  return absl::StrFormat("%04d-%02d-%02d", date.year(), date.month(),
                         date.day());
}

}  // namespace nenep::services
