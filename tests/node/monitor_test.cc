// The Monitor over a small network of real nodes (tests/testing/monitor_network.h):
// province → city → two counties → townships → three villages. Each test
// drives operators' commands at some nodes, lets the links carry the
// changes, and checks what every holder (and every non-holder) ends up with.
#include "node/core/monitor.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <sstream>

#include <spdlog/sinks/ostream_sink.h>

#include "node/core/alert_merge.h"
#include "node/core/monitor_queries.h"
#include "node/core/monitor_tables.h"
#include "protocol/codec.h"
#include "protocol/domain_codec.h"
#include "topology/logging.h"
#include "tests/testing/domain_fixtures.h"
#include "tests/testing/monitor_network.h"
#include "tests/testing/registry_fixtures.h"

namespace lifeline::node {
namespace {

using protocol::Alert;
using protocol::AlertState;
using protocol::HouseholdId;
using testing::EventLine;
using testing::HeldHousehold;

constexpr uint64_t kProvince = 440000000000;
constexpr uint64_t kCity = 441300000000;
constexpr uint64_t kCounty = 441303000000;
constexpr uint64_t kTownship = 441303001000;
constexpr uint64_t kVillage = 441303001001;
constexpr uint64_t kVillage2 = 441303001002;
constexpr uint64_t kOtherCounty = 441302000000;
constexpr uint64_t kOtherTownship = 441302001000;
constexpr uint64_t kOtherVillage = 441302001001;

// The holders of a household of kVillage, and the nodes that are not.
const std::vector<uint64_t> kHolders = {kProvince, kCity, kCounty, kTownship, kVillage};
const std::vector<uint64_t> kNonHolders = {kVillage2, kOtherCounty, kOtherTownship, kOtherVillage};

const std::string kHead = testing::make_id_number(441303, 19800101, 11);
const std::string kSpouse = testing::make_id_number(441303, 19820202, 22);
const std::string kChild = testing::make_id_number(441303, 20100303, 33);
const std::string kStranger = testing::make_id_number(441303, 19700404, 44);

// The indicator codes of an alert.
std::vector<std::string> indicator_codes(const Alert& a) {
  std::vector<std::string> codes;
  for (auto& i : a.indicators) codes.push_back(i.code);
  return codes;
}

class MonitorTest : public ::testing::Test {
 protected:
  MonitorTest()
      : net({{kProvince, 0},
             {kCity, kProvince},
             {kCounty, kCity},
             {kTownship, kCounty},
             {kVillage, kTownship},
             {kVillage2, kTownship},
             {kOtherCounty, kCity},
             {kOtherTownship, kOtherCounty},
             {kOtherVillage, kOtherTownship}}) {
    (void)set_log_level("warning");
    EXPECT_TRUE(net.settle());
  }

  // The one open alert at each holder, each checked to hold every code of
  // `codes` (DESIGN §2.4: at most one open alert per household).
  std::vector<Alert> open_alert_at_each_holder(const std::vector<std::string>& codes) {
    std::vector<Alert> out;
    AlertFilter open_only;
    open_only.open_only = true;
    for (uint64_t c : kHolders) {
      auto open = alerts(c, open_only);
      EXPECT_EQ(open.size(), 1u) << "not one open alert at " << c;
      if (open.size() != 1) continue;
      auto got = indicator_codes(open.front().alert);
      for (const std::string& code : codes)
        EXPECT_NE(std::find(got.begin(), got.end(), code), got.end()) << "no open alert for " << code << " at " << c;
      out.push_back(open.front().alert);
    }
    return out;
  }

  HouseholdId add_household(uint64_t at, uint64_t village, std::vector<protocol::Member> members = {}) {
    NewHousehold h;
    h.village = village;
    h.category = "marginal";
    h.income_fen = 52000;
    h.phone = "13800000000";
    h.address = "淡水街道某村 3 号";
    h.members = members.empty() ? std::vector<protocol::Member>{testing::member(kHead, "张三明", "head"),
                                                                 testing::member(kSpouse, "李四", "spouse"),
                                                                 testing::member(kChild, "张小明", "child")}
                                : members;
    auto id = net.monitor(at).add_household(h, net.now());
    EXPECT_TRUE(id.is_ok()) << id.status().to_string();
    return id.is_ok() ? *id : HouseholdId{};
  }

  ImportReport import(uint64_t at, const std::vector<EventLine>& lines) {
    auto r = net.monitor(at).import_events(testing::events_csv(lines), ImportFormat::kCsv, net.now());
    EXPECT_TRUE(r.is_ok()) << r.status().to_string();
    return r.is_ok() ? *r : ImportReport{};
  }

  HeldHousehold held(uint64_t at, const HouseholdId& id) {
    HeldHousehold out;
    EXPECT_TRUE(net.store(at).read([&](const storage::ReadTxn& t) {
      out = testing::read_held(t, id, {kHead, kSpouse, kChild});
    }).is_ok());
    return out;
  }

  std::vector<AlertView> alerts(uint64_t at, AlertFilter f = {}) {
    auto r = net.monitor(at).list_alerts(f, net.now());
    EXPECT_TRUE(r.is_ok());
    return r.is_ok() ? *r : std::vector<AlertView>{};
  }

  Alert only_alert(uint64_t at) {
    auto list = alerts(at);
    EXPECT_EQ(list.size(), 1u) << "at " << at;
    return list.empty() ? Alert{} : list.front().alert;
  }

  // Every holder has the same household, alerts, history and events as
  // `reference`; every non-holder holds nothing of it.
  void expect_replicated(const HouseholdId& id, const std::vector<uint64_t>& holders,
                         const std::vector<uint64_t>& non_holders) {
    HeldHousehold ref = held(holders.front(), id);
    ASSERT_TRUE(ref.household.has_value()) << "not held at " << holders.front();
    for (uint64_t c : holders) {
      HeldHousehold h = held(c, id);
      ASSERT_TRUE(h.household.has_value()) << "not held at " << c;
      EXPECT_EQ(*h.household, *ref.household) << "household differs at " << c;
      EXPECT_TRUE(h.person_rows) << "persons index at " << c;
      EXPECT_EQ(h.alerts, ref.alerts) << "alerts differ at " << c;
      EXPECT_EQ(h.history, ref.history) << "history differs at " << c;
      EXPECT_EQ(h.events, ref.events) << "events differ at " << c;
    }
    for (uint64_t c : non_holders) {
      HeldHousehold h = held(c, id);
      EXPECT_FALSE(h.household.has_value()) << "held at non-holder " << c;
      EXPECT_FALSE(h.person_rows) << "persons index at non-holder " << c;
      EXPECT_TRUE(h.alerts.empty() && h.history.empty() && h.events.empty()) << "personal data at non-holder " << c;
    }
  }

  Date days_ago(int n) { return add_days(net.today(), -n); }

