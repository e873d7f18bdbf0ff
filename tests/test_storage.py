"""rayqa.storage (locations, manifests, the cache) on local paths and on a real S3 server (moto)."""

import json

import pytest

from rayqa import storage
from rayqa.storage import read_manifest, write_manifest


@pytest.fixture(params=["local", "s3"])
def root(request, tmp_path):
    """The same tests on a local directory and on an S3 prefix."""
    if request.param == "local":
        return str(tmp_path / "store")
    return request.getfixturevalue("s3_dir")


def test_write_read_list_delete(root):
    storage.write_text(storage.join(root, "a", "b.txt"), "héllo")
    storage.write_bytes(storage.join(root, "c.bin"), b"\x00\x01")
    assert storage.read_text(storage.join(root, "a", "b.txt")) == "héllo"
    assert storage.is_file(storage.join(root, "c.bin"))
    assert storage.is_dir(storage.join(root, "a"))
    assert storage.list_files(root) == ["a/b.txt", "c.bin"]
    storage.delete(storage.join(root, "a"))
    assert storage.list_files(root) == ["c.bin"]
    assert not storage.exists(storage.join(root, "a", "b.txt"))


def test_missing_file_names_the_location(root):
    with pytest.raises(FileNotFoundError, match="nope.json"):
        storage.read_bytes(storage.join(root, "nope.json"))


def test_local_write_is_atomic_rename(tmp_path):
    target = tmp_path / "x" / "f.txt"
    storage.write_text(target, "one")
    storage.write_text(target, "two")
    assert target.read_text() == "two"
    assert [p.name for p in target.parent.iterdir()] == ["f.txt"]  # no temporaries left


def test_join_keeps_uris_and_paths():
    assert storage.join("s3://b/run", "final", "x.json") == "s3://b/run/final/x.json"
    assert storage.join("s3://b/run/", "final") == "s3://b/run/final"
    assert storage.join("runs/a", "b") == "runs/a/b"
    assert storage.name("s3://b/run/final/") == "final"
    assert storage.is_uri("gs://b/x") and not storage.is_uri("runs/x")
    assert storage.is_local("file:///tmp/x") and not storage.is_local("s3://b/x")


def test_absolute_makes_relative_paths_absolute(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert storage.absolute("runs/x") == str(tmp_path / "runs" / "x")
    assert storage.absolute("s3://b/runs/x") == "s3://b/runs/x"


def test_staged_dir_uploads_on_success_only(root, tmp_path):
    with storage.staged_dir(storage.join(root, "ok")) as local:
        (local / "sub").mkdir()
        (local / "sub" / "f.txt").write_text("data")
    assert storage.read_text(storage.join(root, "ok", "sub", "f.txt")) == "data"
    with pytest.raises(RuntimeError), storage.staged_dir(storage.join(root, "failed")) as local:
        (local / "f.txt").write_text("half")
        raise RuntimeError("boom")
    if not storage.is_local(root):  # a local staged dir is the target itself
        assert not storage.exists(storage.join(root, "failed"))


def test_manifest_round_trip_and_tamper(root):
    storage.write_text(storage.join(root, "idx", "data.txt"), "vectors")
    write_manifest(storage.join(root, "idx"), {"count": 3}, ["data.txt"])
    assert read_manifest(storage.join(root, "idx"))["count"] == 3
    storage.write_text(storage.join(root, "idx", "data.txt"), "changed")
    with pytest.raises(ValueError, match="data.txt: sha256 differs"):
        read_manifest(storage.join(root, "idx"))
    with pytest.raises(ValueError, match="no manifest"):
        read_manifest(storage.join(root, "elsewhere"))


def test_local_copy_downloads_once_and_follows_rebuilds(s3_dir):
    remote = storage.join(s3_dir, "model")
    storage.write_text(storage.join(remote, "config.json"), json.dumps({"v": 1}))
    write_manifest(remote, {}, ["config.json"])
    first = storage.local_copy(remote)
    assert json.loads((first / "config.json").read_text()) == {"v": 1}
    assert storage.local_copy(remote) == first  # cached: same manifest, same entry
    storage.write_text(storage.join(remote, "config.json"), json.dumps({"v": 2}))
    write_manifest(remote, {}, ["config.json"])  # rebuilt: new manifest, new entry
    second = storage.local_copy(remote)
    assert second != first and json.loads((second / "config.json").read_text()) == {"v": 2}


def test_local_copy_refuses_a_file_that_fails_its_checksum(s3_dir):
    remote = storage.join(s3_dir, "model")
    storage.write_text(storage.join(remote, "weights.bin"), "good")
    write_manifest(remote, {}, ["weights.bin"])
    storage.write_text(storage.join(remote, "weights.bin"), "truncat")
    with pytest.raises(ValueError, match="weights.bin: sha256 differs"):
        storage.local_copy(remote)


def test_local_copy_of_a_part_fetches_and_checks_only_that_part(s3_dir):
    remote = storage.join(s3_dir, "index")
    for name in ("shards/0/vectors", "shards/1/vectors", "shards/10/vectors", "ids"):
        storage.write_text(storage.join(remote, name), name)
    write_manifest(remote, {}, ["shards/0/vectors", "shards/1/vectors", "shards/10/vectors",
                                "ids"])
    storage.write_text(storage.join(remote, "shards/1/vectors"), "changed")  # not our part
    part = storage.local_copy(remote, include=("shards/0", "ids"))
    assert sorted(str(f.relative_to(part)) for f in part.rglob("*") if f.is_file()) == \
        ["ids", "manifest.json", "shards/0/vectors"]  # not shards/10: a path, not a prefix
    assert storage.local_copy(remote, include=("ids",)) != part  # its own cache entry
    with pytest.raises(ValueError, match="shards/1/vectors: sha256 differs"):
        storage.local_copy(remote, include=("shards/1",))


def test_local_copy_of_a_local_dir_is_the_dir(tmp_path):
    assert storage.local_copy(tmp_path) == tmp_path
    with pytest.raises(FileNotFoundError):
        storage.local_copy(tmp_path / "missing")


def test_local_model_checks_a_local_export_against_its_manifest(tmp_path):
    export = tmp_path / "final"
    export.mkdir()
    (export / "config.json").write_text('{"hidden_size": 8}')
    (export / "model.safetensors").write_bytes(b"weights")
    write_manifest(export, {"kind": "model"}, ["config.json", "model.safetensors"])
    assert storage.local_model(export) == str(export)
    (export / "model.safetensors").write_bytes(b"other weights")
    with pytest.raises(ValueError, match=r"model\.safetensors: sha256 differs"):
        storage.local_model(export)
    plain = tmp_path / "plain"  # a save_pretrained directory without a manifest loads as is
    plain.mkdir()
    assert storage.local_model(plain) == str(plain)
    assert storage.local_model("bert-base-multilingual-cased") == "bert-base-multilingual-cased"
