#include "node/core/id_number.h"

#include <algorithm>
#include <array>
#include <optional>
#include <string>
#include <vector>

#include "topology/utf8.h"

namespace lifeline::node {
namespace {

constexpr size_t kBodyLength = 17;  // address 6 + birth date 8 + sequence 3
constexpr Date kEarliestBirth = 19000101;
constexpr std::array<int, kBodyLength> kWeights = {7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2};
constexpr std::string_view kCheckChars = "10X98765432";  // indexed by the weighted sum mod 11
constexpr size_t kMaskKeep = 4;                          // characters shown at each end
constexpr size_t kMaskStars = 10;

bool is_digit(char c) { return c >= '0' && c <= '9'; }

uint32_t digits_value(std::string_view digits) {
  uint32_t value = 0;
  for (char c : digits) value = value * 10 + static_cast<uint32_t>(c - '0');
  return value;
}

// Why a number is refused: the rule, in Chinese and in English.
struct Why {
  std::string zh, en;
};

Status invalid(std::string_view text, const Why& why) {
  const std::string masked = mask_id_number(text);
  return Status::invalid_argument("ID number '" + masked + "': " + why.en).with_zh("身份证号码无效：'" + masked + "' " + why.zh);
}

// 4.41303E+17, 4.41303198503121E+17: what a spreadsheet shows of an
// 18-digit number in a cell not formatted as text (the last digits are lost).
bool scientific_notation(std::string_view text) {
  const size_t e = text.find_first_of("eE");
  if (e == std::string_view::npos || e == 0 || e + 2 >= text.size() || text[e + 1] != '+') return false;
  // A digit, then optionally a decimal point and more digits.
  for (size_t i = 0; i < e; ++i) {
    if (!is_digit(text[i]) && !(i == 1 && text[i] == '.')) return false;
  }
  for (size_t i = e + 2; i < text.size(); ++i) {
    if (!is_digit(text[i])) return false;
  }
  return true;
}

// Null when the 17-character body is made of digits and carries a real
// birth date in [1900-01-01, today], else why not.
std::optional<Why> body_error(std::string_view body, Date today) {
  for (size_t i = 0; i < body.size(); ++i) {
    const std::string n = std::to_string(i + 1);
    if (!is_digit(body[i])) return Why{"第 " + n + " 位不是数字", "character " + n + " is not a digit"};
  }
  const std::string birth(body.substr(6, 8));
  const std::optional<Date> date = parse_date(birth);
  const uint32_t raw = digits_value(birth);
  // The birth date is not quoted: beside the masked number it would show
  // all but two of its characters.
  if (raw < kEarliestBirth) return Why{"出生日期（第 7–14 位）早于 1900-01-01", "the birth date (characters 7-14) is before 1900-01-01"};
  if (!date) return Why{"出生日期（第 7–14 位）不是有效日期", "the birth date (characters 7-14) is not a real date"};
  if (today != 0 && *date > today)
    return Why{"出生日期（第 7–14 位）晚于今天", "the birth date (characters 7-14) is after today"};
  return std::nullopt;
}

}  // namespace

char id_check_char(std::string_view first17) {
  // Not 17 digits: a character no ID number ends with, so it never matches.
  if (first17.size() != kBodyLength) return '?';
  int sum = 0;
  for (size_t i = 0; i < kBodyLength; ++i) {
    if (!is_digit(first17[i])) return '?';
    sum += (first17[i] - '0') * kWeights[i];
  }
  return kCheckChars[sum % 11];
}

Result<IdNumberInfo> parse_id_number(std::string_view text, Date today) {
  if (scientific_notation(text)) {
    return invalid(text,
                   {"被电子表格转成了科学计数法，末几位已丢失；请把该列设为文本格式后重新导出",
                    "a spreadsheet turned it into scientific notation and its last digits are lost; set the column "
                    "to text and export again"});
  }
  if (text.size() != kIdNumberLength) {
    const std::string n = std::to_string(text.size());
    return invalid(text, {"应为 18 位，实为 " + n + " 位", "must be 18 characters, got " + n});
  }
  const std::string_view body = text.substr(0, kBodyLength);
  if (auto error = body_error(body, today)) return invalid(text, *error);
  const char last = text[kBodyLength] == 'x' ? 'X' : text[kBodyLength];
  if (!is_digit(last) && last != 'X')
    return invalid(text, {"校验码应为数字或 X", "the check character must be a digit or X"});
  const char expected = id_check_char(body);
  if (last != expected) {
    return invalid(text,
                   {std::string("校验码 ") + last + " 不正确，应为 " + expected,
                    std::string("wrong check character ") + last + ", expected " + expected});
  }
  IdNumberInfo info;
  info.number = std::string(body) + last;
  info.address = digits_value(body.substr(0, 6));
  info.birth_date = digits_value(body.substr(6, 8));
  info.male = (body[16] - '0') % 2 == 1;
  return info;
}

std::string mask_id_number(std::string_view number) {
  // Anything too short to keep both ends is hidden whole, and so is anything
  // that is not plain ASCII (full-width digits, text typed in the field):
  // cutting it by bytes could split a character.
  const bool ascii = std::all_of(number.begin(), number.end(), [](char c) { return c > 0x20 && c < 0x7F; });
  if (!ascii) {
    size_t chars = 0;
    for (char c : number) chars += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
    return std::string(std::min<size_t>(chars, 18), '*');
  }
  if (number.size() < 2 * kMaskKeep) return std::string(number.size(), '*');
  return std::string(number.substr(0, kMaskKeep)) + std::string(kMaskStars, '*') +
         std::string(number.substr(number.size() - kMaskKeep));
}

std::string mask_name(std::string_view name) {
  // Split into UTF-8 code points: a byte that is not a continuation byte
  // starts a new one, so malformed bytes still yield whole characters.
  std::vector<std::string_view> chars;
  for (size_t i = 0; i < name.size();) {
    size_t j = i + 1;
    while (j < name.size() && (static_cast<unsigned char>(name[j]) & 0xC0) == 0x80) ++j;
    chars.push_back(name.substr(i, j - i));
    i = j;
  }
  if (chars.size() <= 1) return std::string(chars.size(), '*');
  std::string masked(chars.front());
  masked.append(chars.size() == 2 ? 1 : chars.size() - 2, '*');
  if (chars.size() > 2) masked.append(chars.back());
  return masked;
}

namespace {

// Calls fn(start) for each ID number in text: 17 digits and a digit or X/x,
// not inside a longer run of digits.
template <class Fn>
void for_each_id_number(std::string_view text, Fn fn) {
  size_t run = 0;  // digits just before i
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (is_digit(c)) {
      ++run;
      continue;
    }
    if ((c == 'X' || c == 'x') && run == kIdNumberLength - 1) {
      const bool digit_after = i + 1 < text.size() && is_digit(text[i + 1]);
      if (!digit_after) fn(i + 1 - kIdNumberLength);
    } else if (run == kIdNumberLength) {
      fn(i - kIdNumberLength);
    }
    run = 0;
  }
  if (run == kIdNumberLength) fn(text.size() - kIdNumberLength);
}

}  // namespace

