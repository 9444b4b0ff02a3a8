#include "node/runtime/keys.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zmq.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace lifeline::runtime {

Result<Keypair> generate_keypair() {
  char pub[41], sec[41];
  if (zmq_has("curve") == 0) return Status::unavailable("libzmq was built without CURVE");
  if (zmq_curve_keypair(pub, sec) != 0) return Status::io_error(std::string("zmq_curve_keypair: ") + zmq_strerror(errno));
  return Keypair{pub, sec};
}

namespace {

Status write_file(const std::string& path, const std::string& text, mode_t mode) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL, mode);
  if (fd < 0) return Status::io_error("cannot create " + path + ": " + std::strerror(errno));
  ::fchmod(fd, mode);
  std::string line = text + "\n";
  bool ok = ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size()) && ::fsync(fd) == 0;
  ::close(fd);
  return ok ? Status::ok() : Status::io_error("cannot write " + path);
}

}  // namespace

Status write_keypair(const std::string& dir, const Keypair& keys) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return Status::io_error("cannot create " + dir + ": " + ec.message());
  std::string sec = dir + "/" + kSecretKeyFile, pub = dir + "/" + kPublicKeyFile;
  if (std::filesystem::exists(sec)) return Status::invalid_argument(sec + " exists; refusing to overwrite a secret key");
  std::filesystem::remove(pub, ec);
  Status s = write_file(sec, keys.secret_key, 0600);
  if (!s) return s;
  return write_file(pub, keys.public_key, 0644);
}

bool valid_z85_key(const std::string& key) {
  if (key.size() != 40) return false;
  uint8_t raw[32];
  return zmq_z85_decode(raw, key.c_str()) != nullptr;
}

Result<std::string> read_key_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Status::not_found("cannot read key file " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string text = ss.str();
  auto b = text.find_first_not_of(" \t\r\n"), e = text.find_last_not_of(" \t\r\n");
  std::string key = b == std::string::npos ? "" : text.substr(b, e - b + 1);
  if (!valid_z85_key(key)) return Status::invalid_argument(path + " does not hold a Z85 CURVE key (40 characters)");
  return key;
}

}  // namespace lifeline::runtime
