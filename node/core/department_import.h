// Department events (部门数据比对) read from an import file: CSV (UTF-8, a
// header row) or JSON Lines, one event per line, with the fields
// source_department, source_record_id, id_number, indicator, event_date.
// Input: the file's bytes. Output: the well-formed events with their line
// numbers, and each rejected line with its number and reason. Nothing here
// touches the store: the caller applies the valid lines in one transaction.
// Format and example: node/import/README.md.
//
// Pure; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "node/core/policy.h"
#include "protocol/domain.h"
#include "topology/status.h"

namespace lifeline::node {

enum class ImportFormat { kCsv, kJsonLines };

struct ParsedEvent {
  uint64_t line = 0;  // 1-based line number in the file (the CSV header is line 1)
  protocol::DeptEvent event;  // imported_at and hlc left 0 for the caller
};

struct RejectedLine {
  uint64_t line = 0;
  std::string reason_code;  // machine-readable, e.g. bad_id_number
  std::string reason;       // zh-CN
  std::string reason_en;
};

struct ParsedImport {
  uint64_t lines_read = 0;  // data lines (header and blank lines excluded)
  std::vector<ParsedEvent> events;
  std::vector<RejectedLine> rejected;
  uint64_t rejected_beyond = 0;  // rejections past kImportMaxRejectedLines (not kept)
};

// Limits for untrusted files.
inline constexpr size_t kImportMaxBytes = size_t{256} << 20;
inline constexpr size_t kImportMaxLineBytes = 4096;
inline constexpr size_t kImportMaxFieldBytes = 128;
// A file with more rejected lines than this is refused whole: it is not an
// event file of its format, and a report of millions of reasons would take
// gigabytes of the node's memory.
inline constexpr size_t kImportMaxRejectedLines = 10'000;

// Guesses the format from the file name (.csv, .jsonl/.ndjson), else from
// the first non-blank byte ('{' → JSON Lines).
ImportFormat detect_format(std::string_view file_name, std::string_view text);

// Parses text. A file-level problem (too large, not UTF-8 in the header, a
// CSV header missing a required column or naming an unknown one, more than
// kImportMaxRejectedLines lines rejected) fails the whole import; a line-level problem rejects that line only. Checks per
// line: field count / JSON object, every field present and within limits,
// the department known to the policy, the indicator known, the department
// one of the indicator's sources, the ID number valid (GB 11643), the date
// real and not after today.
Result<ParsedImport> parse_events(std::string_view text, ImportFormat format, const Policy& policy, Date today);

}  // namespace lifeline::node
