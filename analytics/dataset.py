"""Tabular data sets for the models: an analyst's CSV or the CRM feature frame.

Column kinds are detected the same way for both (docs/analytics.md):

* the id column and the target column are set aside;
* a column with no values, or a single distinct value, is dropped (it cannot
  separate anyone);
* a column is **numeric** when its values are numbers, or when at least 95% of
  its non-blank text parses as a number (blanks and the rest become missing);
* every other column is **categorical**, unless it has more than
  `max(50, half the rows)` distinct values, in which case it looks like free
  text or another identifier and is dropped;
* missing values are imputed inside the model pipeline (median / "missing"), so
  they never stop a run; categories unseen in training are ignored at scoring.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd

from analytics import AnalyticsError

logger = logging.getLogger(__name__)

NUMERIC_SHARE = 0.95
POSITIVE_WORDS = frozenset(
    {"1", "1.0", "yes", "y", "true", "t", "churn", "churned", "left", "lost"}
)


@dataclass
class ColumnInfo:
    """How one input column was read, for the analyst's column table."""

    name: str
    kind: str
    """numeric, categorical, id, target or dropped."""
    missing: int
    distinct: int
    note: str = ""


@dataclass
class Dataset:
    """Model input: features indexed by id, an optional 0/1 target, column kinds."""

    frame: pd.DataFrame
    target: pd.Series | None
    numeric: list[str]
    categorical: list[str]
    conversation: list[str] = field(default_factory=list)
    """Columns that come from conversations with the bot (for the ablation)."""
    columns: list[ColumnInfo] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    positive_label: str | None = None

    @property
    def features(self) -> list[str]:
        return self.numeric + self.categorical

    def without_conversation(self) -> Dataset:
        """The same rows without the conversation columns (the ablation's baseline)."""
        keep = [c for c in self.frame.columns if c not in set(self.conversation)]
        return replace(
            self,
            frame=self.frame[keep],
            numeric=[c for c in self.numeric if c in keep],
            categorical=[c for c in self.categorical if c in keep],
            conversation=[],
        )

    def subset(self, rows: np.ndarray | pd.Index) -> Dataset:
        """The same columns for some rows (positions or index labels)."""
        frame = (
            self.frame.iloc[rows]
            if isinstance(rows, np.ndarray)
            else self.frame.loc[rows]
        )
        target = None if self.target is None else self.target.loc[frame.index]
        return replace(self, frame=frame, target=target)


def read_csv(path: Path) -> pd.DataFrame:
    """Read a CSV as text columns, with a clear error for a missing or bad file."""
    if not path.is_file():
        raise AnalyticsError(f"no CSV file at {path}")
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""])
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as e:
        raise AnalyticsError(f"cannot read {path} as CSV: {_first_line(e)}") from None
    if frame.empty:
        raise AnalyticsError(f"{path} has a header but no rows")
    return frame


def load_csv(
    path: Path,
    *,
    target: str | None,
    id_column: str | None,
    conversation_prefix: str | None = None,
) -> Dataset:
    """An analyst's CSV as a `Dataset`, columns detected as documented above."""
    frame = read_csv(path)
    return from_frame(
        frame,
        target=target,
        id_column=id_column,
        conversation_prefix=conversation_prefix,
        source=str(path),
    )


def from_frame(
    frame: pd.DataFrame,
    *,
    target: str | None,
    id_column: str | None,
    conversation_prefix: str | None = None,
    source: str = "the data",
) -> Dataset:
    """Detect column kinds in `frame`, set the id as index and binarise the target."""
    require_columns(frame, [c for c in (target, id_column) if c], source)
    frame = frame.copy()
    notes: list[str] = []
    infos: list[ColumnInfo] = []
    if id_column:
        frame = _index_by(frame, id_column, source)
        infos.append(ColumnInfo(id_column, "id", 0, len(frame), "row identifier"))
    labels: pd.Series | None = None
    positive: str | None = None
    if target:
        frame, labels, positive, note = _binary_target(frame, target)
        notes += note
        infos.append(
            ColumnInfo(target, "target", 0, 2, f"positive class: {positive!r}")
        )
    numeric: list[str] = []
    categorical: list[str] = []
    for name in list(frame.columns):
        info, values = _detect(frame[name], len(frame))
        infos.append(info)
        if info.kind == "dropped":
            frame = frame.drop(columns=name)
            notes.append(f"column {name!r} dropped: {info.note}")
            continue
        frame[name] = values
        (numeric if info.kind == "numeric" else categorical).append(name)
    if not numeric and not categorical:
        raise AnalyticsError(f"{source} has no usable feature columns left")
    conversation = (
        [c for c in numeric + categorical if c.startswith(conversation_prefix)]
        if conversation_prefix
        else []
    )
    for line in notes:
        logger.info("%s", line)
    return Dataset(
        frame=frame,
        target=labels,
        numeric=numeric,
        categorical=categorical,
        conversation=conversation,
        columns=infos,
        notes=notes,
        positive_label=positive,
    )


