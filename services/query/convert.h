// File: services/query/convert.h
//
// The projection's results (storage/projections) as API messages, shared by
// the services that answer with them.
#pragma once

#include <cstdint>

#include "nenep/v1/events.pb.h"
#include "nenep/v1/query.pb.h"
#include "storage/common/days.h"
#include "storage/projections/projection.h"

namespace nenep::services {

v1::Date ToDate(Day day);

// num / den, or 0 when den is 0.
double Rate(int64_t num, int64_t den);

void FillUnit(const projections::UnitInfo& info, v1::Unit* out);

// Every measure, rates included (each a ratio of two sums).
void FillRollup(const projections::Rollup& r, v1::Rollup* out);

}  // namespace nenep::services
