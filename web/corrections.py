"""Staff label corrections, their export as Rasa NLU training data, and the accuracy
of the live model against staff labels.

A review of a message (or feedback row) writes one `label_corrections` row per field:
`old_value` is what the console showed, `new_value` what staff chose. A review that
keeps the label (new == old) is a confirmation; it counts for the accuracy report
but is not exported. The live model's own prediction stays untouched in `messages`.
"""

from __future__ import annotations

import logging
import os
import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crm.masking import EMAIL, PHONE, is_phone
from crm.models import Conversation, Feedback, LabelCorrection, Message
from crm.settings import ROOT

logger = logging.getLogger(__name__)

FIELDS = ("intent", "sentiment")
SENTIMENTS = ("negative", "neutral", "positive")
INTENT_NAME = re.compile(r"^[a-z][a-z0-9_]{0,40}(/[a-z0-9_]{1,40})?$")
EXPORT_DIR = ROOT / "nlu_data" / "train" / "corrections"
EXPORT_LANGUAGES = ("en", "zh")
PLACEHOLDER_EMAIL = "someone@example.com"
PLACEHOLDER_PHONE = {"en": "+1 202 555 0100", "zh": "13800138000"}
CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


class CorrectionError(ValueError):
    """A correction that cannot be stored, with the reason for staff."""


def check_value(field: str, value: str, known_intents: frozenset[str]) -> str:
    """The cleaned label `value` for `field`, or CorrectionError."""
    value = value.strip()
    if field not in FIELDS:
        raise CorrectionError(f"unknown field {field!r}; use intent or sentiment")
    if field == "sentiment":
        if value not in SENTIMENTS:
            raise CorrectionError(f"sentiment must be one of {', '.join(SENTIMENTS)}")
        return value
    if not INTENT_NAME.match(value):
        raise CorrectionError(
            f"{value[:70]!r} is not an intent name (lower case, digits and _)"
        )
    if known_intents and value not in known_intents:
        raise CorrectionError(f"{value!r} is not an intent of the bot's domain")
    return value


def latest_corrections(
    *,
    session: Session,
    message_ids: Iterable[int] = (),
    feedback_ids: Iterable[int] = (),
) -> dict[tuple[str, int, str], LabelCorrection]:
    """The newest correction per (kind, id, field) for the given rows.

    kind is "message" or "feedback"."""
    found: dict[tuple[str, int, str], LabelCorrection] = {}
    for kind, column, ids in (
        ("message", LabelCorrection.message_id, list(message_ids)),
        ("feedback", LabelCorrection.feedback_id, list(feedback_ids)),
    ):
        for chunk in _chunks(ids, 500):
            newest = (
                select(func.max(LabelCorrection.id))
                .where(column.in_(chunk))
                .group_by(column, LabelCorrection.field)
            )
            rows = session.scalars(
                select(LabelCorrection).where(LabelCorrection.id.in_(newest))
            )
            for row in rows:
                target = row.message_id if kind == "message" else row.feedback_id
                assert target is not None
                found[(kind, target, row.field)] = row
    return found


