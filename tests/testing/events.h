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

// Structure and membership changes on `date`.
v1::Event Moved(const std::string& unit_id, const std::string& from_parent,
                const std::string& to_parent, v1::Date date);
v1::Event Dissolved(const std::string& unit_id,
                    const std::vector<std::string>& successors, v1::Date date);
v1::Event Merged(const std::vector<std::string>& sources,
                 const std::string& target, v1::Date date);
v1::Event Transferred(const std::string& member_id, const std::string& from,
                      const std::string& to, v1::Date date);

// A thematic session of `unit_id` on `date`, counted for its quarter.
v1::Event ThematicSession(const std::string& session_id,
                          const std::string& unit_id, v1::Date date,
                          int convened = 10, int present = 9);

// A plan of `issuer` requiring its direct children to issue an
// implementing plan by `due` (if set).
v1::Event Plan(const std::string& plan_id, const std::string& issuer,
               const std::string& number, v1::Date date,
               const std::string& implements = "",
               const v1::Date* due = nullptr);

v1::Event Commitment(const std::string& commitment_id,
                     const std::string& member_id, const std::string& cell_id,
                     v1::Date date);
v1::Event Evaluation(const std::string& commitment_id, v1::Date date,
                     bool fulfilled);

// A Bằng khen of a ministry-level issuer to the party units `unit_ids`.
v1::Event Award(const std::string& award_id,
                const std::vector<std::string>& unit_ids, v1::Date date,
                v1::AwardKind kind = v1::AWARD_KIND_BANG_KHEN);

// One idempotent batch (request_id "seed") that creates a root unit "db"
// and `cells` under it on 1/1/2019, each with `members` members: what
// events of other tests refer to.
v1::BatchAppendRequest SeedRequest(const std::vector<std::string>& cells,
                                   int members = 20);

}  // namespace nenep::testing
