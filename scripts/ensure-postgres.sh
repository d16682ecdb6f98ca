#!/usr/bin/env bash
# Make sure a PostgreSQL server answers on 127.0.0.1:5432 with a database `basira_test`.
# Starts the machine's cluster if it is stopped; installs Debian's PostgreSQL if there is none.
set -euo pipefail
ready() { pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; }
if ! command -v pg_isready >/dev/null 2>&1; then
  [ "$(id -u)" -eq 0 ] || { echo "PostgreSQL is not installed and we are not root" >&2; exit 1; }
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
fi
if ! ready; then
  ver=$(ls /etc/postgresql 2>/dev/null | sort -V | tail -n 1)
  [ -n "$ver" ] || { echo "no PostgreSQL cluster found" >&2; exit 1; }
  # Trust local TCP connections for the test database (CI machines only).
  conf=/etc/postgresql/$ver/main/pg_hba.conf
  grep -q "basira-ci" "$conf" || sed -i '1i host all all 127.0.0.1/32 trust # basira-ci' "$conf"
  pg_ctlcluster --skip-systemctl-redirect "$ver" main start || true
  for _ in $(seq 1 30); do ready && break; sleep 1; done
fi
ready || { echo "PostgreSQL did not start" >&2; exit 1; }
psql_as() { if [ "$(id -u)" -eq 0 ] && id postgres >/dev/null 2>&1; then su postgres -c "psql -qAt -h 127.0.0.1 $*"; else psql -qAt -h 127.0.0.1 -U postgres "$@"; fi; }
psql_as -c "\"SELECT 1 FROM pg_database WHERE datname='basira_test'\"" | grep -q 1 \
  || psql_as -c "\"CREATE DATABASE basira_test\""
echo "PostgreSQL ready: postgresql+psycopg://postgres@127.0.0.1:5432/basira_test"
