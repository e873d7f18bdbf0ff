"""rayqa.eval: QA metrics that reproduce the official benchmark scripts.

Pure Python (no Ray, no torch). `evaluate_files` scores files; the `*_scores`
functions score in-memory gold data and predictions, e.g. inside a training loop.
MKQA (`mkqa`) follows mkqa_eval.py. `score_open_qa` scores open-QA answers per
language under the MLQA, XOR-Full or MKQA rules (one dispatch for the CORA pipeline and
its baselines). `retrieval_recall` gives R^L@k and R^multi@k; language breakdowns,
heatmaps and result tables in `rayqa.eval.report`.
nltk (CMRC/DRCD) and MeCab (Japanese in XOR-Full) load only when those scorers run.
"""

from rayqa.eval._common import GoldExample, token_f1
from rayqa.eval.cmrc import cmrc_scores
from rayqa.eval.files import BENCHMARKS, evaluate_files, infer_mlqa_language
from rayqa.eval.mkqa import (
    MKQA_LANGUAGES,
    MKQAPrediction,
    mkqa_normalize,
    mkqa_scores,
    read_mkqa_gold,
    read_mkqa_predictions,
)
from rayqa.eval.mlqa import (
    MLQA_LANGUAGES,
    READER_SCORINGS,
    mlqa_normalize,
    mlqa_scores,
    score_by_language,
)
from rayqa.eval.open_qa import SCORINGS, score_open_qa
from rayqa.eval.readers import read_predictions, read_squad_gold, read_xor_gold
from rayqa.eval.retrieval import answer_in_text, multilingual_answers, retrieval_recall
from rayqa.eval.squad import squad_normalize, squad_scores
from rayqa.eval.xor import xor_full_scores, xor_normalize

__all__ = [
    "BENCHMARKS",
    "GoldExample",
    "MKQAPrediction",
    "MKQA_LANGUAGES",
    "MLQA_LANGUAGES",
    "READER_SCORINGS",
    "SCORINGS",
    "answer_in_text",
    "cmrc_scores",
    "evaluate_files",
    "infer_mlqa_language",
    "mkqa_normalize",
    "mkqa_scores",
    "mlqa_normalize",
    "mlqa_scores",
    "multilingual_answers",
    "read_mkqa_gold",
    "read_mkqa_predictions",
    "read_predictions",
    "read_squad_gold",
    "read_xor_gold",
    "retrieval_recall",
    "score_by_language",
    "score_open_qa",
    "squad_normalize",
    "squad_scores",
    "token_f1",
    "xor_full_scores",
    "xor_normalize",
]
