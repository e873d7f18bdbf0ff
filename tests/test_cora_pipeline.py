"""Tiny end-to-end CORA: two rounds on an XQuAD slice (en, de, es), inputs and outputs on
S3 (a moto server). Each mDPR and mGEN training has one Ray Train worker: their own
tests train with two, and here a second worker on two cores made the test half again
as long (321 s -> 206 s with one)."""

import json
import math
import re
from pathlib import Path

import pytest

from rayqa import storage
from rayqa.corpus.xquad import build_xquad_collection
from rayqa.models.generator import format_source
from rayqa.testing.tiny import build_tiny_reader
from rayqa.testing.tiny_seq2seq import build_tiny_mt5
from rayqa.pipelines.cora import STAGES, read_jsonl

pytestmark = pytest.mark.ray
LANGS = ("de", "en", "es")
CONFIG = str(Path(__file__).resolve().parents[1] / "configs" / "cora.yaml")


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


def upload_inputs(root, collection, target: str) -> dict[str, str]:
    """The pipeline's input files copied under the URI `target`, by config key."""
    inputs = {"passages_file": collection / "passages.jsonl",
              "language_links": collection / "language_links.jsonl",
              "train_questions": root / "train.jsonl", "dev_questions": root / "dev.jsonl"}
    for path in inputs.values():
        storage.write_bytes(storage.join(target, path.name), path.read_bytes())
    return {key: storage.join(target, path.name) for key, path in inputs.items()}


def overrides(root, inputs, out):
    values = {
        "output_dir": out, "rounds": 2, **inputs,
        "mdpr.encoder.name_or_path": root / "encoder", "mdpr.encoder.max_query_length": 32,
        "mdpr.encoder.max_passage_length": 96, "mdpr.train.num_workers": 1,
        "mdpr.train.epochs": 1, "mdpr.train.batch_size": 8, "mdpr.train.lr": 1e-3,
        "mdpr.train.log_every": 5,
        "mgen.model.name_or_path": root / "mt5", "mgen.model.max_source_length": 192,
        "mgen.model.max_target_length": 8, "mgen.model.train_passages": 2,
        "mgen.model.eval_passages": 3, "mgen.train.num_workers": 1,
        "mgen.train.use_gpu": False, "mgen.train.epochs": 1, "mgen.train.batch_size": 8,
        "mgen.train.grad_accum": 1, "mgen.train.warmup_steps": 0, "mgen.train.lr": 3e-3,
        "mgen.train.log_every": 5,
        "retrieval.recall_ks": "[1,3]", "retrieval.batch_size": 32,
        "mining.max_link_candidates": 4, "mining.retrieved_candidates": 2,
        "mining.batch_size": 32,
        # XQuAD's de is not among the paper's synthetic languages; keep two targets.
        "mining.synthetic_langs": "[de,es]",
    }
    return [f"{k}={v}" for k, v in values.items()]


