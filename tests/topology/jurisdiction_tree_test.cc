#include "topology/jurisdiction_tree.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <map>
#include <random>
#include <string>

namespace lifeline::topology {
namespace {

// The shared reference data: $LIFELINE_SHARED_DATA, else the directory
// compiled in by tests/topology/CMakeLists.txt.
std::string shared_data_path(const std::string& file) {
  const char* dir = std::getenv("LIFELINE_SHARED_DATA");
  if (dir == nullptr || *dir == '\0') dir = LIFELINE_SHARED_DATA;
  return std::string(dir) + "/" + file;
}

DivisionCode code(std::string_view text) {
  Result<DivisionCode> parsed = DivisionCode::parse(text);
  EXPECT_TRUE(parsed.is_ok()) << text << ": " << parsed.status().to_string();
  return parsed.is_ok() ? *parsed : DivisionCode();
}

std::vector<DivisionCode> codes(std::initializer_list<std::string_view> texts) {
  std::vector<DivisionCode> result;
  for (std::string_view text : texts) result.push_back(code(text));
  return result;
}

constexpr std::string_view kHeader = "code12,name,level,parent_code12\n";

// A province with two cities: 惠州 with two counties down to villages, and 东莞
// whose township hangs directly under the city.
constexpr std::string_view kSmallCsv =
    "code12,name,level,parent_code12\n"
    "440000000000,广东省,province,\n"
    "441300000000,惠州市,city,440000000000\n"
    "441302000000,惠城区,county,441300000000\n"
    "441303000000,惠阳区,county,441300000000\n"
    "441302001000,桥东街道,township,441302000000\n"
    "441303001000,淡水街道,township,441303000000\n"
    "441303001001,A社区,village,441303001000\n"
    "441303001002,B社区,village,441303001000\n"
    "441900000000,东莞市,city,440000000000\n"
    "441900003000,东城街道,township,441900000000\n";

// Every code of kSmallCsv.
std::vector<DivisionCode> small_codes() {
  return codes({"440000000000", "441300000000", "441302000000", "441303000000", "441302001000", "441303001000",
                "441303001001", "441303001002", "441900000000", "441900003000"});
}

// Parses `text` expecting failure, and returns the error message.
std::string parse_error(std::string_view text) {
  Result<JurisdictionTree> tree = JurisdictionTree::parse_csv(text);
  EXPECT_FALSE(tree.is_ok()) << text;
  if (tree.is_ok()) return {};
  EXPECT_EQ(tree.status().code(), Status::Code::kInvalidArgument);
  return tree.status().message();
}

class JurisdictionTreeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Result<JurisdictionTree> parsed = JurisdictionTree::parse_csv(kSmallCsv);
    ASSERT_TRUE(parsed.is_ok()) << parsed.status().to_string();
    tree_ = std::move(parsed).value();
  }

  JurisdictionTree tree_;  // built from kSmallCsv
};

// --- Parsing -----------------------------------------------------------------

TEST_F(JurisdictionTreeTest, ParsesEveryRowWithNameLevelAndParent) {
  EXPECT_EQ(tree_.size(), 10u);
  Result<Division> township = tree_.find(code("441303001000"));
  ASSERT_TRUE(township.is_ok());
  EXPECT_EQ(township->name, "淡水街道");
  EXPECT_EQ(township->level, Level::township);
  EXPECT_EQ(township->parent, code("441303000000"));
  EXPECT_EQ(township->children, codes({"441303001001", "441303001002"}));
  const Division* root = tree_.get(code("440000000000"));
  ASSERT_NE(root, nullptr);
  EXPECT_FALSE(root->parent.valid());
  EXPECT_EQ(root->children, codes({"441300000000", "441900000000"}));
}

TEST(JurisdictionTreeCsvTest, AcceptsBomCrlfAndEmptyLines) {
  std::string text =
      "\xEF\xBB\xBF"
      "code12,name,level,parent_code12\r\n\r\n"
      "440000000000,广东省,province,\r\n"
      "   \r\n"
      "441300000000,惠州市,city,440000000000\r\n\r\n";
  Result<JurisdictionTree> tree = JurisdictionTree::parse_csv(text);
  ASSERT_TRUE(tree.is_ok()) << tree.status().to_string();
  EXPECT_EQ(tree->size(), 2u);
  EXPECT_EQ(tree->get(code("441300000000"))->name, "惠州市");
}

