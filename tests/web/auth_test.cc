// web/auth: passwords, accounts, sessions and the sign-in limiter, through
// their public interfaces. Argon2 runs with small costs except where the
// defaults themselves are under test.
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "web/auth/account.h"
#include "web/auth/password.h"
#include "web/auth/rate_limit.h"
#include "web/auth/sessions.h"

namespace lifeline::web {
namespace {

constexpr Argon2Params kFast{.t_cost = 1, .m_cost_kib = 1024, .parallelism = 1};
constexpr int64_t kSecond = 1000000;
constexpr int64_t kMinute = 60 * kSecond;
constexpr int64_t kT0 = int64_t{1718000000} * kSecond;  // an arbitrary "now"

std::string fast_hash(std::string_view password) {
  Result<std::string> h = hash_password(password, kFast);
  EXPECT_TRUE(h.is_ok()) << h.status().to_string();
  return h.is_ok() ? h.value() : std::string();
}

// ---- Passwords ----

TEST(PasswordTest, HashThenVerifyRoundTrips) {
  const std::string h = fast_hash("correct horse 9");
  EXPECT_TRUE(verify_password(h, "correct horse 9"));
  EXPECT_FALSE(verify_password(h, "correct horse 8"));
  EXPECT_FALSE(verify_password(h, ""));
}

TEST(PasswordTest, DefaultParametersAppearInTheEncodingAndVerify) {
  Result<std::string> h = hash_password("Default-cost 1");
  ASSERT_TRUE(h.is_ok()) << h.status().to_string();
  EXPECT_TRUE(h->starts_with("$argon2id$v=19$m=19456,t=2,p=1$")) << *h;
  EXPECT_TRUE(verify_password(*h, "Default-cost 1"));
  EXPECT_FALSE(verify_password(*h, "Default-cost 2"));
}

TEST(PasswordTest, EncodingCarriesSmallParametersAndSaltAndHashLengths) {
  const std::string h = fast_hash("abc");
  ASSERT_TRUE(h.starts_with("$argon2id$v=19$m=1024,t=1,p=1$")) << h;
  const std::string_view rest = std::string_view(h).substr(std::string_view("$argon2id$v=19$m=1024,t=1,p=1$").size());
  const size_t dollar = rest.find('$');
  EXPECT_EQ(dollar, 22u);                    // 16 bytes in unpadded base64
  EXPECT_EQ(rest.size() - dollar - 1, 43u);  // 32 bytes in unpadded base64
}

TEST(PasswordTest, TwoHashesOfOnePasswordDiffer) {
  const std::string a = fast_hash("same password 1");
  const std::string b = fast_hash("same password 1");
  EXPECT_NE(a, b);
  EXPECT_TRUE(verify_password(a, "same password 1"));
  EXPECT_TRUE(verify_password(b, "same password 1"));
}

TEST(PasswordTest, MalformedEncodingsAreFalse) {
  const std::string good = fast_hash("pw");
  std::string argon2i = good;
  argon2i.replace(0, 9, "$argon2i");  // "$argon2id" -> "$argon2i"
  std::string no_version = good;
  no_version.erase(no_version.find("v=19$"), 5);
  std::string bad_base64 = good;
  bad_base64[bad_base64.size() - 3] = '*';
  const std::string cases[] = {
      "",
      "garbage",
      "$argon2id$",
      good.substr(0, good.size() / 2),
      good.substr(0, good.rfind('$')),
      good.substr(0, good.size() - 1),
      good + "A",
      argon2i,
      no_version,
      bad_base64,
      std::string(good).insert(5, 1, '\0'),
      "$argon2id$v=19$m=4294967295,t=1,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA",  // 4 TiB
      "$argon2id$v=19$m=1024,t=1000000,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA",
      "$argon2id$v=19$m=1024,t=0,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA",
      "$argon2id$v=19$m=99999999999,t=1,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA",
      "$argon2id$v=19$m=1024,t=1,p=1$$aGFzaGhhc2hoYXNoaGFzaA",
      "$argon2id$v=19$m=1024,t=1,p=1$c2FsdHNhbHRzYWx0$",
      "$argon2id$v=19$m=1024,t=1,p=1$c2FsdHNhbHRzYWx0$aGFz$aGFz",
      std::string(1000, '$'),
  };
  for (const std::string& encoded : cases) EXPECT_FALSE(verify_password(encoded, "pw")) << encoded;
  EXPECT_TRUE(verify_password(good, "pw"));
}

TEST(PasswordTest, RefusesParametersLibargon2Refuses) {
  EXPECT_FALSE(hash_password("pw", {.t_cost = 0, .m_cost_kib = 1024, .parallelism = 1}).is_ok());
  EXPECT_FALSE(hash_password("pw", {.t_cost = 1, .m_cost_kib = 4, .parallelism = 1}).is_ok());
  EXPECT_FALSE(hash_password(std::string(kMaxPasswordBytes + 1, 'a'), kFast).is_ok());
}

TEST(PasswordTest, GeneratedPasswordsUseTheUnambiguousAlphabet) {
  std::set<std::string> seen;
  for (int i = 0; i < 200; ++i) {
    const std::string p = generate_password();
    ASSERT_EQ(p.size(), 16u);
    EXPECT_EQ(p.find_first_not_of(kPasswordAlphabet), std::string::npos) << p;
    EXPECT_EQ(p.find_first_of("0O1lI"), std::string::npos) << p;
    EXPECT_EQ(check_password_policy(p, "wang.li"), std::nullopt) << p;
    seen.insert(p);
  }
  EXPECT_EQ(seen.size(), 200u);
  EXPECT_EQ(generate_password(10).size(), 10u);
  EXPECT_EQ(generate_password(0), "");
}

TEST(PasswordTest, GeneratedPasswordsCoverTheAlphabet) {
  std::set<char> chars;
  for (int i = 0; i < 100; ++i) {
    for (char c : generate_password(64)) chars.insert(c);
  }
  EXPECT_EQ(chars.size(), kPasswordAlphabet.size());
}

TEST(PasswordTest, RandomTokensAreHexAndDistinct) {
  const std::string a = random_token();
  EXPECT_EQ(a.size(), 64u);
  EXPECT_EQ(a.find_first_not_of("0123456789abcdef"), std::string::npos);
  EXPECT_NE(a, random_token());
  EXPECT_EQ(random_token(4).size(), 8u);
}

TEST(PasswordTest, PolicyNamesTheFirstRuleBroken) {
  const auto code = [](std::string_view password, std::string_view name = "wang.li") {
    const std::optional<PolicyError> e = check_password_policy(password, name);
    return e ? e->code : std::string("ok");
  };
  EXPECT_EQ(code("Short1"), "password_too_short");
  EXPECT_EQ(code("abcdefghij"), "password_too_simple");
  EXPECT_EQ(code("ABCDEFGHIJ"), "password_too_simple");
  EXPECT_EQ(code("1234567890"), "password_too_simple");
  EXPECT_EQ(code("abcdefghi1"), "ok");
  EXPECT_EQ(code("abcdefghi!"), "ok");
  EXPECT_EQ(code("低保监测网络密码很安全a"), "ok");                // non-ASCII counts as "other"
  EXPECT_EQ(code("低保监测网络密码安全"), "password_too_simple");  // 10 characters, one class
  EXPECT_EQ(code("低保监测网络密码"), "password_too_short");       // 8 characters, 24 bytes
  EXPECT_EQ(code("my-WANG.LI-2024"), "password_contains_name");
  EXPECT_EQ(code("wang.li123"), "password_contains_name");
  EXPECT_EQ(code("abcdefghi1", ""), "ok");
  EXPECT_EQ(code(std::string(kMaxPasswordBytes, 'a') + "1"), "password_too_long");
  EXPECT_EQ(code(std::string(kMaxPasswordBytes - 1, 'a') + "1"), "ok");
  EXPECT_EQ(code("abcdefghi1\xff"), "password_not_utf8");
  EXPECT_EQ(code("abcdefghi1\xc0\xaf"), "password_not_utf8");      // overlong '/'
  EXPECT_EQ(code("abcdefghi1\xed\xa0\x80"), "password_not_utf8");  // surrogate
  EXPECT_EQ(code("abcdefghi1\xe4\xbd"), "password_not_utf8");      // truncated
  EXPECT_EQ(code("abcdefghi1\n"), "password_control_char");
  EXPECT_EQ(code(std::string("abcdefghi1\0", 11)), "password_control_char");
}

TEST(PasswordTest, PolicyErrorsSpeakBothLanguages) {
  const std::optional<PolicyError> e = check_password_policy("short", "wang.li");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->message_zh, "密码至少 10 个字符");
  EXPECT_EQ(e->message_en, "password must be at least 10 characters");
  const Status s = to_status(*e);
  EXPECT_EQ(s.code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(s.message(), "password_too_short: password must be at least 10 characters");
}

// ---- Accounts ----

Account sample_account() {
  Account a;
  a.name = "wang.li";
  a.role = Role::kSupervisor;
  a.jurisdiction = 441303000000;
  a.password_hash = "$argon2id$v=19$m=1024,t=1,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA";
  a.must_change_password = false;
  a.disabled = true;
  a.created_us = kT0;
  a.password_changed_us = kT0 + kSecond;
  a.created_by = "admin";
  return a;
}

TEST(AccountTest, RoleNamesRoundTrip) {
  for (Role r : {Role::kOperator, Role::kSupervisor, Role::kAdmin}) EXPECT_EQ(parse_role(role_name(r)), r);
  EXPECT_STREQ(role_name(Role::kAdmin), "admin");
  EXPECT_EQ(parse_role("Admin"), std::nullopt);
  EXPECT_EQ(parse_role(""), std::nullopt);
  EXPECT_EQ(parse_role("root"), std::nullopt);
}

TEST(AccountTest, EncodeDecodeRoundTrips) {
  const Account a = sample_account();
  Result<Account> back = decode_account(encode_account(a));
  ASSERT_TRUE(back.is_ok()) << back.status().to_string();
  EXPECT_EQ(*back, a);

  Account fresh;  // defaults, bootstrap creator
  fresh.name = "admin";
  fresh.role = Role::kAdmin;
  fresh.jurisdiction = 440000000000;
  fresh.password_hash = a.password_hash;
  Result<Account> back2 = decode_account(encode_account(fresh));
  ASSERT_TRUE(back2.is_ok()) << back2.status().to_string();
  EXPECT_EQ(*back2, fresh);
}

TEST(AccountTest, EncodingIsTheDocumentedCompactJson) {
  EXPECT_EQ(encode_account(sample_account()),
            R"({"created_by":"admin","created_us":1718000000000000,"disabled":true,)"
            R"("jurisdiction":"441303000000","must_change_password":false,"name":"wang.li",)"
            R"("password_changed_us":1718000001000000,)"
            R"("password_hash":"$argon2id$v=19$m=1024,t=1,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA",)"
            R"("role":"supervisor","v":1})");
}

// The encoding of sample_account() with `from` replaced by `to` (once).
std::string edited(std::string_view from, std::string_view to) {
  std::string s = encode_account(sample_account());
  const size_t at = s.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  if (at != std::string::npos) s.replace(at, from.size(), to);
  return s;
}

TEST(AccountTest, DecodeRefusesAnythingMalformed) {
  const std::string cases[] = {
      "",
      "null",
      "[]",
      "{}",
      "not json",
      encode_account(sample_account()) + "x",
      encode_account(sample_account()).substr(0, 50),
      edited(R"("role":"supervisor")", R"("role":"root")"),
      edited(R"("role":"supervisor")", R"("role":2)"),
      edited(R"("v":1)", R"("v":2)"),
      edited(R"(,"v":1)", ""),                          // missing key
      edited(R"("v":1)", R"("v":1,"extra":0)"),         // unknown key
      edited(R"("v":1)", R"("v":1,"v":1)"),             // repeated key
      edited(R"("v":1)", R"("v":1,"name":"wang.li")"),  // repeated key
      edited(R"("disabled":true)", R"("disabled":1)"),
      edited(R"("disabled":true)", R"("disabled":"true")"),
      edited(R"("created_us":1718000000000000)", R"("created_us":-1)"),
      edited(R"("created_us":1718000000000000)", R"("created_us":1.5)"),
      edited(R"("created_us":1718000000000000)", R"("created_us":"1718000000000000")"),
      edited(R"("created_us":1718000000000000)", R"("created_us":18446744073709551615)"),
      edited(R"("jurisdiction":"441303000000")", R"("jurisdiction":441303000000)"),
      edited(R"("jurisdiction":"441303000000")", R"("jurisdiction":"4413030")"),
      edited(R"("jurisdiction":"441303000000")", R"("jurisdiction":"000000000000")"),
      edited(R"("name":"wang.li")", R"("name":"Wang.Li")"),
      edited(R"("name":"wang.li")", R"("name":"")"),
      edited(R"("created_by":"admin")", R"("created_by":"bad name")"),
      edited(R"("created_by":"admin")", R"("created_by":null)"),
      edited(R"("password_hash":"$argon2id$)", R"("password_hash":"$argon2i$)"),
      edited(R"("password_hash":"$argon2id$)", R"("password_hash":"plain)"),
      std::string(kMaxAccountBytes + 1, ' '),
  };
  for (const std::string& bytes : cases) {
    Result<Account> r = decode_account(bytes);
    EXPECT_FALSE(r.is_ok()) << bytes;
    EXPECT_EQ(r.status().code(), Status::Code::kCorruption) << bytes;
  }
}

TEST(AccountTest, DecodeNamesTheKeyAtFault) {
  Result<Account> r = decode_account(edited(R"("disabled":true)", R"("disabled":1)"));
  ASSERT_FALSE(r.is_ok());
  EXPECT_NE(r.status().message().find("'disabled'"), std::string::npos) << r.status().to_string();
}

TEST(AccountTest, NamesFollowTheRule) {
  for (std::string_view ok : {"abc", "wang.li", "op_01", "a-b", "0zz", "abcdefghijabcdefghijabcdefghij12"}) {
    EXPECT_EQ(check_account_name(ok), std::nullopt) << ok;
  }
  const auto code = [](std::string_view name) {
    const std::optional<PolicyError> e = check_account_name(name);
    return e ? e->code : std::string("ok");
  };
  EXPECT_EQ(code("ab"), "account_name_length");
  EXPECT_EQ(code(""), "account_name_length");
  EXPECT_EQ(code(std::string(33, 'a')), "account_name_length");
  EXPECT_EQ(code("Wang"), "account_name_chars");
  EXPECT_EQ(code(".abc"), "account_name_chars");
  EXPECT_EQ(code("-abc"), "account_name_chars");
  EXPECT_EQ(code("_abc"), "account_name_chars");
  EXPECT_EQ(code("ab c"), "account_name_chars");
  EXPECT_EQ(code("王小明"), "account_name_chars");
  EXPECT_EQ(code("abc\n"), "account_name_chars");
}

// ---- Sessions ----

Account session_account(std::string name) {
  Account a;
  a.name = std::move(name);
  a.role = Role::kOperator;
  a.jurisdiction = 441303001000;
  a.must_change_password = true;
  return a;
}

class SessionTableTest : public ::testing::Test {
 protected:
  // 30 minutes idle, 8 hours absolute, 3 per account.
  SessionTable table_{30 * kMinute, 8 * 60 * kMinute, 3};
};

TEST_F(SessionTableTest, CreateThenTouchFindsTheSession) {
  const Session s = table_.create(session_account("op1"), "10.0.0.7", kT0);
  EXPECT_EQ(s.token.size(), 64u);
  EXPECT_EQ(s.csrf.size(), 64u);
  EXPECT_NE(s.token, s.csrf);
  EXPECT_EQ(s.account, "op1");
  EXPECT_EQ(s.role, Role::kOperator);
  EXPECT_EQ(s.jurisdiction, 441303001000u);
  EXPECT_TRUE(s.must_change_password);
  EXPECT_EQ(s.address, "10.0.0.7");
  EXPECT_EQ(s.created_us, kT0);

  const std::optional<Session> t = table_.touch(s.token, kT0 + kMinute);
  ASSERT_TRUE(t);
  EXPECT_EQ(t->account, "op1");
  EXPECT_EQ(t->csrf, s.csrf);
  EXPECT_EQ(t->last_seen_us, kT0 + kMinute);
  EXPECT_FALSE(table_.touch("no-such-token", kT0));
  EXPECT_FALSE(table_.touch("", kT0));
  EXPECT_EQ(table_.size(), 1u);
}

TEST_F(SessionTableTest, IdleSessionExpiresAndIsErased) {
  const Session s = table_.create(session_account("op1"), "a", kT0);
  ASSERT_TRUE(table_.touch(s.token, kT0 + 29 * kMinute));  // refreshes last_seen
  ASSERT_TRUE(table_.touch(s.token, kT0 + 58 * kMinute));
  EXPECT_FALSE(table_.touch(s.token, kT0 + 88 * kMinute));  // exactly 30 idle minutes
  EXPECT_EQ(table_.size(), 0u);
  EXPECT_FALSE(table_.touch(s.token, kT0 + 58 * kMinute));  // gone for good
}

TEST_F(SessionTableTest, ActiveSessionExpiresAtTheAbsoluteTimeout) {
  const Session s = table_.create(session_account("op1"), "a", kT0);
  int64_t now = kT0;
  for (; now < kT0 + 8 * 60 * kMinute; now += 20 * kMinute) ASSERT_TRUE(table_.touch(s.token, now)) << now;
  EXPECT_FALSE(table_.touch(s.token, kT0 + 8 * 60 * kMinute));
  EXPECT_EQ(table_.size(), 0u);
}

TEST_F(SessionTableTest, TouchNeverMovesLastSeenBackwards) {
  const Session s = table_.create(session_account("op1"), "a", kT0);
  ASSERT_TRUE(table_.touch(s.token, kT0 + 10 * kMinute));
  const std::optional<Session> t = table_.touch(s.token, kT0 + 5 * kMinute);
  ASSERT_TRUE(t);
  EXPECT_EQ(t->last_seen_us, kT0 + 10 * kMinute);
}

TEST_F(SessionTableTest, EndAndEndAll) {
  const Session a1 = table_.create(session_account("op1"), "a", kT0);
  const Session a2 = table_.create(session_account("op1"), "a", kT0);
  const Session b1 = table_.create(session_account("op2"), "b", kT0);
  EXPECT_TRUE(table_.end(a1.token));
  EXPECT_FALSE(table_.end(a1.token));
  EXPECT_FALSE(table_.touch(a1.token, kT0));
  EXPECT_TRUE(table_.touch(a2.token, kT0));

  const Session a3 = table_.create(session_account("op1"), "a", kT0);
  EXPECT_EQ(table_.end_all("op1"), 2u);
  EXPECT_EQ(table_.end_all("op1"), 0u);
  EXPECT_FALSE(table_.touch(a2.token, kT0));
  EXPECT_FALSE(table_.touch(a3.token, kT0));
  EXPECT_TRUE(table_.touch(b1.token, kT0));
  EXPECT_EQ(table_.size(), 1u);
  EXPECT_EQ(table_.end_all("nobody"), 0u);
}

TEST_F(SessionTableTest, EndOthersKeepsTheGivenSession) {
  const Session a1 = table_.create(session_account("op1"), "a", kT0);
  const Session a2 = table_.create(session_account("op1"), "a", kT0);
  const Session a3 = table_.create(session_account("op1"), "a", kT0);
  EXPECT_EQ(table_.end_others("op1", a2.token), 2u);
  EXPECT_FALSE(table_.touch(a1.token, kT0));
  EXPECT_TRUE(table_.touch(a2.token, kT0));
  EXPECT_FALSE(table_.touch(a3.token, kT0));
}

TEST_F(SessionTableTest, NewSessionBeyondTheLimitEndsTheOldest) {
  std::vector<Session> s;
  for (int i = 0; i < 3; ++i) s.push_back(table_.create(session_account("op1"), "a", kT0 + i));
  const Session other = table_.create(session_account("op2"), "b", kT0);
  s.push_back(table_.create(session_account("op1"), "a", kT0 + 3));
  EXPECT_FALSE(table_.touch(s[0].token, kT0 + 4));
  for (int i = 1; i < 4; ++i) EXPECT_TRUE(table_.touch(s[i].token, kT0 + 4)) << i;
  EXPECT_TRUE(table_.touch(other.token, kT0 + 4));
  EXPECT_EQ(table_.size(), 4u);
}

TEST_F(SessionTableTest, ExpiredSessionsDoNotCountTowardTheLimit) {
  const Session old = table_.create(session_account("op1"), "a", kT0);
  const Session s1 = table_.create(session_account("op1"), "a", kT0 + 20 * kMinute);
  const Session s2 = table_.create(session_account("op1"), "a", kT0 + 25 * kMinute);
  // At +40 min `old` has been idle 40 minutes: it goes, s1 and s2 stay.
  const Session s3 = table_.create(session_account("op1"), "a", kT0 + 40 * kMinute);
  EXPECT_EQ(table_.size(), 3u);
  for (const Session* s : {&s1, &s2, &s3}) EXPECT_TRUE(table_.touch(s->token, kT0 + 41 * kMinute));
}

TEST_F(SessionTableTest, SweepErasesExpiredSessions) {
  table_.create(session_account("op1"), "a", kT0);
  table_.create(session_account("op2"), "a", kT0);
  const Session live = table_.create(session_account("op3"), "a", kT0 + 20 * kMinute);
  EXPECT_EQ(table_.sweep(kT0 + 31 * kMinute), 2u);
  EXPECT_EQ(table_.size(), 1u);
  EXPECT_TRUE(table_.touch(live.token, kT0 + 31 * kMinute));
  EXPECT_EQ(table_.sweep(kT0 + 31 * kMinute), 0u);
}

TEST_F(SessionTableTest, SetMustChangeReachesEverySessionOfTheAccount) {
  const Session a = table_.create(session_account("op1"), "a", kT0);
  const Session b = table_.create(session_account("op2"), "a", kT0);
  table_.set_must_change("op1", false);
  EXPECT_FALSE(table_.touch(a.token, kT0)->must_change_password);
  EXPECT_TRUE(table_.touch(b.token, kT0)->must_change_password);
  table_.set_must_change("nobody", false);
}

// A session remembers the account's last password change as of its
// sign-in, and its own change; Api::authenticate ends it at a later one.
TEST_F(SessionTableTest, ASessionCarriesThePasswordChangeItHasSeen) {
  Account account = session_account("op1");
  account.password_changed_us = kT0 - kMinute;
  const Session a = table_.create(account, "a", kT0);
  const Session b = table_.create(account, "a", kT0);
  EXPECT_EQ(a.password_changed_us, kT0 - kMinute);
  EXPECT_TRUE(table_.set_password_changed(a.token, kT0 + kMinute));
  EXPECT_EQ(table_.touch(a.token, kT0)->password_changed_us, kT0 + kMinute);
  EXPECT_EQ(table_.touch(b.token, kT0)->password_changed_us, kT0 - kMinute);
  EXPECT_FALSE(table_.set_password_changed("no-such-token", kT0));
}

TEST(AccountTest, APasswordChangeIsAlwaysLaterThanTheLastOne) {
  Account a;
  a.password_changed_us = 0;
  EXPECT_EQ(next_password_change_us(a, 1000), 1000);
  a.password_changed_us = 5000;  // the clock stepped back since
  EXPECT_EQ(next_password_change_us(a, 1000), 5001);
}

TEST_F(SessionTableTest, CsrfMatchesOnlyTheExactToken) {
  const Session s = table_.create(session_account("op1"), "a", kT0);
  EXPECT_TRUE(csrf_matches(s, s.csrf));
  EXPECT_FALSE(csrf_matches(s, ""));
  EXPECT_FALSE(csrf_matches(s, s.token));
  EXPECT_FALSE(csrf_matches(s, s.csrf.substr(1)));
  EXPECT_FALSE(csrf_matches(s, s.csrf + "0"));
  std::string flipped = s.csrf;
  flipped.back() = flipped.back() == 'a' ? 'b' : 'a';
  EXPECT_FALSE(csrf_matches(s, flipped));
  Session blank = s;
  blank.csrf.clear();
  EXPECT_FALSE(csrf_matches(blank, ""));
}

TEST(SessionOptionsTest, DefaultsConstructATable) {
  SessionTable table(SessionOptions{});
  const Session s = table.create(session_account("op1"), "a", kT0);
  EXPECT_TRUE(table.touch(s.token, kT0 + 29 * kMinute));
  EXPECT_FALSE(table.touch(s.token, kT0 + 59 * kMinute));
}

// ---- Sign-in limiter ----

TEST(LoginLimiterTest, FiveFailuresLockTheAccountForFifteenMinutes) {
  LoginLimiter limiter;
  for (int i = 0; i < 4; ++i) {
    limiter.record_failure("op1", "10.0.0.1", kT0 + i * kSecond);
    EXPECT_EQ(limiter.retry_after_s("op1", "10.0.0.1", kT0 + i * kSecond), 0) << i;
  }
  limiter.record_failure("op1", "10.0.0.1", kT0 + 4 * kSecond);
  EXPECT_EQ(limiter.retry_after_s("op1", "10.0.0.1", kT0 + 4 * kSecond), 15 * 60);
  EXPECT_EQ(limiter.retry_after_s("op1", "10.0.0.99", kT0 + 4 * kSecond), 15 * 60);           // any address
  EXPECT_EQ(limiter.retry_after_s("op2", "10.0.0.1", kT0 + 4 * kSecond), 0);                  // other accounts
  EXPECT_EQ(limiter.retry_after_s("op1", "10.0.0.1", kT0 + 5 * kSecond + kSecond / 2), 899);  // rounded up
  EXPECT_EQ(limiter.retry_after_s("op1", "10.0.0.1", kT0 + 4 * kSecond + 15 * kMinute), 0);
}

TEST(LoginLimiterTest, FailuresOutsideTheWindowDoNotCount) {
  LoginLimiter limiter;
  for (int i = 0; i < 4; ++i) limiter.record_failure("op1", "a", kT0 + i * kMinute);
  // The first failure (at kT0) leaves the window at kT0 + 15 min.
  limiter.record_failure("op1", "a", kT0 + 15 * kMinute);
  EXPECT_EQ(limiter.retry_after_s("op1", "a", kT0 + 15 * kMinute), 0);
  limiter.record_failure("op1", "a", kT0 + 15 * kMinute + kSecond);
  EXPECT_GT(limiter.retry_after_s("op1", "a", kT0 + 15 * kMinute + kSecond), 0);
}

TEST(LoginLimiterTest, AccountUnlocksAfterTheLockAndCountsAfresh) {
  LoginLimiter limiter;
  for (int i = 0; i < 5; ++i) limiter.record_failure("op1", "a", kT0);
  ASSERT_GT(limiter.retry_after_s("op1", "a", kT0), 0);
  limiter.record_failure("op1", "a", kT0 + kMinute);  // while locked: ignored
  const int64_t after = kT0 + 15 * kMinute;
  EXPECT_EQ(limiter.retry_after_s("op1", "a", after), 0);
  limiter.record_failure("op1", "a", after);
  EXPECT_EQ(limiter.retry_after_s("op1", "a", after), 0);
}

TEST(LoginLimiterTest, SuccessClearsTheAccountsFailures) {
  LoginLimiter limiter;
  for (int i = 0; i < 4; ++i) limiter.record_failure("op1", "a", kT0);
  limiter.record_success("op1", "a", kT0);
  for (int i = 0; i < 4; ++i) limiter.record_failure("op1", "a", kT0);
  EXPECT_EQ(limiter.retry_after_s("op1", "a", kT0), 0);
}

TEST(LoginLimiterTest, TwentyFailuresFromOneAddressLockItForEveryAccount) {
  LoginLimiter limiter;
  for (int i = 0; i < 19; ++i) limiter.record_failure("guess" + std::to_string(i), "192.0.2.5", kT0);
  EXPECT_EQ(limiter.retry_after_s("admin", "192.0.2.5", kT0), 0);
  limiter.record_success("guess0", "192.0.2.5", kT0);  // a success does not reset the address
  limiter.record_failure("guess19", "192.0.2.5", kT0);
  EXPECT_EQ(limiter.retry_after_s("admin", "192.0.2.5", kT0), 15 * 60);
  EXPECT_EQ(limiter.retry_after_s("admin", "192.0.2.6", kT0), 0);
  EXPECT_EQ(limiter.retry_after_s("admin", "192.0.2.5", kT0 + 15 * kMinute), 0);
}

TEST(LoginLimiterTest, AnIpv6AddressCountsAsItsSlash64) {
  EXPECT_EQ(LoginLimiter::address_key("2001:db8:1:2:aaaa::1"), "2001:db8:1:2::/64");
  EXPECT_EQ(LoginLimiter::address_key("::ffff:192.0.2.5"), "192.0.2.5");
  EXPECT_EQ(LoginLimiter::address_key("192.0.2.5"), "192.0.2.5");
  EXPECT_EQ(LoginLimiter::address_key("not an address"), "not an address");
  LoginLimiter limiter;
  for (int i = 0; i < 20; ++i) {
    limiter.record_failure("guess" + std::to_string(i), "2001:db8:1:2::" + std::to_string(i + 1), kT0);
  }
  EXPECT_GT(limiter.retry_after_s("admin", "2001:db8:1:2:ffff::9", kT0), 0);
  EXPECT_EQ(limiter.retry_after_s("admin", "2001:db8:1:3::1", kT0), 0);
}

TEST(LoginLimiterTest, MemoryStaysBoundedUnderAFloodOfNames) {
  LoginLimiterOptions options;
  options.max_tracked_keys = 1000;
  LoginLimiter limiter(options);
  for (int i = 0; i < 5; ++i) limiter.record_failure("victim", "a", kT0);
  ASSERT_GT(limiter.retry_after_s("victim", "a", kT0), 0);
  // All within one window, each from its own address (a botnet).
  for (int i = 0; i < 50000; ++i) {
    limiter.record_failure("flood" + std::to_string(i), "addr" + std::to_string(i), kT0 + 1 + i);
  }
  EXPECT_EQ(limiter.tracked_keys(), 2000u);  // both tables full, no more
  EXPECT_GT(limiter.evictions(), 0u);
}

TEST(LoginLimiterTest, ExpiredEntriesArePrunedWithoutEvicting) {
  LoginLimiterOptions options;
  options.max_tracked_keys = 100;
  LoginLimiter limiter(options);
  int64_t now = kT0;
  for (int i = 0; i < 1000; ++i, now += kMinute)
    limiter.record_failure("name" + std::to_string(i), std::to_string(i), now);
  // Only the last 15 minutes' keys are alive: 15 accounts and 15 addresses.
  EXPECT_LE(limiter.tracked_keys(), 32u);
  EXPECT_EQ(limiter.evictions(), 0u);
}

TEST(LoginLimiterTest, ANameThatIsNoAccountNameIsShownAsInvalid) {
  EXPECT_EQ(LoginLimiter::shown_name("wang.li"), "wang.li");
  EXPECT_EQ(LoginLimiter::shown_name("Typed-Secret-2026!"), "(invalid name)");
  EXPECT_EQ(LoginLimiter::shown_name(""), "(invalid name)");
  EXPECT_EQ(LoginLimiter::shown_name(std::string(40, 'a')), "(invalid name)");
}

TEST(LoginLimiterTest, VeryLongNamesShareOneBoundedKey) {
  LoginLimiter limiter;
  const std::string prefix(FailureWindow::kMaxKeyBytes, 'x');
  for (int i = 0; i < 5; ++i) limiter.record_failure(prefix + std::to_string(i), "a", kT0);
  EXPECT_GT(limiter.retry_after_s(prefix + "zzz", "b", kT0), 0);
}

}  // namespace
}  // namespace lifeline::web
