#!/usr/bin/env bash
# Serves the web app, a worker and the cron scheduler; Ctrl-C stops all three.
set -euo pipefail
cd "$(dirname "$0")/.."
PORT="${1:-8000}"
export FLASK_APP=wsgi
export LOG_FORMAT="${LOG_FORMAT:-text}"
BASE="${BASE_DOMAIN:-vivrau.localhost}"
.venv/bin/flask worker & worker=$!
.venv/bin/flask cron & cron=$!
trap 'kill $worker $cron 2>/dev/null || true' EXIT INT TERM
echo
echo "Open:"
.venv/bin/flask tenants list --json | .venv/bin/python -c "
import json, sys
for t in json.load(sys.stdin):
    for host in t['hosts']:
        print(f'  http://{host}:${PORT}/   ({t[\"name\"]})')"
echo "  http://admin.${BASE}:${PORT}/   (console de la plateforme)"
echo
echo "Demo accounts (password: demo-vivrau-2026):"
echo "  facturation@demo.vivrau.localhost            billing admin, on http://admin.${BASE}:${PORT}/"
echo "  mairie@saint-flour.demo.vivrau.localhost      admin of Saint-Flour"
echo "  coordination@pvd-cantal.demo.vivrau.localhost coordinator of the PVD umbrella"
echo
.venv/bin/gunicorn --bind "127.0.0.1:${PORT}" --workers 2 --threads 4 --access-logfile - wsgi:app
