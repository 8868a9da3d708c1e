"""`analytics`: segmentation, churn, lifetime value, topics and the report.

Every command reads the CRM through DATABASE_URL, or an analyst's CSV with
`--csv FILE --target COLUMN --id COLUMN`. Results go to the work folder
(var/analytics by default) and models to var/models.
"""

from __future__ import annotations

import functools
import inspect
import logging
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.logging import RichHandler
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table
from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError, ProgrammingError
from threadpoolctl import threadpool_limits

from analytics import AnalyticsError, run
from analytics.churn import MODELS, ChurnConfig
from analytics.report import write_report
from crm.db import DatabaseError, check_schema, get_engine
from crm.settings import VAR

logger = logging.getLogger(__name__)
console = Console(stderr=True)
out = Console()

app = typer.Typer(
    help=__doc__,
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
churn_app = typer.Typer(
    help="Train, evaluate and apply churn models.", no_args_is_help=True
)
app.add_typer(churn_app, name="churn")

F = TypeVar("F", bound=Callable[..., Any])

CsvOption = Annotated[
    Path | None, typer.Option("--csv", help="Read this CSV instead of the CRM.")
]
TargetOption = Annotated[
    str | None, typer.Option("--target", help="CSV column with the churn label.")
]
IdOption = Annotated[
    str | None, typer.Option("--id", help="CSV column that identifies a customer.")
]
ModelOption = Annotated[
    Path | None,
    typer.Option("--model", help="A saved churn model (default: the newest one)."),
]
OutputOption = Annotated[
    Path | None, typer.Option("--output", "-o", help="Output file.")
]
ConversationOption = Annotated[
    str | None,
    typer.Option(
        "--conversation-prefix",
        help="CSV columns starting with this are conversation features (ablation).",
    ),
]
ALL_MODELS = ",".join(MODELS)
ModelsOption = Annotated[
    str, typer.Option(help=f"Comma-separated: {', '.join(MODELS)}.")
]
FoldsOption = Annotated[int, typer.Option(help="Cross-validation folds.")]
IterationsOption = Annotated[
    int, typer.Option(help="Randomized-search candidates per model.")
]


def _parse_date(value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"{value!r} is not a date like 2026-11-01") from None


@app.callback()
def main(
    ctx: typer.Context,
    workdir: Annotated[
        Path, typer.Option(help="Folder for results and the report.")
    ] = VAR / "analytics",
    models_dir: Annotated[Path, typer.Option(help="Folder for saved models.")] = VAR
    / "models",
    as_of: Annotated[
        str | None,
        typer.Option(help="The data's today (default: day after the newest activity)."),
    ] = None,
    horizon: Annotated[
        int, typer.Option(help="Churn means leaving within N days.")
    ] = 90,
    seed: Annotated[int, typer.Option(help="Seed of every random choice.")] = 42,
    chunk_size: Annotated[
        int, typer.Option(help="Customers per database chunk.")
    ] = 100_000,
    max_rows: Annotated[
        int, typer.Option(help="Customers per training snapshot (sampled by id).")
    ] = 20_000,
    jobs: Annotated[
        int, typer.Option(help="Processes / threads for model fitting.")
    ] = 1,
    verbose: Annotated[bool, typer.Option("--verbose", "-v")] = False,
) -> None:
    """Segmentation, churn, lifetime value and reports on the CRM or a CSV."""
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(message)s",
        handlers=[RichHandler(console=console, show_path=False)],
    )
    ctx.obj = {
        "workdir": workdir,
        "models_dir": models_dir,
        "as_of": _parse_date(as_of),
        "horizon": horizon,
        "seed": seed,
        "chunk_size": chunk_size,
        "max_rows": max_rows,
        "jobs": jobs,
    }


