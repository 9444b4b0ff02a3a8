#include "node/runtime/zmq_links.h"

#include <zmq.h>

#include "protocol/codec.h"
#include "topology/logging.h"

namespace lifeline::runtime {
namespace {

constexpr const char* kZapEndpoint = "inproc://zeromq.zap.01";
constexpr const char* kZapDomain = "lifeline";
constexpr int kZmtpHeartbeatMs = 1000;         // ROUTER pings each child connection this often...
constexpr int kZmtpHeartbeatTimeoutMs = 5000;  // ...and closes one that has not answered for this long

std::string z85_to_raw(const std::string& z85) {
  std::string raw(32, '\0');
  zmq_z85_decode(reinterpret_cast<uint8_t*>(raw.data()), z85.c_str());
  return raw;
}

std::string raw_to_z85(const std::string& raw) {
  char out[41] = {};
  if (raw.size() == 32) zmq_z85_encode(out, reinterpret_cast<const uint8_t*>(raw.data()), 32);
  return out;
}

void common_options(zmq::socket_t& s, const TransportOptions& t) {
  s.set(zmq::sockopt::linger, 0);
  s.set(zmq::sockopt::maxmsgsize, static_cast<int64_t>(protocol::kMaxFrameBytes));
  s.set(zmq::sockopt::sndhwm, t.send_hwm);
  s.set(zmq::sockopt::rcvhwm, t.receive_hwm);
}

}  // namespace

ZmqLinks::ZmqLinks(zmq::context_t& context, const NodeOptions& options, const std::string& secret_key,
                   const std::string& public_key)
    : context_(context), options_(options), secret_key_(secret_key), public_key_(public_key) {
  for (auto& [code, key] : options.children) allowed_[z85_to_raw(key)] = code.number();
}

ZmqLinks::~ZmqLinks() { close(); }

Status ZmqLinks::open() {
  auto log = folder_logger("runtime");
  try {
    if (!options_.listen_endpoint.empty()) {
      // The ZAP handler must be bound before the CURVE server accepts anyone.
      auto zap = std::make_unique<zmq::socket_t>(context_, zmq::socket_type::rep);
      zap->set(zmq::sockopt::linger, 0);
      zap->set(zmq::sockopt::rcvtimeo, 100);
      zap->bind(kZapEndpoint);
      zap_thread_ = std::thread([this, s = zap.release()]() {
        std::unique_ptr<zmq::socket_t> owned(s);
        while (!zap_stop_.load()) zap_answer(*owned);
        owned->close();
      });
      router_ = std::make_unique<zmq::socket_t>(context_, zmq::socket_type::router);
      common_options(*router_, options_.transport);
      router_->set(zmq::sockopt::router_mandatory, 1);
      // No handover: a connection may not take over the routing id of one
      // that is connected (with handover, a sibling holding its own valid
      // key could claim another child's id and be sent its records). ZMTP
      // heartbeats close a connection that died without a word within
      // seconds, so a child that comes back is not kept out by it.
      router_->set(zmq::sockopt::router_handover, 0);
      router_->set(zmq::sockopt::heartbeat_ivl, kZmtpHeartbeatMs);
      router_->set(zmq::sockopt::heartbeat_timeout, kZmtpHeartbeatTimeoutMs);
      router_->set(zmq::sockopt::curve_server, 1);
      router_->set(zmq::sockopt::curve_secretkey, secret_key_);
      router_->set(zmq::sockopt::zap_domain, kZapDomain);
      router_->bind(options_.listen_endpoint);
      log->info("listening for {} children at {}", options_.children.size(), options_.listen_endpoint);
    }
    if (options_.parent) {
      dealer_ = std::make_unique<zmq::socket_t>(context_, zmq::socket_type::dealer);
      common_options(*dealer_, options_.transport);
      dealer_->set(zmq::sockopt::routing_id, options_.code.to_string());
      dealer_->set(zmq::sockopt::immediate, 1);
      dealer_->set(zmq::sockopt::reconnect_ivl, options_.transport.reconnect_interval_ms);
      dealer_->set(zmq::sockopt::reconnect_ivl_max, options_.transport.reconnect_interval_max_ms);
      dealer_->set(zmq::sockopt::curve_serverkey, options_.parent->public_key);
      dealer_->set(zmq::sockopt::curve_publickey, public_key_);
      dealer_->set(zmq::sockopt::curve_secretkey, secret_key_);
      dealer_->connect(options_.parent->endpoint);
      log->info("connecting to parent {} at {}", options_.parent->code.to_string(), options_.parent->endpoint);
    }
  } catch (const zmq::error_t& e) {
    close();
    return Status::io_error(std::string("opening links: ") + e.what());
  }
  return Status::ok();
}

void ZmqLinks::close() noexcept {
  zap_stop_.store(true);
  if (zap_thread_.joinable()) zap_thread_.join();
  if (router_) router_->close();
  if (dealer_) dealer_->close();
  router_.reset();
  dealer_.reset();
}

// One ZAP request (RFC 27): version, request id, domain, address, identity,
// mechanism, credentials (the client's 32-byte public key for CURVE).
bool ZmqLinks::zap_answer(zmq::socket_t& socket) {
  std::vector<zmq::message_t> parts;
  try {
    if (!zmq::recv_multipart(socket, std::back_inserter(parts))) return false;  // timeout
  } catch (const zmq::error_t&) {
    return false;
  }
  // A REP socket must answer every request before it can take the next: a
  // short one is refused, not left unanswered (which would stall every
  // later handshake).
  if (parts.size() < 7) {
    zap_refusals_.fetch_add(1);
    std::array<zmq::const_buffer, 6> refusal = {zmq::str_buffer("1.0"),
                                                parts.size() > 1 ? zmq::buffer(parts[1].data(), parts[1].size()) : zmq::const_buffer(),
                                                zmq::str_buffer("400"), zmq::str_buffer("malformed ZAP request"),
                                                zmq::const_buffer(), zmq::const_buffer()};
    try {
      zmq::send_multipart(socket, refusal);
    } catch (const zmq::error_t&) {
    }
    return true;
  }
  std::string request_id = parts[1].to_string(), address = parts[3].to_string();
  std::string mechanism = parts[5].to_string(), key = parts[6].to_string();
  auto it = mechanism == "CURVE" ? allowed_.find(key) : allowed_.end();
  bool ok = it != allowed_.end();
  std::string user_id = ok ? topology::DivisionCode::format(it->second) : "";
  if (!ok) {
    zap_refusals_.fetch_add(1);
    folder_logger("runtime")->warn("refused a connection from {}: public key {} is not on the allowlist", address,
                                   raw_to_z85(key));
  }
  std::array<zmq::const_buffer, 6> reply = {zmq::str_buffer("1.0"), zmq::buffer(request_id),
                                            ok ? zmq::str_buffer("200") : zmq::str_buffer("400"),
                                            ok ? zmq::str_buffer("OK") : zmq::str_buffer("unknown key"),
                                            zmq::buffer(user_id), zmq::const_buffer()};
  try {
    zmq::send_multipart(socket, reply);
  } catch (const zmq::error_t&) {
  }
  return true;
}

void ZmqLinks::drain_extra_parts(zmq::socket_t& socket, std::string_view from) {
  zmq::message_t extra;
  do {
    if (!socket.recv(extra, zmq::recv_flags::dontwait)) break;
  } while (extra.more());
  ++multipart_refusals_;
  folder_logger("runtime")->warn("message from {} refused: more than one part", std::string(from.substr(0, 16)));
}

void ZmqLinks::add_poll_items(std::vector<zmq::pollitem_t>& items) {
  if (router_) items.push_back({router_->handle(), 0, ZMQ_POLLIN, 0});
  if (dealer_) items.push_back({dealer_->handle(), 0, ZMQ_POLLIN, 0});
}

void ZmqLinks::receive(size_t max, std::vector<node::InFrame>& out) {
  if (router_) receive_router(max, out);
  if (dealer_) receive_dealer(max, out);
}

void ZmqLinks::receive_router(size_t max, std::vector<node::InFrame>& out) {
  for (size_t n = 0; n < max; ++n) {
    zmq::message_t id, frame;
    if (!router_->recv(id, zmq::recv_flags::dontwait)) return;
    if (!id.more() || !router_->recv(frame, zmq::recv_flags::dontwait)) continue;
    if (frame.more()) {  // one frame per message: drain the extra parts and refuse it all
      drain_extra_parts(*router_, id.to_string_view());
      continue;
    }
    const char* user = frame.gets("User-Id");
    auto code = topology::DivisionCode::parse(id.to_string_view());
    if (user == nullptr || !code || code->to_string() != user) {
      ++impostor_frames_;
      folder_logger("runtime")->warn("frame refused: routing id '{}' does not match the key's code '{}'",
                                     std::string(id.to_string_view().substr(0, 16)), user ? user : "");
      continue;
    }
    out.push_back(node::InFrame{code->number(), std::string(frame.to_string_view())});
  }
}

void ZmqLinks::receive_dealer(size_t max, std::vector<node::InFrame>& out) {
  for (size_t n = 0; n < max; ++n) {
    zmq::message_t frame;
    if (!dealer_->recv(frame, zmq::recv_flags::dontwait)) return;
    if (frame.more()) {
      drain_extra_parts(*dealer_, "parent");
      continue;
    }
    out.push_back(node::InFrame{options_.parent->code.number(), std::string(frame.to_string_view())});
  }
}

bool ZmqLinks::send(uint64_t peer, std::string&& bytes) {
  try {
    if (options_.parent && peer == options_.parent->code.number()) {
      return dealer_->send(zmq::buffer(bytes), zmq::send_flags::dontwait).has_value();
    }
    if (!router_) return false;
    std::string id = topology::DivisionCode::format(peer);
    if (!router_->send(zmq::buffer(id), zmq::send_flags::sndmore | zmq::send_flags::dontwait)) return false;
    return router_->send(zmq::buffer(bytes), zmq::send_flags::dontwait).has_value();
  } catch (const zmq::error_t&) {
    return false;  // EHOSTUNREACH: the child is not connected; the outbox keeps the records
  }
}

}  // namespace lifeline::runtime
