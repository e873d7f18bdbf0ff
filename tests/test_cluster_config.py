"""cluster.yaml checked the way `ray up` checks it, before any cloud call.

`ray up` fills the provider's defaults into the file (`prepare_config`) and validates
the result against Ray's own schema, `ray/autoscaler/ray-schema.json`
(`validate_config`); both run here without AWS. A copy with a misspelled key must fail
the same check, or the check proves nothing.
"""

import tomllib
from pathlib import Path

import pytest
import yaml
from jsonschema import ValidationError
from ray.autoscaler._private.util import prepare_config, validate_config

REPO = Path(__file__).resolve().parents[1]
CLUSTER_YAML = REPO / "cluster.yaml"


def check_cluster_file(path: Path) -> dict:
    """The config of ``path`` with the provider's defaults, validated as `ray up` does."""
    config = prepare_config(yaml.safe_load(path.read_text(encoding="utf-8")))
    validate_config(config)
    return config


def test_cluster_yaml_passes_rays_schema():
    config = check_cluster_file(CLUSTER_YAML)
    assert config["provider"]["type"] == "aws"
    assert set(config["available_node_types"]) == {"head", "gpu_worker"}


@pytest.mark.parametrize("key, typo", [
    ("max_workers:", "max_worker:"),          # top level
    ("    min_workers:", "    min_worker:"),  # inside a node type
    ("head_node_type:", "head_node:"),        # a required key gone
])
def test_a_misspelled_key_fails(tmp_path, key, typo):
    text = CLUSTER_YAML.read_text(encoding="utf-8")
    assert text.count(f"\n{key}") == 1
    broken = tmp_path / "cluster.yaml"
    broken.write_text(text.replace(f"\n{key}", f"\n{typo}"), encoding="utf-8")
    with pytest.raises((ValidationError, ValueError)):
        check_cluster_file(broken)


def test_workers_can_reach_shared_storage():
    """Train workers and encoder actors write checkpoints and shards to S3 themselves,
    and `ray up` gives only the head an instance profile."""
    config = yaml.safe_load(CLUSTER_YAML.read_text(encoding="utf-8"))
    workers = {name: spec for name, spec in config["available_node_types"].items()
               if name != config["head_node_type"]}
    assert workers
    for spec in workers.values():
        assert spec["node_config"]["IamInstanceProfile"]


def test_setup_installs_an_extra_the_package_has():
    config = yaml.safe_load(CLUSTER_YAML.read_text(encoding="utf-8"))
    extras = tomllib.loads((REPO / "pyproject.toml").read_text())["project"][
        "optional-dependencies"]
    installs = [cmd for cmd in config["setup_commands"] if "pip install -e" in cmd]
    assert installs == ['pip install -e "/home/ubuntu/rayqa[gpu]"']
    assert any(req.startswith("faiss-gpu") for req in extras["gpu"])
