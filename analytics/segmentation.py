"""Customer segments: RFM scores plus K-means, k chosen by silhouette, named by profile.

RFM scores are quintiles (1-5, 5 best: most recent, most orders, most spent) with
edges learned on the fitting sample, so a later scoring pass gives the same score
to the same values. K-means runs on standardised log features with a fixed seed;
clusters are renumbered by profile so the same data and seed give the same labels.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sklearn.cluster import KMeans
from sklearn.metrics import silhouette_score
from sklearn.preprocessing import StandardScaler
from sqlalchemy import update
from sqlalchemy.orm import Session

from analytics import AnalyticsError
from crm.models import Customer

logger = logging.getLogger(__name__)

RFM = ("recency_days", "frequency", "monetary")
CRM_FEATURES = ("recency_days", "frequency", "monetary", "tenure_days")
NAME_LENGTH = 40


@dataclass
class SegmentModel:
    """A fitted segmentation that can label any frame with the same columns."""

    features: list[str]
    scaler: StandardScaler
    kmeans: KMeans
    names: list[str]
    """The name of each (renumbered) cluster."""
    order: list[int]
    """K-means cluster -> position in `names`."""
    silhouettes: dict[int, float]
    rfm_edges: dict[str, list[float]] = field(default_factory=dict)
    seed: int = 42

    @property
    def k(self) -> int:
        return len(self.names)

    def clusters(self, frame: pd.DataFrame) -> np.ndarray:
        """The renumbered cluster of each row."""
        raw = self.kmeans.predict(self.scaler.transform(_matrix(frame, self.features)))
        return np.asarray(self.order)[raw]

    def assign(self, frame: pd.DataFrame) -> pd.Series:
        """The segment name of each row."""
        names = np.asarray(self.names, dtype=object)[self.clusters(frame)]
        return pd.Series(names, index=frame.index, name="segment")


def _matrix(frame: pd.DataFrame, features: list[str]) -> np.ndarray:
    missing = [c for c in features if c not in frame.columns]
    if missing:
        raise AnalyticsError(f"segmentation needs column {missing[0]!r}")
    values = frame[features].apply(pd.to_numeric, errors="coerce").to_numpy(float)
    values = np.where(np.isnan(values), np.nanmedian(values, axis=0), values)
    values = np.nan_to_num(values)
    return np.sign(values) * np.log1p(np.abs(values))


def rfm_edges(frame: pd.DataFrame) -> dict[str, list[float]]:
    """Quintile edges of recency, frequency and monetary value."""
    return {
        name: np.nanquantile(frame[name].to_numpy(float), [0.2, 0.4, 0.6, 0.8]).tolist()
        for name in RFM
        if name in frame.columns
    }


def rfm_scores(frame: pd.DataFrame, edges: dict[str, list[float]]) -> pd.DataFrame:
    """R, F and M scores 1-5 (5 best) and their concatenation, e.g. "545"."""
    scores = pd.DataFrame(index=frame.index)
    for name, column in zip(RFM, ("r", "f", "m"), strict=True):
        values = frame[name].to_numpy(float)
        score = 1 + np.searchsorted(edges[name], values, side="right")
        scores[column] = 6 - score if name == "recency_days" else score
    scores["rfm"] = (
        scores["r"].astype(str) + scores["f"].astype(str) + scores["m"].astype(str)
    )
    return scores


def choose_k(
    matrix: np.ndarray, k_values: range, seed: int, sample: int = 4_000
) -> dict[int, float]:
    """Silhouette of K-means for each k, on a sample (silhouette is quadratic)."""
    rng = np.random.default_rng(seed)
    rows = rng.choice(len(matrix), size=min(sample, len(matrix)), replace=False)
    part = matrix[rows]
    found = {}
    for k in k_values:
        if k >= len(part):
            break
        labels = KMeans(k, n_init=4, random_state=seed).fit_predict(part)
        if len(np.unique(labels)) < 2:
            continue
        found[k] = float(silhouette_score(part, labels, random_state=seed))
    return found


def fit_segments(
    frame: pd.DataFrame,
    *,
    features: list[str] | None = None,
    k: int | None = None,
    k_values: range = range(3, 9),
    seed: int = 42,
    fit_rows: int = 100_000,
) -> SegmentModel:
    """Fit the segmentation on `frame` (sampled to `fit_rows`)."""
    features = list(features or [c for c in CRM_FEATURES if c in frame.columns])
    if not features:
        raise AnalyticsError("segmentation needs at least one numeric column")
    if len(frame) < 10:
        raise AnalyticsError(
            f"segmentation needs at least 10 customers, got {len(frame)}"
        )
    if len(frame) > fit_rows:
        frame = frame.sample(fit_rows, random_state=seed)
    matrix = _matrix(frame, features)
    scaler = StandardScaler().fit(matrix)
    scaled = scaler.transform(matrix)
    silhouettes = choose_k(scaled, k_values, seed)
    if k is None:
        if not silhouettes:
            raise AnalyticsError("too few distinct customers to form segments")
        k = max(silhouettes, key=lambda key: silhouettes[key])
    kmeans = KMeans(k, n_init=4, random_state=seed).fit(scaled)
    raw = kmeans.predict(scaled)
    edges = rfm_edges(frame) if all(c in frame.columns for c in RFM) else {}
    names, order = _name_clusters(frame, raw, k, edges, features)
    logger.info("segments: k=%d (silhouette %s)", k, silhouettes.get(k))
    return SegmentModel(
        features, scaler, kmeans, names, order, silhouettes, edges, seed
    )


def _name_clusters(
    frame: pd.DataFrame,
    raw: np.ndarray,
    k: int,
    edges: dict[str, list[float]],
    features: list[str],
) -> tuple[list[str], list[int]]:
    """A profile name per cluster and a stable numbering (best customers first)."""
    if edges:
        scores = rfm_scores(frame, edges)
        profile = scores[["r", "f", "m"]].groupby(raw).mean()
        names = {
            c: _rfm_name(row.r, (row.f + row.m) / 2, _young(frame, raw, c))
            for c, row in profile.iterrows()
        }
        rank = (profile["r"] + profile["f"] + profile["m"]).to_dict()
    else:
        names, rank = _generic_names(frame, raw, features)
    ordered = sorted(range(k), key=lambda c: (-rank.get(c, 0.0), c))
    order = [0] * k
    final: list[str] = []
    for position, cluster in enumerate(ordered):
        order[cluster] = position
        final.append(_unique(names.get(cluster, f"segment {position + 1}"), final))
    return final, order


def _young(frame: pd.DataFrame, raw: np.ndarray, cluster: Any) -> bool:
    """Whether a cluster's mean tenure is in the newest quarter of customers."""
    if "tenure_days" not in frame:
        return False
    tenure = frame["tenure_days"].to_numpy(float)
    return bool(tenure[raw == cluster].mean() < np.quantile(tenure, 0.25))


