// Tests of protocol/domain_codec and the id text forms of protocol/domain.h:
// round trips of every value (full, empty, at the limits, Chinese text, any
// alignment), each validation rule, hand-crafted hostile messages, and seeded
// random inputs that must never crash.
#include "protocol/domain_codec.h"

#include <capnp/message.h>
#include <capnp/serialize.h>
#include <gtest/gtest.h>
#include <zstd.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/domain.capnp.h"
#include "protocol/domain.h"

namespace lifeline::protocol {
namespace {

constexpr uint64_t kCity = 441300000000;      // 惠州市
constexpr uint64_t kCounty = 441302000000;    // 惠城区
constexpr uint64_t kTownship = 441302001000;  // 桥东街道
constexpr uint64_t kVillage = 441302001001;
constexpr uint64_t kOtherVillage = 441303001001;
constexpr uint64_t kHlc = (uint64_t{1'795'000'000'000} << 16) | 3;

const HouseholdId kHousehold{kVillage, 17};

// ---- Sample values --------------------------------------------------------------

Member member(std::string name, std::string id_number) {
  return Member{.id_number = std::move(id_number),
                .name = std::move(name),
                .relation = "head",
                .disability_grade = 2,
                .disability_kind = "physical",
                .major_illness = true,
                .single_person_coverage = true};
}

Household full_household() {
  Household h;
  h.id = kHousehold;
  h.village = {kVillage, {kHlc, kTownship}};
  h.category = {"minimum_living", {kHlc + 1, kCounty}};
  h.income_fen = {-123456, {kHlc + 2, kVillage}};
  h.phone = {"13800138000", {kHlc + 3, kVillage}};
  h.address = {"广东省惠州市惠城区桥东街道幸福路 1 号", {kHlc + 4, kTownship}};
  h.source = {"active_discovery", {kHlc + 5, kCity}};
  Member spouse = member("李四", "441302198601011234");
  spouse.relation = "spouse";
  spouse.disability_grade = 0;
  spouse.disability_kind = "";
  spouse.major_illness = false;
  h.members = {{member("张三明", "44130319850312123X"), spouse}, {kHlc + 6, kTownship}};
  return h;
}

Alert full_alert() {
  return Alert{.id = {kTownship, 5},
               .household = kHousehold,
               .generation = 3,
               .indicators = {{"serious_illness", 5, 20261101}, {"unemployment", 4, 20261015}},
               .score = 9,
               .level = 1,
               .issued_date = 20261102,
               .due_date = 20261106,
               .state = AlertState::kAccepted,
               .issued_hlc = kHlc,
               .delivered_at_us = 1'795'000'000'000'000,
               .accepted_at_us = 1'795'000'100'000'000,
               .verified_at_us = -1,
               .closed_at_us = std::numeric_limits<int64_t>::max(),
               .accepted_by = "王五",
               .aliases = {{kCity, 2}, {kCounty, 9}},
               .escalated_at_us = 1'795'454'091'510'488};
}

Feedback full_feedback() {
  return Feedback{.alert = {kTownship, 5},
                  .visit_date = 20261103,
                  .method = "home_visit",
                  .visitor = "赵六",
                  .truthful = false,
                  .findings = "家中主要劳动力患病，医疗支出较大。",
                  .needs = {"basic_living", "", "rehabilitation"},
                  .decision = "referral",
                  .referral = "medical"};
}

HistoryEntry full_history() {
  return HistoryEntry{.id = {kTownship, 40},
                      .household = kHousehold,
                      .hlc = std::numeric_limits<uint64_t>::max(),
                      .kind = "feedback",
                      .alert = {kTownship, 5},
                      .text = "入户核查：情况属实",
                      .has_feedback = true,
                      .feedback = full_feedback()};
}

DeptEvent full_event() {
  return DeptEvent{.department = "medical_insurance",
                   .record_id = "MI-2026-000123",
                   .id_number = "44130319850312123X",
                   .indicator = "serious_illness",
                   .event_date = 20261101,
                   .imported_at = kCounty,
                   .hlc = kHlc};
}

HouseholdSync full_sync() {
  HouseholdSync s;
  s.household = full_household();
  s.alerts = {full_alert(), full_alert()};
  s.alerts[1].id = {kCity, 77};
  s.alerts[1].state = AlertState::kClosed;
  HistoryEntry registered;
  registered.id = {kVillage, 1};
  registered.household = kHousehold;
  registered.kind = "registered";
  s.history = {full_history(), registered};
  s.events = {full_event(), full_event()};
  s.events[1].record_id = "MI-2026-000124";
  return s;
}

// The smallest valid sync: a household id and nothing else.
HouseholdSync minimal_sync() {
  HouseholdSync s;
  s.household.id = kHousehold;
  return s;
}

// ---- Decoding helpers -------------------------------------------------------------

// Decodes from word-aligned memory (the in-place path).
template <typename T>
Result<T> decode_aligned(Result<T> (*decode)(std::string_view), const std::string& bytes) {
  std::vector<uint64_t> words(bytes.size() / 8 + 1);
  std::memcpy(words.data(), bytes.data(), bytes.size());
  return decode(std::string_view(reinterpret_cast<const char*>(words.data()), bytes.size()));
}

// Decodes from memory at an odd address (the copying path).
template <typename T>
Result<T> decode_unaligned(Result<T> (*decode)(std::string_view), const std::string& bytes) {
  std::vector<char> buffer(bytes.size() + 1);
  std::copy(bytes.begin(), bytes.end(), buffer.begin() + 1);
  const char* start = buffer.data() + 1;
  EXPECT_NE(reinterpret_cast<uintptr_t>(start) % 8, 0u);
  return decode(std::string_view(start, bytes.size()));
}

template <typename T>
void expect_round_trip(std::string (*encode)(const T&), Result<T> (*decode)(std::string_view), const T& value) {
  const std::string bytes = encode(value);
  Result<T> aligned = decode_aligned(decode, bytes);
  ASSERT_TRUE(aligned.is_ok()) << aligned.status().to_string();
  EXPECT_EQ(*aligned, value);
  Result<T> unaligned = decode_unaligned(decode, bytes);
  ASSERT_TRUE(unaligned.is_ok()) << unaligned.status().to_string();
  EXPECT_EQ(*unaligned, value);
}

void expect_household(const Household& h) { expect_round_trip(encode_household, decode_household, h); }
void expect_alert(const Alert& a) { expect_round_trip(encode_alert, decode_alert, a); }
void expect_history(const HistoryEntry& e) { expect_round_trip(encode_history, decode_history, e); }
void expect_event(const DeptEvent& e) { expect_round_trip(encode_event, decode_event, e); }
void expect_sync(const HouseholdSync& s) { expect_round_trip(encode_sync, decode_sync, s); }

// Expects an invalid_argument refusal whose reason contains `reason_part`.
template <typename T>
void expect_refused(Result<T> (*decode)(std::string_view), const std::string& bytes, const std::string& reason_part) {
  for (const Result<T>& result : {decode_aligned(decode, bytes), decode_unaligned(decode, bytes)}) {
    ASSERT_FALSE(result.is_ok()) << "expected a refusal mentioning '" << reason_part << "'";
    EXPECT_EQ(result.status().code(), Status::Code::kInvalidArgument);
    EXPECT_NE(result.status().message().find(reason_part), std::string::npos) << result.status().message();
  }
}

void expect_sync_refused(const HouseholdSync& s, const std::string& reason_part) {
  expect_refused(decode_sync, encode_sync(s), reason_part);
}

// ---- Round trips ---------------------------------------------------------------------

TEST(DomainCodecTest, RoundTripsFullValues) {
  expect_household(full_household());
  expect_alert(full_alert());
  expect_history(full_history());
  expect_event(full_event());
  expect_sync(full_sync());
}

// The header read gives the id and the village with its stamp, and nothing
// else; it refuses what decode_household refuses in those fields and the
// same framing faults.
TEST(DomainCodecTest, HeaderReadGivesOnlyTheIdAndVillage) {
  const Household full = full_household();
  ASSERT_FALSE(full.members.value.empty());
  const std::string bytes = encode_household(full);
  for (auto decode : {decode_aligned<Household>, decode_unaligned<Household>}) {
    Result<Household> h = decode(decode_household_header, bytes);
    ASSERT_TRUE(h.is_ok()) << h.status().to_string();
    Household expected;
    expected.id = full.id;
    expected.village = full.village;
    EXPECT_EQ(*h, expected);
  }
  Household bad = full;
  bad.id = {kVillage, 0};
  expect_refused(decode_household_header, encode_household(bad), "id: id (441302001001, 0) is half set");
  expect_refused(decode_household_header, "", "household: empty");
  expect_refused(decode_household_header, bytes + std::string(8, '\0'), "after the end");
  for (size_t length = 0; length < bytes.size(); length += 8)
    ASSERT_FALSE(decode_aligned(decode_household_header, bytes.substr(0, length)).is_ok()) << length;
}

TEST(DomainCodecTest, RoundTripsEmptyValues) {
  expect_household(Household{});
  expect_alert(Alert{});
  expect_history(HistoryEntry{});
  expect_sync(minimal_sync());
}

TEST(DomainCodecTest, RoundTripsEveryAlertStateAndLevel) {
  for (uint8_t state = 1; state <= 5; ++state) {
    for (uint32_t level = 1; level <= 5; ++level) {
      Alert a = full_alert();
      a.state = static_cast<AlertState>(state);
      a.level = level;
      expect_alert(a);
    }
  }
}

TEST(DomainCodecTest, RoundTripsFeedbackWhateverHasFeedbackSays) {
  HistoryEntry without_flag = full_history();
  without_flag.has_feedback = false;  // feedback kept anyway: round trips are exact
  expect_history(without_flag);
  HistoryEntry default_feedback = full_history();
  default_feedback.feedback = Feedback{};  // truthful = true must survive an absent struct
  expect_history(default_feedback);
  HistoryEntry not_truthful{};
  not_truthful.feedback.truthful = false;
  expect_history(not_truthful);
}

TEST(DomainCodecTest, RoundTripsExtremeNumbers) {
  Household h = full_household();
  h.village = {std::numeric_limits<uint64_t>::max(), {std::numeric_limits<uint64_t>::max(), 1}};
  h.income_fen.value = std::numeric_limits<int64_t>::min();
  expect_household(h);
  Alert a = full_alert();
  a.generation = a.score = std::numeric_limits<uint32_t>::max();
  a.delivered_at_us = std::numeric_limits<int64_t>::min();
  expect_alert(a);
}

TEST(DomainCodecTest, RoundTripsTextAsBytes) {
  Household h = full_household();
  h.address.value = std::string("a\0b", 3);            // an embedded NUL
  h.phone.value = "\xe4\xb8\xad\xe6\x96\x87\xff";      // 中文, then a byte that is not UTF-8
  h.category.value = std::string(kMaxTextBytes, 'x');  // the longest string allowed
  expect_household(h);
}

TEST(DomainCodecTest, RoundTripsListsAtTheirLimits) {
  Household h = full_household();
  h.members.value.assign(kMaxMembers, member("欧阳小明", "44130319850312123X"));
  expect_household(h);
  Alert a = full_alert();
  a.aliases.assign(kMaxListItems, AlertId{kCity, 1});
  expect_alert(a);
  HistoryEntry e = full_history();
  e.feedback.needs.assign(kMaxListItems, "care");
  expect_history(e);
}

TEST(DomainCodecTest, AcceptsMultiSegmentMessages) {
  // Our encoder's segments depend on its allocator; other writers may split.
  capnp::MallocMessageBuilder message(1, capnp::AllocationStrategy::FIXED_SIZE);
  auto root = message.initRoot<schema::DeptEvent>();
  root.setDepartment("civil_affairs");
  root.setRecordId("CA-1");
  root.setIdNumber("44130319850312123X");
  root.setIndicator("disability");
  root.setEventDate(20260101);
  kj::Array<capnp::word> flat = capnp::messageToFlatArray(message);
  ASSERT_GT(message.getSegmentsForOutput().size(), 1u);
  Result<DeptEvent> decoded =
      decode_aligned(decode_event, std::string(reinterpret_cast<const char*>(flat.begin()), flat.size() * 8));
  ASSERT_TRUE(decoded.is_ok()) << decoded.status().to_string();
  EXPECT_EQ(*decoded, (DeptEvent{"civil_affairs", "CA-1", "44130319850312123X", "disability", 20260101, 0, 0}));
}

// ---- Id text forms -----------------------------------------------------------------------

TEST(DomainIdTest, FormatsIds) {
  EXPECT_EQ(format_id('H', {441303001001, 17}), "H-441303001001-17");
  EXPECT_EQ(format_id('A', {440000000000, 5}), "A-440000000000-5");
  EXPECT_EQ(format_id('F', {110000000000, std::numeric_limits<uint64_t>::max()}),
            "F-110000000000-18446744073709551615");
}

TEST(DomainIdTest, ParsesWhatItFormats) {
  for (RecordId id : {RecordId{441303001001, 17}, RecordId{440000000000, 5}, RecordId{kTownship, 1},
                      RecordId{kCity, std::numeric_limits<uint64_t>::max()}}) {
    RecordId parsed;
    ASSERT_TRUE(parse_id(format_id('H', id), 'H', parsed)) << format_id('H', id);
    EXPECT_EQ(parsed, id);
  }
}

TEST(DomainIdTest, RefusesMalformedText) {
  const std::vector<std::string> bad = {
      "",
      "H",
      "H-",
      "H-441303001001",
      "H-441303001001-",
      "A-441303001001-17",  // another prefix
      "h-441303001001-17",  // prefixes are case-sensitive
      "H_441303001001-17",  // separators
      "H-441303001001_17",
      "H-441303001001--17",
      "H-44130300100-17",    // 11 digits
      "H-4413030010011-17",  // 13 digits
      "H-44130300100a-17",
      "H-+41303001001-17",
      "H-441303001001-0",    // seq 0
      "H-441303001001-017",  // a leading zero
      "H-441303001001-+17",
      "H-441303001001--1",
      "H-441303001001-1a",
      "H-441303001001-17 ",
      " H-441303001001-17",
      "H-441303001001-17\n",
      "H-441303001001-18446744073709551616",  // seq overflows
      "H-441303001001-99999999999999999999999",
      "H-000000000000-1",  // origin 0
  };
  for (const std::string& text : bad) {
    RecordId out{1, 2};
    EXPECT_FALSE(parse_id(text, 'H', out)) << "'" << text << "'";
    EXPECT_EQ(out, (RecordId{1, 2})) << "'" << text << "'";
  }
}

TEST(DomainIdTest, RefusesOriginsThatAreNotDivisionCodes) {
  RecordId out;
  EXPECT_FALSE(parse_id("H-440000001001-1", 'H', out));  // a village under a zero county and township
  EXPECT_FALSE(parse_id("H-004413000000-1", 'H', out));  // province 00
  EXPECT_TRUE(parse_id("H-442000001001-1", 'H', out));   // 东莞: township directly under the city
}

// ---- Sizes and framing ------------------------------------------------------------------------

TEST(DomainCodecTest, RefusesEmptyInput) {
  expect_refused(decode_household, "", "household: empty");
  expect_refused(decode_alert, "", "alert: empty");
  expect_refused(decode_history, "", "history entry: empty");
  expect_refused(decode_event, "", "event: empty");
  expect_refused(decode_sync, "", "household sync: empty");
}

TEST(DomainCodecTest, RefusesSizeThatIsNotWholeWords) {
  const std::string bytes = encode_event(full_event());
  for (size_t extra = 1; extra < 8; ++extra) {
    SCOPED_TRACE(extra);
    expect_refused(decode_event, bytes + std::string(extra, '\0'), "not a whole number of words");
    expect_refused(decode_event, bytes.substr(0, bytes.size() - extra), "not a whole number of words");
  }
}

TEST(DomainCodecTest, RefusesInputOverSizeLimit) {
  std::string bytes = encode_household(full_household());
  bytes.resize(kMaxDomainBytes + 8, '\0');
  expect_refused(decode_household, bytes, "1048584 bytes exceed the limit");
  // A well-formed value over the limit too: 300 members of 4 KiB names.
  Household h = full_household();
  h.members.value.assign(300, member(std::string(kMaxTextBytes, 'n'), "44130319850312123X"));
  bytes = encode_household(h);
  ASSERT_GT(bytes.size(), kMaxDomainBytes);
  expect_refused(decode_household, bytes, "exceed the limit of 1048576");
}

TEST(DomainCodecTest, RefusesTrailingBytes) {
  const std::string bytes = encode_alert(full_alert());
  expect_refused(decode_alert, bytes + std::string(8, '\0'), "after the end");
}

TEST(DomainCodecTest, RefusesEveryTruncation) {
  const std::string bytes = encode_sync(full_sync());
  for (size_t length = 0; length < bytes.size(); ++length) {
    ASSERT_FALSE(decode_aligned(decode_sync, bytes.substr(0, length)).is_ok()) << length;
    ASSERT_FALSE(decode_unaligned(decode_sync, bytes.substr(0, length)).is_ok()) << length;
  }
}

// ---- Field rules --------------------------------------------------------------------------------

TEST(DomainCodecTest, RefusesAlertStateOutsideItsEnumeration) {
  for (uint8_t state : {0, 6, 9, 255}) {
    SCOPED_TRACE(static_cast<int>(state));
    Alert a = full_alert();
    a.state = static_cast<AlertState>(state);
    expect_refused(decode_alert, encode_alert(a), "alert: state: " + std::to_string(state) + " is not 1..5");
  }
}

TEST(DomainCodecTest, RefusesLevelOutsideOneToFive) {
  for (uint32_t level : {0u, 6u, 9u, 0xffffffffu}) {
    SCOPED_TRACE(level);
    Alert a = full_alert();
    a.level = level;
    expect_refused(decode_alert, encode_alert(a), "level: " + std::to_string(level) + " is not 1..5");
  }
}

TEST(DomainCodecTest, RefusesDisabilityGradeOverFour) {
  Household h = full_household();
  h.members.value[1].disability_grade = 5;
  expect_refused(decode_household, encode_household(h), "members: item 1: disability_grade 5 is not 0..4");
}

TEST(DomainCodecTest, RefusesTooManyMembers) {
  Household h = full_household();
  h.members.value.assign(kMaxMembers + 1, member("张三", "44130319850312123X"));
  expect_refused(decode_household, encode_household(h), "members: 65 items exceed the limit of 64");
}

TEST(DomainCodecTest, RefusesListsOverTheirLimit) {
  Alert a = full_alert();
  a.aliases.assign(kMaxListItems + 1, AlertId{kCity, 1});
  expect_refused(decode_alert, encode_alert(a), "aliases: 16385 items exceed the limit of 16384");
  HistoryEntry e = full_history();
  e.feedback.needs.assign(kMaxListItems + 1, "");
  expect_refused(decode_history, encode_history(e), "feedback: needs: 16385 items exceed");
}

TEST(DomainCodecTest, RefusesOversizeStrings) {
  const std::string too_long(kMaxTextBytes + 1, 'x');
  Household h = full_household();
  h.members.value[0].name = too_long;
  expect_refused(decode_household, encode_household(h), "members: item 0: name: 4097 bytes exceed the limit of 4096");
  h = full_household();
  h.address.value = too_long;
  expect_refused(decode_household, encode_household(h), "address: 4097 bytes");
  Alert a = full_alert();
  a.indicators[1].code = too_long;
  expect_refused(decode_alert, encode_alert(a), "indicators: item 1: code: 4097 bytes");
  HistoryEntry e = full_history();
  e.feedback.needs[2] = too_long;
  expect_refused(decode_history, encode_history(e), "feedback: needs: item 2: 4097 bytes");
  DeptEvent ev = full_event();
  ev.id_number = too_long;
  expect_refused(decode_event, encode_event(ev), "id_number: 4097 bytes");
}

TEST(DomainCodecTest, RefusesMalformedIds) {
  Household h = full_household();
  h.id = {kVillage, 0};
  expect_refused(decode_household, encode_household(h), "id: id (441302001001, 0) is half set");
  h.id = {0, 3};
  expect_refused(decode_household, encode_household(h), "is half set");
  h.id = {12345, 3};
  expect_refused(decode_household, encode_household(h), "origin is not a division code");
  Alert a = full_alert();
  a.household = {440000001001, 1};
  expect_refused(decode_alert, encode_alert(a), "household: id (440000001001, 1): origin");
  a = full_alert();
  a.aliases[1] = AlertId{};
  expect_refused(decode_alert, encode_alert(a), "aliases: item 1: id is not set");
  HistoryEntry e = full_history();
  e.feedback.alert = {kCity, 0};
  expect_refused(decode_history, encode_history(e), "feedback: alert: id");
}

TEST(DomainCodecTest, RefusesEventsWithEmptyFields) {
  expect_refused(decode_event, encode_event(DeptEvent{}), "event: department: empty");
  for (std::string DeptEvent::*field :
       {&DeptEvent::department, &DeptEvent::record_id, &DeptEvent::id_number, &DeptEvent::indicator}) {
    DeptEvent e = full_event();
    e.*field = "";
    expect_refused(decode_event, encode_event(e), ": empty");
  }
  DeptEvent e = full_event();
  e.event_date = 0;
  expect_refused(decode_event, encode_event(e), "event_date: not set");
  HouseholdSync s = minimal_sync();
  s.events = {full_event(), DeptEvent{}};
  expect_sync_refused(s, "events: item 1: department: empty");
}

// ---- Sync rules --------------------------------------------------------------------------------

TEST(DomainCodecTest, RefusesSyncWithoutHouseholdId) {
  expect_sync_refused(HouseholdSync{}, "household sync: household: id is not set");
}

TEST(DomainCodecTest, RefusesSyncWithAlertOfAnotherHousehold) {
  HouseholdSync s = full_sync();
  s.alerts[1].household = {kOtherVillage, 17};
  expect_sync_refused(s, "alerts: item 1: household (441303001001, 17) is not the sync's household (441302001001, 17)");
  s.alerts[1].household = {};
  expect_sync_refused(s, "alerts: item 1: household (0, 0) is not");
}

TEST(DomainCodecTest, RefusesSyncWithHistoryOfAnotherHousehold) {
  HouseholdSync s = full_sync();
  s.history[0].household = {kVillage, 18};
  expect_sync_refused(s, "history: item 0: household (441302001001, 18) is not the sync's");
}

TEST(DomainCodecTest, RefusesSyncWithUnsetAlertOrHistoryIds) {
  HouseholdSync s = full_sync();
  s.alerts[0].id = {};
  expect_sync_refused(s, "alerts: item 0: id is not set");
  s = full_sync();
  s.history[1].id = {};
  expect_sync_refused(s, "history: item 1: id is not set");
}

TEST(DomainCodecTest, NestedErrorsInSyncsNameTheirPath) {
  HouseholdSync s = full_sync();
  s.alerts[1].indicators[0].code = std::string(kMaxTextBytes + 1, 'c');
  expect_sync_refused(s, "household sync: alerts: item 1: indicators: item 0: code: 4097 bytes");
  s = full_sync();
  s.household.members.value[0].relation = std::string(kMaxTextBytes + 1, 'r');
  expect_sync_refused(s, "household sync: household: members: item 0: relation: 4097 bytes");
}

// ---- Hostile Cap'n Proto structures ------------------------------------------------------------

// Raw pointer words (little-endian hosts), as in Cap'n Proto's encoding spec.
uint64_t struct_pointer(int32_t offset, uint16_t data_words, uint16_t pointers) {
  return uint64_t{static_cast<uint32_t>(offset) << 2} | uint64_t{data_words} << 32 | uint64_t{pointers} << 48;
}
uint64_t list_pointer(int32_t offset, uint64_t element_size, uint64_t count) {
  return 1 | uint64_t{static_cast<uint32_t>(offset) << 2} | element_size << 32 | count << 35;
}
constexpr uint64_t kByteElements = 2;
constexpr uint64_t kInlineComposite = 7;

// A one-segment message holding `segment`.
std::string raw_message(const std::vector<uint64_t>& segment) {
  std::vector<uint64_t> words = {uint64_t{segment.size()} << 32};
  words.insert(words.end(), segment.begin(), segment.end());
  return std::string(reinterpret_cast<const char*>(words.data()), words.size() * 8);
}

template <typename S>
constexpr uint16_t data_words() {
  return S::_capnpPrivate::dataWordSize;
}
template <typename S>
constexpr uint16_t pointers() {
  return S::_capnpPrivate::pointerCount;
}

// An Alert (all data zero: level 5, state issued) whose `count` indicators'
// codes all point at one shared text of kMaxTextBytes: small on the wire,
// count × 4 KiB once decoded.
std::string shared_code_alert(uint32_t count) {
  constexpr uint16_t kData = data_words<schema::Alert>();
  constexpr uint16_t kIndicatorWords = data_words<schema::AlertIndicator>() + pointers<schema::AlertIndicator>();
  static_assert(pointers<schema::Alert>() == 5 && pointers<schema::AlertIndicator>() == 1);
  std::vector<uint64_t> words = {struct_pointer(0, kData, 5)};
  words.resize(1 + kData, 0);
  // Pointers: id, household, indicators, acceptedBy, aliases; the list's tag follows them.
  words.insert(words.end(), {0, 0, list_pointer(2, kInlineComposite, count * kIndicatorWords), 0, 0});
  words.push_back(struct_pointer(static_cast<int32_t>(count), data_words<schema::AlertIndicator>(), 1));
  const size_t text_start = words.size() + count * kIndicatorWords;
  for (uint32_t i = 0; i < count; ++i) {
    words.resize(words.size() + data_words<schema::AlertIndicator>(), 0);
    const auto offset = static_cast<int32_t>(text_start - (words.size() + 1));
    words.push_back(list_pointer(offset, kByteElements, kMaxTextBytes + 1));  // with the NUL
  }
  words.resize(text_start + kMaxTextBytes / 8, 0x6161616161616161);
  words.push_back(0);  // the NUL and padding
  return raw_message(words);
}

TEST(DomainCodecTest, RefusesSharedPointersOverTheTraversalLimit) {
  const std::string bytes = shared_code_alert(1000);  // 20 KiB that would decode to 4 MiB
  ASSERT_LT(bytes.size(), 32u * 1024);
  expect_refused(decode_alert, bytes, "traversal limit");
  // The same structure at a harmless size is valid Cap'n Proto and decodes.
  Result<Alert> small = decode_aligned(decode_alert, shared_code_alert(2));
  ASSERT_TRUE(small.is_ok()) << small.status().to_string();
  ASSERT_EQ(small->indicators.size(), 2u);
  EXPECT_EQ(small->indicators[1].code, std::string(kMaxTextBytes, 'a'));
}

TEST(DomainCodecTest, RefusesAmplifiedListOfEmptyStructs) {
  // A sync whose alerts list claims 10000 alerts of zero words: within the
  // item limit, so only the traversal limit stops it.
  // Root HouseholdSync: pointers household, alerts, history, events.
  std::vector<uint64_t> words = {struct_pointer(0, 0, 4), 0, list_pointer(2, kInlineComposite, 0), 0, 0};
  words.push_back(struct_pointer(10000, 0, 0));  // the list's tag: 10000 elements of 0 words
  expect_refused(decode_sync, raw_message(words), "traversal limit");
}

TEST(DomainCodecTest, RefusesSyncListsOverTheirLimit) {
  // Real events are too large for 16385 of them to fit in kMaxDomainBytes;
  // events of one zero word each (as an older, smaller schema would write)
  // do, and reach the item limit.
  constexpr uint32_t kCount = kMaxListItems + 1;
  std::vector<uint64_t> words = {struct_pointer(0, 0, 4), 0, 0, 0, list_pointer(0, kInlineComposite, kCount)};
  words.push_back(struct_pointer(kCount, 1, 0));  // the list's tag: kCount elements of 1 word
  words.resize(words.size() + kCount, 0);
  expect_refused(decode_sync, raw_message(words), "household sync: events: 16385 items exceed the limit of 16384");
}

TEST(DomainCodecTest, RefusesPointersOfTheWrongKindOrOutOfBounds) {
  expect_refused(decode_event, raw_message({list_pointer(0, kByteElements, 8), 0}), "capnp");
  expect_refused(decode_event, raw_message({struct_pointer(5, 1, 4), 0}), "capnp");
  // A text without its NUL terminator.
  expect_refused(decode_event,
                 raw_message({struct_pointer(0, 0, 1), list_pointer(0, kByteElements, 8), 0x6161616161616161}),
                 "capnp");
  expect_refused(decode_event, std::string("\xff\xff\xff\x7f\x01\x00\x00\x00", 8) + std::string(8, '\0'), "capnp");
}

TEST(DomainCodecTest, NullRootReadsAsTheDefaultValue) {
  Result<Alert> alert = decode_aligned(decode_alert, raw_message({0}));
  ASSERT_TRUE(alert.is_ok()) << alert.status().to_string();
  EXPECT_EQ(*alert, Alert{});
  expect_refused(decode_event, raw_message({0}), "department: empty");
  expect_refused(decode_sync, raw_message({0}), "id is not set");
}

// ---- Seeded random inputs --------------------------------------------------------------------

std::string random_bytes(std::mt19937& rng, size_t length) {
  std::string bytes(length, '\0');
  for (char& c : bytes) c = static_cast<char>(rng());
  return bytes;
}

// A random buffer, a plausible segment table over random words, or a valid
// encoding with bits flipped, words overwritten or a cut.
std::string random_input(std::mt19937& rng, const std::vector<std::string>& valid) {
  std::string bytes = valid[rng() % valid.size()];
  switch (rng() % 5) {
    case 0:
      return random_bytes(rng, rng() % 1025);
    case 1: {
      const uint64_t header = uint64_t{rng() % 256} << 32;
      return std::string(reinterpret_cast<const char*>(&header), 8) + random_bytes(rng, (header >> 32) * 8);
    }
    case 2:
      for (int flips = 1 + rng() % 4; flips > 0; --flips) bytes[rng() % bytes.size()] ^= 1 << (rng() % 8);
      return bytes;
    case 3: {
      const uint64_t value = rng() % 2 ? (uint64_t{rng()} << 32 | rng()) : rng() % 64;
      std::memcpy(&bytes[8 * (rng() % (bytes.size() / 8))], &value, sizeof value);
      return bytes;
    }
    default:
      return bytes.substr(0, 8 * (rng() % (bytes.size() / 8)));
  }
}

// Decoding must not crash; the aligned and unaligned paths agree, and what
// decodes re-encodes to bytes that decode equal.
template <typename T>
void check_input(std::string (*encode)(const T&), Result<T> (*decode)(std::string_view), const std::string& input,
                 uint32_t seed, size_t& decoded_count) {
  Result<T> aligned = decode_aligned(decode, input);
  Result<T> unaligned = decode_unaligned(decode, input);
  ASSERT_EQ(aligned.is_ok(), unaligned.is_ok()) << "seed " << seed;
  if (!aligned.is_ok()) {
    ASSERT_EQ(aligned.status().code(), Status::Code::kInvalidArgument) << "seed " << seed;
    return;
  }
  ++decoded_count;
  ASSERT_EQ(*aligned, *unaligned) << "seed " << seed;
  Result<T> again = decode_aligned(decode, encode(*aligned));
  ASSERT_TRUE(again.is_ok()) << "seed " << seed << ": " << again.status().to_string();
  ASSERT_EQ(*again, *aligned) << "seed " << seed;
}

// ---- Sync batches ---------------------------------------------------------------

std::string batch_items(const std::vector<HouseholdSync>& syncs) {
  std::string items;
  for (const HouseholdSync& s : syncs) append_to_sync_batch(items, encode_sync(s));
  return items;
}

std::string u64_bytes(uint64_t v) {
  std::string out(8, '\0');
  std::memcpy(out.data(), &v, 8);
  return out;
}

TEST(SyncBatchTest, RoundTripsItsSyncsInOrder) {
  const std::vector<HouseholdSync> syncs = {full_sync(), minimal_sync(), full_sync()};
  const std::string items = batch_items(syncs);
  const std::string payload = seal_sync_batch(items);
  EXPECT_LT(payload.size(), items.size()) << "packing shrinks a sync's many zero bytes";
  Result<std::string> opened = open_sync_batch(payload);
  ASSERT_TRUE(opened.is_ok()) << opened.status().to_string();
  EXPECT_EQ(*opened, items);
  auto split = split_sync_batch(*opened);
  ASSERT_TRUE(split.is_ok()) << split.status().to_string();
  ASSERT_EQ(split->size(), syncs.size());
  for (size_t i = 0; i < syncs.size(); ++i) {
    Result<HouseholdSync> s = decode_sync((*split)[i]);
    ASSERT_TRUE(s.is_ok()) << i << ": " << s.status().to_string();
    EXPECT_EQ(*s, syncs[i]) << i;
  }
}

TEST(SyncBatchTest, RefusesMalformedPayloads) {
  const std::string items = batch_items({full_sync(), minimal_sync()});
  const std::string payload = seal_sync_batch(items);
  auto refused = [](std::string_view bytes, const std::string& part) {
    Result<std::string> r = open_sync_batch(bytes);
    ASSERT_FALSE(r.is_ok());
    EXPECT_NE(r.status().message().find(part), std::string::npos) << r.status().message();
  };
  refused("", "shorter than its length");
  refused(u64_bytes(0), "unpacked length 0");
  refused(u64_bytes(12) + payload.substr(8), "unpacked length 12");
  refused(u64_bytes(kMaxSyncBatchBytes + 8) + payload.substr(8), "unpacked length");
  refused(payload + std::string(8, '\0'), "bytes after the packed items");
  refused(u64_bytes(items.size() + 8) + payload.substr(8), "packing");
  for (size_t length = 8; length < payload.size(); ++length) {
    ASSERT_FALSE(open_sync_batch(payload.substr(0, length)).is_ok()) << length;
  }
}

TEST(SyncBatchTest, RefusesItemsThatDoNotTileTheBatch) {
  const std::string items = batch_items({full_sync(), minimal_sync()});
  auto refused = [](std::string_view bytes, const std::string& part) {
    auto r = split_sync_batch(bytes);
    ASSERT_FALSE(r.is_ok());
    EXPECT_NE(r.status().message().find(part), std::string::npos) << r.status().message();
  };
  refused("", "empty");
  refused(items.substr(0, items.size() - 8), "bad length");
  refused(items + std::string(4, '\0'), "truncated length");
  refused(items + u64_bytes(0), "bad length 0");
  refused(items + u64_bytes(12) + std::string(16, '\0'), "bad length 12");
  std::string many;
  for (size_t i = 0; i <= kMaxListItems; ++i) many += u64_bytes(8) + std::string(8, '\0');
  refused(many, "more than 16384 items");
  // Items that split but do not decode are the receiver's to refuse one by one.
  auto split = split_sync_batch(items + u64_bytes(8) + std::string(8, '\0'));
  ASSERT_TRUE(split.is_ok());
  ASSERT_EQ(split->size(), 3u);
  EXPECT_TRUE(decode_sync((*split)[0]).is_ok());
  EXPECT_FALSE(decode_sync((*split)[2]).is_ok());
}

// A zstd frame of bytes, with or without its size in the frame header.
std::string zstd_frame(std::string_view bytes, bool with_size) {
  std::unique_ptr<ZSTD_CCtx, size_t (*)(ZSTD_CCtx*)> c(ZSTD_createCCtx(), ZSTD_freeCCtx);
  ZSTD_CCtx_setParameter(c.get(), ZSTD_c_contentSizeFlag, with_size ? 1 : 0);
  std::string out(ZSTD_compressBound(bytes.size()), '\0');
  size_t n = ZSTD_compress2(c.get(), out.data(), out.size(), bytes.data(), bytes.size());
  EXPECT_FALSE(ZSTD_isError(n));
  out.resize(n);
  return out;
}

TEST(SyncBatchTest, CompressedBatchExpandsToThePlainOne) {
  std::vector<HouseholdSync> syncs;
  for (int i = 0; i < 40; ++i) syncs.push_back(i % 2 == 0 ? full_sync() : minimal_sync());
  const std::string sealed = seal_sync_batch(batch_items(syncs));
  std::optional<std::string> z = compress_sync_batch(sealed);
  ASSERT_TRUE(z.has_value());
  EXPECT_LT(z->size() * 4, sealed.size()) << "forty like syncs compress well below a quarter";
  Result<std::string> back = expand_sync_batch(*z);
  ASSERT_TRUE(back.is_ok()) << back.status().to_string();
  EXPECT_EQ(*back, sealed);
  // Bytes that do not shrink are not compressed.
  std::string noise(4096, '\0');
  std::mt19937_64 rng(7);
  for (char& ch : noise) ch = static_cast<char>(rng());
  EXPECT_FALSE(compress_sync_batch(noise).has_value());
}

TEST(SyncBatchTest, RefusesMalformedCompressedBatches) {
  const std::string sealed = seal_sync_batch(batch_items({full_sync(), minimal_sync(), full_sync()}));
  const std::string z = *compress_sync_batch(sealed);
  auto refused = [](std::string_view bytes, const std::string& part) {
    Result<std::string> r = expand_sync_batch(bytes);
    ASSERT_FALSE(r.is_ok());
    EXPECT_EQ(r.status().code(), Status::Code::kInvalidArgument);
    EXPECT_NE(r.status().message().find(part), std::string::npos) << r.status().message();
  };
  refused("", "not a zstd frame");
  refused(sealed, "not a zstd frame");
  refused(zstd_frame(sealed, false), "does not state its size");
  // A bomb: 2 MiB of zeros compress to a few hundred bytes; refused on the
  // size its header states, before anything is allocated.
  refused(zstd_frame(std::string(2u << 20, '\0'), true), "stated size 2097152");
  refused(z + "x", "bytes after the frame");
  refused(z + z, "bytes after the frame");
  for (size_t length = 1; length < z.size(); ++length) {
    ASSERT_FALSE(expand_sync_batch(std::string_view(z).substr(0, length)).is_ok()) << length;
  }
  // A damaged block: refused by zstd's own checks or, if it still
  // decompresses, by the batch's (open_sync_batch) afterwards.
  for (size_t at = 0; at < z.size(); ++at) {
    std::string bad = z;
    bad[at] = static_cast<char>(bad[at] ^ 0x5a);
    Result<std::string> r = expand_sync_batch(bad);
    if (r.is_ok() && *r != sealed) {
      Result<std::string> items = open_sync_batch(*r);
      if (items.is_ok()) (void)split_sync_batch(*items);
    }
  }
}

TEST(DomainCodecRandomTest, RandomAndMutatedInputsNeverCrash) {
  constexpr uint32_t kSeeds = 20'000;
  const std::vector<std::string> valid = {encode_household(full_household()), encode_household(Household{}),
                                          encode_alert(full_alert()),         encode_alert(Alert{}),
                                          encode_history(full_history()),     encode_event(full_event()),
                                          encode_sync(full_sync()),           encode_sync(minimal_sync())};
  std::array<size_t, 5> decoded{};
  for (uint32_t seed = 1; seed <= kSeeds; ++seed) {
    std::mt19937 rng(seed);
    const std::string input = random_input(rng, valid);
    check_input(encode_household, decode_household, input, seed, decoded[0]);
    check_input(encode_alert, decode_alert, input, seed, decoded[1]);
    check_input(encode_history, decode_history, input, seed, decoded[2]);
    check_input(encode_event, decode_event, input, seed, decoded[3]);
    check_input(encode_sync, decode_sync, input, seed, decoded[4]);
    if (HasFatalFailure()) return;
  }
  // Mutations must sometimes still decode, or the round-trip half never runs.
  for (size_t count : decoded) EXPECT_GT(count, 0u);
}

}  // namespace
}  // namespace lifeline::protocol
