"""Conversations, messages, tickets and feedback of one seed chunk, from its episodes.

Each episode (a reason to talk, with its outcome and mood already drawn by the model in
crm/seed_gen.py) becomes a short scripted conversation in the customer's language.
"""

from __future__ import annotations

from datetime import timedelta
from functools import cache
from itertools import cycle
from typing import TYPE_CHECKING, Any

import numpy as np

from crm import seed_text as tx
from crm.catalog import PLANS, PRODUCTS
from crm.seed_gen import KINDS, PROBLEMS, Rows, day_text, entity_json, poisson_events

if TYPE_CHECKING:
    from crm.seed_gen import Chunk

SECOND = 1 / 86400
# Routine questions: (user template key, bot reply, needs an order, weight).
ROUTINE = (
    ("order_status", "order_status", True, 25),
    ("get_invoice", "done", True, 8),
    ("change_order", "done", True, 4),
    ("change_shipping_address", "done", True, 5),
    ("check_subscription", "subscription", False, 12),
    ("faq/delivery_options", "faq", False, 8),
    ("faq/payment_methods", "faq", False, 6),
    ("faq/refund_policy", "faq", False, 6),
    ("faq/contact_customer_service", "faq", False, 5),
    ("edit_account", "done", False, 5),
    ("newsletter_subscribe", "done", False, 3),
    ("newsletter_unsubscribe", "done", False, 3),
    ("give_feedback:pos", "done", False, 5),
    ("out_of_scope", "fallback", False, 3),
    ("change_subscription", "done", False, 3),
)
_ALL = ROUTINE
_NO_ORDER = tuple(r for r in ROUTINE if not r[2])
FAREWELL_ASKS = ("faq/cancellation_fees", "check_subscription", "change_subscription")
THEME_OF = {
    "late_delivery": "late_delivery",
    "damaged_item": "damaged_item",
    "product_quality": "product_quality",
    "refund_slow": "refund_slow",
    "failed_payment": "billing_error",
    "billing_error": "billing_error",
    "app_bug": "app_bug",
    "routine": "rude_service",
    "pre_churn": "price",
    "cancel": "price",
}
CATEGORY_OF = {
    "late_delivery": "delivery",
    "damaged_item": "refund",
    "product_quality": "product",
    "refund_slow": "refund",
    "failed_payment": "billing",
    "billing_error": "billing",
    "app_bug": "technical",
    "routine": "handoff",
    "pre_churn": "account",
    "cancel": "account",
}
STANDALONE = ("order_change", "account", "delivery", "billing", "refund", "technical")
STANDALONE_SAYS = {
    "order_change": "change_shipping_address",
    "account": "edit_account",
    "delivery": "faq/delivery_options",
    "billing": "payment_issue",
    "refund": "faq/refund_policy",
    "technical": "faq/recover_password",
}


def _cum(options: tuple[tuple[Any, ...], ...]) -> np.ndarray:
    w = np.array([o[3] for o in options], dtype=float)
    return np.cumsum(w) / w.sum()


_CUM_ALL, _CUM_NO_ORDER = _cum(_ALL), _cum(_NO_ORDER)


class Dice:
    """Pre-drawn uniforms handed out one at a time (fast inside Python loops)."""

    def __init__(self, rng: np.random.Generator, count: int) -> None:
        self.next = cycle(rng.random(max(count, 1)).tolist()).__next__

    def __call__(self) -> float:
        return self.next()

    def pick(self, options: tuple[Any, ...] | list[Any]) -> Any:
        return options[int(self.next() * len(options))]


@cache
def _plain(options: tuple[str, ...]) -> tuple[str, ...]:
    """The templates that need no order number (for customers without orders)."""
    return tuple(o for o in options if "{" not in o) or options


