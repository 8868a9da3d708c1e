"""What unhappy customers talk about: topics in complaints and feedback, per language.

English is tokenised by a blank spaCy pipeline with lemmas from
spacy-lookups-data ("deliveries were delayed" -> delivery, delay); Chinese by
jieba. Each language gets its own TF-IDF matrix and NMF topics; every text is
given its strongest topic, which is then counted by segment and by month.
"""

from __future__ import annotations

import logging
import math
import re
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd
from sklearn.decomposition import NMF
from sklearn.feature_extraction.text import TfidfVectorizer
from sqlalchemy import (
    Join,
    func,
    join,
    literal,
    or_,
    outerjoin,
    select,
    union_all,
)

from analytics import AnalyticsError
from analytics.features import Bind, connect
from crm.models import Conversation, Customer, Feedback, Message

logger = logging.getLogger(__name__)

CJK = re.compile(r"[\u4e00-\u9fff]")
STOP_ZH = frozenset(
    [
        "的",
        "了",
        "是",
        "我",
        "你",
        "他",
        "她",
        "它",
        "们",
        "在",
        "有",
        "和",
        "就",
        "不",
        "也",
        "都",
        "还",
        "又",
        "很",
        "太",
        "这",
        "那",
        "一个",
        "没有",
        "什么",
        "怎么",
        "为什么",
        "可以",
        "能",
        "要",
        "会",
        "吗",
        "呢",
        "吧",
        "啊",
        "呀",
        "给",
        "把",
        "被",
        "让",
        "到",
        "说",
        "去",
        "来",
        "上",
        "下",
        "里",
        "个",
        "着",
        "过",
        "一直",
        "已经",
        "还是",
        "但是",
        "因为",
        "所以",
        "如果",
        "而且",
        "我们",
        "你们",
        "他们",
        "自己",
        "这个",
        "那个",
        "一下",
        "现在",
    ]
)
STOP_EN_EXTRA = frozenset({"hi", "hello", "pls", "please", "thank", "thanks", "ok"})


# --- tokenisers -----------------------------------------------------------------------


@lru_cache(maxsize=1)
def _english() -> Any:
    import spacy

    nlp = spacy.blank("en")
    try:
        nlp.add_pipe("lemmatizer", config={"mode": "lookup"})
        nlp.initialize()
    except Exception as error:  # spacy-lookups-data missing: words stay as written
        logger.warning("English lemmas unavailable (%s); using plain words", error)
        nlp = spacy.blank("en")
    return nlp


def english_tokens(texts: Iterable[str]) -> list[list[str]]:
    """Lower-case lemmas of alphabetic, non-stop-word tokens."""
    nlp = _english()
    out = []
    for doc in nlp.pipe(texts, batch_size=1000):
        out.append(
            [
                (t.lemma_ or t.text).lower()
                for t in doc
                if t.is_alpha
                and not t.is_stop
                and len(t.text) > 1
                and t.lower_ not in STOP_EN_EXTRA
            ]
        )
    return out


@lru_cache(maxsize=1)
def _jieba() -> Any:
    import jieba

    jieba.setLogLevel(logging.WARNING)
    jieba.initialize()
    return jieba


def chinese_tokens(texts: Iterable[str]) -> list[list[str]]:
    """jieba words of two or more characters (and Latin words), minus stop words."""
    jieba = _jieba()
    out = []
    for text in texts:
        words = (w.strip().lower() for w in jieba.lcut(text))
        out.append(
            [
                w
                for w in words
                if len(w) > 1 and w not in STOP_ZH and (CJK.search(w) or w.isalpha())
            ]
        )
    return out


TOKENISERS: dict[str, Callable[[Iterable[str]], list[list[str]]]] = {
    "en": english_tokens,
    "zh": chinese_tokens,
}


def language_of(text: str, given: str | None) -> str:
    """The given language, else zh when the text has Chinese characters, else en."""
    if given in TOKENISERS:
        return str(given)
    return "zh" if CJK.search(text) else "en"


# --- topics ---------------------------------------------------------------------------


