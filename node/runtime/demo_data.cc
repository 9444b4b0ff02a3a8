#include "node/runtime/demo_data.h"

#include <algorithm>
#include <array>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <tuple>

#include "node/core/id_number.h"
#include "node/runtime/system_clock.h"

namespace lifeline::runtime {

using nlohmann::json;
using nlohmann::ordered_json;
using node::Date;
using node::Indicator;
using node::Policy;
using topology::DivisionCode;

namespace {

constexpr uint64_t kMinHouseholds = 5;  // one per level
constexpr uint64_t kMaxHouseholds = 1'000'000;
constexpr uint32_t kLevels = 5;
// Share of households with events (percent), and how those spread over
// levels 1..5 (percent; level 5 takes the remainder).
constexpr uint64_t kAlertedPercent = 18;
constexpr std::array<uint64_t, kLevels> kLevelPercent = {10, 12, 15, 18, 45};
constexpr size_t kMaxIndicatorsPerHousehold = 4;
constexpr uint32_t kLevelOneHeadroom = 7;  // a level-1 household scores at most min_score + 7
constexpr int kWindowMarginDays = 1;       // events lie at least this many days after the window's start

// ---------------------------------------------------------------------------
// A small PRNG of our own (SplitMix64): std::uniform_int_distribution and
// friends differ between standard libraries, and the files must not.
class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed) {}
  uint64_t next() {
    uint64_t z = (state_ += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }
  // Uniform in [0, n); n > 0. Rejection keeps it unbiased.
  uint64_t below(uint64_t n) {
    const uint64_t limit = UINT64_MAX - UINT64_MAX % n;
    uint64_t x;
    do x = next();
    while (x >= limit);
    return x % n;
  }
  int between(int lo, int hi) { return lo + static_cast<int>(below(static_cast<uint64_t>(hi - lo + 1))); }
  bool percent(uint64_t p) { return below(100) < p; }
  template <class T>
  const T& pick(const std::vector<T>& v) {
    return v[below(v.size())];
  }

 private:
  uint64_t state_;  // advanced by every draw
};

// Index drawn with the given weights (not all zero).
size_t weighted(Rng& rng, const std::vector<uint64_t>& weights) {
  uint64_t total = 0;
  for (uint64_t w : weights) total += w;
  uint64_t x = rng.below(total);
  for (size_t i = 0; i < weights.size(); ++i) {
    if (x < weights[i]) return i;
    x -= weights[i];
  }
  return weights.size() - 1;
}

// Common surnames of Huizhou (Hakka and Cantonese) and given-name characters.
const std::vector<std::string> kSurnames = {"陈", "李", "黄", "张", "叶", "刘", "曾", "钟", "罗", "邓", "林",
                                            "杨", "吴", "谢", "赖", "温", "廖", "古", "何", "梁", "郑", "朱",
                                            "徐", "江", "巫", "邱", "彭", "卢", "周", "胡", "蔡", "潘"};
const std::vector<std::string> kMaleChars = {"伟", "强", "建", "国", "明", "华", "志", "文", "辉", "俊",
                                             "杰", "浩", "宇", "锦", "荣", "振", "海", "龙", "家", "永",
                                             "德", "胜", "东", "平", "新", "金", "彬", "森", "添", "福"};
const std::vector<std::string> kFemaleChars = {"芳", "丽", "娟", "敏", "静", "秀", "英", "燕", "玲", "红",
                                               "霞", "梅", "婷", "慧", "琴", "雪", "颖", "欣", "怡", "凤",
                                               "娣", "莲", "珍", "兰", "丹", "嘉", "琳", "萍", "月", "桂"};
const std::vector<std::string> kStreets = {"人民路", "新村路", "幸福路", "建设路", "振兴路", "和平街",
                                           "东风街", "围屋巷", "塘尾巷", "榕树街", "文明路", "学府路"};
const std::vector<std::string> kDisabilityKinds = {"physical",     "visual", "hearing", "speech",
                                                   "intellectual", "mental", "multiple"};
const std::vector<std::string> kCategories = {"minimum_living", "marginal", "expenditure_hardship", "other"};
const std::vector<uint64_t> kCategoryWeights = {40, 30, 18, 12};

// The department's prefix for its record ids (YB-2026-000001).
std::string record_prefix(const std::string& department) {
  static const std::map<std::string, std::string> k = {
      {"medical_insurance", "YB"},   {"human_resources", "RS"}, {"education", "JY"},
      {"public_security", "GA"},     {"health", "WJ"},          {"civil_affairs", "MZ"},
      {"disabled_federation", "CL"}, {"emergency", "YJ"},       {"petitions", "XF"}};
  auto it = k.find(department);
  return it == k.end() ? "SJ" : it->second;
}

// ---------------------------------------------------------------------------
// Households

struct Person {
  std::string id_number;
  std::string name;
  std::string relation;  // head, spouse, child, parent, grandchild
  Date birth = 0;
  bool male = false;
  uint32_t disability_grade = 0;  // 0 none, 1..4
  std::string disability_kind;
  bool major_illness = false;
  bool single_person_coverage = false;
};

struct Home {
  uint64_t village = 0;
  std::string category;
  int64_t income_yuan = 0;  // per capita, monthly
  std::string phone;
  std::string address;
  std::vector<Person> members;  // the head first
};

struct Village {
  uint64_t code = 0;
  uint32_t area = 0;       // the first 6 digits: the ID numbers' address part
  std::string place;       // county, township and village names for addresses
  bool community = false;  // 社区 (streets) rather than 村 (村民小组)
};

// Full years between birth and day.
int age_on(Date birth, Date day) {
  return static_cast<int>(day / 10000 - birth / 10000) - (day % 10000 < birth % 10000);
}

// "上塘社区居民委员会" -> "上塘社区", "淡环村民委员会" -> "淡环村".
std::string short_village_name(std::string name) {
  for (const std::string suffix : {"居民委员会", "民委员会"}) {
    if (name.size() > suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0)
      return name.substr(0, name.size() - suffix.size());
  }
  return name;
}

// Makes households one at a time; remembers every ID number so none repeats.
class HouseholdMaker {
 public:
  HouseholdMaker(Rng& rng, Date today) : rng_(rng), today_(today) {}