class ChatWriter:
    """Writes conversations (+messages, tickets, feedback) for a chunk's episodes."""

    def __init__(self, chunk: Chunk) -> None:
        self.c = chunk
        self.ep: dict[str, Any] = chunk.ep
        self.end = chunk.ctx.end
        m = self.ep["kind"].size
        self.dice = Dice(chunk.rng, 40 * m + 64)
        self.conv_ids = chunk.ids.take("conversations", m)
        self.last_order = self._last_orders()
        self._order_facts()
        # Python lists from here on: the loop below reads them element by element.
        self.ep = {k: v.tolist() for k, v in chunk.ep.items()}
        self.plans = chunk.plan.tolist()
        self.zh, self.cid = chunk.zh.tolist(), chunk.cid.tolist()
        self.stop = chunk.stop.tolist()
        self.conv_id_list = self.conv_ids.tolist()
        self.msgs: list[list[Any]] = []
        self.msg_t: list[float] = []
        self.conv: Rows = []
        self.conv_times: list[float] = []
        self.tickets: list[list[Any]] = []
        self.feedback: list[list[Any]] = []

    def _last_orders(self) -> np.ndarray:
        """For each episode: its order, else the customer's latest earlier order."""
        c, ep = self.c, self.ep
        order = np.lexsort((c.o_placed, c.o_cust))
        key_o = c.o_cust[order] * 4096.0 + c.o_placed[order]
        key_e = ep["cust"] * 4096.0 + ep["t"]
        pos = np.searchsorted(key_o, key_e) - 1
        ok = (pos >= 0) & (c.o_cust[order][np.maximum(pos, 0)] == ep["cust"])
        latest = np.where(ok, order[np.maximum(pos, 0)], -1)
        return np.where(ep["order"] >= 0, ep["order"], latest)

    def write(self) -> None:
        for e in range(len(self.ep["kind"])):
            self._conversation(e)
        self._flush()

    # --- one conversation --------------------------------------------------------

    def _conversation(self, e: int) -> None:
        ep, dice = self.ep, self.dice
        cust = int(ep["cust"][e])
        zh = bool(self.zh[cust])
        lang = "zh" if zh else "en"
        kind = KINDS[int(ep["kind"][e])]
        start = min(float(ep["t"][e]), self.end - 0.06)
        slots = self._slots(e, cust, zh)
        turns = self._script(kind, e, slots)
        conv_id = self.conv_id_list[e]
        t, low_conf, first_user, first_bot, agent = start, False, "", "", ""
        for k, (sender, key, mood) in enumerate(turns):
            t += (
                dice() * 80 + 10
                if sender == "user"
                else dice() * 1500 + 120
                if sender == "agent"
                else dice() * 3 + 1
            ) * SECOND
            text, names_order = self._say(sender, key, lang, slots)
            if sender == "user":
                intent = key.split(":")[0]
                conf = self._confidence(kind, key)
                low_conf |= conf < 0.5
                score = _score(mood, dice())
                ent = entity_json(slots["order"]) if names_order else None
                first_user = first_user or text
                self.msgs.append(
                    [
                        conv_id,
                        f"seed:{k}",
                        "user",
                        text,
                        lang,
                        intent,
                        conf,
                        mood,
                        score,
                        ent,
                    ]
                )
            else:
                first_bot = first_bot or text
                agent = text if sender == "agent" else agent
                self.msgs.append(
                    [
                        conv_id,
                        f"seed:{k}",
                        sender,
                        text,
                        lang,
                        None,
                        None,
                        None,
                        None,
                        None,
                    ]
                )
            self.msg_t.append(t)
        self._conversation_row(e, conv_id, cust, lang, start, t, low_conf)
        self._ticket(
            e, kind, conv_id, cust, start, slots, (first_user, first_bot, agent), lang
        )
        self._feedback(e, kind, conv_id, cust, t, lang, slots)

    def _conversation_row(
        self,
        e: int,
        conv_id: int,
        cust: int,
        lang: str,
        start: float,
        last: float,
        low_conf: bool,
    ) -> None:
        ep = self.ep
        outcome = int(ep["outcome"][e])
        taken = bool(ep["taken"][e])
        handoff = "none" if outcome != 1 else ("released" if taken else "requested")
        attention = (
            (outcome == 1 and not taken)
            or (bool(ep["negative"][e]) and outcome != 0)
            or low_conf
        )
        self.conv.append(
            (
                conv_id,
                f"seed-{conv_id:09d}",
                self.cid[cust],
                lang,
                None,
                None,
                ("resolved", "escalated", "abandoned")[outcome],
                handoff,
                attention,
            )
        )
        self.conv_times.extend((start, last))

    def _order_facts(self) -> None:
        """Per episode, vectorised: the order's product, promised and real day."""
        c, o = self.c, self.last_order
        if c.o_placed.size == 0:
            o = np.full(o.size, -1)
        at = np.maximum(o, 0)
        placed = c.o_placed[at] if c.o_placed.size else np.zeros(o.size)
        est = placed + (c.o_timeline["est"][at] if c.o_placed.size else 0.0)
        arrival = placed + (c.o_timeline["deliver"][at] if c.o_placed.size else 0.0)
        noon = 0.5  # origin is noon; whole days count from its midnight
        self.f_order = o.tolist()
        self.f_product = (c.o_first_product[at] if c.o_placed.size else at).tolist()
        self.f_est = np.floor(est + noon).astype(int).tolist()
        self.f_eta = np.floor(arrival + noon).astype(int).tolist()
        self.f_delivered = (arrival < self.ep["t"]).tolist()
        self.day_cache: dict[tuple[int, bool], str] = {}

    def _day(self, offset: int, zh: bool) -> str:
        key = (offset, zh)
        text = self.day_cache.get(key)
        if text is None:
            day = self.c.ctx.origin.date() + timedelta(days=offset)
            text = self.day_cache[key] = day_text(day, zh)
        return text

    def _slots(self, e: int, cust: int, zh: bool) -> dict[str, str]:
        c, dice = self.c, self.dice
        o = self.f_order[e]
        if o >= 0:
            product = PRODUCTS[self.f_product[e]]
            number = c.o_number[o]
            est, eta = self._day(self.f_est[e], zh), self._day(self.f_eta[e], zh)
        else:
            product = dice.pick(PRODUCTS)
            number, est = "", self._day(int(self.end + 0.5), zh)
            eta = est
        plan = PLANS[self.plans[cust]]
        price = float(plan.monthly_price)
        return {
            "order": number,
            "product": product.name_zh if zh else product.name_en,
            "date": est,
            "eta": eta,
            "delivered": "1" if o >= 0 and self.f_delivered[e] else "",
            "amount": f"{price:.2f}美元" if zh else f"${price:.2f}",
            "plan": plan.name_zh if zh else plan.name_en,
            "name": dice.pick(tx.AGENT_NAMES_ZH if zh else tx.AGENT_NAMES_EN),
            "has_order": "1" if o >= 0 else "",
        }

    def _say(
        self, sender: str, key: str, lang: str, slots: dict[str, str]
    ) -> tuple[str, bool]:
        """The text of one turn, and whether it names the order."""
        group = tx.USER if sender == "user" else tx.BOT
        options = group[key][lang]
        if not slots["has_order"]:
            options = _plain(options)
        template = self.dice.pick(options)
        if "{" not in template:
            return template, False
        if key == "subscription":
            return template.format(**(slots | {"product": slots["plan"]})), False
        if key in ("order_status", "delivered") and sender == "bot":
            return template.format(**(slots | {"date": slots["eta"]})), False
        return template.format(**slots), "{order}" in template

    def _confidence(self, kind: str, key: str) -> float:
        dice = self.dice
        shaky = 0.2 if kind == "app_bug" or key == "out_of_scope" else 0.06
        if dice() < shaky:
            return round(0.3 + 0.25 * dice(), 3)
        return round(0.72 + 0.27 * dice() ** 0.5, 3)

    # --- scripts -------------------------------------------------------------------

    def _script(
        self, kind: str, e: int, slots: dict[str, str]
    ) -> list[tuple[str, str, str | None]]:
        ep, dice = self.ep, self.dice
        neg = bool(ep["negative"][e])
        mood = "negative" if neg else "neutral"
        turns: list[tuple[str, str, str | None]] = []
        if dice() < 0.3:
            turns += [("user", "greet", "neutral"), ("bot", "greet", None)]
        turns += self._body(kind, neg, mood, slots)
        turns += self._ending(int(ep["outcome"][e]), bool(ep["taken"][e]), mood, kind)
        return turns

    def _body(
        self, kind: str, neg: bool, mood: str, slots: dict[str, str]
    ) -> list[tuple[str, str, str | None]]:
        dice = self.dice
        complain: list[tuple[str, str, str | None]] = (
            [("user", f"complain:{kind}", "negative"), ("bot", "apology", None)]
            if neg
            else []
        )
        if kind == "late_delivery":
            ask = "order_status:neg" if neg else "order_status"
            return [("user", ask, mood), ("bot", "order_status", None), *complain]
        if kind == "damaged_item":
            return [
                ("user", "complain:damaged_item", "negative"),
                ("bot", "ask_order", None),
                ("user", "inform", "neutral"),
                ("bot", "refund_started", None),
            ]
        if kind == "product_quality":
            return [
                ("user", "complain:product_quality", "negative"),
                ("bot", "apology", None),
                ("user", "request_refund", mood),
                ("bot", "refund_started", None),
            ]
        if kind == "refund_slow":
            return [
                ("user", "refund_status", mood),
                ("bot", "refund_status", None),
                *complain,
            ]
        if kind == "failed_payment":
            return [("user", "payment_issue", mood), ("bot", "payment_help", None)]
        if kind == "billing_error":
            return [
                ("user", "payment_issue:neg", "negative"),
                ("bot", "apology", None),
                *complain,
            ]
        if kind == "app_bug":
            ask = dice.pick(("faq/recover_password", "faq/registration_problems"))
            return [("user", ask, "neutral"), ("bot", "password_help", None), *complain]
        if kind == "pre_churn":
            ask = dice.pick(FAREWELL_ASKS)
            reply = "subscription" if ask == "check_subscription" else "faq"
            return [("user", ask, mood), ("bot", reply, None)]
        if kind == "cancel":
            return [("user", "cancel_subscription", mood), ("bot", "retention", None)]
        return self._routine(neg, slots)

    def _routine(
        self, neg: bool, slots: dict[str, str]
    ) -> list[tuple[str, str, str | None]]:
        options, cum = (
            (_ALL, _CUM_ALL) if slots["has_order"] else (_NO_ORDER, _CUM_NO_ORDER)
        )
        key, reply, _, _ = options[int(np.searchsorted(cum, self.dice()))]
        if reply == "order_status" and slots["delivered"]:
            reply = "delivered"
        mood = "positive" if key.endswith(":pos") else "neutral"
        turns: list[tuple[str, str, str | None]] = [
            ("user", key, mood),
            ("bot", reply, None),
        ]
        if neg:
            turns += [
                ("user", "complain:rude_service", "negative"),
                ("bot", "apology", None),
            ]
        return turns

    def _ending(
        self, outcome: int, taken: bool, mood: str, kind: str
    ) -> list[tuple[str, str, str | None]]:
        if outcome == 0:
            if kind == "cancel" or self.dice() < 0.4:
                return [("user", "goodbye", "neutral"), ("bot", "goodbye", None)]
            return [("user", "thanks", "positive"), ("bot", "goodbye", None)]
        if outcome == 1:
            turns: list[tuple[str, str, str | None]] = [
                ("user", "human_handoff", mood),
                ("bot", "handoff", None),
            ]
            return [*turns, ("agent", "agent", None)] if taken else turns
        return []

    # --- tickets and feedback --------------------------------------------------------

    def _ticket(
        self,
        e: int,
        kind: str,
        conv_id: int,
        cust: int,
        start: float,
        slots: dict[str, str],
        lines: tuple[str, str, str],
        lang: str,
    ) -> None:
        ep, dice = self.ep, self.dice
        if int(ep["outcome"][e]) != 1 or dice() > 0.8:
            return
        category = CATEGORY_OF[kind]
        subject = dice.pick(tx.TICKET_SUBJECTS[category])
        if slots["order"] and kind in (
            "late_delivery",
            "damaged_item",
            "product_quality",
            "refund_slow",
        ):
            subject += f": {slots['order']}"
        taken = bool(ep["taken"][e])
        resolved = start + 0.05 + 3 * dice() if taken else np.nan
        if taken and resolved <= self.end:
            status = "closed" if self.end - resolved > 7 else "solved"
        else:
            resolved = np.nan
            status = "open" if self.end - start < 14 or taken else "pending"
        problem = kind in PROBLEMS and bool(ep["negative"][e])
        priority = _priority(dice(), problem)
        who = (
            ("客户", "机器人", "客服") if lang == "zh" else ("customer", "bot", "agent")
        )
        transcript = f"{who[0]}: {lines[0]}\n{who[1]}: {lines[1]}"
        if lines[2]:
            transcript += f"\n{who[2]}: {lines[2]}"
        self.tickets.append(
            [
                self.cid[cust],
                conv_id,
                category,
                subject,
                status,
                priority,
                "chat",
                transcript,
                start + 0.001,
                resolved,
            ]
        )

    def _feedback(
        self,
        e: int,
        kind: str,
        conv_id: int,
        cust: int,
        last: float,
        lang: str,
        slots: dict[str, str],
    ) -> None:
        ep, dice = self.ep, self.dice
        stop = self.stop[cust] + 0.1
        if bool(ep["feedback"][e]):
            rating = int(ep["rating"][e])
            theme = THEME_OF[kind]
            unanswered = int(ep["outcome"][e]) == 1 and not bool(ep["taken"][e])
            if unanswered and dice() < 0.4:
                theme = "rude_service"
            at = last + (60 + 540 * dice()) * SECOND
            self.feedback.append(
                feedback_row(
                    dice, self.cid[cust], conv_id, rating, theme, lang, slots, at
                )
            )
        if bool(ep["rude"][e]):
            at = last + 0.5 + 4.5 * dice()
            if at < min(stop, self.end):
                self.feedback.append(
                    feedback_row(
                        dice,
                        self.cid[cust],
                        conv_id,
                        1,
                        "rude_service",
                        lang,
                        slots,
                        at,
                    )
                )

    # --- rows ---------------------------------------------------------------------

    def _flush(self) -> None:
        c, out = self.c, self.c.out
        times = c.clock.stamps(np.array(self.conv_times))
        out["conversations"] = [
            (*row[:4], times[2 * j], times[2 * j + 1], *row[6:])
            for j, row in enumerate(self.conv)
        ]
        ids = c.ids.take("messages", len(self.msgs))
        stamps = c.clock.stamps(np.array(self.msg_t))
        out["messages"] = [
            (int(ids[j]), *m, stamps[j]) for j, m in enumerate(self.msgs)
        ]
        out["tickets"] = ticket_rows(c, self.tickets)
        out["feedback"] = feedback_rows(c, self.feedback)


