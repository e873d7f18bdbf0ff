"""The index build on a two-node local cluster, driven as a cluster user drives it.

`ray start --head` plus a second `ray start --address` on the same machine, each node
with its own `--temp-dir` (Ray allows one per node), token authentication (as Ray 2.60
enables it on local clusters), and the second node carrying a custom resource and a
label. Drivers are `python jobs/build_index.py` subprocesses joining the cluster
through `RAY_ADDRESS`, started in a working directory of their own with a *relative*
`output_dir`: the encoder actors, pinned to the second node, run in theirs, so the
build works only if locations are made absolute before they travel (the actors of the
code before the streaming build wrote their shards under their own working directory,
and the driver then found them missing). Both nodes run with `--block` in their own
sessions and are stopped by signalling those processes, never with `ray stop` (which
would stop every Ray on the machine, the session's shared one included).

Tests: the pinned build answers queries; a driver killed (SIGKILL) after its first unit
is rerun and encodes only the missing units; and the driver's peak RSS stays flat from
10k to 100k passages (`bench/scale.py` at small sizes, model-free hashing encoder).
"""

import json
import os
import re
import secrets
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
import yaml

from rayqa.testing.tiny import build_tiny_reader
from rayqa.retrieval.retriever import Retriever
from test_job_submit import BIN, REPO, free_port, stop_node

pytestmark = [pytest.mark.ray, pytest.mark.nodes]
LABEL = {"rayqa-role": "encoder"}
RESOURCE = "encoder_slot"
_NODES = ("import json, ray\nray.init()\n"
          "print(json.dumps([{'id': n['NodeID'], 'labels': n.get('Labels', {}), "
          "'resources': n['Resources']} for n in ray.nodes() if n['Alive']]))\n")


def _node_ports() -> list[str]:
    """Ports of one node's agents: the fixed defaults may be held by the session's Ray."""
    return [f"--{name}={free_port()}" for name in (
        "node-manager-port", "object-manager-port", "dashboard-agent-listen-port",
        "dashboard-agent-grpc-port", "metrics-export-port", "runtime-env-agent-port")]


def _start(args: list[str], env: dict) -> subprocess.Popen:
    return subprocess.Popen([str(BIN / "ray"), "start", "--block", "--disable-usage-stats",
                             *args, *_node_ports()], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)


def _nodes(env: dict) -> list[dict]:
    result = subprocess.run([sys.executable, "-c", _NODES], env=env, capture_output=True,
                            text=True, timeout=120)
    return json.loads(result.stdout.splitlines()[-1]) if result.returncode == 0 else []


@pytest.fixture(scope="module")
def cluster():
    """Environment of a driver of the two-node cluster; the second node's id."""
    # Short temp dirs: Ray's socket paths live under them and must stay under ~100 bytes.
    head_dir, worker_dir = tempfile.mkdtemp(prefix="rqh"), tempfile.mkdtemp(prefix="rqw")
    env = {**os.environ, "RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": secrets.token_hex(32),
           "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}", "HF_HUB_OFFLINE": "1"}
    env.pop("RAY_ADDRESS", None)
    # A node whose agents write their ports later than Ray's fixed 15 s (a loaded
    # machine) exits at start (ray-project/ray#65983): the cluster start is retried.
    for attempt in range(1, START_ATTEMPTS + 1):
        head, worker, nodes = _start_cluster(env, head_dir, worker_dir)
        if len(nodes) == 2:
            break
        for process in (worker, head):
            stop_node(process)
        if attempt == START_ATTEMPTS:
            pytest.fail(f"the two-node cluster did not come up: {nodes}")
    try:
        second = [n["id"] for n in nodes if n["labels"].get("rayqa-role") == "encoder"]
        assert len(second) == 1, nodes
        yield env, second[0]
    finally:
        for process in (worker, head):
            stop_node(process)


START_ATTEMPTS = 3


def _start_cluster(env: dict, head_dir: str, worker_dir: str) -> tuple:
    """Head and second node; returns them and the alive nodes (fewer than 2: failed)."""
    gcs = free_port()
    head = _start(["--head", f"--port={gcs}", f"--ray-client-server-port={free_port()}",
                   "--num-cpus=1", "--include-dashboard=false", f"--temp-dir={head_dir}"], env)
    worker = _start([f"--address=127.0.0.1:{gcs}", "--num-cpus=2",
                     f"--resources={json.dumps({RESOURCE: 2})}",
                     f"--labels={','.join(f'{k}={v}' for k, v in LABEL.items())}",
                     f"--temp-dir={worker_dir}"], env)
    env["RAY_ADDRESS"] = f"127.0.0.1:{gcs}"
    deadline = time.monotonic() + 120
    while len(nodes := _nodes(env)) < 2:
        if time.monotonic() > deadline or head.poll() is not None or worker.poll() is not None:
            return head, worker, nodes
        time.sleep(2)
    return head, worker, nodes


