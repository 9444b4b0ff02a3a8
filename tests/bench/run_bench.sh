#!/usr/bin/env bash
# make bench: runs the benchmarks on this machine, node data on disk under
# BUILD/bench/tmp, and writes BUILD/bench/results.json.
set -euo pipefail
BUILD=${1:-build}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
mkdir -p "$BUILD/bench/tmp"
export TMPDIR=$(realpath "$BUILD/bench/tmp")
"$BUILD/tests/bench/lifeline_bench" "$(realpath "$BUILD/node/runtime/lifeline")" \
  "$ROOT/node/data/huizhou_divisions.csv" "$(realpath "$BUILD/bench")/results.json"
"$BUILD/tests/bench/lifeline_monitor_bench" "$(realpath "$BUILD/node/runtime/lifeline")" \
  "$ROOT/node/data/huizhou_divisions.csv" "$(realpath "$BUILD/bench")/results.json" ${BENCH_PERSONS:-}
"$BUILD/tests/bench/lifeline_api_bench" "$(realpath "$BUILD/node/runtime/lifeline")" \
  "$ROOT/node/data/huizhou_divisions.csv" "$(realpath "$BUILD/bench")/results.json" ${BENCH_PERSONS:-}
rm -rf "$TMPDIR"