def _score(mood: str | None, u: float) -> float:
    if mood == "negative":
        return round(-0.45 - 0.5 * u, 3)
    if mood == "positive":
        return round(0.4 + 0.5 * u, 3)
    return round(-0.15 + 0.3 * u, 3)


def _priority(u: float, problem: bool) -> str:
    cut = (0.05, 0.45, 0.85) if problem else (0.15, 0.7, 0.95)
    return ("low", "normal", "high", "urgent")[int(np.searchsorted(cut, u))]


def feedback_row(
    dice: Dice,
    cust_id: int,
    conv_id: int | None,
    rating: int,
    theme: str,
    lang: str,
    slots: dict[str, str],
    at: float,
) -> list[Any]:
    """A rating with words that fit it: a complaint theme, a shrug or praise."""
    if rating <= 2:
        text = dice.pick(tx.THEMES[theme][lang])
        if dice() < 0.5:
            text += (" " if lang == "en" else "") + dice.pick(tx.THEMES[theme][lang])
        closer = dice.pick(tx.CLOSERS[lang])
        text = f"{text} {closer}".strip() if lang == "en" else text + closer
        intent, mood = "complain", "negative"
    elif rating == 3:
        text, intent, mood = dice.pick(tx.NEUTRAL[lang]), "give_feedback", "neutral"
    else:
        text = dice.pick(tx.PRAISE[lang]).format(**slots)
        intent, mood = "give_feedback", "positive"
    return [
        cust_id,
        conv_id,
        rating,
        text,
        intent,
        mood,
        _score(mood, dice()),
        round(0.6 + 0.39 * dice(), 3),
        lang,
        at,
    ]


