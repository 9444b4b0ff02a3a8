#include "node/runtime/node.h"

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <thread>

#include "node/runtime/accounts.h"
#include "node/runtime/allocator.h"
#include "node/runtime/keys.h"
#include "node/runtime/monitor_commands.h"
#include "node/runtime/system_clock.h"
#include "topology/logging.h"

namespace lifeline::runtime {

using nlohmann::json;

namespace {

constexpr int kStartLockWaitMs = 5000;  // how long a starting node waits for a CLI to release the lock

json error_json(const Status& s) {
  json out{{"ok", false}, {"error", s.to_string()}};
  if (!s.message_zh().empty()) out["error_zh"] = s.message_zh();
  return out;
}

topology::Neighbourhood neighbourhood_of(const NodeOptions& o) {
  std::vector<topology::DivisionCode> children;
  for (auto& [code, key] : o.children) children.push_back(code);
  std::optional<topology::DivisionCode> parent;
  if (o.parent) parent = o.parent->code;
  return topology::Neighbourhood(o.code, parent, std::move(children));
}

json post_json(const node::PostResult& r, uint32_t count) {
  return json{{"ok", true},
              {"destination", topology::DivisionCode::format(r.destination)},
              {"count", count},
              {"first_origin_seq", r.first_origin_seq},
              {"last_origin_seq", r.last_origin_seq}};
}

}  // namespace

Result<std::unique_ptr<NodeParts>> open_parts(const NodeOptions& options, int lock_wait_ms) {
  auto parts = std::make_unique<NodeParts>();
  auto lock = NodeLock::acquire(options.data_dir);
  // A CLI command working on the stopped node's store holds the lock for
  // moments only: a starting node waits for it.
  for (int waited = 0; !lock && lock.status().code() == Status::Code::kUnavailable && waited < lock_wait_ms; waited += 20) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    lock = NodeLock::acquire(options.data_dir);
  }
  if (!lock) return lock.status();
  parts->lock.emplace(std::move(*lock));
  auto tree = topology::JurisdictionTree::load_csv_file(options.divisions_path);
  if (!tree) return tree.status();
  parts->tree = std::move(*tree);
  if (!parts->tree.has(options.code)) return Status::invalid_argument(options.code.to_string() + " is not in " + options.divisions_path);
  auto store = storage::Store::open(options.storage, options.code.number());
  if (!store) return store.status();
  parts->store = std::move(*store);
  parts->core = std::make_unique<node::NodeCore>(neighbourhood_of(options), parts->store.get(), options.link);
  Status s = parts->core->start(system_now());
  if (!s) return s;
  node::MonitorOptions mo = options.monitor;
  const topology::JurisdictionTree* divisions = &parts->tree;  // lives as long as the parts
  mo.known_division = [divisions](topology::DivisionCode c) { return divisions->has(c); };
  parts->monitor = std::make_unique<node::Monitor>(parts->core.get(), parts->store.get(), mo);
  parts->core->set_domain(parts->monitor.get());
  s = parts->monitor->start();
  if (!s) return s;
  return parts;
}

// A post request that parses and names a division of the tree.
static Result<PostRequest> valid_post(const NodeParts& parts, const json& request) {
  auto req = parse_post(request);
  if (!req) return req.status();
  topology::DivisionCode to = topology::DivisionCode::or_invalid(req->to);
  if (!parts.tree.has(to)) return Status::invalid_argument(to.to_string() + " is not in the divisions tree");
  return req;
}

json answer(const NodeOptions& options, NodeParts& parts, const json& request, bool running, uint64_t auth_refusals) {
  std::string cmd = request.is_object() && request.contains("cmd") && request["cmd"].is_string() ? request["cmd"].get<std::string>() : "";
  if (cmd == "status") {
    json st = status_json(options, *parts.core, *parts.store, running, auth_refusals);
    // A stopped node's links have no state change to show: their "since"
    // would be this command's own start.
    if (!running && st.contains("links") && st["links"].is_array())
      for (json& l : st["links"]) l["since"] = nullptr;
    st["ok"] = true;
    return st;
  }
  if (cmd == "inbox") {
    auto inbox = inbox_json(*parts.store, options.code.number());
    if (!inbox) return error_json(inbox.status());
    (*inbox)["ok"] = true;
    return *inbox;
  }
  if (is_monitor_command(cmd)) return answer_monitor(*parts.monitor, request, system_now());
  if (cmd == "digest") {
    auto d = digest_json(*parts.store);
    if (!d) return error_json(d.status());
    (*d)["ok"] = true;
    return *d;
  }
  if (cmd == "user") return answer_user(*parts.store, options.code, request, system_now().wall_us);
  if (cmd == "post") {
    auto req = valid_post(parts, request);
    if (!req) return error_json(req.status());
    auto r = parts.core->post(req->to, req->count, req->size, system_now());
    return r ? post_json(*r, req->count) : error_json(r.status());
  }
  return error_json(Status::invalid_argument("unknown command '" + cmd + "'"));
}

