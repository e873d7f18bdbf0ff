"""MarianMT (OPUS-MT) translation: one ``save_pretrained`` model per language pair.

Multilingual-target OPUS-MT models (``opus-mt-en-mul``, ``opus-mt-en-ROMANCE``,
``opus-mt-en-ar``, ...) pick the output language from a ``>>xxx<<`` token at the start of
the source. ``OPUS_MT_PREFIXES`` holds the prefixes CORA's translate-test baseline uses
(paper Table 11, "From-English Prefix"); a config's ``prefixes`` extend or override it.
A model is a hub name, a local directory or a directory URI (``s3://...``, loaded from
its cached local copy, see ``rayqa.storage.local_model``).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from rayqa import storage
from rayqa.translate.base import TranslationError, Translator, pair_name

# CORA Table 11: target-language tokens of the from-English models that need one.
# The other pairs of the table (en-da, en-de, en-es, en-fi, en-fr, ...) use
# single-target models without a prefix.
OPUS_MT_PREFIXES = {
    "en-ar": ">>ara<<",  # opus-mt-en-ar
    "en-he": ">>heb<<",  # opus-mt-en-afa
    "en-km": ">>khm_Latn<<",  # opus-mt-en-mul
    "en-ms": ">>zsm_Latn<<",  # opus-mt-en-mul
    "en-no": ">>nno<<",  # opus-mt-en-gem
    "en-pl": ">>pol<<",  # opus-mt-en-sla
    "en-pt": ">>pt<<",  # opus-mt-en-ROMANCE
}


class MarianTranslator(Translator):
    """Batched MarianMT translation, loading each pair's model on first use.

    Args:
        models: ``{"en-ar": "Helsinki-NLP/opus-mt-en-ar", a local directory or a URI, ...}``;
            see ``absolute_models`` for models that travel to Ray actors.
        prefixes: Target prefixes per pair, over ``OPUS_MT_PREFIXES``; a pair mapped
            to ``""`` gets none.
        batch_size: Texts per ``generate`` call.
        max_new_tokens: Longest translation in tokens.
        num_beams: 1 for greedy decoding, more for beam search.
        device: ``"cuda"``, ``"cpu"`` or None to pick the GPU when there is one.
    """

    def __init__(self, models: Mapping[str, str], prefixes: Mapping[str, str] | None = None,
                 batch_size: int = 32, max_new_tokens: int = 128, num_beams: int = 1,
                 device: str | None = None):
        if batch_size < 1 or max_new_tokens < 1 or num_beams < 1:
            raise ValueError("batch_size, max_new_tokens and num_beams must be >= 1")
        self.models = dict(models)
        self.prefixes = {**OPUS_MT_PREFIXES, **(prefixes or {})}
        self.batch_size, self.max_new_tokens, self.num_beams = batch_size, max_new_tokens, num_beams
        self.device = device
        self._loaded: dict[str, tuple] = {}

    @property
    def pairs(self) -> list[str]:
        return list(self.models)

    def prefix(self, src: str, tgt: str) -> str:
        """The ``>>xxx<<`` token put before each source text of the pair ("" for none)."""
        return self.prefixes.get(pair_name(src, tgt), "")

    def _translate(self, texts: list[str], src: str, tgt: str) -> list[str]:
        tokenizer, model = self._load(src, tgt)
        prefix = self.prefix(src, tgt)
        sources = [f"{prefix} {text}" if prefix else text for text in texts]
        out: list[str] = []
        for start in range(0, len(sources), self.batch_size):
            out += self._generate(tokenizer, model, sources[start:start + self.batch_size])
        return out

    def _generate(self, tokenizer, model, sources: list[str]) -> list[str]:
        import torch

        batch = tokenizer(sources, return_tensors="pt", padding=True, truncation=True)
        with torch.no_grad():
            ids = model.generate(**batch.to(model.device), num_beams=self.num_beams,
                                 max_new_tokens=self.max_new_tokens)
        return [t.strip() for t in tokenizer.batch_decode(ids, skip_special_tokens=True)]

    def _load(self, src: str, tgt: str) -> tuple:
        """The pair's tokenizer and model, loaded once and kept."""
        pair = pair_name(src, tgt)
        if pair not in self._loaded:
            import torch
            from transformers import AutoModelForSeq2SeqLM, AutoTokenizer

            path = storage.local_model(self.models[pair])  # s3:// -> verified local copy
            tokenizer = AutoTokenizer.from_pretrained(path)
            _check_prefix(tokenizer, self.prefix(src, tgt), pair, path)
            device = self.device or ("cuda" if torch.cuda.is_available() else "cpu")
            model = AutoModelForSeq2SeqLM.from_pretrained(path).to(device).eval()
            self._loaded[pair] = (tokenizer, model)
        return self._loaded[pair]


def absolute_models(models: Mapping[str, str]) -> dict[str, str]:
    """``models`` with every model that is a local directory here made absolute.

    Call it on the driver before the models travel to Ray actors: they run in their own
    working directory, where a relative directory names nothing (and would be looked up
    on the hub). Hub names (no such local directory) and URIs stay as given.
    """
    local = {pair for pair, path in models.items()
             if not storage.is_uri(path) and Path(path).expanduser().is_dir()}
    return {pair: storage.absolute(path) if pair in local else path
            for pair, path in models.items()}


def _check_prefix(tokenizer, prefix: str, pair: str, path: str) -> None:
    """A prefix the model does not know would be translated as text, silently."""
    if prefix and tokenizer.convert_tokens_to_ids(prefix) in (None, tokenizer.unk_token_id):
        raise TranslationError(f"{pair}: target prefix {prefix!r} is not in the vocabulary "
                               f"of {path}; set translator.prefixes.{pair} (\"\" for none)")
