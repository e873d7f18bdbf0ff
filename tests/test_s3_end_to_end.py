"""Every artifact on object storage: train -> export -> index -> Serve -> answer, with the
model, data, checkpoints, export and index all under ``s3://rayqa-test/...`` on a real
S3 server (moto) and nothing written to local disk but caches."""

import json
from pathlib import Path

import httpx
import pytest

from rayqa import storage
from rayqa.data.squad import read_squad, write_squad
from rayqa.demo import demo_file
from rayqa.testing.tiny import build_tiny_reader

pytestmark = pytest.mark.ray
PORT = 8124
LANGS = {"en", "de", "zh"}
CONFIGS = Path(__file__).resolve().parents[1] / "configs"


@pytest.fixture(scope="module")
def inputs(s3_root, tmp_path_factory):
    """The initial tiny reader, training data and passages, uploaded to S3."""
    root = f"{s3_root}/e2e-inputs"
    local = tmp_path_factory.mktemp("e2e-src")
    examples = [e for e in read_squad(demo_file("train.json")) if e.lang in LANGS][::2]
    passages = [json.loads(line) for line in open(demo_file("passages.jsonl"), encoding="utf-8")
                if json.loads(line)["lang"] in LANGS]
    build_tiny_reader([e.context for e in examples] + [e.question for e in examples],
                      local / "init", hidden=64, layers=2, heads=2, intermediate=128)
    storage.upload_dir(local / "init", f"{root}/init")
    write_squad(examples, f"{root}/train.json")  # written straight to S3
    storage.write_text(f"{root}/passages.jsonl", "".join(
        json.dumps(p, ensure_ascii=False) + "\n" for p in passages))
    return root, examples


def test_train_export_index_serve_answer_all_on_s3(ray_local, inputs, s3_dir, tmp_path,
                                                   monkeypatch):
    from ray import serve

    from jobs.build_index import main as build_index
    from jobs.train import main as train
    from rayqa.serve.app import start

    source, examples = inputs
    workdir = tmp_path / "cwd"
    workdir.mkdir()
    monkeypatch.chdir(workdir)  # relative local paths would land here
    reader, index = f"{s3_dir}/reader", f"{s3_dir}/index"

    result = train(["--config", str(CONFIGS / "reader.yaml"), f"output_dir={reader}",
                    f"model.name_or_path={source}/init", "model.max_seq_length=192",
                    "model.doc_stride=64", f"data.train_files=[{source}/train.json]",
                    f"data.dev_files=[{source}/train.json]", "train.run_name=s3",
                    "train.num_workers=2", "train.batch_size=8", "train.epochs=2",
                    "train.lr=2e-3", "train.checkpoint_every_steps=3"])
    assert result.error is None
    assert result.checkpoint.path.startswith("rayqa-test/")  # Ray Train wrote to S3
    final = f"{reader}/final"
    files = storage.list_files(final)
    assert {"manifest.json", "rayqa_config.yaml", "config.json"} <= set(files)
    assert not [f for f in files if f.startswith(("deepspeed/", "rng/"))]
    assert storage.list_files(f"{reader}/ray/s3")  # checkpoints under output_dir/ray

    build_index(["--config", str(CONFIGS / "index.yaml"), f"output_dir={index}",
                 f"passages_files=[{source}/passages.jsonl]",
                 f"encoder.name_or_path={final}", "encoder.max_length=64",
                 "encoder.batch_size=8", "encoder.cpus_per_actor=0.5", "index.factory=Flat"])
    assert storage.is_file(f"{index}/manifest.json")

    try:
        start({"index_dir": index, "reader_dir": final, "retriever_mode": "hybrid",
               "ingress": {"num_cpus": 0.25},
               "retriever": {"num_cpus": 0.25, "max_batch_size": 4},
               "reader": {"num_cpus": 0.25, "max_batch_size": 4}},
              host="127.0.0.1", port=PORT)
        question = examples[0]
        reply = httpx.post(f"http://127.0.0.1:{PORT}/v1/answer", timeout=120,
                           json={"question": question.question, "lang": question.lang,
                                 "top_k": 3})
    finally:
        serve.shutdown()
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert len(body["passages"]) == 3 and isinstance(body["answer"], str)
    assert any(body["answer"] and body["answer"] in p["text"] for p in body["passages"])
    assert not list(workdir.iterdir())  # nothing landed on local disk
