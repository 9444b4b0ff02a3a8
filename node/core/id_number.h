// Resident identity numbers (GB 11643-1999) and the masking of personal
// data in lists (DESIGN §4). Pure functions; thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "node/core/civil_date.h"
#include "topology/status.h"

namespace lifeline::node {

inline constexpr size_t kIdNumberLength = 18;

struct IdNumberInfo {
  std::string number;       // kIdNumberLength characters, upper-case X
  uint32_t address = 0;     // the 6-digit address code
  Date birth_date = 0;
  bool male = false;        // the sequence's last digit is odd
};

// Checks length, digits, a real birth date (not after `today` when given,
// not before 1900) and the ISO 7064 MOD 11-2 check character. A lower-case
// x is accepted and upper-cased. A refusal names the failed rule and shows
// the number masked, in English (message) and in Chinese (message_zh):
//   ID number '4413**********0045': wrong check character 5, expected 4
//   身份证号码无效：'4413**********0045' 校验码 5 不正确，应为 4
// A number that a spreadsheet turned into scientific notation
// (4.41303E+17) is named so.
Result<IdNumberInfo> parse_id_number(std::string_view text, Date today = 0);
// The check character for the first 17 digits.
char id_check_char(std::string_view first17);
// "44130319850312123X" -> "4413**********123X" (first 4, last 4).
std::string mask_id_number(std::string_view number);
// "张三明" -> "张*明", "张三" -> "张*", "欧阳小明" -> "欧**明"; UTF-8 aware.
std::string mask_name(std::string_view name);

// Free text an operator types (an escalation note, feedback findings, an
// application's reason) is shown whole wherever the record is shown, and
// history texts travel to every holder: it must not carry an ID number,
// which belongs in its own field, masked in lists. True when text holds 17
// digits and a digit or X/x, not inside a longer run of digits (a mistyped
// number counts too: the check character is not verified).
bool contains_id_number(std::string_view text);

// text with every ID number in it (as contains_id_number finds them) masked:
// for error messages and reasons that quote what was typed.
std::string mask_id_numbers_in(std::string_view text);
// ok, or invalid_argument naming the field (English and Chinese names).
Status refuse_id_number_in(std::string_view text, const std::string& field, const std::string& field_zh);

// A person's name as registered (a member's, an applicant's): 1..64 bytes of
// UTF-8 with no control character and no digit, ASCII or full-width (a
// name never holds one: a digit there is a typing slip, or a number put in
// the wrong field). ok, or invalid_argument naming the field.
Status check_person_name(std::string_view name, const std::string& field, const std::string& field_zh);

}  // namespace lifeline::node