def friendly(command: F) -> F:
    """Expected problems become one red line and exit code 2, never a traceback."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except (AnalyticsError, DatabaseError) as error:
            console.print(f"[bold red]error:[/] {error}")
            raise typer.Exit(2) from None
        except (OperationalError, ProgrammingError) as error:
            first = str(error.orig or error).strip().splitlines()[0]
            console.print(f"[bold red]database error:[/] {first}")
            raise typer.Exit(2) from None

    return wrapper  # type: ignore[return-value]


@contextmanager
def _config(
    ctx: typer.Context, churn: ChurnConfig | None = None
) -> Iterator[run.RunConfig]:
    """The run configuration with rich progress bars for long steps."""
    options = ctx.obj or {}
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=False,
        disable=not console.is_terminal,
    ) as progress:

        def bar(label: str, total: int) -> run.Advance:
            task = progress.add_task(label, total=max(total, 1))
            return lambda steps: progress.advance(task, steps)

        config = run.RunConfig(
            workdir=options.get("workdir", VAR / "analytics"),
            models_dir=options.get("models_dir", VAR / "models"),
            as_of=options.get("as_of"),
            horizon=options.get("horizon", 90),
            chunk_size=options.get("chunk_size", 100_000),
            max_rows=options.get("max_rows", 20_000),
            seed=options.get("seed", 42),
            churn=churn
            or ChurnConfig(seed=options.get("seed", 42), n_jobs=options.get("jobs", 1)),
            progress=bar,
        )
        # Native thread pools no larger than --jobs: oversubscribed OpenMP threads
        # (K-means, gradient boosting) run many times slower on a busy machine.
        with threadpool_limits(limits=config.churn.n_jobs):
            yield config


def _engine() -> Engine:
    engine = get_engine()
    check_schema(engine)
    return engine


def _need(value: Any, option: str) -> Any:
    """The value of an option that a CSV run cannot do without."""
    if value is None:
        raise AnalyticsError(f"{option} is required with --csv")
    return value


def _table(title: str, columns: list[str], right: set[str] | None = None) -> Table:
    """A rich table with these columns, the ones in `right` right-aligned."""
    table = Table(title=title)
    for name in columns:
        table.add_column(name, justify="right" if name in (right or ()) else "left")
    return table


def _started() -> float:
    return datetime.now().timestamp()


def _done(started: float, what: str) -> None:
    console.print(
        f"[green]done[/] {what} in {datetime.now().timestamp() - started:.1f} s"
    )


# --- features -------------------------------------------------------------------------


@app.command()
@friendly
def features(
    ctx: typer.Context,
    csv: CsvOption = None,
    target: TargetOption = None,
    id_column: IdOption = None,
    cutoff: Annotated[
        str | None, typer.Option(help="Features from before this date only.")
    ] = None,
    output: OutputOption = None,
) -> None:
    """Compute the feature table (CRM) or read and type a CSV's columns."""
    started = _started()
    with _config(ctx) as config:
        path = output or config.workdir / "features.csv"
        if csv:
            data = run.csv_features(config, csv, target, _need(id_column, "--id"), path)
            _columns_table(data)
            _done(started, f"{len(data.frame):,} rows typed, written to {path}")
            return
        rows = run.crm_features(_engine(), config, path, _parse_date(cutoff))
    _done(started, f"{rows:,} customers' features written to {path}")


def _columns_table(data: Any) -> None:
    table = _table("columns", ["column", "read as", "missing", "distinct", "note"])
    for c in data.columns:
        table.add_row(c.name, c.kind, str(c.missing), str(c.distinct), c.note)
    out.print(table)


# --- segmentation ---------------------------------------------------------------------


@app.command()
@friendly
def segment(
    ctx: typer.Context,
    csv: CsvOption = None,
    id_column: IdOption = None,
    target: TargetOption = None,
    k: Annotated[
        int | None, typer.Option(help="Number of segments (default: best silhouette).")
    ] = None,
    output: OutputOption = None,
) -> None:
    """RFM + K-means segments; written back to customers.segment (CRM)."""
    started = _started()
    with _config(ctx) as config:
        config.k = k
        if csv:
            path = output or config.workdir / "segments.csv"
            result = run.csv_segment(
                config, csv, _need(id_column, "--id"), target, path
            )
        else:
            result = run.crm_segment(_engine(), config)
    _segments_table(result)
    _done(started, f"{result['k']} segments")


