"""Seed benchmark: N demo customers into a fresh database; one JSON line of figures.

    python benchmarks/seed.py --customers 100000
    python benchmarks/seed.py --customers 100000 \
        --database-url postgresql+psycopg://root@127.0.0.1:5432/test

SQLite: a new file in a temporary folder (or --sqlite PATH), migrated with Alembic as
`make migrate` does, removed afterwards unless --keep. PostgreSQL: a dedicated schema
(kefu_seed_bench) created and dropped around the run, unless --keep.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

from sqlalchemy.engine import make_url

from crm.db import build_engine, migrate
from crm.seed import seed_demo

SCHEMA = "kefu_seed_bench"


def postgres_execute(url: str, sql: str) -> None:
    """Run one statement on the PostgreSQL at `url` (schema setup and cleanup)."""
    admin = build_engine(url)
    try:
        with admin.begin() as connection:
            connection.exec_driver_sql(sql)
    finally:
        admin.dispose()


def run(args: argparse.Namespace) -> dict[str, object]:
    workdir = None
    if args.database_url:
        url = make_url(args.database_url)
        if url.get_backend_name() != "postgresql":
            raise SystemExit(
                "--database-url must be a PostgreSQL URL; SQLite is the "
                "default (see --sqlite)"
            )
        postgres_execute(
            args.database_url,
            f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE; CREATE SCHEMA {SCHEMA}",
        )
        sep = "&" if "?" in args.database_url else "?"
        engine = build_engine(
            f"{args.database_url}{sep}options=-csearch_path%3D{SCHEMA}"
        )
    else:
        if args.sqlite:
            path = Path(args.sqlite)
            if path.exists():
                raise SystemExit(f"{path} exists; give a new path")
        else:
            workdir = tempfile.mkdtemp(prefix="kefu-seed-")
            path = Path(workdir) / "crm.sqlite3"
        engine = build_engine(f"sqlite:///{path}", must_exist=False)
    migrate(engine)
    cpu0, wall0 = time.process_time(), time.perf_counter()
    rows = seed_demo(
        engine,
        customers=args.customers,
        seed=args.seed,
        as_of=date.fromisoformat(args.as_of),
        progress=args.progress,
    )
    seconds = time.perf_counter() - wall0
    cpu = time.process_time() - cpu0
    engine.dispose()
    if not args.keep:
        if args.database_url:
            postgres_execute(
                args.database_url, f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"
            )
        elif workdir:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
            os.rmdir(workdir)
    total = sum(rows.values())
    return {
        "backend": engine.dialect.name,
        "customers": args.customers,
        "seed": args.seed,
        "rows": rows,
        "total_rows": total,
        "seconds": round(seconds, 1),
        "rows_per_second": round(total / seconds),
        "cpu_seconds": round(cpu, 1),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--as-of", default="2026-11-01")
    parser.add_argument("--database-url", help="PostgreSQL URL (default: SQLite)")
    parser.add_argument("--sqlite", help="path of a new SQLite file to seed")
    parser.add_argument("--keep", action="store_true", help="keep the seeded database")
    parser.add_argument("--progress", action="store_true", help="show a progress bar")
    args = parser.parse_args(argv)
    load = os.getloadavg()
    figures = run(args)
    figures["load_average_before"] = [round(x, 2) for x in load]
    print(json.dumps(figures))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
