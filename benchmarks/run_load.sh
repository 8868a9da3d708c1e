#!/usr/bin/env bash
# `make bench-load`: the load grid of docs/reliability.md#load, each configuration on
# a stack of its own (bench ports, its own CRM), loopback only, bounded in time:
#   sqlite      SQLite CRM and tracker store, in-memory lock store, one Rasa server
#   postgresql  PostgreSQL CRM and tracker store, Redis lock store, one Rasa server
#   postgresqlN the same with N Rasa servers sharing them (postgresql2, postgresql3)
# 10, 50 and 200 concurrent conversations over REST and socket.io each. Every run
# prints its JSON lines (load, then the nothing-lost check) into var/bench/load/.
# Each run keeps its conversations going for BENCH_SECONDS (60); BENCH_CONFIGS,
# BENCH_LEVELS and BENCH_CHANNELS narrow the grid. BENCH_THINK (0) is a customer's
# pause in seconds between an answer and the next message; with a pause the
# conversations' starts are spread over that long.
set -euo pipefail
cd "$(dirname "$0")/.."
APP=.venv-app/bin
OUT=var/bench/load
PORT=${BENCH_RASA_PORT:-45005}
ACTION_PORT=${BENCH_ACTION_PORT:-45055}
POSTGRES=${BENCH_POSTGRES:-postgresql+psycopg://root@127.0.0.1:5432}
REDIS=${BENCH_REDIS:-redis://127.0.0.1:6379/2}
CUSTOMERS=${BENCH_CUSTOMERS:-2000}
CONFIGS=${BENCH_CONFIGS:-sqlite postgresql postgresql2}
LEVELS=${BENCH_LEVELS:-10 50 200}
CHANNELS=${BENCH_CHANNELS:-rest socketio}
SECONDS_PER_RUN=${BENCH_SECONDS:-60}
THINK=${BENCH_THINK:-0}
TOKEN=$($APP/crm setting rasa_token)
mkdir -p "$OUT"
pids=()

stop_stack() {
  if ((${#pids[@]})); then
    kill "${pids[@]}" 2>/dev/null || true
    wait "${pids[@]}" 2>/dev/null || true
  fi
  pids=()
}
trap stop_stack EXIT

wait_for() {  # url
  for _ in $(seq 120); do
    curl -sf "$1" >/dev/null && return 0
    sleep 2
  done
  echo "bench-load: $1 did not answer in 4 minutes" >&2
  return 1
}

start_stack() {  # config
  local config=$1 servers=1
  export REDIS_URL=""
  if [[ $config == sqlite ]]; then
    export DATABASE_URL="sqlite:///$PWD/$OUT/crm.sqlite3"
  else
    psql -q -h 127.0.0.1 -U root test -c "DROP DATABASE IF EXISTS kefu_bench_load WITH (FORCE)"
    psql -q -h 127.0.0.1 -U root test -c "CREATE DATABASE kefu_bench_load"
    export DATABASE_URL="$POSTGRES/kefu_bench_load" REDIS_URL=$REDIS
    [[ $config =~ ^postgresql([0-9]+)$ ]] && servers=${BASH_REMATCH[1]}
  fi
  $APP/crm migrate
  $APP/crm seed --customers "$CUSTOMERS" --if-empty
  $APP/crm rasa-endpoints --out "$OUT/endpoints.yml" \
    --action-url "http://127.0.0.1:$ACTION_PORT/webhook"
  actions/serve.sh "$ACTION_PORT" >"$OUT/actions.log" 2>&1 &
  pids+=($!)
  urls=()
  for ((i = 0; i < servers; i++)); do
    local port=$((PORT + i))
    bot/serve.sh "$port" "$OUT/endpoints.yml" >"$OUT/rasa$i.log" 2>&1 &
    pids+=($!)
    # One at a time: the first server creates the tracker store's tables.
    wait_for "http://127.0.0.1:$port/status?token=$TOKEN"
    urls+=(--base-url "http://127.0.0.1:$port")
  done
  wait_for "http://127.0.0.1:$ACTION_PORT/health"
}

run_level() {  # config channel conversations
  local extra=(--duration-seconds "$SECONDS_PER_RUN" --think-seconds "$THINK")
  if (($3 >= 200)); then
    extra+=(--ramp-seconds 20)
  elif [[ $THINK != 0 ]]; then
    extra+=(--ramp-seconds "$THINK")
  fi
  echo "== $1 $2 $3, pause $THINK s (load average $(cut -d' ' -f1 /proc/loadavg))"
  $APP/python -m benchmarks.load "${urls[@]}" --conversations "$3" --channel "$2" \
    --timeout 120 "${extra[@]}" | sed "s/^{/{\"config\": \"$1\", /" \
    | tee -a "$OUT/results.jsonl"
}

for config in $CONFIGS; do
  start_stack "$config"
  for channel in $CHANNELS; do
    for level in $LEVELS; do
      run_level "$config" "$channel" "$level"
    done
  done
  stop_stack
done
echo "bench-load: results in $OUT/results.jsonl"
