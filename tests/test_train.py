"""Reader training on the shared local Ray: 2 DeepSpeed workers on a learnable task with
held-out names (loss, a dev F1 far above the untrained reader's, export), and one
uninterrupted run that a run whose worker is SIGKILLed must end as. That uninterrupted
run keeps every artifact on object storage (a moto S3 server): its export is indexed,
served and answers a question, with nothing written to local disk but caches. The helpers for
stop-and-resume runs (``stop_then_resume``, ``assert_resume_equals_not_stopping``) serve
the other jobs' tests (multi-task reader, mDPR, mGEN, Dual BERT)."""

import json
import os
import signal
import threading
import time
import uuid
from pathlib import Path
from types import SimpleNamespace

import httpx
import psutil
import pytest

from rayqa import storage
from rayqa.config import ConfigError
from rayqa.data.squad import read_squad, write_squad
from rayqa.testing.learnable import reader_task
from tests.learning import SEED, reader_f1, reported, task_files, untrained_and_trained

pytestmark = pytest.mark.ray
CONFIGS = Path(__file__).resolve().parents[1] / "configs"
REPO_CONFIG = str(CONFIGS / "reader.yaml")
LANGS = ("en", "de", "ru")
PORT = 8124  # the Serve app of the S3 test; not Serve's default 8000


@pytest.fixture(scope="module")
def tiny_setup(tmp_path_factory):
    """The learnable reader task (``rayqa.testing.learnable.reader_task``): 600 training
    and 90 held-out dev questions (en, de, ru) whose names and values are words training
    never uses, and a tiny reader."""
    root = tmp_path_factory.mktemp("train")
    train, dev = reader_task(SEED, "train", 600), reader_task(SEED, "dev", 90)
    task_files(root, train, dev, vocab_size=500, hidden=64, intermediate=128)
    return root


def overrides(root, **extra):
    base = {
        "output_dir": root / "out", "model.name_or_path": root / "init",
        "model.max_seq_length": 192, "model.doc_stride": 64,
        "data.train_files": f"[{root / 'train.json'}]",
        "data.dev_files": f"[{root / 'train.json'}]",
        "train.run_name": "t", "train.num_workers": 2, "train.batch_size": 8,
        "train.epochs": 2, "train.lr": 2e-3, "train.warmup_ratio": 0.2,
        "train.deepspeed.zero_stage": 2, "train.log_every": 5,
        "train.checkpoints_to_keep": "null",
        # Step checkpoints, so that a killed worker costs only a few steps (the runs of
        # this file set STEP_CHECKPOINTS; test_multitask_train.py turns them off).
        "train.checkpoint_every_steps": 4, "train.max_failures": 2,
    }
    base.update(extra)
    return [f"{k}={v}" for k, v in base.items()]


STEP_CHECKPOINTS = 25


def learning_overrides(root, **extra):
    """``overrides`` for the learnable task: short windows, 4 epochs of 2 workers x 8
    windows (~150 steps), dev evaluated after epochs 2 and 4, a step checkpoint every
    ``STEP_CHECKPOINTS`` steps (a killed worker costs at most that many)."""
    return overrides(root, **{
        "model.max_seq_length": 64, "model.doc_stride": 16, "model.max_query_length": 16,
        "data.dev_files": f"[{root / 'dev.json'}]", "train.seed": SEED,
        "train.epochs": 4, "train.checkpoint_every": 2, "train.warmup_ratio": 0.1,
        "train.log_every": 50, "train.checkpoint_every_steps": STEP_CHECKPOINTS, **extra})


def run_job(args):
    from jobs.train import main

    return main(["--config", REPO_CONFIG, *args])


# Relative tolerance of a resumed run's per-step losses against the run that never
# stopped: same data order, dropout (RNG restored) and optimizer state leave only float
# summation order, far below what one step changes (``assert_resume_equals_not_stopping``
# checks that too).
LOSS_RTOL = 1e-3


def final_state(result) -> dict:
    """``train_state.json`` of a run's latest checkpoint."""
    with result.checkpoint.as_directory() as directory:
        return json.loads(Path(directory, "train_state.json").read_text())


def stop_then_resume(run_job, args: list[str], stop: int) -> dict:
    """Runs ``args`` with ``train.stop_at_step=stop``, then again without the stop (the
    same run name resumes); returns the final train state."""
    stopped = final_state(run_job([*args, f"train.stop_at_step={stop}"]))
    assert stopped["step"] == stop and stopped["resumed_at"] == []
    assert stopped["schedule"]["total"] > stop  # the stop left the schedule as planned
    return final_state(run_job(args))


