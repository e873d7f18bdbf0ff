"""Bulk translation as a Ray Data step: an actor pool, each actor holding the models."""

from __future__ import annotations

from rayqa.translate.factory import build_translator, translator_for_actors


class TranslateBatch:
    """Ray Data step adding the translation of one text column.

    The languages come from fixed codes or from per-row columns (e.g. each question's
    ``lang``); rows are grouped by language pair so each pair is translated in batches.

    Args:
        cfg: A ``TranslatorConfig``; the translator (and its models) is built here, once
            per actor.
        text_column: Column holding the texts.
        out_column: Column to write the translations to.
        src: Source language of every row, or None to read ``src_column``.
        tgt: Target language of every row, or None to read ``tgt_column``.
        src_column: Per-row source language column (when ``src`` is None).
        tgt_column: Per-row target language column (when ``tgt`` is None).
        device: ``"cuda"`` or ``"cpu"`` for model translators; None picks the GPU when
            there is one.

    Example::

        ds.map_batches(TranslateBatch, fn_constructor_args=(cfg, "question", "question_en"),
                       fn_constructor_kwargs={"src_column": "lang", "tgt": "en"},
                       compute=ActorPoolStrategy(size=cfg.num_actors),
                       num_gpus=1 if cfg.use_gpu else 0)
    """

    def __init__(self, cfg, text_column: str, out_column: str, src: str | None = None,
                 tgt: str | None = None, src_column: str | None = None,
                 tgt_column: str | None = None, device: str | None = None):
        if (src is None) == (src_column is None) or (tgt is None) == (tgt_column is None):
            raise ValueError("give exactly one of src / src_column and of tgt / tgt_column")
        self.translator = build_translator(cfg, device)
        self.text_column, self.out_column = text_column, out_column
        self.src, self.tgt, self.src_column, self.tgt_column = src, tgt, src_column, tgt_column

    def __call__(self, batch: dict) -> dict:
        texts = [str(t) for t in batch[self.text_column]]
        srcs = self._langs(self.src, self.src_column, batch, len(texts))
        tgts = self._langs(self.tgt, self.tgt_column, batch, len(texts))
        groups: dict[tuple[str, str], list[int]] = {}
        for i, pair in enumerate(zip(srcs, tgts)):
            groups.setdefault(pair, []).append(i)
        out = [""] * len(texts)
        for (src, tgt), rows in groups.items():
            done = self.translator.translate([texts[i] for i in rows], src, tgt)
            for i, text in zip(rows, done):
                out[i] = text
        return {**batch, self.out_column: out}

    @staticmethod
    def _langs(fixed: str | None, column: str | None, batch: dict, count: int) -> list[str]:
        return [fixed] * count if fixed is not None else [str(x) for x in batch[column]]


def translate_dataset(ds, cfg, text_column: str, out_column: str, **langs):
    """``ds`` with ``out_column`` added by a pool of ``cfg.num_actors`` ``TranslateBatch`` actors.

    Args:
        ds: A Ray Dataset.
        cfg: The ``TranslatorConfig`` (its ``use_gpu`` gives each actor a GPU).
        text_column: Column holding the texts.
        out_column: Column for the translations.
        **langs: ``src``/``src_column`` and ``tgt``/``tgt_column`` of ``TranslateBatch``.
    """
    from ray.data import ActorPoolStrategy

    return ds.map_batches(TranslateBatch,
                          fn_constructor_args=(translator_for_actors(cfg), text_column,
                                               out_column),
                          fn_constructor_kwargs=langs, batch_size=cfg.batch_size,
                          compute=ActorPoolStrategy(size=cfg.num_actors),
                          num_gpus=1 if cfg.use_gpu else 0)
