#include "protocol/codec.h"

#include <capnp/message.h>
#include <capnp/serialize.h>
#include <kj/exception.h>

#include <cstdint>
#include <cstring>
#include <exception>
#include <string>
#include <utility>
#include <variant>

#include "protocol/link.capnp.h"
#include "topology/division_code.h"

namespace lifeline::protocol {
namespace {

constexpr size_t kWordBytes = sizeof(capnp::word);
// Longest Cap'n Proto error text kept in a refusal: enough to tell truncation
// from a traversal limit, short enough for one log line.
constexpr size_t kMaxReasonChars = 160;

// One visitor from several lambdas (std::visit over a frame's body).
template <typename... Ts>
struct Overloaded : Ts... {
  using Ts::operator()...;
};
template <typename... Ts>
Overloaded(Ts...) -> Overloaded<Ts...>;  // clang 14 has no aggregate deduction

// ---- Sizes of the canonical encoding ----------------------------------------

// Words of one struct of schema type S (data section plus pointer section).
template <typename S>
constexpr size_t struct_words() {
  return S::_capnpPrivate::dataWordSize + S::_capnpPrivate::pointerCount;
}

size_t data_words(size_t bytes) { return (bytes + kWordBytes - 1) / kWordBytes; }

size_t body_words(const Frame& frame) {
  return std::visit(
      Overloaded{
          [](const Hello&) { return struct_words<schema::Hello>(); },
          [](const Heartbeat&) { return struct_words<schema::Heartbeat>(); },
          [](const AckOnly&) { return size_t{0}; },
          [](const Data& data) {
            // The Data struct, the list's tag word, then each record and its payload.
            size_t words = struct_words<schema::DataBody>() + 1;
            for (const Record& record : data.records) {
              words += struct_words<schema::Record>() + data_words(record.payload.size());
            }
            return words;
          },
      },
      frame.body);
}

// Words that encode_frame produces for `frame`: segment table, root pointer,
// the Frame struct and its body, all in one segment. Must be exact: encoding
// builds in a buffer of this size. Also bounds what a decoded frame
// re-encodes to.
size_t encoded_words(const Frame& frame) { return 1 + 1 + struct_words<schema::Frame>() + body_words(frame); }

// ---- Encoding ---------------------------------------------------------------

void encode_record(const Record& record, schema::Record::Builder out) {
  out.setLinkSeq(record.link_seq);
  out.setOrigin(record.origin);
  out.setOriginSeq(record.origin_seq);
  out.setDestination(record.destination);
  out.setKind(record.kind);
  out.setHlc(record.hlc);
  if (!record.payload.empty()) {
    out.setPayload(kj::arrayPtr(reinterpret_cast<const kj::byte*>(record.payload.data()), record.payload.size()));
  }
}

void encode_body(const Frame& frame, schema::Frame::Builder out) {
  std::visit(Overloaded{
                 [&](const Hello& hello) {
                   auto body = out.initHello();
                   body.setLastApplied(hello.last_applied);
                   body.setWantReply(hello.want_reply);
                 },
                 [&](const Data& data) {
                   auto records = out.initData().initRecords(static_cast<unsigned>(data.records.size()));
                   for (size_t i = 0; i < data.records.size(); ++i) encode_record(data.records[i], records[i]);
                 },
                 [&](const Heartbeat& heartbeat) {
                   auto body = out.initHeartbeat();
                   body.setSentAtUs(heartbeat.sent_at_us);
                   body.setEcho(heartbeat.echo);
                 },
                 [&](const AckOnly&) { out.setAckOnly(); },
             },
             frame.body);
}

void encode_root(const Frame& frame, capnp::MessageBuilder& message) {
  auto root = message.initRoot<schema::Frame>();
  root.setSender(frame.sender);
  root.setAck(frame.ack);
  root.setFeatures(frame.features);
  encode_body(frame, root);
}

// Standard framing for one segment: (segment count - 1) = 0, then the
// segment's size in words, both little-endian uint32.
void write_segment_table(size_t segment_words, std::string& out) {
  for (int i = 0; i < 4; ++i) {
    out[i] = 0;
    out[4 + i] = static_cast<char>((segment_words >> (8 * i)) & 0xff);
  }
}

// ---- Decoding ---------------------------------------------------------------

Status refuse(std::string reason) { return Status::invalid_argument(std::move(reason)); }

bool valid_code(uint64_t number) { return topology::DivisionCode::or_invalid(number).valid(); }

// Checks one record and copies it into `out`. `previous_seq` is the link
// sequence of the record before it in the frame (0 for the first).
Status decode_record(schema::Record::Reader in, uint64_t previous_seq, Record& out) {
  out.link_seq = in.getLinkSeq();
  if (out.link_seq == 0) return refuse("link_seq 0");
  if (out.link_seq <= previous_seq) {
    return refuse("link_seq " + std::to_string(out.link_seq) + " after " + std::to_string(previous_seq));
  }
  out.origin = in.getOrigin();
  if (!valid_code(out.origin)) return refuse("origin " + std::to_string(out.origin) + " is not a division code");
  out.destination = in.getDestination();
  if (!valid_code(out.destination)) {
    return refuse("destination " + std::to_string(out.destination) + " is not a division code");
  }
  out.kind = in.getKind();
  if (out.kind == 0) return refuse("kind 0");
  capnp::Data::Reader payload = in.getPayload();
  if (payload.size() > kMaxPayloadBytes) return refuse("payload of " + std::to_string(payload.size()) + " bytes exceeds the limit");
  out.payload.assign(reinterpret_cast<const char*>(payload.begin()), payload.size());
  out.origin_seq = in.getOriginSeq();
  out.hlc = in.getHlc();
  return Status::ok();
}

Status decode_data(schema::DataBody::Reader in, Data& out) {
  auto records = in.getRecords();
  if (records.size() > kMaxRecordsPerFrame) return refuse(std::to_string(records.size()) + " records exceed the limit");
  out.records.resize(records.size());
  uint64_t previous_seq = 0;
  for (unsigned i = 0; i < records.size(); ++i) {
    Status status = decode_record(records[i], previous_seq, out.records[i]);
    if (!status) return refuse("record " + std::to_string(i) + ": " + status.message());
    previous_seq = out.records[i].link_seq;
  }
  return Status::ok();
}

Status decode_body(schema::Frame::Reader in, Frame& out) {
  switch (in.which()) {
    case schema::Frame::HELLO: {
      auto hello = in.getHello();
      out.body = Hello{hello.getLastApplied(), hello.getWantReply()};
      return Status::ok();
    }
    case schema::Frame::DATA:
      return decode_data(in.getData(), out.body.emplace<Data>());
    case schema::Frame::HEARTBEAT: {
      auto heartbeat = in.getHeartbeat();
      out.body = Heartbeat{heartbeat.getSentAtUs(), heartbeat.getEcho()};
      return Status::ok();
    }
    case schema::Frame::ACK_ONLY:
      out.body = AckOnly{};
      return Status::ok();
  }
  return refuse("unknown body " + std::to_string(static_cast<unsigned>(in.which())));
}

Result<Frame> decode_root(schema::Frame::Reader in) {
  Frame frame;
  frame.sender = in.getSender();
  if (!valid_code(frame.sender)) return refuse("sender " + std::to_string(frame.sender) + " is not a division code");
  frame.ack = in.getAck();
  frame.features = in.getFeatures();
  if (Status status = decode_body(in, frame); !status) return status;
  // Pointers may share targets, so a small message can describe a large frame
  // (within the traversal limit). Refuse what would not fit in a frame of ours.
  if (encoded_words(frame) * kWordBytes > kMaxFrameBytes) return refuse("decoded frame exceeds the size limit");
  return frame;
}

std::string short_reason(const kj::Exception& e) {
  std::string reason(e.getDescription().cStr());
  if (reason.size() > kMaxReasonChars) reason.resize(kMaxReasonChars);
  return reason;
}

// Parses word-aligned bytes that stay alive for the call. Every Cap'n Proto
// error surfaces as a kj::Exception (Debian builds capnp with exceptions); it
// is caught here and nowhere else, so none escapes the codec.
Result<Frame> decode_words(kj::ArrayPtr<const capnp::word> words) {
  try {
    capnp::ReaderOptions options;
    options.traversalLimitInWords = kTraversalLimitWords;
    options.nestingLimit = kNestingLimit;
    capnp::FlatArrayMessageReader reader(words, options);
    if (reader.getEnd() != words.end()) return refuse("bytes after the end of the message");
    return decode_root(reader.getRoot<schema::Frame>());
  } catch (const kj::Exception& e) {
    return refuse("capnp: " + short_reason(e));
  } catch (const std::exception& e) {
    return refuse(e.what());
  } catch (...) {
    return refuse("unknown exception");
  }
}

}  // namespace

// Data frames are large and encoded often, so the message is built inside
// the returned string: its zeroed buffer, after the segment table, is the
// builder's one segment, sized exactly by encoded_words. The bytes are written
// once, with no segment allocation and no copy (messageToFlatArray would add
// both).
std::string encode_frame(const Frame& frame) {
  const size_t segment_words = encoded_words(frame) - 1;
  std::string out((segment_words + 1) * kWordBytes, '\0');
  auto* words = reinterpret_cast<capnp::word*>(out.data());
  LIFELINE_CHECK(reinterpret_cast<uintptr_t>(words) % alignof(capnp::word) == 0, "string buffer not word-aligned");
  try {
    capnp::FlatMessageBuilder message(kj::arrayPtr(words + 1, segment_words));
    encode_root(frame, message);
    message.requireFilled();
  } catch (const kj::Exception& e) {
    LIFELINE_CHECK(false, std::string("encoded_words disagrees with Cap'n Proto: ") + e.getDescription().cStr());
  }
  write_segment_table(segment_words, out);
  return out;
}

Result<Frame> decode_frame(std::span<const std::byte> bytes) {
  if (bytes.empty()) return refuse("empty frame");
  const std::string size = std::to_string(bytes.size());
  if (bytes.size() > kMaxFrameBytes) return refuse("frame of " + size + " bytes exceeds the size limit");
  if (bytes.size() % kWordBytes != 0) return refuse("frame of " + size + " bytes is not a whole number of words");
  size_t word_count = bytes.size() / kWordBytes;
  if (reinterpret_cast<uintptr_t>(bytes.data()) % alignof(capnp::word) == 0) {
    return decode_words(kj::arrayPtr(reinterpret_cast<const capnp::word*>(bytes.data()), word_count));
  }
  // ZeroMQ and LMDB buffers need not be word-aligned; Cap'n Proto requires it.
  kj::Array<capnp::word> copy = kj::heapArray<capnp::word>(word_count);
  std::memcpy(copy.begin(), bytes.data(), bytes.size());
  return decode_words(copy.asPtr());
}

}  // namespace lifeline::protocol
