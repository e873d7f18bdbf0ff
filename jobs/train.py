"""Fine-tune an extractive reader with Ray Train + DeepSpeed.

    python jobs/train.py --config configs/reader.yaml [train.lr=3e-5 ...]
    ray job submit --working-dir . -- python jobs/train.py --config configs/reader.yaml

Re-running with the same ``train.run_name`` resumes from the latest checkpoint.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout too

from rayqa.config import ReaderJobConfig  # noqa: E402
from rayqa.runtime import init_ray, load_job_config  # noqa: E402


def main(argv=None):
    cfg = load_job_config(ReaderJobConfig, argv, __doc__)
    init_ray()
    from rayqa.train.trainer import train_reader

    return train_reader(cfg)


if __name__ == "__main__":
    main()
