"""Typed configs: YAML + overrides, errors that name file and key, shipped configs load."""

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from rayqa.config import (CONFIG_FILENAME, ConfigError, IndexJobConfig, ReaderJobConfig,
                          apply_override, load_config, save_config)

REPO = Path(__file__).resolve().parents[1]


def write(tmp_path, text: str) -> Path:
    path = tmp_path / "job.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_shipped_configs_load():
    reader = load_config(ReaderJobConfig, REPO / "configs" / "reader.yaml")
    assert reader.model.name_or_path == "bert-base-multilingual-cased"
    assert (reader.model.max_seq_length, reader.model.doc_stride) == (384, 128)
    assert load_config(IndexJobConfig, REPO / "configs" / "index.yaml").index.factory == "Flat"


@pytest.mark.parametrize("name", ["configs/reader.yaml", "configs/index.yaml", "configs/mdpr.yaml",
                                  "configs/mgen.yaml", "configs/passages.yaml", "configs/mixmrc.yaml",
                                  "configs/cora.yaml",
                                  "serve_config.yaml", "cluster.yaml",
                                  *sorted(f"configs/boundary/{p.name}" for p in
                                          (REPO / "configs" / "boundary").glob("*.yaml"))])
def test_every_yaml_key_has_a_comment(name):
    """Each key line is commented on the line itself or on the line above."""
    lines = (REPO / name).read_text(encoding="utf-8").splitlines()
    for number, line in enumerate(lines):
        stripped = line.strip()
        if not stripped or stripped.startswith("#") or ":" not in stripped.split("#")[0]:
            continue
        if stripped.startswith("- ") and ":" not in stripped[2:].split("#")[0]:
            continue
        above = lines[number - 1].strip() if number else ""
        assert "#" in line or above.startswith("#"), f"{name}:{number + 1}: {line!r}"


def test_overrides_apply_with_types(tmp_path):
    path = write(tmp_path, "output_dir: out\nmodel: {name_or_path: m}\n")
    cfg = load_config(ReaderJobConfig, path, ["train.lr=3e-5", "train.deepspeed.zero_stage=2",
                                              "data.train_files=[a.json, b.zh.json]"])
    assert cfg.train.lr == pytest.approx(3e-5)
    assert cfg.train.deepspeed.zero_stage == 2
    assert [f.path for f in cfg.data.train_files] == ["a.json", "b.zh.json"]


@pytest.mark.parametrize("text, key", [
    ("output_dir: o\nmodel: {name_or_path: m, colour: red}\n", "model.colour"),
    ("output_dir: o\nmodel: {name_or_path: m}\ntrain: {epochs: '3'}\n", "train.epochs"),
    ("output_dir: o\nmodel: {name_or_path: m}\ntrain: {deepspeed: {zero_stage: 5}}\n",
     "train.deepspeed.zero_stage"),
    ("output_dir: o\nmodel: {name_or_path: m}\ntrain: {use_gpu: 'yes'}\n", "train.use_gpu"),
    ("model: {name_or_path: m}\n", "output_dir"),
])
def test_errors_name_file_and_key(tmp_path, text, key):
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as err:
        load_config(ReaderJobConfig, path)
    assert str(path) in str(err.value) and key in str(err.value)


def test_bad_files_and_overrides(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        load_config(ReaderJobConfig, tmp_path / "missing.yaml")
    with pytest.raises(ConfigError, match="invalid YAML"):
        load_config(ReaderJobConfig, write(tmp_path, "a: [1,\n"))
    with pytest.raises(ConfigError, match="dotted.key=value"):
        apply_override({}, "train.lr")
    with pytest.raises(ConfigError, match="not a section"):
        apply_override({"train": 3}, "train.lr=1")


def test_window_must_leave_room_for_the_passage(tmp_path):
    path = write(tmp_path, "output_dir: o\nmodel: {name_or_path: m, max_seq_length: 128}\n")
    with pytest.raises(ConfigError, match="doc_stride"):
        load_config(ReaderJobConfig, path)


def test_saved_config_round_trips(tmp_path):
    cfg = load_config(ReaderJobConfig, REPO / "configs" / "reader.yaml", ["train.epochs=7"])
    saved = Path(save_config(cfg, tmp_path))
    assert saved.name == CONFIG_FILENAME
    assert ReaderJobConfig.model_validate(yaml.safe_load(saved.read_text())) == cfg


def test_import_stays_light():
    """`rayqa`, its config and CLI parser import without torch, ray or transformers."""
    code = ("import sys, rayqa, rayqa.config, rayqa.cli; rayqa.cli.build_parser(); "
            "print(sorted(m for m in ('torch', 'ray', 'transformers') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize("name", ["baseline", "lakm", "mixmrc", "mixmrc_lakm", "zero_shot",
                                  "zero_shot_lakm", "random_ngram"])
def test_paper_settings_load_over_their_base(name):
    cfg = load_config(ReaderJobConfig, REPO / "configs" / "boundary" / f"{name}.yaml")
    tasks = {"baseline": ["mrc"], "lakm": ["mrc", "lakm"], "mixmrc": ["mrc", "mixmrc"],
             "mixmrc_lakm": ["mrc", "mixmrc", "lakm"], "zero_shot": ["mrc"],
             "zero_shot_lakm": ["mrc", "lakm"], "random_ngram": ["mrc", "lakm"]}[name]
    assert [t.name for t in cfg.tasks] == tasks
    assert cfg.lakm.strategy == ("random_ngram" if name == "random_ngram" else "knowledge")
    assert (cfg.train.run_name, cfg.output_dir) == (name, f"runs/boundary/{name}")
    assert (cfg.model.max_seq_length, cfg.lakm.max_seq_length, cfg.train.lr) == (384, 256, 3e-5)
    english_only = name.startswith("zero_shot")
    assert (len(cfg.data.train_files) == 1) == english_only


def test_base_config_cycle_and_missing_base(tmp_path):
    write(tmp_path, "base: job.yaml\noutput_dir: o\n")
    with pytest.raises(ConfigError, match="cycle"):
        load_config(ReaderJobConfig, tmp_path / "job.yaml")
    (tmp_path / "child.yaml").write_text("base: nowhere.yaml\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="nowhere.yaml: config file not found"):
        load_config(ReaderJobConfig, tmp_path / "child.yaml")
