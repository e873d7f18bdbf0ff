"""Shared fixtures: where ../shared lives, NLTK data, the one local Ray instance, and a
real S3-compatible store (moto in server mode) on loopback."""

import gc
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("RAYQA_SHARED", REPO.parent / "shared"))

# Nothing may be fetched at test time: models come from local directories only and NLTK
# reads the punkt data shipped in ../shared.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
if (SHARED / "data" / "nltk_data").is_dir():
    os.environ.setdefault("NLTK_DATA", str(SHARED / "data" / "nltk_data"))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# `make test` runs two pytest processes (pytest-xdist workers, a file each at a time), each
# with its own Ray, moto server, Ray temp root and artifact cache. The workers inherit the
# environment of the process that started them, so what this file chooses is kept under a
# name of its own process's (`PYTEST_XDIST_WORKER`); test modules that import
# `tests.conftest` run this file a second time in the same process and find it there.
PROCESS = os.environ.get("PYTEST_XDIST_WORKER", "main")


def _per_process(name: str, make) -> str:
    return os.environ.setdefault(f"RAYQA_TEST_{name}_{PROCESS}", make())


# S3 goes to the moto server of the `s3_root` fixture, never elsewhere. Set before Ray
# starts so that every Ray worker (they inherit this environment) talks to it too.
S3_ENDPOINT = _per_process("S3_ENDPOINT", lambda: f"http://127.0.0.1:{_free_port()}")
S3_BUCKET = "rayqa-test"
os.environ["AWS_ENDPOINT_URL"] = S3_ENDPOINT
os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
os.environ.setdefault("AWS_REGION", "us-east-1")
os.environ.setdefault("AWS_EC2_METADATA_DISABLED", "true")
# Remote artifacts are cached per test process, not in the user's home.
os.environ["RAYQA_CACHE"] = _per_process("CACHE",
                                         lambda: tempfile.mkdtemp(prefix="rayqa-test-cache-"))
# Each test process's Ray keeps its files under a temp root of its own. Code inside Ray
# workers that looks for "the" cluster (Ray Train's placement-group cleaner asks the
# state API on every poll) reads <temp root>/ray/ray_current_cluster: under /tmp/ray that
# may name a cluster that is gone (any earlier `ray start` on the machine writes it), or
# the other test process's, and every poll then waits out a GCS connect timeout, adding
# ~12 s to each fit.
os.environ["RAY_TMPDIR"] = _per_process("RAY_TMPDIR",
                                        lambda: tempfile.mkdtemp(prefix="rayqa-ray-"))
# Ray keeps idle worker processes up to a soft limit (num_cpus, 2 here) and kills the
# rest: while a fit's controller and train workers run, the warm task workers (torch and
# transformers imported, a featurizing step built) were killed, and the next job's
# featurizing tasks paid ~8 s of cold start again. A few more idle workers are kept.
os.environ.setdefault("RAY_num_workers_soft_limit", "6")
# Ray Train starts a preemption watcher actor per fit (it polls Ray Core for nodes being
# drained); no test drains a node, and each watcher costs ~4 CPU-seconds of imports on
# these 2 cores. Its feature flag turns it off in tests.
os.environ.setdefault("RAY_TRAIN_ENABLE_PREEMPTION_WATCHER", "0")


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    """Before a Ray test (and its fixtures, which may start a fit): collect garbage.

    pytest keeps a test's log records until the test ends, and Ray Data logs a failed
    execution's error with the frames that hold its actor pool; once the records are
    dropped those frames are cyclic garbage, and until Python collects them the pool
    keeps its CPUs. A fit in the next test then waited for them forever.
    """
    if item.get_closest_marker("ray") or "ray_local" in getattr(item, "fixturenames", ()):
        gc.collect()


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """The ../shared folder; tests that need it skip with a reason where it is absent.

    In CI it must be present, so a missing folder there is an error, not a skip.
    """
    if not (SHARED / "data").is_dir():
        if os.environ.get("CI"):
            pytest.fail(f"CI run without the shared data folder at {SHARED}")
        pytest.skip(f"needs the shared benchmark data at {SHARED} (set RAYQA_SHARED)")
    return SHARED


def _s3_env() -> dict[str, str]:
    return {key: os.environ[key] for key in ("AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID",
                                             "AWS_SECRET_ACCESS_KEY", "AWS_REGION",
                                             "AWS_DEFAULT_REGION", "AWS_EC2_METADATA_DISABLED",
                                             "RAYQA_CACHE")}


@pytest.fixture(scope="session")
def ray_local():
    """One local Ray instance for every integration test of the session."""
    import ray

    if not ray.is_initialized():
        ray.init(address="local", num_cpus=2, include_dashboard=False,
                 log_to_driver=False, runtime_env={"env_vars": {"HF_HUB_OFFLINE": "1", **_s3_env()}})
    yield ray
    try:
        from ray import serve

        serve.shutdown()
    except Exception:  # serve may never have started
        pass
    ray.shutdown()


@pytest.fixture(scope="session")
def s3_root():
    """``s3://rayqa-test``: a bucket on a moto S3 server started on 127.0.0.1 for the session.

    moto runs as its own process (``python -m moto.server``), a real HTTP S3 endpoint
    that pyarrow, Ray Train and Ray Data reach through ``AWS_ENDPOINT_URL``.
    """
    import pyarrow.fs as pafs

    port = S3_ENDPOINT.rsplit(":", 1)[1]
    server = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1",
                               "-p", port], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", int(port)), timeout=1).close()
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"moto server did not start on {S3_ENDPOINT}") from None
                time.sleep(0.2)
        # from_uri, as rayqa and Ray resolve locations: it reads AWS_ENDPOINT_URL.
        fs, _ = pafs.FileSystem.from_uri(f"s3://{S3_BUCKET}?allow_bucket_creation=true")
        fs.create_dir(S3_BUCKET)
        yield f"s3://{S3_BUCKET}"
    finally:
        server.terminate()
        server.wait(timeout=30)


@pytest.fixture
def s3_dir(s3_root, request):
    """A fresh prefix under ``s3://rayqa-test`` for one test."""
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "-", request.node.name)[:40]  # URIs reject "[s3]"
    return f"{s3_root}/{safe}-{uuid.uuid4().hex[:8]}"
