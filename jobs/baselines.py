"""Run CORA's baselines (BM25, MT+DPR, MT+Mono, closed-book) and score them per language.

    python jobs/baselines.py --config configs/baselines.yaml [top_k=10 ...]
    ray job submit --working-dir . -- python jobs/baselines.py --config configs/baselines.yaml

Writes predictions per baseline and language, scores.json and results.md/.csv.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout too

from rayqa.config import BaselinesJobConfig  # noqa: E402
from rayqa.runtime import load_job_config  # noqa: E402


def main(argv=None):
    cfg = load_job_config(BaselinesJobConfig, argv, __doc__)
    from rayqa.pipelines.baselines import run_baselines

    return run_baselines(cfg)


if __name__ == "__main__":
    main()
