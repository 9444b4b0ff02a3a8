#include "node/runtime/options.h"

#include <toml++/toml.h>

#include <filesystem>
#include <set>
#include <sstream>

#include "node/runtime/keys.h"

namespace lifeline::runtime {
namespace {

namespace fs = std::filesystem;

// Reads typed keys of one table, collecting the first error with its key.
class Reader {
 public:
  Reader(const toml::table& root, std::string file) : root_(root), file_(std::move(file)) {}

  const toml::table* table(const char* name) {
    known_.insert(name);
    return root_[name].as_table();
  }

  template <typename T>
  std::optional<T> get(const char* section, const char* key, bool required) {
    known_.insert(section);
    known_.insert(std::string(section) + "." + key);
    auto node = root_[section][key];
    if (!node) {
      if (required) fail(section, key, "is required");
      return std::nullopt;
    }
    auto v = node.template value<T>();
    if (!v) fail(section, key, "has the wrong type");
    return v;
  }
  // An integer key within [lo, hi], scaled by `scale`, stored into out when present.
  template <typename T>
  void number(const char* section, const char* key, T& out, int64_t lo, int64_t hi, int64_t scale = 1) {
    auto v = get<int64_t>(section, key, false);
    if (!v) return;
    if (*v < lo || *v > hi) {
      fail(section, key, "must be between " + std::to_string(lo) + " and " + std::to_string(hi));
      return;
    }
    out = static_cast<T>(*v * scale);
  }
  // A list of strings; empty when absent.
  std::vector<std::string> strings(const char* section, const char* key) {
    known_.insert(section);
    known_.insert(std::string(section) + "." + key);
    std::vector<std::string> out;
    auto node = root_[section][key];
    if (!node) return out;
    const toml::array* arr = node.as_array();
    if (arr == nullptr) {
      fail(section, key, "must be a list of strings");
      return out;
    }
    for (const auto& e : *arr) {
      auto v = e.value<std::string>();
      if (!v) {
        fail(section, key, "must be a list of strings");
        return {};
      }
      out.push_back(*v);
    }
    return out;
  }
  void fail(const char* section, const char* key, const std::string& what) {
    if (error_.empty()) error_ = file_ + ": [" + section + "] " + key + " " + what;
  }
  const std::string& error() const { return error_; }

  // Fails on the first section or key that nothing read: a misspelt setting
  // (heartbeat_interval for heartbeat_interval_ms) would otherwise leave its
  // default in force without a word.
  void refuse_unknown() {
    for (const auto& [name, node] : root_) {
      const std::string section(name.str());
      const toml::table* t = node.as_table();
      if (t == nullptr || !known_.count(section)) {
        if (error_.empty()) error_ = file_ + ": [" + section + "] is not a known section";
        return;
      }
      for (const auto& [key, value] : *t) {
        if (!known_.count(section + "." + std::string(key.str()))) {
          fail(section.c_str(), std::string(key.str()).c_str(), "is not a known setting");
          return;
        }
      }
    }
  }

