#!/usr/bin/env bash
# Make sure a Redis server answers PING on 127.0.0.1 (default port 6379).
#
# Idempotent: does nothing when Redis already answers. Otherwise installs redis-server from apt
# when missing (needs root) and starts it daemonized, bound to loopback, without persistence.
#
# Environment (all optional):
#   REDIS_PORT   port to check and start on   (default 6379)
#   REDIS_DIR    working directory for the daemon's pid and log files (default /tmp/redis-<port>)
set -euo pipefail

REDIS_PORT="${REDIS_PORT:-6379}"
REDIS_DIR="${REDIS_DIR:-/tmp/redis-${REDIS_PORT}}"

log() { printf '[ensure-redis] %s\n' "$*"; }
die() { printf '[ensure-redis] ERROR: %s\n' "$*" >&2; exit 1; }

answers() { redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null | grep -q PONG; }

if ! command -v redis-server >/dev/null || ! command -v redis-cli >/dev/null; then
  [ "$(id -u)" = 0 ] || die "redis-server is missing and installing it needs root"
  log "installing redis-server"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends redis-server >/dev/null
fi

if answers; then
  log "ok: redis already answers on 127.0.0.1:${REDIS_PORT}"
  exit 0
fi

mkdir -p "$REDIS_DIR"
log "starting redis-server on 127.0.0.1:${REDIS_PORT}"
redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --daemonize yes \
  --dir "$REDIS_DIR" --pidfile "${REDIS_DIR}/redis.pid" --logfile "${REDIS_DIR}/redis.log" \
  --save '' --appendonly no >/dev/null

for _ in $(seq 1 50); do
  answers && { log "ok: redis answers on 127.0.0.1:${REDIS_PORT}"; exit 0; }
  sleep 0.1
done
die "redis did not answer PING on 127.0.0.1:${REDIS_PORT}; see ${REDIS_DIR}/redis.log"
