"""Script-level text helpers shared by our components (no Rasa imports)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

import regex

# Order matters: the first alternative that matches at a position wins.
_SPAN_PATTERN = regex.compile(
    r"""
    (?P<email>[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)
    | (?P<number>\+?\d+(?:[.,:/-]\d+)+|\+\d+)
    | (?P<word>[^\W\p{Han}_]+(?:['’][^\W\p{Han}\d_]+)*)
    | (?P<han>[\p{Han}〇]+)
    | (?P<symbol>\p{Sc}|\p{Extended_Pictographic})
    """,
    regex.VERBOSE,
)
_HAN = regex.compile(r"[\p{Han}〇]")
_LATIN_WORD = regex.compile(r"[^\W\p{Han}\d_]+")
_EMAIL_OR_CODE = regex.compile(r"\S+@\S+|\b\w*\d\w*\b")


class Span(NamedTuple):
    """A piece of text with its kind and character offsets."""

    kind: str
    text: str
    start: int
    end: int


def iter_spans(text: str) -> Iterator[Span]:
    """Yields emails, numbers, non-Han words, Han runs and symbols in text order.

    Whitespace and punctuation between them are dropped.
    """
    for match in _SPAN_PATTERN.finditer(text):
        kind = match.lastgroup or "word"
        yield Span(kind, match.group(), match.start(), match.end())


def han_count(text: str) -> int:
    """Number of Chinese (Han) characters in text."""
    return len(_HAN.findall(text))


def has_han(text: str) -> bool:
    """Whether text contains at least one Chinese (Han) character."""
    return _HAN.search(text) is not None


def latin_words(text: str) -> list[str]:
    """Alphabetic non-Han words, ignoring emails and codes like A1000123."""
    return _LATIN_WORD.findall(_EMAIL_OR_CODE.sub(" ", text))


def dictionary_files(path: str | Path | None) -> list[Path]:
    """The jieba user-dictionary files at path (a file or a folder of files)."""
    if path is None:
        return []
    path = Path(path)
    if path.is_dir():
        return sorted(p for p in path.iterdir() if p.is_file())
    if path.is_file():
        return [path]
    raise FileNotFoundError(f"jieba user dictionary not found: {path}")
