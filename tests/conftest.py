"""Shared fixtures: where ../shared lives, NLTK data, and the one local Ray instance."""

import os
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


@pytest.fixture(scope="session")
def ray_local():
    """One local Ray instance for every integration test of the session."""
    import ray

    if not ray.is_initialized():
        ray.init(address="local", num_cpus=2, include_dashboard=False,
                 log_to_driver=False, runtime_env={"env_vars": {"HF_HUB_OFFLINE": "1"}})
    yield ray
    try:
        from ray import serve

        serve.shutdown()
    except Exception:  # serve may never have started
        pass
    ray.shutdown()
