"""Server-rendered SVG plots (matplotlib, object API: safe in worker threads).

Served as images (`<img src=...svg>`), so nothing in them can run as script."""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from datetime import date

import matplotlib

matplotlib.use("Agg")

from matplotlib.axes import Axes
from matplotlib.dates import AutoDateLocator, ConciseDateFormatter, date2num
from matplotlib.figure import Figure

from web.corrections import AccuracyPoint
from web.dashboard import SENTIMENTS, Tally

COLOURS = {"negative": "#c0392b", "neutral": "#95a5a6", "positive": "#27ae60"}
LANGUAGE_COLOURS = {"en": "#2c6fbb", "zh": "#d35400"}


def _svg(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="svg", bbox_inches="tight")
    return buffer.getvalue()


def _days(weeks: Sequence[date]) -> list[float]:
    """Dates as matplotlib numbers (the axis is then set to show dates)."""
    return [float(date2num(week)) for week in weeks]


def _date_axis(axes: Axes, days: Sequence[float]) -> None:
    """Dates on the x axis, labelled concisely (a single week gets a fortnight)."""
    if len(set(days)) <= 1:
        middle = days[0] if days else 0.0
        axes.set_xlim(middle - 7, middle + 10)
    locator = AutoDateLocator(maxticks=8)
    axes.xaxis.set_major_locator(locator)
    axes.xaxis.set_major_formatter(ConciseDateFormatter(locator))


def _empty(figure: Figure, message: str) -> bytes:
    axes = figure.add_subplot()
    axes.text(0.5, 0.5, message, ha="center", va="center", color="#666")
    axes.set_axis_off()
    return _svg(figure)


def ratings_over_time(by_week: Mapping[date, Tally]) -> bytes:
    """Average rating per week (line) and number of ratings (bars)."""
    figure = Figure(figsize=(7, 3.2), layout="constrained")
    weeks = sorted(w for w, t in by_week.items() if t.rated)
    if not weeks:
        return _empty(figure, "no ratings in this period")
    axes = figure.add_subplot()
    counts = axes.twinx()
    counts.bar(
        _days(weeks),
        [by_week[w].rated for w in weeks],
        width=6,
        align="edge",
        color="#dde6f0",
    )
    counts.set_ylabel("ratings")
    axes.set_zorder(counts.get_zorder() + 1)
    axes.patch.set_visible(False)
    axes.plot(
        [day + 3 for day in _days(weeks)],  # the middle of the week
        [by_week[w].average_rating or 0.0 for w in weeks],
        marker="o",
        color="#2c6fbb",
    )
    _date_axis(axes, _days(weeks))
    axes.set_ylim(0.8, 5.2)
    axes.set_ylabel("average rating")
    axes.set_title("Ratings per week")
    return _svg(figure)


def sentiment_over_time(by_week: Mapping[date, Tally], title: str) -> bytes:
    """Share of negative, neutral and positive per week, stacked."""
    figure = Figure(figsize=(7, 3.2), layout="constrained")
    weeks = sorted(w for w, t in by_week.items() if sum(t.sentiments.values()))
    if not weeks:
        return _empty(figure, "no labelled texts in this period")
    axes = figure.add_subplot()
    bottom = [0.0] * len(weeks)
    for sentiment in SENTIMENTS:
        shares = [by_week[w].share(sentiment) for w in weeks]
        axes.bar(
            _days(weeks),
            shares,
            width=6,
            align="edge",
            bottom=bottom,
            label=sentiment,
            color=COLOURS[sentiment],
        )
        bottom = [b + s for b, s in zip(bottom, shares, strict=True)]
    _date_axis(axes, _days(weeks))
    axes.set_ylim(0, 1)
    axes.set_ylabel("share")
    axes.set_title(title)
    figure.legend(loc="outside lower center", fontsize="small", ncols=3)
    return _svg(figure)


def by_intent(tallies: Mapping[str, Tally], top: int = 15) -> bytes:
    """Average rating and negative share of the most frequent intents."""
    figure = Figure(figsize=(7, 4), layout="constrained")
    names = sorted(tallies, key=lambda n: -tallies[n].count)[:top]
    if not names:
        return _empty(figure, "no feedback in this period")
    names.reverse()
    axes = figure.add_subplot()
    axes.barh(
        names, [tallies[n].share("negative") for n in names], color=COLOURS["negative"]
    )
    axes.set_xlim(0, 1)
    axes.set_xlabel("share negative")
    for row, name in enumerate(names):
        average = tallies[name].average_rating
        label = (
            f"avg {average:.1f}, n={tallies[name].count}"
            if average
            else (f"n={tallies[name].count}")
        )
        axes.text(1.0, row, f" {label}", va="center", fontsize="small")
    axes.set_title("Feedback by intent (bar: share negative; label: rating)")
    return _svg(figure)


def by_language(tallies: Mapping[str, Tally]) -> bytes:
    """Distribution of ratings 1-5 per language."""
    figure = Figure(figsize=(7, 3.2), layout="constrained")
    languages = sorted(t for t in tallies if tallies[t].rated)
    if not languages:
        return _empty(figure, "no ratings in this period")
    axes = figure.add_subplot()
    width = 0.8 / len(languages)
    for index, language in enumerate(languages):
        tally = tallies[language]
        shares = [tally.ratings[r] / tally.rated for r in range(1, 6)]
        positions = [
            r + (index - (len(languages) - 1) / 2) * width for r in range(1, 6)
        ]
        axes.bar(
            positions,
            shares,
            width=width,
            label=language,
            color=LANGUAGE_COLOURS.get(language, "#888"),
        )
    axes.set_xticks(range(1, 6))
    axes.set_xlabel("rating")
    axes.set_ylabel("share")
    axes.set_title("Ratings by language")
    axes.legend(fontsize="small")
    return _svg(figure)


def accuracy_over_time(points: Sequence[AccuracyPoint]) -> bytes:
    """Weekly accuracy of the live model against staff labels, by field and language."""
    figure = Figure(figsize=(7, 3.2), layout="constrained")
    if not points:
        return _empty(figure, "no reviewed labels yet")
    axes = figure.add_subplot()
    series: dict[tuple[str, str], list[AccuracyPoint]] = {}
    for point in points:
        series.setdefault((point.field, point.language), []).append(point)
    for (field, language), rows in sorted(series.items()):
        axes.plot(
            _days([p.week for p in rows]),
            [p.accuracy for p in rows],
            marker="o",
            linestyle="-" if field == "intent" else "--",
            color=LANGUAGE_COLOURS.get(language, "#888"),
            label=f"{field} ({language})",
        )
    _date_axis(axes, _days([p.week for p in points]))
    axes.set_ylim(0, 1.05)
    axes.set_ylabel("accuracy")
    axes.set_title("Live model vs staff labels, per week")
    axes.legend(fontsize="small")
    return _svg(figure)
