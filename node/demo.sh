#!/usr/bin/env bash
# make demo: a local five-level network on loopback, from the shared
# divisions file: 广东省 → 惠州市 → 惠阳区, 惠城区 → 淡水街道, 永湖镇, 秋长街道,
# 桥东街道 → three villages under 淡水街道 and three under 永湖镇 (14 nodes).
# Each node is its own `lifeline run` process. The demo sends traffic down,
# up and across, prints every node's link table, and stays up until Ctrl-C,
# then stops every process it started. The network folder (demo-network/ or
# $DEMO_DIR) is re-created at each run.
# Monitoring: `lifeline demo-data` writes synthetic households (合成演示数据,
# $DEMO_HOUSEHOLDS, default 2400, seed $DEMO_SEED) and department events that
# give alerts of every level; each village's node registers its own
# households, the province imports the events, the villages record feedback
# and the province shows the alerts and aggregates. The 低保 standards set
# are illustrative. Needs jq. With DEMO_EXIT=1 it stops every node and exits
# once everything is shown (tests/process/demo_test.sh).
set -euo pipefail
command -v jq > /dev/null || { echo "the demo needs jq (apt-get install jq)" >&2; exit 1; }
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

while IFS=$'\t' read -r code level name config _; do
  "$LIFELINE" run --config "$config" > "$OUT/$code/node.log" 2>&1 &
  pids+=($!)
  printf '%-8s %s %s (pid %d)\n' "$level" "$code" "$name" "$!"
done < "$OUT/nodes.tsv"

cfg() { echo "$OUT/$1/node.toml"; }
# wait_until SECONDS WHAT COMMAND...: runs COMMAND every half second until it
# succeeds; the demo fails after SECONDS.
wait_until() {
  local limit=$1 what=$2; shift 2
  local end=$((SECONDS + limit))
  until "$@"; do
    if [ "$SECONDS" -ge "$end" ]; then echo "timed out after ${limit}s waiting for $what" >&2; return 1; fi
    sleep 0.5
  done
}
links_up() {
  local down
  down=$(for c in $(cut -f1 "$OUT/nodes.tsv"); do "$LIFELINE" status --config "$(cfg "$c")" --json; done | grep -o '"state":"down"' | wc -l || true)
  [ "$down" -eq 0 ]
}
echo "waiting for every link to come up..."
wait_until 60 "every link to come up (see $OUT/<code>/node.log)" links_up

echo "traffic: 1000 messages province → each village, each village → province, and village → another county"
for v in "${VILLAGES[@]}"; do
  "$LIFELINE" post --config "$(cfg $PROVINCE)" --to "$v" --count 1000 > /dev/null &
  "$LIFELINE" post --config "$(cfg "$v")" --to $PROVINCE --count 1000 > /dev/null &
