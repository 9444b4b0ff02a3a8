// DivisionCode: a 12-digit statistical division code (统计用区划代码),
// `PP CC DD TTT VVV` — province, city, county, township, village.
//
// A code's level follows from its trailing zero groups; its jurisdiction is
// every code that shares its non-zero prefix. A group that is zero may only be
// followed by zero groups, except that a city may hold townships directly
// (东莞, 中山: county group 00, township group non-zero), as the NBS tables do.
// The province group is never zero.
//
// A value type: trivially copyable, ordered like its 12-digit string.
// Thread-safe (immutable).
#pragma once

#include <compare>
#include <cstdint>
#include <string>
#include <string_view>

#include "topology/status.h"

namespace lifeline::topology {

enum class Level : uint8_t { province = 1, city = 2, county = 3, township = 4, village = 5 };

// "province", "city", ... ; parse_level is its inverse.
const char* level_name(Level level);
Result<Level> parse_level(std::string_view name);

class DivisionCode {
 public:
  // Parses exactly 12 ASCII digits with the structure above; anything else
  // (wrong length, non-digit, zero province, a non-zero group after a zero
  // group other than the city→township case) is an invalid_argument error.
  static Result<DivisionCode> parse(std::string_view text);
  // As parse, for a number (e.g. read from a frame). 0 and > 999999999999 fail.
  static Result<DivisionCode> from_number(uint64_t value);
  // As from_number without the reason: the invalid code when value is not
  // a valid code. For hot paths (every record received).
  static DivisionCode or_invalid(uint64_t value);

  DivisionCode() = default;  // the invalid code 0; valid() is false

  bool valid() const { return value_ != 0; }
  uint64_t number() const { return value_; }
  std::string to_string() const;  // always 12 digits
  // Any number as 12 digits (zero-padded), valid code or not: for logs and
  // output of codes read from frames and stores.
  static std::string format(uint64_t number);
  Level level() const;
  // The code with its last non-zero group zeroed (a township directly under a
  // city yields the city). A province has no parent: returns the invalid code.
  DivisionCode parent() const;
  // True when `other` is this code or lies in its jurisdiction.
  bool contains(DivisionCode other) const;
  // The largest number of a code this one contains: the codes it contains
  // are exactly the valid ones in [number(), last_descendant()].
  uint64_t last_descendant() const;

  auto operator<=>(const DivisionCode&) const = default;

 private:
  explicit DivisionCode(uint64_t value) : value_(value) {}
  uint64_t value_ = 0;  // the code as a number; 0 = invalid
};

}  // namespace lifeline::topology

template <>
struct std::hash<lifeline::topology::DivisionCode> {
  size_t operator()(lifeline::topology::DivisionCode c) const noexcept { return std::hash<uint64_t>{}(c.number()); }
};
