#!/usr/bin/env bash
# make demo: a local five-level network on loopback, from the shared
# divisions file: 广东省 → 惠州市 → 惠阳区, 惠城区 → 淡水街道, 永湖镇, 秋长街道,
# 桥东街道 → three villages under 淡水街道 and three under 永湖镇 (14 nodes).
# Each node is its own `lifeline run` process. The demo sends traffic down,
# up and across, prints every node's link table, and stays up until Ctrl-C,
# then stops every process it started. The network folder (demo-network/ or
# $DEMO_DIR) is re-created at each run.
set -euo pipefail
LIFELINE=$(realpath "${1:-build/node/runtime/lifeline}")
ROOT_DIR=$(cd "$(dirname "$0")/.." && pwd)
DIVISIONS=${DIVISIONS:-$ROOT_DIR/node/data/huizhou_divisions.csv}
OUT=${DEMO_DIR:-$ROOT_DIR/demo-network}
BASE_PORT=${DEMO_BASE_PORT:-17100}
PROVINCE=440000000000
VILLAGES=(441303001001 441303001002 441303001201 441303108001 441303108201 441303108202)
OTHERS=(441303002000 441302001000)
ACROSS_TO=441302001000   # 桥东街道 in 惠城区: another county

rm -rf "$OUT"
codes=$(IFS=,; echo "${VILLAGES[*]},${OTHERS[*]}")
"$LIFELINE" network init --divisions "$DIVISIONS" --root $PROVINCE --out "$OUT" --codes "$codes" --base-port "$BASE_PORT"

pids=()
stop_all() {
  trap - INT TERM EXIT
  echo; echo "stopping ${#pids[@]} nodes..."
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  echo "all nodes stopped; their stores and logs stay in $OUT"
}
trap stop_all INT TERM EXIT

while IFS=$'\t' read -r code level name config; do
  "$LIFELINE" run --config "$config" > "$OUT/$code/node.log" 2>&1 &
  pids+=($!)
  printf '%-8s %s %s (pid %d)\n' "$level" "$code" "$name" "$!"
done < "$OUT/nodes.tsv"

cfg() { echo "$OUT/$1/node.toml"; }
echo "waiting for every link to come up..."
for _ in $(seq 1 100); do
  down=$(for c in $(cut -f1 "$OUT/nodes.tsv"); do "$LIFELINE" status --config "$(cfg "$c")" --json; done | grep -o '"state":"down"' | wc -l || true)
  [ "$down" -eq 0 ] && break
  sleep 0.2
done

echo "traffic: 1000 messages province → each village, each village → province, and village → another county"
for v in "${VILLAGES[@]}"; do
  "$LIFELINE" post --config "$(cfg $PROVINCE)" --to "$v" --count 1000 > /dev/null &
  "$LIFELINE" post --config "$(cfg "$v")" --to $PROVINCE --count 1000 > /dev/null &
done
"$LIFELINE" post --config "$(cfg "${VILLAGES[0]}")" --to $ACROSS_TO --count 1000 > /dev/null &
wait_posts() { for j in $(jobs -p); do case " ${pids[*]} " in *" $j "*) ;; *) wait "$j";; esac; done; }
wait_posts
sleep 2

echo; echo "=== link tables ==="
for c in $(cut -f1 "$OUT/nodes.tsv"); do "$LIFELINE" status --config "$(cfg "$c")"; echo; done
echo "=== inbox of the province ==="
"$LIFELINE" inbox --config "$(cfg $PROVINCE)"
echo "=== inbox of $ACROSS_TO (across counties) ==="
"$LIFELINE" inbox --config "$(cfg $ACROSS_TO)"
echo; echo "=== monitoring: households registered at two villages (synthetic people) ==="
V1=${VILLAGES[0]}; V2=${VILLAGES[1]}
"$LIFELINE" household add --config "$(cfg "$V1")" --village "$V1" --category marginal --income-yuan 820 \
  --member 44130319850312123X,张三明,head --member 441302200107040044,李小红,spouse --json
"$LIFELINE" household add --config "$(cfg "$V2")" --village "$V2" --category minimum_living --income-yuan 560 \
  --member 441303196811220011,王建国,head --json
sleep 1
echo "=== department events imported at the province (node/import/example_events.csv) ==="
"$LIFELINE" import --config "$(cfg $PROVINCE)" "$ROOT_DIR/node/import/example_events.csv"
sleep 1
echo "=== alerts at village $V1 (level, score, deadline in working days) ==="
"$LIFELINE" alerts --config "$(cfg "$V1")"
alert=$("$LIFELINE" alerts --config "$(cfg "$V1")" --json | grep -o '"id":"A-[0-9-]*"' | head -1 | cut -d'"' -f4)
if [ -n "$alert" ]; then
  echo "=== verification feedback recorded at $V1 for $alert ==="
  "$LIFELINE" feedback --config "$(cfg "$V1")" "$alert" --visit-date "$(TZ=Asia/Shanghai date +%F)" --method home_visit \
    --visitor 村协理员 --truthful yes --findings "户主患病、失业，收入骤减" --needs basic_living,health --decision include_minimum_living
  sleep 1
  echo "=== the same alert at the province ==="
  "$LIFELINE" alerts --config "$(cfg $PROVINCE)"
fi
echo "=== aggregates at the county 441303000000 (per child: reported beside computed) ==="
"$LIFELINE" aggregates --config "$(cfg 441303000000)" --json | head -c 1500; echo

echo; echo "network running (logs: $OUT/<code>/node.log); try:"
echo "  $LIFELINE status --config $(cfg ${VILLAGES[0]})"
echo "  $LIFELINE household show --config $(cfg $PROVINCE) --id-number 44130319850312123X"
echo "press Ctrl-C to stop every node"
while true; do sleep 3600; done
