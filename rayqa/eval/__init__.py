"""rayqa.eval: QA metrics that reproduce the official benchmark scripts.

Pure Python (no Ray, no torch). `evaluate_files` scores files; the `*_scores`
functions score in-memory gold data and predictions, e.g. inside a training loop.
nltk (CMRC/DRCD) and MeCab (Japanese in XOR-Full) load only when those scorers run.
"""

from rayqa.eval._common import GoldExample, token_f1
from rayqa.eval.cmrc import cmrc_scores
from rayqa.eval.files import BENCHMARKS, evaluate_files, infer_mlqa_language
from rayqa.eval.mlqa import MLQA_LANGUAGES, mlqa_normalize, mlqa_scores, score_by_language
from rayqa.eval.readers import read_predictions, read_squad_gold, read_xor_gold
from rayqa.eval.squad import squad_normalize, squad_scores
from rayqa.eval.xor import xor_full_scores, xor_normalize

__all__ = [
    "BENCHMARKS",
    "GoldExample",
    "MLQA_LANGUAGES",
    "cmrc_scores",
    "evaluate_files",
    "infer_mlqa_language",
    "mlqa_normalize",
    "mlqa_scores",
    "read_predictions",
    "read_squad_gold",
    "read_xor_gold",
    "score_by_language",
    "squad_normalize",
    "squad_scores",
    "token_f1",
    "xor_full_scores",
    "xor_normalize",
]
