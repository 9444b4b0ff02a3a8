#include "node/runtime/control.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <optional>
#include <vector>
#include <zmq.hpp>

#include "node/runtime/system_clock.h"
#include "topology/utf8.h"

namespace lifeline::runtime {
namespace {

using nlohmann::json;

std::string iso_time(int64_t wall_us) {
  if (wall_us <= 0) return "";
  time_t secs = static_cast<time_t>(wall_us / 1000000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[40];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  char out[48];
  std::snprintf(out, sizeof out, "%s.%03dZ", buf, static_cast<int>((wall_us / 1000) % 1000));
  return out;
}

// The names of the protocol features a peer announced (protocol/README.md).
json peer_features(uint64_t bits) {
  json names = json::array();
  if ((bits & protocol::kFeatureZstdBatches) != 0) names.push_back("zstd_batches");
  return names;
}

json link_json(const node::LinkStatus& l) {
  return json{{"peer", topology::DivisionCode::format(l.peer)},
              {"role", l.role == node::LinkRole::kParent ? "parent" : "child"},
              {"state", node::link_state_name(l.state)},
              {"since", iso_time(l.since_wall_us)},
              {"rtt_ms", l.rtt_us < 0 ? json(nullptr) : json(l.rtt_us / 1000.0)},
              {"last_sent", l.last_sent},
              {"last_acked", l.last_acked},
              {"last_applied", l.last_applied},
              {"last_assigned", l.last_assigned},
              {"outbox_depth", l.outbox_depth},
              {"refusals", l.refusals},
              {"malformed_frames", l.malformed_frames},
              {"peer_features", peer_features(l.peer_features)}};
}

}  // namespace

json status_json(const NodeOptions& options, const node::NodeCore& core, const storage::Store& store, bool running,
                 uint64_t auth_refusals) {
  node::NodeStatus st = core.status();
  json links = json::array();
  for (const auto& l : st.links) links.push_back(link_json(l));
  return json{{"code", options.code.to_string()},
              {"level", topology::level_name(options.code.level())},
              {"name", options.name},
              {"running", running},
              {"auth_refusals", auth_refusals},
              {"links", links},
              {"counters", st.counters},
              {"store", {{"map_mb", store.map_bytes() >> 20}, {"used_mb", store.used_bytes() / 1048576.0}}}};
}

Result<json> inbox_json(const storage::Store& store, uint64_t self) {
  json applied = json::object(), others = json::object();
  Status s = store.read([&](const storage::ReadTxn& txn) {
    for (const storage::StreamMark& m : txn.stream_marks()) {
      if (m.destination & storage::kMonitorChannel) continue;  // monitoring messages are not test messages
      json entry{{"count", m.count}, {"contiguous_through", m.contiguous_through}, {"out_of_order", m.out_of_order}};
      if (m.destination == self) {
        applied[topology::DivisionCode::format(m.origin)] = entry;
      } else {
        others[topology::DivisionCode::format(m.destination)][topology::DivisionCode::format(m.origin)] = entry;
      }
    }
  });
  if (!s) return s;
  json out{{"applied", applied}};
  if (!others.empty()) out["applied_for_other_destinations"] = others;
  return out;
}

Result<json> digest_json(const storage::Store& store) {
  json tables = json::object(), outbox = json::object();
  Status s = store.read([&](const storage::ReadTxn& txn) {
    for (size_t i = 0; i < static_cast<size_t>(storage::Table::kCount); ++i) {
      auto t = static_cast<storage::Table>(i);
      uint64_t h = 1469598103934665603ull, n = 0;
      auto mix = [&h](std::string_view bytes) {
        for (unsigned char c : bytes) h = (h ^ c) * 1099511628211ull;
        h = (h ^ 0xff) * 1099511628211ull;  // field separator
      };
      txn.scan(t, {}, [&](std::string_view k, std::string_view v) {
        mix(k);
        mix(v);
        ++n;
        return true;
      });
      char hex[17];
      std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(h));
      tables[storage::table_name(t)] = json{{"entries", n}, {"hash", hex}};
    }
    for (const auto& [peer, cursor] : txn.all_cursors())
      outbox[topology::DivisionCode::format(peer)] = txn.outbox_seqs(peer).size();
  });
  if (!s) return s;
  return json{{"tables", tables}, {"outbox", outbox}};
}

Result<PostRequest> parse_post(const json& request) {
  PostRequest p;
  if (!request.contains("to") || !request["to"].is_string()) return Status::invalid_argument("post needs \"to\": a 12-digit code");
  auto code = topology::DivisionCode::parse(request["to"].get<std::string>());
  if (!code) return code.status();
  p.to = code->number();
  auto bounded = [&](const char* key, uint32_t& out, uint64_t lo, uint64_t hi) -> Status {
    if (!request.contains(key)) return Status::ok();
    const json& v = request[key];
    if (!v.is_number_unsigned() || v.get<uint64_t>() < lo || v.get<uint64_t>() > hi)
      return Status::invalid_argument(std::string(key) + " must be an integer between " + std::to_string(lo) + " and " +
                                      std::to_string(hi));
    out = static_cast<uint32_t>(v.get<uint64_t>());
    return Status::ok();
  };
  Status s = bounded("count", p.count, 1, 100'000'000);
  if (s) s = bounded("size", p.size, 0, 1u << 20);
  if (!s) return s;
  return p;
}

Result<NodeLock> NodeLock::acquire(const std::string& data_dir) {
  std::error_code ec;
  std::filesystem::create_directories(data_dir, ec);
  std::string path = data_dir + "/node.lock";
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return Status::io_error("cannot open " + path + ": " + std::strerror(errno));
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    int err = errno;
    ::close(fd);
    if (err == EWOULDBLOCK) return Status::unavailable("node at " + data_dir + " is running");
    return Status::io_error("cannot lock " + path + ": " + std::strerror(err));
  }
  return NodeLock(fd);
}

