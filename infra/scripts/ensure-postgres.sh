#!/usr/bin/env bash
# Make sure a local PostgreSQL 15 with pgvector is installed, running and has a test database.
#
# Idempotent; meant for CI and developer machines on Debian 12 (run as root). Steps:
#   1. install PostgreSQL 15 from apt when missing, create the cluster when missing;
#   2. allow password-less (trust) connections on loopback for the test user;
#   3. start the cluster when it is stopped;
#   4. build pgvector from Debian's source package when the extension is not available
#      (Debian 12 ships no pgvector binary; the trixie source package builds against
#      postgresql-server-dev-15 in seconds);
#   5. create the test database(s).
#
# Environment (all optional):
#   PG_VERSION       PostgreSQL major version            (default 15)
#   PG_CLUSTER       cluster name                        (default main)
#   PG_TEST_DBS      space-separated databases to create (default "switchboard_test")
#   PGVECTOR_SUITE   Debian suite to take the pgvector source package from (default trixie)
set -euo pipefail

PG_VERSION="${PG_VERSION:-15}"
PG_CLUSTER="${PG_CLUSTER:-main}"
PG_TEST_DBS="${PG_TEST_DBS:-switchboard_test}"
PGVECTOR_SUITE="${PGVECTOR_SUITE:-trixie}"
PG_BIN="/usr/lib/postgresql/${PG_VERSION}/bin"
PG_SHARE="/usr/share/postgresql/${PG_VERSION}"
PG_ETC="/etc/postgresql/${PG_VERSION}/${PG_CLUSTER}"

log() { printf '[ensure-postgres] %s\n' "$*"; }
die() { printf '[ensure-postgres] ERROR: %s\n' "$*" >&2; exit 1; }
as_postgres() { runuser -u postgres -- "$@"; }

[ "$(id -u)" = 0 ] || die "run as root (it installs packages and manages the cluster)"

APT_UPDATED=0
apt_update_once() {
  if [ "$APT_UPDATED" = 0 ]; then
    apt-get update -qq
    APT_UPDATED=1
  fi
}
apt_install() {
  apt_update_once
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

# 1. server packages and cluster
if [ ! -x "${PG_BIN}/postgres" ]; then
  log "installing postgresql-${PG_VERSION}"
  apt_install "postgresql-${PG_VERSION}" postgresql-common
fi
if ! pg_lsclusters -h | awk -v v="$PG_VERSION" -v c="$PG_CLUSTER" '$1==v && $2==c {f=1} END {exit !f}'; then
  log "creating cluster ${PG_VERSION}/${PG_CLUSTER}"
  pg_createcluster "$PG_VERSION" "$PG_CLUSTER" >/dev/null
fi

# 2. loopback trust for tests (the test URLs carry no password)
HBA="${PG_ETC}/pg_hba.conf"
HBA_CHANGED=0
for net in 127.0.0.1/32 ::1/128; do
  if ! grep -Eq "^host[[:space:]]+all[[:space:]]+all[[:space:]]+${net//./\\.}[[:space:]]+trust" "$HBA"; then
    log "allowing trust auth on ${net} in ${HBA}"
    sed -i "1i host all all ${net} trust" "$HBA"
    HBA_CHANGED=1
  fi
done

# 3. running
cluster_online() {
  pg_lsclusters -h | awk -v v="$PG_VERSION" -v c="$PG_CLUSTER" '$1==v && $2==c && $4 ~ /^online/ {f=1} END {exit !f}'
}
if ! cluster_online; then
  log "starting cluster ${PG_VERSION}/${PG_CLUSTER}"
  pg_ctlcluster --skip-systemctl-redirect "$PG_VERSION" "$PG_CLUSTER" start
elif [ "$HBA_CHANGED" = 1 ]; then
  pg_ctlcluster --skip-systemctl-redirect "$PG_VERSION" "$PG_CLUSTER" reload
fi
PORT="$(pg_lsclusters -h | awk -v v="$PG_VERSION" -v c="$PG_CLUSTER" '$1==v && $2==c {print $3}')"
for _ in $(seq 1 50); do
  "${PG_BIN}/pg_isready" -q -h 127.0.0.1 -p "$PORT" && break
  sleep 0.2
done
"${PG_BIN}/pg_isready" -q -h 127.0.0.1 -p "$PORT" || die "PostgreSQL did not become ready on port ${PORT}"

# 4. pgvector
build_pgvector() {
  log "pgvector not available: building Debian's source package from ${PGVECTOR_SUITE}"
  apt_install "postgresql-server-dev-${PG_VERSION}" dpkg-dev build-essential
  local src_list=/etc/apt/sources.list.d/switchboard-pgvector-src.sources
  local work
  work="$(mktemp -d)"
  chmod 755 "$work" # apt-get source downloads as the _apt user
  # deb-src only: this never changes which binary packages the machine installs.
  cat >"$src_list" <<SRC
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: ${PGVECTOR_SUITE}
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
  trap 'rm -f "$src_list"; rm -rf "$work"' RETURN
  apt-get update -qq || die "apt-get update with the ${PGVECTOR_SUITE} deb-src entry failed"
  (cd "$work" && apt-get source -qq pgvector >/dev/null) \
    || die "apt-get source pgvector failed (needs a deb-src entry for ${PGVECTOR_SUITE})"
  local dir
  dir="$(find "$work" -mindepth 1 -maxdepth 1 -type d -name 'pgvector-*' | head -n1)"
  [ -n "$dir" ] || die "pgvector source tree not found after apt-get source"
  make -s -C "$dir" PG_CONFIG="${PG_BIN}/pg_config" OPTFLAGS="" >/dev/null
  make -s -C "$dir" PG_CONFIG="${PG_BIN}/pg_config" install >/dev/null
  log "installed pgvector $(basename "$dir" | sed 's/^pgvector-//')"
}
if [ ! -f "${PG_SHARE}/extension/vector.control" ]; then
  build_pgvector
fi
[ -f "${PG_SHARE}/extension/vector.control" ] || die "vector extension still missing after build"

# 5. test databases (and the extension in each, so tests need not be superuser)
for db in $PG_TEST_DBS; do
  if ! as_postgres psql -p "$PORT" -tAc "SELECT 1 FROM pg_database WHERE datname = '${db}'" | grep -q 1; then
    log "creating database ${db}"
    as_postgres createdb -p "$PORT" "$db"
  fi
  PGOPTIONS="-c client_min_messages=warning" as_postgres psql -q -p "$PORT" -d "$db" \
    -c "CREATE EXTENSION IF NOT EXISTS vector" >/dev/null
done

VERSION="$(as_postgres psql -p "$PORT" -d "${PG_TEST_DBS%% *}" -tAc "SELECT extversion FROM pg_extension WHERE extname = 'vector'")"
log "ok: PostgreSQL ${PG_VERSION}/${PG_CLUSTER} on 127.0.0.1:${PORT}, pgvector ${VERSION}, databases: ${PG_TEST_DBS}"
