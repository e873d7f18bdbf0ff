"""The mDPR and mGEN jobs each CORA round builds (no Ray: the config-building functions
alone)."""

from pathlib import Path

from rayqa.config import CORAJobConfig, CORAMDPRConfig, load_config
from rayqa.pipelines.cora import mdpr_round_config, mgen_round_config

CONFIG = Path(__file__).resolve().parents[1] / "configs" / "cora.yaml"


def _cfg(*overrides: str) -> CORAJobConfig:
    return load_config(CORAJobConfig, CONFIG, ["passages_file=/data/passages.jsonl",
                                               *overrides])


def test_round_zero_mines_bm25_negatives_from_the_passages_file():
    # Off by default and in the shipped config: BM25 over the collection is built on the
    # driver.
    assert not load_config(CORAJobConfig, CONFIG).mdpr.bm25_negatives
    assert not CORAMDPRConfig(encoder={"name_or_path": "m"}).bm25_negatives
    cfg = _cfg("mdpr.hard_negatives=2", "mdpr.bm25_negatives=true")
    job = mdpr_round_config(cfg, 0, "/out/round_0/mdpr", "bert-base-multilingual-uncased",
                            "/out/round_0/mdpr_train.jsonl", "/out/round_0/mdpr_dev.jsonl")
    assert job.data.bm25_negatives and job.data.hard_negatives == 2
    assert [f.path for f in job.data.passages_files] == ["/data/passages.jsonl"]
    assert [f.path for f in job.data.train_files] == ["/out/round_0/mdpr_train.jsonl"]
    assert [f.path for f in job.data.dev_files] == ["/out/round_0/mdpr_dev.jsonl"]
    assert job.encoder.name_or_path == "bert-base-multilingual-uncased"
    assert job.encoder.max_query_length == cfg.mdpr.encoder.max_query_length
    assert job.train.run_name == "mdpr_round0" and job.output_dir == "/out/round_0/mdpr"


def test_later_rounds_and_the_switch_mine_no_bm25_negatives():
    later = mdpr_round_config(_cfg("mdpr.bm25_negatives=true"), 1, "/out/round_1/mdpr", "/out/round_0/mdpr/final",
                              "/out/round_1/mdpr_train.jsonl", None)
    assert not later.data.bm25_negatives and later.data.passages_files == []
    assert later.data.dev_files == [] and later.train.run_name == "mdpr_round1"
    assert later.encoder.name_or_path == "/out/round_0/mdpr/final"
    off = mdpr_round_config(_cfg("mdpr.bm25_negatives=false"), 0, "/out/round_0/mdpr", "m",
                            "/out/round_0/mdpr_train.jsonl", None)
    assert not off.data.bm25_negatives and off.data.passages_files == []


def test_round_zero_mgen_adds_synthetic_data_after_three_epochs_later_rounds_at_once():
    """Appendix A.2: synthetic data joins after mGEN's third epoch of the initial
    training; later rounds continue from a generator that has seen it."""
    cfg = _cfg()
    first = mgen_round_config(cfg, 0, "/out/round_0/mgen", "google/mt5-base",
                              "/out/round_0/mgen_train.jsonl",
                              "/out/round_0/mgen_synthetic.jsonl", "/out/round_0/mgen_dev.jsonl")
    assert first.data.synthetic_from_epoch == 3
    assert [f.path for f in first.data.synthetic_files] == ["/out/round_0/mgen_synthetic.jsonl"]
    # The selection questions' retrieval picks the exported checkpoint (dev F1).
    assert [f.path for f in first.data.dev_files] == ["/out/round_0/mgen_dev.jsonl"]
    assert first.train.run_name == "mgen_round0" and first.model.name_or_path == "google/mt5-base"
    later = mgen_round_config(cfg, 1, "/out/round_1/mgen", "/out/round_0/mgen/final",
                              "/out/round_1/mgen_train.jsonl",
                              "/out/round_1/mgen_synthetic.jsonl", None)
    assert later.data.synthetic_from_epoch == 0 and later.data.dev_files == []
    assert later.model.name_or_path == "/out/round_0/mgen/final"
    none = mgen_round_config(_cfg("mining.synthetic_from_epoch=1"), 0, "/o", "m", "/t", None,
                             None)
    assert none.data.synthetic_files == [] and none.data.synthetic_from_epoch == 1


def test_selection_holds_out_training_questions_by_default():
    selection = load_config(CORAJobConfig, CONFIG).selection
    assert selection.questions is None and selection.fraction == 0.05
    assert _cfg("selection.fraction=0").selection.fraction == 0