  Home make(const Village& v) {
    Home h;
    h.village = v.code;
    members(h, v);
    health(h);
    category(h);
    h.phone = phone();
    h.address = address(v);
    return h;
  }

 private:
  enum Shape {
    kElderAlone,
    kElderCouple,
    kElderWithGrandchildren,
    kFamily,
    kThreeGenerations,
    kSingleParent,
    kAdultAlone
  };

  // One draw per statement below: the order in which the operands of `+`
  // or a call's arguments are evaluated is unspecified, and the bytes must
  // not depend on the compiler.
  std::string phone() {
    std::string p = "1";
    p += "358"[rng_.below(3)];
    p += digits(1);
    p += "-0000-";
    p += digits(4);
    return p;
  }

  std::string address(const Village& v) {
    std::string a = v.place;
    if (v.community) {
      a += rng_.pick(kStreets);
      a += std::to_string(rng_.between(1, 188)) + "号";
    } else {
      a += "第" + std::to_string(rng_.between(1, 12)) + "村民小组";
      a += std::to_string(rng_.between(1, 99)) + "号";
    }
    return a + kSyntheticMark;
  }

  std::string digits(int n) {
    std::string s;
    for (int i = 0; i < n; ++i) s += static_cast<char>('0' + rng_.below(10));
    return s;
  }

  std::string name(const std::string& surname, bool male) {
    const auto& chars = male ? kMaleChars : kFemaleChars;
    std::string n = surname + rng_.pick(chars);
    if (rng_.percent(70)) n += rng_.pick(chars);
    return n;
  }

  // A birth date on which the person is exactly `age` on today.
  Date birth_for_age(int age) {
    const Date latest = node::subtract_months(today_, 12 * age);
    const Date earliest = node::add_days(node::subtract_months(today_, 12 * (age + 1)), 1);
    const int64_t span = node::days_from_date(latest) - node::days_from_date(earliest);
    return node::add_days(earliest, static_cast<int64_t>(rng_.below(static_cast<uint64_t>(span) + 1)));
  }

