"""The analytics steps end to end, on the CRM or on an analyst's CSV.

Each step reads its input, writes a JSON result into the work folder (the report
is built from those) and, on the CRM, writes segments and churn scores back to the
customers table in short transactions, one per chunk of customers.
"""

from __future__ import annotations

import heapq
import json
import logging
import math
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import pandas as pd
from sqlalchemy import Engine, func, or_, select, update
from sqlalchemy.orm import Session, sessionmaker
from threadpoolctl import threadpool_limits

from analytics import AnalyticsError, churn, clv, segmentation, topics
from analytics.dataset import Dataset, for_model, load_csv, read_csv, require_columns
from analytics.features import (
    CHUNK_SIZE,
    ID,
    TARGET,
    Snapshot,
    default_as_of,
    id_ranges,
    iter_feature_chunks,
    load_features,
    to_dataset,
)
from analytics.report import write_report
from crm.masking import mask_email, mask_id, mask_name
from crm.models import Customer, Order, Subscription
from crm.settings import VAR

logger = logging.getLogger(__name__)

Advance = Callable[[int], None]
Progress = Callable[[str, int], Advance]
"""Given a label and a total, a function to call with each step done."""


def no_progress(_label: str, _total: int) -> Advance:
    return lambda _: None


@dataclass
class RunConfig:
    """Everything a run needs besides the data; the CLI fills it from options."""

    workdir: Path = VAR / "analytics"
    models_dir: Path = VAR / "models"
    as_of: date | None = None
    horizon: int = 90
    chunk_size: int = CHUNK_SIZE
    max_rows: int = 20_000
    """Training snapshots are thinned to about this many customers (by id)."""
    seed: int = 42
    churn: churn.ChurnConfig = field(default_factory=churn.ChurnConfig)
    k: int | None = None
    discount_rate: float = 0.10
    """Annual; CLV uses the equivalent monthly rate."""
    clv_months: int = 24
    n_topics: int = 6
    top_at_risk: int = 25
    progress: Progress = no_progress

    def __post_init__(self) -> None:
        if self.horizon < 1:
            raise AnalyticsError("the churn horizon must be at least one day")
        if self.chunk_size < 1:
            raise AnalyticsError("the chunk size must be at least one customer")


