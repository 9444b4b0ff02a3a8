# Fails the build when the deterministic core (node/core/) includes a
# transport, storage-engine or HTTP header, or reads a clock (DESIGN §3.1).
# Run as: cmake -DCORE_DIR=<dir> -P check_core_purity.cmake
file(GLOB_RECURSE core_files "${CORE_DIR}/*.h" "${CORE_DIR}/*.cc")
set(forbidden
  "#include[ \t]*[<\"]zmq"
  "#include[ \t]*[<\"]lmdb"
  "#include[ \t]*[<\"]httplib"
  "#include[ \t]*[<\"]capnp/"
  "#include[ \t]*[<\"]chrono>"
  "#include[ \t]*[<\"]ctime>"
  "#include[ \t]*[<\"]time\\.h>"
  "#include[ \t]*[<\"]sys/time\\.h>"
  "#include[ \t]*[<\"]random>"
  "system_clock"
  "steady_clock"
  "high_resolution_clock"
  "clock_gettime"
  "gettimeofday"
  "[^_a-z]time\\([^)]*\\)"
  "random_device"
)
set(failed "")
foreach(f IN LISTS core_files)
  file(READ "${f}" text)
  foreach(pattern IN LISTS forbidden)
    if(text MATCHES "${pattern}")
      string(APPEND failed "\n  ${f}: matches '${pattern}'")
    endif()
  endforeach()
endforeach()
if(failed)
  message(FATAL_ERROR "node/core must stay sans-IO and clock-free:${failed}")
endif()
