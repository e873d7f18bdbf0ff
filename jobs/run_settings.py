"""Train a list of reader settings and write a Table 7/9-style EM / F1 table.

    python jobs/run_settings.py --output runs/table7 \
        configs/boundary/{baseline,lakm,mixmrc,mixmrc_lakm}.yaml \
        [model.name_or_path=xlm-roberta-base ...]

Arguments ending in .yaml are settings (rows, in order, named by their files); the
others are dotted overrides applied to every setting. Columns are the dev languages
(EM / F1 of each setting's best checkpoint). Re-running skips the settings already
finished and resumes an interrupted one.
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
    parser.add_argument("--output", required=True, help="directory of the runs and the table")
    parser.add_argument("items", nargs="+", metavar="SETTING.yaml | key=value",
                        help="setting YAMLs in row order, and dotted overrides for all")
    args = parser.parse_args(argv)
    settings = [item for item in args.items if item.endswith((".yaml", ".yml"))]
    overrides = [item for item in args.items if item not in settings]
    if not settings:
        parser.error("give at least one setting YAML")
    from rayqa.pipelines.settings import run_settings

    init_ray()
    return run_settings(settings, args.output, overrides)


if __name__ == "__main__":
    main()
