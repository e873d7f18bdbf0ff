"""Fine-tune mGEN (CORA's answer generator) with Ray Train + DeepSpeed.

    ray job submit --working-dir . -- python jobs/train_mgen.py --config configs/mgen.yaml

Same arguments as ``rayqa train-mgen`` (``--help`` lists them); see ``rayqa.cli``.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout too

from rayqa.cli import run_command, run_job  # noqa: E402


def main(argv=None):
    return run_job("train-mgen", argv)


if __name__ == "__main__":
    sys.exit(run_command("train-mgen"))
