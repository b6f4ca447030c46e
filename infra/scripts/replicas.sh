#!/usr/bin/env bash
# Start N Switchboard gateway replicas behind nginx, on loopback, for demos and manual tests.
#
#   infra/scripts/replicas.sh            # 2 replicas on 8081, 8082; nginx on 8080
#   REPLICAS=3 infra/scripts/replicas.sh
#
# Makes sure Redis and Postgres are there (infra/scripts/ensure-redis.sh, ensure-postgres.sh),
# starts the gateways with the same JWT secret, Redis and database, renders infra/nginx.conf with
# the real ports into a temporary prefix and runs nginx in the foreground. Prints URLs and pids,
# forwards Ctrl-C / SIGTERM to every child (the gateways drain) and waits for them.
#
# Environment (all optional):
#   REPLICAS           number of gateway processes                  (default 2)
#   BASE_PORT          first gateway port; the next ones follow      (default 8081)
#   PROXY_PORT         nginx port                                    (default 8080)
#   REDIS_URL          shared Redis                                  (default redis://127.0.0.1:6379)
#   DATABASE_URL       shared Postgres                               (default postgres://postgres@127.0.0.1:5432/switchboard_test)
#   JWT_SECRET         shared signing secret                         (default: a fixed demo secret)
#   RUN_LOCK_TTL_MS    run lease; a dead node's run ends after it    (default 3000)
#   DRAIN_TIMEOUT_MS   how long a draining node lets runs finish     (default 10000)
#   LOCAL_MODEL_TOKEN_DELAY_MS  pace of the offline model            (default 40)
#   LOG_LEVEL          gateway log level                             (default info)
#   NGINX_BIN          nginx binary                                  (default /usr/sbin/nginx, else PATH)
#   SKIP_ENSURE=1      do not run the ensure-* scripts (services managed elsewhere)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
REPLICAS="${REPLICAS:-2}"
BASE_PORT="${BASE_PORT:-8081}"
PROXY_PORT="${PROXY_PORT:-8080}"
export REDIS_URL="${REDIS_URL:-redis://127.0.0.1:6379}"
export DATABASE_URL="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/switchboard_test}"
export JWT_SECRET="${JWT_SECRET:-replicas-demo-secret-replicas-demo-secret-0123}"
# nginx runs on this machine: its X-Forwarded-For names the real client (per-IP limits).
export TRUST_PROXY="${TRUST_PROXY:-127.0.0.1,::1}"
export RUN_LOCK_TTL_MS="${RUN_LOCK_TTL_MS:-3000}"
export DRAIN_TIMEOUT_MS="${DRAIN_TIMEOUT_MS:-10000}"
export LOCAL_MODEL_TOKEN_DELAY_MS="${LOCAL_MODEL_TOKEN_DELAY_MS:-40}"
export LOG_LEVEL="${LOG_LEVEL:-info}"
export HOST=127.0.0.1
NGINX_BIN="${NGINX_BIN:-$( [ -x /usr/sbin/nginx ] && echo /usr/sbin/nginx || command -v nginx || true)}"

log() { printf '[replicas] %s\n' "$*"; }
die() { printf '[replicas] ERROR: %s\n' "$*" >&2; exit 1; }

[ -n "$NGINX_BIN" ] && [ -x "$NGINX_BIN" ] || die "nginx not found (apt-get install nginx, or set NGINX_BIN)"
[ -x "$ROOT/node_modules/.bin/tsx" ] || die "dependencies missing: run pnpm install first"

if [ "${SKIP_ENSURE:-0}" != 1 ]; then
  REDIS_PORT="$(sed -E 's#^redis://([^@/]*@)?[^:/]+:?([0-9]*).*#\2#' <<<"$REDIS_URL")" \
    "$ROOT/infra/scripts/ensure-redis.sh"
  if [ "$(id -u)" = 0 ]; then
    PG_TEST_DBS="$(sed -E 's#.*/([^/?]+)(\?.*)?$#\1#' <<<"$DATABASE_URL")" "$ROOT/infra/scripts/ensure-postgres.sh"
  else
    log "not root: assuming Postgres is up at ${DATABASE_URL}"
  fi
