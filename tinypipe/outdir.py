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


def write_files(path: Path, files: dict[str, bytes | str], force: bool = False) -> list[str]:
    """Write `files` (relative name -> content) into `path` all at once.

    Everything is first written to a temporary sibling folder and then moved in, so an error
    midway leaves either nothing or the previous content.
    """
    path = Path(path)
    check_outdir(path, force)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", dir=path.parent))
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
