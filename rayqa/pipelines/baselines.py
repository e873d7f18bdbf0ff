"""CORA's baselines (paper Section 4.2, Appendix B.6-B.9) over rayqa's parts.

- ``bm25``: BM25 over the question's language, top ``k`` passages, extractive reader.
- ``mt_dpr`` (translate-test): question -> pivot language (English), dense retrieval
  kept to pivot-language passages, extractive reader, answer -> question language.
- ``mt_mono``: the BM25 (monolingual) answer when its normalized probability exceeds the
  threshold (0.5, paper B.8), else the translate-test answer. Our reading of "normalize
  the predicted probabilities ... between 0 to 1": the softmax of the best span's score
  (start + end logit) over all n-best candidate spans of the question's passages. A
  question whose passages hold no span has probability 0.
- ``closed_book``: mGEN with no passages (paper B.9: the CORA mGEN, retrieval skipped).

Each baseline gives ``{"answer", "score"}`` per question, in question order.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence

from rayqa import storage
from rayqa.data.openqa import OpenQAExample, read_openqa

BASELINES = ("bm25", "mt_dpr", "mt_mono", "closed_book")
NO_ANSWER = {"answer": "", "score": 0.0}


def read_spans(reader, questions: Sequence[str], passages: Sequence[Sequence[str]]) -> list[dict]:
    """Best span per question over its passages, with a probability in [0, 1].

    MT+Mono needs every candidate span to normalize the best one's score.

    Args:
        reader: An ``ExtractiveReader``.
        questions: Question texts.
        passages: Per question, passage texts.

    Returns:
        Per question ``{"answer", "score"}``, score the softmax probability of the best
        span among all candidates (0 and "" when no passage holds a span).
    """
    candidates = reader.candidates(list(questions), [list(p) for p in passages])
    return [_best_with_probability([span for _, span in found]) for found in candidates]


def _best_with_probability(spans: list) -> dict:
    if not spans:
        return dict(NO_ANSWER)
    best = max(spans, key=lambda s: s.score)
    total = sum(math.exp(s.score - best.score) for s in spans)
    return {"answer": best.text, "score": 1.0 / total}


def bm25_answers(examples: Sequence[OpenQAExample], retriever, reader, top_k: int) -> list[dict]:
    """BM25 baseline: the question-language BM25 index, then the extractive reader."""
    hits = retriever.search([e.question for e in examples], [e.lang for e in examples], top_k)
    return read_spans(reader, [e.question for e in examples],
                      [[h["text"] for h in found] for found in hits])


def translate_by_lang(translator, texts: Sequence[str], srcs: Sequence[str],
                      tgts: Sequence[str]) -> list[str]:
    """Translate each text from its ``src`` to its ``tgt``, batched per pair; "" stays ""."""
    groups: dict[tuple[str, str], list[int]] = {}
    for i, (text, src, tgt) in enumerate(zip(texts, srcs, tgts)):
        if text.strip():
            groups.setdefault((src, tgt), []).append(i)
    out = list(texts)
    for (src, tgt), rows in groups.items():
        for i, text in zip(rows, translator.translate([texts[i] for i in rows], src, tgt)):
            out[i] = text
    return out


def translate_test_answers(examples: Sequence[OpenQAExample], retriever, reader, translator,
                           pivot: str, top_k: int, depth: int) -> list[dict]:
    """MT+DPR: translate to ``pivot``, retrieve ``pivot`` passages, read, translate back.

    The dense search goes ``depth`` deep and keeps the first ``top_k`` passages in the
    pivot language (the paper searches an English-only index).
    """
    langs = [e.lang for e in examples]
    pivots = [pivot] * len(examples)
    questions = translate_by_lang(translator, [e.question for e in examples], langs, pivots)
    hits = retriever.search(questions, pivots, max(depth, top_k))
    passages = [[h["text"] for h in found if h["lang"] == pivot][:top_k] for found in hits]
    answers = read_spans(reader, questions, passages)
    back = translate_by_lang(translator, [a["answer"] for a in answers], pivots, langs)
    return [{"answer": text, "score": a["score"]} for text, a in zip(back, answers)]


def mt_mono_answers(mono: Sequence[dict], translated: Sequence[dict],
                    threshold: float = 0.5) -> list[dict]:
    """MT+Mono: the monolingual answer when its probability exceeds ``threshold``."""
    return [dict(m) if m["answer"] and m["score"] > threshold else dict(t)
            for m, t in zip(mono, translated)]


def closed_book_answers(examples: Sequence[OpenQAExample], generator) -> list[dict]:
    """Closed-book: mGEN generating in the question's language from the question alone."""
    return generator.answer_batch([e.question for e in examples], [e.lang for e in examples],
                                  [[] for _ in examples])


