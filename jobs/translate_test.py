"""Back-translation systems of cross-lingual MRC (Cui et al. 2019) on Ray Data.

    ray job submit --working-dir . -- python jobs/translate_test.py \
        --config configs/crosslingual/translate_test.yaml

Same arguments as ``rayqa translate-test`` (``--help`` lists them); see ``rayqa.cli``.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout too

from rayqa.cli import run_command, run_job  # noqa: E402


def main(argv=None):
    return run_job("translate-test", argv)


if __name__ == "__main__":
    sys.exit(run_command("translate-test"))
