"""Translators behind one small interface: MarianMT (OPUS-MT) and a parallel corpus.

``Translator.translate(texts, src, tgt)`` is all callers use; ``build_translator`` picks
the backend from a ``TranslatorConfig``; ``TranslateBatch`` runs one as a Ray Data step.
Heavy modules (torch, transformers, ray) load only when a backend is built.
"""

from rayqa.translate.base import TranslationError, Translator, pair_name
from rayqa.translate.factory import build_translator

__all__ = ["TranslationError", "Translator", "build_translator", "pair_name"]
