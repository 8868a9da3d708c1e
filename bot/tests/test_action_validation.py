"""The cached check of action server responses accepts and rejects what Rasa's does."""

from __future__ import annotations

from typing import Any

import pytest
from jsonschema import ValidationError, validate
from rasa.core.actions.action import RemoteAction

from bot.action_validation import validate_action_result

GOOD: list[dict[str, Any]] = [
    {"events": [], "responses": []},
    {
        "events": [{"event": "slot", "name": "verified", "value": True}],
        "responses": [{"response": "utter_greet", "buttons": []}],
    },
    {"events": [{"event": "followup", "name": "action_listen"}]},
]
BAD: list[dict[str, Any]] = [
    {"events": [{"event": "slot", "value": 1}]},  # a slot event without a name
    {"events": "not a list"},
    {"events": [{"name": "x"}]},  # no event type
]


@pytest.mark.parametrize("result", GOOD)
def test_accepts_what_rasa_accepts(result: dict[str, Any]) -> None:
    validate(result, RemoteAction.action_response_format_spec())
    assert validate_action_result(RemoteAction("x", None), result) is True


@pytest.mark.parametrize("result", BAD)
def test_rejects_what_rasa_rejects_with_its_hint(result: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        validate(result, RemoteAction.action_response_format_spec())
    with pytest.raises(ValidationError, match="Failed to validate Action server"):
        validate_action_result(RemoteAction("x", None), result)


def test_installed_in_rasa() -> None:
    assert RemoteAction._validate_action_result is validate_action_result
