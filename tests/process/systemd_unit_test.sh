#!/usr/bin/env bash
# The systemd unit template (node/systemd/lifeline@.service, issue 5 point 7):
# its ExecStart, with the binary and /var/lib/lifeline/%i pointed at a node
# made by `lifeline network init`, starts a node that serves its API; the
# unit's KillSignal stops it cleanly within TimeoutStopSec; its HTTP listen
# backlog is at least 128 (ss, from iproute2). Where
# systemd-analyze is installed, the unit also passes `systemd-analyze verify`.
# Usage: systemd_unit_test.sh LIFELINE_BIN SOURCE_DIR
set -euo pipefail
LIFELINE=$(realpath "$1")
UNIT="$2/node/systemd/lifeline@.service"
DIR=$(mktemp -d)
pid=""
cleanup() { [ -n "$pid" ] && kill -9 "$pid" 2> /dev/null || true; rm -rf "$DIR"; }
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; [ -f "$DIR/node.log" ] && tail -20 "$DIR/node.log" >&2; exit 1; }
value() { sed -nE "s/^$1=(.*)$/\1/p" "$UNIT" | head -1; }

CODE=441303001001
PORT=${SYSTEMD_TEST_BASE_PORT:-15900}
"$LIFELINE" network init --divisions "$2/node/data/huizhou_divisions.csv" --root $CODE --codes $CODE --out "$DIR/nodes" \
  --base-port "$PORT" > /dev/null
exec_start=$(value ExecStart)
[ -n "$exec_start" ] || fail "no ExecStart in $UNIT"
[ "$(value KillSignal)" = "SIGTERM" ] || fail "KillSignal is not SIGTERM"
stop_s=$(value TimeoutStopSec | tr -d s)
# The unit's command line, for instance %i = $CODE under a test folder.
cmd=${exec_start//\/usr\/local\/bin\/lifeline/$LIFELINE}
cmd=${cmd//\/var\/lib\/lifeline\/%i/$DIR/nodes/$CODE}
case "$cmd" in *%*) fail "unexpanded specifier left in: $cmd" ;; esac
(cd "$DIR/nodes/$CODE" && exec $cmd) > "$DIR/node.log" 2>&1 &
pid=$!
url=$(cut -f5 "$DIR/nodes/nodes.tsv" | head -1)
for _ in $(seq 1 100); do
  code=$(curl -s -o /dev/null -w '%{http_code}' "${url}api/v1/session" || true)
  [ "$code" = "401" ] && break
  sleep 0.1
done
[ "$code" = "401" ] || fail "the node started by the unit's ExecStart does not answer at $url ($code)"
# The HTTP listen backlog is raised from cpp-httplib's 5 (web/server.cc);
# for a listening socket, ss shows the backlog as Send-Q.
if command -v ss > /dev/null; then
  web_port=${url##*:}; web_port=${web_port%/}
  backlog=$(ss -ltnH "sport = :$web_port" | awk '{print $3}' | head -1)
  [ -n "$backlog" ] && [ "$backlog" -ge 128 ] || fail "HTTP listen backlog is '$backlog' (want at least 128)"
fi
start=$SECONDS
kill -TERM "$pid"
wait "$pid" || fail "the node exited with status $? on SIGTERM"
pid=""
[ $((SECONDS - start)) -le "$stop_s" ] || fail "the node took longer than TimeoutStopSec to stop"
grep -q "stopping" "$DIR/node.log" || fail "the node did not log a clean stop"
if command -v systemd-analyze > /dev/null; then
  # An instance of the template, the binary pointed at the build; any
  # complaint (it warns and exits 0 on lines it cannot parse) fails.
  sed "s|/usr/local/bin/lifeline|$LIFELINE|" "$UNIT" > "$DIR/lifeline@$CODE.service"
  out=$(systemd-analyze verify "$DIR/lifeline@$CODE.service" 2>&1) || fail "systemd-analyze verify: $out"
  [ -z "$out" ] || fail "systemd-analyze verify complains: $out"
  echo "systemd-analyze verify: no complaints"
else
  echo "systemd-analyze not installed: the unit's syntax is not verified here"
fi
echo "unit: ExecStart started the node, SIGTERM stopped it in $((SECONDS - start)) s"
