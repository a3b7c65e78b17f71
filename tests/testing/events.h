// Builders of valid events for tests.
#pragma once

#include <string>
#include <vector>

#include "nenep/v1/events.pb.h"
#include "nenep/v1/log.pb.h"

namespace nenep::testing {

v1::Date D(int year, int month, int day);

v1::Event UnitCreated(const std::string& unit_id, v1::UnitKind kind,
                      const std::string& name, const std::string& parent_id,
                      v1::Date date = D(2020, 1, 1));

// A regular session of `unit_id` held on `date`, counted for its month.
v1::Event RegularSession(const std::string& session_id,
                         const std::string& unit_id, v1::Date date,
                         int convened = 10, int present = 9);

v1::BatchEntry Entry(v1::Event event, const std::string& stream = "");

v1::Event MemberJoined(const std::string& member_id, const std::string& cell_id,
                       v1::Date date = D(2019, 1, 1));

// One idempotent batch (request_id "seed") that creates a root unit "db"
// and `cells` under it on 1/1/2019, each with `members` members: what
// events of other tests refer to.
v1::BatchAppendRequest SeedRequest(const std::vector<std::string>& cells,
                                   int members = 20);

}  // namespace nenep::testing
