"""CORA iterative training (paper Algorithm 1), round by round.

    ray job submit --working-dir . -- python jobs/cora.py --config configs/cora.yaml

Same arguments as ``rayqa cora`` (``--help`` lists them); see ``rayqa.cli``.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout too

from rayqa.cli import run_command, run_job  # noqa: E402


def main(argv=None):
    return run_job("cora", argv)


if __name__ == "__main__":
    sys.exit(run_command("cora"))
