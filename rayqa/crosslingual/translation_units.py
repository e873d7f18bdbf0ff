"""The pieces a passage is machine-translated in, and how they join again.

Translate-test (Cui et al. 2019, section 3) translates a target-language passage into the
source language and back. A translator handles a sentence better than a page, so a
passage may go sentence by sentence (``passage_unit: sentence``) and be joined again in
the other language. The batch job (`rayqa.pipelines.translate_test`) and the Serve
ingress cut and join the same way.
"""

from __future__ import annotations

from collections.abc import Sequence

from rayqa.data.sentences import split_sentences
from rayqa.langs import uses_spaces


def translation_units(passage: str, unit: str) -> list[str]:
    """The pieces a passage is translated in: its sentences (``unit`` ``sentence``) or
    the whole passage; rejoin them with ``join_translation_units``."""
    return split_sentences(passage) if unit == "sentence" else [passage]


def join_translation_units(translated: Sequence[str], lang: str) -> str:
    """Translated pieces of one passage joined again, with a space where ``lang`` puts
    spaces between words."""
    return (" " if uses_spaces(lang) else "").join(translated)
