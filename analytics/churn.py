"""Churn models: four scikit-learn pipelines compared, tuned, explained and saved.

Each model is `Pipeline(ColumnTransformer -> estimator)`, tuned by a randomized
search over stratified folds of the training data and judged once on a holdout
(later in time for the CRM, a stratified split for a CSV). Every evaluation also
fits the same model without the conversation features, on the same folds, so the
value of what customers told the bot is measured with a confidence interval.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import pandas as pd
from scipy import stats
from scipy.stats import loguniform, randint
from sklearn.base import clone
from sklearn.calibration import CalibratedClassifierCV, calibration_curve
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.impute import SimpleImputer
from sklearn.inspection import permutation_importance
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import (
    average_precision_score,
    brier_score_loss,
    f1_score,
    precision_recall_curve,
    recall_score,
    roc_auc_score,
    roc_curve,
)
from sklearn.model_selection import (
    RandomizedSearchCV,
    StratifiedKFold,
    cross_val_score,
    train_test_split,
)
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler
from sklearn.svm import LinearSVC
from threadpoolctl import threadpool_limits

from analytics import AnalyticsError
from analytics.dataset import Dataset

logger = logging.getLogger(__name__)

MODELS = ("logreg", "svm", "random_forest", "gradient_boosting")
SHORT = {"logreg": "lr", "svm": "svm", "random_forest": "rf", "gradient_boosting": "gb"}
TITLES = {
    "logreg": "logistic regression",
    "svm": "linear SVM (calibrated)",
    "random_forest": "random forest",
    "gradient_boosting": "gradient boosting",
}
Advance = Callable[[int], None]


def _ignore(_: int) -> None:
    return None


@dataclass
class ChurnConfig:
    """How hard to search; the defaults suit up to a few hundred thousand rows."""

    models: tuple[str, ...] = MODELS
    cv_folds: int = 5
    search_iter: int = 6
    seed: int = 42
    max_train_rows: int = 20_000
    """Larger training sets are sampled down (stratified) before the search."""
    importance_rows: int = 3_000
    n_jobs: int = 1

    def __post_init__(self) -> None:
        unknown = [m for m in self.models if m not in MODELS]
        if unknown:
            raise AnalyticsError(
                f"unknown model {unknown[0]!r}; choose from {', '.join(MODELS)}"
            )
        if self.cv_folds < 2:
            raise AnalyticsError("cross-validation needs at least 2 folds")


def signed_log(values: np.ndarray) -> np.ndarray:
    """log1p keeping the sign: tames long-tailed counts and money for linear models."""
    return np.sign(values) * np.log1p(np.abs(values))


def preprocessor(numeric: list[str], categorical: list[str]) -> ColumnTransformer:
    """Impute, log-scale and standardise numbers; impute and one-hot categories."""
    numbers = Pipeline(
        [
            ("impute", SimpleImputer(strategy="median", keep_empty_features=True)),
            ("log", FunctionTransformer(signed_log, feature_names_out="one-to-one")),
            ("scale", StandardScaler()),
        ]
    )
    categories = Pipeline(
        [
            ("impute", SimpleImputer(strategy="constant", fill_value="missing")),
            (
                "encode",
                OneHotEncoder(
                    handle_unknown="infrequent_if_exist",
                    min_frequency=5,
                    sparse_output=False,
                ),
            ),
        ]
    )
    return ColumnTransformer(
        [("numeric", numbers, numeric), ("categorical", categories, categorical)],
        remainder="drop",
        verbose_feature_names_out=False,
    )


def estimator(name: str, seed: int, n_jobs: int = 1) -> Any:
    """The untuned estimator for a model name."""
    if name == "logreg":
        return LogisticRegression(max_iter=3000, C=1.0)
    if name == "svm":
        svc = LinearSVC(C=0.1, max_iter=5000, random_state=seed)
        return CalibratedClassifierCV(svc, method="sigmoid", cv=3)
    if name == "random_forest":
        return RandomForestClassifier(
            n_estimators=80,
            max_samples=0.4,
            min_samples_leaf=5,
            n_jobs=n_jobs,
            random_state=seed,
        )
    if name == "gradient_boosting":
        return HistGradientBoostingClassifier(
            early_stopping=True, validation_fraction=0.15, random_state=seed
        )
    raise AnalyticsError(f"unknown model {name!r}; choose from {', '.join(MODELS)}")


def search_space(name: str) -> dict[str, Any]:
    """Distributions for the randomized search, by nested parameter name."""
    if name == "logreg":
        return {"model__C": loguniform(1e-3, 1e2)}
    if name == "svm":
        return {"model__estimator__C": loguniform(1e-4, 1e1)}
    if name == "random_forest":
        return {
            "model__max_depth": [6, 10, 16],
            "model__min_samples_leaf": randint(5, 60),
            "model__max_features": ["sqrt", 0.25],
        }
    # Small trees at modest rates (early stopping picks the rounds), and the choice
    # of an additive model (no interactions): both searched by cross-validation.
    return {
        "model__learning_rate": loguniform(0.02, 0.15),
        "model__max_leaf_nodes": randint(3, 16),
        "model__min_samples_leaf": randint(20, 200),
        "model__l2_regularization": loguniform(1e-3, 10.0),
        "model__max_iter": randint(100, 400),
        "model__interaction_cst": [None, "no_interactions"],
    }


def build_pipeline(
    name: str, numeric: list[str], categorical: list[str], *, seed: int, n_jobs: int = 1
) -> Pipeline:
    """`Pipeline(ColumnTransformer -> estimator)` with named steps."""
    return Pipeline(
        [
            ("prepare", preprocessor(numeric, categorical)),
            ("model", estimator(name, seed, n_jobs)),
        ]
    )


# --- metrics --------------------------------------------------------------------------


def interval(values: list[float] | np.ndarray) -> dict[str, float]:
    """Mean and 95% confidence interval (Student t over the folds)."""
    array = np.asarray(values, dtype=float)
    mean = float(array.mean())
    if len(array) < 2:
        return {"mean": mean, "low": mean, "high": mean}
    half = float(
        stats.t.ppf(0.975, len(array) - 1) * array.std(ddof=1) / math.sqrt(len(array))
    )
    return {"mean": mean, "low": mean - half, "high": mean + half}


def top_decile_lift(y: np.ndarray, score: np.ndarray) -> float:
    """Churn rate among the riskiest 10% divided by the overall churn rate."""
    base = float(np.mean(y))
    if base == 0:
        return float("nan")
    top = max(1, math.ceil(0.1 * len(score)))
    order = np.argsort(-score, kind="stable")[:top]
    return float(np.mean(y[order]) / base)


def lift_by_decile(y: np.ndarray, score: np.ndarray) -> list[float]:
    """Churn rate of each score decile (riskiest first) over the overall rate."""
    base = float(np.mean(y)) or float("nan")
    order = np.argsort(-score, kind="stable")
    return [
        float(np.mean(y[part]) / base)
        for part in np.array_split(order, 10)
        if len(part)
    ]


def holdout_metrics(
    y: np.ndarray, score: np.ndarray, train_rate: float
) -> dict[str, Any]:
    """The holdout figures and the curves the report draws.

    F1 and recall flag the same share of customers as churned in training (the
    riskiest `train_rate` of the holdout), a threshold chosen without its labels.
    """
    threshold = float(np.quantile(score, 1 - train_rate)) if 0 < train_rate < 1 else 0.5
    flagged = (score >= threshold).astype(int)
    fpr, tpr, _ = roc_curve(y, score)
    precision, recall, _ = precision_recall_curve(y, score)
    bins = min(10, max(2, len(y) // 20))
    observed, predicted = calibration_curve(y, score, n_bins=bins, strategy="quantile")
    return {
        "rows": len(y),
        "churn_rate": float(np.mean(y)),
        "roc_auc": float(roc_auc_score(y, score)),
        "pr_auc": float(average_precision_score(y, score)),
        "f1": float(f1_score(y, flagged, zero_division=0)),
        "recall": float(recall_score(y, flagged, zero_division=0)),
        "threshold": threshold,
        "threshold_share": train_rate,
        "top_decile_lift": top_decile_lift(y, score),
        "brier": float(brier_score_loss(y, score)),
        "curves": {
            "roc": _thin(fpr, tpr),
            "pr": _thin(recall, precision),
            "calibration": [predicted.tolist(), observed.tolist()],
            "lift": lift_by_decile(y, score),
        },
    }


def _thin(x: np.ndarray, y: np.ndarray, points: int = 200) -> list[list[float]]:
    if len(x) > points:
        keep = np.unique(np.linspace(0, len(x) - 1, points).astype(int))
        x, y = x[keep], y[keep]
    return [np.round(x, 4).tolist(), np.round(y, 4).tolist()]


# --- evaluation -----------------------------------------------------------------------


@dataclass
class ModelResult:
    """One model's search, cross-validation, holdout and ablation figures."""

    name: str
    params: dict[str, Any]
    cv_roc_auc: list[float]
    cv_pr_auc: list[float]
    holdout: dict[str, Any]
    ablation: dict[str, Any] = field(default_factory=dict)
    pipeline: Pipeline | None = None
    fit_seconds: float = 0.0
    """Mean time of one fit of the chosen parameters in cross-validation."""