  // GB 11643: area, birth date, a sequence whose last digit is odd for men,
  // the check character; drawn again until unused.
  std::string id_number(uint32_t area, Date birth, bool male) {
    for (;;) {
      const uint64_t seq = rng_.below(100) * 10 + rng_.below(5) * 2 + (male ? 1 : 0);
      char body[18];
      std::snprintf(body, sizeof body, "%06u%08u%03u", area, birth, static_cast<unsigned>(seq));
      std::string id = std::string(body) + node::id_check_char(body);
      if (ids_.insert(id).second) return id;
    }
  }

  void add(Home& h, uint32_t area, const std::string& surname, const std::string& relation, bool male, int age) {
    Person p;
    p.relation = relation;
    p.male = male;
    p.birth = birth_for_age(std::clamp(age, 0, 99));
    p.name = name(surname, male);
    p.id_number = id_number(area, p.birth, male);
    h.members.push_back(std::move(p));
  }

  void members(Home& h, const Village& v) {
    const auto shape = static_cast<Shape>(weighted(rng_, {14, 12, 8, 34, 14, 12, 6}));
    static const std::map<Shape, std::pair<int, int>> head_ages = {
        {kElderAlone, {62, 92}}, {kElderCouple, {60, 85}},      {kElderWithGrandchildren, {58, 80}},
        {kFamily, {26, 55}},     {kThreeGenerations, {28, 52}}, {kSingleParent, {25, 55}},
        {kAdultAlone, {30, 59}}};
    const int head_age = rng_.between(head_ages.at(shape).first, head_ages.at(shape).second);
    const bool head_male = shape == kSingleParent ? rng_.percent(35) : rng_.percent(70);
    const std::string head_surname = rng_.pick(kSurnames);
    add(h, v.area, head_surname, "head", head_male, head_age);
    std::string family = head_surname;  // the children's surname: the father's
    if (shape == kElderCouple || shape == kFamily || shape == kThreeGenerations ||
        (shape == kElderWithGrandchildren && rng_.percent(60))) {
      const std::string spouse_surname = rng_.pick(kSurnames);
      add(h, v.area, spouse_surname, "spouse", !head_male, std::max(20, head_age + rng_.between(-6, 6)));
      if (!head_male) family = spouse_surname;
    }
    if (shape == kThreeGenerations) {
      const bool both = rng_.percent(50), father = both || rng_.percent(50);
      const int father_age = std::min(95, head_age + rng_.between(23, 34));
      if (father) add(h, v.area, head_surname, "parent", true, father_age);
      if (both || !father) {
        const std::string mother_surname = rng_.pick(kSurnames);
        add(h, v.area, mother_surname, "parent", false, father_age - rng_.between(0, 4));
      }
    }
    children(h, v, shape, head_age, family);
  }

  void children(Home& h, const Village& v, Shape shape, int head_age, const std::string& family) {
    int n = 0, max_age = 0;
    std::string relation = "child";
    switch (shape) {
      case kFamily:
        n = rng_.between(1, 3);
        max_age = std::min(head_age - 20, 24);
        break;
      case kThreeGenerations:
        n = rng_.between(1, 2);
        max_age = std::min(head_age - 20, 22);
        break;
      case kSingleParent:
        n = rng_.between(1, 3);
        max_age = std::min(head_age - 19, 22);
        break;
      case kElderWithGrandchildren:
        n = rng_.between(1, 2);
        max_age = 16;
        relation = "grandchild";
        break;
      default:
        return;
    }
    for (int i = 0; i < n && h.members.size() < 5; ++i) {
      const bool male = rng_.percent(52);
      add(h, v.area, family, relation, male, rng_.between(0, std::max(0, max_age)));
    }
  }

  void health(Home& h) {
    for (Person& p : h.members) {
      const int age = age_on(p.birth, today_);
      if (rng_.percent(age >= 60 ? 10 : 4)) {
        p.disability_grade = static_cast<uint32_t>(weighted(rng_, {15, 25, 30, 30})) + 1;
        p.disability_kind = rng_.pick(kDisabilityKinds);
      }
      p.major_illness = rng_.percent(age >= 50 ? 12 : 3);
    }
  }