NodeLock::~NodeLock() {
  if (fd_ >= 0) ::close(fd_);  // releases the flock
}

namespace {

constexpr std::string_view kBase64Suffix = "_base64";
constexpr std::string_view kBase64Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

std::string base64_encode(std::string_view in) {
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  for (size_t i = 0; i < in.size(); i += 3) {
    uint32_t n = static_cast<uint32_t>(static_cast<unsigned char>(in[i])) << 16;
    if (i + 1 < in.size()) n |= static_cast<uint32_t>(static_cast<unsigned char>(in[i + 1])) << 8;
    if (i + 2 < in.size()) n |= static_cast<unsigned char>(in[i + 2]);
    out += kBase64Alphabet[(n >> 18) & 63];
    out += kBase64Alphabet[(n >> 12) & 63];
    out += i + 1 < in.size() ? kBase64Alphabet[(n >> 6) & 63] : '=';
    out += i + 2 < in.size() ? kBase64Alphabet[n & 63] : '=';
  }
  return out;
}

std::optional<std::string> base64_decode(std::string_view in) {
  if (in.size() % 4 != 0) return std::nullopt;
  std::string out;
  out.reserve(in.size() / 4 * 3);
  for (size_t i = 0; i < in.size(); i += 4) {
    uint32_t n = 0;
    int pad = 0;
    for (size_t k = 0; k < 4; ++k) {
      const char c = in[i + k];
      const size_t v = kBase64Alphabet.find(c);
      if (c == '=' && i + 4 == in.size() && k >= 2) {
        ++pad;
      } else if (v == std::string_view::npos || pad > 0) {
        return std::nullopt;
      }
      n = (n << 6) | (v == std::string_view::npos ? 0 : static_cast<uint32_t>(v));
    }
    out += static_cast<char>((n >> 16) & 0xFF);
    if (pad < 2) out += static_cast<char>((n >> 8) & 0xFF);
    if (pad < 1) out += static_cast<char>(n & 0xFF);
  }
  return out;
}

}  // namespace

std::string control_request_text(const json& request) {
  if (!request.is_object()) return request.dump(-1, ' ', false, json::error_handler_t::replace);
  json out = json::object();
  for (const auto& [key, value] : request.items()) {
    if (value.is_string() && !topology::valid_utf8(value.get_ref<const std::string&>())) {
      out[key + std::string(kBase64Suffix)] = base64_encode(value.get_ref<const std::string&>());
    } else {
      out[key] = value;
    }
  }
  return out.dump(-1, ' ', false, json::error_handler_t::replace);
}

void restore_control_request(json& request) {
  if (!request.is_object()) return;
  std::vector<std::string> encoded;
  for (const auto& [key, value] : request.items()) {
    if (key.size() > kBase64Suffix.size() && key.ends_with(kBase64Suffix) && value.is_string()) encoded.push_back(key);
  }
  for (const std::string& key : encoded) {
    auto bytes = base64_decode(request[key].get_ref<const std::string&>());
    const std::string plain = key.substr(0, key.size() - kBase64Suffix.size());
    request.erase(key);
    // A malformed encoding is left out: the command then misses the field
    // and says so.
    if (bytes) request[plain] = std::move(*bytes);
  }
}

Result<json> control_request(const std::string& endpoint, const json& request, int timeout_ms) {
  try {
    zmq::context_t ctx(1);
    zmq::socket_t req(ctx, zmq::socket_type::req);
    req.set(zmq::sockopt::linger, 0);
    req.set(zmq::sockopt::rcvtimeo, timeout_ms);
    req.set(zmq::sockopt::sndtimeo, timeout_ms);
    req.connect(endpoint);
    std::string text = control_request_text(request);
    if (!req.send(zmq::buffer(text))) return Status::unavailable("node did not take the request at " + endpoint);
    zmq::message_t reply;
    if (!req.recv(reply)) return Status::unavailable("node did not answer at " + endpoint + " within " +
                                                     std::to_string(timeout_ms) + " ms");
    json out = json::parse(reply.to_string_view(), nullptr, false);
    if (out.is_discarded()) return Status::corruption("node answered with malformed JSON");
    return out;
  } catch (const zmq::error_t& e) {
    return Status::unavailable(std::string("control socket ") + endpoint + ": " + e.what());
  }
}

}  // namespace lifeline::runtime