def check_trainable(data: Dataset, folds: int, what: str) -> np.ndarray:
    """The 0/1 labels, or a clear error when they cannot train or be judged."""
    if data.target is None:
        raise AnalyticsError(f"the {what} has no churn label")
    y = data.target.to_numpy()
    counts = np.bincount(y, minlength=2)
    if counts.min() == 0:
        kind = "churned" if counts[1] == 0 else "retained"
        raise AnalyticsError(
            f"the {what} has no {kind} customers ({len(y)} rows); "
            "churn models need both"
        )
    if counts.min() < folds:
        raise AnalyticsError(
            f"the {what} has only {counts.min()} rows of its rarer class; "
            f"{folds}-fold cross-validation needs at least {folds}"
        )
    return y


def sample_rows(data: Dataset, limit: int, seed: int) -> Dataset:
    """At most `limit` rows, stratified by the label."""
    if len(data.frame) <= limit or data.target is None:
        return data
    keep, _ = train_test_split(
        np.arange(len(data.frame)),
        train_size=limit,
        stratify=data.target.to_numpy(),
        random_state=seed,
    )
    logger.info(
        "training on a stratified sample of %d of %d rows", limit, len(data.frame)
    )
    return data.subset(np.sort(keep))


def split_csv(
    data: Dataset, seed: int, test_size: float = 0.2
) -> tuple[Dataset, Dataset]:
    """A stratified holdout for data without time (an analyst's CSV)."""
    y = check_trainable(data, 2, "data")
    train, test = train_test_split(
        np.arange(len(y)), test_size=test_size, stratify=y, random_state=seed
    )
    return data.subset(train), data.subset(test)


