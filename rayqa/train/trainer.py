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
from rayqa.train.launch import fit_and_export, read_data_files
from rayqa.train.reader import reader_train_loop


def read_files(files, strict: bool, report: BadRecords) -> list[QAExample]:
    """Every SQuAD file of a ``DataConfig`` list (ids made unique across files)."""
    return read_data_files(files, _read_squad, strict, report)


def _read_squad(path, lang, strict, report) -> list[QAExample]:
    return read_squad(path, lang=lang, strict=strict, report=report)


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
