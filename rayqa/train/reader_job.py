"""Driver side of reader training: read data once, run the ``TorchTrainer``, export.

``train_reader(cfg)`` validates and reads the data on the driver (bad records counted
and reported there, strict mode fails before any worker starts): the MRC training files,
the files of every auxiliary task in ``cfg.tasks`` (mixMRC SQuAD files, LAKM passages),
and the dev files. With ``lakm.balance`` it samples the LAKM passages there (so every
worker trains on the same subset) and writes the per-language counts to
``<output_dir>/lakm_balance.json``. It shares the data through the object store, runs
the workers, and writes the best checkpoint's reader to ``<output_dir>/final`` as a
plain ``from_pretrained`` directory with the resolved config.
"""

from __future__ import annotations

import json

from rayqa import storage
from rayqa.config import ReaderJobConfig
from rayqa.crosslingual.features import alignment_reader_examples
from rayqa.data.lakm import balance_passages, read_lakm_passages
from rayqa.data.records import BadRecords
from rayqa.data.squad import QAExample, read_squad
from rayqa.train.launch import fit_and_export, read_data_files
from rayqa.train.reader_loop import reader_train_loop, task_datasets


def read_files(files, strict: bool, report: BadRecords,
               translated: bool = False) -> list[QAExample]:
    """Every SQuAD file of a ``DataConfig`` list (ids made unique across files).

    With ``translated`` a question without ``translated_answer`` is a bad record (the
    inputs of an Answer Aligner or Verifier).
    """
    return read_data_files(files, _read_translated if translated else _read_squad, strict,
                           report)


def _read_squad(path, lang, strict, report) -> list[QAExample]:
    return read_squad(path, lang=lang, strict=strict, report=report)


def _read_translated(path, lang, strict, report) -> list[QAExample]:
    return read_squad(path, lang=lang, strict=strict, report=report, require_translation=True)


def _read_lakm(path, lang, strict, report) -> list:
    return read_lakm_passages(path, lang=lang, strict=strict, report=report)


def read_tasks(cfg: ReaderJobConfig, report: BadRecords) -> dict[str, list]:
    """Training data of every task: ``{"mrc": examples, "mixmrc": ..., "lakm": passages}``."""
    data = {}
    for task in cfg.tasks:
        if task.name == "mrc":
            data["mrc"] = read_files(cfg.data.train_files, cfg.data.strict, report,
                                     translated=cfg.alignment is not None)
        elif task.name == "mixmrc":
            data["mixmrc"] = read_files(task.files, cfg.data.strict, report)
        else:
            data["lakm"] = read_data_files(task.files, _read_lakm, cfg.data.strict, report)
        if not data[task.name]:
            source = "data.train_files" if task.name == "mrc" else f"the {task.name} files"
            raise ValueError(f"no usable training examples in {source}")
    if cfg.lakm.balance and "lakm" in data:
        data["lakm"] = balance_lakm(cfg, data["lakm"], len(data.get("mixmrc", [])) or None)
    return data


def balance_lakm(cfg: ReaderJobConfig, passages: list, mixmrc_examples: int | None) -> list:
    """The LAKM passages sampled to equal per-language counts (see ``balance_passages``).

    The total is capped at ``lakm.total_passages``, else at ``mixmrc_examples``; the
    counts before and after are logged and written to ``<output_dir>/lakm_balance.json``.
    """
    total = cfg.lakm.total_passages or mixmrc_examples
    kept, counts = balance_passages(passages, cfg.train.seed, total)
    summary = {"seed": cfg.train.seed, "total_cap": total,
               "cap_source": "lakm.total_passages" if cfg.lakm.total_passages
               else "mixmrc examples" if total else None, **counts}
    print(f"[rayqa.train] LAKM balance (cap {total}): passages per language "
          f"{_counts(counts['before'])} -> {_counts(counts['after'])}", flush=True)
    storage.write_text(storage.join(cfg.output_dir, "lakm_balance.json"),
                       json.dumps(summary, indent=1) + "\n")
    return kept


def _counts(per_lang: dict[str, int]) -> str:
    return ", ".join(f"{lang} {n}" for lang, n in per_lang.items()) or "none"


def alignment_inputs(cfg: ReaderJobConfig, examples: list[QAExample]) -> list[QAExample]:
    """The examples of an aligner or verifier: segment A (from ``translated_answer``
    and, for the verifier, the question) as each example's question."""
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(storage.local_model(cfg.model.name_or_path))
    return alignment_reader_examples(tokenizer, examples, **cfg.alignment.model_dump())


def train_reader(cfg: ReaderJobConfig):
    """Train the reader described by ``cfg``; returns the Ray Train ``Result``."""
    report = BadRecords()
    train = read_tasks(cfg, report)
    dev = read_files(cfg.data.dev_files, cfg.data.strict, report,
                     translated=cfg.alignment is not None)
    if cfg.alignment is not None:
        train["mrc"], dev = alignment_inputs(cfg, train["mrc"]), alignment_inputs(cfg, dev)
    counts = ", ".join(f"{len(items)} {task}" for task, items in train.items())
    print(f"[rayqa.train] training data: {counts}; {len(dev)} dev questions; "
          f"{report.total} bad records", flush=True)
    return fit_and_export(reader_train_loop, cfg, None, dev,
                          datasets=task_datasets(train, cfg))
