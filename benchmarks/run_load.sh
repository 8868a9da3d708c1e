#!/usr/bin/env bash
# `make bench-load`: load at 10, 50 and 200 concurrent conversations over REST and
# socket.io against the stack `make run` started (loopback only, bounded in time).
set -euo pipefail
cd "$(dirname "$0")/.."
RASA=${RASA_URL:-http://127.0.0.1:5005}
for channel in rest socketio; do
  for n in 10 50; do
    .venv-app/bin/python -m benchmarks.load --base-url "$RASA" --conversations "$n" \
      --channel "$channel" --timeout 120
  done
  .venv-app/bin/python -m benchmarks.load --base-url "$RASA" --conversations 200 \
    --channel "$channel" --timeout 120 --duration-seconds 60 --ramp-seconds 20
done
