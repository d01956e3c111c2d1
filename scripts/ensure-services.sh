#!/usr/bin/env bash
# Make sure the services the test suite needs are reachable: PostgreSQL, Redis
# and Debian's Chromium. Starts them if installed, installs them with apt when
# running as root on Debian, and otherwise says exactly what is missing.
set -euo pipefail
PY=${PY:-.venv/bin/python}
: "${DATABASE_URL:=postgres://postgres@127.0.0.1:5432/portal}"
: "${CELERY_BROKER_URL:=redis://127.0.0.1:6379/14}"

read -r PG_HOST PG_PORT REDIS_HOST REDIS_PORT < <("$PY" - "$DATABASE_URL" "$CELERY_BROKER_URL" <<'PYEOF'
import sys
from urllib.parse import urlsplit
db, broker = urlsplit(sys.argv[1]), urlsplit(sys.argv[2])
print(db.hostname or "127.0.0.1", db.port or 5432, broker.hostname or "127.0.0.1", broker.port or 6379)
PYEOF
)

reachable() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }
is_local() { [[ "$1" == "127.0.0.1" || "$1" == "localhost" || "$1" == "::1" ]]; }
can_apt() { [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; }
APT_UPDATED=0
apt_install() {
  if [[ $APT_UPDATED -eq 0 ]]; then apt-get update -qq; APT_UPDATED=1; fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}
wait_for() {
  for _ in $(seq 1 30); do reachable "$1" "$2" && return 0; sleep 1; done
  return 1
}

start_postgres() {
  if ! command -v pg_ctlcluster >/dev/null; then
    if can_apt; then
      echo "Installing PostgreSQL with apt..."
      apt_install postgresql
      local version; version=$(ls /etc/postgresql | sort -V | tail -1)
      # Let the suite's user connect over TCP from this machine without a password.
      sed -i '1i host all postgres 127.0.0.1/32 trust\nhost all postgres ::1/128 trust' \
        "/etc/postgresql/$version/main/pg_hba.conf"
    else
      echo "PostgreSQL is not reachable at $PG_HOST:$PG_PORT and is not installed." >&2
      echo "Install it (Debian: apt-get install postgresql) or set DATABASE_URL to a reachable server." >&2
      exit 1
    fi
  fi
  for version in $(ls /etc/postgresql); do
    pg_ctlcluster --skip-systemctl-redirect "$version" main start 2>/dev/null || true
  done
}

start_redis() {
  if ! command -v redis-server >/dev/null; then
    if can_apt; then
      echo "Installing Redis with apt..."
      apt_install redis-server
    else
      echo "Redis is not reachable at $REDIS_HOST:$REDIS_PORT and is not installed." >&2
      echo "Install it (Debian: apt-get install redis-server) or set CELERY_BROKER_URL to a reachable server." >&2
      exit 1
    fi
  fi
  mkdir -p /tmp/portal-redis
  redis-server --daemonize yes --bind 127.0.0.1 --port "$REDIS_PORT" --save "" --appendonly no \
    --dir /tmp/portal-redis --logfile /tmp/portal-redis/redis.log
}

if ! reachable "$PG_HOST" "$PG_PORT"; then
  is_local "$PG_HOST" || { echo "PostgreSQL at $PG_HOST:$PG_PORT is not reachable." >&2; exit 1; }
  echo "PostgreSQL is not running; starting it..."
  start_postgres
  wait_for "$PG_HOST" "$PG_PORT" || { echo "PostgreSQL did not start on port $PG_PORT." >&2; exit 1; }
fi

if ! reachable "$REDIS_HOST" "$REDIS_PORT"; then
  is_local "$REDIS_HOST" || { echo "Redis at $REDIS_HOST:$REDIS_PORT is not reachable." >&2; exit 1; }
  echo "Redis is not running; starting it..."
  start_redis
  wait_for "$REDIS_HOST" "$REDIS_PORT" || { echo "Redis did not start on port $REDIS_PORT." >&2; exit 1; }
fi

CHROMIUM=${CHROMIUM_PATH:-/usr/bin/chromium}
if [[ ! -x "$CHROMIUM" ]]; then
  if can_apt; then
    echo "Installing Debian's Chromium for the browser tests..."
    apt_install chromium
  else
    echo "Browser tests need Chromium at $CHROMIUM (Debian: apt-get install chromium), or set CHROMIUM_PATH." >&2
    exit 1
  fi
fi
echo "Services ready: PostgreSQL $PG_HOST:$PG_PORT, Redis $REDIS_HOST:$REDIS_PORT, Chromium $CHROMIUM."
