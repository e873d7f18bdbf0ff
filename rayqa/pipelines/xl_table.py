"""The cross-lingual MRC paper's tables (Cui et al. 2019, Tables 2-4): rows of jobs, EM / F1
per reported set.

``run_table(cfg)`` runs ``cfg.rows`` in order, each under ``<output_dir>/<row>/`` (the
row name made path-safe):

* ``reader`` rows (a ``ReaderJobConfig``: a T-language BERT, mBERT on T, cascade, mixed
  training; the S readers and the aligners with ``report: false``) train with the reader
  job, which selects the exported checkpoint on the row's own dev files; the export is
  scored on every set. With ``train: false`` the row scores ``model.name_or_path`` as it
  is (zero-shot: mBERT trained on SQuAD alone, an earlier row's export).
* ``dual_bert`` rows train with the Dual BERT job (selected on its dev pairs); every set
  is read with its ``source`` translation (same ids). A question without one counts as
  unanswered.
* ``translate_test`` rows run ``rayqa translate-test`` once per set (the set's ``lang``
  as the target language: one row serves Japanese and French sets when its translator
  has both pairs) and report ``system`` (``translate_test``, ``simple_match`` or an
  aligner of ``aligners``); rows with the same config and overrides share those runs. With ``report: false`` a row runs
  once over its own ``data_files`` (e.g. the T training set: its augmented.json trains
  an aligner, ``{augmented:ROW}`` in a later row's overrides).
* ``mixmrc`` rows (``report: false``) run the mixMRC translation job into the row
  directory: with ``configs/crosslingual/source_side.yaml`` the T training set
  translated into S with its answer marked, Dual BERT's training source side
  (``{dir:ROW}/translated.en.json``).

In overrides, ``{final:ROW}`` is an earlier row's export, ``{augmented:ROW}`` the
augmented.json of an earlier translate-test row and ``{dir:ROW}`` its directory.

Selection never looks at the sets: they are the reported split. Every set is scored
with ``cfg.scoring`` (``cmrc``: Chinese by the CMRC 2018 script); a set of several
languages reports their macro average. A finished row leaves ``scores.json`` and is not
run again, so an interrupted table continues where it stopped (a row interrupted in
training resumes from its checkpoint). The table goes to ``table.md`` / ``table.csv``.
"""

from __future__ import annotations

import hashlib
import json
import re

from rayqa import storage
from rayqa.answer.dual_bert import DualBertReader
from rayqa.augment.mixmrc_job import make_mixmrc
from rayqa.config import (CrossLingualTableConfig, DataFile, DualBertJobConfig, FilePair,
                          MixMRCJobConfig, ReaderJobConfig, TranslateTestJobConfig,
                          load_config, save_config)
from rayqa.config.translate_test import TableRowConfig, TableSetConfig
from rayqa.data.records import BadRecords
from rayqa.data.squad import read_squad
from rayqa.eval import score_by_language
from rayqa.eval.report import em_f1_table
from rayqa.pipelines.settings import evaluate_reader
from rayqa.pipelines.translate_test import run_translate_test
from rayqa.train.dual_bert_job import read_pairs, train_dual_bert
from rayqa.train.launch import final_dir
from rayqa.train.reader_job import train_reader

SCORES_FILE = "scores.json"
_REFERENCE = re.compile(r"\{(final|augmented|dir):([^}]+)\}")
_REFERENCED = {"final": "final", "augmented": "augmented.json", "dir": ""}


def row_dir(cfg: CrossLingualTableConfig, name: str) -> str:
    """Where row ``name`` writes: ``<output_dir>/<name made path-safe>``."""
    return storage.join(cfg.output_dir, re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("_"))


def resolve(cfg: CrossLingualTableConfig, override: str) -> str:
    """``override`` with ``{final:ROW}`` / ``{augmented:ROW}`` / ``{dir:ROW}`` made
    locations."""
    def location(match: re.Match) -> str:
        kind, name = match.groups()
        directory = row_dir(cfg, name)
        return storage.join(directory, _REFERENCED[kind]) if _REFERENCED[kind] else directory

    return _REFERENCE.sub(location, override)


CONFIGS = {"reader": ReaderJobConfig, "dual_bert": DualBertJobConfig,
           "translate_test": TranslateTestJobConfig, "mixmrc": MixMRCJobConfig}


def check_table(cfg: CrossLingualTableConfig) -> None:
    """Refuses a table that cannot run, before any row runs: a reference to a later or
    unknown row, a Dual BERT row without source sets, a row whose config (with its
    overrides) does not load (`ConfigError` naming file and key)."""
    earlier: set[str] = set()
    for row in cfg.rows:
        load_config(CONFIGS[row.kind], row.config, [resolve(cfg, o) for o in row.overrides])
        for override in row.overrides:
            for _, name in _REFERENCE.findall(override):
                if name not in earlier:
                    raise ValueError(f"row {row.name!r}: {{…:{name}}} names no earlier row")
        if row.kind == "dual_bert" and row.report:
            missing = [s.name for s in cfg.sets if not s.source]
            if missing:
                raise ValueError(f"row {row.name!r}: Dual BERT reads every set with its "
                                 f"translation; sets without source: {missing}")
        earlier.add(row.name)


