"""Tiny end-to-end CORA: two rounds on an XQuAD slice (en, de, es) with 2 Ray Train workers."""

import json

import pytest

from rayqa.corpus.xquad import build_xquad_collection
from rayqa.models.generator import format_source
from rayqa.testing.tiny import build_tiny_reader
from rayqa.testing.tiny_seq2seq import build_tiny_mt5
from rayqa.pipelines.cora import STAGES, read_jsonl

pytestmark = pytest.mark.ray
LANGS = ("de", "en", "es")


@pytest.fixture(scope="module")
def xquad_slice(shared_dir, tmp_path_factory):
    """2 articles x 2 paragraphs of XQuAD in 3 languages, split by question id into
    train and dev (every language of a question on the same side), and tiny models."""
    root = tmp_path_factory.mktemp("cora")
    src = root / "xquad"
    src.mkdir()
    for lang in LANGS:
        data = json.loads((shared_dir / "data" / "xquad" / f"xquad.{lang}.json").read_text())
        articles = [{**a, "paragraphs": a["paragraphs"][:2]} for a in data["data"][:2]]
        (src / f"xquad.{lang}.json").write_text(json.dumps({"data": articles}), encoding="utf-8")
    collection = build_xquad_collection(src, root / "collection", list(LANGS))
    questions = read_jsonl(collection / "questions.jsonl")
    ids = sorted({q["xquad_id"] for q in questions})
    dev_ids = set(ids[::4])
    for name, part in (("train", [q for q in questions if q["xquad_id"] not in dev_ids]),
                       ("dev", [q for q in questions if q["xquad_id"] in dev_ids])):
        (root / f"{name}.jsonl").write_text(
            "".join(json.dumps(q, ensure_ascii=False) + "\n" for q in part), encoding="utf-8")
    passages = read_jsonl(collection / "passages.jsonl")
    texts = [p["title"] + " " + p["text"] for p in passages] + [q["question"] for q in questions]
    build_tiny_reader(texts, root / "encoder", vocab_size=3000, hidden=32, layers=1, heads=2,
                      intermediate=64)
    sources = [format_source(q["question"], q["lang"], passages[:1]) for q in questions]
    build_tiny_mt5(texts + sources + [a for q in questions for a in q["answers"]],
                   root / "mt5", extra_ids=0, d_model=32, layers=1, heads=2, d_ff=64)
    return root, collection, len(questions) - 3 * len(dev_ids), 3 * len(dev_ids)


def overrides(root, collection):
    values = {
        "output_dir": root / "out", "rounds": 2,
        "passages_file": collection / "passages.jsonl",
        "language_links": collection / "language_links.jsonl",
        "train_questions": root / "train.jsonl", "dev_questions": root / "dev.jsonl",
        "mdpr.encoder.name_or_path": root / "encoder", "mdpr.encoder.max_query_length": 32,
        "mdpr.encoder.max_passage_length": 96, "mdpr.train.num_workers": 2,
        "mdpr.train.epochs": 1, "mdpr.train.batch_size": 8, "mdpr.train.lr": 1e-3,
        "mdpr.train.log_every": 5,
        "mgen.model.name_or_path": root / "mt5", "mgen.model.max_source_length": 192,
        "mgen.model.max_target_length": 8, "mgen.model.train_passages": 2,
        "mgen.model.eval_passages": 3, "mgen.train.num_workers": 2,
        "mgen.train.use_gpu": False, "mgen.train.epochs": 1, "mgen.train.batch_size": 8,
        "mgen.train.grad_accum": 1, "mgen.train.warmup_steps": 0, "mgen.train.lr": 3e-3,
        "mgen.train.log_every": 5,
        "retrieval.recall_ks": "[1,3]", "retrieval.batch_size": 32,
        "mining.max_link_candidates": 4, "mining.retrieved_candidates": 2,
        "mining.batch_size": 32,
    }
    return [f"{k}={v}" for k, v in values.items()]