def assert_resume_equals_not_stopping(resumed: dict, clean: dict, stop: int) -> None:
    """The run stopped at ``stop`` and resumed ended as the one that never stopped: same
    optimizer steps, the same LR at every one of them, the same losses (``LOSS_RTOL``)."""
    assert clean["resumed_at"] == [] and resumed["resumed_at"] == [stop]
    assert resumed["schedule"] == clean["schedule"]
    assert resumed["step"] == clean["step"] == clean["schedule"]["total"]
    assert resumed["history"]["step"] == clean["history"]["step"]
    assert resumed["history"]["lr"] == pytest.approx(clean["history"]["lr"], rel=1e-9)
    assert resumed["history"]["loss"] == pytest.approx(clean["history"]["loss"], rel=LOSS_RTOL)
    losses = clean["history"]["loss"]
    changes = [abs(a - b) / a for a, b in zip(losses, losses[1:])]
    assert max(changes) > 10 * LOSS_RTOL, changes  # a step moves the loss far more


@pytest.fixture(scope="module")
def clean_run(ray_local, tiny_setup, s3_root, tmp_path_factory):
    """Four epochs that nothing interrupts, every artifact on S3: the initial reader and
    the data are read from ``<root>``, checkpoints and the export (``<root>/out/final``)
    written there. Runs in an empty working directory (relative local paths would land
    there); returns the result, ``root`` and what that directory holds afterwards.

    (The S3 run was a test of its own, test_s3_end_to_end.py, training the same reader
    job again with the same settings, and the learning check was a 1-worker fit in
    test_learning.py; one fit now serves all three.)
    """
    from jobs.train import main

    root = f"{s3_root}/train-{uuid.uuid4().hex[:8]}"
    storage.upload_dir(tiny_setup / "init", f"{root}/init")
    for split in ("train", "dev"):  # written straight to S3
        write_squad(read_squad(tiny_setup / f"{split}.json"), f"{root}/{split}.json")
    workdir, cwd = tmp_path_factory.mktemp("cwd"), os.getcwd()
    os.chdir(workdir)
    try:
        result = main(["--config", REPO_CONFIG, *learning_overrides(tiny_setup, **{
            "output_dir": f"{root}/out", "model.name_or_path": f"{root}/init",
            "data.train_files": f"[{root}/train.json]",
            "data.dev_files": f"[{root}/dev.json]"})])
    finally:
        os.chdir(cwd)
    return SimpleNamespace(result=result, root=root, local=sorted(workdir.iterdir()))


def evaluated(result) -> list[dict]:
    """Metrics of the run's evaluated (epoch) checkpoints, by step."""
    return sorted((m for _, m in result.best_checkpoints if "dev_f1" in m),
                  key=lambda m: m["step"])


def test_two_workers_loss_decreases_learns_unseen_spans_and_the_export_loads(clean_run,
                                                                            tiny_setup):
    """Loss, dev metrics, held-out learning and export, all on S3. A reader run stopped
    and resumed (re-created trainer, same run name) ends as one never stopped:
    test_multitask_train.py, whose job is this one with auxiliary tasks; a ZeRO-2 reader
    restored after a lost worker: the killed-worker test below."""
    result = clean_run.result
    checkpoints = evaluated(result)
    losses = [metrics["train_loss"] for metrics in checkpoints]
    assert len(losses) == 2, result.error
    assert losses[-1] < losses[0], losses
    assert all(f"dev/{lang}/f1" in checkpoints[-1] for lang in LANGS)

    assert result.error is None
    assert result.checkpoint.path.startswith("rayqa-test/")  # Ray Train wrote to S3
    assert storage.list_files(f"{clean_run.root}/out/ray/t")  # checkpoints under output_dir/ray
    final = f"{clean_run.root}/out/final"
    files = storage.list_files(final)
    assert {"manifest.json", "rayqa_config.yaml", "config.json"} <= set(files)
    assert not [f for f in files if f.startswith(("deepspeed/", "rng/"))]
    assert clean_run.local == []  # nothing landed on local disk
    from transformers import AutoModelForQuestionAnswering, AutoTokenizer

    local = Path(storage.local_model(final))  # a verified copy in the cache
    AutoTokenizer.from_pretrained(local)
    AutoModelForQuestionAnswering.from_pretrained(local)

    dev = read_squad(tiny_setup / "dev.json")
    untrained, trained = untrained_and_trained(reader_f1, tiny_setup / "init", local, dev,
                                               "reader")
    # Seed 0, one worker and 200 steps (test_learning.py before this test took over):
    # untrained 11.7-12.4, trained 80.9-86.4 (a random span scores a few points). Seed
    # 1: 2.6, trained 84.2.
    assert untrained < 25, untrained
    assert trained >= 60 and trained >= untrained + 40, (untrained, trained)
    # One dev question is 100 / 30 F1 points of its language, 1.1 of the mean.
    assert reported(result, "dev_f1") == pytest.approx(trained, abs=1.2)


def _cmdline(process: psutil.Process) -> list[str]:
    try:
        return process.cmdline()
    except psutil.Error:  # exited meanwhile
        return []


