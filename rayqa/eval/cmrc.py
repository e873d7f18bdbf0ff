"""CMRC 2018 scoring (cmrc2018_evaluate.py, the py3 "v6" version), also used for DRCD.

Chinese is scored per character: CJK characters are tokens, other runs go through
nltk.word_tokenize, F1 comes from the longest common contiguous token run, and EM
compares strings after deleting the script's punctuation list.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from rayqa.eval._common import as_examples, mixed_segmentation

# The script's sp_char list. '……' is two characters, so no single character equals it
# and it is never removed; kept to mirror the script.
CMRC_PUNCTUATION = frozenset([
    "-", ":", "_", "*", "^", "/", "\\", "~", "`", "+", "=",
    "，", "。", "：", "？", "！", "“", "”", "；", "’", "《", "》", "……", "·", "、",
    "「", "」", "（", "）", "－", "～", "『", "』",
])


@functools.cache
def _require_punkt() -> None:
    """Makes sure nltk finds punkt_tab, which word_tokenize needs; never downloads.

    nltk reads NLTK_DATA only when it is imported, so a variable set later (by a test
    fixture or a notebook) is added to its search path here.
    """
    import nltk

    for path in os.environ.get("NLTK_DATA", "").split(os.pathsep):
        if path and path not in nltk.data.path:
            nltk.data.path.append(path)
    try:
        nltk.data.find("tokenizers/punkt_tab/english/")
    except LookupError:
        raise LookupError(
            "CMRC/DRCD scoring needs NLTK's punkt_tab English model (nltk.word_tokenize); "
            "set NLTK_DATA to a folder holding tokenizers/punkt_tab/english "
            "(this repository's tests use ../shared/data/nltk_data). Nothing is downloaded."
        ) from None


@functools.lru_cache(maxsize=1 << 16)
def _word_tokenize(run: str) -> tuple[str, ...]:
    # Cached: the same answers recur across questions. Needing punkt only here lets
    # all-CJK text be scored without nltk data.
    _require_punkt()
    import nltk

    return tuple(nltk.word_tokenize(run))


def cmrc_segment(text: Any, rm_punc: bool = False) -> list[str]:
    """The script's mixed_segmentation: lower, strip, CJK per char, nltk for the rest.

    Args:
        text: Answer text (str() is applied, as in the script).
        rm_punc: Delete the punctuation list first (as F1 does).

    Returns:
        The tokens.
    """
    drop = CMRC_PUNCTUATION if rm_punc else frozenset()
    return mixed_segmentation(str(text).lower().strip(), _word_tokenize, CMRC_PUNCTUATION, drop)


def cmrc_remove_punctuation(text: Any) -> str:
    """The script's remove_punctuation: lower, strip, delete the punctuation list."""
    return "".join(ch for ch in str(text).lower().strip() if ch not in CMRC_PUNCTUATION)


def longest_common_run(a: Sequence[str], b: Sequence[str]) -> int:
    """Length of the longest common contiguous subsequence (the script's find_lcs)."""
    best = 0
    prev = [0] * (len(b) + 1)
    for x in a:
        cur = [0] * (len(b) + 1)
        for j, y in enumerate(b):
            if x == y:
                cur[j + 1] = prev[j] + 1
                best = max(best, cur[j + 1])
        prev = cur
    return best


def cmrc_f1(answers: Sequence[str], prediction: str) -> float:
    """Best F1 over the gold answers, from the longest common token run (0-1)."""
    pred_segs = cmrc_segment(prediction, rm_punc=True)
    scores = [0.0]
    for answer in answers:
        gold_segs = cmrc_segment(answer, rm_punc=True)
        lcs_len = longest_common_run(gold_segs, pred_segs)
        if lcs_len:
            precision = lcs_len / len(pred_segs)
            recall = lcs_len / len(gold_segs)
            scores.append(2 * precision * recall / (precision + recall))
    return max(scores)


def cmrc_em(answers: Sequence[str], prediction: str) -> int:
    """1 if the prediction equals a gold answer once punctuation is removed, else 0."""
    pred = cmrc_remove_punctuation(prediction)
    return int(any(cmrc_remove_punctuation(answer) == pred for answer in answers))


def _printed(value: float) -> float:
    # The script prints '%.3f' strings; return the float those strings denote.
    return float("%.3f" % value)


def cmrc_scores(examples: Iterable[Any], predictions: Mapping[str, Any]) -> dict[str, Any]:
    """Scores as cmrc2018_evaluate.py prints them (CMRC 2018 and DRCD).

    Args:
        examples: Gold data, in any form `as_examples` accepts, e.g. `(qid, [answers])`.
        predictions: Answer per question id; a missing id scores 0 and counts in SKIP.
            Each answer is scored as its str(), as in the script: a number 1874 is the
            answer "1874" (`read_predictions` keeps JSON numbers for this).

    Returns:
        {"AVERAGE", "F1", "EM"} (0-100, rounded to 3 decimals as printed), "TOTAL"
        (questions) and "SKIP" (questions without a prediction).

    Raises:
        ValueError: There are no examples.
        LookupError: nltk's punkt_tab data cannot be found (set NLTK_DATA).
    """
    f1 = em = 0.0
    total = skip = 0
    for example in as_examples(examples):
        total += 1
        if example.qid not in predictions:
            skip += 1
            continue
        prediction = str(predictions[example.qid])
        f1 += cmrc_f1(example.answers, prediction)
        em += cmrc_em(example.answers, prediction)
    if total == 0:
        raise ValueError("no gold examples to score")
    f1_score, em_score = 100.0 * f1 / total, 100.0 * em / total
    return {
        "AVERAGE": _printed((em_score + f1_score) * 0.5),
        "F1": _printed(f1_score),
        "EM": _printed(em_score),
        "TOTAL": total,
        "SKIP": skip,
    }
