# kefu: the commands the README shows. `make run` sets everything up and starts the
# product on the embedded defaults; `make test` runs every test. See README.md.

SHELL := /bin/bash
.SHELLFLAGS := -eo pipefail -c
.DEFAULT_GOAL := help
.DELETE_ON_ERROR:

# --- interpreters ------------------------------------------------------------------
# Rasa 3.6 needs Python 3.10: PYTHON310=..., else pyenv's 3.10.*, else python3.10.
PYENV_ROOT_DIR := $(or $(shell pyenv root 2>/dev/null),$(HOME)/.pyenv)
PYTHON310 ?= $(firstword $(wildcard $(PYENV_ROOT_DIR)/versions/3.10.*/bin/python3.10) \
                         $(shell command -v python3.10 2>/dev/null))
PYTHON311 ?= $(firstword $(wildcard $(PYENV_ROOT_DIR)/versions/3.11.*/bin/python3.11) \
                         $(shell command -v python3.11 2>/dev/null))

BOT := .venv-bot
APP := .venv-app
BOT_PY := $(BOT)/bin/python
APP_PY := $(APP)/bin/python
RASA := $(BOT)/bin/rasa
# pip, less the machine's warnings about optional local indexes that are absent.
PIP_QUIET := 2>&1 | { grep -v "is ignored: it is neither" || true; }

# --- settings (environment variables override) --------------------------------------
export DATABASE_URL ?= sqlite:///$(CURDIR)/var/crm.sqlite3
export RASA_PORT ?= 5005
export ACTION_PORT ?= 5055
export WEB_PORT ?= 8000
export RASA_URL ?= http://127.0.0.1:$(RASA_PORT)
export ACTION_ENDPOINT_URL ?= http://127.0.0.1:$(ACTION_PORT)/webhook
DEMO_CUSTOMERS ?= 2000
MODELS := models

# Everything that decides what `rasa train` learns; a change retrains the bot.
TRAIN_INPUTS := config.yml $(shell find bot/domain* bot/data nlu_data/train bot/components \
                  -type f \( -name '*.yml' -o -name '*.txt' -o -name '*.py' \) 2>/dev/null | sort)
TRAIN_DATA := --data bot/data nlu_data/train var/nlu

.PHONY: help envs run train migrate seed secrets endpoints admin test lint bench bench-load widget chromium clean

help:
	@echo "make run    set up both environments, the demo CRM and the bot, and start it all"
	@echo "make test   run every test (what CI runs)"
	@echo "make bench  run the benchmarks (long); figures go to docs/benchmarks.md"
	@echo "make bench-load  load test the stack that make run started"

# --- environments ------------------------------------------------------------------
envs: $(BOT)/.stamp $(APP)/.stamp

$(BOT)/.stamp: requirements/bot.lock pyproject.toml
	@test -n "$(PYTHON310)" || { echo "error: Python 3.10 not found; install it (pyenv install 3.10.13) or pass PYTHON310=/path/to/python3.10" >&2; exit 1; }
	@echo "bot env: $(PYTHON310)"
	test -x $(BOT_PY) || $(PYTHON310) -m venv $(BOT)
	$(BOT_PY) -m pip install -q --upgrade pip $(PIP_QUIET)
	$(BOT_PY) -m pip install -q -r requirements/bot.lock $(PIP_QUIET)
	$(BOT_PY) -m pip install -q --no-deps -e . $(PIP_QUIET)
	touch $@

$(APP)/.stamp: requirements/app.lock pyproject.toml
	@test -n "$(PYTHON311)" || { echo "error: Python 3.11 not found; pass PYTHON311=/path/to/python3.11" >&2; exit 1; }
	test -x $(APP_PY) || $(PYTHON311) -m venv $(APP)
	$(APP_PY) -m pip install -q --upgrade pip $(PIP_QUIET)
	$(APP_PY) -m pip install -q -r requirements/app.lock $(PIP_QUIET)
	$(APP_PY) -m pip install -q --no-deps -e . $(PIP_QUIET)
	touch $@

widget: web/static/vendor/.stamp
web/static/vendor/.stamp: web/widget/package.json web/widget/package-lock.json
	cd web/widget && npm ci --no-audit --no-fund --loglevel=error
	bash web/widget/build.sh
	touch $@

chromium:
	@command -v chromium >/dev/null && fc-list | grep -qi wqy || { apt-get update -qq && apt-get install -y -qq chromium chromium-driver fonts-wqy-microhei >/dev/null; }

# --- data and model ----------------------------------------------------------------
migrate: $(APP)/.stamp
	@mkdir -p var
	$(APP)/bin/crm migrate

# The demo shop's history ends today, so deliveries and renewals are due when they say.
seed: migrate
	$(APP)/bin/crm seed --customers $(DEMO_CUSTOMERS) --if-empty --as-of $$(date +%F)

var/nlu/catalog.yml: $(APP)/.stamp
	$(APP)/bin/crm export-catalog --out $@

# Retrain only when the hash of the training inputs changed.
train: $(BOT)/.stamp seed
	@$(APP)/bin/crm export-catalog --out var/nlu/catalog.yml >/dev/null
	@hash=$$(cat $(TRAIN_INPUTS) var/nlu/catalog.yml | sha256sum | cut -c1-16); \
	if [ -f $(MODELS)/.hash ] && [ "$$(cat $(MODELS)/.hash)" = "$$hash" ] && ls $(MODELS)/*.tar.gz >/dev/null 2>&1; then \
	  echo "bot model up to date ($$hash)"; \
	else \
	  rm -f $(MODELS)/*.tar.gz; \
	  $(RASA) train --config config.yml --domain bot/domain.yml $(TRAIN_DATA) --out $(MODELS) --fixed-model-name kefu \
	  && echo "$$hash" > $(MODELS)/.hash; \
	fi

# Random secrets for this installation (kept in var/secrets.env; the environment wins).
secrets: $(APP)/.stamp
	$(APP)/bin/crm secrets

# Rasa's endpoints.yml from DATABASE_URL, REDIS_URL and the action server's token;
# written on every run, so a changed setting never meets a stale file.
endpoints: secrets
	$(APP)/bin/crm rasa-endpoints --out var/endpoints.yml

# --- run -----------------------------------------------------------------------------
run: envs widget train endpoints
	@echo ""
	@echo "  chat widget    http://127.0.0.1:$(WEB_PORT)/chat"
	@echo "  staff console  http://127.0.0.1:$(WEB_PORT)/console  (make admin EMAIL=you@example.com)"
	@echo "  Rasa REST      http://127.0.0.1:$(RASA_PORT)/webhooks/rest/webhook  (order A$$($(APP)/bin/crm sample-order | cut -c2-))"
	@echo "  Ctrl-C stops everything."
	@echo ""
	$(APP)/bin/honcho start -f Procfile

admin: migrate
	$(APP)/bin/console create-admin --email $(EMAIL) --name "$(or $(NAME),Admin)"

# --- tests ---------------------------------------------------------------------------
lint: $(APP)/.stamp
	$(APP)/bin/ruff check .
	$(APP)/bin/ruff format --check .
	$(APP)/bin/mypy

test: envs secrets
	bash tests/run_all.sh

bench: envs
	bash benchmarks/run_all.sh

bench-load: envs secrets
	bash benchmarks/run_load.sh

clean:
	rm -rf $(BOT) $(APP) var models web/widget/node_modules web/static/vendor
