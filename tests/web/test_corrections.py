"""Label corrections, their export as Rasa NLU data, and the accuracy report."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from ruamel.yaml import YAML
from sqlalchemy import select
from sqlalchemy.orm import Session

from crm.models import Feedback, LabelCorrection, Message, StaffUser
from crm.settings import ROOT
from tests import factories
from tests.factories import NOW
from tests.web.conftest import post_form
from web.corrections import (
    CorrectionError,
    accuracy_report,
    annotate,
    render_nlu_yaml,
    review,
    training_examples,
)


@pytest.fixture
def analyst(client: TestClient, login_as: Callable[[str], StaffUser]) -> StaffUser:
    return login_as("analyst")


def user_message(
    db: Session, text: str, language: str = "en", **fields: object
) -> Message:
    row = factories.conversation(db, language=language)
    message = factories.message(db, row, text=text, language=language, **fields)
    db.commit()
    return message


def load_yaml(path: Path) -> dict:  # type: ignore[type-arg]
    return YAML(typ="safe").load(path.read_text(encoding="utf-8"))


def test_correction_is_stored_with_who_and_when(
    client: TestClient, db: Session, analyst: StaffUser
) -> None:
    message = user_message(
        db, "cancel my plan", intent="cancel_order", sentiment="neutral"
    )
    response = post_form(
        client,
        f"/messages/{message.id}/labels",
        {"intent": "cancel_subscription", "sentiment": "negative"},
    )
    assert response.status_code == 303
    assert response.headers["location"].endswith(f"#m{message.id}")
    rows = db.scalars(
        select(LabelCorrection)
        .where(LabelCorrection.message_id == message.id)
        .order_by(LabelCorrection.field)
    ).all()
    assert [(r.field, r.old_value, r.new_value, r.staff_id) for r in rows] == [
        ("intent", "cancel_order", "cancel_subscription", analyst.id),
        ("sentiment", "neutral", "negative", analyst.id),
    ]
    assert all(abs(r.created_at - NOW).days < 3650 for r in rows)
    db.refresh(message)
    assert message.intent == "cancel_order"  # the live prediction stays as it was
    page = client.get(f"/conversations/{message.conversation_id}").text
    assert "cancel_subscription" in page and "<s>cancel_order</s>" in page


def test_saving_unchanged_labels_confirms_them_once(
    db: Session, analyst: StaffUser
) -> None:
    message = user_message(db, "hello", intent="greet", sentiment="neutral")
    labels = {"intent": "greet", "sentiment": "neutral"}
    first = review(
        session=db, target=message, labels=labels, staff_id=analyst.id, now=NOW
    )
    again = review(
        session=db, target=message, labels=labels, staff_id=analyst.id, now=NOW
    )
    assert [(r.old_value, r.new_value) for r in first] == [
        ("greet", "greet"),
        ("neutral", "neutral"),
    ]
    assert again == []


@pytest.mark.parametrize(
    ("labels", "reason"),
    [
        ({"intent": "Not An Intent"}, "not an intent name"),
        ({"intent": "no_such_intent"}, "not an intent of the bot"),
        ({"sentiment": "furious"}, "sentiment must be"),
        ({"colour": "blue"}, "unknown field"),
    ],
)
def test_bad_labels_are_refused(
    db: Session, analyst: StaffUser, labels: dict[str, str], reason: str
) -> None:
    message = user_message(db, "hello", intent="greet")
    with pytest.raises(CorrectionError, match=reason):
        review(
            session=db,
            target=message,
            labels=labels,
            staff_id=analyst.id,
            now=NOW,
            known_intents=frozenset({"greet", "goodbye"}),
        )


def test_bad_label_through_the_console_is_400(
    client: TestClient, db: Session, analyst: StaffUser
) -> None:
    message = user_message(db, "hello", intent="greet")
    response = post_form(
        client, f"/messages/{message.id}/labels", {"sentiment": "furious"}
    )
    assert response.status_code == 400
    assert post_form(client, f"/messages/{message.id}/labels", {}).status_code == 400


def test_bot_messages_cannot_be_labelled(db: Session, analyst: StaffUser) -> None:
    row = factories.conversation(db)
    bot = factories.message(db, row, sender="bot", text="Hi!", intent=None)
    with pytest.raises(CorrectionError):
        review(
            session=db,
            target=bot,
            labels={"intent": "greet"},
            staff_id=analyst.id,
            now=NOW,
        )


def test_feedback_label_correction_sets_the_staff_label(
    client: TestClient, db: Session, analyst: StaffUser
) -> None:
    row = Feedback(
        rating=2,
        text="slow delivery",
        intent="give_feedback",
        sentiment="neutral",
        language="en",
        created_at=NOW,
    )
    db.add(row)
    db.commit()
    response = post_form(
        client,
        f"/feedback/{row.id}/labels",
        {"sentiment": "negative", "back": "/inbox/feedback"},
    )
    assert response.status_code == 303
    db.refresh(row)
    assert row.staff_label == "negative"
    stored = db.scalars(
        select(LabelCorrection).where(LabelCorrection.feedback_id == row.id)
    ).one()
    assert (stored.field, stored.old_value, stored.new_value) == (
        "sentiment",
        "neutral",
        "negative",
    )


def test_annotation_marks_entities_and_masks_contacts() -> None:
    text = "order A1234567 please, mail jane@example.com or [call] 415-555-0134"
    entities = [
        {"entity": "order_number", "start": 6, "end": 14, "value": "A1234567"},
        {"entity": "email", "start": 28, "end": 44},
    ]
    line = annotate(text, entities, "en")
    assert line == (
        "order [A1234567](order_number) please, mail [someone@example.com](email) "
        "or (call) +1 202 555 0100"
    )
    assert annotate("第一行\n第二行\x00 ", [], "zh") == "第一行 第二行"
    # The conversation log may keep only entity values: they are found in the text.
    by_value = annotate(
        "我的订单A7654321呢", [{"entity": "order_number", "value": "A7654321"}], "zh"
    )
    assert by_value == "我的订单[A7654321](order_number)呢"


def test_export_writes_rasa_nlu_files_per_language(
    client: TestClient, db: Session, analyst: StaffUser, export_dir: Path
) -> None:
    en = user_message(
        db,
        "I want my money back, jane@example.com",
        intent="order_status",
        sentiment="neutral",
    )
    zh = user_message(
        db, "我要退订", language="zh", intent="cancel_order", sentiment="neutral"
    )
    confirmed = user_message(db, "hello there", intent="greet", sentiment="neutral")
    for message, labels in (
        (en, {"intent": "request_refund", "sentiment": "negative"}),
        (zh, {"intent": "cancel_subscription"}),
        (confirmed, {"intent": "greet"}),
    ):
        assert (
            post_form(client, f"/messages/{message.id}/labels", labels).status_code
            == 303
        )
    assert (
        post_form(client, "/corrections/export", {}, "/corrections").status_code == 303
    )
    english = load_yaml(export_dir / "en.yml")
    assert english["version"] == "3.1"
    assert english["nlu"] == [
        {
            "intent": "request_refund",
            "metadata": {"sentiment": "negative"},
            "examples": "- I want my money back, someone@example.com\n",
        }
    ]
    chinese = load_yaml(export_dir / "zh.yml")
    assert chinese["nlu"] == [
        {"intent": "cancel_subscription", "examples": "- 我要退订\n"}
    ]
    download = client.get("/corrections/export/zh.yml")
    assert download.status_code == 200
    assert "attachment" in download.headers["content-disposition"]
    assert "- 我要退订" in download.text
    assert client.get("/corrections/export/fr.yml").status_code == 404


def test_hostile_text_stays_valid_yaml(db: Session, analyst: StaffUser) -> None:
    nasty = 'key: value\n- "quoted" # not a comment\t[x](y) {z} \x07 |>'
    message = user_message(db, nasty, intent="greet")
    review(
        session=db,
        target=message,
        labels={"intent": "complain"},
        staff_id=analyst.id,
        now=NOW,
    )
    parsed = YAML(typ="safe").load(render_nlu_yaml(training_examples(session=db)))
    examples = [e for block in parsed["nlu"] for e in block["examples"].splitlines()]
    assert '- key: value - "quoted" # not a comment (x)(y) {z} |>' in examples


def test_accuracy_report_by_week(db: Session, analyst: StaffUser) -> None:
    week_one = NOW - timedelta(days=NOW.weekday() + 7)
    rows = [
        (user_message(db, "a", intent="greet", created_at=week_one), "greet"),
        (user_message(db, "b", intent="greet", created_at=week_one), "goodbye"),
        (user_message(db, "c", intent="thanks", created_at=NOW), "thanks"),
    ]
    for message, intent in rows:
        review(
            session=db,
            target=message,
            labels={"intent": intent},
            staff_id=analyst.id,
            now=NOW,
        )
    points = {(p.week, p.field, p.language): p for p in accuracy_report(session=db)}
    first = points[(week_one.date(), "intent", "en")]
    assert (first.reviewed, first.correct, first.accuracy) == (2, 1, 0.5)
    monday = (NOW - timedelta(days=NOW.weekday())).date()
    assert points[(monday, "intent", "en")].accuracy == 1.0


def test_corrections_page_and_plot(
    client: TestClient, db: Session, analyst: StaffUser
) -> None:
    message = user_message(db, "<b>bold</b> claim", intent="greet")
    post_form(client, f"/messages/{message.id}/labels", {"intent": "complain"})
    page = client.get("/corrections")
    assert page.status_code == 200
    assert "&lt;b&gt;bold&lt;/b&gt;" in page.text and "<b>bold</b>" not in page.text
    plot = client.get("/corrections/accuracy.svg")
    assert plot.headers["content-type"] == "image/svg+xml"
    assert plot.text.lstrip().startswith("<?xml")


BOT_PYTHON = os.environ.get("BOT_PYTHON", str(ROOT / ".venv-bot" / "bin" / "python"))
LOAD_WITH_RASA = """
import json, sys
from rasa.shared.nlu.training_data.loading import load_data
data = load_data(sys.argv[1])
print(json.dumps([[m.get("intent"), m.get("text"), m.get("metadata"),
                   [e["entity"] for e in m.get("entities") or []]]
                  for m in data.intent_examples]))
"""


@pytest.mark.skipif(not Path(BOT_PYTHON).exists(), reason="no bot env (BOT_PYTHON)")
def test_rasa_itself_reads_the_export(
    db: Session, analyst: StaffUser, export_dir: Path
) -> None:
    from web.corrections import export_corrections

    message = user_message(
        db,
        "where is A1234567",
        intent="greet",
        entities=[{"entity": "order_number", "start": 9, "end": 17}],
    )
    review(
        session=db,
        target=message,
        labels={"intent": "order_status", "sentiment": "negative"},
        staff_id=analyst.id,
        now=NOW,
    )
    export_corrections(session=db, folder=export_dir, now=NOW)
    result = subprocess.run(
        [BOT_PYTHON, "-c", LOAD_WITH_RASA, str(export_dir / "en.yml")],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    examples = json.loads(result.stdout.strip().splitlines()[-1])
    assert examples == [
        [
            "order_status",
            "where is A1234567",
            {"intent": {"sentiment": "negative"}},
            ["order_number"],
        ]
    ]
