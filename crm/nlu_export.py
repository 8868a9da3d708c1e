"""Training data the bot learns from the CRM: product and brand names as a lookup."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from crm.models import Product


def product_names(*, session: Session) -> list[str]:
    """Every active product's English and Chinese name and every brand, sorted."""
    rows = session.execute(
        select(Product.name_en, Product.name_zh, Product.brand).where(Product.active)
    ).all()
    return sorted({name for row in rows for name in row if name})


def chinese_synonyms(*, session: Session) -> list[tuple[str, str]]:
    """(English name, Chinese name) of every active product."""
    rows = session.execute(
        select(Product.name_en, Product.name_zh).where(Product.active)
    ).all()
    return sorted((en, zh) for en, zh in rows if en and zh)


def write_catalog_lookup(out: Path, *, session: Session) -> int:
    """Write a Rasa NLU lookup table `product`, and synonyms that map each Chinese
    name to the English one, so both languages give one entity value."""
    names = product_names(session=session)
    lines = ['version: "3.1"', "nlu:", "- lookup: product", "  examples: |"]
    lines += [f"    - {name}" for name in names]
    for english, chinese in chinese_synonyms(session=session):
        lines += [f"- synonym: {english}", "  examples: |", f"    - {chinese}"]
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return len(names)
