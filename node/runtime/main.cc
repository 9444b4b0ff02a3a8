// lifeline: one program for every node of the network. See `lifeline --help`
// and README.md; the command lines below are a contract used by scripts.
#include <CLI/CLI.hpp>

#include <pwd.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstdlib>
#include <cstdio>
#include <iostream>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "node/core/id_number.h"
#include "node/core/policy.h"
#include "node/runtime/control.h"
#include "node/runtime/demo_data.h"
#include "node/runtime/keys.h"
#include "node/runtime/network_init.h"
#include "node/runtime/node.h"
#include "node/runtime/options.h"
#include "topology/logging.h"
#include "topology/utf8.h"
#include "web/server.h"

namespace {

using lifeline::Result;
using lifeline::Status;
using nlohmann::json;
namespace rt = lifeline::runtime;

std::atomic<bool> g_stop{false};

extern "C" void on_signal(int) { g_stop.store(true); }

// Bad usage that CLI11 cannot express (one of two flags): exit status 2.
int usage(const std::string& what) {
  std::fprintf(stderr, "lifeline: %s (see --help)\n", what.c_str());
  return 2;
}

// Who runs this command, for the audit log: the user sudo was run by, else
// the effective user.
std::string os_user() {
  if (const char* sudo = std::getenv("SUDO_USER"); sudo != nullptr && *sudo != '\0') return sudo;
  if (const passwd* pw = ::getpwuid(::geteuid()); pw != nullptr && pw->pw_name != nullptr) return pw->pw_name;
  return "uid " + std::to_string(::geteuid());
}

// "-" for an argument that holds personal data reads it from standard input
// (one line), keeping it out of the process list and out of sudo's log.
std::string argument_or_stdin(const std::string& value) {
  if (value != "-") return value;
  std::string line;
  std::getline(std::cin, line);
  while (!line.empty() && (line.back() == '\r' || line.back() == '\n' || line.back() == ' ')) line.pop_back();
  return line;
}

// Errors may quote what was typed (a --member argument, a record id): an ID
// number in them is printed masked.
// The Chinese text first where the error has one, as the node's refusals.
int fail(const Status& s) {
  if (!s.message_zh().empty()) std::fprintf(stderr, "lifeline: %s\n", lifeline::node::mask_id_numbers_in(s.message_zh()).c_str());
  std::fprintf(stderr, "lifeline: %s\n", lifeline::node::mask_id_numbers_in(s.to_string()).c_str());
  return 1;
}

// A node's refusal already carries its kind ("invalid argument: ..."):
// printed as it came, not wrapped in a second one.
int fail_reply(const json& r) {
  if (r.contains("error_zh") && r["error_zh"].is_string())
    std::fprintf(stderr, "lifeline: %s\n", lifeline::node::mask_id_numbers_in(r["error_zh"].get<std::string>()).c_str());
  std::fprintf(stderr, "lifeline: %s\n", lifeline::node::mask_id_numbers_in(r.value("error", "request failed")).c_str());
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
  // The HTTP API: its pool reads the store and posts to the node loop; it
  // stops before the node does (declared after it, destroyed first).
  std::unique_ptr<lifeline::web::WebServer> web;
  if (!options->web.listen.empty()) {
    web = std::make_unique<lifeline::web::WebServer>((*node)->options(), (*node)->queue(), (*node)->store());
    s = web->start();
    if (!s) return fail(s);
  }
  s = (*node)->run(g_stop);
  if (web) web->stop();
  return s ? 0 : fail(s);
}

// The key of the first string in v (nested ones included) that is not
// UTF-8, or "" when there is none. A file's text and name are left to its
// command, which reports the lines that are not UTF-8 and cleans the name
// for the audit log.
std::string non_utf8_field(const json& v, const std::string& key) {
  if (v.is_string())
    return key != "text" && key != "file_name" && !lifeline::topology::valid_utf8(v.get_ref<const std::string&>()) ? key : "";
  if (v.is_object()) {
    for (const auto& [k, item] : v.items()) {
      if (std::string bad = non_utf8_field(item, k); !bad.empty()) return bad;
    }
  }
  if (v.is_array()) {
    for (const auto& item : v) {
      if (std::string bad = non_utf8_field(item, key); !bad.empty()) return bad;
    }
  }
  return "";
}

// Asks the running node, or answers from its store when it is not running.
Result<json> request(const std::string& config, const json& req, int timeout_ms) {
  // Text that is not UTF-8 would be stored as it is and sent to every
  // holder, or changed on the way: refused here, before either.
  if (std::string bad = non_utf8_field(req, ""); !bad.empty())
    return Status::invalid_argument("'" + bad + "' is not UTF-8 text").with_zh("'" + bad + "' 不是 UTF-8 文字");
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
  std::printf("%-12s %-6s %-5s %-24s %8s %10s %10s %10s %10s %8s %8s %9s %s\n", "peer", "role", "state", "since", "rtt_ms",
              "sent", "acked", "applied", "assigned", "outbox", "refused", "malformed", "features");
  for (const json& l : st["links"]) {
    std::string features;
    if (l.contains("peer_features") && l["peer_features"].is_array())
      for (const json& f : l["peer_features"]) features += (features.empty() ? "" : ",") + cell(f);
    std::printf("%-12s %-6s %-5s %-24s %8s %10s %10s %10s %10s %8s %8s %9s %s\n", cell(l["peer"]).c_str(), cell(l["role"]).c_str(),
                cell(l["state"]).c_str(), cell(l["since"]).c_str(), cell(l["rtt_ms"]).c_str(), cell(l["last_sent"]).c_str(),
                cell(l["last_acked"]).c_str(), cell(l["last_applied"]).c_str(), cell(l["last_assigned"]).c_str(),
                cell(l["outbox_depth"]).c_str(), cell(l["refusals"]).c_str(), cell(l["malformed_frames"]).c_str(),
                features.empty() ? "-" : features.c_str());
  }
  std::printf("auth refusals: %s\n", cell(st["auth_refusals"]).c_str());
  if (st.contains("counters") && st["counters"].is_object())
    for (const auto& [name, value] : st["counters"].items()) std::printf("counter %s: %s\n", name.c_str(), cell(value).c_str());
}

int show(const Result<json>& r, bool as_json, void (*print)(const json&)) {
  if (!r) return fail(r.status());
  if (!r->value("ok", false)) return fail_reply(*r);
  json out = *r;
  out.erase("ok");
  if (as_json || print == nullptr) {
    std::printf("%s\n", out.dump(as_json ? -1 : 2, ' ', false, json::error_handler_t::replace).c_str());
  } else {
    print(out);
  }
  return 0;
}

void print_inbox(const json& inbox) {
  std::printf("%-12s %10s %18s\n", "origin", "count", "contiguous_through");
  for (auto& [origin, e] : inbox["applied"].items())
    std::printf("%-12s %10s %18s\n", origin.c_str(), cell(e["count"]).c_str(), cell(e["contiguous_through"]).c_str());
  // Messages applied here for destinations without a running node of their own.
  if (inbox.contains("applied_for_other_destinations") && inbox["applied_for_other_destinations"].is_object() &&
      !inbox["applied_for_other_destinations"].empty()) {
    std::printf("applied here for other destinations:\n");
    std::printf("%s\n", inbox["applied_for_other_destinations"].dump(2, ' ', false, json::error_handler_t::replace).c_str());
  }
}

// Every flag of every command; one instance, filled by CLI11.
struct Args {
  std::string out, config, divisions, root, codes, to;
  int base_port = 17000;
  int web_base_port = 0;
  bool no_web = false;
  int timeout_ms = 0;
  uint32_t count = 1;
  uint32_t size = 256;
  bool as_json = false;
  // monitoring
  std::string file, format, id, by, state, village, category, phone, address, source, name, id_number, reason,
      needs, decision, referral, visit_date, method, visitor, findings, truthful, note, from, decide, standards, within,
      cursor;
  uint32_t level = 0;
  uint32_t limit = 1000;
  int days = 0;
  double income_yuan = 0;
  bool overdue = false, open = false, escalated = false, list = false, dry_run = false;
  std::vector<std::string> members;
};

struct Commands {
  CLI::App* keygen;
  CLI::App* init;
  CLI::App* run;
  CLI::App* status;
  CLI::App* post;
  CLI::App* inbox;
  CLI::App* digest;
  CLI::App* import;
  CLI::App* alerts;
  CLI::App* accept;
  CLI::App* feedback;
  CLI::App* close;
  CLI::App* escalate;
  CLI::App* hh_add;
  CLI::App* hh_show;
  CLI::App* hh_import;
  CLI::App* hh_move;
  CLI::App* hh_conflicts;
  CLI::App* apply;
  CLI::App* aggregates;
  CLI::App* policy_show;
  CLI::App* policy_set;
  CLI::App* calendar_due;
};

void add_monitor_commands(CLI::App& app, Args& a, Commands& c);

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
  auto* web_port = c.init->add_option("--web-base-port", a.web_base_port,
                                      "first HTTP port; each node serves its API on the next one (default: base port + 1000)")
                       ->check(CLI::Range(1024, 65535));
  c.init->add_flag("--no-web", a.no_web, "nodes without the HTTP API (no [web] section)")->excludes(web_port);
  c.run = app.add_subcommand("run", "run one node in the foreground until SIGINT/SIGTERM");
  c.status = app.add_subcommand("status", "the node's code, level and links: state and since, rtt, sent/acked/applied, outbox, refusals");
  c.status->add_flag("--json", a.as_json, "print JSON");
  c.post = app.add_subcommand("post", "durably enqueue test messages for node CODE; returns once committed");
  c.post->add_option("--to", a.to, "destination node code (12 digits), anywhere in the tree")->required();
  c.post->add_option("--count", a.count, "number of messages")->capture_default_str()->check(CLI::Range(1u, 100000000u));
  c.post->add_option("--size", a.size, "payload bytes per message")->capture_default_str()->check(CLI::Range(0u, 1u << 20));
  c.inbox = app.add_subcommand("inbox", "test messages applied at this node, per origin: count and contiguous_through");
  c.inbox->add_flag("--json", a.as_json, "print JSON");
  c.digest = app.add_subcommand("digest", "per table of the store: entries and a hash of its contents; per link: outbox depth (JSON)");
  for (auto* sub : {c.run, c.status, c.post, c.inbox, c.digest}) sub->add_option("--config", a.config, "the node's node.toml")->required();
  for (auto* sub : {c.status, c.post, c.inbox})
    sub->add_option("--timeout-ms", a.timeout_ms, "how long to wait for a running node's answer (default 30000; post: longer for large counts)")
        ->check(CLI::Range(1, 86400000));
  add_monitor_commands(app, a, c);
  return c;
}

