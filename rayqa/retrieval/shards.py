"""Embedding shards on disk: the resumable output of passage encoding.

Encoding a large collection takes hours, so its output is cut into shards of a fixed
number of passage rows, and each shard is the unit of work, of writing and of resume.
Layout of an embeddings directory (`<index dir>/embeddings/`)::

    plan.json             what the shards encode: passage count, shard size, and the
                          caller's fingerprint (encoder, sha256 of passages.jsonl)
    shard-00000.npy       float32 [n, dim] vectors of rows [0, shard_size)
    shard-00000.rows.npy  int64 [n] their row numbers
    shard-00000.json      the shard's manifest (count, dim, first row, sha256 of both
                          files); written last, so its presence means "done"

Every file is written to a hidden temporary name and renamed, so a killed writer leaves
either a whole shard or none. A rerun encodes only the shards whose manifest is missing
or whose files fail their checksum; a changed plan (other passages, encoder or shard
size) discards the old shards instead of mixing them with new ones.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from rayqa.manifest import read_manifest, write_manifest

EMBEDDINGS_DIR = "embeddings"
PLAN_FILE = "plan.json"


def shard_name(shard: int) -> str:
    """The file stem of shard number `shard`, e.g. `shard-00003`."""
    return f"shard-{shard:05d}"


class EmbeddingShards:
    """The embedding shards of `count` passage rows, `shard_size` rows per shard.

    Args:
        directory: The embeddings directory (created by `prepare`).
        count: Number of passage rows.
        shard_size: Rows per shard; the last shard holds the remainder.
    """

    def __init__(self, directory: str | Path, count: int, shard_size: int):
        if count < 1 or shard_size < 1:
            raise ValueError(f"need count >= 1 and shard_size >= 1, got {count}, {shard_size}")
        self.directory = Path(directory)
        self.count, self.shard_size = count, shard_size

    @property
    def num_shards(self) -> int:
        """Number of shards covering all rows."""
        return -(-self.count // self.shard_size)

    def bounds(self, shard: int) -> tuple[int, int]:
        """The rows `[start, end)` of `shard`."""
        start = shard * self.shard_size
        return start, min(start + self.shard_size, self.count)

    def prepare(self, fingerprint: dict) -> None:
        """Creates the directory and records the plan; discards shards of another plan.

        Args:
            fingerprint: JSON facts that decide the vectors besides count and shard size
                (the encoder, a checksum of the passages); shards made under other facts
                are deleted.
        """
        self.directory.mkdir(parents=True, exist_ok=True)
        plan = {"count": self.count, "shard_size": self.shard_size, **fingerprint}
        path = self.directory / PLAN_FILE
        old = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None
        for leftover in self.directory.glob(".shard-*"):  # temporaries of a killed writer
            leftover.unlink()
        if old != plan:
            for stale in self.directory.glob("shard-*"):
                stale.unlink()
            _atomic_write(path, json.dumps(plan, indent=2, ensure_ascii=False).encode())

    def is_done(self, shard: int) -> bool:
        """Whether `shard` has a manifest whose files exist and match their checksums."""
        try:
            manifest = read_manifest(self.directory, f"{shard_name(shard)}.json")
        except ValueError:
            return False
        start, end = self.bounds(shard)
        return (manifest.get("start"), manifest.get("count")) == (start, end - start)

    def missing(self) -> list[int]:
        """The shards still to encode, in order."""
        return [shard for shard in range(self.num_shards) if not self.is_done(shard)]

    def write(self, shard: int, vectors: np.ndarray) -> None:
        """Writes the vectors of `shard` (rows `bounds(shard)`) and then its manifest.

        Raises:
            ValueError: `vectors` does not have one row per row of the shard.
        """
        start, end = self.bounds(shard)
        vectors = np.asarray(vectors, dtype=np.float32)
        if vectors.ndim != 2 or len(vectors) != end - start:
            raise ValueError(f"{shard_name(shard)}: expected [{end - start}, dim] vectors, "
                             f"got {list(vectors.shape)}")
        name = shard_name(shard)
        _atomic_save(self.directory / f"{name}.npy", vectors)
        _atomic_save(self.directory / f"{name}.rows.npy", np.arange(start, end, dtype=np.int64))
        write_manifest(self.directory, {"shard": shard, "start": start, "count": end - start,
                                        "dim": int(vectors.shape[1])},
                       [f"{name}.npy", f"{name}.rows.npy"], name=f"{name}.json")

    def load(self) -> np.ndarray:
        """Returns all vectors, `[count, dim]` in row order, after checking every shard.

        Raises:
            ValueError: A shard is missing, fails its checksum, or disagrees with the
                plan (rows or dimension); the message names the file.
        """
        parts = []
        for shard in range(self.num_shards):
            name = shard_name(shard)
            read_manifest(self.directory, f"{name}.json")  # raises naming the bad file
            vectors = np.load(self.directory / f"{name}.npy")
            rows = np.load(self.directory / f"{name}.rows.npy")
            if not np.array_equal(rows, np.arange(*self.bounds(shard))):
                raise ValueError(f"{self.directory / name}.rows.npy: rows are not "
                                 f"{self.bounds(shard)}")
            if parts and vectors.shape[1] != parts[0].shape[1]:
                raise ValueError(f"{self.directory / name}.npy: dim {vectors.shape[1]}, "
                                 f"shard 0 has {parts[0].shape[1]}")
            parts.append(vectors)
        return np.concatenate(parts)


def _atomic_write(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def _atomic_save(path: Path, array: np.ndarray) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "wb") as f:  # a file object: np.save would append ".npy" to a name
        np.save(f, array)
    os.replace(tmp, path)
