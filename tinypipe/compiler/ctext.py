"""Text taken from a model (tensor, op and file names) made safe to print inside a C comment.

A .tflite is untrusted input, so its strings never reach generated C as they are: only printable
ASCII survives, and the characters that could end the comment or splice lines (`*`, `\\`, `?` for
the `??/` trigraph) are replaced, so the result cannot leave a `/* ... */` comment whatever it was.
"""

from __future__ import annotations

import re

MAX_COMMENT_CHARS = 48
_UNSAFE = re.compile(r"[^ !#-)+->@-\[\]-~]")  # printable ASCII minus " * ? \


def c_comment_text(text: str, limit: int = MAX_COMMENT_CHARS) -> str:
    """`text` reduced to characters that are inert inside a C block comment, at most `limit` long."""
    safe = _UNSAFE.sub("_", str(text))
    if len(safe) > limit:
        safe = safe[: limit - 3] + "..."
    return safe
