"""mixMRC data generation over whole files: Ray Data translation and the output files.

``make_mixmrc(cfg)`` reads the source-language SQuAD files, checks that the translator
serves every ``<source>-<target>`` pair (before any Ray work), translates every
(example, target language) row on a Ray Data actor pool (``MixMRCTranslate``, the
translator built once per actor), and writes into ``cfg.output_dir``::

    translated.<lang>.json   per target language: the kept translated instances, the
                             monolingual MRC training data of that language (SQuAD v1.1);
                             with ``keep_skipped`` the skipped ones too, without answers
    mixed.json               every mixed pair (question in k, passage and answer in l,
                             k != l, over the source and target languages), qa ids
                             ``<id>.q-<k>.c-<l>``
    table3.md, table3.csv    paper Table 3: language, # instance, skip ratio, plus how
                             many instances were kept by markers, recovered, skipped
    table3.json              the same rows, mixed pairs per (k, l), the bad input records
    rayqa_config.yaml        the resolved config

``cfg.output_dir``, the source files and the translator's ``xquad_dir`` and models are
local paths or URIs (``rayqa.storage``); every file is written whole, on the driver.

Each qa of the SQuAD files carries ``question_lang`` and ``context_lang``, and each
paragraph ``lang`` (the passage language), which ``rayqa.data.squad.read_squad`` takes
as the example's language.
"""

from __future__ import annotations

import csv
import io
import json
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import asdict, fields
from pathlib import Path

from rayqa import storage
from rayqa.augment.mixmrc import (
    Instance,
    LanguageStats,
    QAPair,
    as_pair,
    count_instances,
    mix_example,
    table3_markdown,
    to_squad,
    translate_examples,
)
from rayqa.config import MixMRCJobConfig, save_config
from rayqa.data.records import BadRecord, BadRecords, reject
from rayqa.data.squad import NO_POSITION, read_squad
from rayqa.runtime import run_unwrapping
from rayqa.translate.base import TranslationError, pair_name
from rayqa.translate.factory import build_translator, translator_for_actors

MIXED_FILE = "mixed.json"
TABLE_FILES = ("table3.md", "table3.csv", "table3.json")
_FIELDS = [f.name for f in fields(Instance)]


def translated_file(lang: str) -> str:
    """The name of a target language's translated training file."""
    return f"translated.{lang}.json"


def make_mixmrc(cfg: MixMRCJobConfig) -> dict:
    """Generate the translated and mixed mixMRC data; see the module doc for the files.

    Args:
        cfg: The job config.

    Returns:
        The content of ``table3.json``: Table 3's rows, mixed pairs per language pair,
        the bad input records.

    Raises:
        TranslationError: The translator does not serve a ``<source>-<target>`` pair
            (raised before any Ray work), or fails on a text.
        DataError: In strict mode, at the first bad input record.
    """
    check_translator(cfg)
    report = BadRecords()
    sources = read_sources(cfg, report)
    _log(f"{len(sources)} {cfg.source_lang} examples from {len(cfg.source_files)} file(s) "
         f"({report.total} bad records) -> {', '.join(cfg.target_langs)}")
    translations = translate_all(cfg, sources)
    stats = count_instances(translations, cfg.source_lang, len(sources), cfg.target_langs)
    versions = _by_example(sources, translations)
    summary = write_outputs(cfg, versions, stats, report)
    _log(f"Table 3 ({cfg.output_dir}):\n{table3_markdown(stats)}"
         f"{sum(summary['mixed_pairs'].values())} mixed pairs -> {cfg.output_dir}")
    return summary


def check_translator(cfg: MixMRCJobConfig) -> None:
    """Fail early, naming the pair, when the translator lacks a ``<source>-<target>`` pair.

    Building is cheap here: Marian models load on first use, and a parallel corpus is
    a few JSON files.
    """
    translator = build_translator(cfg.translator)
    missing = [pair_name(cfg.source_lang, tgt) for tgt in cfg.target_langs
               if not translator.supports(cfg.source_lang, tgt)]
    if missing:
        raise TranslationError(f"mixMRC: the {cfg.translator.kind} translator does not "
                               f"support {', '.join(missing)} (supported: "
                               f"{', '.join(sorted(translator.pairs)) or 'none'})")


def read_sources(cfg: MixMRCJobConfig, report: BadRecords) -> list[Instance]:
    """The source examples with a usable first answer; the others go to ``report``.

    Beyond ``read_squad``'s checks, an example is rejected when its first answer does
    not occur in the passage (``no_answer_span``), is blank (``empty_answer``), or its
    id repeats one of an earlier file (``duplicate_id``).
    """
    seen: set[str] = set()
    out = []
    for data_file in cfg.source_files:
        for example in read_squad(data_file.path, lang=cfg.source_lang, strict=cfg.strict,
                                  report=report):
            reason = _source_problem(example, seen)
            if reason:
                reject(report, cfg.strict, BadRecord(data_file.path, reason, detail=example.id))
                continue
            seen.add(example.id)
            answer = example.answers[0]
            out.append(Instance(example.id, cfg.source_lang, example.title, example.question,
                                example.context, answer["text"], answer["answer_start"]))
    return out


def _source_problem(example, seen: set[str]) -> str | None:
    answer = example.answers[0]
    if answer["answer_start"] == NO_POSITION:
        return "no_answer_span"
    if not answer["text"].strip():
        return "empty_answer"
    return "duplicate_id" if example.id in seen else None


