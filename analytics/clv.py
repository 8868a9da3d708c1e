"""Customer lifetime value: the discounted-revenue formula and BG/NBD + Gamma-Gamma.

The probabilistic models come from `lifetimes` (BetaGeoFitter, GammaGammaFitter):
its fitters run on pandas 3 / numpy 2 and reproduce the published CDNOW
parameters, but its helper `calibration_and_holdout_data` breaks on pandas 3, so
the per-customer summaries (frequency, recency, T, monetary value) are built here,
in SQL for the CRM and in pandas for a transactions file. docs/analytics.md says
why lifetimes and not pymc-marketing.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import func, select

from analytics import AnalyticsError
from analytics.dataset import read_csv, require_columns
from analytics.features import Bind, connect, id_ranges
from crm.models import Customer, Order

logger = logging.getLogger(__name__)

PUBLISHED = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
"""BG/NBD on CDNOW (Fader, Hardie and Lee 2005), in weeks."""
UNIT_DAYS = 7
Advance = Callable[[int], None]


def _ignore(_: int) -> None:
    return None


# --- the formula ----------------------------------------------------------------------


def monthly_rate(annual: float) -> float:
    """The monthly discount rate equivalent to an annual one."""
    if annual <= -1:
        raise AnalyticsError("the discount rate must be above -100%")
    return float((1 + annual) ** (1 / 12) - 1)


def discounted_value(cashflows: Sequence[float], rate: float) -> float:
    """sum of R_t / (1 + r)^t for t = 1..n: the present value of future revenue."""
    return float(sum(r / (1 + rate) ** t for t, r in enumerate(cashflows, start=1)))


def discounted_clv(
    revenue: np.ndarray, retention: np.ndarray, rate: float, months: int
) -> np.ndarray:
    """Expected discounted revenue over `months` with R_t = revenue x retention^t."""
    t = np.arange(1, months + 1)
    factors = (retention[:, None] ** t) / (1 + rate) ** t
    return np.asarray(revenue * factors.sum(axis=1))


def retention_per_month(churn: np.ndarray, horizon_days: int) -> np.ndarray:
    """Monthly survival implied by a churn probability over `horizon_days`."""
    churn = np.clip(np.nan_to_num(churn, nan=0.0), 0.0, 0.999)
    return np.asarray((1 - churn) ** (30.0 / horizon_days))


# --- summaries ------------------------------------------------------------------------


def summarise_transactions(
    tx: pd.DataFrame, end: pd.Timestamp, unit_days: int = UNIT_DAYS
) -> pd.DataFrame:
    """frequency (repeat days), recency, T (in units) and mean repeat value per id.

    `tx` has columns id, date and amount; purchases on the same day count as one.
    """
    tx = tx[tx["date"] <= end]
    daily = tx.groupby(["id", "date"], as_index=False)["amount"].sum()
    daily = daily.sort_values(["id", "date"])
    grouped = daily.groupby("id")
    first = grouped["date"].min()
    last = grouped["date"].max()
    days = grouped.size()
    total = grouped["amount"].sum()
    first_amount = grouped["amount"].first()
    return _summary(first, last, days, total, first_amount, end, unit_days)


def _summary(
    first: pd.Series,
    last: pd.Series,
    days: pd.Series,
    total: pd.Series,
    first_amount: pd.Series,
    end: pd.Timestamp,
    unit_days: int,
) -> pd.DataFrame:
    frequency = (days - 1).astype(float)
    repeat = (total - first_amount).astype(float)
    monetary = np.where(frequency > 0, repeat / frequency.where(frequency > 0, 1), 0.0)
    return pd.DataFrame(
        {
            "frequency": frequency,
            "recency": (last - first).dt.days / unit_days,
            "T": (end - first).dt.days / unit_days,
            "monetary": monetary,
        }
    )


def crm_summary(
    bind: Bind,
    as_of: date,
    *,
    chunk_size: int = 100_000,
    unit_days: int = UNIT_DAYS,
    advance: Advance = _ignore,
) -> pd.DataFrame:
    """The same summary for every CRM customer with an order before `as_of`.

    Computed in the database: orders are grouped by customer and day, then by
    customer, one customer-id range at a time.
    """
    start = datetime.combine(as_of, time())
    parts = []
    for lo, hi in id_ranges(bind, chunk_size):
        with connect(bind) as connection:
            rows = connection.execute(_summary_statement(start, lo, hi)).all()
        advance(hi - lo + 1)
        if rows:
            parts.append(
                pd.DataFrame(
                    rows,
                    columns=["id", "first", "last", "days", "total", "first_amount"],
                )
            )
    if not parts:
        return pd.DataFrame(columns=["frequency", "recency", "T", "monetary"])
    raw = pd.concat(parts, ignore_index=True).set_index("id")
    return _summary(
        pd.to_datetime(raw["first"]),
        pd.to_datetime(raw["last"]),
        raw["days"].astype(int),
        raw["total"].astype(float),
        raw["first_amount"].astype(float),
        pd.Timestamp(start),
        unit_days,
    )


def _summary_statement(start: datetime, lo: int, hi: int) -> Any:
    day = func.date(Order.placed_at)
    daily = (
        select(
            Order.customer_id.label("cid"),
            day.label("day"),
            func.sum(Order.total).label("amount"),
        )
        .join(Customer, Customer.id == Order.customer_id)
        .where(
            Order.customer_id.between(lo, hi),
            Order.placed_at < start,
            Customer.erased_at.is_(None),
        )
        .group_by(Order.customer_id, day)
        .subquery("daily")
    )
    per = (
        select(
            daily.c.cid,
            func.min(daily.c.day).label("first"),
            func.max(daily.c.day).label("last"),
            func.count().label("days"),
            func.sum(daily.c.amount).label("total"),
        )
        .group_by(daily.c.cid)
        .subquery("per")
    )
    first_day = daily.alias("first_day")
    return (
        select(per, first_day.c.amount.label("first_amount"))
        .join(
            first_day,
            (first_day.c.cid == per.c.cid) & (first_day.c.day == per.c.first),
        )
        .order_by(per.c.cid)
    )


# --- BG/NBD and Gamma-Gamma -----------------------------------------------------------


@dataclass
class ProbabilisticCLV:
    """Fitted BG/NBD (purchases, dropout) and Gamma-Gamma (spend) models."""

    bgnbd: Any
    gamma_gamma: Any | None
    unit_days: int

    @property
    def params(self) -> dict[str, float]:
        found = {k: float(v) for k, v in self.bgnbd.params_.items()}
        if self.gamma_gamma is not None:
            found |= {f"gg_{k}": float(v) for k, v in self.gamma_gamma.params_.items()}
        return found


def fit_probabilistic(
    summary: pd.DataFrame,
    *,
    unit_days: int = UNIT_DAYS,
    fit_rows: int = 200_000,
    seed: int = 42,
    penalizer: float = 0.0,
) -> ProbabilisticCLV:
    """Fit BG/NBD on (a sample of) the summary, and Gamma-Gamma on repeat buyers."""
    with warnings.catch_warnings():
        # lifetimes sets a pandas option that pandas 3 deprecates, on import.
        warnings.simplefilter("ignore")
        from lifetimes import BetaGeoFitter, GammaGammaFitter

    if len(summary) < 20:
        raise AnalyticsError(
            "BG/NBD needs purchase histories of at least 20 customers, "
            f"got {len(summary)}"
        )
    if (summary["frequency"] > 0).sum() < 5:
        raise AnalyticsError("BG/NBD needs some customers who bought more than once")
    sample = (
        summary.sample(fit_rows, random_state=seed)
        if len(summary) > fit_rows
        else summary
    )
    bgnbd = BetaGeoFitter(penalizer_coef=penalizer)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        bgnbd.fit(sample["frequency"], sample["recency"], sample["T"])
    repeat = sample[(sample["frequency"] > 0) & (sample["monetary"] > 0)]
    gamma_gamma = None
    if len(repeat) >= 20:
        gamma_gamma = GammaGammaFitter(penalizer_coef=penalizer)
        try:
            gamma_gamma.fit(repeat["frequency"], repeat["monetary"])
        except Exception as error:  # lifetimes raises bare exceptions on bad fits
            logger.warning("Gamma-Gamma did not converge: %s", error)
            gamma_gamma = None
    return ProbabilisticCLV(bgnbd, gamma_gamma, unit_days)


def predict(
    model: ProbabilisticCLV,
    summary: pd.DataFrame,
    *,
    months: int,
    monthly_discount: float,
) -> pd.DataFrame:
    """Expected purchases, P(alive), expected spend and discounted CLV per customer."""
    units = months * 30 / model.unit_days
    f, r, t = summary["frequency"], summary["recency"], summary["T"]
    out = pd.DataFrame(index=summary.index)
    out["p_alive"] = model.bgnbd.conditional_probability_alive(f, r, t)
    out["expected_purchases"] = (
        model.bgnbd.conditional_expected_number_of_purchases_up_to_time(units, f, r, t)
    )
    if model.gamma_gamma is None:
        spend = summary["monetary"].where(summary["monetary"] > 0, np.nan)
        out["expected_spend"] = spend.fillna(spend.mean())
    else:
        out["expected_spend"] = model.gamma_gamma.conditional_expected_average_profit(
            f, summary["monetary"].clip(lower=0.01)
        )
    out["bgnbd_clv"] = _bgnbd_clv(
        model, summary, out["expected_spend"], months, monthly_discount
    )
    return out


def _bgnbd_clv(
    model: ProbabilisticCLV,
    summary: pd.DataFrame,
    spend: pd.Series,
    months: int,
    rate: float,
) -> np.ndarray:
    """Discounted sum over months of the purchases BG/NBD expects in each month."""
    f, r, t = summary["frequency"], summary["recency"], summary["T"]
    per_month = 30 / model.unit_days
    total = np.zeros(len(summary))
    previous = np.zeros(len(summary))
    for month in range(1, months + 1):
        cumulative = np.asarray(
            model.bgnbd.conditional_expected_number_of_purchases_up_to_time(
                month * per_month, f, r, t
            )
        )
        total += (cumulative - previous) * spend.to_numpy() / (1 + rate) ** month
        previous = cumulative
    return total


# --- CDNOW validation -----------------------------------------------------------------


def read_transactions(
    path: Path, *, id_column: str, date_column: str, amount_column: str
) -> pd.DataFrame:
    """A transactions CSV as id, date, amount (dates parsed, bad rows reported)."""
    frame = read_csv(path)
    require_columns(frame, [id_column, date_column, amount_column], str(path))
    tx = pd.DataFrame(
        {
            "id": frame[id_column],
            "date": pd.to_datetime(frame[date_column], errors="coerce", format="mixed"),
            "amount": pd.to_numeric(frame[amount_column], errors="coerce"),
        }
    )
    bad = tx.isna().any(axis=1)
    if bad.all():
        raise AnalyticsError(f"no row of {path} has a usable id, date and amount")
    if bad.any():
        logger.warning(
            "%d rows of %s without id, date or amount skipped", bad.sum(), path
        )
    return tx[~bad]


def read_cdnow(path: Path) -> pd.DataFrame:
    """CDNOW_master.txt or CDNOW_sample.txt (space-separated) as id, date, amount."""
    if not path.is_file():
        raise AnalyticsError(f"no CDNOW file at {path}")
    raw = pd.read_csv(path, sep=r"\s+", header=None, dtype=str)
    if not raw.iloc[0, -1].replace(".", "", 1).isdigit():
        raw = raw.iloc[1:]
    if raw.shape[1] not in (4, 5):
        raise AnalyticsError(f"{path} does not look like CDNOW (4 or 5 columns)")
    date_column = raw.columns[-3]
    return pd.DataFrame(
        {
            "id": raw.iloc[:, 0],
            "date": pd.to_datetime(raw[date_column], format="%Y%m%d"),
            "amount": raw.iloc[:, -1].astype(float),
        }
    )


def validate_holdout(
    tx: pd.DataFrame,
    calibration_end: pd.Timestamp,
    observation_end: pd.Timestamp,
    *,
    unit_days: int = UNIT_DAYS,
) -> dict[str, Any]:
    """Fit on the calibration period; compare holdout repeat purchases with actual."""
    cohort = tx[tx["date"] <= calibration_end]
    summary = summarise_transactions(cohort, calibration_end, unit_days)
    model = fit_probabilistic(summary, unit_days=unit_days)
    later = tx[(tx["date"] > calibration_end) & (tx["date"] <= observation_end)]
    actual = (
        later.groupby(["id", "date"])
        .size()
        .groupby("id")
        .size()
        .reindex(summary.index, fill_value=0)
    )
    span = (observation_end - calibration_end).days / unit_days
    expected = model.bgnbd.conditional_expected_number_of_purchases_up_to_time(
        span, summary["frequency"], summary["recency"], summary["T"]
    )
    buckets = summary["frequency"].clip(upper=7).astype(int)
    by_frequency = (
        pd.DataFrame({"bucket": buckets, "predicted": expected, "actual": actual})
        .groupby("bucket")
        .mean()
    )
    params = model.params
    return {
        "customers": len(summary),
        "calibration_end": str(calibration_end.date()),
        "observation_end": str(observation_end.date()),
        "params": params,
        "published": PUBLISHED,
        "relative_error": {
            k: (params[k] - v) / v for k, v in PUBLISHED.items() if k in params
        },
        "holdout_predicted": float(expected.sum()),
        "holdout_actual": int(actual.sum()),
        "by_frequency": [
            {
                "repeat_purchases": int(b),
                "predicted": float(row.predicted),
                "actual": float(row.actual),
            }
            for b, row in by_frequency.iterrows()
        ],
    }
