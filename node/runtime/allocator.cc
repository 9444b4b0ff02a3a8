#include "node/runtime/allocator.h"

#include <jemalloc/jemalloc.h>

namespace lifeline::runtime {

std::string allocator_version() {
  const char* version = nullptr;
  size_t size = sizeof(version);
  if (mallctl("version", &version, &size, nullptr, 0) != 0 || version == nullptr) return "jemalloc (version unknown)";
  return std::string("jemalloc ") + version;
}

#define LIFELINE_STR_(x) #x
#define LIFELINE_STR(x) LIFELINE_STR_(x)

void release_free_heap() {
  // Purges the unused dirty pages of every arena (MALLCTL_ARENAS_ALL).
  mallctl("arena." LIFELINE_STR(MALLCTL_ARENAS_ALL) ".purge", nullptr, nullptr, nullptr, 0);
}

}  // namespace lifeline::runtime
