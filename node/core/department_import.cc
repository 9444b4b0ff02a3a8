#include "node/core/department_import.h"

#include <algorithm>
#include <array>
#include <nlohmann/json.hpp>
#include <optional>
#include <vector>

#include "node/core/civil_date.h"
#include "node/core/id_number.h"
#include "topology/utf8.h"

namespace lifeline::node {
namespace {

using topology::utf8_sequence_length;
using topology::valid_utf8;

// The five fields of an event, in the order of the header comment; the CSV
// header may list them in any order.
enum Field : size_t { kDepartment, kRecordId, kIdNumber, kIndicator, kEventDate, kFieldCount };
constexpr std::array<std::string_view, kFieldCount> kFieldNames = {"source_department", "source_record_id", "id_number",
                                                                   "indicator", "event_date"};
using Fields = std::array<std::string_view, kFieldCount>;

// Messages quote at most this much of an offending value, so a report stays
// readable whatever the file holds.
constexpr size_t kMaxQuotedBytes = 64;

std::optional<Field> field_of(std::string_view name) {
  for (size_t i = 0; i < kFieldCount; ++i) {
    if (kFieldNames[i] == name) return static_cast<Field>(i);
  }
  return std::nullopt;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool is_blank(std::string_view line) { return trim(line).empty(); }

// A value as it may appear inside a message: control characters replaced
// and cut at a character boundary. Requires valid UTF-8.
std::string in_quotes(std::string_view raw) {
  // An ID number in the wrong column is quoted masked (the same length).
  const std::string masked = mask_id_numbers_in(raw);
  const std::string_view value = masked;
  std::string out = "\"";
  size_t i = 0;
  while (i < value.size() && i < kMaxQuotedBytes) {
    const auto b = static_cast<unsigned char>(value[i]);
    const size_t n = b < 0x80 ? 1 : utf8_sequence_length(value, i);
    if (n == 0) break;
    const bool control = b < 0x20 || b == 0x7F;
    out.append(control ? std::string_view("?") : value.substr(i, n));
    i += n;
  }
  if (i < value.size()) out += "…";
  out += '"';
  return out;
}

std::string join(const std::vector<std::string>& items, std::string_view separator) {
  std::string out;
  for (const auto& item : items) {
    if (!out.empty()) out += separator;
    out += item;
  }
  return out;
}

// Physical lines of the file, numbered from 1, without their LF or CRLF.
class LineCursor {
 public:
  explicit LineCursor(std::string_view text) : rest_(text) {}

  bool next(std::string_view& line) {
    if (done_) return false;
    const size_t end = rest_.find('\n');
    if (end == std::string_view::npos) {
      line = rest_;
      done_ = true;
      // Text ending in a line end has no further (empty) line.
      if (line.empty()) return false;
    } else {
      line = rest_.substr(0, end);
      rest_.remove_prefix(end + 1);
    }
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    ++number_;
    return true;
  }
  // Skips blank lines, which are not data (and not counted as read).
  bool next_non_blank(std::string_view& line) {
    while (next(line)) {
      if (!is_blank(line)) return true;
    }
    return false;
  }
  uint64_t number() const { return number_; }

 private:
  std::string_view rest_;  // the text after the current line
  uint64_t number_ = 0;    // of the line last returned
  bool done_ = false;      // the last line has been returned
};

// Checks one line's fields against the policy and records the event or the
// rejection in the import.
class LineChecker {
 public:
  LineChecker(const Policy& policy, Date today, ParsedImport& out) : policy_(policy), today_(today), out_(out) {}

  void reject(uint64_t line, std::string_view code, std::string zh, std::string en) {
    if (out_.rejected.size() >= kImportMaxRejectedLines) {
      ++out_.rejected_beyond;
      return;
    }
    out_.rejected.push_back(RejectedLine{line, std::string(code), std::move(zh), std::move(en)});
  }

  // Fields are untrimmed and may be empty (a JSON key that was absent).
  void check(uint64_t line, Fields fields) {
    for (auto& field : fields) field = trim(field);
    if (!check_present(line, fields)) return;
    const Indicator* indicator = check_sources(line, fields);
    if (indicator == nullptr) return;
    auto id = parse_id_number(fields[kIdNumber], today_);
    if (!id.is_ok()) {
      // The message names the failed rule and shows the number masked.
      reject(line, "bad_id_number", id.status().message_zh(), id.status().message());
      return;
    }
    const std::optional<Date> date = check_date(line, fields[kEventDate]);
    if (!date) return;
    ParsedEvent& parsed = out_.events.emplace_back();
    parsed.line = line;
    parsed.event.department.assign(fields[kDepartment]);
    parsed.event.record_id.assign(fields[kRecordId]);
    parsed.event.id_number = std::move(id->number);
    parsed.event.indicator.assign(fields[kIndicator]);
    parsed.event.event_date = *date;
  }

 private:
  bool check_present(uint64_t line, const Fields& fields) {
    for (size_t i = 0; i < kFieldCount; ++i) {
      if (fields[i].size() > kImportMaxFieldBytes) {
        const std::string name(kFieldNames[i]);
        const std::string size = std::to_string(fields[i].size());
        const std::string limit = std::to_string(kImportMaxFieldBytes);
        reject(line, "field_too_long", "字段 " + name + " 长 " + size + " 字节，超过上限 " + limit + " 字节",
               "field " + name + " is " + size + " bytes, over the " + limit + "-byte limit");
        return false;
      }
      if (fields[i].empty()) {
        const std::string name(kFieldNames[i]);
        reject(line, "missing_field", "字段 " + name + " 缺失或为空", "field " + name + " is missing or empty");
        return false;
      }
    }
    return true;
  }

  // The indicator when the department and indicator are known and the
  // department is one of the indicator's sources; else rejects the line.
  const Indicator* check_sources(uint64_t line, const Fields& fields) {
    const std::string_view department = fields[kDepartment];
    if (!policy_.department_known(department)) {
      reject(line, "unknown_department", "未知的来源部门 " + in_quotes(department),
             "unknown source department " + in_quotes(department));
      return nullptr;
    }
    const Indicator* indicator = policy_.indicator(fields[kIndicator]);
    if (indicator == nullptr) {
      reject(line, "unknown_indicator", "未知的预警指标 " + in_quotes(fields[kIndicator]),
             "unknown indicator " + in_quotes(fields[kIndicator]));
      return nullptr;
    }
    for (const auto& source : indicator->departments) {
      if (source == department) return indicator;
    }
    reject(line, "department_not_source",
           "部门 " + in_quotes(department) + " 不是指标 " + indicator->code + " 的数据来源（来源：" +
               join(indicator->departments, "、") + "）",
           "department " + in_quotes(department) + " is not a source of indicator " + indicator->code +
               " (sources: " + join(indicator->departments, ", ") + ")");
    return nullptr;
  }

  std::optional<Date> check_date(uint64_t line, std::string_view text) {
    const std::optional<Date> date = parse_spreadsheet_date(text);
    if (!date) {
      reject(line, "bad_date", "事件日期 " + in_quotes(text) + " 不是有效日期（应为 YYYY-MM-DD、YYYY/M/D 或 YYYYMMDD）",
             "event_date " + in_quotes(text) + " is not a real date (expected YYYY-MM-DD, YYYY/M/D or YYYYMMDD)");
      return std::nullopt;
    }
    if (*date > today_) {
      reject(line, "future_date", "事件日期 " + format_date(*date) + " 晚于今天 " + format_date(today_),
             "event_date " + format_date(*date) + " is after today, " + format_date(today_));
      return std::nullopt;
    }
    return date;
  }

  const Policy& policy_;  // outlives the parse
  Date today_;            // event dates after it are rejected
  ParsedImport& out_;     // receives events and rejections
};

// The checks every data line gets before its format is looked at; false
// when the line was rejected.
bool check_line_bytes(LineChecker& checker, uint64_t line, std::string_view text) {
  if (text.size() > kImportMaxLineBytes) {
    const std::string size = std::to_string(text.size());
    const std::string limit = std::to_string(kImportMaxLineBytes);
    checker.reject(line, "line_too_long", "行长 " + size + " 字节，超过上限 " + limit + " 字节",
                   "line is " + size + " bytes, over the " + limit + "-byte limit");
    return false;
  }
  if (!valid_utf8(text)) {
    // Spreadsheets in a Chinese locale save "CSV" in GBK unless told otherwise.
    checker.reject(line, "not_utf8", "不是有效的 UTF-8 编码（Excel 导出时请选“CSV UTF-8（逗号分隔）”）",
                   "not valid UTF-8 (in Excel, save as \"CSV UTF-8 (Comma delimited)\")");
    return false;
  }
  return true;
}

// ---- CSV ----

// Reads the CSV field starting at *pos (RFC 4180 quoting, "" inside
// quotes) and moves *pos past it and its comma. *more says whether a comma
// followed. A field with an escaped quote is unescaped into scratch, whose
// capacity must cover the line so earlier views into it stay valid. False
// when the quoting is malformed.
bool next_csv_field(std::string_view line, size_t* pos, std::string* scratch, std::string_view* field, bool* more) {
  size_t i = *pos;
  while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
  if (i == line.size() || line[i] != '"') {
    const size_t comma = line.find(',', *pos);
    *field = line.substr(*pos, comma == std::string_view::npos ? std::string_view::npos : comma - *pos);
    if (field->find('"') != std::string_view::npos) return false;  // a quote inside an unquoted field
    *more = comma != std::string_view::npos;
    *pos = *more ? comma + 1 : line.size();
    return true;
  }
  const size_t open = ++i;
  size_t scratch_start = std::string::npos;  // set once an escaped quote forces a copy
  while (true) {
    const size_t quote = line.find('"', i);
    if (quote == std::string_view::npos) return false;  // unterminated
    if (quote + 1 < line.size() && line[quote + 1] == '"') {
      if (scratch_start == std::string::npos) scratch_start = scratch->size();
      scratch->append(line.substr(i, quote + 1 - i));  // the text and one quote
      i = quote + 2;
      continue;
    }
    if (scratch_start == std::string::npos) {
      *field = line.substr(open, quote - open);  // no escapes: view the line itself
    } else {
      scratch->append(line.substr(i, quote - i));
      *field = std::string_view(*scratch).substr(scratch_start);
    }
    i = quote + 1;
    break;
  }
  while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
  if (i < line.size() && line[i] != ',') return false;  // text after the closing quote
  *more = i < line.size();
  *pos = *more ? i + 1 : i;
  return true;
}

// Calls fn(index, field) for each field of a CSV line; false when the
// quoting is malformed.
template <typename Fn>
bool for_each_csv_field(std::string_view line, std::string* scratch, Fn&& fn) {
  LIFELINE_CHECK(scratch->capacity() >= line.size(), "CSV scratch buffer smaller than the line");
  scratch->clear();
  size_t pos = 0;
  size_t index = 0;
  bool more = true;
  while (more) {
    std::string_view field;
    if (!next_csv_field(line, &pos, scratch, &field, &more)) return false;
    fn(index++, field);
  }
  return true;
}

class CsvReader {
 public:
  CsvReader(const Policy& policy, Date today, ParsedImport& out) : checker_(policy, today, out), out_(out) {
    // Every line is at most kImportMaxLineBytes by the time it is split, so
    // the scratch buffer never reallocates under the views into it.
    scratch_.reserve(kImportMaxLineBytes);
  }

  Status read(std::string_view text) {
    LineCursor lines(text);
    std::string_view line;
    if (!lines.next_non_blank(line)) {
      return Status::invalid_argument("the CSV file has no header row; expected the columns " + expected_columns())
          .with_zh("CSV 文件没有表头行；应有列 " + expected_columns());
    }
    if (Status s = read_header(lines.number(), line); !s) return s;
    while (lines.next_non_blank(line)) {
      ++out_.lines_read;
      read_line(lines.number(), line);
    }
    return Status::ok();
  }

 private:
  static std::string expected_columns() {
    std::string out;
    for (const auto name : kFieldNames) out += (out.empty() ? "" : ", ") + std::string(name);
    return out;
  }

  Status read_header(uint64_t number, std::string_view line) {
    const std::string where = "CSV header (line " + std::to_string(number) + ")";
    const std::string where_zh = "CSV 表头（第 " + std::to_string(number) + " 行）";
    auto bad = [&](const std::string& en, const std::string& zh) {
      return Status::invalid_argument(where + en).with_zh(where_zh + zh);
    };
    if (line.size() > kImportMaxLineBytes) return bad(" is longer than the line limit", "超过行长上限");
    if (!valid_utf8(line))
      return bad(" is not valid UTF-8 (in Excel, save as \"CSV UTF-8 (Comma delimited)\")",
                 "不是有效的 UTF-8 编码（Excel 导出时请选“CSV UTF-8（逗号分隔）”）");
    std::vector<std::string> names;
    if (!for_each_csv_field(line, &scratch_, [&](size_t, std::string_view name) { names.emplace_back(trim(name)); })) {
      return bad(" has malformed quoting", "引号不成对或位置不对");
    }
    std::array<bool, kFieldCount> seen{};
    for (size_t column = 0; column < names.size(); ++column) {
      const std::optional<Field> field = field_of(names[column]);
      const std::string column_no = std::to_string(column + 1), quoted = in_quotes(names[column]);
      const std::string named = "column " + column_no + " " + quoted;
      if (!field)
        return bad(": unknown " + named + "; expected " + expected_columns(),
                   "第 " + column_no + " 列 " + quoted + " 不是已知的列；应有列 " + expected_columns());
      if (seen[*field]) return bad(": duplicate " + named, "第 " + column_no + " 列 " + quoted + " 重复");
      seen[*field] = true;
      column_field_[column] = *field;
    }
    for (size_t i = 0; i < kFieldCount; ++i) {
      if (!seen[i]) {
        const std::string name(kFieldNames[i]);
        return bad(": missing required column " + name, "缺少必需的列 " + name);
      }
    }
    return Status::ok();
  }

  void read_line(uint64_t number, std::string_view line) {
    if (!check_line_bytes(checker_, number, line)) return;
    Fields fields{};
    size_t count = 0;
    const bool ok = for_each_csv_field(line, &scratch_, [&](size_t column, std::string_view value) {
      if (column < kFieldCount) fields[column_field_[column]] = value;
      count = column + 1;
    });
    if (!ok) {
      checker_.reject(number, "wrong_field_count", "引号不成对或位置不对，无法拆分字段",
                      "malformed quoting: the line cannot be split into fields");
      return;
    }
    if (count != kFieldCount) {
      const std::string n = std::to_string(count);
      const std::string want = std::to_string(kFieldCount);
      checker_.reject(number, "wrong_field_count", "有 " + n + " 个字段，应为 " + want + " 个",
                      n + " fields, expected " + want);
      return;
    }
    checker_.check(number, fields);
  }

  LineChecker checker_;
  ParsedImport& out_;                              // lines_read is counted here
  std::array<Field, kFieldCount> column_field_{};  // the field each CSV column holds
  std::string scratch_;                            // unescaped quoted fields of the current line
};

// ---- JSON Lines ----

void read_json_line(LineChecker& checker, uint64_t number, std::string_view line) {
  if (!check_line_bytes(checker, number, line)) return;
  // A key given twice would keep its last value silently (nlohmann does):
  // the line is rejected instead, as a CSV header that repeats a column is.
  std::vector<std::string> keys;
  std::optional<std::string> repeated;
  const auto note_key = [&](int depth, nlohmann::json::parse_event_t event, nlohmann::json& parsed) {
    if (depth == 1 && event == nlohmann::json::parse_event_t::key && parsed.is_string() && !repeated) {
      const std::string& key = parsed.get_ref<const std::string&>();
      if (std::find(keys.begin(), keys.end(), key) != keys.end()) repeated = key;
      keys.push_back(key);
    }
    return true;
  };
  const nlohmann::json doc = nlohmann::json::parse(line.begin(), line.end(), note_key, /*allow_exceptions=*/false);
  if (doc.is_discarded()) {
    checker.reject(number, "bad_json", "不是有效的 JSON", "not valid JSON");
    return;
  }
  if (repeated) {
    checker.reject(number, "duplicate_field", "字段 " + in_quotes(*repeated) + " 出现了不止一次",
                   "field " + in_quotes(*repeated) + " appears more than once");
    return;
  }
  if (!doc.is_object()) {
    checker.reject(number, "not_object", "不是 JSON 对象", "not a JSON object");
    return;
  }
  Fields fields{};
  for (const auto& [key, value] : doc.items()) {
    const std::optional<Field> field = field_of(key);
    if (!field) {
      checker.reject(number, "unknown_field", "未知字段 " + in_quotes(key), "unknown field " + in_quotes(key));
      return;
    }
    if (!value.is_string()) {
      const std::string name(kFieldNames[*field]);
      checker.reject(number, "wrong_type", "字段 " + name + " 应为字符串", "field " + name + " must be a string");
      return;
    }
    fields[*field] = value.get_ref<const std::string&>();
  }
  checker.check(number, fields);
}

void read_json_lines(std::string_view text, const Policy& policy, Date today, ParsedImport& out) {
  LineChecker checker(policy, today, out);
  LineCursor lines(text);
  std::string_view line;
  while (lines.next_non_blank(line)) {
    ++out.lines_read;
    read_json_line(checker, lines.number(), line);
  }
}

std::string_view skip_bom(std::string_view text) {
  constexpr std::string_view kBom = "\xEF\xBB\xBF";
  if (text.starts_with(kBom)) text.remove_prefix(kBom.size());
  return text;
}

bool ends_with_ignoring_case(std::string_view s, std::string_view suffix) {
  if (s.size() < suffix.size()) return false;
  s = s.substr(s.size() - suffix.size());
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != suffix[i]) return false;
  }
  return true;
}

}  // namespace

