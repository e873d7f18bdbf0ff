"""CORA data mining (paper §2.2.2, Algorithm 1 lines 6-8) and synthetic mGEN data.

Pure Python: the pipeline (`rayqa.pipelines.cora`) runs mGEN over the candidates with
Ray Data and hands the predictions back here for labeling.

Questions are dicts ``{"id", "question", "lang", "answers", "gold_passage_ids"?,
"gold_article_id"?, <parallel key>?}`` (the `questions.jsonl` of
`rayqa.corpus.xquad.build_xquad_collection`); passages are `Passage` objects whose
`article_id` is the language-link entity shared by the same article in every language.

- Candidates of a question: its top retrieved passages, and for English questions all
  passages of the articles linked to its gold article in the other languages (a cap,
  if one is configured, keeps every language).
- A linked candidate in language L asks for the answer translated into L (tag L) when
  a translation exists, else for the question's own answer.
- Label: positive when mGEN, given the candidate alone, generates a gold answer (MLQA
  normalization of the target language), negative otherwise.
- Synthetic mGEN data (appendix A.2): English questions, a target-language tag from the
  paper's 15 languages (at most 10 per question), the answer translated into it and the
  question's English passages; half of these lines are kept.
- Selection split: training questions held out (by parallel group) to pick the
  checkpoints of every round.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass

from rayqa.corpus.language_links import LanguageLinks
from rayqa.data.passages import Passage
from rayqa.eval.mlqa import mlqa_normalizer

ENGLISH = "en"
RETRIEVED, LANGUAGE_LINK = "retrieved", "language_link"
GOLD, MINED = "gold", "mined"  # where an mDPR line's positive comes from (line id suffix)


class AnswerTranslator:
    """Answers of a question in other languages, through parallel questions or links.

    Two sources, the first that knows wins: questions sharing a `parallel_key` value
    (XQuAD: the same question id in every language), and language links, which
    translate an answer that is the title of a linked article into that article's
    title in the target language (the paper's Wikidata translation of entity answers).

    Args:
        questions: Every question known (train and dev), for the parallel groups.
        parallel_key: The question field that groups parallel questions; None: no groups.
        links: The language-link table; None: no title translation.
    """

    def __init__(self, questions: Iterable[Mapping], parallel_key: str | None = None,
                 links: LanguageLinks | None = None):
        self.parallel_key = parallel_key
        self.groups: dict[str, dict[str, list[str]]] = {}
        for q in questions:
            key = q.get(parallel_key) if parallel_key else None
            if key is not None:
                self.groups.setdefault(str(key), {})[q["lang"]] = list(q["answers"])
        self.titles = _titles_by_entity(links) if links is not None else {}
        self.links = links

    def translations(self, question: Mapping) -> dict[str, list[str]]:
        """`{lang: answers}` for every language known, the question's own included."""
        out = {question["lang"]: list(question["answers"])}
        if self.links is not None:
            for answer in question["answers"]:
                entity = self.links.entity_of(question["lang"], title=answer)
                for lang, title in self.titles.get(entity, {}).items():
                    out.setdefault(lang, [title])
        key = question.get(self.parallel_key) if self.parallel_key else None
        if key is not None:
            out.update({lang: answers for lang, answers in self.groups.get(str(key), {}).items()
                        if lang != question["lang"]})
        return out


def _titles_by_entity(links: LanguageLinks) -> dict[str, dict[str, str]]:
    return {entity: {lang: row["title"] for lang, row in rows.items() if row.get("title")}
            for entity, rows in links.entities().items()}


@dataclass
class Candidate:
    """One passage to label for one question.

    Attributes:
        question_id: The question's id.
        question: Its text.
        lang: Language tag mGEN answers in (the question's, or the linked passage's
            language when the answer is translated).
        answers: Gold answers in `lang`.
        passage: The passage as a dict (`id`, `title`, `text`, `lang`, `article_id`).
        source: `retrieved` or `language_link`.
        prediction: mGEN's answer from this passage alone (set by labeling).
        positive: Whether `prediction` matches `answers` (set by labeling).
    """

    question_id: str
    question: str
    lang: str
    answers: list[str]
    passage: dict
    source: str
    prediction: str | None = None
    positive: bool | None = None

    def to_dict(self) -> dict:
        """The JSON Lines record of `labels.jsonl`."""
        return asdict(self)


class PassageTable:
    """Passages by id and by (article id, language)."""

    def __init__(self, passages: Iterable[Passage]):
        self.by_id: dict[str, Passage] = {}
        self.by_article: dict[str, dict[str, list[Passage]]] = {}
        for p in passages:
            self.by_id[p.id] = p
            if p.article_id is not None:
                self.by_article.setdefault(p.article_id, {}).setdefault(p.lang, []).append(p)

    def gold_article(self, question: Mapping) -> str | None:
        """The article of a question's gold passage (or its `gold_article_id`)."""
        if question.get("gold_article_id"):
            return str(question["gold_article_id"])
        for pid in (question.get("gold_passage_ids") or {}).get(question["lang"], []):
            if pid in self.by_id:
                return self.by_id[pid].article_id
        return None

    def linked(self, article_id: str, exclude_lang: str) -> list[Passage]:
        """Passages of the article in every other language, languages interleaved so a
        cap keeps every language."""
        per_lang = [ps for lang, ps in sorted(self.by_article.get(article_id, {}).items())
                    if lang != exclude_lang]
        return [p for row in _interleave(per_lang) for p in row]


def _interleave(lists: Sequence[Sequence]) -> Iterable[list]:
    for i in range(max((len(x) for x in lists), default=0)):
        yield [x[i] for x in lists if i < len(x)]


def mining_candidates(questions: Sequence[Mapping], retrieved: Mapping[str, Sequence[Mapping]],
                      table: PassageTable, translator: AnswerTranslator, *,
                      retrieved_candidates: int, language_links: bool,
                      max_link_candidates: int | None = None) -> list[Candidate]:
    """The candidates of Algorithm 1 lines 4 and 6 for every question.

    Args:
        questions: Training questions.
        retrieved: Question id to its retrieved passages, best first (dicts with `id`).
        table: The passage collection.
        translator: Answer translation for linked candidates.
        retrieved_candidates: How many top retrieved passages become candidates.
        language_links: Add linked-article passages for English questions.
        max_link_candidates: At most this many linked passages per question; None: all
            passages of the linked articles (the paper).

    Returns:
        Candidates, each (question, passage) pair once.
    """
    out = []
    for q in questions:
        seen: set[str] = set()
        for ctx in list(retrieved.get(q["id"], []))[:retrieved_candidates]:
            seen.add(ctx["id"])
            out.append(Candidate(q["id"], q["question"], q["lang"], list(q["answers"]),
                                 dict(ctx), RETRIEVED))
        if language_links and q["lang"] == ENGLISH:
            out.extend(_link_candidates(q, table, translator, seen, max_link_candidates))
    return out


def _link_candidates(question, table, translator, seen, limit) -> list[Candidate]:
    article = table.gold_article(question)
    if article is None:
        return []
    answers = translator.translations(question)
    out = []
    for p in table.linked(article, question["lang"]):
        if limit is not None and len(out) >= limit:
            break
        if p.id in seen:
            continue
        lang = p.lang if p.lang in answers else question["lang"]
        out.append(Candidate(question["id"], question["question"], lang, answers[lang],
                             p.to_dict(), LANGUAGE_LINK))
    return out


def answer_matches(prediction: str, answers: Sequence[str], lang: str) -> bool:
    """Exact match after the answer language's MLQA normalization (empty never matches)."""
    normalize = mlqa_normalizer(lang, strict=False)
    got = normalize(prediction)
    return bool(got) and any(got == normalize(a) for a in answers)


def label_candidates(candidates: Sequence[Candidate], predictions: Sequence[str]) -> list[Candidate]:
    """Sets `prediction` and `positive` of every candidate (Algorithm 1 line 8).

    Raises:
        ValueError: The two sequences differ in length.
    """
    if len(candidates) != len(predictions):
        raise ValueError(f"{len(candidates)} candidates but {len(predictions)} predictions")
    for candidate, prediction in zip(candidates, predictions):
        candidate.prediction = prediction
        candidate.positive = answer_matches(prediction, candidate.answers, candidate.lang)
    return list(candidates)


def _ctx(passage: Mapping) -> dict:
    return {"id": passage.get("id"), "title": passage.get("title") or "",
            "text": passage["text"]}


def dpr_rows(questions: Sequence[Mapping], table: PassageTable,
             labels: Iterable[Mapping]) -> tuple[list[dict], int]:
    """mDPR training lines: initial gold positives plus every mined label so far.

    Every gold passage of a question in its own language or in English is an initial
    positive (paper Algorithm 1 line 1, "taken either from English or the question's
    language": XOR-TyDi's are English, TyDi's in the question's language), its own
    language first. Gold passages in third languages (XQuAD-style data lists all twelve)
    are left out: they are not the paper's positives, and lines of one question sharing
    a batch serve as each other's in-batch negatives. Each positive, gold or mined, is one line (mDPR trains
    on a line's first positive); mined negatives are the hard negatives of all the
    question's lines.

    Returns:
        `(rows, questions without a positive)`; those questions are left out.
    """
    positives: dict[str, list[dict]] = {}
    negatives: dict[str, list[dict]] = {}
    for label in labels:
        kind = positives if label["positive"] else negatives
        _add_ctx(kind.setdefault(label["question_id"], []), label["passage"])
    rows, missing = [], 0
    for q in questions:
        lines = [(GOLD, ctx) for ctx in _gold_ctxs(q, table)]
        if not lines:
            missing += 1
        gold_ids = {ctx["id"] for _, ctx in lines}
        lines += [(MINED, ctx) for ctx in positives.get(q["id"], []) if ctx["id"] not in gold_ids]
        for n, (source, positive) in enumerate(lines):
            rows.append({"id": q["id"] if n == 0 else f"{q['id']}#{source}{n}",
                         "question": q["question"], "lang": q["lang"],
                         "answers": list(q["answers"]), "positive_ctxs": [positive],
                         "hard_negative_ctxs": negatives.get(q["id"], [])})
    return rows, missing


def _add_ctx(bucket: list[dict], passage: Mapping) -> None:
    if all(c["id"] != passage["id"] for c in bucket):
        bucket.append(_ctx(passage))


def _gold_ctxs(question: Mapping, table: PassageTable) -> list[dict]:
    """The question's gold passages in its language or English found in the collection,
    its own language first."""
    by_lang = [(lang, ids) for lang, ids in (question.get("gold_passage_ids") or {}).items()
               if lang in (question["lang"], ENGLISH)]
    out: list[dict] = []
    for _, ids in sorted(by_lang, key=lambda item: item[0] != question["lang"]):
        for pid in ids:
            if pid in table.by_id:
                _add_ctx(out, table.by_id[pid].to_dict())
    return out


def english_passages(ctxs: Sequence[Mapping], k: int) -> list[dict]:
    """The first `k` English passages of a retrieval result, best first (P^En)."""
    return [dict(c) for c in ctxs if c.get("lang") == ENGLISH][:k]


def synthetic_rows(questions: Sequence[Mapping], retrieved: Mapping[str, Sequence[Mapping]],
                   translator: AnswerTranslator, langs: Sequence[str] | None,
                   max_langs: int, fraction: float = 1.0, passages: int = 10,
                   seed: int = 0) -> list[dict]:
    """Synthetic mGEN lines (paper appendix A.2): an English question, a target-language
    tag, the answer translated into that language, and the question's English passages.

    Each English question with a translated answer and at least one English passage
    gets up to `max_langs` target languages, sampled; of all these lines a seeded
    `fraction` is kept (the paper: 50%). Questions whose retrieval holds no English
    passage give no line (a line without passages would train closed-book answers).

    Args:
        questions: Training questions; only English ones are used.
        retrieved: Question id to its retrieved passages, best first; only the English
            ones (``lang`` "en") are read (P^En).
        translator: Gives the answers in other languages.
        langs: Target languages; None: any language with a translation.
        max_langs: At most this many target languages per question, sampled.
        fraction: Share of the lines kept, rounded half up.
        passages: English passages per line (the first ones).
        seed: Seed of the language sampling and the subsampling.
    """
    rng = random.Random(seed)
    rows = []
    for q in questions:
        ctxs = english_passages(retrieved.get(q["id"], []), passages) \
            if q["lang"] == ENGLISH else []
        if not ctxs:
            continue
        answers = translator.translations(q)
        targets = sorted(lang for lang in answers
                         if lang != ENGLISH and (langs is None or lang in langs))
        for lang in sorted(rng.sample(targets, min(max_langs, len(targets)))):
            rows.append({"id": f"{q['id']}@{lang}", "question": q["question"], "lang": lang,
                         "answers": answers[lang], "ctxs": ctxs})
    keep = sorted(rng.sample(range(len(rows)), math.floor(fraction * len(rows) + 0.5)))
    return [rows[i] for i in keep]


def selection_split(questions: Sequence[Mapping], fraction: float, seed: int,
                    parallel_key: str | None = None,
                    held_out: Sequence[Mapping] | None = None) -> tuple[list[dict], list[dict]]:
    """Splits training questions into those trained on and those that select checkpoints.

    Questions are held out by group: the value of `parallel_key` where a question has
    one (XQuAD: the same question in every language, so no translation of a held-out
    question is trained on), else its id. The split depends on the seed and the ids
    only, so every round holds out the same questions.

    Args:
        questions: The training questions.
        fraction: Share of the groups held out (rounded half up, at least one group
            when positive and two or more exist); ignored when `held_out` is given.
        seed: Seed of the draw.
        parallel_key: The question field that groups parallel questions.
        held_out: Questions given for selection (a file of the user's); training
            questions of their groups are left out of training.

    Returns:
        `(trained, held_out)`.
    """
    if held_out is not None:
        chosen = {_group(q, parallel_key) for q in held_out}
        return ([dict(q) for q in questions if _group(q, parallel_key) not in chosen],
                [dict(q) for q in held_out])
    groups = sorted({_group(q, parallel_key) for q in questions})
    count = math.floor(fraction * len(groups) + 0.5)
    if fraction > 0 and len(groups) > 1:
        count = min(max(count, 1), len(groups) - 1)
    chosen = set(random.Random(seed).sample(groups, count))
    return ([dict(q) for q in questions if _group(q, parallel_key) not in chosen],
            [dict(q) for q in questions if _group(q, parallel_key) in chosen])


def _group(question: Mapping, parallel_key: str | None) -> str:
    key = question.get(parallel_key) if parallel_key else None
    return str(key) if key is not None else f"id:{question['id']}"
