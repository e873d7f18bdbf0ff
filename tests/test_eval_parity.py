"""Parity with the official scripts: every number of ../shared/eval-parity/expected.json."""

import json
import math

import pytest

from rayqa.eval import evaluate_files

pytestmark = pytest.mark.shared

# case in expected.json -> (benchmark, gold file under shared/data)
CASES = {
    "squad_en": ("squad", "xquad/xquad.en.json"),
    **{f"mlqa_{lang}": ("mlqa", f"xquad/xquad.{lang}.json") for lang in "en es de ar hi vi zh".split()},
    "cmrc_dev": ("cmrc", "cmrc2018/squad-style-data/cmrc2018_dev.json"),
    "drcd_dev": ("drcd", "drcd/DRCD_dev.json"),
    "xor_full_dev": ("xor-full", "xor_tydi/xor_dev_full_v1_1.jsonl"),
}

# Other gold files of a case's questions, scored with its predictions and official numbers:
# name -> (benchmark, gold file, case). CMRC 2018's original format (a list of contexts
# with query_id, some answers JSON numbers) is what the script was written for.
SAME_QUESTIONS = {
    "cmrc_dev_original": ("cmrc", "cmrc2018/data/cmrc2018_dev.json", "cmrc_dev"),
}


@pytest.fixture(scope="module")
def expected(shared_dir):
    return json.loads((shared_dir / "eval-parity" / "expected.json").read_text(encoding="utf-8"))


def assert_same_numbers(got, want, exact, path="result"):
    """Same keys at every level; floats within 1e-6, or equal where `exact`."""
    if isinstance(want, dict):
        assert isinstance(got, dict) and set(got) == set(want), f"{path}: keys {sorted(got)}"
        for key in want:
            assert_same_numbers(got[key], want[key], exact, f"{path}.{key}")
    elif exact or isinstance(want, int):
        assert got == want, f"{path}: {got!r} != {want!r}"
    else:
        assert math.isclose(got, want, rel_tol=0, abs_tol=1e-6), f"{path}: {got!r} != {want!r}"


def test_every_expected_case_is_covered(expected):
    assert set(expected) == set(CASES)


@pytest.mark.parametrize("case", sorted(CASES))
def test_matches_official_script(case, shared_dir, expected):
    benchmark, gold = CASES[case]
    got = evaluate_files(
        benchmark,
        shared_dir / "data" / gold,
        shared_dir / "eval-parity" / f"{case}.predictions.json",
    )
    # The CMRC script prints three decimals; those printed values must match exactly.
    assert_same_numbers(got, expected[case], exact=benchmark in ("cmrc", "drcd"))


@pytest.mark.parametrize("name", sorted(SAME_QUESTIONS))
def test_other_gold_format_scores_the_same(name, shared_dir, expected):
    benchmark, gold, case = SAME_QUESTIONS[name]
    predictions = shared_dir / "eval-parity" / f"{case}.predictions.json"
    got = evaluate_files(benchmark, shared_dir / "data" / gold, predictions)
    assert got == evaluate_files(benchmark, shared_dir / "data" / CASES[case][1], predictions)
    assert_same_numbers(got, expected[case], exact=benchmark in ("cmrc", "drcd"))
