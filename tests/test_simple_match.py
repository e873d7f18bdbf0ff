"""SimpleMatch (rayqa.crosslingual.matching): hand-made alignments and a seeded
comparison with a brute-force reference that scores every window from scratch."""

import random
from collections import Counter
from fractions import Fraction

import pytest

from rayqa.crosslingual import char_f1, simple_match


def _reference_f1(answer: str, span: str) -> Fraction:
    """Precision/recall over multisets of non-whitespace characters, written out plainly."""
    a = Counter(c for c in answer if not c.isspace())
    s = Counter(c for c in span if not c.isspace())
    overlap = sum(min(a[c], s[c]) for c in a)
    if overlap == 0:
        return Fraction(0)
    precision = Fraction(overlap, sum(s.values()))
    recall = Fraction(overlap, sum(a.values()))
    return 2 * precision * recall / (precision + recall)


def _strip(passage: str, start: int, end: int) -> tuple[int, int]:
    while start < end and passage[start].isspace() and passage[start:end].strip():
        start += 1
    while end > start and passage[end - 1].isspace() and passage[start:end].strip():
        end -= 1
    return start, end


def _reference_match(answer: str, passage: str, delta: int) -> tuple[int, int]:
    """Scores every window of every allowed length; highest F1, shortest, leftmost."""
    n = len(" ".join(answer.split()))
    candidates = []
    for length in range(n - delta, n + delta + 1):
        if length < 1 or length > len(passage):
            continue
        for start in range(len(passage) - length + 1):
            f1 = _reference_f1(answer, passage[start : start + length])
            candidates.append((-f1, length, start))
    if not candidates:
        return _strip(passage, 0, len(passage))
    _, length, start = min(candidates)
    return _strip(passage, start, start + length)


@pytest.mark.parametrize(
    "answer, passage, delta, expected",
    [
        # Exact match, at the start, in the middle, at the end.
        ("abc", "abcxyz", 0, "abc"),
        ("cat", "the cat sat", 5, "cat"),
        ("Paris", "The capital of France is Paris", 5, "Paris"),
        # The translated answer is longer than the gold span: the shortest best window.
        ("the Eiffel Tower", "Built in 1889, Eiffel Tower is tall.", 5, "Eiffel Tower"),
        # ... and shorter: the gold span has a character the translation lacks.
        ("首都北京", "中国的首都是北京市。", 5, "首都是北京"),
        # Chinese, no spaces: "北京城市" (4) against "北京市"; delta = 0 keeps 4 characters.
        ("北京", "中国的首都是北京市。", 5, "北京"),
        ("北京城市", "中国的首都是北京市。", 0, "是北京市"),
        # Spaced languages: extra or missing spaces in the translation do not count.
        ("Tour Eiffel", "la grande Tour Eiffel de Paris", 0, "Tour Eiffel"),
        ("Tour Eiffel", "la Tour  Eiffel brille", 1, "Tour  Eiffel"),
        ("l'  Assemblée   nationale", "Elle siège à l'Assemblée nationale depuis 2017.", 5,
         "l'Assemblée nationale"),
    ],
)
def test_hand_made(answer, passage, delta, expected):
    start, end = simple_match(answer, passage, delta)
    assert passage[start:end] == expected
    assert (start, end) == _reference_match(answer, passage, delta)


def test_shifted_answer_found_wherever_it_sits():
    passage = "xxxxxxxxxxxxxxxxxxxx"
    for offset in range(len(passage) - 3):
        shifted = passage[:offset] + "abc" + passage[offset + 3 :]
        assert simple_match("abc", shifted, 2) == (offset, offset + 3)


def test_delta_changes_the_answer():
    # delta = 0: only windows as long as the answer (11 characters with its one space), so
    # the gold "Tour  Eiffel" (two spaces, 12) is out of reach; delta = 1 reaches it.
    passage = "la Tour  Eiffel brille"
    start, end = simple_match("Tour Eiffel", passage, 0)
    assert passage[start:end] == "Tour  Eiffe"
    assert char_f1("Tour Eiffel", passage[start:end]) == Fraction(18, 19)
    start, end = simple_match("Tour Eiffel", passage, 1)
    assert passage[start:end] == "Tour  Eiffel"
    # Chinese: 5-character windows only with delta = 0, the 6-character gold with delta = 5.
    passage = "位于南极的长城站。"
    start, end = simple_match("南极长城站", passage, 0)
    assert passage[start:end] == "南极的长城"
    start, end = simple_match("南极长城站", passage, 5)
    assert passage[start:end] == "南极的长城站"
    assert char_f1("南极长城站", passage[start:end]) == Fraction(10, 11)


def test_ties_prefer_shortest_then_leftmost():
    # "ab" occurs twice: the leftmost wins.
    assert simple_match("ab", "ab ab", 3) == (0, 2)
    # "aab" and "ab" against answer "ab": F1 4/5 vs 1, so the 2-character window wins even
    # though it is not the leftmost start.
    assert simple_match("ab", "aab", 1) == (1, 3)
    # All windows score 0: the shortest, leftmost window.
    assert simple_match("zz", "abcdef", 1) == (0, 1)


def test_windows_clipped_and_short_passages():
    # Passage shorter than len(answer) + delta: longer lengths are clipped, not an error.
    assert simple_match("abcd", "abc", 5) == (0, 3)
    # Passage shorter than the minimal window length: the whole passage (trimmed).
    assert simple_match("abcdefghij", " abc ", 2) == (1, 4)
    assert simple_match("abc", "", 0) == (0, 0)


def test_whitespace_trimmed_from_the_chosen_window():
    # delta = 0 forces 6-character windows ("cat x" normalized); the best, leftmost
    # one, "  cat ", is returned as "cat".
    passage = "a  cat  b"
    assert simple_match("cat  x", passage, 0) == (3, 6)


def test_invalid_arguments():
    with pytest.raises(ValueError, match="empty"):
        simple_match("", "passage")
    with pytest.raises(ValueError, match="empty"):
        simple_match("  \n", "passage")
    with pytest.raises(ValueError, match="delta"):
        simple_match("a", "passage", -1)


def test_char_f1_matches_precision_recall():
    assert char_f1("abc", "abc") == 1
    assert char_f1("a b", "ab") == 1
    assert char_f1("aab", "ab") == Fraction(4, 5)
    assert char_f1("abc", "xyz") == 0


def test_random_against_brute_force():
    rng = random.Random(20190819)
    for _ in range(400):
        alphabet = rng.choice(["ab", "abc", "ab ", "abcd ", "北京市 "])
        passage = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 30)))
        answer = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 10)))
        if not answer.strip():
            answer += "a"
        delta = rng.randint(0, 5)
        got = simple_match(answer, passage, delta)
        want = _reference_match(answer, passage, delta)
        assert got == want, (answer, passage, delta)
        assert char_f1(answer, passage[got[0] : got[1]]) == _reference_f1(
            answer, passage[want[0] : want[1]]
        )