def evaluate_models(
    train: Dataset,
    test: Dataset,
    config: ChurnConfig,
    *,
    advance: Advance = _ignore,
) -> list[ModelResult]:
    """Search, cross-validate, hold out and ablate every configured model."""
    train = sample_rows(train, config.max_train_rows, config.seed)
    y_train = check_trainable(train, config.cv_folds, "training data")
    y_test = check_trainable(test, 1, "holdout data")
    folds = StratifiedKFold(config.cv_folds, shuffle=True, random_state=config.seed)
    results = []
    # Native thread pools (OpenMP, BLAS) sized to n_jobs: on a shared machine more
    # threads than cores make gradient boosting many times slower, not faster.
    with threadpool_limits(limits=config.n_jobs):
        for name in config.models:
            result = _evaluate_one(name, train, y_train, test, y_test, folds, config)
            results.append(result)
            advance(1)
    return results


def _evaluate_one(
    name: str,
    train: Dataset,
    y_train: np.ndarray,
    test: Dataset,
    y_test: np.ndarray,
    folds: StratifiedKFold,
    config: ChurnConfig,
) -> ModelResult:
    pipeline = build_pipeline(
        name, train.numeric, train.categorical, seed=config.seed, n_jobs=config.n_jobs
    )
    search = RandomizedSearchCV(
        pipeline,
        search_space(name),
        n_iter=config.search_iter,
        scoring={"roc_auc": "roc_auc", "pr_auc": "average_precision"},
        refit="roc_auc",
        cv=folds,
        random_state=config.seed,
        n_jobs=config.n_jobs,
        error_score="raise",
    )
    search.fit(train.frame, y_train)
    best = search.best_index_
    splits = range(config.cv_folds)
    cv = search.cv_results_
    roc = [float(cv[f"split{i}_test_roc_auc"][best]) for i in splits]
    pr = [float(cv[f"split{i}_test_pr_auc"][best]) for i in splits]
    fitted: Pipeline = search.best_estimator_
    score = fitted.predict_proba(test.frame)[:, 1]
    holdout = holdout_metrics(y_test, score, float(np.mean(y_train)))
    params = {k: _plain(v) for k, v in search.best_params_.items()}
    seconds = float(cv["mean_fit_time"][best])
    logger.info(
        "%s: CV ROC-AUC %.3f, holdout %.3f, %.1f s a fit",
        name,
        np.mean(roc),
        holdout["roc_auc"],
        seconds,
    )
    result = ModelResult(
        name, params, roc, pr, holdout, pipeline=fitted, fit_seconds=seconds
    )
    result.ablation = ablation(
        name, params, train, y_train, test, y_test, folds, roc, config
    )
    return result


