"""Sentiment (negative / neutral / positive) for every message, in both languages.

Trained inside ``rasa train`` from the NLU examples themselves: an intent block
with ``metadata: {sentiment: negative}`` labels all its examples, an example's
own ``metadata: {sentiment: ...}`` overrides that, and examples without a label
are neutral (see docs/nlu.md). Features are TF-IDF weighted character n-grams
(which work for Chinese without segmentation) plus word n-grams (jieba for
Chinese, with English words after a negator marked ``NEG_``); the classifier is
scikit-learn's logistic regression. The result is
written to the parse data as ``sentiment``, which actions read from
``tracker.latest_message["sentiment"]``.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.components.text import iter_spans

logger = logging.getLogger(__name__)

SENTIMENT = "sentiment"
MODEL_FILE = "sentiment.json"
ARRAYS_FILE = "sentiment.npz"


@lru_cache(maxsize=1)
def _segmenter() -> Any:
    from bot.components.tokenizer import new_jieba

    return new_jieba([])


# English words that open a negation scope, and what closes it
_NEGATOR = re.compile(r"not|no|never|nothing|nobody|none|nor|cannot|without|\w+n['’]t")
_SCOPE_END = re.compile(r"[.,:;!?，。：；！？]")


def mixed_words(text: str, negation: bool = False) -> list[str]:
    """Lower-cased words of text: jieba words for Chinese, regex words otherwise.

    With `negation`, English words after a negator are prefixed ``NEG_`` up to the
    next punctuation mark or Chinese text (Das & Chen 2001; Pang et al. 2002), so
    "not good" and "good" become different features.
    """
    words: list[str] = []
    negated, end = False, 0
    lowered = text.lower()
    for span in iter_spans(lowered):
        if span.kind == "han" or _SCOPE_END.search(lowered, end, span.start):
            negated = False
        end = span.end
        if span.kind == "han":
            words.extend(_segmenter().lcut(span.text))
            continue
        words.append(f"NEG_{span.text}" if negated else span.text)
        negated = negation and (negated or _NEGATOR.fullmatch(span.text) is not None)
    return words


def negated_words(text: str) -> list[str]:
    """`mixed_words` with negation scopes marked."""
    return mixed_words(text, negation=True)


def example_sentiment(message: Message, default: str) -> str:
    """The sentiment label of a training example (see the module docstring)."""
    metadata = message.get("metadata") or {}
    for level in ("example", "intent"):
        value = metadata.get(level)
        if isinstance(value, dict) and value.get(SENTIMENT):
            return str(value[SENTIMENT])
    return default


class SentimentModel:
    """TF-IDF character and word n-grams with a logistic regression on top."""

    def __init__(self, config: dict[str, Any]) -> None:
        """Stores the configuration; `fit` or `load` makes it usable."""
        self.config = config
        self.vectorizers: list[Any] = []
        self.classifier: Any = None
        # per vectorizer: analyzer, vocabulary, idf, first column (`_index`)
        self._blocks: list[tuple[Any, dict[str, int], np.ndarray, int]] = []

    @property
    def labels(self) -> list[str]:
        """The labels the model knows, in the order of its probabilities."""
        return [str(label) for label in self.classifier.classes_]

    def _new_vectorizers(self) -> list[Any]:
        from sklearn.feature_extraction.text import TfidfVectorizer

        char_low, char_high = self.config["char_ngram_range"]
        word_low, word_high = self.config["word_ngram_range"]
        vectorizers = [
            TfidfVectorizer(
                analyzer=self.config["char_analyzer"],
                ngram_range=(char_low, char_high),
                sublinear_tf=True,
                min_df=self.config["min_df"],
            )
        ]
        if word_high > 0:
            # models saved before `negation` existed have no such key
            words = negated_words if self.config.get("negation") else mixed_words
            vectorizers.append(
                TfidfVectorizer(
                    tokenizer=words,
                    token_pattern=None,
                    lowercase=False,
                    ngram_range=(word_low, word_high),
                    sublinear_tf=True,
                    min_df=self.config["min_df"],
                )
            )
        return vectorizers

    def fit(self, texts: Sequence[str], labels: Sequence[str]) -> SentimentModel:
        """Learns vocabularies, weights and the classifier."""
        from scipy.sparse import hstack
        from sklearn.linear_model import LogisticRegression

        if len(set(labels)) < 2:
            raise ValueError("Sentiment needs examples of at least two labels.")
        self.vectorizers = self._new_vectorizers()
        features = hstack([v.fit_transform(texts) for v in self.vectorizers])
        self.classifier = LogisticRegression(
            C=self.config["C"],
            class_weight="balanced" if self.config["balanced"] else None,
            max_iter=self.config["max_iter"],
            random_state=self.config["random_state"],
        )
        self.classifier.fit(features.tocsr(), list(labels))
        return self._index()

    def _index(self) -> SentimentModel:
        """Keeps what `_logits` reads of each fitted vectorizer."""
        self._blocks, offset = [], 0
        for vectorizer in self.vectorizers:
            idf = np.asarray(vectorizer.idf_)  # a property computed on every read
            analyzer = vectorizer.build_analyzer()
            self._blocks.append((analyzer, vectorizer.vocabulary_, idf, offset))
            offset += len(idf)
        return self

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        """Probabilities per text, columns in the order of `labels`.

        The numbers of the vectorizers' `transform` and the classifier's
        `predict_proba`, computed from their fitted weights without scikit-learn's
        per-call checks and matrix building: 0.25 ms a message instead of 2.3
        (docs/decisions.md).
        """
        from scipy.special import expit, softmax

        width = len(self.classifier.intercept_)
        logits = np.array([self._logits(text) for text in texts]).reshape(-1, width)
        if logits.shape[1] == 1:  # two labels: scikit-learn's sigmoid
            positive = expit(logits[:, 0])
            return np.column_stack([1 - positive, positive])
        return softmax(logits, axis=1)

    def _logits(self, text: str) -> np.ndarray:
        """The classifier's decision values for one text."""
        logits = self.classifier.intercept_.copy()
        for analyzer, vocabulary, idf, offset in self._blocks:
            columns, counts = np.unique(
                [vocabulary[gram] for gram in analyzer(text) if gram in vocabulary],
                return_counts=True,
            )
            if columns.size:
                weights = (1 + np.log(counts)) * idf[columns]  # sublinear tf-idf
                weights /= np.sqrt(weights @ weights)  # l2 norm per vectorizer
                logits += self.classifier.coef_[:, offset + columns] @ weights
        return logits

    def save(self, directory: Path) -> None:
        """Writes vocabularies and weights as JSON and NumPy arrays (no pickle)."""
        state = {
            "config": self.config,
            "labels": self.labels,
            "vocabularies": [
                {term: int(index) for term, index in v.vocabulary_.items()}
                for v in self.vectorizers
            ],
        }
        (directory / MODEL_FILE).write_text(json.dumps(state, ensure_ascii=False))
        arrays = {f"idf_{i}": v.idf_ for i, v in enumerate(self.vectorizers)}
        arrays["coef"] = self.classifier.coef_
        arrays["intercept"] = self.classifier.intercept_
        np.savez_compressed(directory / ARRAYS_FILE, **arrays)

    @classmethod
    def load(cls, directory: Path) -> SentimentModel:
        """Rebuilds a fitted model from `save`'s files."""
        from sklearn.linear_model import LogisticRegression

        state = json.loads((directory / MODEL_FILE).read_text())
        arrays = np.load(directory / ARRAYS_FILE)
        model = cls(state["config"])
        model.vectorizers = model._new_vectorizers()
        for i, (vectorizer, vocabulary) in enumerate(
            zip(model.vectorizers, state["vocabularies"], strict=True)
        ):
            vectorizer.vocabulary_ = vocabulary
            vectorizer.fixed_vocabulary_ = True
            vectorizer.idf_ = arrays[f"idf_{i}"]
        classifier = LogisticRegression()
        classifier.classes_ = np.array(state["labels"], dtype=object)
        classifier.coef_ = arrays["coef"]
        classifier.intercept_ = arrays["intercept"]
        model.classifier = classifier
        return model._index()


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True
)
class SentimentClassifier(GraphComponent):
    """Writes ``sentiment: {label, score, confidence}`` to every parse result."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """Returns the component's default config."""
        return {
            # label of training examples without a sentiment
            "default_label": "neutral",
            "positive_label": "positive",
            "negative_label": "negative",
            "char_analyzer": "char",
            "char_ngram_range": [1, 3],
            # [0, 0] turns word n-grams off
            "word_ngram_range": [1, 2],
            # mark English words after not/never/n't... (until punctuation) NEG_
            "negation": True,
            "min_df": 1,
            "C": 3.0,
            "balanced": True,
            "max_iter": 2000,
            "random_state": 42,
        }

    @staticmethod
    def required_packages() -> list[str]:
        """Packages needed to run this component."""
        return ["sklearn", "jieba"]

    def __init__(
        self,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        model: SentimentModel | None = None,
    ) -> None:
        """Creates the component around an optional fitted model."""
        self._config = {**self.get_default_config(), **config}
        self._model_storage = model_storage
        self._resource = resource
        self._model = model

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> SentimentClassifier:
        """Creates an untrained component."""
        return cls(config, model_storage, resource)

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> SentimentClassifier:
        """Loads the fitted model from the model storage."""
        try:
            with model_storage.read_from(resource) as directory:
                model = SentimentModel.load(directory)
        except ValueError:
            logger.warning("%s was not trained: no sentiment", cls.__name__)
            model = None
        return cls(config, model_storage, resource, model)

    def _model_config(self) -> dict[str, Any]:
        keys = ("char_analyzer", "char_ngram_range", "word_ngram_range", "min_df")
        keys += ("negation",)
        keys += ("C", "balanced", "max_iter", "random_state")
        return {key: self._config[key] for key in keys}

    def train(self, training_data: TrainingData) -> Resource:
        """Fits the model on all examples with text and saves it."""
        examples = [e for e in training_data.training_examples if e.get(TEXT)]
        texts = [e.get(TEXT) for e in examples]
        labels = [example_sentiment(e, self._config["default_label"]) for e in examples]
        if len(set(labels)) < 2:
            logger.warning(
                "%s needs examples of two sentiments or more; found %s. Skipping.",
                self.__class__.__name__,
                sorted(set(labels)),
            )
            return self._resource
        self._model = SentimentModel(self._model_config()).fit(texts, labels)
        self.persist()
        return self._resource

    def persist(self) -> None:
        """Saves the fitted model."""
        if self._model is None:
            return
        with self._model_storage.write_to(self._resource) as directory:
            self._model.save(directory)

    def process(self, messages: list[Message]) -> list[Message]:
        """Sets ``sentiment`` on each message with text."""
        if self._model is None:
            return messages
        with_text = [m for m in messages if m.get(TEXT)]
        if not with_text:
            return messages
        probabilities = self._model.predict_proba([m.get(TEXT) for m in with_text])
        for message, row in zip(with_text, probabilities, strict=True):
            message.set(SENTIMENT, self._result(row), add_to_output=True)
        return messages

    def _result(self, row: np.ndarray) -> dict[str, Any]:
        by_label = dict(zip(self._model.labels, row.tolist(), strict=True))
        best = int(np.argmax(row))
        score = by_label.get(self._config["positive_label"], 0.0) - by_label.get(
            self._config["negative_label"], 0.0
        )
        return {
            "label": self._model.labels[best],
            "score": round(float(score), 4),
            "confidence": round(float(row[best]), 4),
        }
