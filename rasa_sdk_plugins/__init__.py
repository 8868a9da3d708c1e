"""Our plugin for rasa_sdk's action server, which imports a package of this name when
it starts: `/webhook` and `/actions` answer only requests carrying ACTIONS_TOKEN,
which Rasa sends as `?token=` (endpoints.yml, written by `crm rasa-endpoints`). The
action server trusts the tracker it is sent, so anyone else who reached it could ask
for any customer's orders in a made-up `verified` tracker. `/health` stays open."""

from __future__ import annotations

import hmac
import sys

import pluggy
from sanic import Request, Sanic
from sanic.response import HTTPResponse, json

from crm.settings import get_settings

hookimpl = pluggy.HookimplMarker("rasa_sdk")
OPEN_PATHS = frozenset({"/health"})


class NoActionsToken(RuntimeError):
    """ACTIONS_TOKEN is empty: `make secrets` (or `crm secrets`) makes one."""


def init_hooks(manager: pluggy.PluginManager) -> None:
    """rasa_sdk's entry point into this package."""
    manager.register(sys.modules[__name__])


@hookimpl
def attach_sanic_app_extensions(app: Sanic) -> None:
    """Refuse every request without the token, before rasa_sdk's routes see it."""
    token = get_settings().actions_token
    if not token:
        raise NoActionsToken("no ACTIONS_TOKEN is set; run `make secrets`")

    async def require_token(request: Request) -> HTTPResponse | None:
        if request.path in OPEN_PATHS:
            return None
        given = request.args.get("token") or ""
        if hmac.compare_digest(given.encode(), token.encode()):
            return None
        return json({"error": "this action server answers only its Rasa"}, 401)

    app.on_request(require_token)
