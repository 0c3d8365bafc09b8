"""Locate the shipped templates/ and firmware/ folders (wheel install or source checkout)."""

from __future__ import annotations

import functools
from pathlib import Path

_PKG = Path(__file__).resolve().parent


def data_dir(name: str) -> Path:
    """Return the folder `name` ("templates" or "firmware"), installed or from the checkout."""
    for candidate in (_PKG / "_data" / name, _PKG.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"tinypipe installation is missing its '{name}' folder")


def templates_dir() -> Path:
    return data_dir("templates")


def firmware_dir() -> Path:
    return data_dir("firmware")


@functools.cache
def template_env(subdir: str = "", autoescape: bool = False):
    """A Jinja environment over templates/<subdir>: strict (an unknown name is an error),
    blocks trimmed, trailing newline kept. `autoescape` for HTML. One per folder and process, so
    each template is compiled once, not at every render."""
    import jinja2

    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(templates_dir() / subdir)),
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
        autoescape=autoescape,
    )
