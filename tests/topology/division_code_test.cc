#include "topology/division_code.h"

#include <gtest/gtest.h>

#include <random>
#include <unordered_set>

namespace lifeline::topology {
namespace {

using namespace std::literals;

// Parses a code the test knows to be valid.
DivisionCode code(std::string_view text) {
  Result<DivisionCode> parsed = DivisionCode::parse(text);
  EXPECT_TRUE(parsed.is_ok()) << text << ": " << parsed.status().to_string();
  return parsed.is_ok() ? *parsed : DivisionCode();
}

TEST(DivisionCodeTest, ParsesEveryLevel) {
  EXPECT_EQ(code("440000000000").level(), Level::province);
  EXPECT_EQ(code("441300000000").level(), Level::city);
  EXPECT_EQ(code("441303000000").level(), Level::county);
  EXPECT_EQ(code("441303001000").level(), Level::township);
  EXPECT_EQ(code("441303001001").level(), Level::village);
}

TEST(DivisionCodeTest, RoundTripsThroughStringAndNumber) {
  DivisionCode village = code("441303001201");
  EXPECT_TRUE(village.valid());
  EXPECT_EQ(village.number(), 441303001201ULL);
  EXPECT_EQ(village.to_string(), "441303001201");
  Result<DivisionCode> again = DivisionCode::from_number(village.number());
  ASSERT_TRUE(again.is_ok());
  EXPECT_EQ(*again, village);
}

TEST(DivisionCodeTest, RejectsWrongLength) {
  for (std::string_view text : {"", "44130300100", "4413030010010", "44"}) {
    Result<DivisionCode> parsed = DivisionCode::parse(text);
    EXPECT_FALSE(parsed.is_ok()) << text;
    EXPECT_EQ(parsed.status().code(), Status::Code::kInvalidArgument) << text;
  }
}

TEST(DivisionCodeTest, RejectsNonDigits) {
  const std::string fullwidth_four = std::string("\xEF\xBC\x94") + "413030010";  // ４ is 3 bytes
  const std::string embedded_nul = std::string("441303") + '\0' + "01001";
  for (std::string_view text : {"44130300100a"sv, " 44130300100"sv, "441303001 00"sv, "-44130300100"sv,
                                std::string_view(fullwidth_four), std::string_view(embedded_nul)}) {
    ASSERT_EQ(text.size(), 12u);
    EXPECT_FALSE(DivisionCode::parse(text).is_ok()) << text;
  }
}

TEST(DivisionCodeTest, RejectsZeroProvince) {
  EXPECT_FALSE(DivisionCode::parse("000000000000").is_ok());
  EXPECT_FALSE(DivisionCode::parse("001300000000").is_ok());
  EXPECT_FALSE(DivisionCode::parse("001303001001").is_ok());
}

TEST(DivisionCodeTest, RejectsNonZeroGroupAfterZeroGroup) {
  for (std::string_view text : {"440000001000", "440000000001", "441300000001", "441303000001", "440003000000",
                                "440000001001", "440003001000"}) {
    Result<DivisionCode> parsed = DivisionCode::parse(text);
    EXPECT_FALSE(parsed.is_ok()) << text;
    EXPECT_EQ(parsed.status().code(), Status::Code::kInvalidArgument) << text;
  }
}

TEST(DivisionCodeTest, AcceptsTownshipAndVillageDirectlyUnderCity) {
  // 东莞 and 中山 have no county level.
  EXPECT_EQ(code("441900003000").level(), Level::township);
  EXPECT_EQ(code("442000100000").level(), Level::township);
  EXPECT_EQ(code("441900003001").level(), Level::village);
}

TEST(DivisionCodeTest, FromNumberRejectsZeroAndTooLarge) {
  EXPECT_FALSE(DivisionCode::from_number(0).is_ok());
  EXPECT_FALSE(DivisionCode::from_number(1'000'000'000'000ULL).is_ok());
  EXPECT_FALSE(DivisionCode::from_number(UINT64_MAX).is_ok());
}

TEST(DivisionCodeTest, FromNumberAcceptsBounds) {
  Result<DivisionCode> smallest = DivisionCode::from_number(10'000'000'000ULL);
  ASSERT_TRUE(smallest.is_ok());
  EXPECT_EQ(smallest->to_string(), "010000000000");
  EXPECT_EQ(smallest->level(), Level::province);
  Result<DivisionCode> largest = DivisionCode::from_number(999'999'999'999ULL);
  ASSERT_TRUE(largest.is_ok());
  EXPECT_EQ(largest->to_string(), "999999999999");
  EXPECT_EQ(largest->level(), Level::village);
}

TEST(DivisionCodeTest, FromNumberRejectsBadStructure) {
  EXPECT_FALSE(DivisionCode::from_number(440000001000ULL).is_ok());
  EXPECT_FALSE(DivisionCode::from_number(1'000'000'000ULL).is_ok()) << "province group zero";
}

TEST(DivisionCodeTest, EveryValidCodeHasConsistentParentAndJurisdiction) {
  std::mt19937_64 random(20240601);  // fixed seed: the same values every run
  // Draw each group as zero or not at random, so every structure appears.
  constexpr uint64_t kScale[] = {10'000'000'000ULL, 100'000'000ULL, 1'000'000ULL, 1'000ULL, 1ULL};
  constexpr uint64_t kModulus[] = {100, 100, 100, 1000, 1000};
  int valid_count = 0;
  for (int round = 0; round < 20000; ++round) {
    uint64_t value = 0;
    for (int group = 0; group < 5; ++group) {
      if (random() % 2 != 0) value += random() % kModulus[group] * kScale[group];
    }
    Result<DivisionCode> from_number = DivisionCode::from_number(value);
    std::string text = std::to_string(value);
    text.insert(0, 12 - text.size(), '0');
    Result<DivisionCode> parsed = DivisionCode::parse(text);
    ASSERT_EQ(from_number.is_ok(), parsed.is_ok()) << value;
    if (!parsed.is_ok()) continue;
    ++valid_count;
    DivisionCode child = *parsed;
    EXPECT_EQ(*from_number, child);
    EXPECT_TRUE(child.contains(child));
    DivisionCode parent = child.parent();
    if (child.level() == Level::province) {
      EXPECT_FALSE(parent.valid());
      continue;
    }
    ASSERT_TRUE(DivisionCode::from_number(parent.number()).is_ok()) << value;
    EXPECT_TRUE(parent.contains(child)) << value;
    EXPECT_FALSE(child.contains(parent)) << value;
    EXPECT_LT(parent.level(), child.level()) << value;
  }
  EXPECT_GT(valid_count, 1000);
}

TEST(DivisionCodeTest, DefaultCodeIsInvalid) {
  DivisionCode none;
  EXPECT_FALSE(none.valid());
  EXPECT_EQ(none.number(), 0u);
  EXPECT_EQ(none.to_string(), "000000000000");
  EXPECT_FALSE(none.parent().valid());
  EXPECT_FALSE(none.contains(code("440000000000")));
  EXPECT_FALSE(code("440000000000").contains(none));
}

TEST(DivisionCodeTest, ParentZeroesLastNonZeroGroup) {
  EXPECT_EQ(code("441303001001").parent(), code("441303001000"));
  EXPECT_EQ(code("441303001000").parent(), code("441303000000"));
  EXPECT_EQ(code("441303000000").parent(), code("441300000000"));
  EXPECT_EQ(code("441300000000").parent(), code("440000000000"));
}

TEST(DivisionCodeTest, ProvinceHasNoParent) { EXPECT_FALSE(code("440000000000").parent().valid()); }

TEST(DivisionCodeTest, TownshipUnderCityHasCityAsParent) {
  EXPECT_EQ(code("441900003000").parent(), code("441900000000"));
  EXPECT_EQ(code("441900003001").parent(), code("441900003000"));
}

TEST(DivisionCodeTest, ContainsItsJurisdiction) {
  DivisionCode province = code("440000000000");
  EXPECT_TRUE(province.contains(code("441303001001")));
  EXPECT_TRUE(province.contains(code("441900003000")));
  EXPECT_TRUE(code("441300000000").contains(code("441303001000")));
  EXPECT_TRUE(code("441303000000").contains(code("441303001001")));
  EXPECT_TRUE(code("441303001000").contains(code("441303001001")));
  EXPECT_TRUE(code("441900000000").contains(code("441900003000")));
  EXPECT_TRUE(code("441900000000").contains(code("441900003001")));
}

TEST(DivisionCodeTest, LastDescendantBoundsExactlyWhatItContains) {
  EXPECT_EQ(code("440000000000").last_descendant(), 449999999999u);
  EXPECT_EQ(code("441300000000").last_descendant(), 441399999999u);
  EXPECT_EQ(code("441303000000").last_descendant(), 441303999999u);
  EXPECT_EQ(code("441303001000").last_descendant(), 441303001999u);
  EXPECT_EQ(code("441303001001").last_descendant(), 441303001001u);
  // A township directly under a prefecture-level city without counties.
  EXPECT_EQ(code("441900003000").last_descendant(), 441900003999u);
  // Every code of a sample contained in a division lies in its range, and
  // every code in the range is contained.
  for (std::string_view d : {"441300000000", "441303000000", "441303001000", "441900000000"}) {
    for (std::string_view c : {"441303001001", "441303001999", "441303002001", "441302001000", "441399999999", "441900003001",
                               "441400000000", "441299999999"}) {
      DivisionCode div = code(d), other = code(c);
      bool in_range = other.number() >= div.number() && other.number() <= div.last_descendant();
      EXPECT_EQ(in_range, div.contains(other)) << d << " " << c;
    }
  }
}

TEST(DivisionCodeTest, ContainsItself) {
  for (std::string_view text : {"440000000000", "441300000000", "441303000000", "441303001000", "441303001001"}) {
    EXPECT_TRUE(code(text).contains(code(text))) << text;
  }
}

TEST(DivisionCodeTest, DoesNotContainOutsideOrAbove) {
  EXPECT_FALSE(code("440000000000").contains(code("450000000000")));
  EXPECT_FALSE(code("441300000000").contains(code("441900003000")));
  EXPECT_FALSE(code("441303000000").contains(code("441302001000")));
  EXPECT_FALSE(code("441303001000").contains(code("441303002001")));
  EXPECT_FALSE(code("441303001001").contains(code("441303001002")));
  EXPECT_FALSE(code("441303001000").contains(code("441303000000"))) << "a child never contains its parent";
}

TEST(DivisionCodeTest, OrdersLikeItsString) {
  EXPECT_LT(code("440000000000"), code("441300000000"));
  EXPECT_LT(code("441303001000"), code("441303001001"));
  EXPECT_LT(code("441303001999"), code("441303002000"));
}

TEST(DivisionCodeTest, HashesByValue) {
  std::unordered_set<DivisionCode> codes = {code("441300000000"), code("441300000000"), code("441303000000")};
  EXPECT_EQ(codes.size(), 2u);
}

TEST(DivisionCodeTest, LevelNamesRoundTrip) {
  for (Level level : {Level::province, Level::city, Level::county, Level::township, Level::village}) {
    Result<Level> parsed = parse_level(level_name(level));
    ASSERT_TRUE(parsed.is_ok()) << level_name(level);
    EXPECT_EQ(*parsed, level);
  }
  EXPECT_STREQ(level_name(Level::township), "township");
}

TEST(DivisionCodeTest, ParseLevelRejectsUnknownName) {
  for (std::string_view name : {"", "Province", "state", "village "}) {
    Result<Level> parsed = parse_level(name);
    EXPECT_FALSE(parsed.is_ok()) << name;
    EXPECT_EQ(parsed.status().code(), Status::Code::kInvalidArgument);
  }
}

}  // namespace
}  // namespace lifeline::topology

namespace lifeline::topology {
namespace {

TEST(DivisionCodeFormatTest, PadsAnyNumberToTwelveDigits) {
  EXPECT_EQ(DivisionCode::format(441303001001), "441303001001");
  EXPECT_EQ(DivisionCode::format(5), "000000000005");
  EXPECT_EQ(DivisionCode::parse("440000000000")->to_string(), DivisionCode::format(440000000000));
}

}  // namespace
}  // namespace lifeline::topology
