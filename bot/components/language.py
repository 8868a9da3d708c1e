"""Per-message language detection ('en' or 'zh') for the `language` slot."""

from __future__ import annotations

import logging
from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import ENTITIES, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.components.text import han_count, latin_words

logger = logging.getLogger(__name__)

LANGUAGE = "language"


def detect_language(
    text: str,
    *,
    han_per_word: float = 1.5,
    min_latin_letters: int = 3,
    neutral_words: frozenset[str] = frozenset(),
) -> str | None:
    """'zh' if text is mostly Chinese, 'en' if mostly English, None if unclear.

    Chinese characters are weighed against English words (``han_per_word``
    characters count as one word), so a Chinese sentence naming an English
    product stays Chinese. Texts without Chinese and with only a few letters or
    neutral words ("ok", "👍", "A1000123") give None: the slot keeps its value.
    """
    words = latin_words(text)
    chinese = han_count(text)
    if chinese == 0:
        letters = sum(len(word) for word in words)
        meaningful = [w for w in words if w.lower() not in neutral_words]
        if letters < min_latin_letters or not meaningful:
            return None
        return "en"
    return "zh" if chinese / han_per_word >= len(words) else "en"


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR, is_trainable=False
)
class LanguageDetector(GraphComponent):
    """Sets `language` on the parse result and as a `language` entity.

    The entity lets a slot with a ``from_entity`` mapping follow the customer's
    language on every message; messages that say nothing leave the slot alone.
    """

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """Returns the component's default config."""
        return {
            "han_per_word": 1.5,
            "min_latin_letters": 3,
            "neutral_words": [
                "ok",
                "okay",
                "kk",
                "hi",
                "hey",
                "thx",
                "pls",
                "lol",
                "haha",
                "hmm",
                "emm",
                "yeah",
                "yep",
                "bye",
            ],
            # also add {"entity": "language", ...} so a slot can map from it
            "add_entity": True,
        }

    def __init__(self, config: dict[str, Any]) -> None:
        """Creates the detector."""
        self._config = {**self.get_default_config(), **config}
        self._neutral = frozenset(w.lower() for w in self._config["neutral_words"])

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> LanguageDetector:
        """Creates the detector (it has nothing to train)."""
        return cls(config)

    def detect(self, text: str) -> str | None:
        """The language of text, or None when the text does not tell."""
        return detect_language(
            text,
            han_per_word=self._config["han_per_word"],
            min_latin_letters=self._config["min_latin_letters"],
            neutral_words=self._neutral,
        )

    def process(self, messages: list[Message]) -> list[Message]:
        """Adds the detected language to each message that has one."""
        for message in messages:
            text = message.get(TEXT) or ""
            language = self.detect(text)
            if language is None:
                continue
            message.set(LANGUAGE, language, add_to_output=True)
            if self._config["add_entity"]:
                entity = {
                    "entity": LANGUAGE,
                    "start": 0,
                    "end": len(text),
                    "value": language,
                    "extractor": self.__class__.__name__,
                }
                entities = message.get(ENTITIES, [])
                message.set(ENTITIES, [*entities, entity], add_to_output=True)
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        """Leaves training data alone: `language` is never a trained entity."""
        return training_data
