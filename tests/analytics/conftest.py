"""Seeded demo CRMs for the analytics tests: one per backend, built once per session.

Each is a fresh database (a SQLite file, or a PostgreSQL schema of its own) seeded by
`crm.seed.seed_demo`, so the shared `engine` fixture's database stays clean. Tests
here may write segments and churn scores into it; none depends on another's writes.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from analytics.churn import ChurnConfig
from analytics.run import RunConfig
from crm.db import build_engine, migrate
from crm.seed import seed_demo
from tests.conftest import POSTGRES_URL, backends

AS_OF = date(2026, 11, 1)
CUSTOMERS = 1500


def _admin(sql: str) -> bool:
    admin = build_engine(POSTGRES_URL)
    try:
        with admin.begin() as connection:
            connection.execute(text(sql))
        return True
    except Exception:
        return False
    finally:
        admin.dispose()


@pytest.fixture(scope="session", params=backends())
def crm(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Engine]:
    """A migrated CRM seeded with demo customers, on each backend."""
    schema = f"kefu_analytics_{os.getpid()}"
    if request.param == "sqlite":
        path = tmp_path_factory.mktemp("analytics") / "crm.sqlite3"
        built = build_engine(f"sqlite:///{path}", must_exist=False)
    else:
        if not _admin(
            f"DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}"
        ):
            pytest.skip("PostgreSQL does not answer on 127.0.0.1:5432")
        built = build_engine(f"{POSTGRES_URL}?options=-csearch_path%3D{schema}")
    migrate(built)
    seed_demo(built, customers=CUSTOMERS, seed=11, as_of=AS_OF, progress=False)
    yield built
    built.dispose()
    if request.param != "sqlite":
        _admin(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


@pytest.fixture
def config(tmp_path: Path) -> RunConfig:
    """A quick configuration: two models, three folds, two search candidates."""
    return RunConfig(
        workdir=tmp_path / "work",
        models_dir=tmp_path / "models",
        chunk_size=400,
        churn=ChurnConfig(
            models=("logreg", "gradient_boosting"), cv_folds=3, search_iter=2
        ),
    )
