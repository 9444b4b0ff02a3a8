// `lifeline demo-data`: a deterministic generator of synthetic monitoring
// data (合成演示数据) for demos and tests. Nothing in it describes a real
// person: names are drawn from common surnames and given-name characters,
// ID numbers are made up (valid GB 11643 form, address part from the
// village code), phone numbers are of the form 1xx-0000-xxxx, and every
// address carries kSyntheticMark.
//
// Input: divisions (the village codes must be village-level rows of the
// tree), a policy (the indicator table and level thresholds), a household
// count, a seed and the day the data are relative to. Output, in a folder:
//   households.jsonl  one household per line, the JSON shape of
//                     node/core/household_json.h (`lifeline household import`);
//   events.csv        department events for members of some households, in
//                     the format of node/import/README.md (`lifeline import`);
//                     after import at a node holding every household, the
//                     households that have events carry alerts of every
//                     level 1..5 (the number per level is in expected.json);
//   expected.json     what the data are meant to produce (format below);
//   README.txt        says the data are synthetic.
// Direction: none (files for operators' commands).
//
// Deterministic: the same options, policy and divisions give the same bytes
// (the generator has its own PRNG and no std:: distributions, whose output
// differs between standard libraries). The default `today` is the current
// Asia/Shanghai date, so a run on another day differs in its dates.
//
// expected.json:
//   {"synthetic": true, "seed": S, "today": "YYYY-MM-DD", "policy_version": V,
//    "households": N, "persons": P, "events": E, "alerted_households": A,
//    "alerts_by_level": {"1": n1, ..., "5": n5},
//    "villages": {"<code>": {"households": n, "persons": p, "alerts_by_level": {...}}}}
// alerts_by_level counts households whose alert has that level once every
// event is imported at one node (each household scores the distinct
// indicators of its events, all inside the policy's window on `today`).
//
// Pure functions apart from write_demo_data and run_demo_data (files, the
// clock); thread-safe.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "node/core/civil_date.h"
#include "node/core/policy.h"
#include "topology/jurisdiction_tree.h"
#include "topology/status.h"

namespace lifeline::runtime {

// Appended to every generated address: the one free-text field of a
// household that every view shows (the household's `source` accepts only
// active_discovery or application).
inline constexpr const char* kSyntheticMark = "（合成演示数据）";

struct DemoDataOptions {
  std::string divisions_path;         // divisions CSV (write_demo_data only)
  std::vector<std::string> villages;  // village codes (12 digits), in the divisions, distinct; households round-robin
  uint64_t households = 2000;         // 5 .. 1,000,000; at least 5 so that every level can be shown
  uint64_t seed = 1;                  // same seed, same data
  node::Date today = 0;               // events lie in the policy's window ending here; required (YYYYMMDD)
  std::string out_dir;                // created if missing; the four files are overwritten (write_demo_data only)
};

// The generated files, byte for byte.
struct DemoData {
  std::string households_jsonl;
  std::string events_csv;
  std::string expected_json;
  std::string readme_txt;
  nlohmann::json expected;  // expected_json, parsed
};

// Generates the data. Errors (invalid_argument, naming the value): a code
// that is malformed, absent from `tree` or not village-level; a repeated
// village; no villages; a household count out of range; no today; a policy
// in which some level cannot be reached by a combination of at most four
// indicators; too few households able to carry the events of some level.
Result<DemoData> generate_demo_data(const DemoDataOptions& options, const topology::JurisdictionTree& tree,
                                    const node::Policy& policy);

// Loads options.divisions_path, generates with `policy` and writes the four
// files into options.out_dir. Returns expected.json's object.
Result<nlohmann::json> write_demo_data(const DemoDataOptions& options, const node::Policy& policy);

// `lifeline demo-data`'s flags as typed.
struct DemoDataCommand {
  std::string divisions;       // --divisions CSV
  std::string villages;        // --villages CODE,CODE,...
  uint64_t households = 2000;  // --households N
  uint64_t seed = 1;           // --seed S
  std::string today;           // --today YYYY-MM-DD; empty: the current Asia/Shanghai date
  std::string policy;          // --policy FILE; empty: the compiled-in default policy
  std::string out;             // --out DIR
};

// Parses the flags into DemoDataOptions and a policy, then write_demo_data.
// Returns expected.json's object with "out" added.
Result<nlohmann::json> run_demo_data(const DemoDataCommand& command);

}  // namespace lifeline::runtime
