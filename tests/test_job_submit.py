"""`ray job submit --working-dir . -- python jobs/train.py` against a `ray start --head`.

The head runs in its own session (token auth, as Ray 2.60 enables it) with `--block`, so
terminating that one process tears its cluster down without touching the shared local
Ray of the other integration tests (`ray stop` would kill every Ray on the machine).
"""

import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from rayqa.data.squad import read_squad, write_squad
from rayqa.demo import demo_file
from rayqa.testing.tiny import build_tiny_reader

pytestmark = [pytest.mark.ray, pytest.mark.nodes]
REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def head_env():
    """Environment of a fresh token-authenticated head node, torn down afterwards."""
    env = {**os.environ, "RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": secrets.token_hex(32),
           "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}", "HF_HUB_OFFLINE": "1"}
    env.pop("RAY_ADDRESS", None)
    # A raylet whose agents write their ports later than Ray's fixed 15 s (a loaded
    # machine: the other test process training) exits at start (ray-project/ray#65983):
    # such a start is retried, a head that came up and failed later is not.
    for attempt in range(1, START_ATTEMPTS + 1):
        head, env["RAY_ADDRESS"] = start_head(env)
        try:
            wait_for_jobs_api(env, head)
            break
        except HeadExitedEarly:
            stop_node(head)
            if attempt == START_ATTEMPTS:
                pytest.fail(f"ray start --head exited early, {START_ATTEMPTS} times")
        except BaseException:
            stop_node(head)
            raise
    try:
        yield env
    finally:
        stop_node(head)


START_ATTEMPTS = 3


class HeadExitedEarly(Exception):
    """`ray start --head` ended before its job API answered."""


def start_head(env: dict) -> tuple[subprocess.Popen, str]:
    """A `ray start --head --block` node on ports of its own; returns it and its
    dashboard address."""
    dashboard = free_port()
    # Every fixed default port may be held by the session's other Ray instance (its
    # dashboard agent listens on 52365, for one): give this head its own.
    ports = [f"--{name}={free_port()}" for name in (
        "port", "dashboard-agent-listen-port", "dashboard-agent-grpc-port",
        "metrics-export-port", "runtime-env-agent-port", "ray-client-server-port")]
    head = subprocess.Popen(
        [str(BIN / "ray"), "start", "--head", "--block", *ports,
         f"--dashboard-port={dashboard}", "--num-cpus=2", "--include-dashboard=true",
         "--disable-usage-stats", f"--temp-dir={tempfile.mkdtemp(prefix='rayqa-head-')}"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    return head, f"http://127.0.0.1:{dashboard}"


def stop_node(process: subprocess.Popen, grace: float = 5) -> None:
    """Stops a `ray start --block` node started in a session of its own: SIGTERM, then
    SIGKILL to its whole process group after `grace` seconds (its graceful shutdown
    takes 15-30 s here, and nothing of a finished test's node needs saving)."""
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        pass
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.wait(timeout=60)


def wait_for_jobs_api(env: dict, head: subprocess.Popen, timeout: float = 180) -> None:
    """Until a trivial job runs: the dashboard answers before the node's job agent does."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if head.poll() is not None:
            raise HeadExitedEarly()
        probe = subprocess.run([str(BIN / "ray"), "job", "submit", "--", "python", "-c", "0"],
                               env=env, capture_output=True, text=True)
        if probe.returncode == 0:
            return
        time.sleep(2)
    pytest.fail(f"the head's job API did not come up: {(probe.stdout + probe.stderr)[-2000:]}")


def test_job_submit_trains_and_exports(head_env, tmp_path):
    examples = [e for e in read_squad(demo_file("train.json")) if e.lang in {"en", "ru"}]
    write_squad(examples, tmp_path / "train.json")
    build_tiny_reader([e.context for e in examples] + [e.question for e in examples],
                      tmp_path / "init")
    out = tmp_path / "out"
    result = subprocess.run(
        [str(BIN / "ray"), "job", "submit", "--working-dir", ".", "--",
         "python", "jobs/train.py", "--config", "configs/reader.yaml",
         f"model.name_or_path={tmp_path / 'init'}", f"output_dir={out}",
         f"data.train_files=[{tmp_path / 'train.json'}]", "data.dev_files=[]",
         "model.max_seq_length=192", "model.doc_stride=64", "train.epochs=1",
         "train.max_steps=4", "train.batch_size=4", "train.run_name=submitted",
         "train.num_workers=1"],
        cwd=REPO, env=head_env, capture_output=True, text=True, timeout=600)
    log = result.stdout + result.stderr
    assert result.returncode == 0, log[-4000:]
    assert "succeeded" in log
    assert (out / "final" / "model.safetensors").is_file()
    assert (out / "final" / "rayqa_config.yaml").is_file()
