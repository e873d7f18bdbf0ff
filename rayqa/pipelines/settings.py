"""Run several reader-training settings and tabulate them (mixMRC/LAKM Tables 7 and 9).

Each setting is a ``ReaderJobConfig`` YAML (``configs/boundary/*.yaml``: baseline, LAKM,
mixMRC, mixMRC + LAKM, zero-shot). ``run_settings`` trains them one after the other,
each under ``<output>/<setting>/`` with its own run name. Select on dev, report on test:
training keeps the checkpoint with the best dev F1 (``data.dev_files``) and exports it
as the final reader; the runner then scores that reader on ``data.test_files`` (MLQA
rules per language, as dev) and tabulates the test EM/F1 in ``<output>/table.md`` and
``<output>/table.csv``. A setting without test files is refused before anything
trains: holding out part of dev would change what dev selects on, so the split is
left to the data (MLQA's test sets; for XQuAD, ``jobs/split_xquad.py`` run twice).

``<output>/<setting>/scores.json`` holds ``{"split": "test", "test": {lang: {...}},
"dev": {lang: {...}}, "test_files": [...], "step", "epoch"}``: the reported test
scores, the selected checkpoint's dev scores and where it was taken. A setting whose
``scores.json`` exists is not trained again, so an interrupted sweep continues where
it stopped (and a setting interrupted mid-training resumes from its checkpoint); when
its test files changed, or it predates test scoring, only the test evaluation runs.
The output is a local path or a URI (``s3://bucket/table7``; see ``rayqa.storage``).
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from rayqa import storage
from rayqa.config import ReaderJobConfig, load_config
from rayqa.eval.report import em_f1_table
from rayqa.train.launch import best_checkpoint, final_dir

SCORES_FILE = "scores.json"
REPORTED_SPLIT = "test"
CAPTION = ("EM / F1 on the test split (data.test_files) of each setting's exported "
           "reader, the checkpoint with the best dev F1.")


def setting_name(path: str | Path) -> str:
    """The row label of a setting: its file name without ``.yaml``."""
    return Path(path).stem


def setting_config(path: str | Path, output: str | Path, overrides: list[str]) -> ReaderJobConfig:
    """A setting's config with its output directory and run name under ``output``."""
    name = setting_name(path)
    return load_config(ReaderJobConfig, path, [*overrides,
                                               f"output_dir={storage.join(output, name)}",
                                               f"train.run_name={name}"])


def check_splits(cfg: ReaderJobConfig) -> None:
    """Refuses a setting that cannot be selected on dev and reported on test."""
    name = cfg.train.run_name
    if not cfg.data.dev_files:
        raise ValueError(f"{name}: a table needs data.dev_files (to select the checkpoint)")
    if not cfg.data.test_files:
        raise ValueError(f"{name}: a table needs data.test_files, the split it reports "
                         "(the checkpoint is selected on data.dev_files); e.g. MLQA's test "
                         "sets, or a held-out part of XQuAD (jobs/split_xquad.py)")


def dev_scores(metrics: dict) -> dict[str, dict[str, float]]:
    """``{lang: {"exact_match", "f1"}}`` from reported ``dev/<lang>/<metric>`` keys."""
    scores: dict[str, dict[str, float]] = {}
    for key, value in metrics.items():
        parts = key.split("/")
        if len(parts) == 3 and parts[0] == "dev" and parts[2] in ("exact_match", "f1"):
            scores.setdefault(parts[1], {})[parts[2]] = value
    return scores


def evaluate_reader(model_dir: str, files: list, strict: bool = False,
                    batch_size: int = 64, scoring: str = "mlqa") -> dict[str, dict[str, float]]:
    """Per-language EM/F1 of an exported reader on SQuAD-format files.

    The same reading (ids made unique across files; an aligner's or verifier's files
    need ``translated_answer``), span geometry (the reader's saved config) and rules
    (`score_by_language` with ``scoring``) as the dev evaluation in training.

    Args:
        model_dir: The reader, e.g. ``<output_dir>/final`` (a path or URI).
        files: ``DataFile``s of the evaluation set.
        strict: Fail at the first bad record instead of counting it.
        batch_size: Windows per forward pass.
        scoring: ``"mlqa"``, or ``"cmrc"`` for Chinese by the CMRC 2018 script.

    Returns:
        ``{lang: {"exact_match", "f1"}}`` on the 0-100 scale.
    """
    from rayqa.answer.extractive import ExtractiveReader
    from rayqa.data.records import BadRecords
    from rayqa.eval import score_by_language
    from rayqa.train.reader_job import read_files

    reader = ExtractiveReader(model_dir, batch_size=batch_size)
    examples = read_files(files, strict, BadRecords(), translated=bool(reader.alignment))
    if not examples:
        raise ValueError(f"no questions in {[item.path for item in files]}")
    return score_by_language(examples, reader.predict(examples), scoring)


