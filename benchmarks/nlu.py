"""Train an NLU pipeline on a data set and measure it; the last line is JSON.

    python benchmarks/nlu.py --train TRAIN.csv --test TEST.csv [--config FILE]
                             [--baseline] [--oos-label oos] [--extra-train PATH]

CSV (or TSV) files have the columns ``text,label`` (``sentence``/``review`` and
``category``/``intent`` are accepted too); a label ``oos`` means out of scope.
``--train``/``--test`` may also be Rasa YAML files or folders, such as
``nlu_data/train`` and ``nlu_data/heldout``: then the report adds accuracy per
test file (per language), entity F1, sentiment accuracy and the share of right
and wrong answers below each fallback threshold. Labels are full intents, so a
``faq/...`` label counts as right only when the ResponseSelector also picks
the right answer. ``--baseline`` also trains Rasa's default pipeline (the one
``rasa init`` writes) on the same data and prints ``{"ours": ..., "baseline":
...}``. Runs in the bot env; each training starts with an empty Rasa cache.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import logging
import os
import shutil
import sys
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# WARNING also turns off Rasa's progress bars
os.environ.setdefault("LOG_LEVEL", "WARNING")

logger = logging.getLogger(__name__)

TEXT_COLUMNS = ("text", "sentence", "review", "query", "utterance")
LABEL_COLUMNS = ("label", "category", "intent")
FALLBACK_INTENT = "nlu_fallback"
THRESHOLDS = (0.2, 0.3, 0.4, 0.5, 0.6, 0.7)

# The pipeline `rasa init` writes (Rasa 3.6), the reference for --baseline.
RASA_DEFAULT_CONFIG = """\
recipe: default.v1
assistant_id: baseline
language: en
pipeline:
- name: WhitespaceTokenizer
- name: RegexFeaturizer
- name: LexicalSyntacticFeaturizer
- name: CountVectorsFeaturizer
- name: CountVectorsFeaturizer
  analyzer: char_wb
  min_ngram: 1
  max_ngram: 4
- name: DIETClassifier
  epochs: 100
  constrain_similarities: true
- name: EntitySynonymMapper
- name: ResponseSelector
  epochs: 100
  constrain_similarities: true
- name: FallbackClassifier
  threshold: 0.3
  ambiguity_threshold: 0.1
