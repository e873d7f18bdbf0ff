"""Jobs whose outputs land on object storage, for the stages without a test module of
their own: the settings runner writes its scores and table under an ``s3://`` output."""

import json

from rayqa import storage
from rayqa.pipelines.settings import (
    REPORTED_SPLIT,
    SCORES_FILE,
    run_settings,
    setting_config,
    settings_table,
)

SETTINGS = ["configs/boundary/baseline.yaml", "configs/boundary/lakm.yaml"]


def test_settings_table_is_written_to_s3_from_finished_settings(s3_dir):
    rows = {"baseline": {"en": {"exact_match": 40.0, "f1": 50.5}},
            "lakm": {"en": {"exact_match": 42.0, "f1": 53.25}}}
    for path, (name, test) in zip(SETTINGS, rows.items()):
        # Finished settings (trained, and scored on the config's test files): the sweep
        # resumes without training or scoring anything.
        files = [item.model_dump() for item in setting_config(path, s3_dir, []).data.test_files]
        storage.write_text(f"{s3_dir}/{name}/{SCORES_FILE}", json.dumps(
            {"split": REPORTED_SPLIT, REPORTED_SPLIT: test, "test_files": files,
             "dev": {"en": {"exact_match": 1.0, "f1": 2.0}}, "step": 3, "epoch": 1}))
    md, csv_file = run_settings(SETTINGS, s3_dir)
    assert (md, csv_file) == (f"{s3_dir}/table.md", f"{s3_dir}/table.csv")
    assert (storage.read_text(md), storage.read_text(csv_file)) == settings_table(rows)
