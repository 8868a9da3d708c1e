"""One self-contained HTML report from the JSON results of the other steps.

Plots are matplotlib PNGs embedded as base64 `data:` URIs and the styles are
inline, so the file opens in any browser without a network. Personal data is
masked (crm/masking.py) before it is written anywhere.
"""

from __future__ import annotations

import base64
import functools
import io
import itertools
import json
import logging
import warnings
from datetime import datetime
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

CJK_FAMILIES = ("WenQuanYi Micro Hei", "Noto Sans CJK SC", "Source Han Sans SC")
CJK_FILES = ("wqy-microhei.ttc", "wqy-zenhei.ttc", "NotoSansCJK-Regular.ttc")
from jinja2 import Environment, StrictUndefined  # noqa: E402

from analytics.churn import TITLES  # noqa: E402
from analytics.features import FEATURES  # noqa: E402
from analytics.topics import CJK  # noqa: E402

logger = logging.getLogger(__name__)

ARTIFACTS = ("run", "columns", "segments", "evaluation", "scores", "clv", "topics")
COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b"]


@functools.cache
def cjk_font() -> str | None:
    """A font family that has Chinese glyphs, registering a system one if needed."""
    from matplotlib import font_manager

    names = {font.name for font in font_manager.fontManager.ttflist}
    for family in CJK_FAMILIES:
        if family in names:
            return family
    for folder in (Path("/usr/share/fonts"), Path("/usr/local/share/fonts")):
        for name in CJK_FILES:
            for path in folder.rglob(name) if folder.is_dir() else ():
                font_manager.fontManager.addfont(str(path))
                return str(font_manager.FontProperties(fname=str(path)).get_name())
    return None


def _labels(labels: list[str]) -> list[str]:
    """Labels as they are, or numbered when they need a CJK font that is missing."""
    if not any(CJK.search(label) for label in labels) or cjk_font():
        return labels
    return [f"topic {i + 1}" for i in range(len(labels))]


# --- plots ----------------------------------------------------------------------------


def _png(figure: Any) -> str:
    """The figure as a PNG data URI (and closed)."""
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        # Without a CJK font Chinese labels show as boxes; the tables carry the words.
        warnings.filterwarnings("ignore", message="Glyph .* missing from font")
        figure.tight_layout()
        figure.savefig(buffer, format="png", dpi=90)
    plt.close(figure)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def _axes(width: float = 6.0, height: float = 3.6) -> tuple[Any, Any]:
    family = cjk_font()
    # a list of families: matplotlib takes each glyph from the first that has it
    plt.rcParams["font.family"] = ["DejaVu Sans", *([family] if family else [])]
    figure, axes = plt.subplots(figsize=(width, height))
    axes.grid(alpha=0.3)
    return figure, axes


def plot_bars(labels: list[str], values: list[float], xlabel: str) -> str:
    figure, axes = _axes(6.0, 0.45 * len(labels) + 1.2)
    axes.barh(labels[::-1], values[::-1], color=COLORS[0])
    axes.set_xlabel(xlabel)
    return _png(figure)


def plot_curves(models: list[dict[str, Any]], kind: str) -> str:
    """ROC, precision-recall or reliability curves of every model on the holdout."""
    figure, axes = _axes(5.2, 4.2)
    for color, model in zip(COLORS, models, strict=False):
        x, y = model["holdout"]["curves"][kind]
        axes.plot(
            x,
            y,
            color=color,
            marker="o" if kind == "calibration" else None,
            markersize=3,
            label=TITLES.get(model["name"], model["name"]),
        )
    if kind == "roc":
        axes.plot([0, 1], [0, 1], "k--", lw=0.8)
        axes.set_xlabel("false positive rate")
        axes.set_ylabel("true positive rate (recall)")
    elif kind == "pr":
        rate = models[0]["holdout"]["churn_rate"]
        axes.axhline(rate, color="k", ls="--", lw=0.8)
        axes.set_xlabel("recall")
        axes.set_ylabel("precision")
    else:
        top = max(
            max(max(m["holdout"]["curves"][kind][i]) for i in (0, 1)) for m in models
        )
        limit = min(1.0, 1.15 * top)
        axes.plot([0, limit], [0, limit], "k--", lw=0.8)
        axes.set_xlim(0, limit)
        axes.set_ylim(0, limit)
        axes.set_xlabel("predicted churn probability")
        axes.set_ylabel("observed churn rate")
    axes.legend(fontsize=8)
    return _png(figure)


