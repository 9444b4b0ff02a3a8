// The join of two replicas of one alert (DESIGN §2.4): indicators united
// (each code once, its highest points and latest date), score their sum,
// the more severe level, the earlier deadline, the later state, the first
// time of each transition, aliases united. Commutative, associative and
// idempotent, so replicas agree whatever order they hear of changes in.
//
// Pure; thread-safe.
#pragma once

#include "protocol/domain.h"

namespace lifeline::node {

// Joins b into a. The result keeps the smaller of the two ids; the other
// becomes an alias. Requires a.household == b.household.
protocol::Alert join_alerts(const protocol::Alert& a, const protocol::Alert& b);

// True for states before verified.
inline bool alert_open(const protocol::Alert& a) { return a.state < protocol::AlertState::kVerified; }
// Open and past its deadline (the end of its due day) on `today`.
inline bool alert_overdue(const protocol::Alert& a, protocol::Date today) { return alert_open(a) && a.due_date < today; }

// Whether alert a holds indicator i's code with an event at least as late:
// a visit for a saw what i says.
inline bool indicator_covered(const protocol::Alert& a, const protocol::AlertIndicator& i) {
  for (const protocol::AlertIndicator& f : a.indicators) {
    if (f.code == i.code) return f.event_date >= i.event_date;
  }
  return false;
}

const char* alert_state_name(protocol::AlertState state);
// "issued" ... "closed" -> the state; 0 when unknown.
int parse_alert_state(std::string_view name);

}  // namespace lifeline::node