bool contains_id_number(std::string_view text) {
  bool found = false;
  for_each_id_number(text, [&](size_t) { found = true; });
  return found;
}

std::string mask_id_numbers_in(std::string_view text) {
  std::string out(text);
  for_each_id_number(text, [&](size_t at) {
    out.replace(at, kIdNumberLength, mask_id_number(text.substr(at, kIdNumberLength)));
  });
  return out;
}

Status refuse_id_number_in(std::string_view text, const std::string& field, const std::string& field_zh) {
  if (!contains_id_number(text)) return Status::ok();
  return Status::invalid_argument("field '" + field +
                                  "': must not contain an ID number (free text is shown whole wherever the record is "
                                  "shown; a person's number belongs in the household's members)")
      .with_zh(field_zh + "不得包含身份证号码（文字内容在各处完整显示；身份证号码应登记在家庭成员中）");
}

Status check_person_name(std::string_view name, const std::string& field, const std::string& field_zh) {
  auto refuse = [&](const std::string& en, const std::string& zh) {
    return Status::invalid_argument("field '" + field + "': " + en).with_zh(field_zh + zh);
  };
  if (name.empty() || name.size() > 64) return refuse("must be 1..64 bytes", "不能为空，且不超过 64 字节");
  if (!topology::valid_utf8(name)) return refuse("must be UTF-8 text", "应为 UTF-8 文字");
  for (size_t i = 0; i < name.size(); ++i) {
    const auto c = static_cast<unsigned char>(name[i]);
    if (c < 0x20 || c == 0x7f) return refuse("must not contain a control character", "不得包含控制字符");
    if (c >= '0' && c <= '9') return refuse("must not contain a digit", "不得包含数字");
    // C1 controls are U+0080..U+009F (C2 80..C2 9F); full-width digits
    // U+FF10..U+FF19 (EF BC 90..EF BC 99).
    if (c == 0xc2 && i + 1 < name.size() && static_cast<unsigned char>(name[i + 1]) <= 0x9f)
      return refuse("must not contain a control character", "不得包含控制字符");
    if (c == 0xef && i + 2 < name.size() && static_cast<unsigned char>(name[i + 1]) == 0xbc &&
        static_cast<unsigned char>(name[i + 2]) >= 0x90 && static_cast<unsigned char>(name[i + 2]) <= 0x99)
      return refuse("must not contain a digit", "不得包含数字");
  }
  return Status::ok();
}

}  // namespace lifeline::node
