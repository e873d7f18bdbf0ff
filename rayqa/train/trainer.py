"""Driver side of reader training: read data once, run the ``TorchTrainer``, export.

``train_reader(cfg)`` validates and reads the data on the driver (bad records counted
and reported there, strict mode fails before any worker starts), shares the examples
through the object store, runs the workers, and writes the best checkpoint's model to
``<output_dir>/final`` as a plain ``from_pretrained`` directory with the resolved config.
"""

from __future__ import annotations

from rayqa.config import ReaderJobConfig
from rayqa.data.records import BadRecords
from rayqa.data.squad import QAExample, read_squad
from rayqa.train.launch import fit_and_export
from rayqa.train.reader import reader_train_loop


def read_files(files, strict: bool, report: BadRecords) -> list[QAExample]:
    """Read every SQuAD file of a ``DataConfig`` list into one example list.

    Parallel sets (XQuAD, MLQA) reuse question ids across languages; an id seen in an
    earlier file is qualified as ``<lang>:<id>`` so predictions never collide.
    """
    examples: list[QAExample] = []
    seen: set[str] = set()
    for item in files:
        for example in read_squad(item.path, lang=item.lang, strict=strict, report=report):
            if example.id in seen:
                example.id = f"{example.lang}:{example.id}"
            seen.add(example.id)
            examples.append(example)
    return examples


def train_reader(cfg: ReaderJobConfig):
    """Train the reader described by ``cfg``; returns the Ray Train ``Result``."""
    report = BadRecords()
    train = read_files(cfg.data.train_files, cfg.data.strict, report)
    dev = read_files(cfg.data.dev_files, cfg.data.strict, report)
    if not train:
        raise ValueError("no usable training examples in data.train_files")
    print(f"[rayqa.train] {len(train)} training and {len(dev)} dev questions; "
          f"{report.total} bad records", flush=True)
    return fit_and_export(reader_train_loop, cfg, train, dev)
