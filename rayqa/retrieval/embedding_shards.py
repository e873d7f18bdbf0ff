"""Embedding shards on storage: the resumable output of passage encoding.

Encoding a large collection takes hours, so the work is cut into units planned from
file sizes alone (no reading in the driver): each unit is one byte range of one
passages file (a whole file when gzipped), and it is the unit of work, of writing and
of resume. The encoder actor of a unit reads its range straight from storage and
writes, under the index directory (a local path or a URI)::

    plan.json                  the units (file, byte range) and the fingerprint they
                               were encoded under (encoder, size and mtime of files)
    passages/unit-00000.arrow  the unit's good passages, columnar (Arrow IPC), in
                               file order: the passage store (`passage_store`)
    embeddings/unit-00000.npy  their float32 [count, dim] vectors
    units/unit-00000.json      the unit's manifest: count, lines read, dim, passages
                               per language, bad records (lines numbered within the
                               unit), the Ray node that encoded it, sizes and sha256
                               of both files; written last, so its presence means
                               "done"

Every file is written whole (`rayqa.storage`), so a killed writer leaves either a whole
unit or none. A rerun encodes only the units without a manifest or whose files have
another size; a changed plan (other files, encoder or unit size) discards the old
units instead of mixing them with new ones. Global row numbers are prefix sums of the
unit counts in plan order, so every run numbers the rows the same way.
"""

from __future__ import annotations

import io
import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pyarrow.fs as pafs

from rayqa import storage
from rayqa.data.passages import Passage
from rayqa.data.records import BadRecord, BadRecords
from rayqa.retrieval.passage_store import table_bytes
from rayqa.storage import read_manifest, sha256_bytes, write_manifest

PLAN_FILE = "plan.json"
UNITS_DIR = "units"
EMBEDDINGS_DIR = "embeddings"
PASSAGES_DIR = "passages"


def unit_name(number: int) -> str:
    """The file stem of unit `number`, e.g. `unit-00003`."""
    return f"unit-{number:05d}"


@dataclass(frozen=True)
class Unit:
    """One unit of encoding work: the lines that begin in bytes `[start, end)` of `path`.

    Attributes:
        number: Position in the plan (decides the unit's row numbers).
        path: The passages file, absolute path or URI.
        start: First byte.
        end: End byte (exclusive); None for a gzipped file, read whole.
    """

    number: int
    path: str
    start: int = 0
    end: int | None = None

    def to_dict(self) -> dict:
        """The unit as a JSON / Ray Data row."""
        return asdict(self)


def plan_units(files: Sequence[str], unit_bytes: int) -> list[Unit]:
    """Cuts passages files into units of about `unit_bytes` bytes, in file order.

    Args:
        files: Absolute paths or URIs.
        unit_bytes: Bytes per unit; gzipped files are one unit each.
    """
    units: list[Unit] = []
    for path in files:
        size = file_facts(path)["size"]
        if path.endswith(".gz"):
            units.append(Unit(len(units), path))
            continue
        for start in range(0, max(size, 1), unit_bytes):
            units.append(Unit(len(units), path, start, min(start + unit_bytes, size)))
    return units


def file_facts(location: str) -> dict:
    """Size and modification time of a file: what decides whether its units are stale.

    Raises:
        FileNotFoundError: No file at `location`.
    """
    fs, path = storage.resolve(location)
    info = fs.get_file_info(path)
    if info.type != pafs.FileType.File:
        raise FileNotFoundError(f"{location}: no such file")
    return {"size": info.size, "mtime_ns": info.mtime_ns}


