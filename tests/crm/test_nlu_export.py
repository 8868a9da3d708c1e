"""The catalog the bot learns from: every product name, Chinese names as synonyms."""

from __future__ import annotations

from pathlib import Path

import yaml
from sqlalchemy.orm import Session

from crm.nlu_export import write_catalog_lookup
from tests import factories


def test_lookup_and_synonyms_follow_the_crm(session: Session, tmp_path: Path) -> None:
    factories.product(session, name_en="Orbit Lamp", name_zh="轨道灯", brand="Orbit")
    factories.product(session, name_en="Gone Lamp", name_zh="旧灯", active=False)
    out = tmp_path / "catalog.yml"

    count = write_catalog_lookup(out, session=session)

    nlu = yaml.safe_load(out.read_text(encoding="utf-8"))["nlu"]
    lookup = nlu[0]["examples"].split("\n")
    assert {"- Orbit Lamp", "- 轨道灯", "- Orbit"} <= set(lookup)
    assert "- Gone Lamp" not in lookup
    assert count == len([line for line in lookup if line])
    assert {"synonym": "Orbit Lamp", "examples": "- 轨道灯\n"} in nlu
