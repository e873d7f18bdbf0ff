"""Dense index: a FAISS inner-product index from a factory string, plus its manifest.

`FaissIndex` follows DPR's small indexer interface (build / search / save / load), with
the index type chosen by a FAISS factory string: `Flat` (exact), `IVF4096,Flat`,
`HNSW32`, `IVF4096,PQ64`, ... It is wrapped in an id map, so search returns passage row
numbers whatever the index type does internally.

`manifest.json` sits next to the index and records what the vectors mean (count,
dimension, factory, the encoder that made them) and the sha256 of every file the index
depends on. Loading checks all of it, so an index never silently answers with the
wrong passages or a different encoder. The same manifest functions vouch for the FAISS
shards of a sharded index (`rayqa.retrieval.faiss_shards`) and, under their own file
names, for the units of a resumable encoding (`rayqa.retrieval.embedding_shards`).
Indexes are saved to a local directory or a URI (`rayqa.storage`) and loaded from a
local directory (`storage.local_copy` of a URI).

When FAISS sees GPUs, IVF training runs its k-means there and search uses a GPU copy
of the index (index types without a GPU version stay on the CPU). For CPU search,
`load` memory-maps the index file instead of reading it into the process's memory, so
the replicas and actors of one node share its pages through the OS page cache.
"""

from __future__ import annotations

import logging
from pathlib import Path

import faiss
import numpy as np

from rayqa import storage
from rayqa.storage import MANIFEST_FILE, read_manifest, sha256_bytes, write_manifest

INDEX_FILE = "faiss.index"

logger = logging.getLogger(__name__)
_LOGGED_UNMAPPED: set[str] = set()  # index types already logged as read into RAM


def _gpu_clustering(base: faiss.Index) -> faiss.Index | None:
    """Lets IVF training run its k-means on the GPUs, when FAISS sees any.

    k-means is most of the cost of training an IVF index; FAISS's documented way to
    move it to the GPUs is to give the IVF layer a GPU flat index as `clustering_index`.
    Other index types (Flat, HNSW) train on the CPU as before.

    Returns:
        The GPU index, which the caller keeps alive while training (FAISS holds only a
        raw pointer), or None when nothing was changed.
    """
    if faiss.get_num_gpus() == 0:
        return None
    try:
        ivf = faiss.extract_index_ivf(base)
    except RuntimeError:  # not an IVF index
        return None
    ivf.clustering_index = faiss.index_cpu_to_all_gpus(faiss.IndexFlat(ivf.d, ivf.metric_type))
    return ivf.clustering_index


