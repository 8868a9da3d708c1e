"""A CRF entity extractor that leaves some entity types to other extractors."""

from __future__ import annotations

import logging
from typing import Any

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.nlu.extractors.crf_entity_extractor import CRFEntityExtractor
from rasa.shared.nlu.constants import ENTITIES
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

logger = logging.getLogger(__name__)


def without_entities(message: Message, ignored: set[str]) -> Message:
    """A copy of message whose entity annotations skip the ignored types."""
    data = dict(message.data)
    if ENTITIES in data:
        data[ENTITIES] = [e for e in data[ENTITIES] if e.get("entity") not in ignored]
    return Message(
        data=data,
        output_properties=set(message.output_properties),
        time=message.time,
        features=message.features,
    )


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR, is_trainable=True
)
class ScopedCRFEntityExtractor(CRFEntityExtractor):
    """Rasa's CRFEntityExtractor, trained without the `ignore_entities` types.

    Entities with a fixed shape (order numbers, emails, phones) are extracted
    exactly by RegexEntityExtractor and products by ProductEntityExtractor;
    learning them here as well would only add duplicate, less exact entities.
    """

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """Rasa's CRF defaults plus the entity types to leave out."""
        return {**CRFEntityExtractor.get_default_config(), "ignore_entities": []}

    def train(self, training_data: TrainingData) -> Resource:
        """Trains the CRF on copies of the examples without the ignored types."""
        ignored = set(self.component_config.get("ignore_entities") or [])
        if not ignored:
            return super().train(training_data)
        examples = [
            without_entities(m, ignored) for m in training_data.training_examples
        ]
        scoped = TrainingData(
            training_examples=examples,
            entity_synonyms=training_data.entity_synonyms,
            regex_features=training_data.regex_features,
            lookup_tables=training_data.lookup_tables,
        )
        logger.debug("CRF trained without entities %s", sorted(ignored))
        return super().train(scoped)