int cmd_network_init(const Args& a) {
  rt::NetworkInitOptions o{a.divisions, a.root, a.out, {}, a.base_port, a.no_web ? -1 : a.web_base_port, true};
  for (size_t b = 0, e; b < a.codes.size(); b = e + 1) {
    e = a.codes.find(',', b);
    if (e == std::string::npos) e = a.codes.size();
    if (e > b) o.codes.push_back(a.codes.substr(b, e - b));
  }
  auto n = rt::network_init(o);
  if (!n) return fail(n.status());
  std::printf("%zu nodes laid out under %s (index: %s/nodes.tsv)\n", n->nodes, a.out.c_str(), a.out.c_str());
  std::printf("first admin of each node (one-time passwords, shown once; each must be changed at first sign-in):\n");
  for (const auto& f : n->admins)
    std::printf("  %s  %s  %s  %s\n", f.code.c_str(), f.url.c_str(), f.name.c_str(), f.password.c_str());
  std::printf("(also in DIR/<code>/first_admin.txt, mode 0600; sign in with POST /api/v1/session, then change it)\n");
  return 0;
}

int dispatch_monitor(const Commands& c, const Args& a);

int dispatch(const Commands& c, const Args& a) {
  if (int r = dispatch_monitor(c, a); r >= 0) return r;
  if (*c.keygen) return cmd_keygen(a.out);
  if (*c.init) return cmd_network_init(a);
  if (*c.run) return cmd_run(a.config);
  int wait_ms = a.timeout_ms > 0 ? a.timeout_ms : 30000;
  if (*c.status) return show(request(a.config, json{{"cmd", "status"}}, wait_ms), a.as_json, print_status);
  if (*c.inbox) return show(request(a.config, json{{"cmd", "inbox"}}, wait_ms), a.as_json, print_inbox);
  if (*c.digest) return show(request(a.config, json{{"cmd", "digest"}}, wait_ms), true, nullptr);
  int post_wait = a.timeout_ms > 0 ? a.timeout_ms : static_cast<int>(std::min<uint64_t>(30000 + a.count / 10, 3'600'000));
  return show(request(a.config, json{{"cmd", "post"}, {"to", a.to}, {"count", a.count}, {"size", a.size}}, post_wait),
              true, nullptr);
}

}  // namespace

