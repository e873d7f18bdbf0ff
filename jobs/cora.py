"""CORA iterative training (paper Algorithm 1): mDPR, index, retrieval, mGEN, mining, per round.

    python jobs/cora.py --config configs/cora.yaml [rounds=3 mgen.train.lr=3e-5 ...]
    ray job submit --working-dir . -- python jobs/cora.py --config configs/cora.yaml

Every round writes under ``<output_dir>/round_<r>/``; re-running the same command skips
finished stages and resumes a killed training from its Ray Train checkpoint. The run
ends with ``<output_dir>/results.{md,csv}``.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout too

from rayqa.config import CORAJobConfig  # noqa: E402
from rayqa.runtime import init_ray, load_job_config  # noqa: E402


def main(argv=None):
    cfg = load_job_config(CORAJobConfig, argv, __doc__)
    init_ray()
    from rayqa.pipelines.cora import run_cora

    return run_cora(cfg)


if __name__ == "__main__":
    main()
