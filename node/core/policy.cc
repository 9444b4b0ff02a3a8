#include "node/core/policy.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <initializer_list>
#include <limits>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <utility>

#include "topology/division_code.h"

namespace lifeline::node {
namespace {

using Json = nlohmann::json;
using topology::DivisionCode;
using topology::Level;

// A policy arrives over links and from operators: bound it. The calendar
// grows by ~25 rows a year and the standards by one row per county, so
// real documents stay far below this.
constexpr size_t kPolicyMaxBytes = size_t{4} << 20;
constexpr size_t kMaxListItems = 10'000;
constexpr size_t kMaxIdentifierBytes = 64;
constexpr uint32_t kLevelCount = 5;
constexpr uint64_t kMaxPoints = 100;
constexpr uint64_t kMaxMinScore = 1'000;
constexpr uint64_t kMaxDeadlineDays = 365;
constexpr uint64_t kMaxWindowMonths = 120;
constexpr double kMaxYuan = 1'000'000.0;

constexpr std::initializer_list<const char*> kDimensions = {"spending_surge", "income_drop", "household_change",
                                                            "other"};
constexpr std::initializer_list<const char*> kActions = {"home_visit", "phone_inquiry"};

bool one_of(const std::string& value, std::initializer_list<const char*> allowed) {
  return std::any_of(allowed.begin(), allowed.end(), [&](const char* a) { return value == a; });
}

std::string joined(std::initializer_list<const char*> names) {
  std::string out;
  for (const char* name : names) out += (out.empty() ? "" : ", ") + std::string(name);
  return out;
}

std::string child(const std::string& path, const std::string& key) { return path.empty() ? key : path + "." + key; }
std::string item(const std::string& path, size_t index) { return path + "[" + std::to_string(index) + "]"; }

// A lower-case ASCII identifier such as serious_illness: codes and
// department names are matched byte for byte across nodes and imports.
bool is_identifier(const std::string& text) {
  if (text.empty() || text.size() > kMaxIdentifierBytes || text[0] < 'a' || text[0] > 'z') return false;
  return std::all_of(text.begin(), text.end(),
                     [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'; });
}

// Reads typed values out of the parsed document. Each read either stores
// into `out` and returns true, or records why not, naming the key, and
// returns false; callers stop at the first false.
class Reader {
 public:
  bool fail(const std::string& path, const std::string& why, const std::string& why_zh) {
    status_ = Status::invalid_argument("policy key \"" + path + "\": " + why).with_zh("政策文件字段 \"" + path + "\"：" + why_zh);
    return false;
  }
  Status status() const { return status_; }

  // An object holding every required key and no key outside required + optional.
  bool object(const Json& v, const std::string& path, std::initializer_list<const char*> required,
              std::initializer_list<const char*> optional = {}) {
    if (!v.is_object()) return fail(path.empty() ? "(document)" : path, "must be an object", "应为 JSON 对象");
    for (const char* key : required) {
      if (!v.contains(key)) return fail(child(path, key), "is missing", "缺失");
    }
    for (const auto& [key, value] : v.items()) {
      if (!one_of(key, required) && !one_of(key, optional)) return fail(child(path, key), "is not a known key", "不是已知的字段");
    }
    return true;
  }
  bool array(const Json& v, const std::string& path, size_t min_items) {
    if (!v.is_array()) return fail(path, "must be an array", "应为数组");
    const std::string min = std::to_string(min_items), max = std::to_string(kMaxListItems);
    if (v.size() < min_items) return fail(path, "must have at least " + min + " item(s)", "至少应有 " + min + " 项");
    if (v.size() > kMaxListItems) return fail(path, "has more than " + max + " items", "超过 " + max + " 项");
    return true;
  }
  template <typename T>
  bool integer(const Json& v, const std::string& path, uint64_t lo, uint64_t hi, T& out) {
    const std::string range = "must be an integer from " + std::to_string(lo) + " to " + std::to_string(hi);
    const std::string range_zh = "应为 " + std::to_string(lo) + " 到 " + std::to_string(hi) + " 之间的整数";
    if (!v.is_number_integer()) return fail(path, range, range_zh);
    // nlohmann stores every non-negative integer it parses as unsigned.
    if (!v.is_number_unsigned()) return fail(path, range + ", got " + v.dump(), range_zh + "，实为 " + v.dump());
    const uint64_t value = v.get<uint64_t>();
    const std::string got = std::to_string(value);
    if (value < lo || value > hi) return fail(path, range + ", got " + got, range_zh + "，实为 " + got);
    out = static_cast<T>(value);
    return true;
  }
  bool string(const Json& v, const std::string& path, bool allow_empty, std::string& out) {
    if (!v.is_string()) return fail(path, "must be a string", "应为字符串");
    if (!allow_empty && v.get_ref<const std::string&>().empty()) return fail(path, "must not be empty", "不能为空");
    out = v.get<std::string>();
    return true;
  }
  bool identifier(const Json& v, const std::string& path, std::string& out) {
    if (!string(v, path, false, out)) return false;
    if (!is_identifier(out))
      return fail(path, "must be lower-case ASCII letters, digits and _, got \"" + out + "\"",
                  "只能由小写英文字母、数字和 _ 组成，实为 \"" + out + "\"");
    return true;
  }
  bool choice(const Json& v, const std::string& path, std::initializer_list<const char*> allowed, std::string& out) {
    if (!string(v, path, false, out)) return false;
    if (!one_of(out, allowed))
      return fail(path, "must be one of " + joined(allowed) + ", got \"" + out + "\"",
                  "应为 " + joined(allowed) + " 之一，实为 \"" + out + "\"");
    return true;
  }
  bool boolean(const Json& v, const std::string& path, bool& out) {
    if (!v.is_boolean()) return fail(path, "must be true or false", "应为 true 或 false");
    out = v.get<bool>();
    return true;
  }
  // A division code written as a string of 12 digits.
  bool code(const Json& v, const std::string& path, uint64_t& out) {
    if (!v.is_string()) return fail(path, "must be a 12-digit division code in a string", "应为字符串形式的 12 位行政区划代码");
    return code_text(v.get<std::string>(), path, out);
  }
  bool code_text(const std::string& text, const std::string& path, uint64_t& out) {
    Result<DivisionCode> parsed = DivisionCode::parse(text);
    if (!parsed) return fail(path, parsed.status().message(), "'" + text + "' 不是有效的 12 位行政区划代码");
    out = parsed->number();
    return true;
  }
  // Yuan with at most two decimals, stored in fen so sums are exact.
  bool fen(const Json& v, const std::string& path, int64_t& out) {
    if (!v.is_number()) return fail(path, "must be a number of yuan", "应为金额（元）");
    const double yuan = v.get<double>();
    if (!(yuan >= 0.01 && yuan <= kMaxYuan))
      return fail(path, "must be from 0.01 to 1000000 yuan, got " + v.dump(), "应为 0.01 到 1000000 元，实为 " + v.dump());
    const std::optional<int64_t> fen = fen_of_yuan(yuan);
    if (!fen) return fail(path, "must have at most 2 decimals", "最多两位小数");
    out = *fen;
    return true;
  }

 private:
  Status status_;  // the first failure; ok while none
};

// The JSON value of a key that Reader::object has confirmed present.
const Json& at(const Json& object, const char* key) { return *object.find(key); }

bool read_departments(Reader& r, const Json& v, const std::string& path, std::vector<std::string>& out) {
  if (!r.array(v, path, 1)) return false;
  for (size_t i = 0; i < v.size(); ++i) {
    std::string department;
    if (!r.identifier(v[i], item(path, i), department)) return false;
    if (std::find(out.begin(), out.end(), department) != out.end()) {
      return r.fail(item(path, i), "duplicate department \"" + department + "\"", "部门 \"" + department + "\" 重复");
    }
    out.push_back(std::move(department));
  }
  return true;
}

bool read_indicator(Reader& r, const Json& v, const std::string& path, Indicator& out) {
  return r.object(v, path, {"code", "name_zh", "name_en", "dimension", "points", "departments"}) &&
         r.identifier(at(v, "code"), child(path, "code"), out.code) &&
         r.string(at(v, "name_zh"), child(path, "name_zh"), false, out.name_zh) &&
         r.string(at(v, "name_en"), child(path, "name_en"), false, out.name_en) &&
         r.choice(at(v, "dimension"), child(path, "dimension"), kDimensions, out.dimension) &&
         r.integer(at(v, "points"), child(path, "points"), 1, kMaxPoints, out.points) &&
         read_departments(r, at(v, "departments"), child(path, "departments"), out.departments);
}

bool read_indicators(Reader& r, const Json& v, std::vector<Indicator>& out) {
  const std::string path = "indicators";
  if (!r.array(v, path, 1)) return false;
  for (size_t i = 0; i < v.size(); ++i) {
    Indicator indicator;
    if (!read_indicator(r, v[i], item(path, i), indicator)) return false;
    const bool seen = std::any_of(out.begin(), out.end(), [&](const Indicator& o) { return o.code == indicator.code; });
    if (seen)
      return r.fail(item(path, i) + ".code", "duplicate indicator \"" + indicator.code + "\"",
                    "指标 \"" + indicator.code + "\" 重复");
    out.push_back(std::move(indicator));
  }
  return true;
}

bool read_level(Reader& r, const Json& v, const std::string& path, LevelRule& out) {
  return r.object(v, path, {"level", "min_score", "deadline_days", "colour", "name_zh", "action"}) &&
         r.integer(at(v, "level"), child(path, "level"), 1, kLevelCount, out.level) &&
         r.integer(at(v, "min_score"), child(path, "min_score"), 1, kMaxMinScore, out.min_score) &&
         r.integer(at(v, "deadline_days"), child(path, "deadline_days"), 1, kMaxDeadlineDays, out.deadline_days) &&
         r.identifier(at(v, "colour"), child(path, "colour"), out.colour) &&
         r.string(at(v, "name_zh"), child(path, "name_zh"), false, out.name_zh) &&
         r.choice(at(v, "action"), child(path, "action"), kActions, out.action);
}

// Levels come in order 1..5 with strictly decreasing thresholds, so that
// every score ≥ level 5's threshold has exactly one most severe level.
bool read_levels(Reader& r, const Json& v, std::vector<LevelRule>& out) {
  const std::string path = "levels";
  if (!r.array(v, path, 0)) return false;
  if (v.size() != kLevelCount) return r.fail(path, "must list exactly the levels 1 to 5", "应恰好列出 1 到 5 级");
  for (size_t i = 0; i < v.size(); ++i) {
    LevelRule rule;
    if (!read_level(r, v[i], item(path, i), rule)) return false;
    if (rule.level != i + 1)
      return r.fail(item(path, i) + ".level", "must be " + std::to_string(i + 1), "应为 " + std::to_string(i + 1));
    if (i > 0 && rule.min_score >= out.back().min_score) {
      const std::string above = std::to_string(i), min = std::to_string(out.back().min_score);
      return r.fail(item(path, i) + ".min_score", "must be below level " + above + "'s min_score " + min,
                    "应低于 " + above + " 级的起始分 " + min);
    }
    out.push_back(std::move(rule));
  }
  return true;
}

bool read_standard(Reader& r, const std::string& key, const Json& v, std::map<uint64_t, CountyStandard>& out) {
  const std::string path = child("standards", key);
  uint64_t county = 0;
  CountyStandard standard;
  if (!r.code_text(key, path, county) || !r.object(v, path, {"urban_yuan", "rural_yuan", "set_by", "illustrative"}) ||
      !r.fen(at(v, "urban_yuan"), child(path, "urban_yuan"), standard.urban_fen) ||
      !r.fen(at(v, "rural_yuan"), child(path, "rural_yuan"), standard.rural_fen) ||
      !r.code(at(v, "set_by"), child(path, "set_by"), standard.set_by) ||
      !r.boolean(at(v, "illustrative"), child(path, "illustrative"), standard.illustrative)) {
    return false;
  }
  const DivisionCode area = DivisionCode::or_invalid(county), setter = DivisionCode::or_invalid(standard.set_by);
  if (area.level() != Level::county && area.level() != Level::city) {
    return r.fail(path, "must be a county (or a city without counties)", "应为县（区）代码（或不设县区的市）");
  }
  if (setter.level() > Level::city || !setter.contains(area)) {
    return r.fail(child(path, "set_by"), "must be the province or city containing " + key, "应为包含 " + key + " 的省或市");
  }
  out.emplace(county, standard);
  return true;
}

bool read_standards(Reader& r, const Json& v, std::map<uint64_t, CountyStandard>& out) {
  if (!v.is_object()) return r.fail("standards", "must be an object keyed by county code", "应为以县（区）代码为键的对象");
  if (v.size() > kMaxListItems) return r.fail("standards", "has too many entries", "条目过多");
  for (const auto& [key, value] : v.items()) {
    if (!read_standard(r, key, value, out)) return false;
  }
  return true;
}

bool read_calendar_entry(Reader& r, const Json& v, const std::string& path, CalendarEntry& out) {
  std::string date, kind;
  if (!r.object(v, path, {"date", "kind", "name"}) || !r.string(at(v, "date"), child(path, "date"), false, date) ||
      !r.choice(at(v, "kind"), child(path, "kind"), {"holiday", "workday"}, kind) ||
      !r.string(at(v, "name"), child(path, "name"), false, out.name)) {
    return false;
  }
  const std::optional<Date> parsed = date.size() == 10 ? parse_date(date) : std::nullopt;
  if (!parsed)
    return r.fail(child(path, "date"), "must be a real date YYYY-MM-DD, got \"" + date + "\"",
                  "应为有效日期 YYYY-MM-DD，实为 \"" + date + "\"");
  out.date = *parsed;
  out.working = kind == "workday";
  return true;
}

bool read_calendar(Reader& r, const Json& v, WorkdayCalendar& out) {
  const std::string path = "calendar";
  if (!r.array(v, path, 0)) return false;
  std::vector<CalendarEntry> entries(v.size());
  for (size_t i = 0; i < v.size(); ++i) {
    if (!read_calendar_entry(r, v[i], item(path, i), entries[i])) return false;
  }
  Result<WorkdayCalendar> calendar = WorkdayCalendar::from_entries(std::move(entries));
  if (!calendar) {
    // The key is named already.
    std::string why = calendar.status().message(), why_zh = calendar.status().message_zh();
    if (why.starts_with("calendar: ")) why.erase(0, std::string_view("calendar: ").size());
    if (why_zh.starts_with("日历：")) why_zh.erase(0, std::string_view("日历：").size());
    return r.fail(path, why, why_zh);
  }
  out = std::move(*calendar);
  return true;
}

bool read_sources(Reader& r, const Json& v, std::vector<std::string>& out) {
  if (!r.array(v, "sources", 0)) return false;
  out.resize(v.size());
  for (size_t i = 0; i < v.size(); ++i) {
    if (!r.string(v[i], item("sources", i), false, out[i])) return false;
  }
  return true;
}

bool read_optional(Reader& r, const Json& doc, Policy& p) {
  if (doc.contains("note") && !r.string(at(doc, "note"), "note", true, p.note)) return false;
  return !doc.contains("sources") || read_sources(r, at(doc, "sources"), p.sources);
}

bool read_policy(Reader& r, const Json& doc, Policy& p) {
  return r.object(doc, "",
                  {"version", "issued_by", "indicators", "levels", "window_months", "marginal_multiplier_permille",
                   "expenditure_ratio_percent", "standards", "calendar"},
                  {"note", "sources"}) &&
         r.integer(at(doc, "version"), "version", 1, std::numeric_limits<uint64_t>::max(), p.version) &&
         r.code(at(doc, "issued_by"), "issued_by", p.issued_by) && read_optional(r, doc, p) &&
         read_indicators(r, at(doc, "indicators"), p.indicators) && read_levels(r, at(doc, "levels"), p.levels) &&
         r.integer(at(doc, "window_months"), "window_months", 1, kMaxWindowMonths, p.window_months) &&
         r.integer(at(doc, "marginal_multiplier_permille"), "marginal_multiplier_permille", 1000, 10'000,
                   p.marginal_multiplier_permille) &&
         r.integer(at(doc, "expenditure_ratio_percent"), "expenditure_ratio_percent", 1, 100,
                   p.expenditure_ratio_percent) &&
         read_standards(r, at(doc, "standards"), p.standards) && read_calendar(r, at(doc, "calendar"), p.calendar);
}

// nlohmann keeps the last of two equal keys in an object; in a policy that
// would silently drop a value the issuer wrote, so a repeat is an error.
Result<Json> parse_json(std::string_view text) {
  std::vector<std::set<std::string>> open_objects;
  std::optional<std::string> duplicate;
  auto watch = [&](int, Json::parse_event_t event, Json& parsed) {
    if (event == Json::parse_event_t::object_start) open_objects.emplace_back();
    if (event == Json::parse_event_t::object_end) open_objects.pop_back();
    if (event == Json::parse_event_t::key && !open_objects.back().insert(parsed.get<std::string>()).second) {
      if (!duplicate) duplicate = parsed.get<std::string>();
    }
    return true;
  };
  Json doc;
  try {
    doc = Json::parse(text.begin(), text.end(), watch);
  } catch (const Json::exception& e) {
    return Status::invalid_argument(std::string("policy: not valid JSON: ") + e.what()).with_zh("政策文件不是有效的 JSON");
  }
  if (duplicate)
    return Status::invalid_argument("policy key \"" + *duplicate + "\": appears twice in one object")
        .with_zh("政策文件字段 \"" + *duplicate + "\" 在同一对象中出现两次");
  return doc;
}

// ---- Writing: the layout of node/policy/default_policy.json, one list
// item per line, so that diffs between versions read line by line.

std::string quote(const std::string& text) { return Json(text).dump(-1, ' ', false, Json::error_handler_t::replace); }

std::string yuan(int64_t fen) {
  const unsigned long long magnitude = fen < 0 ? 0ULL - static_cast<unsigned long long>(fen) : fen;
  char buf[32];
  std::snprintf(buf, sizeof buf, "%s%llu.%02llu", fen < 0 ? "-" : "", magnitude / 100, magnitude % 100);
  return buf;
}

std::string code_string(uint64_t code) { return quote(DivisionCode::format(code)); }

std::string string_list(const std::vector<std::string>& items) {
  std::string out = "[";
  for (size_t i = 0; i < items.size(); ++i) out += (i ? ", " : "") + quote(items[i]);
  return out + "]";
}

std::string indicator_line(const Indicator& i) {
  return "{\"code\": " + quote(i.code) + ", \"name_zh\": " + quote(i.name_zh) + ", \"name_en\": " + quote(i.name_en) +
         ", \"dimension\": " + quote(i.dimension) + ", \"points\": " + std::to_string(i.points) +
         ", \"departments\": " + string_list(i.departments) + "}";
}

std::string level_line(const LevelRule& l) {
  return "{\"level\": " + std::to_string(l.level) + ", \"min_score\": " + std::to_string(l.min_score) +
         ", \"deadline_days\": " + std::to_string(l.deadline_days) + ", \"colour\": " + quote(l.colour) +
         ", \"name_zh\": " + quote(l.name_zh) + ", \"action\": " + quote(l.action) + "}";
}

std::string standard_line(uint64_t county, const CountyStandard& s) {
  return code_string(county) + ": {\"urban_yuan\": " + yuan(s.urban_fen) + ", \"rural_yuan\": " + yuan(s.rural_fen) +
         ", \"set_by\": " + code_string(s.set_by) + ", \"illustrative\": " + (s.illustrative ? "true" : "false") + "}";
}

std::string calendar_line(const CalendarEntry& e) {
  return "{\"date\": " + quote(format_date(e.date)) + ", \"kind\": " + quote(e.working ? "workday" : "holiday") +
         ", \"name\": " + quote(e.name) + "}";
}

// `"key": [` + one line per item + `]` (or `{`...`}`), indented two spaces.
std::string block(const char* key, char open, char close, const std::vector<std::string>& lines) {
  std::string out = "  \"" + std::string(key) + "\": " + open;
  if (lines.empty()) return out + close;
  for (size_t i = 0; i < lines.size(); ++i) out += (i ? ",\n    " : "\n    ") + lines[i];
  return out + "\n  " + close;
}

template <typename T, typename F>
std::vector<std::string> lines_of(const T& items, F line) {
  std::vector<std::string> out;
  for (const auto& i : items) out.push_back(line(i));
  return out;
}

std::string scalar(const char* key, const std::string& value) { return "  \"" + std::string(key) + "\": " + value; }

}  // namespace

const Indicator* Policy::indicator(std::string_view code) const {
  for (const Indicator& i : indicators) {
    if (i.code == code) return &i;
  }
  return nullptr;
}

const LevelRule* Policy::level_for(uint32_t score) const {
  // The most severe level reached; not relying on the order of `levels`
  // keeps this right for a policy built in code without parse_policy.
  const LevelRule* best = nullptr;
  for (const LevelRule& rule : levels) {
    if (score >= rule.min_score && (best == nullptr || rule.level < best->level)) best = &rule;
  }
  return best;
}

const LevelRule* Policy::level(uint32_t level) const {
  for (const LevelRule& rule : levels) {
    if (rule.level == level) return &rule;
  }
  return nullptr;
}

bool Policy::department_known(std::string_view department) const {
  return std::any_of(indicators.begin(), indicators.end(), [&](const Indicator& i) {
    return std::find(i.departments.begin(), i.departments.end(), department) != i.departments.end();
  });
}

Result<Policy> parse_policy(std::string_view json_text) {
  if (json_text.size() > kPolicyMaxBytes) {
    const std::string size = std::to_string(json_text.size()), limit = std::to_string(kPolicyMaxBytes);
    return Status::invalid_argument("policy: document of " + size + " bytes exceeds the limit of " + limit)
        .with_zh("政策文件有 " + size + " 字节，超过上限 " + limit + " 字节");
  }
  Result<Json> doc = parse_json(json_text);
  if (!doc) return doc.status();
  Reader reader;
  Policy policy;
  if (!read_policy(reader, *doc, policy)) return reader.status();
  return policy;
}

std::string policy_to_json(const Policy& p) {
  std::vector<std::string> standards;
  for (const auto& [county, standard] : p.standards) standards.push_back(standard_line(county, standard));
  const std::vector<std::string> parts = {
      scalar("version", std::to_string(p.version)),
      scalar("issued_by", code_string(p.issued_by)),
      scalar("note", quote(p.note)),
      block("sources", '[', ']', lines_of(p.sources, quote)),
      block("indicators", '[', ']', lines_of(p.indicators, indicator_line)),
      block("levels", '[', ']', lines_of(p.levels, level_line)),
      scalar("window_months", std::to_string(p.window_months)),
      scalar("marginal_multiplier_permille", std::to_string(p.marginal_multiplier_permille)),
      scalar("expenditure_ratio_percent", std::to_string(p.expenditure_ratio_percent)),
      block("standards", '{', '}', standards),
      block("calendar", '[', ']', lines_of(p.calendar.entries(), calendar_line)),
  };
  std::string out = "{\n";
  for (size_t i = 0; i < parts.size(); ++i) out += parts[i] + (i + 1 < parts.size() ? ",\n" : "\n");
  return out + "}\n";
}

const Policy& default_policy() {
  // Parsed once; the compiled-in text is checked by the tests, so a failure
  // here is a broken build, not bad input.
  static const Policy policy = [] {
    Result<Policy> parsed = parse_policy(default_policy_json());
    LIFELINE_CHECK(parsed.is_ok(), "the compiled-in default policy is invalid: " + parsed.status().to_string());
    return std::move(parsed).value();
  }();
  return policy;
}

ScoreResult score_household(const Policy& policy, const std::map<std::string, Date>& latest_by_indicator, Date today) {
  // The window is (today − window_months, today]: an event exactly
  // window_months ago has aged out, and a future-dated event (a department's
  // typo or a clock ahead) is not counted until its day comes.
  const Date window_start = subtract_months(today, static_cast<int>(policy.window_months));
  ScoreResult result;
  for (const auto& [code, date] : latest_by_indicator) {
    const Indicator* indicator = policy.indicator(code);
    if (indicator == nullptr || date <= window_start || date > today) continue;
    result.score += indicator->points;
    result.counted.push_back(code);  // the map is ordered, so `counted` is sorted
  }
  const LevelRule* rule = result.score == 0 ? nullptr : policy.level_for(result.score);
  result.level = rule == nullptr ? 0 : rule->level;
  return result;
}

std::optional<int64_t> fen_of_yuan(double yuan) {
  if (!(yuan >= 0.01 && yuan <= kMaxYuan)) return std::nullopt;
  const double scaled = yuan * 100.0;
  const int64_t fen = std::llround(scaled);
  if (std::fabs(scaled - static_cast<double>(fen)) > 1e-6) return std::nullopt;
  return fen;
}

Date due_date(const Policy& policy, uint32_t level, Date issued) {
  // A level the policy lacks (only from a corrupt record: a parsed policy
  // has all of 1..5) has no deadline: 0, the "no date" of protocol::Date.
  const LevelRule* rule = policy.level(level);
  if (rule == nullptr) return 0;
  return policy.calendar.add_working_days(issued, static_cast<int>(rule->deadline_days));
}

}  // namespace lifeline::node