def write_json(folder: Path, name: str, data: Any) -> Path:
    """`data` as folder/name.json, NaN and infinities as null."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.json"
    path.write_text(json.dumps(_clean(data), indent=1, default=str), encoding="utf-8")
    return path


def _clean(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def read_json(folder: Path, name: str) -> dict[str, Any] | None:
    path = folder / f"{name}.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None


def _update_run(config: RunConfig, **fields: Any) -> None:
    run = read_json(config.workdir, "run") or {}
    run.update(fields)
    write_json(config.workdir, "run", run)


# --- CRM: shared pieces ---------------------------------------------------------------


def as_of(engine: Engine, config: RunConfig) -> date:
    return config.as_of or default_as_of(engine)


def eligible(engine: Engine, cutoff: date) -> int:
    """Customers the snapshot at `cutoff` would hold."""
    c = Customer
    with engine.connect() as connection:
        return int(
            connection.execute(
                select(func.count()).where(
                    c.signup_date < cutoff,
                    c.erased_at.is_(None),
                    or_(c.churned_on.is_(None), c.churned_on > cutoff),
                )
            ).scalar_one()
        )


def snapshot(
    engine: Engine,
    config: RunConfig,
    cutoff: date,
    use: str,
    *,
    labelled: bool = True,
    salt: int = 0,
) -> pd.DataFrame:
    """Features at `cutoff` for about `max_rows` customers.

    A larger CRM is sampled by random blocks of customer ids (seeded; `salt` picks
    different blocks), so the database reads only those blocks.
    """
    count = eligible(engine, cutoff)
    low, high = _id_span(engine)
    blocks = sample_blocks(low, high, count, config.max_rows, config.seed + salt)
    shot = Snapshot(cutoff, config.horizon if labelled else None, blocks)
    covered = sum(b - a + 1 for a, b in blocks) if blocks else high - low + 1
    advance = config.progress(f"features {use} ({cutoff})", covered)
    frame = load_features(engine, shot, chunk_size=config.chunk_size, advance=advance)
    logger.info("%s snapshot at %s: %d of %d customers", use, cutoff, len(frame), count)
    return frame


BLOCK = 1_000


def sample_blocks(
    low: int, high: int, eligible_count: int, wanted: int, seed: int
) -> tuple[tuple[int, int], ...] | None:
    """Random id blocks holding about `wanted` eligible customers; None: take all."""
    span = high - low + 1
    if eligible_count <= wanted or span <= 0:
        return None
    per_block = BLOCK * eligible_count / span
    total = math.ceil(span / BLOCK)
    need = min(total, math.ceil(wanted / max(per_block, 1e-9)))
    chosen = np.sort(np.random.default_rng(seed).choice(total, need, replace=False))
    return tuple(
        (low + int(b) * BLOCK, min(high, low + int(b) * BLOCK + BLOCK - 1))
        for b in chosen
    )


def _id_span(engine: Engine) -> tuple[int, int]:
    with engine.connect() as connection:
        low, high = connection.execute(
            select(func.min(Customer.id), func.max(Customer.id))
        ).one()
    return int(low or 0), int(high or 0)


def _snapshot_row(use: str, cutoff: date, frame: pd.DataFrame) -> dict[str, Any]:
    rate = (
        float(frame[TARGET].mean())
        if TARGET in frame and frame[TARGET].notna().any()
        else None
    )
    return {
        "use": use,
        "cutoff": str(cutoff),
        "rows": len(frame),
        "churn_rate": rate,
    }


# --- CRM: features --------------------------------------------------------------------


def crm_features(
    engine: Engine, config: RunConfig, output: Path, cutoff: date | None
) -> int:
    """Write the feature table at `cutoff` (default: as of today) to a CSV, streamed."""
    day = cutoff or as_of(engine, config)
    labelled = day + timedelta(days=config.horizon) <= as_of(engine, config)
    shot = Snapshot(day, config.horizon if labelled else None)
    _, high = _id_span(engine)
    advance = config.progress(f"features at {day}", high)
    output.parent.mkdir(parents=True, exist_ok=True)
    rows = 0
    with output.open("w", encoding="utf-8", newline="") as handle:
        for chunk in iter_feature_chunks(
            engine, shot, chunk_size=config.chunk_size, advance=advance
        ):
            chunk.to_csv(handle, index=False, header=rows == 0)
            rows += len(chunk)
    _update_run(config, source=_source(engine), as_of=str(as_of(engine, config)))
    return rows


def _source(engine: Engine) -> str:
    return f"the CRM ({engine.url.render_as_string(hide_password=True)})"


# --- CRM: segmentation ----------------------------------------------------------------


def crm_fit_segments(engine: Engine, config: RunConfig) -> segmentation.SegmentModel:
    """Fit the segmentation on a sample of today's customers and save it."""
    today = as_of(engine, config)
    frame = snapshot(engine, config, today, "segmentation", labelled=False)
    if frame.empty:
        raise AnalyticsError(
            f"no active customers as of {today}; seed or load the CRM first"
        )
    model = segmentation.fit_segments(frame, k=config.k, seed=config.seed)
    config.models_dir.mkdir(parents=True, exist_ok=True)
    joblib.dump(model, config.models_dir / "segments.joblib")
    return model


def load_segments(config: RunConfig) -> segmentation.SegmentModel | None:
    path = config.models_dir / "segments.joblib"
    return joblib.load(path) if path.is_file() else None


SCORE_BINS = 20
"""Equal-width bins of [0, 1] in the report's churn-score histogram."""


def score_counts(scores: np.ndarray) -> np.ndarray:
    """How many scores fall in each of the SCORE_BINS bins."""
    return np.histogram(scores, bins=SCORE_BINS, range=(0.0, 1.0))[0]


def score_histogram(counts: np.ndarray) -> dict[str, list[Any]]:
    """The JSON form of the score histogram: bin edges and counts."""
    return {
        "edges": np.linspace(0, 1, SCORE_BINS + 1).tolist(),
        "counts": counts.tolist(),
    }


@dataclass
class PassTotals:
    """What one pass over today's customers learns for the report."""

    customers: int = 0
    sizes: dict[str, int] = field(default_factory=dict)
    sums: dict[str, dict[str, float]] = field(default_factory=dict)
    score_sum: dict[str, float] = field(default_factory=dict)
    histogram: np.ndarray = field(
        default_factory=lambda: np.zeros(SCORE_BINS, dtype=int)
    )
    top: list[tuple[float, int, str]] = field(default_factory=list)


