// HttpClient: a small client of a node's HTTP API (web/API.md) for the
// real-process tests: sign in (Bearer token, or the session cookie with its
// CSRF header), then get/post/put/patch/del answering the status, the
// headers and the body parsed as JSON. Built over httplib::Client on
// loopback; one connection per request (no keep-alive), so a test never
// waits on a connection the server closed.
//
// Not thread-safe; copyable (it holds only the address and the session).
#pragma once

#include <httplib.h>

#include <fstream>
#include <ostream>
#include <sstream>
#include <string>
#include <utility>

#include <nlohmann/json.hpp>

namespace lifeline::testing {

// One answer.
struct HttpReply {
  int status = 0;           // 0 when no answer came (connection refused, timeout)
  std::string body;         // as received
  nlohmann::json json;      // body parsed (discarded value when not JSON)
  httplib::Headers headers;
  std::string header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? "" : it->second;
  }
  // error.code of a refusal ("" when the body has no error object).
  std::string error_code() const {
    if (!json.is_object() || !json.contains("error") || !json["error"].is_object()) return "";
    return json["error"].value("code", "");
  }
  std::string error_field() const {
    if (!json.is_object() || !json.contains("error") || !json["error"].is_object()) return "";
    return json["error"].value("field", "");
  }
};

inline std::ostream& operator<<(std::ostream& os, const HttpReply& r) { return os << r.status << " " << r.body; }

class HttpClient {
 public:
  HttpClient() = default;
  HttpClient(std::string host, int port) : host_(std::move(host)), port_(port) {}
  // url like http://127.0.0.1:18080/ (the fifth column of nodes.tsv).
  static HttpClient from_url(const std::string& url) {
    std::string rest = url.substr(url.find("://") + 3);
    size_t colon = rest.find(':');
    size_t slash = rest.find('/', colon);
    return HttpClient(rest.substr(0, colon), std::stoi(rest.substr(colon + 1, slash - colon - 1)));
  }

  // Any request. Content-Type is sent with a body and on every POST, PUT and
  // PATCH (with Content-Length: 0 when the body is empty).
  HttpReply request(const std::string& method, const std::string& path, const std::string& body = "",
                    const std::string& content_type = "application/json", httplib::Headers extra = {}) const {
    httplib::Client cli(host_, port_);
    cli.set_keep_alive(false);
    cli.set_connection_timeout(5, 0);
    cli.set_read_timeout(40, 0);
    cli.set_write_timeout(40, 0);
    httplib::Request req;
    req.method = method;
    req.path = path;
    req.headers = std::move(extra);
    if (!token_.empty() && !cookie_mode_) req.headers.emplace("Authorization", "Bearer " + token_);
    if (!token_.empty() && cookie_mode_) {
      req.headers.emplace("Cookie", "lifeline_session=" + token_);
      if (send_csrf_ && method != "GET" && method != "HEAD") req.headers.emplace("X-CSRF-Token", csrf_);
    }
    if (!body.empty() || method == "POST" || method == "PUT" || method == "PATCH") {
      req.body = body;
      req.headers.emplace("Content-Type", content_type);
    }
    HttpReply out;
    auto res = cli.send(req);
    if (!res) return out;
    out.status = res->status;
    out.body = res->body;
    out.headers = res->headers;
    out.json = nlohmann::json::parse(out.body, nullptr, false);
    return out;
  }
  HttpReply get(const std::string& path) const { return request("GET", path); }
  HttpReply post(const std::string& path, const nlohmann::json& body) const { return request("POST", path, body.dump()); }
  HttpReply post_raw(const std::string& path, const std::string& body, const std::string& type = "application/json") const {
    return request("POST", path, body, type);
  }
  HttpReply put(const std::string& path, const nlohmann::json& body) const { return request("PUT", path, body.dump()); }
  HttpReply patch(const std::string& path, const nlohmann::json& body) const { return request("PATCH", path, body.dump()); }
  HttpReply del(const std::string& path) const { return request("DELETE", path); }
  // A multipart/form-data POST with one file part named field.
  HttpReply post_file(const std::string& path, const std::string& field, const std::string& file_name,
                      const std::string& content, const std::string& type = "text/csv") const {
    const std::string boundary = "----lifeline-test-boundary-7f3a9c";
    std::string body = "--" + boundary + "\r\nContent-Disposition: form-data; name=\"" + field + "\"; filename=\"" +
                       file_name + "\"\r\nContent-Type: " + type + "\r\n\r\n" + content + "\r\n--" + boundary + "--\r\n";
    return request("POST", path, body, "multipart/form-data; boundary=" + boundary);
  }

