#!/usr/bin/env bash
# `make bench`: every benchmark, by hand (long; not part of `make test`). Each prints one
# JSON line; docs/benchmarks.md records the figures with these same commands.
set -euo pipefail
cd "$(dirname "$0")/.."
APP=.venv-app/bin
BOT=.venv-bot/bin
DATA=${DATASETS:-../shared/datasets}

echo "== seed: 100,000 customers on SQLite"
$APP/python -m benchmarks.seed --customers 100000

echo "== NLU: our held-out set, Banking77, SMP2017"
$BOT/python benchmarks/nlu.py --heldout
$BOT/python benchmarks/nlu.py --train "$DATA/banking77/train.csv" --test "$DATA/banking77/test.csv" --baseline
$BOT/python benchmarks/nlu.py --train "$DATA/smp2017/train.csv" --test "$DATA/smp2017/dev.csv"

echo "== analytics: the whole pipeline at 10,000 and 100,000 customers"
$APP/python -m benchmarks.analytics --customers 10000
$APP/python -m benchmarks.analytics --customers 100000