def ticket_rows(c: Chunk, tickets: list[list[Any]]) -> Rows:
    ids = c.ids.take("tickets", len(tickets))
    created = c.clock.stamps(np.array([t[8] for t in tickets], dtype=float))
    resolved = c.clock.stamps(np.array([t[9] for t in tickets], dtype=float))
    return [
        (int(ids[j]), *t[:8], created[j], resolved[j]) for j, t in enumerate(tickets)
    ]


def feedback_rows(c: Chunk, rows: list[list[Any]]) -> Rows:
    ids = c.ids.take("feedback", len(rows))
    created = c.clock.stamps(np.array([r[9] for r in rows], dtype=float))
    return [(int(ids[j]), *r[:9], created[j]) for j, r in enumerate(rows)]


def standalone(c: Chunk) -> None:
    """Tickets by email, phone or web form, and reviews left outside any chat."""
    rng, p = c.rng, c.p
    dice = Dice(rng, 64 + 16 * c.n)
    owner, t = poisson_events(
        rng, np.full(c.n, p.standalone_ticket_rate), c.signup, c.stop
    )
    tickets = [
        _standalone_ticket(c, dice, int(o), float(at))
        for o, at in zip(owner, t, strict=True)
    ]
    c.out["tickets"] += ticket_rows(c, tickets)
    owner, t = poisson_events(
        rng, np.full(c.n, p.standalone_feedback_rate), c.signup, c.stop
    )
    rows = []
    for o, at in zip(owner.tolist(), t.tolist(), strict=True):
        lang = "zh" if c.zh[o] else "en"
        rating = int(rng.choice([1, 2, 3, 4, 5], p=[0.12, 0.1, 0.15, 0.28, 0.35]))
        theme = dice.pick(tuple(tx.THEMES))
        product = dice.pick(PRODUCTS)
        slots = {"product": product.name_zh if lang == "zh" else product.name_en}
        rows.append(
            feedback_row(dice, int(c.cid[o]), None, rating, theme, lang, slots, at)
        )
    c.out["feedback"] += feedback_rows(c, rows)


def _standalone_ticket(c: Chunk, dice: Dice, cust: int, at: float) -> list[Any]:
    lang = "zh" if c.zh[cust] else "en"
    category = dice.pick(STANDALONE)
    says = dice.pick(_plain(tx.USER[STANDALONE_SAYS[category]][lang]))
    reply = dice.pick(tx.BOT["done"][lang])
    who = ("客户", "客服") if lang == "zh" else ("customer", "agent")
    resolved = at + 0.1 + 4 * dice()
    if resolved <= c.ctx.end:
        status = "closed" if c.ctx.end - resolved > 7 else "solved"
    else:
        status, resolved = dice.pick(("open", "pending")), np.nan
    return [
        int(c.cid[cust]),
        None,
        category,
        dice.pick(tx.TICKET_SUBJECTS[category]),
        status,
        _priority(dice(), False),
        dice.pick(("email", "phone", "web")),
        f"{who[0]}: {says}\n{who[1]}: {reply}",
        at,
        resolved,
    ]
