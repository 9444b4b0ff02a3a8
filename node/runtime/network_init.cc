#include "node/runtime/network_init.h"

#include <algorithm>
#include <chrono>

#include "node/runtime/accounts.h"

#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include "node/runtime/keys.h"
#include "topology/jurisdiction_tree.h"

namespace lifeline::runtime {
namespace {

namespace fs = std::filesystem;
using topology::DivisionCode;
using topology::JurisdictionTree;

// The chosen codes plus their ancestors up to root, in tree (parents-first) order.
Result<std::vector<DivisionCode>> select_nodes(const JurisdictionTree& tree, DivisionCode root,
                                               const std::vector<std::string>& codes) {
  std::vector<DivisionCode> all = tree.subtree(root);
  if (codes.empty()) return all;
  std::set<DivisionCode> chosen;
  for (const std::string& text : codes) {
    auto code = DivisionCode::parse(text);
    if (!code) return code.status();
    if (!tree.has(*code)) return Status::not_found(text + " is not in the divisions file");
    if (!root.contains(*code)) return Status::invalid_argument(text + " is not under the root " + root.to_string());
    auto path = tree.path_from_root(*code);
    if (!path) return path.status();
    bool below_root = false;
    for (DivisionCode c : *path) {
      below_root = below_root || c == root;
      if (below_root) chosen.insert(c);
    }
  }
  std::vector<DivisionCode> out;
  for (DivisionCode c : all) {
    if (chosen.count(c)) out.push_back(c);
  }
  return out;
}

Status write_text(const fs::path& path, const std::string& text) {
  std::ofstream out(path);
  out << text;
  out.close();
  return out ? Status::ok() : Status::io_error("cannot write " + path.string());
}

std::string toml_string(const std::string& s) { return "\"" + s + "\""; }

std::string node_toml(const topology::Division& d, const std::string& listen, const topology::Division* parent,
                      const std::string& parent_endpoint, const std::string& parent_key, int web_port) {
  std::string t = "# Lifeline node configuration; every key is documented in node/runtime/node.sample.toml.\n";
  t += "[node]\ncode = " + toml_string(d.code.to_string()) + "\nname = " + toml_string(d.name) +
       "\ndata_dir = \"data\"\ndivisions = \"divisions.csv\"\nlog_level = \"info\"\n\n";
  t += "[keys]\npublic = \"node.pub\"\nsecret = \"node.key\"\n\n";
  if (!listen.empty()) t += "[listen]\nendpoint = " + toml_string(listen) + "\nallowlist = \"allowlist.toml\"\n\n";
  if (parent != nullptr)
    t += "[parent]\ncode = " + toml_string(parent->code.to_string()) + "\nendpoint = " + toml_string(parent_endpoint) +
         "\npublic_key = " + toml_string(parent_key) + "\n\n";
  t += "[link]\nheartbeat_interval_ms = 250\ndown_after_ms = 1500\nresend_after_ms = 1000\n\n";
  if (web_port > 0) t += "[web]\nlisten = \"127.0.0.1:" + std::to_string(web_port) + "\"\n\n";
  t += "[storage]\ninitial_map_mb = 64\n";
  return t;
}

}  // namespace

// Creates the node's store with its first admin; the password goes to
// first_admin.txt (0600) and into the result.
Result<FirstAdmin> first_admin(const fs::path& dir, DivisionCode code, const std::string& url) {
  storage::StorageOptions so;
  so.path = (dir / "data").string();
  auto store = storage::Store::open(so, code.number());
  if (!store) return store.status();
  int64_t now = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  auto password = create_account(**store, code, NewAccount{"admin", web::Role::kAdmin, 0, ""}, now);
  if (!password) return password.status();
  fs::path file = dir / "first_admin.txt";
  Status s = write_text(file, "admin\n" + *password + "\n");
  if (!s) return s;
  fs::permissions(file, fs::perms::owner_read | fs::perms::owner_write, fs::perm_options::replace);
  return FirstAdmin{code.to_string(), url, "admin", *password};
}

Result<NetworkInitResult> network_init(const NetworkInitOptions& o) {
  auto tree = JurisdictionTree::load_csv_file(o.divisions_path);
  if (!tree) return tree.status();
  auto root = DivisionCode::parse(o.root);
  if (!root) return root.status();
  if (!tree->has(*root)) return Status::not_found(o.root + " is not in " + o.divisions_path);
  if (o.base_port < 1024 || o.base_port > 65000) return Status::invalid_argument("--base-port must be within 1024..65000");
  auto nodes = select_nodes(*tree, *root, o.codes);
  if (!nodes) return nodes.status();
  std::set<DivisionCode> present(nodes->begin(), nodes->end());
  // The ports are checked before anything is written: a node with children
  // here listens on the next link port from the base, and every node serves
  // HTTP on the next port from the web base (-1: none).
  int web_port = o.web_base_port != 0 ? o.web_base_port : o.base_port + 1000;
  {
    int listeners = 0;
    for (DivisionCode c : *nodes)
      listeners += std::any_of(tree->get(c)->children.begin(), tree->get(c)->children.end(),
                               [&](DivisionCode child) { return present.count(child) > 0; });
    const int n = static_cast<int>(nodes->size());
    if (web_port != -1 && (web_port < 1024 || web_port + n > 65535))
      return Status::invalid_argument("--web-base-port must leave room for every node below 65536");
    if (o.base_port + listeners > 65535) return Status::invalid_argument("out of ports above --base-port");
    if (web_port != -1 && listeners > 0 && web_port < o.base_port + listeners && o.base_port < web_port + n)
      return Status::invalid_argument("the HTTP ports (" + std::to_string(web_port) + ".." + std::to_string(web_port + n - 1) +
                                      ") overlap the link ports (" + std::to_string(o.base_port) + ".." +
                                      std::to_string(o.base_port + listeners - 1) + ")");
  }
  std::map<DivisionCode, std::string> keys, endpoints;
  int next_port = o.base_port;
  for (DivisionCode c : *nodes) {
    fs::path dir = fs::path(o.out_dir) / c.to_string();
    if (fs::exists(dir / kSecretKeyFile)) return Status::invalid_argument(dir.string() + " already holds a node; remove " + o.out_dir + " first");
    auto kp = generate_keypair();
    if (!kp) return kp.status();
    Status s = write_keypair(dir.string(), *kp);
    if (!s) return s;
    keys[c] = kp->public_key;
    for (DivisionCode child : tree->get(c)->children) {
      if (present.count(child)) {
        endpoints[c] = "tcp://127.0.0.1:" + std::to_string(next_port++);
        break;
      }
    }
  }
  std::string index;
  NetworkInitResult result;
  for (DivisionCode c : *nodes) {
    const topology::Division& d = *tree->get(c);
    fs::path dir = fs::path(o.out_dir) / c.to_string();
    const topology::Division* parent = c == *root ? nullptr : tree->get(d.parent);
    std::string listen = endpoints.count(c) ? endpoints[c] : "";
    int port = web_port == -1 ? 0 : web_port++;
    std::string url = port == 0 ? "-" : "http://127.0.0.1:" + std::to_string(port) + "/";
    Status s = write_text(dir / "node.toml", node_toml(d, listen, parent, parent ? endpoints[parent->code] : "",
                                                      parent ? keys[parent->code] : "", port));
    if (s && !listen.empty()) {
      std::string allow = "# Children admitted on this node's links: code and CURVE public key.\n";
      for (DivisionCode child : d.children) {
        if (present.count(child)) allow += "[[child]]\ncode = " + toml_string(child.to_string()) + "\npublic_key = " + toml_string(keys[child]) + "\n\n";
      }
      s = write_text(dir / "allowlist.toml", allow);
    }
    std::error_code ec;
    fs::copy_file(o.divisions_path, dir / "divisions.csv", fs::copy_options::overwrite_existing, ec);
    if (ec) s = Status::io_error("cannot copy " + o.divisions_path + ": " + ec.message());
    if (!s) return s;
    if (o.first_admins) {
      auto admin = first_admin(dir, c, url);
      if (!admin) return admin.status();
      result.admins.push_back(*admin);
    }
    index += c.to_string() + "\t" + topology::level_name(c.level()) + "\t" + d.name + "\t" + (dir / "node.toml").string() +
             "\t" + url + "\n";
  }
  Status s = write_text(fs::path(o.out_dir) / "nodes.tsv", index);
  if (!s) return s;
  result.nodes = nodes->size();
  return result;
}

}  // namespace lifeline::runtime
