"""Driver side of mDPR training: read data once, mine BM25 negatives, train, export.

Training and dev files are either

- DPR JSON Lines (``.jsonl``, ``.jsonl.gz``), one question per line::

      {"id": "q1", "question": "...", "lang": "ja", "answers": ["..."],
       "positive_ctxs": [{"title": "...", "text": "...", "id": "p7"}, ...],
       "hard_negative_ctxs": [{"title": "...", "text": "...", "id": "p9"}, ...]}

  ``lang`` may come from the file entry (``{path, lang}``) instead; ``id`` defaults to
  ``<file>:<line>``; a context's ``id`` (or DPR's ``passage_id``) is optional: passages
  are identified by title and text. Training uses the first
  positive, as DPR does; dev ranking counts any. DPR's ``negative_ctxs`` (random
  negatives) are ignored: the other questions' passages play that role.
- SQuAD v1.1 JSON (``.json``, ``.json.gz``; XQuAD, TyDi gold passages, the demo corpus):
  each question's paragraph, with its article title, is its positive.

Bad lines and contexts are counted by reason with file and line (strict mode raises).
With ``data.bm25_negatives`` a question with fewer than ``data.hard_negatives`` hard
negatives gets the best BM25 passages of its language (``data.passages_files``, or all
training positives) that are not its positive and contain none of its answers, as in DPR.

``train_mdpr(cfg)`` runs the workers and writes the best checkpoint (lowest dev average
rank) to ``<output_dir>/final``: ``query_encoder/`` and ``passage_encoder/``, each a
plain ``from_pretrained`` directory, beside the resolved config.
"""

from __future__ import annotations

from rayqa.config import DataFile, MDPRJobConfig
from rayqa.data.passages import read_passages
from rayqa.data.records import BadRecord, BadRecords, iter_jsonl, log_report, reject
from rayqa.data.squad import read_squad
from rayqa.retrieval.bm25 import MultilingualBM25
from rayqa.train.mdpr_loop import (Context, DevSet, DPRExample, biencoder_train_loop,
                                   train_dataset)
from rayqa.train.launch import fit_and_export

SCORE = "dev_avg_rank"  # DPR selects its checkpoint by validation average rank


def read_dpr_file(item: DataFile, strict: bool, report: BadRecords) -> list[DPRExample]:
    """Reads one training or dev file, DPR JSONL or SQuAD JSON by its name (see module)."""
    name = item.path.removesuffix(".gz")
    if name.endswith(".jsonl"):
        return read_dpr_jsonl(item.path, item.lang, strict, report)
    if name.endswith(".json"):
        return [DPRExample(e.id, e.question, e.lang, [a["text"] for a in e.answers],
                           [Context(e.title, e.context)])
                for e in read_squad(item.path, lang=item.lang, strict=strict, report=report)]
    raise ValueError(f"{item.path}: expected DPR .jsonl or SQuAD .json (optionally .gz)")


def read_dpr_jsonl(path: str, lang: str | None, strict: bool,
                   report: BadRecords) -> list[DPRExample]:
    """The good questions of a DPR JSON Lines file; bad lines go to `report`."""
    before = report.total
    examples = []
    for line, obj in iter_jsonl(path, report, strict):
        example = _dpr_example(obj, _Where(path, line, strict, report), lang)
        if example is not None:
            examples.append(example)
    log_report(path, report, before)
    return examples


class _Where:
    """A line of a file and where its problems are reported."""

    def __init__(self, path: str, line: int, strict: bool, report: BadRecords):
        self.path, self.line, self.strict, self.report = path, line, strict, report

    def reject(self, reason: str, detail: str = "", location: str | None = None) -> None:
        reject(self.report, self.strict, BadRecord(self.path, reason, self.line, location, detail))


def _dpr_example(obj: dict, where: _Where, default_lang: str | None) -> DPRExample | None:
    question, lang = obj.get("question"), obj.get("lang") or default_lang
    if not isinstance(question, str) or not question.strip():
        return where.reject("missing_field", "question")
    if not lang:
        return where.reject("missing_lang", "no lang in the line or the file entry")
    positives = _contexts(obj.get("positive_ctxs"), "positive_ctxs", where)
    if not positives:
        return where.reject("no_positive", "positive_ctxs has no passage with text")
    answers = obj.get("answers") or []
    answers = [answers] if isinstance(answers, str) else [str(a) for a in answers]
    return DPRExample(str(obj.get("id") or f"{where.path}:{where.line}"), question, str(lang),
                      answers, positives,
                      _contexts(obj.get("hard_negative_ctxs"), "hard_negative_ctxs", where))


