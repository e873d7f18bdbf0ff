"""Fine-tune mGEN (CORA's multilingual answer generator) with Ray Train + DeepSpeed.

    python jobs/train_mgen.py --config configs/mgen.yaml [train.lr=3e-5 ...]
    ray job submit --working-dir . -- python jobs/train_mgen.py --config configs/mgen.yaml

Inputs are retrieval-output JSONL files (question, lang, answers, ctxs); re-running with
the same ``train.run_name`` resumes from the latest checkpoint.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout too

from rayqa.config import MGENJobConfig  # noqa: E402
from rayqa.runtime import init_ray, load_job_config  # noqa: E402


def main(argv=None):
    cfg = load_job_config(MGENJobConfig, argv, __doc__)
    init_ray()
    from rayqa.train.generator_trainer import train_mgen

    return train_mgen(cfg)


if __name__ == "__main__":
    main()
