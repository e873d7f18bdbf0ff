"""LAKM training data: passages with knowledge-phrase spans, their windows, and the masking.

``jobs/mine_phrases.py`` writes ``passages.jsonl``; each line is one passage with the
character spans of the knowledge phrases it contains::

    {"id": "12-3-0", "lang": "en", "query": "...", "title": "...", "text": "...",
     "phrases": [{"text": "cherry tree", "start": 40, "end": 51}, ...]}

``prepare_lakm_features`` cuts each passage into windows of at most ``max_seq_length``
tokens (``[CLS] passage [SEP]``) and maps every phrase occurrence to the token positions
it covers. ``LAKMCollator`` masks a batch the way the paper (section 4.3) and DESIGN.md
describe: a budget of 15% of the non-special tokens; whole knowledge phrases are chosen
first; if they cover less than the budget, other random tokens fill it; each chosen token
becomes ``[MASK]`` 80% of the time, a random token 10%, and stays unchanged 10%.

The ``random_ngram`` strategy is the paper's ablation (Table 8, "Random N-gram
Masking"): the same budget and replacement, but whole random 2- to 4-token spans take
the place of the knowledge phrases.

``balance_passages`` samples the passages the way the paper's section 3.2 sets up its
comparison: "the number of passages in different languages is equal, and the total
amount of training data in LAKM is the same as that of mixMRC".
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from rayqa.data.records import BadRecord, BadRecords, iter_jsonl, log_report, reject
from rayqa.langs import UNKNOWN

IGNORE_INDEX = -100  # label of positions the MLM loss skips (torch cross entropy default)


@dataclass
class PhrasePassage:
    """One LAKM passage.

    Attributes:
        id: Passage id, unique within its file.
        text: The passage.
        lang: Language code.
        phrases: ``(start, end)`` character spans of knowledge-phrase occurrences.
    """

    id: str
    text: str
    lang: str = UNKNOWN
    phrases: list[tuple[int, int]] = field(default_factory=list)


def read_lakm_passages(path: str | Path, lang: str | None = None, strict: bool = False,
                       report: BadRecords | None = None) -> list[PhrasePassage]:
    """Reads a ``passages.jsonl`` of phrase mining.

    A line without an id or text, with a phrase span outside the text, or with no phrase
    spans at all is rejected (counted, or ``DataError`` naming file and line in strict mode).

    Args:
        path: JSON Lines file, optionally gzipped.
        lang: Language of every passage, overriding the lines' ``lang``.
        strict: Fail at the first bad line.
        report: Collects the bad lines; a fresh one is used (and logged) when None.
    """
    report = BadRecords() if report is None else report
    before = report.total
    passages = []
    for number, obj in iter_jsonl(path, report, strict):
        problem = _problem(obj)
        if problem:
            reject(report, strict, BadRecord(str(path), problem[0], number, detail=problem[1]))
            continue
        spans = sorted((p["start"], p["end"]) for p in obj["phrases"])
        passages.append(PhrasePassage(str(obj["id"]), obj["text"],
                                      lang or obj.get("lang") or UNKNOWN, spans))
    log_report(path, report, before)
    return passages


def _problem(obj: dict) -> tuple[str, str] | None:
    """``(reason, detail)`` of what makes a passage line unusable, or None."""
    text = obj.get("text")
    if obj.get("id") is None or not isinstance(text, str) or not text.strip():
        return "missing_field", "needs id and a non-empty text"
    phrases = obj.get("phrases")
    if not isinstance(phrases, list) or not phrases:
        return "no_phrases", "phrases must be a non-empty list of {start, end}"
    for i, phrase in enumerate(phrases):
        start, end = (phrase.get("start"), phrase.get("end")) if isinstance(phrase, dict) \
            else (None, None)
        if not (isinstance(start, int) and isinstance(end, int) and 0 <= start < end <= len(text)):
            return "bad_span", f"phrases[{i}] is not a span of the text: {phrase!r:.80}"
    return None


def balance_passages(passages: list[PhrasePassage], seed: int, total: int | None = None
                     ) -> tuple[list[PhrasePassage], dict[str, dict[str, int]]]:
    """Samples ``passages`` to the same count in every language, at most ``total`` in all.

    Each language keeps the smallest language's count. When that makes more than
    ``total`` passages, each keeps ``total // languages`` and ``total % languages`` of them
    (chosen by the seed) keep one more, so the total is exactly ``total`` and counts
    differ by at most one. Kept passages stay in their input order.

    Args:
        passages: LAKM passages of every language (``lang`` groups them).
        seed: Seed of the sampling; the same seed and input give the same subset.
        total: Cap on the total (the mixMRC task's number of examples); None: no cap.

    Returns:
        The kept passages and ``{"before": {lang: n}, "after": {lang: n}}``.
    """
    before = Counter(p.lang for p in passages)
    if not before:
        return [], {"before": {}, "after": {}}
    langs = sorted(before)
    rng = np.random.default_rng(seed)
    per_lang = dict.fromkeys(langs, min(before.values()))
    if total is not None and len(langs) * min(before.values()) > total:
        per_lang = dict.fromkeys(langs, total // len(langs))
        for index in rng.permutation(len(langs))[:total % len(langs)]:
            per_lang[langs[index]] += 1  # fits: the smallest count exceeds total / languages
    positions: dict[str, list[int]] = {lang: [] for lang in langs}
    for i, passage in enumerate(passages):
        positions[passage.lang].append(i)
    keep: set[int] = set()
    for lang in langs:
        indices = positions[lang]
        keep.update(indices[j] for j in rng.permutation(len(indices))[:per_lang[lang]])
    kept = [p for i, p in enumerate(passages) if i in keep]
    return kept, {"before": {lang: before[lang] for lang in langs}, "after": per_lang}


def prepare_lakm_features(tokenizer, passages: list[PhrasePassage], max_length: int = 256,
                          stride: int = 64) -> list[dict]:
    """Token windows of the passages with the positions of each phrase occurrence.

    A phrase occurrence belongs to a window only when all of its tokens are inside it
    (LAKM masks whole phrases).

    Returns:
        One ``{"input_ids", "special", "phrases"}`` dict per window: token ids, a 0/1 list
        marking special tokens, and a list of token-position lists, one per phrase.
    """
    if not passages:
        return []
    encoded = tokenizer([p.text for p in passages], truncation=True, max_length=max_length,
                        stride=stride, return_overflowing_tokens=True,
                        return_offsets_mapping=True, return_special_tokens_mask=True)
    features = []
    for w, ids in enumerate(encoded["input_ids"]):
        passage = passages[encoded["overflow_to_sample_mapping"][w]]
        special = encoded["special_tokens_mask"][w]
        offsets = encoded["offset_mapping"][w]
        groups = [group for span in passage.phrases
                  if (group := _phrase_positions(span, offsets, special))]
        features.append({"input_ids": list(ids), "special": list(special), "phrases": groups})
    return features


def _phrase_positions(span: tuple[int, int], offsets, special) -> list[int]:
    """Token positions covering ``span``; empty unless the window holds the whole phrase."""
    start, end = span
    positions = [i for i, (a, b) in enumerate(offsets)
                 if not special[i] and a < end and b > start]
    if not positions:
        return []
    covered_start, covered_end = offsets[positions[0]][0], offsets[positions[-1]][1]
    return positions if covered_start <= start and covered_end >= end else []


def choose_positions(special: list[int], phrases: list[list[int]], ratio: float,
                     rng: np.random.Generator) -> list[int]:
    """The positions LAKM masks in one window.

    Args:
        special: 1 for special tokens, which are never chosen.
        phrases: Token positions of each knowledge-phrase occurrence.
        ratio: The budget as a fraction of the non-special tokens.
        rng: Random source.

    Returns:
        ``round(ratio * non-special tokens)`` positions (at least one): whole phrases in
        random order while they fit the budget, then random other tokens.
    """
    candidates = [i for i, s in enumerate(special) if not s]
    if not candidates:
        return []
    budget = max(1, round(ratio * len(candidates)))
    chosen: set[int] = set()
    for index in rng.permutation(len(phrases)):
        group = set(phrases[index]) - chosen
        if group and len(chosen) + len(group) <= budget:  # whole phrases only
            chosen |= group
    rest = [i for i in candidates if i not in chosen]
    fill = rng.permutation(len(rest))[:budget - len(chosen)]
    chosen.update(rest[i] for i in fill)
    return sorted(chosen)


def random_ngrams(special: list[int], rng: np.random.Generator,
                  sizes: tuple[int, ...] = (2, 3, 4)) -> list[list[int]]:
    """Random spans of ``sizes`` tokens over the non-special tokens, about one per token
    (``choose_positions`` takes whole spans of them while they fit the budget)."""
    candidates = [i for i, s in enumerate(special) if not s]
    spans = []
    for start in rng.permutation(len(candidates)):
        size = int(rng.choice(sizes))
        span = candidates[start:start + size]
        if len(span) == size and span[-1] - span[0] == size - 1:  # contiguous tokens
            spans.append(span)
    return spans


class LAKMCollator:
    """Pads a list of ``prepare_lakm_features`` windows and masks them (dynamic masking).

    Args:
        tokenizer: Supplies the ``[MASK]`` and pad ids and the vocabulary size.
        mask_ratio: Budget as a fraction of the non-special tokens (0.15).
        mask_token_prob: Chosen tokens replaced by ``[MASK]`` (0.8).
        random_token_prob: Chosen tokens replaced by a random token (0.1); the rest stay.
        seed: Seed of the masking; give each worker its own.
        strategy: ``knowledge`` (phrases first) or ``random_ngram`` (the ablation).

    Calling it returns ``input_ids``, ``attention_mask`` and ``labels`` tensors; labels
    hold the original ids at the chosen positions and ``IGNORE_INDEX`` elsewhere.
    """

    def __init__(self, tokenizer, mask_ratio: float = 0.15, mask_token_prob: float = 0.8,
                 random_token_prob: float = 0.1, seed: int = 0,
                 strategy: str = "knowledge"):
        if strategy not in ("knowledge", "random_ngram"):
            raise ValueError(f"unknown LAKM strategy {strategy!r}")
        if tokenizer.mask_token_id is None:
            raise ValueError("LAKM needs a tokenizer with a mask token")
        self.mask_id, self.pad_id = tokenizer.mask_token_id, tokenizer.pad_token_id or 0
        special = set(tokenizer.all_special_ids)
        # Random replacements are ordinary vocabulary tokens, never [CLS]/[PAD]/...
        self.random_ids = np.array([i for i in range(len(tokenizer)) if i not in special])
        self.mask_ratio, self.mask_token_prob = mask_ratio, mask_token_prob
        self.random_token_prob = random_token_prob
        self.rng = np.random.default_rng(seed)
        self.strategy = strategy

    def __call__(self, windows: list[dict]) -> dict[str, torch.Tensor]:
        width = max(len(w["input_ids"]) for w in windows)
        input_ids = torch.full((len(windows), width), self.pad_id, dtype=torch.long)
        labels = torch.full_like(input_ids, IGNORE_INDEX)
        attention = torch.zeros_like(input_ids)
        for row, window in enumerate(windows):
            ids = np.array(window["input_ids"])
            groups = window["phrases"] if self.strategy == "knowledge" else \
                random_ngrams(window["special"], self.rng)
            positions = choose_positions(window["special"], groups, self.mask_ratio, self.rng)
            labels[row, positions] = torch.from_numpy(ids[positions])
            input_ids[row, :len(ids)] = torch.from_numpy(self._corrupt(ids, positions))
            attention[row, :len(ids)] = 1
        return {"input_ids": input_ids, "attention_mask": attention, "labels": labels}

    def _corrupt(self, ids: np.ndarray, positions: list[int]) -> np.ndarray:
        """80% ``[MASK]``, 10% a random token, 10% unchanged, per chosen position."""
        out = ids.copy()
        draw = self.rng.random(len(positions))
        for position, u in zip(positions, draw):
            if u < self.mask_token_prob:
                out[position] = self.mask_id
            elif u < self.mask_token_prob + self.random_token_prob:
                out[position] = self.rng.choice(self.random_ids)
        return out
