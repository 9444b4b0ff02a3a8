// Department event import (node/core/department_import.h): both formats,
// every rejection code, the file-level failures and the example files.
#include "node/core/department_import.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <sys/mman.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

#include "node/core/id_number.h"
#include "node/core/policy.h"
#include "topology/utf8.h"

namespace lifeline::node {
namespace {

constexpr Date kToday = 20260601;
constexpr std::string_view kHeader = "source_department,source_record_id,id_number,indicator,event_date\n";
constexpr std::string_view kId1 = "44130319850312123X";  // GB 11643 check character X
constexpr std::string_view kId2 = "441302200107040044";

// The GB 11643 check character, computed here independently of id_number.cc.
std::string with_check_char(const std::string& first17) {
  static constexpr int kWeights[17] = {7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2};
  int sum = 0;
  for (int i = 0; i < 17; ++i) sum += (first17[i] - '0') * kWeights[i];
  return first17 + "10X98765432"[sum % 11];
}

Result<ParsedImport> parse(std::string_view text, ImportFormat format = ImportFormat::kCsv) {
  return parse_events(text, format, default_policy(), kToday);
}

ParsedImport parse_ok(std::string_view text, ImportFormat format = ImportFormat::kCsv) {
  auto result = parse(text, format);
  EXPECT_TRUE(result.is_ok()) << result.status().to_string();
  return result.is_ok() ? std::move(result).value() : ParsedImport{};
}

std::string csv(std::string_view data_lines) { return std::string(kHeader) + std::string(data_lines); }

// The one rejection of a file with one bad data line.
RejectedLine only_rejection(std::string_view text, ImportFormat format = ImportFormat::kCsv) {
  const ParsedImport parsed = parse_ok(text, format);
  EXPECT_TRUE(parsed.events.empty());
  EXPECT_EQ(parsed.rejected.size(), 1u);
  if (parsed.rejected.size() != 1) return {};
  EXPECT_FALSE(parsed.rejected[0].reason.empty());
  EXPECT_FALSE(parsed.rejected[0].reason_en.empty());
  return parsed.rejected[0];
}

std::string csv_code(std::string_view data_line) { return only_rejection(csv(data_line)).reason_code; }
std::string jsonl_code(std::string_view line) { return only_rejection(line, ImportFormat::kJsonLines).reason_code; }

std::string read_source_file(const std::string& relative) {
  std::ifstream in(std::string(LIFELINE_SOURCE_DIR) + "/" + relative, std::ios::binary);
  EXPECT_TRUE(in.good()) << relative;
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

// ---- CSV ----

TEST(DepartmentImportCsvTest, ParsesValidLinesIntoEvents) {
  const ParsedImport parsed =
      parse_ok(csv("medical_insurance,MI-1,44130319850312123x,serious_illness,2026-03-01\n"
                   "education,EDU-7,441302200107040044,college_admission,2025-09-01\n"));
  EXPECT_EQ(parsed.lines_read, 2u);
  ASSERT_EQ(parsed.events.size(), 2u);
  EXPECT_TRUE(parsed.rejected.empty());
  EXPECT_EQ(parsed.events[0].line, 2u);
  protocol::DeptEvent want{"medical_insurance", "MI-1", std::string(kId1), "serious_illness", 20260301, 0, 0};
  EXPECT_EQ(parsed.events[0].event, want);  // lower-case x upper-cased; imported_at and hlc 0
  EXPECT_EQ(parsed.events[1].line, 3u);
  EXPECT_EQ(parsed.events[1].event.indicator, "college_admission");
  EXPECT_EQ(parsed.events[1].event.event_date, 20250901u);
}

TEST(DepartmentImportCsvTest, AcceptsColumnsInAnyOrder) {
  const ParsedImport parsed = parse_ok(
      "event_date,indicator,id_number,source_record_id,source_department\n"
      "2026-01-15,unemployment,441302200107040044,HR-3,human_resources\n");
  ASSERT_EQ(parsed.events.size(), 1u);
  protocol::DeptEvent want{"human_resources", "HR-3", std::string(kId2), "unemployment", 20260115, 0, 0};
  EXPECT_EQ(parsed.events[0].event, want);
}

TEST(DepartmentImportCsvTest, UnquotesRfc4180Fields) {
  const ParsedImport parsed =
      parse_ok(csv("\"medical_insurance\",\"MI \"\"A\"\", 1\",\"44130319850312123X\",serious_illness,\"2026-03-01\"\n"
                   "medical_insurance,\"\"\"\",441302200107040044,serious_illness,2026-03-02\n"
                   "medical_insurance, \"MI-3\" ,441302200107040044,serious_illness,2026-03-03\n"));
  ASSERT_EQ(parsed.events.size(), 3u) << (parsed.rejected.empty() ? "" : parsed.rejected[0].reason_en);
  EXPECT_EQ(parsed.events[0].event.record_id, "MI \"A\", 1");
  EXPECT_EQ(parsed.events[0].event.event_date, 20260301u);
  EXPECT_EQ(parsed.events[1].event.record_id, "\"");
  EXPECT_EQ(parsed.events[2].event.record_id, "MI-3");
}

TEST(DepartmentImportCsvTest, QuotedHeaderNames) {
  const ParsedImport parsed = parse_ok(
      "\"source_department\",\"source_record_id\",\"id_number\",\"indicator\",\"event_date\"\n"
      "health,H-1,441302200107040044,birth,2026-02-02\n");
  EXPECT_EQ(parsed.events.size(), 1u);
}

TEST(DepartmentImportCsvTest, SkipsUtf8ByteOrderMark) {
  const ParsedImport parsed = parse_ok("\xEF\xBB\xBF" + csv("health,H-1,441302200107040044,birth,2026-02-02\n"));
  ASSERT_EQ(parsed.events.size(), 1u);
  EXPECT_EQ(parsed.events[0].line, 2u);
}

TEST(DepartmentImportCsvTest, AcceptsCrlfLineEnds) {
  const ParsedImport parsed = parse_ok(
      "source_department,source_record_id,id_number,indicator,event_date\r\n"
      "health,H-1,441302200107040044,birth,2026-02-02\r\n"
      "health,H-2,44130319850312123X,birth,2026-02-03\r\n");
  ASSERT_EQ(parsed.events.size(), 2u);
  EXPECT_TRUE(parsed.rejected.empty());
  EXPECT_EQ(parsed.events[1].event.event_date, 20260203u);  // no stray \r in the last field
}

TEST(DepartmentImportCsvTest, SkipsBlankLinesButKeepsPhysicalLineNumbers) {
  const ParsedImport parsed = parse_ok(
      "\n"
      "source_department,source_record_id,id_number,indicator,event_date\n"
      "\n"
      "health,H-1,441302200107040044,birth,2026-02-02\n"
      "   \r\n"
      "health,H-2,not-an-id,birth,2026-02-03\n"
      "\n"
      "health,H-3,44130319850312123X,birth,2026-02-04");  // no final line end
  EXPECT_EQ(parsed.lines_read, 3u);
  ASSERT_EQ(parsed.events.size(), 2u);
  EXPECT_EQ(parsed.events[0].line, 4u);
  EXPECT_EQ(parsed.events[1].line, 8u);
  ASSERT_EQ(parsed.rejected.size(), 1u);
  EXPECT_EQ(parsed.rejected[0].line, 6u);
}

TEST(DepartmentImportCsvTest, KeepsDuplicatesForTheCallerToCount) {
  const ParsedImport parsed =
      parse_ok(csv("health,H-1,441302200107040044,birth,2026-02-02\n"
                   "health,H-1,441302200107040044,birth,2026-02-02\n"));
  ASSERT_EQ(parsed.events.size(), 2u);
  EXPECT_EQ(parsed.events[0].event, parsed.events[1].event);
}

TEST(DepartmentImportCsvTest, TrimsSpacesAroundFields) {
  const ParsedImport parsed = parse_ok(
      " source_department , source_record_id,id_number,indicator,event_date\n"
      " health ,\tH-1 , 441302200107040044,birth ,2026-02-02 \n");
  ASSERT_EQ(parsed.events.size(), 1u);
  protocol::DeptEvent want{"health", "H-1", std::string(kId2), "birth", 20260202, 0, 0};
  EXPECT_EQ(parsed.events[0].event, want);
}

TEST(DepartmentImportCsvTest, HeaderOnlyFileHasNoLines) {
  const ParsedImport parsed = parse_ok(kHeader);
  EXPECT_EQ(parsed.lines_read, 0u);
  EXPECT_TRUE(parsed.events.empty());
  EXPECT_TRUE(parsed.rejected.empty());
}

// ---- CSV file-level failures ----

TEST(DepartmentImportCsvTest, UnknownColumnFailsTheWholeImport) {
  auto result = parse(
      "source_department,source_record_id,id_number,indicator,event_date,remark\n"
      "health,H-1,441302200107040044,birth,2026-02-02,x\n");
  ASSERT_FALSE(result.is_ok());
  EXPECT_NE(result.status().message().find("unknown column 6 \"remark\""), std::string::npos)
      << result.status().message();
}

TEST(DepartmentImportCsvTest, MissingColumnFailsTheWholeImport) {
  auto result = parse(
      "source_department,source_record_id,id_number,event_date\n"
      "health,H-1,441302200107040044,2026-02-02\n");
  ASSERT_FALSE(result.is_ok());
  EXPECT_NE(result.status().message().find("missing required column indicator"), std::string::npos)
      << result.status().message();
}

TEST(DepartmentImportCsvTest, DuplicateColumnFailsTheWholeImport) {
  auto result = parse("source_department,source_record_id,id_number,indicator,event_date,indicator\n");
  ASSERT_FALSE(result.is_ok());
  EXPECT_NE(result.status().message().find("duplicate column 6 \"indicator\""), std::string::npos)
      << result.status().message();
}

TEST(DepartmentImportCsvTest, EmptyFileFailsForWantOfAHeader) {
  for (std::string_view text : {"", "\xEF\xBB\xBF", "\n\r\n  \n"}) {
    auto result = parse(text);
    ASSERT_FALSE(result.is_ok()) << "text of " << text.size() << " bytes";
    EXPECT_NE(result.status().message().find("no header"), std::string::npos);
  }
}

TEST(DepartmentImportCsvTest, HeaderNotUtf8FailsTheWholeImport) {
  auto result = parse("source_department,source_record_id,id_number,indicator,event_date\xC3\n");
  ASSERT_FALSE(result.is_ok());
  EXPECT_NE(result.status().message().find("UTF-8"), std::string::npos);
}

TEST(DepartmentImportCsvTest, FileOverTheSizeLimitFailsTheWholeImport) {
  // Untouched anonymous pages cost no memory: the parser refuses on size
  // before reading a byte.
  const size_t size = kImportMaxBytes + 1;
  void* pages = mmap(nullptr, size, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(pages, MAP_FAILED);
  for (ImportFormat format : {ImportFormat::kCsv, ImportFormat::kJsonLines}) {
    auto result = parse(std::string_view(static_cast<const char*>(pages), size), format);
    ASSERT_FALSE(result.is_ok());
    EXPECT_NE(result.status().message().find("limit"), std::string::npos);
  }
  munmap(pages, size);
}

// ---- CSV rejections: one test per code ----

TEST(DepartmentImportCsvTest, RejectsWrongFieldCount) {
  EXPECT_EQ(csv_code("health,H-1,441302200107040044,birth\n"), "wrong_field_count");
  EXPECT_EQ(csv_code("health,H-1,441302200107040044,birth,2026-02-02,\n"), "wrong_field_count");
  const RejectedLine too_many = only_rejection(csv("health,H-1,441302200107040044,birth,2026-02-02,x,y\n"));
  EXPECT_EQ(too_many.reason_en, "7 fields, expected 5");
  EXPECT_EQ(too_many.reason, "有 7 个字段，应为 5 个");
}

TEST(DepartmentImportCsvTest, RejectsMalformedQuotingAsWrongFieldCount) {
  EXPECT_EQ(csv_code("health,\"H-1,441302200107040044,birth,2026-02-02\n"), "wrong_field_count");  // unterminated
  EXPECT_EQ(csv_code("health,\"H-1\"x,441302200107040044,birth,2026-02-02\n"), "wrong_field_count");
  EXPECT_EQ(csv_code("health,H\"1,441302200107040044,birth,2026-02-02\n"), "wrong_field_count");
}

TEST(DepartmentImportCsvTest, RejectsNonUtf8Line) {
  EXPECT_EQ(csv_code("health,H-\xFF,441302200107040044,birth,2026-02-02\n"), "not_utf8");
  EXPECT_EQ(csv_code("health,H-\xC0\xAF,441302200107040044,birth,2026-02-02\n"), "not_utf8");      // overlong
  EXPECT_EQ(csv_code("health,H-\xED\xA0\x80,441302200107040044,birth,2026-02-02\n"), "not_utf8");  // surrogate
  EXPECT_EQ(csv_code("health,H-1,441302200107040044,birth,2026-02-02\xE4\xB8\n"), "not_utf8");     // truncated
  EXPECT_EQ(parse_ok(csv("health,H-\xF0\x9F\x98\x80,441302200107040044,birth,2026-02-02\n")).events.size(), 1u);
  // Real multi-byte text passes the UTF-8 check (and then fails the department check).
  EXPECT_EQ(csv_code("卫健,H-1,441302200107040044,birth,2026-02-02\n"), "unknown_department");
  // A record id in GBK (医保, as a spreadsheet saves "CSV" in a Chinese
  // locale): the reason says how to save the file instead.
  const RejectedLine gbk = only_rejection(csv("health,\xD2\xBD\xB1\xA3-1,441302200107040044,birth,2026-02-02\n"));
  EXPECT_EQ(gbk.reason_code, "not_utf8");
  EXPECT_NE(gbk.reason.find("CSV UTF-8"), std::string::npos) << gbk.reason;
  EXPECT_NE(gbk.reason_en.find("CSV UTF-8"), std::string::npos) << gbk.reason_en;
}

TEST(DepartmentImportCsvTest, RejectsLineTooLong) {
  const std::string line = "health,H-1,441302200107040044,birth,2026-02-02" + std::string(kImportMaxLineBytes, ' ');
  const RejectedLine rejected = only_rejection(csv(line + "\n"));
  EXPECT_EQ(rejected.reason_code, "line_too_long");
  EXPECT_NE(rejected.reason_en.find("4096"), std::string::npos);
  // Exactly at the limit is allowed (the trailing spaces are trimmed).
  const std::string at_limit = line.substr(0, kImportMaxLineBytes);
  EXPECT_EQ(parse_ok(csv(at_limit + "\n")).events.size(), 1u);
}

TEST(DepartmentImportCsvTest, RejectsFieldTooLong) {
  const std::string record_id(kImportMaxFieldBytes + 1, 'r');
  const RejectedLine rejected = only_rejection(csv("health," + record_id + ",441302200107040044,birth,2026-02-02\n"));
  EXPECT_EQ(rejected.reason_code, "field_too_long");
  EXPECT_EQ(rejected.reason_en, "field source_record_id is 129 bytes, over the 128-byte limit");
  const std::string at_limit(kImportMaxFieldBytes, 'r');
  EXPECT_EQ(parse_ok(csv("health," + at_limit + ",441302200107040044,birth,2026-02-02\n")).events.size(), 1u);
}

TEST(DepartmentImportCsvTest, RejectsMissingField) {
  const RejectedLine rejected = only_rejection(csv("health,,441302200107040044,birth,2026-02-02\n"));
  EXPECT_EQ(rejected.reason_code, "missing_field");
  EXPECT_EQ(rejected.reason_en, "field source_record_id is missing or empty");
  EXPECT_EQ(rejected.reason, "字段 source_record_id 缺失或为空");
  EXPECT_EQ(csv_code("health,H-1,\"\",birth,2026-02-02\n"), "missing_field");
  EXPECT_EQ(csv_code("health,H-1,441302200107040044,birth,  \n"), "missing_field");
}

TEST(DepartmentImportCsvTest, RejectsUnknownDepartment) {
  const RejectedLine rejected = only_rejection(csv("tax_bureau,T-1,441302200107040044,birth,2026-02-02\n"));
  EXPECT_EQ(rejected.reason_code, "unknown_department");
  EXPECT_NE(rejected.reason_en.find("\"tax_bureau\""), std::string::npos);
}

TEST(DepartmentImportCsvTest, RejectsUnknownIndicator) {
  const RejectedLine rejected = only_rejection(csv("health,H-1,441302200107040044,lottery_win,2026-02-02\n"));
  EXPECT_EQ(rejected.reason_code, "unknown_indicator");
  EXPECT_NE(rejected.reason_en.find("\"lottery_win\""), std::string::npos);
}

TEST(DepartmentImportCsvTest, RejectsDepartmentNotASourceOfTheIndicator) {
  const RejectedLine rejected = only_rejection(csv("health,H-1,441302200107040044,serious_illness,2026-02-02\n"));
  EXPECT_EQ(rejected.reason_code, "department_not_source");
  EXPECT_NE(rejected.reason_en.find("medical_insurance"), std::string::npos) << rejected.reason_en;
}

TEST(DepartmentImportCsvTest, RejectsBadIdNumberSayingWhichRuleFailed) {
  const RejectedLine bad_check = only_rejection(csv("health,H-1,441302200107040045,birth,2026-02-02\n"));
  EXPECT_EQ(bad_check.reason_code, "bad_id_number");
  EXPECT_NE(bad_check.reason_en.find("check"), std::string::npos) << bad_check.reason_en;
  EXPECT_EQ(csv_code("health,H-1,4413022001070400,birth,2026-02-02\n"), "bad_id_number");    // length
  EXPECT_EQ(csv_code("health,H-1,44130220010704004A,birth,2026-02-02\n"), "bad_id_number");  // character
  // Born 2025-02-30: not a real date, even with a correct check character.
  EXPECT_EQ(csv_code("health,H-1," + with_check_char("44130220250230004") + ",birth,2026-02-02\n"), "bad_id_number");
  // Born after today.
  EXPECT_EQ(csv_code("health,H-1," + with_check_char("44130220260701004") + ",birth,2026-02-02\n"), "bad_id_number");
  EXPECT_EQ(bad_check.reason.rfind("身份证号码无效：", 0), 0u) << bad_check.reason;
  // The reason is Chinese throughout; the English one names the same rule.
  const RejectedLine sci = only_rejection(csv("health,H-1,4.41303E+17,birth,2026-02-02\n"));
  EXPECT_EQ(sci.reason_code, "bad_id_number");
  EXPECT_EQ(sci.reason, "身份证号码无效：'4.41**********E+17' 被电子表格转成了科学计数法，末几位已丢失；请把该列设为文本格式后重新导出");
  EXPECT_EQ(bad_check.reason, "身份证号码无效：'4413**********0045' 校验码 5 不正确，应为 4");
  EXPECT_NE(sci.reason_en.find("scientific notation"), std::string::npos) << sci.reason_en;
}

// An ID field holding text (不详) or full-width digits is masked whole in
// the reason: masked by bytes, its ends cut characters in half, and the
// report was no longer UTF-8 (a running node stopped on dumping it).
TEST(DepartmentImportCsvTest, MasksAnIdFieldOfTextWithoutCuttingACharacter) {
  for (const std::string field : {"不详不详", "４４１３０２２００１０７０４００４４", "4413不详0044"}) {
    SCOPED_TRACE(field);
    const RejectedLine r = only_rejection(csv("health,H-1," + field + ",birth,2026-02-02\n"));
    EXPECT_EQ(r.reason_code, "bad_id_number");
    EXPECT_TRUE(topology::valid_utf8(r.reason)) << r.reason;
    EXPECT_TRUE(topology::valid_utf8(r.reason_en)) << r.reason_en;
    EXPECT_EQ(r.reason.find(field), std::string::npos) << r.reason;
    const nlohmann::json reply{{"reason", r.reason}, {"en", r.reason_en}};
    EXPECT_NO_THROW((void)reply.dump());  // a node's control reply
  }
  // Columns out of order: the ID number lands in the department's column and
  // is quoted masked in the reason.
  const RejectedLine shifted = only_rejection(csv(std::string(kId1) + ",YB-1,medical_insurance,serious_illness,2026-02-02\n"));
  EXPECT_EQ(shifted.reason.find(kId1), std::string::npos) << shifted.reason;
  EXPECT_EQ(shifted.reason_en.find(kId1), std::string::npos) << shifted.reason_en;
  EXPECT_NE(shifted.reason_en.find("4413**********123X"), std::string::npos) << shifted.reason_en;
  EXPECT_EQ(mask_id_number("不详不详"), "****");
  EXPECT_EQ(mask_id_number("441302200107040044"), "4413**********0044");
}

// A file with more than kImportMaxRejectedLines bad lines is refused whole,
// keeping no more than that many reasons while it is read; at the limit the
// report lists every one.
TEST(DepartmentImportCsvTest, RefusesAFileWithTooManyRejectedLines) {
  std::string at_limit = csv("health,H-0," + std::string(kId2) + ",birth,2026-02-02\n");
  for (size_t i = 0; i < kImportMaxRejectedLines; ++i) at_limit += "x\n";
  const ParsedImport ok = parse_ok(at_limit);
  EXPECT_EQ(ok.events.size(), 1u);
  EXPECT_EQ(ok.rejected.size(), kImportMaxRejectedLines);
  auto over = parse(at_limit + "x\n");
  ASSERT_FALSE(over.is_ok());
  EXPECT_EQ(over.status().code(), Status::Code::kInvalidArgument);
  EXPECT_NE(over.status().message().find("10001 rejected lines"), std::string::npos) << over.status().message();
  EXPECT_NE(over.status().message_zh().find("未导入任何数据"), std::string::npos) << over.status().message_zh();
  std::string jsonl;
  for (size_t i = 0; i <= kImportMaxRejectedLines; ++i) jsonl += "[]\n";
  EXPECT_FALSE(parse(jsonl, ImportFormat::kJsonLines).is_ok());
}

// Spreadsheets in a Chinese locale write dates as YYYY/M/D: departments'
// exports are read as they come, and every form gives the same date.
TEST(DepartmentImportCsvTest, ReadsTheDateFormsDepartmentsWrite) {
  for (const char* text : {"2026-02-03", "20260203", "2026/2/3", "2026/02/03", "2026-2-3", "2026/2/03", "2026/02/3"}) {
    SCOPED_TRACE(text);
    ParsedImport p = parse_ok(csv(std::string("health,H-1,441302200107040044,birth,") + text + "\n"));
    ASSERT_EQ(p.events.size(), 1u);
    EXPECT_EQ(p.events[0].event.event_date, 20260203u);
  }
  EXPECT_EQ(parse_ok(csv("health,H-1,441302200107040044,birth,2024/2/29\n")).events.size(), 1u);  // a leap day
}

TEST(DepartmentImportCsvTest, RejectsBadDate) {
  EXPECT_EQ(csv_code("health,H-1,441302200107040044,birth,2025-02-29\n"), "bad_date");  // not a leap year
  EXPECT_EQ(csv_code("health,H-1,441302200107040044,birth,2025/2/29\n"), "bad_date");
  EXPECT_EQ(csv_code("health,H-1,441302200107040044,birth,yesterday\n"), "bad_date");
  // Day or month first, a two-digit year, mixed or missing separators,
  // three-digit parts, a time, signs and spaces inside: refused, not guessed.
  for (const char* text : {"03/02/2026", "3/2/2026", "26/2/3", "2026/2-3", "2026-2/3", "2026//3", "2026/2/",
                           "2026/02/003", "2026/002/03", "2026/2/3 0:00", "2026/+2/3", "2026/ 2/3", "2026.2.3",
                           "2026/0/3", "2026/2/0", "2026/13/1", "202602031", "2026-0203"}) {
    SCOPED_TRACE(text);
    EXPECT_EQ(csv_code(std::string("health,H-1,441302200107040044,birth,") + text + "\n"), "bad_date");
  }
  const RejectedLine rejected = only_rejection(csv("health,H-1,441302200107040044,birth,2026-13-01\n"));
  EXPECT_NE(rejected.reason_en.find("\"2026-13-01\""), std::string::npos);
}

TEST(DepartmentImportCsvTest, RejectsFutureDateButAcceptsToday) {
  const RejectedLine rejected = only_rejection(csv("health,H-1,441302200107040044,birth,2026-06-02\n"));
  EXPECT_EQ(rejected.reason_code, "future_date");
  EXPECT_EQ(rejected.reason_en, "event_date 2026-06-02 is after today, 2026-06-01");
  EXPECT_EQ(parse_ok(csv("health,H-1,441302200107040044,birth,2026-06-01\n")).events.size(), 1u);
}

TEST(DepartmentImportCsvTest, KeepsGoodLinesAroundRejectedOnes) {
  const ParsedImport parsed =
      parse_ok(csv("health,H-1,441302200107040044,birth,2026-02-02\n"
                   "health,H-2,441302200107040044,birth,2030-01-01\n"
                   "health,H-3,441302200107040044,birth,2026-02-03\n"
                   "health,H-4\n"));
  EXPECT_EQ(parsed.lines_read, 4u);
  ASSERT_EQ(parsed.events.size(), 2u);
  EXPECT_EQ(parsed.events[0].line, 2u);
  EXPECT_EQ(parsed.events[1].line, 4u);
  ASSERT_EQ(parsed.rejected.size(), 2u);
  EXPECT_EQ(parsed.rejected[0].line, 3u);
  EXPECT_EQ(parsed.rejected[0].reason_code, "future_date");
  EXPECT_EQ(parsed.rejected[1].line, 5u);
  EXPECT_EQ(parsed.rejected[1].reason_code, "wrong_field_count");
}

// ---- JSON Lines ----

std::string json_line(std::string_view department, std::string_view record, std::string_view id,
                      std::string_view indicator, std::string_view date) {
  return "{\"source_department\":\"" + std::string(department) + "\",\"source_record_id\":\"" + std::string(record) +
         "\",\"id_number\":\"" + std::string(id) + "\",\"indicator\":\"" + std::string(indicator) +
         "\",\"event_date\":\"" + std::string(date) + "\"}";
}

TEST(DepartmentImportJsonLinesTest, ParsesValidLinesWithKeysInAnyOrder) {
  const ParsedImport parsed =
      parse_ok(json_line("medical_insurance", "MI-1", "44130319850312123x", "serious_illness", "2026-03-01") + "\n" +
                   "{\"event_date\":\"2026-01-15\",\"indicator\":\"unemployment\",\"id_number\":\"441302200107040044\","
                   "\"source_record_id\":\"HR \\\"3\\\"\",\"source_department\":\"human_resources\"}\n",
               ImportFormat::kJsonLines);
  EXPECT_EQ(parsed.lines_read, 2u);
  ASSERT_EQ(parsed.events.size(), 2u);
  protocol::DeptEvent first{"medical_insurance", "MI-1", std::string(kId1), "serious_illness", 20260301, 0, 0};
  EXPECT_EQ(parsed.events[0].event, first);
  EXPECT_EQ(parsed.events[0].line, 1u);
  protocol::DeptEvent second{"human_resources", "HR \"3\"", std::string(kId2), "unemployment", 20260115, 0, 0};
  EXPECT_EQ(parsed.events[1].event, second);
  EXPECT_EQ(parsed.events[1].line, 2u);
}

TEST(DepartmentImportJsonLinesTest, BomCrlfBlankLinesAndLineNumbers) {
  const std::string good = json_line("health", "H-1", kId2, "birth", "2026-02-02");
  const ParsedImport parsed =
      parse_ok("\xEF\xBB\xBF" + good + "\r\n\r\n  \n" + good + "\r\n[1]\r\n\n" + good, ImportFormat::kJsonLines);
  EXPECT_EQ(parsed.lines_read, 4u);
  ASSERT_EQ(parsed.events.size(), 3u);
  EXPECT_EQ(parsed.events[0].line, 1u);
  EXPECT_EQ(parsed.events[1].line, 4u);
  EXPECT_EQ(parsed.events[2].line, 7u);
  ASSERT_EQ(parsed.rejected.size(), 1u);
  EXPECT_EQ(parsed.rejected[0].line, 5u);
  EXPECT_EQ(parsed.rejected[0].reason_code, "not_object");
}

TEST(DepartmentImportJsonLinesTest, EmptyFileHasNoLines) {
  const ParsedImport parsed = parse_ok("", ImportFormat::kJsonLines);
  EXPECT_EQ(parsed.lines_read, 0u);
}

TEST(DepartmentImportJsonLinesTest, RejectsBadJson) {
  EXPECT_EQ(jsonl_code("{\"source_department\":\"health\""), "bad_json");
  EXPECT_EQ(jsonl_code("source_department,source_record_id"), "bad_json");
  EXPECT_EQ(jsonl_code(json_line("health", "H-1", kId2, "birth", "2026-02-02") + " x"), "bad_json");
}

TEST(DepartmentImportJsonLinesTest, RejectsNotObject) {
  EXPECT_EQ(jsonl_code("[\"health\",\"H-1\"]"), "not_object");
  EXPECT_EQ(jsonl_code("\"health\""), "not_object");
  EXPECT_EQ(jsonl_code("null"), "not_object");
}

TEST(DepartmentImportJsonLinesTest, RejectsUnknownField) {
  const std::string line = json_line("health", "H-1", kId2, "birth", "2026-02-02");
  const RejectedLine rejected =
      only_rejection(line.substr(0, line.size() - 1) + ",\"remark\":\"x\"}", ImportFormat::kJsonLines);
  EXPECT_EQ(rejected.reason_code, "unknown_field");
  EXPECT_EQ(rejected.reason_en, "unknown field \"remark\"");
}

// nlohmann keeps the last of two equal keys: "death" would be dropped
// without a word. The line is rejected, as a CSV header repeating a column.
TEST(DepartmentImportJsonLinesTest, RejectsAKeyGivenTwice) {
  const std::string line = R"({"source_department":"health","source_record_id":"WJ-1","id_number":")" + std::string(kId2) +
                           R"(","indicator":"death","indicator":"birth","event_date":"2026-02-02"})";
  const RejectedLine r = only_rejection(line, ImportFormat::kJsonLines);
  EXPECT_EQ(r.reason_code, "duplicate_field");
  EXPECT_NE(r.reason_en.find("indicator"), std::string::npos) << r.reason_en;
  // Equal keys inside a nested value are not the line's fields: that line
  // is refused for its type, not as a duplicate.
  EXPECT_EQ(jsonl_code(R"({"source_department":{"a":1,"a":2}})"), "wrong_type");
}

TEST(DepartmentImportJsonLinesTest, RejectsWrongType) {
  EXPECT_EQ(jsonl_code("{\"source_department\":\"health\",\"source_record_id\":17,\"id_number\":\"441302200107040044\","
                       "\"indicator\":\"birth\",\"event_date\":\"2026-02-02\"}"),
            "wrong_type");
  const RejectedLine rejected = only_rejection(
      "{\"source_department\":\"health\",\"source_record_id\":\"H-1\",\"id_number\":\"441302200107040044\","
      "\"indicator\":\"birth\",\"event_date\":{\"y\":2026}}",
      ImportFormat::kJsonLines);
  EXPECT_EQ(rejected.reason_code, "wrong_type");
  EXPECT_EQ(rejected.reason_en, "field event_date must be a string");
}

TEST(DepartmentImportJsonLinesTest, RejectsMissingOrEmptyField) {
  const RejectedLine absent = only_rejection(
      "{\"source_department\":\"health\",\"source_record_id\":\"H-1\",\"id_number\":\"441302200107040044\","
      "\"event_date\":\"2026-02-02\"}",
      ImportFormat::kJsonLines);
  EXPECT_EQ(absent.reason_code, "missing_field");
  EXPECT_EQ(absent.reason_en, "field indicator is missing or empty");
  EXPECT_EQ(jsonl_code(json_line("health", "", kId2, "birth", "2026-02-02")), "missing_field");
}

TEST(DepartmentImportJsonLinesTest, RejectsLimitsAndEncoding) {
  EXPECT_EQ(jsonl_code(json_line("health", std::string(kImportMaxLineBytes, 'r'), kId2, "birth", "2026-02-02")),
            "line_too_long");
  EXPECT_EQ(jsonl_code(json_line("health", std::string(kImportMaxFieldBytes + 1, 'r'), kId2, "birth", "2026-02-02")),
            "field_too_long");
  EXPECT_EQ(jsonl_code(json_line("health", "H-\xFE", kId2, "birth", "2026-02-02")), "not_utf8");
}

TEST(DepartmentImportJsonLinesTest, RejectsPolicyAndValueProblems) {
  EXPECT_EQ(jsonl_code(json_line("tax_bureau", "T-1", kId2, "birth", "2026-02-02")), "unknown_department");
  EXPECT_EQ(jsonl_code(json_line("health", "H-1", kId2, "lottery_win", "2026-02-02")), "unknown_indicator");
  EXPECT_EQ(jsonl_code(json_line("education", "E-1", kId2, "birth", "2026-02-02")), "department_not_source");
  EXPECT_EQ(jsonl_code(json_line("health", "H-1", "441302200107040045", "birth", "2026-02-02")), "bad_id_number");
  EXPECT_EQ(jsonl_code(json_line("health", "H-1", kId2, "birth", "2026-02-30")), "bad_date");
  EXPECT_EQ(jsonl_code(json_line("health", "H-1", kId2, "birth", "2027-01-01")), "future_date");
}

// ---- Format detection ----

TEST(DepartmentImportFormatTest, DetectsFromNameThenContent) {
  EXPECT_EQ(detect_format("events.csv", "{\"a\":1}"), ImportFormat::kCsv);
  EXPECT_EQ(detect_format("EVENTS.CSV", ""), ImportFormat::kCsv);
  EXPECT_EQ(detect_format("/tmp/events.jsonl", "source_department"), ImportFormat::kJsonLines);
  EXPECT_EQ(detect_format("events.NDJSON", ""), ImportFormat::kJsonLines);
  EXPECT_EQ(detect_format("events.txt", "\xEF\xBB\xBF\r\n  {\"a\":1}"), ImportFormat::kJsonLines);
  EXPECT_EQ(detect_format("events", "source_department,source_record_id"), ImportFormat::kCsv);
  EXPECT_EQ(detect_format("", ""), ImportFormat::kCsv);
}

// ---- Example files and volume ----

TEST(DepartmentImportExampleTest, ExampleFilesParseWithoutRejections) {
  const std::string csv_text = read_source_file("node/import/example_events.csv");
  const std::string jsonl_text = read_source_file("node/import/example_events.jsonl");
  const ParsedImport from_csv = parse_ok(csv_text, detect_format("example_events.csv", csv_text));
  const ParsedImport from_jsonl = parse_ok(jsonl_text, detect_format("example_events.jsonl", jsonl_text));
  EXPECT_TRUE(from_csv.rejected.empty()) << from_csv.rejected.front().reason_en;
  EXPECT_TRUE(from_jsonl.rejected.empty()) << from_jsonl.rejected.front().reason_en;
  EXPECT_GE(from_csv.events.size(), 8u);
  EXPECT_EQ(from_csv.lines_read, from_csv.events.size());
  // Both files hold the same events.
  ASSERT_EQ(from_csv.events.size(), from_jsonl.events.size());
  for (size_t i = 0; i < from_csv.events.size(); ++i) {
    EXPECT_EQ(from_csv.events[i].event, from_jsonl.events[i].event) << "event " << i;
  }
  // Content detection agrees with the extensions.
  EXPECT_EQ(detect_format("", csv_text), ImportFormat::kCsv);
  EXPECT_EQ(detect_format("", jsonl_text), ImportFormat::kJsonLines);
}

TEST(DepartmentImportVolumeTest, ParsesAThousandLineFile) {
  constexpr int kLines = 1000;
  std::string text(kHeader);
  for (int i = 0; i < kLines; ++i) {
    char first17[18];
    // Varied real birth dates (1950–2009, days 1–28) and sequence numbers.
    std::snprintf(first17, sizeof first17, "441303%04d%02d%02d%03d", 1950 + i % 60, 1 + i % 12, 1 + i % 28, i);
    text += "medical_insurance,MI-" + std::to_string(i) + "," + with_check_char(first17) + ",serious_illness,2026-0" +
            std::to_string(1 + i % 5) + "-1" + std::to_string(i % 10) + "\n";
  }
  const ParsedImport parsed = parse_ok(text);
  EXPECT_EQ(parsed.lines_read, static_cast<uint64_t>(kLines));
  ASSERT_EQ(parsed.events.size(), static_cast<size_t>(kLines))
      << parsed.rejected.front().line << ": " << parsed.rejected.front().reason_en;
  EXPECT_EQ(parsed.events.back().line, static_cast<uint64_t>(kLines + 1));
  EXPECT_EQ(parsed.events.back().event.record_id, "MI-999");
}

}  // namespace
}  // namespace lifeline::node
