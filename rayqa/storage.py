"""Where artifacts live: a local path or a URI (``s3://``, ``gs://``, ``file://``).

Every artifact location in a rayqa config (``output_dir``, ``train.storage_path``, index
and shard directories, mined data, exports) goes through this module, which speaks
``pyarrow.fs`` - the file system layer Ray Train and Ray Data already use - so a job
that writes ``s3://bucket/run`` on a 100-node cluster runs the same code as one that
writes ``runs/run`` on a laptop.

A location is a string:

- a local path, relative or absolute; ``absolute`` turns it into an absolute path on
  the driver before it travels to workers, which do not share the driver's working
  directory;
- a URI with a scheme pyarrow knows (``s3://bucket/key``, ``gs://``, ``file:///abs``).
  S3 settings come from the usual AWS environment (credentials, ``AWS_REGION``,
  ``AWS_ENDPOINT_URL`` for S3-compatible stores such as MinIO).

Writes are whole-object: a local file is written to a hidden temporary name and
renamed, an object store's PUT is atomic by itself, so a killed writer never leaves a
half-written file under its final name. A directory of artifacts carries a manifest
(``write_manifest`` / ``read_manifest``): its facts and the sha256 of every file in it.
Readers that need a local directory (FAISS, ``from_pretrained``) call ``local_copy``,
which downloads a remote directory once into a cache and checks it against that manifest.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path, PurePosixPath

import pyarrow.fs as pafs

MANIFEST_FILE = "manifest.json"  # a directory's manifest (`write_manifest`)
CACHE_ENV = "RAYQA_CACHE"  # where remote artifacts are cached (default ~/.cache/rayqa)
_CHUNK = 1 << 20


def is_uri(location: str | os.PathLike) -> bool:
    """Whether ``location`` names a URI (``scheme://...``) rather than a local path."""
    return "://" in str(location)


def is_local(location: str | os.PathLike) -> bool:
    """Whether ``location`` is on this machine's file system (a path or ``file://``)."""
    return not is_uri(location) or str(location).startswith("file://")


def absolute(location: str | os.PathLike) -> str:
    """``location`` with a relative local path made absolute; URIs are returned as given.

    Call it on the driver before a location travels to Ray workers or actors: they run
    in their own working directory (on other nodes, on another disk altogether).
    """
    if is_uri(location):
        return str(location)
    return str(Path(location).expanduser().resolve())


def resolve(location: str | os.PathLike) -> tuple[pafs.FileSystem, str]:
    """The pyarrow file system and the path inside it for ``location``."""
    if not is_uri(location):
        return pafs.LocalFileSystem(), absolute(location)
    fs, path = pafs.FileSystem.from_uri(str(location))
    return fs, path


def join(location: str | os.PathLike, *parts: str) -> str:
    """``location`` with path parts appended, keeping a URI a URI."""
    if not is_uri(location):
        return str(Path(location, *parts))
    scheme, _, rest = str(location).partition("://")
    rest, query = rest.split("?", 1) if "?" in rest else (rest, "")
    joined = str(PurePosixPath(rest.rstrip("/"), *parts))
    return f"{scheme}://{joined}" + (f"?{query}" if query else "")


def name(location: str | os.PathLike) -> str:
    """The last part of ``location`` (the file or directory name)."""
    return PurePosixPath(str(location).split("?", 1)[0].rstrip("/")).name


def _info(location) -> pafs.FileInfo:
    fs, path = resolve(location)
    return fs.get_file_info(path)


def exists(location: str | os.PathLike) -> bool:
    """Whether a file or directory exists at ``location``."""
    return _info(location).type != pafs.FileType.NotFound


def is_file(location: str | os.PathLike) -> bool:
    """Whether ``location`` is a file."""
    return _info(location).type == pafs.FileType.File


def is_dir(location: str | os.PathLike) -> bool:
    """Whether ``location`` is a directory (on object stores: a non-empty prefix)."""
    return _info(location).type == pafs.FileType.Directory


def make_dirs(location: str | os.PathLike) -> None:
    """Creates the directory ``location`` and its parents (a no-op on object stores)."""
    fs, path = resolve(location)
    fs.create_dir(path, recursive=True)


def read_bytes(location: str | os.PathLike) -> bytes:
    """The whole content of the file at ``location``.

    Raises:
        FileNotFoundError: No file there (the message names ``location``).
    """
    fs, path = resolve(location)
    try:
        with fs.open_input_stream(path) as stream:
            return stream.read()
    except FileNotFoundError:
        raise FileNotFoundError(f"{location}: no such file") from None
    except OSError as err:
        if fs.get_file_info(path).type == pafs.FileType.NotFound:
            raise FileNotFoundError(f"{location}: no such file") from None
        raise OSError(f"{location}: {err}") from err


def read_text(location: str | os.PathLike) -> str:
    """The UTF-8 text of the file at ``location``."""
    return read_bytes(location).decode("utf-8")


def write_bytes(location: str | os.PathLike, data: bytes) -> None:
    """Writes ``data`` to ``location`` whole: readers see the old file or the new one."""
    fs, path = resolve(location)
    parent = str(PurePosixPath(path).parent)
    fs.create_dir(parent, recursive=True)
    if not isinstance(fs, pafs.LocalFileSystem):
        with fs.open_output_stream(path) as stream:  # one PUT: atomic on object stores
            stream.write(data)
        return
    tmp = str(PurePosixPath(parent, f".{PurePosixPath(path).name}.{uuid.uuid4().hex}.tmp"))
    with fs.open_output_stream(tmp) as stream:
        stream.write(data)
    os.replace(tmp, path)


def write_text(location: str | os.PathLike, text: str) -> None:
    """Writes ``text`` as UTF-8 to ``location`` whole (see ``write_bytes``)."""
    write_bytes(location, text.encode("utf-8"))


def delete(location: str | os.PathLike) -> None:
    """Deletes the file or directory tree at ``location``; nothing there is fine."""
    fs, path = resolve(location)
    kind = fs.get_file_info(path).type
    if kind == pafs.FileType.Directory:
        fs.delete_dir(path)
    elif kind == pafs.FileType.File:
        fs.delete_file(path)


def list_files(location: str | os.PathLike, recursive: bool = True) -> list[str]:
    """Paths of the files under the directory ``location``, relative to it, sorted."""
    fs, path = resolve(location)
    if fs.get_file_info(path).type != pafs.FileType.Directory:
        return []
    infos = fs.get_file_info(pafs.FileSelector(path, recursive=recursive))
    root = PurePosixPath(path)
    return sorted(str(PurePosixPath(info.path).relative_to(root)) for info in infos
                  if info.type == pafs.FileType.File)


def sha256(location: str | os.PathLike) -> str:
    """The hex sha256 of the file at ``location``, streamed in chunks."""
    fs, path = resolve(location)
    digest = hashlib.sha256()
    with fs.open_input_stream(path) as stream:
        while chunk := stream.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def copy_tree(source_fs: pafs.FileSystem, source_path: str, target: str | os.PathLike,
              exclude: tuple[str, ...] = (), include: tuple[str, ...] | None = None
              ) -> list[str]:
    """Copies the files under ``source_path`` of ``source_fs`` to the location ``target``.

    Args:
        source_fs: The source file system (e.g. a Ray ``Checkpoint.filesystem``).
        source_path: The source directory inside it.
        target: Destination directory (local path or URI); files are overwritten.
        exclude: Top-level names under ``source_path`` to leave out (e.g. optimizer
            state that a model export does not need).
        include: When given, only the files at or under these relative paths are
            copied (e.g. one FAISS shard of an index).

    Returns:
        The copied paths, relative to ``source_path``.
    """
    target_fs, target_path = resolve(target)
    root = PurePosixPath(source_path)
    copied = []
    for info in source_fs.get_file_info(pafs.FileSelector(source_path, recursive=True)):
        relative = PurePosixPath(info.path).relative_to(root)
        if (info.type != pafs.FileType.File or relative.parts[0] in exclude
                or (include is not None and not within(str(relative), include))):
            continue
        destination = str(PurePosixPath(target_path, relative))
        target_fs.create_dir(str(PurePosixPath(destination).parent), recursive=True)
        pafs.copy_files(info.path, destination, source_filesystem=source_fs,
                        destination_filesystem=target_fs)
        copied.append(str(relative))
    return sorted(copied)


def upload_dir(local_dir: str | os.PathLike, target: str | os.PathLike,
               exclude: tuple[str, ...] = ()) -> list[str]:
    """Copies a local directory's files to ``target`` (see ``copy_tree``)."""
    return copy_tree(pafs.LocalFileSystem(), absolute(local_dir), target, exclude)


def download_dir(location: str | os.PathLike, local_dir: str | os.PathLike,
                 exclude: tuple[str, ...] = (), include: tuple[str, ...] | None = None
                 ) -> list[str]:
    """Copies the files under ``location`` into the local directory ``local_dir``."""
    fs, path = resolve(location)
    return copy_tree(fs, path, absolute(local_dir), exclude, include)


def within(relative: str, parts: tuple[str, ...]) -> bool:
    """Whether the relative path ``relative`` is one of ``parts`` or lies under one."""
    return any(relative == part or relative.startswith(part.rstrip("/") + "/")
               for part in parts)


@contextmanager
def staged_dir(location: str | os.PathLike) -> Iterator[Path]:
    """A local directory whose files end up at ``location`` when the block succeeds.

    For a local ``location`` it is that directory itself (created); for a URI it is a
    temporary directory uploaded on exit (and dropped without upload on an error), so
    code that needs a real directory (``save_pretrained``, ``faiss.write_index``)
    writes the same way to both.
    """
    if is_local(location):
        _, path = resolve(location)
        Path(path).mkdir(parents=True, exist_ok=True)
        yield Path(path)
        return
    with tempfile.TemporaryDirectory(prefix="rayqa-stage-") as tmp:
        yield Path(tmp)
        upload_dir(tmp, location)


# Manifests: what a directory of artifacts holds, and the sha256 of every file in it.
# A manifest records facts about an artifact directory - an index's count, dimension
# and encoder, a model export's origin - and the sha256 of every file the artifact
# depends on. It is written last and whole, so its presence is the "done" mark of what
# it vouches for; reading it checks every listed file, so an index never silently
# answers with the wrong passages and a cached download is never used half-copied.
def sha256_bytes(data) -> str:
    """Returns the hex sha256 of bytes (or any buffer) a writer is about to store."""
    return hashlib.sha256(data).hexdigest()


def write_manifest(directory: str | os.PathLike, fields: dict, files: list[str],
                   name: str = MANIFEST_FILE, checksums: dict[str, str] | None = None) -> str:
    """Writes a manifest: ``fields`` plus the sha256 of each of ``files``.

    Args:
        directory: The artifact directory (local path or URI).
        fields: JSON-serializable facts about the artifact (count, dim, encoder, ...).
        files: Paths relative to ``directory`` whose content the artifact depends on.
        name: The manifest's file name in ``directory``.
        checksums: sha256 already known by relative path (computed by the processes
            that wrote those files), so that they are not read back; included as well.

    Returns:
        The manifest's location.
    """
    known = checksums or {}
    manifest = dict(fields, files={**known, **{
        file: sha256(join(directory, file)) for file in files if file not in known}})
    location = join(directory, name)
    write_text(location, json.dumps(manifest, indent=2, ensure_ascii=False))
    return location


def read_manifest(directory: str | os.PathLike, name: str = MANIFEST_FILE,
                  verify: bool = True, only: tuple[str, ...] | None = None) -> dict:
    """Reads a manifest and checks the checksum of every file it lists.

    Args:
        directory: The artifact directory (local path or URI).
        name: The manifest's file name in ``directory``.
        verify: Check the listed files; False only peeks at the facts (e.g. to choose
            a loader that verifies them next).
        only: Check only the listed files at or under these relative paths (the part
            of the artifact a process fetched, e.g. one shard of an index).

    Raises:
        ValueError: The manifest is missing or unreadable, or a listed file is missing
            or changed since the artifact was written; the message names the file.
    """
    path = join(directory, name)
    try:
        manifest = json.loads(read_text(path))
    except FileNotFoundError:
        raise ValueError(f"{path}: no manifest (was it written completely?)") from None
    except json.JSONDecodeError as err:
        raise ValueError(f"{path}: unreadable manifest: {err}") from None
    for file_name, expected in manifest.get("files", {}).items() if verify else ():
        if only is not None and not within(file_name, only):
            continue
        file = join(directory, file_name)
        if not is_file(file):
            raise ValueError(f"{file}: listed in {path} but missing")
        if sha256(file) != expected:
            raise ValueError(f"{file}: sha256 differs from {path}; the file was changed "
                             "or truncated after it was written - rebuild it")
    return manifest


def cache_root() -> Path:
    """Where ``local_copy`` keeps remote directories (``$RAYQA_CACHE`` or ~/.cache/rayqa)."""
    return Path(os.environ.get(CACHE_ENV) or Path.home() / ".cache" / "rayqa")


def local_copy(location: str | os.PathLike, manifest: str | None = MANIFEST_FILE,
               exclude: tuple[str, ...] = (), include: tuple[str, ...] | None = None
               ) -> Path:
    """A local directory holding what ``location`` holds: itself, or a cached download.

    A remote directory is downloaded once per content: the cache entry is keyed by the
    URI and the bytes of its ``manifest``, so a rebuilt directory (new manifest) is
    downloaded afresh while replicas still reading the old entry keep it. The download
    goes to a temporary directory renamed into place, so concurrent replicas on one
    node never read a half-filled cache. When ``manifest`` names a file, every file the
    manifest lists is checked against its sha256 after download (``read_manifest``).

    Args:
        location: A local directory or a directory URI.
        manifest: The directory's manifest file name; None when it has none (then a
            complete cache entry is reused as it is).
        exclude: Top-level names under ``location`` not to download (e.g. an index's
            build-time embeddings, which serving does not read).
        include: When given, only these relative paths (files or directories) and the
            manifest are downloaded, and only the manifest's files among them checked:
            the part of an index one replica serves (one FAISS shard, one language's
            BM25). A local ``location`` is used in place whatever ``include`` says.

    Raises:
        FileNotFoundError: Nothing at ``location``.
        ValueError: A downloaded file fails its manifest checksum.
    """
    if is_local(location):
        path = Path(resolve(location)[1])
        if not path.is_dir():
            raise FileNotFoundError(f"{location}: no such directory")
        return path
    if not is_dir(location):
        raise FileNotFoundError(f"{location}: no such directory")
    if include is not None and manifest:
        include = (*include, manifest)
    key = hashlib.sha256(str(location).encode() + repr(sorted(exclude)).encode()
                         + repr(None if include is None else sorted(include)).encode())
    if manifest:
        key.update(read_bytes(join(location, manifest)))
    entry = cache_root() / key.hexdigest()[:32]
    if entry.is_dir():
        return entry
    entry.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{entry.name}-", dir=entry.parent))
    try:
        download_dir(location, staging, exclude, include)
        if manifest:
            # Raises naming the file that differs.
            read_manifest(staging, manifest, only=include)
        try:
            os.rename(staging, entry)
        except OSError:  # another process on this node finished the same download first
            if not entry.is_dir():
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return entry


def local_model(name_or_path: str | os.PathLike) -> str:
    """What ``from_pretrained`` should load for a model location.

    A URI (e.g. an export under ``s3://``) becomes its verified local copy: rayqa's
    exports carry a ``manifest.json``; a directory uploaded without one is copied as
    it is. A local directory with a manifest is checked against it in place; hub
    names and local paths without one are returned unchanged.

    Raises:
        ValueError: A file the manifest lists is missing or changed; the message names it.
    """
    if is_local(name_or_path):
        path = str(name_or_path).removeprefix("file://")
        if os.path.isfile(os.path.join(path, MANIFEST_FILE)):
            read_manifest(path)  # raises naming the file that differs
        return path
    with_manifest = is_file(join(name_or_path, MANIFEST_FILE))
    return str(local_copy(name_or_path, MANIFEST_FILE if with_manifest else None))
