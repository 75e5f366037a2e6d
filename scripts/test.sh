#!/usr/bin/env bash
# Run the test suite twice: against PostgreSQL + Redis (production mode), then against the
# embedded default (SQLite and in-process stores). Extra arguments go to pytest.
set -uo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-.venv/bin/python}
TEST_DATABASE_URL=${TEST_DATABASE_URL:-postgresql+psycopg://postgres@127.0.0.1:5432/test}
TEST_REDIS_URL=${TEST_REDIS_URL:-redis://127.0.0.1:6379/0}

run_suite() {
    local label=$1
    shift
    echo "== $label =="
    env "$@" "$PYTHON" -m pytest "${PYTEST_ARGS[@]}"
    local status=$?
    # pytest exits 5 when it collected no test: that is a failure of this script, not a pass.
    if [ "$status" -eq 5 ]; then
        echo "no tests were collected for $label" >&2
        return 1
    fi
    return "$status"
}

PYTEST_ARGS=("$@")
overall=0
run_suite "PostgreSQL + Redis" DATABASE_URL="$TEST_DATABASE_URL" REDIS_URL="$TEST_REDIS_URL" || overall=1
run_suite "embedded default (SQLite, in-process stores)" -u DATABASE_URL -u REDIS_URL || overall=1
exit "$overall"