def _contexts(items, name: str, where: _Where) -> list[Context]:
    """The well-formed contexts of a list; each bad one is counted as `bad_ctx`."""
    if items is None:
        return []
    if not isinstance(items, list):
        where.reject("bad_ctx", f"{name} is not a list")
        return []
    out = []
    for index, ctx in enumerate(items):
        if not isinstance(ctx, dict) or not isinstance(ctx.get("text"), str) \
                or not ctx["text"].strip():
            where.reject("bad_ctx", "not an object with a non-empty text", f"{name}[{index}]")
            continue
        ctx_id = ctx.get("id", ctx.get("passage_id"))
        out.append(Context(str(ctx.get("title") or ""), ctx["text"],
                           None if ctx_id is None else str(ctx_id)))
    return out


def read_dpr_files(files: list[DataFile], strict: bool, report: BadRecords) -> list[DPRExample]:
    """All questions of `files`, in order."""
    return [example for item in files for example in read_dpr_file(item, strict, report)]


def mining_pool(cfg: MDPRJobConfig, train: list[DPRExample],
                report: BadRecords) -> list[tuple[Context, str]]:
    """Candidate negatives with their language: `passages_files`, else the positives."""
    if cfg.data.passages_files:
        return [(Context(p.title, p.text, p.id), p.lang) for item in cfg.data.passages_files
                for p in read_passages(item.path, strict=cfg.data.strict, report=report)]
    seen, pool = set(), []
    for example in train:
        for ctx in example.positives:
            if ctx.key not in seen:
                seen.add(ctx.key)
                pool.append((ctx, example.lang))
    return pool


def mine_bm25_negatives(examples: list[DPRExample], pool: list[tuple[Context, str]],
                        count: int) -> int:
    """Tops up each question's hard negatives to `count` from BM25 over `pool`.

    A candidate is taken when it is none of the question's positives or hard negatives
    and contains none of its answers (case-insensitive).

    Returns:
        The number of negatives added.
    """
    bm25 = MultilingualBM25.build([c.title for c, _ in pool], [c.text for c, _ in pool],
                                  [lang for _, lang in pool])
    added = 0
    for example in examples:
        if len(example.hard_negatives) >= count:
            continue
        known = example.positives + example.hard_negatives
        taken = {c.key for c in known}
        answers = [a.casefold() for a in example.answers if a.strip()]
        for row, _ in bm25.search(example.question, example.lang, 4 * count + len(known)):
            ctx = pool[row][0]
            if ctx.key in taken or any(a in ctx.text.casefold() for a in answers):
                continue
            example.hard_negatives.append(ctx)
            taken.add(ctx.key)
            added += 1
            if len(example.hard_negatives) >= count:
                break
    return added


def build_dev_set(examples: list[DPRExample]) -> DevSet:
    """The dev questions ranked against every distinct positive and hard negative."""
    rows: dict[int, int] = {}
    passages: list[Context] = []
    positive_rows = []
    for example in examples:
        for ctx in example.positives + example.hard_negatives:
            if ctx.key not in rows:
                rows[ctx.key] = len(passages)
                passages.append(ctx)
        positive_rows.append([rows[ctx.key] for ctx in example.positives])
    return DevSet([e.question for e in examples], passages, positive_rows)


def prepare_data(cfg: MDPRJobConfig) -> tuple[list[DPRExample], DevSet | None]:
    """Reads the data (and mines BM25 negatives when asked) on the driver."""
    report = BadRecords()
    train = read_dpr_files(cfg.data.train_files, cfg.data.strict, report)
    dev = read_dpr_files(cfg.data.dev_files, cfg.data.strict, report)
    if not train:
        raise ValueError("no usable training questions in data.train_files")
    mined = 0
    if cfg.data.bm25_negatives and cfg.data.hard_negatives:
        mined = mine_bm25_negatives(train, mining_pool(cfg, train, report),
                                    cfg.data.hard_negatives)
    dev_set = build_dev_set(dev) if dev else None
    _log(f"{len(train)} training questions ({mined} BM25 negatives mined), "
         f"{len(dev)} dev questions over {len(dev_set.passages) if dev_set else 0} passages; "
         f"{report.summary()}")
    return train, dev_set


def train_mdpr(cfg: MDPRJobConfig):
    """Train the bi-encoder described by ``cfg``; returns the Ray Train ``Result``."""
    train, dev = prepare_data(cfg)
    return fit_and_export(biencoder_train_loop, cfg, None, dev, score=SCORE, order="min",
                          datasets=train_dataset(train, cfg))


def _log(message: str) -> None:
    print(f"[rayqa.mdpr] {message}", flush=True)
