// Policy (DESIGN §2.2, §2.3, §3.4): the indicator table, the level
// thresholds and deadlines, the green-band deadline, the scoring window, the
// category multipliers, each county's 低保 standards and the working-day
// calendar. Replicated data, never constants in code: the default is
// node/policy/default_policy.json (seed 004 附件3 and the 2024–2026 calendar),
// compiled into the binary; the province replaces it with `lifeline policy
// set`, a city sets its counties' standards. A node applies only a newer
// version.
//
// Value types; copyable.
#pragma once

#include <cstdint>
#include <optional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "node/core/workdays.h"
#include "topology/status.h"

namespace lifeline::node {

struct Indicator {
  std::string code;                      // e.g. serious_illness
  std::string name_zh;                   // 患有慢性病、重大疾病
  std::string name_en;
  std::string dimension;                 // spending_surge, income_drop, household_change, other
  uint32_t points = 0;                   // 1..100
  std::vector<std::string> departments;  // source departments, e.g. medical_insurance
  bool operator==(const Indicator&) const = default;
};

// One warning level. Levels 1..4 require a home visit; level 5 (green)
// a phone inquiry. A score s has the most severe level with s ≥ min_score.
struct LevelRule {
  uint32_t level = 0;          // 1 (most severe) .. 5 (green)
  uint32_t min_score = 0;      // lowest score of the level
  uint32_t deadline_days = 0;  // working days to act
  std::string colour;          // red, orange, yellow, blue, green
  std::string name_zh;         // 一档 非常严重 ...
  std::string action;          // home_visit or phone_inquiry
  bool operator==(const LevelRule&) const = default;
};

// A county's 低保 standards, yuan per person per month in fen.
struct CountyStandard {
  int64_t urban_fen = 0;
  int64_t rural_fen = 0;
  uint64_t set_by = 0;    // code of the province or city that set it
  bool illustrative = false;  // demo figures, not an official standard
  bool operator==(const CountyStandard&) const = default;
};

struct Policy {
  uint64_t version = 0;                     // applied only if newer than the running one
  uint64_t issued_by = 0;                   // code of the issuing node (the province for the default)
  std::string note;                         // what changed, for operators
  std::vector<std::string> sources;         // citations of the documents the figures come from
  std::vector<Indicator> indicators;        // distinct codes
  std::vector<LevelRule> levels;            // levels 1..5, min_score strictly decreasing, level 5 min_score ≥ 1
  uint32_t window_months = 12;              // the scoring window
  uint32_t marginal_multiplier_permille = 1500;  // 低保边缘: income < 1.5 × urban standard
  uint32_t expenditure_ratio_percent = 60;  // 支出型: rigid spending ≥ 60 % of income
  std::map<uint64_t, CountyStandard> standards;  // county code -> standards
  WorkdayCalendar calendar;
  bool operator==(const Policy&) const = default;

  const Indicator* indicator(std::string_view code) const;
  // The level rule for a score ≥ 1; nullptr for a score below every level.
  const LevelRule* level_for(uint32_t score) const;
  const LevelRule* level(uint32_t level) const;
  bool department_known(std::string_view department) const;
};

// Yuan with at most two decimals, from 0.01 to 1,000,000, as whole fen;
// nullopt otherwise (the rule of the policy file's standards and of
// `policy set --standards`).
std::optional<int64_t> fen_of_yuan(double yuan);

// Parses and validates a policy document (JSON, format in
// node/policy/README.md); every error names the offending key.
Result<Policy> parse_policy(std::string_view json_text);
std::string policy_to_json(const Policy& policy);
// The compiled-in default (version 1).
const Policy& default_policy();
const std::string& default_policy_json();

// The score of one household (DESIGN §2.3): the points of the distinct
// indicators whose latest event date lies in (today − window_months, today],
// each counted once. Unknown indicator codes are ignored.
struct ScoreResult {
  uint32_t score = 0;
  uint32_t level = 0;                  // 0 when score is 0, else the level rule's level
  std::vector<std::string> counted;    // the indicators counted, sorted
};
ScoreResult score_household(const Policy& policy, const std::map<std::string, Date>& latest_by_indicator, Date today);

// The deadline's day for an alert of `level` issued on `issued`.
Date due_date(const Policy& policy, uint32_t level, Date issued);

}  // namespace lifeline::node
