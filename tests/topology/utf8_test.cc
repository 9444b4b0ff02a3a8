#include "topology/utf8.h"

#include <gtest/gtest.h>

namespace lifeline::topology {
namespace {

TEST(Utf8Test, ValidUtf8RefusesOverlongSurrogatesAndTruncatedSequences) {
  EXPECT_TRUE(valid_utf8(""));
  EXPECT_TRUE(valid_utf8("ascii, 中文, 𠀀"));
  EXPECT_FALSE(valid_utf8("\xFF"));
  EXPECT_FALSE(valid_utf8("\xC0\xAF"));          // overlong '/'
  EXPECT_FALSE(valid_utf8("\xED\xA0\x80"));      // a surrogate
  EXPECT_FALSE(valid_utf8("\xF4\x90\x80\x80"));  // above U+10FFFF
  EXPECT_FALSE(valid_utf8("\xE4\xB8"));          // 中 cut short
}

TEST(Utf8Test, CleanTextReplacesWhatIsMalformedAndCutsAtACharacter) {
  EXPECT_EQ(clean_text("H-441303001001-1", 256), "H-441303001001-1");
  EXPECT_EQ(clean_text("\xFF.csv", 256), "\xEF\xBF\xBD.csv");
  EXPECT_EQ(clean_text("a\nb\tc\x7F", 256), "a b c ");
  EXPECT_EQ(clean_text("abcde", 5), "abcde");  // fits exactly: no ellipsis
  EXPECT_EQ(clean_text("abcdef", 5), "ab\xE2\x80\xA6");
  // 中文字 is 9 bytes: 7 leave room for one character and the ellipsis.
  EXPECT_EQ(clean_text("中文字", 7), "中…");
  EXPECT_EQ(clean_text("中文字", 2), "");
  const std::string cut = clean_text(std::string(5000, 'a') + "\xFF", 256);
  EXPECT_EQ(cut.size(), 256u);
  EXPECT_TRUE(valid_utf8(cut));
  for (size_t max = 0; max < 40; ++max) {
    const std::string s = clean_text("名字\xE4\xB8 x\x01中文", max);
    EXPECT_LE(s.size(), max);
    EXPECT_TRUE(valid_utf8(s)) << max;
  }
}

}  // namespace
}  // namespace lifeline::topology