namespace {

// A date flag as its help gives it, YYYY-MM-DD (the parser behind it also
// takes YYYYMMDD, which a command would then echo unchanged).
const CLI::Validator kDashedDate(
    [](std::string& s) {
      bool shape = s.size() == 10 && s[4] == '-' && s[7] == '-';
      for (size_t i = 0; shape && i < s.size(); ++i) shape = i == 4 || i == 7 || (s[i] >= '0' && s[i] <= '9');
      return shape ? "" : "must be a date YYYY-MM-DD";
    },
    "DATE");

Result<std::string> read_file(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec))
    return Status::invalid_argument("cannot read " + path + ": a folder, not a file").with_zh("无法读取 " + path + "：这是文件夹，不是文件");
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::invalid_argument("cannot read " + path).with_zh("无法读取 " + path);
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) return Status::invalid_argument("cannot read " + path).with_zh("无法读取 " + path);
  return ss.str();
}

void add_monitor_commands(CLI::App& app, Args& a, Commands& c) {
  c.import = app.add_subcommand("import", "import department events (CSV or JSON Lines) and score them; prints the import report");
  c.import->add_option("FILE", a.file, "events file (.csv with a header row, or .jsonl)")->required();
  c.import->add_option("--format", a.format, "csv | jsonl (default: from the file name)")->check(CLI::IsMember({"csv", "jsonl"}));
  c.import->add_flag("--dry-run", a.dry_run, "check and score the file, print the report, then roll everything back (试导入：不保存)");
  c.alerts = app.add_subcommand("alerts", "alerts held at this node (ID numbers and names never shown)");
  c.alerts->add_option("--level", a.level, "1 red, 2 orange, 3 yellow, 4 blue, 5 green")->check(CLI::Range(1u, 5u));
  c.alerts->add_option("--state", a.state, "issued | delivered | accepted | verified | closed")
      ->check(CLI::IsMember({"issued", "delivered", "accepted", "verified", "closed"}));
  c.alerts->add_flag("--overdue", a.overdue, "only alerts past their deadline and not verified");
  c.alerts->add_flag("--open", a.open, "only alerts not yet verified");
  c.alerts->add_flag("--escalated", a.escalated, "only alerts a supervisor escalated (督办)");
  c.alerts->add_option("--limit", a.limit, "at most this many")->capture_default_str()->check(CLI::Range(1u, 1000000u));
  c.accept = app.add_subcommand("accept", "an operator takes an alert (accepted)");
  c.accept->add_option("ALERT_ID", a.id, "e.g. A-440000000000-1")->required();
  c.accept->add_option("--by", a.by, "the operator's name")->required();
  c.feedback = app.add_subcommand("feedback", "record verification feedback for an alert (township or village node)");
  c.feedback->add_option("ALERT_ID", a.id, "e.g. A-440000000000-1")->required();
  c.feedback->add_option("--visit-date", a.visit_date, "YYYY-MM-DD")->required()->check(kDashedDate);
  c.feedback->add_option("--method", a.method, "home_visit | phone")->required();
  c.feedback->add_option("--visitor", a.visitor, "who visited")->required();
  c.feedback->add_option("--truthful", a.truthful, "yes (情况属实) | no")->required()->check(CLI::IsMember({"yes", "no"}));
  c.feedback->add_option("--findings", a.findings, "what was found");
  c.feedback->add_option("--needs", a.needs, "comma-separated: basic_living,rehabilitation,care,nursing,psychological,health,financial_aid");
  c.feedback->add_option("--decision", a.decision,
                         "include_minimum_living | include_destitute | include_single_person | temporary_assistance | referral | none_needed | keep_monitoring")->required();
  c.feedback->add_option("--referral", a.referral, "medical | education | housing | employment (with --decision referral)");
  c.close = app.add_subcommand("close", "close a verified alert (county node or above)");
  c.close->add_option("ALERT_ID", a.id, "e.g. A-440000000000-1")->required();
  c.escalate = app.add_subcommand("escalate", "escalate an open alert (督办; county node or above): recorded in its case history at every holder");
  c.escalate->add_option("ALERT_ID", a.id, "e.g. A-440000000000-1")->required();
  c.escalate->add_option("--by", a.by, "the supervisor's name")->required();
  c.escalate->add_option("--note", a.note, "what is asked of the township or village (督办意见)")->required();
  auto* household = app.add_subcommand("household", "the household registry");
  household->require_subcommand(1);
  c.hh_add = household->add_subcommand("add", "register a household found on a visit or applying");
  c.hh_add->add_option("--village", a.village, "its village code (12 digits, in this node's jurisdiction)")->required();
  c.hh_add->add_option("--category", a.category, "minimum_living | destitute | marginal | expenditure_hardship | other")->required();
  c.hh_add->add_option("--income-yuan", a.income_yuan, "per-capita monthly income, yuan");
  c.hh_add->add_option("--phone", a.phone, "contact phone");
  c.hh_add->add_option("--address", a.address, "address");
  c.hh_add->add_option("--source", a.source, "active_discovery | application");
  c.hh_add->add_option("--member", a.members,
                       "ID,NAME,RELATION[,DISABILITY_GRADE[,DISABILITY_KIND[,MAJOR_ILLNESS yes|no[,SINGLE_PERSON yes|no]]]] (repeat; one relation head); "
                       "- reads the members from standard input, one a line, keeping them out of ps and sudo's log")->required();
  c.hh_import = household->add_subcommand("import", "register households from a file: JSON Lines, one household per line (as household add)");
  c.hh_import->add_option("FILE", a.file, "registration file (.jsonl)")->required();
  c.hh_show = household->add_subcommand("show", "the case page: members in full, alerts, history (each view is recorded in the audit log, with the OS user)");
  c.hh_show->add_option("HOUSEHOLD_ID", a.id, "e.g. H-441303001001-1");
  c.hh_show->add_option("--id-number", a.id_number, "find the household of this person instead (- reads it from standard input)");
  c.hh_move = household->add_subcommand("move", "move a household to another village of this node's jurisdiction");
  c.hh_move->add_option("HOUSEHOLD_ID", a.id, "e.g. H-441303001001-1")->required();
  c.hh_move->add_option("--to", a.village, "the new village code")->required();
  c.hh_conflicts = household->add_subcommand(
      "conflicts", "persons registered in two households held here (ID numbers and names masked), to resolve: up to 500 a page");
  c.hh_conflicts->add_option("--within", a.within, "only those where one of the two villages lies in this division code");
  c.hh_conflicts->add_option("--cursor", a.cursor, "continue after the page that printed this cursor");
  c.apply = app.add_subcommand("apply", "cross-location applications (异地受理): take one, list them, or decide one at the home node");
  c.apply->add_option("--village", a.village, "the applicant's home village (hukou), outside this node");
  c.apply->add_option("--name", a.name, "applicant's name (- reads it from standard input)");
  c.apply->add_option("--id-number", a.id_number, "applicant's ID number (- reads it from standard input)");
  c.apply->add_option("--phone", a.phone, "contact phone");
  c.apply->add_option("--reason", a.reason, "why assistance is sought");
  c.apply->add_option("--needs", a.needs, "comma-separated needs");
  c.apply->add_flag("--list", a.list, "list applications taken or received here");
  c.apply->add_option("--decide", a.decide, "application id to decide (home node)");
  c.apply->add_option("--status", a.state, "accepted | declined (with --decide)");
  c.apply->add_option("--note", a.note, "note for the applying township");
  c.aggregates = app.add_subcommand("aggregates", "this node's aggregate figures and, per child, reported beside computed");
  auto* policy = app.add_subcommand("policy", "the running policy");
  policy->require_subcommand(1);
  c.policy_show = policy->add_subcommand("show", "the running policy document and the standards set");
  c.policy_set = policy->add_subcommand("set", "a new policy document (province) or county standards (province or city)");
  c.policy_set->add_option("--file", a.file, "policy document (JSON, node/policy/README.md); version must be newer");
  c.policy_set->add_option("--standards", a.standards, "standards JSON {\"<county>\": {\"urban_yuan\": N, \"rural_yuan\": N}}");
  auto* calendar = app.add_subcommand("calendar", "the working-day calendar");
  calendar->require_subcommand(1);
  c.calendar_due = calendar->add_subcommand("due", "the deadline date: the N-th working day after --from");
  c.calendar_due->add_option("--from", a.from, "YYYY-MM-DD (the day of issue)")->required()->check(kDashedDate);
  c.calendar_due->add_option("--days", a.days, "working days")->required()->check(CLI::Range(0, 3650));
  c.calendar_due->add_option("--config", a.config, "use this node's running calendar (default: the compiled-in policy)");
  for (auto* sub : {c.import, c.alerts, c.accept, c.feedback, c.close, c.escalate, c.hh_add, c.hh_import, c.hh_show, c.hh_move,
                    c.hh_conflicts, c.apply, c.aggregates, c.policy_show, c.policy_set}) {
    sub->add_option("--config", a.config, "the node's node.toml")->required();
    sub->add_option("--timeout-ms", a.timeout_ms, "how long to wait for a running node's answer")->check(CLI::Range(1, 86400000));
  }
  for (auto* sub : {c.import, c.alerts, c.accept, c.feedback, c.close, c.escalate, c.hh_add, c.hh_import, c.hh_show, c.hh_move,
                    c.hh_conflicts, c.apply, c.aggregates, c.policy_show, c.policy_set, c.calendar_due})
    sub->add_flag("--json", a.as_json, "print JSON");
}