def scoring_pass(
    engine: Engine,
    config: RunConfig,
    *,
    segments: segmentation.SegmentModel | None,
    model: churn.ChurnModel | None,
    write_segments: bool,
) -> PassTotals:
    """Stream today's customers: assign segments and/or churn scores, write them back.

    Each chunk is read, scored and written in its own short transaction.
    """
    today = as_of(engine, config)
    totals = PassTotals()
    scored_at = datetime.now().replace(microsecond=0)
    _, high = _id_span(engine)
    advance = config.progress(f"scoring customers as of {today}", high)
    factory = sessionmaker(engine, expire_on_commit=False)
    shot = Snapshot(today, None)
    with threadpool_limits(limits=config.churn.n_jobs):
        for chunk in iter_feature_chunks(
            engine, shot, chunk_size=config.chunk_size, advance=advance
        ):
            frame = chunk.set_index(ID)
            names = segments.assign(frame) if segments else None
            scores = model.score(frame) if model else None
            with factory.begin() as session:
                if names is not None and write_segments:
                    segmentation.write_segments(session, names)
                if scores is not None and model is not None:
                    write_scores(session, frame.index, scores, model.version, scored_at)
            _tally(totals, frame, names, scores, segments, config.top_at_risk)
    if write_segments:
        with factory.begin() as session:
            segmentation.mark_churned(session, today)
    return totals


def write_scores(
    session: Session, ids: pd.Index, scores: np.ndarray, version: str, at: datetime
) -> None:
    """Set churn_score, churn_model_version and churn_scored_at; the caller commits."""
    rows = [
        {
            "id": int(i),
            "churn_score": float(s),
            "churn_model_version": version,
            "churn_scored_at": at,
        }
        for i, s in zip(ids, scores, strict=True)
    ]
    if rows:
        session.execute(update(Customer), rows)


def _tally(
    totals: PassTotals,
    frame: pd.DataFrame,
    names: pd.Series | None,
    scores: np.ndarray | None,
    segments: segmentation.SegmentModel | None,
    keep: int,
) -> None:
    """Add one chunk to the pass totals (segment sizes and means, score summaries)."""
    totals.customers += len(frame)
    labels = names if names is not None else pd.Series("all", index=frame.index)
    groups = labels.to_numpy()
    if segments is not None:
        table = frame[segments.features].apply(pd.to_numeric, errors="coerce")
        for name, part in table.groupby(groups):
            totals.sizes[name] = totals.sizes.get(name, 0) + len(part)
            sums = totals.sums.setdefault(name, {})
            for column in segments.features:
                sums[column] = sums.get(column, 0.0) + float(part[column].sum())
    if scores is not None:
        _tally_scores(totals, frame.index, labels, scores, keep)


def _tally_scores(
    totals: PassTotals, ids: pd.Index, labels: pd.Series, scores: np.ndarray, keep: int
) -> None:
    totals.histogram += score_counts(scores)
    sums = pd.Series(scores, index=ids).groupby(labels.to_numpy()).sum()
    for name, value in sums.items():
        totals.score_sum[str(name)] = totals.score_sum.get(str(name), 0.0) + value
    for position in np.argsort(-scores)[:keep]:
        item = (float(scores[position]), int(ids[position]), str(labels.iloc[position]))
        if len(totals.top) < keep:
            heapq.heappush(totals.top, item)
        else:
            heapq.heappushpop(totals.top, item)


def crm_segment(engine: Engine, config: RunConfig) -> dict[str, Any]:
    """Fit, assign and write back segments; save segments.json."""
    model = crm_fit_segments(engine, config)
    totals = scoring_pass(
        engine, config, segments=model, model=None, write_segments=True
    )
    result = segments_result(model, totals)
    write_json(config.workdir, "segments", result)
    _update_run(
        config,
        source=_source(engine),
        as_of=str(as_of(engine, config)),
        horizon=config.horizon,
    )
    return result


def segments_result(
    model: segmentation.SegmentModel, totals: PassTotals
) -> dict[str, Any]:
    profiles = []
    for name in model.names:
        size = totals.sizes.get(name, 0)
        sums = totals.sums.get(name, {})
        profiles.append(
            {
                "segment": name,
                "size": size,
                "share": size / totals.customers if totals.customers else 0.0,
                **{
                    c: (sums.get(c, 0.0) / size if size else None)
                    for c in model.features
                },
            }
        )
    return {
        "k": model.k,
        "features": model.features,
        "silhouettes": {str(k): v for k, v in model.silhouettes.items()},
        "rfm_edges": model.rfm_edges,
        "profiles": profiles,
        "customers": totals.customers,
    }