@dataclass
class Topics:
    """NMF topics of one language and each document's strongest topic."""

    language: str
    labels: list[str]
    terms: list[list[str]]
    assignment: np.ndarray
    """Topic index per document, -1 when a document has no known word."""


def fit_topics(
    tokens: list[list[str]], language: str, *, n_topics: int = 6, seed: int = 42
) -> Topics | None:
    """TF-IDF + NMF on tokenised documents; None when there is too little text."""
    docs = [t for t in tokens if t]
    if len(docs) < 10:
        logger.info("%s: only %d texts, no topics", language, len(docs))
        return None
    vectorizer = TfidfVectorizer(
        analyzer=_identity, min_df=2 if len(docs) >= 50 else 1, max_df=0.95
    )
    try:
        matrix = vectorizer.fit_transform(tokens)
    except ValueError:
        return None
    vocabulary = np.asarray(vectorizer.get_feature_names_out())
    k = max(1, min(n_topics, len(vocabulary) - 1, len(docs) - 1))
    nmf = NMF(n_components=k, init="nndsvda", random_state=seed, max_iter=500)
    with warnings.catch_warnings():
        # a perfect fit (tiny, repetitive corpora) makes NMF take sqrt of -0.0
        warnings.simplefilter("ignore", RuntimeWarning)
        weights = nmf.fit_transform(matrix)
    terms = [vocabulary[np.argsort(-row)[:8]].tolist() for row in nmf.components_]
    assignment = np.where(weights.sum(axis=1) > 0, weights.argmax(axis=1), -1)
    labels = [" / ".join(t[:3]) for t in terms]
    return Topics(language, labels, terms, assignment)


def _identity(tokens: list[str]) -> list[str]:
    return tokens


def analyse(docs: pd.DataFrame, *, n_topics: int = 6, seed: int = 42) -> dict[str, Any]:
    """Topics per language with their share, top segments and monthly trend.

    `docs` has columns text, language and optionally segment and created_at.
    """
    if docs.empty:
        return {"documents": 0, "languages": {}}
    docs = docs.copy()
    docs["language"] = [
        language_of(str(t), g)
        for t, g in zip(docs["text"], docs["language"], strict=True)
    ]
    result: dict[str, Any] = {"documents": len(docs), "languages": {}}
    for language, part in docs.groupby("language"):
        tokens = TOKENISERS[str(language)](part["text"].astype(str).tolist())
        found = fit_topics(tokens, str(language), n_topics=n_topics, seed=seed)
        if found is None:
            continue
        result["languages"][str(language)] = _describe(part, found)
    return result


def _describe(part: pd.DataFrame, topics: Topics) -> dict[str, Any]:
    labels = np.asarray([*topics.labels, "(no known words)"], dtype=object)
    named = pd.Series(labels[topics.assignment], index=part.index, name="topic")
    shares = named.value_counts(normalize=True)
    rows: list[dict[str, Any]] = [
        {"topic": label, "terms": terms, "share": float(shares.get(label, 0.0))}
        for label, terms in zip(topics.labels, topics.terms, strict=True)
    ]
    rows.sort(key=lambda row: -row["share"])
    described: dict[str, Any] = {"documents": len(part), "topics": rows}
    if "segment" in part and part["segment"].notna().any():
        table = pd.crosstab(part["segment"].fillna("unknown"), named, normalize="index")
        described["by_segment"] = {
            str(segment): [
                {"topic": str(t), "share": float(s)}
                for t, s in row.sort_values(ascending=False).head(3).items()
            ]
            for segment, row in table.iterrows()
        }
    if "created_at" in part and part["created_at"].notna().any():
        months = pd.to_datetime(part["created_at"]).dt.strftime("%Y-%m")
        trend = pd.crosstab(months, named)
        described["trend"] = {
            "months": trend.index.tolist(),
            "series": {str(c): trend[c].astype(int).tolist() for c in trend.columns},
        }
    return described


# --- texts from the CRM ---------------------------------------------------------------