def _rfm_name(recency: float, value: float, young: bool) -> str:
    """A name from the mean R score and the mean of F and M scores."""
    if recency >= 3.5:
        if value >= 3.5:
            return "champions"
        return "new customers" if young else "promising"
    if recency >= 2.5:
        return "loyal" if value >= 3.0 else "need attention"
    return "at risk" if value >= 3.0 else "hibernating"


def _generic_names(
    frame: pd.DataFrame, raw: np.ndarray, features: list[str]
) -> tuple[dict[int, str], dict[int, float]]:
    """Without RFM columns: the two columns that set each cluster apart most."""
    values = frame[features].apply(pd.to_numeric, errors="coerce")
    spread = values.std().replace(0, 1)
    z = (values.groupby(raw).mean() - values.mean()) / spread
    names = {}
    for cluster, row in z.iterrows():
        top = row.abs().sort_values(ascending=False).index[:2]
        names[int(cluster)] = " · ".join(
            f"{'high' if row[c] > 0 else 'low'} {c}" for c in top
        )[:NAME_LENGTH]
    rank = {int(c): float(v) for c, v in z.sum(axis=1).items()}
    return names, rank


def _unique(name: str, taken: list[str]) -> str:
    if name not in taken:
        return name
    n = 2
    while f"{name} {n}" in taken:
        n += 1
    return f"{name} {n}"[:NAME_LENGTH]


def profiles(
    frame: pd.DataFrame, segments: pd.Series, model: SegmentModel
) -> list[dict[str, Any]]:
    """Size, share and mean feature values of each segment, in segment order."""
    table = frame[model.features].apply(pd.to_numeric, errors="coerce")
    grouped = table.groupby(segments.to_numpy())
    rows = []
    for name in model.names:
        if name not in grouped.groups:
            rows.append({"segment": name, "size": 0, "share": 0.0})
            continue
        part = grouped.get_group(name)
        rows.append(
            {
                "segment": name,
                "size": len(part),
                "share": float(len(part) / len(frame)),
                **{c: float(part[c].mean()) for c in model.features},
            }
        )
    return rows


def write_segments(session: Session, segments: pd.Series) -> int:
    """Set customers.segment for each id in the index; the caller commits."""
    rows = [{"id": int(i), "segment": str(s)} for i, s in segments.items()]
    if rows:
        session.execute(update(Customer), rows)
    return len(rows)


def mark_churned(session: Session, before: Any) -> int:
    """Customers who left on or before `before` get the segment "churned"."""
    result = session.execute(
        update(Customer)
        .where(Customer.churned_on.is_not(None), Customer.churned_on <= before)
        .values(segment="churned")
    )
    return int(getattr(result, "rowcount", 0) or 0)