ImportFormat detect_format(std::string_view file_name, std::string_view text) {
  if (ends_with_ignoring_case(file_name, ".csv")) return ImportFormat::kCsv;
  if (ends_with_ignoring_case(file_name, ".jsonl") || ends_with_ignoring_case(file_name, ".ndjson")) {
    return ImportFormat::kJsonLines;
  }
  text = skip_bom(text);
  const size_t first = text.find_first_not_of(" \t\r\n");
  return first != std::string_view::npos && text[first] == '{' ? ImportFormat::kJsonLines : ImportFormat::kCsv;
}

Result<ParsedImport> parse_events(std::string_view text, ImportFormat format, const Policy& policy, Date today) {
  if (text.size() > kImportMaxBytes) {
    const std::string size = std::to_string(text.size()), limit = std::to_string(kImportMaxBytes);
    return Status::invalid_argument("the import file is " + size + " bytes, over the " + limit + "-byte limit")
        .with_zh("导入文件有 " + size + " 字节，超过上限 " + limit + " 字节");
  }
  text = skip_bom(text);
  ParsedImport out;
  // One event a line; a line that holds one has at least kMinEventLineBytes
  // (so that a file of blank lines reserves little).
  constexpr size_t kMinEventLineBytes = 32;
  out.events.reserve(std::min(static_cast<size_t>(std::count(text.begin(), text.end(), '\n')) + 1,
                              text.size() / kMinEventLineBytes + 1));
  if (format == ImportFormat::kCsv) {
    CsvReader reader(policy, today, out);
    if (Status s = reader.read(text); !s) return s;
  } else {
    read_json_lines(text, policy, today, out);
  }
  if (out.rejected_beyond > 0) {
    const RejectedLine& first = out.rejected.front();
    const std::string total = std::to_string(out.rejected.size() + out.rejected_beyond),
                      limit = std::to_string(kImportMaxRejectedLines), line = std::to_string(first.line);
    return Status::invalid_argument("the file has " + total + " rejected lines, over the limit of " + limit +
                                    ": it is not an event file of this format (the first, line " + line + ": " +
                                    first.reason_en + "); nothing was imported")
        .with_zh("文件中有 " + total + " 行不合格，超过上限 " + limit + " 行，不是该格式的部门数据文件（第一处，第 " + line +
                 " 行：" + first.reason + "）；未导入任何数据");
  }
  return out;
}

}  // namespace lifeline::node
