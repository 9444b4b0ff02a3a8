#include "topology/division_code.h"

#include <array>
#include <cstdio>

namespace lifeline::topology {
namespace {

// Groups PP CC DD TTT VVV as powers of ten: group i of a code is
// (value / kGroupScale[i]) % kGroupModulus[i].
constexpr int kGroupCount = 5;
constexpr std::array<uint64_t, kGroupCount> kGroupScale = {10'000'000'000ULL, 100'000'000ULL, 1'000'000ULL, 1'000ULL,
                                                           1ULL};
constexpr std::array<uint64_t, kGroupCount> kGroupModulus = {100, 100, 100, 1000, 1000};
constexpr uint64_t kMaxCode = 999'999'999'999ULL;
constexpr size_t kCodeDigits = 12;
constexpr int kCityGroup = 1;
constexpr int kCountyGroup = 2;
constexpr int kTownshipGroup = 3;

constexpr std::array<const char*, kGroupCount> kLevelNames = {"province", "city", "county", "township", "village"};

uint64_t group_of(uint64_t value, int group) { return (value / kGroupScale[group]) % kGroupModulus[group]; }

// Index of the last non-zero group, or -1 for 0.
int last_nonzero_group(uint64_t value) {
  for (int group = kGroupCount - 1; group >= 0; --group) {
    if (group_of(value, group) != 0) return group;
  }
  return -1;
}

// Null when `value` has the structure described in the header, else why not.
// Runs for every record received: no allocation.
const char* structure_error(uint64_t value) {
  if (value == 0 || value > kMaxCode) return "not a 12-digit code";
  if (group_of(value, 0) == 0) return "province group is zero";
  for (int group = 1; group < kGroupCount; ++group) {
    if (group_of(value, group) == 0 || group_of(value, group - 1) != 0) continue;
    // 东莞 and 中山 have no county level: their townships sit under the city.
    bool township_under_city =
        group == kTownshipGroup && group_of(value, kCountyGroup) == 0 && group_of(value, kCityGroup) != 0;
    if (!township_under_city) return "non-zero group after a zero group";
  }
  return nullptr;
}

}  // namespace

const char* level_name(Level level) {
  int index = static_cast<int>(level) - 1;
  if (index < 0 || index >= kGroupCount) return "unknown";
  return kLevelNames[index];
}

Result<Level> parse_level(std::string_view name) {
  for (int index = 0; index < kGroupCount; ++index) {
    if (name == kLevelNames[index]) return static_cast<Level>(index + 1);
  }
  return Status::invalid_argument("unknown level '" + std::string(name) + "'");
}

Result<DivisionCode> DivisionCode::parse(std::string_view text) {
  if (text.size() != kCodeDigits) {
    return Status::invalid_argument("division code '" + std::string(text) + "' is not 12 digits");
  }
  uint64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') {
      return Status::invalid_argument("division code '" + std::string(text) + "' has a non-digit");
    }
    value = value * 10 + static_cast<uint64_t>(c - '0');
  }
  return from_number(value);
}

Result<DivisionCode> DivisionCode::from_number(uint64_t value) {
  const char* error = structure_error(value);
  if (error != nullptr) {
    return Status::invalid_argument("division code " + std::to_string(value) + ": " + error);
  }
  return DivisionCode(value);
}

DivisionCode DivisionCode::or_invalid(uint64_t value) {
  // A few codes recur in every frame (origin, destination, peers): remember
  // recently validated ones per thread instead of re-dividing each time.
  static thread_local std::array<uint64_t, 64> recent{};
  uint64_t& slot = recent[(value * 0x9E3779B97F4A7C15ULL) >> 58];
  if (slot == value && value != 0) return DivisionCode(value);
  if (structure_error(value) != nullptr) return DivisionCode();
  slot = value;
  return DivisionCode(value);
}

std::string DivisionCode::to_string() const { return format(value_); }

std::string DivisionCode::format(uint64_t number) {
  char buffer[24];
  std::snprintf(buffer, sizeof buffer, "%012llu", static_cast<unsigned long long>(number));
  return buffer;
}

// The invalid code has no level; it reports province rather than aborting so
// that a caller's unchecked code never crashes a node.
Level DivisionCode::level() const {
  int group = last_nonzero_group(value_);
  return static_cast<Level>(group < 0 ? 1 : group + 1);
}

DivisionCode DivisionCode::parent() const {
  int group = last_nonzero_group(value_);
  if (group <= 0) return DivisionCode();
  // Zeroing the last group of a valid code leaves a valid code.
  return DivisionCode(value_ - group_of(value_, group) * kGroupScale[group]);
}

uint64_t DivisionCode::last_descendant() const {
  int group = last_nonzero_group(value_);
  return group < 0 ? value_ : value_ + kGroupScale[group] - 1;
}

bool DivisionCode::contains(DivisionCode other) const {
  int group = last_nonzero_group(value_);
  if (group < 0 || !other.valid()) return false;
  return value_ / kGroupScale[group] == other.value_ / kGroupScale[group];
}

}  // namespace lifeline::topology
