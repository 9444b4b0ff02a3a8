#!/usr/bin/env bash
# `make demo` end to end (issue 5, point 8): runs node/demo.sh with
# DEMO_EXIT=1 in a temporary folder on ports of its own and checks what it
# printed: at least 12 node processes each with a URL, an admin and an
# operator one-time password; at least 2,000 synthetic households held at
# the province; alerts of every level; feedback verified at the province;
# an alert escalated at the county and listed escalated at the village;
# masked lists; standards labelled illustrative. demo.sh itself fails (and
# so this test) when any of its waits times out.
# Usage: demo_test.sh LIFELINE_BIN SOURCE_DIR
set -euo pipefail
LIFELINE=$1
SRC=$2
DIR=$(mktemp -d)
trap 'rm -rf "$DIR"' EXIT
OUT="$DIR/out.txt"
fail() { echo "FAIL: $*" >&2; echo "--- demo output ---" >&2; cat "$OUT" >&2; exit 1; }

DEMO_EXIT=1 DEMO_DIR="$DIR/net" DEMO_BASE_PORT=${DEMO_TEST_BASE_PORT:-15100} bash "$SRC/node/demo.sh" "$LIFELINE" > "$OUT" 2>&1 ||
  fail "demo.sh exited with $?"

# The HTTP table: one admin row per node with its URL, then its operator row.
nodes=$(grep -cE '^[0-9]{12} +[a-z]+ +http://127\.0\.0\.1:[0-9]+/ +admin ' "$OUT" || true)
[ "$nodes" -ge 12 ] || fail "$nodes node URLs with an admin login (want at least 12)"
operators=$(grep -cE '^ +operator +[A-Za-z0-9]{8,}' "$OUT" || true)
[ "$operators" = "$nodes" ] || fail "$operators operator one-time passwords for $nodes nodes"
running=$(grep -c "running" "$DIR/net"/*/node.log | awk -F: '$2 > 0' | wc -l)
[ "$running" -ge 12 ] || fail "$running node processes logged running (want at least 12)"

held=$(sed -nE 's/^the province holds all ([0-9]+) households$/\1/p' "$OUT")
[ -n "$held" ] && [ "$held" -ge 2000 ] || fail "the province holds '${held}' households (want at least 2,000)"

# Alerts of every level at the province: the by_level table's rows 1..5.
table=$(sed -n '/=== alerts by level at the province/,/^total/p' "$OUT")
for l in 1 2 3 4 5; do
  n=$(awk -v l="$l" '$1 == l { print $3 }' <<< "$table")
  [ -n "$n" ] && [ "$n" -gt 0 ] || fail "no alert of level $l at the province"
done

verified=$(sed -n '/=== the verified alerts at the province/,/^$/p' "$OUT" | grep -c 'A-' || true)
[ "$verified" -ge 1 ] || fail "no verified alert listed at the province"
escalated=$(sed -n '/=== escalated alerts at/,/^$/p' "$OUT" | grep -c '督办' || true)
[ "$escalated" -ge 1 ] || fail "no escalated alert listed at the village"

grep -q 'illustrative true' "$OUT" || fail "the standards are not labelled illustrative"
grep -q '示意数据' "$OUT" || fail "the zh-CN illustrative label is missing"
grep -q '合成' "$OUT" || fail "the data is not marked synthetic"
grep -qE '"head":\{"id_number":"[0-9]{4}\*{10}[0-9]{3}[0-9X]","name":"[^"]*\*' "$OUT" ||
  fail "the household list over HTTP does not show a masked head (4413**********123X, 张*明)"
grep -qE '"synthetic":true' "$OUT" || fail "the HTTP answers do not mark the households synthetic"
echo "demo: $nodes nodes, $held households, alerts of levels 1-5, $verified verified at the province"
