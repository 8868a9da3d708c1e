"""The intent names staff may choose when correcting a label.

Read from the bot's own files (bot/domain.yml or bot/domain/, and the NLU data under
nlu_data/), so a correction can only name an intent the next `rasa train` knows.
Read as text, without Rasa: the app env never imports it."""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

from crm.settings import ROOT

INTENT_LINE = re.compile(r"^\s*-\s*intent:\s*([A-Za-z0-9_/]+)\s*$", re.MULTILINE)
RESPONSE_KEY = re.compile(r"^\s+utter_([a-z0-9_]+/[a-z0-9_]+)\s*:", re.MULTILINE)
SKIPPED = ("EXTERNAL_", "nlu_fallback", "session_start", "restart", "back")


def known_intents(root: Path = ROOT) -> frozenset[str]:
    """Intent names of the domain and the NLU data (retrieval intents as faq/x)."""
    files = _bot_files(root)
    stamp = tuple((str(path), path.stat().st_mtime_ns) for path in files)
    return _read_intents(stamp)


def _bot_files(root: Path) -> list[Path]:
    found: list[Path] = []
    domain = root / "bot" / "domain.yml"
    if domain.is_file():
        found.append(domain)
    for folder in (root / "bot" / "domain", root / "nlu_data"):
        if folder.is_dir():
            found += sorted(
                p for p in folder.rglob("*.yml") if "corrections" not in p.parts
            )
    return found


@lru_cache(maxsize=4)
def _read_intents(stamp: tuple[tuple[str, int], ...]) -> frozenset[str]:
    names: set[str] = set()
    retrieval: set[str] = set()
    for path_text, _ in stamp:
        text = Path(path_text).read_text(encoding="utf-8", errors="replace")
        names.update(INTENT_LINE.findall(text))
        names.update(_domain_intents(text))
        retrieval.update(RESPONSE_KEY.findall(text))
    names |= retrieval
    base_of_retrieval = {name.split("/")[0] for name in names if "/" in name}
    return frozenset(
        name
        for name in names
        if not name.startswith(SKIPPED) and name not in base_of_retrieval
    )


def _domain_intents(text: str) -> set[str]:
    """Names under a top-level `intents:` list (plain or `- name: {...}` items)."""
    match = re.search(
        r"^intents:[ \t]*\n((?:[ \t]+.*\n|-.*\n|[ \t]*\n)*)", text, re.MULTILINE
    )
    if not match:
        return set()
    names = set()
    indent: str | None = None
    for line in match.group(1).splitlines():
        item = re.match(r"^([ \t]*)-\s*([A-Za-z0-9_/]+)\s*:?\s*(\{.*\})?\s*$", line)
        if item and indent is None:
            indent = item.group(1)
        if item and item.group(1) == indent:
            names.add(item.group(2))
    return names
