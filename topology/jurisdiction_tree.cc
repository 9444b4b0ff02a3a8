#include "topology/jurisdiction_tree.h"

#include <algorithm>
#include <array>
#include <fstream>
#include <sstream>
#include <utility>

#include "topology/logging.h"

namespace lifeline::topology {
namespace {

constexpr std::string_view kUtf8Bom = "\xEF\xBB\xBF";
constexpr std::array<std::string_view, 4> kHeader = {"code12", "name", "level", "parent_code12"};

// One data row of a divisions CSV, checked on its own but not yet against the
// other rows.
struct CsvRow {
  size_t line = 0;                // 1-based line number in the file, for errors
  DivisionCode code;              // the division
  std::string name;               // its name
  Level level = Level::province;  // the level column, equal to code.level()
  DivisionCode parent;            // invalid when the parent column is empty (a root)
};

// A non-empty line and its 1-based number.
struct Line {
  size_t number = 0;      // 1-based, counting empty lines too
  std::string_view text;  // without its trailing CR; views the parsed text
};

std::string_view trim(std::string_view text) {
  constexpr std::string_view kSpace = " \t";
  size_t first = text.find_first_not_of(kSpace);
  if (first == std::string_view::npos) return {};
  return text.substr(first, text.find_last_not_of(kSpace) - first + 1);
}

std::vector<std::string_view> split_fields(std::string_view line) {
  std::vector<std::string_view> fields;
  size_t start = 0;
  for (size_t comma = line.find(','); comma != std::string_view::npos; comma = line.find(',', start)) {
    fields.push_back(trim(line.substr(start, comma - start)));
    start = comma + 1;
  }
  fields.push_back(trim(line.substr(start)));
  return fields;
}

// The non-empty lines of `text`, without a leading BOM or trailing CRs.
std::vector<Line> non_empty_lines(std::string_view text) {
  if (text.starts_with(kUtf8Bom)) text.remove_prefix(kUtf8Bom.size());
  std::vector<Line> lines;
  size_t number = 0;
  while (!text.empty()) {
    ++number;
    size_t end = text.find('\n');
    std::string_view line = text.substr(0, end);
    text = end == std::string_view::npos ? std::string_view() : text.substr(end + 1);
    if (line.ends_with('\r')) line.remove_suffix(1);
    if (!trim(line).empty()) lines.push_back({number, line});
  }
  return lines;
}

Status line_error(size_t line, const std::string& what) {
  return Status::invalid_argument("line " + std::to_string(line) + ": " + what);
}

Status check_header(const std::vector<Line>& lines) {
  if (lines.empty()) return Status::invalid_argument("empty file: missing header line");
  std::vector<std::string_view> fields = split_fields(lines.front().text);
  bool matches = fields.size() >= kHeader.size() && std::equal(kHeader.begin(), kHeader.end(), fields.begin());
  if (!matches) return line_error(lines.front().number, "expected header 'code12,name,level,parent_code12'");
  return Status::ok();
}

// Why `parent` cannot hold `code`, or empty when it can.
std::string parent_mismatch(DivisionCode code, DivisionCode parent) {
  if (parent == code) return "division " + code.to_string() + " is its own parent";
  if (!parent.contains(code)) {
    return "parent " + parent.to_string() + " does not contain " + code.to_string();
  }
  return {};
}

// Fills the parent of `row` from its column: empty for a root.
Status parse_parent(std::string_view text, CsvRow& row) {
  if (text.empty()) return Status::ok();
  Result<DivisionCode> parent = DivisionCode::parse(text);
  if (!parent) return line_error(row.line, "parent: " + parent.status().message());
  std::string mismatch = parent_mismatch(row.code, *parent);
  if (!mismatch.empty()) return line_error(row.line, mismatch);
  row.parent = *parent;
  return Status::ok();
}

Result<CsvRow> parse_row(const Line& line) {
  std::vector<std::string_view> fields = split_fields(line.text);
  if (fields.size() < kHeader.size()) return line_error(line.number, "expected at least 4 columns");
  for (std::string_view field : fields) {
    // Our files never quote; a quoted field would be split at its commas.
    if (field.starts_with('"')) return line_error(line.number, "quoted fields are not supported");
  }
  CsvRow row;
  row.line = line.number;
  Result<DivisionCode> code = DivisionCode::parse(fields[0]);
  if (!code) return line_error(line.number, code.status().message());
  row.code = *code;
  row.name = std::string(fields[1]);
  Result<Level> level = parse_level(fields[2]);
  if (!level) return line_error(line.number, level.status().message());
  if (*level != code->level()) {
    return line_error(line.number, "level " + std::string(fields[2]) + " does not match code " + code->to_string() +
                                       " (" + level_name(code->level()) + ")");
  }
  row.level = *level;
  if (Status status = parse_parent(fields[3], row); !status) return status;
  return row;
}

Result<std::vector<CsvRow>> parse_rows(std::string_view text) {
  std::vector<Line> lines = non_empty_lines(text);
  if (Status status = check_header(lines); !status) return status;
  std::vector<CsvRow> rows;
  rows.reserve(lines.size() - 1);
  for (size_t i = 1; i < lines.size(); ++i) {
    Result<CsvRow> row = parse_row(lines[i]);
    if (!row) return row.status();
    rows.push_back(std::move(row).value());
  }
  return rows;
}

// Checks the rows against each other: no duplicate, every parent listed,
// exactly one root.
Status check_rows(const std::vector<CsvRow>& rows) {
  std::unordered_map<DivisionCode, size_t> line_of;  // code -> its line
  for (const CsvRow& row : rows) {
    auto [it, inserted] = line_of.emplace(row.code, row.line);
    if (!inserted) {
      return line_error(row.line,
                        "duplicate code " + row.code.to_string() + ", first on line " + std::to_string(it->second));
    }
  }
  const CsvRow* root = nullptr;
  for (const CsvRow& row : rows) {
    if (row.parent.valid()) {
      if (line_of.count(row.parent) == 0) return line_error(row.line, "unknown parent " + row.parent.to_string());
    } else if (root != nullptr) {
      return line_error(row.line,
                        "second root " + row.code.to_string() + ", first root on line " + std::to_string(root->line));
    } else {
      root = &row;
    }
  }
  if (root == nullptr) return Status::invalid_argument("no root: every row has a parent");
  return Status::ok();
}

}  // namespace

Result<JurisdictionTree> JurisdictionTree::load_csv_file(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file.is_open()) return Status::io_error("cannot open divisions file " + path);
  std::ostringstream contents;
  contents << file.rdbuf();
  if (file.bad()) return Status::io_error("cannot read divisions file " + path);
  Result<JurisdictionTree> tree = parse_csv(contents.str());
  if (!tree) return Status::invalid_argument(path + ": " + tree.status().message());
  folder_logger("topology")->info("loaded {} divisions from {}", tree->size(), path);
  return tree;
}

