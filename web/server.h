// WebServer: the node's HTTP server (cpp-httplib) serving the Api on
// WebOptions::listen, on its own listener thread and worker pool. main
// builds it beside the Node and stops it before the node loop ends.
//
// Not copyable.
#pragma once

#include <memory>
#include <thread>

#include "node/runtime/loop_queue.h"
#include "node/runtime/options.h"
#include "storage/store.h"

namespace httplib {
class Server;
}

namespace lifeline::web {

class Api;

class WebServer {
 public:
  WebServer(const runtime::NodeOptions& options, runtime::LoopQueue& queue, const storage::Store& store);
  ~WebServer();
  WebServer(const WebServer&) = delete;
  WebServer& operator=(const WebServer&) = delete;

  // Binds the listen address and starts serving; an error when it cannot bind.
  Status start();
  // Stops accepting and waits for the listener thread.
  void stop();

 private:
  const runtime::NodeOptions& options_;
  std::unique_ptr<Api> api_;
  std::unique_ptr<httplib::Server> server_;
  std::thread listener_;
  int listen_fd_ = -1;  // the listening socket, once bound (httplib does not expose it)
};

}  // namespace lifeline::web