@pytest.fixture(scope="module")
def encoder_dir(tmp_path_factory):
    texts = [f"title {i} river mountain city history Fluss Berg город 河流" for i in range(50)]
    return str(build_tiny_reader(texts, tmp_path_factory.mktemp("encoder"), vocab_size=300))


def _passages(path: Path, n: int) -> Path:
    words = "river mountain city history music Fluss Berg Stadt город гора 河流 山脉".split()
    path.write_text("".join(json.dumps({
        "id": f"p{i}", "title": f"title {i}", "lang": ["en", "de", "ru", "zh"][i % 4],
        "text": " ".join(words[(i + j) % len(words)] for j in range(8 + i % 5))},
        ensure_ascii=False) + "\n" for i in range(n)), encoding="utf-8")
    return path


def _config(workdir: Path, encoder: str, passages: Path, **encoder_keys) -> Path:
    config = workdir / "index.yaml"
    config.write_text(yaml.safe_dump({
        "output_dir": "index",  # relative to the driver's working directory
        "passages_files": [str(passages)],
        "encoder": {"name_or_path": encoder, "max_length": 32, "batch_size": 8,
                    "cpus_per_actor": 1.0, "resources": {RESOURCE: 1},
                    "label_selector": LABEL, **encoder_keys},
        "index": {"bm25": True}}), encoding="utf-8")
    return config


def _driver(config: Path, env: dict, **popen) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, str(REPO / "jobs" / "build_index.py"),
                             "--config", str(config)], cwd=config.parent, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            **popen)


def test_actors_pinned_to_the_second_node_build_a_relative_output_dir(cluster, encoder_dir,
                                                                      tmp_path):
    env, second = cluster
    config = _config(tmp_path, encoder_dir, _passages(tmp_path / "passages.jsonl", 60),
                     shard_mb=0.002)
    log, _ = _driver(config, env).communicate(timeout=300)
    assert "encoded" in log, log[-4000:]
    out = tmp_path / "index"
    units = [json.loads(p.read_text()) for p in sorted((out / "units").glob("unit-*.json"))]
    assert len(units) > 1 and {u["node"] for u in units} == {second}
    hits = Retriever(out, mode="hybrid", device="cpu").search(["title 7"], ["en"], 3)[0]
    assert len(hits) == 3 and all(h["text"] for h in hits)


def test_killed_build_reruns_only_the_missing_units(cluster, encoder_dir, tmp_path):
    env, _ = cluster
    # One actor and units of a few passages each: the driver dies with most units to go.
    config = _config(tmp_path, encoder_dir, _passages(tmp_path / "passages.jsonl", 300),
                     shard_mb=0.002, num_actors=1)
    units = tmp_path / "index" / "units"
    driver = _driver(config, env, start_new_session=True)
    while not (units.is_dir() and list(units.glob("unit-*.json"))) and driver.poll() is None:
        time.sleep(0.05)
    if driver.poll() is None:
        os.killpg(driver.pid, signal.SIGKILL)
    assert driver.wait() in (-signal.SIGKILL, 0), driver.communicate()[0][-4000:]
    _wait_until_settled(units)
    done = {p.name: p.stat().st_mtime_ns for p in units.glob("unit-*.json")}
    plan = json.loads((tmp_path / "index" / "plan.json").read_text())
    # Usually most units are still to do when the kill lands; on a machine fast enough
    # to finish first the rerun has nothing to encode, and the checks below still hold.
    assert 0 < len(done) <= len(plan["units"])

    log, _ = _driver(config, env).communicate(timeout=300)
    total = len(plan["units"])
    found = re.search(r"encoded (\d+) of (\d+) units .*; (\d+) units were already done", log)
    assert found, log[-4000:]
    assert tuple(map(int, found.groups())) == (total - len(done), total, len(done))
    for name, mtime in done.items():
        assert (units / name).stat().st_mtime_ns == mtime  # not encoded again
    hits = Retriever(tmp_path / "index", mode="bm25").search(["title 299"], ["zh"], 1)[0]
    assert hits[0]["id"] == "p299"


def _wait_until_settled(directory: Path, timeout: float = 60) -> None:
    """Until the killed driver's actor (ended by Ray with its job) stops writing units."""
    deadline, seen = time.monotonic() + timeout, None
    while time.monotonic() < deadline:
        now = sorted(p.name for p in directory.glob("unit-*.json"))
        if now == seen:
            return
        seen = now
        time.sleep(2)


def test_driver_memory_stays_flat_as_the_corpus_grows(cluster, tmp_path):
    env, _ = cluster
    result = subprocess.run(
        [sys.executable, str(REPO / "bench" / "scale.py"), "--sizes", "10000,100000",
         "--passages-per-unit", "5000", "--workdir", str(tmp_path), "--json", "--no-replica",
         f"encoder.resources={{{RESOURCE}: 1.0}}", "encoder.cpus_per_actor=1.0"],
        env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, (result.stdout + result.stderr)[-4000:]
    facts = json.loads(result.stdout.splitlines()[-1])
    assert [row["passages"] for row in facts["sizes"]] == [10000, 100000]
    assert facts["driver_rss_ratio"] <= 1.2, facts
