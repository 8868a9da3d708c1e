"""The demo CRM's generative model: one chunk of customers at a time, as row tuples.

Time runs in float days since `origin` (37 thirty-day months before the snapshot
moment `now`). Per chunk the model draws customer traits, then every *potential*
event up to `now` (orders and their delivery problems, invoices and failed payments,
conversations with their outcomes), turns the service experience into a monthly churn
hazard, draws the churn month, and keeps only what happened before the customer left.
docs/demo-data.md describes the process and its parameters.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import numpy as np

from crm import seed_text as tx
from crm.catalog import PLANS, PRODUCTS
from crm.models import ORDER_STATUSES

MONTH = 30.0
MONTHS = 37
HISTORY_DAYS = MONTHS * MONTH
SIGNUP_SPAN = 1095.0  # signups over the three years before `now`

Rows = list[tuple[Any, ...]]

COLUMNS: dict[str, tuple[str, ...]] = {
    "customers": (
        "id",
        "email",
        "phone",
        "name_en",
        "name_zh",
        "language",
        "city",
        "signup_date",
        "newsletter",
        "churned_on",
    ),
    "subscriptions": (
        "id",
        "customer_id",
        "plan_id",
        "status",
        "monthly_price",
        "started_on",
        "renews_on",
        "cancelled_on",
    ),
    "orders": (
        "id",
        "number",
        "customer_id",
        "placed_at",
        "status",
        "total",
        "currency",
        "shipping_address",
    ),
    "order_items": ("id", "order_id", "product_id", "quantity", "unit_price"),
    "shipments": (
        "id",
        "order_id",
        "carrier",
        "tracking_number",
        "status",
        "shipped_at",
        "estimated_delivery",
        "delivered_at",
    ),
    "shipment_events": ("id", "shipment_id", "status", "at", "location"),
    "refunds": (
        "id",
        "order_id",
        "amount",
        "status",
        "reason",
        "requested_at",
        "completed_at",
    ),
    "invoices": (
        "id",
        "number",
        "customer_id",
        "subscription_id",
        "order_id",
        "issued_on",
        "due_on",
        "amount",
        "status",
    ),
    "payments": (
        "id",
        "invoice_id",
        "amount",
        "method",
        "status",
        "failure_reason",
        "attempted_at",
    ),
    "conversations": (
        "id",
        "sender_id",
        "customer_id",
        "language",
        "started_at",
        "last_message_at",
        "outcome",
        "handoff",
        "needs_attention",
    ),
    "messages": (
        "id",
        "conversation_id",
        "event_key",
        "sender",
        "text",
        "language",
        "intent",
        "confidence",
        "sentiment",
        "sentiment_score",
        "entities",
        "created_at",
    ),
    "tickets": (
        "id",
        "customer_id",
        "conversation_id",
        "category",
        "subject",
        "status",
        "priority",
        "channel",
        "transcript",
        "created_at",
        "resolved_at",
    ),
    "feedback": (
        "id",
        "customer_id",
        "conversation_id",
        "rating",
        "text",
        "intent",
        "sentiment",
        "sentiment_score",
        "confidence",
        "language",
        "created_at",
    ),
}
TABLES = tuple(COLUMNS)

# Conversation kinds: problems first (index < len(PROBLEMS)), then the rest.
PROBLEMS = (
    "late_delivery",
    "damaged_item",
    "product_quality",
    "refund_slow",
    "failed_payment",
    "billing_error",
    "app_bug",
)
KINDS = (*PROBLEMS, "routine", "pre_churn", "cancel")
K = {name: i for i, name in enumerate(KINDS)}


@dataclass(frozen=True)
class Params:
    """The knobs of the generative model (docs/demo-data.md explains each)."""

    zh_share: float = 0.4
    order_rate: float = 0.2  # orders per month at usage 1
    routine_rate: float = 0.06  # routine conversations per month at usage 1
    app_bug_rate: float = 0.012
    billing_error_rate: float = 0.006
    standalone_ticket_rate: float = 0.008
    standalone_feedback_rate: float = 0.006
    p_cancel: float = 0.03
    p_damaged: float = 0.03
    p_quality: float = 0.02
    p_return: float = 0.03
    contact: dict[str, float] = field(
        default_factory=lambda: {
            "late_delivery": 0.55,
            "damaged_item": 0.85,
            "product_quality": 0.6,
            "refund_slow": 0.7,
            "failed_payment": 0.35,
        }
    )
    p_plan_change: float = 0.12
    p_promo: float = 0.15
    p_price_rise: float = 0.35
    price_rise_days_before: int = 245
    p_pause: float = 0.03
    # churn hazard (logit per 30-day month)
    base: float = -5.0
    experience: float = 1.3
    decay: float = 0.8
    price: float = 1.6
    low_usage: float = 1.1
    new_customer: float = 1.0
    plan_effect: tuple[float, ...] = (0.25, 0.0, -0.15, -0.35)
    # experience weights
    w_negative: float = 1.0
    w_escalated: float = 0.4
    w_unresolved: float = 1.5
    w_resolved_problem: float = -0.3
    w_positive: float = -0.2
    w_bad_feedback: float = 0.4
    w_late: float = 0.2
    w_damaged: float = 0.3
    w_failed_payment: float = 0.3
    w_invoice_failed: float = 0.5
    p_pre_churn_enquiry: float = 0.5
    p_cancel_chat: float = 0.5


@dataclass
class Ids:
    """The next free id of every table (carried from chunk to chunk)."""

    next: dict[str, int]

    def take(self, table: str, count: int) -> np.ndarray:
        start = self.next[table]
        self.next[table] = start + count
        return np.arange(start, start + count, dtype=np.int64)


@dataclass
class Context:
    """What every chunk shares: the clock, the catalog ids and the model."""

    now: datetime
    product_ids: np.ndarray
    plan_ids: np.ndarray
    params: Params = field(default_factory=Params)

    @property
    def origin(self) -> datetime:
        return self.now - timedelta(days=HISTORY_DAYS)

    @property
    def end(self) -> float:
        return HISTORY_DAYS


# --- small helpers -------------------------------------------------------------


class Clock:
    """Turns float days since `origin` into the strings SQLAlchemy stores.

    Formatting goes through the few distinct days and a table of the 86,400 times of
    day, which is much faster than formatting every timestamp on its own.
    """

    _times: np.ndarray | None = None

    def __init__(self, origin: datetime) -> None:
        self.origin_s = np.datetime64(origin, "s").astype(np.int64)

    def _secs(self, days: np.ndarray) -> np.ndarray:
        return self.origin_s + np.round(np.nan_to_num(days) * 86400).astype(np.int64)

    @classmethod
    def _time_table(cls) -> np.ndarray:
        if cls._times is None:
            cls._times = np.array(
                [
                    f" {s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}.000000"
                    for s in range(86400)
                ]
            )
        return cls._times

    def _days(self, day: np.ndarray) -> np.ndarray:
        unique, inverse = np.unique(day, return_inverse=True)
        return np.datetime_as_string(unique.astype("datetime64[D]"))[inverse]

    def stamps(self, days: np.ndarray) -> list[Any]:
        secs = self._secs(days)
        text = np.strings.add(
            self._days(secs // 86400), self._time_table()[secs % 86400]
        )
        return _with_nulls(text, days)

    def dates(self, days: np.ndarray) -> list[Any]:
        return _with_nulls(self._days(self._secs(days) // 86400), days)


def _with_nulls(text: np.ndarray, days: np.ndarray) -> list[Any]:
    missing = np.isnan(days)
    if not missing.any():
        return text.tolist()
    out = text.astype(object)
    out[missing] = None
    return out.tolist()


def _money(values: np.ndarray) -> list[float]:
    return np.round(values, 2).tolist()


def _expand(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For per-owner counts: the owner of each child and its rank within the owner."""
    owner = np.repeat(np.arange(counts.size), counts)
    starts = np.cumsum(counts) - counts
    rank = np.arange(owner.size) - np.repeat(starts, counts)
    return owner, rank