std::vector<std::string> split_commas(const std::string& s) {
  std::vector<std::string> out;
  for (size_t b = 0, e; b < s.size(); b = e + 1) {
    e = s.find(',', b);
    if (e == std::string::npos) e = s.size();
    out.push_back(s.substr(b, e - b));
  }
  return out;
}

Result<json> member_from_flag(const std::string& text) {
  auto f = split_commas(text);
  // The text is not quoted: it holds a name (and an ID number).
  if (f.size() < 3 || f.size() > 7)
    return Status::invalid_argument("--member: expected ID,NAME,RELATION[,DISABILITY_GRADE[,DISABILITY_KIND[,yes|no[,yes|no]]]], got " +
                                    std::to_string(f.size()) + " fields")
        .with_zh("--member：应为 身份证号,姓名,与户主关系[,残疾等级[,残疾类别[,yes|no[,yes|no]]]]，实为 " + std::to_string(f.size()) + " 项");
  json m{{"id_number", f[0]}, {"name", f[1]}, {"relation", f[2]}};
  if (f.size() > 3) {
    if (f[3].size() != 1 || f[3][0] < '0' || f[3][0] > '4') return Status::invalid_argument("--member: disability grade must be 0..4");
    m["disability_grade"] = f[3][0] - '0';
  }
  if (f.size() > 4) m["disability_kind"] = f[4];
  for (size_t i = 5; i < f.size(); ++i) {
    const char* what = i == 5 ? "major illness" : "single-person coverage";
    if (f[i] != "yes" && f[i] != "no") return Status::invalid_argument(std::string("--member: ") + what + " must be yes or no");
    m[i == 5 ? "major_illness" : "single_person_coverage"] = f[i] == "yes";
  }
  return m;
}

