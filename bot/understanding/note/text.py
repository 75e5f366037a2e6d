"""The working copy of a note's text: normalised, segmented, with claimed spans masked."""

from __future__ import annotations

import bisect
import re
import unicodedata
from dataclasses import dataclass

from bot.understanding.lexicon import Lexicon

# Punctuation that ends a clause. The enumeration comma 、 joins items of one list, so it does not.
CLAUSE_BREAKS = frozenset(",;。!?:\n")

MASK = "\x00"

_CJK = re.compile(r"[\u4e00-\u9fff]")


def is_cjk(ch: str) -> bool:
    return bool(_CJK.match(ch))


@dataclass
class Span:
    start: int
    end: int


class NoteText:
    """A note's text after NFKC normalisation, with views for matching and masking.

    All offsets handed out refer to `text`. `key` is the same text in `match_key` form
    (lower case, no spaces or dots) and `key_to_text` maps each of its characters back to `text`.
    """

    def __init__(self, raw: str, lexicon: Lexicon) -> None:
        text = unicodedata.normalize("NFKC", raw)
        text = text.replace("\r", "\n").replace("\t", " ")
        self.text = text
        lower = text.lower()
        self.lower = lower if len(lower) == len(text) else "".join(ch.lower()[0] for ch in text)

        key_chars: list[str] = []
        self.key_to_text: list[int] = []
        for index, ch in enumerate(self.lower):
            if ch.isspace() or ch in ".·・":
                continue
            key_chars.append(ch)
            self.key_to_text.append(index)
        self.key = "".join(key_chars)

        self._masked = list(text)
        self._lexicon = lexicon
        self._tokens: tuple[set[int], set[int]] | None = None
        self.clause_starts = [0] + [i + 1 for i, ch in enumerate(text) if ch in CLAUSE_BREAKS]

    # -- spans ------------------------------------------------------------------------------

    def key_span_to_text(self, start: int, end: int) -> Span:
        """Map a span of `key` to the smallest span of `text` holding the same characters."""
        return Span(self.key_to_text[start], self.key_to_text[end - 1] + 1)

    def mask(self, start: int, end: int) -> None:
        """Claim a span so that later scanners see placeholders there."""
        for index in range(start, end):
            self._masked[index] = MASK

    def is_masked(self, start: int, end: int) -> bool:
        return any(self._masked[index] == MASK for index in range(start, end))

    @property
    def masked(self) -> str:
        return "".join(self._masked)

    # -- clauses ----------------------------------------------------------------------------

    def clause_of(self, position: int) -> int:
        return bisect.bisect_right(self.clause_starts, position) - 1

    def clause_bounds(self, position: int) -> tuple[int, int]:
        index = self.clause_of(position)
        start = self.clause_starts[index]
        end = self.clause_starts[index + 1] - 1 if index + 1 < len(self.clause_starts) else len(self.text)
        return start, end

    def clause_text(self, position: int) -> str:
        start, end = self.clause_bounds(position)
        return self.text[start:end]

    # -- tokens -----------------------------------------------------------------------------

    def token_edges(self) -> tuple[set[int], set[int]]:
        if self._tokens is None:
            starts: set[int] = set()
            ends: set[int] = set()
            offset = 0
            for token in self._lexicon.tokenize(self.text):
                starts.add(offset)
                offset += len(token)
                ends.add(offset)
            self._tokens = (starts, ends)
        return self._tokens

    def on_token_edges(self, start: int, end: int) -> bool:
        """Tell whether a span starts and ends where jieba's segmentation puts word edges."""
        starts, ends = self.token_edges()
        return start in starts and end in ends
