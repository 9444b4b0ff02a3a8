// lifeline: one program for every node of the network. See `lifeline --help`
// and README.md; the command lines below are a contract used by scripts.
#include <CLI/CLI.hpp>

#include <csignal>
#include <cstdio>
#include <iostream>

#include "node/runtime/control.h"
#include "node/runtime/keys.h"
#include "node/runtime/network_init.h"
#include "node/runtime/node.h"
#include "node/runtime/options.h"
#include "topology/logging.h"

namespace {

using lifeline::Result;
using lifeline::Status;
using nlohmann::json;
namespace rt = lifeline::runtime;

std::atomic<bool> g_stop{false};

extern "C" void on_signal(int) { g_stop.store(true); }

int fail(const Status& s) {
  std::fprintf(stderr, "lifeline: %s\n", s.to_string().c_str());
  return 1;
}

int cmd_keygen(const std::string& out) {
  auto kp = rt::generate_keypair();
  if (!kp) return fail(kp.status());
  Status s = rt::write_keypair(out, *kp);
  if (!s) return fail(s);
  std::printf("public key %s written to %s/%s (secret in %s, mode 0600)\n", kp->public_key.c_str(), out.c_str(),
              rt::kPublicKeyFile, rt::kSecretKeyFile);
  return 0;
}

int cmd_run(const std::string& config) {
  auto options = rt::load_options(config);
  if (!options) return fail(options.status());
  Status s = lifeline::set_log_level(options->log_level);
  if (!s) return fail(s);
  auto node = rt::Node::create(*options);
  if (!node) return fail(node.status());
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  std::signal(SIGPIPE, SIG_IGN);
  s = (*node)->run(g_stop);
  return s ? 0 : fail(s);
}

// Asks the running node, or answers from its store when it is not running.
Result<json> request(const std::string& config, const json& req, int timeout_ms) {
  auto options = rt::load_options(config);
  if (!options) return options.status();
  auto offline = rt::offline_request(*options, req);
  if (offline || offline.status().code() != Status::Code::kUnavailable) return offline;
  auto online = rt::control_request(options->control_endpoint, req, timeout_ms);
  if (!online) return Status::unavailable("the node is running (its lock is held) but " + online.status().message());
  return online;
}

std::string cell(const json& v) { return v.is_string() ? v.get<std::string>() : v.is_null() ? "-" : v.dump(); }

void print_status(const json& st) {
  std::printf("%s %s %s  %s\n", cell(st["code"]).c_str(), cell(st["level"]).c_str(), cell(st["name"]).c_str(),
              st["running"].get<bool>() ? "running" : "not running (from the store)");
  std::printf("%-12s %-6s %-5s %-24s %8s %10s %10s %10s %8s %8s\n", "peer", "role", "state", "since", "rtt_ms", "sent",
              "acked", "applied", "outbox", "refused");
  for (const json& l : st["links"]) {
    std::printf("%-12s %-6s %-5s %-24s %8s %10s %10s %10s %8s %8s\n", cell(l["peer"]).c_str(), cell(l["role"]).c_str(),
                cell(l["state"]).c_str(), cell(l["since"]).c_str(), cell(l["rtt_ms"]).c_str(),
                cell(l["last_sent"]).c_str(), cell(l["last_acked"]).c_str(), cell(l["last_applied"]).c_str(),
                cell(l["outbox_depth"]).c_str(), cell(l["refusals"]).c_str());
  }
  std::printf("auth refusals: %s\n", cell(st["auth_refusals"]).c_str());
}

int show(const Result<json>& r, bool as_json, void (*print)(const json&)) {
  if (!r) return fail(r.status());
  if (!r->value("ok", false)) return fail(Status::invalid_argument(r->value("error", "request failed")));
  json out = *r;
  out.erase("ok");
  if (as_json || print == nullptr) {
    std::printf("%s\n", out.dump(as_json ? -1 : 2).c_str());
  } else {
    print(out);
  }
  return 0;
}

void print_inbox(const json& inbox) {
  std::printf("%-12s %10s %18s\n", "origin", "count", "contiguous_through");
  for (auto& [origin, e] : inbox["applied"].items())
    std::printf("%-12s %10s %18s\n", origin.c_str(), cell(e["count"]).c_str(), cell(e["contiguous_through"]).c_str());
}

// Every flag of every command; one instance, filled by CLI11.
struct Args {
  std::string out, config, divisions, root, codes, to;
  int base_port = 17000;
  int timeout_ms = 0;
  uint32_t count = 1;
  uint32_t size = 256;
  bool as_json = false;
};

struct Commands {
  CLI::App* keygen;
  CLI::App* init;
  CLI::App* run;
  CLI::App* status;
  CLI::App* post;
  CLI::App* inbox;
};

Commands add_commands(CLI::App& app, Args& a) {
  Commands c{};
  c.keygen = app.add_subcommand("keygen", "write a new CURVE keypair: DIR/node.pub and DIR/node.key (mode 0600)");
  c.keygen->add_option("--out", a.out, "folder for the key files (created)")->required();
  auto* network = app.add_subcommand("network", "lay out a local network of nodes");
  network->require_subcommand(1);
  c.init = network->add_subcommand("init", "one folder DIR/<code>/ per node: node.toml, keys, allowlist, divisions.csv");
  c.init->add_option("--divisions", a.divisions, "divisions CSV (code12,name,level,parent_code12)")->required();
  c.init->add_option("--root", a.root, "code of the top node")->required();
  c.init->add_option("--out", a.out, "output folder DIR")->required();
  c.init->add_option("--codes", a.codes, "comma-separated nodes to include (ancestors up to the root implied); default: the whole tree under the root");
  c.init->add_option("--base-port", a.base_port, "first loopback TCP port; each node with children listens on the next one")->capture_default_str();
  c.run = app.add_subcommand("run", "run one node in the foreground until SIGINT/SIGTERM");
  c.status = app.add_subcommand("status", "the node's code, level and links: state and since, rtt, sent/acked/applied, outbox, refusals");
  c.status->add_flag("--json", a.as_json, "print JSON");
  c.post = app.add_subcommand("post", "durably enqueue test messages for node CODE; returns once committed");
  c.post->add_option("--to", a.to, "destination node code (12 digits), anywhere in the tree")->required();
  c.post->add_option("--count", a.count, "number of messages")->capture_default_str()->check(CLI::Range(1u, 100000000u));
  c.post->add_option("--size", a.size, "payload bytes per message")->capture_default_str()->check(CLI::Range(0u, 1u << 20));
  c.inbox = app.add_subcommand("inbox", "test messages applied at this node, per origin: count and contiguous_through");
  c.inbox->add_flag("--json", a.as_json, "print JSON");
  for (auto* sub : {c.run, c.status, c.post, c.inbox}) sub->add_option("--config", a.config, "the node's node.toml")->required();
  for (auto* sub : {c.status, c.post, c.inbox})
    sub->add_option("--timeout-ms", a.timeout_ms, "how long to wait for a running node's answer (default 30000; post: longer for large counts)");
  return c;
}

int cmd_network_init(const Args& a) {
  rt::NetworkInitOptions o{a.divisions, a.root, a.out, {}, a.base_port};
  for (size_t b = 0, e; b < a.codes.size(); b = e + 1) {
    e = a.codes.find(',', b);
    if (e == std::string::npos) e = a.codes.size();
    if (e > b) o.codes.push_back(a.codes.substr(b, e - b));
  }
  auto n = rt::network_init(o);
  if (!n) return fail(n.status());
  std::printf("%zu nodes laid out under %s (index: %s/nodes.tsv)\n", *n, a.out.c_str(), a.out.c_str());
  return 0;
}

int dispatch(const Commands& c, const Args& a) {
  if (*c.keygen) return cmd_keygen(a.out);
  if (*c.init) return cmd_network_init(a);
  if (*c.run) return cmd_run(a.config);
  int wait_ms = a.timeout_ms > 0 ? a.timeout_ms : 30000;
  if (*c.status) return show(request(a.config, json{{"cmd", "status"}}, wait_ms), a.as_json, print_status);
  if (*c.inbox) return show(request(a.config, json{{"cmd", "inbox"}}, wait_ms), a.as_json, print_inbox);
  int post_wait = a.timeout_ms > 0 ? a.timeout_ms : static_cast<int>(std::min<uint64_t>(30000 + a.count / 10, 3'600'000));
  return show(request(a.config, json{{"cmd", "post"}, {"to", a.to}, {"count", a.count}, {"size", a.size}}, post_wait),
              true, nullptr);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"lifeline — one node of the low-income population dynamic monitoring network (低收入人口动态监测)"};
  app.require_subcommand(1);
  app.footer(
      "Synopsis (details: lifeline <command> --help; README.md):\n"
      "  lifeline keygen --out DIR\n"
      "  lifeline network init --divisions FILE --root CODE --out DIR [--codes C1,C2,...] [--base-port P]\n"
      "  lifeline run --config FILE\n"
      "  lifeline status --config FILE [--json] [--timeout-ms N]\n"
      "  lifeline post --config FILE --to CODE [--count N] [--size BYTES] [--timeout-ms N]\n"
      "  lifeline inbox --config FILE [--json] [--timeout-ms N]\n"
      "status, post and inbox reach the running node over its control socket, or work on its store when it is\n"
      "not running. Exit status: 0 done, 1 failed (the reason on stderr), 2 bad usage.");
  (void)lifeline::set_log_level("warn");
  Args args;
  Commands commands = add_commands(app, args);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;  // --help is a ParseError that exits 0
  }
  return dispatch(commands, args);
}
