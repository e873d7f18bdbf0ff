"""Driver side of Dual BERT training: pair the files, run the ``TorchTrainer``, export.

``train_dual_bert(cfg)`` reads every ``data.train_files`` / ``data.dev_files`` pair on
the driver (bad records counted, strict mode fails before any worker starts) and pairs
each target question with the source question of the same id. Target questions without
a translation are left out and counted; source questions need no answers (a translation
whose answer is lost still feeds SAA, with no auxiliary loss). Then it runs the workers
(``rayqa.train.dual_bert_loop``) and writes the best checkpoint by target dev F1 to
``<output_dir>/final``: a ``DualBert.save_pretrained`` directory (the encoder loads with
``AutoModel`` as well) with the tokenizer and the resolved config.
"""

from __future__ import annotations

from rayqa.config import DualBertJobConfig, FilePair
from rayqa.data.records import BadRecords
from rayqa.data.squad import read_squad
from rayqa.train.dual_bert_loop import PairedExample, dual_bert_train_loop, train_dataset
from rayqa.train.launch import fit_and_export


def read_pairs(pairs: list[FilePair], strict: bool, report: BadRecords,
               counts: dict[str, int] | None = None) -> list[PairedExample]:
    """Every target question of ``pairs`` with its translation (same question id).

    A target id seen in an earlier pair is qualified as ``<lang>:<id>`` (parallel sets
    reuse ids across languages), as ``rayqa.train.launch.read_data_files`` does.

    Args:
        pairs: The file pairs of a ``DualBertDataConfig`` list.
        strict: Fail at the first bad record.
        report: Collects bad records.
        counts: Filled with ``paired`` and ``without_source`` (target questions left out).
    """
    counts = {} if counts is None else counts
    counts.setdefault("paired", 0)
    counts.setdefault("without_source", 0)
    examples: list[PairedExample] = []
    seen: set[str] = set()
    for pair in pairs:
        targets = read_squad(pair.target.path, lang=pair.target.lang, strict=strict,
                             report=report)
        sources = {e.id: e for e in read_squad(pair.source.path, lang=pair.source.lang,
                                               strict=strict, report=report,
                                               require_answers=False)}
        for target in targets:
            source = sources.get(target.id)
            if source is None:
                counts["without_source"] += 1
                continue
            if target.id in seen:
                target.id = f"{target.lang}:{target.id}"
            seen.add(target.id)
            examples.append(PairedExample(target, source))
    counts["paired"] += len(examples)
    return examples


def train_dual_bert(cfg: DualBertJobConfig):
    """Train Dual BERT as ``cfg`` says; returns the Ray Train ``Result``."""
    report = BadRecords()
    train_counts: dict[str, int] = {}
    dev_counts: dict[str, int] = {}
    train = read_pairs(cfg.data.train_files, cfg.data.strict, report, train_counts)
    dev = read_pairs(cfg.data.dev_files, cfg.data.strict, report, dev_counts)
    if not train:
        raise ValueError("no usable training pairs in data.train_files")
    print(f"[rayqa.train] Dual BERT: {len(train)} training pairs "
          f"({train_counts['without_source']} target questions without a translation left "
          f"out), {len(dev)} dev pairs ({dev_counts['without_source']} left out); "
          f"{report.total} bad records", flush=True)
    return fit_and_export(dual_bert_train_loop, cfg, None, dev,
                          datasets=train_dataset(train, cfg))
