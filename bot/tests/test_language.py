"""LanguageDetector: 'en' / 'zh' per message, silence when the text does not tell."""

from __future__ import annotations

import pytest

from bot.components.language import LanguageDetector, detect_language
from bot.tests.conftest import message


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Where is my order?", "en"),
        ("我的订单到哪了", "zh"),
        ("我想退Auralis Buds", "zh"),
        ("my 基托智能水壶 is leaking", "zh"),
        ("Where is my 奥拉耳机 order", "en"),
        ("请查一下 A1000123", "zh"),
        ("email bob@example.com please", "en"),
        ("ok", None),
        ("👍", None),
        ("A1000123", None),
        ("bob@example.com", None),
        ("??", None),
        ("", None),
    ],
)
def test_detect_language(text: str, expected: str | None) -> None:
    detector = LanguageDetector({})
    assert detector.detect(text) == expected


def test_neutral_words_are_configurable() -> None:
    assert detect_language("okay", neutral_words=frozenset({"okay"})) is None
    assert detect_language("okay") == "en"


def test_process_sets_output_and_entity(
    model_storage, resource, execution_context
) -> None:
    detector = LanguageDetector.create(
        {}, model_storage, resource("language"), execution_context
    )
    zh, silent = detector.process([message("你好，在吗"), message("ok")])
    assert zh.get("language") == "zh"
    assert zh.as_dict(only_output_properties=True)["language"] == "zh"
    assert zh.get("entities") == [
        {
            "entity": "language",
            "start": 0,
            "end": 5,
            "value": "zh",
            "extractor": "LanguageDetector",
        }
    ]
    assert silent.get("language") is None
    assert silent.get("entities") is None


def test_entity_can_be_switched_off(model_storage, resource, execution_context):
    detector = LanguageDetector.create(
        {"add_entity": False}, model_storage, resource("l"), execution_context
    )
    (en,) = detector.process([message("hello there")])
    assert en.get("language") == "en"
    assert en.get("entities") is None
