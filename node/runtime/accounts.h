// Operator accounts of one node, kept in its store (Table::kUsers; the
// record format is web/auth/account.h). Used by `lifeline user`, by
// `network init` for each node's first admin, and by the HTTP API (through
// the node loop for writes; reads are thread-safe).
//
// An account's jurisdiction is the node's own or a division inside it.
#pragma once

#include <string>

#include <nlohmann/json.hpp>
#include <vector>

#include "storage/store.h"
#include "topology/division_code.h"
#include "web/auth/account.h"
#include "web/auth/password.h"

namespace lifeline::runtime {

struct NewAccount {
  std::string name;
  web::Role role = web::Role::kOperator;
  uint64_t jurisdiction = 0;   // 0: the node's own
  std::string created_by;      // "" for the bootstrap admin
};

// Checks a new account against the node: its name (check_account_name, and
// no ID number in it: node::contains_id_number) and its jurisdiction
// (within the node's).
Status check_new_account(const NewAccount& a, topology::DivisionCode node);

// Creates the account with password_hash (already hashed) and
// must_change_password set; refuses an existing name.
Status insert_account(storage::Store& store, const web::Account& account);
// Replaces an existing account's record.
Status update_account(storage::Store& store, const web::Account& account);

Result<web::Account> load_account(const storage::Store& store, const std::string& name);
std::vector<web::Account> list_accounts(const storage::Store& store);

// Creates an account with a fresh one-time password (hashed here with
// params) and returns that password; shown once, never stored in clear.
Result<std::string> create_account(storage::Store& store, topology::DivisionCode node, const NewAccount& a,
                                   int64_t now_us, const web::Argon2Params& params = {});

// The account as the API and CLI show it (no hash).
nlohmann::json account_json(const web::Account& a);

// The control command "user" (`lifeline user`): {"cmd":"user","action":"add",
// "name","role"[,"jurisdiction"]} -> the account and its one_time_password;
// "list" -> {"users":[...]}; "reset" {"name"} -> a new one_time_password;
// "disable"/"enable" {"name"}. Reply {"ok":true,...} or {"ok":false,"error"}.
nlohmann::json answer_user(storage::Store& store, topology::DivisionCode node, const nlohmann::json& request,
                           int64_t now_us);

}  // namespace lifeline::runtime
