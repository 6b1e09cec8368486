#!/usr/bin/env bash
# Serves the web app, a worker and the cron scheduler; Ctrl-C stops all three.
set -euo pipefail
cd "$(dirname "$0")/.."
PORT="${1:-8000}"
export FLASK_APP=wsgi
export LOG_FORMAT="${LOG_FORMAT:-text}"
BASE="${BASE_DOMAIN:-vivrau.localhost}"
# The demo's mail catcher: every mail (verification links…) kept and shown on a local page,
# when SMTP_URL points at this machine (its default). MAIL_CATCHER=0 leaves mail to SMTP_URL.
SMTP="${SMTP_URL:-smtp://127.0.0.1:1025}"
MAIL_WEB_PORT="${MAIL_VIEWER_PORT:-8025}"
catcher=
if [ "${MAIL_CATCHER:-1}" != 0 ] && [[ "$SMTP" =~ ^smtp://(127\.0\.0\.1|localhost): ]]; then
  .venv/bin/flask mail catch --web-port "$MAIL_WEB_PORT" & catcher=$!
  export MAIL_VIEWER_URL="http://127.0.0.1:${MAIL_WEB_PORT}/"
fi
.venv/bin/flask worker & worker=$!
.venv/bin/flask cron & cron=$!
trap 'kill $worker $cron $catcher 2>/dev/null || true' EXIT INT TERM
echo
echo "Open:"
echo "  http://${BASE}:${PORT}/   (le portail national)"
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
if [ -n "$catcher" ]; then
  echo "Mails sent by the demo (e.g. to confirm a new account): ${MAIL_VIEWER_URL}"
  echo
fi
.venv/bin/gunicorn --bind "127.0.0.1:${PORT}" --workers 2 --threads 4 --access-logfile - wsgi:app
