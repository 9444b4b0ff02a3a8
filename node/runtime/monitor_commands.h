// The monitoring commands of the control surface (`lifeline import`,
// `alerts`, `accept`, `feedback`, `close`, `escalate`, `household`, `apply`,
// `aggregates`, `policy`): a request is one JSON object with "cmd"; the
// reply is {"ok": true, ...} or {"ok": false, "error": "..."} (with
// "error_zh", the cause in Chinese, where the refusal has one). Lists mask ID
// numbers and names; `household show` is the case page and shows them whole.
// Runs on the node loop (or in the CLI on a stopped node's store).
#pragma once

#include <nlohmann/json.hpp>

#include "node/core/clock.h"
#include "node/core/monitor.h"
#include "node/core/monitor_queries.h"

namespace lifeline::runtime {

// True when cmd names a monitoring command.
bool is_monitor_command(const std::string& cmd);

nlohmann::json answer_monitor(node::Monitor& monitor, const nlohmann::json& request, const node::Instant& now);

// JSON views shared with the web API later.
nlohmann::json alert_json(const node::AlertView& view, const node::Policy& policy);
// Appends alert_json(view, policy).dump() to out, written directly: the
// same bytes without building the JSON tree (the API's lists, where the
// tree's allocations were a third of the node's time under load).
void append_alert_json(std::string& out, const node::AlertView& view, const node::Policy& policy);
nlohmann::json case_json(const node::CaseFile& file, const node::Policy& policy, node::Date today);
nlohmann::json import_report_json(const node::ImportReport& report);
// A page of persons claimed by two households (node/core/monitor_queries.h),
// ID numbers and names masked: {"conflicts": [...], "count", "next"}.
nlohmann::json conflicts_json(const node::ConflictPage& page);

}  // namespace lifeline::runtime