fi

WORK="$(mktemp -d "${TMPDIR:-/tmp}/sb-replicas.XXXXXX")"
mkdir -p "$WORK/logs" "$WORK/temp"
PIDS=()

cleanup() {
  trap - INT TERM EXIT
  log "stopping: ${PIDS[*]:-}"
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$WORK"
  log "stopped"
}
trap cleanup INT TERM EXIT

wait_ready() { # url pid name
  for _ in $(seq 1 300); do
    curl -fsS -o /dev/null "$1" 2>/dev/null && return 0
    kill -0 "$2" 2>/dev/null || die "$3 exited; see $WORK/logs/$3.log"
    sleep 0.1
  done
  die "$3 did not become ready at $1; see $WORK/logs/$3.log"
}

start_node() { # index
  local i="$1" port=$((BASE_PORT + $1 - 1))
  (cd "$ROOT" && NODE_ID="n$i" PORT="$port" exec node --import tsx gateway/src/main.ts) >"$WORK/logs/n$i.log" 2>&1 &
  PIDS+=("$!")
  NODE_PIDS[$i]=$!
}

declare -a NODE_PIDS
# The first node creates the tables; the others start once it is ready.
start_node 1
wait_ready "http://127.0.0.1:${BASE_PORT}/readyz" "${NODE_PIDS[1]}" n1
UPSTREAMS=""
for i in $(seq 2 "$REPLICAS"); do start_node "$i"; done
for i in $(seq 1 "$REPLICAS"); do
  port=$((BASE_PORT + i - 1))
  wait_ready "http://127.0.0.1:${port}/readyz" "${NODE_PIDS[$i]}" "n$i"
  UPSTREAMS+="    server 127.0.0.1:${port} max_fails=1 fail_timeout=5s;\n"
done

# Render infra/nginx.conf: the real listen port and the upstream block.
awk -v ups="$UPSTREAMS" -v listen="    listen 127.0.0.1:${PROXY_PORT}; # listen" '
  /^[ \t]*# upstreams:begin[ \t]*$/ { print; printf "%s", ups; skip = 1; next }
  /^[ \t]*# upstreams:end[ \t]*$/   { skip = 0 }
  skip { next }
  /^[ \t]*listen[ \t].*# listen[ \t]*$/ { print listen; next }
  { print }
' "$ROOT/infra/nginx.conf" | sed 's/\\n/\n/g' >"$WORK/nginx.conf"
"$NGINX_BIN" -p "$WORK" -c "$WORK/nginx.conf" -e "$WORK/logs/nginx-error.log" \
  -g "daemon off; pid $WORK/nginx.pid;" >"$WORK/logs/nginx.log" 2>&1 &
PIDS+=("$!")
wait_ready "http://127.0.0.1:${PROXY_PORT}/healthz" "$!" nginx

log "ready:"
for i in $(seq 1 "$REPLICAS"); do
  log "  n$i  pid ${NODE_PIDS[$i]}  http://127.0.0.1:$((BASE_PORT + i - 1))  (log: $WORK/logs/n$i.log)"
done
log "  nginx pid ${PIDS[-1]}  http://127.0.0.1:${PROXY_PORT}  ws://127.0.0.1:${PROXY_PORT}/v1/ws"
log "try: node --import tsx infra/scripts/demo-failover.ts   (then kill -9 the pid of the node it names)"
log "Ctrl-C stops everything"

# Wait until a child exits on its own or a signal arrives; gateways may be killed in a demo.
while :; do
  alive=0
  for pid in "${PIDS[@]}"; do kill -0 "$pid" 2>/dev/null && alive=$((alive + 1)); done
  [ "$alive" -gt 0 ] || break
  sleep 1 &
  wait $! || true
done
