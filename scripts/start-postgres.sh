#!/usr/bin/env bash
# Start a throwaway PostgreSQL server on 127.0.0.1 for the tests (Debian's packages).
# Prints the URL to use as LEADSLA_TEST_POSTGRES_URL. Idempotent.
set -euo pipefail
PORT="${LEADSLA_PG_PORT:-54329}"
DATA="${LEADSLA_PG_DATA:-/tmp/leadsla-pg}"
if ! ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1; then
  echo "installing PostgreSQL from Debian's packages" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq postgresql >&2
fi
BIN="$(dirname "$(ls -d /usr/lib/postgresql/*/bin/pg_ctl | sort -V | tail -1)")"
run() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
if [ ! -f "$DATA/PG_VERSION" ]; then
  mkdir -p "$DATA"
  [ "$(id -u)" = 0 ] && chown postgres "$DATA"
  run "$BIN/initdb" -D "$DATA" -A trust -U leadsla >/dev/null
fi
if ! run "$BIN/pg_ctl" -D "$DATA" status >/dev/null 2>&1; then
  run "$BIN/pg_ctl" -D "$DATA" -l "$DATA/server.log" -w \
    -o "-p $PORT -k /tmp -c listen_addresses=127.0.0.1 -c fsync=off" start >/dev/null
fi
run "$BIN/psql" -h 127.0.0.1 -p "$PORT" -U leadsla -d postgres -tAc \
  "SELECT 1 FROM pg_database WHERE datname='leadsla_test'" | grep -q 1 \
  || run "$BIN/createdb" -h 127.0.0.1 -p "$PORT" -U leadsla leadsla_test
echo "postgres://leadsla@127.0.0.1:$PORT/leadsla_test"
