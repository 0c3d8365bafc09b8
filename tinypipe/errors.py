"""User-facing errors: one paragraph saying what is wrong, where, and what to do."""

from __future__ import annotations


class TinypipeError(Exception):
    """An error caused by the user's input or environment (exit status 2, no traceback)."""

    exit_code = 2

    def __init__(self, what: str, fix: str | None = None) -> None:
        self.what = what
        self.fix = fix
        super().__init__(self.message)

    @property
    def message(self) -> str:
        return f"{self.what} {self.fix}" if self.fix else self.what


class UnsupportedModelError(TinypipeError):
    """The model uses something a backend cannot compile (op, version, dtype, shape)."""


class DoesNotFitError(TinypipeError):
    """The model does not fit the board's RAM or flash."""
