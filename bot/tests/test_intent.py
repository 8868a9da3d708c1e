"""LinearIntentClassifier on real Rasa featurizers: train, process, persist, load."""

from __future__ import annotations

import numpy as np
import pytest
from rasa.nlu.featurizers.sparse_featurizer.count_vectors_featurizer import (
    CountVectorsFeaturizer,
)

from bot.components.intent import LinearIntentClassifier
from bot.components.tokenizer import MixedTokenizer
from bot.tests.conftest import message


@pytest.fixture
def featurize(training_data, model_storage, resource, execution_context):
    """Tokenizes and featurizes the fixture data; returns a function for messages."""
    tokenizer = MixedTokenizer.create(
        {}, model_storage, resource("t"), execution_context
    )
    featurizers = []
    for alias, extra in [
        ("words", {}),
        ("chars", {"analyzer": "char_wb", "max_ngram": 3}),
    ]:
        config = {
            **CountVectorsFeaturizer.get_default_config(),
            "alias": alias,
            **extra,
        }
        featurizers.append(
            CountVectorsFeaturizer.create(
                config, model_storage, resource(alias), execution_context
            )
        )
    tokenizer.process_training_data(training_data)
    for featurizer in featurizers:
        featurizer.train(training_data)
        featurizer.process_training_data(training_data)

    def run(texts: list[str]):
        messages = tokenizer.process([message(t) for t in texts])
        for featurizer in featurizers:
            messages = featurizer.process(messages)
        return messages

    return run


def test_train_process_persist_load(
    training_data, featurize, model_storage, resource, execution_context
) -> None:
    classifier = LinearIntentClassifier.create(
        {}, model_storage, resource("intent"), execution_context
    )
    classifier.train(training_data)
    texts = ["where is my order A1000999", "我要退款", "你们支持哪些付款方式", "谢谢你"]
    parsed = classifier.process(featurize(texts))
    names = [m.get("intent")["name"] for m in parsed]
    assert names == ["order_status", "request_refund", "faq", "thanks"]

    ranking = parsed[2].get("intent_ranking")
    assert ranking[0]["name"] == "faq"
    assert len({r["name"] for r in ranking}) == len(ranking)  # faq/* summed
    assert sum(r["confidence"] for r in ranking) == pytest.approx(1.0, abs=0.05)

    answer = parsed[2].get("response_selector")["faq"]
    assert answer["response"]["intent_response_key"] == "faq/payment_methods"
    assert answer["response"]["utter_action"] == "utter_faq/payment_methods"
    assert sum(r["confidence"] for r in answer["ranking"]) == pytest.approx(1.0)

    loaded = LinearIntentClassifier.load(
        {}, model_storage, resource("intent"), execution_context
    )
    again = loaded.process(featurize(texts))
    assert [m.get("intent") for m in again] == [m.get("intent") for m in parsed]
    assert again[2].get("response_selector") == parsed[2].get("response_selector")


def test_untrained_classifier_leaves_messages_alone(
    featurize, model_storage, resource, execution_context
) -> None:
    classifier = LinearIntentClassifier.load(
        {}, model_storage, resource("never-trained"), execution_context
    )
    (parsed,) = classifier.process(featurize(["hello"]))
    assert parsed.get("intent") is None


def test_tfidf_blocks_weigh_rare_features_up() -> None:
    from scipy.sparse import csr_matrix

    from bot.components.intent import TfidfBlocks

    rows = [
        {"words": csr_matrix([[1, 0, 2]]), "regex": csr_matrix([[1]])},
        {"words": csr_matrix([[1, 1, 0]]), "regex": csr_matrix([[0]])},
        {"words": csr_matrix([[3, 0, 0]])},
    ]
    blocks = TfidfBlocks.fit(rows)
    assert blocks.origins == ["regex", "words"]
    words_idf = blocks.idf[1]
    assert words_idf[0] < words_idf[1] == pytest.approx(words_idf[2])
    matrix = blocks.transform(rows).toarray()
    assert matrix.shape == (3, 4)
    # each block of each row has unit length (or is empty)
    assert matrix[0, 0] == pytest.approx(1.0)
    assert (matrix[1:, 1:] ** 2).sum(axis=1) == pytest.approx([1.0, 1.0])
    assert matrix[2, 0] == 0.0


def test_tfidf_blocks_are_the_matrix_products() -> None:
    from scipy.sparse import coo_matrix, csr_matrix, hstack, vstack
    from sklearn.preprocessing import normalize

    from bot.components.intent import TfidfBlocks

    rng = np.random.default_rng(7)
    rows = []
    for _ in range(30):
        row = {}
        for origin, width in (("chars", 40), ("regex", 3), ("words", 25)):
            if rng.random() < 0.8:  # some blocks missing, some repeated columns
                size = int(rng.integers(0, 8))
                columns = rng.integers(0, width, size)
                counts = rng.integers(1, 4, size).astype(float)
                row[origin] = coo_matrix((counts, ([0] * size, columns)), (1, width))
        rows.append(row)
    blocks = TfidfBlocks.fit(rows)

    expected = []
    for origin, idf in zip(blocks.origins, blocks.idf, strict=True):
        empty = csr_matrix((1, len(idf)))
        matrix = vstack([row.get(origin, empty) for row in rows]).tocsr()
        matrix.data = np.log1p(matrix.data) * idf[matrix.indices]
        expected.append(normalize(matrix))
    np.testing.assert_allclose(
        blocks.transform(rows).toarray(), hstack(expected).toarray(), rtol=1e-12
    )
    assert blocks.transform([]).shape == (0, 68)


def test_retrieval_intent_with_one_answer_still_answers(
    training_data, featurize, model_storage, resource, execution_context
) -> None:
    from rasa.shared.nlu.training_data.training_data import TrainingData

    texts = ["what's the weather like", "is it raining today", "weather forecast pls"]
    extra = featurize(texts)
    for example in extra:
        example.set("intent", "chitchat")
        example.set("intent_response_key", "chitchat/weather")
    data = TrainingData(training_examples=training_data.training_examples + extra)
    classifier = LinearIntentClassifier.create(
        {}, model_storage, resource("one-answer"), execution_context
    )
    classifier.train(data)

    (parsed,) = classifier.process(featurize(["how's the weather"]))
    assert parsed.get("intent")["name"] == "chitchat"
    selector = parsed.get("response_selector")
    assert selector["all_retrieval_intents"] == ["chitchat", "faq"]
    answer = selector["chitchat"]["response"]
    assert answer["utter_action"] == "utter_chitchat/weather"
    assert answer["confidence"] == pytest.approx(1.0)
