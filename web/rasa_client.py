"""Messages from staff to a customer, delivered through Rasa's HTTP API.

`POST {RASA_URL}/conversations/{sender_id}/trigger_intent?output_channel=socketio`
injects an external intent; the bot's `action_relay_agent_message` utters the
`agent_text` entity into the customer's socket.io room (the widget)."""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import quote

import httpx

from crm.settings import get_settings

logger = logging.getLogger(__name__)

AGENT_MESSAGE = "EXTERNAL_agent_message"
HANDOFF_RELEASED = "EXTERNAL_handoff_released"
TIMEOUT = 10.0


class RasaUnavailable(RuntimeError):
    """Rasa did not accept the message; the text says why, for staff."""


def trigger_intent(
    sender_id: str,
    intent: str,
    entities: dict[str, Any] | None = None,
    *,
    base_url: str | None = None,
    token: str | None = None,
    timeout: float = TIMEOUT,
) -> None:
    """Inject `intent` (with `entities`) into the conversation `sender_id`."""
    settings = get_settings()
    base = (base_url or settings.rasa_url).rstrip("/")
    token = settings.rasa_token if token is None else token
    url = f"{base}/conversations/{quote(sender_id, safe='')}/trigger_intent"
    params = {"output_channel": "socketio"}
    if token:
        params["token"] = token
    body = {"name": intent, "entities": entities or {}}
    try:
        response = httpx.post(url, params=params, json=body, timeout=timeout)
    except httpx.HTTPError as error:
        logger.warning("cannot reach Rasa at %s for %s: %s", base, sender_id, error)
        raise RasaUnavailable(
            f"the bot server ({base}) does not answer; the message was not delivered"
        ) from None
    if response.status_code >= 400:
        logger.warning(
            "Rasa refused %s for %s: %s %s",
            intent,
            sender_id,
            response.status_code,
            response.text[:300],
        )
        raise RasaUnavailable(
            f"the bot server refused the message (HTTP {response.status_code}); "
            "it was not delivered"
        )