def held_out_groups(n_train: int) -> int:
    """XQuAD questions (3 languages each) the default `selection.fraction` holds out."""
    return math.floor(0.05 * (n_train // 3) + 0.5)


def assert_dev_retrieval_used_round0_query_encoder(out: str, r: int, passages_file) -> None:
    """Round `r`'s dev retrieval scored round 0's query vectors against round `r`'s
    passage vectors (CORA's inference rule), not round `r`'s own query vectors.

    Checked on the vectors: every stored dev score must equal round 0's question vector
    times the passage's vector (re-encoded with round `r`'s passage encoder), and round
    `r`'s question encoder must give other scores (else the check could not tell).
    """
    import numpy as np

    from rayqa.retrieval.encode import TextEncoder

    rows = read_jsonl(f"{out}/round_{r}/retrieved.dev.jsonl")
    passages = {p["id"]: p for p in read_jsonl(passages_file)}
    ids = sorted({ctx["id"] for row in rows for ctx in row["ctxs"]})
    encoder = TextEncoder(f"{out}/round_{r}/mdpr/final/passage_encoder", 96, device="cpu")
    vectors = dict(zip(ids, encoder.encode_passages([passages[i]["title"] for i in ids],
                                                    [passages[i]["text"] for i in ids])))
    stored = np.array([[ctx["score"] for ctx in row["ctxs"]] for row in rows])

    def scores(round_: int) -> np.ndarray:
        query = TextEncoder(f"{out}/round_{round_}/mdpr/final/query_encoder", 32, device="cpu")
        questions = query.encode_queries([row["question"] for row in rows])
        return np.array([[float(q @ vectors[ctx["id"]]) for ctx in row["ctxs"]]
                         for q, row in zip(questions, rows)])

    # Float32 inner products of the same vectors encoded in other batches: 1e-3 apart at
    # most; round r's encoder trained on with lr 1e-3 moves scores by far more.
    np.testing.assert_allclose(scores(0), stored, rtol=1e-3, atol=1e-3)
    assert np.abs(scores(r) - stored).max() > 1e-2


def marker_times(out: str) -> dict[str, int]:
    """Modification time of every stage marker (``round_<r>/<stage>.done``) under `out`."""
    markers = [f for f in storage.list_files(out) if re.fullmatch(r"round_\d+/\w+\.done", f)]
    fs, path = storage.resolve(out)
    return {m: info.mtime_ns for m, info in
            zip(markers, fs.get_file_info([f"{path}/{m}" for m in markers]))}


def checkpoints(run_dir: str) -> list[str]:
    """The checkpoint directories of a Ray Train run directory."""
    return sorted({f.split("/")[0] for f in storage.list_files(run_dir)
                   if f.startswith("checkpoint_")})


def test_relative_locations_are_made_absolute(xquad_slice, monkeypatch):
    """The sub-jobs' workers run elsewhere: the pipeline hands them absolute paths."""
    from rayqa.config import CORAJobConfig, load_config
    from rayqa.pipelines.cora import CORAPipeline

    root, _, n_train, n_dev = xquad_slice
    monkeypatch.chdir(root)
    inputs = {"passages_file": "collection/passages.jsonl",
              "language_links": "collection/language_links.jsonl",
              "train_questions": "train.jsonl", "dev_questions": "dev.jsonl"}
    pipeline = CORAPipeline(load_config(CORAJobConfig, CONFIG, overrides(root, inputs, "out")))
    assert pipeline.out == str(root.resolve() / "out")
    assert pipeline.cfg.passages_file == str(root.resolve() / "collection" / "passages.jsonl")
    assert len(pipeline.train) + len(pipeline.selection) == n_train
    assert len(pipeline.dev) == n_dev
    # 5% of the training XQuAD questions (rounded half up), each in all three languages,
    # held out for checkpoint selection and never trained on.
    held = {q["xquad_id"] for q in pipeline.selection}
    assert len(held) == held_out_groups(n_train) and len(pipeline.selection) == 3 * len(held)
    assert not held & {q["xquad_id"] for q in pipeline.train}


def test_two_rounds_on_s3_write_everything_and_resume(ray_local, xquad_slice, s3_dir, tmp_path,
                                                      monkeypatch, capsys):
    from jobs.cora import main

    root, collection, n_train, n_dev = xquad_slice
    out = f"{s3_dir}/out"
    argv = ["--config", CONFIG,
            *overrides(root, upload_inputs(root, collection, f"{s3_dir}/inputs"), out)]
    workdir = tmp_path / "cwd"
    workdir.mkdir()
    monkeypatch.chdir(workdir)  # relative local paths would land here
    assert main(argv) == out
    files = set(storage.list_files(out))
    for r in (0, 1):
        rd = f"{out}/round_{r}"
        stages = [s for s in STAGES if not (s == "mine" and r == 1)]
        assert {f"round_{r}/{s}.done" for s in stages} <= files, sorted(files)
        for encoder in ("query_encoder", "passage_encoder"):
            assert f"round_{r}/mdpr/final/{encoder}/config.json" in files
        assert f"round_{r}/mgen/final/rayqa_config.yaml" in files
        assert f"round_{r}/index/manifest.json" in files
        # Inference (the Serve app) loads what the manifest names: round 0's queries.
        manifest = json.loads(storage.read_text(f"{rd}/index/manifest.json"))
        assert manifest["encoder"]["query_name_or_path"].endswith(
            "round_0/mdpr/final/query_encoder")
        assert storage.read_bytes(f"{rd}/retrieved_languages.png")[:4] == b"\x89PNG"
        train = read_jsonl(f"{rd}/retrieved.train.jsonl")
        selection = read_jsonl(f"{rd}/retrieved.selection.jsonl")
        n_selection = 3 * held_out_groups(n_train)
        assert len(selection) == n_selection
        assert not {row["id"] for row in selection} & {row["id"] for row in train}
        assert len(train) == n_train - n_selection and all(len(row["ctxs"]) == 2 for row in train)
        metrics = json.loads(storage.read_text(f"{rd}/metrics.json"))
        assert set(metrics["mgen"]) == set(LANGS)
        assert metrics["retrieval"]["avg"]["questions"] == n_dev
        assert metrics["query_encoder"].endswith("round_0/mdpr/final/query_encoder")
        assert metrics["passage_encoder"].endswith(f"round_{r}/mdpr/final/passage_encoder")
        # configs/cora.yaml scores with eval_xor_full.py's rules; predictions in its format.
        assert metrics["scoring"] == "xor"
        assert all(set(m) == {"f1", "em", "bleu"} for m in metrics["mgen"].values())
        for lang in LANGS:
            answered = json.loads(storage.read_text(f"{rd}/predictions.{lang}.json"))
            assert len(answered) == n_dev // 3
        # mGEN picks its checkpoint on the held-out selection questions (dev F1), mDPR
        # on their gold passages; neither trains on them.
        assert read_jsonl(f"{rd}/mgen_dev.jsonl") == selection
        assert len(read_jsonl(f"{rd}/mgen_train.jsonl")) == n_train - n_selection
        mgen_done = json.loads(storage.read_text(f"{rd}/mgen.done"))
        mdpr_done = json.loads(storage.read_text(f"{rd}/mdpr.done"))
        assert (mgen_done["selection"], mgen_done["selection_questions"]) == ("held_out",
                                                                             n_selection)
        assert mdpr_done["selection"] == "held_out"
        assert mdpr_done["selection_lines"] >= n_selection
        synthetic = read_jsonl(f"{rd}/mgen_synthetic.jsonl")
        # Each English training question once per other language (de, es), answer
        # translated, over its English passages; half of these lines kept. Round 0
        # adds them after its third epoch (never, in this one-epoch run), round 1 at once.
        english = (n_train - n_selection) // 3
        assert len(synthetic) == english == mgen_done["synthetic"]
        assert {row["lang"] for row in synthetic} == {"de", "es"}
        assert all(row["ctxs"] and len(row["ctxs"]) <= 2
                   and all(c["lang"] == "en" for c in row["ctxs"]) for row in synthetic)
        assert mgen_done["synthetic_from_epoch"] == (3 if r == 0 else 0)
    assert "round_1/mine.done" not in files

    labels = read_jsonl(f"{out}/round_0/mining/labels.jsonl")
    linked = [lab for lab in labels if lab["source"] == "language_link"]
    assert linked and all(lab["passage"]["lang"] != "en" for lab in linked)
    assert all(isinstance(lab["positive"], bool) and lab["prediction"] is not None
               for lab in labels)
    summary = json.loads(storage.read_text(f"{out}/round_0/mine.done"))
    assert summary["candidates"] == len(labels)
    # Round 0's mDPR data has one line per gold passage in the question's language or
    # English (XQuAD lists every language: non-English questions get two lines); round
    # 1's adds one per mined positive that is not a gold passage, and the mined
    # negatives as hard negatives.
    mdpr0 = read_jsonl(f"{out}/round_0/mdpr_train.jsonl")
    mdpr1 = read_jsonl(f"{out}/round_1/mdpr_train.jsonl")
    gold = {(row["id"].split("#")[0], row["positive_ctxs"][0]["id"]) for row in mdpr0}
    assert len(gold) == len(mdpr0) > n_train
    mined = {(lab["question_id"], lab["passage"]["id"]) for lab in labels if lab["positive"]}
    assert len(mdpr1) == len(gold | mined)
    if any(not lab["positive"] for lab in labels):
        assert any(row["hard_negative_ctxs"] for row in mdpr1)
    state = json.loads(storage.read_text(f"{out}/state.json"))
    assert state["status"] == "finished" and "mine" in state["finished"]["round_0"]
    assert_dev_retrieval_used_round0_query_encoder(out, 1, collection / "passages.jsonl")
    table = storage.read_text(f"{out}/results.md")
    assert "round 1 mGEN f1" in table and "round 0 R^multi@3" in table
    assert "results.csv" in files and "rayqa_config.yaml" in files
    assert not list(workdir.iterdir()) and not (root / "out").exists()  # nothing local

    # Rerun as after a kill between round 1's mGEN training and its marker: the mGEN
    # stage restores its Ray Train run (same run name, no new checkpoint, no retraining)
    # and evaluation runs again; every other stage is skipped.
    run_dir = f"{out}/round_1/mgen/ray/mgen_round1"
    kept = checkpoints(run_dir)
    assert kept
    markers = marker_times(out)
    redo = {"round_1/mgen.done", "round_1/evaluate.done"}
    for marker in redo:
        storage.delete(f"{out}/{marker}")
    capsys.readouterr()
    main(argv)
    log = capsys.readouterr().out
    assert log.count("done before, skipped") == len(markers) - 2
    assert "round 1 mgen: {" in log and "round 1 evaluate: {" in log
    assert checkpoints(run_dir) == kept
    again = marker_times(out)
    assert set(again) == set(markers)  # the redone markers are back
    assert all(again[m] == t for m, t in markers.items() if m not in redo)
