// Writes the seed corpus for frame_decode_fuzz: one valid encoding of each
// frame kind and a few malformed frames, one file each.
//
//   make_corpus <directory>
//
// The files in tests/fuzz/corpus/ were written by this program; rerun it
// after a change to protocol/link.capnp.
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include "protocol/codec.h"

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

}  // namespace
}  // namespace lifeline::protocol

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s <directory>\n", argv[0]);
    return 2;
  }
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