def score_on_test(cfg: ReaderJobConfig) -> dict[str, dict[str, float]]:
    """The exported reader's scores on ``data.test_files``: in a Ray task on a GPU when
    the setting trains on GPUs (the driver needs no accelerator), else on the driver's
    CPU, as ``rayqa predict`` would."""
    args = (final_dir(cfg), cfg.data.test_files, cfg.data.strict, cfg.train.eval_batch_size,
            cfg.data.scoring)
    if not cfg.train.use_gpu:
        return evaluate_reader(*args)
    import ray

    task = ray.remote(num_cpus=cfg.train.cpus_per_worker, num_gpus=1)(evaluate_reader)
    return ray.get(task.remote(*args))


def run_setting(cfg: ReaderJobConfig) -> dict:
    """Train one setting (or reuse its finished run) and score its reader on test.

    Returns:
        The setting's ``scores.json`` content (see the module docstring).
    """
    from rayqa.train.reader_job import train_reader

    check_splits(cfg)
    done = storage.join(cfg.output_dir, SCORES_FILE)
    if storage.is_file(done):
        saved = json.loads(storage.read_text(done))
    else:
        best = _best_metrics(train_reader(cfg))
        saved = {"dev": dev_scores(best), "step": best.get("step"), "epoch": best.get("epoch")}
        storage.write_text(done, json.dumps(saved, indent=1))  # a rerun only scores test
    files = [item.model_dump() for item in cfg.data.test_files]
    if saved.get("test_files") != files or REPORTED_SPLIT not in saved:
        saved = {"split": REPORTED_SPLIT, REPORTED_SPLIT: score_on_test(cfg),
                 "test_files": files, **{key: saved.get(key) for key in ("dev", "step", "epoch")}}
        storage.write_text(done, json.dumps(saved, indent=1))
    return saved


def _best_metrics(result) -> dict:
    """Metrics reported with the best checkpoint by dev F1 (the exported one)."""
    best = best_checkpoint(result)
    for checkpoint, metrics in result.best_checkpoints or []:
        if checkpoint.path == best.path:
            return metrics
    return result.metrics or {}


def settings_table(rows: dict[str, dict[str, dict[str, float]]]) -> tuple[str, str]:
    """The Markdown table (a caption naming the split first) and the CSV (a ``split``
    column last) of per-setting test scores."""
    markdown, csv_text = em_f1_table(rows)
    lines = list(csv.reader(io.StringIO(csv_text)))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([*lines[0], "split"])
    writer.writerows([*line, REPORTED_SPLIT] for line in lines[1:])
    return f"{CAPTION}\n\n{markdown}", out.getvalue()


def run_settings(paths: list[str | Path], output: str | Path,
                 overrides: list[str] | None = None) -> tuple[str, str]:
    """Train every setting of ``paths`` and write the test table; returns the .md and
    .csv locations.

    Args:
        paths: Setting YAMLs, in row order; their names must differ.
        output: Directory of the settings' outputs and of the table (path or URI).
        overrides: Dotted overrides applied to every setting (e.g. ``model.name_or_path=...``).

    Raises:
        ValueError: Repeated setting names, or a setting without dev or test files
            (checked for all before any trains).
    """
    names = [setting_name(p) for p in paths]
    if len(set(names)) != len(names):
        raise ValueError(f"setting names must differ: {names}")
    output = storage.absolute(output)  # the settings' runs must agree with the table's
    configs = [setting_config(p, output, overrides or []) for p in paths]  # all valid first
    for cfg in configs:
        check_splits(cfg)
    rows = {name: run_setting(cfg)[REPORTED_SPLIT] for name, cfg in zip(names, configs)}
    markdown, csv_text = settings_table(rows)
    md, csv_file = storage.join(output, "table.md"), storage.join(output, "table.csv")
    storage.write_text(md, markdown)
    storage.write_text(csv_file, csv_text)
    print(markdown, flush=True)
    return md, csv_file