# --- CRM: churn -----------------------------------------------------------------------


def crm_train(engine: Engine, config: RunConfig) -> dict[str, Any]:
    """Compare the models on time-based snapshots, save the best, write evaluation.json.

    Train at T - 2h (labels up to T - h), hold out at T - h (labels up to T), where T
    is the as-of date and h the horizon; the saved model is refitted on the holdout
    snapshot, the most recent one with known labels.
    """
    today = as_of(engine, config)
    test_cut = today - timedelta(days=config.horizon)
    train_cut = test_cut - timedelta(days=config.horizon)
    train_frame = snapshot(engine, config, train_cut, "training")
    test_frame = snapshot(engine, config, test_cut, "holdout", salt=1)
    train = to_dataset(train_frame)
    test = to_dataset(test_frame, like=train)
    best, summary = _compare(config, train, test, f"later in time: cut-off {test_cut}")
    summary["churn_by_segment"] = _churn_by_segment(config, test_frame)
    final = churn.fit_final(
        best.name,
        best.params,
        to_dataset(test_frame),
        config.churn,
        cutoff=str(test_cut),
        horizon=config.horizon,
        holdout={k: v for k, v in best.holdout.items() if k != "curves"},
    )
    path = churn.save(final, config.models_dir)
    summary["model_version"] = final.version
    summary["model_path"] = str(path)
    write_json(config.workdir, "evaluation", summary)
    _update_run(
        config,
        source=_source(engine),
        as_of=str(today),
        horizon=config.horizon,
        snapshots=[
            _snapshot_row("training", train_cut, train_frame),
            _snapshot_row("holdout", test_cut, test_frame),
        ],
    )
    return summary


def _compare(
    config: RunConfig, train: Dataset, test: Dataset, holdout: str
) -> tuple[churn.ModelResult, dict[str, Any]]:
    """Every model evaluated; the best one and the summary with its importance."""
    advance = config.progress("churn models", len(config.churn.models))
    results = churn.evaluate_models(train, test, config.churn, advance=advance)
    summary = churn.summarise(results)
    best = next(r for r in results if r.name == summary["best"])
    assert best.pipeline is not None
    summary["importance"] = churn.importance(best.pipeline, test, config.churn)
    summary |= {
        "config": asdict(config.churn),
        "train_rows": int(min(len(train.frame), config.churn.max_train_rows)),
        "test_rows": len(test.frame),
        "holdout": holdout,
    }
    return best, summary


def _churn_by_segment(config: RunConfig, frame: pd.DataFrame) -> list[dict[str, Any]]:
    model = load_segments(config)
    if model is None or frame.empty:
        return []
    names = model.assign(frame)
    table = pd.DataFrame(
        {"segment": names.to_numpy(), "churned": frame[TARGET].to_numpy()}
    )
    grouped = table.groupby("segment")["churned"].agg(["size", "mean"])
    return [
        {
            "segment": name,
            "customers": int(grouped.loc[name, "size"]),
            "churn_rate": float(grouped.loc[name, "mean"]),
        }
        for name in model.names
        if name in grouped.index
    ]


def crm_evaluate(
    engine: Engine, config: RunConfig, model_path: Path | None, cutoff: date | None
) -> dict[str, Any]:
    """Judge a saved model on a labelled snapshot, with the ablation on it."""
    model = churn.load(model_path, config.models_dir)
    today = as_of(engine, config)
    day = cutoff or today - timedelta(days=config.horizon)
    if day + timedelta(days=config.horizon) > today:
        raise AnalyticsError(
            f"churn within {config.horizon} days of {day} is not known yet "
            f"(data ends {today}); "
            "pick an earlier --cutoff"
        )
    frame = snapshot(engine, config, day, "evaluation", salt=2)
    what = f"CRM snapshot at {day}"
    data = model_data(model, frame, target=TARGET, id_column=ID, source=what)
    if str(day) == str(model.details.get("cutoff")):
        what += " (the snapshot the model was fitted on: optimistic figures)"
    return evaluate_saved(model, data, config, what)