Result<json> offline_request(const NodeOptions& options, const json& request) {
  auto parts = open_parts(options, 0);
  if (!parts) return parts.status();
  return answer(options, **parts, request, false, 0);
}

// ---------------------------------------------------------------------------

Result<std::unique_ptr<Node>> Node::create(NodeOptions options) {
  auto parts = open_parts(options, kStartLockWaitMs);
  if (!parts) {
    if (parts.status().code() == Status::Code::kUnavailable)
      return Status::unavailable("another process holds the node's lock: " + parts.status().message());
    return parts.status();
  }
  return std::unique_ptr<Node>(new Node(std::move(options), std::move(*parts)));
}

Node::Node(NodeOptions options, std::unique_ptr<NodeParts> parts)
    : options_(std::move(options)), parts_(std::move(parts)), context_(1) {}

Node::~Node() {
  if (control_) control_->close();
  if (links_) links_->close();
  links_.reset();
  context_.shutdown();
  context_.close();
}

Status Node::open_sockets() {
  auto secret = read_key_file(options_.secret_key_path);
  if (!secret) return secret.status();
  auto pub = read_key_file(options_.public_key_path);
  if (!pub) return pub.status();
  links_ = std::make_unique<ZmqLinks>(context_, options_, *secret, *pub);
  Status s = links_->open();
  if (!s) return s;
  try {
    std::string path = options_.control_endpoint.rfind("ipc://", 0) == 0 ? options_.control_endpoint.substr(6) : "";
    if (!path.empty()) std::filesystem::remove(path);  // a stale socket file from a killed run
    control_ = std::make_unique<zmq::socket_t>(context_, zmq::socket_type::rep);
    control_->set(zmq::sockopt::linger, 0);
    control_->set(zmq::sockopt::maxmsgsize, int64_t{512} << 20);  // imports carry their file
    control_->bind(options_.control_endpoint);
  } catch (const zmq::error_t& e) {
    return Status::io_error("control socket " + options_.control_endpoint + ": " + e.what());
  }
  return Status::ok();
}

Status Node::run(const std::atomic<bool>& stop) {
  Status s = open_sockets();
  if (!s) return s;
  auto log = folder_logger("runtime");
  log->info("node {} ({}) running: {}; {}", options_.code.to_string(), topology::level_name(options_.code.level()),
            describe(options_), allocator_version());
  std::vector<zmq::pollitem_t> items;
  std::vector<node::InFrame> frames;
  while (!stop.load()) loop_once(items, frames);
  queue_.close();
  log->info("node {} stopping", options_.code.to_string());
  return Status::ok();
}

void Node::loop_once(std::vector<zmq::pollitem_t>& items, std::vector<node::InFrame>& frames) {
  node::NodeCore& core = *parts_->core;
  items.clear();
  links_->add_poll_items(items);
  items.push_back({control_->handle(), 0, pending_ ? short{0} : short{ZMQ_POLLIN}, 0});
  items.push_back({nullptr, queue_.fd(), ZMQ_POLLIN, 0});
  int64_t timeout_us = pending_ ? 0 : core.next_timer_in_us(system_now());
  try {
    zmq::poll(items, std::chrono::milliseconds(std::min<int64_t>(timeout_us / 1000 + 1, 100)));
  } catch (const zmq::error_t& e) {
    if (e.num() != EINTR) throw;
    return;
  }
  frames.clear();
  links_->receive(options_.transport.batch_max_frames, frames);
  if (!frames.empty()) (void)core.on_frames(frames, system_now());  // errors logged by the core; peers resend
  release_memory_when_idle(frames);
  if (!pending_) serve_control();
  run_tasks();
  advance_post();
  node::Instant now = system_now();
  core.on_tick(now);
  parts_->monitor->on_tick(now);
  core.flush(*links_, now);
}

