#!/usr/bin/env bash
# The action server: actions/serve.sh PORT. Whoever reaches it can send a made-up
# tracker (any customer_id, verified) and get that customer's data back, so only Rasa
# may: it listens on ACTION_HOST, loopback unless a deployment names a private
# interface. (rasa_sdk alone listens on every interface.)
set -euo pipefail
cd "$(dirname "$0")/.."
port=${1:?usage: actions/serve.sh PORT}
export SANIC_HOST=${ACTION_HOST:-127.0.0.1}
exec .venv-app/bin/python -m rasa_sdk --actions actions --port "$port"