def evaluate_saved(
    model: churn.ChurnModel, data: Dataset, config: RunConfig, what: str
) -> dict[str, Any]:
    y = churn.check_trainable(data, config.churn.cv_folds, what)
    with threadpool_limits(limits=config.churn.n_jobs):
        score = model.score(data.frame)
    holdout = churn.holdout_metrics(y, score, float(np.mean(y)))
    folds = churn.StratifiedKFold(
        config.churn.cv_folds, shuffle=True, random_state=config.seed
    )
    tuned = model.details.get("params", {})
    with_conv = churn.cross_val_score(
        churn.build_pipeline(
            model.name, data.numeric, data.categorical, seed=config.seed
        ).set_params(**tuned),
        data.frame,
        y,
        cv=folds,
        scoring="roc_auc",
    ).tolist()
    ablation = churn.ablation(
        model.name, tuned, data, y, None, None, folds, with_conv, config.churn
    )
    result = {
        "model_version": model.version,
        "data": what,
        "holdout": holdout,
        "ablation": ablation,
    }
    write_json(config.workdir, "churn-evaluate", result)
    return result


def crm_score(
    engine: Engine, config: RunConfig, model_path: Path | None
) -> dict[str, Any]:
    """Score today's customers with a saved model and write the scores back."""
    model = churn.load(model_path, config.models_dir)
    totals = scoring_pass(
        engine,
        config,
        segments=load_segments(config),
        model=model,
        write_segments=False,
    )
    result = scores_result(engine, totals, model)
    write_json(config.workdir, "scores", result)
    return result


def scores_result(
    engine: Engine, totals: PassTotals, model: churn.ChurnModel
) -> dict[str, Any]:
    top = sorted(totals.top, reverse=True)
    people = _people(engine, [cid for _, cid, _ in top])
    return {
        "model_version": model.version,
        "customers": totals.customers,
        "mean_score": float(sum(totals.score_sum.values()) / totals.customers)
        if totals.customers
        else None,
        "by_segment": {
            name: value / totals.sizes[name]
            for name, value in totals.score_sum.items()
            if totals.sizes.get(name)
        },
        "histogram": score_histogram(totals.histogram),
        "top": [
            {
                "id": cid,
                "score": score,
                "segment": segment if segment != "all" else None,
                **people.get(cid, {}),
            }
            for score, cid, segment in top
        ],
    }


def _people(engine: Engine, ids: list[int]) -> dict[int, dict[str, str]]:
    """Masked name and e-mail of a few customers (never written unmasked)."""
    if not ids:
        return {}
    with engine.connect() as connection:
        rows = connection.execute(
            select(
                Customer.id, Customer.name_en, Customer.email, Customer.segment
            ).where(Customer.id.in_(ids))
        ).all()
    return {
        row.id: {
            "name": mask_name(row.name_en),
            "email": mask_email(row.email),
            "segment": row.segment,
        }
        for row in rows
    }


# --- CRM: lifetime value --------------------------------------------------------------


def crm_clv(
    engine: Engine, config: RunConfig, output: Path | None = None
) -> dict[str, Any]:
    """BG/NBD + Gamma-Gamma and the discounted formula for every customer."""
    today = as_of(engine, config)
    _, high = _id_span(engine)
    summary = clv.crm_summary(
        engine,
        today,
        chunk_size=config.chunk_size,
        advance=config.progress("purchase histories", high),
    )
    if summary.empty:
        raise AnalyticsError(f"no orders before {today}; nothing to value")
    model = clv.fit_probabilistic(summary, seed=config.seed)
    rate = clv.monthly_rate(config.discount_rate)
    predicted = clv.predict(
        model, summary, months=config.clv_months, monthly_discount=rate
    )
    revenue = _revenue(engine, today, config.chunk_size)
    table = revenue.join(predicted, how="left")
    fallback = (
        float(table["churn_score"].mean())
        if table["churn_score"].notna().any()
        else 0.1
    )
    retention = clv.retention_per_month(
        table["churn_score"].fillna(fallback).to_numpy(), config.horizon
    )
    table["clv"] = clv.discounted_clv(
        table["monthly_revenue"].to_numpy(), retention, rate, config.clv_months
    )
    path = output or config.workdir / "clv.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    table.drop(columns=["churn_score"]).round(4).to_csv(path, index_label=ID)
    result = clv_result(table, model, config, rate)
    write_json(config.workdir, "clv", result)
    return result


