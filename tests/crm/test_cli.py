"""A wrong database gives one line saying what to do, never a traceback."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from crm import db, settings
from crm.cli import app


@pytest.fixture(autouse=True)
def fresh_settings() -> Iterator[None]:
    """Each invocation reads DATABASE_URL anew."""
    for cached in (settings.get_settings, db.get_engine, db.get_sessionmaker):
        cached.cache_clear()
    yield
    for cached in (settings.get_settings, db.get_engine, db.get_sessionmaker):
        cached.cache_clear()


def run(monkeypatch: pytest.MonkeyPatch, url: str, *args: str) -> tuple[int, str]:
    monkeypatch.setenv("DATABASE_URL", url)
    result = CliRunner().invoke(app, list(args))
    assert "Traceback" not in result.output
    return result.exit_code, result.output


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("not a url", "is not a database URL"),
        ("mysql://root@localhost/crm", "supported: sqlite, postgresql"),
        ("sqlite:////no/such/folder/crm.sqlite3", "does not exist"),
        ("postgresql://nobody@127.0.0.1:1/none", "cannot open the database"),
    ],
)
def test_wrong_database_url_is_one_clear_line(
    monkeypatch: pytest.MonkeyPatch, url: str, says: str
) -> None:
    code, output = run(monkeypatch, url, "check")
    assert code == 1
    assert output.startswith("error: ") and says in output
    assert len(output.strip().splitlines()) == 1


def test_missing_database_says_migrate(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    code, output = run(monkeypatch, f"sqlite:///{tmp_path / 'crm.sqlite3'}", "check")
    assert (code, "run `make migrate`" in output) == (1, True)


def test_unmigrated_database_says_migrate(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    path = tmp_path / "empty.sqlite3"
    path.touch()
    code, output = run(monkeypatch, f"sqlite:///{path}", "check")
    assert code == 1 and "has no CRM schema; run `make migrate`" in output


def test_unreadable_database_is_one_clear_line(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    path = tmp_path / "garbage.sqlite3"
    path.write_bytes(b"this is not a database" * 100)
    code, output = run(monkeypatch, f"sqlite:///{path}", "check")
    assert code == 1 and "cannot open the database" in output


def test_migrate_then_check(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'crm.sqlite3'}"
    assert run(monkeypatch, url, "migrate")[0] == 0
    code, output = run(monkeypatch, url, "check")
    assert code == 0 and output.startswith("ok: sqlite")
