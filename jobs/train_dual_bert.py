"""Train Dual BERT (cross-lingual MRC, Cui et al. 2019) with Ray Train + DeepSpeed.

    ray job submit --working-dir . -- python jobs/train_dual_bert.py \
        --config configs/crosslingual/dual_bert.yaml

Same arguments as ``rayqa train-dual-bert`` (``--help`` lists them); see ``rayqa.cli``.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout too

from rayqa.cli import run_command, run_job  # noqa: E402


def main(argv=None):
    return run_job("train-dual-bert", argv)


if __name__ == "__main__":
    sys.exit(run_command("train-dual-bert"))
