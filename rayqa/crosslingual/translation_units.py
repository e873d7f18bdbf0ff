"""The pieces a passage is machine-translated in, and how they join again.

Translate-test (Cui et al. 2019, section 3) translates a target-language passage into the
source language and back. A translator handles a sentence better than a page, so a
passage may go sentence by sentence (``passage_unit: sentence``) and be joined again in
the other language. The batch job (`rayqa.pipelines.translate_test`) and the Serve
ingress cut and join the same way.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from rayqa.langs import uses_spaces

# A sentence ends after . ! ? (and their full-width and CJK forms) and any closing
# quotes or brackets; Latin marks only before whitespace ("3.5" and "e.g." stay whole
# unless a space follows).
_SENTENCE_END = re.compile(r"(?<=[。！？])[」』”’）)]*|(?<=[.!?])[\"'”’)\]]*(?=\s)")


def split_sentences(text: str) -> list[str]:
    """``text`` cut after each sentence end, whitespace-trimmed, blanks dropped.

    >>> split_sentences("北京很大。它是首都！ Is it? Yes.")
    ['北京很大。', '它是首都！', 'Is it?', 'Yes.']
    """
    pieces, start = [], 0
    for match in _SENTENCE_END.finditer(text):
        pieces.append(text[start:match.end()])
        start = match.end()
    pieces.append(text[start:])
    return [piece.strip() for piece in pieces if piece.strip()]


def translation_units(passage: str, unit: str) -> list[str]:
    """The pieces a passage is translated in: its sentences (``unit`` ``sentence``) or
    the whole passage; rejoin them with ``join_translation_units``."""
    return split_sentences(passage) if unit == "sentence" else [passage]


def join_translation_units(translated: Sequence[str], lang: str) -> str:
    """Translated pieces of one passage joined again, with a space where ``lang`` puts
    spaces between words."""
    return (" " if uses_spaces(lang) else "").join(translated)