def _uniform_times(
    rng: np.random.Generator, owner: np.ndarray, start: np.ndarray, end: np.ndarray
) -> np.ndarray:
    return start[owner] + rng.random(owner.size) * (end[owner] - start[owner])


def poisson_events(
    rng: np.random.Generator, rate: np.ndarray, start: np.ndarray, end: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """A Poisson process per customer with `rate` per month on [start, end)."""
    counts = rng.poisson(rate * np.maximum(end - start, 0) / MONTH)
    owner, _ = _expand(counts)
    return owner, _uniform_times(rng, owner, start, end)


PLAN_PRICES = np.array([float(p.monthly_price) for p in PLANS])
PRODUCT_PRICES = np.array([float(p.price) for p in PRODUCTS])
PRODUCT_WEIGHTS = 1.0 / np.sqrt(PRODUCT_PRICES)
PRODUCT_WEIGHTS /= PRODUCT_WEIGHTS.sum()


# --- the chunk ---------------------------------------------------------------


class Chunk:
    """Generates the rows of `n` customers; `rows()` returns them per table."""

    def __init__(
        self, ctx: Context, ids: Ids, rng: np.random.Generator, n: int, showcase: bool
    ) -> None:
        self.ctx, self.ids, self.rng, self.n = ctx, ids, rng, n
        self.p = ctx.params
        self.clock = Clock(ctx.origin)
        self.showcase = showcase
        self.out: dict[str, Rows] = {name: [] for name in TABLES}

    def rows(self) -> dict[str, Rows]:
        self._customers()
        self._potential_orders()
        self._potential_billing()
        self._potential_conversations()
        self._churn()
        self._after_churn()
        self._emit_customers()
        self._emit_subscriptions()
        self._emit_orders()
        self._emit_refunds()
        self._emit_invoices()
        self._emit_conversations()
        self._emit_standalone()
        return self.out

    # --- customers and their traits -------------------------------------------

    def _customers(self) -> None:
        rng, n, p = self.rng, self.n, self.p
        self.cid = self.ids.take("customers", n)
        self.zh = rng.random(n) < p.zh_share
        self.signup = self.ctx.end - SIGNUP_SPAN * rng.random(n) ** 1.3
        self.usage = np.clip(rng.lognormal(0.0, 0.6, n), 0.2, 5.0)
        self.price_sens = rng.beta(2.0, 2.5, n)
        self.delivery_risk = np.clip(0.06 * rng.lognormal(0, 0.8, n), 0.01, 0.4)
        self.pay_risk = np.clip(0.02 * rng.lognormal(0, 0.9, n), 0.002, 0.3)
        cum = np.cumsum([0.4, 0.3, 0.18, 0.12])
        self.plan = np.searchsorted(cum, rng.random(n) ** (1 + self.price_sens))
        self.plan = np.minimum(self.plan, len(PLANS) - 1)
        self._pricing()
        self.method = self._payment_methods()
        self.profile = self._people()

    def _pricing(self) -> None:
        rng, n, p = self.rng, self.n, self.p
        self.rise_day = self.ctx.end - p.price_rise_days_before
        self.promo = rng.random(n) < p.p_promo
        eligible = (~self.promo) & (self.signup < self.rise_day)
        self.price_up = eligible & (rng.random(n) < p.p_price_rise)
        self.change_at = np.where(
            rng.random(n) < p.p_plan_change,
            self.signup + rng.random(n) * (self.ctx.end - self.signup),
            np.nan,
        )
        shift = rng.integers(1, len(PLANS), n)
        self.plan2 = (self.plan + shift) % len(PLANS)

    def _payment_methods(self) -> np.ndarray:
        u = self.rng.random(self.n)
        en = np.where(u < 0.75, "card", "paypal")
        zh = np.where(u < 0.45, "alipay", np.where(u < 0.85, "wechat_pay", "card"))
        return np.where(self.zh, zh, en)

    def _people(self) -> list[dict[str, Any]]:
        """Names, contact details and home address, in the customer's language."""
        rng, n = self.rng, self.n
        draws = rng.integers(0, 2**31, (n, 8)).tolist()
        zh_city = np.searchsorted(_cum(tx.ZH_CITY_WEIGHTS), rng.random(n)).tolist()
        en_city = np.searchsorted(_cum(tx.EN_CITY_WEIGHTS), rng.random(n)).tolist()
        return [
            _zh_person(int(self.cid[i]), d, tx.ZH_CITIES[zh_city[i]])
            if self.zh[i]
            else _en_person(int(self.cid[i]), d, tx.EN_CITIES[en_city[i]])
            for i, d in enumerate(draws)
        ]

    # --- orders -----------------------------------------------------------------

    def _potential_orders(self) -> None:
        rng, p = self.rng, self.p
        end = np.full(self.n, self.ctx.end)
        owner, placed = poisson_events(rng, p.order_rate * self.usage, self.signup, end)
        order = np.lexsort((placed, owner))
        self.o_cust, self.o_placed = owner[order], placed[order]
        m = owner.size
        self.o_late = rng.random(m) < self.delivery_risk[self.o_cust]
        self.o_cancel = rng.random(m) < p.p_cancel
        self.o_damaged = (rng.random(m) < p.p_damaged) & ~self.o_cancel
        self.o_quality = (rng.random(m) < p.p_quality) & ~self.o_cancel
        ret_p = np.where(self.o_damaged, 0.5, p.p_return)
        self.o_return = (rng.random(m) < ret_p) & ~self.o_cancel
        self.o_timeline = self._timeline(self.o_late)

    def _timeline(self, late: np.ndarray) -> dict[str, np.ndarray]:
        """Offsets in days from placement of each step of an order's life."""
        rng, m = self.rng, late.size
        proc = rng.uniform(0.02, 0.5, m)
        ship = proc + rng.uniform(0.3, 2.0, m)
        transit = ship + rng.uniform(0.2, 1.0, m)
        promised = rng.integers(2, 6, m).astype(float)
        est = np.floor(ship + promised + 0.5)  # promised day, from placement
        delay = np.where(late, rng.uniform(2.0, 8.0, m), -rng.uniform(0.0, 1.0, m))
        deliver = np.maximum(transit + 0.6, est + delay + rng.uniform(0.35, 0.75, m))
        ofd = deliver - rng.uniform(0.1, 0.3, m)
        ret = deliver + rng.uniform(4.0, 20.0, m)
        cancel = proc + rng.uniform(0.0, 0.4, m)
        return {
            "proc": proc,
            "ship": ship,
            "transit": transit,
            "est": est,
            "ofd": ofd,
            "deliver": deliver,
            "ret": ret,
            "cancel": cancel,
        }

    # --- subscriptions and invoices ----------------------------------------------

    def _potential_billing(self) -> None:
        rng = self.rng
        cycles = np.floor((self.ctx.end - self.signup) / MONTH).astype(int) + 1
        owner, k = _expand(cycles)
        issued = self.signup[owner] + k * MONTH
        keep = issued < self.ctx.end
        self.i_cust, self.i_issued = owner[keep], issued[keep]
        m = self.i_cust.size
        self.i_fail1 = rng.random(m) < self.pay_risk[self.i_cust]
        self.i_fail2 = self.i_fail1 & (rng.random(m) < 0.3)
        self.i_attempt = self.i_issued + rng.uniform(0.0, 0.3, m)
        self.i_retry = self.i_attempt + rng.uniform(2.5, 3.5, m)

    def _invoice_amount(self) -> np.ndarray:
        c, t = self.i_cust, self.i_issued
        changed = ~np.isnan(self.change_at[c]) & (t >= np.nan_to_num(self.change_at[c]))
        plan = np.where(changed, self.plan2[c], self.plan[c])
        factor = np.where(self.promo[c], 0.8, 1.0)
        factor = np.where(self.price_up[c] & (t >= self.rise_day), 1.15, factor)
        return PLAN_PRICES[plan] * factor

    # --- conversations (before churn is known) -------------------------------------

    def _potential_conversations(self) -> None:
        rng, p, tl = self.rng, self.p, self.o_timeline
        placed, m = self.o_placed, self.o_placed.size
        self.ep: dict[str, np.ndarray] = {}
        self._order_episodes(
            "late_delivery",
            self.o_late & ~self.o_cancel,
            placed + tl["est"] + rng.uniform(1.0, 3.0, m),
        )
        self._order_episodes(
            "damaged_item",
            self.o_damaged,
            placed + tl["deliver"] + rng.uniform(0.1, 2.0, m),
        )
        self._order_episodes(
            "product_quality",
            self.o_quality & ~self.o_damaged,
            placed + tl["deliver"] + rng.uniform(3.0, 20.0, m),
        )
        fail = self.i_fail1 & (
            rng.random(self.i_fail1.size) < p.contact["failed_payment"]
        )
        t = self.i_attempt[fail] + rng.uniform(0.05, 2.0, int(fail.sum()))
        self._add_episodes("failed_payment", self.i_cust[fail], t)
        end = np.full(self.n, self.ctx.end)
        for kind, rate in (
            ("billing_error", p.billing_error_rate),
            ("app_bug", p.app_bug_rate),
            ("routine", p.routine_rate * np.sqrt(self.usage)),
        ):
            owner, t = poisson_events(
                rng, np.broadcast_to(rate, self.n), self.signup, end
            )
            self._add_episodes(kind, owner, t)
        self._refunds()

    def _order_episodes(self, kind: str, flag: np.ndarray, t: np.ndarray) -> None:
        """Order problems that the customer contacts us about (not all do)."""
        chosen = flag & (self.rng.random(flag.size) < self.p.contact[kind])
        idx = np.flatnonzero(chosen)
        self._add_episodes(kind, self.o_cust[idx], t[idx], idx)

    def _add_episodes(
        self,
        kind: str | np.ndarray,
        cust: np.ndarray,
        t: np.ndarray,
        order: np.ndarray | None = None,
    ) -> None:
        """Append conversations-to-be, drawing their outcome, mood and feedback."""
        keep = t < self.ctx.end
        cust, t = cust[keep], t[keep]
        m = cust.size
        kinds = np.full(m, K[kind]) if isinstance(kind, str) else np.asarray(kind)[keep]
        new = {
            "kind": kinds,
            "cust": cust,
            "t": t,
            "order": np.full(m, -1) if order is None else order[keep],
        }
        new |= self._outcomes(kinds)
        self.ep = {
            k: np.concatenate([self.ep[k], v]) if self.ep else v for k, v in new.items()
        }

    def _outcomes(self, kind: np.ndarray) -> dict[str, np.ndarray]:
        rng, m = self.rng, kind.size
        problem = kind < len(PROBLEMS)
        billing = kind == K["billing_error"]
        farewell = kind >= K["pre_churn"]
        res_p = np.where(problem, np.where(billing, 0.45, 0.55), 0.88)
        esc_p = np.where(problem, np.where(billing, 0.4, 0.3), 0.04)
        res_p = np.where(farewell, 0.95, res_p)
        esc_p = np.where(farewell, 0.0, esc_p)
        u = rng.random(m)
        outcome = np.where(u < res_p, 0, np.where(u < res_p + esc_p, 1, 2))
        taken = rng.random(m) < 0.65
        neg_p = np.where(
            problem, np.where(kind == K["failed_payment"], 0.5, 0.85), 0.08
        )
        neg_p = np.where(kind == K["cancel"], 0.4, neg_p)
        negative = rng.random(m) < neg_p
        positive = ~negative & (kind == K["routine"]) & (rng.random(m) < 0.2)
        return {
            "outcome": outcome,
            "taken": taken,
            "negative": negative,
            "positive": positive,
            "rating": self._ratings(problem, outcome, taken, negative),
            "feedback": rng.random(m) < np.where(problem, 0.3, 0.1),
            "rude": (outcome == 1) & problem & (rng.random(m) < 0.2),
        }

    def _ratings(
        self,
        problem: np.ndarray,
        outcome: np.ndarray,
        taken: np.ndarray,
        negative: np.ndarray,
    ) -> np.ndarray:
        rng, m = self.rng, problem.size
        unresolved = (outcome == 2) | ((outcome == 1) & ~taken)
        low = rng.integers(1, 3, m)
        mid = rng.integers(2, 5, m)
        high = rng.choice([3, 4, 5, 5], m)
        rating = np.where(problem & unresolved, low, np.where(problem, mid, high))
        return np.where(negative & ~problem, np.minimum(rating, 2), rating)

    def _refunds(self) -> None:
        """Refunds follow damage, returns and some quality complaints."""
        rng, tl, ep = self.rng, self.o_timeline, self.ep
        dmg = ep["kind"] == K["damaged_item"]
        q_orders = ep["order"][ep["kind"] == K["product_quality"]]
        q_orders = q_orders[rng.random(q_orders.size) < 0.5]
        ret = np.flatnonzero(self.o_return)
        order = np.concatenate([ep["order"][dmg], ret, q_orders])
        reason = np.repeat([0, 1, 2], [int(dmg.sum()), ret.size, q_orders.size])
        t = np.concatenate(
            [
                ep["t"][dmg],
                self.o_placed[ret] + tl["ret"][ret],
                self.o_placed[q_orders] + tl["deliver"][q_orders] + 5.0,
            ]
        )
        order, first = np.unique(order, return_index=True)
        keep = t[first] < self.ctx.end
        self.r_order, self.r_reason = order[keep], reason[first][keep]
        self.r_req = t[first][keep]
        m = self.r_order.size
        self.r_reject = rng.random(m) < 0.1
        self.r_approve = self.r_req + rng.uniform(0.5, 3.0, m)
        slow = rng.random(m) < 0.25
        self.r_paid = self.r_approve + np.where(
            slow, rng.uniform(10, 20, m), rng.uniform(1, 5, m)
        )
        self.r_done = np.where(
            self.r_reject, self.r_req + rng.uniform(1, 5, m), self.r_paid
        )
        chase = slow & ~self.r_reject & (rng.random(m) < self.p.contact["refund_slow"])
        chase_t = self.r_req + rng.uniform(9.0, 12.0, m)
        idx = np.flatnonzero(chase)
        self._add_episodes(
            "refund_slow",
            self.o_cust[self.r_order[idx]],
            chase_t[idx],
            self.r_order[idx],
        )

    # --- churn ------------------------------------------------------------------

    def _experience(self) -> np.ndarray:
        """Per customer and month: the weighted bad experiences that month."""
        p, tl, ep = self.p, self.o_timeline, self.ep
        problem = ep["kind"] < len(PROBLEMS)
        outcome = ep["outcome"]
        unresolved = (outcome == 2) | ((outcome == 1) & ~ep["taken"])
        w = (
            p.w_negative * ep["negative"]
            + p.w_escalated * (outcome == 1)
            + p.w_unresolved * (unresolved & (problem | ep["negative"]))
            + p.w_resolved_problem * (problem & (outcome == 0))
            + p.w_positive * ep["positive"]
        )
        bad_fb = ep["feedback"] & (ep["rating"] <= 2)
        late, dmg = self.o_late & ~self.o_cancel, self.o_damaged
        events = [
            (ep["cust"], ep["t"], w),
            (ep["cust"][bad_fb], ep["t"][bad_fb] + 0.5, p.w_bad_feedback),
            (self.o_cust[late], (self.o_placed + tl["est"])[late], p.w_late),
            (self.o_cust[dmg], (self.o_placed + tl["deliver"])[dmg], p.w_damaged),
            (
                self.i_cust[self.i_fail1],
                self.i_attempt[self.i_fail1],
                p.w_failed_payment,
            ),
            (self.i_cust[self.i_fail2], self.i_retry[self.i_fail2], p.w_invoice_failed),
        ]
        cust = np.concatenate([e[0] for e in events])
        t = np.concatenate([e[1] for e in events])
        w = np.concatenate([np.broadcast_to(e[2], e[0].shape) for e in events])
        month = np.clip((t // MONTH).astype(int), 0, MONTHS - 1)
        flat = np.bincount(cust * MONTHS + month, weights=w, minlength=self.n * MONTHS)
        return flat.reshape(self.n, MONTHS)

    def _churn(self) -> None:
        p, rng = self.p, self.rng
        bad = self._experience()
        score = np.zeros_like(bad)
        for m in range(1, MONTHS):
            score[:, m] = p.decay * score[:, m - 1] + bad[:, m - 1]
        starts = np.arange(MONTHS) * MONTH
        tenure = (starts[None, :] - self.signup[:, None]) / MONTH
        raised = self.price_up[:, None] & (starts[None, :] >= self.rise_day)
        logit = (
            p.base
            + p.experience * score
            + p.price * self.price_sens[:, None] * raised
            + p.low_usage * -np.log(self.usage)[:, None]
            + p.new_customer * np.exp(-np.clip(tenure, 0, None) / 4.0)
            + np.array(p.plan_effect)[self.plan][:, None]
            - 0.3 * self.promo[:, None]
        )
        hazard = 1.0 / (1.0 + np.exp(-logit))
        hazard[tenure < 0.5] = 0.0  # nobody leaves in their first weeks
        hit = rng.random(hazard.shape) < hazard
        first = np.where(hit.any(axis=1), hit.argmax(axis=1), -1)
        lo = np.maximum(first * MONTH, self.signup + 14)
        t = lo + rng.random(self.n) * np.maximum(first * MONTH + MONTH - lo, 0)
        self.churn_t = np.where((first >= 0) & (t < self.ctx.end), t, np.nan)
        self.hazard_score = score
        self._farewells()

    def _farewells(self) -> None:
        """Churners often ask about leaving first, and some cancel in the chat."""
        rng, p = self.rng, self.p
        churned = np.flatnonzero(~np.isnan(self.churn_t))
        ct = self.churn_t[churned]
        ask = rng.random(churned.size) < p.p_pre_churn_enquiry
        ask_t = np.maximum(
            ct - rng.uniform(3.0, 60.0, churned.size), self.signup[churned] + 1
        )
        chat = rng.random(churned.size) < p.p_cancel_chat
        chat_t = ct - rng.uniform(0.0, 0.05, churned.size)
        kind = np.repeat([K["pre_churn"], K["cancel"]], [ask.sum(), chat.sum()])
        self._add_episodes(
            kind,
            np.concatenate([churned[ask], churned[chat]]),
            np.concatenate([ask_t[ask], chat_t[chat]]),
        )

    # --- keep what happened before leaving -----------------------------------------

    def _after_churn(self) -> None:
        rng, end = self.rng, self.ctx.end
        paused = np.isnan(self.churn_t) & (rng.random(self.n) < self.p.p_pause)
        pause_t = end - rng.uniform(5.0, 60.0, self.n)
        self.pause_t = np.where(paused & (pause_t > self.signup + 20), pause_t, np.nan)
        self.stop = np.fmin(np.nan_to_num(self.churn_t, nan=end), end)
        stop_bill = np.fmin(self.stop, np.nan_to_num(self.pause_t, nan=end))
        self._keep_orders(self.o_placed < self.stop[self.o_cust])
        keep_i = self.i_issued < stop_bill[self.i_cust]
        for name in ("cust", "issued", "fail1", "fail2", "attempt", "retry"):
            setattr(self, f"i_{name}", getattr(self, f"i_{name}")[keep_i])
        ep = self.ep
        slack = np.where(ep["kind"] == K["cancel"], 0.1, 0.0)
        keep_e = (ep["t"] < self.stop[ep["cust"]] + slack) & (ep["order"] >= -1)
        order = np.lexsort((ep["t"], ep["cust"]))
        order = order[keep_e[order]]
        self.ep = {k: v[order] for k, v in ep.items()}
        self.change_at = np.where(self.change_at < self.stop, self.change_at, np.nan)
        if self.showcase:
            self._add_showcase()

    def _keep_orders(self, keep: np.ndarray) -> None:
        """Drop orders placed after leaving, renumbering what points at orders."""
        remap = np.full(keep.size, -2)
        remap[keep] = np.arange(int(keep.sum()))
        for name in (
            "cust",
            "placed",
            "late",
            "cancel",
            "damaged",
            "quality",
            "return",
        ):
            setattr(self, f"o_{name}", getattr(self, f"o_{name}")[keep])
        self.o_timeline = {k: v[keep] for k, v in self.o_timeline.items()}
        ref = self.ep["order"]
        self.ep["order"] = np.where(ref >= 0, remap[np.maximum(ref, 0)], -1)
        keep_r = remap[self.r_order] >= 0
        self.r_order = remap[self.r_order][keep_r]
        for name in ("reason", "req", "reject", "approve", "paid", "done"):
            setattr(self, f"r_{name}", getattr(self, f"r_{name}")[keep_r])

    def _add_showcase(self) -> None:
        """One recent order in every status, from customers who are still here."""
        alive = np.flatnonzero(np.isnan(self.churn_t))
        if alive.size == 0:
            return
        m = len(ORDER_STATUSES)
        cust = alive[np.arange(m) % alive.size]
        late = np.zeros(m, dtype=bool)
        tl = self._timeline(late)
        status = np.array(ORDER_STATUSES)
        phase = {
            "pending": tl["proc"] / 2,
            "processing": (tl["proc"] + tl["ship"]) / 2,
            "shipped": (tl["ship"] + tl["transit"]) / 2,
            "in_transit": (tl["transit"] + tl["ofd"]) / 2,
            "out_for_delivery": (tl["ofd"] + tl["deliver"]) / 2,
            "delivered": tl["deliver"] + 3.0,
            "cancelled": tl["cancel"] + 0.5,
            "returned": tl["ret"] + 2.0,
        }
        age = np.array([phase[s][i] for i, s in enumerate(status)])
        placed = np.maximum(self.ctx.end - age, self.signup[cust] + 0.1)
        extra = {
            "cust": cust,
            "placed": placed,
            "late": late,
            "cancel": status == "cancelled",
            "damaged": late.copy(),
            "quality": late.copy(),
            "return": status == "returned",
        }
        for name, value in extra.items():
            setattr(
                self, f"o_{name}", np.concatenate([getattr(self, f"o_{name}"), value])
            )
        self.o_timeline = {
            k: np.concatenate([v, tl[k]]) for k, v in self.o_timeline.items()
        }
        first = self.o_cust.size - m
        self._showcase_refunds(
            first + ORDER_STATUSES.index("delivered"),
            first + ORDER_STATUSES.index("returned"),
        )

    def _showcase_refunds(self, delivered: int, returned: int) -> None:
        """A refund just requested and one approved but not yet paid."""
        end = self.ctx.end
        extra = {
            "order": [delivered, returned],
            "reason": [2, 1],
            "req": [end - 0.2, end - 1.5],
            "reject": [False, False],
            "approve": [end + 1.0, end - 0.5],
            "paid": [end + 3.0, end + 2.0],
            "done": [end + 3.0, end + 2.0],
        }
        for name, values in extra.items():
            old = getattr(self, f"r_{name}")
            setattr(self, f"r_{name}", np.concatenate([old, np.array(values)]))

    # --- rows: customers and subscriptions --------------------------------------

    def _emit_customers(self) -> None:
        signup = self.clock.dates(self.signup)
        churned = self.clock.dates(self.churn_t)
        lang = np.where(self.zh, "zh", "en").tolist()
        news = (self.rng.random(self.n) < 0.4).tolist()
        pr = self.profile
        self.out["customers"] = list(
            zip(
                self.cid.tolist(),
                [p["email"] for p in pr],
                [p["phone"] for p in pr],
                [p["name_en"] for p in pr],
                [p["name_zh"] for p in pr],
                lang,
                [p["city"] for p in pr],
                signup,
                news,
                churned,
                strict=True,
            )
        )

    def _emit_subscriptions(self) -> None:
        """One subscription per customer, two when the plan changed."""
        n = self.n
        changed = ~np.isnan(self.change_at)
        first_id = self.ids.take("subscriptions", n)
        second = np.flatnonzero(changed)
        second_id = self.ids.take("subscriptions", second.size)
        self.sub_first, self.sub_second = first_id, np.full(n, -1)
        self.sub_second[second] = second_id
        factor = np.where(self.promo, 0.8, np.where(self.price_up, 1.15, 1.0))
        cancel_first = np.where(changed, self.change_at, self.churn_t)
        rows = self._sub_rows(
            first_id, np.arange(n), self.plan, factor, self.signup, cancel_first
        )
        rows += self._sub_rows(
            second_id,
            second,
            self.plan2[second],
            factor[second],
            self.change_at[second],
            self.churn_t[second],
        )
        self.out["subscriptions"] = rows

    def _sub_rows(
        self,
        ids: np.ndarray,
        cust: np.ndarray,
        plan: np.ndarray,
        factor: np.ndarray,
        start: np.ndarray,
        cancel: np.ndarray,
    ) -> Rows:
        end = self.ctx.end
        cancelled = ~np.isnan(cancel)
        paused = ~cancelled & ~np.isnan(self.pause_t[cust])
        status = np.where(cancelled, "cancelled", np.where(paused, "paused", "active"))
        cycles = np.floor((end - start) / MONTH) + 1
        renew = np.where(cancelled | paused, np.nan, start + cycles * MONTH)
        price = _money(PLAN_PRICES[plan] * factor)
        started = self.clock.dates(start)
        renews = self.clock.dates(renew)
        cancels = self.clock.dates(cancel)
        plan_ids = self.ctx.plan_ids[plan].tolist()
        cust_ids = self.cid[cust].tolist()
        status_l = status.tolist()
        return list(
            zip(
                ids.tolist(),
                cust_ids,
                plan_ids,
                status_l,
                price,
                started,
                renews,
                cancels,
                strict=True,
            )
        )

    # --- rows: orders, items, shipments ------------------------------------------

    def _emit_orders(self) -> None:
        m, end = self.o_cust.size, self.ctx.end
        self.o_id = self.ids.take("orders", m)
        self.o_number = [f"A{1_000_000 + int(i)}" for i in self.o_id]
        age = end - self.o_placed
        status = self._order_status(age)
        self.o_status = status
        totals = self._emit_items(m)
        self.o_total = totals
        placed = self.clock.stamps(self.o_placed)
        cust_ids = self.cid[self.o_cust].tolist()
        status_l = status.tolist()
        total_l = _money(totals)
        address = [self.profile[c]["address"] for c in self.o_cust.tolist()]
        self.out["orders"] = list(
            zip(
                self.o_id.tolist(),
                self.o_number,
                cust_ids,
                placed,
                status_l,
                total_l,
                ["USD"] * m,
                address,
                strict=True,
            )
        )
        self._emit_shipments(status)

    def _order_status(self, age: np.ndarray) -> np.ndarray:
        tl = self.o_timeline
        status = np.select(
            [
                age < tl["proc"],
                age < tl["ship"],
                age < tl["transit"],
                age < tl["ofd"],
                age < tl["deliver"],
                self.o_return & (age >= tl["ret"]),
            ],
            [
                "pending",
                "processing",
                "shipped",
                "in_transit",
                "out_for_delivery",
                "returned",
            ],
            "delivered",
        )
        cancel = np.where(
            age >= tl["cancel"],
            "cancelled",
            np.where(age < tl["proc"], "pending", "processing"),
        )
        return np.where(self.o_cancel, cancel, status)

    def _emit_items(self, m: int) -> np.ndarray:
        rng = self.rng
        counts = rng.choice([1, 2, 3], m, p=[0.65, 0.25, 0.10])
        owner, _ = _expand(counts)
        k = owner.size
        product = rng.choice(len(PRODUCTS), k, p=PRODUCT_WEIGHTS)
        qty = rng.choice([1, 2, 3], k, p=[0.85, 0.12, 0.03])
        sale = rng.random(k) < 0.1
        unit = np.round(PRODUCT_PRICES[product] * np.where(sale, 0.9, 1.0), 2)
        ids = self.ids.take("order_items", k)
        self.o_first_product = np.zeros(m, dtype=int)
        self.o_first_product[owner[::-1]] = product[::-1]
        order_ids = self.o_id[owner].tolist()
        pids = self.ctx.product_ids[product].tolist()
        qty_l, unit_l = qty.tolist(), unit.tolist()
        self.out["order_items"] = list(
            zip(ids.tolist(), order_ids, pids, qty_l, unit_l, strict=True)
        )
        return np.bincount(owner, weights=qty * unit, minlength=m)

    def _emit_shipments(self, status: np.ndarray) -> None:
        rng, tl, end = self.rng, self.o_timeline, self.ctx.end
        idx = np.flatnonzero(~np.isin(status, ("pending", "processing", "cancelled")))
        s = idx.size
        sid = self.ids.take("shipments", s)
        zh = self.zh[self.o_cust[idx]]
        pick = rng.integers(0, 4, s)
        carrier = np.where(
            zh, np.array(tx.ZH_CARRIERS)[pick], np.array(tx.EN_CARRIERS)[pick]
        )
        base = self.o_placed[idx]
        shipped = base + tl["ship"][idx]
        deliver = base + tl["deliver"][idx]
        delivered = np.where(deliver <= end, deliver, np.nan)
        ship_status = np.where(status[idx] == "delivered", "delivered", status[idx])
        tracking = tracking_numbers(rng, carrier.tolist(), sid)
        shipped_s = self.clock.stamps(shipped)
        est_s = self.clock.dates(base + tl["est"][idx])
        deliv_s = self.clock.stamps(delivered)
        oid = self.o_id[idx].tolist()
        carrier_l, st_l = carrier.tolist(), ship_status.tolist()
        self.out["shipments"] = list(
            zip(
                sid.tolist(),
                oid,
                carrier_l,
                tracking,
                st_l,
                shipped_s,
                est_s,
                deliv_s,
                strict=True,
            )
        )
        self._emit_events(idx, sid, zh)

    def _emit_events(self, idx: np.ndarray, sid: np.ndarray, zh: np.ndarray) -> None:
        rng, tl, end = self.rng, self.o_timeline, self.ctx.end
        base = self.o_placed[idx]
        s = idx.size
        hub = np.where(
            zh,
            np.array(tx.ZH_HUBS)[rng.integers(0, len(tx.ZH_HUBS), s)],
            np.array(tx.EN_HUBS)[rng.integers(0, len(tx.EN_HUBS), s)],
        )
        city = np.array(
            [self.profile[c]["city"] for c in self.o_cust[idx]], dtype=object
        )
        late = self.o_late[idx] & (tl["est"][idx] + 0.9 < tl["deliver"][idx])
        steps = [
            ("shipped", tl["ship"][idx], hub, np.ones(s, bool)),
            ("in_transit", tl["transit"][idx], hub, np.ones(s, bool)),
            ("delayed", tl["est"][idx] + 0.8, hub, late),
            ("out_for_delivery", tl["ofd"][idx], city, np.ones(s, bool)),
            ("delivered", tl["deliver"][idx], city, np.ones(s, bool)),
            ("returned", tl["ret"][idx], hub, self.o_return[idx]),
        ]
        owner, at, where, name = [], [], [], []
        for label, offset, loc, mask in steps:
            t = base + offset
            ok = mask & (t <= end)
            owner.append(np.flatnonzero(ok))
            at.append(t[ok])
            where.append(np.asarray(loc, dtype=object)[ok])
            name.append(np.full(int(ok.sum()), label, dtype=object))
        own, t, loc, lab = (np.concatenate(x) for x in (owner, at, where, name))
        order = np.lexsort((t, own))
        own, t, loc, lab = own[order], t[order], loc[order], lab[order]
        ids = self.ids.take("shipment_events", own.size)
        stamps = self.clock.stamps(t)
        ship_ids = sid[own].tolist()
        loc_l, lab_l = loc.tolist(), lab.tolist()
        self.out["shipment_events"] = list(
            zip(ids.tolist(), ship_ids, lab_l, stamps, loc_l, strict=True)
        )

    # --- rows: refunds and billing -----------------------------------------------

    def _emit_refunds(self) -> None:
        end, m = self.ctx.end, self.r_order.size
        approved = self.r_approve <= end
        done = self.r_done <= end
        status = np.where(
            self.r_reject,
            np.where(done, "rejected", "requested"),
            np.where(done, "paid", np.where(approved, "approved", "requested")),
        )
        completed = np.where(done, self.r_done, np.nan)
        ids = self.ids.take("refunds", m)
        reasons = np.array(list(tx.REFUND_REASONS.values()))[self.r_reason].tolist()
        oid = self.o_id[self.r_order].tolist()
        amount = _money(self.o_total[self.r_order])
        req = self.clock.stamps(self.r_req)
        comp = self.clock.stamps(completed)
        status_l = status.tolist()
        self.out["refunds"] = list(
            zip(ids.tolist(), oid, amount, status_l, reasons, req, comp, strict=True)
        )

    def _emit_invoices(self) -> None:
        """Monthly subscription invoices, one invoice per order, and their payments."""
        end = self.ctx.end
        c = self.i_cust
        sub = np.where(
            (self.sub_second[c] >= 0)
            & (self.i_issued >= np.nan_to_num(self.change_at[c], nan=np.inf)),
            self.sub_second[c],
            self.sub_first[c],
        )
        open_ = self.i_issued > end - 2.0
        status = np.where(open_, "open", np.where(self.i_fail2, "failed", "paid"))
        sub_inv = {
            "cust": c,
            "sub": sub,
            "order": np.full(c.size, -1),
            "issued": self.i_issued,
            "due": self.i_issued + 7.0,
            "amount": self._invoice_amount(),
            "status": status,
            "fail1": self.i_fail1 & ~open_,
            "fail2": self.i_fail2 & ~open_,
            "attempt": self.i_attempt,
            "retry": self.i_retry,
        }
        m = self.o_cust.size
        o_fail = self.rng.random(m) < self.pay_risk[self.o_cust]
        void = self.o_cancel
        order_inv = {
            "cust": self.o_cust,
            "sub": np.full(m, -1),
            "order": self.o_id,
            "issued": self.o_placed,
            "due": self.o_placed,
            "amount": self.o_total,
            "status": np.where(void, "void", "paid"),
            "fail1": o_fail & ~void,
            "fail2": np.zeros(m, bool),
            "attempt": self.o_placed + 0.0005,
            "retry": self.o_placed + self.rng.uniform(0.002, 0.05, m),
        }
        inv = {k: np.concatenate([sub_inv[k], order_inv[k]]) for k in sub_inv}
        self._invoice_rows(inv)

    def _invoice_rows(self, inv: dict[str, np.ndarray]) -> None:
        k = inv["cust"].size
        ids = self.ids.take("invoices", k)
        issued, due = self.clock.dates(inv["issued"]), self.clock.dates(inv["due"])
        cust_ids = self.cid[inv["cust"]].tolist()
        sub_l = [None if s < 0 else s for s in inv["sub"].tolist()]
        ord_l = [None if o < 0 else o for o in inv["order"].tolist()]
        amount = _money(inv["amount"])
        status = inv["status"].tolist()
        numbers = np.strings.add("INV-", np.strings.zfill(ids.astype(str), 9)).tolist()
        self.out["invoices"] = list(
            zip(
                ids.tolist(),
                numbers,
                cust_ids,
                sub_l,
                ord_l,
                issued,
                due,
                amount,
                status,
                strict=True,
            )
        )
        self._payment_rows(ids, inv)

    def _payment_rows(self, ids: np.ndarray, inv: dict[str, np.ndarray]) -> None:
        """A first attempt for every charged invoice; a retry after each failure."""
        rng = self.rng
        charged = np.isin(inv["status"], ("paid", "failed"))
        first = np.flatnonzero(charged)
        retry = np.flatnonzero(charged & inv["fail1"])
        inv_idx = np.concatenate([first, retry])
        failed = np.concatenate([inv["fail1"][first], inv["fail2"][retry]])
        at = np.concatenate([inv["attempt"][first], inv["retry"][retry]])
        order = np.lexsort((at, inv_idx))
        inv_idx, failed, at = inv_idx[order], failed[order], at[order]
        p = inv_idx.size
        pid = self.ids.take("payments", p)
        method = self.method[inv["cust"][inv_idx]]
        reasons = [
            tx.PAYMENT_FAILURES[m_][r % len(tx.PAYMENT_FAILURES[m_])] if f else None
            for m_, f, r in zip(
                method.tolist(),
                failed.tolist(),
                rng.integers(0, 60, p).tolist(),
                strict=True,
            )
        ]
        inv_ids = ids[inv_idx].tolist()
        amount = _money(inv["amount"][inv_idx])
        stamps = self.clock.stamps(at)
        status = np.where(failed, "failed", "succeeded").tolist()
        method_l = method.tolist()
        self.out["payments"] = list(
            zip(
                pid.tolist(),
                inv_ids,
                amount,
                method_l,
                status,
                reasons,
                stamps,
                strict=True,
            )
        )

    # --- rows: conversations, messages, tickets, feedback -------------------------

    def _emit_conversations(self) -> None:
        from crm.seed_chat import ChatWriter

        writer = ChatWriter(self)
        writer.write()

    def _emit_standalone(self) -> None:
        from crm.seed_chat import standalone

        standalone(self)


def _cum(weights: tuple[int, ...]) -> np.ndarray:
    w = np.cumsum(np.asarray(weights, dtype=float))
    return w[:-1] / w[-1]


def _zh_person(cid: int, d: list[int], city: tx.City) -> dict[str, Any]:
    sur, sur_py = tx.ZH_SURNAMES[d[0] % len(tx.ZH_SURNAMES)]
    giv, giv_py = tx.ZH_GIVEN[d[1] % len(tx.ZH_GIVEN)]
    if d[2] % 10 < 3:
        name_en = f"{tx.ZH_ENGLISH_GIVEN[d[3] % len(tx.ZH_ENGLISH_GIVEN)]} {sur_py}"
    else:
        name_en = f"{sur_py} {giv_py}"
    prefix = tx.ZH_MOBILE_PREFIXES[d[4] % len(tx.ZH_MOBILE_PREFIXES)]
    street = tx.ZH_STREETS[d[5] % len(tx.ZH_STREETS)]
    address = (
        f"{city.name}市{city.region}{street}{d[6] % 998 + 1}号"
        f"{d[7] % 29 + 1}栋{d[6] % 2898 + 101}室"
    )
    domain = tx.EMAIL_DOMAINS[d[7] % 3]
    return {
        "email": f"{sur_py}{giv_py}.{cid}@{domain}".lower(),
        "phone": f"+86{prefix}{d[5] % 10**8:08d}",
        "name_en": name_en,
        "name_zh": sur + giv,
        "city": city.name,
        "address": address,
    }


def _en_person(cid: int, d: list[int], city: tx.City) -> dict[str, Any]:
    first = tx.EN_FIRST[d[0] % len(tx.EN_FIRST)]
    last = tx.EN_LAST[d[1] % len(tx.EN_LAST)]
    local = f"{first}.{last}".lower().replace("'", "")
    tail = d[4] % 10_000
    if city.country in ("US", "CA"):
        phone = f"+1{city.area}555{tail:04d}"
    elif city.country == "GB":
        phone = f"+44{city.area}900{tail % 1000:03d}"
    else:
        phone = f"+61{city.area}570{tail % 1000:03d}"
    street = tx.EN_STREETS[d[5] % len(tx.EN_STREETS)]
    region = f", {city.region}" if city.region else ""
    address = (
        f"{d[6] % 2499 + 1} {street}, {city.name}{region} {city.postcode}, "
        f"{tx.COUNTRY_NAMES[city.country]}"
    )
    domain = tx.EMAIL_DOMAINS[d[7] % 3]
    return {
        "email": f"{local}.{cid}@{domain}",
        "phone": phone,
        "name_en": f"{first} {last}",
        "name_zh": None,
        "city": city.name,
        "address": address,
    }


TRACKING = {  # carrier: (prefix, digits, suffix)
    "UPS": ("1Z", 16, ""),
    "FedEx": ("", 12, ""),
    "USPS": ("9400", 18, ""),
    "DHL": ("", 10, ""),
    "SF Express": ("SF", 12, ""),
    "JD Logistics": ("JD", 13, ""),
    "China Post EMS": ("E", 9, "CN"),
    "ZTO Express": ("7", 11, ""),
}


def tracking_numbers(
    rng: np.random.Generator, carriers: list[str], sids: np.ndarray
) -> list[str]:
    """Carrier-shaped tracking numbers; the shipment id keeps them unique."""
    noise = rng.integers(0, 10**6, sids.size).tolist()
    out = []
    for carrier, sid, r in zip(carriers, sids.tolist(), noise, strict=True):
        prefix, digits, suffix = TRACKING[carrier]
        noise = digits - 8
        body = f"{r % 10**noise:0{noise}d}{sid % 10**8:08d}"
        out.append(f"{prefix}{body}{suffix}")
    return out


def entity_json(order_number: str) -> str:
    """The `entities` value of a message that names an order."""
    return f'[{{"entity": "order_number", "value": "{order_number}"}}]'


def day_text(day: date, zh: bool) -> str:
    return f"{day.month}月{day.day}日" if zh else day.strftime("%b %d")
