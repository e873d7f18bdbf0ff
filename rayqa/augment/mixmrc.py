"""mixMRC data generation, one example at a time (mixMRC/LAKM paper §3.1, Figure 2).

Step 1, translation. The English answer is wrapped in ``([`` ``])`` inside its passage
and the marked passage is translated. An instance is:

- kept by markers when the translation holds exactly one ``([`` before exactly one
  ``])``: the text between them, stripped, is the answer; the markers are removed and
  the spacing around the answer fixed (`parse_marked`), so the answer is an exact slice
  of the cleaned passage;
- otherwise recovered when the separately translated answer occurs in the separately
  translated, marker-free passage (`find_answer`: case-sensitive occurrences first, else
  case-insensitive ones; of several, the one nearest the source answer's relative
  position; the passage's own characters become the answer);
- otherwise skipped. Table 3 of the paper reports the skipped share per language. A
  skipped instance keeps its translated question and passage (no answer span): the
  mixMRC data leaves it out, Dual BERT's source side trains on it without the
  auxiliary loss (``MixMRCJobConfig.keep_skipped``).

A parallel corpus (``ParallelTranslator``, XQuAD) holds human translations of the plain
passage only, so it is asked by example id for the question, passage and answer and
every instance takes the recovery path.

Step 2, mixing. For every example and every ordered pair of languages (k, l), k != l,
over the source language and the targets where the example was kept, the question in
k is paired with the passage and answer in l (`mix_example`).

Everything here is pure Python over a ``Translator``; ``rayqa.augment.mixmrc_job`` runs
it with Ray Data and writes the files.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace

from rayqa.translate.base import Translator
from rayqa.translate.parallel import ParallelTranslator

OPEN_MARK, CLOSE_MARK = "([", "])"

# How an instance came to be (Instance.status).
SOURCE = "source"  # the untranslated source example
MARKERS = "markers"  # the markers survived translation as one span
RECOVERED = "recovered"  # the translated answer was found in the translated passage
SKIPPED = "skipped"  # neither: the instance is dropped


@dataclass(frozen=True)
class Span:
    """A passage and its answer, an exact slice: ``context[start:start + len(text)] == text``."""

    context: str
    text: str
    start: int


@dataclass(frozen=True)
class Instance:
    """One example in one language: the source example or a translation of it.

    Attributes:
        id: The source question id, shared by all translations of the example.
        lang: Language of the question, passage and answer.
        title: The source article title.
        question: The question text.
        context: The passage (when skipped: the plain translated passage).
        answer: The answer text, a slice of ``context`` ("" when skipped).
        answer_start: Character offset of the answer in ``context`` (-1 when skipped).
        status: ``source``, ``markers``, ``recovered`` or ``skipped``.
    """

    id: str
    lang: str
    title: str
    question: str
    context: str
    answer: str
    answer_start: int
    status: str = SOURCE

    @property
    def kept(self) -> bool:
        """Whether the instance has a usable answer span."""
        return self.status != SKIPPED


@dataclass(frozen=True)
class QAPair:
    """A question and an answer-bearing passage, possibly in different languages."""

    id: str
    title: str
    question: str
    question_lang: str
    context: str
    context_lang: str
    answer: str
    answer_start: int


# --------------------------------------------------------------------------- markers


def wrap_answer(context: str, start: int, text: str) -> str:
    """The passage with its answer enclosed in ``([`` ``])``, nothing else changed.

    Raises:
        ValueError: ``text`` is not at ``start`` in ``context``.
    """
    if start < 0 or context[start:start + len(text)] != text:
        raise ValueError(f"answer {text[:40]!r} is not at {start} in the passage")
    end = start + len(text)
    return f"{context[:start]}{OPEN_MARK}{text}{CLOSE_MARK}{context[end:]}"


def parse_marked(text: str) -> Span | None:
    """The answer span of a translated marked passage, or None when the markers broke.

    The markers must survive as one span: exactly one ``([`` before exactly one ``])``
    with non-blank text between. The answer is that text stripped. The markers are
    removed; whitespace next to them moves outside the answer: the translation's own
    whitespace outside a marker is kept as it is, and whitespace only inside a marker
    becomes one space when it stands between two word characters (``"a([ b ])."`` ->
    ``"a b."``), since a translator that spaced the answer meant separate words.
    """
    if text.count(OPEN_MARK) != 1 or text.count(CLOSE_MARK) != 1:
        return None
    i, j = text.index(OPEN_MARK), text.index(CLOSE_MARK)
    if j < i + len(OPEN_MARK):
        return None
    inner = text[i + len(OPEN_MARK):j]
    answer = inner.strip()
    if not answer:
        return None
    left, right = text[:i], text[j + len(CLOSE_MARK):]
    before, after = left.rstrip(), right.lstrip()
    gap_left = left[len(before):] or _inner_gap(inner[:1], before[-1:])
    gap_right = right[:len(right) - len(after)] or _inner_gap(inner[-1:], after[:1])
    prefix = before + (gap_left if before else "")
    context = prefix + answer + (gap_right if after else "") + after
    return Span(context, answer, len(prefix))


def _inner_gap(inner_edge: str, neighbour: str) -> str:
    """One space when the answer was spaced inside its marker and a word follows outside."""
    return " " if inner_edge.isspace() and neighbour.isalnum() else ""


def find_answer(passage: str, answer: str, near: float | None = None) -> Span | None:
    """An occurrence of ``answer`` (stripped) in ``passage``, or None.

    Case-sensitive matches first, else case-insensitive ones (the passage's own
    characters become the answer text so the span stays an exact slice). Among several
    matches, the one whose relative position in the passage is nearest ``near`` wins
    (the source answer's relative position: a translation keeps the order of a
    paragraph's sentences, so a repeated name is most likely the one at the same
    place); the first one when ``near`` is None.
    """
    answer = answer.strip()
    if not answer or not passage:
        return None
    pattern = re.escape(answer)
    # A regex keeps offsets right where lower() would change a string's length (İ -> i̇).
    matches = list(re.finditer(pattern, passage)) or \
        list(re.finditer(pattern, passage, flags=re.IGNORECASE))
    if not matches:
        return None
    best = matches[0] if near is None else \
        min(matches, key=lambda m: abs(m.start() / len(passage) - near))
    return Span(passage, best.group(0), best.start())


def relative_position(example: Instance) -> float:
    """Where the example's answer starts, as a fraction of its passage's length."""
    return example.answer_start / max(1, len(example.context))


# --------------------------------------------------------------------------- translation


def translate_examples(translator: Translator, examples: Sequence[Instance],
                       tgt: str) -> list[Instance]:
    """Translate source examples (all in one language) into ``tgt``, one instance each.

    A machine translator gets the questions and the marked passages; for the examples
    whose markers broke, the plain passages (each distinct passage once) and the
    answers, for recovery. A ``ParallelTranslator`` gets the example ids instead.

    Args:
        translator: Any ``Translator`` supporting ``<src>-<tgt>``.
        examples: Source instances with a valid answer span, all of one language.
        tgt: Target language.

    Returns:
        One instance per example, in order, with status ``markers``, ``recovered`` or
        ``skipped``.

    Raises:
        TranslationError: The pair is not supported.
    """
    if not examples:
        return []
    if isinstance(translator, ParallelTranslator):
        return _translate_by_id(translator, examples, tgt)
    src = examples[0].lang
    questions = translator.translate([e.question for e in examples], src, tgt)
    marked = translator.translate([wrap_answer(e.context, e.answer_start, e.answer)
                                   for e in examples], src, tgt)
    spans: list[Span | None] = [parse_marked(text) for text in marked]
    passages = [span.context if span else "" for span in spans]
    broken = [i for i, span in enumerate(spans) if span is None]
    recovered = _recover(translator, [examples[i] for i in broken], src, tgt)
    statuses = [MARKERS] * len(examples)
    for i, (passage, span) in zip(broken, recovered):
        passages[i], spans[i], statuses[i] = passage, span, RECOVERED
    return [_instance(e, tgt, q, p, span, status)
            for e, q, p, span, status in zip(examples, questions, passages, spans, statuses)]


def _recover(translator: Translator, examples: Sequence[Instance], src: str,
             tgt: str) -> list[tuple[str, Span | None]]:
    """Find each separately translated answer in its separately translated passage;
    returns the passage and the span (None: not found)."""
    if not examples:
        return []
    contexts = list(dict.fromkeys(e.context for e in examples))  # a paragraph once
    passages = dict(zip(contexts, translator.translate(contexts, src, tgt)))
    answers = translator.translate([e.answer for e in examples], src, tgt)
    return [(passages[e.context], find_answer(passages[e.context], a, relative_position(e)))
            for e, a in zip(examples, answers)]


def _translate_by_id(translator: ParallelTranslator, examples: Sequence[Instance],
                     tgt: str) -> list[Instance]:
    """Human translations by example id: the answer is located in the passage."""
    ids = [e.id for e in examples]
    questions = translator.translate_ids(ids, tgt, "question")
    passages = translator.translate_ids(ids, tgt, "context")
    answers = translator.translate_ids(ids, tgt, "answer")
    return [_instance(e, tgt, q, p, find_answer(p, a, relative_position(e)), RECOVERED)
            for e, q, p, a in zip(examples, questions, passages, answers)]


def _instance(example: Instance, lang: str, question: str, passage: str,
              span: Span | None, status: str) -> Instance:
    """The translated instance; skipped, with the plain ``passage``, without a span or
    without a question."""
    question = question.strip()
    if span is None or not question:
        return replace(example, lang=lang, question=question, context=passage.strip(),
                       answer="", answer_start=-1, status=SKIPPED)
    return replace(example, lang=lang, question=question, context=span.context,
                   answer=span.text, answer_start=span.start, status=status)


# --------------------------------------------------------------------------- mixing


def as_pair(instance: Instance, question: Instance | None = None,
            pair_id: str | None = None) -> QAPair:
    """The passage and answer of ``instance`` with the question of ``question`` (default:
    its own)."""
    question = question or instance
    return QAPair(pair_id or instance.id, instance.title, question.question, question.lang,
                  instance.context, instance.lang, instance.answer, instance.answer_start)


def mixed_pair_id(example_id: str, question_lang: str, context_lang: str) -> str:
    """``<id>.q-<k>.c-<l>``: unique per example and language pair."""
    return f"{example_id}.q-{question_lang}.c-{context_lang}"


def mix_example(versions: Mapping[str, Instance], langs: Sequence[str],
                max_pairs: int | None = None, seed: int = 0) -> list[QAPair]:
    """The mixed-language pairs of one example (paper: D'' = {(q_k, p_l, a_l), k != l}).

    Args:
        versions: The example per language; skipped instances take no part, neither as
            question nor as passage (the paper mixes the translated dataset after the
            skipped instances were dropped).
        langs: Language order of the pairs (question language first, then passage).
        max_pairs: Keep at most this many pairs, sampled without replacement by a
            generator seeded with ``seed`` and the example id (so the sample does not
            depend on processing order); None keeps all.
        seed: The sampling seed.

    Returns:
        The pairs in ``langs`` order, ids ``<id>.q-<k>.c-<l>``.
    """
    kept = [lang for lang in langs if lang in versions and versions[lang].kept]
    pairs = [(k, l) for k in kept for l in kept if k != l]
    if max_pairs is not None and len(pairs) > max_pairs:
        example_id = versions[kept[0]].id
        rng = random.Random(f"{seed}:{example_id}")
        pairs = [pairs[i] for i in sorted(rng.sample(range(len(pairs)), max_pairs))]
    return [as_pair(versions[l], versions[k], mixed_pair_id(versions[l].id, k, l))
            for k, l in pairs]


def to_squad(pairs: Iterable[QAPair], version: str = "1.1") -> dict:
    """SQuAD v1.1 JSON of the pairs, each qa recording ``question_lang`` and
    ``context_lang``; a pair without an answer span (a skipped instance) has no answers.

    Pairs with the same title form one article and, within it, pairs with the same
    passage in the same language one paragraph (first-seen order); the paragraph's
    ``lang`` is the passage language, which ``read_squad`` takes as the example's.
    """
    articles: dict[str, dict[tuple[str, str], list[dict]]] = {}
    for pair in pairs:
        paragraphs = articles.setdefault(pair.title, {})
        paragraphs.setdefault((pair.context, pair.context_lang), []).append({
            "id": pair.id, "question": pair.question,
            "answers": ([{"text": pair.answer, "answer_start": pair.answer_start}]
                        if pair.answer_start >= 0 else []),
            "question_lang": pair.question_lang, "context_lang": pair.context_lang,
        })
    data = [{"title": title,
             "paragraphs": [{"context": context, "lang": lang, "qas": qas}
                            for (context, lang), qas in paragraphs.items()]}
            for title, paragraphs in articles.items()]
    return {"version": version, "data": data}


# --------------------------------------------------------------------------- Table 3


@dataclass
class LanguageStats:
    """One row of paper Table 3: how many instances of a language were kept.

    Attributes:
        lang: The language.
        input: Source examples sent to translation.
        markers: Kept because the markers survived.
        recovered: Kept because the translated answer was found in the passage.
        skipped: Dropped.
        source: Whether this is the untranslated source language (no skip ratio).
    """

    lang: str
    input: int = 0
    markers: int = 0
    recovered: int = 0
    skipped: int = 0
    source: bool = False

    @property
    def instances(self) -> int:
        """Kept instances (for the source language, every valid example)."""
        return self.input if self.source else self.markers + self.recovered

    @property
    def skip_ratio(self) -> float | None:
        """Skipped / input; None for the source language (the paper prints "-")."""
        if self.source:
            return None
        return self.skipped / self.input if self.input else 0.0

    def row(self) -> dict:
        """The row as a JSON-serializable dict (CSV and JSON columns)."""
        return {"language": self.lang, "instances": self.instances,
                "skip_ratio": self.skip_ratio, "kept_by_markers": self.markers,
                "recovered": self.recovered, "skipped": self.skipped, "input": self.input}


def count_instances(instances: Iterable[Instance], source_lang: str, num_source: int,
                    target_langs: Sequence[str]) -> list[LanguageStats]:
    """Table 3's rows: the source language, then each target language in order.

    Args:
        instances: The translated instances (any order).
        source_lang: The source language; its row counts ``num_source`` examples.
        num_source: Valid source examples.
        target_langs: Row order of the targets.
    """
    rows = {lang: LanguageStats(lang) for lang in target_langs}
    for instance in instances:
        row = rows[instance.lang]
        row.input += 1
        if instance.status == MARKERS:
            row.markers += 1
        elif instance.status == RECOVERED:
            row.recovered += 1
        else:
            row.skipped += 1
    source = LanguageStats(source_lang, input=num_source, source=True)
    return [source] + [rows[lang] for lang in target_langs]


def table3_markdown(stats: Sequence[LanguageStats]) -> str:
    """Paper Table 3 as Markdown (language, # instance, skip ratio) plus how each
    instance was kept."""
    lines = ["| language | # instance | skip ratio | kept by markers | recovered | skipped |",
             "| --- | ---: | ---: | ---: | ---: | ---: |"]
    for s in stats:
        ratio = "-" if s.skip_ratio is None else f"{s.skip_ratio:.4f}"
        kept = ("-", "-", "-") if s.source else (s.markers, s.recovered, s.skipped)
        lines.append(f"| {s.lang} | {s.instances} | {ratio} | {kept[0]} | {kept[1]} | "
                     f"{kept[2]} |")
    return "\n".join(lines) + "\n"