// The --member values, with "-" replaced by the members read from standard
// input, one ID,NAME,RELATION[,...] a line (blank lines skipped): the
// household's personal data stays out of the process list and sudo's log.
Result<std::vector<std::string>> member_flags(const std::vector<std::string>& given) {
  if (std::count(given.begin(), given.end(), "-") > 1) return Status::invalid_argument("--member -: give it once (it reads every member)");
  std::vector<std::string> out;
  for (const std::string& m : given) {
    if (m != "-") {
      out.push_back(m);
      continue;
    }
    size_t read = 0;
    for (std::string line; std::getline(std::cin, line);) {
      while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
      if (line.empty()) continue;
      out.push_back(line);
      ++read;
    }
    if (read == 0) return Status::invalid_argument("--member -: standard input held no member");
  }
  return out;
}

void print_alerts(const json& r) {
  std::printf("%-22s %-22s %-12s %5s %5s %-9s %-10s %-10s %-7s %s\n", "alert", "household", "village", "level", "score",
              "state", "issued", "due", "overdue", "escalated");
  for (const json& a : r["alerts"])
    std::printf("%-22s %-22s %-12s %5s %5s %-9s %-10s %-10s %-7s %s\n", cell(a["id"]).c_str(), cell(a["household"]).c_str(),
                cell(a["village"]).c_str(), cell(a["level"]).c_str(), cell(a["score"]).c_str(), cell(a["state"]).c_str(),
                cell(a["issued_date"]).c_str(), cell(a["due_date"]).c_str(), a["overdue"].get<bool>() ? "yes" : "",
                a.value("escalated_at_us", int64_t{0}) != 0 ? "督办" : "");
  std::printf("%s alerts\n", cell(r["count"]).c_str());
}

void print_conflicts(const json& r) {
  std::printf("%-20s %-10s %-22s %-12s %-22s %s\n", "id_number", "name", "household", "village", "also_in", "village");
  for (const json& c : r["conflicts"])
    std::printf("%-20s %-10s %-22s %-12s %-22s %s\n", cell(c["id_number"]).c_str(), cell(c["name"]).c_str(),
                cell(c["household"]).c_str(), cell(c["village"]).c_str(), cell(c["also_in"]).c_str(),
                cell(c["also_in_village"]).c_str());
  std::printf("%s persons registered in two households (该人员同时登记在两户家庭，请核实后从其中一户移除)\n", cell(r["count"]).c_str());
  if (!r["next"].is_null()) std::printf("more: --cursor %s\n", cell(r["next"]).c_str());
}