def plot_lift(lift: list[float]) -> str:
    figure, axes = _axes()
    axes.bar(range(1, len(lift) + 1), lift, color=COLORS[0])
    axes.axhline(1.0, color="k", ls="--", lw=0.8)
    axes.set_xlabel("score decile (1 = riskiest 10%)")
    axes.set_ylabel("churn rate / overall rate")
    axes.set_xticks(range(1, len(lift) + 1))
    return _png(figure)


def plot_importance(rows: list[dict[str, Any]]) -> str:
    figure, axes = _axes(6.0, 0.35 * len(rows) + 1.2)
    names = [r["feature"] for r in rows][::-1]
    axes.barh(
        names,
        [r["mean"] for r in rows][::-1],
        xerr=[r["std"] for r in rows][::-1],
        color=COLORS[0],
    )
    axes.set_xlabel("drop in ROC-AUC when the column is shuffled")
    return _png(figure)


def plot_ablation(models: list[dict[str, Any]]) -> str:
    figure, axes = _axes()
    applicable = [m for m in models if m["ablation"].get("applicable")]
    for offset, (key, label, color) in enumerate(
        (
            ("cv_with", "with conversation features", COLORS[0]),
            ("cv_without", "without", COLORS[1]),
        )
    ):
        means = [m["ablation"][key]["mean"] for m in applicable]
        errors = [
            m["ablation"][key]["mean"] - m["ablation"][key]["low"] for m in applicable
        ]
        positions = [i + offset * 0.38 for i in range(len(applicable))]
        axes.bar(
            positions,
            means,
            width=0.38,
            yerr=errors,
            capsize=4,
            color=color,
            label=label,
        )
    axes.set_xticks([i + 0.19 for i in range(len(applicable))])
    axes.set_xticklabels(
        [TITLES.get(m["name"], m["name"]) for m in applicable], fontsize=8
    )
    low = min((m["ablation"]["cv_without"]["low"] for m in applicable), default=0.5)
    axes.set_ylim(max(0.0, low - 0.05), 1.0)
    axes.set_ylabel("cross-validated ROC-AUC (95% CI)")
    axes.legend(fontsize=8)
    return _png(figure)


def plot_trends(rows: list[dict[str, Any]]) -> str:
    figure, axes = _axes(6.5, 3.6)
    months = [r["month"] for r in rows]
    axes.bar(
        months, [r["complaints"] for r in rows], color=COLORS[4], label="complaints"
    )
    axes.bar(
        months,
        [r["escalations"] for r in rows],
        color=COLORS[3],
        alpha=0.7,
        label="escalations",
    )
    axes.set_ylabel("conversations / messages")
    axes.tick_params(axis="x", rotation=60, labelsize=7)
    other = axes.twinx()
    other.plot(
        months,
        [100 * r["negative_share"] for r in rows],
        color=COLORS[1],
        marker="o",
        label="negative messages (%)",
    )
    other.set_ylabel("negative messages (%)")
    lines = axes.get_legend_handles_labels()
    more = other.get_legend_handles_labels()
    axes.legend(lines[0] + more[0], lines[1] + more[1], fontsize=8, loc="upper left")
    return _png(figure)


def plot_topic_trend(trend: dict[str, Any]) -> str:
    figure, axes = _axes(6.5, 3.4)
    series = sorted(trend["series"].items(), key=lambda kv: -sum(kv[1]))[:5]
    labels = _labels([label for label, _ in series])
    for color, label, (_, counts) in zip(COLORS, labels, series, strict=False):
        axes.plot(trend["months"], counts, marker="o", color=color, label=label)
    axes.tick_params(axis="x", rotation=60, labelsize=7)
    axes.set_ylabel("texts")
    axes.legend(fontsize=7)
    return _png(figure)