  // POST /api/v1/session; on 200 keeps the token and CSRF token. Bearer
  // mode asks for the token in the answer ("bearer": true); cookie mode
  // takes it from the Set-Cookie header. Returns the answer either way.
  HttpReply login(const std::string& name, const std::string& password, bool use_cookie = false) {
    HttpClient anonymous(host_, port_);
    nlohmann::json body{{"name", name}, {"password", password}};
    if (!use_cookie) body["bearer"] = true;  // scripts ask for the token in the answer
    HttpReply r = anonymous.post("/api/v1/session", body);
    if (r.status == 200 && r.json.is_object()) {
      token_ = r.json.value("token", "");
      csrf_ = r.json.value("csrf_token", "");
      cookie_mode_ = use_cookie;
      if (use_cookie) {
        // The token as the cookie carries it (the Set-Cookie header), which must equal the body's.
        std::string set = r.header("Set-Cookie");
        size_t at = set.find("lifeline_session=");
        if (at != std::string::npos) {
          size_t end = set.find(';', at);
          token_ = set.substr(at + 17, end == std::string::npos ? std::string::npos : end - at - 17);
        }
      }
    }
    return r;
  }
  // Signs in with a one-time password and replaces it with new_password;
  // true when both succeeded (the session stays signed in).
  bool login_and_change(const std::string& name, const std::string& one_time, const std::string& new_password) {
    if (login(name, one_time).status != 200) return false;
    return post("/api/v1/session/password", nlohmann::json{{"current_password", one_time}, {"new_password", new_password}})
               .status == 200;
  }
  void forget_session() { token_.clear(), csrf_.clear(); }
  // Cookie mode: send X-CSRF-Token on unsafe methods or not.
  void set_send_csrf(bool on) { send_csrf_ = on; }

  const std::string& token() const { return token_; }
  const std::string& csrf() const { return csrf_; }
  const std::string& host() const { return host_; }
  int port() const { return port_; }

 private:
  std::string host_ = "127.0.0.1";
  int port_ = 0;
  std::string token_;          // the session token ("" when signed out)
  std::string csrf_;           // its CSRF token
  bool cookie_mode_ = false;   // send the token as the lifeline_session cookie, not as Bearer
  bool send_csrf_ = true;      // in cookie mode, on POST/PUT/PATCH/DELETE
};

// The one-time password of a node's first admin ("admin"), kept by
// `lifeline network init` in line 2 of node_dir/first_admin.txt.
inline std::string first_admin_password(const std::string& node_dir) {
  std::ifstream in(node_dir + "/first_admin.txt");
  std::string name, password;
  std::getline(in, name);
  std::getline(in, password);
  return password;
}

// A client of node code's HTTP API, found in nodes.tsv (its fifth column)
// beside node_dir (network init's DIR/<code>/). Port 0 when not listed.
inline HttpClient node_client(const std::string& node_dir, const std::string& code) {
  std::ifstream in(node_dir + "/../nodes.tsv");
  for (std::string line; std::getline(in, line);) {
    std::istringstream cols(line);
    std::string c, level, name, config, url;
    std::getline(cols, c, '\t');
    std::getline(cols, level, '\t');
    std::getline(cols, name, '\t');
    std::getline(cols, config, '\t');
    std::getline(cols, url, '\t');
    if (c == code && url.rfind("http://", 0) == 0) return HttpClient::from_url(url);
  }
  return HttpClient("127.0.0.1", 0);
}

}  // namespace lifeline::testing
