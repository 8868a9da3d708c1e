"""The `analytics` command line on CSV files: the analyst's path and bad input."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from analytics.cli import app
from crm.db import get_engine
from crm.settings import get_settings

DATASETS = Path(__file__).resolve().parents[3] / "shared" / "datasets"
TELCO = DATASETS / "telco_churn" / "Telco-Customer-Churn.csv"
CDNOW = DATASETS / "cdnow" / "CDNOW_sample.txt"

runner = CliRunner()


def analytics(tmp_path: Path, *args: str) -> tuple[int, str]:
    """Run the CLI with its work folder under tmp_path; exit code and all output."""
    result = runner.invoke(
        app,
        [
            "--workdir",
            str(tmp_path / "work"),
            "--models-dir",
            str(tmp_path / "models"),
            *args,
        ],
    )
    output = result.output + (result.stderr if result.stderr_bytes else "")
    assert "Traceback" not in output, output
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, " ".join(output.split())


def on_csv(
    path: Path,
    options: str = "",
    *,
    target: str | None = "Churn",
    id_column: str = "customer",
) -> list[str]:
    """`--csv PATH --id COLUMN [--target COLUMN]`, then the space-separated options."""
    args = ["--csv", str(path), "--id", id_column]
    if target:
        args += ["--target", target]
    return args + options.split()


def customers_csv(path: Path, rows: int = 400, seed: int = 3) -> Path:
    """A messy churn CSV: blanks, a constant column, free text, a category."""
    rng = np.random.default_rng(seed)
    tenure = rng.integers(1, 72, rows)
    complaints = rng.poisson(1.0, rows)
    plan = rng.choice(["basic", "plus", "pro"], rows)
    risk = -1.5 + 0.9 * complaints - 0.04 * tenure + (plan == "basic") * 0.8
    churn = rng.random(rows) < 1 / (1 + np.exp(-risk))
    charges = np.round(rng.uniform(10, 90, rows), 2).astype(object)
    charges[rng.random(rows) < 0.1] = ""
    frame = pd.DataFrame(
        {
            "customer": [f"C-{i:05d}" for i in range(rows)],
            "tenure": tenure,
            "plan": plan,
            "charges": charges,
            "country": "NZ",
            "comment": [f"note {i}" for i in range(rows)],
            "conv_complaints": complaints,
            "Churn": np.where(churn, "Yes", "No"),
        }
    )
    frame.to_csv(path, index=False)
    return path


def test_train_score_and_report_on_a_messy_csv(tmp_path: Path) -> None:
    data = customers_csv(tmp_path / "customers.csv")
    code, text = analytics(
        tmp_path,
        "churn",
        "train",
        *on_csv(data, "--conversation-prefix conv_ --folds 3 --iterations 2"),
    )
    assert code == 0, text
    assert "best model" in text
    new = pd.read_csv(data, dtype=str).head(30)
    new.loc[0, "plan"] = "enterprise"  # never seen in training
    new.loc[1, "tenure"] = None
    new.loc[2, "charges"] = "n/a"
    new = new.drop(columns=["Churn"])
    new.to_csv(tmp_path / "new.csv", index=False)
    code, text = analytics(
        tmp_path,
        "churn",
        "score",
        *on_csv(tmp_path / "new.csv", target=None),
        "-o",
        str(tmp_path / "scores.csv"),
    )
    assert code == 0, text
    scores = pd.read_csv(tmp_path / "scores.csv")
    assert len(scores) == 30 and scores["churn_score"].between(0, 1).all()
    new.head(1).to_csv(tmp_path / "one.csv", index=False)  # every column constant
    code, text = analytics(
        tmp_path,
        "churn",
        "score",
        *on_csv(tmp_path / "one.csv", target=None),
        "-o",
        str(tmp_path / "one-score.csv"),
    )
    assert code == 0, text
    assert len(pd.read_csv(tmp_path / "one-score.csv")) == 1
    new.drop(columns=["tenure"]).to_csv(tmp_path / "less.csv", index=False)
    code, text = analytics(
        tmp_path, "churn", "score", *on_csv(tmp_path / "less.csv", target=None)
    )
    assert code == 2 and "lacks column 'tenure' that the model uses" in text
    code, text = analytics(
        tmp_path,
        "churn",
        "evaluate",
        *on_csv(data, "--conversation-prefix conv_ --folds 3"),
    )
    assert code == 0, text
    assert "ablation (CV ROC-AUC): with conversations" in text
    code, text = analytics(tmp_path, "report")
    assert code == 0, text
    html = (tmp_path / "work" / "report.html").read_text(encoding="utf-8")
    assert "constant" in html and "free text" in html  # the column report
    at_risk = html.split('id="at-risk"')[1].split("</section>")[0]
    assert "C-***" in at_risk and not re.search(r"C-\d{5}", at_risk)


def test_features_and_segments_of_a_csv(tmp_path: Path) -> None:
    data = customers_csv(tmp_path / "customers.csv")
    code, text = analytics(tmp_path, "features", *on_csv(data))
    assert code == 0, text
    assert "categorical" in text and "dropped" in text
    code, text = analytics(
        tmp_path,
        "segment",
        *on_csv(data, "--k 3"),
    )
    assert code == 0, text
    segments = pd.read_csv(tmp_path / "work" / "segments.csv")
    assert segments["segment"].nunique() == 3 and len(segments) == 400


def test_pipeline_takes_the_training_options(tmp_path: Path) -> None:
    data = customers_csv(tmp_path / "customers.csv")
    code, text = analytics(
        tmp_path, "pipeline", *on_csv(data, "--models logreg --folds 3 --iterations 1")
    )
    assert code == 0, text
    evaluation = pd.read_json(tmp_path / "work" / "evaluation.json", typ="series")
    assert [m["name"] for m in evaluation["models"]] == ["logreg"]
    assert evaluation["config"]["cv_folds"] == 3
    assert (tmp_path / "work" / "report.html").is_file()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda f: f.drop(columns=["Churn"]), "has no column 'Churn'"),
        (lambda f: f.assign(Churn="No"), "single value 'No'"),
        (lambda f: f.assign(Churn=["No"] * 398 + ["Yes"] * 2), "only 2 rows"),
    ],
)
def test_bad_targets_get_one_clear_line(tmp_path: Path, change, message) -> None:  # type: ignore[no-untyped-def]
    data = customers_csv(tmp_path / "customers.csv")
    change(pd.read_csv(data)).to_csv(data, index=False)
    code, text = analytics(
        tmp_path,
        "churn",
        "train",
        *on_csv(data, "--models logreg --folds 3"),
    )
    assert code == 2
    assert message in text and "error:" in text


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["churn", "train", "--csv", "missing.csv", "--target", "y", "--id", "i"],
            "no CSV file at missing.csv",
        ),
        (["churn", "train", "--csv", "x.csv", "--id", "i"], "--target is required"),
        (["churn", "score", "--csv", "x.csv", "--id", "i"], "no churn model in"),
        (["churn", "train", "--models", "tree"], "unknown model 'tree'"),
        (["clv", "--csv", "x.csv", "--id", "i"], "--date is required"),
        (["pipeline", "--csv", "x.csv", "--id", "i"], "--target is required"),
    ],
)
def test_usage_mistakes(tmp_path: Path, args: list[str], message: str) -> None:
    code, text = analytics(tmp_path, *args)
    assert code == 2 and message in text


def test_crm_commands_explain_a_missing_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'none.sqlite3'}")
    get_settings.cache_clear()
    get_engine.cache_clear()
    try:
        code, text = analytics(tmp_path, "segment")
    finally:
        get_settings.cache_clear()
        get_engine.cache_clear()
    assert code == 2 and "no database at" in text


@pytest.mark.skipif(not TELCO.is_file(), reason="shared Telco data set not present")
def test_telco_through_the_csv_path(tmp_path: Path) -> None:
    code, text = analytics(
        tmp_path,
        "churn",
        "train",
        *on_csv(
            TELCO, "--models logreg --folds 3 --iterations 2", id_column="customerID"
        ),
    )
    assert code == 0, text
    evaluation = pd.read_json(tmp_path / "work" / "evaluation.json", typ="series")
    holdout = evaluation["models"][0]["holdout"]
    assert holdout["rows"] == 1409  # stratified 20% of 7,043
    assert holdout["roc_auc"] > 0.83


@pytest.mark.skipif(not CDNOW.is_file(), reason="shared CDNOW data set not present")
def test_cdnow_parameters_match_the_published_fit(tmp_path: Path) -> None:
    code, text = analytics(tmp_path, "clv", "--cdnow", str(CDNOW))
    assert code == 0, text
    result = pd.read_json(tmp_path / "work" / "cdnow.json", typ="series")
    assert result["customers"] == 2357
    for error in result["relative_error"].values():
        assert abs(error) < 0.02
