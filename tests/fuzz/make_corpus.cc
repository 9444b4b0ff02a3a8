// Writes the seed corpus for frame_decode_fuzz: one valid encoding of each
// frame kind and a few malformed frames, one file each.
//
//   make_corpus <directory> [<domain directory>]
//
// With a second directory it also writes the seed corpus of
// domain_decode_fuzz there: one valid value of each domain type.
// The files in tests/fuzz/corpus/ were written by this program; rerun it
// after a change to protocol/link.capnp.
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include "protocol/codec.h"
#include "protocol/domain_codec.h"

namespace lifeline::protocol {
namespace {

constexpr uint64_t kCity = 441300000000;
constexpr uint64_t kTownship = 441302001000;
constexpr uint64_t kVillage = 441302001001;

Record record(uint64_t link_seq, std::string payload) {
  return Record{.link_seq = link_seq,
                .origin = kVillage,
                .origin_seq = link_seq,
                .destination = kCity,
                .kind = static_cast<uint16_t>(MessageKind::kTest),
                .hlc = (uint64_t{1'700'000'000'000} << 16) | 3,
                .payload = std::move(payload)};
}

Frame data_frame() {
  return Frame{.sender = kTownship, .ack = 17, .body = Data{{record(1, ""), record(2, "hello"), record(5, std::string(40, 'x'))}}};
}

// Valid frames first, then malformed ones (named for what is wrong).
std::vector<std::pair<std::string, std::string>> corpus() {
  std::vector<std::pair<std::string, std::string>> files = {
      {"hello", encode_frame(Frame{.sender = kTownship, .ack = 3, .body = Hello{.last_applied = 3, .want_reply = true}})},
      {"data", encode_frame(data_frame())},
      {"heartbeat", encode_frame(Frame{.sender = kCity, .ack = 0, .body = Heartbeat{.sent_at_us = 99, .echo = false}})},
      {"ack_only", encode_frame(Frame{.sender = kCity, .ack = 12, .body = AckOnly{}})},
  };
  std::string data = files[1].second;
  files.emplace_back("bad_truncated", data.substr(0, data.size() - 16));
  files.emplace_back("bad_trailing_word", data + std::string(8, '\0'));
  files.emplace_back("bad_not_whole_words", data.substr(0, data.size() - 3));
  Frame bad_sender = data_frame();
  bad_sender.sender = 440000000001;
  files.emplace_back("bad_sender", encode_frame(bad_sender));
  Frame bad_seq = data_frame();
  std::get<Data>(bad_seq.body).records[2].link_seq = 2;
  files.emplace_back("bad_seq_not_increasing", encode_frame(bad_seq));
  return files;
}

// One valid value of each monitoring payload type.
std::vector<std::pair<std::string, std::string>> domain_corpus() {
  Stamp st{(uint64_t{1'795'000'000'000} << 16) | 1, kVillage};
  Household h;
  h.id = RecordId{kVillage, 7};
  h.village = {kVillage, st};
  h.category = {"marginal", st};
  h.income_fen = {82000, st};
  h.members = {{Member{"44130319850312123X", "张三明", "head", 2, "physical", true, true}}, st};
  Alert a;
  a.id = RecordId{kCity, 3};
  a.household = h.id;
  a.generation = 1;
  a.indicators = {{"serious_illness", 4, 20261101}, {"unemployment", 4, 20261102}};
  a.score = 8;
  a.level = 2;
  a.issued_date = 20261123;
  a.due_date = 20261130;
  a.state = AlertState::kAccepted;
  a.aliases = {RecordId{kTownship, 1}};
  a.escalated_at_us = 1795454091510488;
  HistoryEntry e{RecordId{kVillage, 9}, h.id, st.hlc, "feedback", a.id, "verified", true,
                 Feedback{a.id, 20261124, "home_visit", "王", true, "病", {"health"}, "referral", "medical"}};
  DeptEvent ev{"medical_insurance", "YB-1", "44130319850312123X", "serious_illness", 20261101, kCity, st.hlc};
  std::string items;
  for (int i = 0; i < 8; ++i) append_to_sync_batch(items, encode_sync(HouseholdSync{h, {a}, {e}, {ev}}));
  const std::string batch = seal_sync_batch(items);
  return {{"household", encode_household(h)},
          {"alert", encode_alert(a)},
          {"history", encode_history(e)},
          {"event", encode_event(ev)},
          {"sync", encode_sync(HouseholdSync{h, {a}, {e}, {ev}})},
          {"sync_batch", batch},
          {"sync_batch_zstd", compress_sync_batch(batch).value_or(batch)}};
}

}  // namespace
}  // namespace lifeline::protocol

namespace {

int write_all(const std::string& dir, const std::vector<std::pair<std::string, std::string>>& files) {
  for (const auto& [name, bytes] : files) {
    std::string path = dir + "/" + name + ".bin";
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    if (!out) {
      std::fprintf(stderr, "cannot write %s\n", path.c_str());
      return 1;
    }
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2 && argc != 3) {
    std::fprintf(stderr, "usage: %s <directory> [<domain directory>]\n", argv[0]);
    return 2;
  }
  if (argc == 3 && write_all(argv[2], lifeline::protocol::domain_corpus()) != 0) return 1;
  for (const auto& [name, bytes] : lifeline::protocol::corpus()) {
    std::string path = std::string(argv[1]) + "/" + name + ".bin";
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    if (!out) {
      std::fprintf(stderr, "cannot write %s\n", path.c_str());
      return 1;
    }
  }
  return 0;
}
