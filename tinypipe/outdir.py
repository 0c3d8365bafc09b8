"""Output folders: refuse to clobber, and never leave a half-written folder behind."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from .errors import TinypipeError


def check_outdir(path: Path, force: bool) -> None:
    """Fail before any work if `path` is a file, or a non-empty folder without --force."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise TinypipeError(
            f"Output path '{path}' exists and is a file.", "Choose a folder path with -o."
        )
    if path.is_dir() and any(path.iterdir()) and not force:
        raise TinypipeError(
            f"Output folder '{path}' exists and is not empty.",
            "Choose another folder with -o, or pass --force to overwrite the files tinypipe writes.",
        )
    _check_creatable(path)


def _check_creatable(path: Path) -> None:
    """The nearest existing ancestor of `path` must be a folder we may write into."""
    parent = path.absolute().parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir():
        raise TinypipeError(
            f"Output path '{path}' cannot be created: '{parent}' is a file, not a folder.",
            "Choose a folder path with -o.",
        )
    if not os.access(parent, os.W_OK | os.X_OK):
        raise TinypipeError(
            f"Output path '{path}' cannot be created: '{parent}' is not writable.",
            "Choose a folder you can write into with -o.",
        )


def check_output_file(path: Path | None, option: str) -> None:
    """A file the command will write at the end (--json, --save-outputs): check it up front."""
    if path is None:
        return
    path = Path(path)
    if path.is_dir():
        raise TinypipeError(f"{option} '{path}' is a folder.", f"Give {option} a file name.")
    if not path.absolute().parent.is_dir():
        raise TinypipeError(
            f"{option} '{path}': the folder '{path.absolute().parent}' does not exist.",
            "Create it first, or choose a file in an existing folder.",
        )
    if not os.access(path.absolute().parent, os.W_OK):
        raise TinypipeError(
            f"{option} '{path}': the folder '{path.absolute().parent}' is not writable.",
            "Choose a file in a folder you can write into.",
        )


def staging_dir(path: Path) -> Path:
    """A fresh sibling folder of `path` to write into before moving it in place, with the
    permissions a normal `mkdir` would give (mkdtemp makes 0700)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", dir=path.parent))
    except OSError as exc:
        raise TinypipeError(
            f"Output folder '{path}' cannot be created: {exc.strerror or exc}.",
            "Choose a folder path you can write into with -o.",
        ) from None
    umask = os.umask(0)
    os.umask(umask)
    tmp.chmod(0o777 & ~umask)
    return tmp


def write_atomic(path: Path, data: bytes) -> None:
    """Write one file through a temporary sibling and a rename: never a half-written file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        tmp.write_bytes(data)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_files(path: Path, files: dict[str, bytes | str], force: bool = False) -> list[str]:
    """Write `files` (relative name -> content) into `path` all at once.

    Everything is first written to a temporary sibling folder and then moved in, so an error
    midway leaves either nothing or the previous content.
    """
    path = Path(path)
    check_outdir(path, force)
    tmp = staging_dir(path)
    try:
        for rel, content in files.items():
            dst = tmp / rel
            dst.parent.mkdir(parents=True, exist_ok=True)
            data = content.encode() if isinstance(content, str) else content
            dst.write_bytes(data)
        if not path.exists() or not any(path.iterdir()):
            if path.exists():
                path.rmdir()
            os.replace(tmp, path)
        else:  # --force into a populated folder: move file by file
            for rel in files:
                (path / rel).parent.mkdir(parents=True, exist_ok=True)
                os.replace(tmp / rel, path / rel)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return sorted(files)
