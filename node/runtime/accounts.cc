#include "node/runtime/accounts.h"

#include <nlohmann/json.hpp>

#include "node/core/id_number.h"

namespace lifeline::runtime {

using storage::Table;
using topology::DivisionCode;

namespace {

Status no_account(const std::string& name) {
  return Status::not_found("no account '" + name + "'").with_zh("没有账号 '" + name + "'");
}

}  // namespace

Status check_new_account(const NewAccount& a, DivisionCode node) {
  if (auto e = web::check_account_name(a.name)) return web::to_status(*e);
  // An account name is shown whole: in alerts' history (who accepted or
  // escalated, where an ID number is refused), the account list and the
  // audit log. 18 digits pass check_account_name.
  if (node::contains_id_number(a.name))
    return Status::invalid_argument("field 'name': an account name must not be or contain an ID number")
        .with_zh("账号名不得是或包含身份证号码");
  if (a.jurisdiction != 0) {
    auto j = DivisionCode::from_number(a.jurisdiction);
    if (!j || !node.contains(*j))
      return Status::refused("jurisdiction " + DivisionCode::format(a.jurisdiction) + " is outside this node's (" +
                             node.to_string() + ")")
          .with_zh("管辖范围 " + DivisionCode::format(a.jurisdiction) + " 不在本节点（" + node.to_string() + "）管辖范围内");
  }
  return Status::ok();
}

Status insert_account(storage::Store& store, const web::Account& account) {
  return store.write([&](storage::WriteTxn& txn) {
    std::string_view existing;
    if (txn.get(Table::kUsers, account.name, existing))
      return Status::invalid_argument("account '" + account.name + "' already exists").with_zh("账号 '" + account.name + "' 已存在");
    txn.put(Table::kUsers, account.name, web::encode_account(account));
    return Status::ok();
  });
}

Status update_account(storage::Store& store, const web::Account& account) {
  return store.write([&](storage::WriteTxn& txn) {
    std::string_view existing;
    if (!txn.get(Table::kUsers, account.name, existing)) return no_account(account.name);
    txn.put(Table::kUsers, account.name, web::encode_account(account));
    return Status::ok();
  });
}

Result<web::Account> load_account(const storage::Store& store, const std::string& name) {
  std::optional<Result<web::Account>> out;
  Status s = store.read([&](const storage::ReadTxn& txn) {
    std::string_view v;
    if (txn.get(Table::kUsers, name, v)) out = web::decode_account(v);
  });
  if (!s) return s;
  if (!out) return no_account(name);
  return *out;
}

std::vector<web::Account> list_accounts(const storage::Store& store) {
  std::vector<web::Account> out;
  (void)store.read([&](const storage::ReadTxn& txn) {
    txn.scan(Table::kUsers, {}, [&](std::string_view, std::string_view v) {
      if (auto a = web::decode_account(v)) out.push_back(std::move(*a));
      return true;
    });
  });
  return out;
}

Result<std::string> create_account(storage::Store& store, DivisionCode node, const NewAccount& a, int64_t now_us,
                                   const web::Argon2Params& params) {
  Status s = check_new_account(a, node);
  if (!s) return s;
  std::string password = web::generate_password(16);
  auto hash = web::hash_password(password, params);
  if (!hash) return hash.status();
  web::Account acc;
  acc.name = a.name;
  acc.role = a.role;
  acc.jurisdiction = a.jurisdiction != 0 ? a.jurisdiction : node.number();
  acc.password_hash = *hash;
  acc.must_change_password = true;
  acc.created_us = now_us;
  acc.created_by = a.created_by;
  s = insert_account(store, acc);
  if (!s) return s;
  return password;
}

nlohmann::json account_json(const web::Account& a) {
  return nlohmann::json{{"name", a.name},
                        {"role", web::role_name(a.role)},
                        {"jurisdiction", DivisionCode::format(a.jurisdiction)},
                        {"must_change_password", a.must_change_password},
                        {"disabled", a.disabled},
                        {"created_us", a.created_us},
                        {"created_by", a.created_by},
                        {"password_changed_us", a.password_changed_us}};
}

namespace {

nlohmann::json user_error(const Status& s) {
  nlohmann::json out{{"ok", false}, {"error", s.to_string()}};
  if (!s.message_zh().empty()) out["error_zh"] = s.message_zh();
  return out;
}

std::string text(const nlohmann::json& req, const char* key) {
  auto it = req.find(key);
  return it != req.end() && it->is_string() ? it->get<std::string>() : "";
}

nlohmann::json user_add(storage::Store& store, DivisionCode node, const nlohmann::json& req, int64_t now_us) {
  NewAccount a;
  a.name = text(req, "name");
  auto role = web::parse_role(text(req, "role"));
  if (!role) return user_error(Status::invalid_argument("role must be operator, supervisor or admin"));
  a.role = *role;
  a.created_by = "cli";
  if (!text(req, "jurisdiction").empty()) {
    auto j = DivisionCode::parse(text(req, "jurisdiction"));
    if (!j) return user_error(Status::invalid_argument("jurisdiction: " + j.status().message()));
    a.jurisdiction = j->number();
  }
  auto password = create_account(store, node, a, now_us);
  if (!password) return user_error(password.status());
  auto acc = load_account(store, a.name);
  if (!acc) return user_error(acc.status());
  nlohmann::json out = account_json(*acc);
  out["one_time_password"] = *password;
  out["ok"] = true;
  return out;
}

nlohmann::json user_change(storage::Store& store, const std::string& action, const nlohmann::json& req, int64_t now_us) {
  auto acc = load_account(store, text(req, "name"));
  if (!acc) return user_error(acc.status());
  std::string password;
  if (action == "reset") {
    password = web::generate_password(16);
    auto hash = web::hash_password(password);
    if (!hash) return user_error(hash.status());
    acc->password_hash = *hash;
    acc->must_change_password = true;
    acc->password_changed_us = web::next_password_change_us(*acc, now_us);
  } else {
    acc->disabled = action == "disable";
  }
  Status s = update_account(store, *acc);
  if (!s) return user_error(s);
  nlohmann::json out = account_json(*acc);
  if (!password.empty()) out["one_time_password"] = password;
  out["ok"] = true;
  return out;
}

}  // namespace

nlohmann::json answer_user(storage::Store& store, DivisionCode node, const nlohmann::json& req, int64_t now_us) {
  std::string action = text(req, "action");
  if (action == "add") return user_add(store, node, req, now_us);
  if (action == "list") {
    nlohmann::json list = nlohmann::json::array();
    for (const auto& a : list_accounts(store)) list.push_back(account_json(a));
    return nlohmann::json{{"ok", true}, {"users", list}};
  }
  if (action == "reset" || action == "disable" || action == "enable") return user_change(store, action, req, now_us);
  return user_error(Status::invalid_argument("user action must be add, list, reset, disable or enable"));
}

}  // namespace lifeline::runtime
