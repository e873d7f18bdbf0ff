"""Train a list of reader settings and write a Table 7/9-style EM / F1 table.

    python jobs/run_settings.py --output runs/table7 \
        --settings configs/boundary/baseline.yaml configs/boundary/lakm.yaml \
                   configs/boundary/mixmrc.yaml configs/boundary/mixmrc_lakm.yaml \
        [model.name_or_path=xlm-roberta-base ...]

Rows are the settings (named by their files), columns the dev languages (EM / F1 of
each setting's best checkpoint). Overrides apply to every setting. Re-running skips the
settings already finished and resumes an interrupted one.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout too

from rayqa.runtime import init_ray  # noqa: E402


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--settings", nargs="+", required=True, help="setting YAMLs, in row order")
    parser.add_argument("--output", required=True, help="directory of the runs and the table")
    parser.add_argument("overrides", nargs="*", help="dotted overrides for every setting")
    args = parser.parse_args(argv)
    from rayqa.pipelines.settings import run_settings

    init_ray()
    return run_settings(args.settings, args.output, args.overrides)


if __name__ == "__main__":
    main()