  testing::MonitorNetwork net;
};

// ---------------------------------------------------------------------------
// Alerts down, feedback up

TEST_F(MonitorTest, ImportAtProvinceRaisesAlertDeliveredAtVillage) {
  HouseholdId h = add_household(kVillage, kVillage);
  ASSERT_TRUE(net.settle());
  // 4 + 4 + 6 = 14 points: level 1 (red), 3 working days from Monday 2026-11-23.
  ImportReport r = import(kProvince, {{"medical_insurance", "YB-1", kHead, "serious_illness", days_ago(10)},
                                      {"human_resources", "RS-1", kSpouse, "unemployment", days_ago(20)},
                                      {"petitions", "XF-1", kChild, "petition", days_ago(3)}});
  EXPECT_EQ(r.applied, 3u);
  EXPECT_EQ(r.alerts_issued, 1u);
  Alert issued = only_alert(kProvince);
  EXPECT_EQ(issued.state, AlertState::kIssued);
  EXPECT_EQ(issued.id.origin, kProvince);
  ASSERT_TRUE(net.settle());

  Alert a = only_alert(kVillage);
  EXPECT_EQ(a.id, issued.id);
  EXPECT_EQ(a.household, h);
  EXPECT_EQ(a.score, 14u);
  EXPECT_EQ(a.level, 1u);
  EXPECT_EQ(a.issued_date, 20261123u);
  EXPECT_EQ(a.due_date, 20261126u);
  EXPECT_EQ(a.state, AlertState::kDelivered);
  EXPECT_NE(a.delivered_at_us, 0);
  std::vector<std::string> codes;
  for (auto& i : a.indicators) codes.push_back(i.code);
  EXPECT_EQ(codes, (std::vector<std::string>{"petition", "serious_illness", "unemployment"}));
  for (uint64_t c : kHolders) EXPECT_EQ(only_alert(c).state, AlertState::kDelivered) << "at " << c;
  expect_replicated(h, kHolders, kNonHolders);
  auto cf = net.monitor(kCounty).show_household(h);
  ASSERT_TRUE(cf.is_ok());
  std::set<std::string> kinds;
  for (auto& e : cf->history) kinds.insert(e.kind);
  EXPECT_EQ(kinds, (std::set<std::string>{"registered", "alert_issued", "delivered"}));
  EXPECT_EQ(cf->events.size(), 3u);
}

TEST_F(MonitorTest, GreenAndBlueLevelsTakeTenWorkingDays) {
  HouseholdId h = add_household(kTownship, kVillage);
  ASSERT_TRUE(net.settle());
  ImportReport r = import(kCounty, {{"civil_affairs", "MZ-1", kHead, "marriage_change", days_ago(1)}});
  EXPECT_EQ(r.alerts_issued, 1u);
  ASSERT_TRUE(net.settle());
  Alert a = only_alert(kVillage);
  EXPECT_EQ(a.household, h);
  EXPECT_EQ(a.level, 5u);
  EXPECT_EQ(a.score, 1u);
  EXPECT_EQ(a.due_date, 20261207u);  // 10 working days: Mon 12-07
}

// A village with no node of its own below the county (its township does not
// run): the county is the household's home node, receives the alert and
// records the feedback itself.
// The API's paged query: pages of one alert visit every open alert once, in
// deadline order; a level filter (read from the index) returns only that
// level; an accepted alert's new state is seen by a state filter.
TEST_F(MonitorTest, PagedAlertQueryVisitsEveryAlertOnceAndFiltersFromTheIndex) {
  std::vector<std::string> heads;
  for (uint32_t i = 0; i < 6; ++i) {
    std::string head = testing::make_id_number(441303, 19600101 + i, 100 + i);
    heads.push_back(head);
    add_household(kVillage, kVillage, {testing::member(head, "户主" + testing::chinese_number(i), "head")});
  }
  ASSERT_TRUE(net.settle());
  std::vector<testing::EventLine> lines;
  for (uint32_t i = 0; i < 6; ++i) {
    lines.push_back({"medical_insurance", "P-" + std::to_string(i), heads[i], "serious_illness", days_ago(3)});
    if (i % 2 == 0) lines.push_back({"human_resources", "Q-" + std::to_string(i), heads[i], "unemployment", days_ago(3)});
  }
  import(kVillage, lines);
  ASSERT_TRUE(net.settle());
  std::set<std::string> seen;
  node::AlertQuery q;
  q.open_only = true;
  q.limit = 1;
  protocol::Date last_due = 0;
  for (int pages = 0; pages < 20; ++pages) {
    auto page = node::query_alerts(net.store(kVillage), q, net.today());
    ASSERT_TRUE(page.is_ok());
    for (const auto& v : page->alerts) {
      EXPECT_TRUE(seen.insert(protocol::format_id('A', v.alert.id)).second) << "seen twice";
      EXPECT_GE(v.alert.due_date, last_due);
      last_due = v.alert.due_date;
      EXPECT_EQ(v.village, kVillage);
    }
    if (page->next.empty()) break;
    auto after = node::decode_cursor(page->next);
    ASSERT_TRUE(after.is_ok());
    q.after = *after;
  }
  EXPECT_EQ(seen.size(), 6u);
  uint32_t level = alerts(kVillage).front().alert.level;
  node::AlertQuery by_level;
  by_level.open_only = true;
  by_level.level = level;
  auto page = node::query_alerts(net.store(kVillage), by_level, net.today());
  ASSERT_TRUE(page.is_ok());
  ASSERT_FALSE(page->alerts.empty());
  for (const auto& v : page->alerts) EXPECT_EQ(v.alert.level, level);
  EXPECT_LT(page->alerts.size(), 6u) << "two kinds of households score two levels";
  Alert first = page->alerts.front().alert;
  ASSERT_TRUE(net.monitor(kVillage).accept_alert(first.id, "站长", net.now()).is_ok());
  node::AlertQuery accepted;
  accepted.state = static_cast<int>(AlertState::kAccepted);
  page = node::query_alerts(net.store(kVillage), accepted, net.today());
  ASSERT_TRUE(page.is_ok());
  ASSERT_EQ(page->alerts.size(), 1u);
  EXPECT_EQ(page->alerts.front().alert.id, first.id);
}

TEST_F(MonitorTest, CommandLineListReadsThePagedQueryPastOnePage) {
  // More alerts than one page of the API's query holds (500): the command
  // line's list (Monitor::list_alerts) goes on page after page, in deadline
  // order for open alerts, and stops at its limit.
  uint64_t households = 0;
  auto reg = net.monitor(kCounty).import_households(testing::registry_file(1'500, kVillage, 2, &households), net.now());
  ASSERT_TRUE(reg.is_ok()) << reg.status().to_string();
  ASSERT_EQ(reg->registered, households);
  auto r = net.monitor(kCounty).import_events(testing::events_file(1'500, 1'500, 7, net.today()), ImportFormat::kCsv, net.now());
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  ASSERT_GT(r->alerts_issued, 500u);
  uint64_t held = 0;
  ASSERT_TRUE(net.store(kCounty).read([&](const storage::ReadTxn& t) { held = t.entries(storage::Table::kAlerts); }).is_ok());
  AlertFilter all;
  all.limit = 100'000;
  EXPECT_EQ(alerts(kCounty, all).size(), held);
  AlertFilter open = all;
  open.open_only = true;
  auto list = alerts(kCounty, open);
  ASSERT_EQ(list.size(), r->alerts_issued);
  std::set<std::string> ids;
  for (size_t i = 0; i < list.size(); ++i) {
    EXPECT_TRUE(ids.insert(protocol::format_id('A', list[i].alert.id)).second) << "listed twice";
    if (i > 0) {
      EXPECT_GE(list[i].alert.due_date, list[i - 1].alert.due_date) << "not in deadline order at " << i;
    }
  }
  AlertFilter seven = open;
  seven.limit = 7;
  auto first = alerts(kCounty, seven);
  ASSERT_EQ(first.size(), 7u);
  for (size_t i = 0; i < 7; ++i) EXPECT_EQ(first[i].alert.id, list[i].alert.id);
}

TEST_F(MonitorTest, FeedbackAtTheHomeNodeWhenNoStationRunsBelowIt) {
  constexpr uint64_t kUnstaffedVillage = 441303002001;  // township 441303002000 runs no node
  add_household(kCounty, kUnstaffedVillage);
  ASSERT_TRUE(net.settle());
  import(kProvince, {{"medical_insurance", "YB-H1", kHead, "serious_illness", days_ago(5)}});
  ASSERT_TRUE(net.settle());
  Alert a = only_alert(kCounty);
  EXPECT_EQ(a.state, AlertState::kDelivered) << "delivered at its home node, the county";
  EXPECT_EQ(net.monitor(kCity).record_feedback(testing::feedback_for(a.id, net.today()), net.now()).code(),
            Status::Code::kRefused) << "the city is not the home node";
  Status s = net.monitor(kCounty).record_feedback(testing::feedback_for(a.id, net.today()), net.now());
  ASSERT_TRUE(s.is_ok()) << s.to_string();
  ASSERT_TRUE(net.settle());
  EXPECT_EQ(only_alert(kProvince).state, AlertState::kVerified);
}

TEST_F(MonitorTest, FeedbackAtVillageVerifiesAlertEverywhere) {
  HouseholdId h = add_household(kVillage, kVillage);
  ASSERT_TRUE(net.settle());
  import(kProvince, {{"medical_insurance", "YB-1", kHead, "serious_illness", days_ago(10)},
                     {"human_resources", "RS-1", kSpouse, "unemployment", days_ago(20)}});
  ASSERT_TRUE(net.settle());
  Alert a = only_alert(kVillage);
  ASSERT_TRUE(net.monitor(kTownship).accept_alert(a.id, "王站长", net.now()).is_ok());
  ASSERT_TRUE(net.settle());
  EXPECT_EQ(only_alert(kProvince).state, AlertState::kAccepted);
  EXPECT_EQ(only_alert(kProvince).accepted_by, "王站长");

  EXPECT_EQ(net.monitor(kCounty).record_feedback(testing::feedback_for(a.id, net.today()), net.now()).code(),
            Status::Code::kRefused);
  Status s = net.monitor(kVillage).record_feedback(
      testing::feedback_for(a.id, net.today(), "referral", {"health", "financial_aid"}), net.now());
  ASSERT_TRUE(s.is_ok()) << s.to_string();
  EXPECT_FALSE(net.monitor(kVillage).record_feedback(testing::feedback_for(a.id, net.today()), net.now()).is_ok())
      << "a verified alert takes no second feedback";
  ASSERT_TRUE(net.settle());
  for (uint64_t c : kHolders) {
    Alert x = only_alert(c);
    EXPECT_EQ(x.state, AlertState::kVerified) << "at " << c;
    EXPECT_NE(x.verified_at_us, 0);
    auto cf = net.monitor(c).show_household(h);
    ASSERT_TRUE(cf.is_ok());
    auto fb = std::find_if(cf->history.begin(), cf->history.end(), [](auto& e) { return e.kind == "feedback"; });
    ASSERT_NE(fb, cf->history.end()) << "no feedback in the history at " << c;
    EXPECT_TRUE(fb->has_feedback);
    EXPECT_EQ(fb->alert, a.id);
    EXPECT_EQ(fb->feedback.decision, "referral");
    EXPECT_EQ(fb->feedback.referral, "medical");
    EXPECT_EQ(fb->feedback.needs, (std::vector<std::string>{"health", "financial_aid"}));
  }
  expect_replicated(h, kHolders, kNonHolders);

  // Closing: a county or above, a verified alert only.
  EXPECT_EQ(net.monitor(kTownship).close_alert(a.id, net.now()).code(), Status::Code::kRefused);
  ASSERT_TRUE(net.monitor(kCounty).close_alert(a.id, net.now()).is_ok());
  ASSERT_TRUE(net.settle());
  for (uint64_t c : kHolders) EXPECT_EQ(only_alert(c).state, AlertState::kClosed) << "at " << c;
}

// Escalation (督办): a county or above escalates an open alert; every holder
// sees it, the case history keeps who and what, the aggregates count it
// while it is open, and a later escalation moves the time on.
TEST_F(MonitorTest, EscalationReachesEveryHolderAndIsCountedWhileOpen) {
  HouseholdId h = add_household(kVillage, kVillage);
  ASSERT_TRUE(net.settle());
  import(kProvince, {{"medical_insurance", "YB-1", kHead, "serious_illness", days_ago(10)}});
  ASSERT_TRUE(net.settle());
  Alert a = only_alert(kVillage);
  EXPECT_EQ(a.escalated_at_us, 0);
  auto open_escalated = [&](uint64_t at) {
    auto g = net.monitor(at).aggregates(net.now());
    return g.is_ok() ? (*g)["own"]["figures"].value("open_escalated", int64_t{-1}) : -1;
  };
  EXPECT_EQ(net.monitor(kTownship).escalate_alert(a.id, "李科长", "请核查", net.now()).code(), Status::Code::kRefused);
  EXPECT_EQ(net.monitor(kCounty).escalate_alert(a.id, "李科长", "", net.now()).code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(net.monitor(kCounty).escalate_alert(a.id, "", "请核查", net.now()).code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(net.monitor(kCounty)
                .escalate_alert(a.id, "李科长", std::string(kMaxEscalationNoteBytes + 1, 'x'), net.now())
                .code(),
            Status::Code::kInvalidArgument);
  ASSERT_TRUE(net.settle());
  for (uint64_t c : kHolders) EXPECT_EQ(only_alert(c).escalated_at_us, 0) << "a refusal changed the alert at " << c;

  const Instant first = net.now();
  ASSERT_TRUE(net.monitor(kCounty).escalate_alert(a.id, "李科长", "逾期未核查，请本周内入户", first).is_ok());
  ASSERT_TRUE(net.settle());
  for (uint64_t c : kHolders) {
    EXPECT_EQ(only_alert(c).escalated_at_us, first.wall_us) << "at " << c;
    auto cf = net.monitor(c).show_household(h);
    ASSERT_TRUE(cf.is_ok());
    auto e = std::find_if(cf->history.begin(), cf->history.end(), [](auto& x) { return x.kind == "escalated"; });
    ASSERT_NE(e, cf->history.end()) << "no escalation in the history at " << c;
    EXPECT_EQ(e->alert, a.id);
    EXPECT_EQ(e->text, "escalated at 441303000000 by 李科长: 逾期未核查，请本周内入户");
  }
  for (uint64_t c : {kProvince, kCity, kCounty, kTownship, kVillage}) EXPECT_EQ(open_escalated(c), 1) << "at " << c;
  EXPECT_EQ(open_escalated(kOtherCounty), 0);
  expect_replicated(h, kHolders, kNonHolders);

  // The province escalates again, later: the time moves on everywhere.
  net.run_for(5'000'000);
  const Instant second = net.now();
  ASSERT_TRUE(net.monitor(kProvince).escalate_alert(a.id, "省厅", "再次督办", second).is_ok());
  ASSERT_TRUE(net.settle());
  for (uint64_t c : kHolders) EXPECT_EQ(only_alert(c).escalated_at_us, second.wall_us) << "at " << c;
  EXPECT_EQ(open_escalated(kProvince), 1) << "one alert, counted once";

  // Verified: no longer counted, and no further escalation.
  ASSERT_TRUE(net.monitor(kVillage).record_feedback(testing::feedback_for(a.id, net.today()), net.now()).is_ok());
  ASSERT_TRUE(net.settle());
  for (uint64_t c : kHolders) EXPECT_EQ(open_escalated(c), 0) << "at " << c;
  EXPECT_EQ(net.monitor(kCounty).escalate_alert(a.id, "李科长", "请核查", net.now()).code(), Status::Code::kInvalidArgument);
}

// Timeliness in the aggregates: an open alert is due soon from the working
// day before its deadline through its due day, then overdue; the county
// sees it under the township it belongs to.
TEST_F(MonitorTest, AggregatesCountAlertsDueSoonThenOverdue) {
  add_household(kVillage, kVillage);
  ASSERT_TRUE(net.settle());
  import(kProvince, {{"medical_insurance", "YB-1", kHead, "serious_illness", days_ago(10)}});
  ASSERT_TRUE(net.settle());
  const Alert a = only_alert(kVillage);
  const WorkdayCalendar& calendar = net.monitor(kCounty).policy().calendar;
  ASSERT_GT(a.due_date, calendar.add_working_days(net.today(), 1)) << "the deadline is more than a working day away";
  auto figures = [&](uint64_t at) { return (*net.monitor(at).aggregates(net.now()))["own"]["figures"]; };
  auto township_row = [&] {
    const auto agg = net.monitor(kCounty).aggregates(net.now());
    if (agg.is_ok()) {
      for (const auto& row : (*agg)["children"])
        if (row["code"] == "441303001000") return row["computed"];
    }
    return nlohmann::json();
  };
  for (uint64_t c : kHolders) {
    EXPECT_EQ(figures(c)["due_soon"], 0) << "at " << c;
    EXPECT_EQ(figures(c)["overdue"], 0) << "at " << c;
  }
  // The working day before the deadline, then the due day itself: due soon.
  while (calendar.add_working_days(net.today(), 1) < a.due_date) net.skip_days(1);
  for (uint64_t c : kHolders) EXPECT_EQ(figures(c)["due_soon"], 1) << "at " << c << " on " << net.today();
  EXPECT_EQ(township_row()["due_soon"], 1);
  EXPECT_EQ(figures(kOtherCounty)["due_soon"], 0);
  while (net.today() < a.due_date) net.skip_days(1);
  for (uint64_t c : kHolders) {
    EXPECT_EQ(figures(c)["due_soon"], 1) << "due today, at " << c;
    EXPECT_EQ(figures(c)["overdue"], 0) << "due today, at " << c;
  }
  // The day after: overdue, no longer due soon.
  net.skip_days(1);
  for (uint64_t c : kHolders) {
    EXPECT_EQ(figures(c)["due_soon"], 0) << "at " << c;
    EXPECT_EQ(figures(c)["overdue"], 1) << "at " << c;
  }
  EXPECT_EQ(township_row()["overdue"], 1);
  // Verified: neither.
  ASSERT_TRUE(net.monitor(kVillage).record_feedback(testing::feedback_for(a.id, net.today()), net.now()).is_ok());
  ASSERT_TRUE(net.settle());
  for (uint64_t c : kHolders) {
    EXPECT_EQ(figures(c)["due_soon"], 0) << "at " << c;
    EXPECT_EQ(figures(c)["overdue"], 0) << "at " << c;
  }
}

// The default calendar holds the notices of 2024 to 2026. A deadline in 2027
// skips weekends only: the node says so in its log, once per year and run,
// so that the province loads the next notice.
TEST_F(MonitorTest, ADeadlineInAYearWithoutACalendarNoticeIsWarnedOnce) {
  std::ostringstream log;
  auto logger = folder_logger("node");
  logger->sinks().push_back(std::make_shared<spdlog::sinks::ostream_sink_mt>(log));
  HouseholdId h = add_household(kVillage, kVillage);
  ASSERT_TRUE(net.settle());
  net.skip_days(35);  // Monday 2026-12-28
  ASSERT_EQ(net.today(), 20261228u);
  // 6 points, level 4: 10 working days, Friday 2027-01-01 counted as one.
  import(kCity, {{"petitions", "XF-1", kHead, "petition", days_ago(1)}});
  ASSERT_TRUE(net.settle());
  EXPECT_EQ(only_alert(kVillage).due_date, 20270111u);
  const std::string first = log.str();
  EXPECT_NE(first.find("has no notice for 2027"), std::string::npos) << first;
  EXPECT_EQ(first.find("has no notice for 2026"), std::string::npos) << first;
  // The next deadline of that year at the same node: no second warning.
  log.str("");
  import(kCity, {{"education", "JY-1", kChild, "school_enrolment", days_ago(1)}});
  ASSERT_TRUE(net.settle());
  EXPECT_LT(only_alert(kVillage).due_date, 20270111u);
  EXPECT_EQ(log.str().find("has no notice for 2027"), std::string::npos) << log.str();
  logger->sinks().pop_back();
  (void)h;
}

TEST_F(MonitorTest, NewEventsUpdateOpenAlertAndDeadlineOnlyShortens) {
  HouseholdId h = add_household(kVillage, kVillage);
  ASSERT_TRUE(net.settle());
  // Monday 11-23: 6 points, level 4 (blue), due 10 working days later: 12-07.
  import(kCity, {{"petitions", "XF-1", kHead, "petition", days_ago(2)}});
  ASSERT_TRUE(net.settle());
  Alert first = only_alert(kVillage);
  EXPECT_EQ(first.level, 4u);
  EXPECT_EQ(first.due_date, 20261207u);
  // Same day, +2: level 2 (orange, 5 working days): due 11-30, earlier: taken.
  ImportReport r = import(kProvince, {{"education", "JY-1", kChild, "school_enrolment", days_ago(1)}});
  EXPECT_EQ(r.alerts_updated, 1u);
  EXPECT_EQ(r.alerts_issued, 0u);
  ASSERT_TRUE(net.settle());
  Alert second = only_alert(kVillage);
  EXPECT_EQ(second.id, first.id);
  EXPECT_EQ(second.level, 2u);
  EXPECT_EQ(second.score, 8u);
  EXPECT_EQ(second.due_date, 20261130u);
  EXPECT_EQ(second.state, AlertState::kDelivered);
  // Friday 11-27, +4: level 1 (red, 3 working days from 11-27 = 12-02), later
  // than the running 11-30: the deadline stays.
  net.skip_days(4);
  r = import(kCounty, {{"medical_insurance", "YB-1", kSpouse, "serious_illness", days_ago(1)}});
  EXPECT_EQ(r.alerts_updated, 1u);
  ASSERT_TRUE(net.settle());
  Alert third = only_alert(kVillage);
  EXPECT_EQ(third.id, first.id);
  EXPECT_EQ(third.level, 1u);
  EXPECT_EQ(third.score, 12u);
  EXPECT_EQ(third.due_date, 20261130u);
  // An older event of an indicator already counted changes nothing.
  r = import(kTownship, {{"petitions", "XF-2", kSpouse, "petition", days_ago(10)}});
  EXPECT_EQ(r.applied, 1u);
  EXPECT_EQ(r.alerts_updated + r.alerts_issued, 0u);
  ASSERT_TRUE(net.settle());
  Alert fourth = only_alert(kProvince);
  EXPECT_EQ(fourth.score, 12u);
  EXPECT_EQ(fourth.due_date, 20261130u);
  // Overdue after the deadline.
  net.skip_days(4);  // Tuesday 12-01
  AlertFilter f;
  f.overdue_only = true;
  EXPECT_EQ(alerts(kCounty, f).size(), 1u);
  expect_replicated(h, kHolders, kNonHolders);
}

TEST_F(MonitorTest, VerifiedAlertIsNotReopenedNewEventsRaiseTheNextGeneration) {
  HouseholdId h = add_household(kVillage, kVillage);
  ASSERT_TRUE(net.settle());
  import(kProvince, {{"petitions", "XF-1", kHead, "petition", days_ago(2)}});
  ASSERT_TRUE(net.settle());
  Alert first = only_alert(kVillage);
  ASSERT_TRUE(net.monitor(kVillage).record_feedback(testing::feedback_for(first.id, net.today()), net.now()).is_ok());
  ASSERT_TRUE(net.settle());
  ImportReport r = import(kProvince, {{"health", "WJ-1", kChild, "birth", days_ago(1)}});
  EXPECT_EQ(r.alerts_issued, 1u);
  ASSERT_TRUE(net.settle());
  auto list = alerts(kVillage);
  ASSERT_EQ(list.size(), 2u);
  AlertFilter open;
  open.open_only = true;
  auto open_list = alerts(kVillage, open);
  ASSERT_EQ(open_list.size(), 1u);
  EXPECT_EQ(open_list[0].alert.generation, 2u);
  EXPECT_EQ(open_list[0].alert.score, 8u);  // petition (still in the window) + birth
  expect_replicated(h, kHolders, kNonHolders);
}

// ---------------------------------------------------------------------------
// Concurrency and moves

TEST_F(MonitorTest, ConcurrentAlertsAtTwoNodesMergeIntoOne) {
  HouseholdId h = add_household(kVillage, kVillage);
  ASSERT_TRUE(net.settle());
  net.cut(kCounty);
  // Province: 4 + 4 = 8, level 2 (due 11-30). County: 6, level 4 (due 12-07).
  import(kProvince, {{"medical_insurance", "YB-1", kHead, "serious_illness", days_ago(10)},
                     {"human_resources", "RS-1", kSpouse, "unemployment", days_ago(20)}});
  import(kCounty, {{"petitions", "XF-1", kChild, "petition", days_ago(3)}});
  net.run_for(500'000);
  Alert at_province = only_alert(kProvince);
  Alert at_county = only_alert(kCounty);
  ASSERT_NE(at_province.id, at_county.id);
  EXPECT_EQ(at_province.generation, at_county.generation);
  EXPECT_EQ(only_alert(kVillage).id, at_county.id);
  EXPECT_EQ(only_alert(kVillage).state, AlertState::kDelivered);

  net.heal(kCounty);
  ASSERT_TRUE(net.settle());
  for (uint64_t c : kHolders) {
    Alert a = only_alert(c);
    EXPECT_EQ(a.id, std::min(at_province.id, at_county.id)) << "at " << c;
    EXPECT_EQ(a.aliases, std::vector<protocol::AlertId>{std::max(at_province.id, at_county.id)}) << "at " << c;
    std::vector<std::string> codes;
    for (auto& i : a.indicators) codes.push_back(i.code);
    EXPECT_EQ(codes, (std::vector<std::string>{"petition", "serious_illness", "unemployment"})) << "at " << c;
    // 14 points: level 1 (red), so 3 working days from the issue day, not
    // the 5 of the province's level 2 alert.
    EXPECT_EQ(a.score, 14u);
    EXPECT_EQ(a.level, 1u);
    EXPECT_EQ(a.issued_date, 20261123u);
    EXPECT_EQ(a.due_date, 20261126u);
    EXPECT_EQ(a.state, AlertState::kDelivered) << "at " << c;
    AlertFilter open;
    open.open_only = true;
    EXPECT_EQ(alerts(c, open).size(), 1u) << "at " << c;
  }
  expect_replicated(h, kHolders, kNonHolders);

  // Feedback through the merged-away id closes the one alert everywhere.
  protocol::AlertId alias = std::max(at_province.id, at_county.id);
  Status s = net.monitor(kVillage).record_feedback(testing::feedback_for(alias, net.today()), net.now());
  ASSERT_TRUE(s.is_ok()) << s.to_string();
  ASSERT_TRUE(net.settle());
  for (uint64_t c : kHolders) {
    EXPECT_EQ(only_alert(c).state, AlertState::kVerified) << "at " << c;
    AlertFilter open;
    open.open_only = true;
    EXPECT_TRUE(alerts(c, open).empty()) << "at " << c;
  }
  expect_replicated(h, kHolders, kNonHolders);
}

// Feedback covers what its operator saw. An alert raised at the province,
// cut off from a county that meanwhile issued, verified and closed an
// alert of the same generation for the household, used to be merged into
// the closed one: every holder then showed one closed alert, and the
// serious illness and the unemployment were never visited. The home node
// now issues the next alert for them.
TEST_F(MonitorTest, AnAlertRaisedAcrossACutIsNotBuriedInAClosedOne) {
  HouseholdId h = add_household(kVillage, kVillage);
  ASSERT_TRUE(net.settle());
  net.cut(kCounty);
  import(kCounty, {{"petitions", "XF-1", kChild, "petition", days_ago(2)}});
  net.run_for(500'000);
  Alert first = only_alert(kVillage);
  ASSERT_TRUE(net.monitor(kVillage).record_feedback(testing::feedback_for(first.id, net.today()), net.now()).is_ok());
  net.run_for(500'000);
  ASSERT_TRUE(net.monitor(kCounty).close_alert(first.id, net.now()).is_ok());
  // The province knows of no alert for the household: it issues one, of the same generation.
  import(kProvince, {{"medical_insurance", "YB-9", kSpouse, "serious_illness", days_ago(1)},
                     {"human_resources", "RS-9", kSpouse, "unemployment", days_ago(1)}});
  ASSERT_EQ(only_alert(kProvince).generation, first.generation);
  net.heal(kCounty);
  ASSERT_TRUE(net.settle());
  auto open = open_alert_at_each_holder({"serious_illness", "unemployment"});
  ASSERT_EQ(open.size(), kHolders.size());
  for (size_t i = 0; i < kHolders.size(); ++i) {
    const uint64_t c = kHolders[i];
    const Alert& next = open[i];
    EXPECT_GT(next.generation, first.generation) << "at " << c;
    EXPECT_EQ(next.state, AlertState::kDelivered) << "at " << c;
    auto closed = net.monitor(c).list_alerts(AlertFilter{}, net.now());
    ASSERT_TRUE(closed.is_ok());
    EXPECT_TRUE(std::any_of(closed->begin(), closed->end(), [&](const AlertView& v) {
      return v.alert.state == AlertState::kClosed && (v.alert.id == first.id || std::count(v.alert.aliases.begin(), v.alert.aliases.end(), first.id));
    })) << "the closed alert stays closed at " << c;
  }
  expect_replicated(h, kHolders, kNonHolders);
}

// The same when the county's side has gone on to a later generation,
// visited and closed too: that later visit saw only its own indicators, not
// the province's, so they still get an alert of their own.
TEST_F(MonitorTest, AnAlertRaisedAcrossACutIsNotBuriedWhenALaterGenerationClosedMeanwhile) {
  HouseholdId h = add_household(kVillage, kVillage);
  ASSERT_TRUE(net.settle());
  net.cut(kCounty);
  uint32_t last_generation = 0;
  for (const auto& [dept, record, indicator] : {std::tuple{"petitions", "XF-1", "petition"},
                                                std::tuple{"education", "JY-1", "school_enrolment"}}) {
    import(kCounty, {{dept, record, kChild, indicator, days_ago(2)}});
    net.run_for(500'000);
    AlertFilter open_only;
    open_only.open_only = true;
    auto open = alerts(kVillage, open_only);
    ASSERT_EQ(open.size(), 1u);
    const Alert a = open.front().alert;
    ASSERT_GT(a.generation, last_generation);
    last_generation = a.generation;
    ASSERT_TRUE(net.monitor(kVillage).record_feedback(testing::feedback_for(a.id, net.today()), net.now()).is_ok());
    net.run_for(500'000);
    ASSERT_TRUE(net.monitor(kCounty).close_alert(a.id, net.now()).is_ok());
    net.run_for(500'000);
  }
  ASSERT_EQ(last_generation, 2u);
  import(kProvince, {{"medical_insurance", "YB-9", kSpouse, "serious_illness", days_ago(1)},
                     {"human_resources", "RS-9", kSpouse, "unemployment", days_ago(1)}});
  ASSERT_EQ(only_alert(kProvince).generation, 1u);
  net.heal(kCounty);
  ASSERT_TRUE(net.settle());
  for (const Alert& next : open_alert_at_each_holder({"serious_illness", "unemployment"}))
    EXPECT_GT(next.generation, last_generation);
  expect_replicated(h, kHolders, kNonHolders);
}

// The same for an update: the county adds an indicator to the open alert
// while the village's feedback on it is on its way up. The verified alert
// then holds an indicator nobody visited for: the home node issues the next
// alert for it.
TEST_F(MonitorTest, AnIndicatorAddedWhileTheFeedbackTravelsGetsTheNextAlert) {
  HouseholdId h = add_household(kVillage, kVillage);
  ASSERT_TRUE(net.settle());
  import(kCounty, {{"petitions", "XF-1", kChild, "petition", days_ago(2)}});
  ASSERT_TRUE(net.settle());
  Alert first = only_alert(kVillage);
  net.cut(kVillage);
  ASSERT_TRUE(net.monitor(kVillage).record_feedback(testing::feedback_for(first.id, net.today()), net.now()).is_ok());
  import(kCounty, {{"human_resources", "RS-2", kSpouse, "unemployment", days_ago(1)}});
  ASSERT_EQ(only_alert(kCounty).state, AlertState::kDelivered);  // updated, still open at the county
  net.heal(kVillage);
  ASSERT_TRUE(net.settle());
  open_alert_at_each_holder({"unemployment"});
  expect_replicated(h, kHolders, kNonHolders);
}

TEST_F(MonitorTest, HouseholdMoveHandsOverAlertAndHistory) {
  HouseholdId h = add_household(kVillage, kVillage);
  ASSERT_TRUE(net.settle());
  import(kProvince, {{"medical_insurance", "YB-1", kHead, "serious_illness", days_ago(10)},
                     {"petitions", "XF-1", kChild, "petition", days_ago(3)}});
  ASSERT_TRUE(net.settle());
  Alert a = only_alert(kVillage);
  ASSERT_TRUE(net.monitor(kVillage).accept_alert(a.id, "村协理员", net.now()).is_ok());
  ASSERT_TRUE(net.settle());

  EXPECT_EQ(net.monitor(kCounty).move_household(h, kOtherVillage, net.now()).code(), Status::Code::kRefused)
      << "a county moves households only within its jurisdiction";
  Status s = net.monitor(kCounty).move_household(h, kVillage2, net.now());
  ASSERT_TRUE(s.is_ok()) << s.to_string();
  ASSERT_TRUE(net.settle());

  auto now_home = net.monitor(kVillage2).show_household(h);
  ASSERT_TRUE(now_home.is_ok());
  EXPECT_EQ(now_home->moved_to, 0u);
  EXPECT_EQ(now_home->household.village.value, kVillage2);
  ASSERT_EQ(now_home->alerts.size(), 1u);
  EXPECT_EQ(now_home->alerts[0].id, a.id);
  EXPECT_EQ(now_home->alerts[0].state, AlertState::kAccepted);
  EXPECT_EQ(now_home->events.size(), 2u);
  std::set<std::string> kinds;
  for (auto& e : now_home->history) kinds.insert(e.kind);
  EXPECT_EQ(kinds, (std::set<std::string>{"registered", "alert_issued", "delivered", "accepted", "moved", "handed_over"}));
  // The new home records, once, that the accepted alert is now its own to visit.
  auto handed_over = [&](uint64_t at) {
    std::vector<protocol::HistoryEntry> out;
    // The case file is kept: a range-for over a member of a temporary would
    // iterate a destroyed vector (before C++23).
    auto cf = net.monitor(at).show_household(h);
    for (auto& e : cf->history)
      if (e.kind == "handed_over") out.push_back(e);
    return out;
  };
  ASSERT_EQ(handed_over(kVillage2).size(), 1u);
  EXPECT_EQ(handed_over(kVillage2)[0].alert, a.id);
  EXPECT_EQ(handed_over(kVillage2)[0].id.origin, kVillage2);
  EXPECT_NE(handed_over(kVillage2)[0].text.find("441303001002"), std::string::npos) << handed_over(kVillage2)[0].text;
  auto who = net.monitor(kVillage2).find_person(kSpouse);
  ASSERT_TRUE(who.is_ok());
  EXPECT_EQ(*who, h);

  auto old_home = net.monitor(kVillage).show_household(h);
  ASSERT_TRUE(old_home.is_ok());
  EXPECT_EQ(old_home->moved_to, kVillage2);
  EXPECT_TRUE(old_home->alerts.empty());
  EXPECT_TRUE(old_home->history.empty());
  EXPECT_EQ(net.monitor(kVillage).find_person(kSpouse).status().code(), Status::Code::kNotFound);
  EXPECT_TRUE(alerts(kVillage).empty());
  expect_replicated(h, {kProvince, kCity, kCounty, kTownship, kVillage2},
                    {kVillage, kOtherCounty, kOtherTownship, kOtherVillage});
  // The open-alert index names the new village at every holder, also where
  // both villages fall in one bucket (the county's township, the township).
  for (uint64_t c : {kProvince, kCity, kCounty, kTownship, kVillage2}) {
    node::AlertQuery q;
    q.open_only = true;
    auto page = node::query_alerts(net.store(c), q, net.today());
    ASSERT_TRUE(page.is_ok());
    ASSERT_EQ(page->alerts.size(), 1u) << "at " << c;
    EXPECT_EQ(page->alerts[0].village, kVillage2) << "at " << c;
  }

  // Feedback now comes from the new village; the old one no longer holds the alert.
  EXPECT_FALSE(net.monitor(kVillage).record_feedback(testing::feedback_for(a.id, net.today()), net.now()).is_ok());
  ASSERT_TRUE(net.monitor(kVillage2).record_feedback(testing::feedback_for(a.id, net.today()), net.now()).is_ok());
  ASSERT_TRUE(net.settle());
  EXPECT_EQ(only_alert(kProvince).state, AlertState::kVerified);

  // And across counties, made at the city: the new county's path gets the whole file.
  ASSERT_TRUE(net.monitor(kCity).move_household(h, kOtherVillage, net.now()).is_ok());
  ASSERT_TRUE(net.settle());
  expect_replicated(h, {kProvince, kCity, kOtherCounty, kOtherTownship, kOtherVillage},
                    {kVillage, kVillage2, kCounty, kTownship});
  EXPECT_EQ(only_alert(kOtherVillage).state, AlertState::kVerified);
  EXPECT_EQ(net.monitor(kCounty).show_household(h)->moved_to, kOtherVillage);
  // A verified alert is not handed over: the one entry is the earlier move's.
  EXPECT_EQ(handed_over(kOtherVillage).size(), 1u);
}

TEST_F(MonitorTest, AFileTooLargeForOneRecordTravelsInPartsAndArrivesWhole) {
  // Years of department records for one household: 20,000 events, more
  // than one sync may list (kMaxListItems) and more bytes than one record
  // may carry. Imported at the county, they go up and down in parts; the
  // move hands the whole file over in parts too.
  HouseholdId h = add_household(kVillage, kVillage);
  ASSERT_TRUE(net.settle());
  std::vector<EventLine> lines;
  for (int i = 0; i < 20000; ++i) {
    lines.push_back(i % 2 == 0 ? EventLine{"medical_insurance", "YB-" + std::to_string(i), kHead, "serious_illness", days_ago(1 + i % 200)}
                               : EventLine{"petitions", "XF-" + std::to_string(i), kSpouse, "petition", days_ago(1 + i % 200)});
  }
  ImportReport rep = import(kCounty, lines);
  EXPECT_EQ(rep.applied, 20000u);
  ASSERT_TRUE(net.settle());
  for (uint64_t c : kHolders) EXPECT_EQ(held(c, h).events.size(), 20000u) << "at " << c;
  expect_replicated(h, kHolders, kNonHolders);

  ASSERT_TRUE(net.monitor(kTownship).move_household(h, kVillage2, net.now()).is_ok());
  ASSERT_TRUE(net.settle());
  EXPECT_EQ(held(kVillage2, h).events.size(), 20000u);
  expect_replicated(h, {kProvince, kCity, kCounty, kTownship, kVillage2}, {kVillage, kOtherCounty, kOtherTownship, kOtherVillage});
  for (uint64_t c : {kProvince, kCity, kCounty, kTownship, kVillage, kVillage2}) {
    for (const auto& l : net.core(c).status().links) EXPECT_EQ(l.refusals, 0u) << c << " from " << l.peer;
  }
}

TEST_F(MonitorTest, AMessageLargerThanARecordIsNotSentAndItsCommandFailsWhole) {
  auto outbox = [&](uint64_t c) {
    uint64_t n = 0;
    for (const auto& l : net.core(c).status().links) n += l.outbox_depth;
    return n;
  };
  uint64_t before = outbox(kCounty);
  Status s = net.core(kCounty).execute([&](storage::WriteTxn& txn, Outbound& out) {
    txn.put(storage::Table::kDomain, "test:oversize", std::string_view("written"));
    out.send(kCity, protocol::MessageKind::kAudit, std::string(protocol::kMaxPayloadBytes + 1, 'x'));
    return Status::ok();
  }, net.now());
  EXPECT_FALSE(s.is_ok());
  EXPECT_NE(s.message().find("bytes a record carries"), std::string::npos) << s.to_string();
  EXPECT_EQ(outbox(kCounty), before);
  EXPECT_TRUE(net.store(kCounty).read([&](const storage::ReadTxn& txn) {
    std::string_view v;
    EXPECT_FALSE(txn.get(storage::Table::kDomain, "test:oversize", v)) << "the command's writes were kept";
  }).is_ok());
  // The links carry on.
  HouseholdId h = add_household(kVillage, kVillage);
  ASSERT_TRUE(net.settle());
  EXPECT_TRUE(held(kProvince, h).household.has_value());
  EXPECT_EQ(net.refusals(kCity, kCounty), 0u);
}

// Villages that run no node of their own: the township's node is the home
// of both, and a move between them hands the visit over at the same node.
TEST(MonitorHandOverTest, AMoveBetweenTwoVillagesOfOneHomeNodeRecordsTheHandOver) {
  (void)set_log_level("warning");
  testing::MonitorNetwork net({{kProvince, 0}, {kCity, kProvince}, {kCounty, kCity}, {kTownship, kCounty}});
  ASSERT_TRUE(net.settle());
  NewHousehold nh;
  nh.village = kVillage;
  nh.category = "marginal";
  nh.members = {testing::member(kHead, "张三明", "head")};
  auto h = net.monitor(kTownship).add_household(nh, net.now());
  ASSERT_TRUE(h.is_ok()) << h.status().to_string();
  ASSERT_TRUE(net.settle());
  auto r = net.monitor(kCounty).import_events(
      testing::events_csv({{"medical_insurance", "YB-1", kHead, "serious_illness", add_days(net.today(), -3)}}), ImportFormat::kCsv,
      net.now());
  ASSERT_TRUE(r.is_ok() && r->alerts_issued == 1u);
  ASSERT_TRUE(net.settle());
  auto kinds = [&](uint64_t at) {
    std::multiset<std::string> out;
    auto cf = net.monitor(at).show_household(*h);
    for (auto& e : cf->history) out.insert(e.kind);
    return out;
  };
  EXPECT_EQ(kinds(kTownship).count("delivered"), 1u);
  EXPECT_EQ(kinds(kTownship).count("handed_over"), 0u);
  ASSERT_TRUE(net.monitor(kTownship).move_household(*h, kVillage2, net.now()).is_ok());
  ASSERT_TRUE(net.settle());
  for (uint64_t at : {kTownship, kCounty, kProvince}) {
    EXPECT_EQ(kinds(at).count("handed_over"), 1u) << at;
    EXPECT_EQ(kinds(at).count("delivered"), 1u) << at;
  }
}

// A township of an earlier release, which knows no compressed sync batches,
// between a county and a village of this one: the county's batches reach it
// expanded and apply; the city and the village get them compressed.
TEST(MonitorReleaseTest, ANeighbourOfAnEarlierReleaseGetsPlainSyncBatches) {
  (void)set_log_level("warning");
  testing::MonitorNetwork net({{kProvince, 0}, {kCity, kProvince}, {kCounty, kCity}, {kTownship, kCounty}, {kVillage, kTownship}},
                              {kTownship});
  ASSERT_TRUE(net.settle());
  const int n = 60;
  std::vector<EventLine> lines;
  for (int i = 0; i < n; ++i) {
    NewHousehold nh;
    nh.village = kVillage;
    nh.category = "marginal";
    const std::string id = testing::make_id_number(441303, 19800101, static_cast<uint32_t>(100 + i));
    nh.members = {testing::member(id, "张三明", "head")};
    ASSERT_TRUE(net.monitor(kCounty).add_household(nh, net.now()).is_ok());
    lines.push_back({"medical_insurance", "YB-" + std::to_string(i), id, "serious_illness", add_days(net.today(), -3)});
  }
  ASSERT_TRUE(net.settle());
  // One import: one transaction whose syncs go as batches to the city and
  // to the township.
  auto r = net.monitor(kCounty).import_events(testing::events_csv(lines), ImportFormat::kCsv, net.now());
  ASSERT_TRUE(r.is_ok() && r->alerts_issued == static_cast<uint64_t>(n)) << (r ? "" : r.status().to_string());
  ASSERT_TRUE(net.settle());
  const auto zstd = static_cast<uint16_t>(protocol::MessageKind::kHouseholdSyncBatchZstd);
  const auto plain = static_cast<uint16_t>(protocol::MessageKind::kHouseholdSyncBatch);
  auto received = [&](uint64_t at, uint16_t kind) {
    auto it = net.kinds_received(at).find(kind);
    return it == net.kinds_received(at).end() ? uint64_t{0} : it->second;
  };
  EXPECT_EQ(received(kTownship, zstd), 0u) << "a node that did not announce the feature got a compressed batch";
  EXPECT_GT(received(kTownship, plain), 0u);
  EXPECT_GT(received(kCity, zstd), 0u);
  EXPECT_GT(received(kVillage, zstd), 0u) << "the township (this release underneath) compresses toward the village";
  for (uint64_t at : {kProvince, kCity, kCounty, kTownship, kVillage}) {
    auto alerts = net.monitor(at).list_alerts(AlertFilter{}, net.now());
    ASSERT_TRUE(alerts.is_ok()) << at;
    EXPECT_EQ(alerts->size(), static_cast<size_t>(n)) << at;
    for (const auto& l : net.core(at).status().links) EXPECT_EQ(l.refusals, 0u) << at << " from " << l.peer;
  }
}

TEST_F(MonitorTest, ConcurrentMovesAgreeOnTheLaterOneWithTheWholeFile) {
  HouseholdId h = add_household(kVillage, kVillage);
  ASSERT_TRUE(net.settle());
  net.cut(kCounty);
  // The city moves it to the other county first; the county, cut off, moves
  // it within itself later (a later stamp wins) — then the city imports
  // events while it still thinks the household lives in the other county.
  ASSERT_TRUE(net.monitor(kCity).move_household(h, kOtherVillage, net.now()).is_ok());
  net.run_for(200'000);
  ASSERT_TRUE(net.monitor(kCounty).move_household(h, kVillage2, net.now()).is_ok());
  import(kCity, {{"petitions", "XF-1", kChild, "petition", days_ago(3)}});
  net.run_for(500'000);
  EXPECT_EQ(alerts(kOtherVillage).size(), 1u);
  net.heal(kCounty);
  ASSERT_TRUE(net.settle());
  expect_replicated(h, {kProvince, kCity, kCounty, kTownship, kVillage2},
                    {kVillage, kOtherCounty, kOtherTownship, kOtherVillage});
  Alert a = only_alert(kVillage2);
  EXPECT_EQ(a.state, AlertState::kDelivered);
  EXPECT_EQ(a.score, 6u);
}

TEST_F(MonitorTest, AlertRaisedAtTheOldHomeDuringAMoveFollowsTheHousehold) {
  HouseholdId h = add_household(kVillage, kVillage);
  ASSERT_TRUE(net.settle());
  // The village raises an alert; it waits at the township (cut off) while
  // the city moves the household to the other county.
  net.cut(kTownship);
  import(kVillage, {{"petitions", "XF-1", kChild, "petition", days_ago(3)}});
  Alert a = only_alert(kVillage);
  ASSERT_TRUE(net.monitor(kCity).move_household(h, kOtherVillage, net.now()).is_ok());
  net.run_for(500'000);
  EXPECT_EQ(net.monitor(kCounty).show_household(h)->moved_to, kOtherVillage);
  net.heal(kTownship);
  ASSERT_TRUE(net.settle());
  std::vector<uint64_t> holders = {kProvince, kCity, kOtherCounty, kOtherTownship, kOtherVillage};
  for (uint64_t c : holders) {
    Alert x = only_alert(c);
    EXPECT_EQ(x.id, a.id) << "at " << c;
    EXPECT_EQ(x.state, AlertState::kDelivered) << "at " << c;
  }
  expect_replicated(h, holders, {kCounty, kTownship, kVillage, kVillage2});
  for (uint64_t c : net.codes()) EXPECT_EQ(net.refusals(c, kCounty) + net.refusals(c, kTownship), 0u) << "at " << c;
}

TEST_F(MonitorTest, MoveAwayAndBackKeepsWhatTheOldHomeDidMeanwhile) {
  HouseholdId h = add_household(kVillage, kVillage);
  ASSERT_TRUE(net.settle());
  import(kProvince, {{"petitions", "XF-1", kChild, "petition", days_ago(3)}});
  ASSERT_TRUE(net.settle());
  Alert a = only_alert(kVillage);
  // The village accepts while the township, not yet told, moves the
  // household away and back: the village drops its copy and gets the
  // township's file back before its acceptance reaches the township.
  ASSERT_TRUE(net.monitor(kVillage).accept_alert(a.id, "村协理员", net.now()).is_ok());
  ASSERT_TRUE(net.monitor(kTownship).move_household(h, kVillage2, net.now()).is_ok());
  ASSERT_TRUE(net.monitor(kTownship).move_household(h, kVillage, net.now()).is_ok());
  ASSERT_TRUE(net.settle());
  for (uint64_t c : kHolders) EXPECT_EQ(only_alert(c).state, AlertState::kAccepted) << "at " << c;
  expect_replicated(h, kHolders, kNonHolders);
}

// Two villages of different counties, not yet aware of each other's
// registrations, each put the same child into a household: the city and
// the province hold both claims. Whichever household lets the child go,
// every node holding the other still finds the child there, events for the
// child still score, and no stale claim is left behind.
TEST_F(MonitorTest, APersonRegisteredInTwoHouseholdsStaysFindableWhenOneLetsGo) {
  HouseholdId h1 = add_household(kVillage, kVillage);
  HouseholdId h2 = add_household(kOtherVillage, kOtherVillage,
                                 {testing::member(kStranger, "王五", "head"), testing::member(kChild, "张小明", "child")});
  ASSERT_TRUE(net.settle());
  auto conflicts = [&](uint64_t c) {
    size_t n = 0;
    EXPECT_TRUE(net.store(c).read([&](const storage::ReadTxn& t) {
      t.scan(storage::Table::kPersonConflicts, {}, [&](std::string_view, std::string_view) { return ++n, true; });
    }).is_ok());
    return n;
  };
  auto found = [&](uint64_t c) {
    auto r = net.monitor(c).find_person(kChild);
    return r.is_ok() ? std::optional<HouseholdId>(*r) : std::nullopt;
  };
  // At each of `codes` the child is found in `h` alone, with no claim left over.
  auto expect_only_in = [&](const HouseholdId& h, std::initializer_list<uint64_t> codes) {
    for (uint64_t c : codes) {
      EXPECT_EQ(found(c), h) << "at " << c;
      EXPECT_EQ(conflicts(c), 0u) << "at " << c;
    }
  };
  for (uint64_t c : {kProvince, kCity}) {
    ASSERT_TRUE(found(c) == h1 || found(c) == h2) << "at " << c;
    EXPECT_EQ(conflicts(c), 1u) << "at " << c;
  }
  // The aggregates name it where it shows, and only there.
  auto reported_conflicts = [&](uint64_t c) {
    auto a = net.monitor(c).aggregates(net.now());
    return a.is_ok() ? (*a)["own"].value("person_conflicts", int64_t{-1}) : int64_t{-2};
  };
  for (uint64_t c : {kProvince, kCity}) EXPECT_EQ(reported_conflicts(c), 1) << "at " << c;
  for (uint64_t c : {kCounty, kTownship, kVillage, kOtherVillage}) EXPECT_EQ(reported_conflicts(c), 0) << "at " << c;
  EXPECT_EQ(found(kVillage), h1);
  EXPECT_EQ(found(kOtherVillage), h2);
  // The case page at a node holding both names the other claim; a village
  // holding one household sees none.
  for (uint64_t c : {kProvince, kCity}) {
    auto one = net.monitor(c).show_household(h1);
    auto two = net.monitor(c).show_household(h2);
    ASSERT_TRUE(one.is_ok() && two.is_ok());
    EXPECT_EQ(one->also_registered, (std::vector<std::pair<std::string, HouseholdId>>{{kChild, h2}})) << "at " << c;
    EXPECT_EQ(two->also_registered, (std::vector<std::pair<std::string, HouseholdId>>{{kChild, h1}})) << "at " << c;
  }
  EXPECT_TRUE(net.monitor(kVillage).show_household(h1)->also_registered.empty());
  // The conflict list names it at the nodes holding both, found from either
  // village's division, and nowhere else.
  for (uint64_t c : {kProvince, kCity}) {
    for (uint64_t within : {uint64_t{0}, kVillage, kOtherCounty}) {
      ConflictQuery q;
      q.within = within;
      auto page = query_conflicts(net.store(c), q);
      ASSERT_TRUE(page.is_ok());
      ASSERT_EQ(page->conflicts.size(), 1u) << "at " << c << " within " << within;
      const PersonConflict& pc = page->conflicts[0];
      EXPECT_EQ(pc.id_number, kChild);
      EXPECT_EQ(pc.name, "张小明");
      EXPECT_EQ(std::set<HouseholdId>({pc.household, pc.also_in}), std::set<HouseholdId>({h1, h2}));
      EXPECT_EQ(pc.household, *found(c));
      EXPECT_EQ(pc.village, pc.household == h1 ? kVillage : kOtherVillage);
      EXPECT_EQ(pc.also_in_village, pc.also_in == h1 ? kVillage : kOtherVillage);
      EXPECT_TRUE(page->next.empty());
    }
    ConflictQuery elsewhere;
    elsewhere.within = kVillage2;
    EXPECT_TRUE(query_conflicts(net.store(c), elsewhere)->conflicts.empty()) << "at " << c;
  }
  for (uint64_t c : {kCounty, kTownship, kVillage, kOtherVillage})
    EXPECT_TRUE(query_conflicts(net.store(c), ConflictQuery{})->conflicts.empty()) << "at " << c;

  // The first village takes the child out of its household.
  HouseholdUpdate without_child;
  without_child.members = {testing::member(kHead, "张三明", "head"), testing::member(kSpouse, "李四", "spouse")};
  ASSERT_TRUE(net.monitor(kVillage).update_household(h1, without_child, net.now()).is_ok());
  ASSERT_TRUE(net.settle());
  expect_only_in(h2, {kProvince, kCity, kOtherCounty, kOtherVillage});
  EXPECT_TRUE(query_conflicts(net.store(kCity), ConflictQuery{})->conflicts.empty());
  for (uint64_t c : {kProvince, kCity}) EXPECT_EQ(reported_conflicts(c), 0) << "at " << c;
  EXPECT_FALSE(found(kVillage).has_value());
  EXPECT_TRUE(net.monitor(kCity).show_household(h2)->also_registered.empty());
  ImportReport rep = import(kCity, {{"medical_insurance", "YB-9", kChild, "serious_illness", days_ago(5)}});
  EXPECT_EQ(rep.applied, 1u);
  EXPECT_EQ(rep.not_monitored, 0u);
  ASSERT_TRUE(net.settle());
  EXPECT_EQ(only_alert(kOtherVillage).household, h2);

  // It takes the child back (the village itself no longer sees the other
  // claim); the city's other fields of that household stay editable; then
  // the other village lets the child go and the first household's claim
  // takes the index over.
  HouseholdUpdate with_child;
  with_child.members = {testing::member(kHead, "张三明", "head"), testing::member(kSpouse, "李四", "spouse"),
                        testing::member(kChild, "张小明", "child")};
  ASSERT_TRUE(net.monitor(kVillage).update_household(h1, with_child, net.now()).is_ok());
  ASSERT_TRUE(net.settle());
  EXPECT_EQ(found(kCity), h2) << "the claim indexed first keeps the row";
  EXPECT_EQ(conflicts(kCity), 1u);
  HouseholdUpdate phone;
  phone.phone = "13900000000";
  Status s = net.monitor(kCity).update_household(h1, phone, net.now());
  EXPECT_TRUE(s.is_ok()) << s.to_string();
  HouseholdUpdate without_child2;
  without_child2.members = {testing::member(kStranger, "王五", "head")};
  ASSERT_TRUE(net.monitor(kOtherVillage).update_household(h2, without_child2, net.now()).is_ok());
  ASSERT_TRUE(net.settle());
  expect_only_in(h1, {kProvince, kCity, kCounty, kVillage});
  EXPECT_FALSE(found(kOtherVillage).has_value());
}

// ---------------------------------------------------------------------------
// Policy

TEST_F(MonitorTest, CityStandardsReachItsCountyBelowAndTheProvinceAbove) {
  const std::string doc = R"({"441303000000": {"urban_yuan": 1120.5, "rural_yuan": 980, "illustrative": true}})";
  EXPECT_EQ(net.monitor(kCounty).set_standards(doc, net.now()).code(), Status::Code::kRefused);
  EXPECT_EQ(net.monitor(kCity).set_standards(R"({"441402000000": {"urban_yuan": 1, "rural_yuan": 1}})", net.now()).code(),
            Status::Code::kRefused);
  EXPECT_EQ(net.monitor(kCity).set_standards(R"({"441303000000": {"urban_yuan": -1, "rural_yuan": 1}})", net.now()).code(),
            Status::Code::kInvalidArgument);
  ASSERT_TRUE(net.monitor(kCity).set_standards(doc, net.now()).is_ok());
  ASSERT_TRUE(net.settle());
  for (uint64_t c : {kProvince, kCity, kCounty, kTownship, kVillage}) {
    nlohmann::json set = net.monitor(c).standards_json();
    ASSERT_TRUE(set.contains("441303000000")) << "at " << c;
    EXPECT_EQ(set["441303000000"]["urban_fen"], 112050) << "at " << c;
    EXPECT_EQ(set["441303000000"]["set_by"], "441300000000") << "at " << c;
  }
  // The other county's subtree does not hold this county's standards.
  EXPECT_FALSE(net.monitor(kOtherCounty).standards_json().contains("441303000000"));
  // A later setting by the province wins everywhere.
  ASSERT_TRUE(net.monitor(kProvince).set_standards(R"({"441303000000": {"urban_yuan": 1200, "rural_yuan": 1000}})", net.now()).is_ok());
  ASSERT_TRUE(net.settle());
  for (uint64_t c : {kProvince, kCity, kCounty, kTownship, kVillage})
    EXPECT_EQ(net.monitor(c).standards_json()["441303000000"]["urban_fen"], 120000) << "at " << c;
}

// The province and a city set a county's standards in the same millisecond:
// both stamp the same hlc (nothing else written that millisecond). The
// setter's code breaks the tie, the same way everywhere; each node used to
// keep the entry it had first, and the two halves of the tree disagreed.
TEST_F(MonitorTest, StandardsSetWithTheSameStampAgreeEverywhere) {
  net.run_for(10'000);
  ASSERT_TRUE(net.monitor(kProvince).set_standards(R"({"441303000000": {"urban_yuan": 1200, "rural_yuan": 1000}})", net.now()).is_ok());
  ASSERT_TRUE(net.monitor(kCity).set_standards(R"({"441303000000": {"urban_yuan": 1100, "rural_yuan": 900}})", net.now()).is_ok());
  ASSERT_EQ(net.monitor(kProvince).standards_json()["441303000000"]["hlc"], net.monitor(kCity).standards_json()["441303000000"]["hlc"])
      << "the test needs the two stamps equal";
  ASSERT_TRUE(net.settle());
  for (uint64_t c : {kProvince, kCity, kCounty, kTownship, kVillage}) {
    nlohmann::json set = net.monitor(c).standards_json()["441303000000"];
    EXPECT_EQ(set["urban_fen"], 110000) << "at " << c;
    EXPECT_EQ(set["set_by"], "441300000000") << "at " << c;
  }
}

// A person is found by an ID number typed with a lower-case check
// character, as the API finds them (numbers are stored with 'X').
TEST_F(MonitorTest, APersonIsFoundWithALowerCaseCheckCharacter) {
  std::string with_x;
  for (int seq = 1; seq < 1000 && with_x.empty(); ++seq) {
    std::string n = testing::make_id_number(441303, 19750505, seq);
    if (n.back() == 'X') with_x = n;
  }
  ASSERT_FALSE(with_x.empty());
  HouseholdId h = add_household(kVillage, kVillage, {testing::member(with_x, "王五", "head")});
  std::string typed = with_x;
  typed.back() = 'x';
  auto found = net.monitor(kVillage).find_person(typed);
  ASSERT_TRUE(found.is_ok()) << found.status().to_string();
  EXPECT_EQ(*found, h);
}

// A child whose wall clock was stepped back (a time correction, a restart
// with a slow clock) still has its next snapshot taken by its parent: they
// are ordered by the child's hlc, which never goes back.
TEST_F(MonitorTest, ASnapshotFromAChildWhoseClockWentBackIsTaken) {
  ASSERT_TRUE(net.settle());
  auto reported_as_of = [&] {
    const auto agg = net.monitor(kCity).aggregates(net.now());  // held: the loop reads into it
    for (const auto& row : (*agg)["children"])
      if (row["code"] == "441303000000" && row["reported"].is_object()) return row["reported"].value("as_of_us", int64_t{0});
    return int64_t{0};
  };
  net.monitor(kCounty).on_tick(net.now());
  ASSERT_TRUE(net.settle());
  ASSERT_GT(reported_as_of(), 0) << "the county's first snapshot did not reach the city";
  Instant back = net.now();
  back.mono_us += MonitorOptions{}.aggregate_interval_us + 1;  // the next snapshot is due
  back.wall_us -= 3'600'000'000;                               // an hour behind
  net.monitor(kCounty).on_tick(back);
  ASSERT_TRUE(net.settle());
  EXPECT_EQ(reported_as_of(), back.wall_us);
}

// DESIGN §2.2's rules for a marginal household (income below 1.5 × the
// county's urban 低保 standard, where that standard is known) and for
// single-person coverage (a member of a marginal household, severely
// disabled or seriously ill) are checked: a household that breaks them is
// refused, naming the rule, and nothing is written.
// The 1.5× rule also holds where the standard comes from the policy
// document (its "standards", unused before), and in a city without counties
// (东莞, 中山: townships directly under the city), whose standard is set
// for the city itself. A standards record with one entry its sender may not
// give is refused whole, nothing of it written.
TEST_F(MonitorTest, StandardsFromThePolicyDocumentAndOfACityWithoutCountiesApply) {
  auto marginal = [&](uint64_t village, int64_t income_fen) {
    NewHousehold h;
    h.village = village;
    h.category = "marginal";
    h.income_fen = income_fen;
    h.members = {testing::member(kStranger, "王五明", "head")};
    return h;
  };
  nlohmann::json doc = nlohmann::json::parse(testing::policy_version(2));
  doc["standards"] = {{"441303000000", {{"urban_yuan", 1000}, {"rural_yuan", 800}, {"set_by", "441300000000"}, {"illustrative", false}}}};
  Status policy_set = net.monitor(kProvince).set_policy(doc.dump(), net.now());
  ASSERT_TRUE(policy_set.is_ok()) << policy_set.to_string();
  ASSERT_TRUE(net.settle());
  auto r = net.monitor(kVillage).add_household(marginal(kVillage, 150000), net.now());
  ASSERT_FALSE(r.is_ok());
  EXPECT_NE(r.status().message().find("not below 1500.00"), std::string::npos) << r.status().to_string();

  // The city forges an entry "set by" a county, beside a good one.
  ASSERT_TRUE(net.core(kCity)
                  .execute([&](storage::WriteTxn&, node::Outbound& out) {
                    nlohmann::json entries{
                        {"441303000000", {{"urban_fen", 90000}, {"rural_fen", 70000}, {"set_by", "441300000000"}, {"hlc", out.hlc()}}},
                        {"441302000000", {{"urban_fen", 1}, {"rural_fen", 1}, {"set_by", "441302000000"}, {"hlc", out.hlc()}}}};
                    out.send(kProvince, protocol::MessageKind::kStandards, entries.dump());
                    return Status::ok();
                  }, net.now())
                  .is_ok());
  ASSERT_TRUE(net.settle());
  EXPECT_EQ(net.refusals(kProvince, kCity), 1u);
  EXPECT_TRUE(net.monitor(kProvince).standards_json().empty()) << net.monitor(kProvince).standards_json().dump();

  constexpr uint64_t kDongguan = 441900000000, kTown = 441900003000, kDgVillage = 441900003001;
  testing::MonitorNetwork dg({{kProvince, 0}, {kDongguan, kProvince}, {kTown, kDongguan}, {kDgVillage, kTown}});
  ASSERT_TRUE(dg.settle());
  Status set = dg.monitor(kProvince).set_standards(R"({"441900000000": {"urban_yuan": 1200, "rural_yuan": 1200}})", dg.now());
  ASSERT_TRUE(set.is_ok()) << set.to_string();
  ASSERT_TRUE(dg.settle());
  r = dg.monitor(kDgVillage).add_household(marginal(kDgVillage, 180000), dg.now());
  ASSERT_FALSE(r.is_ok());
  EXPECT_NE(r.status().message().find("not below 1800.00"), std::string::npos) << r.status().to_string();
  EXPECT_TRUE(dg.monitor(kDgVillage).add_household(marginal(kDgVillage, 170000), dg.now()).is_ok());
}

TEST_F(MonitorTest, MarginalIncomeAndSinglePersonCoverageFollowThePolicy) {
  auto household = [&](const std::string& category, int64_t income_fen, protocol::Member head) {
    NewHousehold h;
    h.village = kVillage;
    h.category = category;
    h.income_fen = income_fen;
    h.members = {std::move(head)};
    return h;
  };
  auto category_update = [](std::string c) {
    HouseholdUpdate u;
    u.category = std::move(c);
    return u;
  };
  auto income_update = [](int64_t fen) {
    HouseholdUpdate u;
    u.income_fen = fen;
    return u;
  };
  auto head = [&](uint32_t grade = 0, std::string kind = "", bool illness = false, bool single = false) {
    protocol::Member m = testing::member(kHead, "张三明", "head");
    m.disability_grade = grade;
    m.disability_kind = std::move(kind);
    m.major_illness = illness;
    m.single_person_coverage = single;
    return m;
  };
  // No standard known for the county yet: any income is taken.
  auto first = net.monitor(kVillage).add_household(household("marginal", 500000, head()), net.now());
  ASSERT_TRUE(first.is_ok()) << first.status().to_string();
  ASSERT_TRUE(net.monitor(kVillage).update_household(*first, category_update("other"), net.now()).is_ok());
  ASSERT_TRUE(net.monitor(kCity).set_standards(R"({"441303000000": {"urban_yuan": 1000, "rural_yuan": 800}})", net.now()).is_ok());
  ASSERT_TRUE(net.settle());
  auto refused = [&](const NewHousehold& h, const std::string& why) {
    auto r = net.monitor(kVillage).add_household(h, net.now());
    ASSERT_FALSE(r.is_ok()) << why;
    EXPECT_EQ(r.status().code(), Status::Code::kInvalidArgument);
    EXPECT_NE(r.status().message().find(why), std::string::npos) << r.status().to_string();
    EXPECT_FALSE(r.status().message_zh().empty());
  };
  refused(household("marginal", 150000, head()), "not below 1500.00");
  refused(household("minimum_living", 50000, head(1, "", false, true)), "for a member of a marginal household");
  refused(household("marginal", 90000, head(3, "physical", false, true)), "needs disability grade 1-2");
  refused(household("marginal", 90000, head(0, "", false, true)), "needs disability grade 1-2");
  // Below the line, and each kind of 单人保 member (each a person of its own).
  int k = 0;
  for (auto m : {head(2, "physical", false, true), head(4, "intellectual", false, true), head(3, "精神", false, true),
                 head(0, "", true, true)}) {
    m.id_number = testing::make_id_number(441303, 19600101, 900 + ++k);
    auto ok = net.monitor(kVillage).add_household(household("marginal", 149999, m), net.now());
    EXPECT_TRUE(ok.is_ok()) << ok.status().to_string();
  }
  // An update that raises the income of a marginal household above the line, or
  // makes a household marginal with such an income, is refused.
  EXPECT_EQ(net.monitor(kVillage).update_household(*first, category_update("marginal"), net.now()).code(),
            Status::Code::kInvalidArgument);
  EXPECT_TRUE(net.monitor(kVillage).update_household(*first, income_update(120000), net.now()).is_ok());
  EXPECT_TRUE(net.monitor(kVillage).update_household(*first, category_update("marginal"), net.now()).is_ok());
  EXPECT_EQ(net.monitor(kVillage).update_household(*first, income_update(160000), net.now()).code(),
            Status::Code::kInvalidArgument);
}

TEST_F(MonitorTest, PolicyNewerVersionApplied_OlderIgnored) {
  EXPECT_EQ(net.monitor(kVillage).policy().version, 1u);
  EXPECT_EQ(net.monitor(kCity).set_policy(testing::policy_version(2), net.now()).code(), Status::Code::kRefused);
  Status s = net.monitor(kProvince).set_policy(testing::policy_version(2, "petition", 9), net.now());
  ASSERT_TRUE(s.is_ok()) << s.to_string();
  EXPECT_EQ(net.monitor(kProvince).policy().version, 2u);
  ASSERT_TRUE(net.settle());
  for (uint64_t c : net.codes()) {
    EXPECT_EQ(net.monitor(c).policy().version, 2u) << "at " << c;
    EXPECT_EQ(net.monitor(c).policy().indicator("petition")->points, 9u) << "at " << c;
  }
  EXPECT_EQ(net.monitor(kProvince).set_policy(testing::policy_version(2), net.now()).code(),
            Status::Code::kInvalidArgument);
  EXPECT_EQ(net.monitor(kProvince).set_policy(testing::policy_version(1), net.now()).code(),
            Status::Code::kInvalidArgument);

  // A replayed version 1 from the parent is ignored (not refused).
  Status sent = net.core(kCity).execute([&](storage::WriteTxn&, Outbound& out) {
    out.send(kCounty, protocol::MessageKind::kPolicy, testing::policy_version(1));
    return Status::ok();
  }, net.now());
  ASSERT_TRUE(sent.is_ok());
  ASSERT_TRUE(net.settle());
  EXPECT_EQ(net.monitor(kCounty).policy().version, 2u);
  EXPECT_EQ(net.monitor(kTownship).policy().version, 2u);
  EXPECT_EQ(net.refusals(kCounty, kCity), 0u);
  // A policy from a child is refused.
  sent = net.core(kTownship).execute([&](storage::WriteTxn&, Outbound& out) {
    out.send(kCounty, protocol::MessageKind::kPolicy, testing::policy_version(7));
    return Status::ok();
  }, net.now());
  ASSERT_TRUE(sent.is_ok());
  ASSERT_TRUE(net.settle());
  EXPECT_EQ(net.monitor(kCounty).policy().version, 2u);
  EXPECT_EQ(net.refusals(kCounty, kTownship), 1u);

  // The running policy scores: petition is now worth 9 (level 1).
  add_household(kVillage, kVillage);
  ASSERT_TRUE(net.settle());
  import(kTownship, {{"petitions", "XF-1", kHead, "petition", days_ago(1)}});
  ASSERT_TRUE(net.settle());
  EXPECT_EQ(only_alert(kVillage).level, 1u);
}

TEST_F(MonitorTest, PolicySurvivesRestartOfTheMonitor) {
  ASSERT_TRUE(net.monitor(kProvince).set_policy(testing::policy_version(3), net.now()).is_ok());
  ASSERT_TRUE(net.settle());
  Monitor fresh(&net.core(kVillage), &net.store(kVillage), MonitorOptions{});
  ASSERT_TRUE(fresh.start().is_ok());
  EXPECT_EQ(fresh.policy().version, 3u);
}

// A node's clock resumes after a restart from where it stopped (its last
// stamp is stored with each commit that moves it). Without that, a village
// restarted with its wall clock behind a stamp it had received stamped its
// operator's edit lower: the edit was answered ok, written in the history,
// and lost to the older value at every holder, its own included.
TEST_F(MonitorTest, AnEditAfterARestartWithTheClockBehindStillWins) {
  HouseholdId h = add_household(kVillage, kVillage);
  ASSERT_TRUE(net.settle());
  // The province, its clock a minute ahead of the village's, changes the phone.
  HouseholdUpdate ahead;
  ahead.phone = "13900000000";
  Instant province_now = net.now();
  province_now.wall_us += 60'000'000;
  ASSERT_TRUE(net.monitor(kProvince).update_household(h, ahead, province_now).is_ok());
  ASSERT_TRUE(net.settle());
  ASSERT_EQ(held(kVillage, h).household->phone.value, "13900000000");
  // The village node restarts (a new core and monitor on its store).
  NodeCore core(net.core(kVillage).neighbourhood(), &net.store(kVillage), LinkOptions{});
  Monitor restarted(&core, &net.store(kVillage), MonitorOptions{});
  core.set_domain(&restarted);
  ASSERT_TRUE(core.start(net.now()).is_ok());
  ASSERT_TRUE(restarted.start().is_ok());
  HouseholdUpdate local;
  local.phone = "13700000000";
  ASSERT_TRUE(restarted.update_household(h, local, net.now()).is_ok());
  auto page = restarted.show_household(h);
  ASSERT_TRUE(page.is_ok());
  EXPECT_EQ(page->household.phone.value, "13700000000") << "the edit after the restart was outranked";
  EXPECT_GT(page->household.phone.stamp.hlc, held(kProvince, h).household->phone.stamp.hlc);
}

// ---------------------------------------------------------------------------
// Imports

TEST_F(MonitorTest, ImportReportCountsDuplicatesUnmonitoredAndRejectedLines) {
  HouseholdId h = add_household(kVillage, kVillage);
  ASSERT_TRUE(net.settle());
  std::string text = testing::events_csv({{"medical_insurance", "YB-1", kHead, "serious_illness", days_ago(10)},
                                          {"medical_insurance", "YB-1", kHead, "serious_illness", days_ago(10)},
                                          {"human_resources", "RS-1", kStranger, "unemployment", days_ago(5)}});
  text += "medical_insurance,YB-2,441303198001010110,serious_illness,2026-11-01\n";  // bad check character
  text += "education,JY-9,";
  text += kChild + ",serious_illness,2026-11-01\n";  // department not a source of the indicator
  auto r = net.monitor(kCounty).import_events(text, ImportFormat::kCsv, net.now());
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  EXPECT_EQ(r->lines_read, 5u);
  EXPECT_EQ(r->applied, 1u);
  EXPECT_EQ(r->duplicates, 1u);
  EXPECT_EQ(r->not_monitored, 1u);
  ASSERT_EQ(r->rejected.size(), 2u);
  EXPECT_EQ(r->rejected[0].line, 5u);
  EXPECT_EQ(r->rejected[1].line, 6u);
  EXPECT_EQ(r->alerts_issued, 1u);  // 4 points: the green band
  ASSERT_TRUE(net.settle());
  // Again at the same node, and at another node after replication: duplicates.
  ImportReport again = import(kCounty, {{"medical_insurance", "YB-1", kHead, "serious_illness", days_ago(10)}});
  EXPECT_EQ(again.duplicates, 1u);
  EXPECT_EQ(again.applied, 0u);
  ImportReport elsewhere = import(kVillage, {{"medical_insurance", "YB-1", kSpouse, "serious_illness", days_ago(9)}});
  EXPECT_EQ(elsewhere.duplicates, 1u);
  EXPECT_EQ(elsewhere.applied, 0u);
  ImportReport province = import(kProvince, {{"medical_insurance", "YB-1", kHead, "serious_illness", days_ago(10)}});
  EXPECT_EQ(province.duplicates, 1u);
  ASSERT_TRUE(net.settle());
  EXPECT_EQ(held(kVillage, h).events.size(), 1u);
  expect_replicated(h, kHolders, kNonHolders);
}

// Every domain table of a store, as (table, key) -> value.
std::map<std::pair<int, std::string>, std::string> dump(storage::Store& store) {
  std::map<std::pair<int, std::string>, std::string> out;
  EXPECT_TRUE(store.read([&](const storage::ReadTxn& t) {
    for (int table = 0; table < static_cast<int>(storage::Table::kCount); ++table) {
      t.scan(static_cast<storage::Table>(table), {}, [&](std::string_view k, std::string_view v) {
        out[{table, std::string(k)}] = std::string(v);
        return true;
      });
    }
  }).is_ok());
  return out;
}

// A dry run does the import's whole work and gives its report, then rolls
// back: the store, the outbox and the links are as before, and the real
// import afterwards gives the same report and applies.
TEST_F(MonitorTest, ADryRunReportsWhatTheImportWouldDoAndChangesNothing) {
  HouseholdId h = add_household(kVillage, kVillage);
  ASSERT_TRUE(net.settle());
  std::string text = testing::events_csv({{"medical_insurance", "YB-1", kHead, "serious_illness", days_ago(10)},
                                          {"medical_insurance", "YB-1", kHead, "serious_illness", days_ago(10)},
                                          {"human_resources", "RS-1", kStranger, "unemployment", days_ago(5)},
                                          {"civil_affairs", "MZ-1", kSpouse, "marriage_change", days_ago(3)}});
  text += "medical_insurance,YB-2,441303198001010110,serious_illness,2026-11-01\n";  // bad check character
  auto before = dump(net.store(kCounty));
  uint64_t assigned_before = 0;
  for (auto& l : net.core(kCounty).status().links) assigned_before += l.last_assigned;

  auto dry = net.monitor(kCounty).import_events(text, ImportFormat::kCsv, net.now(), true);
  ASSERT_TRUE(dry.is_ok()) << dry.status().to_string();
  EXPECT_TRUE(dry->dry_run);
  EXPECT_EQ(dry->lines_read, 5u);
  EXPECT_EQ(dry->applied, 2u);
  EXPECT_EQ(dry->duplicates, 1u);
  EXPECT_EQ(dry->not_monitored, 1u);
  ASSERT_EQ(dry->rejected.size(), 1u);
  EXPECT_EQ(dry->alerts_issued, 1u);
  EXPECT_EQ(dump(net.store(kCounty)), before);
  uint64_t assigned_after = 0;
  for (auto& l : net.core(kCounty).status().links) assigned_after += l.last_assigned;
  EXPECT_EQ(assigned_after, assigned_before) << "nothing was sent";
  ASSERT_TRUE(net.settle());
  EXPECT_TRUE(alerts(kVillage).empty());

  auto real = net.monitor(kCounty).import_events(text, ImportFormat::kCsv, net.now());
  ASSERT_TRUE(real.is_ok()) << real.status().to_string();
  EXPECT_FALSE(real->dry_run);
  EXPECT_EQ(real->applied, dry->applied);
  EXPECT_EQ(real->duplicates, dry->duplicates);
  EXPECT_EQ(real->not_monitored, dry->not_monitored);
  EXPECT_EQ(real->rejected.size(), dry->rejected.size());
  EXPECT_EQ(real->alerts_issued, dry->alerts_issued);
  EXPECT_EQ(real->alerts_updated, dry->alerts_updated);
  ASSERT_TRUE(net.settle());
  EXPECT_EQ(alerts(kVillage).size(), 1u);
  EXPECT_EQ(held(kVillage, h).events.size(), 2u);
  // A dry run of the same file now: every line a duplicate, nothing issued.
  auto again = net.monitor(kCounty).import_events(text, ImportFormat::kCsv, net.now(), true);
  ASSERT_TRUE(again.is_ok());
  EXPECT_EQ(again->applied, 0u);
  EXPECT_EQ(again->duplicates, 3u);
  EXPECT_EQ(again->alerts_issued + again->alerts_updated, 0u);
}

TEST_F(MonitorTest, RejectedLinesAndBadFilesLeaveTheStoreUnchanged) {
  add_household(kVillage, kVillage);
  ASSERT_TRUE(net.settle());
  auto before = dump(net.store(kCounty));
  uint64_t assigned_before = 0;
  for (auto& l : net.core(kCounty).status().links) assigned_before += l.last_assigned;

  std::string rejected_only = "source_department,source_record_id,id_number,indicator,event_date\n"
                              "medical_insurance,YB-1,441303198001010110,serious_illness,2026-11-01\n"
                              "nobody,YB-2," + kHead + ",serious_illness,2026-11-01\n"
                              "medical_insurance,YB-3," + kHead + ",serious_illness,2030-01-01\n";
  auto r = net.monitor(kCounty).import_events(rejected_only, ImportFormat::kCsv, net.now());
  ASSERT_TRUE(r.is_ok());
  EXPECT_EQ(r->rejected.size(), 3u);
  EXPECT_EQ(r->applied, 0u);

  std::string bad_header = "source_department,record,id_number,indicator,event_date\n"
                           "medical_insurance,YB-1," + kHead + ",serious_illness,2026-11-01\n";
  EXPECT_EQ(net.monitor(kCounty).import_events(bad_header, ImportFormat::kCsv, net.now()).status().code(),
            Status::Code::kInvalidArgument);

  EXPECT_EQ(dump(net.store(kCounty)), before);
  uint64_t assigned_after = 0;
  for (auto& l : net.core(kCounty).status().links) assigned_after += l.last_assigned;
  EXPECT_EQ(assigned_after, assigned_before) << "nothing was sent";
}

// A household registration file: every kind of bad line is reported with
// its number and a reason in Chinese and in English, registers nothing, and
// the good lines register.
TEST_F(MonitorTest, HouseholdImportReportsEachBadLineInChineseAndEnglish) {
  add_household(kVillage, kVillage);  // kHead, kSpouse, kChild
  ASSERT_TRUE(net.settle());
  auto line = [](const std::string& village, const std::string& category, const std::string& members) {
    return R"({"village": ")" + village + R"(", "category": ")" + category + R"(", "members": [)" + members + "]}\n";
  };
  auto member = [](const std::string& id, const std::string& relation) {
    return R"({"id_number": ")" + id + R"(", "name": "王五", "relation": ")" + relation + R"("})";
  };
  const std::string fresh = testing::make_id_number(441303, 19900505, 55);
  const std::string fresh2 = testing::make_id_number(441303, 19910606, 66);
  std::string bad_check = fresh2;
  bad_check.back() = bad_check.back() == '0' ? '1' : '0';
  const std::string file = line("441303001001", "marginal", member(fresh, "head")) +             // 1: registers
                           "not json\n" +                                                       // 2
                           line("441303001001", "rich", member(fresh2, "head")) +               // 3
                           line("441302001001", "marginal", member(fresh2, "head")) +           // 4
                           line("441303001000", "marginal", member(fresh2, "head")) +           // 5
                           line("441303001001", "marginal", member(fresh2, "spouse")) +         // 6
                           line("441303001001", "marginal", member(bad_check, "head")) +        // 7
                           line("441303001001", "marginal", member(kHead, "head")) +            // 8
                           line("441303001001", "marginal", member(fresh2, "uncle")) +          // 9
                           R"({"village": "441303001001", "category": "marginal", "members": [], "pets": 2})" "\n" +  // 10
                           line("44130300100", "marginal", member(fresh2, "head")) +            // 11
                           "\n" +                                                               // 12: blank
                           line("441303001001", "destitute", member(fresh2, "head"));          // 13: registers
  auto before = dump(net.store(kCounty));
  auto r = net.monitor(kCounty).import_households(file, net.now());
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  EXPECT_EQ(r->lines_read, 12u);
  EXPECT_EQ(r->registered, 2u);
  struct Want {
    uint64_t line;
    std::string zh, en;
  };
  const std::vector<Want> want = {
      {2, "不是有效的 JSON", "not valid JSON"},
      {3, "未知的类别 'rich'", "unknown category 'rich'"},
      {4, "441302001001 不在本节点（441303000000）管辖范围内", "outside this node's jurisdiction"},
      {5, "不是村（社区）级代码", "is not a village-level code"},
      {6, "一户必须有且只有一名户主", "exactly one head"},
      {7, "身份证号码无效：", "check character"},
      {8, "已登记在家庭 H-", "is already in household H-"},
      {9, "未知的与户主关系 'uncle'", "unknown relation 'uncle'"},
      {10, "家庭中有未知字段 'pets'", "unknown field 'pets'"},
      {11, "不是有效的 12 位行政区划代码", "is not 12 digits"},
  };
  ASSERT_EQ(r->rejected.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    SCOPED_TRACE("line " + std::to_string(want[i].line));
    EXPECT_EQ(r->rejected[i].line, want[i].line);
    EXPECT_NE(r->rejected[i].reason.find(want[i].zh), std::string::npos) << r->rejected[i].reason;
    EXPECT_NE(r->rejected[i].reason_en.find(want[i].en), std::string::npos) << r->rejected[i].reason_en;
    // No reason shows a whole ID number.
    for (const std::string& id : {fresh2, bad_check, kHead}) {
      EXPECT_EQ(r->rejected[i].reason.find(id), std::string::npos);
      EXPECT_EQ(r->rejected[i].reason_en.find(id), std::string::npos);
    }
  }
  ASSERT_TRUE(net.settle());
  EXPECT_TRUE(net.monitor(kCounty).find_person(fresh).is_ok());
  EXPECT_TRUE(net.monitor(kCounty).find_person(fresh2).is_ok());
  // A file of bad lines only changes nothing.
  before = dump(net.store(kCounty));
  r = net.monitor(kCounty).import_households(line("441303001001", "rich", member(fresh, "head")), net.now());
  ASSERT_TRUE(r.is_ok());
  EXPECT_EQ(r->registered, 0u);
  EXPECT_EQ(dump(net.store(kCounty)), before);
}

// ---------------------------------------------------------------------------
// Cross-location applications

TEST_F(MonitorTest, CrossLocationApplicationReachesHomeAndStatusComesBack) {
  HouseholdId h = add_household(kVillage, kVillage);
  ASSERT_TRUE(net.settle());
  nlohmann::json app{{"village", "441303001001"}, {"name", "李四"}, {"id_number", kSpouse},
                     {"phone", "13900000000"}, {"reason", "务工地申请临时救助"}, {"needs", {"basic_living"}}};
  EXPECT_EQ(net.monitor(kCounty).submit_application(app, net.now()).status().code(), Status::Code::kRefused);
  EXPECT_EQ(net.monitor(kTownship).submit_application(app, net.now()).status().code(), Status::Code::kInvalidArgument)
      << "the village is the township's own";
  // Taken for a division outside the taking node: refused.
  EXPECT_EQ(net.monitor(kOtherTownship).submit_application(app, net.now(), kVillage).status().code(),
            Status::Code::kInvalidArgument);
  // Taken by the account of one of the township's villages.
  auto id = net.monitor(kOtherTownship).submit_application(app, net.now(), kOtherVillage);
  ASSERT_TRUE(id.is_ok()) << id.status().to_string();
  ASSERT_TRUE(net.settle());

  auto at_home = net.monitor(kVillage).applications();
  ASSERT_TRUE(at_home.is_ok());
  ASSERT_EQ(at_home->size(), 1u);
  EXPECT_EQ((*at_home)[0]["id"], *id);
  EXPECT_EQ((*at_home)[0]["status"], "received");
  EXPECT_EQ((*at_home)[0]["household"], protocol::format_id('H', h));
  auto taken = net.monitor(kOtherTownship).applications();
  ASSERT_TRUE(taken.is_ok());
  ASSERT_EQ(taken->size(), 1u);
  EXPECT_EQ((*taken)[0]["status"], "received");
  EXPECT_EQ((*taken)[0]["home"], "441303001001");
  EXPECT_EQ((*taken)[0]["household"], protocol::format_id('H', h));
  EXPECT_EQ((*taken)[0]["taken_at"], "441302001000");
  EXPECT_EQ((*taken)[0]["taken_for"], "441302001001");
  EXPECT_EQ((*at_home)[0]["taken_for"], "441302001001");
  // The household's history records it at every holder.
  auto cf = net.monitor(kProvince).show_household(h);
  ASSERT_TRUE(cf.is_ok());
  EXPECT_TRUE(std::any_of(cf->history.begin(), cf->history.end(), [](auto& e) { return e.kind == "application"; }));

  EXPECT_EQ(net.monitor(kOtherTownship).decide_application(*id, "accepted", "", net.now()).code(), Status::Code::kRefused);
  ASSERT_TRUE(net.monitor(kVillage).decide_application(*id, "accepted", "纳入临时救助", net.now()).is_ok());
  ASSERT_TRUE(net.settle());
  taken = net.monitor(kOtherTownship).applications();
  EXPECT_EQ((*taken)[0]["status"], "accepted");
  EXPECT_EQ((*taken)[0]["note"], "纳入临时救助");
  expect_replicated(h, kHolders, kNonHolders);
}

// Applications travel across the tree, so any node can send one: a status
// from a node that does not hold the applicant's village is refused, and an
// application or status with a field of another type (json::value threw,
// which failed the whole batch at every resend) is refused alone.
TEST_F(MonitorTest, AnApplicationStatusIsTakenOnlyFromAHolderAndMalformedOnesAreRefusedAlone) {
  add_household(kVillage, kVillage);
  ASSERT_TRUE(net.settle());
  nlohmann::json app{{"village", "441303001001"}, {"name", "李四"}, {"id_number", kSpouse}, {"reason", "务工地申请临时救助"}};
  auto id = net.monitor(kOtherTownship).submit_application(app, net.now(), kOtherVillage);
  ASSERT_TRUE(id.is_ok()) << id.status().to_string();
  ASSERT_TRUE(net.settle());
  auto send = [&](uint64_t from, uint64_t to, protocol::MessageKind kind, const nlohmann::json& body) {
    ASSERT_TRUE(net.core(from)
                    .execute([&](storage::WriteTxn&, node::Outbound& out) {
                      out.send(to, kind, body.dump());
                      return Status::ok();
                    }, net.now())
                    .is_ok());
  };
  // The other township's own village claims the application was accepted.
  send(kOtherVillage, kOtherTownship, protocol::MessageKind::kApplicationStatus,
       {{"id", *id}, {"status", "accepted"}, {"home", "441302001001"}, {"household", nullptr}, {"note", ""}, {"updated_us", 1}});
  // Fields of another type.
  send(kOtherVillage, kOtherTownship, protocol::MessageKind::kApplicationStatus,
       {{"id", 7}, {"status", "accepted"}, {"home", 1}, {"household", nullptr}, {"note", ""}, {"updated_us", 1}});
  send(kOtherVillage, kVillage, protocol::MessageKind::kApplication,
       {{"id", 1}, {"village", "441303001001"}, {"id_number", kSpouse}});
  ASSERT_TRUE(net.settle());
  EXPECT_EQ(net.refusals(kOtherTownship, kOtherVillage), 2u);
  EXPECT_GE(net.refusals(kVillage, kTownship), 1u);
  auto taken = net.monitor(kOtherTownship).applications();
  ASSERT_TRUE(taken.is_ok());
  ASSERT_EQ(taken->size(), 1u);
  EXPECT_EQ((*taken)[0]["status"], "received");
  auto at_home = net.monitor(kVillage).applications();
  ASSERT_TRUE(at_home.is_ok());
  EXPECT_EQ(at_home->size(), 1u);
  // The links go on: the real decision still arrives.
  ASSERT_TRUE(net.monitor(kVillage).decide_application(*id, "declined", "", net.now()).is_ok());
  ASSERT_TRUE(net.settle());
  taken = net.monitor(kOtherTownship).applications();
  EXPECT_EQ((*taken)[0]["status"], "declined");
}

// Free text typed by operators (notes, findings, names of who acted) is
// shown whole and replicated: one with an ID number in it is refused at
// every entry point, naming the field, and nothing changes anywhere.
TEST_F(MonitorTest, FreeTextWithAnIdNumberIsRefusedAtEveryEntryAndChangesNothing) {
  HouseholdId h = add_household(kVillage, kVillage);
  ASSERT_TRUE(net.settle());
  import(kProvince, {{"medical_insurance", "YB-1", kHead, "serious_illness", days_ago(10)}});
  ASSERT_TRUE(net.settle());
  Alert a = only_alert(kVillage);
  nlohmann::json app{{"village", "441303001001"}, {"name", "李四"}, {"id_number", kSpouse}, {"reason", "务工地申请临时救助"}};
  auto app_id = net.monitor(kOtherTownship).submit_application(app, net.now(), kOtherVillage);
  ASSERT_TRUE(app_id.is_ok()) << app_id.status().to_string();
  ASSERT_TRUE(net.settle());
  std::map<uint64_t, decltype(dump(net.store(kProvince)))> before;
  for (uint64_t c : {kProvince, kCity, kCounty, kTownship, kVillage, kOtherTownship}) before[c] = dump(net.store(c));

  const std::string head(kHead), lower = std::string(kHead).substr(0, 17) + "x";
  auto refused = [&head](const Status& s, const std::string& field) {
    EXPECT_EQ(s.code(), Status::Code::kInvalidArgument) << s.to_string();
    EXPECT_NE(s.message().find("'" + field + "'"), std::string::npos) << s.message();
    EXPECT_NE(s.message_zh().find("身份证号码"), std::string::npos) << s.message_zh();
    EXPECT_EQ(s.message().find(head), std::string::npos) << "the refusal repeats the number";
  };
  refused(net.monitor(kVillage).accept_alert(a.id, "站长" + head, net.now()), "by");
  auto fb = testing::feedback_for(a.id, net.today());
  fb.findings = "户主（身份证 " + head + "）住院";
  refused(net.monitor(kVillage).record_feedback(fb, net.now()), "findings");
  fb = testing::feedback_for(a.id, net.today());
  fb.visitor = lower;
  refused(net.monitor(kVillage).record_feedback(fb, net.now()), "visitor");
  refused(net.monitor(kCounty).escalate_alert(a.id, "李科长", "请核查" + head + "的情况", net.now()), "note");
  refused(net.monitor(kCounty).escalate_alert(a.id, head, "请核查", net.now()), "by");
  nlohmann::json bad_app = app;
  bad_app["reason"] = "申请人 " + lower + " 务工受伤";
  refused(net.monitor(kOtherTownship).submit_application(bad_app, net.now(), kOtherVillage).status(), "reason");
  refused(net.monitor(kVillage).decide_application(*app_id, "accepted", "经核实 " + head, net.now()), "note");
  ASSERT_TRUE(net.settle());
  for (const auto& [c, dumped] : before) EXPECT_EQ(dump(net.store(c)), dumped) << "a refusal changed the store at " << c;

  // Other numbers pass: a phone number, a 19-digit bank card, a date, the
  // alert's own id.
  ASSERT_TRUE(net.monitor(kCounty)
                  .escalate_alert(a.id, "李科长", "电话 13900000000，卡号 6222021234567890123，" + protocol::format_id('A', a.id),
                                  net.now())
                  .is_ok());
  fb = testing::feedback_for(a.id, net.today());
  fb.findings = "2026-11-20 入户，户主住院 18 天";
  ASSERT_TRUE(net.monitor(kVillage).record_feedback(fb, net.now()).is_ok());
  ASSERT_TRUE(net.settle());
  expect_replicated(h, kHolders, kNonHolders);
}

// ---------------------------------------------------------------------------
// Household lists by division (the village index)

TEST_F(MonitorTest, HouseholdListsByDivisionPageThroughTheVillageIndexAndFollowMoves) {
  uint32_t n = 0;
  auto one_person = [&](uint64_t at, uint64_t village) {
    ++n;
    return add_household(at, village, {testing::member(testing::make_id_number(441303, 19700101 + n, n), "测试", "head")});
  };
  std::set<HouseholdId> in_village, in_village2, elsewhere;
  for (int i = 0; i < 3; ++i) in_village.insert(one_person(kVillage, kVillage));
  for (int i = 0; i < 2; ++i) in_village2.insert(one_person(kTownship, kVillage2));
  elsewhere.insert(one_person(kOtherVillage, kOtherVillage));
  ASSERT_TRUE(net.settle());
  // Every household of `within` at node `at`, two a page; checks the pages.
  auto listed = [&](uint64_t at, uint64_t within) {
    std::set<HouseholdId> out;
    HouseholdQuery q;
    q.within = within;
    q.limit = 2;
    for (int pages = 0; pages < 10; ++pages) {
      auto page = query_households(net.store(at), q);
      EXPECT_TRUE(page.is_ok());
      if (!page.is_ok()) break;
      EXPECT_LE(page->households.size(), 2u);
      for (const auto& h : page->households) {
        EXPECT_TRUE(out.insert(h.household.id).second) << "listed twice";
        EXPECT_TRUE(topology::DivisionCode::or_invalid(within).contains(topology::DivisionCode::or_invalid(h.household.village.value)));
      }
      if (page->next.empty()) break;
      auto after = decode_cursor(page->next);
      EXPECT_TRUE(after.is_ok());
      q.after = after.is_ok() ? *after : std::string();
    }
    return out;
  };
  auto joined = [](std::set<HouseholdId> a, const std::set<HouseholdId>& b) {
    a.insert(b.begin(), b.end());
    return a;
  };
  for (uint64_t at : {kProvince, kCity}) {
    EXPECT_EQ(listed(at, kVillage), in_village) << at;
    EXPECT_EQ(listed(at, kVillage2), in_village2) << at;
    EXPECT_EQ(listed(at, kTownship), joined(in_village, in_village2)) << at;
    EXPECT_EQ(listed(at, kCounty), joined(in_village, in_village2)) << at;
    EXPECT_EQ(listed(at, kOtherCounty), elsewhere) << at;
    EXPECT_EQ(listed(at, kCity), joined(joined(in_village, in_village2), elsewhere)) << at;
    EXPECT_TRUE(listed(at, kOtherTownship + 1000).empty()) << at;  // a township with no households
  }
  EXPECT_EQ(listed(kVillage, kVillage), in_village);

  // A move: listed under the new village, no longer under the old one; the
  // village node that let it go no longer lists it.
  HouseholdId moving = *in_village.begin();
  ASSERT_TRUE(net.monitor(kTownship).move_household(moving, kVillage2, net.now()).is_ok());
  ASSERT_TRUE(net.settle());
  in_village.erase(moving);
  in_village2.insert(moving);
  for (uint64_t at : {kProvince, kCity, kTownship}) {
    EXPECT_EQ(listed(at, kVillage), in_village) << at;
    EXPECT_EQ(listed(at, kVillage2), in_village2) << at;
  }
  EXPECT_EQ(listed(kVillage, kVillage), in_village);

  // A store written before the index: the monitor builds it at start.
  ASSERT_TRUE(net.store(kCity).write([&](storage::WriteTxn& txn) {
    std::vector<std::string> rows;
    txn.scan(storage::Table::kVillageHouseholds, {}, [&](std::string_view k, std::string_view) {
      rows.emplace_back(k);
      return true;
    });
    for (const auto& k : rows) txn.del(storage::Table::kVillageHouseholds, k);
    txn.del(storage::Table::kDomain, "index:village_households");
    return Status::ok();
  }).is_ok());
  EXPECT_TRUE(listed(kCity, kVillage2).empty());
  Monitor restarted(&net.core(kCity), &net.store(kCity), MonitorOptions{});
  ASSERT_TRUE(restarted.start().is_ok());
  EXPECT_EQ(listed(kCity, kVillage2), in_village2);
  EXPECT_EQ(listed(kCity, kCounty), joined(in_village, in_village2));
}

// ---------------------------------------------------------------------------
// Audit log

TEST_F(MonitorTest, AuditEntriesGoUpToTheCountyAndAreFoundByTheActingAccountsJurisdiction) {
  // An entry made at the township by an account serving kVillage, one by the
  // township's own account, and one made at kVillage's node.
  auto entry = [](const std::string& account, const char* jurisdiction) {
    nlohmann::json e{{"account", account}, {"role", "operator"}, {"address", "127.0.0.1"}, {"action", "case_viewed"},
                     {"target", "H-1"}, {"outcome", "ok"}, {"detail", ""}};
    if (jurisdiction) e["jurisdiction"] = jurisdiction;
    return e;
  };
  ASSERT_TRUE(net.monitor(kTownship).append_audit(entry("village.op", "441303001001"), net.now()).is_ok());
  ASSERT_TRUE(net.monitor(kTownship).append_audit(entry("township.op", "441303001000"), net.now()).is_ok());
  ASSERT_TRUE(net.monitor(kVillage).append_audit(entry("at.village", "441303001001"), net.now()).is_ok());
  ASSERT_TRUE(net.settle());
  auto accounts = [&](uint64_t at, uint64_t within) {
    AuditQuery q;
    q.within = within;
    auto page = query_audit(net.store(at), q);
    EXPECT_TRUE(page.is_ok());
    std::set<std::string> out;
    if (page.is_ok()) {
      for (const auto& e : page->entries) out.insert(e.value("account", ""));
    }
    return out;
  };
  // At the township and the county, an account of kVillage finds the entries
  // made at its village's node and those its village's accounts made at the
  // township, not the township account's.
  for (uint64_t at : {kTownship, kCounty}) {
    EXPECT_EQ(accounts(at, kVillage), (std::set<std::string>{"village.op", "at.village"})) << at;
    EXPECT_EQ(accounts(at, kTownship), (std::set<std::string>{"village.op", "township.op", "at.village"})) << at;
    EXPECT_TRUE(accounts(at, kVillage2).empty()) << at;
  }
  // The county keeps them: they do not go on up.
  EXPECT_TRUE(accounts(kCity, 0).empty());

  // Entries a child sends are checked: each field a string, its node the node
  // of its id, the acting account's jurisdiction inside that node.
  auto forged = [&](const std::function<void(nlohmann::json&)>& change) {
    nlohmann::json e = entry("forger", "441303001002");
    e["id"] = "U-441303001002-" + std::to_string(900 + net.refusals(kTownship, kVillage2));
    e["node"] = "441303001002";
    e["at_us"] = net.now().wall_us;
    change(e);
    Status s = net.core(kVillage2).execute([&](storage::WriteTxn&, Outbound& out) {
      out.send(kTownship, protocol::MessageKind::kAudit, e.dump());
      return Status::ok();
    }, net.now());
    ASSERT_TRUE(s.is_ok());
    ASSERT_TRUE(net.settle());
  };
  forged([](nlohmann::json& e) { e["jurisdiction"] = "441303001001"; });  // another village's
  forged([](nlohmann::json& e) { e["node"] = "441303001001"; });          // another node
  forged([](nlohmann::json& e) { e["account"] = 7; });                     // not a string
  forged([](nlohmann::json& e) { e["jurisdiction"] = "4413"; });           // not a code
  EXPECT_EQ(net.refusals(kTownship, kVillage2), 4u);
  EXPECT_FALSE(accounts(kTownship, 0).count("forger"));
  forged([](nlohmann::json&) {});  // a well-formed one is kept
  EXPECT_EQ(net.refusals(kTownship, kVillage2), 4u);
  EXPECT_TRUE(accounts(kTownship, kVillage2).count("forger"));
  EXPECT_TRUE(accounts(kCounty, kVillage2).count("forger"));
}

// ---------------------------------------------------------------------------
// Aggregates

TEST_F(MonitorTest, AggregatesAddUpAndMatchWhatChildrenReport) {
  add_household(kVillage, kVillage);
  add_household(kTownship, kVillage2, {testing::member(kStranger, "王五", "head")});
  add_household(kOtherCounty, kOtherVillage,
                {testing::member(testing::make_id_number(441302, 19900101, 1), "赵六", "head"),
                 testing::member(testing::make_id_number(441302, 19920101, 2), "钱七", "spouse")});
  ASSERT_TRUE(net.settle());
  import(kProvince, {{"medical_insurance", "YB-1", kHead, "serious_illness", days_ago(10)},
                     {"petitions", "XF-1", kStranger, "petition", days_ago(3)}});
  ASSERT_TRUE(net.settle());
  auto open = alerts(kVillage);
  ASSERT_EQ(open.size(), 1u);
  ASSERT_TRUE(net.monitor(kVillage).record_feedback(testing::feedback_for(open[0].alert.id, net.today()), net.now()).is_ok());
  ASSERT_TRUE(net.settle());
  net.run_for(2'000'000);  // snapshots go up at most once a second
  ASSERT_TRUE(net.settle());

  auto figures = [&](uint64_t c) { return (*net.monitor(c).aggregates(net.now()))["own"]["figures"]; };
  nlohmann::json province = figures(kProvince);
  EXPECT_EQ(province["households"], 3);
  EXPECT_EQ(province["persons"], 6);
  EXPECT_EQ(province["alerts_by_state"]["verified"], 1);
  EXPECT_EQ(province["alerts_by_state"]["delivered"], 1);
  EXPECT_EQ(province["verified_on_time"], 1);
  int64_t households = 0, persons = 0;
  std::map<std::string, int64_t> by_state;
  for (uint64_t v : {kVillage, kVillage2, kOtherVillage}) {
    nlohmann::json f = figures(v);
    households += f["households"].get<int64_t>();
    persons += f["persons"].get<int64_t>();
    for (auto& [k, n] : f["alerts_by_state"].items()) by_state[k] += n.get<int64_t>();
  }
  EXPECT_EQ(province["households"], households);
  EXPECT_EQ(province["persons"], persons);
  for (auto& [k, n] : by_state) EXPECT_EQ(province["alerts_by_state"][k], n) << k;

  for (uint64_t c : net.codes()) {
    auto agg = net.monitor(c).aggregates(net.now());
    ASSERT_TRUE(agg.is_ok());
    for (auto& row : (*agg)["children"]) {
      ASSERT_FALSE(row["reported"].is_null()) << "no snapshot from " << row["code"] << " at " << c;
      EXPECT_EQ(row["mismatch"], false) << row.dump();
      EXPECT_EQ(row["reported"]["figures"]["households"], row["computed"]["households"]);
      EXPECT_EQ(row["reported"]["policy_version"], 1);
    }
  }
}

// A parent judges a child's report stale by the child's own interval, shows
// a child that still runs an older policy, and compares the overdue count of
// a report made today.
TEST(MonitorAggregatesTest, StalenessFollowsTheChildsIntervalAndAnOlderPolicyOrAnOverdueCountIsShown) {
  (void)set_log_level("warning");
  node::MonitorOptions quick;
  quick.aggregate_interval_us = 2'000'000;  // the county's own interval; its children keep the default 60 s
  testing::MonitorNetwork net({{kProvince, 0}, {kCity, kProvince}, {kCounty, kCity}, {kTownship, kCounty}, {kVillage, kTownship}},
                              {}, {{kCounty, quick}});
  ASSERT_TRUE(net.settle());
  net.run_for(2'000'000);
  ASSERT_TRUE(net.settle());
  auto township_row = [&] {
    auto agg = net.monitor(kCounty).aggregates(net.now());
    EXPECT_TRUE(agg.is_ok());
    for (auto& row : (*agg)["children"]) {
      if (row["code"] == topology::DivisionCode::format(kTownship)) return row;
    }
    ADD_FAILURE() << "no row for the township";
    return nlohmann::json();
  };
  ASSERT_FALSE(township_row()["reported"].is_null());
  EXPECT_EQ(township_row()["reported"]["interval_s"], 60);
  EXPECT_EQ(township_row()["policy_behind"], false);
  // 10 s without a change: older than 3 x the county's 2 s, well within 3 x
  // the township's 60 s.
  net.run_for(10'000'000);
  nlohmann::json row = township_row();
  EXPECT_GT(row["age_s"].get<double>(), 6.0);
  EXPECT_EQ(row["stale"], false) << row.dump();
  EXPECT_EQ(row["mismatch"], false) << row.dump();

  // A new policy the township has not had yet (cut off): it is behind.
  net.cut(kTownship);
  ASSERT_TRUE(net.monitor(kProvince).set_policy(testing::policy_version(2), net.now()).is_ok());
  ASSERT_TRUE(net.settle());
  net.run_for(2'000'000);
  ASSERT_TRUE(net.settle());
  EXPECT_EQ(township_row()["policy_behind"], true);
  for (auto& r : (*net.monitor(kCity).aggregates(net.now()))["children"]) EXPECT_EQ(r["policy_behind"], false) << r.dump();

  // A report of today whose overdue count differs from the county's
  // records, from a child of an earlier release (no interval_s): judged by
  // the county's own interval, and shown as it was sent.
  std::string stored;
  ASSERT_TRUE(net.store(kCounty).read([&](const storage::ReadTxn& t) {
    std::string_view v;
    if (t.get(storage::Table::kDomain, keys::child(kTownship), v)) stored = std::string(v);
  }));
  nlohmann::json rec = nlohmann::json::parse(stored);
  ASSERT_EQ(rec["snapshot"]["figures"]["overdue"], 0);
  rec["snapshot"]["figures"]["overdue"] = 1;
  rec["snapshot"].erase("interval_s");
  ASSERT_TRUE(net.store(kCounty).write([&](storage::WriteTxn& t) {
    t.put(storage::Table::kDomain, keys::child(kTownship), rec.dump());
    return Status::ok();
  }));
  row = township_row();
  EXPECT_EQ(row["mismatch"], true) << row.dump();
  EXPECT_EQ(row["mismatched"], nlohmann::json::array({"overdue"}));
  EXPECT_FALSE(row["reported"].contains("interval_s")) << row["reported"].dump();
  EXPECT_EQ(row["stale"], true) << row.dump();
}

// ---------------------------------------------------------------------------
// Jurisdiction

TEST_F(MonitorTest, CommandsOutsideTheJurisdictionAreRefused) {
  NewHousehold h;
  h.village = kVillage;
  h.category = "marginal";
  h.members = {testing::member(kHead, "张三明", "head")};
  EXPECT_EQ(net.monitor(kOtherCounty).add_household(h, net.now()).status().code(), Status::Code::kRefused);
  EXPECT_EQ(net.monitor(kVillage2).add_household(h, net.now()).status().code(), Status::Code::kRefused);
  h.village = kTownship;
  EXPECT_EQ(net.monitor(kTownship).add_household(h, net.now()).status().code(), Status::Code::kInvalidArgument);
  h.village = kVillage;
  h.members = {testing::member(kHead, "张三明", "head"), testing::member(kHead, "张三明", "spouse")};
  EXPECT_EQ(net.monitor(kVillage).add_household(h, net.now()).status().code(), Status::Code::kInvalidArgument);
  h.members = {testing::member("441303198001010110", "张三明", "head")};
  EXPECT_EQ(net.monitor(kVillage).add_household(h, net.now()).status().code(), Status::Code::kInvalidArgument);
  h.members = {testing::member(kHead, "张三明", "head")};
  ASSERT_TRUE(net.monitor(kVillage).add_household(h, net.now()).is_ok());
  ASSERT_TRUE(net.settle());
  EXPECT_EQ(net.monitor(kTownship).add_household(h, net.now()).status().code(), Status::Code::kInvalidArgument)
      << "a person is in one household only";
}

TEST_F(MonitorTest, SyncFromChildAboutAHouseholdOutsideItIsRefused) {
  HouseholdId h = add_household(kVillage, kVillage);
  ASSERT_TRUE(net.settle());
  auto before = dump(net.store(kTownship));
  // Village 002 claims a change to village 001's household, and invents one in 001.
  protocol::Household forged = *held(kVillage, h).household;
  forged.phone = {"110", {forged.phone.stamp.hlc + 1000000, kVillage2}};
  protocol::Household invented = forged;
  invented.id = {kVillage2, 99};
  for (const auto& hh : {forged, invented}) {
    Status s = net.core(kVillage2).execute([&](storage::WriteTxn&, Outbound& out) {
      out.send(kTownship, protocol::MessageKind::kHouseholdSync, protocol::encode_sync({hh, {}, {}, {}}));
      return Status::ok();
    }, net.now());
    ASSERT_TRUE(s.is_ok());
  }
  ASSERT_TRUE(net.settle());
  EXPECT_EQ(net.refusals(kTownship, kVillage2), 2u);
  auto after = dump(net.store(kTownship));
  // Only the link bookkeeping changed (cursor, applied ids, counters): no domain table.
  for (auto& [k, v] : before) {
    if (k.first <= static_cast<int>(storage::Table::kApplications)) {
      EXPECT_EQ(after[k], v);
    }
  }
  for (auto& [k, v] : after) {
    if (k.first <= static_cast<int>(storage::Table::kApplications)) {
      EXPECT_TRUE(before.count(k)) << k.first;
    }
  }
  EXPECT_EQ(held(kTownship, h).household->phone.value, "13800000000");
  EXPECT_EQ(held(kProvince, h).household->phone.value, "13800000000");
}

TEST_F(MonitorTest, BatchItemOutsideTheChildIsRefusedAloneAndTheRestApplies) {
  HouseholdId h = add_household(kVillage, kVillage);
  HouseholdId h2 = add_household(kVillage2, kVillage2, {testing::member("441303199002020021", "王五", "head")});
  ASSERT_TRUE(net.settle());
  // Village 002 sends one batch: a forged change to village 001's household
  // between two genuine changes to its own.
  protocol::Household forged = *held(kVillage, h).household;
  forged.phone = {"110", {forged.phone.stamp.hlc + 1000000, kVillage2}};
  protocol::Household own = *held(kVillage2, h2).household;
  own.phone = {"13900000001", {own.phone.stamp.hlc + 1000000, kVillage2}};
  protocol::Household own_later = own;
  own_later.address = {"淡水街道某村 9 号", {own.address.stamp.hlc + 2000000, kVillage2}};
  std::string items;
  for (const auto& hh : {own, forged, own_later}) protocol::append_to_sync_batch(items, protocol::encode_sync({hh, {}, {}, {}}));
  Status s = net.core(kVillage2).execute([&](storage::WriteTxn&, Outbound& out) {
    out.send(kTownship, protocol::MessageKind::kHouseholdSyncBatch, protocol::seal_sync_batch(items));
    return Status::ok();
  }, net.now());
  ASSERT_TRUE(s.is_ok());
  ASSERT_TRUE(net.settle());
  EXPECT_EQ(net.refusals(kTownship, kVillage2), 1u);
  for (uint64_t n : {kTownship, kCounty, kProvince}) {
    EXPECT_EQ(held(n, h).household->phone.value, "13800000000") << n;
    EXPECT_EQ(held(n, h2).household->phone.value, "13900000001") << n;
    EXPECT_EQ(held(n, h2).household->address.value, "淡水街道某村 9 号") << n;
  }
}

TEST_F(MonitorTest, ImportAtTheCountyReachesEveryHolderOfManyHouseholds) {
  // Many households in one import: their syncs go up and down in batches.
  std::vector<HouseholdId> ids;
  std::string csv = "source_department,source_record_id,id_number,indicator,event_date\n";
  for (int i = 0; i < 40; ++i) {
    std::string id = testing::make_id_number(441303, 19900101, 100 + i);
    uint64_t village = i % 2 ? kVillage : kVillage2;
    ids.push_back(add_household(village, village, {testing::member(id, "测试", "head")}));
    csv += "medical_insurance,B-" + std::to_string(i) + "," + id + ",serious_illness,2026-11-01\n";
  }
  ASSERT_TRUE(net.settle());
  auto r = net.monitor(kCounty).import_events(csv, ImportFormat::kCsv, net.now());
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  EXPECT_EQ(r->applied, 40u);
  EXPECT_EQ(r->alerts_issued, 40u);
  ASSERT_TRUE(net.settle());
  for (size_t i = 0; i < ids.size(); ++i) {
    uint64_t village = i % 2 ? kVillage : kVillage2;
    for (uint64_t n : {kProvince, kCity, kCounty, kTownship, village}) {
      HeldHousehold hh = held(n, ids[i]);
      ASSERT_EQ(hh.alerts.size(), 1u) << n << " " << i;
      EXPECT_EQ(hh.alerts.begin()->second.state, AlertState::kDelivered) << n << " " << i;
      EXPECT_EQ(hh.events.size(), 1u) << n << " " << i;
      EXPECT_EQ(hh.history.size(), 3u) << n << " " << i << ": registered, alert_issued, delivered";
    }
  }
}

// The web reads the other household back from the refusal, to name it only
// to an account whose jurisdiction holds it.
TEST(PersonAlreadyRegisteredTest, TheRefusalIsReadBack) {
  HouseholdId other;
  ASSERT_TRUE(protocol::parse_id("H-441303001001-13", 'H', other));
  const Status s = person_already_registered("44130319850312123X", other);
  EXPECT_EQ(s.message(), "person 4413**********123X is already in household H-441303001001-13");
  const std::optional<AlreadyRegistered> r = already_registered(s);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->masked_id_number, "4413**********123X");
  EXPECT_EQ(r->household, other);
  EXPECT_FALSE(already_registered(Status::ok()));
  EXPECT_FALSE(already_registered(Status::invalid_argument("nothing to change")));
  EXPECT_FALSE(already_registered(Status::not_found(s.message())));
  EXPECT_FALSE(already_registered(Status::invalid_argument("person x is already in household H-1")));
}

}  // namespace
}  // namespace lifeline::node
