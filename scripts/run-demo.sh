#!/usr/bin/env bash
# Run the portal on the embedded default: SQLite, kombu's filesystem broker,
# one Celery worker, demo users. Everything lives under ./var.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
HOST=${HOST:-127.0.0.1}
PORT=${PORT:-8000}
export DEBUG=${DEBUG:-true}
export PORTAL_VAR_DIR=${PORTAL_VAR_DIR:-$PWD/var}
mkdir -p "$PORTAL_VAR_DIR/broker/queue" "$PORTAL_VAR_DIR/broker/processed" "$PORTAL_VAR_DIR/broker/control" "$PORTAL_VAR_DIR/data" "$PORTAL_VAR_DIR/log"

"$PY" manage.py migrate --no-input -v 0
"$PY" manage.py seed_demo

# The demo data release (HPO ontology, synthetic participants and genomes) is
# made once, in the background, so the portal answers at once.
# Then the demo researcher's project, cohorts and one analysis job of each type,
# queued for the worker below.
( "$PY" manage.py seed_demo_release && "$PY" manage.py seed_demo_analysis ) >"$PORTAL_VAR_DIR/log/demo-release.log" 2>&1 &
RELEASE=$!

"$PY" -m celery -A portal worker --beat -Q interactive,heavy --concurrency 2 --loglevel INFO \
    >"$PORTAL_VAR_DIR/log/worker.log" 2>&1 &
WORKER=$!
# The release step is a subshell: stop the command it is running too.
trap 'pkill -TERM -P $RELEASE 2>/dev/null || true; kill $WORKER $RELEASE 2>/dev/null || true; wait $WORKER 2>/dev/null || true' EXIT INT TERM

cat <<MSG

  Genomic Research Environment (demo) is starting at http://$HOST:$PORT/
  A Celery worker is running, with the scheduler for nightly jobs (log: $PORTAL_VAR_DIR/log/worker.log).
  The demo data release is prepared in the background the first time, in about two
  minutes (log: $PORTAL_VAR_DIR/log/demo-release.log).

  Sign in with a demo user and the code shown beside it (each code is accepted once;
  'make demo-code USER_EMAIL=researcher@example.org' prints a fresh one):
MSG
"$PY" manage.py demo_credentials | sed 's/^/  /'
echo
"$PY" manage.py runserver --noreload "$HOST:$PORT"