void print_report(const json& r) {
  if (r.value("dry_run", false)) std::printf("dry run (试导入): nothing was stored; an import of this file would give\n");
  std::printf("lines read %s, applied %s, duplicates %s, not monitored %s, rejected %zu; alerts issued %s, updated %s\n",
              cell(r["lines_read"]).c_str(), cell(r["applied"]).c_str(), cell(r["duplicates"]).c_str(),
              cell(r["not_monitored"]).c_str(), r["rejected"].size(), cell(r["alerts_issued"]).c_str(),
              cell(r["alerts_updated"]).c_str());
  for (const json& l : r["rejected"])
    std::printf("  line %s: %s (%s)\n", cell(l["line"]).c_str(), cell(l["reason"]).c_str(), cell(l["reason_en"]).c_str());
}

void print_household_report(const json& r) {
  std::printf("lines read %s, registered %s, rejected %zu (读取 %s 行，登记 %s 户，拒绝 %zu 行)\n", cell(r["lines_read"]).c_str(),
              cell(r["registered"]).c_str(), r["rejected"].size(), cell(r["lines_read"]).c_str(), cell(r["registered"]).c_str(),
              r["rejected"].size());
  for (const json& l : r["rejected"])
    std::printf("  line %s: %s (%s)\n", cell(l["line"]).c_str(), cell(l["reason"]).c_str(), cell(l["reason_en"]).c_str());
}

int cmd_calendar_due(const Args& a) {
  auto from = lifeline::node::parse_date(a.from);
  if (!from) return fail(Status::invalid_argument("--from must be a date YYYY-MM-DD"));
  lifeline::node::Policy policy = lifeline::node::default_policy();
  if (!a.config.empty()) {
    auto r = request(a.config, json{{"cmd", "policy"}, {"action", "show"}}, 30000);
    if (!r) return fail(r.status());
    if (!r->value("ok", false)) return fail_reply(*r);
    auto p = lifeline::node::parse_policy((*r)["policy"].dump());
    if (!p) return fail(p.status());
    policy = *p;
  }
  lifeline::node::Date due = policy.calendar.add_working_days(*from, a.days);
  if (due > *lifeline::node::date_of(9999, 12, 31))
    return fail(Status::invalid_argument("the deadline falls after 9999-12-31").with_zh("截止日期晚于 9999-12-31"));
  bool covered = policy.calendar.covers(*from, due);
  if (a.as_json) {
    std::printf("%s\n", json{{"from", a.from}, {"days", a.days}, {"due", lifeline::node::format_date(due)},
                              {"deadline", lifeline::node::format_date(due) + "T23:59:59+08:00"},
                              {"calendar_covers", covered}, {"policy_version", policy.version}}.dump().c_str());
  } else {
    std::printf("%s\n", lifeline::node::format_date(due).c_str());
    if (!covered) std::fprintf(stderr, "warning: the calendar has no notice for part of this span; weekends only were skipped there\n");
  }
  return 0;
}

