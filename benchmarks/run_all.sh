#!/usr/bin/env bash
# `make bench`: the long benchmarks, by hand (not part of `make test`). Each prints one
# JSON line; docs/benchmarks.md records the figures with these same commands.
set -euo pipefail
cd "$(dirname "$0")/.."
APP=.venv-app/bin
BOT=.venv-bot/bin
DATA=${DATASETS:-../shared/datasets}

echo "== seed: 100,000 customers on SQLite"
$APP/python benchmarks/seed.py --customers 100000

echo "== NLU: our held-out set, Banking77, SMP2017; sentiment: waimai, SST-2"
$BOT/python benchmarks/nlu.py --train nlu_data/train --extra-train var/nlu \
  --test nlu_data/heldout --oos-label out_of_scope
$BOT/python benchmarks/nlu.py --train "$DATA/banking77/train.csv" \
  --test "$DATA/banking77/test.csv"
$BOT/python benchmarks/nlu.py --train "$DATA/smp2017/train.csv" \
  --test "$DATA/smp2017/dev.csv" --baseline
$BOT/python benchmarks/sentiment.py \
  --train "$DATA/chinese_sentiment/waimai_10k.csv" --test-fraction 0.2 --seed 42
$BOT/python benchmarks/sentiment.py --train "$DATA/sst2/glue_train.tsv" \
  --test "$DATA/sst2/glue_dev.tsv"

echo "== analytics: the whole pipeline at 10,000 and 100,000 customers"
$APP/python benchmarks/analytics.py --customers 10000 100000