def score_answers(examples: Sequence[OpenQAExample], answers: Sequence[dict],
                  scoring: str = "mlqa") -> dict[str, dict[str, float]]:
    """Per-language scores: MLQA-rule EM/F1 (``mlqa``) or XOR-Full F1/EM/BLEU (``xor``).

    Languages are scored one at a time, so MKQA ids shared across languages do not clash.
    """
    from rayqa.eval import score_by_language, xor_full_scores

    scorer = xor_full_scores if scoring == "xor" else score_by_language
    scores = {}
    for lang, (group, preds) in _by_lang(examples, answers).items():
        scores[lang] = scorer(group, preds)[lang]
    return scores


def _by_lang(examples, answers) -> dict[str, tuple[list, dict[str, str]]]:
    out: dict[str, tuple[list, dict[str, str]]] = {}
    for example, answer in zip(examples, answers):
        group, preds = out.setdefault(example.lang, ([], {}))
        group.append(example)
        preds[example.id] = answer["answer"]
    return out


def run_baselines(cfg) -> str:
    """Run the baselines of a ``BaselinesJobConfig`` and write their outputs.

    Writes, under ``cfg.output_dir`` (a local path or URI): ``<baseline>/predictions.
    <lang>.json`` (``{question_id: answer}``), ``scores.json`` (per baseline and
    language), ``results.md``/``results.csv`` (F1 by language, like CORA's Tables 1-2)
    and the resolved config.

    Returns:
        The output directory, a URI or an absolute path.
    """
    from rayqa.config import save_config
    from rayqa.eval.report import results_table

    out = storage.absolute(cfg.output_dir)
    examples = read_openqa(cfg.questions, strict=cfg.strict)
    if not examples:
        raise ValueError(f"{cfg.questions}: no questions")
    answers = _run_all(cfg, examples)
    scores = {name: score_answers(examples, answers[name], cfg.scoring) for name in cfg.baselines}
    for name in cfg.baselines:
        _write_predictions(storage.join(out, name), examples, answers[name])
    storage.write_text(storage.join(out, "scores.json"),
                       json.dumps(scores, indent=2, ensure_ascii=False))
    table = results_table(scores, metric="f1")
    storage.write_text(storage.join(out, "results.md"), table.to_markdown())
    storage.write_text(storage.join(out, "results.csv"), table.to_csv())
    save_config(cfg, out)
    return out


def _run_all(cfg, examples) -> dict[str, list[dict]]:
    """Answers of every requested baseline; MT+Mono reuses the BM25 and MT+DPR runs."""
    from rayqa.answer.extractive import ExtractiveReader
    from rayqa.retrieval.retriever import Retriever
    from rayqa.translate import build_translator

    wanted = set(cfg.baselines)
    answers: dict[str, list[dict]] = {}
    reader = ExtractiveReader(cfg.reader) if wanted - {"closed_book"} else None
    if wanted & {"bm25", "mt_mono"}:
        answers["bm25"] = bm25_answers(examples, Retriever(cfg.index_dir, "bm25"), reader,
                                       cfg.top_k)
    if wanted & {"mt_dpr", "mt_mono"}:
        answers["mt_dpr"] = translate_test_answers(
            examples, Retriever(cfg.index_dir, "dense"), reader, build_translator(cfg.translator),
            cfg.pivot_lang, cfg.top_k, cfg.dense_depth)
    if "mt_mono" in wanted:
        answers["mt_mono"] = mt_mono_answers(answers["bm25"], answers["mt_dpr"],
                                             cfg.mono_threshold)
    if "closed_book" in wanted:
        from rayqa.answer.generative import GenerativeReader

        answers["closed_book"] = closed_book_answers(examples, GenerativeReader(cfg.generator))
    return answers


def _write_predictions(directory: str, examples, answers) -> None:
    from rayqa.data.squad import write_predictions

    for lang, (_, preds) in _by_lang(examples, answers).items():
        write_predictions(preds, storage.join(directory, f"predictions.{lang}.json"))