def plot_histogram(edges: list[float], counts: list[int], xlabel: str) -> str:
    figure, axes = _axes()
    widths = [b - a for a, b in itertools.pairwise(edges)]
    axes.bar(edges[:-1], counts, width=widths, align="edge", color=COLORS[0])
    axes.set_xlabel(xlabel)
    axes.set_ylabel("customers")
    return _png(figure)


def plot_silhouette(silhouettes: dict[str, float], chosen: int) -> str:
    figure, axes = _axes(5.0, 3.0)
    ks = sorted(int(k) for k in silhouettes)
    axes.plot(ks, [silhouettes[str(k)] for k in ks], marker="o", color=COLORS[0])
    axes.axvline(chosen, color=COLORS[1], ls="--", lw=0.8)
    axes.set_xlabel("k (number of segments)")
    axes.set_ylabel("silhouette")
    return _png(figure)


# --- the document ---------------------------------------------------------------------


def load_artifacts(folder: Path) -> dict[str, Any]:
    """Every JSON result present in `folder` (missing steps are simply absent)."""
    found: dict[str, Any] = {}
    for name in ARTIFACTS:
        path = folder / f"{name}.json"
        if path.is_file():
            found[name] = json.loads(path.read_text(encoding="utf-8"))
    return found


def figures(data: dict[str, Any]) -> dict[str, str]:
    """Every plot the available results allow, as data URIs."""
    out: dict[str, str] = {}
    segments = data.get("segments")
    if segments:
        rows = segments["profiles"]
        out["segment_sizes"] = plot_bars(
            [r["segment"] for r in rows], [r["size"] for r in rows], "customers"
        )
        if segments.get("silhouettes"):
            out["silhouette"] = plot_silhouette(segments["silhouettes"], segments["k"])
    evaluation = data.get("evaluation")
    if evaluation:
        models = evaluation["models"]
        for kind in ("roc", "pr", "calibration"):
            out[kind] = plot_curves(models, kind)
        out["lift"] = plot_lift(models[0]["holdout"]["curves"]["lift"])
        if evaluation.get("importance"):
            out["importance"] = plot_importance(evaluation["importance"])
        if any(m["ablation"].get("applicable") for m in models):
            out["ablation"] = plot_ablation(models)
    scores = data.get("scores")
    if scores and scores.get("histogram"):
        out["scores"] = plot_histogram(
            scores["histogram"]["edges"], scores["histogram"]["counts"], "churn score"
        )
    clv = data.get("clv")
    if clv and clv.get("histogram"):
        out["clv"] = plot_histogram(
            clv["histogram"]["edges"],
            clv["histogram"]["counts"],
            clv["histogram"]["label"],
        )
    topics = data.get("topics") or {}
    if topics.get("trends"):
        out["trends"] = plot_trends(topics["trends"])
    for language, found in (topics.get("languages") or {}).items():
        if found.get("trend") and found["trend"]["months"]:
            out[f"topics_{language}"] = plot_topic_trend(found["trend"])
    return out


def render(data: dict[str, Any]) -> str:
    """The report's HTML for the loaded results."""
    environment = Environment(autoescape=True, undefined=StrictUndefined)
    environment.filters["pct"] = lambda v: "–" if v is None else f"{100 * v:.1f}%"
    environment.filters["num"] = lambda v, d=3: "–" if v is None else f"{v:,.{d}f}"
    environment.filters["ci"] = lambda v: (
        f"{v['mean']:.3f} ({v['low']:.3f}–{v['high']:.3f})"
    )
    environment.filters["gain"] = lambda v: (
        f"{v['mean']:+.3f} ({v['low']:+.3f} to {v['high']:+.3f})"
    )
    template = environment.from_string(TEMPLATE)
    return template.render(
        data=data,
        plots=figures(data),
        titles=TITLES,
        glossary=FEATURES,
        generated=datetime.now().strftime("%Y-%m-%d %H:%M"),
    )


