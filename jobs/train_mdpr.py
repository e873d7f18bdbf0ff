"""Train the mDPR bi-encoder (CORA's retriever) with Ray Train + DeepSpeed.

    python jobs/train_mdpr.py --config configs/mdpr.yaml [train.lr=2e-5 ...]
    ray job submit --working-dir . -- python jobs/train_mdpr.py --config configs/mdpr.yaml

Re-running with the same ``train.run_name`` resumes from the latest checkpoint. The
result, ``<output_dir>/final/{query_encoder,passage_encoder}``, indexes with
``jobs/build_index.py`` (``encoder.name_or_path: <output_dir>/final/passage_encoder``).
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout too

from rayqa.config import MDPRJobConfig  # noqa: E402
from rayqa.runtime import init_ray, load_job_config  # noqa: E402


def main(argv=None):
    cfg = load_job_config(MDPRJobConfig, argv, __doc__)
    init_ray()
    from rayqa.train.biencoder_trainer import train_mdpr

    return train_mdpr(cfg)


if __name__ == "__main__":
    main()