TEST(JurisdictionTreeCsvTest, AcceptsLastLineWithoutNewline) {
  Result<JurisdictionTree> tree = JurisdictionTree::parse_csv(std::string(kHeader) + "440000000000,广东省,province,");
  ASSERT_TRUE(tree.is_ok()) << tree.status().to_string();
  EXPECT_EQ(tree->size(), 1u);
}

TEST(JurisdictionTreeCsvTest, IgnoresExtraColumns) {
  std::string text =
      "code12,name,level,parent_code12,county_name,city_name\n"
      "440000000000,广东省,province,,,\n"
      "441900000000,东莞市,city,440000000000,,\n"
      "441900003000,东城街道,township,441900000000,,东莞市\n";
  Result<JurisdictionTree> tree = JurisdictionTree::parse_csv(text);
  ASSERT_TRUE(tree.is_ok()) << tree.status().to_string();
  EXPECT_EQ(tree->get(code("441900003000"))->name, "东城街道");
}

TEST(JurisdictionTreeCsvTest, ResolvesParentListedAfterChild) {
  std::string text = std::string(kHeader) +
                     "441303001000,淡水街道,township,441303000000\n"
                     "441303000000,惠阳区,county,441300000000\n"
                     "441300000000,惠州市,city,\n"
                     "441302000000,惠城区,county,441300000000\n";
  Result<JurisdictionTree> tree = JurisdictionTree::parse_csv(text);
  ASSERT_TRUE(tree.is_ok()) << tree.status().to_string();
  EXPECT_EQ(tree->get(code("441300000000"))->children, codes({"441303000000", "441302000000"}));
  EXPECT_EQ(tree->subtree(code("441300000000")),
            codes({"441300000000", "441303000000", "441303001000", "441302000000"}));
}

TEST(JurisdictionTreeCsvTest, RejectsMissingHeader) {
  EXPECT_NE(parse_error("").find("missing header"), std::string::npos);
  EXPECT_NE(parse_error("\xEF\xBB\xBF\r\n\n").find("missing header"), std::string::npos);
  EXPECT_NE(parse_error("440000000000,广东省,province,\n").find("line 1: expected header"), std::string::npos);
  EXPECT_NE(parse_error("code12,level,name,parent_code12\n").find("line 1"), std::string::npos);
  EXPECT_NE(parse_error("code12,name,level\n").find("line 1"), std::string::npos);
}

TEST(JurisdictionTreeCsvTest, RejectsBadCodeNamingTheLine) {
  std::string text =
      std::string(kHeader) + "440000000000,广东省,province,\n" + "\n" + "44130000000X,惠州市,city,440000000000\n";
  EXPECT_NE(parse_error(text).find("line 4:"), std::string::npos);
  EXPECT_NE(parse_error(std::string(kHeader) + "440000001000,x,township,440000000000\n").find("line 2:"),
            std::string::npos);
}

TEST(JurisdictionTreeCsvTest, RejectsBadParentCode) {
  std::string text =
      std::string(kHeader) + "440000000000,广东省,province,\n" + "441300000000,惠州市,city,44000000000\n";
  EXPECT_NE(parse_error(text).find("line 3: parent"), std::string::npos);
}

TEST(JurisdictionTreeCsvTest, RejectsLevelMismatch) {
  std::string text =
      std::string(kHeader) + "440000000000,广东省,province,\n" + "441300000000,惠州市,county,440000000000\n";
  std::string error = parse_error(text);
  EXPECT_NE(error.find("line 3: level county does not match"), std::string::npos) << error;
}

TEST(JurisdictionTreeCsvTest, RejectsUnknownLevelName) {
  std::string text = std::string(kHeader) + "440000000000,广东省,state,\n";
  EXPECT_NE(parse_error(text).find("line 2: unknown level"), std::string::npos);
}

TEST(JurisdictionTreeCsvTest, RejectsUnknownParent) {
  std::string text =
      std::string(kHeader) + "440000000000,广东省,province,\n" + "441303000000,惠阳区,county,441300000000\n";
  std::string error = parse_error(text);
  EXPECT_NE(error.find("line 3: unknown parent 441300000000"), std::string::npos) << error;
}

TEST(JurisdictionTreeCsvTest, RejectsDuplicateCode) {
  std::string text = std::string(kHeader) + "440000000000,广东省,province,\n" +
                     "441300000000,惠州市,city,440000000000\n" + "441300000000,惠州,city,440000000000\n";
  std::string error = parse_error(text);
  EXPECT_NE(error.find("line 4: duplicate code 441300000000, first on line 3"), std::string::npos) << error;
}