def ablation(
    name: str,
    params: dict[str, Any],
    train: Dataset,
    y_train: np.ndarray,
    test: Dataset | None,
    y_test: np.ndarray | None,
    folds: StratifiedKFold,
    with_conversation: list[float],
    config: ChurnConfig,
) -> dict[str, Any]:
    """The same model and parameters without the conversation features.

    Cross-validated on the same folds as `with_conversation` (paired differences);
    also scored on `test` when there is one.
    """
    if not train.conversation:
        return {"applicable": False, "reason": "the data has no conversation features"}
    base = train.without_conversation()
    pipeline = build_pipeline(
        name, base.numeric, base.categorical, seed=config.seed, n_jobs=config.n_jobs
    ).set_params(**params)
    without = cross_val_score(
        pipeline, base.frame, y_train, cv=folds, scoring="roc_auc", n_jobs=config.n_jobs
    ).tolist()
    holdout_without = None
    if test is not None and y_test is not None:
        fitted = clone(pipeline).fit(base.frame, y_train)
        scores = fitted.predict_proba(test.frame[base.features])[:, 1]
        holdout_without = float(roc_auc_score(y_test, scores))
    deltas = np.asarray(with_conversation) - np.asarray(without)
    return {
        "applicable": True,
        "features": train.conversation,
        "cv_with": interval(with_conversation),
        "cv_without": interval(without),
        "cv_gain": interval(deltas),
        "folds_without": without,
        "holdout_without": holdout_without,
    }