  void category(Home& h) {
    const Person& head = h.members.front();
    const bool alone = h.members.size() == 1;
    if (alone && (age_on(head.birth, today_) >= 60 || head.disability_grade != 0) && rng_.percent(45)) {
      h.category = "destitute";  // 特困: no ability to work and no one obliged to support
    } else {
      h.category = kCategories[weighted(rng_, kCategoryWeights)];
    }
    // 单人保: one seriously ill or disabled member of a larger household covered alone.
    if (h.category == "marginal" && !alone) {
      for (Person& p : h.members) {
        if ((p.major_illness || (p.disability_grade != 0 && p.disability_grade <= 2)) && rng_.percent(50)) {
          p.single_person_coverage = true;
          break;
        }
      }
    }
    // Illustrative yuan per person per month, in line with the demo's
    // illustrative standards (node/demo.sh): 低保 under ~1,000, 边缘 under 1.5x.
    static const std::map<std::string, std::pair<int, int>> income = {{"minimum_living", {200, 980}},
                                                                      {"destitute", {0, 500}},
                                                                      {"marginal", {1000, 1700}},
                                                                      {"expenditure_hardship", {1200, 3000}},
                                                                      {"other", {900, 2500}}};
    const auto [lo, hi] = income.at(h.category);
    h.income_yuan = lo + 10 * rng_.between(0, (hi - lo) / 10);
  }

  Rng& rng_;                   // shared with the caller; not owned
  Date today_;                 // ages and birth dates are relative to it
  std::set<std::string> ids_;  // every ID number issued so far
};

ordered_json household_json(const Home& h) {
  ordered_json members = ordered_json::array();
  for (const Person& p : h.members) {
    ordered_json m{{"id_number", p.id_number}, {"name", p.name}, {"relation", p.relation}};
    if (p.disability_grade != 0) {
      m["disability_grade"] = p.disability_grade;
      m["disability_kind"] = p.disability_kind;
    }
    if (p.major_illness) m["major_illness"] = true;
    if (p.single_person_coverage) m["single_person_coverage"] = true;
    members.push_back(std::move(m));
  }
  return ordered_json{{"village", DivisionCode::format(h.village)},
                      {"category", h.category},
                      {"income_yuan", h.income_yuan},
                      {"phone", h.phone},
                      {"address", h.address},
                      {"source", "synthetic"},
                      {"members", members}};
}

// ---------------------------------------------------------------------------
// Events

struct Event {
  std::string department;
  std::string record_id;
  std::string id_number;
  std::string indicator;
  Date date = 0;
};

// Makes the events of one household for a target level from the policy's
// indicators: only indicators some member can plausibly be the subject of
// (an enrolment for a school-age child, a birth for an infant, ...), their
// points summing to a score of that level.
class EventMaker {
 public:
  EventMaker(Rng& rng, const Policy& policy, Date today)
      : rng_(rng),
        policy_(policy),
        today_(today),
        window_start_(node::subtract_months(today, static_cast<int>(policy.window_months))) {}

  // The events, or nullopt when no combination of this household's
  // plausible indicators scores `level`.
  std::optional<std::vector<Event>> make(const Home& h, uint32_t level) {
    std::vector<std::pair<const Indicator*, std::vector<size_t>>> usable;
    for (const Indicator& ind : policy_.indicators) {
      auto who = subjects(ind.code, h);
      if (!who.empty() && !ind.departments.empty()) usable.emplace_back(&ind, std::move(who));
    }
    std::vector<std::vector<size_t>> combos;
    std::vector<size_t> chosen;
    find_combos(usable, level, 0, 0, chosen, combos);
    if (combos.empty()) return std::nullopt;
    std::vector<Event> out;
    for (size_t i : rng_.pick(combos)) {
      const auto& [ind, who] = usable[i];
      const Person& p = h.members[rng_.pick(who)];
      out.push_back(event(*ind, p));
      // A second record of the same indicator (another claim, another
      // month's lapse) counts once: realistic, and it leaves the score alone.
      if (ind->code != "birth" && ind->code != "death" && rng_.percent(12)) out.push_back(event(*ind, p));
    }
    deaths_last(out);
    return out;
  }

