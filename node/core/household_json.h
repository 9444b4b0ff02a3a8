// A household as JSON, the shape used by `lifeline household add`, the
// registration file (`lifeline household import`, one per line) and the
// HTTP API:
//   {"village": "441303001001", "category": "marginal", "income_yuan": 800.5,
//    "phone": "...", "address": "...", "source": "active_discovery",
//    "members": [{"id_number": "...", "name": "...", "relation": "head",
//                 "disability_grade": 0, "disability_kind": "", "major_illness": false,
//                 "single_person_coverage": false}]}
// Unknown keys and wrong types are refused with the key named. The values
// are checked by the Monitor (codes, categories, ID numbers).
//
// Pure; thread-safe.
#pragma once

#include <nlohmann/json.hpp>

#include "node/core/monitor.h"

namespace lifeline::node {

Result<protocol::Member> member_from_json(const nlohmann::json& m);
Result<NewHousehold> household_from_json(const nlohmann::json& h);

}  // namespace lifeline::node