TEST(JurisdictionTreeCsvTest, RejectsTwoRoots) {
  std::string text = std::string(kHeader) + "440000000000,广东省,province,\n" + "450000000000,广西,province,\n";
  std::string error = parse_error(text);
  EXPECT_NE(error.find("line 3: second root"), std::string::npos) << error;
}

TEST(JurisdictionTreeCsvTest, RejectsFileWithoutRows) {
  EXPECT_NE(parse_error(kHeader).find("no root"), std::string::npos);
}

TEST(JurisdictionTreeCsvTest, RejectsParentNotContainingChild) {
  std::string text = std::string(kHeader) + "440000000000,广东省,province,\n" +
                     "441300000000,惠州市,city,440000000000\n" + "441900000000,东莞市,city,440000000000\n" +
                     "441900003000,东城街道,township,441300000000\n";
  std::string error = parse_error(text);
  EXPECT_NE(error.find("line 5: parent 441300000000 does not contain 441900003000"), std::string::npos) << error;
}

TEST(JurisdictionTreeCsvTest, RejectsChildAboveParent) {
  std::string text =
      std::string(kHeader) + "441300000000,惠州市,city,\n" + "440000000000,广东省,province,441300000000\n";
  EXPECT_NE(parse_error(text).find("line 3: parent"), std::string::npos);
}

TEST(JurisdictionTreeCsvTest, RejectsOwnParent) {
  std::string text = std::string(kHeader) + "440000000000,广东省,province,440000000000\n";
  EXPECT_NE(parse_error(text).find("line 2: division 440000000000 is its own parent"), std::string::npos);
}

TEST(JurisdictionTreeCsvTest, RejectsTooFewColumns) {
  std::string text = std::string(kHeader) + "440000000000,广东省,province\n";
  EXPECT_NE(parse_error(text).find("line 2: expected at least 4 columns"), std::string::npos);
}

TEST(JurisdictionTreeCsvTest, RejectsQuotedField) {
  std::string text = std::string(kHeader) + "440000000000,\"广东,省\",province,\n";
  EXPECT_NE(parse_error(text).find("line 2: quoted"), std::string::npos);
}

TEST(JurisdictionTreeCsvTest, LoadReportsMissingFileAsIoError) {
  Result<JurisdictionTree> tree = JurisdictionTree::load_csv_file(shared_data_path("no_such_file.csv"));
  ASSERT_FALSE(tree.is_ok());
  EXPECT_EQ(tree.status().code(), Status::Code::kIoError);
}

TEST(JurisdictionTreeCsvTest, DamagedFilesAreErrorsNotCrashes) {
  std::mt19937 random(20240601);  // fixed seed: the same damage every run
  std::string alphabet = std::string("0123456789,\r\n\"\xEF\xBB\xBF ") + '\0';
  for (int round = 0; round < 2000; ++round) {
    std::string text(kSmallCsv);
    for (int edit = 0; edit < 1 + round % 4; ++edit) {
      text[random() % text.size()] = alphabet[random() % alphabet.size()];
    }
    text.resize(random() % (text.size() + 1));
    Result<JurisdictionTree> tree = JurisdictionTree::parse_csv(text);
    if (!tree.is_ok()) {
      EXPECT_FALSE(tree.status().message().empty());
      continue;
    }
    // Whatever survived must still be one consistent tree.
    for (DivisionCode known : small_codes()) {
      if (!tree->has(known)) continue;
      Result<std::vector<DivisionCode>> path = tree->path_from_root(known);
      ASSERT_TRUE(path.is_ok());
      EXPECT_EQ(tree->subtree(path->front()).size(), tree->size()) << text;
    }
  }
}

// --- Building in code --------------------------------------------------------

TEST(JurisdictionTreeAddTest, AddsRootAndChildrenInOrder) {
  JurisdictionTree tree;
  ASSERT_TRUE(tree.add(code("441300000000"), "惠州市", DivisionCode()).is_ok());
  ASSERT_TRUE(tree.add(code("441303000000"), "惠阳区", code("441300000000")).is_ok());
  ASSERT_TRUE(tree.add(code("441302000000"), "惠城区", code("441300000000")).is_ok());
  EXPECT_EQ(tree.size(), 3u);
  EXPECT_EQ(tree.get(code("441300000000"))->children, codes({"441303000000", "441302000000"}));
  EXPECT_EQ(tree.get(code("441303000000"))->level, Level::county);
}

