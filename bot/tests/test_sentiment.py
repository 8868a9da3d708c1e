"""SentimentClassifier: trained from intent-level metadata, persisted, loaded."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from scipy.sparse import hstack

from bot.components.sentiment import (
    SentimentClassifier,
    SentimentModel,
    example_sentiment,
    negated_words,
)
from bot.tests.conftest import message


def _labels(training_data: TrainingData) -> dict[str, str]:
    return {
        e.get("text"): example_sentiment(e, "neutral")
        for e in training_data.training_examples
    }


def test_labels_come_from_intent_and_example_metadata(training_data) -> None:
    labels = _labels(training_data)
    assert labels["your service is terrible"] == "negative"
    assert labels["太感谢了，帮了大忙"] == "positive"
    assert labels["track my parcel please"] == "neutral"
    assert labels["快递怎么这么慢，气死我了"] == "negative"

    override = Message.build(
        "meh",
        "thanks",
        intent_metadata={"sentiment": "positive"},
        example_metadata={"sentiment": "neutral"},
    )
    assert example_sentiment(override, "neutral") == "neutral"


def _train(training_data, model_storage, resource, execution_context):
    component = SentimentClassifier.create(
        {}, model_storage, resource("sentiment"), execution_context
    )
    component.train(training_data)
    return component


def test_train_process_persist_load(
    training_data, model_storage, resource, execution_context
) -> None:
    trained = _train(training_data, model_storage, resource, execution_context)
    texts = ["this is terrible, I am so unhappy", "太感谢了", "where is my order"]
    before = [m.get("sentiment") for m in trained.process([message(t) for t in texts])]
    assert [s["label"] for s in before] == ["negative", "positive", "neutral"]
    assert before[0]["score"] < 0 < before[1]["score"]
    for result in before:
        assert -1.0 <= result["score"] <= 1.0
        assert 1 / 3 < result["confidence"] <= 1.0

    loaded = SentimentClassifier.load(
        {}, model_storage, resource("sentiment"), execution_context
    )
    after = [m.get("sentiment") for m in loaded.process([message(t) for t in texts])]
    assert after == before


def test_result_reaches_the_parse_output(
    training_data, model_storage, resource, execution_context
) -> None:
    trained = _train(training_data, model_storage, resource, execution_context)
    (parsed,) = trained.process([message("服务太差了，我要投诉")])
    output = parsed.as_dict(only_output_properties=True)
    assert output["sentiment"]["label"] == "negative"


def test_one_label_only_skips_training(
    model_storage, resource, execution_context
) -> None:
    data = TrainingData([Message.build("hello", "greet"), Message.build("hi", "greet")])
    component = _train(data, model_storage, resource, execution_context)
    (parsed,) = component.process([message("hello")])
    assert parsed.get("sentiment") is None

    loaded = SentimentClassifier.load(
        {}, model_storage, resource("sentiment"), execution_context
    )
    assert loaded.process([message("hello")])[0].get("sentiment") is None


def test_any_label_names_work(model_storage, resource, execution_context) -> None:
    examples = [
        Message.build(text, "review", example_metadata={"sentiment": label})
        for text, label in [
            ("好吃，送得快", "1"),
            ("味道很好", "1"),
            ("非常满意", "1"),
            ("太难吃了", "0"),
            ("送得太慢", "0"),
            ("很失望", "0"),
        ]
    ]
    config = {"positive_label": "1", "negative_label": "0"}
    component = SentimentClassifier.create(
        config, model_storage, resource("s"), execution_context
    )
    component.train(TrainingData(examples))
    (parsed,) = component.process([message("好吃")])
    assert parsed.get("sentiment")["label"] == "1"
    assert parsed.get("sentiment")["score"] > 0


def test_negation_scope_runs_to_punctuation() -> None:
    assert negated_words("I'm not happy at all, thanks 不好") == [
        "i'm",
        "not",
        "NEG_happy",
        "NEG_at",
        "NEG_all",
        "thanks",
        "不好",
    ]
    assert negated_words("No. Fine") == ["no", "fine"]


def test_negated_words_are_not_the_words(
    model_storage, resource, execution_context
) -> None:
    pairs = [
        ("happy", "positive"),
        ("I am happy", "positive"),
        ("happy with it", "positive"),
        ("so happy", "positive"),
        ("very happy", "positive"),
        ("not good", "negative"),
        ("not ok", "negative"),
        ("not fast", "negative"),
        ("where is it", "neutral"),
        ("is it here", "neutral"),
    ]
    examples = [
        Message.build(text, "x", example_metadata={"sentiment": label})
        for text, label in pairs
    ]
    config = {"char_ngram_range": [1, 1], "negation": True}
    component = SentimentClassifier.create(
        config, model_storage, resource("s"), execution_context
    )
    component.train(TrainingData(examples))
    (parsed,) = component.process([message("not happy")])
    assert parsed.get("sentiment")["label"] == "negative"


@pytest.mark.parametrize("labels", [["bad", "ok", "good"], ["0", "1"]])
def test_probabilities_are_scikit_learns(labels: list[str], tmp_path: Path) -> None:
    texts = ["great service 很好", "not great at all", "快递太慢了", "ok", "fine"]
    texts += ["terrible, never again", "还行吧", "love it!", "awful 😡", "so-so"]
    model = SentimentModel(SentimentClassifier.get_default_config())
    model.fit(texts, [labels[i % len(labels)] for i in range(len(texts))])
    model.save(tmp_path)
    unseen = ["", "🙂", "not bad, 不错", "'; DROP TABLE x; --", "great " * 2000, "zzz"]
    for fitted in (model, SentimentModel.load(tmp_path)):
        features = hstack([v.transform(texts + unseen) for v in fitted.vectorizers])
        expected = fitted.classifier.predict_proba(features.tocsr())
        np.testing.assert_allclose(
            fitted.predict_proba(texts + unseen), expected, rtol=1e-9, atol=1e-12
        )
        assert fitted.predict_proba([]).shape == (0, len(labels))
