// TempDir: a fresh folder removed with everything in it on destruction.
// Under /dev/shm when `memory` is set and that exists (LMDB on tmpfs: real
// files and real transactions, without waiting on a disk), else $TMPDIR or
// /tmp. Move-only.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <string>

namespace lifeline::testing {

class TempDir {
 public:
  explicit TempDir(bool memory = false) {
    namespace fs = std::filesystem;
    const char* env = std::getenv("TMPDIR");
    std::string base = memory && fs::exists("/dev/shm") ? "/dev/shm" : env ? env : "/tmp";
    std::string pattern = base + "/lifeline-test-XXXXXX";
    path_ = ::mkdtemp(pattern.data()) ? pattern : "";
  }
  TempDir(TempDir&& other) noexcept : path_(std::move(other.path_)) { other.path_.clear(); }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir() {
    std::error_code ec;
    if (!path_.empty()) std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }
  std::string sub(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;  // empty when mkdtemp failed or moved from
};

}  // namespace lifeline::testing
