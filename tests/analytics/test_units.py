"""Formulas and building blocks: CLV maths, RFM and K-means, tokenisers, masking."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analytics import AnalyticsError
from analytics.churn import ChurnConfig, interval, top_decile_lift
from analytics.clv import (
    discounted_clv,
    discounted_value,
    monthly_rate,
    retention_per_month,
    summarise_transactions,
)
from analytics.segmentation import fit_segments, rfm_edges, rfm_scores
from analytics.topics import analyse, chinese_tokens, english_tokens
from crm.masking import mask_email, mask_id, mask_name, mask_phone


def test_discounted_value_by_hand() -> None:
    assert discounted_value([110.0, 121.0], 0.10) == pytest.approx(200.0)
    assert discounted_value([], 0.1) == 0.0
    assert monthly_rate(0.10) == pytest.approx(1.10 ** (1 / 12) - 1)
    with pytest.raises(AnalyticsError):
        monthly_rate(-1.5)


def test_discounted_clv_matches_the_sum() -> None:
    revenue = np.array([50.0, 20.0])
    retention = np.array([0.9, 0.5])
    got = discounted_clv(revenue, retention, 0.01, 12)
    for i in range(2):
        flows = [revenue[i] * retention[i] ** t for t in range(1, 13)]
        assert got[i] == pytest.approx(discounted_value(flows, 0.01))
    assert retention_per_month(np.array([0.0, np.nan]), 90).tolist() == [1.0, 1.0]
    assert retention_per_month(np.array([0.5]), 30)[0] == pytest.approx(0.5)


def test_transaction_summary_counts_repeat_days() -> None:
    tx = pd.DataFrame(
        {
            "id": ["a", "a", "a", "a", "b"],
            "date": pd.to_datetime(
                ["2020-01-01", "2020-01-01", "2020-01-15", "2020-01-29", "2020-01-08"]
            ),
            "amount": [10.0, 5.0, 20.0, 40.0, 7.0],
        }
    )
    summary = summarise_transactions(tx, pd.Timestamp("2020-02-12"))
    a, b = summary.loc["a"], summary.loc["b"]
    assert (a["frequency"], a["recency"], a["T"]) == (2, 4.0, 6.0)
    assert a["monetary"] == pytest.approx(30.0)  # repeat purchases only
    assert (b["frequency"], b["monetary"]) == (0, 0.0)


def test_rfm_scores_are_quintiles_with_recent_best() -> None:
    frame = pd.DataFrame(
        {
            "recency_days": np.arange(100.0),
            "frequency": np.arange(100.0),
            "monetary": np.arange(100.0) * 3,
        }
    )
    scores = rfm_scores(frame, rfm_edges(frame))
    assert scores.loc[0, "r"] == 5 and scores.loc[99, "r"] == 1
    assert scores.loc[0, "f"] == 1 and scores.loc[99, "f"] == 5
    assert scores.loc[99, "rfm"] == "155"


def rfm_frame(n: int = 600, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    group = rng.integers(0, 3, n)
    return pd.DataFrame(
        {
            "recency_days": rng.gamma(2, [10, 60, 200])[group]
            * rng.uniform(0.8, 1.2, n),
            "frequency": rng.poisson([12, 4, 1])[group] + 1.0,
            "monetary": rng.gamma(2, [300, 80, 20])[group],
            "tenure_days": rng.uniform(100, 900, n),
        }
    )


def test_segments_are_stable_under_a_seed_and_named_by_profile() -> None:
    frame = rfm_frame()
    first = fit_segments(frame, seed=5)
    second = fit_segments(frame.copy(), seed=5)
    assert first.names == second.names
    assert (first.assign(frame) == second.assign(frame)).all()
    assert first.k == max(first.silhouettes, key=lambda k: first.silhouettes[k])
    known = {
        "champions",
        "loyal",
        "at risk",
        "hibernating",
        "new customers",
        "promising",
        "need attention",
    }
    assert all(name.rstrip(" 0123456789") in known for name in first.names)
    best = frame.loc[first.assign(frame) == first.names[0]]
    assert best["monetary"].mean() > frame["monetary"].mean()


def test_segments_without_rfm_columns_are_named_by_their_columns() -> None:
    frame = pd.DataFrame(
        {
            "age": np.r_[np.full(50, 20.0), np.full(50, 70.0)],
            "spend": np.r_[np.full(50, 5.0), np.full(50, 500.0)],
        }
    )
    frame += np.random.default_rng(1).normal(0, 0.5, frame.shape)
    model = fit_segments(frame, features=["age", "spend"], k=2)
    assert {frozenset(name.split(" · ")) for name in model.names} == {
        frozenset({"high age", "high spend"}),
        frozenset({"low age", "low spend"}),
    }
    with pytest.raises(AnalyticsError, match="at least 10"):
        fit_segments(frame.head(5), features=["age"])


def test_tokenisers_in_both_languages() -> None:
    english = english_tokens(["The deliveries were delayed and boxes arrived broken"])
    assert english == [["delivery", "delay", "box", "arrive", "break"]]
    chinese = chinese_tokens(["快递太慢了，包裹还破损了"])[0]
    assert "快递" in chinese and "包裹" in chinese and "了" not in chinese


def test_topics_separate_obvious_themes() -> None:
    texts = (
        ["parcel delivery late again courier"] * 12
        + ["refund money not returned still waiting refund"] * 12
        + ["退款 一直 没有 到账"] * 6
        + ["快递 太慢 包裹 延误"] * 6
    )
    docs = pd.DataFrame(
        {
            "text": texts,
            "language": [None] * len(texts),
            "segment": ["a", "b"] * (len(texts) // 2),
        }
    )
    found = analyse(docs, n_topics=2, seed=1)
    english = found["languages"]["en"]["topics"]
    words = [set(t["terms"][:3]) for t in english]
    assert any("refund" in w for w in words) and any("delivery" in w for w in words)
    assert set(found["languages"]) == {"en", "zh"}
    assert found["languages"]["en"]["by_segment"].keys() == {"a", "b"}


def test_masking() -> None:
    assert mask_name("Pat Lee") == "P** L**"
    assert mask_name("王小明") == "王**"
    assert mask_email("pat.lee@shop.example.com") == "p***@shop.example.com"
    assert mask_phone("+14155550123") == "+*********23"
    assert mask_id("7590-VHVEG") == "75******EG"


def test_metrics_helpers() -> None:
    assert interval([0.8, 0.8, 0.8])["low"] == pytest.approx(0.8)
    ci = interval([0.7, 0.8, 0.9])
    assert ci["low"] < 0.8 < ci["high"]
    y = np.array([1] * 10 + [0] * 90)
    assert top_decile_lift(y, np.linspace(1, 0, 100)) == pytest.approx(10.0)
    with pytest.raises(AnalyticsError, match="unknown model"):
        ChurnConfig(models=("tree",))