def _revenue(engine: Engine, today: date, chunk_size: int) -> pd.DataFrame:
    """Per active customer: monthly fee, mean monthly order spend (a year), score.

    One query per customer-id range, like the features.
    """
    frames = []
    for lo, hi in id_ranges(engine, chunk_size):
        with engine.connect() as connection:
            rows = connection.execute(_revenue_statement(today, lo, hi)).all()
        frames.append(
            pd.DataFrame(rows, columns=["id", "segment", "churn_score", "fee", "spend"])
        )
    columns = ["segment", "churn_score", "fee", "spend"]
    table = (
        pd.concat(frames, ignore_index=True).set_index("id")
        if frames
        else pd.DataFrame(columns=columns)
    )
    table["churn_score"] = pd.to_numeric(table["churn_score"]).astype(float)
    fee = pd.to_numeric(table.pop("fee")).astype(float).fillna(0.0)
    spend = pd.to_numeric(table.pop("spend")).astype(float).fillna(0.0)
    table["monthly_revenue"] = fee + spend / 12
    return table


def _revenue_statement(today: date, lo: int, hi: int) -> Any:
    start = datetime.combine(today, datetime.min.time())
    year = start - timedelta(days=365)
    c, s, o = Customer, Subscription, Order
    fees = (
        select(s.customer_id.label("cid"), func.sum(s.monthly_price).label("fee"))
        .where(
            s.customer_id.between(lo, hi),
            s.started_on < today,
            or_(s.cancelled_on.is_(None), s.cancelled_on >= today),
        )
        .group_by(s.customer_id)
        .subquery()
    )
    spend = (
        select(o.customer_id.label("cid"), func.sum(o.total).label("spend"))
        .where(o.customer_id.between(lo, hi), o.placed_at >= year, o.placed_at < start)
        .group_by(o.customer_id)
        .subquery()
    )
    return (
        select(c.id, c.segment, c.churn_score, fees.c.fee, spend.c.spend)
        .outerjoin(fees, fees.c.cid == c.id)
        .outerjoin(spend, spend.c.cid == c.id)
        .where(
            c.id.between(lo, hi),
            c.erased_at.is_(None),
            or_(c.churned_on.is_(None), c.churned_on > today),
            c.signup_date < today,
        )
        .order_by(c.id)
    )


def clv_result(
    table: pd.DataFrame, model: clv.ProbabilisticCLV, config: RunConfig, rate: float
) -> dict[str, Any]:
    values = table["clv"].to_numpy(float)
    clipped = values[values <= np.nanquantile(values, 0.99)] if len(values) else values
    counts, edges = np.histogram(clipped, bins=30)
    result: dict[str, Any] = {
        "customers": len(table),
        "total": float(np.nansum(values)),
        "unit_days": model.unit_days,
        "bgnbd": model.params,
        "formula": {
            "months": config.clv_months,
            "annual_rate": config.discount_rate,
            "monthly_rate": rate,
        },
        "histogram": {
            "edges": edges.tolist(),
            "counts": counts.tolist(),
            "label": "discounted CLV",
        },
    }
    if "segment" in table and table["segment"].notna().any():
        grouped = table.groupby(table["segment"].fillna("unassigned"))
        result["by_segment"] = [
            {
                "segment": str(name),
                "customers": len(part),
                "clv": float(part["clv"].mean()),
                "bgnbd_clv": float(part["bgnbd_clv"].mean())
                if part["bgnbd_clv"].notna().any()
                else None,
                "p_alive": float(part["p_alive"].mean())
                if part["p_alive"].notna().any()
                else None,
            }
            for name, part in grouped
        ]
    return result


# --- CRM: topics ----------------------------------------------------------------------


def crm_topics(engine: Engine, config: RunConfig) -> dict[str, Any]:
    """Complaint topics per language, by segment and month, and monthly trends."""
    today = as_of(engine, config)
    docs = topics.complaint_texts(engine, today)
    result = topics.analyse(docs, n_topics=config.n_topics, seed=config.seed)
    result["trends"] = topics.monthly_trends(engine, today)
    write_json(config.workdir, "topics", result)
    return result


# --- CRM: everything ------------------------------------------------------------------


def crm_pipeline(engine: Engine, config: RunConfig) -> dict[str, Any]:
    """Segments, churn training and scoring, CLV, topics and the report, in one go.

    Today's customers are streamed once: segment and churn score are assigned and
    written back in the same pass.
    """
    with threadpool_limits(limits=config.churn.n_jobs):
        return _pipeline(engine, config)


