"""SimpleMatch: align a back-translated answer to an exact span of the target passage.

Cui et al. (2019), "Cross-Lingual Machine Reading Comprehension", section 3.2: the answer
translated back into the target language (A_trans) rarely is a substring of the target
passage, so every window of the passage whose length is len(A_trans) ± d, d in 0..delta,
is scored by character-level F1 against A_trans, and the best window wins.

Definitions used here (the paper leaves them open):

* Bag of characters. A text's bag is the multiset of its non-whitespace characters
  (`str.isspace`); whitespace is never counted, so the same score serves Chinese and
  spaced languages such as English or French. Characters are compared exactly (no case
  folding, no Unicode normalization: both could change lengths and so offsets).
* Character F1. With o the multiset overlap (sum over characters c of
  min(count_A(c), count_W(c))), |A| and |W| the bag sizes of the answer and the window,
  precision o/|W| and recall o/|A| give F1 = 2·o / (|A| + |W|), and 0 when o = 0. It is
  an exact `fractions.Fraction`; windows are compared by integer cross-multiplication,
  so ties are exact.
* Window lengths. len(A_trans) is the length of the whitespace-normalized answer
  (`" ".join(answer.split())`: ends stripped, inner runs of whitespace as one space).
  Windows passage[i:j] have j - i in [max(1, n - delta), min(len(passage), n + delta)]:
  lengths below 1 are dropped and lengths beyond the passage are clipped.
* Tie-break. Highest F1, then the shortest window, then the leftmost (smallest start).
  Leading and trailing whitespace of the winner is then trimmed (it does not change the
  F1); a winner made only of whitespace is returned untrimmed.
* Short passages. When even the shortest window, max(1, n - delta), is longer than the
  passage, the whole passage is the answer: (0, len(passage)), whitespace-trimmed as
  above; an empty passage gives (0, 0).

Cost: for each of the at most 2·delta + 1 window lengths one left-to-right slide updates
the window's character counts and the overlap in O(1) per step, O(|P| · delta) in all.
"""

from __future__ import annotations

from collections import Counter
from fractions import Fraction


def char_f1(answer: str, span: str) -> Fraction:
    """Character-level F1 of `span` against `answer`, whitespace not counted.

    Args:
        answer: The reference text (here the translated answer).
        span: The candidate text.

    Returns:
        2·overlap / (|answer| + |span|) over bags of non-whitespace characters, as an
        exact fraction; 0 when the overlap is empty.
    """
    bag_a = _bag(answer)
    bag_s = _bag(span)
    overlap = sum((bag_a & bag_s).values())
    if overlap == 0:
        return Fraction(0)
    return Fraction(2 * overlap, sum(bag_a.values()) + sum(bag_s.values()))


def simple_match(translated_answer: str, passage: str, delta: int = 5) -> tuple[int, int]:
    """Finds the passage span that best matches a translated answer (SimpleMatch).

    Args:
        translated_answer: The answer translated back into the passage's language.
        passage: The target-language passage.
        delta: The relax parameter: window lengths len(answer) ± d for d in 0..delta.

    Returns:
        `(start, end)` character offsets into `passage`, end exclusive, of the best
        window (see the module docstring for the F1, the tie-break and the trimming).

    Raises:
        ValueError: If the answer has no non-whitespace character, or delta < 0.
    """
    if delta < 0:
        raise ValueError(f"delta must be >= 0, got {delta}")
    answer_bag = _bag(translated_answer)
    if not answer_bag:
        raise ValueError("translated_answer is empty (or only whitespace)")
    n = len(" ".join(translated_answer.split()))
    shortest = max(1, n - delta)
    longest = min(len(passage), n + delta)
    if shortest > longest:
        # No window of an allowed length fits: the whole passage is the only candidate.
        return _trim(passage, 0, len(passage))
    answer_size = sum(answer_bag.values())
    best = None  # (overlap, window bag size, start, length)
    for length in range(shortest, longest + 1):
        overlap, size, start = _best_window_of_length(answer_bag, passage, length)
        # F1 = 2·o / (|A| + |W|): compare o1·(|A| + |W2|) with o2·(|A| + |W1|) exactly.
        # Lengths only grow, so on a tie the earlier (shorter) window stays.
        if best is None or overlap * (answer_size + best[1]) > best[0] * (answer_size + size):
            best = (overlap, size, start, length)
    return _trim(passage, best[2], best[2] + best[3])


def _best_window_of_length(
    answer_bag: Counter, passage: str, length: int
) -> tuple[int, int, int]:
    """Slides a window of `length` characters over the passage.

    Returns:
        `(overlap, window bag size, start)` of the leftmost window with the highest F1.
    """
    answer_size = sum(answer_bag.values())
    counts: Counter = Counter()
    overlap = 0
    size = 0
    for char in passage[:length]:
        overlap, size = _add(answer_bag, counts, char, overlap, size)
    best = (overlap, size, 0)
    for start in range(1, len(passage) - length + 1):
        overlap, size = _remove(answer_bag, counts, passage[start - 1], overlap, size)
        overlap, size = _add(answer_bag, counts, passage[start + length - 1], overlap, size)
        # Strictly better only, so the leftmost of equal windows is kept.
        if overlap * (answer_size + best[1]) > best[0] * (answer_size + size):
            best = (overlap, size, start)
    return best


def _add(answer_bag: Counter, counts: Counter, char: str, overlap: int, size: int):
    if char.isspace():
        return overlap, size
    if counts[char] < answer_bag[char]:
        overlap += 1
    counts[char] += 1
    return overlap, size + 1


def _remove(answer_bag: Counter, counts: Counter, char: str, overlap: int, size: int):
    if char.isspace():
        return overlap, size
    counts[char] -= 1
    if counts[char] < answer_bag[char]:
        overlap -= 1
    return overlap, size - 1


def _bag(text: str) -> Counter:
    return Counter(char for char in text if not char.isspace())


def _trim(passage: str, start: int, end: int) -> tuple[int, int]:
    """Drops whitespace at both ends of passage[start:end], unless nothing else is left."""
    span = passage[start:end]
    if not span.strip():
        return start, end
    return start + len(span) - len(span.lstrip()), end - len(span) + len(span.rstrip())