def _plain(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    return value


def importance(
    pipeline: Pipeline, data: Dataset, config: ChurnConfig, top: int = 15
) -> list[dict[str, Any]]:
    """Permutation importance (drop in ROC-AUC) of each input column on the holdout."""
    sample = sample_rows(data, config.importance_rows, config.seed)
    y = sample.target.to_numpy() if sample.target is not None else None
    if y is None or len(np.unique(y)) < 2:
        return []
    with threadpool_limits(limits=config.n_jobs):
        found = permutation_importance(
            pipeline,
            sample.frame[data.features],
            y,
            scoring="roc_auc",
            n_repeats=5,
            random_state=config.seed,
            n_jobs=config.n_jobs,
        )
    rows: list[dict[str, Any]] = [
        {"feature": name, "mean": float(m), "std": float(s)}
        for name, m, s in zip(
            data.features, found.importances_mean, found.importances_std, strict=True
        )
    ]
    rows.sort(key=lambda row: -row["mean"])
    return rows[:top]


def summarise(results: list[ModelResult]) -> dict[str, Any]:
    """JSON-ready figures of every model, best first by mean CV ROC-AUC."""
    ranked = sorted(results, key=lambda r: -float(np.mean(r.cv_roc_auc)))
    return {
        "best": ranked[0].name,
        "models": [
            {
                "name": r.name,
                "title": TITLES[r.name],
                "params": r.params,
                "fit_seconds": r.fit_seconds,
                "cv_roc_auc": interval(r.cv_roc_auc),
                "cv_pr_auc": interval(r.cv_pr_auc),
                "cv_folds": r.cv_roc_auc,
                "holdout": r.holdout,
                "ablation": r.ablation,
            }
            for r in ranked
        ],
    }


# --- the saved model ------------------------------------------------------------------


@dataclass
class ChurnModel:
    """A fitted pipeline with what it needs to score and to be trusted."""

    pipeline: Pipeline
    name: str
    version: str
    features: list[str]
    trained_at: datetime
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def numeric(self) -> list[str]:
        return list(self.pipeline.named_steps["prepare"].transformers_[0][2])

    @property
    def categorical(self) -> list[str]:
        return list(self.pipeline.named_steps["prepare"].transformers_[1][2])

    @property
    def conversation(self) -> list[str]:
        return list(self.details.get("conversation", []))

    def score(self, frame: pd.DataFrame) -> np.ndarray:
        """Churn probabilities for rows with (at least) the training columns."""
        missing = [c for c in self.features if c not in frame.columns]
        if missing:
            raise AnalyticsError(
                f"the data lacks column {missing[0]!r} that model {self.version} uses"
            )
        return self.pipeline.predict_proba(frame[self.features])[:, 1]


def fit_final(
    name: str,
    params: dict[str, Any],
    data: Dataset,
    config: ChurnConfig,
    **details: Any,
) -> ChurnModel:
    """Fit the chosen model with its tuned parameters on `data` (a recent snapshot)."""
    data = sample_rows(data, config.max_train_rows, config.seed)
    y = check_trainable(data, 2, "training data")
    pipeline = build_pipeline(
        name, data.numeric, data.categorical, seed=config.seed, n_jobs=config.n_jobs
    ).set_params(**params)
    with threadpool_limits(limits=config.n_jobs):
        pipeline.fit(data.frame[data.features], y)
    now = datetime.now().replace(microsecond=0)
    version = f"{SHORT[name]}-{now:%Y%m%dT%H%M%S}"
    details = {"params": params, "conversation": data.conversation, **details}
    return ChurnModel(pipeline, name, version, data.features, now, details)


def save(model: ChurnModel, folder: Path) -> Path:
    """Write the model with joblib as churn-<version>.joblib; returns the path."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"churn-{model.version}.joblib"
    joblib.dump(model, path)
    return path


def load(path: Path | None, folder: Path) -> ChurnModel:
    """The model at `path`, or the newest one in `folder`."""
    if path is None:
        found = sorted(folder.glob("churn-*.joblib"), key=lambda p: p.stat().st_mtime)
        if not found:
            raise AnalyticsError(
                f"no churn model in {folder}; run `analytics churn train` first"
            )
        path = found[-1]
    if not path.is_file():
        raise AnalyticsError(f"no churn model at {path}")
    model = joblib.load(path)
    if not isinstance(model, ChurnModel):
        raise AnalyticsError(f"{path} is not a churn model saved by this tool")
    return model