def run_table(cfg: CrossLingualTableConfig) -> tuple[str, str]:
    """Run every row and write the table; returns the .md and .csv locations."""
    cfg = cfg.model_copy(update={"output_dir": storage.absolute(cfg.output_dir)})
    check_table(cfg)
    rows = {}
    for row in cfg.rows:
        done = storage.join(row_dir(cfg, row.name), SCORES_FILE)
        if storage.is_file(done):
            scores = json.loads(storage.read_text(done))
            _log(f"{row.name}: done before, skipped")
        else:
            scores = RUNNERS[row.kind](cfg, row, [resolve(cfg, o) for o in row.overrides])
            storage.write_text(done, json.dumps(scores, indent=1, ensure_ascii=False))
        if row.report:
            rows[row.name] = scores
    markdown, csv_text = em_f1_table(rows, [s.name for s in cfg.sets]) if rows else ("", "")
    md, csv_file = (storage.join(cfg.output_dir, name) for name in ("table.md", "table.csv"))
    storage.write_text(md, markdown)
    storage.write_text(csv_file, csv_text)
    save_config(cfg, cfg.output_dir)
    _log(f"EM / F1 per set ({cfg.scoring} rules):\n{markdown}")
    return md, csv_file


def _reader_row(cfg: CrossLingualTableConfig, row: TableRowConfig, overrides: list[str]) -> dict:
    job = _job(ReaderJobConfig, cfg, row, overrides)
    if row.train:
        train_reader(job)
    if not row.report:
        return {}
    model = final_dir(job) if row.train else job.model.name_or_path
    return {s.name: _mean(evaluate_reader(model, [DataFile(path=s.path, lang=s.lang)],
                                          job.data.strict, job.train.eval_batch_size,
                                          cfg.scoring))
            for s in cfg.sets}


def _dual_bert_row(cfg: CrossLingualTableConfig, row: TableRowConfig,
                   overrides: list[str]) -> dict:
    job = _job(DualBertJobConfig, cfg, row, overrides)
    train_dual_bert(job)
    if not row.report:
        return {}
    reader = DualBertReader(final_dir(job), batch_size=job.train.eval_batch_size)
    scores = {}
    for s in cfg.sets:
        gold = read_squad(s.path, lang=s.lang, strict=job.data.strict)
        pairs = read_pairs([FilePair(target=DataFile(path=s.path, lang=s.lang),
                                     source=DataFile(path=s.source))], job.data.strict,
                           BadRecords())
        answers = reader.predict([p.target for p in pairs], [p.source for p in pairs])
        scores[s.name] = _mean(score_by_language(gold, answers, cfg.scoring))
    return scores


def _translate_test_row(cfg: CrossLingualTableConfig, row: TableRowConfig,
                        overrides: list[str]) -> dict:
    job = load_config(TranslateTestJobConfig, row.config, overrides)
    if not row.report:
        run_translate_test(job.model_copy(update={"output_dir": row_dir(cfg, row.name)}))
        return {}
    if row.system not in ("translate_test", "simple_match", *job.aligners):
        raise ValueError(f"row {row.name!r}: system {row.system!r} is not run by its config "
                         f"(translate_test, simple_match or one of aligners)")
    # Rows that differ only in the system they report share the runs.
    key = hashlib.sha256(json.dumps([row.config, overrides]).encode()).hexdigest()[:12]
    scores = {}
    for s in cfg.sets:
        run = storage.join(cfg.output_dir, "translate_test", key, _set_slug(s))
        summary_file = storage.join(run, "scores.json")
        if storage.is_file(summary_file):
            summary = json.loads(storage.read_text(summary_file))
        else:
            summary = run_translate_test(job.model_copy(update={
                "output_dir": run, "scoring": cfg.scoring,
                "target_lang": s.lang or job.target_lang,
                "data_files": [DataFile(path=s.path, lang=s.lang)]}))
        scores[s.name] = _mean(summary["scores"][row.system])
    return scores


def _mixmrc_row(cfg: CrossLingualTableConfig, row: TableRowConfig,
               overrides: list[str]) -> dict:
    make_mixmrc(load_config(MixMRCJobConfig, row.config,
                            [*overrides, f"output_dir={row_dir(cfg, row.name)}"]))
    return {}


RUNNERS = {"reader": _reader_row, "dual_bert": _dual_bert_row,
           "translate_test": _translate_test_row, "mixmrc": _mixmrc_row}


def _job(config_class, cfg: CrossLingualTableConfig, row: TableRowConfig, overrides: list[str]):
    """The row's training job, writing under its row directory with its own run name."""
    directory = row_dir(cfg, row.name)
    return load_config(config_class, row.config, [
        *overrides, f"output_dir={directory}",
        f"train.run_name={directory.rsplit('/', 1)[-1]}"])


def _set_slug(s: TableSetConfig) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", s.name).strip("_")


def _mean(per_lang: dict[str, dict[str, float]]) -> dict[str, float]:
    """A set's EM / F1: its language's, or the macro average over its languages."""
    return {metric: sum(v[metric] for v in per_lang.values()) / len(per_lang)
            for metric in ("exact_match", "f1")}


def _log(message: str) -> None:
    print(f"[rayqa.xl_table] {message}", flush=True)
