"""The translator a ``TranslatorConfig`` describes, built here or on Ray actors."""

from __future__ import annotations

from rayqa import storage
from rayqa.translate.base import Translator
from rayqa.translate.marian import MarianTranslator, absolute_models
from rayqa.translate.parallel import ParallelTranslator


def build_translator(cfg, device: str | None = None) -> Translator:
    """The translator a ``TranslatorConfig`` describes (``marian`` or ``parallel``); a
    model translator runs on ``device`` (None: the GPU when there is one)."""
    if cfg.kind == "marian":
        return MarianTranslator(cfg.models, prefixes=cfg.prefixes, batch_size=cfg.batch_size,
                                max_new_tokens=cfg.max_new_tokens, num_beams=cfg.num_beams,
                                device=device)
    return ParallelTranslator.from_xquad(cfg.xquad_dir, cfg.langs)


def translator_for_actors(cfg):
    """``cfg`` (a ``TranslatorConfig``) with its local ``xquad_dir`` and model directories
    made absolute, for translators built on Ray actors.

    Ray Data actors do not run in the driver's working directory: a relative location
    would name nothing there. URIs and hub model names are left as they are.
    """
    xquad_dir = storage.absolute(cfg.xquad_dir) if cfg.xquad_dir else None
    return cfg.model_copy(update={"xquad_dir": xquad_dir,
                                  "models": absolute_models(cfg.models)})
