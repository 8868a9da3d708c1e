"""ScopedCRFEntityExtractor: learns only the entity types it is given."""

from __future__ import annotations

from rasa.nlu.featurizers.sparse_featurizer.regex_featurizer import RegexFeaturizer

from bot.components.entities import ScopedCRFEntityExtractor, without_entities
from bot.components.tokenizer import MixedTokenizer
from bot.tests.conftest import message


def _extractor(config, model_storage, resource, execution_context):
    return ScopedCRFEntityExtractor.create(
        {**ScopedCRFEntityExtractor.get_default_config(), **config},
        model_storage,
        resource("crf"),
        execution_context,
    )


def test_without_entities_copies_the_message(training_data) -> None:
    original = next(
        m
        for m in training_data.training_examples
        if {e["entity"] for e in m.get("entities", [])} == {"order_number"}
    )
    copy = without_entities(original, {"order_number"})
    assert copy.get("entities") == []
    assert original.get("entities")  # the training data itself is untouched
    assert copy.get("text") == original.get("text")


def test_train_process_persist_load(
    training_data, model_storage, resource, execution_context
) -> None:
    tokenizer = MixedTokenizer.create(
        {}, model_storage, resource("t"), execution_context
    )
    featurizer = RegexFeaturizer.create(
        RegexFeaturizer.get_default_config(),
        model_storage,
        resource("regex"),
        execution_context,
    )
    tokenizer.process_training_data(training_data)
    featurizer.train(training_data)
    featurizer.process_training_data(training_data)

    def prepare(texts: list[str]):
        return featurizer.process(tokenizer.process([message(t) for t in texts]))

    config = {"ignore_entities": ["order_number", "product"]}
    extractor = _extractor(config, model_storage, resource, execution_context)
    extractor.train(training_data)

    texts = [
        "refund 25.50 dollars to my card",
        "请退199元给我",
        "where is my order A1000123 for the Auralis Buds",
    ]
    messages = prepare(texts)
    found = [
        {(e["entity"], e["value"]) for e in m.get("entities", [])}
        for m in extractor.process(messages)
    ]
    assert ("amount", "25.50") in found[0]
    assert ("amount", "199") in found[1]
    assert not {name for name, _ in found[2]} & {"order_number", "product"}
    # the annotations stay in the training data for the other components
    assert any(
        e["entity"] == "order_number"
        for m in training_data.training_examples
        for e in m.get("entities", [])
    )

    loaded = ScopedCRFEntityExtractor.load(
        {**ScopedCRFEntityExtractor.get_default_config(), **config},
        model_storage,
        resource("crf"),
        execution_context,
    )
    again = prepare(texts)
    assert [m.get("entities", []) for m in loaded.process(again)] == [
        m.get("entities", []) for m in messages
    ]
