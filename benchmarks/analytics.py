"""Analytics at scale: the whole pipeline on N demo customers, time and peak memory.

    python benchmarks/analytics.py --customers 10000 100000 --backends sqlite postgresql

For each backend and size it seeds a demo CRM once (kept under var/bench for
SQLite, in schema kefu_bench_analytics_<N> of the test PostgreSQL, reused when it
already holds N customers), then runs `crm_pipeline` (segments, churn training and
scoring, CLV, topics, report) in a fresh child process and reports wall time per step
and the child's peak resident memory. The PostgreSQL server's own memory is not in
that figure. Results are printed as a Markdown table and saved to
var/bench/analytics.json.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, select, text  # noqa: E402

from crm.db import build_engine  # noqa: E402
from crm.models import Customer  # noqa: E402

POSTGRES_URL = os.environ.get(
    "BENCH_POSTGRES_URL", "postgresql+psycopg://root@127.0.0.1:5432/test"
)
AS_OF = date(2026, 11, 1)
FOLDER = ROOT / "var" / "bench"


def database_url(backend: str, customers: int) -> str:
    if backend == "sqlite":
        return f"sqlite:///{FOLDER / f'analytics-{customers}.sqlite3'}"
    schema = f"kefu_bench_analytics_{customers}"
    return f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"


def prepare(backend: str, customers: int, reseed: bool) -> float | None:
    """Seed the benchmark database unless it already holds `customers`; seconds."""
    from crm.db import migrate
    from crm.seed import seed_demo

    url = database_url(backend, customers)
    if backend == "sqlite":
        FOLDER.mkdir(parents=True, exist_ok=True)
    else:
        admin = build_engine(POSTGRES_URL)
        with admin.begin() as connection:
            schema = f"kefu_bench_analytics_{customers}"
            if reseed:
                connection.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
            connection.execute(text(f"CREATE SCHEMA IF NOT EXISTS {schema}"))
        admin.dispose()
    engine = build_engine(url, must_exist=False)
    migrate(engine)
    with engine.connect() as connection:
        have = connection.execute(select(func.count(Customer.id))).scalar_one()
    if have == customers and not reseed:
        engine.dispose()
        return None
    started = time.perf_counter()
    seed_demo(
        engine, customers=customers, seed=7, as_of=AS_OF, progress=False, replace=True
    )
    engine.dispose()
    return time.perf_counter() - started


def child(
    url: str, workdir: Path, models: str, folds: int, iterations: int, max_rows: int
) -> None:
    """Run the pipeline in this process and print one JSON line of figures."""
    from analytics.churn import ChurnConfig
    from analytics.run import RunConfig, crm_pipeline

    engine = build_engine(url)
    config = RunConfig(
        workdir=workdir,
        models_dir=workdir / "models",
        as_of=AS_OF,
        max_rows=max_rows,
        churn=ChurnConfig(
            models=tuple(models.split(",")),
            cv_folds=folds,
            search_iter=iterations,
            max_train_rows=max_rows,
        ),
    )
    started = time.perf_counter()
    result = crm_pipeline(engine, config)
    result["total_seconds"] = round(time.perf_counter() - started, 1)
    usage = resource.getrusage(resource.RUSAGE_SELF)
    result["peak_rss_mb"] = round(usage.ru_maxrss / 1024, 1)
    result["cpu_seconds"] = round(usage.ru_utime + usage.ru_stime, 1)
    result["load_average"] = round(os.getloadavg()[0], 1)
    print(json.dumps(result))


def measure(backend: str, customers: int, args: argparse.Namespace) -> dict[str, Any]:
    seeded = prepare(backend, customers, args.reseed)
    workdir = FOLDER / f"analytics-{backend}-{customers}"
    command = [
        sys.executable,
        __file__,
        "--child",
        database_url(backend, customers),
        "--workdir",
        str(workdir),
        "--models",
        args.models,
        "--folds",
        str(args.folds),
        "--iterations",
        str(args.iterations),
        "--max-rows",
        str(args.max_rows),
    ]
    done = subprocess.run(
        command,
        check=True,
        capture_output=True,
        text=True,
        env=os.environ | {"PYTHONPATH": str(ROOT)},
    )
    result = json.loads(done.stdout.strip().splitlines()[-1])
    result |= {
        "backend": backend,
        "customers": customers,
        "seed_seconds": None if seeded is None else round(seeded, 1),
    }
    return result


def table(rows: list[dict[str, Any]]) -> str:
    steps = list(rows[0]["seconds"]) if rows else []
    head = ["backend", "customers", "total s", "peak RSS MB", *steps, "holdout ROC-AUC"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        cells = [
            r["backend"],
            f"{r['customers']:,}",
            f"{r['total_seconds']:.0f}",
            f"{r['peak_rss_mb']:.0f}",
            *(f"{r['seconds'][s]:.0f}" for s in steps),
            f"{r['holdout_roc_auc']:.3f}",
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--backends", nargs="+", default=["sqlite", "postgresql"])
    parser.add_argument(
        "--models", default="logreg,svm,random_forest,gradient_boosting"
    )
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--iterations", type=int, default=6)
    parser.add_argument("--max-rows", type=int, default=20_000)
    parser.add_argument("--reseed", action="store_true")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--workdir", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(
            args.child,
            args.workdir,
            args.models,
            args.folds,
            args.iterations,
            args.max_rows,
        )
        return
    rows = []
    for customers in args.customers:
        for backend in args.backends:
            row = measure(backend, customers, args)
            print(json.dumps(row), flush=True)
            rows.append(row)
    FOLDER.mkdir(parents=True, exist_ok=True)
    saved = FOLDER / "analytics.json"
    previous = json.loads(saved.read_text()) if saved.is_file() else []
    keep = [
        p
        for p in previous
        if (p["backend"], p["customers"])
        not in {(r["backend"], r["customers"]) for r in rows}
    ]
    saved.write_text(json.dumps(keep + rows, indent=1))
    print(table(rows))


if __name__ == "__main__":
    main()
