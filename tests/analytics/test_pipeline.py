"""The whole CRM pipeline on a seeded demo database, once per backend.

Segments and scores land in the customers table; CLV, topics and the report are
written; the report is a self-contained HTML page that parses, embeds its plots and
shows no personal data.
"""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
from dataclasses import replace
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from sqlalchemy import Engine, func, select

from analytics import run
from analytics.churn import ChurnConfig, load
from analytics.report import write_report
from analytics.run import RunConfig
from crm.models import Customer
from tests.analytics.conftest import AS_OF

SECTIONS = (
    "summary",
    "segments",
    "churn-by-segment",
    "models",
    "curves",
    "lift",
    "importance",
    "ablation",
    "clv",
    "conversations",
    "topics",
    "at-risk",
    "method",
)


@pytest.fixture(scope="module")
def done(
    crm: Engine, tmp_path_factory: pytest.TempPathFactory
) -> tuple[RunConfig, dict[str, Any]]:
    folder = tmp_path_factory.mktemp("pipeline")
    config = RunConfig(
        workdir=folder / "work",
        models_dir=folder / "models",
        as_of=AS_OF,
        chunk_size=400,
        churn=ChurnConfig(
            models=("logreg", "gradient_boosting"), cv_folds=3, search_iter=2
        ),
    )
    return config, run.crm_pipeline(crm, config)


def artifact(config: RunConfig, name: str) -> dict[str, Any]:
    data = run.read_json(config.workdir, name)
    assert data is not None, f"{name}.json missing"
    return data


def test_segments_are_written_back(crm: Engine, done: tuple[RunConfig, Any]) -> None:
    config, result = done
    segments = artifact(config, "segments")
    assert segments["k"] == result["segments"]
    silhouettes = {int(k): v for k, v in segments["silhouettes"].items()}
    assert segments["k"] == max(silhouettes, key=lambda k: silhouettes[k])
    names = [p["segment"] for p in segments["profiles"]]
    assert len(set(names)) == len(names)
    assert sum(p["size"] for p in segments["profiles"]) == result["customers_scored"]
    with crm.connect() as connection:
        written = dict(
            connection.execute(
                select(Customer.segment, func.count()).group_by(Customer.segment)
            ).all()
        )
    assert written.get(None, 0) == 0 or written[None] < 50  # signed up today only
    assert written["churned"] > 0
    for profile in segments["profiles"]:
        assert written.get(profile["segment"], 0) == profile["size"]


def test_churn_models_are_compared_with_the_ablation(
    done: tuple[RunConfig, Any],
) -> None:
    config, result = done
    evaluation = artifact(config, "evaluation")
    assert evaluation["best"] == result["best_model"]
    assert evaluation["models"][0]["name"] == evaluation["best"]
    for model in evaluation["models"]:
        holdout = model["holdout"]
        for key in ("roc_auc", "pr_auc", "f1", "recall", "brier"):
            assert 0.0 <= holdout[key] <= 1.0
        assert holdout["top_decile_lift"] > 0
        assert len(holdout["curves"]["lift"]) == 10
        cv = model["cv_roc_auc"]
        assert cv["low"] <= cv["mean"] <= cv["high"]
        ablation = model["ablation"]
        assert ablation["applicable"]
        assert ablation["cv_gain"]["low"] <= ablation["cv_gain"]["mean"]
        assert 0.0 <= ablation["holdout_without"] <= 1.0
    best = evaluation["models"][0]
    assert best["holdout"]["roc_auc"] > 0.6
    assert evaluation["importance"]
    run_info = artifact(config, "run")
    uses = [s["use"] for s in run_info["snapshots"]]
    assert uses == ["training", "holdout"]
    assert run_info["snapshots"][0]["cutoff"] < run_info["snapshots"][1]["cutoff"]


def test_scores_are_written_back_with_the_version(
    crm: Engine, done: tuple[RunConfig, Any]
) -> None:
    config, result = done
    model = load(None, config.models_dir)
    with crm.connect() as connection:
        rows = connection.execute(
            select(Customer.churn_score, Customer.churn_scored_at).where(
                Customer.churn_model_version == model.version
            )
        ).all()
    assert len(rows) == result["customers_scored"]
    assert all(0.0 <= score <= 1.0 and at is not None for score, at in rows)
    scores = artifact(config, "scores")
    assert scores["customers"] == len(rows)
    assert sum(scores["histogram"]["counts"]) == len(rows)