"""


@dataclass
class Example:
    """A test example: text, full intent label and what else the data says."""

    text: str
    label: str
    group: str = "all"
    entities: list[tuple[int, int, str]] = field(default_factory=list)
    sentiment: str | None = None


def read_table(path: Path) -> list[tuple[str, str]]:
    """(text, label) rows of a CSV or TSV file with a header."""
    tabs = path.suffix.lower() in {".tsv", ".tab"}
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(
            handle,
            delimiter="\t" if tabs else ",",
            quoting=csv.QUOTE_NONE if tabs else csv.QUOTE_MINIMAL,
        )
        header = [name.strip().lower() for name in reader.fieldnames or []]
        text_col = next((c for c in TEXT_COLUMNS if c in header), None)
        label_col = next((c for c in LABEL_COLUMNS if c in header), None)
        if text_col is None or label_col is None:
            raise ValueError(
                f"{path}: needs a text column {TEXT_COLUMNS} and a label column "
                f"{LABEL_COLUMNS}; found {header}"
            )
        names = dict(zip(header, reader.fieldnames or [], strict=True))
        rows = [
            (row[names[text_col]].strip(), row[names[label_col]].strip())
            for row in reader
        ]
    rows = [(text, label) for text, label in rows if text and label]
    if not rows:
        raise ValueError(f"{path}: no rows with text and label")
    return rows


def is_table(path: Path) -> bool:
    """Whether path is a CSV/TSV file (otherwise Rasa NLU data)."""
    return path.is_file() and path.suffix.lower() in {".csv", ".tsv", ".tab"}


def rasa_files(path: Path) -> list[Path]:
    """The NLU YAML files at path (a file or a folder searched recursively)."""
    if path.is_file():
        return [path]
    files = sorted(p for p in path.rglob("*") if p.suffix in {".yml", ".yaml"})
    if not files:
        raise ValueError(f"{path}: no CSV file and no Rasa YAML files")
    return files


def load_training_data(path: Path) -> Any:
    """Rasa TrainingData from a CSV/TSV file or Rasa YAML files."""
    from rasa.shared.nlu.training_data.loading import load_data
    from rasa.shared.nlu.training_data.message import Message
    from rasa.shared.nlu.training_data.training_data import TrainingData

    if not path.exists():
        raise FileNotFoundError(path)
    if is_table(path):
        return TrainingData([Message.build(t, label) for t, label in read_table(path)])
    parts = [load_data(str(f)) for f in rasa_files(path)]
    return parts[0].merge(*parts[1:])


def test_examples(path: Path) -> list[Example]:
    """Test examples; with Rasa YAML, grouped by file name (en.yml, zh.yml...)."""
    from bot.components.sentiment import example_sentiment

    if is_table(path):
        return [Example(text, label) for text, label in read_table(path)]
    examples = []
    for file in rasa_files(path):
        data = load_training_data(file)
        for message in data.intent_examples:
            entities = [
                (e["start"], e["end"], e["entity"])
                for e in message.get("entities") or []
            ]
            examples.append(
                Example(
                    text=message.get("text"),
                    label=message.get_full_intent(),
                    group=file.stem,
                    entities=entities,
                    sentiment=example_sentiment(message, "neutral"),
                )
            )
    if not examples:
        raise ValueError(f"{path}: no test examples")
    return examples


def train(config: Path, paths: list[Path], workdir: Path) -> tuple[str, float]:
    """Trains an NLU model with an empty cache; returns its path and seconds.

    Rasa YAML files are copied as they are: writing loaded data back to YAML
    would merge each intent's blocks and lose their different `metadata`.
    """
    from rasa.model_training import train_nlu

    data = workdir / "train"
    data.mkdir()
    for index, path in enumerate(paths):
        if is_table(path):
            load_training_data(path).persist_nlu(str(data / f"{index:03d}.yml"))
            continue
        for number, file in enumerate(rasa_files(path)):
            shutil.copyfile(file, data / f"{index:03d}_{number:03d}_{file.name}")
    os.environ["RASA_CACHE_DIRECTORY"] = str(workdir / "cache")
    started = time.perf_counter()
    model = train_nlu(str(config), str(data), str(workdir / "models"))
    seconds = time.perf_counter() - started
    if model is None:
        raise RuntimeError(f"training with {config} produced no model")
    return model, seconds


def predicted_label(parsed: dict[str, Any]) -> str:
    """The full intent of a parse result (``faq/x`` for retrieval intents)."""
    intent = (parsed.get("intent") or {}).get("name") or FALLBACK_INTENT
    selector = parsed.get("response_selector") or {}
    for key in (intent, "default"):
        response = (selector.get(key) or {}).get("response") or {}
        full = response.get("intent_response_key")
        if full and full.split("/", 1)[0] == intent:
            return full
    return intent


def raw_confidence(parsed: dict[str, Any]) -> float:
    """The classifier's best confidence, before any fallback."""
    for item in parsed.get("intent_ranking") or [parsed.get("intent") or {}]:
        if item.get("name") != FALLBACK_INTENT:
            return float(item.get("confidence") or 0.0)
    return 0.0


