"""Column detection and target handling of an analyst's CSV."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from analytics import AnalyticsError
from analytics.dataset import load_csv


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "data.csv"
    path.write_text(text, encoding="utf-8")
    return path


def sample(tmp_path: Path, rows: int = 60) -> Path:
    lines = ["id,plan,tenure,charges,region,note,left"]
    for i in range(rows):
        charges = "" if i % 10 == 0 else f"{20 + i * 1.5:.2f}"
        lines.append(
            f"c{i},{'basic' if i % 3 else 'pro'},{i % 24},{charges},north,"
            f"free text number {i},{'Yes' if i % 4 == 0 else 'No'}"
        )
    return write(tmp_path, "\n".join(lines) + "\n")


def test_kinds_are_detected_and_documented(tmp_path: Path) -> None:
    data = load_csv(sample(tmp_path), target="left", id_column="id")
    kinds = {c.name: c.kind for c in data.columns}
    assert kinds == {
        "id": "id",
        "left": "target",
        "plan": "categorical",
        "tenure": "numeric",
        "charges": "numeric",
        "region": "dropped",
        "note": "dropped",
    }
    notes = {c.name: c.note for c in data.columns}
    assert notes["region"] == "constant"
    assert "free text" in notes["note"]
    assert data.numeric == ["tenure", "charges"]
    assert data.categorical == ["plan"]
    assert data.frame["charges"].isna().sum() == 6  # blanks become missing
    assert list(data.frame.index[:2]) == ["c0", "c1"]


def test_yes_no_target_is_binary_with_yes_positive(tmp_path: Path) -> None:
    data = load_csv(sample(tmp_path), target="left", id_column="id")
    assert data.positive_label == "Yes"
    assert data.target is not None
    assert data.target.tolist()[:5] == [1, 0, 0, 0, 1]


def test_blank_numbers_in_a_mostly_numeric_column(tmp_path: Path) -> None:
    text = "id,total,y\n" + "".join(
        f"{i},{' ' if i == 3 else i * 10},{i % 2}\n" for i in range(40)
    )
    data = load_csv(write(tmp_path, text), target="y", id_column="id")
    assert data.numeric == ["total"]
    assert pd.isna(data.frame.loc["3", "total"])
    assert data.positive_label == "1"


def test_rows_without_target_are_skipped_with_a_note(tmp_path: Path) -> None:
    text = "id,x,y\n1,1,a\n2,2,\n3,3,b\n4,4,a\n"
    data = load_csv(write(tmp_path, text), target="y", id_column="id")
    assert len(data.frame) == 3
    assert any("without a 'y' value" in n for n in data.notes)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("id,x,y\n1,1,No\n2,2,No\n", "single value 'No'"),
        ("id,x,y\n1,1,a\n2,2,b\n3,3,c\n", "has 3 values"),
        ("id,x,z\n1,1,0\n", "has no column 'y'; its columns are: id, x, z"),
        ("id,x,y\n1,1,0\n1,2,1\n", "repeats 1 ids"),
        ("id,y\n1,0\n2,1\n", "no usable feature columns"),
        ("id,x,y\n", "has a header but no rows"),
    ],
)
def test_bad_input_gets_a_clear_message(
    tmp_path: Path, text: str, message: str
) -> None:
    with pytest.raises(AnalyticsError, match=message):
        load_csv(write(tmp_path, text), target="y", id_column="id")


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(AnalyticsError, match="no CSV file"):
        load_csv(tmp_path / "nope.csv", target="y", id_column="id")
