#!/usr/bin/env bash
# One Rasa server: bot/serve.sh PORT [ENDPOINTS]. The chat channels (REST, socket.io)
# are open to customers; Rasa's HTTP API (trackers, events, staff-only intents, the
# model) answers only with the token: RASA_TOKEN, else the app's setting, which
# `crm secrets` (run by make) generates in var/secrets.env. No token, no server.
# It listens on RASA_HOST (default loopback; a load balancer in front names another).
set -euo pipefail
cd "$(dirname "$0")/.."
port=${1:?usage: bot/serve.sh PORT [ENDPOINTS]}
endpoints=${2:-var/endpoints.yml}
token=${RASA_TOKEN:-$(.venv-app/bin/crm setting rasa_token)}
if [[ -z $token ]]; then
  echo "bot/serve.sh: no token for Rasa's HTTP API: run 'make secrets' or set RASA_TOKEN" >&2
  exit 2
fi
# --auth-token=: a generated token may start with "-", which must not read as an option.
exec .venv-bot/bin/rasa run --enable-api --auth-token="$token" \
  -i "${RASA_HOST:-127.0.0.1}" --port "$port" --cors "*" \
  --model models --endpoints "$endpoints" --credentials bot/credentials.yml