def _registered_checkpoint(snapshot: Path) -> bool:
    try:
        return json.loads(snapshot.read_text()).get("latest_checkpoint_result") is not None
    except (OSError, ValueError):  # not written yet, or being replaced
        return False


def kill_one_worker_after_first_checkpoint(run_dir: Path, killed: list, deadline: float):
    """SIGKILLs a Ray Train worker process once the run has registered a checkpoint.

    A checkpoint counts once Ray Train's controller has recorded it in its snapshot: a
    directory that is uploaded but not yet reported would not be resumed from.
    """
    snapshot = run_dir / "checkpoint_manager_snapshot.json"
    while time.monotonic() < deadline:
        if _registered_checkpoint(snapshot):
            # Only this session's Ray (its raylet is a child of this process).
            workers = [p for p in psutil.Process().children(recursive=True)
                       if any("RayTrainWorker" in part for part in _cmdline(p))]
            if workers:
                os.kill(workers[-1].pid, signal.SIGKILL)
                killed.append(workers[-1].pid)
                return
        time.sleep(0.1)


def test_killed_worker_run_restarts_and_matches_the_uninterrupted_run(clean_run, tiny_setup):
    """A local run of the clean run's settings (its storage does not enter the losses)."""
    killed: list[int] = []
    watcher = threading.Thread(target=kill_one_worker_after_first_checkpoint, args=(
        tiny_setup / "killed" / "ray" / "killed", killed, time.monotonic() + 600))
    watcher.start()
    result = run_job(learning_overrides(tiny_setup, **{"train.run_name": "killed",
                                                       "output_dir": tiny_setup / "killed"}))
    watcher.join()
    state, clean = final_state(result), final_state(clean_run.result)

    assert killed, "no worker was killed: the run finished before its first checkpoint?"
    assert result.error is None
    # Restarted from a step checkpoint by Ray Train's FailureConfig.
    assert len(state["resumed_at"]) == 1 and state["resumed_at"][0] % STEP_CHECKPOINTS == 0
    # Same optimizer steps, the same learning rate at every one of them, the same losses
    # (data order, dropout RNG and optimizer state restored).
    assert_resume_equals_not_stopping(state, clean, state["resumed_at"][0])
    assert (tiny_setup / "killed" / "final" / "manifest.json").is_file()


def test_predict_cli_writes_official_format(clean_run, tiny_setup, tmp_path):
    from rayqa.cli import main

    out = tmp_path / "pred.json"
    assert main(["predict", "--model", f"{clean_run.root}/out/final",
                 "--data", str(tiny_setup / "train.json"), "--out", str(out)]) == 0
    predictions = json.loads(out.read_text(encoding="utf-8"))
    examples = read_squad(tiny_setup / "train.json")
    assert set(predictions) == {e.id for e in examples}
    contexts = {e.id: e.context for e in examples}
    assert all(answer in contexts[qid] for qid, answer in predictions.items())


def test_the_s3_export_is_indexed_served_and_answers(clean_run, tiny_setup, s3_dir, tmp_path,
                                                     monkeypatch):
    """train -> export -> index -> Serve -> answer with the model, passages (the dev
    contexts) and index all under ``s3://rayqa-test/...`` and nothing written to local
    disk but caches."""
    from ray import serve

    from jobs.build_index import main as build_index
    from rayqa.serve.app import start

    dev = read_squad(tiny_setup / "dev.json")
    passages = f"{s3_dir}/passages.jsonl"
    storage.write_text(passages, "".join(json.dumps(
        {"id": e.id, "title": e.title, "text": e.context, "lang": e.lang},
        ensure_ascii=False) + "\n" for e in dev))
    workdir = tmp_path / "cwd"
    workdir.mkdir()
    monkeypatch.chdir(workdir)  # relative local paths would land here
    final, index = f"{clean_run.root}/out/final", f"{s3_dir}/index"
    build_index(["--config", str(CONFIGS / "index.yaml"), f"output_dir={index}",
                 f"passages_files=[{passages}]", f"encoder.name_or_path={final}",
                 "encoder.max_length=64", "encoder.batch_size=8", "encoder.cpus_per_actor=0.5",
                 "index.factory=Flat"])
    assert storage.is_file(f"{index}/manifest.json")

    try:
        start({"index_dir": index, "reader_dir": final, "retriever_mode": "hybrid",
               "ingress": {"num_cpus": 0.25},
               "retriever": {"num_cpus": 0.25, "max_batch_size": 4},
               "reader": {"num_cpus": 0.25, "max_batch_size": 4}},
              host="127.0.0.1", port=PORT)
        question = dev[0]
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


def test_bad_override_names_the_key(tiny_setup):
    with pytest.raises(ConfigError, match=r"train\.epochs"):
        run_job(overrides(tiny_setup, **{"train.epochs": "many"}))
    with pytest.raises(ConfigError, match=r"train\.learning_rate"):
        run_job(overrides(tiny_setup, **{"train.learning_rate": 0.1}))
