// The node's memory allocator: jemalloc (Debian's libjemalloc), linked into
// every program built on the runtime. Against glibc's malloc it took the
// department import at 1,000,000 persons from ~28,500 to ~33,000 events/s
// (make bench; glibc spent the difference splitting and coalescing free
// chunks of a heap fragmented by a large transaction's many small strings).
#pragma once

#include <string>

namespace lifeline::runtime {

// "jemalloc <version>", for the start-up log; also keeps the library linked
// where the linker drops libraries nothing names.
std::string allocator_version();

// Returns the free heap's pages to the system (an idle node after a burst).
void release_free_heap();

}  // namespace lifeline::runtime
