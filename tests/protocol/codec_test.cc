// Tests of protocol/codec: round trips of every frame kind, each limit for
// untrusted bytes, hand-crafted hostile messages, and a seeded random-input
// test (mutations of valid encodings and random buffers).
#include "protocol/codec.h"

#include <capnp/message.h>
#include <capnp/serialize.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "protocol/link.capnp.h"

namespace lifeline::protocol {
namespace {

constexpr uint64_t kCity = 441300000000;      // 惠州市
constexpr uint64_t kCounty = 441302000000;    // 惠城区
constexpr uint64_t kTownship = 441302001000;  // 桥东街道
constexpr uint64_t kVillage = 441302001001;
constexpr uint16_t kTestKind = static_cast<uint16_t>(MessageKind::kTest);

// ---- Frames and byte helpers -----------------------------------------------

Record make_record(uint64_t link_seq, std::string payload = "payload") {
  return Record{.link_seq = link_seq,
                .origin = kVillage,
                .origin_seq = link_seq + 100,
                .destination = kCity,
                .kind = kTestKind,
                .hlc = (uint64_t{1'700'000'000'000} << 16) | link_seq,
                .payload = std::move(payload)};
}

Frame data_frame(std::vector<Record> records) {
  return Frame{.sender = kTownship, .ack = 42, .body = Data{std::move(records)}};
}

Frame hello_frame() {
  return Frame{.sender = kTownship, .ack = 7, .body = Hello{.last_applied = 9, .want_reply = true}, .features = kFeatures};
}
Frame heartbeat_frame() {
  return Frame{.sender = kCounty, .ack = 0, .body = Heartbeat{.sent_at_us = 123456789, .echo = true}};
}
Frame ack_only_frame() { return Frame{.sender = kCity, .ack = UINT64_MAX, .body = AckOnly{}}; }

// One valid frame of each kind, small enough to mutate quickly.
std::vector<Frame> sample_frames() {
  std::vector<Record> records;
  const std::array<size_t, 6> lengths = {0, 1, 7, 8, 9, 40};
  for (size_t i = 0; i < lengths.size(); ++i) records.push_back(make_record(3 + 2 * i, std::string(lengths[i], 'a' + i)));
  return {hello_frame(), data_frame(records), data_frame({}), heartbeat_frame(), ack_only_frame()};
}

// Decodes from word-aligned memory (the in-place path).
Result<Frame> decode_aligned(const std::string& bytes) {
  std::vector<uint64_t> words(bytes.size() / 8 + 1);
  std::memcpy(words.data(), bytes.data(), bytes.size());
  return decode_frame(std::as_bytes(std::span(reinterpret_cast<const char*>(words.data()), bytes.size())));
}

// Decodes from memory at an odd address (the copying path).
Result<Frame> decode_unaligned(const std::string& bytes) {
  std::vector<char> buffer(bytes.size() + 1);
  std::copy(bytes.begin(), bytes.end(), buffer.begin() + 1);
  const char* start = buffer.data() + 1;
  EXPECT_NE(reinterpret_cast<uintptr_t>(start) % 8, 0u);
  return decode_frame(std::as_bytes(std::span(start, bytes.size())));
}

// Expects a refusal whose reason mentions `reason_part`.
void expect_refused(const std::string& bytes, const std::string& reason_part) {
  Result<Frame> result = decode_aligned(bytes);
  ASSERT_FALSE(result.is_ok()) << "expected a refusal mentioning '" << reason_part << "'";
  EXPECT_EQ(result.status().code(), Status::Code::kInvalidArgument);
  EXPECT_NE(result.status().message().find(reason_part), std::string::npos) << result.status().message();
}

void expect_round_trip(const Frame& frame) {
  std::string bytes = encode_frame(frame);
  Result<Frame> decoded = decode_aligned(bytes);
  ASSERT_TRUE(decoded.is_ok()) << decoded.status().to_string();
  EXPECT_EQ(*decoded, frame);
}

// ---- Hand-built messages ------------------------------------------------------

// Raw pointer words (little-endian hosts), as in Cap'n Proto's encoding spec.
uint64_t struct_pointer(int32_t offset, uint16_t data_words, uint16_t pointers) {
  return uint64_t{static_cast<uint32_t>(offset) << 2} | uint64_t{data_words} << 32 | uint64_t{pointers} << 48;
}
uint64_t list_pointer(int32_t offset, uint64_t element_size, uint64_t count) {
  return 1 | uint64_t{static_cast<uint32_t>(offset) << 2} | element_size << 32 | count << 35;
}
constexpr uint64_t kByteElements = 2;
constexpr uint64_t kInlineComposite = 7;

// A one-segment message holding `segment`.
std::string raw_message(const std::vector<uint64_t>& segment) {
  std::vector<uint64_t> words = {uint64_t{segment.size()} << 32};  // 1 segment of this size
  words.insert(words.end(), segment.begin(), segment.end());
  return std::string(reinterpret_cast<const char*>(words.data()), words.size() * 8);
}

// Root Frame (sender kTownship, data body) whose Data struct's records
// pointer is `records_pointer` at word 5; `rest` follows from word 6.
std::vector<uint64_t> data_message_prefix(uint64_t records_pointer) {
  return {struct_pointer(0, 3, 1), kTownship, 0, schema::Frame::DATA, struct_pointer(0, 0, 1), records_pointer};
}

// A Data frame of `count` records whose payload pointers all point at one
// shared blob of `blob_bytes`: tiny on the wire, large once decoded.
std::string shared_payload_message(uint32_t count, uint32_t blob_bytes) {
  std::vector<uint64_t> words = data_message_prefix(list_pointer(0, kInlineComposite, count * 7));
  words.push_back(struct_pointer(static_cast<int32_t>(count), 6, 1));  // tag: count records of 6+1 words
  const size_t blob_start = words.size() + count * 7;
  for (uint32_t i = 0; i < count; ++i) {
    words.insert(words.end(), {i + 1, kVillage, i + 1, kCity, kTestKind, 0});
    int32_t offset = static_cast<int32_t>(blob_start - (words.size() + 1));
    words.push_back(list_pointer(offset, kByteElements, blob_bytes));
  }
  words.resize(blob_start + (blob_bytes + 7) / 8, 0x6161616161616161);
  return raw_message(words);
}

// ---- Round trips ----------------------------------------------------------------

TEST(CodecTest, RoundTripsHello) { expect_round_trip(hello_frame()); }
TEST(CodecTest, RoundTripsHeartbeat) { expect_round_trip(heartbeat_frame()); }
TEST(CodecTest, RoundTripsAckOnly) { expect_round_trip(ack_only_frame()); }
TEST(CodecTest, RoundTripsDataWithRecords) {
  expect_round_trip(data_frame({make_record(1), make_record(2, "x"), make_record(10, std::string(256, 'z'))}));
}
TEST(CodecTest, RoundTripsDataWithoutRecords) { expect_round_trip(data_frame({})); }

TEST(CodecTest, RoundTripsEmptyAndMaximumPayloads) {
  expect_round_trip(data_frame({make_record(1, ""), make_record(2, std::string(kMaxPayloadBytes, '\xff')),
                                make_record(3, "")}));
}

TEST(CodecTest, RoundTripsMaximumRecordCount) {
  std::vector<Record> records;
  for (uint64_t seq = 1; seq <= kMaxRecordsPerFrame; ++seq) records.push_back(make_record(seq, ""));
  expect_round_trip(data_frame(std::move(records)));
}

TEST(CodecTest, AcceptsUint8Span) {
  std::string bytes = encode_frame(hello_frame());
  std::vector<uint64_t> words(bytes.size() / 8);
  std::memcpy(words.data(), bytes.data(), bytes.size());
  Result<Frame> decoded = decode_frame(std::span(reinterpret_cast<const uint8_t*>(words.data()), bytes.size()));
  ASSERT_TRUE(decoded.is_ok());
  EXPECT_EQ(*decoded, hello_frame());
}

TEST(CodecTest, DecodesUnalignedInputTheSame) {
  for (const Frame& frame : sample_frames()) {
    Result<Frame> decoded = decode_unaligned(encode_frame(frame));
    ASSERT_TRUE(decoded.is_ok()) << decoded.status().to_string();
    EXPECT_EQ(*decoded, frame);
  }
}

// encode_frame sizes its first segment exactly, so even a large frame is one
// segment (no far pointers, one allocation).
TEST(CodecTest, EncodesLargeFrameAsOneSegment) {
  std::vector<Record> records;
  for (uint64_t seq = 1; seq <= 4000; ++seq) records.push_back(make_record(seq, std::string(256 + seq % 9, 'p')));
  std::string bytes = encode_frame(data_frame(std::move(records)));
  uint32_t segments_minus_one = 0;
  std::memcpy(&segments_minus_one, bytes.data(), sizeof segments_minus_one);
  EXPECT_EQ(segments_minus_one, 0u);
}

TEST(CodecTest, DecodesMultiSegmentMessages) {
  capnp::MallocMessageBuilder message(1, capnp::AllocationStrategy::FIXED_SIZE);
  auto root = message.initRoot<schema::Frame>();
  root.setSender(kTownship);
  auto record = root.initData().initRecords(1)[0];
  record.setLinkSeq(5);
  record.setOrigin(kVillage);
  record.setDestination(kCity);
  record.setKind(kTestKind);
  record.setPayload(kj::StringPtr("hello").asBytes());
  kj::Array<capnp::word> flat = capnp::messageToFlatArray(message);
  std::string bytes(reinterpret_cast<const char*>(flat.begin()), flat.size() * sizeof(capnp::word));
  ASSERT_GT(message.getSegmentsForOutput().size(), 1u);

  Result<Frame> decoded = decode_aligned(bytes);
  ASSERT_TRUE(decoded.is_ok()) << decoded.status().to_string();
  Record expected{.link_seq = 5, .origin = kVillage, .destination = kCity, .kind = kTestKind, .payload = "hello"};
  EXPECT_EQ(*decoded, (Frame{.sender = kTownship, .ack = 0, .body = Data{{expected}}}));
}

// ---- Sizes --------------------------------------------------------------------------

TEST(CodecTest, RefusesEmptyInput) { expect_refused("", "empty frame"); }

TEST(CodecTest, RefusesInputOverFrameLimit) {
  std::string bytes = encode_frame(hello_frame());
  bytes.resize(kMaxFrameBytes + 8, '\0');
  expect_refused(bytes, "frame of 8388616 bytes exceeds the size limit");
}

TEST(CodecTest, RefusesFrameOverLimitEvenIfWellFormed) {
  std::vector<Record> records;
  for (uint64_t seq = 1; seq <= kMaxFrameBytes / kMaxPayloadBytes; ++seq) {
    records.push_back(make_record(seq, std::string(kMaxPayloadBytes, 'm')));
  }
  std::string bytes = encode_frame(data_frame(std::move(records)));
  ASSERT_GT(bytes.size(), kMaxFrameBytes);
  expect_refused(bytes, "exceeds the size limit");
}

TEST(CodecTest, RefusesSizeThatIsNotWholeWords) {
  std::string bytes = encode_frame(heartbeat_frame());
  for (size_t extra = 1; extra < 8; ++extra) {
    SCOPED_TRACE(extra);
    expect_refused(bytes + std::string(extra, '\0'), "not a whole number of words");
    expect_refused(bytes.substr(0, bytes.size() - extra), "not a whole number of words");
  }
}

TEST(CodecTest, RefusesTrailingBytes) {
  std::string bytes = encode_frame(hello_frame());
  expect_refused(bytes + std::string(8, '\0'), "after the end");
  expect_refused(bytes + bytes, "after the end");
}

TEST(CodecTest, RefusesEveryTruncationOfValidFrames) {
  for (const Frame& frame : sample_frames()) {
    std::string bytes = encode_frame(frame);
    for (size_t length = 0; length < bytes.size(); ++length) {
      ASSERT_FALSE(decode_aligned(bytes.substr(0, length)).is_ok()) << "length " << length << " of " << bytes.size();
      ASSERT_FALSE(decode_unaligned(bytes.substr(0, length)).is_ok()) << "length " << length << " of " << bytes.size();
    }
  }
}

// ---- Record and header rules --------------------------------------------------------

TEST(CodecTest, RefusesTooManyRecords) {
  std::vector<Record> records;
  for (uint64_t seq = 1; seq <= kMaxRecordsPerFrame + 1; ++seq) records.push_back(make_record(seq, ""));
  expect_refused(encode_frame(data_frame(std::move(records))), "16385 records exceed the limit");
}

TEST(CodecTest, RefusesPayloadOverLimit) {
  expect_refused(encode_frame(data_frame({make_record(1), make_record(2, std::string(kMaxPayloadBytes + 1, 'x'))})),
                 "record 1: payload of 1048577 bytes exceeds the limit");
}

TEST(CodecTest, RefusesInvalidSenderCode) {
  for (uint64_t sender : {uint64_t{0}, uint64_t{1234}, uint64_t{440000000001}, uint64_t{1'000'000'000'000}}) {
    SCOPED_TRACE(sender);
    Frame frame = hello_frame();
    frame.sender = sender;
    expect_refused(encode_frame(frame), "sender");
  }
}

TEST(CodecTest, RefusesInvalidOriginOrDestinationCode) {
  Record bad_origin = make_record(2);
  bad_origin.origin = 7;
  expect_refused(encode_frame(data_frame({make_record(1), bad_origin})), "record 1: origin 7");
  Record bad_destination = make_record(1);
  bad_destination.destination = 0;
  expect_refused(encode_frame(data_frame({bad_destination})), "record 0: destination 0");
}

TEST(CodecTest, RefusesKindZero) {
  Record record = make_record(1);
  record.kind = 0;
  expect_refused(encode_frame(data_frame({record})), "kind 0");
}

TEST(CodecTest, RefusesLinkSeqZero) { expect_refused(encode_frame(data_frame({make_record(0)})), "link_seq 0"); }

TEST(CodecTest, RefusesLinkSeqThatDoesNotIncrease) {
  expect_refused(encode_frame(data_frame({make_record(4), make_record(4)})), "record 1: link_seq 4 after 4");
  expect_refused(encode_frame(data_frame({make_record(4), make_record(5), make_record(3)})), "record 2: link_seq 3");
}

TEST(CodecTest, RefusesUnknownBodyKind) {
  std::string bytes = encode_frame(ack_only_frame());
  // Segment table, root pointer, sender, ack, then the union discriminant.
  constexpr size_t kDiscriminantOffset = 8 + 8 + 16;
  ASSERT_EQ(static_cast<uint8_t>(bytes[kDiscriminantOffset]), schema::Frame::ACK_ONLY);
  bytes[kDiscriminantOffset] = 9;
  expect_refused(bytes, "unknown body 9");
}

// ---- Hostile Cap'n Proto structures --------------------------------------------------

TEST(CodecTest, RefusesAmplifiedListOfEmptyStructs) {
  // The records list claims 2^29-1 records of zero words each: eight bytes on
  // the wire, and the traversal limit must stop it before the record count.
  std::vector<uint64_t> words = data_message_prefix(list_pointer(0, kInlineComposite, 0));
  words.push_back(struct_pointer((1 << 29) - 1, 0, 0));  // the largest count a tag holds
  expect_refused(raw_message(words), "traversal limit");
}

TEST(CodecTest, RefusesSharedPayloadsOverTraversalLimit) {
  // 20 records share one 1 MiB payload: 1 MiB on the wire, 20 MiB to read.
  expect_refused(shared_payload_message(20, kMaxPayloadBytes), "traversal limit");
}

TEST(CodecTest, RefusesSharedPayloadsThatDecodeOverFrameLimit) {
  // Within the traversal limit, but the decoded frame would not fit in one.
  std::string bytes = shared_payload_message(10, kMaxPayloadBytes);
  ASSERT_LT(bytes.size(), kMaxFrameBytes);
  expect_refused(bytes, "size limit");
  // The same structure at a harmless size decodes.
  ASSERT_TRUE(decode_aligned(shared_payload_message(3, 1000)).is_ok());
}

TEST(CodecTest, RefusesPointersOfTheWrongKindOrOutOfBounds) {
  {
    SCOPED_TRACE("root is a list pointer");
    expect_refused(raw_message({list_pointer(0, kByteElements, 8), 0}), "capnp");
  }
  {
    SCOPED_TRACE("root struct past the segment end");
    expect_refused(raw_message({struct_pointer(5, 3, 1), kTownship}), "capnp");
  }
  {
    SCOPED_TRACE("records list past the segment end");
    expect_refused(raw_message(data_message_prefix(list_pointer(0, kInlineComposite, 7))), "capnp");
  }
  {
    SCOPED_TRACE("segment table claims more segments than the buffer holds");
    expect_refused(std::string("\xff\xff\xff\x7f\x01\x00\x00\x00", 8) + std::string(8, '\0'), "capnp");
  }
}

TEST(CodecTest, RefusesNullRootAsInvalidSender) { expect_refused(raw_message({0}), "sender 0"); }

// ---- Seeded random inputs --------------------------------------------------------------

// How each random input is made; the labels name the case in failure messages.
enum class Mutation { kRandomBytes, kRandomAfterHeader, kBitFlips, kTruncate, kSplice, kOverwriteWord, kCount };

std::string random_bytes(std::mt19937_64& rng, size_t length) {
  std::string bytes(length, '\0');
  for (char& c : bytes) c = static_cast<char>(rng());
  return bytes;
}

std::string mutate(std::mt19937_64& rng, Mutation how, const std::vector<std::string>& valid) {
  const std::string& base = valid[rng() % valid.size()];
  std::string bytes = base;
  switch (how) {
    case Mutation::kRandomBytes:
      return random_bytes(rng, rng() % 4097);
    case Mutation::kRandomAfterHeader: {  // a plausible one-segment table, random body
      uint64_t header = (rng() % 512) << 32;
      return std::string(reinterpret_cast<const char*>(&header), 8) + random_bytes(rng, (header >> 32) * 8);
    }
    case Mutation::kBitFlips:
      for (int flips = 1 + rng() % 4; flips > 0; --flips) bytes[rng() % bytes.size()] ^= 1 << (rng() % 8);
      return bytes;
    case Mutation::kTruncate:
      return bytes.substr(0, rng() % bytes.size());
    case Mutation::kSplice: {
      const std::string& other = valid[rng() % valid.size()];
      return bytes.substr(0, rng() % (bytes.size() + 1)) + other.substr(rng() % (other.size() + 1));
    }
    case Mutation::kOverwriteWord: {
      uint64_t value = rng() % 2 ? rng() : rng() % 64;
      std::memcpy(&bytes[8 * (rng() % (bytes.size() / 8))], &value, sizeof value);
      return bytes;
    }
    case Mutation::kCount:
      break;
  }
  return bytes;
}

// Decoding must not crash; a frame that decodes must re-encode to one that
// decodes equal, and the aligned and unaligned paths must agree.
void check_input(const std::string& input, uint64_t seed, size_t& decoded_count) {
  Result<Frame> decoded = decode_aligned(input);
  Result<Frame> unaligned = decode_unaligned(input);
  ASSERT_EQ(decoded.is_ok(), unaligned.is_ok()) << "seed " << seed;
  if (!decoded.is_ok()) return;
  ++decoded_count;
  ASSERT_EQ(*decoded, *unaligned) << "seed " << seed;
  Result<Frame> again = decode_aligned(encode_frame(*decoded));
  ASSERT_TRUE(again.is_ok()) << "seed " << seed << ": " << again.status().to_string();
  ASSERT_EQ(*again, *decoded) << "seed " << seed;
}

TEST(CodecRandomTest, RandomAndMutatedInputsNeverCrashAndRoundTrip) {
  constexpr uint64_t kSeeds = 200'000;
  std::vector<std::string> valid;
  for (const Frame& frame : sample_frames()) valid.push_back(encode_frame(frame));
  std::array<size_t, static_cast<size_t>(Mutation::kCount)> decoded{};
  for (uint64_t seed = 1; seed <= kSeeds; ++seed) {
    std::mt19937_64 rng(seed);
    auto how = static_cast<Mutation>(seed % static_cast<uint64_t>(Mutation::kCount));
    check_input(mutate(rng, how, valid), seed, decoded[static_cast<size_t>(how)]);
    if (HasFatalFailure()) return;
  }
  // Mutations of valid frames must sometimes still decode, or the
  // round-trip half of this test would never run.
  EXPECT_GT(decoded[static_cast<size_t>(Mutation::kBitFlips)], 0u);
  EXPECT_GT(decoded[static_cast<size_t>(Mutation::kOverwriteWord)], 0u);
}

}  // namespace
}  // namespace lifeline::protocol