def complaint_texts(
    bind: Bind,
    as_of: date,
    *,
    days: int = 365,
    max_docs: int = 20_000,
) -> pd.DataFrame:
    """Negative feedback and complaint messages of the last `days`, with segment.

    Large tables are thinned to about `max_docs` by keeping every n-th row id.
    """
    until = datetime.combine(as_of, time())
    since = until - timedelta(days=days)
    feedback, messages = _complaint_selects(since, until)
    with connect(bind) as connection:
        counted = connection.execute(
            select(func.count()).select_from(union_all(feedback, messages).subquery())
        ).scalar_one()
        every = max(1, math.ceil(counted / max_docs)) if max_docs else 1
        if every > 1:
            feedback, messages = _complaint_selects(since, until, every)
        rows = connection.execute(union_all(feedback, messages)).all()
    frame = pd.DataFrame(
        rows, columns=["source", "text", "language", "created_at", "segment"]
    )
    logger.info("topics: %d of %d complaint texts", len(frame), counted)
    return frame


def _complaint_selects(
    since: datetime, until: datetime, every: int = 1
) -> tuple[Any, Any]:
    f, m = Feedback, Message
    by_customer = outerjoin(f, Customer, Customer.id == f.customer_id)
    feedback = _texts("feedback", f, by_customer, since, until, every).where(
        f.text.is_not(None), or_(f.rating <= 3, f.sentiment == "negative")
    )
    by_customer = join(m, Conversation, Conversation.id == m.conversation_id)
    by_customer = by_customer.outerjoin(
        Customer, Customer.id == Conversation.customer_id
    )
    messages = _texts("message", m, by_customer, since, until, every).where(
        m.sender == "user", or_(m.intent == "complain", m.sentiment == "negative")
    )
    return feedback, messages


def _texts(
    source: str,
    table: type[Feedback] | type[Message],
    joined: Join,
    since: datetime,
    until: datetime,
    every: int,
) -> Any:
    """Texts of `table` written in [since, until), with the writer's segment.

    With `every` above 1, only every n-th row id (a cheap, repeatable thinning).
    """
    query = (
        select(
            literal(source).label("source"),
            table.text,
            table.language,
            table.created_at,
            Customer.segment,
        )
        .select_from(joined)
        .where(table.created_at >= since, table.created_at < until)
    )
    if every > 1:
        query = query.where(table.id % every == 0)
    return query


def monthly_trends(
    bind: Bind, as_of: date, *, months: int = 12
) -> list[dict[str, Any]]:
    """Per whole month before `as_of`: messages, negative share, complaints."""
    first = as_of.replace(day=1)
    start = (pd.Timestamp(first) - pd.DateOffset(months=months)).date()
    until = datetime.combine(first, time())
    since = datetime.combine(start, time())
    m = Message
    with connect(bind) as connection:
        month = _month(connection.dialect.name, m.created_at)
        rows = connection.execute(
            select(
                month.label("month"),
                func.count().label("messages"),
                func.count().filter(m.sentiment == "negative").label("negative"),
                func.count().filter(m.intent == "complain").label("complaints"),
            )
            .where(m.sender == "user", m.created_at >= since, m.created_at < until)
            .group_by(month)
            .order_by(month)
        ).all()
        c = Conversation
        cmonth = _month(connection.dialect.name, c.started_at)
        escalations: dict[str, int] = dict(
            connection.execute(
                select(cmonth, func.count())
                .where(
                    c.started_at >= since,
                    c.started_at < until,
                    c.outcome == "escalated",
                )
                .group_by(cmonth)
            ).all()
        )
    return [
        {
            "month": str(r.month),
            "messages": int(r.messages),
            "negative_share": float(r.negative / r.messages) if r.messages else 0.0,
            "complaints": int(r.complaints),
            "escalations": int(escalations.get(r.month, 0)),
        }
        for r in rows
    ]


def _month(dialect: str, column: Any) -> Any:
    if dialect == "sqlite":
        return func.strftime("%Y-%m", column)
    if dialect == "postgresql":
        return func.to_char(column, "YYYY-MM")
    raise AnalyticsError(f"monthly trends do not support the {dialect} database")