def parse_all(model: str, texts: list[str]) -> tuple[list[dict[str, Any]], list[float]]:
    """Parses each text alone (as the server does); returns results and ms."""
    from rasa.core.agent import Agent

    agent = Agent.load(model)

    async def run() -> tuple[list[dict[str, Any]], list[float]]:
        await agent.parse_message("warm up")
        results, millis = [], []
        for text in texts:
            started = time.perf_counter()
            results.append(await agent.parse_message(text))
            millis.append((time.perf_counter() - started) * 1000)
        return results, millis

    return asyncio.run(run())


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0-100) of values."""
    import numpy as np

    return float(np.percentile(np.array(values), q)) if values else 0.0


def macro_f1(truth: list[str], predicted: list[str]) -> float:
    """Macro F1 over the labels that occur in truth."""
    from sklearn.metrics import f1_score

    labels = sorted(set(truth))
    return float(
        f1_score(truth, predicted, labels=labels, average="macro", zero_division=0)
    )


def entity_scores(
    examples: list[Example], results: list[dict[str, Any]]
) -> dict[str, Any]:
    """Exact span-and-type precision, recall and F1, per entity and overall."""
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for example, parsed in zip(examples, results, strict=True):
        gold = set(example.entities)
        found = {
            (e["start"], e["end"], e["entity"])
            for e in parsed.get("entities") or []
            if e.get("entity") != "language"
        }
        for _, _, name in gold & found:
            counts[name]["tp"] += 1
        for _, _, name in found - gold:
            counts[name]["fp"] += 1
        for _, _, name in gold - found:
            counts[name]["fn"] += 1
    per_entity = {name: _prf(c) for name, c in sorted(counts.items())}
    total: Counter[str] = sum(counts.values(), Counter())
    return {"micro": _prf(total), "per_entity": per_entity}


def _prf(counts: Counter[str]) -> dict[str, float]:
    tp, fp, fn = counts["tp"], counts["fp"], counts["fn"]
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "precision": round(precision, 4),
        "recall": round(recall, 4),
        "f1": round(f1, 4),
        "support": tp + fn,
    }


def fallback_curve(
    examples: list[Example], results: list[dict[str, Any]], predicted: list[str]
) -> list[dict[str, float]]:
    """Per threshold: share of right answers lost and of wrong answers caught."""
    rows = []
    pairs = [
        (raw_confidence(parsed), guess == example.label)
        for example, parsed, guess in zip(examples, results, predicted, strict=True)
    ]
    right = [conf for conf, ok in pairs if ok]
    wrong = [conf for conf, ok in pairs if not ok]
    for threshold in THRESHOLDS:
        rows.append(
            {
                "threshold": threshold,
                "right_lost": _share(right, threshold),
                "wrong_caught": _share(wrong, threshold),
            }
        )
    return rows


def _share(values: list[float], threshold: float) -> float:
    return round(sum(v < threshold for v in values) / len(values), 4) if values else 0.0


def evaluate(
    config: Path,
    train_paths: list[Path],
    test_path: Path,
    oos_label: str,
    predictions: Path | None = None,
) -> dict[str, Any]:
    """Trains the pipeline of config and measures it on the test examples."""
    parts = [load_training_data(path) for path in train_paths]
    training_data = parts[0].merge(*parts[1:])
    examples = test_examples(test_path)
    with tempfile.TemporaryDirectory(prefix="kefu-nlu-bench-") as tmp:
        model, seconds = train(config, train_paths, Path(tmp))
        results, millis = parse_all(model, [e.text for e in examples])
    if predictions is not None:
        write_predictions(predictions, examples, results)
    predicted = [predicted_label(parsed) for parsed in results]
    has_oos = any(e.label == oos_label for e in examples)
    if has_oos:
        predicted = [oos_label if p == FALLBACK_INTENT else p for p in predicted]
    truth = [e.label for e in examples]
    report: dict[str, Any] = {
        "accuracy": round(_accuracy(truth, predicted), 4),
        "macro_f1": round(macro_f1(truth, predicted), 4),
    }
    if has_oos:
        oos = [p for t, p in zip(truth, predicted, strict=True) if t == oos_label]
        report["oos_recall"] = round(sum(p == oos_label for p in oos) / len(oos), 4)
    report.update(
        {
            "train_seconds": round(seconds, 1),
            "parse_ms_p50": round(percentile(millis, 50), 2),
            "parse_ms_p95": round(percentile(millis, 95), 2),
            "train_examples": len(training_data.intent_examples),
            "test_examples": len(examples),
        }
    )
    if not is_table(test_path):
        report.update(_rasa_extras(examples, results, predicted))
    return report


def write_predictions(
    path: Path, examples: list[Example], results: list[dict[str, Any]]
) -> None:
    """One JSON line per test example: the gold label and the parse result."""
    with path.open("w", encoding="utf-8") as handle:
        for example, parsed in zip(examples, results, strict=True):
            row = {
                "gold": example.label,
                "group": example.group,
                "gold_entities": example.entities,
                "gold_sentiment": example.sentiment,
                "parsed": parsed,
            }
            handle.write(json.dumps(row, ensure_ascii=False, default=str) + "\n")


def _accuracy(truth: list[str], predicted: list[str]) -> float:
    return sum(t == p for t, p in zip(truth, predicted, strict=True)) / len(truth)


def _rasa_extras(
    examples: list[Example], results: list[dict[str, Any]], predicted: list[str]
) -> dict[str, Any]:
    """Per-file accuracy, entities, sentiment and fallback figures."""
    groups: dict[str, list[int]] = defaultdict(list)
    for index, example in enumerate(examples):
        groups[example.group].append(index)
    per_group = {
        name: round(
            _accuracy([examples[i].label for i in idx], [predicted[i] for i in idx]), 4
        )
        for name, idx in sorted(groups.items())
    }
    extras: dict[str, Any] = {
        "accuracy_per_file": per_group,
        "fallback_rate": round(
            sum((r.get("intent") or {}).get("name") == FALLBACK_INTENT for r in results)
            / len(results),
            4,
        ),
        "entities": entity_scores(examples, results),
        "fallback_curve": fallback_curve(examples, results, predicted),
    }
    sentiments = [
        (e.sentiment, (r.get("sentiment") or {}).get("label"))
        for e, r in zip(examples, results, strict=True)
    ]
    if any(found for _, found in sentiments):
        truth = [t or "neutral" for t, _ in sentiments]
        guess = [g or "none" for _, g in sentiments]
        extras["sentiment_accuracy"] = round(_accuracy(truth, guess), 4)
        extras["sentiment_macro_f1"] = round(macro_f1(truth, guess), 4)
    errors = Counter(
        f"{e.label} -> {p}"
        for e, p in zip(examples, predicted, strict=True)
        if e.label != p
    )
    extras["top_confusions"] = dict(errors.most_common(10))
    return extras


def quiet_rasa() -> None:
    """Rasa's logs at WARNING, so the JSON line stands out."""
    from rasa.utils.common import configure_logging_and_warnings
    from rasa.utils.log_utils import configure_structlog

    level = logging.getLevelName(os.environ["LOG_LEVEL"])
    configure_logging_and_warnings(level)
    configure_structlog(level)


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--train", type=Path, required=True)
    parser.add_argument(
        "--extra-train",
        type=Path,
        action="append",
        default=[],
        help="more Rasa YAML training data, e.g. var/nlu (the catalog lookup)",
    )
    parser.add_argument("--test", type=Path, required=True)
    parser.add_argument("--config", type=Path, default=ROOT / "config.yml")
    parser.add_argument("--baseline", action="store_true")
    parser.add_argument("--oos-label", default="oos")
    parser.add_argument(
        "--predictions", type=Path, help="write each test parse result here (JSONL)"
    )
    args = parser.parse_args(argv)
    quiet_rasa()

    train_paths = [p.resolve() for p in [args.train, *args.extra_train]]
    test_path = args.test.resolve()
    config = args.config.resolve()
    predictions = args.predictions.resolve() if args.predictions else None
    # relative paths inside the config (the jieba dictionary) are project-relative
    os.chdir(config.parent)
    ours = evaluate(config, train_paths, test_path, args.oos_label, predictions)
    if not args.baseline:
        print(json.dumps(ours, ensure_ascii=False))
        return 0
    with tempfile.TemporaryDirectory(prefix="kefu-baseline-") as tmp:
        baseline_config = Path(tmp) / "config.yml"
        baseline_config.write_text(RASA_DEFAULT_CONFIG, encoding="utf-8")
        baseline = evaluate(baseline_config, train_paths, test_path, args.oos_label)
    print(json.dumps({"ours": ours, "baseline": baseline}, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