  // Whether every level can be reached at all with this policy.
  Status check_policy() const {
    for (uint32_t level = 1; level <= kLevels; ++level) {
      if (policy_.level(level) == nullptr)
        return Status::invalid_argument("the policy has no level " + std::to_string(level));
      std::vector<std::pair<const Indicator*, std::vector<size_t>>> all;
      for (const Indicator& ind : policy_.indicators) all.emplace_back(&ind, std::vector<size_t>{0});
      std::vector<std::vector<size_t>> combos;
      std::vector<size_t> chosen;
      find_combos(all, level, 0, 0, chosen, combos);
      if (combos.empty())
        return Status::invalid_argument("no combination of at most " + std::to_string(kMaxIndicatorsPerHousehold) +
                                        " indicators of the policy scores level " + std::to_string(level));
    }
    return Status::ok();
  }

 private:
  // Members (indices) an event of this indicator may plausibly be about.
  std::vector<size_t> subjects(const std::string& code, const Home& h) const {
    std::vector<size_t> out;
    for (size_t i = 0; i < h.members.size(); ++i) {
      if (plausible(code, h.members[i], age_on(h.members[i].birth, today_))) out.push_back(i);
    }
    return out;
  }

  // Whether an event of indicator `code` can be about p, aged `age` today.
  // An indicator not named here (a newer policy's) fits anyone.
  bool plausible(const std::string& code, const Person& p, int age) const {
    const bool young = p.relation == "child" || p.relation == "grandchild";
    if (code == "birth") return p.birth > add_days(window_start_, kWindowMarginDays);
    if (code == "school_enrolment") return young && age >= 6 && age <= 15;
    if (code == "college_admission") return young && age >= 17 && age <= 21;
    if (code == "death") return age >= 55;
    if (code == "marriage_change") return age >= 20 && age <= 75;
    if (code == "unemployment" || code == "insurance_lapse") return age >= 18 && age <= 60;
    if (code == "disaster" || code == "petition") return p.relation == "head";
    if (code == "disability_change") return p.disability_grade != 0 || age >= 3;
    return true;
  }

  bool scores_level(uint32_t score, uint32_t level) const {
    const node::LevelRule* rule = policy_.level_for(score);
    if (rule == nullptr || rule->level != level) return false;
    return level != 1 || score <= rule->min_score + kLevelOneHeadroom;
  }

  // Every set of at most kMaxIndicatorsPerHousehold usable indicators
  // (indices from `from` on, added to `chosen`) whose points score `level`.
  void find_combos(const std::vector<std::pair<const Indicator*, std::vector<size_t>>>& usable, uint32_t level,
                   size_t from, uint32_t score, std::vector<size_t>& chosen,
                   std::vector<std::vector<size_t>>& out) const {
    if (!chosen.empty() && scores_level(score, level)) out.push_back(chosen);
    if (chosen.size() == kMaxIndicatorsPerHousehold) return;
    for (size_t i = from; i < usable.size(); ++i) {
      chosen.push_back(i);
      find_combos(usable, level, i + 1, score + usable[i].first->points, chosen, out);
      chosen.pop_back();
    }
  }

  Event event(const Indicator& ind, const Person& p) {
    Event e;
    e.department = rng_.pick(ind.departments);
    e.id_number = p.id_number;
    e.indicator = ind.code;
    e.date = date_for(ind.code, p);
    char id[40];
    std::snprintf(id, sizeof id, "%s-%04u-%06llu", record_prefix(e.department).c_str(), e.date / 10000,
                  static_cast<unsigned long long>(++next_record_[e.department]));
    e.record_id = id;
    return e;
  }

