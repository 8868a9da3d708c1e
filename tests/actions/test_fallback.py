"""Two-stage fallback with readable labels in the customer's language."""

from __future__ import annotations

import pytest
from rasa_sdk.events import FollowupAction, UserUtteranceReverted

from actions.fallback import (
    FAQ_QUESTIONS,
    INTENT_LABELS,
    ActionDefaultAskAffirmation,
    ActionDefaultFallback,
    ActionOutOfScope,
    ActionUnclearAnswer,
)
from tests.actions.conftest import DOMAIN, answer, make_tracker, run, user_event
from tests.actions.expected import YES_NO, asked, render, said

RANKING = [
    {"name": "nlu_fallback", "confidence": 0.3},
    {"name": "request_refund", "confidence": 0.28},
    {"name": "refund_status", "confidence": 0.2},
]


def test_did_you_mean_in_english_with_the_entities_kept() -> None:
    tracker = make_tracker(
        text="monee bak A1000123 pls",
        intent="nlu_fallback",
        ranking=RANKING,
        entities={"order_number": "A1000123"},
    )
    assert run(ActionDefaultAskAffirmation(), tracker) == (
        [],
        [
            said(
                "utter_ask_affirmation",
                intent_label="getting a refund",
                buttons=[
                    {
                        "title": "Yes",
                        "payload": '/request_refund{"order_number": "A1000123"}',
                    },
                    {"title": "No", "payload": "/out_of_scope"},
                ],
            )
        ],
    )


def test_did_you_mean_in_chinese() -> None:
    tracker = make_tracker(
        text="钱 退", intent="nlu_fallback", ranking=RANKING, language="zh"
    )
    _, messages = run(ActionDefaultAskAffirmation(), tracker)
    assert render(messages[0], "zh") == "您是想问：申请退款？"
    assert messages[0]["buttons"] == [
        {"title": "是的", "payload": "/request_refund"},
        {"title": "不用了", "payload": "/out_of_scope"},
    ]


def test_an_upset_unclear_message_gets_a_person_not_a_guess() -> None:
    """Seen in a walkthrough: "😡😡😡" got "Did you mean: registration problems?"."""
    angry = {"label": "negative", "score": 0.9, "confidence": 0.9}
    tracker = make_tracker(
        text="😡😡😡", intent="nlu_fallback", ranking=RANKING, sentiment=angry
    )
    assert run(ActionDefaultAskAffirmation(), tracker) == (
        [],
        [said("utter_sorry_offer_person")],
    )


CANCEL = {
    "kind": "cancel_order",
    "question": {"response": "utter_confirm_cancel_order", "order_number": "A1000123"},
    "order_number": "A1000123",
}
ANGRY = {"label": "negative", "score": 0.9, "confidence": 0.9}


def test_unreadable_words_right_after_a_question_get_the_question_again() -> None:
    """Seen in a walkthrough: an answer the bot could not read, right after "Send
    order A1000177 to ...?", got "Did you mean: leaving feedback?"."""
    unclear = answer(7, "nlu_fallback", CANCEL, text="hmm wel idk", ranking=RANKING)
    assert run(ActionUnclearAnswer(), unclear) == (
        asked(CANCEL),
        [
            said("utter_answer_question_first"),
            said("utter_confirm_cancel_order", order_number="A1000123", buttons=YES_NO),
        ],
    )


@pytest.mark.parametrize(
    "situation",
    [
        {"meanwhile": [user_event("delivery options?", "faq")]},
        {"sentiment": ANGRY},
    ],
    ids=["question asked earlier", "upset"],
)
def test_unreadable_words_start_the_fallback_later_or_when_upset(
    situation: dict,
) -> None:
    unclear = answer(7, "nlu_fallback", CANCEL, text="😡😡😡", **situation)
    assert run(ActionUnclearAnswer(), unclear) == (
        [FollowupAction("action_two_stage_fallback")],
        [],
    )


def test_an_faq_guess_sends_a_question_the_selector_knows() -> None:
    tracker = make_tracker(
        text="returns??",
        intent="nlu_fallback",
        language="zh",
        ranking=[{"name": "nlu_fallback"}, {"name": "faq"}],
        response_selector={
            "faq": {"response": {"intent_response_key": "faq/refund_policy"}}
        },
    )
    _, messages = run(ActionDefaultAskAffirmation(), tracker)
    assert messages[0]["intent_label"] == "退款政策"
    assert messages[0]["buttons"][0]["payload"] == "退款政策是什么"


def test_nothing_to_suggest_asks_to_rephrase() -> None:
    tracker = make_tracker(
        intent="nlu_fallback",
        ranking=[{"name": "nlu_fallback"}, {"name": "out_of_scope"}],
    )
    assert run(ActionDefaultAskAffirmation(), tracker) == (
        [],
        [said("utter_ask_rephrase")],
    )


def test_giving_up_offers_a_person() -> None:
    assert run(ActionDefaultFallback(), make_tracker(intent="nlu_fallback")) == (
        [UserUtteranceReverted()],
        [said("utter_offer_human")],
    )


@pytest.mark.parametrize("language", ["en", "zh"])
def test_out_of_scope_offers_a_person_only_to_an_upset_customer(language: str) -> None:
    calm = make_tracker(text="tell me a joke", intent="out_of_scope", language=language)
    upset = make_tracker(
        text="why can't you just tell me the weather, useless!!",
        intent="out_of_scope",
        sentiment={"label": "negative", "score": -0.9, "confidence": 0.9},
        language=language,
    )

    assert run(ActionOutOfScope(), calm) == ([], [said("utter_out_of_scope")])
    events, messages = run(ActionOutOfScope(), upset)
    assert (events, messages) == ([], [said("utter_out_of_scope_offer_human")])
    offer = DOMAIN["responses"]["utter_out_of_scope_offer_human"]
    payloads = [[b["payload"] for b in v["buttons"]] for v in offer]
    assert payloads == [["/human_handoff", "/deny"]] * 2
    assert render(messages[0], language)


def test_every_intent_and_faq_has_a_label() -> None:
    intents = {i for i in DOMAIN["intents"] if not i.startswith("EXTERNAL_")} - {"faq"}
    faqs = {
        k.removeprefix("utter_")
        for k in DOMAIN["responses"]
        if k.startswith("utter_faq/")
    }
    assert intents | faqs <= set(INTENT_LABELS)
    assert faqs == set(FAQ_QUESTIONS)
