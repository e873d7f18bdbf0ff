"""The ``Translator`` interface and its input checks."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence


class TranslationError(ValueError):
    """A translation request that cannot be served; the message names the pair."""


def pair_name(src: str, tgt: str) -> str:
    """The key of a language pair in configs and messages, e.g. ``"en-ar"``."""
    return f"{src}-{tgt}"


class Translator(ABC):
    """Translates batches of texts from one language into another.

    Subclasses implement ``pairs`` and ``_translate``; ``translate`` checks the request
    first, and passes texts through unchanged when source and target are the same
    language (translate-test pipelines send English questions through as they are).
    """

    @property
    @abstractmethod
    def pairs(self) -> list[str]:
        """The supported pairs as ``"src-tgt"`` names."""

    def supports(self, src: str, tgt: str) -> bool:
        """Whether ``translate`` accepts this pair."""
        return src == tgt or pair_name(src, tgt) in self.pairs

    def translate(self, texts: Sequence[str], src: str, tgt: str) -> list[str]:
        """Translate ``texts`` from ``src`` into ``tgt``, keeping their order.

        Args:
            texts: Non-empty strings.
            src: Source language code.
            tgt: Target language code.

        Returns:
            One translation per text.

        Raises:
            TranslationError: The pair is not supported, or a text is empty; the message
                names the pair (and the index of the empty text).
        """
        texts = list(texts)
        self._check(texts, src, tgt)
        if src == tgt or not texts:
            return texts
        return self._translate(texts, src, tgt)

    def _check(self, texts: list[str], src: str, tgt: str) -> None:
        pair = pair_name(src, tgt)
        if not self.supports(src, tgt):
            raise TranslationError(f"{type(self).__name__}: unsupported language pair {pair} "
                                   f"(supported: {', '.join(sorted(self.pairs)) or 'none'})")
        for i, text in enumerate(texts):
            if not isinstance(text, str) or not text.strip():
                raise TranslationError(f"{pair}: text {i} is empty ({text!r}); "
                                       "translation needs non-blank text")

    @abstractmethod
    def _translate(self, texts: list[str], src: str, tgt: str) -> list[str]:
        """Translate checked, non-empty texts of a supported pair with ``src != tgt``."""