  // Inside (window start, today], not before the person's birth; a birth on
  // the day of birth; an enrolment on the latest 1 September when it is in
  // the window.
  Date date_for(const std::string& code, const Person& p) {
    if (code == "birth") return p.birth;
    if (code == "school_enrolment" || code == "college_admission") {
      Date sept = (today_ / 10000) * 10000 + 901;
      if (sept > today_) sept -= 10000;
      if (sept > add_days(window_start_, kWindowMarginDays)) return sept;
    }
    const Date first = std::max(add_days(window_start_, kWindowMarginDays + 1), p.birth);
    const int64_t span = node::days_from_date(today_) - node::days_from_date(first);
    return add_days(first, static_cast<int64_t>(rng_.below(static_cast<uint64_t>(std::max<int64_t>(span, 0)) + 1)));
  }

  // A dead person's other events happened before the death.
  void deaths_last(std::vector<Event>& events) {
    for (Event& d : events) {
      if (d.indicator != "death") continue;
      for (const Event& e : events) {
        if (&e != &d && e.id_number == d.id_number && e.date >= d.date)
          d.date = std::min(today_, add_days(e.date, rng_.between(1, 20)));
      }
    }
  }

  static Date add_days(Date d, int64_t n) { return node::add_days(d, n); }

  Rng& rng_;                                     // shared with the caller; not owned
  const Policy& policy_;                         // outlives the maker
  Date today_;                                   // events are not after it
  Date window_start_;                            // events are after it
  std::map<std::string, uint64_t> next_record_;  // last record number per department
};

// How many households get events at each level (each at least one).
std::array<uint64_t, kLevels> level_targets(uint64_t households) {
  const uint64_t alerted = std::clamp<uint64_t>(households * kAlertedPercent / 100, kLevels, households);
  std::array<uint64_t, kLevels> n{};
  uint64_t assigned = 0;
  for (uint32_t l = 0; l + 1 < kLevels; ++l) {
    n[l] = std::max<uint64_t>(1, alerted * kLevelPercent[l] / 100);
    assigned += n[l];
  }
  n[kLevels - 1] = alerted - assigned;
  return n;
}

// ---------------------------------------------------------------------------
// Checks and output

Result<std::vector<Village>> check_villages(const std::vector<std::string>& codes,
                                            const topology::JurisdictionTree& tree) {
  if (codes.empty()) return Status::invalid_argument("--villages: give at least one village code");
  std::vector<Village> out;
  std::set<uint64_t> seen;
  for (const std::string& text : codes) {
    auto code = DivisionCode::parse(text);
    if (!code) return Status::invalid_argument("--villages: '" + text + "': " + code.status().message());
    const topology::Division* d = tree.get(*code);
    if (d == nullptr) return Status::invalid_argument("--villages: " + text + " is not in the divisions file");
    if (d->level != topology::Level::village)
      return Status::invalid_argument("--villages: " + text + " (" + d->name + ") is a " +
                                      topology::level_name(d->level) + ", not a village");
    if (!seen.insert(code->number()).second)
      return Status::invalid_argument("--villages: " + text + " is listed twice");
    const topology::Division* township = tree.get(d->parent);
    const topology::Division* county = township ? tree.get(township->parent) : nullptr;
    Village v;
    v.code = code->number();
    v.area = static_cast<uint32_t>(v.code / 1'000'000);
    v.community = d->name.find("社区") != std::string::npos;
    v.place = (county && county->level == topology::Level::county ? county->name : "") +
              (township ? township->name : "") + short_village_name(d->name);
    out.push_back(std::move(v));
  }
  return out;
}

Status check_options(const DemoDataOptions& o) {
  if (o.households < kMinHouseholds || o.households > kMaxHouseholds)
    return Status::invalid_argument("--households must be from " + std::to_string(kMinHouseholds) +
                                    " (one per alert level) to " + std::to_string(kMaxHouseholds));
  if (o.today == 0 || !node::parse_date(node::format_date(o.today)))
    return Status::invalid_argument("today must be a real date");
  return Status::ok();
}

std::string readme(const DemoDataOptions& o, const json& expected) {
  std::ostringstream s;
  s << "合成演示数据，非真实个人信息。\n"
       "Synthetic demo data: no real person is described.\n\n"
       "由 `lifeline demo-data` 生成（seed "
    << o.seed << "，日期 " << node::format_date(o.today)
    << "）：\n"
       "姓名由常见姓氏与名字用字随机组合；身份证号码为虚构号码（格式与校验位符合 GB 11643，前 6 位取自村代码）；\n"
       "电话号码形如 1xx-0000-xxxx，为虚构号码；每个地址都带“"
    << kSyntheticMark
    << "”标记；\n"
       "类别、人均月收入和部门事件均为示意数据。演示中的低保标准仅为示意，不是正式标准。\n\n"
       "Made by `lifeline demo-data` (seed "
    << o.seed << ", today " << node::format_date(o.today)
    << "). Names are random\n"
       "combinations of common surnames and given-name characters; ID numbers are invented (valid GB 11643 form and\n"
       "check character, address part from the village code); phone numbers are 1xx-0000-xxxx; every address ends\n"
       "with the mark "
    << kSyntheticMark
    << ". Categories, incomes and events are illustrative.\n\n"
       "households.jsonl  "
    << expected["households"] << " households, " << expected["persons"]
    << " persons (lifeline household import, at each village's node)\n"
       "events.csv        "
    << expected["events"]
    << " department events (lifeline import)\n"
       "expected.json     the counts, and the households expected at each alert level after the import\n";
  return s.str();
}

Status write_text(const std::filesystem::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  out.close();
  if (!out) return Status::io_error("cannot write " + path.string());
  return Status::ok();
}

// Which households carry events, at which level, and the events.
struct Assignment {
  std::vector<uint32_t> level_of;  // per household: 0 (no events) or the level its events score
  std::vector<Event> events;       // sorted by date, department, record id
};

// Households in a shuffled order take the levels' events, the most
// demanding level first; one that cannot carry a level waits for the next.
Result<Assignment> assign_events(const std::vector<Home>& homes, EventMaker& maker, Rng& rng) {
  std::vector<size_t> order(homes.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  for (size_t i = order.size(); i > 1; --i) std::swap(order[i - 1], order[rng.below(i)]);
  Assignment a;
  a.level_of.assign(homes.size(), 0);
  const auto targets = level_targets(homes.size());
  for (uint32_t level = 1; level <= kLevels; ++level) {
    uint64_t done = 0;
    for (size_t k = 0; k < order.size() && done < targets[level - 1]; ++k) {
      if (a.level_of[order[k]] != 0) continue;
      auto ev = maker.make(homes[order[k]], level);
      if (!ev) continue;
      a.level_of[order[k]] = level;
      a.events.insert(a.events.end(), ev->begin(), ev->end());
      ++done;
    }
    if (done < targets[level - 1])
      return Status::invalid_argument("too few households can carry the events of level " + std::to_string(level) +
                                      "; give more households");
  }
  std::sort(a.events.begin(), a.events.end(), [](const Event& x, const Event& y) {
    return std::tie(x.date, x.department, x.record_id) < std::tie(y.date, y.department, y.record_id);
  });
  return a;
}

json zero_levels() {
  json j = json::object();
  for (uint32_t l = 1; l <= kLevels; ++l) j[std::to_string(l)] = 0;
  return j;
}

// expected.json's object (format in the header).
json expected_json(const DemoDataOptions& o, const Policy& policy, const std::vector<Home>& homes,
                   const Assignment& a) {
  json by_level = zero_levels(), villages = json::object();
  uint64_t persons = 0, alerted = 0;
  for (size_t i = 0; i < homes.size(); ++i) {
    json& v = villages[DivisionCode::format(homes[i].village)];
    if (v.is_null()) v = json{{"households", 0}, {"persons", 0}, {"alerts_by_level", zero_levels()}};
    v["households"] = v["households"].get<uint64_t>() + 1;
    v["persons"] = v["persons"].get<uint64_t>() + homes[i].members.size();
    persons += homes[i].members.size();
    if (a.level_of[i] == 0) continue;
    ++alerted;
    const std::string l = std::to_string(a.level_of[i]);
    by_level[l] = by_level[l].get<uint64_t>() + 1;
    v["alerts_by_level"][l] = v["alerts_by_level"][l].get<uint64_t>() + 1;
  }
  return json{{"synthetic", true},
              {"seed", o.seed},
              {"today", node::format_date(o.today)},
              {"policy_version", policy.version},
              {"households", homes.size()},
              {"persons", persons},
              {"events", a.events.size()},
              {"alerted_households", alerted},
              {"alerts_by_level", by_level},
              {"villages", villages}};
}

std::string events_csv(const std::vector<Event>& events) {
  std::string out = "source_department,source_record_id,id_number,indicator,event_date\n";
  for (const Event& e : events)
    out += e.department + "," + e.record_id + "," + e.id_number + "," + e.indicator + "," + node::format_date(e.date) +
           "\n";
  return out;
}

}  // namespace

Result<DemoData> generate_demo_data(const DemoDataOptions& o, const topology::JurisdictionTree& tree,
                                    const Policy& policy) {
  if (Status s = check_options(o); !s) return s;
  auto villages = check_villages(o.villages, tree);
  if (!villages) return villages.status();
  Rng household_rng(o.seed);
  Rng event_rng(o.seed ^ 0x6C6966656C696E65ULL);  // a separate stream: events change without moving households
  EventMaker events(event_rng, policy, o.today);
  if (Status s = events.check_policy(); !s) return s;

  HouseholdMaker maker(household_rng, o.today);
  std::vector<Home> homes;
  homes.reserve(o.households);
  for (uint64_t i = 0; i < o.households; ++i) homes.push_back(maker.make((*villages)[i % villages->size()]));
  auto assignment = assign_events(homes, events, event_rng);
  if (!assignment) return assignment.status();

  DemoData out;
  for (const Home& h : homes) out.households_jsonl += household_json(h).dump() + "\n";
  out.events_csv = events_csv(assignment->events);
  out.expected = expected_json(o, policy, homes, *assignment);
  out.expected_json = out.expected.dump(2) + "\n";
  out.readme_txt = readme(o, out.expected);
  return out;
}

Result<json> write_demo_data(const DemoDataOptions& o, const Policy& policy) {
  auto tree = topology::JurisdictionTree::load_csv_file(o.divisions_path);
  if (!tree) return tree.status();
  auto data = generate_demo_data(o, *tree, policy);
  if (!data) return data.status();
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::create_directories(o.out_dir, ec);
  if (ec) return Status::io_error("cannot create " + o.out_dir + ": " + ec.message());
  const fs::path dir(o.out_dir);
  const std::array<std::pair<const char*, const std::string*>, 4> files = {
      {{"households.jsonl", &data->households_jsonl},
       {"events.csv", &data->events_csv},
       {"expected.json", &data->expected_json},
       {"README.txt", &data->readme_txt}}};
  for (const auto& [name, text] : files) {
    if (Status s = write_text(dir / name, *text); !s) return s;
  }
  return data->expected;
}

Result<json> run_demo_data(const DemoDataCommand& c) {
  DemoDataOptions o;
  o.divisions_path = c.divisions;
  o.households = c.households;
  o.seed = c.seed;
  o.out_dir = c.out;
  for (size_t b = 0, e; b <= c.villages.size(); b = e + 1) {
    e = std::min(c.villages.find(',', b), c.villages.size());
    if (e > b) o.villages.push_back(c.villages.substr(b, e - b));
  }
  if (c.today.empty()) {
    o.today = node::shanghai_date(system_now().wall_us);
  } else {
    auto d = node::parse_date(c.today);
    if (!d) return Status::invalid_argument("--today '" + c.today + "' is not a date YYYY-MM-DD");
    o.today = *d;
  }
  Policy policy = node::default_policy();
  if (!c.policy.empty()) {
    std::ifstream in(c.policy, std::ios::binary);
    if (!in) return Status::invalid_argument("cannot read " + c.policy);
    std::ostringstream text;
    text << in.rdbuf();
    auto p = node::parse_policy(text.str());
    if (!p) return Status::invalid_argument(c.policy + ": " + p.status().message());
    policy = std::move(*p);
  }
  auto expected = write_demo_data(o, policy);
  if (!expected) return expected;
  (*expected)["out"] = c.out;
  return expected;
}

}  // namespace lifeline::runtime
