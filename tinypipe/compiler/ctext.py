"""Text taken from a model (tensor, op and file names) made safe to print inside a C comment.

A .tflite is untrusted input, so its strings never reach generated C as they are: only printable
ASCII survives, and the characters that could end the comment or splice lines (`*`, `\\`, `?` for
the `??/` trigraph) are replaced, so the result cannot leave a `/* ... */` comment whatever it was.
"""

from __future__ import annotations

import re

from tinypipe.errors import TinypipeError

MAX_COMMENT_CHARS = 48
_UNSAFE = re.compile(r"[^ !#-)+->@-\[\]-~]")  # printable ASCII minus " * ? \


def c_comment_text(text: str, limit: int = MAX_COMMENT_CHARS) -> str:
    """`text` reduced to characters that are inert inside a C block comment, at most `limit` long."""
    safe = _UNSAFE.sub("_", str(text))
    if len(safe) > limit:
        safe = safe[: limit - 3] + "..."
    return safe


MAX_NAME_CHARS = 64
_C_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
_C_KEYWORDS = set(
    "auto break case char const continue default do double else enum extern float for goto if "
    "inline int long register restrict return short signed sizeof static struct switch typedef "
    "union unsigned void volatile while bool true false main".split()
)


def check_c_name(name: str, option: str = "--name") -> None:
    """Refuse a model name that is not a plain C identifier or would collide with the files,
    functions and macros tinypipe writes next to it (tp_* runtime, tpl_* link, C keywords)."""
    why = None
    if not isinstance(name, str) or not _C_NAME.fullmatch(name):
        why = "is not a C identifier (letters, digits and underscores, starting with a letter)"
    elif len(name) > MAX_NAME_CHARS:
        why = f"is {len(name)} characters long (at most {MAX_NAME_CHARS})"
    elif name.lower().startswith(("tp_", "tpl_")) or name.lower() in ("tp", "tpl"):
        why = "collides with tinypipe's runtime and link files (tp_*, tpl_*)"
    elif name.lower() in _C_KEYWORDS:
        why = "is a C keyword or a name the C program already uses"
    if why:
        raise TinypipeError(
            f"{option} {c_comment_text(repr(name), 80)} {why}.",
            "Use a short name such as 'digits' or 'kws_model'.",
        )
