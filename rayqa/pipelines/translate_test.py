"""The back-translation systems of cross-lingual MRC on Ray Data (Cui et al. 2019,
section 3; Table 2 rows 1-5).

``run_translate_test(cfg)`` answers target-language (T) questions through the source
language (S), each step a Ray Data actor pool that loads its models once per actor:

1. Q_T and P_T are translated into S (``cfg.translator``) in one pass: every question
   once, every distinct passage once (sentence by sentence with ``passage_unit:
   sentence``, joined again in S).
2. The S reader (``cfg.reader``) answers Q_S over P_S: A_S.
3. A_S is translated back into T (``cfg.answer_translator``, else ``cfg.translator``):
   A_trans. Table 2 rows 1-2 answer with A_trans as it is (``translate_test``).
4. SimpleMatch aligns A_trans onto P_T (row 3, ``simple_match``); each trained Answer
   Aligner / Verifier of ``cfg.aligners`` reads A_trans with P_T (and Q_T) (rows 4-5).

Written into ``cfg.output_dir`` (a path or URI)::

    augmented.json             the input questions, each with ``translated_answer``
                               (A_trans) when the chain gave one: run over the T
                               training set, the training data of an aligner/verifier
    source.json                the S side of every question (Q_S over P_S, same ids,
                               no answers): X_S of Dual BERT at inference
    translations.jsonl         per question: id, question_s, answer_s, translated_answer
    predictions.<system>.json  {id: answer} of each system, the official scripts' input
    scores.json                EM/F1 per system and language (``cfg.scoring``) when the
                               input has answers, and the run's counts
    table.md, table.csv        the same scores as a table (systems as rows)
    rayqa_config.yaml          the resolved config

A question the chain cannot carry through (the S reader finds no span, or A_S
translates to blank) is counted in ``scores.json``, answered "" by every system and
written without ``translated_answer``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from rayqa import storage
from rayqa.config import save_config
from rayqa.config.translate_test import TranslateTestJobConfig
from rayqa.crosslingual.matching import simple_match
from rayqa.crosslingual.translation_units import join_translation_units, translation_units
from rayqa.data.records import BadRecords
from rayqa.data.squad import QAExample, read_squad, write_predictions, write_squad
from rayqa.eval import score_by_language
from rayqa.eval.report import em_f1_table
from rayqa.pipelines.batch_retrieval import pool_column, read_ray
from rayqa.train.launch import read_data_files
from rayqa.translate.factory import translator_for_actors
from rayqa.translate.ray_data import TranslateBatch

TRANSLATE_TEST, SIMPLE_MATCH = "translate_test", "simple_match"


def read_examples(cfg: TranslateTestJobConfig, report: BadRecords) -> list[QAExample]:
    """The T questions of every data file (answers optional; ids made unique)."""
    def read(path, lang, strict, report):
        return read_squad(path, lang=lang or cfg.target_lang, strict=strict, report=report,
                          require_answers=False)

    return read_data_files(cfg.data_files, read, cfg.strict, report)


def translate_texts(texts: Sequence[str], translator, src: str, tgt: str,
                    cpus_per_actor: float = 1.0) -> list[str]:
    """``texts`` translated from ``src`` into ``tgt`` on a Ray Data actor pool (the
    translator's ``num_actors``, ``batch_size`` and ``use_gpu``), in order."""
    rows = [{"text": text} for text in texts]
    return [str(t) for t in pool_column(
        rows, TranslateBatch, {"cfg": translator_for_actors(translator), "text_column": "text",
                               "out_column": "translation", "src": src, "tgt": tgt},
        ["text"], "translation", batch_size=translator.batch_size,
        num_actors=translator.num_actors, cpus_per_actor=cpus_per_actor,
        use_gpu=translator.use_gpu)]


def to_source(cfg: TranslateTestJobConfig, examples: Sequence[QAExample]
              ) -> tuple[list[str], dict[str, str]]:
    """Q_S of every example and P_S of every distinct passage, from one translation pass."""
    contexts = list(dict.fromkeys(e.context for e in examples))
    units = [translation_units(c, cfg.passage_unit) for c in contexts]
    texts = [e.question for e in examples] + [unit for parts in units for unit in parts]
    done = translate_texts(texts, cfg.translator, cfg.target_lang, cfg.source_lang,
                           cfg.reading.cpus_per_actor)
    questions, rest = done[:len(examples)], iter(done[len(examples):])
    passages = {context: join_translation_units([next(rest) for _ in parts], cfg.source_lang)
                for context, parts in zip(contexts, units)}
    return questions, passages


def translated_answers(cfg: TranslateTestJobConfig, examples: Sequence[QAExample]
                       ) -> tuple[list[dict], dict[str, str]]:
    """Steps 1-3 for every example: ``{id, question_s, answer_s, translated_answer}``
    (``translated_answer`` None where the chain broke), and P_S by P_T."""
    questions, passages = to_source(cfg, examples)
    answers = read_ray([{"id": e.id, "question": q, "context": passages[e.context]}
                        for e, q in zip(examples, questions)], cfg.reader, cfg.reading)
    found = [i for i, answer in enumerate(answers) if answer.strip()]
    back = translate_texts([answers[i] for i in found], cfg.answers_translator(),
                           cfg.source_lang, cfg.target_lang, cfg.reading.cpus_per_actor)
    translated: list[str | None] = [None] * len(examples)
    for i, text in zip(found, back):
        translated[i] = text.strip() or None
    return [{"id": e.id, "question_s": q, "answer_s": a, "translated_answer": t}
            for e, q, a, t in zip(examples, questions, answers, translated)], passages


def system_predictions(cfg: TranslateTestJobConfig, examples: Sequence[QAExample]
                       ) -> dict[str, dict[str, str]]:
    """``{system: {id: answer}}``: A_trans itself, SimpleMatch's span of P_T, and each
    aligner's; "" for questions without A_trans. ``examples`` carry A_trans."""
    carried = [e for e in examples if e.translated_answer]
    blank = {e.id: "" for e in examples}
    predictions = {TRANSLATE_TEST: {**blank, **{e.id: e.translated_answer for e in carried}}}
    spans = [simple_match(e.translated_answer, e.context, cfg.simple_match_delta)
             for e in carried]
    predictions[SIMPLE_MATCH] = {**blank, **{e.id: e.context[start:end]
                                             for e, (start, end) in zip(carried, spans)}}
    rows = [{"id": e.id, "question": e.question, "context": e.context,
             "translated_answer": e.translated_answer} for e in carried]
    for name, model_dir in cfg.aligners.items():
        answers = read_ray(rows, model_dir, cfg.reading) if rows else []
        predictions[name] = {**blank, **dict(zip((e.id for e in carried), answers))}
    return predictions


def run_translate_test(cfg: TranslateTestJobConfig) -> dict:
    """Run the back-translation systems over ``cfg.data_files``; see the module doc.

    Returns:
        The content of ``scores.json``.
    """
    report = BadRecords()
    examples = read_examples(cfg, report)
    if not examples:
        raise ValueError(f"no questions in {[item.path for item in cfg.data_files]}")
    _log(f"{len(examples)} {cfg.target_lang} questions ({report.total} bad records): "
         f"{cfg.target_lang} -> {cfg.source_lang} -> reader -> {cfg.target_lang}")
    chain, passages = translated_answers(cfg, examples)
    for example, row in zip(examples, chain):
        example.translated_answer = row["translated_answer"]
    predictions = system_predictions(cfg, examples)

    out = cfg.output_dir
    storage.make_dirs(out)
    write_squad(examples, storage.join(out, "augmented.json"))
    write_squad([QAExample(e.id, row["question_s"], passages[e.context], title=e.title,
                           lang=cfg.source_lang) for e, row in zip(examples, chain)],
                storage.join(out, "source.json"))
    storage.write_text(storage.join(out, "translations.jsonl"),
                       "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in chain))
    for system, answers in predictions.items():
        write_predictions(answers, storage.join(out, f"predictions.{system}.json"))
    summary = {"questions": len(examples),
               "no_source_answer": sum(not row["answer_s"].strip() for row in chain),
               "no_translated_answer": sum(row["translated_answer"] is None for row in chain),
               "bad_records": report.to_dict(), "scoring": cfg.scoring}
    answered = [e for e in examples if e.answers]
    if answered:
        summary["scores"] = {system: score_by_language(answered, answers, cfg.scoring)
                             for system, answers in predictions.items()}
        markdown, csv_text = em_f1_table(summary["scores"])
        storage.write_text(storage.join(out, "table.md"), markdown)
        storage.write_text(storage.join(out, "table.csv"), csv_text)
        _log(f"EM / F1 ({cfg.scoring} rules):\n{markdown}")
    storage.write_text(storage.join(out, "scores.json"),
                       json.dumps(summary, indent=1, ensure_ascii=False))
    save_config(cfg, out)
    return summary


def _log(message: str) -> None:
    print(f"[rayqa.translate_test] {message}", flush=True)