def write_report(folder: Path, output: Path | None = None) -> Path:
    """Render the results in `folder` into report.html (or `output`)."""
    data = load_artifacts(folder)
    path = output or folder / "report.html"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render(data), encoding="utf-8")
    logger.info("report written to %s", path)
    return path


TEMPLATE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Customer analytics report</title>
<style>
body { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; color: #222;
       max-width: 1080px; margin: 0 auto; padding: 1rem 1.5rem 4rem; }
h1 { font-size: 1.7rem; margin-bottom: .2rem; }
h2 { border-bottom: 2px solid #ddd; padding-bottom: .2rem; margin-top: 2.5rem; }
h3 { margin-top: 1.6rem; }
nav ol { columns: 2; }
table { border-collapse: collapse; margin: .6rem 0 1rem; font-size: .9rem; }
th, td { border: 1px solid #ddd; padding: .25rem .55rem; text-align: right; }
th { background: #f4f4f4; } td.l, th.l { text-align: left; }
.note { color: #555; font-size: .9rem; } .missing { color: #a33; }
.grid { display: flex; flex-wrap: wrap; gap: 1rem; }
figure { margin: .5rem 0; } figcaption { font-size: .85rem; color: #555; }
img { max-width: 100%; height: auto; }
.kpi { display: inline-block; border: 1px solid #ddd; border-radius: 6px;
       padding: .5rem .9rem; margin: .3rem .4rem .3rem 0; }
.kpi b { display: block; font-size: 1.3rem; }
</style>
</head>
<body>
{% set run = data.get("run", {}) %}
<h1>Customer analytics report</h1>
<p class="note">Generated {{ generated }} from
{{ run.get("source", "the saved results") }}.
{% if run.get("as_of") %}Data as of {{ run["as_of"] }}; churn means leaving within
{{ run.get("horizon") }} days.{% endif %}</p>

<nav><h2 id="contents">Contents</h2><ol>
<li><a href="#summary">Summary</a></li>
<li><a href="#segments">Segments</a></li>
<li><a href="#churn-by-segment">Churn rate by segment</a></li>
<li><a href="#models">Churn models</a></li>
<li><a href="#curves">ROC, precision-recall and calibration</a></li>
<li><a href="#lift">Lift</a></li>
<li><a href="#importance">What drives churn risk</a></li>
<li><a href="#ablation">Do conversations help? (ablation)</a></li>
<li><a href="#clv">Lifetime value</a></li>
<li><a href="#conversations">Sentiment and complaint trends</a></li>
<li><a href="#topics">Top complaint topics</a></li>
<li><a href="#at-risk">Customers most at risk</a></li>
<li><a href="#method">Data and method</a></li>
</ol></nav>

{% set evaluation = data.get("evaluation") %}
{% set segment_scores = (data.get("scores") or {}).get("by_segment") or {} %}
{% set segments = data.get("segments") %}
{% set scores = data.get("scores") %}
{% set clv = data.get("clv") %}
{% set topics = data.get("topics") %}

<section id="summary"><h2>Summary</h2>
{% if scores %}<span class="kpi">customers scored
<b>{{ "{:,}".format(scores["customers"]) }}</b></span>
<span class="kpi">mean churn score<b>{{ scores["mean_score"] | pct }}</b></span>
{% endif %}
{% if evaluation %}{% set best = evaluation["models"][0] %}
<span class="kpi">best model<b>{{ best["title"] }}</b></span>
<span class="kpi">holdout ROC-AUC<b>{{ best["holdout"]["roc_auc"] | num }}</b></span>
<span class="kpi">churn rate (holdout)<b>{{ best["holdout"]["churn_rate"] | pct }}</b>
</span>
{% if best["ablation"].get("applicable") %}
<span class="kpi">ROC-AUC gain from conversations
<b>{{ "%+.3f" | format(best["ablation"]["cv_gain"]["mean"]) }}</b></span>{% endif %}
{% endif %}
{% if segments %}<span class="kpi">segments<b>{{ segments["k"] }}</b></span>{% endif %}
{% if clv and clv.get("total") is not none %}<span class="kpi">total discounted CLV
<b>{{ "{:,.0f}".format(clv["total"]) }}</b></span>{% endif %}
<p class="note">How to read it: a churn score is the model's probability that the
customer leaves within the horizon. ROC-AUC is the chance that a random churner is
ranked above a random stayer (0.5 is guessing, 1 is perfect). Lift in the top decile
says how many times more churners the riskiest 10% hold than average.</p>
</section>

<section id="segments"><h2>Segments</h2>
{% if segments %}
<p>{{ segments["k"] }} segments from K-means on {{ segments["features"] | join(", ") }}
(log-scaled and standardised), k chosen by the best silhouette
({{ segments["silhouettes"].get(segments["k"] | string, 0) | num }}).
{% if segments.get("rfm_edges") %}Names follow the RFM profile (recency, frequency,
monetary scores 1-5, 5 best).{% else %}Each segment is named by the two columns that
set it apart most from the average.{% endif %}</p>
<div class="grid">
<figure><img src="{{ plots["segment_sizes"] }}" alt="Bar chart of segment sizes">
<figcaption>Customers per segment.</figcaption></figure>
{% if plots.get("silhouette") %}<figure><img src="{{ plots["silhouette"] }}"
alt="Silhouette score for each number of segments"><figcaption>Silhouette by k; the
dashed line is the chosen k.</figcaption></figure>{% endif %}
</div>
<table><tr><th class="l">segment</th><th>customers</th><th>share</th>
{% for f in segments["features"] %}<th>mean {{ f }}</th>{% endfor %}</tr>
{% for row in segments["profiles"] %}<tr><td class="l">{{ row["segment"] }}</td>
<td>{{ "{:,}".format(row["size"]) }}</td><td>{{ row["share"] | pct }}</td>
{% for f in segments["features"] %}<td>{{ row.get(f) | num(1) }}</td>{% endfor %}</tr>
{% endfor %}</table>
{% else %}<p class="missing">Not run: use <code>analytics segment</code>.</p>{% endif %}
</section>

<section id="churn-by-segment"><h2>Churn rate by segment</h2>
{% set by_segment = (evaluation or {}).get("churn_by_segment")
   or (segments or {}).get("churn_by_segment") %}
{% if by_segment %}
{% if (evaluation or {}).get("churn_by_segment") %}
<p>Observed: customers segmented as of the holdout cut-off, and the share who left in
the following {{ run.get("horizon") }} days.{% else %}<p>Observed: the share of each
segment's rows whose target is the churned class.{% endif %}
Current: the mean churn score now.</p>
<table><tr><th class="l">segment</th><th>customers</th><th>observed churn</th>
<th>mean current score</th></tr>
{% for row in by_segment %}<tr><td class="l">{{ row["segment"] }}
</td>
<td>{{ "{:,}".format(row["customers"]) }}</td><td>{{ row["churn_rate"] | pct }}</td>
<td>{{ segment_scores.get(row["segment"]) | pct }}
</td></tr>
{% endfor %}</table>
{% else %}<p class="missing">Not available: run <code>analytics segment</code> before
<code>analytics churn train</code>.</p>{% endif %}
</section>

<section id="models"><h2>Churn models</h2>
{% if evaluation %}
<p>Each model is a scikit-learn pipeline (impute, log-scale and standardise numbers,
one-hot categories, then the estimator), tuned by a randomized search
({{ evaluation["config"]["search_iter"] }} candidates) over
{{ evaluation["config"]["cv_folds"] }} stratified folds of
{{ "{:,}".format(evaluation["train_rows"]) }}
training rows, then judged once on {{ "{:,}".format(evaluation["test_rows"]) }} holdout
rows ({{ evaluation["holdout"] }}). F1 and recall flag the riskiest
{{ evaluation["models"][0]["holdout"]["threshold_share"] | pct }}
of customers as churners, the training churn rate (a threshold set without looking at
the holdout's answers; when the holdout churns at that same rate, as many customers
are flagged as actually leave, so precision, recall and F1 come out equal).</p>
<table><tr><th class="l">model</th><th>CV ROC-AUC (95% CI)</th><th>holdout ROC-AUC</th>
<th>PR-AUC</th><th>F1</th><th>recall</th><th>top-decile lift</th><th>Brier</th></tr>
{% for m in evaluation["models"] %}<tr><td class="l">{{ m["title"] }}</td>
<td>{{ m["cv_roc_auc"] | ci }}
</td>
<td>{{ m["holdout"]["roc_auc"] | num }}</td><td>{{ m["holdout"]["pr_auc"] | num }}</td>
<td>{{ m["holdout"]["f1"] | num }}</td><td>{{ m["holdout"]["recall"] | num }}</td>
<td>{{ m["holdout"]["top_decile_lift"] | num(2) }}</td>
<td>{{ m["holdout"]["brier"] | num }}</td></tr>
{% endfor %}</table>
<p class="note">Chosen for scoring: <b>{{ evaluation["models"][0]["title"] }}</b>
(best mean CV ROC-AUC){% if evaluation.get("model_version") %}, saved as version
<code>{{ evaluation["model_version"] }}</code>{% endif %}.</p>
{% else %}<p class="missing">Not run: use <code>analytics churn train</code>.</p>
{% endif %}
</section>

<section id="curves"><h2>ROC, precision-recall and calibration</h2>
{% if evaluation %}<div class="grid">
<figure><img src="{{ plots["roc"] }}" alt="ROC curves of every model on the holdout">
<figcaption>ROC on the holdout; the diagonal is guessing.</figcaption></figure>
<figure><img src="{{ plots["pr"] }}" alt="Precision-recall curves on the holdout">
<figcaption>Precision-recall; the dashed line is the churn rate.</figcaption></figure>
<figure><img src="{{ plots["calibration"] }}" alt="Reliability curves on the holdout">
<figcaption>Reliability: points on the diagonal mean the scores can be read as
probabilities (lower Brier score is better).</figcaption></figure>
</div>{% else %}<p class="missing">Not run.</p>{% endif %}
</section>

<section id="lift"><h2>Lift</h2>
{% if evaluation %}<figure><img src="{{ plots["lift"] }}" alt="Lift by score decile">
<figcaption>Churn rate per score decile of {{ evaluation["models"][0]["title"] }},
relative to the overall rate: contact the left bars first.</figcaption></figure>
{% else %}<p class="missing">Not run.</p>{% endif %}
</section>

<section id="importance"><h2>What drives churn risk</h2>
{% if evaluation and evaluation.get("importance") %}
<figure>
<img src="{{ plots["importance"] }}" alt="Permutation importance of the top features">
<figcaption>Permutation importance of {{ evaluation["models"][0]["title"] }} on the
holdout: how much ROC-AUC drops when one column is shuffled (bars: ± one standard
deviation over 5 shuffles).</figcaption></figure>
<table><tr><th class="l">feature</th><th>ROC-AUC drop</th><th class="l">meaning</th>
</tr>
{% for row in evaluation["importance"] %}<tr><td class="l">{{ row["feature"] }}</td>
<td>{{ row["mean"] | num(4) }}</td><td class="l">{{ glossary.get(row["feature"], "") }}
</td></tr>
{% endfor %}</table>
{% else %}<p class="missing">Not run.</p>{% endif %}
</section>

<section id="ablation"><h2>Do conversations help? (ablation)</h2>
{% if evaluation and evaluation["models"][0]["ablation"].get("applicable") %}
<p>Every model refitted with the same parameters without the
{{ evaluation["models"][0]["ablation"]["features"] | length }} conversation features
(contacts, negative share, complaints, escalations, handoffs, low-confidence turns,
last sentiment, feedback), on the same folds. The gain is the paired per-fold
difference with a 95% confidence interval.</p>
<figure>
<img src="{{ plots["ablation"] }}" alt="ROC-AUC with and without conversation features">
<figcaption>Cross-validated ROC-AUC with and without conversation features.</figcaption>
</figure>
<table><tr><th class="l">model</th><th>CV with</th><th>CV without</th><th>gain (95% CI)
</th>
<th>holdout with</th><th>holdout without</th></tr>
{% for m in evaluation["models"] if m["ablation"].get("applicable") %}
{% set a = m["ablation"] %}
<tr><td class="l">{{ m["title"] }}</td><td>{{ a["cv_with"]["mean"] | num }}</td>
<td>{{ a["cv_without"]["mean"] | num }}</td>
<td>{{ a["cv_gain"] | gain }}
</td>
<td>{{ m["holdout"]["roc_auc"] | num }}</td><td>{{ a["holdout_without"] | num }}</td>
</tr>
{% endfor %}</table>
{% elif evaluation %}
<p>{{ evaluation["models"][0]["ablation"].get("reason", "Not applicable.") }}</p>
{% else %}<p class="missing">Not run.</p>{% endif %}
</section>

<section id="clv"><h2>Lifetime value</h2>
{% if clv %}
{% if clv.get("formula") %}<p>Discounted revenue: CLV = Σ
<sub>t=1..{{ clv["formula"]["months"] }}</sub>
R<sub>t</sub> / (1 + r)<sup>t</sup>, with R<sub>t</sub> = monthly revenue × monthly
retention<sup>t</sup>, retention from the churn score,
r = {{ clv["formula"]["monthly_rate"] | pct }}
a month ({{ clv["formula"]["annual_rate"] | pct }} a year).</p>{% endif %}
{% if clv.get("bgnbd") %}<p>BG/NBD (repeat purchases and drop-out) and Gamma-Gamma
(spend per purchase), time unit {{ clv["unit_days"] }} days:
{% for k, v in clv["bgnbd"].items() -%}
{{ k }} = {{ v | num }}{% if not loop.last %}, {% endif %}
{%- endfor %}.</p>{% endif %}
{% if plots.get("clv") %}<figure>
<img src="{{ plots["clv"] }}" alt="Distribution of lifetime value">
<figcaption>Distribution of {{ clv["histogram"]["label"] }} (top 1% clipped).
</figcaption></figure>{% endif %}
{% if clv.get("by_segment") %}<table><tr><th class="l">segment</th><th>customers</th>
<th>mean discounted CLV</th><th>mean BG/NBD CLV</th><th>mean P(alive)</th></tr>
{% for row in clv["by_segment"] %}<tr><td class="l">{{ row["segment"] }}</td>
<td>{{ "{:,}".format(row["customers"]) }}</td><td>{{ row.get("clv") | num(2) }}</td>
<td>{{ row.get("bgnbd_clv") | num(2) }}</td><td>{{ row.get("p_alive") | pct }}</td></tr>
{% endfor %}</table>{% endif %}
{% if clv.get("validation") %}{% set v = clv["validation"] %}<p>Validation on
{{ v["customers"] }} customers: holdout repeat purchases predicted
{{ v["holdout_predicted"] | num(0) }}, actual {{ v["holdout_actual"] }}.</p>{% endif %}
{% else %}<p class="missing">Not run: use <code>analytics clv</code>.</p>{% endif %}
</section>

<section id="conversations"><h2>Sentiment and complaint trends</h2>
{% if topics and topics.get("trends") %}
<figure>
<img src="{{ plots["trends"] }}"
alt="Monthly complaints, escalations and negative share">
<figcaption>Per month: complaint messages, escalated conversations, and the share of
customer messages with negative sentiment.</figcaption></figure>
{% else %}<p class="missing">Not run: use <code>analytics topics</code>.</p>{% endif %}
</section>

<section id="topics"><h2>Top complaint topics</h2>
{% if topics and topics.get("languages") %}
<p>{{ "{:,}".format(topics["documents"]) }} complaint and negative-feedback texts,
topics found per language with TF-IDF and NMF (English lemmas by spaCy, Chinese words
by jieba). Each text counts towards its strongest topic.</p>
{% for language, found in topics["languages"].items() %}
<h3>{{ {"en": "English", "zh": "Chinese"}.get(language, language) }}
({{ "{:,}".format(found["documents"]) }} texts)</h3>
<table><tr><th class="l">topic</th><th>share</th><th class="l">top words</th></tr>
{% for t in found["topics"] %}<tr><td class="l">{{ t["topic"] }}</td>
<td>{{ t["share"] | pct }}</td>
<td class="l">{{ t["terms"] | join(", ") }}</td></tr>{% endfor %}</table>
{% if found.get("by_segment") %}<table><tr><th class="l">segment</th>
<th class="l">top topics (share of its texts)</th></tr>
{% for segment, rows in found["by_segment"].items() %}<tr><td class="l">{{ segment }}
</td>
<td class="l">{% for r in rows %}{{ r["topic"] }} ({{ r["share"] | pct }})
{% if not loop.last %}; {% endif %}{% endfor %}</td></tr>
{% endfor %}</table>{% endif %}
{% if plots.get("topics_" ~ language) %}<figure>
<img src="{{ plots["topics_" ~ language] }}"
alt="Monthly count of the largest topics"><figcaption>Texts per month for the largest
topics.</figcaption></figure>{% endif %}
{% endfor %}
{% else %}<p class="missing">Not run, or too few complaint texts.</p>{% endif %}
</section>

<section id="at-risk"><h2>Customers most at risk</h2>
{% if scores and scores.get("top") %}
<p>Highest churn scores now; names, e-mail addresses and phone numbers are masked.
Open the customer in the console by id.</p>
{% set people = "email" in scores["top"][0] %}
<table><tr><th class="l">customer</th>{% if people %}<th class="l">name</th>
<th class="l">e-mail</th><th class="l">segment</th>{% endif %}<th>churn score</th></tr>
{% for row in scores["top"] %}<tr><td class="l">{{ row["id"] }}</td>
{% if people %}<td class="l">{{ row.get("name", "") }}</td>
<td class="l">{{ row.get("email", "") }}</td>
<td class="l">{{ row.get("segment") or "" }}</td>{% endif %}
<td>{{ row["score"] | pct }}</td></tr>{% endfor %}</table>
{% if plots.get("scores") %}<figure>
<img src="{{ plots["scores"] }}" alt="Distribution of churn scores">
<figcaption>Distribution of current churn scores.</figcaption></figure>{% endif %}
{% else %}<p class="missing">Not run: use <code>analytics churn score</code>.</p>
{% endif %}
</section>

<section id="method"><h2>Data and method</h2>
{% if run.get("snapshots") %}<p>Point-in-time snapshots (features only from before
the cut-off, churn only after it):</p><table><tr><th class="l">use</th>
<th class="l">cut-off</th><th>customers</th><th>churn rate</th></tr>
{% for s in run["snapshots"] %}<tr><td class="l">{{ s["use"] }}</td>
<td class="l">{{ s["cutoff"] }}</td>
<td>{{ "{:,}".format(s["rows"]) }}</td><td>{{ s.get("churn_rate") | pct }}</td></tr>
{% endfor %}</table>{% endif %}
{% if data.get("columns") %}<h3>Columns</h3><table><tr><th class="l">column</th>
<th class="l">read as</th><th>missing</th><th>distinct</th><th class="l">note</th></tr>
{% for c in data["columns"]["columns"] %}<tr><td class="l">{{ c["name"] }}</td>
<td class="l">{{ c["kind"] }}</td>
<td>{{ c["missing"] }}</td><td>{{ c["distinct"] }}</td>
<td class="l">{{ c["note"] or glossary.get(c["name"], "") }}</td></tr>
{% endfor %}</table>
{% for n in data["columns"].get("notes", []) %}<p class="note">{{ n }}</p>{% endfor %}
{% endif %}
<p class="note">Produced by <code>analytics report
</code> (kefu); every figure is computed
by code from the CRM or the input file, nothing is edited by hand.</p>
</section>
</body>
</html>
"""
