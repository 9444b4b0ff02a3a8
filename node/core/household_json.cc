#include "node/core/household_json.h"

#include <set>

#include "topology/division_code.h"

namespace lifeline::node {

using nlohmann::json;

namespace {

Status bad(std::string en, std::string zh) { return Status::invalid_argument(std::move(en)).with_zh(std::move(zh)); }

// Checks that j is an object whose keys are all in allowed. what_zh names
// the object for operators.
Status only_keys(const json& j, const std::set<std::string>& allowed, const char* what, const char* what_zh) {
  if (!j.is_object())
    return bad(std::string(what) + ": expected a JSON object", std::string(what_zh) + "应为 JSON 对象");
  for (auto& [k, v] : j.items()) {
    if (!allowed.count(k))
      return bad(std::string(what) + ": unknown field '" + k + "'", std::string(what_zh) + "中有未知字段 '" + k + "'");
  }
  return Status::ok();
}

// A key whose value is null counts as absent (web/API.md §1).
Status text(const json& j, const char* key, std::string& out, bool required) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null())
    return required ? bad(std::string("missing field '") + key + "'", std::string("缺少字段 '") + key + "'") : Status::ok();
  if (!it->is_string())
    return bad(std::string("field '") + key + "' must be a string", std::string("字段 '") + key + "' 应为字符串");
  out = it->get<std::string>();
  return Status::ok();
}

Status flag(const json& j, const char* key, bool& out) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return Status::ok();
  if (!it->is_boolean())
    return bad(std::string("field '") + key + "' must be true or false", std::string("字段 '") + key + "' 应为 true 或 false");
  out = it->get<bool>();
  return Status::ok();
}

}  // namespace

Result<protocol::Member> member_from_json(const json& m) {
  Status s = only_keys(m, {"id_number", "name", "relation", "disability_grade", "disability_kind", "major_illness",
                           "single_person_coverage"}, "member", "家庭成员");
  protocol::Member out;
  for (Status t : {s, text(m, "id_number", out.id_number, true), text(m, "name", out.name, true),
                   text(m, "relation", out.relation, true), text(m, "disability_kind", out.disability_kind, false),
                   flag(m, "major_illness", out.major_illness), flag(m, "single_person_coverage", out.single_person_coverage)}) {
    if (!t) return bad("member: " + t.message(), "家庭成员：" + t.message_zh());
  }
  if (m.contains("disability_grade")) {
    // JSON has no signedness: a 2 built in code is a signed number, one parsed from text unsigned.
    const json& g = m["disability_grade"];
    if (!g.is_number_integer() || g.get<int64_t>() < 0 || g.get<int64_t>() > 4)
      return bad("member: field 'disability_grade' must be 0..4", "家庭成员：字段 'disability_grade'（残疾等级）应为 0 到 4");
    out.disability_grade = m["disability_grade"].get<uint32_t>();
  }
  return out;
}

Result<NewHousehold> household_from_json(const json& h) {
  Status s = only_keys(h, {"village", "category", "income_yuan", "phone", "address", "source", "members"}, "household", "家庭");
  if (!s) return s;
  NewHousehold out;
  std::string village;
  for (Status t : {text(h, "village", village, true), text(h, "category", out.category, true),
                   text(h, "phone", out.phone, false), text(h, "address", out.address, false),
                   text(h, "source", out.source, false)}) {
    if (!t) return t;
  }
  auto code = topology::DivisionCode::parse(village);
  if (!code)
    return bad("field 'village': " + code.status().message(), "字段 'village'（村代码）不是有效的 12 位行政区划代码：'" + village + "'");
  out.village = code->number();
  if (h.contains("income_yuan")) {
    if (!h["income_yuan"].is_number() || h["income_yuan"].get<double>() < 0 || h["income_yuan"].get<double>() > 1e7)
      return bad("field 'income_yuan' must be a number from 0 to 10,000,000",
                 "字段 'income_yuan'（人均收入，元）应为 0 到 10,000,000 之间的数");
    out.income_fen = static_cast<int64_t>(h["income_yuan"].get<double>() * 100 + 0.5);
  }
  if (!h.contains("members") || !h["members"].is_array())
    return bad("field 'members' must be a list", "字段 'members'（家庭成员）应为列表");
  for (const json& m : h["members"]) {
    auto mem = member_from_json(m);
    if (!mem) return mem.status();
    out.members.push_back(std::move(*mem));
  }
  return out;
}

}  // namespace lifeline::node
