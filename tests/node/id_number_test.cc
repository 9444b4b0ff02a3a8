#include "node/core/id_number.h"

#include <gtest/gtest.h>

namespace lifeline::node {
namespace {

constexpr Date kToday = 20251120;

// Expects `text` rejected with a message containing `why`, and the same
// problem for operators in Chinese containing `why_zh` (when given) and, in
// both languages, the number masked.
void expect_rejected(std::string_view text, const std::string& why, Date today = kToday, const std::string& why_zh = "") {
  Result<IdNumberInfo> r = parse_id_number(text, today);
  ASSERT_FALSE(r.is_ok()) << text;
  const std::string& en = r.status().message();
  const std::string& zh = r.status().message_zh();
  EXPECT_NE(en.find(why), std::string::npos) << en;
  EXPECT_EQ(en.rfind("ID number '" + mask_id_number(text) + "': ", 0), 0u) << en;
  EXPECT_EQ(zh.rfind("身份证号码无效：'" + mask_id_number(text) + "' ", 0), 0u) << zh;
  if (!why_zh.empty()) {
    EXPECT_NE(zh.find(why_zh), std::string::npos) << zh;
  }
}

struct ValidCase {
  const char* number;
  uint32_t address;
  Date birth;
  bool male;
};

// The valid examples of ../shared/data/README.md (made up, and the
// standard's own 11010519491231002X).
TEST(IdNumberTest, AcceptsTheSharedExamples) {
  for (const ValidCase& c : {ValidCase{"44130319850312123X", 441303, 19850312, true},
                             ValidCase{"441302200107040044", 441302, 20010704, false},
                             ValidCase{"441322196202283577", 441322, 19620228, true},
                             ValidCase{"11010519491231002X", 110105, 19491231, false}}) {
    Result<IdNumberInfo> info = parse_id_number(c.number, kToday);
    ASSERT_TRUE(info.is_ok()) << c.number << ": " << info.status().to_string();
    EXPECT_EQ(info->number, c.number);
    EXPECT_EQ(info->address, c.address);
    EXPECT_EQ(info->birth_date, c.birth);
    EXPECT_EQ(info->male, c.male) << c.number;
  }
}

// The standard's other example is born 1880-01-01: its check character is
// right, but nobody monitored today was born before 1900.
TEST(IdNumberTest, StandardsOwn1880ExampleHasARightCheckButIsTooOld) {
  EXPECT_EQ(id_check_char("44052418800101001"), '4');
  expect_rejected("440524188001010014", "before 1900");
}

TEST(IdNumberTest, ComputesTheCheckCharacter) {
  EXPECT_EQ(id_check_char("44130319850312123"), 'X');
  EXPECT_EQ(id_check_char("44130220010704004"), '4');
  EXPECT_EQ(id_check_char("11010519491231002"), 'X');
  EXPECT_EQ(id_check_char("4413031985031212"), '?');   // 16 digits
  EXPECT_EQ(id_check_char("4413031985031212A"), '?');  // not a digit
}

TEST(IdNumberTest, AcceptsLowerCaseXAndUpperCasesIt) {
  Result<IdNumberInfo> info = parse_id_number("44130319850312123x", kToday);
  ASSERT_TRUE(info.is_ok()) << info.status().to_string();
  EXPECT_EQ(info->number, "44130319850312123X");
}

TEST(IdNumberTest, RejectsAWrongCheckCharacter) {
  expect_rejected("441302200107040045", "wrong check character 5, expected 4", kToday, "校验码 5 不正确，应为 4");
  expect_rejected("441303198503121230", "wrong check character 0, expected X");
  expect_rejected("44130220010704004X", "expected 4");
}

TEST(IdNumberTest, RejectsBadBirthDates) {
  // 30 February, check char right. The date is not quoted: beside the
  // masked number it would give away all but two characters.
  expect_rejected("441303198502301239", "not a real date", kToday, "出生日期（第 7–14 位）不是有效日期");
  EXPECT_EQ(parse_id_number("441303198502301239", kToday).status().to_string().find("19850230"), std::string::npos);
  expect_rejected("441303198513011230", "not a real date");  // month 13
  expect_rejected("441303189912311230", "before 1900", kToday, "早于 1900-01-01");
  // 2025-01-01 with a right check character, parsed on 2024-12-31.
  expect_rejected("441303202501010017", "after today", 20241231, "出生日期（第 7–14 位）晚于今天");
  EXPECT_TRUE(parse_id_number("441303202501010017", 20250101).is_ok());  // born today
  EXPECT_TRUE(parse_id_number("441303202501010017").is_ok());            // no today given
  EXPECT_TRUE(parse_id_number("441303200002290019", kToday).is_ok());    // a leap day
  EXPECT_TRUE(parse_id_number("441303190001010015", kToday).is_ok());    // the earliest date
}

TEST(IdNumberTest, RejectsWrongLengths) {
  expect_rejected("", "must be 18 characters, got 0");
  expect_rejected("44130319850312123", "must be 18 characters, got 17", kToday, "应为 18 位，实为 17 位");
  expect_rejected("44130319850312123X0", "got 19");
  expect_rejected("441303850312123", "got 15");  // the old 15-digit form
}

TEST(IdNumberTest, RejectsLettersAndOtherCharacters) {
  expect_rejected("44130319850312123A", "must be a digit or X", kToday, "校验码应为数字或 X");
  expect_rejected("4413A319850312123X", "character 5 is not a digit", kToday, "第 5 位不是数字");
  expect_rejected("X4130319850312123X", "character 1 is not a digit");
  expect_rejected("44130319850312 23X", "character 15 is not a digit");
  expect_rejected("4413031985031212X3", "character 17 is not a digit");
}

// A spreadsheet shows an 18-digit number in a cell not formatted as text in
// scientific notation, and exports it so: the last digits are gone, and the
// operator is told why, not just that the length is wrong.
TEST(IdNumberTest, NamesANumberASpreadsheetTurnedIntoScientificNotation) {
  for (const char* text : {"4.41303E+17", "4.41303198503121E+17", "4E+17", "4.41303e+17"}) {
    SCOPED_TRACE(text);
    expect_rejected(text, "scientific notation", kToday, "科学计数法");
  }
  // Not that form: the ordinary rules answer.
  expect_rejected("4.41303E17", "must be 18 characters", kToday, "应为 18 位");
  expect_rejected("44.1303E+17", "must be 18 characters");
  expect_rejected("E+17", "must be 18 characters");
  expect_rejected("4.4E+", "must be 18 characters");
  expect_rejected("4.41303E+1X", "must be 18 characters");
}

TEST(IdNumberTest, FindsAnIdNumberInFreeText) {
  EXPECT_TRUE(contains_id_number("44130319850312123X"));
  EXPECT_TRUE(contains_id_number("户主 44130319850312123x 住院"));
  EXPECT_TRUE(contains_id_number("身份证:441303198503121230。"));
  EXPECT_TRUE(contains_id_number("441303198503121231"));  // a wrong check character counts too
  EXPECT_TRUE(contains_id_number("a44130319850312123X"));
  EXPECT_FALSE(contains_id_number(""));
  EXPECT_FALSE(contains_id_number("电话 13900000000"));
  EXPECT_FALSE(contains_id_number("6222021234567890123"));   // 19 digits: a bank card
  EXPECT_FALSE(contains_id_number("4413031985031212X"));     // 16 digits and X
  EXPECT_FALSE(contains_id_number("44130319850312123X5"));   // X inside a longer run
  EXPECT_FALSE(contains_id_number("A-441303000000-17"));
  EXPECT_TRUE(refuse_id_number_in("卡号 6222021234567890123", "note", "备注").is_ok());
  Status s = refuse_id_number_in("见 44130319850312123X", "note", "备注");
  EXPECT_EQ(s.code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(s.message().rfind("field 'note': must not contain an ID number", 0), 0u) << s.message();
  EXPECT_EQ(s.message_zh().rfind("备注不得包含身份证号码", 0), 0u) << s.message_zh();
}

TEST(IdNumberTest, ErrorsDoNotRepeatTheWholeNumber) {
  Result<IdNumberInfo> r = parse_id_number("441302200107040045", kToday);
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.status().message().find("441302200107040045"), std::string::npos);
  EXPECT_NE(r.status().message().find("4413**********0045"), std::string::npos);
}

// Error messages that quote what was typed (a village code, a path, a CSV
// column) go through this before they are shown.
TEST(IdNumberTest, MasksEveryIdNumberInAText) {
  EXPECT_EQ(mask_id_numbers_in("unknown source department \"44130319850312123X\""),
            "unknown source department \"4413**********123X\"");
  EXPECT_EQ(mask_id_numbers_in("441302200107040044,44130319850312123x"), "4413**********0044,4413**********123x");
  EXPECT_EQ(mask_id_numbers_in("H-441303001001-13 13800000000 6222020200112233445 2026-12-07"),
            "H-441303001001-13 13800000000 6222020200112233445 2026-12-07");
  EXPECT_EQ(mask_id_numbers_in(""), "");
}

TEST(IdNumberTest, MasksAllButTheFirstAndLastFour) {
  EXPECT_EQ(mask_id_number("44130319850312123X"), "4413**********123X");
  EXPECT_EQ(mask_id_number("441302200107040044"), "4413**********0044");
  EXPECT_EQ(mask_id_number("1234567"), "*******");  // too short to show both ends
  EXPECT_EQ(mask_id_number(""), "");
}

TEST(IdNumberTest, MasksNamesByCodePoint) {
  EXPECT_EQ(mask_name("张三明"), "张*明");
  EXPECT_EQ(mask_name("张三"), "张*");
  EXPECT_EQ(mask_name("欧阳小明"), "欧**明");
  EXPECT_EQ(mask_name("张"), "*");
  EXPECT_EQ(mask_name(""), "");
  EXPECT_EQ(mask_name("司马相如君"), "司***君");
  EXPECT_EQ(mask_name("阿依·买买提"), "阿****提");  // the middle dot is masked too
  EXPECT_EQ(mask_name("Li"), "L*");
}

TEST(IdNumberTest, APersonsNameHoldsNoDigitNorControlCharacter) {
  for (const char* ok : {"张三", "阿依古丽·买买提", "欧阳娜娜", "Li Lei", "李"}) EXPECT_TRUE(check_person_name(ok, "name", "姓名")) << ok;
  const std::pair<std::string, std::string> bad[] = {
      {"", "1..64 bytes"},
      {std::string(65, 'a'), "1..64 bytes"},
      {"张3", "digit"},
      {"张\xef\xbc\x93", "digit"},  // 张３ (full-width 3)
      {"44130319850312123X", "digit"},
      {"张\n三", "control character"},
      {"张\x7f", "control character"},
      {"张\xc2\x85三", "control character"},  // U+0085, a C1 control
      {"张\xff", "UTF-8"},
  };
  for (const auto& [name, why] : bad) {
    Status s = check_person_name(name, "name", "姓名");
    ASSERT_FALSE(s) << name;
    EXPECT_NE(s.message().find(why), std::string::npos) << s.message();
    EXPECT_NE(s.message().find("field 'name'"), std::string::npos) << s.message();
    EXPECT_EQ(s.message_zh().rfind("姓名", 0), 0u) << s.message_zh();
  }
}

}  // namespace
}  // namespace lifeline::node
