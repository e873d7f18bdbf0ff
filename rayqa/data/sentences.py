"""Where the sentences of a passage start and end, in every script rayqa reads."""

from __future__ import annotations

import re

# A sentence ends after . ! ? ؟ (and their full-width and CJK forms, and the Devanagari
# danda) and any closing quotes or brackets; Latin marks only before whitespace ("3.5"
# and "e.g." stay whole unless a space follows).
_SENTENCE_END = re.compile(r"(?<=[。！？।])[」』”’）)]*|(?<=[.!?؟])[\"'”’)\]]*(?=\s)")


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """``(start, end)`` character offsets of each sentence of ``text``, without the
    whitespace around it; blank pieces are left out.

    >>> sentence_spans("Is it? Yes.  ")
    [(0, 6), (7, 11)]
    """
    spans, start = [], 0
    for end in [match.end() for match in _SENTENCE_END.finditer(text)] + [len(text)]:
        piece = text[start:end]
        if piece.strip():
            spans.append((start + len(piece) - len(piece.lstrip()),
                          end - len(piece) + len(piece.rstrip())))
        start = end
    return spans


def split_sentences(text: str) -> list[str]:
    """``text`` cut after each sentence end, whitespace-trimmed, blanks dropped.

    >>> split_sentences("北京很大。它是首都！ Is it? Yes.")
    ['北京很大。', '它是首都！', 'Is it?', 'Yes.']
    """
    return [text[start:end] for start, end in sentence_spans(text)]
