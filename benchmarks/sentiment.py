"""Train our SentimentClassifier alone on a data set; the last line is JSON.

    python benchmarks/sentiment.py --train TRAIN.csv --test TEST.csv [--config FILE]
    python benchmarks/sentiment.py --train ALL.csv --test-fraction 0.2 --seed 42

CSV (or TSV) files have the columns ``text,label`` (``sentence``/``review`` and
``category`` are accepted too); labels may be any strings (``0``/``1``,
``negative``/``neutral``/``positive``). Without ``--test`` a stratified split
of ``--train`` is held out. The component is configured as in the
SentimentClassifier entry of ``--config`` (default: our config.yml), trained
through its real Rasa interface on a LocalModelStorage, persisted, loaded and
then asked one message at a time. Keys: accuracy, macro_f1, train_seconds,
parse_ms_p50, parse_ms_p95 (and oos_recall when a label ``oos`` is present).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("LOG_LEVEL", "WARNING")

from benchmarks.nlu import macro_f1, percentile, quiet_rasa, read_table  # noqa: E402

COMPONENT = "bot.components.sentiment.SentimentClassifier"


def component_config(config_file: Path) -> dict[str, Any]:
    """The SentimentClassifier settings in a Rasa config file ({} if absent)."""
    from rasa.shared.utils.io import read_yaml_file

    for item in read_yaml_file(str(config_file)).get("pipeline") or []:
        if item.get("name") in {COMPONENT, "SentimentClassifier"}:
            return {k: v for k, v in item.items() if k != "name"}
    return {}


def split(
    rows: list[tuple[str, str]], fraction: float, seed: int
) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """A stratified train/test split."""
    from sklearn.model_selection import train_test_split

    labels = [label for _, label in rows]
    train, test = train_test_split(
        rows, test_size=fraction, random_state=seed, stratify=labels
    )
    return list(train), list(test)


def run(
    train_rows: list[tuple[str, str]],
    test_rows: list[tuple[str, str]],
    config: dict[str, Any],
) -> dict[str, Any]:
    """Trains, persists, loads and measures the component."""
    from rasa.engine.graph import ExecutionContext, GraphSchema
    from rasa.engine.storage.local_model_storage import LocalModelStorage
    from rasa.engine.storage.resource import Resource
    from rasa.shared.nlu.training_data.message import Message
    from rasa.shared.nlu.training_data.training_data import TrainingData

    from bot.components.sentiment import SentimentClassifier

    examples = [
        Message(data={"text": text, "metadata": {"example": {"sentiment": label}}})
        for text, label in train_rows
    ]
    context = ExecutionContext(GraphSchema({}), node_name="sentiment")
    resource = Resource("sentiment")
    with tempfile.TemporaryDirectory(prefix="kefu-sentiment-") as tmp:
        storage = LocalModelStorage(Path(tmp))
        started = time.perf_counter()
        component = SentimentClassifier.create(config, storage, resource, context)
        component.train(TrainingData(examples))
        seconds = time.perf_counter() - started
        loaded = SentimentClassifier.load(config, storage, resource, context)
        predicted, millis = [], []
        for text, _ in test_rows:
            began = time.perf_counter()
            (parsed,) = loaded.process([Message(data={"text": text})])
            millis.append((time.perf_counter() - began) * 1000)
            predicted.append((parsed.get("sentiment") or {}).get("label", ""))
    truth = [label for _, label in test_rows]
    report: dict[str, Any] = {
        "accuracy": round(
            sum(t == p for t, p in zip(truth, predicted, strict=True)) / len(truth), 4
        ),
        "macro_f1": round(macro_f1(truth, predicted), 4),
    }
    if "oos" in truth:
        oos = [p for t, p in zip(truth, predicted, strict=True) if t == "oos"]
        report["oos_recall"] = round(sum(p == "oos" for p in oos) / len(oos), 4)
    report.update(
        {
            "train_seconds": round(seconds, 1),
            "parse_ms_p50": round(percentile(millis, 50), 2),
            "parse_ms_p95": round(percentile(millis, 95), 2),
            "train_examples": len(train_rows),
            "test_examples": len(test_rows),
        }
    )
    return report


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--train", type=Path, required=True)
    parser.add_argument("--test", type=Path)
    parser.add_argument("--test-fraction", type=float, default=0.2)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--config", type=Path, default=ROOT / "config.yml")
    args = parser.parse_args(argv)
    quiet_rasa()

    rows = read_table(args.train)
    if args.test is not None:
        train_rows, test_rows = rows, read_table(args.test)
    else:
        train_rows, test_rows = split(rows, args.test_fraction, args.seed)
    config = component_config(args.config) if args.config.exists() else {}
    print(json.dumps(run(train_rows, test_rows, config), ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
