"""Two-stage fallback in the customer's words: "Did you mean: track an order?" with
readable labels in their language, and an offer of a person when that fails too or
when an upset customer asks for something the bot does not do. Right after a yes/no
question, unreadable words answer the question instead (`action_unclear_answer`)."""

from __future__ import annotations

import json
import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, FollowupAction, UserUtteranceReverted
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import common
from actions.confirm import answer_by_new_details
from actions.handoff import upset

logger = logging.getLogger(__name__)

INTENT_LABELS: dict[str, tuple[str, str]] = {
    "greet": ("just saying hello", "打个招呼"),
    "goodbye": ("saying goodbye", "说再见"),
    "thanks": ("saying thanks", "表示感谢"),
    "affirm": ("yes", "是的"),
    "deny": ("no", "不是"),
    "bot_challenge": ("asking whether I'm a bot", "问我是不是机器人"),
    "inform": ("giving me a detail", "提供信息"),
    "order_status": ("tracking an order", "查询订单物流"),
    "cancel_order": ("cancelling an order", "取消订单"),
    "change_order": ("changing an order", "修改订单"),
    "change_shipping_address": ("changing the delivery address", "修改收货地址"),
    "request_refund": ("getting a refund", "申请退款"),
    "refund_status": ("checking on a refund", "查询退款进度"),
    "get_invoice": ("getting an invoice", "获取发票"),
    "payment_issue": ("a payment problem", "支付问题"),
    "check_subscription": ("your subscription details", "查看订阅详情"),
    "cancel_subscription": ("cancelling your subscription", "取消订阅"),
    "change_subscription": ("changing your plan", "更换套餐"),
    "newsletter_subscribe": ("signing up to the newsletter", "订阅新闻邮件"),
    "newsletter_unsubscribe": ("stopping the newsletter", "退订新闻邮件"),
    "edit_account": ("updating your contact details", "修改联系方式"),
    "delete_account": ("deleting your account", "注销账户"),
    "human_handoff": ("talking to a person", "转人工客服"),
    "complain": ("making a complaint", "投诉"),
    "give_feedback": ("leaving feedback", "提交评价"),
    "out_of_scope": ("something I can't help with", "我无法处理的问题"),
    "faq/place_order": ("how to place an order", "如何下单"),
    "faq/delivery_options": ("delivery options and times", "配送方式和时效"),
    "faq/refund_policy": ("the refund policy", "退款政策"),
    "faq/cancellation_fees": ("cancellation fees", "取消费用"),
    "faq/payment_methods": ("accepted payment methods", "支持的支付方式"),
    "faq/create_account": ("creating an account", "如何注册账户"),
    "faq/switch_account": ("switching accounts", "切换账户"),
    "faq/recover_password": ("resetting your password", "找回密码"),
    "faq/registration_problems": ("problems signing up", "注册问题"),
    "faq/contact_customer_service": ("how to reach customer service", "联系客服的方式"),
}

FAQ_QUESTIONS: dict[str, tuple[str, str]] = {
    "faq/place_order": ("how do I place an order", "怎么下单"),
    "faq/delivery_options": ("what are the delivery options", "有哪些配送方式"),
    "faq/refund_policy": ("what is your refund policy", "退款政策是什么"),
    "faq/cancellation_fees": ("are there cancellation fees", "取消订单要收费吗"),
    "faq/payment_methods": ("which payment methods do you accept", "支持哪些支付方式"),
    "faq/create_account": ("how do I create an account", "怎么注册账户"),
    "faq/switch_account": ("how do I switch accounts", "怎么切换账户"),
    "faq/recover_password": ("I forgot my password", "忘记密码了怎么办"),
    "faq/registration_problems": ("I can't register", "我注册不了"),
    "faq/contact_customer_service": (
        "how can I contact customer service",
        "怎么联系客服",
    ),
}
"""FAQ answers depend on the words, not only the intent, so "yes" to an FAQ guess
sends a plain question the response selector knows, in the customer's language."""

NOT_SUGGESTED = frozenset({"nlu_fallback", "out_of_scope", "affirm", "deny", "inform"})
CARRIED_ENTITIES = ("order_number", "email", "phone", "product", "amount", "date")


def best_guess(tracker: Tracker) -> str | None:
    """The most likely real intent behind a low-confidence message (faq/x for FAQs)."""
    for ranked in tracker.latest_message.get("intent_ranking") or []:
        name = ranked.get("name")
        if name and name not in NOT_SUGGESTED and not name.startswith("EXTERNAL_"):
            return faq_key(tracker) if name == "faq" else name
    return None


def faq_key(tracker: Tracker) -> str | None:
    selector = (tracker.latest_message.get("response_selector") or {}).get("faq") or {}
    key = (selector.get("response") or {}).get("intent_response_key")
    return key if key in FAQ_QUESTIONS else None


def payload_for(intent: str, tracker: Tracker, lang: str) -> str:
    """What the "yes" button sends: the intent with the message's entities."""
    if intent.startswith("faq/"):
        return common.label(FAQ_QUESTIONS, intent, lang)
    entities: dict[str, Any] = {}
    for name in CARRIED_ENTITIES:
        value = common.latest_entity(tracker, name)
        if value is not None:
            entities[name] = value
    return f"/{intent}{json.dumps(entities, ensure_ascii=False) if entities else ''}"


class ActionDefaultAskAffirmation(Action):
    """First stage: "Did you mean …?" with Yes / No buttons."""

    def name(self) -> str:
        return "action_default_ask_affirmation"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        if upset(tracker):  # "😡😡😡" gets the offer of a person, not a guess
            dispatcher.utter_message(response="utter_sorry_offer_person")
            return []
        lang = common.language(tracker)
        guess = best_guess(tracker)
        if guess is None or guess not in INTENT_LABELS:
            dispatcher.utter_message(response="utter_ask_rephrase")
            return []
        yes, no = common.yes_no_buttons(lang)
        dispatcher.utter_message(
            response="utter_ask_affirmation",
            intent_label=common.label(INTENT_LABELS, guess, lang),
            buttons=[
                {"title": yes["title"], "payload": payload_for(guess, tracker, lang)},
                {"title": no["title"], "payload": "/out_of_scope"},
            ],
        )
        return []


class ActionDefaultFallback(Action):
    """Second stage failed too: offer a person rather than guess again."""

    def name(self) -> str:
        return "action_default_fallback"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        dispatcher.utter_message(response="utter_offer_human")
        return [UserUtteranceReverted()]


class ActionOutOfScope(Action):
    """Outside what the bot does: say so; offer a person to an upset customer."""

    def name(self) -> str:
        return "action_out_of_scope"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        if upset(tracker):
            dispatcher.utter_message(response="utter_out_of_scope_offer_human")
        else:
            dispatcher.utter_message(response="utter_out_of_scope")
        return []


class ActionUnclearAnswer(Action):
    """Words the bot cannot read while a yes/no question waits: right after the
    question they answer it (`answer_by_new_details`); from an upset customer, or
    later on, they start the two-stage fallback as they would without a question."""

    def name(self) -> str:
        return "action_unclear_answer"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        answered = (
            None if upset(tracker) else answer_by_new_details(dispatcher, tracker)
        )
        if answered is not None:
            return answered
        return [FollowupAction("action_two_stage_fallback")]