 private:
  const toml::table& root_;
  std::string file_;
  std::string error_;  // first error found; empty when none
  std::set<std::string> known_;  // "section" and "section.key" read so far
};

std::string resolve(const fs::path& base, const std::string& p) {
  fs::path path(p);
  return (path.is_absolute() ? path : base / path).lexically_normal().string();
}

Result<topology::DivisionCode> code_key(Reader& r, const char* section, const char* key) {
  auto text = r.get<std::string>(section, key, true);
  if (!text) return Status::invalid_argument(r.error());
  auto code = topology::DivisionCode::parse(*text);
  if (!code) r.fail(section, key, code.status().message());
  return code;
}

Status load_allowlist(NodeOptions& o) {
  toml::table t;
  try {
    t = toml::parse_file(o.allowlist_path);
  } catch (const toml::parse_error& e) {
    return Status::invalid_argument(o.allowlist_path + ": " + std::string(e.description()));
  }
  const toml::array* children = t["child"].as_array();
  if (children == nullptr) return Status::ok();
  for (const toml::node& n : *children) {
    const toml::table* c = n.as_table();
    auto code_text = c ? (*c)["code"].value<std::string>() : std::nullopt;
    auto key = c ? (*c)["public_key"].value<std::string>() : std::nullopt;
    if (!code_text || !key) return Status::invalid_argument(o.allowlist_path + ": each [[child]] needs code and public_key");
    auto code = topology::DivisionCode::parse(*code_text);
    if (!code) return Status::invalid_argument(o.allowlist_path + ": " + code.status().message());
    if (!valid_z85_key(*key)) return Status::invalid_argument(o.allowlist_path + ": bad public_key for " + *code_text);
    if (*code == o.code || !o.code.contains(*code))
      return Status::invalid_argument(o.allowlist_path + ": " + *code_text + " is not within " + o.code.to_string());
    if (!o.children.emplace(*code, *key).second)
      return Status::invalid_argument(o.allowlist_path + ": " + *code_text + " listed twice");
  }
  return Status::ok();
}

void read_link(Reader& r, NodeOptions& o) {
  node::LinkOptions& l = o.link;
  r.number("link", "heartbeat_interval_ms", l.heartbeat_interval_us, 10, 600000, 1000);
  r.number("link", "down_after_ms", l.down_after_us, 50, 3600000, 1000);
  r.number("link", "resend_after_ms", l.resend_after_us, 10, 3600000, 1000);
  r.number("link", "max_clock_lead_ms", l.max_clock_lead_us, 1000, 86400000, 1000);
  r.number("link", "hello_backoff_initial_ms", l.hello_backoff_initial_us, 1, 60000, 1000);
  r.number("link", "hello_backoff_max_ms", l.hello_backoff_max_us, 1, 600000, 1000);
  r.number("link", "frame_max_records", l.frame_max_records, 1, 16384);
  r.number("link", "frame_max_bytes", l.frame_max_bytes, 1024, 4 << 20);
  r.number("link", "window_max_records", l.window_max_records, 1, 1 << 22);
  r.number("link", "post_batch", l.post_batch, 1, 1 << 20);
  TransportOptions& t = o.transport;
  r.number("link", "reconnect_interval_ms", t.reconnect_interval_ms, 10, 60000);
  r.number("link", "reconnect_interval_max_ms", t.reconnect_interval_max_ms, 10, 600000);
  r.number("link", "send_hwm", t.send_hwm, 1, 1000000);
  r.number("link", "receive_hwm", t.receive_hwm, 1, 1000000);
  r.number("link", "batch_max_frames", t.batch_max_frames, 1, 4096);
  if (l.down_after_us < 2 * l.heartbeat_interval_us) r.fail("link", "down_after_ms", "must be at least twice heartbeat_interval_ms");
}

void read_web(Reader& r, WebOptions& w) {
  w.listen = r.get<std::string>("web", "listen", false).value_or("");
  if (!w.listen.empty() && (w.listen.rfind(':') == std::string::npos || w.listen.rfind(':') + 1 == w.listen.size()))
    r.fail("web", "listen", "must be host:port");
  r.number("web", "threads", w.threads, 1, 256);
  int64_t body_mb = static_cast<int64_t>(w.max_body_bytes >> 20);
  r.number("web", "max_body_mb", body_mb, 1, 1024);
  w.max_body_bytes = static_cast<size_t>(body_mb) << 20;
  r.number("web", "session_idle_minutes", w.session_idle_us, 1, 24 * 60, 60'000'000);
  r.number("web", "session_max_hours", w.session_max_us, 1, 7 * 24, 3600'000'000LL);
  w.secure_cookies = r.get<bool>("web", "secure_cookies", false).value_or(false);
  r.number("web", "loop_timeout_ms", w.loop_timeout_ms, 100, 600000);
  w.trusted_proxies = r.strings("web", "trusted_proxies");
}

Status read_sections(Reader& r, const fs::path& base, NodeOptions& o) {
  auto code = code_key(r, "node", "code");
  if (!code) return Status::invalid_argument(r.error());
  o.code = *code;
  o.name = r.get<std::string>("node", "name", false).value_or("");
  o.data_dir = resolve(base, r.get<std::string>("node", "data_dir", false).value_or("data"));
  o.divisions_path = resolve(base, r.get<std::string>("node", "divisions", false).value_or("divisions.csv"));
  o.log_level = r.get<std::string>("node", "log_level", false).value_or("info");
  o.public_key_path = resolve(base, r.get<std::string>("keys", "public", false).value_or(kPublicKeyFile));
  o.secret_key_path = resolve(base, r.get<std::string>("keys", "secret", false).value_or(kSecretKeyFile));
  o.control_endpoint = r.get<std::string>("node", "control_endpoint", false).value_or("ipc://" + o.data_dir + "/control.sock");
  if (r.table("listen")) {
    o.listen_endpoint = r.get<std::string>("listen", "endpoint", true).value_or("");
    o.allowlist_path = resolve(base, r.get<std::string>("listen", "allowlist", false).value_or("allowlist.toml"));
  }
  if (r.table("parent")) {
    ParentOptions p;
    auto pc = code_key(r, "parent", "code");
    if (pc) p.code = *pc;
    p.endpoint = r.get<std::string>("parent", "endpoint", true).value_or("");
    p.public_key = r.get<std::string>("parent", "public_key", true).value_or("");
    if (r.error().empty() && !valid_z85_key(p.public_key)) r.fail("parent", "public_key", "is not a Z85 CURVE key");
    if (r.error().empty() && !p.code.contains(o.code)) r.fail("parent", "code", "does not contain the node's code");
    o.parent = p;
  }
  read_web(r, o.web);
  int64_t map_mb = 64;
  r.number("storage", "initial_map_mb", map_mb, 1, 1 << 20);
  o.storage.initial_map_bytes = static_cast<size_t>(map_mb) << 20;
  o.storage.path = o.data_dir;
  read_link(r, o);
  r.number("monitor", "aggregate_interval_s", o.monitor.aggregate_interval_us, 1, 86400, 1'000'000);
  r.number("monitor", "aggregate_min_interval_ms", o.monitor.aggregate_min_interval_us, 10, 3'600'000, 1000);
  r.refuse_unknown();
  return r.error().empty() ? Status::ok() : Status::invalid_argument(r.error());
}

}  // namespace

Result<NodeOptions> load_options(const std::string& path) {
  toml::table root;
  try {
    root = toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    std::ostringstream os;
    os << path << ":" << e.source().begin.line << ": " << e.description();
    return Status::invalid_argument(os.str());
  }
  NodeOptions o;
  o.config_path = path;
  Reader r(root, path);
  Status s = read_sections(r, fs::absolute(path).parent_path(), o);
  if (!s) return s;
  if (!o.listen_endpoint.empty()) {
    s = load_allowlist(o);
    if (!s) return s;
  }
  return o;
}

std::string describe(const NodeOptions& o) {
  std::ostringstream os;
  os << "code=" << o.code.to_string() << " data_dir=" << o.data_dir << " divisions=" << o.divisions_path
     << " log_level=" << o.log_level << " listen=" << (o.listen_endpoint.empty() ? "-" : o.listen_endpoint)
     << " children=" << o.children.size()
     << " parent=" << (o.parent ? o.parent->code.to_string() + "@" + o.parent->endpoint : "-")
     << " control=" << o.control_endpoint << " heartbeat_ms=" << o.link.heartbeat_interval_us / 1000
     << " down_after_ms=" << o.link.down_after_us / 1000 << " resend_after_ms=" << o.link.resend_after_us / 1000
     << " window=" << o.link.window_max_records << " frame_max_records=" << o.link.frame_max_records
     << " batch_max_frames=" << o.transport.batch_max_frames
     << " aggregate_interval_s=" << o.monitor.aggregate_interval_us / 1'000'000 << " initial_map_mb=" << (o.storage.initial_map_bytes >> 20)
     << " web=" << (o.web.listen.empty() ? "-" : o.web.listen) << " web_threads=" << o.web.threads;
  return os.str();
}

}  // namespace lifeline::runtime
