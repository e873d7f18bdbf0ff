"""CORA's baselines (paper Section 4.2, Appendix B.6-B.9) over rayqa's parts.

- ``bm25`` (B.7): BM25 over the question's language, where the retrieval unit is
  ``bm25_unit_passages`` (paper: 2) consecutive paragraphs of one article. rayqa's
  collections hold DPR-style 100-token passages, not wikiextractor paragraphs, so a
  unit is that many consecutive passages of one article (same language and
  ``article_id``, in the index's row order, the passages files' order), tiling the
  article from its start; the unit BM25 is built per run from the index's passage
  store (token ids only). With 1 the index's own per-passage BM25 is used. The top
  ``top_k`` units are concatenated into one reader context per question, read in
  sliding windows like any long passage.
- ``mt_dpr`` (translate-test, B.6): question -> pivot language (English), dense
  retrieval over an English-only index (``mt_dpr_index_dir``; the paper's English
  DPR), the extractive reader over the top ``top_k`` passages, answer -> question
  language. Without that index, the multilingual index is searched ``dense_depth``
  deep and only pivot-language passages are kept (fewer than ``top_k`` when the
  depth holds fewer).
- ``mt_mono`` (B.8): the BM25 (monolingual) answer when its normalized probability
  exceeds the threshold (0.5), else the translate-test answer. Our reading of
  "normalize the predicted probabilities ... between 0 to 1": the softmax of the best
  span's score (start + end logit) over all n-best candidate spans of the question's
  reader input. A question whose input holds no span has probability 0.
- ``closed_book`` (B.9): mGEN with no passages (the CORA mGEN, retrieval skipped).

Each baseline gives ``{"answer", "score"}`` per question, in question order; answers
are scored per language with `rayqa.eval.score_open_qa` (MLQA, XOR-Full or MKQA rules).
"""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Iterator, Sequence

from rayqa import storage
from rayqa.answer.extractive import ExtractiveReader
from rayqa.answer.generative import GenerativeReader
from rayqa.config import save_config
from rayqa.data.openqa import OpenQAExample, read_openqa
from rayqa.data.squad import write_predictions
from rayqa.eval import score_open_qa
from rayqa.eval.report import results_table
from rayqa.retrieval.bm25 import BM25Builder, MultilingualBM25
from rayqa.retrieval.passage_store import PassageStore
from rayqa.retrieval.retriever import Retriever, fetch_index
from rayqa.storage import read_manifest
from rayqa.translate import build_translator

BASELINES = ("bm25", "mt_dpr", "mt_mono", "closed_book")
NO_ANSWER = {"answer": "", "score": 0.0}