def test_a_saved_model_scores_and_evaluates_again(
    crm: Engine, done: tuple[RunConfig, Any]
) -> None:
    config, _ = done
    again = replace(config, top_at_risk=5)
    scored = run.crm_score(crm, again, None)
    assert len(scored["top"]) == 5
    assert scored["top"][0]["score"] >= scored["top"][-1]["score"]
    checked = run.crm_evaluate(crm, again, None, None)
    assert 0.5 < checked["holdout"]["roc_auc"] <= 1.0
    assert checked["ablation"]["applicable"]


def test_lifetime_values(done: tuple[RunConfig, Any]) -> None:
    config, result = done
    value = artifact(config, "clv")
    assert value["customers"] == result["clv_customers"] > 0
    assert set(value["bgnbd"]) >= {"r", "alpha", "a", "b"}
    table = pd.read_csv(config.workdir / "clv.csv")
    assert {"customer_id", "monthly_revenue", "clv", "p_alive", "bgnbd_clv"} <= set(
        table.columns
    )
    assert (table["clv"] >= 0).all()


def test_topics_in_both_languages(done: tuple[RunConfig, Any]) -> None:
    config, _ = done
    found = artifact(config, "topics")
    assert set(found["languages"]) == {"en", "zh"}
    for language in found["languages"].values():
        assert language["topics"]
        assert language["by_segment"]
        assert sum(t["share"] for t in language["topics"]) <= 1.0 + 1e-9
    assert found["trends"] and all(t["messages"] > 0 for t in found["trends"])


class Page(HTMLParser):
    """Collects ids, image sources and links of an HTML page."""

    def __init__(self) -> None:
        super().__init__()
        self.ids: set[str] = set()
        self.images: list[str] = []
        self.links: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if found.get("id"):
            self.ids.add(str(found["id"]))
        if tag == "img":
            self.images.append(str(found.get("src")))
        for key in ("href", "src"):
            if found.get(key) and tag != "img":
                self.links.append(str(found[key]))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def test_report_is_self_contained_and_masked(
    crm: Engine, done: tuple[RunConfig, Any]
) -> None:
    config, result = done
    html = Path(result["report"]).read_text(encoding="utf-8")
    page = Page()
    page.feed(html)
    page.close()
    assert set(SECTIONS) <= page.ids
    assert "Not run" not in html
    assert len(page.images) >= 10
    for source in page.images:
        assert source.startswith("data:image/png;base64,")
        assert base64.b64decode(source.split(",", 1)[1])[:8] == b"\x89PNG\r\n\x1a\n"
    assert all(link.startswith("#") for link in page.links)
    assert "http://" not in html.replace("http://www.w3.org", "")
    top = [row["id"] for row in artifact(config, "scores")["top"]]
    with crm.connect() as connection:
        people = connection.execute(
            select(Customer.email, Customer.name_en, Customer.phone).where(
                Customer.id.in_(top)
            )
        ).all()
    text = "".join(page.text)
    for email, name, phone in people:
        assert email not in html and name not in text
        assert not phone or phone not in html
    assert "***@" in text


@pytest.mark.skipif(shutil.which("chromium") is None, reason="no headless chromium")
def test_report_opens_in_chromium(done: tuple[RunConfig, Any], tmp_path: Path) -> None:
    _, result = done
    shot = tmp_path / "report.png"
    subprocess.run(
        [
            "chromium",
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            f"--screenshot={shot}",
            f"file://{result['report']}",
        ],
        check=True,
        timeout=120,
        capture_output=True,
    )
    assert shot.stat().st_size > 10_000


def test_report_of_missing_steps_says_what_to_run(tmp_path: Path) -> None:
    path = write_report(tmp_path)
    html = path.read_text(encoding="utf-8")
    assert "analytics churn train" in html and "analytics segment" in html
    json.dumps(html)  # plain text, no binary surprises