class FaissIndex:
    """Inner-product FAISS index over passage embeddings, searched by row number.

    Args:
        factory: FAISS factory string, e.g. `Flat`, `IVF1024,Flat`, `HNSW32`.
        train_sample: Most vectors used to train indexes that need training (IVF, PQ).
        search_params: FAISS `ParameterSpace` settings applied for search, e.g.
            `nprobe=16` (IVF) or `efSearch=128` (HNSW); empty for the defaults.
        use_gpu: Search on the GPUs; None uses them when FAISS sees any.
    """

    def __init__(self, factory: str = "Flat", train_sample: int = 100_000,
                 search_params: str = "", use_gpu: bool | None = None):
        self.factory = factory
        self.train_sample = train_sample
        self.search_params = search_params
        self.use_gpu = faiss.get_num_gpus() > 0 if use_gpu is None else use_gpu
        self.index: faiss.Index | None = None  # the CPU index (what is saved)
        self._search_index: faiss.Index | None = None  # the CPU or GPU copy searched
        self.manifest: dict = {}
        # True when `index` was loaded as a read-only memory map of its file (see `load`).
        self.mapped = False

    @property
    def ntotal(self) -> int:
        """Number of indexed vectors."""
        return 0 if self.index is None else self.index.ntotal

    @property
    def dim(self) -> int:
        """Vector dimension."""
        return 0 if self.index is None else self.index.d

    def build(self, embeddings: np.ndarray, ids: np.ndarray | None = None,
              trained: faiss.Index | None = None) -> FaissIndex:
        """Trains (when the index type needs it) and adds `embeddings`.

        Args:
            embeddings: Float32 `[n, dim]`.
            ids: Int64 `[n]` row numbers returned by search; `0..n-1` when None.
            trained: An empty index from `trained_base` to copy instead of training
                again (the shards of one sharded index share their quantizers).

        Returns:
            self.
        """
        vectors = np.ascontiguousarray(embeddings, dtype=np.float32)
        ids = np.arange(len(vectors), dtype=np.int64) if ids is None else ids
        self.start(trained if trained is not None else self.trained_base(vectors))
        self.add(vectors, ids)
        self._prepare_search()
        return self

    def start(self, trained: faiss.Index) -> FaissIndex:
        """Begins an empty index as a copy of a trained base, to be filled by `add`.

        Args:
            trained: An empty index from `trained_base` (copied, so that the shards of
                one sharded index share their quantizers).
        """
        # The id map lets every index type (HNSW has no add_with_ids) return row numbers.
        self.index = faiss.IndexIDMap2(faiss.clone_index(trained))
        self.mapped = False
        return self

    def add(self, vectors: np.ndarray, ids: np.ndarray) -> None:
        """Adds float32 `[n, dim]` vectors searched as the row numbers `ids` (`[n]`).

        Raises:
            ValueError: The index is memory-mapped (`load(mmap=True)`), hence read-only.
        """
        if self.mapped:
            # FAISS would abort the whole process on resizing a mapped array.
            raise ValueError("a memory-mapped index is read-only: load it with mmap=False "
                             "to add vectors")
        self.index.add_with_ids(np.ascontiguousarray(vectors, dtype=np.float32),
                                np.asarray(ids, dtype=np.int64))

    def trained_base(self, vectors: np.ndarray) -> faiss.Index:
        """Returns the empty factory index, trained on a sample of `vectors` if it needs it.

        Args:
            vectors: Float32 `[n, dim]`; at most `train_sample` of them are used.
        """
        base = faiss.index_factory(vectors.shape[1], self.factory, faiss.METRIC_INNER_PRODUCT)
        if not base.is_trained:
            self._train(base, vectors)
        return base

    def _train(self, base: faiss.Index, vectors: np.ndarray) -> None:
        """Trains on a seeded random sample of at most `train_sample` vectors."""
        sample = vectors
        if len(vectors) > self.train_sample:
            rows = np.random.default_rng(0).choice(len(vectors), self.train_sample, replace=False)
            sample = vectors[np.sort(rows)]
        gpu_kmeans = _gpu_clustering(base)
        try:
            base.train(sample)
        except RuntimeError as err:
            raise ValueError(f"FAISS factory {self.factory!r} cannot be trained on "
                             f"{len(sample)} vectors (too few for its clusters?): {err}") from None
        finally:
            if gpu_kmeans is not None:  # do not leave a pointer to the freed GPU index
                faiss.extract_index_ivf(base).clustering_index = None

    def _prepare_search(self) -> None:
        """Applies `search_params`, then copies to the GPUs when asked and possible."""
        if self.search_params:
            # Set on the CPU index: the GPU copy takes e.g. nprobe over from it.
            faiss.ParameterSpace().set_index_parameters(self.index, self.search_params)
        self._search_index = self.index
        if self.use_gpu:
            try:
                self._search_index = faiss.index_cpu_to_all_gpus(self.index)
            except (AttributeError, RuntimeError):  # CPU-only FAISS, or no GPU kind (HNSW)
                self._search_index = self.index

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Returns the `k` best rows per query by inner product.

        Args:
            queries: Float32 `[q, dim]`.
            k: Results per query.

        Returns:
            `(scores, ids)`, both `[q, k]`, best first; id -1 where fewer than `k` exist.
        """
        if self._search_index is None:
            raise ValueError("the index is empty: build() or load() it first")
        queries = np.ascontiguousarray(queries, dtype=np.float32)
        if queries.ndim != 2 or queries.shape[1] != self.dim:
            raise ValueError(f"queries must be [n, {self.dim}], got {list(queries.shape)}")
        return self._search_index.search(queries, k)

    def facts(self) -> dict:
        """What the manifest records about the index itself."""
        return {"count": self.ntotal, "dim": self.dim, "factory": self.factory,
                "search_params": self.search_params}

    def write(self, location: str) -> str:
        """Writes the CPU index to the file `location` (path or URI); returns its sha256."""
        if self.index is None:
            raise ValueError("nothing to save: build() the index first")
        data = faiss.serialize_index(self.index)  # uint8 array: one write, local or remote
        storage.write_bytes(location, data)
        return sha256_bytes(data)

    def save(self, directory: str | Path, fields: dict | None = None,
             checksum_files: tuple[str, ...] = ()) -> str:
        """Writes the CPU index and `manifest.json` into `directory` (path or URI).

        Args:
            directory: The index directory (created when missing).
            fields: More manifest facts, e.g. the encoder that made the vectors.
            checksum_files: Other files in `directory` the index depends on (the
                passages file), whose sha256 goes into the manifest.

        Returns:
            The index file's location.
        """
        location = storage.join(directory, INDEX_FILE)
        sha = self.write(location)
        write_manifest(directory, {**self.facts(), **(fields or {})}, list(checksum_files),
                       checksums={INDEX_FILE: sha})
        self.manifest = read_manifest(directory, verify=False)
        return location

    @classmethod
    def load(cls, directory: str | Path, use_gpu: bool | None = None,
             verify: bool = True, mmap: bool = True) -> FaissIndex:
        """Reads an index saved by `save` from a local directory, checked against its
        manifest.

        With `mmap` and CPU search the file is memory-mapped read-only and shared
        (`faiss.IO_FLAG_MMAP_IFC`): the vectors or codes stay in the OS page cache,
        where every process of the node that maps the file shares them, instead of in
        a private copy per process. Results are identical to an in-memory load. FAISS
        1.15 maps the codes of flat-code indexes (Flat, PQ, SQ), of IVF inverted
        lists (IVF-Flat, IVF-PQ, IVF-SQ) and the storage and graph of HNSW; the
        coarse quantizer, the id map and its reverse hash table are still read into
        memory. The fast-scan types (`...fs`) keep codes in a layout FAISS rebuilds at
        load, so they fall back to an ordinary read (logged once per type). A mapped
        index is read-only (`add` refuses it), and FAISS advises random access, so a
        search that touches pages not yet in the page cache reads them from disk (the
        checksum at load usually leaves the whole file cached). GPU search always reads
        the file into memory: the GPU copy is made from it.

        Args:
            directory: The local index directory.
            use_gpu: Search on the GPUs; None uses them when FAISS sees any.
            verify: Check the sha256 of every file the manifest lists; False when the
                caller has just checked them.
            mmap: Memory-map the index for CPU search; False reads it into memory.

        Raises:
            ValueError: A file differs from the manifest, or the index holds another
                number of vectors or another dimension than the manifest says.
        """
        directory = Path(directory)
        manifest = read_manifest(directory, verify=verify)
        if manifest.get("num_shards", 1) > 1:
            raise ValueError(f"{directory}: a sharded index; load it with "
                             "rayqa.retrieval.faiss_shards.load_dense_index")
        path = directory / INDEX_FILE
        index = cls(manifest["factory"], search_params=manifest.get("search_params", ""),
                    use_gpu=use_gpu)
        index.index, index.mapped = _read(path, mmap and not index.use_gpu)
        for key, actual in (("count", index.ntotal), ("dim", index.dim)):
            if manifest.get(key) != actual:
                raise ValueError(f"{path}: {key} {actual} but {directory / MANIFEST_FILE} "
                                 f"says {manifest.get(key)}")
        index.manifest = manifest
        index._prepare_search()
        return index


def _read(path: Path, mmap: bool) -> tuple[faiss.Index, bool]:
    """Reads a FAISS index file, memory-mapped when `mmap` and FAISS maps its codes.

    Returns:
        The index, and whether it is memory-mapped (read-only).
    """
    if not mmap:
        return faiss.read_index(str(path)), False
    index = faiss.read_index(str(path), faiss.IO_FLAG_MMAP_IFC)
    if _codes_mapped(index):
        return index, True
    # FAISS copied the codes anyway; an ordinary read gives the same memory, writable.
    kind = type(_unwrap(index)).__name__
    if kind not in _LOGGED_UNMAPPED:
        _LOGGED_UNMAPPED.add(kind)
        logger.warning("%s: FAISS cannot memory-map %s codes; reading it into memory",
                       path, kind)
    return faiss.read_index(str(path)), False


def _codes_mapped(index: faiss.Index) -> bool:
    """Whether an index read with `IO_FLAG_MMAP_IFC` left its codes in the file mapping:
    IVF array inverted lists, or flat-code storage (Flat, PQ, SQ, also under HNSW)."""
    try:
        ivf = faiss.extract_index_ivf(index)
    except RuntimeError:  # not an IVF index
        inner = _unwrap(index)
        if isinstance(inner, faiss.IndexHNSW):
            inner = faiss.downcast_index(inner.storage)
        return isinstance(inner, faiss.IndexFlatCodes)
    return isinstance(faiss.downcast_InvertedLists(ivf.invlists), faiss.ArrayInvertedLists)


def _unwrap(index: faiss.Index) -> faiss.Index:
    """The index inside the id map and any pre-transform (OPQ, PCA)."""
    while isinstance(index, (faiss.IndexIDMap, faiss.IndexPreTransform)):
        index = faiss.downcast_index(index.index)
    return index