// -1 when the command is not a monitoring one.
int dispatch_monitor(const Commands& c, const Args& a) {
  int wait_ms = a.timeout_ms > 0 ? a.timeout_ms : 30000;
  auto ask = [&](json req, void (*print)(const json&)) { return show(request(a.config, req, wait_ms), a.as_json, print); };
  if (*c.calendar_due) return cmd_calendar_due(a);
  if (*c.import) {
    auto text = read_file(a.file);
    if (!text) return fail(text.status());
    int import_wait = a.timeout_ms > 0 ? a.timeout_ms : 600000;
    return show(request(a.config,
                        json{{"cmd", "import"}, {"text", *text}, {"format", a.format}, {"file_name", a.file}, {"dry_run", a.dry_run}},
                        import_wait),
                a.as_json, print_report);
  }
  if (*c.alerts) {
    json req{{"cmd", "alerts"}, {"overdue", a.overdue}, {"open", a.open}, {"escalated", a.escalated}, {"limit", a.limit}};
    if (a.level) req["level"] = a.level;
    if (!a.state.empty()) req["state"] = a.state;
    return ask(req, print_alerts);
  }
  if (*c.accept) return ask(json{{"cmd", "accept"}, {"alert", a.id}, {"by", a.by}}, nullptr);
  if (*c.close) return ask(json{{"cmd", "close"}, {"alert", a.id}}, nullptr);
  if (*c.escalate) return ask(json{{"cmd", "escalate"}, {"alert", a.id}, {"by", a.by}, {"note", a.note}}, nullptr);
  if (*c.feedback) {
    return ask(json{{"cmd", "feedback"}, {"alert", a.id}, {"visit_date", a.visit_date}, {"method", a.method},
                    {"visitor", a.visitor}, {"truthful", a.truthful == "yes"}, {"findings", a.findings},
                    {"needs", a.needs.empty() ? std::vector<std::string>{} : split_commas(a.needs)},
                    {"decision", a.decision}, {"referral", a.referral}},
               nullptr);
  }
  if (*c.hh_add) {
    json members = json::array();
    auto flags = member_flags(a.members);
    if (!flags) return fail(flags.status());
    for (const auto& m : *flags) {
      auto j = member_from_flag(m);
      if (!j) return fail(j.status());
      members.push_back(*j);
    }
    json h{{"village", a.village}, {"category", a.category}, {"income_yuan", a.income_yuan}, {"phone", a.phone},
           {"address", a.address}, {"members", members}};
    if (!a.source.empty()) h["source"] = a.source;
    return ask(json{{"cmd", "household"}, {"action", "add"}, {"household", h}}, nullptr);
  }
  if (*c.hh_import) {
    auto text = read_file(a.file);
    if (!text) return fail(text.status());
    int import_wait = a.timeout_ms > 0 ? a.timeout_ms : 3'600'000;
    return show(request(a.config, json{{"cmd", "household"}, {"action", "import"}, {"text", *text}}, import_wait), a.as_json,
                print_household_report);
  }
  if (*c.hh_show) {
    if (a.id.empty() == a.id_number.empty()) return usage("household show: give HOUSEHOLD_ID or --id-number");
    return ask(json{{"cmd", "household"}, {"action", "show"}, {"household", a.id}, {"id_number", argument_or_stdin(a.id_number)},
                    {"os_user", os_user()}},
               nullptr);
  }
  if (*c.hh_move) return ask(json{{"cmd", "household"}, {"action", "move"}, {"household", a.id}, {"to", a.village}}, nullptr);
  if (*c.hh_conflicts)
    return ask(json{{"cmd", "household"}, {"action", "conflicts"}, {"within", a.within}, {"cursor", a.cursor}}, print_conflicts);
  if (*c.apply) {
    if (a.list && (!a.decide.empty() || !a.village.empty() || !a.name.empty() || !a.id_number.empty()))
      return usage("apply --list: give it alone (it takes no --decide, --village, --name or --id-number)");
    if (a.list) return ask(json{{"cmd", "apply"}, {"action", "list"}}, nullptr);
    if (!a.decide.empty() && a.state.empty()) return usage("apply --decide: give --status accepted|declined");
    if (!a.decide.empty())
      return ask(json{{"cmd", "apply"}, {"action", "decide"}, {"id", a.decide}, {"status", a.state}, {"note", a.note}}, nullptr);
    if (a.village.empty() || a.name.empty() || a.id_number.empty())
      return usage("apply: give --list, --decide ID --status S, or --village, --name and --id-number");
    if (a.name == "-" && a.id_number == "-") return usage("apply: only one of --name and --id-number can be read from standard input");
    json app{{"village", a.village}, {"name", argument_or_stdin(a.name)}, {"id_number", argument_or_stdin(a.id_number)},
             {"phone", a.phone}, {"reason", a.reason},
             {"needs", a.needs.empty() ? std::vector<std::string>{} : split_commas(a.needs)}};
    return ask(json{{"cmd", "apply"}, {"action", "submit"}, {"application", app}}, nullptr);
  }
  if (*c.aggregates) return ask(json{{"cmd", "aggregates"}}, nullptr);
  if (*c.policy_show) return ask(json{{"cmd", "policy"}, {"action", "show"}}, nullptr);
  if (*c.policy_set) {
    if (a.file.empty() == a.standards.empty()) return usage("policy set: give --file or --standards");
    auto text = read_file(a.file.empty() ? a.standards : a.file);
    if (!text) return fail(text.status());
    return ask(json{{"cmd", "policy"}, {"action", a.file.empty() ? "set_standards" : "set"}, {"text", *text}}, nullptr);
  }
  return -1;
}

// user: operator accounts of a node (node/runtime/accounts.h).
struct UserCommand {
  std::string config, name, role, jurisdiction;
  bool as_json = false;
  CLI::App *add = nullptr, *list = nullptr, *reset = nullptr, *disable = nullptr, *enable = nullptr;
};

CLI::App* add_user_command(CLI::App& app, UserCommand& u) {
  auto* c = app.add_subcommand("user", "operator accounts of a node (roles operator, supervisor, admin)");
  c->require_subcommand(1);
  u.add = c->add_subcommand("add", "create an account; prints its one-time password (changed at first sign-in)");
  u.add->add_option("--role", u.role, "operator, supervisor or admin")->required();
  u.add->add_option("--jurisdiction", u.jurisdiction, "a division inside the node's (default: the node's own)");
  u.list = c->add_subcommand("list", "the node's accounts");
  u.reset = c->add_subcommand("reset", "a new one-time password for an account");
  u.disable = c->add_subcommand("disable", "the account may no longer sign in");
  u.enable = c->add_subcommand("enable", "the account may sign in again");
  for (auto* sub : {u.add, u.reset, u.disable, u.enable}) sub->add_option("--name", u.name, "account name")->required();
  for (auto* sub : {u.add, u.list, u.reset, u.disable, u.enable}) {
    sub->add_option("--config", u.config, "the node's node.toml")->required();
    sub->add_flag("--json", u.as_json, "print JSON");
  }
  return c;
}

