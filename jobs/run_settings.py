"""Train reader settings in turn, each selected on dev; write a Table 7/9-style EM / F1
table of their test scores (``data.test_files``).

    ray job submit --working-dir . -- \\
        python jobs/run_settings.py --output runs/table7 configs/boundary/baseline.yaml ...

Same arguments as ``rayqa run-settings`` (``--help`` lists them); see ``rayqa.cli``.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout too

from rayqa.cli import run_command, run_job  # noqa: E402


def main(argv=None):
    return run_job("run-settings", argv)


if __name__ == "__main__":
    sys.exit(run_command("run-settings"))