// A burst of traffic leaves the heap large (frame buffers, record vectors)
// and much of the store's map resident; a village node idles most of the
// day, so once a quiet window follows real traffic both go back to the
// system. Heartbeats alone keep a window quiet.
void Node::release_memory_when_idle(const std::vector<node::InFrame>& frames) {
  for (const auto& f : frames) window_bytes_ += f.bytes.size();
  int64_t now = system_now().mono_us;
  if (now - window_start_us_ < kIdleWindowUs) return;
  // What this node wrote counts as traffic too: an import or a burst of
  // API writes receives few link bytes.
  const uint64_t written = parts_->store->bytes_written();
  window_bytes_ += written - store_bytes_seen_;
  store_bytes_seen_ = written;
  bool quiet = window_bytes_ < kQuietBytes && !pending_;
  traffic_since_release_ += window_bytes_;
  if (quiet && traffic_since_release_ >= kReleaseAfterBytes) {
    // The store first: reopening it hands LMDB's retained dirty pages to
    // the heap, which is then purged.
    if (Status s = parts_->store->release_retained_pages(); !s) {
      // Every commit is durable: exiting loses nothing, and the supervisor
      // starts the node again.
      folder_logger("runtime")->critical("store could not be reopened after releasing its pages: {}", s.to_string());
      folder_logger("runtime")->flush();
      std::_Exit(EXIT_FAILURE);
    }
    parts_->store->release_mapped_pages();
    release_free_heap();
    folder_logger("runtime")->debug("quiet after {} KiB of traffic: released free heap and mapped pages",
                                    traffic_since_release_ >> 10);
    traffic_since_release_ = 0;
  }
  window_start_us_ = now;
  window_bytes_ = 0;
}

void Node::serve_control() {
  zmq::message_t msg;
  try {
    if (!control_->recv(msg, zmq::recv_flags::dontwait)) return;
  } catch (const zmq::error_t&) {
    return;
  }
  json request = json::parse(msg.to_string_view(), nullptr, false);
  restore_control_request(request);
  if (request.is_object() && request.value("cmd", "") == "post") {
    auto req = valid_post(*parts_, request);
    if (req) {
      pending_ = PendingPost{*req, req->count, node::PostResult{req->to, 0, 0}};
      return;  // replied when the last chunk commits
    }
  }
  reply(answer(options_, *parts_, request, true, links_->auth_refusals()));
}

// The HTTP pool's tasks of this turn, group-committed: one sync for all
// their writes, then each waiting request hears its result.
void Node::run_tasks() {
  LoopContext ctx{options_, *parts_, links_->auth_refusals(), true, system_now()};
  std::vector<LoopQueue::Completion> done;
  parts_->store->begin_group();
  queue_.drain(ctx, kTasksPerTurn, done);  // also resets the queue's descriptor
  Status s = parts_->store->end_group();
  if (!s) folder_logger("runtime")->error("group commit of {} HTTP tasks not synced: {}", done.size(), s.to_string());
  for (auto& d : done) d(s.is_ok());
}

void Node::advance_post() {
  if (!pending_) return;
  uint32_t n = std::min<uint32_t>(pending_->remaining, static_cast<uint32_t>(options_.link.post_batch));
  auto r = parts_->core->post(pending_->request.to, n, pending_->request.size, system_now());
  window_bytes_ += uint64_t{n} * pending_->request.size;
  if (!r) {
    reply(error_json(r.status()));
    pending_.reset();
    return;
  }
  if (pending_->result.first_origin_seq == 0) pending_->result.first_origin_seq = r->first_origin_seq;
  pending_->result.last_origin_seq = r->last_origin_seq;
  pending_->remaining -= n;
  if (pending_->remaining == 0) {
    reply(post_json(pending_->result, pending_->request.count));
    pending_.reset();
  }
}

void Node::reply(const json& body) {
  // A report may quote text from a file that is not UTF-8: dump would throw.
  std::string text = body.dump(-1, ' ', false, json::error_handler_t::replace);
  try {
    control_->send(zmq::buffer(text), zmq::send_flags::dontwait);
  } catch (const zmq::error_t& e) {
    folder_logger("runtime")->warn("control reply not sent: {}", e.what());
  }
}

}  // namespace lifeline::runtime