class MixMRCTranslate:
    """Ray Data step translating source-example rows into each row's ``tgt`` language.

    Args:
        translator_cfg: A ``TranslatorConfig``; the translator is built here, once per
            actor.

    Input rows carry the ``Instance`` fields of the source example plus ``tgt``; output
    rows the ``Instance`` fields of the translation (status ``markers``, ``recovered``
    or ``skipped``).
    """

    def __init__(self, translator_cfg):
        self.translator = build_translator(translator_cfg)

    def __call__(self, batch: dict) -> dict:
        rows = _rows(batch)
        groups: dict[str, list[int]] = defaultdict(list)
        for i, row in enumerate(rows):
            groups[row["tgt"]].append(i)
        out: list[Instance | None] = [None] * len(rows)
        for tgt, indices in groups.items():
            sources = [_instance(rows[i]) for i in indices]
            for i, done in zip(indices, translate_examples(self.translator, sources, tgt)):
                out[i] = done
        return {name: [getattr(inst, name) for inst in out] for name in _FIELDS}


def _rows(batch: dict) -> list[dict]:
    """Column batch (lists or numpy arrays) -> rows of plain Python values."""
    names = list(batch)
    return [dict(zip(names, values)) for values in zip(*(batch[n] for n in names))]


def _instance(row: dict) -> Instance:
    """A row (numpy or Python values) as an ``Instance`` of plain Python values."""
    values = {name: str(row[name]) for name in _FIELDS}
    values["answer_start"] = int(row["answer_start"])
    return Instance(**values)


def translate_all(cfg: MixMRCJobConfig, sources: Sequence[Instance]) -> list[Instance]:
    """Every source example in every target language, translated on a Ray Data actor pool."""
    if not sources:
        return []
    import ray
    from ray.data import ActorPoolStrategy

    # Rows of one language and one paragraph stay together, so a batch translates each
    # passage once and groups into few language pairs.
    items = [{**asdict(source), "tgt": tgt} for tgt in cfg.target_langs for source in sources]
    translator = translator_for_actors(cfg.translator)

    def translate() -> list[Instance]:
        return [_instance(row) for row in ray.data.from_items(items).map_batches(
            MixMRCTranslate, fn_constructor_args=(translator,),
            batch_size=cfg.translator.batch_size, num_cpus=cfg.cpus_per_actor,
            num_gpus=1 if cfg.translator.use_gpu else 0,
            compute=ActorPoolStrategy(size=cfg.translator.num_actors)).iter_rows()]

    # Surface the translator's own error (pair, text) without Ray's wrapping.
    return run_unwrapping(translate, TranslationError)


def _by_example(sources: Sequence[Instance], translations: Iterable[Instance]
                ) -> dict[str, dict[str, Instance]]:
    """``{id: {lang: instance}}`` in source order, the source language included."""
    versions = {source.id: {source.lang: source} for source in sources}
    for instance in translations:
        versions[instance.id][instance.lang] = instance
    return versions


def write_outputs(cfg: MixMRCJobConfig, versions: dict[str, dict[str, Instance]],
                  stats: Sequence[LanguageStats], report: BadRecords) -> dict:
    """Write the translated files, mixed.json, Table 3 and the config; return the summary."""
    out = cfg.output_dir
    storage.make_dirs(out)
    for lang in cfg.target_langs:
        kept = [as_pair(v[lang]) for v in versions.values()
                if v[lang].kept or (cfg.keep_skipped and v[lang].question and v[lang].context)]
        _write_squad(kept, storage.join(out, translated_file(lang)))
    langs = [cfg.source_lang, *cfg.target_langs]
    mixed = [pair for v in versions.values()
             for pair in mix_example(v, langs, cfg.max_pairs_per_example, cfg.seed)]
    _write_squad(mixed, storage.join(out, MIXED_FILE))
    summary = {"rows": [s.row() for s in stats], "mixed_pairs": _pair_counts(mixed),
               "bad_records": report.to_dict()}
    write_table3(stats, summary, out)
    save_config(cfg, out)
    return summary


def _pair_counts(pairs: Sequence[QAPair]) -> dict[str, int]:
    """Mixed pairs per ``<question lang>-<context lang>``."""
    return dict(Counter(pair_name(p.question_lang, p.context_lang) for p in pairs))


def _write_squad(pairs: Sequence[QAPair], location: str) -> None:
    storage.write_text(location, json.dumps(to_squad(pairs), ensure_ascii=False))


def write_table3(stats: Sequence[LanguageStats], summary: dict, out: str | Path) -> None:
    """``table3.md``, ``table3.csv`` (the rows; the source's skip ratio empty) and
    ``table3.json`` (the whole summary), into the directory ``out`` (path or URI)."""
    md, csv_name, json_name = (storage.join(out, name) for name in TABLE_FILES)
    storage.write_text(md, table3_markdown(stats))
    rows = [s.row() for s in stats]
    text = io.StringIO(newline="")
    writer = csv.DictWriter(text, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    storage.write_text(csv_name, text.getvalue())
    storage.write_text(json_name, json.dumps(summary, indent=2, ensure_ascii=False))


def _log(message: str) -> None:
    print(f"[rayqa.mixmrc] {message}", flush=True)
