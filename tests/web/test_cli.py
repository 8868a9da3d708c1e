"""The `console` command: creating the first admin, with clear errors."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from crm.db import build_engine, migrate
from crm.models import StaffUser
from web.security import check_password


def console(
    *args: str, database: Path, stdin: str = ""
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{database}"}
    return subprocess.run(
        [sys.executable, "-m", "web.cli", *args],
        input=stdin,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def database(tmp_path: Path) -> Path:
    path = tmp_path / "crm.sqlite3"
    engine = build_engine(f"sqlite:///{path}", must_exist=False)
    migrate(engine)
    engine.dispose()
    return path


def test_create_admin_with_password_from_stdin(database: Path) -> None:
    result = console(
        "create-admin",
        "--email",
        "Boss@Example.com",
        "--name",
        "Boss",
        "--password-stdin",
        database=database,
        stdin="a long admin password\n",
    )
    assert result.returncode == 0, result.stderr
    assert "created admin boss@example.com" in result.stdout
    engine = build_engine(f"sqlite:///{database}")
    with Session(engine) as session:
        user = session.scalars(select(StaffUser)).one()
        assert (user.email, user.role, user.active) == (
            "boss@example.com",
            "admin",
            True,
        )
        assert user.password_hash.startswith("$argon2id$")
        assert check_password(user.password_hash, "a long admin password")
    engine.dispose()
    again = console(
        "create-admin",
        "--email",
        "boss@example.com",
        "--name",
        "B",
        "--password-stdin",
        database=database,
        stdin="another password\n",
    )
    assert again.returncode == 1 and "already exists" in again.stderr


def test_short_password_and_missing_database_are_clear_errors(
    database: Path, tmp_path: Path
) -> None:
    short = console(
        "create-admin",
        "--email",
        "a@example.com",
        "--name",
        "A",
        "--password-stdin",
        database=database,
        stdin="short\n",
    )
    assert short.returncode == 1 and "at least 10 characters" in short.stderr
    missing = console(
        "create-admin",
        "--email",
        "a@example.com",
        "--name",
        "A",
        "--password-stdin",
        database=tmp_path / "none.sqlite3",
        stdin="long enough password\n",
    )
    assert missing.returncode == 1 and "make migrate" in missing.stderr
    assert "Traceback" not in missing.stderr


def test_create_user_refuses_unknown_roles(database: Path) -> None:
    result = console(
        "create-user",
        "--email",
        "x@example.com",
        "--name",
        "X",
        "--role",
        "boss",
        "--password-stdin",
        database=database,
        stdin="long enough password\n",
    )
    assert result.returncode == 1 and "role must be one of" in result.stderr
