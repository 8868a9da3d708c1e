"""Product entities from the catalog, matched with spaCy in both languages.

At training time the names come from the lookup table named ``product`` in the
NLU data (generated from the CRM catalog) and their canonical values from the
synonyms; a product added to the CRM is therefore recognised after the next
``rasa train`` without new examples. Matching uses blank spaCy pipelines (no
downloaded model): English for Latin text, Chinese with jieba as segmenter when
the message contains Chinese, both with a case-insensitive PhraseMatcher.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.extractors.extractor import EntityExtractorMixin
from rasa.shared.nlu.constants import ENTITIES, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.components.text import has_han

logger = logging.getLogger(__name__)

PATTERNS_FILE = "patterns.json"


def catalog_patterns(training_data: TrainingData, lookup_name: str) -> dict[str, str]:
    """Maps each name in the lookup table to its canonical value.

    The canonical value is the synonym target when the name has a synonym
    (compared case-insensitively), otherwise the name itself.
    """
    synonyms = {
        str(key).lower(): str(value)
        for key, value in training_data.entity_synonyms.items()
    }
    patterns: dict[str, str] = {}
    for table in training_data.lookup_tables:
        if table.get("name") != lookup_name:
            continue
        elements = table.get("elements") or []
        if isinstance(elements, str):
            raise ValueError(
                f"Lookup table '{lookup_name}' must list its names inline, "
                "not point to a file."
            )
        for element in elements:
            name = str(element).strip()
            if name:
                patterns[name] = synonyms.get(name.lower(), name)
    return patterns


class CatalogMatcher:
    """Two blank spaCy pipelines with a PhraseMatcher each."""

    def __init__(self, patterns: dict[str, str]) -> None:
        """Builds the matchers for the given name → canonical value map."""
        import spacy
        from spacy.matcher import PhraseMatcher

        from bot.components.tokenizer import new_jieba

        self.patterns = dict(patterns)
        self._english = spacy.blank("en")
        self._chinese = spacy.blank(
            "zh", config={"nlp": {"tokenizer": {"segmenter": "jieba"}}}
        )
        segmenter = new_jieba([])
        for name in self.patterns:
            if has_han(name):
                # a name jieba keeps whole matches whatever surrounds it
                segmenter.add_word(name, freq=100_000)
        self._chinese.tokenizer.jieba_seg = segmenter
        self._matchers = {}
        for nlp in (self._english, self._chinese):
            matcher = PhraseMatcher(nlp.vocab, attr="LOWER")
            for name, value in self.patterns.items():
                matcher.add(value, [nlp.make_doc(name)])
            self._matchers[nlp.lang] = (nlp, matcher)

    def find(self, text: str) -> list[tuple[int, int, str]]:
        """(start, end, canonical value) of the longest non-overlapping matches."""
        from spacy.tokens import Span
        from spacy.util import filter_spans

        if not self.patterns or not text:
            return []
        nlp, matcher = self._matchers["zh" if has_han(text) else "en"]
        doc = nlp.make_doc(text)
        spans = [
            Span(doc, start, end, label=label) for label, start, end in matcher(doc)
        ]
        return [
            (span.start_char, span.end_char, span.label_)
            for span in filter_spans(spans)
        ]


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR, is_trainable=True
)
class ProductEntityExtractor(GraphComponent, EntityExtractorMixin):
    """Emits `product` entities whose value is the catalog's canonical value."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """Returns the component's default config."""
        return {
            "lookup_table": "product",
            "entity": "product",
            # drop overlapping `product` entities found by other extractors:
            # ours carry the canonical value
            "replace_overlapping": True,
        }

    @staticmethod
    def required_packages() -> list[str]:
        """Packages needed to run this component."""
        return ["spacy", "jieba"]

    def __init__(
        self,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        patterns: dict[str, str] | None = None,
    ) -> None:
        """Creates the extractor with the given name → canonical value map."""
        self._config = {**self.get_default_config(), **config}
        self._model_storage = model_storage
        self._resource = resource
        self._matcher = CatalogMatcher(patterns or {})

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> ProductEntityExtractor:
        """Creates an untrained extractor."""
        return cls(config, model_storage, resource)

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> ProductEntityExtractor:
        """Loads the saved names and rebuilds the matchers."""
        try:
            with model_storage.read_from(resource) as directory:
                saved = json.loads((directory / PATTERNS_FILE).read_text("utf-8"))
        except ValueError:
            logger.warning("%s was not trained: no products known", cls.__name__)
            saved = {}
        return cls(config, model_storage, resource, saved)

    def train(self, training_data: TrainingData) -> Resource:
        """Reads the catalog names from the lookup table and saves them."""
        patterns = catalog_patterns(training_data, self._config["lookup_table"])
        if not patterns:
            logger.warning(
                "No lookup table '%s' in the training data: %s will find nothing.",
                self._config["lookup_table"],
                self.__class__.__name__,
            )
        self._matcher = CatalogMatcher(patterns)
        self.persist()
        return self._resource

    def persist(self) -> None:
        """Writes the name → canonical value map to the model storage."""
        with self._model_storage.write_to(self._resource) as directory:
            text = json.dumps(self._matcher.patterns, ensure_ascii=False, indent=0)
            (directory / PATTERNS_FILE).write_text(text, "utf-8")

    def process(self, messages: list[Message]) -> list[Message]:
        """Adds product entities to each message."""
        for message in messages:
            found = self.extract(message.get(TEXT) or "")
            if not found:
                continue
            entities = message.get(ENTITIES, [])
            if self._config["replace_overlapping"]:
                entities = [e for e in entities if not self._overlaps(e, found)]
            message.set(ENTITIES, entities + found, add_to_output=True)
        return messages

    def extract(self, text: str) -> list[dict[str, Any]]:
        """The product entities in text."""
        entities = [
            {
                "entity": self._config["entity"],
                "start": start,
                "end": end,
                "value": value,
                "confidence_entity": 1.0,
            }
            for start, end, value in self._matcher.find(text)
        ]
        return self.add_extractor_name(entities)

    def _overlaps(self, entity: dict[str, Any], ours: list[dict[str, Any]]) -> bool:
        if entity.get("entity") != self._config["entity"]:
            return False
        start, end = entity.get("start", -1), entity.get("end", -1)
        return any(start < o["end"] and o["start"] < end for o in ours)
