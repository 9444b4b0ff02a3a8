// A large synthetic registry and department feed for load tests and
// benchmarks: persons with valid, distinct ID numbers in households of 2–3
// spread over the communities of one township, and events for random
// persons among them. Deterministic for a given salt.
#pragma once

#include <cstdio>
#include <random>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>

#include "node/core/civil_date.h"
#include "node/core/id_number.h"
#include "topology/division_code.h"

namespace lifeline::testing {

// Person i's ID number: address 441303, a birth date from 1940 on (1,000
// people per day), sequence i % 1000, and its check character.
inline std::string registry_id_number(uint64_t i) {
  node::Date birth = node::add_days(19400101, static_cast<int64_t>(i / 1000));
  char first17[18];
  std::snprintf(first17, sizeof first17, "441303%08u%03u", birth, static_cast<unsigned>(i % 1000));
  return std::string(first17) + node::id_check_char(first17);
}

// i written with the Chinese digits 〇一二三四五六七八九, for test names that
// differ by a number (a person's name may not hold a digit).
inline std::string chinese_number(uint64_t i) {
  static const char* kDigits[] = {"〇", "一", "二", "三", "四", "五", "六", "七", "八", "九"};
  std::string out;
  for (char c : std::to_string(i)) out += kDigits[c - '0'];
  return out;
}

// Households of 2–3 persons over `villages` consecutive village codes from
// first_village, as JSON Lines (`lifeline household import`).
inline std::string registry_file(uint64_t persons, uint64_t first_village, int villages, uint64_t* households) {
  std::ostringstream out;
  uint64_t i = 0, h = 0;
  static const char* kCategories[] = {"minimum_living", "marginal", "marginal", "expenditure_hardship", "destitute"};
  while (i < persons) {
    uint64_t size = std::min<uint64_t>(2 + h % 2, persons - i);
    nlohmann::json members = nlohmann::json::array();
    for (uint64_t k = 0; k < size; ++k, ++i)
      members.push_back(nlohmann::json{{"id_number", registry_id_number(i)}, {"name", "测试" + chinese_number(i)},
                                       {"relation", k == 0 ? "head" : "child"}});
    nlohmann::json hh{{"village", topology::DivisionCode::format(first_village + h % villages)},
                      {"category", kCategories[h % 5]}, {"income_yuan", 600 + h % 700}, {"members", members}};
    out << hh.dump() << "\n";
    ++h;
  }
  *households = h;
  return out.str();
}

// `events` department events (CSV) for random persons among the first
// `persons`, dated in the 11 months before today.
inline std::string events_file(uint64_t events, uint64_t persons, uint64_t salt, node::Date today) {
  static const std::pair<const char*, const char*> kPairs[] = {
      {"medical_insurance", "serious_illness"}, {"human_resources", "unemployment"}, {"human_resources", "insurance_lapse"},
      {"health", "birth"}, {"education", "school_enrolment"}, {"public_security", "accident"},
      {"emergency", "disaster"}, {"disabled_federation", "disability_change"}, {"civil_affairs", "marriage_change"}};
  std::mt19937_64 rng(salt);
  std::ostringstream out;
  out << "source_department,source_record_id,id_number,indicator,event_date\n";
  for (uint64_t e = 0; e < events; ++e) {
    auto [dept, ind] = kPairs[rng() % std::size(kPairs)];
    out << dept << ",R" << salt << "-" << e << "," << registry_id_number(rng() % persons) << "," << ind << ","
        << node::format_date(node::add_days(today, -static_cast<int64_t>(1 + rng() % 330))) << "\n";
  }
  return out.str();
}

}  // namespace lifeline::testing