def _segments_table(result: dict[str, Any]) -> None:
    table = _table(
        f"segments (k={result['k']})",
        ["segment", "customers", "share"],
        right={"customers", "share"},
    )
    for row in result["profiles"]:
        table.add_row(row["segment"], f"{row['size']:,}", f"{100 * row['share']:.1f}%")
    out.print(table)


# --- churn ----------------------------------------------------------------------------


def _churn_config(
    ctx: typer.Context, models: str, folds: int, iterations: int
) -> ChurnConfig:
    options = ctx.obj or {}
    chosen = tuple(m.strip() for m in models.split(",") if m.strip())
    return ChurnConfig(
        models=chosen,
        cv_folds=folds,
        search_iter=iterations,
        seed=options.get("seed", 42),
        max_train_rows=options.get("max_rows", 20_000),
        n_jobs=options.get("jobs", 1),
    )


@churn_app.command("train")
@friendly
def churn_train(
    ctx: typer.Context,
    csv: CsvOption = None,
    target: TargetOption = None,
    id_column: IdOption = None,
    conversation_prefix: ConversationOption = None,
    models: ModelsOption = ALL_MODELS,
    folds: FoldsOption = 5,
    iterations: IterationsOption = 6,
) -> None:
    """Compare the models (CV, search, holdout, ablation) and save the best."""
    started = _started()
    with _config(ctx, _churn_config(ctx, models, folds, iterations)) as config:
        if csv:
            summary = run.csv_train(
                config,
                csv,
                _need(target, "--target"),
                _need(id_column, "--id"),
                conversation_prefix,
            )
        else:
            summary = run.crm_train(_engine(), config)
    _models_table(summary)
    _done(started, f"best model {summary['best']} saved to {summary['model_path']}")


def _models_table(summary: dict[str, Any]) -> None:
    names = [
        "model",
        "CV ROC-AUC (95% CI)",
        "ROC-AUC",
        "PR-AUC",
        "F1",
        "recall",
        "lift@10%",
        "Brier",
        "gain from conversations (CV)",
    ]
    table = _table("churn models (holdout)", names, right=set(names))
    for m in summary["models"]:
        h, cv, a = m["holdout"], m["cv_roc_auc"], m["ablation"]
        gain = "n/a"
        if a.get("applicable"):
            g = a["cv_gain"]
            gain = f"{g['mean']:+.3f} ({g['low']:+.3f}..{g['high']:+.3f})"
        table.add_row(
            m["title"],
            f"{cv['mean']:.3f} ({cv['low']:.3f}-{cv['high']:.3f})",
            f"{h['roc_auc']:.3f}",
            f"{h['pr_auc']:.3f}",
            f"{h['f1']:.3f}",
            f"{h['recall']:.3f}",
            f"{h['top_decile_lift']:.2f}",
            f"{h['brier']:.3f}",
            gain,
        )
    out.print(table)


