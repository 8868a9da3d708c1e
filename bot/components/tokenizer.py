"""A tokenizer for English, Chinese and mixed text in one pipeline.

Rasa's JiebaTokenizer hands every character run to jieba, which keeps spaces and
punctuation as tokens and cuts emails apart. Here regular expressions split the
text into emails, numbers, words and Han runs; only the Han runs go to jieba
(with our user dictionary), so ``我的订单A1000123 where is it`` gives
``我 的 订单 A1000123 where is it``.
"""

from __future__ import annotations

import hashlib
import logging
import shutil
from functools import lru_cache
from pathlib import Path
from typing import Any

from rasa.engine.graph import ExecutionContext
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.tokenizers.tokenizer import Token, Tokenizer
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.components.text import dictionary_files, iter_spans

logger = logging.getLogger(__name__)


@lru_cache(maxsize=1)
def _base_jieba() -> Any:
    import jieba

    jieba.setLogLevel(logging.WARNING)
    base = jieba.Tokenizer()
    base.initialize()
    return base


def new_jieba(dictionaries: list[Path]) -> Any:
    """A private jieba tokenizer with our user dictionaries loaded.

    A private instance keeps two loaded models (or tests) from sharing words
    through jieba's global tokenizer; it copies the main dictionary from one
    loaded instance instead of reading it again.
    """
    import jieba

    base = _base_jieba()
    segmenter = jieba.Tokenizer()
    segmenter.FREQ = dict(base.FREQ)
    segmenter.total = base.total
    segmenter.initialized = True
    for path in dictionaries:
        logger.debug("Loading jieba user dictionary %s", path)
        segmenter.load_userdict(str(path))
    return segmenter


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER, is_trainable=True
)
class MixedTokenizer(Tokenizer):
    """Regex words for Latin text and numbers, jieba for Chinese runs."""

    DICTIONARY_FOLDER = "jieba"

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """Returns the component's default config."""
        return {
            # a jieba user dictionary file, or a folder of them
            "dictionary_path": None,
            # jieba's HMM finds words missing from its dictionary
            "hmm": True,
            "intent_tokenization_flag": False,
            "intent_split_symbol": "_",
            "token_pattern": None,
            "prefix_separator_symbol": None,
        }

    @staticmethod
    def required_packages() -> list[str]:
        """Packages needed to run this component."""
        return ["jieba", "regex"]

    @classmethod
    def fingerprint_addon(cls, config: dict[str, Any]) -> str | None:
        """Retrains when a user dictionary's content changes, not only its path."""
        files = dictionary_files(config.get("dictionary_path"))
        digest = hashlib.sha256()
        for path in files:
            digest.update(path.read_bytes())
        return digest.hexdigest() if files else None

    def __init__(
        self,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        dictionaries: list[Path],
    ) -> None:
        """Creates the tokenizer with the given user dictionaries."""
        super().__init__({**self.get_default_config(), **config})
        self._model_storage = model_storage
        self._resource = resource
        self._dictionaries = dictionaries
        self._jieba = new_jieba(dictionaries)

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> MixedTokenizer:
        """Creates an untrained tokenizer from the configured dictionary path."""
        files = dictionary_files(config.get("dictionary_path"))
        return cls(config, model_storage, resource, files)

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> MixedTokenizer:
        """Loads the tokenizer with the dictionaries saved in the model."""
        try:
            with model_storage.read_from(resource) as directory:
                saved = directory / cls.DICTIONARY_FOLDER
                files = dictionary_files(saved) if saved.is_dir() else []
                component = cls(config, model_storage, resource, files)
        except ValueError:
            logger.debug("No saved dictionaries for %s", resource.name)
            component = cls(config, model_storage, resource, [])
        return component

    def train(self, training_data: TrainingData) -> Resource:
        """Saves the user dictionaries into the model, so it is self-contained."""
        self.persist()
        return self._resource

    def persist(self) -> None:
        """Copies the user dictionaries into the model storage."""
        with self._model_storage.write_to(self._resource) as directory:
            target = directory / self.DICTIONARY_FOLDER
            target.mkdir(parents=True, exist_ok=True)
            for index, path in enumerate(self._dictionaries):
                shutil.copyfile(path, target / f"{index:02d}_{path.name}")

    def tokenize(self, message: Message, attribute: str) -> list[Token]:
        """Tokenizes the text of the given attribute."""
        text = message.get(attribute)
        tokens = list(self._tokens(text))
        if not tokens and text.strip():
            stripped = text.strip()
            tokens = [Token(stripped, text.index(stripped))]
        return self._apply_token_pattern(tokens)

    def _tokens(self, text: str) -> list[Token]:
        tokens = []
        for span in iter_spans(text):
            if span.kind != "han":
                tokens.append(Token(span.text, span.start))
                continue
            pieces = self._jieba.tokenize(span.text, HMM=self._config["hmm"])
            tokens.extend(Token(word, span.start + start) for word, start, _ in pieces)
        return tokens
