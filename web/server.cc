#include "web/server.h"

#include <httplib.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>

#include "topology/logging.h"
#include "web/api.h"

namespace lifeline::web {

WebServer::WebServer(const runtime::NodeOptions& options, runtime::LoopQueue& queue, const storage::Store& store)
    : options_(options), api_(std::make_unique<Api>(options, queue, store)), server_(std::make_unique<httplib::Server>()) {
  int threads = options.web.threads;
  server_->new_task_queue = [threads] { return new httplib::ThreadPool(static_cast<size_t>(threads)); };
  server_->set_payload_max_length(options.web.max_body_bytes);
  server_->set_keep_alive_max_count(1000000);  // a closing keep-alive connection races the next request
  // Headers and body go out in separate writes: without TCP_NODELAY, Nagle's
  // algorithm and the client's delayed ACK hold every answer ~40 ms.
  server_->set_tcp_nodelay(true);
  server_->set_read_timeout(30, 0);
  server_->set_write_timeout(30, 0);
  // The listening socket is the only one httplib passes here: kept to raise
  // its backlog after the bind (below). SO_REUSEADDR only: httplib's default
  // also sets SO_REUSEPORT, under which a second node configured with this
  // address binds it too and the kernel shares the operators' connections
  // out between the two processes.
  server_->set_socket_options([this](socket_t sock) {
    int yes = 1;
    if (::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes) != 0)
      folder_logger("web")->warn("cannot set SO_REUSEADDR on the HTTP socket: {}", std::strerror(errno));
    listen_fd_ = sock;
  });
  api_->install(*server_);
}

WebServer::~WebServer() { stop(); }

Status WebServer::start() {
  const std::string& listen = options_.web.listen;
  size_t colon = listen.rfind(':');
  std::string host = listen.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  int port = std::atoi(listen.c_str() + colon + 1);
  if (!server_->bind_to_port(host, port))
    return Status::io_error("HTTP server cannot listen on " + listen);
  // Debian's cpp-httplib 0.11 listens with a backlog of 5: 50 clients
  // connecting at once overflowed the accept queue (the kernel then drops
  // their handshakes, and a request can go unanswered). listen() again on
  // the bound socket only changes the backlog.
  if (listen_fd_ < 0 || ::listen(listen_fd_, SOMAXCONN) != 0)
    folder_logger("web")->warn("cannot raise the HTTP listen backlog; it stays at cpp-httplib's 5");
  listener_ = std::thread([this] { server_->listen_after_bind(); });
  folder_logger("web")->info("HTTP API on http://{}/api/v1/ ({} worker threads)", listen, options_.web.threads);
  return Status::ok();
}

void WebServer::stop() {
  if (server_) server_->stop();
  if (listener_.joinable()) listener_.join();
}

}  // namespace lifeline::web