@churn_app.command("evaluate")
@friendly
def churn_evaluate(
    ctx: typer.Context,
    model: ModelOption = None,
    csv: CsvOption = None,
    target: TargetOption = None,
    id_column: IdOption = None,
    conversation_prefix: ConversationOption = None,
    cutoff: Annotated[str | None, typer.Option(help="Snapshot date (CRM).")] = None,
    folds: Annotated[int, typer.Option(help="Folds for the ablation.")] = 5,
) -> None:
    """Judge a saved model on labelled data, with the conversation ablation."""
    started = _started()
    with _config(ctx, _churn_config(ctx, ALL_MODELS, folds, 1)) as config:
        if csv:
            result = run.csv_evaluate(
                config,
                model,
                csv,
                _need(target, "--target"),
                _need(id_column, "--id"),
                conversation_prefix,
            )
        else:
            result = run.crm_evaluate(_engine(), config, model, _parse_date(cutoff))
    h = result["holdout"]
    out.print(
        f"model {result['model_version']} on {result['data']}: "
        f"ROC-AUC {h['roc_auc']:.3f}, "
        f"PR-AUC {h['pr_auc']:.3f}, F1 {h['f1']:.3f}, recall {h['recall']:.3f}, "
        f"lift@10% {h['top_decile_lift']:.2f}, Brier {h['brier']:.3f}"
    )
    a = result["ablation"]
    if a.get("applicable"):
        g = a["cv_gain"]
        out.print(
            f"ablation (CV ROC-AUC): with conversations {a['cv_with']['mean']:.3f}, "
            f"without {a['cv_without']['mean']:.3f}, gain {g['mean']:+.3f} "
            f"(95% CI {g['low']:+.3f} to {g['high']:+.3f})"
        )
    else:
        out.print(f"ablation: {a.get('reason')}")
    _done(started, "evaluation")


@churn_app.command("score")
@friendly
def churn_score(
    ctx: typer.Context,
    model: ModelOption = None,
    csv: CsvOption = None,
    id_column: IdOption = None,
    output: OutputOption = None,
) -> None:
    """Score customers; on the CRM, write churn_score and the model version back."""
    started = _started()
    with _config(ctx) as config:
        if csv:
            path = output or config.workdir / "scores.csv"
            result = run.csv_score(config, model, csv, _need(id_column, "--id"), path)
        else:
            result = run.crm_score(_engine(), config, model)
    _done(
        started,
        f"{result['customers']:,} customers scored by {result['model_version']} "
        f"(mean score {result['mean_score'] or 0:.3f})",
    )


# --- lifetime value -------------------------------------------------------------------


@app.command("clv")
@friendly
def clv_command(
    ctx: typer.Context,
    csv: Annotated[
        Path | None, typer.Option("--csv", help="A transactions CSV.")
    ] = None,
    id_column: IdOption = None,
    date_column: Annotated[
        str | None, typer.Option("--date", help="CSV date column.")
    ] = None,
    amount_column: Annotated[
        str | None, typer.Option("--amount", help="CSV amount column.")
    ] = None,
    cdnow: Annotated[
        Path | None, typer.Option(help="Validate on a CDNOW file instead.")
    ] = None,
    discount_rate: Annotated[
        float, typer.Option(help="Annual discount rate r.")
    ] = 0.10,
    months: Annotated[int, typer.Option(help="CLV horizon in months.")] = 24,
    output: OutputOption = None,
) -> None:
    """Lifetime value: discounted formula and BG/NBD + Gamma-Gamma."""
    started = _started()
    with _config(ctx) as config:
        config.discount_rate, config.clv_months = discount_rate, months
        if cdnow:
            _cdnow_table(run.cdnow(config, cdnow))
            _done(started, "CDNOW validation")
            return
        if csv:
            path = output or config.workdir / "clv.csv"
            result = run.csv_clv(
                config,
                csv,
                _need(id_column, "--id"),
                _need(date_column, "--date"),
                _need(amount_column, "--amount"),
                path,
            )
        else:
            result = run.crm_clv(_engine(), config, output)
    params = ", ".join(f"{k} {v:.3f}" for k, v in result["bgnbd"].items())
    out.print(f"BG/NBD + Gamma-Gamma: {params}")
    _done(
        started,
        f"CLV of {result['customers']:,} customers (total {result['total']:,.0f})",
    )


