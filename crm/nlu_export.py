"""Training data the bot learns from the CRM: product and brand names as a lookup."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, select

from crm.models import Product


def product_names(engine: Engine) -> list[str]:
    """Every active product's English and Chinese name and every brand, sorted."""
    with engine.connect() as connection:
        rows = connection.execute(
            select(Product.name_en, Product.name_zh, Product.brand).where(
                Product.active
            )
        ).all()
    return sorted({name for row in rows for name in row if name})


def write_catalog_lookup(engine: Engine, out: Path) -> int:
    """Write a Rasa NLU lookup table `product`; return how many names it has."""
    names = product_names(engine)
    lines = ['version: "3.1"', "nlu:", "- lookup: product", "  examples: |"]
    lines += [f"    - {name}" for name in names]
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return len(names)
