#!/usr/bin/env bash
# `make test`: every test, in the order that fails fastest. Trains the bot at most once
# (skipped when its inputs did not change) and runs the stack on test ports.
set -euo pipefail
cd "$(dirname "$0")/.."
APP=.venv-app/bin
BOT=.venv-bot/bin

step() { printf '\n=== %s\n' "$*"; }

step "lint and types"
make --no-print-directory lint
# Chromium first: the analytics report test opens the report in it.
make --no-print-directory chromium

step "app env: data layer (SQLite and PostgreSQL), actions, web, analytics"
$APP/python -m pytest -q -m "not stack and not browser"

step "bot env: NLU components"
$BOT/python -m pytest -q bot/tests

# A test CRM of its own, so tests never touch the demo database.
export DATABASE_URL="sqlite:///$PWD/var/test/crm.sqlite3"
rm -rf var/test && mkdir -p var/test
step "test CRM: migrate, seed, bot training data"
$APP/crm migrate
$APP/crm seed --customers 300 --seed 11
$APP/crm export-catalog --out var/nlu/catalog.yml
$BOT/python bot/validate.py

step "bot: train (only if its inputs changed) and conversation tests"
make --no-print-directory train DATABASE_URL="$DATABASE_URL"
$BOT/rasa test core --model models --stories bot/tests/stories \
  --endpoints var/test/endpoints.yml --fail-on-prediction-errors --out var/test/results \
  || { cat var/test/results/failed_test_stories.yml 2>/dev/null; exit 1; }

step "the running stack and the browser"
make --no-print-directory widget
$APP/python -m pytest -q -m "stack or browser" tests/stack tests/browser

# A stack of its own: these tests stop and restart servers on purpose.
step "faults, hostile input and scale-out against the running stack"
$APP/python -m pytest -q -m "stack" tests/reliability