def read_spans(reader, questions: Sequence[str], passages: Sequence[Sequence[str]]) -> list[dict]:
    """Best span per question over its passages, with a probability in [0, 1].

    MT+Mono needs every candidate span to normalize the best one's score.

    Args:
        reader: An ``ExtractiveReader``.
        questions: Question texts.
        passages: Per question, its reader inputs (passages, or one concatenation).

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


def article_key(lang: str, article_id: str | None, title: str) -> tuple | None:
    """Which article a passage belongs to: its language and ``article_id`` (else its
    title); None when neither is known, so the passage is a unit of its own."""
    if article_id is not None:
        return (lang, "id", article_id)
    return (lang, "title", title) if title else None


def retrieval_units(store, size: int) -> Iterator[tuple[int, str, str, list[str]]]:
    """The retrieval units of a passage store: ``size`` consecutive passages of one
    article, tiling each article from its first row (the last unit may be shorter).

    Args:
        store: A ``PassageStore`` (rows in the passages files' order).
        size: Passages per unit.

    Yields:
        ``(first_row, lang, title, texts)`` per unit, in row order.
    """
    rows = _store_rows(store)
    for key, group in itertools.groupby(rows, key=lambda row: row[1] or ("row", row[0])):
        group = list(group)
        for begin in range(0, len(group), size):
            part = group[begin:begin + size]
            yield part[0][0], part[0][2], part[0][3], [row[4] for row in part]


def _store_rows(store) -> Iterator[tuple[int, tuple | None, str, str, str]]:
    """``(row, article key, lang, title, text)`` for every row, a store file at a time."""
    for table, start in zip(store.tables, store.starts):
        columns = [table.column(name).to_pylist()
                   for name in ("lang", "article_id", "title", "text")]
        for offset, (lang, article_id, title, text) in enumerate(zip(*columns)):
            yield int(start) + offset, article_key(lang, article_id, title), lang, title, text


class UnitBM25:
    """BM25 per language over the multi-passage units of an index's passage store.

    Args:
        index_dir: A ``build_index`` output (path or URI); only its passages are read.
        size: Passages per unit (paper B.7: 2 paragraphs).
        langs: Index only these languages (the questions'); None: every language. A
            question in a language without units searches all indexed ones, merged.
    """

    def __init__(self, index_dir: str, size: int, langs: set[str] | None = None):
        self.store, self.size = _passage_store(index_dir), size
        builders: dict[str, BM25Builder] = {}
        batch: dict[str, tuple[list[str], list[int]]] = {}
        units = (unit for unit in retrieval_units(self.store, size)
                 if langs is None or unit[1] in langs)
        for number, (row, lang, title, texts) in enumerate(units):
            docs, rows = batch.setdefault(lang, ([], []))
            docs.append(" ".join([title, *texts]))
            rows.append(row)
            if (number + 1) % 4096 == 0:  # token ids kept, texts dropped, per batch
                _flush(builders, batch)
        _flush(builders, batch)
        self.bm25 = MultilingualBM25({lang: builder.finish()
                                      for lang, builder in sorted(builders.items())})

    def search(self, questions: list[str], langs: list[str | None],
               top_k: int) -> list[list[dict]]:
        """The ``top_k`` units per question, best first: ``{"rows", "title", "text",
        "lang", "score"}``, the text the unit's passages joined by newlines."""
        return [[self.unit(row, score) for row, score in self.bm25.search(q, lang, top_k)]
                for q, lang in zip(questions, langs)]

    def unit(self, row: int, score: float = 0.0) -> dict:
        """The unit starting at ``row``: it and the next rows of its article, up to size."""
        # Units tile each article from its first row, so the next rows of the same
        # article (up to size) are this unit's.
        first = self.store[row]
        passages = [first]
        key = article_key(first.lang, first.article_id, first.title)
        end = min(row + self.size, len(self.store))
        for nxt in (self.store[r] for r in range(row + 1, end) if key is not None):
            if article_key(nxt.lang, nxt.article_id, nxt.title) != key:
                break
            passages.append(nxt)
        return {"rows": list(range(row, row + len(passages))), "title": first.title,
                "text": "\n".join(p.text for p in passages), "lang": first.lang,
                "score": score}


def _flush(builders: dict, batch: dict) -> None:
    for lang, (docs, rows) in batch.items():
        builders.setdefault(lang, BM25Builder(lang)).add(docs, rows)
    batch.clear()


def _passage_store(index_dir: str):
    local = fetch_index(index_dir)
    return PassageStore.from_manifest(str(local), read_manifest(local))


def bm25_contexts(examples: Sequence[OpenQAExample], retriever, top_k: int) -> list[list[str]]:
    """Per question one reader context: its top ``top_k`` BM25 units concatenated (paper
    B.7), or no context when nothing matched."""
    hits = retriever.search([e.question for e in examples], [e.lang for e in examples], top_k)
    return [["\n".join(h["text"] for h in found)] if found else [] for found in hits]


def bm25_answers(examples: Sequence[OpenQAExample], retriever, reader, top_k: int) -> list[dict]:
    """BM25 baseline: the question-language units, concatenated, then the reader."""
    return read_spans(reader, [e.question for e in examples],
                      bm25_contexts(examples, retriever, top_k))


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
                           pivot: str, top_k: int, depth: int | None = None) -> list[dict]:
    """MT+DPR: translate to ``pivot``, retrieve ``pivot`` passages, read, translate back.

    Args:
        retriever: A dense ``Retriever``: over pivot-language passages only when
            ``depth`` is None (the paper's English index), else over every language.
        depth: None: the top ``top_k`` hits are read. A number: the multilingual search
            goes this deep and keeps the first ``top_k`` pivot-language passages.
    """
    langs = [e.lang for e in examples]
    pivots = [pivot] * len(examples)
    questions = translate_by_lang(translator, [e.question for e in examples], langs, pivots)
    passages = [[h["text"] for h in found]
                for found in pivot_hits(retriever, questions, pivot, top_k, depth)]
    answers = read_spans(reader, questions, passages)
    back = translate_by_lang(translator, [a["answer"] for a in answers], pivots, langs)
    return [{"answer": text, "score": a["score"]} for text, a in zip(back, answers)]


def pivot_hits(retriever, questions: list[str], pivot: str, top_k: int,
               depth: int | None = None) -> list[list[dict]]:
    """Up to ``top_k`` pivot-language passages per (translated) question: the top hits
    of a pivot-only index (``depth`` None), or the pivot-language ones among the top
    ``depth`` hits of a multilingual index."""
    if depth is None:
        return retriever.search(questions, [pivot] * len(questions), top_k)
    hits = retriever.search(questions, [pivot] * len(questions), max(depth, top_k))
    return [[h for h in found if h["lang"] == pivot][:top_k] for found in hits]


def check_pivot_index(store, pivot: str, index_dir: str) -> None:
    """Refuses an ``mt_dpr_index_dir`` that holds passages in other languages."""
    import pyarrow.compute as pc

    langs = {lang for table in store.tables
             for lang in pc.unique(table.column("lang")).to_pylist()}
    if langs - {pivot}:
        raise ValueError(f"mt_dpr_index_dir {index_dir}: passages in {sorted(langs)}; "
                         f"MT+DPR searches an index of {pivot!r} passages only (build one "
                         f"from the {pivot!r} passages files, or leave it out to filter "
                         "index_dir's dense hits)")


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
    """Per-language scores of the answers (`rayqa.eval.score_open_qa`): MLQA-rule EM/F1
    (``mlqa``), XOR-Full F1/EM/BLEU (``xor``) or the MKQA script's metrics (``mkqa``)."""
    predictions: dict[str, dict[str, str]] = {}
    for example, answer in zip(examples, answers):  # per language: MKQA ids repeat
        predictions.setdefault(example.lang, {})[example.id] = answer["answer"]
    return score_open_qa(examples, predictions, scoring)


def select_questions(examples: Sequence[OpenQAExample], answered_only: bool) -> list:
    """The questions to run: with ``answered_only``, those with a gold answer (MKQA's
    unanswerable and long_answer questions go, paper footnote 10 and appendix B.3)."""
    return [e for e in examples if e.answers] if answered_only else list(examples)


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
    out = storage.absolute(cfg.output_dir)
    examples = select_questions(read_openqa(cfg.questions, strict=cfg.strict),
                                cfg.answered_only)
    if not examples:
        raise ValueError(f"{cfg.questions}: no questions"
                         + (" with a gold answer" if cfg.answered_only else ""))
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
    wanted = set(cfg.baselines)
    answers: dict[str, list[dict]] = {}
    reader = ExtractiveReader(cfg.reader) if wanted - {"closed_book"} else None
    if wanted & {"bm25", "mt_mono"}:
        bm25 = (Retriever(cfg.index_dir, "bm25") if cfg.bm25_unit_passages == 1
                else UnitBM25(cfg.index_dir, cfg.bm25_unit_passages,
                              {e.lang for e in examples}))
        answers["bm25"] = bm25_answers(examples, bm25, reader, cfg.top_k)
    if wanted & {"mt_dpr", "mt_mono"}:
        if cfg.mt_dpr_index_dir:
            dense, depth = Retriever(cfg.mt_dpr_index_dir, "dense"), None
            check_pivot_index(dense.passages, cfg.pivot_lang, cfg.mt_dpr_index_dir)
        else:
            dense, depth = Retriever(cfg.index_dir, "dense"), cfg.dense_depth
        answers["mt_dpr"] = translate_test_answers(
            examples, dense, reader, build_translator(cfg.translator), cfg.pivot_lang,
            cfg.top_k, depth)
    if "mt_mono" in wanted:
        answers["mt_mono"] = mt_mono_answers(answers["bm25"], answers["mt_dpr"],
                                             cfg.mono_threshold)
    if "closed_book" in wanted:
        answers["closed_book"] = closed_book_answers(examples, GenerativeReader(cfg.generator))
    return answers


def _write_predictions(directory: str, examples, answers) -> None:
    for lang, (_, preds) in _by_lang(examples, answers).items():
        write_predictions(preds, storage.join(directory, f"predictions.{lang}.json"))