def _pipeline(engine: Engine, config: RunConfig) -> dict[str, Any]:
    seconds: dict[str, float] = {}
    clock = _Clock(seconds)
    with clock("segmentation fit"):
        segments = crm_fit_segments(engine, config)
    with clock("churn train"):
        train = crm_train(engine, config)
    model = churn.load(Path(train["model_path"]), config.models_dir)
    with clock("segment + score pass"):
        totals = scoring_pass(
            engine, config, segments=segments, model=model, write_segments=True
        )
        write_json(config.workdir, "segments", segments_result(segments, totals))
        write_json(config.workdir, "scores", scores_result(engine, totals, model))
    with clock("clv"):
        value = crm_clv(engine, config)
    with clock("topics"):
        found = crm_topics(engine, config)
    with clock("report"):
        report = write_report(config.workdir)
    return {
        "segments": segments.k,
        "best_model": train["best"],
        "holdout_roc_auc": train["models"][0]["holdout"]["roc_auc"],
        "customers_scored": totals.customers,
        "clv_customers": value["customers"],
        "topic_languages": sorted(found.get("languages", {})),
        "report": str(report),
        "seconds": seconds,
    }


class _Clock:
    """Times named steps into a dict (the benchmark reports them)."""

    def __init__(self, seconds: dict[str, float]) -> None:
        self.seconds = seconds

    @contextmanager
    def __call__(self, name: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[name] = round(time.perf_counter() - started, 2)
            logger.info("%s: %.1f s", name, self.seconds[name])


# --- CSV ------------------------------------------------------------------------------


def columns_result(data: Dataset) -> dict[str, Any]:
    return {
        "columns": [asdict(c) for c in data.columns],
        "notes": data.notes,
        "positive_label": data.positive_label,
    }


def csv_features(
    config: RunConfig, path: Path, target: str | None, id_column: str, output: Path
) -> Dataset:
    """Read and type the CSV; write the cleaned table and the column report."""
    data = load_csv(path, target=target, id_column=id_column)
    frame = data.frame.copy()
    if data.target is not None and target:
        frame[target] = data.target
    output.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(output, index_label=id_column)
    write_json(config.workdir, "columns", columns_result(data))
    _update_run(config, source=str(path))
    return data


def csv_segment(
    config: RunConfig, path: Path, id_column: str, target: str | None, output: Path
) -> dict[str, Any]:
    """Segments of the CSV's rows (RFM names when it has recency/frequency/monetary)."""
    data = load_csv(path, target=target, id_column=id_column)
    features = [
        c for c in segmentation.CRM_FEATURES if c in data.numeric
    ] or data.numeric
    model = segmentation.fit_segments(
        data.frame, features=features, k=config.k, seed=config.seed
    )
    names = model.assign(data.frame)
    output.parent.mkdir(parents=True, exist_ok=True)
    names.to_frame().to_csv(output, index_label=id_column)
    totals = PassTotals(customers=len(names))
    _tally(totals, data.frame, names, None, model, 0)
    result = segments_result(model, totals)
    if data.target is not None:
        rates = data.target.groupby(names.to_numpy()).agg(["size", "mean"])
        result["churn_by_segment"] = [
            {
                "segment": name,
                "customers": int(rates.loc[name, "size"]),
                "churn_rate": float(rates.loc[name, "mean"]),
            }
            for name in model.names
            if name in rates.index
        ]
    write_json(config.workdir, "segments", result)
    _update_run(config, source=str(path))
    return result


def csv_train(
    config: RunConfig,
    path: Path,
    target: str,
    id_column: str,
    conversation_prefix: str | None,
) -> dict[str, Any]:
    """Stratified 20% holdout (seeded), CV + search on the rest, best model saved."""
    data = load_csv(
        path,
        target=target,
        id_column=id_column,
        conversation_prefix=conversation_prefix,
    )
    train, test = churn.split_csv(data, config.seed)
    best, summary = _compare(
        config, train, test, f"stratified 20% split, seed {config.seed}"
    )
    summary["churn_by_segment"] = []
    final = churn.fit_final(
        best.name, best.params, data, config.churn, source=str(path)
    )
    summary["model_version"] = final.version
    summary["model_path"] = str(churn.save(final, config.models_dir))
    write_json(config.workdir, "evaluation", summary)
    write_json(config.workdir, "columns", columns_result(data))
    _update_run(config, source=str(path), snapshots=None)
    return summary


def csv_evaluate(
    config: RunConfig,
    model_path: Path | None,
    path: Path,
    target: str,
    id_column: str,
    conversation_prefix: str | None,
) -> dict[str, Any]:
    model = churn.load(model_path, config.models_dir)
    data = model_data(
        model, read_csv(path), target=target, id_column=id_column, source=str(path)
    )
    if conversation_prefix:
        data.conversation = [
            c for c in data.features if c.startswith(conversation_prefix)
        ]
    return evaluate_saved(model, data, config, str(path))


def model_data(
    model: churn.ChurnModel,
    frame: pd.DataFrame,
    *,
    target: str | None,
    id_column: str,
    source: str,
) -> Dataset:
    """`frame` typed for `model`: its columns, its numeric/categorical split."""
    return for_model(
        frame,
        numeric=model.numeric,
        categorical=model.categorical,
        target=target,
        id_column=id_column,
        conversation=model.conversation,
        source=source,
    )


def csv_score(
    config: RunConfig, model_path: Path | None, path: Path, id_column: str, output: Path
) -> dict[str, Any]:
    """Churn scores for every row of the CSV, written to `output`."""
    model = churn.load(model_path, config.models_dir)
    data = model_data(
        model, read_csv(path), target=None, id_column=id_column, source=str(path)
    )
    with threadpool_limits(limits=config.churn.n_jobs):
        scores = model.score(data.frame)
    out = pd.DataFrame({"churn_score": scores}, index=data.frame.index)
    output.parent.mkdir(parents=True, exist_ok=True)
    out.to_csv(output, index_label=id_column)
    top = out["churn_score"].sort_values(ascending=False).head(config.top_at_risk)
    result = {
        "model_version": model.version,
        "customers": len(out),
        "mean_score": float(out["churn_score"].mean()),
        "histogram": score_histogram(score_counts(scores)),
        "top": [{"id": mask_id(str(i)), "score": float(s)} for i, s in top.items()],
    }
    write_json(config.workdir, "scores", result)
    return result


def csv_clv(
    config: RunConfig,
    path: Path,
    id_column: str,
    date_column: str,
    amount_column: str,
    output: Path,
) -> dict[str, Any]:
    """BG/NBD + Gamma-Gamma on a transactions CSV (one row per purchase)."""
    tx = clv.read_transactions(
        path, id_column=id_column, date_column=date_column, amount_column=amount_column
    )
    end = tx["date"].max() + pd.Timedelta(days=1)
    summary = clv.summarise_transactions(tx, end)
    model = clv.fit_probabilistic(summary, seed=config.seed)
    rate = clv.monthly_rate(config.discount_rate)
    table = clv.predict(model, summary, months=config.clv_months, monthly_discount=rate)
    table["clv"] = table["bgnbd_clv"]
    output.parent.mkdir(parents=True, exist_ok=True)
    table.round(4).to_csv(output, index_label=id_column)
    result = clv_result(table, model, config, rate)
    result["histogram"]["label"] = "BG/NBD + Gamma-Gamma CLV"
    write_json(config.workdir, "clv", result)
    return result


def cdnow(config: RunConfig, path: Path) -> dict[str, Any]:
    """Validate BG/NBD on CDNOW: 39 calibration weeks, holdout to 1998-06-30."""
    tx = clv.read_cdnow(path)
    result = clv.validate_holdout(
        tx, pd.Timestamp("1997-09-30"), pd.Timestamp("1998-06-30")
    )
    write_json(config.workdir, "cdnow", result)
    return result


def csv_topics(
    config: RunConfig,
    path: Path,
    text: str,
    language: str | None,
    segment: str | None,
    when: str | None,
) -> dict[str, Any]:
    frame = read_csv(path)
    wanted = [c for c in (text, language, segment, when) if c]
    require_columns(frame, wanted, str(path))
    docs = pd.DataFrame({"text": frame[text].fillna("")})
    docs["language"] = frame[language] if language else None
    if segment:
        docs["segment"] = frame[segment]
    if when:
        docs["created_at"] = pd.to_datetime(
            frame[when], errors="coerce", format="mixed"
        )
    docs = docs[docs["text"].str.strip() != ""]
    result = topics.analyse(docs, n_topics=config.n_topics, seed=config.seed)
    write_json(config.workdir, "topics", result)
    return result
