"""Run several reader-training settings and tabulate them (mixMRC/LAKM Tables 7 and 9).

Each setting is a ``ReaderJobConfig`` YAML (``configs/boundary/*.yaml``: baseline, LAKM,
mixMRC, mixMRC + LAKM, zero-shot). ``run_settings`` trains them one after the other,
each under ``<output>/<setting>/`` with its own run name, reads the per-language dev
EM/F1 of each setting's best checkpoint (by dev F1, the checkpoint exported as the
final reader), and writes ``<output>/table.md`` and ``<output>/table.csv``. A setting
whose ``scores.json`` exists is not trained again, so an interrupted sweep continues
where it stopped (and a setting interrupted mid-training resumes from its checkpoint).
The output is a local path or a URI (``s3://bucket/table7``; see ``rayqa.storage``).
"""

from __future__ import annotations

import json
from pathlib import Path

from rayqa import storage
from rayqa.config import ReaderJobConfig, load_config
from rayqa.eval.report import em_f1_table
from rayqa.train.launch import best_checkpoint

SCORES_FILE = "scores.json"


def setting_name(path: str | Path) -> str:
    """The row label of a setting: its file name without ``.yaml``."""
    return Path(path).stem


def setting_config(path: str | Path, output: str | Path, overrides: list[str]) -> ReaderJobConfig:
    """A setting's config with its output directory and run name under ``output``."""
    name = setting_name(path)
    return load_config(ReaderJobConfig, path, [*overrides,
                                               f"output_dir={storage.join(output, name)}",
                                               f"train.run_name={name}"])


def dev_scores(metrics: dict) -> dict[str, dict[str, float]]:
    """``{lang: {"exact_match", "f1"}}`` from reported ``dev/<lang>/<metric>`` keys."""
    scores: dict[str, dict[str, float]] = {}
    for key, value in metrics.items():
        parts = key.split("/")
        if len(parts) == 3 and parts[0] == "dev" and parts[2] in ("exact_match", "f1"):
            scores.setdefault(parts[1], {})[parts[2]] = value
    return scores


def run_setting(cfg: ReaderJobConfig) -> dict[str, dict[str, float]]:
    """Train one setting (or reuse its finished scores); returns its dev scores."""
    from rayqa.train.reader_job import train_reader

    done = storage.join(cfg.output_dir, SCORES_FILE)
    if storage.is_file(done):
        return json.loads(storage.read_text(done))["dev"]
    if not cfg.data.dev_files:
        raise ValueError(f"{cfg.train.run_name}: a table needs data.dev_files")
    best = _best_metrics(train_reader(cfg))
    scores = dev_scores(best)
    storage.write_text(done, json.dumps({"dev": scores, "step": best.get("step"),
                                         "epoch": best.get("epoch")}, indent=1))
    return scores


def _best_metrics(result) -> dict:
    """Metrics reported with the best checkpoint by dev F1 (the exported one)."""
    best = best_checkpoint(result)
    for checkpoint, metrics in result.best_checkpoints or []:
        if checkpoint.path == best.path:
            return metrics
    return result.metrics or {}


def run_settings(paths: list[str | Path], output: str | Path,
                 overrides: list[str] | None = None) -> tuple[str, str]:
    """Train every setting of ``paths`` and write the table; returns the .md and .csv
    locations.

    Args:
        paths: Setting YAMLs, in row order; their names must differ.
        output: Directory of the settings' outputs and of the table (path or URI).
        overrides: Dotted overrides applied to every setting (e.g. ``model.name_or_path=...``).
    """
    names = [setting_name(p) for p in paths]
    if len(set(names)) != len(names):
        raise ValueError(f"setting names must differ: {names}")
    output = storage.absolute(output)  # the settings' runs must agree with the table's
    configs = [setting_config(p, output, overrides or []) for p in paths]  # all valid first
    rows = {name: run_setting(cfg) for name, cfg in zip(names, configs)}
    markdown, csv_text = em_f1_table(rows)
    md, csv_file = storage.join(output, "table.md"), storage.join(output, "table.csv")
    storage.write_text(md, markdown)
    storage.write_text(csv_file, csv_text)
    print(markdown, flush=True)
    return md, csv_file
