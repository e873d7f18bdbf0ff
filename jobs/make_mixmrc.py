"""Generate mixMRC data: translated training data and mixed-language question/passage pairs.

    python jobs/make_mixmrc.py --config configs/mixmrc.yaml [max_pairs_per_example=4 ...]
    ray job submit --working-dir . -- python jobs/make_mixmrc.py --config configs/mixmrc.yaml

The output directory holds translated.<lang>.json per target language, mixed.json,
Table 3 of the paper (table3.md / .csv / .json: instances and skip ratio per language)
and the resolved config; see `rayqa.augment.mixmrc_job`.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout too

from rayqa.config import MixMRCJobConfig  # noqa: E402
from rayqa.runtime import init_ray, load_job_config  # noqa: E402


def main(argv=None):
    cfg = load_job_config(MixMRCJobConfig, argv, __doc__)
    from rayqa.augment.mixmrc_job import check_translator, make_mixmrc

    check_translator(cfg)  # an unsupported language pair fails before Ray starts
    init_ray()
    return make_mixmrc(cfg)


if __name__ == "__main__":
    main()
