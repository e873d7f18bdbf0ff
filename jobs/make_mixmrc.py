"""Generate mixMRC data: translated training data, mixed-language pairs.

    ray job submit --working-dir . -- \\
        python jobs/make_mixmrc.py --config configs/mixmrc.yaml

Same arguments as ``rayqa mixmrc`` (``--help`` lists them); see ``rayqa.cli``.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout too

from rayqa.cli import run_command, run_job  # noqa: E402


def main(argv=None):
    return run_job("mixmrc", argv)


if __name__ == "__main__":
    sys.exit(run_command("mixmrc"))