class EmbeddingShards:
    """The units of an index directory: their plan, their files and their manifests.

    Args:
        directory: The index directory (local path or URI; absolute on a cluster).
    """

    def __init__(self, directory: str):
        self.directory = str(directory)
        self.units: list[Unit] = []

    def path(self, *parts: str) -> str:
        """A location under the index directory."""
        return storage.join(self.directory, *parts)

    def prepare(self, units: list[Unit], fingerprint: dict) -> None:
        """Records the plan; discards the units of another plan and killed writers' leftovers.

        Args:
            units: The plan.
            fingerprint: JSON facts that decide the vectors besides the units (encoder,
                facts of the passages files); units made under other facts are deleted.
        """
        self.units = list(units)
        plan = {"units": [unit.to_dict() for unit in units], **fingerprint}
        try:
            old = json.loads(storage.read_text(self.path(PLAN_FILE)))
        except FileNotFoundError:
            old = None
        _remove_temporaries([self.path(d) for d in (UNITS_DIR, EMBEDDINGS_DIR, PASSAGES_DIR)])
        if old != plan:
            for name in (UNITS_DIR, EMBEDDINGS_DIR, PASSAGES_DIR):
                storage.delete(self.path(name))
            storage.write_text(self.path(PLAN_FILE),
                               json.dumps(plan, indent=2, ensure_ascii=False))

    def load_plan(self) -> None:
        """Reads the plan written by `prepare` (for readers of a finished build)."""
        plan = json.loads(storage.read_text(self.path(PLAN_FILE)))
        self.units = [Unit(**unit) for unit in plan["units"]]

    def files(self, number: int) -> tuple[str, str]:
        """The passages and embeddings files of unit `number`, relative to the directory."""
        name = unit_name(number)
        return f"{PASSAGES_DIR}/{name}.arrow", f"{EMBEDDINGS_DIR}/{name}.npy"

    def manifest_name(self, number: int) -> str:
        """The unit's manifest, relative to the directory."""
        return f"{UNITS_DIR}/{unit_name(number)}.json"

    def is_done(self, number: int) -> bool:
        """Whether the unit has a manifest and both files at their recorded sizes.

        Sizes, not checksums: a rerun must not read the whole collection back to find
        its place. Checksums are verified when the index is loaded.
        """
        try:
            manifest = read_manifest(self.directory, self.manifest_name(number), verify=False)
        except ValueError:
            return False
        fs, _ = storage.resolve(self.directory)
        paths = [storage.resolve(self.path(file))[1] for file in self.files(number)]
        sizes = [info.size for info in fs.get_file_info(paths)]
        return sizes == [manifest["sizes"].get(file) for file in self.files(number)]

    def missing(self) -> list[Unit]:
        """The units still to encode, in plan order."""
        return [unit for unit in self.units if not self.is_done(unit.number)]

    def write(self, unit: Unit, passages: list[Passage], vectors: np.ndarray, lines: int,
              report: BadRecords, node: str | None = None) -> dict:
        """Writes a unit's passages and vectors, then its manifest; returns the manifest.

        Args:
            unit: The unit.
            passages: Its good passages, in file order.
            vectors: Their vectors.
            lines: Lines read (bad and blank ones included).
            report: Its bad records, lines numbered within the unit.
            node: The Ray node that encoded it, recorded for operators.

        Raises:
            ValueError: `vectors` do not have one row per passage.
        """
        vectors = np.asarray(vectors, dtype=np.float32)
        if vectors.ndim != 2 or len(vectors) != len(passages):
            raise ValueError(f"{unit_name(unit.number)}: expected [{len(passages)}, dim] "
                             f"vectors, got {list(vectors.shape)}")
        buffer = io.BytesIO()
        np.save(buffer, vectors)
        blobs = dict(zip(self.files(unit.number), (table_bytes(passages), buffer.getvalue())))
        for file, data in blobs.items():
            storage.write_bytes(self.path(file), data)
        langs: dict[str, int] = {}
        for passage in passages:
            langs[passage.lang] = langs.get(passage.lang, 0) + 1
        facts = {"unit": unit.number, "count": len(passages), "lines": lines,
                 "dim": int(vectors.shape[1]), "langs": langs, "bad": report.to_dict(),
                 "node": node,
                 "sizes": {file: len(data) for file, data in blobs.items()}}
        write_manifest(self.directory, facts, [], name=self.manifest_name(unit.number),
                       checksums={file: sha256_bytes(data) for file, data in blobs.items()})
        return read_manifest(self.directory, self.manifest_name(unit.number), verify=False)

    def manifests(self) -> list[dict]:
        """The manifests of all units in plan order (read without checksums).

        Raises:
            ValueError: A unit is not done (names its manifest).
        """
        return [read_manifest(self.directory, self.manifest_name(unit.number), verify=False)
                for unit in self.units]

    def vectors(self, number: int) -> np.ndarray:
        """The vectors of unit `number`, memory-mapped when local."""
        location = self.path(self.files(number)[1])
        if storage.is_local(location):
            return np.load(storage.resolve(location)[1], mmap_mode="r")
        return np.load(io.BytesIO(storage.read_bytes(location)))


@dataclass(frozen=True)
class RowMap:
    """Where the global rows of the units are: row numbers are prefix sums of counts.

    Attributes:
        starts: First global row of each unit, in plan order, plus the total at the end.
    """

    starts: tuple[int, ...]

    @classmethod
    def of(cls, manifests: list[dict]) -> RowMap:
        """The row map of unit manifests in plan order."""
        return cls(tuple(int(s) for s in np.cumsum([0] + [m["count"] for m in manifests])))

    @property
    def count(self) -> int:
        """Rows over all units."""
        return self.starts[-1]

    def locate(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """`(unit position, row within the unit)` of each global row."""
        rows = np.asarray(rows, dtype=np.int64)
        units = np.searchsorted(np.asarray(self.starts), rows, side="right") - 1
        return units, rows - np.asarray(self.starts)[units]


def merge_bad_records(units: list[Unit], manifests: list[dict],
                      max_examples: int = 20) -> BadRecords:
    """The bad records of all units, lines renumbered from the first line of each file.

    Each unit numbers its lines from 1; a unit's offset is the number of lines the
    earlier units of the same file held.
    """
    report, offsets = BadRecords(max_examples), {}
    for unit, manifest in zip(units, manifests):
        offset = offsets.get(unit.path, 0)
        bad = manifest["bad"]
        for example in bad["examples"]:
            if len(report.examples) < max_examples:
                report.examples.append(BadRecord(**{**example, "line": example["line"] + offset}))
        report.counts.update(bad["counts"])
        offsets[unit.path] = offset + manifest["lines"]
    return report


def _remove_temporaries(directories: list[str]) -> None:
    """Deletes the hidden temporaries a killed local writer left (object stores have none)."""
    for directory in directories:
        if not storage.is_local(directory):
            continue
        path = Path(storage.resolve(directory)[1])
        for leftover in path.glob(".*.tmp") if path.is_dir() else ():
            leftover.unlink(missing_ok=True)