Result<JurisdictionTree> JurisdictionTree::parse_csv(std::string_view text) {
  Result<std::vector<CsvRow>> rows = parse_rows(text);
  if (!rows) return rows.status();
  if (Status status = check_rows(*rows); !status) return status;
  // Parents may follow their children, so insert every division before
  // linking children; both passes keep file order.
  JurisdictionTree tree;
  for (CsvRow& row : *rows) {
    tree.divisions_.emplace(row.code, Division{row.code, std::move(row.name), row.level, row.parent, {}});
    tree.order_.push_back(row.code);
  }
  for (const CsvRow& row : *rows) {
    if (row.parent.valid()) tree.divisions_.at(row.parent).children.push_back(row.code);
  }
  return tree;
}

Status JurisdictionTree::add(DivisionCode code, std::string name, DivisionCode parent) {
  if (!code.valid()) return Status::invalid_argument("cannot add the invalid division code");
  if (has(code)) return Status::invalid_argument("duplicate division " + code.to_string());
  if (parent.valid()) {
    if (!has(parent)) return Status::not_found("parent " + parent.to_string() + " of " + code.to_string());
    std::string mismatch = parent_mismatch(code, parent);
    if (!mismatch.empty()) return Status::invalid_argument(mismatch);
    divisions_.at(parent).children.push_back(code);
  }
  divisions_.emplace(code, Division{code, std::move(name), code.level(), parent, {}});
  order_.push_back(code);
  return Status::ok();
}

Result<Division> JurisdictionTree::find(DivisionCode code) const {
  const Division* division = get(code);
  if (division == nullptr) return Status::not_found("unknown division " + code.to_string());
  return *division;
}

const Division* JurisdictionTree::get(DivisionCode code) const {
  auto it = divisions_.find(code);
  return it == divisions_.end() ? nullptr : &it->second;
}

std::vector<DivisionCode> JurisdictionTree::subtree(DivisionCode root) const {
  std::vector<DivisionCode> codes;
  if (!has(root)) return codes;
  std::vector<DivisionCode> pending = {root};  // stack; top is visited next
  while (!pending.empty()) {
    DivisionCode code = pending.back();
    pending.pop_back();
    codes.push_back(code);
    const std::vector<DivisionCode>& children = get(code)->children;
    pending.insert(pending.end(), children.rbegin(), children.rend());
  }
  return codes;
}

Result<std::vector<DivisionCode>> JurisdictionTree::path_from_root(DivisionCode code) const {
  const Division* division = get(code);
  if (division == nullptr) return Status::not_found("unknown division " + code.to_string());
  std::vector<DivisionCode> path = {code};
  // Each parent's code strictly contains its child's, so this ends within
  // five steps; the parent is present because add and parse_csv require it.
  while (division->parent.valid()) {
    path.push_back(division->parent);
    division = get(division->parent);
  }
  std::reverse(path.begin(), path.end());
  return path;
}

Result<DivisionCode> JurisdictionTree::next_hop(DivisionCode from, DivisionCode to) const {
  Result<DivisionCode> ancestor = lowest_common_ancestor(from, to);
  if (!ancestor) return ancestor.status();
  if (from == to) return from;
  if (*ancestor != from) return get(from)->parent;
  // `from` is an ancestor of `to`: step to the child on the path down.
  std::vector<DivisionCode> path = *path_from_root(to);
  auto at = std::find(path.begin(), path.end(), from);
  return *(at + 1);
}

Result<DivisionCode> JurisdictionTree::lowest_common_ancestor(DivisionCode a, DivisionCode b) const {
  Result<std::vector<DivisionCode>> path_a = path_from_root(a);
  if (!path_a) return path_a.status();
  Result<std::vector<DivisionCode>> path_b = path_from_root(b);
  if (!path_b) return path_b.status();
  if (path_a->front() != path_b->front()) {
    return Status::not_found("no route between " + a.to_string() + " and " + b.to_string() +
                             ": they are in different trees");
  }
  auto [end_a, end_b] = std::mismatch(path_a->begin(), path_a->end(), path_b->begin(), path_b->end());
  return *(end_a - 1);
}

}  // namespace lifeline::topology
