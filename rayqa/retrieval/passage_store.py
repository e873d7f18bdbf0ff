"""The passage store: an index's passages, columnar on storage, memory-mapped to read.

A Serve replica or a batch-retrieval actor needs the passages of the rows it returns,
not the collection as Python objects, so the passages stay in Arrow IPC files (one per
unit of the build, see `embedding_shards`) that are memory-mapped: the operating system
pages in what is read and shares the pages between the processes of a node. Layout
under the index directory::

    passages/unit-00000.arrow  columns id, title, text, lang, article_id; rows in order
    passages/ids.arrow         every id, sorted, with its global row (id -> row lookup
                               by binary search over the mapped column)

The index manifest lists the unit files with their first global rows.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from rayqa import storage
from rayqa.data.passages import Passage
from rayqa.storage import sha256_bytes

IDS_FILE = "passages/ids.arrow"
SCHEMA = pa.schema([("id", pa.string()), ("title", pa.string()), ("text", pa.string()),
                    ("lang", pa.string()), ("article_id", pa.string())])


def table_bytes(passages: Sequence[Passage]) -> bytes:
    """An Arrow IPC file of `passages` (uncompressed, so that readers can map it)."""
    columns = {name: [getattr(p, name) for p in passages] for name in SCHEMA.names}
    return _ipc_bytes(pa.table(columns, schema=SCHEMA))


def _ipc_bytes(table: pa.Table) -> bytes:
    sink = pa.BufferOutputStream()
    with pa.ipc.new_file(sink, table.schema) as writer:
        writer.write_table(table)
    return sink.getvalue().to_pybytes()


def read_table(location: str, columns: list[str] | None = None) -> pa.Table:
    """An Arrow IPC file as a table: memory-mapped when local, downloaded otherwise."""
    if storage.is_local(location):
        source = pa.memory_map(storage.resolve(location)[1])
    else:
        source = pa.BufferReader(storage.read_bytes(location))
    table = pa.ipc.open_file(source).read_all()
    return table.select(columns) if columns else table


def write_id_index(directory: str, files: Sequence[str], starts: Sequence[int]) -> str:
    """Writes `passages/ids.arrow` (ids sorted, with their rows); returns its sha256.

    Runs as a Ray task on a cluster: it holds every id once (as Arrow, not Python).

    Args:
        directory: The index directory.
        files: The unit passages files, relative to `directory`, in plan order.
        starts: The first global row of each.
    """
    parts = [read_table(storage.join(directory, file), ["id"]).column("id")
             for file in files]
    ids = pa.chunked_array([chunk for part in parts for chunk in part.chunks], pa.string())
    rows = np.concatenate([np.arange(start, start + len(part), dtype=np.int64)
                           for start, part in zip(starts, parts)] or [np.zeros(0, np.int64)])
    table = pa.table({"id": ids, "row": rows})
    table = table.take(pc.sort_indices(table, [("id", "ascending"), ("row", "ascending")]))
    data = _ipc_bytes(table.combine_chunks())
    storage.write_bytes(storage.join(directory, IDS_FILE), data)
    return sha256_bytes(data)


class _Column(Sequence):
    """A mapped string column seen as a Python sequence, for `bisect`."""

    def __init__(self, array: pa.Array):
        self.array = array

    def __len__(self) -> int:
        return len(self.array)

    def __getitem__(self, index):
        return self.array[index].as_py()


class PassageStore:
    """Row -> passage and id -> row over the mapped files of a local index directory.

    Args:
        directory: A local index directory (`storage.local_copy` of a URI).
        files: The unit passages files, relative to `directory`, in plan order.
        starts: The first global row of each file, plus the total count at the end.
    """

    def __init__(self, directory: str, files: Sequence[str], starts: Sequence[int]):
        self.tables = [read_table(storage.join(directory, file)) for file in files]
        self.starts = np.asarray(starts, dtype=np.int64)
        sizes = [len(table) for table in self.tables]
        if sizes != list(np.diff(self.starts)):
            raise ValueError(f"{directory}: passage files hold {sizes} rows, the manifest "
                             f"says {list(np.diff(self.starts))}")
        ids = read_table(storage.join(directory, IDS_FILE))
        self._ids, self._rows = _Column(ids.column("id").combine_chunks()), ids.column("row")

    @classmethod
    def from_manifest(cls, directory: str, manifest: dict) -> PassageStore:
        """The store an index manifest describes (`passages`: files and starts)."""
        return cls(directory, manifest["passages"]["files"], manifest["passages"]["starts"])

    def __len__(self) -> int:
        return int(self.starts[-1])

    def __getitem__(self, row: int) -> Passage:
        if not 0 <= row < len(self):
            raise IndexError(f"row {row} outside 0..{len(self) - 1}")
        unit = int(np.searchsorted(self.starts, row, side="right")) - 1
        record = self.tables[unit].slice(row - int(self.starts[unit]), 1).to_pylist()[0]
        return Passage(**record)

    def languages(self) -> dict[str, int]:
        """Passages per language, most first (the memory-mapped `lang` columns counted)."""
        import pyarrow.compute as pc

        counts: dict[str, int] = {}
        for table in self.tables:
            for item in pc.value_counts(table.column("lang")).to_pylist():
                counts[item["values"]] = counts.get(item["values"], 0) + item["counts"]
        return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))

    def row_of(self, passage_id: str) -> int | None:
        """The row of the passage with id `passage_id` (the first, if repeated), or None."""
        position = bisect_left(self._ids, passage_id)
        if position < len(self._ids) and self._ids[position] == passage_id:
            return int(self._rows[position].as_py())
        return None