TEST(JurisdictionTreeAddTest, RejectsMissingParentDuplicateAndForeignParent) {
  JurisdictionTree tree;
  ASSERT_TRUE(tree.add(code("441300000000"), "惠州市", DivisionCode()).is_ok());
  EXPECT_EQ(tree.add(code("441303001000"), "淡水街道", code("441303000000")).code(), Status::Code::kNotFound);
  EXPECT_EQ(tree.add(code("441300000000"), "again", DivisionCode()).code(), Status::Code::kInvalidArgument);
  ASSERT_TRUE(tree.add(code("441900000000"), "东莞市", DivisionCode()).is_ok());
  EXPECT_EQ(tree.add(code("441900003000"), "东城街道", code("441300000000")).code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(tree.add(DivisionCode(), "none", DivisionCode()).code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(tree.size(), 2u);
  EXPECT_TRUE(tree.get(code("441300000000"))->children.empty());
}

// --- Queries -----------------------------------------------------------------

TEST_F(JurisdictionTreeTest, FindAndGetReportUnknownCodes) {
  EXPECT_EQ(tree_.find(code("450000000000")).status().code(), Status::Code::kNotFound);
  EXPECT_EQ(tree_.find(DivisionCode()).status().code(), Status::Code::kNotFound);
  EXPECT_EQ(tree_.get(code("441303001003")), nullptr);
  EXPECT_FALSE(tree_.has(DivisionCode()));
  EXPECT_TRUE(tree_.has(code("441900003000")));
}

TEST_F(JurisdictionTreeTest, SubtreeIsDepthFirstInFileOrder) {
  EXPECT_EQ(tree_.subtree(code("441300000000")), codes({"441300000000", "441302000000", "441302001000", "441303000000",
                                                        "441303001000", "441303001001", "441303001002"}));
  EXPECT_EQ(tree_.subtree(code("440000000000")).size(), tree_.size());
  EXPECT_EQ(tree_.subtree(code("441303001001")), codes({"441303001001"}));
}

TEST_F(JurisdictionTreeTest, SubtreeOfUnknownCodeIsEmpty) {
  EXPECT_TRUE(tree_.subtree(code("441322000000")).empty());
  EXPECT_TRUE(tree_.subtree(DivisionCode()).empty());
}

TEST_F(JurisdictionTreeTest, PathFromRootEndsAtCode) {
  Result<std::vector<DivisionCode>> path = tree_.path_from_root(code("441303001002"));
  ASSERT_TRUE(path.is_ok());
  EXPECT_EQ(*path, codes({"440000000000", "441300000000", "441303000000", "441303001000", "441303001002"}));
  EXPECT_EQ(*tree_.path_from_root(code("441900003000")), codes({"440000000000", "441900000000", "441900003000"}));
  EXPECT_EQ(*tree_.path_from_root(code("440000000000")), codes({"440000000000"}));
}

TEST_F(JurisdictionTreeTest, PathFromRootOfUnknownCodeIsNotFound) {
  EXPECT_EQ(tree_.path_from_root(code("441303001003")).status().code(), Status::Code::kNotFound);
  EXPECT_EQ(tree_.path_from_root(DivisionCode()).status().code(), Status::Code::kNotFound);
}

TEST_F(JurisdictionTreeTest, NextHopDownGoesToChildHoldingTarget) {
  EXPECT_EQ(*tree_.next_hop(code("440000000000"), code("441303001002")), code("441300000000"));
  EXPECT_EQ(*tree_.next_hop(code("441300000000"), code("441303001002")), code("441303000000"));
  EXPECT_EQ(*tree_.next_hop(code("441303001000"), code("441303001002")), code("441303001002"));
  EXPECT_EQ(*tree_.next_hop(code("440000000000"), code("441900003000")), code("441900000000"));
  EXPECT_EQ(*tree_.next_hop(code("441900000000"), code("441900003000")), code("441900003000"));
}

TEST_F(JurisdictionTreeTest, NextHopUpGoesToParent) {
  EXPECT_EQ(*tree_.next_hop(code("441303001002"), code("440000000000")), code("441303001000"));
  EXPECT_EQ(*tree_.next_hop(code("441900003000"), code("440000000000")), code("441900000000"));
  EXPECT_EQ(*tree_.next_hop(code("441300000000"), code("440000000000")), code("440000000000"));
}

TEST_F(JurisdictionTreeTest, NextHopToSelfIsSelf) {
  EXPECT_EQ(*tree_.next_hop(code("441303001001"), code("441303001001")), code("441303001001"));
  EXPECT_EQ(*tree_.next_hop(code("440000000000"), code("440000000000")), code("440000000000"));
}

TEST_F(JurisdictionTreeTest, NextHopAcrossGoesUpUntilCommonAncestor) {
  EXPECT_EQ(*tree_.next_hop(code("441303001001"), code("441303001002")), code("441303001000"));
  EXPECT_EQ(*tree_.next_hop(code("441302001000"), code("441303001001")), code("441302000000"));
  EXPECT_EQ(*tree_.next_hop(code("441302000000"), code("441303001001")), code("441300000000"));
  EXPECT_EQ(*tree_.next_hop(code("441303001001"), code("441900003000")), code("441303001000"));
}

TEST_F(JurisdictionTreeTest, NextHopWithUnknownCodeIsNotFound) {
  EXPECT_EQ(tree_.next_hop(code("441303001003"), code("441303001001")).status().code(), Status::Code::kNotFound);
  EXPECT_EQ(tree_.next_hop(code("441303001001"), code("441303001003")).status().code(), Status::Code::kNotFound);
  EXPECT_EQ(tree_.next_hop(DivisionCode(), DivisionCode()).status().code(), Status::Code::kNotFound);
}

TEST_F(JurisdictionTreeTest, RepeatedNextHopReachesTargetAlongTreePath) {
  DivisionCode target = code("441900003000");
  DivisionCode at = code("441303001002");
  std::vector<DivisionCode> hops;
  while (at != target && hops.size() < 10) {
    Result<DivisionCode> hop = tree_.next_hop(at, target);
    ASSERT_TRUE(hop.is_ok()) << hop.status().to_string();
    at = *hop;
    hops.push_back(at);
  }
  EXPECT_EQ(hops,
            codes({"441303001000", "441303000000", "441300000000", "440000000000", "441900000000", "441900003000"}));
}

TEST_F(JurisdictionTreeTest, LowestCommonAncestor) {
  EXPECT_EQ(*tree_.lowest_common_ancestor(code("441303001001"), code("441303001002")), code("441303001000"));
  EXPECT_EQ(*tree_.lowest_common_ancestor(code("441302001000"), code("441303001001")), code("441300000000"));
  EXPECT_EQ(*tree_.lowest_common_ancestor(code("441303001001"), code("441900003000")), code("440000000000"));
  EXPECT_EQ(*tree_.lowest_common_ancestor(code("441303000000"), code("441303001002")), code("441303000000"));
  EXPECT_EQ(*tree_.lowest_common_ancestor(code("441303001002"), code("441303000000")), code("441303000000"));
  EXPECT_EQ(*tree_.lowest_common_ancestor(code("441900003000"), code("441900003000")), code("441900003000"));
}

TEST_F(JurisdictionTreeTest, LowestCommonAncestorOfUnknownCodeIsNotFound) {
  EXPECT_EQ(tree_.lowest_common_ancestor(code("441303001003"), code("441303001001")).status().code(),
            Status::Code::kNotFound);
  EXPECT_EQ(tree_.lowest_common_ancestor(code("441303001001"), DivisionCode()).status().code(),
            Status::Code::kNotFound);
}

TEST(JurisdictionTreeRoutingTest, CodesInDifferentTreesHaveNoRoute) {
  JurisdictionTree tree;
  ASSERT_TRUE(tree.add(code("441300000000"), "惠州市", DivisionCode()).is_ok());
  ASSERT_TRUE(tree.add(code("441900000000"), "东莞市", DivisionCode()).is_ok());
  ASSERT_TRUE(tree.add(code("441900003000"), "东城街道", code("441900000000")).is_ok());
  EXPECT_FALSE(tree.next_hop(code("441300000000"), code("441900003000")).is_ok());
  EXPECT_FALSE(tree.next_hop(code("441900003000"), code("441300000000")).is_ok());
  EXPECT_FALSE(tree.lowest_common_ancestor(code("441300000000"), code("441900003000")).is_ok());
}

TEST(JurisdictionTreeRoutingTest, RoutesByTreeNotByCodePrefix) {
  // The township's parent is the province (allowed: the province contains
  // it), so the city holding its code prefix is not on its path.
  std::string text = std::string(kHeader) + "440000000000,广东省,province,\n" +
                     "441300000000,惠州市,city,440000000000\n" + "441303001000,淡水街道,township,440000000000\n";
  Result<JurisdictionTree> tree = JurisdictionTree::parse_csv(text);
  ASSERT_TRUE(tree.is_ok()) << tree.status().to_string();
  EXPECT_EQ(*tree->next_hop(code("441300000000"), code("441303001000")), code("440000000000"));
  EXPECT_EQ(*tree->lowest_common_ancestor(code("441300000000"), code("441303001000")), code("440000000000"));
}

// --- The shared reference data -----------------------------------------------

std::map<Level, int> count_levels(const JurisdictionTree& tree, DivisionCode root) {
  std::map<Level, int> counts;
  for (DivisionCode division : tree.subtree(root)) ++counts[tree.get(division)->level];
  return counts;
}

TEST(JurisdictionTreeDataTest, LoadsHuizhouDivisions) {
  Result<JurisdictionTree> tree = JurisdictionTree::load_csv_file(shared_data_path("huizhou_divisions.csv"));
  ASSERT_TRUE(tree.is_ok()) << tree.status().to_string();
  EXPECT_EQ(tree->size(), 133u);
  DivisionCode province = code("440000000000");
  EXPECT_EQ(tree->subtree(province).size(), tree->size()) << "one root holds every division";
  std::map<Level, int> expected = {
      {Level::province, 1}, {Level::city, 1}, {Level::county, 5}, {Level::township, 84}, {Level::village, 42}};
  EXPECT_EQ(count_levels(*tree, province), expected);
  EXPECT_EQ(tree->get(code("441303001000"))->children.size(), 28u);  // 淡水街道
  EXPECT_EQ(tree->get(code("441303108000"))->children.size(), 14u);  // 永湖镇
  EXPECT_EQ(tree->get(code("441303108000"))->name, "永湖镇");
}

TEST(JurisdictionTreeDataTest, RoutesBetweenHuizhouVillages) {
  Result<JurisdictionTree> tree = JurisdictionTree::load_csv_file(shared_data_path("huizhou_divisions.csv"));
  ASSERT_TRUE(tree.is_ok()) << tree.status().to_string();
  DivisionCode danshui_village = code("441303001001");
  DivisionCode yonghu_village = code("441303108001");
  EXPECT_EQ(*tree->lowest_common_ancestor(danshui_village, yonghu_village), code("441303000000"));
  EXPECT_EQ(*tree->next_hop(danshui_village, yonghu_village), code("441303001000"));
  EXPECT_EQ(*tree->next_hop(code("441303000000"), yonghu_village), code("441303108000"));
}

TEST(JurisdictionTreeDataTest, LoadsGuangdongTownships) {
  Result<JurisdictionTree> tree = JurisdictionTree::load_csv_file(shared_data_path("guangdong_townships.csv"));
  ASSERT_TRUE(tree.is_ok()) << tree.status().to_string();
  EXPECT_EQ(tree->size(), 1901u);
  std::map<Level, int> expected = {
      {Level::province, 1}, {Level::city, 21}, {Level::county, 122}, {Level::township, 1757}};
  EXPECT_EQ(count_levels(*tree, code("440000000000")), expected);
}

TEST(JurisdictionTreeDataTest, DongguanAndZhongshanTownshipsHangUnderTheCity) {
  Result<JurisdictionTree> tree = JurisdictionTree::load_csv_file(shared_data_path("guangdong_townships.csv"));
  ASSERT_TRUE(tree.is_ok()) << tree.status().to_string();
  for (std::string_view city : {"441900000000", "442000000000"}) {
    const Division* division = tree->get(code(city));
    ASSERT_NE(division, nullptr) << city;
    EXPECT_FALSE(division->children.empty()) << city;
    for (DivisionCode child : division->children) {
      EXPECT_EQ(tree->get(child)->level, Level::township) << child.to_string();
      EXPECT_EQ(child.parent(), code(city)) << child.to_string();
    }
  }
  DivisionCode dongcheng = code("441900003000");
  EXPECT_EQ(*tree->next_hop(dongcheng, code("441303001000")), code("441900000000"));
  EXPECT_EQ(*tree->next_hop(code("440000000000"), dongcheng), code("441900000000"));
  EXPECT_EQ(*tree->path_from_root(dongcheng), codes({"440000000000", "441900000000", "441900003000"}));
}

}  // namespace
}  // namespace lifeline::topology
