"""Driver side of mGEN training: read retrieval output, run the ``TorchTrainer``, export.

Input files are the retrieval output, one question per JSON line::

    {"id": "q1", "question": "...", "lang": "ja", "answers": ["..."],
     "ctxs": [{"id": "p7", "title": "...", "text": "...", "lang": "en"}, ...]}

``ctxs`` holds the retrieved passages best first (``title`` and passage ``id``/``lang``
optional); an absent ``ctxs`` means no passages (closed-book). ``lang`` is the language
the answer is generated in. Bad lines are counted by reason with file and line
(``data.strict`` fails at the first). Synthetic examples (``data.synthetic_files``, same
format) join the training data from epoch ``data.synthetic_from_epoch`` on. The best
checkpoint by dev F1 (the latest without dev files) is written to
``<output_dir>/final`` as a plain ``from_pretrained`` directory with the resolved config.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from rayqa.config import DataFile, MGENJobConfig
from rayqa.data.openqa import _Line, _xor_examples
from rayqa.data.records import BadRecords, iter_jsonl, log_report
from rayqa.train.mgen_loop import mgen_train_loop, train_dataset
from rayqa.train.launch import fit_and_export, read_data_files


@dataclass
class GenerationExample:
    """One mGEN example: a question, its gold answers and its retrieved passages.

    Attributes:
        id: Question id (``<lang>:<id>`` when an earlier file used the same id).
        question: The question text.
        lang: Language of the answer to generate, the ``[lang]`` tag of the input.
        answers: Gold answers; the first is the training target.
        ctxs: Retrieved passages, best first: dicts with ``text`` and ``title``.
    """

    id: str
    question: str
    lang: str
    answers: list[str]
    ctxs: list[dict] = field(default_factory=list)


def _passages(obj: dict, line: _Line) -> list[dict] | None:
    """The line's ``ctxs`` as ``{"title", "text", ...}`` dicts, or None after rejecting it."""
    ctxs = obj.get("ctxs")
    if ctxs is None:
        return []
    good = isinstance(ctxs, list) and all(
        isinstance(c, dict) and isinstance(c.get("text"), str)
        and isinstance(c.get("title", ""), str | None) for c in ctxs)
    if not good:
        line.reject("bad_ctxs", "ctxs", "expected a list of {title, text} objects")
        return None
    return [{**c, "title": c.get("title") or ""} for c in ctxs]


def read_generation_file(path: str | Path, lang: str | None = None, strict: bool = False,
                         report: BadRecords | None = None) -> list[GenerationExample]:
    """Read one retrieval-output JSONL file (format in the module docstring).

    Args:
        path: The JSONL file, optionally gzipped.
        lang: Answer language for lines without ``"lang"``.
        strict: Raise ``DataError`` at the first bad line instead of counting it.
        report: Collects bad lines (reasons: ``broken_json``, ``missing_field``,
            ``empty_question``, ``no_answers``, ``bad_answers``, ``bad_ctxs``).
    """
    report = BadRecords() if report is None else report
    before, examples = report.total, []
    for number, obj in iter_jsonl(path, report, strict):
        line = _Line(str(path), number, strict, report)
        if lang is not None and obj.get("lang") is None:
            obj = {**obj, "lang": lang}
        questions = _xor_examples(obj, line, None, require_answers=True)
        ctxs = _passages(obj, line) if questions else None
        if ctxs is not None:
            q = questions[0]
            examples.append(GenerationExample(q.id, q.question, q.lang, q.answers, ctxs))
    log_report(path, report, before)
    return examples


def read_files(files: list[DataFile], strict: bool, report: BadRecords) -> list[GenerationExample]:
    """Every file of a ``DataConfig`` list; ids repeated across files become ``<lang>:<id>``."""
    return read_data_files(files, read_generation_file, strict, report)


def train_mgen(cfg: MGENJobConfig):
    """Train mGEN as ``cfg`` says; returns the Ray Train ``Result``.

    ``data.synthetic_files`` join the training data from epoch
    ``data.synthetic_from_epoch`` on; when that epoch is past the run's last they are
    not read (a later run with more epochs and the same run name reads them).
    """
    report = BadRecords()
    train = read_files(cfg.data.train_files, cfg.data.strict, report)
    dev = read_files(cfg.data.dev_files, cfg.data.strict, report)
    if not train:
        raise ValueError("no usable training examples in data.train_files")
    synthetic = []
    if cfg.data.synthetic_files and cfg.data.synthetic_from_epoch < cfg.train.epochs:
        synthetic = read_files(cfg.data.synthetic_files, cfg.data.strict, report)
    elif cfg.data.synthetic_files:
        print(f"[rayqa.train] mGEN: synthetic examples would join at epoch "
              f"{cfg.data.synthetic_from_epoch + 1} of {cfg.train.epochs}: not used",
              flush=True)
    print(f"[rayqa.train] mGEN: {len(train)} training, {len(synthetic)} synthetic (from "
          f"epoch {cfg.data.synthetic_from_epoch + 1}) and {len(dev)} dev questions; "
          f"{report.summary()}", flush=True)
    return fit_and_export(mgen_train_loop, cfg, None, dev,
                          datasets=train_dataset(train, cfg, synthetic))