int cmd_user(const UserCommand& u) {
  std::string action = *u.add ? "add" : *u.list ? "list" : *u.reset ? "reset" : *u.disable ? "disable" : "enable";
  json req{{"cmd", "user"}, {"action", action}, {"name", u.name}, {"role", u.role}, {"jurisdiction", u.jurisdiction}};
  auto r = request(u.config, req, 30000);
  if (!r) return fail(r.status());
  if (!r->value("ok", false)) return fail_reply(*r);
  r->erase("ok");
  if (u.as_json) {
    std::printf("%s\n", r->dump().c_str());
  } else if (r->contains("users")) {
    for (const auto& a : (*r)["users"])
      std::printf("%-20s %-10s %s%s%s\n", a["name"].get<std::string>().c_str(), a["role"].get<std::string>().c_str(),
                  a["jurisdiction"].get<std::string>().c_str(), a["disabled"].get<bool>() ? " (disabled)" : "",
                  a["must_change_password"].get<bool>() ? " (one-time password)" : "");
  } else {
    std::printf("account %s (%s, %s)%s\n", (*r)["name"].get<std::string>().c_str(), (*r)["role"].get<std::string>().c_str(),
                (*r)["jurisdiction"].get<std::string>().c_str(), (*r)["disabled"].get<bool>() ? " disabled" : "");
    if (r->contains("one_time_password"))
      std::printf("one-time password (shown once; changed at first sign-in): %s\n", (*r)["one_time_password"].get<std::string>().c_str());
  }
  return 0;
}

// Digits only: CLI11 would read "-1" into an unsigned option as its largest value.
const CLI::Validator kWholeNumber(
    [](std::string& s) { return !s.empty() && s.find_first_not_of("0123456789") == std::string::npos ? "" : "must be a whole number (digits only)"; },
    "UINT");

// demo-data: synthetic households and department events (node/runtime/demo_data.h).
CLI::App* add_demo_data_command(CLI::App& app, rt::DemoDataCommand& d) {
  auto* c = app.add_subcommand("demo-data", "write synthetic demo data (合成演示数据): households.jsonl, events.csv giving alerts of every level, expected.json, README.txt");
  c->add_option("--divisions", d.divisions, "divisions CSV (code12,name,level,parent_code12)")->required();
  c->add_option("--villages", d.villages, "comma-separated village codes of the divisions; households round-robin")->required();
  c->add_option("--households", d.households, "number of households (at least 5)")->capture_default_str()->check(kWholeNumber);
  c->add_option("--seed", d.seed, "same seed, options and today: same bytes")->capture_default_str()->check(kWholeNumber);
  c->add_option("--today", d.today, "YYYY-MM-DD the events are relative to (default: today, Asia/Shanghai)")->check(kDashedDate);
  c->add_option("--policy", d.policy, "policy document for the indicators and levels (default: the compiled-in policy)");
  c->add_option("--out", d.out, "output folder (created; its four files are overwritten)")->required();
  return c;
}

int cmd_demo_data(const rt::DemoDataCommand& d) {
  auto r = rt::run_demo_data(d);
  if (!r) return fail(r.status());
  std::printf("%s\n", r->dump(-1, ' ', false, json::error_handler_t::replace).c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"lifeline — one node of the low-income population dynamic monitoring network (低收入人口动态监测)"};
  app.require_subcommand(1);
  app.footer(
      "Synopsis (details: lifeline <command> --help; README.md):\n"
      "  lifeline keygen --out DIR\n"
      "  lifeline network init --divisions FILE --root CODE --out DIR [--codes C1,C2,...] [--base-port P] [--web-base-port P | --no-web]\n"
      "  lifeline run --config FILE\n"
      "  lifeline status --config FILE [--json] [--timeout-ms N]\n"
      "  lifeline post --config FILE --to CODE [--count N] [--size BYTES] [--timeout-ms N]\n"
      "  lifeline inbox --config FILE [--json] [--timeout-ms N]\n"
      "status, post and inbox reach the running node over its control socket, or work on its store when it is\n"
      "not running. Exit status: 0 done, 1 failed (the reason on stderr), 2 bad usage.");
  (void)lifeline::set_log_level("warn");
  app.footer(app.get_footer() +
             "\nMonitoring (each with --json; codes outside the node's jurisdiction are refused):\n"
             "  lifeline import --config FILE EVENTS.csv|EVENTS.jsonl\n"
             "  lifeline alerts --config FILE [--level L] [--state S] [--overdue] [--open] [--escalated]\n"
             "  lifeline accept --config FILE ALERT_ID --by NAME\n"
             "  lifeline feedback --config FILE ALERT_ID --visit-date D --method M --visitor V --truthful yes|no --decision D ...\n"
             "  lifeline close --config FILE ALERT_ID\n"
             "  lifeline escalate --config FILE ALERT_ID --by NAME --note TEXT\n"
             "  lifeline household add|import|show|move|conflicts --config FILE ...\n"
             "  lifeline apply --config FILE --village V --name N --id-number X [--reason R] | --list | --decide ID --status S\n"
             "  lifeline aggregates --config FILE\n"
             "  lifeline policy show|set --config FILE [--file POLICY.json | --standards STANDARDS.json]\n"
             "  lifeline calendar due --from YYYY-MM-DD --days N [--config FILE]\n"
             "Operators (the HTTP API, web/API.md):\n"
             "  lifeline user add --config FILE --name N --role operator|supervisor|admin [--jurisdiction CODE]\n"
             "  lifeline user list|reset|disable|enable --config FILE [--name N]");
  Args args;
  Commands commands = add_commands(app, args);
  rt::DemoDataCommand demo_data;
  CLI::App* demo_data_command = add_demo_data_command(app, demo_data);
  UserCommand user;
  CLI::App* user_command = add_user_command(app, user);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;  // --help is a ParseError that exits 0
  }
  if (*demo_data_command) return cmd_demo_data(demo_data);
  if (*user_command) return cmd_user(user);
  return dispatch(commands, args);
}