def _cdnow_table(result: dict[str, Any]) -> None:
    names = ["parameter", "fitted", "published", "difference"]
    table = _table(
        f"BG/NBD on CDNOW ({result['customers']:,} customers)", names, set(names)
    )
    for key, published in result["published"].items():
        fitted = result["params"][key]
        table.add_row(
            key,
            f"{fitted:.4f}",
            f"{published:.3f}",
            f"{100 * result['relative_error'][key]:+.2f}%",
        )
    out.print(table)
    out.print(
        "holdout repeat purchases "
        f"{result['calibration_end']}..{result['observation_end']}: "
        f"predicted {result['holdout_predicted']:.0f}, "
        f"actual {result['holdout_actual']}"
    )


# --- topics and report ----------------------------------------------------------------


@app.command("topics")
@friendly
def topics_command(
    ctx: typer.Context,
    csv: CsvOption = None,
    text: Annotated[str | None, typer.Option(help="CSV text column.")] = None,
    language: Annotated[
        str | None, typer.Option(help="CSV language column (en/zh).")
    ] = None,
    segment_column: Annotated[
        str | None, typer.Option("--segment", help="CSV segment column.")
    ] = None,
    date_column: Annotated[
        str | None, typer.Option("--date", help="CSV date column.")
    ] = None,
    n_topics: Annotated[int, typer.Option("--topics", help="Topics per language.")] = 6,
) -> None:
    """Topics of complaints and negative feedback, per language, segment and month."""
    started = _started()
    with _config(ctx) as config:
        config.n_topics = n_topics
        if csv:
            result = run.csv_topics(
                config,
                csv,
                _need(text, "--text"),
                language,
                segment_column,
                date_column,
            )
        else:
            result = run.crm_topics(_engine(), config)
    for lang, found in result.get("languages", {}).items():
        table = _table(
            f"topics ({lang}, {found['documents']:,} texts)",
            ["topic", "share", "top words"],
            right={"share"},
        )
        for row in found["topics"]:
            table.add_row(
                row["topic"], f"{100 * row['share']:.1f}%", ", ".join(row["terms"])
            )
        out.print(table)
    _done(started, f"topics of {result['documents']:,} texts")


@app.command()
@friendly
def report(ctx: typer.Context, output: OutputOption = None) -> None:
    """Write the self-contained HTML report from the results in the work folder."""
    started = _started()
    with _config(ctx) as config:
        path = write_report(config.workdir, output)
    _done(started, f"report written to {path}")


def _options_of(template: Callable[..., Any]) -> Callable[[F], F]:
    """Give a command the command-line options of `template` (defined once)."""

    def decorate(command: F) -> F:
        signature = inspect.signature(template, eval_str=True)
        command.__signature__ = signature  # type: ignore[attr-defined]
        return command

    return decorate


@app.command()
@friendly
@_options_of(churn_train)
def pipeline(ctx: typer.Context, **options: Any) -> None:
    """Everything: segments, churn training and scoring, CLV, topics, report."""
    started = _started()
    models, folds, iterations = (options[k] for k in ("models", "folds", "iterations"))
    with _config(ctx, _churn_config(ctx, models, folds, iterations)) as config:
        if csv := options["csv"]:
            target = _need(options["target"], "--target")
            ident = _need(options["id_column"], "--id")
            conversation_prefix = options["conversation_prefix"]
            run.csv_features(
                config, csv, target, ident, config.workdir / "features.csv"
            )
            run.csv_segment(config, csv, ident, target, config.workdir / "segments.csv")
            summary = run.csv_train(config, csv, target, ident, conversation_prefix)
            run.csv_score(config, None, csv, ident, config.workdir / "scores.csv")
            path = write_report(config.workdir)
            _models_table(summary)
            _done(started, f"pipeline; report at {path}")
            return
        result = run.crm_pipeline(_engine(), config)
    _done(
        started,
        f"pipeline: {result['customers_scored']:,} customers, "
        f"{result['segments']} segments, "
        f"best model {result['best_model']} (holdout ROC-AUC "
        f"{result['holdout_roc_auc']:.3f}); report at {result['report']}",
    )


if __name__ == "__main__":  # pragma: no cover
    sys.exit(app())