def _chunks(items: list[int], size: int) -> Iterator[list[int]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def review(
    *,
    session: Session,
    target: Message | Feedback,
    labels: dict[str, str],
    staff_id: int,
    now: datetime,
    known_intents: frozenset[str] = frozenset(),
) -> list[LabelCorrection]:
    """Store staff's labels for a message or feedback row; returns the new rows.

    A field whose label differs from the current one is a correction; a field never
    reviewed before whose label staff kept is a confirmation; anything else is
    already recorded and adds nothing."""
    if isinstance(target, Message) and target.sender != "user":
        raise CorrectionError("only customer messages carry labels")
    kind = "message" if isinstance(target, Message) else "feedback"
    previous = latest_corrections(
        session=session,
        message_ids=[target.id] if kind == "message" else [],
        feedback_ids=[target.id] if kind == "feedback" else [],
    )
    stored = []
    for field, raw in labels.items():
        value = check_value(field, raw, known_intents)
        before = previous.get((kind, target.id, field))
        shown = before.new_value if before else getattr(target, field)
        if before is not None and value == shown:
            continue
        row = LabelCorrection(
            message_id=target.id if kind == "message" else None,
            feedback_id=target.id if kind == "feedback" else None,
            field=field,
            old_value=shown,
            new_value=value,
            staff_id=staff_id,
            created_at=now,
        )
        session.add(row)
        stored.append(row)
        if isinstance(target, Feedback) and field == "sentiment":
            target.staff_label = value
    session.flush()
    return stored


# --- export as Rasa NLU training data ------------------------------------------


@dataclass(frozen=True)
class Example:
    language: str
    intent: str
    sentiment: str
    text: str
    """Rasa's markup: entities already annotated as [value](entity)."""


def training_examples(*, session: Session) -> list[Example]:
    """Every corrected message and feedback text, with its staff labels, masked."""
    examples: set[Example] = set()
    for kind in ("message", "feedback"):
        for target, labels in _corrected_rows(session, kind):
            live = {field: getattr(target, field) for field in FIELDS}
            if all(labels.get(f, live[f]) == live[f] for f in FIELDS):
                continue  # confirmations only: the model was right
            intent = labels.get("intent", live["intent"])
            sentiment = labels.get("sentiment", live["sentiment"]) or "neutral"
            if not intent or not target.text:
                continue
            language = _language_of(target)
            entities = target.entities if isinstance(target, Message) else None
            text = annotate(target.text, entities or [], language)
            if text:
                examples.add(Example(language, intent, sentiment, text))
    return sorted(examples, key=lambda e: (e.language, e.intent, e.sentiment, e.text))


def _corrected_rows(
    session: Session, kind: str
) -> Iterator[tuple[Message | Feedback, dict[str, str]]]:
    """Each corrected row of `kind` with its newest staff label per field."""
    model: Any = Message if kind == "message" else Feedback
    column = (
        LabelCorrection.message_id if kind == "message" else LabelCorrection.feedback_id
    )
    newest = (
        select(func.max(LabelCorrection.id))
        .where(column.is_not(None))
        .group_by(column, LabelCorrection.field)
    )
    rows = session.execute(
        select(model, LabelCorrection.field, LabelCorrection.new_value)
        .join(LabelCorrection, column == model.id)
        .where(LabelCorrection.id.in_(newest))
        .order_by(model.id)
    )
    current: Message | Feedback | None = None
    labels: dict[str, str] = {}
    for target, field, value in rows:
        if current is not None and target.id != current.id:
            yield current, labels
            labels = {}
        current = target
        labels[field] = value
    if current is not None:
        yield current, labels


def _language_of(target: Message | Feedback) -> str:
    language = target.language
    if language not in EXPORT_LANGUAGES and isinstance(target, Message):
        conversation: Conversation | None = target.conversation
        language = conversation.language if conversation else None
    if language not in EXPORT_LANGUAGES:
        language = "zh" if CJK.search(target.text or "") else "en"
    return str(language)


def annotate(text: str, entities: list[Any], language: str) -> str:
    """`text` as one line of Rasa markup, entities marked, email/phone replaced."""
    pieces: list[str] = []
    position = 0
    for start, end, name in _usable_entities(text, entities):
        pieces.append(_plain(text[position:start], language))
        value = _mask_for_training(text[start:end], language, name)
        value = _clean(value).replace("[", "(").replace("]", ")").strip()
        if value:
            pieces.append(f"[{value}]({name})")
        position = end
    pieces.append(_plain(text[position:], language))
    return re.sub(r"\s+", " ", "".join(pieces)).strip()


def _usable_entities(text: str, entities: list[Any]) -> list[tuple[int, int, str]]:
    """(start, end, name) of each entity; found by its value when the log kept no
    offsets. Overlaps are dropped, the first one wins."""
    spans = []
    for entity in entities:
        span = _span(text, entity) if isinstance(entity, dict) else None
        if span is not None:
            spans.append(span)
    chosen: list[tuple[int, int, str]] = []
    for span in sorted(spans):
        if not chosen or span[0] >= chosen[-1][1]:
            chosen.append(span)
    return chosen


def _span(text: str, entity: dict[str, Any]) -> tuple[int, int, str] | None:
    name = entity.get("entity")
    if not isinstance(name, str) or not re.fullmatch(r"[a-z_]{1,40}", name):
        return None
    start, end = entity.get("start"), entity.get("end")
    if isinstance(start, int) and isinstance(end, int):
        return (start, end, name) if 0 <= start < end <= len(text) else None
    value = entity.get("value")
    if isinstance(value, str) and value.strip():
        found = text.find(value)
        if found >= 0:
            return found, found + len(value), name
    return None


def _plain(segment: str, language: str) -> str:
    segment = _mask_for_training(segment, language, None)
    return _clean(segment).replace("[", "(").replace("]", ")")


def _mask_for_training(segment: str, language: str, entity: str | None) -> str:
    if entity == "email":
        return PLACEHOLDER_EMAIL
    phone = PLACEHOLDER_PHONE.get(language, PLACEHOLDER_PHONE["en"])
    if entity == "phone":
        return phone
    segment = EMAIL.sub(PLACEHOLDER_EMAIL, segment)
    return PHONE.sub(lambda m: phone if is_phone(m.group(0)) else m.group(0), segment)


def _clean(segment: str) -> str:
    """Whitespace collapsed, and nothing YAML cannot print."""
    out = []
    for ch in segment:
        if ch in "\t\r\n\u2028\u2029\x85":
            out.append(" ")
        elif unicodedata.category(ch) in ("Cc", "Cs", "Cn") or ch == "\ufeff":
            continue
        else:
            out.append(ch)
    return "".join(out)


def render_nlu_yaml(examples: Iterable[Example], *, note: str = "") -> str:
    """Rasa 3 NLU YAML: an intent block per (intent, sentiment); sentiment as metadata.

    Neutral examples carry no metadata: our sentiment component reads a missing
    `metadata.sentiment` as neutral (docs/intents.md)."""
    blocks: dict[tuple[str, str], list[str]] = defaultdict(list)
    for example in examples:
        blocks[(example.intent, example.sentiment)].append(example.text)
    lines = ['version: "3.1"']
    if note:
        lines.append(f"# {note}")
    lines.append("nlu:" if blocks else "nlu: []")
    for (intent, sentiment), texts in sorted(blocks.items()):
        lines.append(f"- intent: {intent}")
        if sentiment != "neutral":
            lines += ["  metadata:", f"    sentiment: {sentiment}"]
        lines.append("  examples: |")
        lines += [f"    - {text}" for text in texts]
    return "\n".join(lines) + "\n"


def export_corrections(
    *, session: Session, folder: Path = EXPORT_DIR, now: datetime
) -> dict[str, int]:
    """Write {en,zh}.yml into `folder`; returns the example count per language.

    A language without corrected examples gets no file (a stale one is removed)."""
    by_language: dict[str, list[Example]] = {lang: [] for lang in EXPORT_LANGUAGES}
    for example in training_examples(session=session):
        by_language.setdefault(example.language, []).append(example)
    folder.mkdir(parents=True, exist_ok=True)
    counts = {}
    for language, examples in by_language.items():
        path = folder / f"{language}.yml"
        counts[language] = len(examples)
        if not examples:
            path.unlink(missing_ok=True)
            continue
        note = (
            f"Staff label corrections ({language}), exported {now:%Y-%m-%d %H:%M} UTC "
            "by the kefu console; regenerated on every export, do not edit."
        )
        temporary = path.with_suffix(".yml.tmp")
        temporary.write_text(render_nlu_yaml(examples, note=note), encoding="utf-8")
        os.replace(temporary, path)
    logger.info("exported corrections to %s: %s", folder, counts)
    return counts


# --- accuracy of the live model against staff labels ---------------------------


@dataclass(frozen=True)
class AccuracyPoint:
    week: date
    """The Monday of the week the live model made its prediction."""
    field: str
    language: str
    reviewed: int
    correct: int

    @property
    def accuracy(self) -> float:
        return self.correct / self.reviewed if self.reviewed else 0.0


def accuracy_report(*, session: Session) -> list[AccuracyPoint]:
    """Per week, field and language: labels reviewed, and how many the model had."""
    counts: dict[tuple[date, str, str], list[int]] = defaultdict(lambda: [0, 0])
    for kind in ("message", "feedback"):
        for target, labels in _corrected_rows(session, kind):
            moment = target.created_at
            week = moment.date() - timedelta(days=moment.weekday())
            language = _language_of(target)
            for field, staff_value in labels.items():
                tally = counts[(week, field, language)]
                tally[0] += 1
                tally[1] += int(getattr(target, field) == staff_value)
    return [
        AccuracyPoint(week, field, language, reviewed, correct)
        for (week, field, language), (reviewed, correct) in sorted(counts.items())
    ]


def correction_log(
    *, session: Session, limit: int = 50
) -> list[tuple[LabelCorrection, str | None]]:
    """The newest corrections with the text they label (for the corrections page)."""
    rows = session.execute(
        select(LabelCorrection, func.coalesce(Message.text, Feedback.text))
        .outerjoin(Message, Message.id == LabelCorrection.message_id)
        .outerjoin(Feedback, Feedback.id == LabelCorrection.feedback_id)
        .order_by(LabelCorrection.id.desc())
        .limit(limit)
    )
    return [(correction, text) for correction, text in rows]
