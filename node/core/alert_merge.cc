#include "node/core/alert_merge.h"

#include <algorithm>
#include <map>

namespace lifeline::node {
namespace {

using protocol::Alert;
using protocol::AlertIndicator;

// The first time a transition happened: the smaller non-zero time.
int64_t first_time(int64_t a, int64_t b) {
  if (a == 0) return b;
  if (b == 0) return a;
  return std::min(a, b);
}

uint32_t min_nonzero(uint32_t a, uint32_t b) {
  if (a == 0) return b;
  if (b == 0) return a;
  return std::min(a, b);
}

std::vector<AlertIndicator> unite(const std::vector<AlertIndicator>& a, const std::vector<AlertIndicator>& b) {
  std::map<std::string, AlertIndicator> by_code;
  for (const auto* list : {&a, &b}) {
    for (const AlertIndicator& i : *list) {
      auto [it, fresh] = by_code.try_emplace(i.code, i);
      if (fresh) continue;
      it->second.points = std::max(it->second.points, i.points);
      it->second.event_date = std::max(it->second.event_date, i.event_date);
    }
  }
  std::vector<AlertIndicator> out;
  for (auto& [code, i] : by_code) out.push_back(i);
  return out;
}

}  // namespace

Alert join_alerts(const Alert& a, const Alert& b) {
  Alert r = a.id <= b.id ? a : b;
  const Alert& other = a.id <= b.id ? b : a;
  r.indicators = unite(a.indicators, b.indicators);
  r.score = 0;
  for (const AlertIndicator& i : r.indicators) r.score += i.points;
  r.level = std::min(a.level, b.level);
  r.generation = std::max(a.generation, b.generation);
  r.issued_date = min_nonzero(a.issued_date, b.issued_date);
  r.due_date = min_nonzero(a.due_date, b.due_date);
  r.state = std::max(a.state, b.state);
  r.issued_hlc = a.issued_hlc == 0 ? b.issued_hlc : b.issued_hlc == 0 ? a.issued_hlc : std::min(a.issued_hlc, b.issued_hlc);
  r.delivered_at_us = first_time(a.delivered_at_us, b.delivered_at_us);
  r.verified_at_us = first_time(a.verified_at_us, b.verified_at_us);
  r.closed_at_us = first_time(a.closed_at_us, b.closed_at_us);
  // The latest escalation (each one is in the case history).
  r.escalated_at_us = std::max(a.escalated_at_us, b.escalated_at_us);
  // The operator who accepted first; equal times: the smaller name, so every replica picks the same.
  r.accepted_at_us = first_time(a.accepted_at_us, b.accepted_at_us);
  const Alert* by = a.accepted_at_us == 0 ? &b : b.accepted_at_us == 0 ? &a
                  : a.accepted_at_us != b.accepted_at_us ? (a.accepted_at_us < b.accepted_at_us ? &a : &b)
                  : (a.accepted_by <= b.accepted_by ? &a : &b);
  r.accepted_by = by->accepted_by;
  std::vector<protocol::AlertId> aliases = a.aliases;
  aliases.insert(aliases.end(), b.aliases.begin(), b.aliases.end());
  if (other.id != r.id) aliases.push_back(other.id);
  std::sort(aliases.begin(), aliases.end());
  aliases.erase(std::unique(aliases.begin(), aliases.end()), aliases.end());
  std::erase(aliases, r.id);
  r.aliases = std::move(aliases);
  return r;
}

const char* alert_state_name(protocol::AlertState state) {
  switch (state) {
    case protocol::AlertState::kIssued: return "issued";
    case protocol::AlertState::kDelivered: return "delivered";
    case protocol::AlertState::kAccepted: return "accepted";
    case protocol::AlertState::kVerified: return "verified";
    case protocol::AlertState::kClosed: return "closed";
  }
  return "unknown";
}

int parse_alert_state(std::string_view name) {
  for (int s = 1; s <= 5; ++s) {
    if (name == alert_state_name(static_cast<protocol::AlertState>(s))) return s;
  }
  return 0;
}

}  // namespace lifeline::node