def test_two_rounds_write_everything_and_resume(ray_local, xquad_slice, capsys):
    from jobs.cora import main

    root, collection, n_train, n_dev = xquad_slice
    out = main(["--config", "configs/cora.yaml", *overrides(root, collection)])
    assert out == root / "out"
    for r in (0, 1):
        rd = out / f"round_{r}"
        stages = [s for s in STAGES if not (s == "mine" and r == 1)]
        assert all((rd / f"{s}.done").is_file() for s in stages), sorted(rd.iterdir())
        for encoder in ("query_encoder", "passage_encoder"):
            assert (rd / "mdpr" / "final" / encoder / "config.json").is_file()
        assert (rd / "mgen" / "final" / "rayqa_config.yaml").is_file()
        assert (rd / "index" / "manifest.json").is_file()
        assert (rd / "retrieved_languages.png").stat().st_size > 0
        train = read_jsonl(rd / "retrieved.train.jsonl")
        assert len(train) == n_train and all(len(row["ctxs"]) == 2 for row in train)
        metrics = json.loads((rd / "metrics.json").read_text())
        assert set(metrics["mgen"]) == set(LANGS)
        assert metrics["retrieval"]["avg"]["questions"] == n_dev
        assert metrics["query_encoder"].endswith("round_0/mdpr/final/query_encoder")
        assert metrics["passage_encoder"].endswith(f"round_{r}/mdpr/final/passage_encoder")
        mgen_data = read_jsonl(rd / "mgen_train.jsonl")
        synthetic = [row for row in mgen_data if "@" in row["id"]]
        # Each English training question once per other language, answer translated.
        assert len(synthetic) == 2 * n_train // 3
        assert {row["lang"] for row in synthetic} == {"de", "es"}
    assert not (out / "round_1" / "mine.done").exists()

    labels = read_jsonl(out / "round_0" / "mining" / "labels.jsonl")
    linked = [lab for lab in labels if lab["source"] == "language_link"]
    assert linked and all(lab["passage"]["lang"] != "en" for lab in linked)
    assert all(isinstance(lab["positive"], bool) and lab["prediction"] is not None
               for lab in labels)
    summary = json.loads((out / "round_0" / "mine.done").read_text())
    assert summary["candidates"] == len(labels)
    # Round 1's mDPR data holds the initial lines plus one per mined positive, and the
    # mined negatives as hard negatives.
    mdpr1 = read_jsonl(out / "round_1" / "mdpr_train.jsonl")
    assert len(mdpr1) == n_train + len({(lab["question_id"], lab["passage"]["id"])
                                        for lab in labels if lab["positive"]})
    if any(not lab["positive"] for lab in labels):
        assert any(row["hard_negative_ctxs"] for row in mdpr1)
    state = json.loads((out / "state.json").read_text())
    assert state["status"] == "finished" and "mine" in state["finished"]["round_0"]
    table = (out / "results.md").read_text()
    assert "round 1 mGEN f1" in table and "round 0 R^multi@3" in table
    assert (out / "results.csv").is_file()

    # Rerun as after a kill between round 1's mGEN training and its marker: the mGEN
    # stage restores its Ray Train run (same run name, no new checkpoint, no retraining)
    # and evaluation runs again; every other stage is skipped.
    run_dir = out / "round_1" / "mgen" / "ray" / "mgen_round1"
    checkpoints = sorted(p.name for p in run_dir.glob("checkpoint_*"))
    assert checkpoints
    markers = {p: p.stat().st_mtime_ns for p in out.glob("round_*/*.done")}
    redo = {out / "round_1" / "mgen.done", out / "round_1" / "evaluate.done"}
    for marker in redo:
        marker.unlink()
    capsys.readouterr()
    main(["--config", "configs/cora.yaml", *overrides(root, collection)])
    log = capsys.readouterr().out
    assert log.count("done before, skipped") == len(markers) - 2
    assert "round 1 mgen: {" in log and "round 1 evaluate: {" in log
    assert sorted(p.name for p in run_dir.glob("checkpoint_*")) == checkpoints
    assert all(p.stat().st_mtime_ns == t for p, t in markers.items() if p not in redo)
    assert all(p.is_file() for p in redo)
