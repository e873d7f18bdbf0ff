"""Manifests: what a directory of artifacts holds, and the sha256 of every file in it.

A manifest (``manifest.json`` by default) records facts about an artifact directory -
an index's count, dimension and encoder, a model export's origin - and the sha256 of
every file the artifact depends on. It is written last and whole, so its presence is
the "done" mark of what it vouches for; reading it checks every listed file, so an
index never silently answers with the wrong passages and a cached download is never
used half-copied. Directories are storage locations (``rayqa.storage``): local paths
or URIs.
"""

from __future__ import annotations

import hashlib
import json
import os

from rayqa import storage

MANIFEST_FILE = "manifest.json"


def sha256_file(path: str | os.PathLike) -> str:
    """Returns the hex sha256 of a file (local path or URI), read in chunks."""
    return storage.sha256(path)


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
        file: sha256_file(storage.join(directory, file)) for file in files if file not in known}})
    location = storage.join(directory, name)
    storage.write_text(location, json.dumps(manifest, indent=2, ensure_ascii=False))
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
    path = storage.join(directory, name)
    try:
        manifest = json.loads(storage.read_text(path))
    except FileNotFoundError:
        raise ValueError(f"{path}: no manifest (was it written completely?)") from None
    except json.JSONDecodeError as err:
        raise ValueError(f"{path}: unreadable manifest: {err}") from None
    for file_name, expected in manifest.get("files", {}).items() if verify else ():
        if only is not None and not storage.within(file_name, only):
            continue
        file = storage.join(directory, file_name)
        if not storage.is_file(file):
            raise ValueError(f"{file}: listed in {path} but missing")
        if sha256_file(file) != expected:
            raise ValueError(f"{file}: sha256 differs from {path}; the file was changed "
                             "or truncated after it was written - rebuild it")
    return manifest
