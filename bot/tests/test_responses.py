"""Our responses as Rasa renders them: placeholders filled, nothing left to log."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from rasa.core.nlg import TemplatedNaturalLanguageGenerator
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import SlotSet
from rasa.shared.core.trackers import DialogueStateTracker
from structlog.testing import capture_logs

DOMAIN = Domain.load(Path(__file__).resolve().parents[1] / "domain.yml")


@pytest.mark.parametrize("language", ["en", "zh"])
@pytest.mark.parametrize("response", ["utter_rate_conversation", "utter_ask_rating"])
def test_rating_buttons_send_the_rating_as_json(language: str, response: str) -> None:
    tracker = DialogueStateTracker.from_events("c", [SlotSet("language", language)])
    generator = TemplatedNaturalLanguageGenerator(DOMAIN.responses)
    with capture_logs() as logged:
        message = asyncio.run(generator.generate(response, tracker, "rest"))
    assert message is not None
    assert [b["payload"] for b in message["buttons"]] == [
        f'/give_feedback{{"rating": {n}}}' for n in range(1, 6)
    ]
    assert message["custom"] == {"rating_prompt": True}
    assert ("星" in message["text"]) == (language == "zh")
    assert [e["event"] for e in logged if e["log_level"] != "debug"] == []