def for_model(
    frame: pd.DataFrame,
    *,
    numeric: list[str],
    categorical: list[str],
    target: str | None,
    id_column: str,
    conversation: list[str],
    source: str,
) -> Dataset:
    """Rows typed the way a trained model saw its columns (no detection, no drops).

    Scoring or judging new data must not drop a column that happens to be constant
    in it (one customer's CSV has only constant columns).
    """
    require_columns(frame, [c for c in (target, id_column) if c], source)
    missing = [c for c in numeric + categorical if c not in frame.columns]
    if missing:
        raise AnalyticsError(
            f"{source} lacks column {missing[0]!r} that the model uses"
        )
    frame = _index_by(frame.copy(), id_column, source)
    labels: pd.Series | None = None
    positive: str | None = None
    notes: list[str] = []
    if target:
        frame, labels, positive, notes = _binary_target(frame, target)
    typed = pd.DataFrame(index=frame.index)
    for name in numeric:
        typed[name] = pd.to_numeric(frame[name], errors="coerce").astype(float)
    for name in categorical:
        text = frame[name].astype("string").str.strip()
        typed[name] = text.mask(text == "").astype(object).where(text.notna(), np.nan)
    return Dataset(
        frame=typed,
        target=labels,
        numeric=list(numeric),
        categorical=list(categorical),
        conversation=[c for c in conversation if c in typed.columns],
        notes=notes,
        positive_label=positive,
    )


def require_columns(frame: pd.DataFrame, wanted: list[str], source: str) -> None:
    """A clear error naming the first wanted column that `frame` lacks."""
    missing = [c for c in wanted if c not in frame.columns]
    if missing:
        shown = ", ".join(map(str, frame.columns[:30]))
        raise AnalyticsError(
            f"{source} has no column {missing[0]!r}; its columns are: {shown}"
        )


def _index_by(frame: pd.DataFrame, id_column: str, source: str) -> pd.DataFrame:
    ids = frame[id_column]
    if ids.isna().any():
        raise AnalyticsError(
            f"id column {id_column!r} in {source} has {int(ids.isna().sum())} "
            "empty values; every row needs an id"
        )
    duplicated = ids[ids.duplicated()]
    if len(duplicated):
        raise AnalyticsError(
            f"id column {id_column!r} in {source} repeats {len(duplicated)} ids "
            f"(for example {duplicated.iloc[0]!r}); ids must be unique"
        )
    return frame.set_index(id_column)


def _binary_target(
    frame: pd.DataFrame, target: str
) -> tuple[pd.DataFrame, pd.Series, str, list[str]]:
    """Rows with a target, the target as 0/1, the positive label, and notes."""
    notes: list[str] = []
    raw = frame.pop(target)
    text = raw.astype("string").str.strip()
    text = text.mask(text == "")
    if text.isna().any():
        notes.append(
            f"{int(text.isna().sum())} rows without a {target!r} value skipped"
        )
        keep = text.notna()
        frame, text = frame[keep], text[keep]
    values = sorted(text.dropna().unique().tolist())
    if not values:
        raise AnalyticsError(f"target column {target!r} has no values")
    if len(values) == 1:
        raise AnalyticsError(
            f"target column {target!r} has the single value {values[0]!r} in all "
            f"{len(text)} rows; a churn model needs both churned and retained rows"
        )
    if len(values) > 2:
        shown = ", ".join(map(repr, values[:5]))
        raise AnalyticsError(
            f"target column {target!r} has {len(values)} values ({shown}...); "
            "churn needs exactly two, for example Yes/No or 1/0"
        )
    positive = _positive_value(values, text)
    labels = (text == positive).astype(int)
    labels.name = target
    return frame, labels, positive, notes


def _positive_value(values: list[str], text: pd.Series) -> str:
    """The churned class: a yes-like word, else the larger number, else the rarer."""
    yes = [v for v in values if v.lower() in POSITIVE_WORDS]
    if len(yes) == 1:
        return yes[0]
    as_numbers = pd.to_numeric(pd.Series(values), errors="coerce")
    if as_numbers.notna().all():
        return values[int(as_numbers.argmax())]
    counts = text.value_counts()
    return str(counts.idxmin())


def _detect(column: pd.Series, rows: int) -> tuple[ColumnInfo, pd.Series]:
    """The kind of one column and its values converted for that kind."""
    name = str(column.name)
    if pd.api.types.is_bool_dtype(column):
        column = column.astype(float)
    if pd.api.types.is_numeric_dtype(column):
        values = column.astype(float)
        return _numeric_info(name, values, ""), values
    text = column.astype("string").str.strip()
    text = text.mask(text == "")
    present = int(text.notna().sum())
    distinct = int(text.nunique(dropna=True))
    if present == 0:
        return ColumnInfo(name, "dropped", rows, 0, "no values"), column
    numbers = pd.to_numeric(text, errors="coerce")
    parsed = int(numbers.notna().sum())
    if parsed >= NUMERIC_SHARE * present:
        note = ""
        if parsed < present:
            note = f"{present - parsed} non-numeric values treated as missing"
        values = numbers.astype(float)
        return _numeric_info(name, values, note), values
    if distinct <= 1:
        return ColumnInfo(name, "dropped", rows - present, distinct, "constant"), text
    if distinct > max(50, rows // 2):
        return (
            ColumnInfo(
                name,
                "dropped",
                rows - present,
                distinct,
                f"{distinct} distinct texts: looks like free text or an identifier",
            ),
            text,
        )
    values = text.astype(object).where(text.notna(), np.nan)
    return ColumnInfo(name, "categorical", rows - present, distinct), values


def _numeric_info(name: str, values: pd.Series, note: str) -> ColumnInfo:
    missing = int(values.isna().sum())
    distinct = int(values.nunique(dropna=True))
    if distinct <= 1:
        why = "no values" if distinct == 0 else "constant"
        return ColumnInfo(name, "dropped", missing, distinct, why)
    return ColumnInfo(name, "numeric", missing, distinct, note)


def _first_line(error: Exception) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__