done
"$LIFELINE" post --config "$(cfg "${VILLAGES[0]}")" --to $ACROSS_TO --count 1000 > /dev/null &
wait_posts() { for j in $(jobs -p); do case " ${pids[*]} " in *" $j "*) ;; *) wait "$j";; esac; done; }
wait_posts
# inbox_has NODE ORIGIN N: N test messages from ORIGIN applied at NODE.
inbox_has() { [ "$("$LIFELINE" inbox --config "$(cfg "$1")" --json | jq ".applied[\"$2\"].count // 0")" -ge "$3" ]; }
traffic_delivered() {
  for v in "${VILLAGES[@]}"; do inbox_has $PROVINCE "$v" 1000 || return 1; done
  inbox_has $ACROSS_TO "${VILLAGES[0]}" 1000
}
wait_until 120 "the traffic to be delivered" traffic_delivered

echo; echo "=== link tables ==="
for c in $(cut -f1 "$OUT/nodes.tsv"); do "$LIFELINE" status --config "$(cfg "$c")"; echo; done
echo "=== inbox of the province ==="
"$LIFELINE" inbox --config "$(cfg $PROVINCE)"
echo "=== inbox of $ACROSS_TO (across counties) ==="
"$LIFELINE" inbox --config "$(cfg $ACROSS_TO)"
# --- monitoring, with synthetic data -----------------------------------------
alerts_json() { "$LIFELINE" alerts --config "$(cfg "$1")" --json --limit 1000000 "${@:2}"; }
TODAY=$(TZ=Asia/Shanghai date +%F)
DATA=$OUT/demo-data
HOUSEHOLDS=${DEMO_HOUSEHOLDS:-2400}
V1=${VILLAGES[0]}

echo; echo "=== monitoring: synthetic data (合成演示数据，非真实个人信息 / synthetic, no real person) ==="
"$LIFELINE" demo-data --divisions "$DIVISIONS" --villages "$(IFS=,; echo "${VILLAGES[*]}")" \
  --households "$HOUSEHOLDS" --seed "${DEMO_SEED:-2026}" --today "$TODAY" --out "$DATA" > /dev/null
EXPECTED=$DATA/expected.json
head -2 "$DATA/README.txt"
jq -r '"\(.households) households, \(.persons) persons over '"${#VILLAGES[@]}"' villages; \(.events) department events for \(.alerted_households) of the households (files in '"$DATA"')"' "$EXPECTED"
echo "first household of the file (ID numbers, names, phones and addresses are made up):"
head -1 "$DATA/households.jsonl" | jq -c '{village, category, income_yuan, phone, address, members: [.members[] | {name, relation}]}'

echo; echo "=== illustrative 低保 standards set at the province (示意数据，非官方标准 / not official figures) ==="
cat > "$DATA/standards.json" <<'JSON'
{"441303000000": {"urban_yuan": 1180, "rural_yuan": 1000, "illustrative": true},
 "441302000000": {"urban_yuan": 1180, "rural_yuan": 1000, "illustrative": true}}
JSON
"$LIFELINE" policy set --config "$(cfg $PROVINCE)" --standards "$DATA/standards.json" --json > /dev/null
county_has_standards() { "$LIFELINE" policy show --config "$(cfg 441303000000)" --json | jq -e '.standards_set["441303000000"].illustrative' > /dev/null; }
wait_until 30 "the standards to reach the county" county_has_standards
"$LIFELINE" policy show --config "$(cfg 441303000000)" --json |
  jq -r '.standards_set | to_entries[] | "\(.key): urban \(.value.urban_fen / 100) yuan, rural \(.value.rural_fen / 100) yuan per person per month, set by \(.value.set_by), illustrative \(.value.illustrative)"'

echo; echo "=== households registered at the node of their own village (lifeline household import) ==="
for v in "${VILLAGES[@]}"; do
  grep -F "\"village\":\"$v\"" "$DATA/households.jsonl" > "$DATA/households-$v.jsonl"
  printf '%s: ' "$v"
  "$LIFELINE" household import --config "$(cfg "$v")" "$DATA/households-$v.jsonl" --json |
    jq -c '{lines_read, registered, rejected: (.rejected | length)}'
done
want=$(jq .households "$EXPECTED")
province_holds_all() { [ "$("$LIFELINE" aggregates --config "$(cfg $PROVINCE)" --json | jq .own.figures.households)" = "$want" ]; }
wait_until 120 "the province to hold all $want households" province_holds_all
echo "the province holds all $want households"

echo; echo "=== department events imported at the province (lifeline import $DATA/events.csv) ==="
"$LIFELINE" import --config "$(cfg $PROVINCE)" "$DATA/events.csv"
villages_have_alerts() {
  for v in "${VILLAGES[@]}"; do
    [ "$(alerts_json "$v" | jq .count)" = "$(jq "[.villages[\"$v\"].alerts_by_level[]] | add" "$EXPECTED")" ] || return 1
  done
}
wait_until 120 "every alert to reach its village" villages_have_alerts

# by_level NODE EXPECTED_PATH: alerts held at NODE per level beside the count expected.json gives.
by_level() {
  local got; got=$(alerts_json "$1")
  printf '%-7s %-7s %8s %9s\n' level colour alerts expected
  for l in 1 2 3 4 5; do
    printf '%-7s %-7s %8s %9s\n' "$l" "$(jq -r "[.alerts[] | select(.level == $l) | .colour][0] // \"-\"" <<< "$got")" \
      "$(jq "[.alerts[] | select(.level == $l)] | length" <<< "$got")" "$(jq "$2.alerts_by_level[\"$l\"]" "$EXPECTED")"
  done
  echo "total $(jq .count <<< "$got")"
}
echo; echo "=== alerts by level at the province $PROVINCE ==="
by_level $PROVINCE ""
echo; echo "=== alerts by level at village $V1 ==="
by_level "$V1" ".villages[\"$V1\"]"
echo; echo "=== the most severe alerts at $V1 (level, score, deadline in working days) ==="
"$LIFELINE" alerts --config "$(cfg "$V1")" --level 1 --limit 5

echo; echo "=== verification feedback recorded at $V1 ==="
# feedback LEVEL METHOD DECISION NEEDS FINDINGS [REFERRAL]: for the first open alert of LEVEL at V1.
feedback() {
  local id; id=$(alerts_json "$V1" --level "$1" --open | jq -r '.alerts[0].id // empty')
  [ -n "$id" ] || { echo "no open alert of level $1 at $V1"; return 0; }
  echo "$id (level $1): $3"
  "$LIFELINE" feedback --config "$(cfg "$V1")" "$id" --visit-date "$TODAY" --method "$2" --visitor 村协理员 \
    --truthful yes --decision "$3" --needs "$4" --findings "$5" ${6:+--referral "$6"} --json > /dev/null
  verified=$((verified + 1))
}
verified=0
feedback 1 home_visit include_minimum_living basic_living,health "户主患病、失业，收入骤减（合成数据）"
feedback 2 home_visit temporary_assistance financial_aid "遭遇意外，医疗支出大（合成数据）"
feedback 3 home_visit referral health "需医疗救助转介（合成数据）" medical
feedback 5 phone keep_monitoring basic_living "电话问询，情况稳定（合成数据）"
province_sees_verified() { [ "$(alerts_json $PROVINCE --state verified | jq .count)" -ge "$verified" ]; }
wait_until 60 "the feedback to reach the province" province_sees_verified
echo "=== the verified alerts at the province ==="
"$LIFELINE" alerts --config "$(cfg $PROVINCE)" --state verified

COUNTY_OF_V1=${V1:0:6}000000
echo; echo "=== the county $COUNTY_OF_V1 escalates the first open level-1 alert of $V1 (督办) ==="
escalated=$(alerts_json "$V1" --level 1 --open | jq -r '.alerts[0].id // empty')
if [ -n "$escalated" ]; then
  "$LIFELINE" escalate --config "$(cfg "$COUNTY_OF_V1")" "$escalated" --by 县民政局 \
    --note "一档预警，请于期限内完成入户核查并反馈（合成演示）" --json
  village_sees_escalation() { [ "$(alerts_json "$V1" --escalated | jq .count)" -ge 1 ]; }
  wait_until 30 "the escalation to reach $V1" village_sees_escalation
  echo "=== escalated alerts at $V1 (lifeline alerts --escalated) ==="
  "$LIFELINE" alerts --config "$(cfg "$V1")" --escalated
else
  echo "no open level-1 alert left at $V1"
fi

aggregates_settled() {
  "$LIFELINE" aggregates --config "$(cfg $PROVINCE)" --json |
    jq -e '.own.figures.verified >= '"$verified"' and all(.children[]; .mismatch == false)' > /dev/null
}
wait_until 30 "the city's aggregate report to match" aggregates_settled || true
echo; echo "=== aggregates at the province (own figures; per child: reported beside computed) ==="
"$LIFELINE" aggregates --config "$(cfg $PROVINCE)" --json | jq -c '.own.figures | del(.by_category), {by_category}'
"$LIFELINE" aggregates --config "$(cfg $PROVINCE)" --json |
  jq -r '.children[] | "child \(.code): reported households \(.reported.figures.households // "-"), computed \(.computed.households), open \(.computed.open), verified \(.computed.verified), mismatch \(.mismatch), age \(.age_s // "-" | tostring | .[0:5]) s"'
echo; echo "All households, people and events above are synthetic (合成演示数据，非真实个人信息);"
echo "the 低保 standards are illustrative (示意数据，非官方标准)."

# === HTTP (web/API.md): each node's URL with an operator login ===
# Per node: sign in as its first admin (one-time password from network init),
# set a demo admin password, and create an operator account whose one-time
# password is printed (it is changed at the operator's first sign-in).
command -v curl > /dev/null || { echo "the demo needs curl (apt-get install curl)" >&2; exit 1; }
api() {  # api URL METHOD PATH TOKEN [BODY]
  curl -s -X "$2" "$1api/v1$3" -H "Authorization: Bearer $4" -H 'Content-Type: application/json' ${5:+-d "$5"}
}
DEMO_ADMIN_PASSWORD=${DEMO_ADMIN_PASSWORD:-Lifeline-Demo-2026}
echo; echo "=== operators' HTTP API (web/API.md): one URL per node ==="
printf '%-13s %-8s %-28s %-10s %s\n' code level url account "password (operator: one-time, change at first sign-in)"
while IFS=$'\t' read -r code level name config url; do
  onetime=$(sed -n 2p "$OUT/$code/first_admin.txt")
  token=""
  for _ in $(seq 1 50); do
    token=$(curl -s -X POST "${url}api/v1/session" -d "{\"name\":\"admin\",\"password\":\"$onetime\",\"bearer\":true}" | jq -r '.token // empty') || true
    [ -n "$token" ] && break
    sleep 0.2
  done
  [ -n "$token" ] || { echo "cannot sign in at $url"; continue; }
  api "$url" POST /session/password "$token" "{\"current_password\":\"$onetime\",\"new_password\":\"$DEMO_ADMIN_PASSWORD\"}" > /dev/null
  op=$(api "$url" POST /users "$token" '{"name":"operator","role":"operator"}' | jq -r '.one_time_password // "-"')
  printf '%-13s %-8s %-28s %-10s %s\n' "$code" "$level" "$url" admin "$DEMO_ADMIN_PASSWORD"
  printf '%-13s %-8s %-28s %-10s %s\n' "" "" "" operator "$op"
  [ "$code" = "$V1" ] && V1_URL=$url && V1_TOKEN=$token
  [ "$code" = "441303000000" ] && COUNTY_URL=$url && COUNTY_TOKEN=$token
done < "$OUT/nodes.tsv"

echo; echo "=== GET ${V1_URL}api/v1/alerts?open=true&limit=3 (the list masks names and ID numbers) ==="
first=$(api "$V1_URL" GET "/alerts?open=true&limit=3" "$V1_TOKEN")
echo "$first" | jq -c '.alerts[] | {id, household, level, level_name, state, due_date, overdue}'
hh=$(echo "$first" | jq -r '.alerts[0].household')
echo "=== GET ${V1_URL}api/v1/households?limit=2 (masked) ==="
api "$V1_URL" GET "/households?limit=2" "$V1_TOKEN" | jq -c '.households[] | {id, head, category, synthetic, open_alert}'
echo "=== GET ${V1_URL}api/v1/households/$hh (the case page: whole, and audited) ==="
api "$V1_URL" GET "/households/$hh" "$V1_TOKEN" | jq -c '{household, synthetic, members: [.members[] | {name, id_number, relation}], alerts: (.alerts | length), history: (.history | length)}'
sleep 1
echo "=== GET ${COUNTY_URL}api/v1/audit?action=case_viewed (the view, replicated up to the county) ==="
api "$COUNTY_URL" GET "/audit?action=case_viewed&limit=3" "$COUNTY_TOKEN" | jq -c '.entries[] | {account, node, target, address, at_us}'
echo "=== GET ${COUNTY_URL}metrics (Prometheus; a few lines) ==="
curl -s "${COUNTY_URL}metrics" | grep -E '^lifeline_(link_up|alerts_overdue|households)[ {]' | head -5

echo; echo "network running (logs: $OUT/<code>/node.log); try:"
echo "  $LIFELINE status --config $(cfg ${VILLAGES[0]})"
echo "  $LIFELINE household show --config $(cfg $PROVINCE) --id-number $(head -1 "$DATA/households.jsonl" | jq -r '.members[0].id_number')"
# DEMO_EXIT=1 (the demo's test): stop here instead of staying up.
if [ -n "${DEMO_EXIT:-}" ]; then echo "DEMO_EXIT set: stopping every node"; exit 0; fi
echo "press Ctrl-C to stop every node"
while true; do sleep 3600; done
